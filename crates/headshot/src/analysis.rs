//! The path of one photo through the analysis: decode -> detect -> mesh -> segment -> measure
//! -> judge. Each stage is a function of what came before; models are loaded once per process.

use std::path::Path;
use std::time::Instant;

use headshot_core::face::Face;
use headshot_core::judge::{self, Judgement, Scene, Subject, SubjectMeasures};
use headshot_core::matte::PersonMatte;
use headshot_core::measure;
use headshot_core::plan::Head;
use headshot_core::report::Report;
use headshot_core::uses::Catalogue;
use headshot_core::{Limits, Photo, PhotoError, PhotoErrorKind, Resolution};
use headshot_vision::{DetectOptions, VisionError, detect_faces_and_faint, iris, mesh, segment};

/// At most this many faces get the face mesh (the rest are crowd).
const MAX_MESHED_FACES: usize = 8;
/// Faint faces counted (enough to say a crowd is there).
const MAX_FAINT_FACES: usize = 4;
/// Faces below this share of the top prominence are not meshed.
const MESH_MIN_PROMINENCE: f32 = 0.3;

/// A photo could not be analysed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AnalyzeError {
    #[error(transparent)]
    Photo(#[from] PhotoError),
    #[error("{path}: {source}")]
    Vision { path: String, source: VisionError },
}

impl AnalyzeError {
    /// As a photo error (for the report's `errors` list).
    pub fn to_photo_error(&self) -> PhotoError {
        match self {
            AnalyzeError::Photo(e) => e.clone(),
            AnalyzeError::Vision { path, source } => {
                PhotoError { path: path.into(), kind: PhotoErrorKind::Model, reason: source.to_string() }
            }
        }
    }
}

/// Wall time of each stage of one photo's analysis.
#[derive(Debug, Clone, Copy, Default)]
pub struct Timings {
    /// Reading, decoding, orienting, colour conversion and the analysis copy.
    pub decode: std::time::Duration,
    pub detect: std::time::Duration,
    pub mesh: std::time::Duration,
    pub segment: std::time::Duration,
    /// Measures, judgement and report.
    pub judge: std::time::Duration,
}

/// Everything known about one analysed photo.
#[derive(Debug, Clone)]
pub struct Analysis {
    pub photo: Photo,
    /// Faces and measurements, pixels of the full oriented photo.
    pub scene: Scene,
    /// The person matte at the analysis copy's resolution (`photo.analysis`).
    pub matte: PersonMatte,
    pub judgement: Judgement,
    pub report: Report,
    pub timings: Timings,
}

/// Settings of an analysis session.
#[derive(Debug, Clone)]
pub struct Analyzer {
    pub limits: Limits,
    pub catalogue: Catalogue,
    pub detect: DetectOptions,
    /// The resolution photos are decoded at: `Full` where outputs are rendered from the
    /// analysis (the studio), `Analysis` where only the report is wanted (a large JPEG is then
    /// decoded at a fraction of its size).
    pub resolution: Resolution,
}

impl Default for Analyzer {
    fn default() -> Self {
        Self {
            limits: Limits::default(),
            catalogue: Catalogue::built_in(),
            detect: DetectOptions::default(),
            resolution: Resolution::Full,
        }
    }
}

impl Analyzer {
    pub fn analyze_path(&self, path: &Path) -> Result<Analysis, AnalyzeError> {
        let t = Instant::now();
        let photo = Photo::open_at(path, &self.limits, self.resolution)?;
        let decode = t.elapsed();
        let mut a = self.analyze_photo(photo)?;
        a.timings.decode = decode;
        Ok(a)
    }

