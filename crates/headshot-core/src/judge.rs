//! The judgement: from measurements to a framing class, gaze, sharp / plain / even, and a
//! verdict per use with its reasons and fixes (codes fixed by the outside contract).
//!
//! Every threshold here names where it came from. "Calibrated" means: chosen between the values
//! measured on the labelled photos of `../shared/photos` (run `headshot eval`), at a round number
//! in the gap, not tuned to the last photo.

use serde::Serialize;

use crate::background::BackgroundMeasures;
use crate::face::{Face, FaceDetails};
use crate::measure::{FramingMeasures, LightingMeasures};
use crate::plan::{self, Canvas, CropPlan, Head, HeadInFrame};
use crate::uses::{Catalogue, Use, UseKind};

/// What kind of picture a photo is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Framing {
    Headshot,
    HalfBody,
    FullBody,
    Environmental,
    Group,
    NoPerson,
}

impl Framing {
    pub fn as_str(self) -> &'static str {
        match self {
            Framing::Headshot => "headshot",
            Framing::HalfBody => "half-body",
            Framing::FullBody => "full-body",
            Framing::Environmental => "environmental",
            Framing::Group => "group",
            Framing::NoPerson => "no-person",
        }
    }

    pub const ALL: [Framing; 6] = [
        Framing::Headshot,
        Framing::HalfBody,
        Framing::FullBody,
        Framing::Environmental,
        Framing::Group,
        Framing::NoPerson,
    ];

    /// The class in plain words, for people.
    pub fn words(self) -> &'static str {
        match self {
            Framing::Headshot => "Headshot",
            Framing::HalfBody => "Half-body portrait",
            Framing::FullBody => "Full-body portrait",
            Framing::Environmental => "Environmental portrait",
            Framing::Group => "Group photo",
            Framing::NoPerson => "No person",
        }
    }
}

/// Where the primary face looks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Gaze {
    Camera,
    Away,
}

/// Everything measured about one photo that the judgement reads. Coordinates in pixels of the
/// oriented photo.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Scene {
    pub width: u32,
    pub height: u32,
    /// Sorted by prominence; the first is the primary subject.
    pub faces: Vec<Face>,
    /// Prominent people (see `count_people`).
    pub people: usize,
    /// How each of the people (the first `people` faces, in their order) is framed and lit.
    pub subjects: Vec<SubjectMeasures>,
    pub background: BackgroundMeasures,
    /// The backdrop's colour, uniformity and shadows (document rules).
    pub backdrop: crate::document::Backdrop,
    /// The photo came with transparency: its background is already replaced.
    pub transparent_background: bool,
    /// Sharpness of the photo's centre, 0..1, on the same scale as a face's (used when there is
    /// no face to judge).
    pub image_sharpness: f32,
}

/// How one person is framed and lit.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct SubjectMeasures {
    pub framing: FramingMeasures,
    pub lighting: LightingMeasures,
    /// The head as the crop planner sees it (photo pixels): every use's frame is planned
    /// from it when judging, so a verdict knows what its output would show.
    pub head: Head,
    /// Share of bright specular pixels around the eyes (reflections on glasses).
    pub glare: f32,
}

impl Scene {
    /// The framing of the primary subject; `None` without a face.
    pub fn framing(&self) -> Option<FramingMeasures> {
        self.subjects.first().map(|s| s.framing)
    }

    /// The light on the primary subject's face; `None` without a face.
    pub fn lighting(&self) -> Option<LightingMeasures> {
        self.subjects.first().map(|s| s.lighting)
    }
}

// --- thresholds --------------------------------------------------------------------------

