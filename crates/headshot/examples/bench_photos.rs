//! Makes the benchmark's photo sets (`tools/bench/compare.sh` calls it): each PHOTO enlarged to
//! about MP megapixels with a little grain (`headshot::timings::synthetic_large`), written as a
//! JPEG (quality 92, as a camera would) into OUTDIR under the photo's own name.
//!
//! `cargo run --release --example bench_photos -- OUTDIR MP PHOTO...`

use std::path::PathBuf;

use anyhow::Context;

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    anyhow::ensure!(args.len() >= 3, "usage: bench_photos OUTDIR MP PHOTO...");
    let out = PathBuf::from(&args[0]);
    let mp: f64 = args[1].parse().context("MP must be a number")?;
    std::fs::create_dir_all(&out)?;
    for (i, p) in args[2..].iter().enumerate() {
        let path = PathBuf::from(p);
        let dest = out.join(path.file_stem().unwrap_or_default()).with_extension("jpg");
        if dest.exists() {
            continue;
        }
        let src = image::open(&path).with_context(|| p.clone())?.to_rgb8();
        let big = headshot::timings::synthetic_large(&src, mp, i as u32 + 1);
        let mut f = std::io::BufWriter::new(std::fs::File::create(&dest)?);
        image::codecs::jpeg::JpegEncoder::new_with_quality(&mut f, 92).encode_image(&big)?;
        println!("{} ({}x{})", dest.display(), big.width(), big.height());
    }
    Ok(())
}
