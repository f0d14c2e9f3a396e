//! The report of one photo, in the shape the outside contract fixes (`docs/contract.md` in the
//! shared docs): serialise it with serde_json.

use serde::{Deserialize, Serialize};

use crate::face::{EyeReading, EyesReading, Face, Pose};
use crate::geometry::Rect;
use crate::judge::{self, Framing, Gaze, Judgement, Scene, Status, Verdict};
use crate::measure::{FramingMeasures, LightingMeasures};
use crate::photo::{PhotoError, PhotoErrorKind};

fn r1(v: f32) -> f32 {
    (v * 10.0).round() / 10.0
}

fn r3(v: f32) -> f32 {
    (v * 1000.0).round() / 1000.0
}

/// Five landmarks as `[x, y]` pairs, pixels of the oriented photo.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LandmarksReport {
    pub right_eye: [f32; 2],
    pub left_eye: [f32; 2],
    pub nose: [f32; 2],
    pub mouth_right: [f32; 2],
    pub mouth_left: [f32; 2],
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FaceReport {
    #[serde(rename = "box")]
    pub bbox: Rect,
    pub score: f32,
    pub landmarks: LandmarksReport,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pose: Option<Pose>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub eyes_open: Option<bool>,
    /// 0..1 (see `sharpness::face_sharpness`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sharpness: Option<f32>,
    /// How much this face is the subject, 0..1.
    pub prominence: f32,
    /// Eye opening / eye-to-chin distance.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub eye_openness: Option<f32>,
    /// Where the eyes look, from the irises and the head pose.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gaze: Option<GazeReport>,
    /// The face mesh's confidence that this is a human face, 0..1.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub presence: Option<f32>,
    /// The eyes as the iris model read them (corners, lids, iris centre and radius).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub eyes: Option<EyesReading>,
}

/// One face's gaze: degrees off the camera axis (yaw > 0 towards the viewer's right, pitch > 0
/// upwards) and the judgement of whether it meets the viewer's eyes.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct GazeReport {
    pub yaw_deg: f32,
    pub pitch_deg: f32,
    pub at_camera: bool,
}

impl FaceReport {
    pub fn new(f: &Face) -> Self {
        let p = |pt: crate::Point| [r1(pt.x), r1(pt.y)];
        let d = f.details.as_ref();
        FaceReport {
            bbox: Rect::new(r1(f.bbox.x), r1(f.bbox.y), r1(f.bbox.w), r1(f.bbox.h)),
            score: r3(f.score),
            landmarks: LandmarksReport {
                right_eye: p(f.landmarks.right_eye),
                left_eye: p(f.landmarks.left_eye),
                nose: p(f.landmarks.nose),
                mouth_right: p(f.landmarks.mouth_right),
                mouth_left: p(f.landmarks.mouth_left),
            },
            pose: d.map(|d| Pose {
                yaw_deg: r1(d.pose.yaw_deg),
                pitch_deg: r1(d.pose.pitch_deg),
                roll_deg: r1(d.pose.roll_deg),
            }),
            eyes_open: d.map(judge::eyes_open),
            sharpness: d.map(|d| r3(d.sharpness)),
            prominence: r3(f.prominence),
            eye_openness: d.map(|d| r3(d.eye_openness)),
            gaze: d.and_then(|d| {
                d.gaze.map(|g| GazeReport {
                    yaw_deg: r1(g.yaw_deg),
                    pitch_deg: r1(g.pitch_deg),
                    at_camera: judge::at_camera(d),
                })
            }),
            presence: d.map(|d| r3(d.mesh_presence)),
            eyes: d.and_then(|d| d.eyes).map(|e| {
                let p = |q: crate::Point| crate::Point::new(r1(q.x), r1(q.y));
                let eye = |e: EyeReading| EyeReading {
                    viewer_left: p(e.viewer_left),
                    viewer_right: p(e.viewer_right),
                    upper_lid: p(e.upper_lid),
                    lower_lid: p(e.lower_lid),
                    iris: p(e.iris),
                    iris_radius: r1(e.iris_radius),
                };
                EyesReading { right: eye(e.right), left: eye(e.left) }
            }),
        }
    }
}