/// The face mesh's presence score (0..1) at or above which a detection is a human face.
/// Calibrated: all 110 faces the mesh read in the labelled photos of `../shared/photos` score
/// 0.996 or more; a detection put on a cat's face scores 0.004 (the test
/// `a_face_the_mesh_does_not_confirm_is_no_face`).
pub const MIN_FACE_PRESENCE: f32 = 0.5;
/// Eye opening / (eye midpoint to chin) below which the eyes count as closed, or so nearly shut
/// that they do not meet the viewer's. OFIQ (ISO/IEC 29794-5) puts closed at about 0.02 with its
/// own landmarks. Calibrated on the iris model's lids: the camera-labelled faces of
/// `../shared/photos` read 0.038-0.093 (a broad squinting smile 0.044), the one labelled face
/// with nearly shut eyes 0.030; eyes painted shut (`eyes_painted_shut_are_closed...`) 0.024.
pub const EYES_OPEN_MIN: f32 = 0.035;
/// A gaze further off the camera axis than this (degrees, across) does not meet the viewer's
/// eyes. People judge eye contact within a cone of about 4-9 degrees either side (Gamer & Hecht
/// 2007). Calibrated: the camera-labelled faces read up to 9.1 but for two (14.3, a grimace in a
/// small group snapshot; -14.6, a head turned 40 degrees), the eyes-aside ones 10.1 and more but
/// for two close calls (4.4, 4.7).
pub const MAX_GAZE_YAW_DEG: f32 = 10.0;
/// The vertical limit (degrees). Lids hide part of the iris, so its centre is read less surely
/// up and down: the camera-labelled faces read within 7.1 of level, the one labelled looking down
/// (a pedestrian watching the pavement) 27.
pub const MAX_GAZE_PITCH_DEG: f32 = 12.0;
/// Without an iris reading (a face too small for the iris model), the head's turn decides:
/// head-pose quality in ISO/IEC 29794-5 falls as cos^2(angle), 0.93 at 15 degrees.
pub const MAX_YAW_DEG: f32 = 15.0;
/// Head pitch beyond this (degrees) is looking up or down when the eyes cannot be read.
pub const MAX_PITCH_DEG: f32 = 25.0;
/// Sharpness (1 - Crete blur) below this is not sharp. Calibrated: the sharp-labelled faces
/// measure 0.44 (a dim full-body selfie) to 0.79; a Gaussian blur of sigma 2 at the
/// measurement width (128 px) takes a sharp face to ~0.3 (see the metamorphic test).
pub const MIN_SHARPNESS: f32 = 0.4;
/// Busyness (see `background::busyness`) below this is a plain background: 0.5 is where one of
/// its measures reaches the level at which, alone, it makes a backdrop read as busy.
pub const MAX_PLAIN_BUSYNESS: f32 = 0.5;
/// Left/right histogram intersection below this is uneven light (OFIQ's illumination uniformity
/// is the same measure; calibrated on half-darkened faces: 0.3-0.5, even faces: > 0.6).
pub const MIN_LIGHT_BALANCE: f32 = 0.5;
/// Darker half at less than this share of the brighter is uneven (a 1.5-stop difference).
pub const MIN_SIDE_RATIO: f32 = 0.55;
/// Tilt of the eye line (degrees) beyond which a head is turned straight: framing.md's ~2
/// degrees, a tilt a viewer notices in a head-and-shoulders frame. The roll reading, averaged over
/// the crop and its mirror, errs by under half a degree (the rotated-photo test), so a level head
/// is not taken for a tilted one. Planning turns the frame and judging asks for it by this one
/// number (`needs_straightening`): "ready" means crop and resize only.
pub const STRAIGHTEN_ABOVE_DEG: f32 = 2.0;
/// The largest turn made; beyond it the head is tilted on purpose, or the landmarks are unsure.
pub const MAX_STRAIGHTEN_DEG: f32 = 25.0;
/// Where the frame cuts the body, in head heights below the chin (`below_chin_heads`): the
/// labelling rule calls a frame that stops at or above the upper chest a headshot, one that
/// reaches the lower chest to the knees half-body, one below the knees full-body. Calibrated on
/// `../shared/photos`: headshot-labelled frames reach 0.09-0.97 head heights, half-body ones
/// 0.85-3.3, so below 0.8 a frame is a headshot whatever its shape, and beyond 1.0 it is not.
pub const HEADSHOT_MAX_HEADS: f32 = 0.8;
pub const TIGHT_HEADSHOT_MAX_HEADS: f32 = 1.0;
/// Between the two, the frame's tightness decides: a frame that stops around mid-chest reads
/// as a headshot when the face is large in it (a tall, tight frame) and as a half-body portrait
/// when the frame is wide and the body and setting fill it. Calibrated: in that band the
/// headshot-labelled frames have face boxes of 0.139-0.194 of their area (one at 0.113, a
/// landscape frame the labeller called borderline), the half-body ones 0.068-0.133.
pub const TIGHT_HEADSHOT_MIN_FACE_AREA: f32 = 0.136;
/// The person reaches the knees or further: full-body. Calibrated: full-body-labelled photos
/// reach 5.0 head heights and more, three-quarter lengths (to the knees) up to 3.5.
pub const FULL_BODY_MIN_HEADS: f32 = 4.5;
/// A face this small a share of the frame, with the person covering under half of it: the
/// setting is a main part of the picture. Calibrated: environmental-labelled photos measure
/// face areas of 0.020 and 0.027, the half-body ones 0.037 and up.
pub const ENVIRONMENTAL_MAX_FACE_AREA: f32 = 0.032;
pub const ENVIRONMENTAL_MAX_COVERAGE: f32 = 0.5;
/// Or a person off to one side (face centre this share of the width from the middle) who covers
/// little of the frame: the setting beside them is what the picture shows (a speaker beside a
/// stage screen). Calibrated: the one such labelled photo is 0.24 off-centre covering 0.23 of
/// its frame; no other single-person photo is more than 0.14 off-centre with under 0.3 covered.
pub const ENVIRONMENTAL_MIN_OFF_CENTRE: f32 = 0.18;
pub const ENVIRONMENTAL_OFF_CENTRE_MAX_COVERAGE: f32 = 0.3;
/// In the tightest crop a headshot use makes, the face box is this share of the frame height
/// (framing.md: ISO-style tight crop, eye-to-chin ~0.45 of the frame).
pub const HEADSHOT_FACE_SHARE: f32 = 0.42;
/// The loosest head-and-shoulders crop still reads as a headshot with the face box at this share
/// of the frame height (framing.md: head 50-70 % of the frame; YuNet's box is ~0.85 of the head,
/// and a quarter of the frame is a generous lower bound).
pub const LOOSEST_HEADSHOT_FACE_SHARE: f32 = 0.25;
/// Phones and most laptops draw two device pixels per CSS pixel: a face shown in a 128 px circle
/// needs 256 source pixels across the crop to look crisp there.
pub const DEVICE_PIXEL_RATIO: f32 = 2.0;
/// At display size, the eyes of a well-framed headshot are ~16 % of the frame apart; below 70 % of
/// that the face is a few pixels per feature and no longer recognisable at a glance.
pub const MIN_THUMBNAIL_LEGIBILITY: f32 = 0.7;
const IDEAL_EYE_SHARE: f32 = 0.16;