    pub fn analyze_photo(&self, mut photo: Photo) -> Result<Analysis, AnalyzeError> {
        let path = photo.path.display().to_string();
        let vision = |source| AnalyzeError::Vision { path: path.clone(), source };
        let s = photo.analysis_scale;
        // The landmark models read `photo.pixels`, which may be a reduced decode: faces go to
        // them in its pixels and their readings come back in full-resolution ones.
        let k = photo.reduction as f32;
        let (aw, ah) = photo.analysis.dimensions();

        let mut timings = Timings::default();
        let mut t = Instant::now();
        let mut lap = |slot: &mut std::time::Duration| {
            *slot = t.elapsed();
            t = Instant::now();
        };
        // Detect on the analysis copy; work in full-resolution pixels from here on.
        let (faces, faint) = detect_faces_and_faint(&photo.analysis, &self.detect).map_err(vision)?;
        let to_photo = |f: Face| f.scaled(s);
        let mut faces: Vec<Face> = faces.into_iter().map(to_photo).collect();
        let faint: Vec<Face> = faint.into_iter().take(MAX_FAINT_FACES).map(to_photo).collect();
        judge::rank_faces(&mut faces, photo.width(), photo.height());
        lap(&mut timings.detect);

        // Face details for the faces that may be subjects. A detection the landmark models do
        // not confirm as a human face (an animal, a pattern) is no face; when one is dropped,
        // faces that were in its shadow may now be subjects and are read in turn.
        let mut meshed = 0;
        loop {
            let top = faces.first().map_or(0.0, |f| f.prominence);
            let mut dropped = false;
            for f in faces.iter_mut().take(MAX_MESHED_FACES) {
                if f.details.is_some() || f.prominence < MESH_MIN_PROMINENCE * top {
                    continue;
                }
                meshed += 1;
                let in_pixels = f.scaled(1.0 / k);
                let m = mesh::mesh_face(&photo.pixels, &photo.analysis, s / k, &in_pixels).map_err(vision)?;
                // Only a confirmed face has eyes worth reading.
                let eyes = if judge::is_human_face(m.presence) {
                    Some(iris::read_eyes(&photo.pixels, &photo.analysis, s / k, &m).map_err(vision)?)
                } else {
                    dropped = true;
                    None
                };
                f.details = Some(mesh::face_details(&photo.pixels, &in_pixels, &m, eyes).scaled(k));
            }
            faces.retain(|f| f.details.as_ref().is_none_or(|d| judge::is_human_face(d.mesh_presence)));
            judge::rank_faces(&mut faces, photo.width(), photo.height());
            if !dropped || meshed >= 2 * MAX_MESHED_FACES {
                break;
            }
        }
        // (Ranked again above: sharpness now counts towards prominence, so a blurred face behind
        // the subject is not one.)
        let people = judge::count_people(&faces);
        // Faces behind the people: the faces that are not among them, and the faint ones (a crowd
        // in bokeh). Faint faces are not confirmed by the mesh: it reads a defocused face as no
        // face at all (presence ~0.001 for the blurred onlookers of the labelled press photos),
        // and a false one on a backdrop busy enough to fool the detector costs nothing.
        let faces_behind = faces.len().saturating_sub(people) + faint.len();
        lap(&mut timings.mesh);

        // Person matte on the analysis copy, around the prominent people.
        let to_analysis = |f: &Face| f.scaled(1.0 / s);
        let small_faces: Vec<Face> = faces.iter().take(people.max(1)).map(to_analysis).collect();
        let refs: Vec<&Face> = small_faces.iter().collect();
        let region = segment::person_region(aw, ah, &refs);
        let seen = segment::segment_person(&photo.analysis, region).map_err(vision)?;
        // A photo's own transparency is its matte only when it really cuts the person out;
        // otherwise the photo is laid on white and analysed as what it shows.
        let own = photo.alpha.as_ref().map(|alpha| alpha_matte(alpha, aw, ah));
        let matte = match own {
            Some(own) if own.outlines_person(&seen) => own,
            Some(_) => {
                photo.flatten_onto_white();
                seen
            }
            None => seen,
        };

        lap(&mut timings.segment);

        // How each person is framed and lit (each of them may be the subject a use is made of).
        let subjects: Vec<SubjectMeasures> = small_faces
            .iter()
            .zip(&faces)
            .take(people)
            .map(|(small, f)| SubjectMeasures {
                framing: measure::framing(aw, ah, small, &matte),
                lighting: measure::lighting(&photo.analysis, small),
                head: Head::read(f, &matte, s),
                glare: small.details.as_ref().map_or(0.0, |d| headshot_core::document::eye_glare(&photo.analysis, d)),
            })
            .collect();
        let people_boxes: Vec<headshot_core::Rect> = small_faces.iter().take(people).map(|f| f.bbox).collect();
        let background = headshot_core::background::measure(&photo.analysis, &matte, &people_boxes, faces_behind);

        let backdrop = small_faces
            .first()
            .map(|f| headshot_core::document::measure_backdrop(&photo.analysis, &matte, f))
            .unwrap_or_default();
        let faces_empty = faces.is_empty();
        let scene = Scene {
            width: photo.width(),
            height: photo.height(),
            faces,
            people,
            subjects,
            background,
            backdrop,
            transparent_background: photo.alpha.is_some(),
            image_sharpness: if faces_empty { headshot_core::sharpness::image_sharpness(&photo.analysis) } else { 0.0 },
        };
        let judgement = judge::judge(&scene, &self.catalogue, Subject::Auto);
        let mut report = Report::new(&path, &scene, &judgement, &photo);
        if faces_empty {
            // No face upright: a photo stored sideways or upside down without its orientation
            // tag (stripped by an editor or a messenger) shows its person only when turned.
            report.turned = turned_to_show_a_face(&photo, &self.detect).map_err(vision)?;
        }
        lap(&mut timings.judge);
        Ok(Analysis { photo, scene, matte, judgement, report, timings })
    }
}

/// The turn (degrees clockwise: 90, 180 or 270) that shows a human face in a photo that has
/// none upright, if one does: the face is detected on the turned analysis copy and confirmed
/// by the face mesh on the turned photo, as upright faces are.
fn turned_to_show_a_face(photo: &Photo, opts: &DetectOptions) -> Result<Option<u16>, VisionError> {
    use image::imageops::{rotate90, rotate180, rotate270};
    // `pixels` per analysis pixel (the pixels may be a reduced decode).
    let s = photo.analysis_scale / photo.reduction as f32;
    for (deg, turn) in
        [(180u16, rotate180 as fn(&image::RgbImage) -> image::RgbImage), (90, rotate90), (270, rotate270)]
    {
        let small = turn(&photo.analysis);
        let (faces, _) = detect_faces_and_faint(&small, opts)?;
        let Some(face) = faces.into_iter().max_by(|a, b| a.score.total_cmp(&b.score)) else { continue };
        let pixels = turn(&photo.pixels);
        let m = mesh::mesh_face(&pixels, &small, s, &face.scaled(s))?;
        if judge::is_human_face(m.presence) {
            return Ok(Some(deg));
        }
    }
    Ok(None)
}

/// A photo's own transparency, at the analysis size, is its matte.
fn alpha_matte(alpha: &image::GrayImage, w: u32, h: u32) -> PersonMatte {
    let small = headshot_core::resize::resize_gray(alpha, w, h);
    PersonMatte { width: w, height: h, alpha: small.as_raw().iter().map(|&v| f32::from(v) / 255.0).collect() }
}