/// The background: the judgement (`plain`) and the measures behind it (see `background`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BackgroundReport {
    pub plain: bool,
    /// 0 (one surface) .. 1 (busy).
    pub busyness: f32,
    /// Share of the background covered by things that stand out from its smooth surface, 0..1.
    pub content: f32,
    /// The same for colour alone, 0..1.
    pub colour_content: f32,
    /// Share of the background with detail finer than a slow swell of light, 0..1.
    pub detail: f32,
    /// What is left of the luminance once the smooth fall-off of light is taken away, 0..1 (RMS).
    pub structure: f32,
    /// The same for colour (red-green and yellow-blue), 0..1 (RMS).
    pub colour_structure: f32,
    /// Share of background pixels on a strong edge at thumbnail size, 0..1.
    pub edges: f32,
    /// Distinct high-contrast marks on the backdrop (letters, a logo's parts, a pattern's repeats).
    /// Absent from reports written before it was measured.
    #[serde(default)]
    pub marks: usize,
    /// Mean luminance step between neighbouring background pixels at thumbnail size.
    pub gradient: f32,
    /// Faces seen behind the subject.
    pub faces: usize,
    /// Share of the frame that is background, 0..1.
    pub share: f32,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LightingReport {
    pub even: bool,
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub measures: Option<LightingMeasures>,
}

/// One output file written by `studio`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OutputReport {
    #[serde(rename = "use")]
    pub use_name: String,
    /// Relative to the output directory.
    pub path: String,
    pub width: u32,
    pub height: u32,
    pub bytes: u64,
    pub format: crate::uses::Format,
    /// JPEG quality chosen to fit the byte limit (absent for lossless formats).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub quality: Option<u8>,
    /// `keep`, `blur`, `#rrggbb` or `studio:#rrggbb`.
    pub background: String,
    /// How the frame met the photo's edges.
    pub fit: crate::plan::Fit,
    /// Where the eye line landed, as a share of the height from the top.
    pub eye_line: f32,
    /// The turn applied to straighten the head, degrees.
    pub straightened_deg: f32,
    /// The platform shows it cut to a circle.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub circle: bool,
    /// Output pixels per photo pixel at the face (above 1 the photo was enlarged).
    pub enlarge: f32,
    /// The use's own size, when the output was made smaller for want of pixels (on request).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reduced_from: Option<[u32; 2]>,
    /// Made although the verdict is unsuitable for these reasons, because the person asked for
    /// every team member to be on the page (`--team-include-all`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub included_despite: Vec<crate::judge::Reason>,
    /// Team runs: this member's head size over the team's (their inter-eye distance as a share
    /// of the frame, over the team's common share), in hundredths, when it differs by 1 % or
    /// more: a photo with too little room around the head is framed tighter than the rest
    /// (above 1), rather than cut.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub team_size: Option<f32>,
    /// Team runs: the change of exposure, in stops, that brought this member's face towards
    /// the team's light (+ brighter), when there was one; at most half a stop either way.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub team_light: Option<f32>,
    /// A document photo: its rules checked again on the written file (decoded and analysed as
    /// any photo is), with the file's pixel size, DPI and bytes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub checks: Vec<crate::document::Check>,
    /// Whether every rule of `checks` passes (warnings aside); absent for other uses.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compliant: Option<bool>,
    /// The print sheet of a printed document, relative to the output folder.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sheet: Option<String>,
}

/// The report of one photo.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Report {
    pub path: String,
    pub width: u32,
    pub height: u32,
    pub faces: Vec<FaceReport>,
    pub people: usize,
    pub framing: Framing,
    pub gaze: Option<Gaze>,
    pub sharp: bool,
    pub background: BackgroundReport,
    pub lighting: LightingReport,
    pub verdicts: Vec<Verdict>,
    /// The numbers behind `framing` (absent without a face).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub framing_measures: Option<FramingMeasures>,
    /// The EXIF orientation applied (1..8).
    pub exif_orientation: u8,
    /// Whether an embedded colour profile was converted to sRGB.
    pub icc_converted: bool,
    /// The file's format and pixel layout, and whether only an animation's first frame was used.
    #[serde(default)]
    pub source: crate::photo::Source,
    /// A photo with no face upright that shows one when turned this far clockwise (90, 180 or
    /// 270 degrees): stored sideways or upside down without its orientation tag.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub turned: Option<u16>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub outputs: Vec<OutputReport>,
    /// A small copy of the photo written by `studio` for the gallery, relative to its folder.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub preview: Option<String>,
    /// Outputs that should have been made but could not, and why.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub output_errors: Vec<String>,
}