/// A face with at least this share of the top prominence is one of the photo's people; less
/// prominent faces are crowd, posters, passers-by, children at the edge of a stage.
pub const PROMINENT_SHARE: f32 = 0.55;

// --- prominence ----------------------------------------------------------------------------

/// Scores each face for how much it is the subject (size relative to the largest, centrality,
/// sharpness when known), stores it in `prominence`, and sorts the faces, most prominent first.
pub fn rank_faces(faces: &mut [Face], width: u32, height: u32) {
    let largest = faces.iter().map(|f| f.bbox.h).fold(0.0, f32::max).max(1.0);
    let (w, h) = (width as f32, height as f32);
    for f in faces.iter_mut() {
        let c = f.bbox.center();
        // 0 at the centre, 1 at a corner.
        let d = (((c.x - w * 0.5) / (w * 0.5)).powi(2) + ((c.y - h * 0.5) / (h * 0.5)).powi(2)).sqrt() / 2f32.sqrt();
        let centrality = 1.0 - 0.6 * d * d;
        // Subjects hold their heads in the upper part of the frame; a face low in the frame
        // (a child in front of a stage, someone seated at the edge) is secondary.
        let low = (c.y / h - 0.5).max(0.0);
        let level = 1.0 - 1.2 * low;
        let size = f.bbox.h / largest;
        let sharp = f.details.as_ref().map_or(1.0, |d| (0.5 + d.sharpness).min(1.0));
        f.prominence = (size * centrality * level * sharp).clamp(0.0, 1.0);
    }
    faces.sort_by(|a, b| b.prominence.total_cmp(&a.prominence));
}

/// How many faces are prominent people of this photo (faces ranked by `rank_faces`).
pub fn count_people(faces: &[Face]) -> usize {
    let Some(top) = faces.first() else { return 0 };
    faces.iter().filter(|f| f.prominence >= PROMINENT_SHARE * top.prominence).count()
}

// --- classes ---------------------------------------------------------------------------------

pub fn classify_framing(scene: &Scene) -> Framing {
    let Some(fm) = scene.framing() else { return Framing::NoPerson };
    if scene.people >= 2 { Framing::Group } else { classify_subject(&fm) }
}

/// The class one person's framing would have if they were alone in the photo.
pub fn classify_subject(fm: &FramingMeasures) -> Framing {
    if fm.below_chin_heads >= FULL_BODY_MIN_HEADS {
        return Framing::FullBody;
    }
    let small = fm.face_area_share < ENVIRONMENTAL_MAX_FACE_AREA && fm.person_coverage < ENVIRONMENTAL_MAX_COVERAGE;
    let aside =
        fm.off_centre > ENVIRONMENTAL_MIN_OFF_CENTRE && fm.person_coverage < ENVIRONMENTAL_OFF_CENTRE_MAX_COVERAGE;
    if small || aside {
        return Framing::Environmental;
    }
    let tight = fm.below_chin_heads < TIGHT_HEADSHOT_MAX_HEADS && fm.face_area_share >= TIGHT_HEADSHOT_MIN_FACE_AREA;
    if fm.below_chin_heads < HEADSHOT_MAX_HEADS || tight { Framing::Headshot } else { Framing::HalfBody }
}

/// Whether a detection confirmed by the face mesh at `presence` is a human face.
pub fn is_human_face(presence: f32) -> bool {
    presence >= MIN_FACE_PRESENCE
}

/// Whether the face's eyes are open.
pub fn eyes_open(d: &FaceDetails) -> bool {
    d.eye_openness >= EYES_OPEN_MIN
}

