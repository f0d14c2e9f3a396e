//! Writes the person mattes of each photo as grey PNGs beside a copy of the analysis image, for
//! looking at what the models saw: the quick analysis matte (`.matte.png`) and the portrait
//! matting model's, around the primary person (`.cutout.png`):
//! `cargo run --release --example matte -- OUT_DIR PHOTO...`.

use std::path::PathBuf;

use headshot::analysis::Analyzer;

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args_os().skip(1);
    let out = PathBuf::from(args.next().ok_or_else(|| anyhow::anyhow!("usage: matte OUT_DIR PHOTO..."))?);
    std::fs::create_dir_all(&out)?;
    let analyzer = Analyzer::default();
    for path in args.map(PathBuf::from) {
        let a = analyzer.analyze_path(&path)?;
        let stem = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
        a.matte.to_gray().save(out.join(format!("{stem}.matte.png")))?;
        a.photo.analysis.save(out.join(format!("{stem}.png")))?;
        if let Some(face) = a.scene.faces.first() {
            let region = headshot::vision::segment::person_region(a.photo.width(), a.photo.height(), &[face]);
            let (w, h) = a.photo.analysis.dimensions();
            let cut = headshot::vision::matting::matte_person(
                &a.photo.pixels,
                region,
                w,
                h,
                a.photo.analysis_scale,
                f32::INFINITY,
            )?;
            cut.to_gray().save(out.join(format!("{stem}.cutout.png")))?;
        }
        println!("{}: coverage {:.2}", path.display(), a.matte.coverage());
    }
    Ok(())
}