impl Report {
    /// Whether the report can be written as JSON and read back as it is. A report read from a
    /// file someone edited may hold a number that does not fit its field (`1e87` read into an
    /// f32 is infinite, which JSON cannot hold: it would be written as `null`, and then either
    /// not read again or read as a different report); such a report is not taken as a record
    /// of finished work.
    pub fn round_trips(&self) -> bool {
        // Read back and written again, the same bytes: an infinite value in an optional field
        // is written as `null` and read back as absent, which a mere re-read would not notice.
        let Ok(json) = serde_json::to_vec(self) else { return false };
        serde_json::from_slice::<Report>(&json)
            .is_ok_and(|back| serde_json::to_vec(&back).is_ok_and(|again| again == json))
    }

    /// The report of a photo judged from `scene`; `photo` says how its file was decoded.
    pub fn new(path: &str, scene: &Scene, judgement: &Judgement, photo: &crate::photo::Photo) -> Self {
        let bg = &scene.background;
        Report {
            path: path.to_string(),
            width: scene.width,
            height: scene.height,
            faces: scene.faces.iter().map(FaceReport::new).collect(),
            people: scene.people,
            framing: judgement.framing,
            gaze: judgement.gaze,
            sharp: judgement.sharp,
            background: BackgroundReport {
                plain: judgement.plain,
                busyness: r3(bg.busyness),
                content: r3(bg.content),
                colour_content: r3(bg.colour_content),
                detail: r3(bg.detail),
                structure: r3(bg.structure),
                colour_structure: r3(bg.colour_structure),
                edges: r3(bg.edges),
                marks: bg.marks,
                gradient: r3(bg.gradient),
                faces: bg.faces,
                share: r3(bg.share),
            },
            lighting: LightingReport { even: judgement.even, measures: scene.lighting() },
            verdicts: judgement.verdicts.clone(),
            framing_measures: scene.framing(),
            exif_orientation: photo.exif_orientation,
            icc_converted: photo.icc_converted,
            source: photo.source.clone(),
            turned: None,
            outputs: Vec::new(),
            preview: None,
            output_errors: Vec::new(),
        }
    }
}

/// A photo that could not be read, as reported in `errors`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ErrorReport {
    pub path: String,
    pub error: String,
    pub kind: PhotoErrorKind,
}

impl From<&PhotoError> for ErrorReport {
    fn from(e: &PhotoError) -> Self {
        ErrorReport { path: e.path.display().to_string(), error: e.reason.clone(), kind: e.kind }
    }
}

/// The whole document `analyze --json` prints and `studio` writes.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SessionReport {
    pub photos: Vec<Report>,
    pub errors: Vec<ErrorReport>,
    /// The best photo for each use across the session (see `best_per_use`).
    pub best: Vec<BestPick>,
}

impl SessionReport {
    pub fn new(photos: Vec<Report>, errors: Vec<ErrorReport>) -> Self {
        let best = best_per_use(&photos);
        Self { photos, errors, best }
    }
}

/// The pick for one use: the photo with the highest score among those not unsuitable for it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BestPick {
    #[serde(rename = "use")]
    pub use_name: String,
    /// `None` when every photo is unsuitable for the use.
    pub path: Option<String>,
    pub status: Option<Status>,
    pub score: f32,
}

/// For each use (in catalogue order, as in the first report), the best photo: ready beats
/// fixable, then the verdict's score decides; ties keep the earlier photo.
pub fn best_per_use(photos: &[Report]) -> Vec<BestPick> {
    let Some(first) = photos.first() else { return Vec::new() };
    first
        .verdicts
        .iter()
        .map(|v| {
            let mut best: Option<(&Report, &Verdict)> = None;
            for p in photos {
                let Some(pv) = p.verdicts.iter().find(|x| x.use_name == v.use_name) else { continue };
                if pv.status == Status::Unsuitable {
                    continue;
                }
                let better = match best {
                    None => true,
                    Some((_, b)) => (pv.status, -pv.score) < (b.status, -b.score),
                };
                if better {
                    best = Some((p, pv));
                }
            }
            BestPick {
                use_name: v.use_name.clone(),
                path: best.map(|(p, _)| p.path.clone()),
                status: best.map(|(_, b)| b.status),
                score: best.map_or(0.0, |(_, b)| b.score),
            }
        })
        .collect()
}