/// Whether the face looks into the lens: eyes open, and the gaze (from the irises when they were
/// read, from the head's pose otherwise) within the cone of eye contact.
pub fn at_camera(d: &FaceDetails) -> bool {
    if !eyes_open(d) {
        return false;
    }
    match d.gaze {
        Some(g) => g.yaw_deg.abs() <= MAX_GAZE_YAW_DEG && g.pitch_deg.abs() <= MAX_GAZE_PITCH_DEG,
        None => d.pose.yaw_deg.abs() <= MAX_YAW_DEG && d.pose.pitch_deg.abs() <= MAX_PITCH_DEG,
    }
}

pub fn gaze(face: &Face) -> Option<Gaze> {
    let d = face.details.as_ref()?;
    Some(if at_camera(d) { Gaze::Camera } else { Gaze::Away })
}

pub fn is_sharp(face: &Face) -> bool {
    face.details.as_ref().is_some_and(|d| d.sharpness >= MIN_SHARPNESS)
}

pub fn is_plain(scene: &Scene) -> bool {
    scene.transparent_background || scene.background.busyness < MAX_PLAIN_BUSYNESS
}

pub fn is_even(l: &LightingMeasures) -> bool {
    l.balance >= MIN_LIGHT_BALANCE && l.side_ratio >= MIN_SIDE_RATIO && l.clipped < 0.1 && l.crushed < 0.1
}

// --- verdicts --------------------------------------------------------------------------------

/// Whether a photo can serve a use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    Ready,
    Fixable,
    Unsuitable,
}

/// Why a photo falls short for a use (stable codes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Reason {
    NoFace,
    MultiplePeople,
    LookingAway,
    EyesClosed,
    FaceNotSharp,
    BusyBackground,
    FaceTooSmallAtThumbnail,
    LowResolution,
    UnevenLighting,
    HeadCutOff,
    TiltedHead,
    /// A head-and-shoulders photo cannot be widened into a wide portrait.
    FramingTooTight,
    /// Document rules (`document::Rule`): the head's size or place in the frame is outside the
    /// office's bands (a crop mends it).
    FramingOffRule,
    /// Turned or nodding past the document's limit.
    HeadTurned,
    MouthOpen,
    /// A backdrop of a colour the office does not accept.
    BackgroundColour,
    /// A shadow on the backdrop beside the head.
    BackgroundShadow,
    /// Face pixels clipped white or crushed black.
    Overexposed,
    /// The file's DPI or byte size is outside what the office accepts.
    FileOffRule,
    /// Reflections on glasses (a warning in the checklist; a reason only where it decides).
    GlassesGlare,
}

impl Reason {
    pub const ALL: [Reason; 20] = [
        Reason::NoFace,
        Reason::MultiplePeople,
        Reason::LookingAway,
        Reason::EyesClosed,
        Reason::FaceNotSharp,
        Reason::BusyBackground,
        Reason::FaceTooSmallAtThumbnail,
        Reason::LowResolution,
        Reason::UnevenLighting,
        Reason::HeadCutOff,
        Reason::TiltedHead,
        Reason::FramingTooTight,
        Reason::FramingOffRule,
        Reason::HeadTurned,
        Reason::MouthOpen,
        Reason::BackgroundColour,
        Reason::BackgroundShadow,
        Reason::Overexposed,
        Reason::FileOffRule,
        Reason::GlassesGlare,
    ];

    /// Whether a person may still ask for the output (a team page that must show everyone):
    /// the reasons about how the person looks in the photo. Not the ones that leave no output
    /// to make: no face, a head the frame cannot hold, too few pixels, no room.
    pub fn can_be_overridden(self) -> bool {
        !matches!(
            self,
            Reason::NoFace | Reason::HeadCutOff | Reason::LowResolution | Reason::FramingTooTight | Reason::FileOffRule
        )
    }

    /// The reason in plain words, for people.
    pub fn words(self) -> &'static str {
        match self {
            Reason::NoFace => "no face found",
            Reason::MultiplePeople => "more than one person",
            Reason::LookingAway => "not looking at the camera",
            Reason::EyesClosed => "eyes closed",
            Reason::FaceNotSharp => "face not sharp",
            Reason::BusyBackground => "busy background",
            Reason::FaceTooSmallAtThumbnail => "face too small at thumbnail size",
            Reason::LowResolution => "not enough pixels",
            Reason::UnevenLighting => "uneven light on the face",
            Reason::HeadCutOff => "head cut off by the frame",
            Reason::TiltedHead => "head tilted",
            Reason::FramingTooTight => "too tight for this format",
            Reason::FramingOffRule => "head size or position outside the document's rules",
            Reason::HeadTurned => "head turned or tilted up or down",
            Reason::MouthOpen => "mouth open",
            Reason::BackgroundColour => "background colour not accepted",
            Reason::BackgroundShadow => "shadow behind the head",
            Reason::Overexposed => "face over- or under-exposed",
            Reason::FileOffRule => "file outside the document's limits",
            Reason::GlassesGlare => "glare on glasses",
        }
    }
}

