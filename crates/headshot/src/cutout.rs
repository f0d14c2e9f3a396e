//! `headshot cutout`: each photo's person cut out at full resolution, on transparency (RGBA PNG),
//! their colours freed of the old background at the edge: the job people use background
//! removers for, with the same matte and edge handling as the studio's outputs.

use std::path::{Path, PathBuf};

use headshot_core::export::{self, ExportError};
use headshot_core::plan::{CropPlan, Fit};
use headshot_core::render::{self, Background, Corrections};
use headshot_core::uses::Format;
use headshot_core::{PhotoError, PhotoErrorKind, Point, Resolution};

use crate::analysis::{Analysis, Analyzer};
use crate::session::{analyze_each, collect_inputs};
use crate::studio::{self, OutputError, folder_names};

/// One photo's cut-out, written.
#[derive(Debug, Clone)]
pub struct CutoutMade {
    pub photo: PathBuf,
    pub path: PathBuf,
    pub width: u32,
    pub height: u32,
    pub bytes: u64,
}

/// Why a photo's cut-out could not be made.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CutoutError {
    #[error(transparent)]
    Photo(#[from] PhotoError),
    #[error("{path}: no person found to cut out")]
    NoPerson { path: String },
    #[error("{path}: {source}")]
    Output { path: String, source: OutputError },
    #[error("{path}: {source}")]
    Export { path: String, source: ExportError },
}

/// The outcome of a run: every cut-out made, every photo that failed.
#[derive(Debug, Default)]
pub struct CutoutRun {
    pub made: Vec<CutoutMade>,
    pub errors: Vec<CutoutError>,
}

/// The person of `a` (face `subject`, 1 = the most prominent; by default the primary) cut out
/// of the whole photo at full resolution, as an RGBA image.
pub fn cut_out(a: &Analysis, analyzer: &Analyzer, subject: Option<usize>) -> Result<image::RgbaImage, CutoutError> {
    let path = a.photo.path.display().to_string();
    let sitter = studio::sitter(a, &analyzer.catalogue, subject.or(Some(1)))
        .map_err(|source| CutoutError::Output { path: path.clone(), source })?
        .ok_or_else(|| CutoutError::NoPerson { path: path.clone() })?;
    let (w, h) = (a.photo.width(), a.photo.height());
    let region = headshot_vision::segment::person_region(w, h, &[sitter.face]);
    let matte = studio::subject_matte(a, sitter.face, region, f32::INFINITY)
        .map_err(|source| CutoutError::Output { path: path.clone(), source })?;
    // The whole photo, one output pixel per photo pixel.
    let plan = CropPlan {
        center: Point::new(w as f32 / 2.0, h as f32 / 2.0),
        width: w as f32,
        height: h as f32,
        angle_deg: 0.0,
        out_w: w,
        out_h: h,
        fit: Fit::AsPlanned,
        eye_line_target: 0.0,
        eye_line: 0.0,
        asked_height: h as f32,
    };
    let src = render::Source {
        pixels: &a.photo.pixels,
        alpha: a.photo.alpha.as_ref(),
        matte: &matte,
        matte_scale: a.photo.analysis_scale,
        face: sitter.face.bbox,
    };
    Ok(render::render(&src, &plan, Background::Transparent, Corrections::default()).to_rgba())
}

/// Cuts out the person of every photo under `inputs` into `out/<photo>.png`; `progress` is
/// called once per photo as it finishes.
pub fn run(
    analyzer: &Analyzer,
    inputs: &[PathBuf],
    out: &Path,
    subject: Option<usize>,
    progress: impl Fn(&Path) + Sync,
) -> CutoutRun {
    // The cut-outs are made from the photos' pixels: every one of them is needed.
    let analyzer = &Analyzer { resolution: Resolution::Full, ..analyzer.clone() };
    let (files, errors) = collect_inputs(inputs);
    let mut run = CutoutRun { errors: errors.into_iter().map(CutoutError::Photo).collect(), ..CutoutRun::default() };
    if let Err(e) = std::fs::create_dir_all(out) {
        run.errors.push(CutoutError::Photo(PhotoError {
            path: out.to_path_buf(),
            kind: PhotoErrorKind::Io,
            reason: format!("cannot create the output folder: {e}"),
        }));
        return run;
    }
    let names = folder_names(&files);
    let results = analyze_each(analyzer, &files, |path, r| {
        let name = files.iter().position(|f| f == path).and_then(|i| names.get(i)).cloned().unwrap_or_default();
        let made = r.map_err(|e| CutoutError::Photo(e.to_photo_error())).and_then(|a| {
            let img = cut_out(&a, analyzer, subject)?;
            let dest = out.join(format!("{name}.png"));
            let export_err = |source| CutoutError::Export { path: path.display().to_string(), source };
            let encoded = export::encode_rgba(&img, Format::Png, u64::MAX).map_err(export_err)?;
            export::write_atomic(&dest, &encoded.bytes).map_err(export_err)?;
            Ok(CutoutMade {
                photo: path.to_path_buf(),
                path: dest,
                width: img.width(),
                height: img.height(),
                bytes: encoded.bytes.len() as u64,
            })
        });
        progress(path);
        made
    });
    for r in results {
        match r {
            Ok(m) => run.made.push(m),
            Err(e) => run.errors.push(e),
        }
    }
    run
}