/// What would make a photo usable (stable codes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Fix {
    CropTighter,
    ReplaceBackground,
    Straighten,
    EvenOutLighting,
    PickPrimarySubject,
    /// Made smaller than the use's size, at the largest size the photo's pixels allow (only
    /// when the person asks for it).
    SmallerOutput,
}

impl Fix {
    pub const ALL: [Fix; 6] = [
        Fix::CropTighter,
        Fix::ReplaceBackground,
        Fix::Straighten,
        Fix::EvenOutLighting,
        Fix::PickPrimarySubject,
        Fix::SmallerOutput,
    ];

    /// The fix in plain words, for people.
    pub fn words(self) -> &'static str {
        match self {
            Fix::CropTighter => "crop tighter",
            Fix::ReplaceBackground => "replace background",
            Fix::Straighten => "straighten",
            Fix::EvenOutLighting => "even out the light",
            Fix::PickPrimarySubject => "pick one subject",
            Fix::SmallerOutput => "make it smaller than asked",
        }
    }

    /// The fix as done, for the outputs it was applied to.
    pub fn done(self) -> &'static str {
        match self {
            Fix::CropTighter => "cropped tighter",
            Fix::ReplaceBackground => "background replaced",
            Fix::Straighten => "straightened",
            Fix::EvenOutLighting => "light evened out",
            Fix::PickPrimarySubject => "one subject picked",
            Fix::SmallerOutput => "made smaller",
        }
    }
}

/// The judgement of one photo for one use.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct Verdict {
    #[serde(rename = "use")]
    pub use_name: String,
    pub kind: UseKind,
    pub status: Status,
    pub reasons: Vec<Reason>,
    pub fixes: Vec<Fix>,
    /// How good a pick this photo is for the use, 0..1 (for choosing the best photo per use).
    pub score: f32,
    /// Legibility at the use's display size (1 = an ideal headshot crop), when there is a face.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub thumbnail_legibility: Option<f32>,
    /// Whom the verdict is about, when the photo has several people or one was chosen: the face
    /// number (1 = the most prominent, as in `faces`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subject: Option<usize>,
    /// How much the use's frame enlarges the photo at the face (output pixels per source
    /// pixel), when there is a face: past the use's `max_enlarge` the verdict says
    /// `low-resolution`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enlarge: Option<f32>,
    /// A document use's rules, each measured on the photo as it stands (`document::checks`);
    /// empty for other uses.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub checks: Vec<crate::document::Check>,
}

impl Verdict {
    /// The reasons in plain words, with the figure behind each: "not enough pixels (would
    /// enlarge 3.1x)", "mouth open (mouth closed 0.052, allowed at most 0.03)".
    pub fn reason_words(&self) -> Vec<String> {
        self.reasons
            .iter()
            .map(|r| {
                let failed: Vec<&crate::document::Check> =
                    self.checks.iter().filter(|c| !c.pass && !c.warning && c.rule.failure().0 == *r).collect();
                // One rule behind the reason: its figures; several: each named.
                let measured: Vec<String> = match failed.as_slice() {
                    [one] => vec![one.figures()],
                    many => many.iter().map(|c| c.words()).collect(),
                };
                match (r, self.enlarge) {
                    _ if !measured.is_empty() => format!("{} ({})", r.words(), measured.join("; ")),
                    (Reason::LowResolution, Some(e)) => format!("{} (would enlarge {e:.1}x)", r.words()),
                    _ => r.words().to_string(),
                }
            })
            .collect()
    }
}

#[derive(Default)]
struct Builder {
    status: Option<Status>,
    reasons: Vec<Reason>,
    fixes: Vec<Fix>,
}

impl Builder {
    fn flag(&mut self, status: Status, reason: Reason, fix: Option<Fix>) {
        self.status = Some(self.status.map_or(status, |s| s.max(status)));
        if !self.reasons.contains(&reason) {
            self.reasons.push(reason);
        }
        if let Some(f) = fix {
            self.fix(f);
        }
    }

    /// The verdict about face `i` for `u`, with this status: its pick score, whom it is about,
    /// the enlargement rounded as reported.
    #[allow(clippy::too_many_arguments)]
    fn into_verdict(
        self,
        scene: &Scene,
        u: &Use,
        i: usize,
        framing: Framing,
        status: Status,
        thumbnail_legibility: Option<f32>,
        enlarge: Option<f32>,
        checks: Vec<crate::document::Check>,
    ) -> Verdict {
        Verdict {
            use_name: u.name.clone(),
            kind: u.kind,
            status,
            score: pick_score(scene, i, framing, u, status, self.reasons.len()),
            reasons: self.reasons,
            fixes: self.fixes,
            thumbnail_legibility,
            subject: (scene.people >= 2 || i > 0).then_some(i + 1),
            enlarge: enlarge.map(|e| (e * 100.0).round() / 100.0),
            checks,
        }
    }

    fn fix(&mut self, f: Fix) {
        if !self.fixes.contains(&f) {
            self.fixes.push(f);
        }
        self.status = Some(self.status.map_or(Status::Fixable, |s| s.max(Status::Fixable)));
    }
}

/// Legibility of the primary face at `u`'s display size, 1.0 = an ideal headshot: the face
/// cropped as tight as a headshot allows, shown at `display_px`, its eye distance on screen as a
/// share of an ideal headshot's. A crop smaller than the display is upscaled, which adds no
/// detail, so only the source pixels count: a small face in a full-body shot stays illegible
/// however tightly it is cropped.
pub fn thumbnail_legibility(face: &Face, u: &Use) -> f32 {
    let crop = (face.bbox.h / HEADSHOT_FACE_SHARE).max(1.0);
    let display = u.display_px.max(1) as f32 * DEVICE_PIXEL_RATIO;
    let detail = (display / crop).min(1.0);
    face.landmarks.inter_eye() * detail / (IDEAL_EYE_SHARE * display)
}

/// Source pixels available for `u`: the whole photo for a portrait; for a headshot, the
/// loosest acceptable head-and-shoulders crop around the face (face box at
/// `LOOSEST_HEADSHOT_FACE_SHARE` of the frame), within the photo.
pub fn available_pixels(scene: &Scene, face: &Face, u: &Use) -> f32 {
    let short_side = scene.width.min(scene.height) as f32;
    match u.kind {
        UseKind::Portrait => short_side,
        UseKind::Headshot | UseKind::Document => (face.bbox.h / LOOSEST_HEADSHOT_FACE_SHARE).min(short_side),
    }
}

/// Who a judgement is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Subject {
    /// The primary face; in a photo of several people, for each use whichever of them serves
    /// it best (the verdict names them, and picking that person is one of its fixes).
    #[default]
    Auto,
    /// This face (index into `Scene::faces`), chosen by the person.
    Face(usize),
}

/// Judges the photo for one use, about face `i` (an index into `scene.faces`).
pub fn verdict(scene: &Scene, u: &Use, i: usize) -> Verdict {
    if u.kind == UseKind::Document {
        return document_verdict(scene, u, i);
    }
    let mut b = Builder::default();
    let headshot = u.kind == UseKind::Headshot;
    let mut legibility = None;
    let mut enlarge = None;
    let measures = scene.subjects.get(i).copied();
    // The class this person's own framing has (a group's members are each framed somehow).
    let framing = measures.map_or(Framing::NoPerson, |m| classify_subject(&m.framing));

    match scene.faces.get(i) {
        None => b.flag(Status::Unsuitable, Reason::NoFace, None),
        Some(face) => {
            if scene.people >= 2 {
                b.flag(Status::Fixable, Reason::MultiplePeople, Some(Fix::PickPrimarySubject));
            }
            if let Some(d) = &face.details {
                if !eyes_open(d) {
                    b.flag(Status::Unsuitable, Reason::EyesClosed, None);
                }
                if d.sharpness < MIN_SHARPNESS {
                    b.flag(Status::Unsuitable, Reason::FaceNotSharp, None);
                }
                // A portrait may tell its story with the subject looking aside; a headshot may not.
                if headshot && !at_camera(d) && eyes_open(d) {
                    b.flag(Status::Unsuitable, Reason::LookingAway, None);
                }
                if headshot && needs_straightening(d.pose.roll_deg) {
                    b.flag(Status::Fixable, Reason::TiltedHead, Some(Fix::Straighten));
                }
            }
            if available_pixels(scene, face, u) < u.min_source_px.min(u.width.min(u.height)) as f32 {
                b.flag(Status::Unsuitable, Reason::LowResolution, None);
            }
            let fm = measures.map(|m| m.framing).unwrap_or_default();
            let face_cut = face.bbox.x < 0.0
                || face.bbox.y < 0.0
                || face.bbox.right() > scene.width as f32
                || face.bbox.bottom() > scene.height as f32;
            if face_cut || (headshot && !u.circle && fm.head_cut_at_top && fm.hair_above_box < 0.1) {
                b.flag(Status::Unsuitable, Reason::HeadCutOff, None);
            }
            if headshot {
                let l = thumbnail_legibility(face, u);
                legibility = Some(l);
                if l < MIN_THUMBNAIL_LEGIBILITY {
                    b.flag(Status::Unsuitable, Reason::FaceTooSmallAtThumbnail, None);
                }
                if framing != Framing::Headshot {
                    b.fix(Fix::CropTighter);
                }
                if !is_plain(scene) {
                    // Replacing needs a person outline to cut along; without the head in the
                    // matte there is none to trust.
                    let matte_ok = fm.person_coverage > 0.02 && fm.hair_above_box > 0.0;
                    let s = if matte_ok { Status::Fixable } else { Status::Unsuitable };
                    b.flag(s, Reason::BusyBackground, matte_ok.then_some(Fix::ReplaceBackground));
                }
                if let Some(m) = &measures
                    && !is_even(&m.lighting)
                {
                    b.flag(Status::Fixable, Reason::UnevenLighting, Some(Fix::EvenOutLighting));
                }
            } else {
                // Wide portrait formats need room around the person.
                if framing == Framing::Headshot && u.aspect() > 1.2 {
                    b.flag(Status::Unsuitable, Reason::FramingTooTight, None);
                }
                let l = thumbnail_legibility(face, u);
                legibility = Some(l);
            }
            if let Some(m) = &measures {
                let matte_ok = fm.person_coverage > 0.02 && fm.hair_above_box > 0.0;
                enlarge = Some(judge_frame(scene, u, &m.head, matte_ok, &mut b).1.enlarge);
            }
        }
    }
    let status = b.status.unwrap_or(Status::Ready);
    b.into_verdict(scene, u, i, framing, status, legibility, enlarge, Vec::new())
}

/// A document use's verdict: its checklist (`document::checks`) decides, plus what every use
/// needs (a face, a frame that holds the head, enough pixels).
fn document_verdict(scene: &Scene, u: &Use, i: usize) -> Verdict {
    let mut b = Builder::default();
    let mut enlarge = None;
    let checks = crate::document::checks(scene, i, u);
    match (scene.faces.get(i), scene.subjects.get(i)) {
        (Some(_), Some(m)) => {
            let (failed, _) = crate::document::judge_checks(&checks);
            for (reason, fix) in failed {
                b.flag(if fix.is_some() { Status::Fixable } else { Status::Unsuitable }, reason, fix);
            }
            // The background is always replaced with the office's colour: the canvas may be
            // extended where the photo has no room.
            b.fix(Fix::ReplaceBackground);
            // The background is replaced, so this is the extended-canvas frame the studio makes.
            let (p, seen) = judge_frame(scene, u, &m.head.measured(), true, &mut b);
            enlarge = Some(seen.enlarge);
            // The frame the studio will make must put the head in the office's bands: a photo
            // with no room below the chin for a tall format cannot be cropped to the rule.
            if let Some(rules) = &u.document {
                let near = |v: f32, band: [f32; 2]| v >= band[0] - 0.005 && v <= band[1] + 0.005;
                if !near(seen.chin - seen.crown, rules.head_height)
                    || !near(1.0 - p.eye_line, rules.eye_line_from_bottom)
                {
                    b.flag(Status::Unsuitable, Reason::FramingOffRule, None);
                }
            }
        }
        _ => b.flag(Status::Unsuitable, Reason::NoFace, None),
    }
    // Replacing the backdrop is part of making every document photo, not a fault of the
    // photo: a photo that passes every rule is ready.
    let status = match b.status {
        Some(Status::Fixable) if b.reasons.is_empty() => Status::Ready,
        Some(s) => s,
        None => Status::Ready,
    };
    if status == Status::Ready {
        b.fixes.retain(|f| *f != Fix::ReplaceBackground);
    }
    let framing = scene.subjects.get(i).map_or(Framing::NoPerson, |m| classify_subject(&m.framing));
    b.into_verdict(scene, u, i, framing, status, None, enlarge, checks)
}

/// Plans the use's frame the way the studio will and judges what it shows: a head cut by the
/// frame, or pixels enlarged past the use's limit. A frame the photo has no room for, when a
/// new backdrop would give it room (the person's outline known, and not cut by the photo's
/// sides), asks for the background to be replaced. Returns the enlargement at the face.
fn judge_frame(scene: &Scene, u: &Use, head: &Head, matte_ok: bool, b: &mut Builder) -> (CropPlan, HeadInFrame) {
    let replaced = b.fixes.contains(&Fix::ReplaceBackground);
    let canvas = if replaced { Canvas::Extendable } else { Canvas::PhotoOnly };
    let (w, h) = (scene.width, scene.height);
    let mut frame = plan::plan(head, u, w, h, canvas, None);
    let mut seen = frame.head_in_frame(head);
    if !seen.whole(head, u) && !replaced && matte_ok {
        let extended = plan::plan(head, u, w, h, Canvas::Extendable, None);
        let extended_seen = extended.head_in_frame(head);
        if extended_seen.whole(head, u) {
            b.flag(Status::Fixable, Reason::FramingTooTight, Some(Fix::ReplaceBackground));
            (frame, seen) = (extended, extended_seen);
        }
    }
    if !seen.whole(head, u) {
        b.flag(Status::Unsuitable, Reason::HeadCutOff, None);
    }
    if seen.enlarge > u.max_enlarge() {
        b.flag(Status::Unsuitable, Reason::LowResolution, None);
    }
    (frame, seen)
}

/// The verdict about face `i` for `u` when the person accepts an output smaller than the use's
/// size: a use unsuitable only for want of pixels becomes fixable, made at the largest size
/// the pixels allow. Other verdicts are returned as they are.
pub fn smaller_if_needed(scene: &Scene, u: &Use, i: usize, v: Verdict) -> Verdict {
    if v.status != Status::Unsuitable || !v.reasons.contains(&Reason::LowResolution) {
        return v;
    }
    let relaxed = Use { max_enlarge: Some(f32::INFINITY), min_source_px: 0, ..u.clone() };
    let mut w = verdict(scene, &relaxed, i);
    if w.status == Status::Unsuitable {
        return v;
    }
    w.status = Status::Fixable;
    w.reasons.push(Reason::LowResolution);
    w.fixes.push(Fix::SmallerOutput);
    w
}

/// Whether a head tilted by `roll_deg` is turned straight in the outputs (and so whether a
/// verdict asks for straightening): the one threshold planning and judging share.
pub fn needs_straightening(roll_deg: f32) -> bool {
    let r = roll_deg.abs();
    r > STRAIGHTEN_ABOVE_DEG && r <= MAX_STRAIGHTEN_DEG
}

/// The verdict for one use about `subject`: in a photo of several people left to choose, the
/// best of the people's verdicts (fewest problems, then the best pick).
pub fn subject_verdict(scene: &Scene, u: &Use, subject: Subject) -> Verdict {
    match subject {
        Subject::Face(i) => verdict(scene, u, i),
        Subject::Auto if scene.people >= 2 => (0..scene.people)
            .map(|i| verdict(scene, u, i))
            .min_by(|a, b| (a.status, -a.score).partial_cmp(&(b.status, -b.score)).unwrap_or(std::cmp::Ordering::Equal))
            .unwrap_or_else(|| verdict(scene, u, 0)),
        Subject::Auto => verdict(scene, u, 0),
    }
}

/// The one of the photo's people whose verdicts serve the most uses (ready counts twice,
/// fixable once); among equals the more prominent. 0 without people.
pub fn best_subject(scene: &Scene, catalogue: &Catalogue) -> usize {
    let worth = |i: usize| -> usize {
        catalogue
            .uses
            .iter()
            .map(|u| match verdict(scene, u, i).status {
                Status::Ready => 2,
                Status::Fixable => 1,
                Status::Unsuitable => 0,
            })
            .sum()
    };
    (0..scene.people.max(1)).rev().max_by_key(|&i| worth(i)).unwrap_or(0)
}

/// How good a pick face `i` of this photo is for the use: status first, then face quality and
/// fit.
fn pick_score(scene: &Scene, i: usize, framing: Framing, u: &Use, status: Status, reasons: usize) -> f32 {
    let Some(face) = scene.faces.get(i) else { return 0.0 };
    let base = match status {
        Status::Ready => 0.7,
        Status::Fixable => 0.4,
        Status::Unsuitable => 0.0,
    };
    let sharp = face.details.as_ref().map_or(0.0, |d| d.sharpness.clamp(0.0, 1.0));
    let fit = match (u.kind, framing) {
        (UseKind::Headshot | UseKind::Document, Framing::Headshot) => 1.0,
        (UseKind::Portrait, Framing::HalfBody | Framing::Environmental | Framing::FullBody) => 1.0,
        _ => 0.5,
    };
    let res = (scene.width.min(scene.height) as f32 / u.width.max(u.height) as f32).min(1.0);
    (base + 0.1 * sharp + 0.1 * fit + 0.1 * res - 0.02 * reasons as f32).clamp(0.0, 1.0)
}

/// The whole judgement of one photo.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Judgement {
    pub framing: Framing,
    pub gaze: Option<Gaze>,
    pub sharp: bool,
    pub plain: bool,
    pub even: bool,
    pub verdicts: Vec<Verdict>,
}

/// Judges the photo: its class, the primary face's gaze and sharpness, the background and the
/// light, and a verdict per use about `subject`.
pub fn judge(scene: &Scene, catalogue: &Catalogue, subject: Subject) -> Judgement {
    let framing = classify_framing(scene);
    let primary = scene.faces.first();
    Judgement {
        framing,
        gaze: primary.and_then(gaze),
        // Without a face, the photo as a whole is judged (its centre, where the subject would be).
        sharp: primary.map_or(scene.image_sharpness >= MIN_SHARPNESS, is_sharp),
        plain: is_plain(scene),
        even: scene.lighting().as_ref().is_some_and(is_even),
        verdicts: catalogue.uses.iter().map(|u| subject_verdict(scene, u, subject)).collect(),
    }
}
