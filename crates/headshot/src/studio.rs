//! The studio: from analysed photos to every output they are good for, written into one folder
//! with a report and a gallery. Planning, rendering and encoding live in `headshot-core`; this
//! room decides which outputs to make, with which background, and where they go.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use headshot_core::Resolution;
use headshot_core::export::{self, ExportError};
use headshot_core::face::Face;
use headshot_core::geometry::{Point, Rect};
use headshot_core::judge::{self, Fix, Judgement, Reason, Status, Verdict};
use headshot_core::matte::PersonMatte;
use headshot_core::plan::{self, Canvas, CropPlan, Fit, Head};
use headshot_core::render::{self, Background, Corrections, LightMatch, Rendered, STUDIO_GREY};
use headshot_core::report::{ErrorReport, OutputReport, SessionReport};
use headshot_core::resize::resize_rgb;
use headshot_core::uses::{Catalogue, Format, Use};
use image::RgbImage;
use rayon::prelude::*;
use serde::Serialize;

use crate::analysis::{Analysis, Analyzer};
use crate::session::{analyze_each, collect_inputs};
use crate::timings::OutputTimings;

/// The background a studio run asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BackgroundChoice {
    /// Keep the photo's background where it serves the use; where the verdict asks for a new
    /// one (a busy background behind a headshot), put the studio backdrop in.
    #[default]
    Auto,
    /// The same background for every output.
    Fixed(Background),
}

impl std::str::FromStr for BackgroundChoice {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.trim().eq_ignore_ascii_case("auto") { Ok(Self::Auto) } else { s.parse().map(Self::Fixed) }
    }
}

/// Options of a studio run.
#[derive(Debug, Clone, Default)]
pub struct StudioOptions {
    pub background: BackgroundChoice,
    /// Encode every output in this format instead of each use's own.
    pub format: Option<Format>,
    /// Which face is the subject (1 = the most prominent), for group photos.
    pub subject: Option<usize>,
    /// The subject of particular photos (by input path), overriding `subject` for them: a
    /// person picking who a group photo is about, photo by photo.
    pub subjects: HashMap<PathBuf, usize>,
    /// Team framing: one eye line, one head size, one background across all photos.
    pub team: Option<Team>,
    /// Make an output the photo lacks the pixels for at the largest size they allow (smaller
    /// than the use asks for, said in the report) instead of leaving it out.
    pub smaller_if_needed: bool,
    /// The report and gallery name photos relative to this folder (a server's folder of
    /// uploads), so that no path of the machine they were made on is ever written into them.
    pub names_relative_to: Option<PathBuf>,
    /// Team runs: make a member's output even when their verdict is unsuitable for a reason a
    /// person may override (looking away, eyes closed, a soft face), with the reasons in the
    /// output's report, so that nobody is missing from the team page.
    pub include_all: bool,
    /// Team runs: leave each member's light as their photo has it, rather than bringing every
    /// face towards the team's (`Team::face_light`).
    pub keep_light: bool,
    /// Photos not started by then are not done: each is reported as an error of kind
    /// `time-budget` (a server's limit on one session's render, or the end of its turn), and
    /// the rest still are. The first photo is always started, so every run makes progress.
    pub deadline: Option<std::time::Instant>,
    /// How document photos are laid out on their print sheets.
    pub sheet: headshot_core::sheet::SheetOptions,
}

impl StudioOptions {
    /// The subject asked for in the photo at `path`.
    pub fn subject_of(&self, path: &Path) -> Option<usize> {
        self.subjects.get(path).copied().or(self.subject)
    }
}

/// What team mode holds fixed across people: per use, the inter-eye distance as a share of the
/// frame height, as it would be seen with the face turned to the camera
/// (`Head::frontal_inter_eye`), so a person who turns a little comes out no larger.
#[derive(Debug, Clone)]
pub struct Team {
    pub inter_eye_share: HashMap<String, f32>,
    /// The distance between the eyes' centres (`read_eyes`, what settling measures) per
    /// detector inter-eye distance (what framing plans with), the team's median: one number
    /// for everyone, so the detector's wander from one face to the next does not come back
    /// through it.
    pub eye_span_per_inter_eye: f32,
    /// The team's light: the median of the members' face light (`measure::face_light`, linear
    /// light), which each member's exposure is brought towards (`team_light`). `None` when no
    /// face was read, or when the person asked to keep each photo's own light.
    pub face_light: Option<f32>,
}

impl Team {
    /// The team's common size per use: the median of what each person's own plan would give, so
    /// one unusual photo does not set everyone's size; raised to the tightest size any photo
    /// can give, so no one is framed tighter than the rest because their photo lacked room, but
    /// never so far that someone's head no longer fits the frame: a headshot cropped at the
    /// collar would otherwise make every head on the page too big for a LinkedIn circle (5 of 8
    /// team members lost their LinkedIn output that way). A photo with less room than that is
    /// framed a little tighter than the rest, and the report says so.
    ///
    /// "Can give" keeps room to spare: settling re-measures each face on its render, which moves
    /// the inter-eye distance by a few per cent, and a photo that only just had room for the
    /// analysed head would then be tightened and that person come out larger than the rest
    /// (grace_hopper.jpg, whose photo ends close below the chin, came out 1.7 % larger).
    pub fn from_heads(heads: &[(Head, u32, u32)], catalogue: &Catalogue, canvas: Canvas) -> Team {
        let mut inter_eye_share = HashMap::new();
        for u in &catalogue.uses {
            let mut shares: Vec<f32> = heads.iter().map(|(h, _, _)| plan::inter_eye_share(h, u)).collect();
            let Some(mut share) = median(&mut shares) else { continue };
            // Whether every member's head is whole in their frame at a size.
            let all_whole = |share: f32| {
                heads.iter().all(|(h, w, hh)| {
                    let p = plan::plan(h, u, *w, *hh, canvas, Some(share));
                    p.head_in_frame(h).whole(h, u)
                        || !plan::plan(h, u, *w, *hh, canvas, None).head_in_frame(h).whole(h, u)
                })
            };
            for (h, w, hh) in heads {
                let roomy = Head { inter_eye: h.inter_eye * (1.0 + SETTLE_ROOM), ..*h };
                let p = plan::plan(&roomy, u, *w, *hh, canvas, Some(share));
                if p.fit == Fit::Tightened || p.fit == Fit::Shifted {
                    let wanted = share.max(roomy.frontal_inter_eye() / p.height);
                    if all_whole(wanted) {
                        share = wanted;
                    }
                }
            }
            inter_eye_share.insert(u.name.clone(), share);
        }
        Team { inter_eye_share, eye_span_per_inter_eye: 1.0, face_light: None }
    }

    /// Sets the team's light to the median of the members' face light `levels`.
    pub fn with_light(mut self, mut levels: Vec<f32>) -> Team {
        levels.retain(|l| l.is_finite() && *l > 0.0);
        self.face_light = median(&mut levels);
        self
    }

    /// Sets the team's eye-span-per-inter-eye to the median of the members' `ratios`.
    pub fn with_eye_spans(mut self, mut ratios: Vec<f32>) -> Team {
        ratios.retain(|r| r.is_finite() && *r > 0.0);
        if let Some(m) = median(&mut ratios) {
            self.eye_span_per_inter_eye = m;
        }
        self
    }
}

/// The middle value (the upper of the two middle ones for an even count); `None` if empty.
fn median(values: &mut [f32]) -> Option<f32> {
    values.sort_by(f32::total_cmp);
    values.get(values.len() / 2).copied()
}

/// What a team run's first pass reads of each member: their head (with the photo's size), the
/// span of their eyes per detector inter-eye distance and the light on their face.
struct Member {
    head: (Head, u32, u32),
    eye_span: Option<f32>,
    face_light: Option<f32>,
}

/// The light on a face in its photo (`measure::face_light`), when the mesh outlined it.
fn face_light_of(a: &Analysis, face: &Face) -> Option<f32> {
    let outline = &face.details.as_ref()?.outline;
    headshot_core::measure::face_light(&a.photo.analysis, outline, face.landmarks.nose.y, a.photo.analysis_scale)
}

/// The most a team member's exposure is moved towards the team's light, in stops.
const TEAM_LIGHT_MAX_STOPS: f32 = 0.5;

/// Differences of light below this (stops) are left alone: no one sees them on a page.
const TEAM_LIGHT_DEAD_BAND: f32 = 0.05;

/// The exposure change that brings a member whose face light is `own` to the team's light.
fn team_light(team: &Team, own: Option<f32>) -> Option<LightMatch> {
    let (own, target) = (own?, team.face_light?);
    let stops = (target / own.max(1e-6)).log2().clamp(-TEAM_LIGHT_MAX_STOPS, TEAM_LIGHT_MAX_STOPS);
    (stops.abs() >= TEAM_LIGHT_DEAD_BAND).then(|| LightMatch { from: own, to: own * stops.exp2() })
}

/// A face's distance between its eyes' centres (see `read_eyes`) over its detector inter-eye
/// distance, when its eyes were read.
fn eye_span_ratio(face: &Face) -> Option<f32> {
    let (_, span) = face.details.as_ref()?.eyes?.centres();
    Some(span / face.landmarks.inter_eye().max(1e-3))
}

/// Team framing measured where it is seen: the output is rendered, the eyes read again in it
/// (`read_eyes`), and the plan corrected so the eye line and the distance between the eyes land
/// on the team's values in the result. Landmarks on a turned or small face in the photo, or in
/// front of a busy background, differ by a few per cent from those on the straightened output
/// in front of the backdrop, and a team page shows exactly that difference. `None` when the
/// team has no size for the use.
fn settle_team_plan(
    a: &Analysis,
    analyzer: &Analyzer,
    head: &Head,
    u: &Use,
    canvas: Canvas,
    team: &Team,
    render: impl Fn(&CropPlan) -> RgbImage,
) -> Option<CropPlan> {
    let share = *team.inter_eye_share.get(&u.name)?;
    let mut head = *head;
    let mut p = plan::plan(&head, u, a.photo.width(), a.photo.height(), canvas, Some(share));
    // Each render is one measurement of where the eyes are, taken back to photo coordinates.
    // Landmarks move by a fraction of a pixel from one render to the next, so following the
    // last measurement alone would chase that noise; the plan follows the mean of all of them.
    let (mut sum_eye, mut sum_span, mut seen) = (Point::new(0.0, 0.0), 0.0, 0.0);
    for _ in 0..SETTLE_ROUNDS {
        let planned = p.to_output(head.eye_mid);
        let Some((e, span)) = read_eyes(&render(&p), analyzer, planned) else { break };
        // In the detector's units, which the team's size and the plan are in.
        let span = span / team.eye_span_per_inter_eye;
        // The team's size is of faces turned to the camera; the render shows this one's turn.
        let seen_share = span * head.turn_factor() / p.out_h as f32;
        let seen_eye = e.y / p.out_h as f32;
        let settled =
            (seen_share / share - 1.0).abs() < SIZE_TOLERANCE && (seen_eye - p.eye_line).abs() < EYE_TOLERANCE;
        let eye = p.to_photo(e.x, e.y);
        sum_eye = Point::new(sum_eye.x + eye.x, sum_eye.y + eye.y);
        sum_span += span / p.scale();
        seen += 1.0;
        head.eye_mid = sum_eye.scaled(1.0 / seen);
        head.inter_eye = sum_span / seen;
        p = plan::plan(&head, u, a.photo.width(), a.photo.height(), canvas, Some(share));
        // Within tolerance the last correction is small enough to trust without another render:
        // it is made, not checked, so members land nearer the team's size than the tolerance.
        if settled {
            break;
        }
    }
    Some(p)
}

/// Where the eyes of the face nearest `near` in `img` are: the midpoint of the two eyes and the
/// distance between them, in `img`'s pixels, read on `img` and on its mirror image and
/// averaged; `None` if no face has its eyes within an inter-eye distance of `near`.
///
/// Each eye is the middle of its two corners as the iris model places them (on a crop
/// around the eye, after the face mesh): corners are fixed in the face, unlike the pupils,
/// which move with the gaze, and read to a fraction of a pixel, where the face detector's
/// eye points wander by 2-4 % of the inter-eye distance from one scale or mirror image to the
/// next (measured with OpenCV's YuNet on team outputs). A team page shows differences of 2 %.
/// The mirror image is searched afresh, detector included: where the detector puts its box
/// moves the mesh's and the iris model's crops. Settled on one reading, CI's team (ten
/// labelled photos, tests/outputs/check_team.py) spread 2.57 % in head size for the speaker
/// listing, most of it one face turned 13 degrees (img34), against the 3 % allowed; on both,
/// 0.71 %. Mirroring the first box instead of searching again gave 0.96 % for as much time:
/// the mesh and the iris model are most of a reading.
pub fn read_eyes(img: &RgbImage, analyzer: &Analyzer, near: Point) -> Option<(Point, f32)> {
    let (e, span) = read_eyes_once(img, analyzer, near)?;
    let w = img.width() as f32;
    // A point of `img` in its mirror image, and back.
    let mirror = |p: Point| Point::new(w - p.x, p.y);
    let mirrored = image::imageops::flip_horizontal(img);
    let Some((m, mirrored_span)) = read_eyes_once(&mirrored, analyzer, mirror(near)) else {
        return Some((e, span));
    };
    Some((e.midpoint(mirror(m)), (span + mirrored_span) / 2.0))
}

/// `read_eyes` on `img` alone.
fn read_eyes_once(img: &RgbImage, analyzer: &Analyzer, near: Point) -> Option<(Point, f32)> {
    let faces = headshot_vision::detect_faces(img, &analyzer.detect).ok()?;
    let face = faces
        .into_iter()
        .min_by(|x, y| x.landmarks.eye_mid().distance(near).total_cmp(&y.landmarks.eye_mid().distance(near)))
        .filter(|f| f.landmarks.eye_mid().distance(near) <= f.landmarks.inter_eye())?;
    let mesh = headshot_vision::mesh::mesh_face(img, img, 1.0, &face).ok()?;
    Some(headshot_vision::iris::read_eyes(img, img, 1.0, &mesh).ok()?.centres())
}

/// The room a team member's photo keeps beyond the team's size, for settling to move in: a
/// face re-measured on its render differs from the analysed one by up to a few per cent.
const SETTLE_ROOM: f32 = 0.05;
/// Renders and re-detections allowed to settle one team output.
const SETTLE_ROUNDS: usize = 5;
/// Settled: within half a per cent of the size and a fifth of a per cent of the frame height.
const SIZE_TOLERANCE: f32 = 0.005;
const EYE_TOLERANCE: f32 = 0.002;

/// Why one output could not be made.
#[derive(Debug, thiserror::Error)]
pub enum OutputError {
    #[error("{use_name}: {source}")]
    Export { use_name: String, source: ExportError },
    #[error("subject {asked} asked for, but the photo has {found} face(s)")]
    NoSuchSubject { asked: usize, found: usize },
    #[error("the person could not be cut out: {0}")]
    Matting(headshot_vision::VisionError),
    #[error("{use_name}: the rendered file could not be checked again: {reason}")]
    Recheck { use_name: String, reason: String },
}

/// One output made, in memory and on disk.
#[derive(Debug, Clone, Serialize)]
pub struct Made {
    #[serde(flatten)]
    pub report: OutputReport,
    pub plan: CropPlan,
    /// A small copy for the contact sheet (square outputs only).
    #[serde(skip)]
    pub thumb: Option<RgbImage>,
    /// Where the time went, for benchmarks.
    #[serde(skip)]
    pub timings: OutputTimings,
}

/// The person a photo's outputs are made of, and the judgement about them.
#[derive(Debug, Clone)]
pub struct Sitter<'a> {
    /// Index into `scene.faces`.
    pub index: usize,
    pub face: &'a Face,
    /// The verdicts about this person (the analysis's own when they are its primary subject
    /// alone in the photo).
    pub judgement: Judgement,
}

/// Whom the outputs of a photo show: the face asked for (1 = the most prominent), or in a photo
/// of several people the one whose verdicts serve the most uses (`judge::best_subject`), or its
/// only subject. `None` without a face.
pub fn sitter<'a>(
    a: &'a Analysis,
    catalogue: &Catalogue,
    subject: Option<usize>,
) -> Result<Option<Sitter<'a>>, OutputError> {
    let faces = &a.scene.faces;
    let index = match subject {
        Some(n) if n >= 1 && n <= faces.len() => n - 1,
        Some(n) => return Err(OutputError::NoSuchSubject { asked: n, found: faces.len() }),
        None if faces.is_empty() => return Ok(None),
        None => judge::best_subject(&a.scene, catalogue),
    };
    let Some(face) = faces.get(index) else { return Ok(None) };
    let judgement = if index == 0 && a.scene.people < 2 {
        a.judgement.clone()
    } else {
        judge::judge(&a.scene, catalogue, judge::Subject::Face(index))
    };
    Ok(Some(Sitter { index, face, judgement }))
}

/// The head of a face, with its hair top read off the matte.
pub fn head_of(a: &Analysis, face: &Face) -> Head {
    Head::read(face, &a.matte, a.photo.analysis_scale)
}

/// The person matte with only the chosen subject's outline kept: the connected part of the
/// matte around their face (people who touch stay together).
fn isolate(matte: &PersonMatte, face: &Face, scale: f32) -> PersonMatte {
    let (w, h) = (matte.width as usize, matte.height as usize);
    let seed = face.bbox.center();
    let (sx, sy) = ((seed.x / scale) as usize, (seed.y / scale) as usize);
    if sx >= w || sy >= h {
        return matte.clone();
    }
    // Each pixel is marked as it is found, so it enters the stack once rather than once per
    // neighbour (a 2 MP matte, one core: 22 ms before, 6 ms).
    let inside = |k: usize| matte.alpha[k] >= 0.05;
    let mut keep = vec![false; w * h];
    let mut stack = Vec::new();
    if inside(sy * w + sx) {
        keep[sy * w + sx] = true;
        stack.push(sy * w + sx);
    }
    while let Some(k) = stack.pop() {
        let (x, y) = (k % w, k / w);
        for (n, ok) in [(k.wrapping_sub(1), x > 0), (k + 1, x + 1 < w), (k.wrapping_sub(w), y > 0), (k + w, y + 1 < h)]
        {
            if ok && !keep[n] && inside(n) {
                keep[n] = true;
                stack.push(n);
            }
        }
    }
    if !keep[sy * w + sx] {
        // The face is not inside the matte at all: better the whole matte than nothing.
        return matte.clone();
    }
    let alpha = matte.alpha.iter().zip(&keep).map(|(&a, &k)| if k { a } else { 0.0 }).collect();
    PersonMatte { width: matte.width, height: matte.height, alpha }
}

/// The matte the outputs are cut with, over the analysis copy's grid: the portrait matting
/// model's, run once over the part of the photo shown by the outputs that need one (replaced,
/// blurred or transparent backgrounds, light corrections), kept to a body's reach of the
/// subject; the analysis's own quick matte when no output needs one, or the photo's own
/// transparency when it brings one.
fn person_matte(a: &Analysis, face: &Face, jobs: &[Job]) -> Result<PersonMatte, OutputError> {
    let needing: Vec<&Job> = jobs.iter().filter(|j| render::needs_matte(j.background, j.corrections)).collect();
    if needing.is_empty() || a.photo.alpha.is_some() {
        return Ok(isolate(&a.matte, face, a.photo.analysis_scale));
    }
    let frames: Vec<Rect> = needing.iter().map(|j| j.plan.bounds()).collect();
    let detail = needing.iter().map(|j| j.plan.scale()).fold(0.0, f32::max);
    subject_matte(a, face, matte_region(a, face, &frames), detail)
}

/// The part of the photo the matting model reads for outputs cut from `frames` (photo pixels):
/// all of them with room for a team's settling (a few per cent), and the whole head with room
/// around it however tight they are (cut just above a cap, the model's view took a star of the
/// flag behind it for part of the head), kept to a body's reach of the subject.
pub fn matte_region(a: &Analysis, face: &Face, frames: &[Rect]) -> Rect {
    let body = headshot_vision::segment::person_region(a.photo.width(), a.photo.height(), &[face]);
    let shown = frames.iter().map(|f| f.expanded(0.05, 0.05)).reduce(|u, f| u.union(&f));
    let head = face.bbox.expanded(0.75, 1.0);
    shown.map_or(body, |s| s.union(&head).intersect(&body))
}

/// The portrait matting model's matte of `region` (photo pixels) on the analysis copy's grid,
/// with only the subject kept: what is nearer their face than anyone else's
/// (`matte::clear_others`), connected to it, its small holes filled, the face itself solid
/// (`matte::make_face_solid`). Other people, and anything else the model takes for a person, are
/// background to a portrait of one person. `detail`: output pixels per photo pixel of the
/// largest output cut with it (`f32::INFINITY` for a cut at the photo's own resolution), which
/// sets how fine the model reads.
pub fn subject_matte(a: &Analysis, face: &Face, region: Rect, detail: f32) -> Result<PersonMatte, OutputError> {
    let (pw, ph) = (a.photo.width() as f32, a.photo.height() as f32);
    let s = a.photo.analysis_scale;
    let region = region.clamped(pw, ph);
    let mut matte =
        headshot_vision::matting::matte_person_reduced(&a.photo.pixels, &a.photo.analysis, s, region, detail)
            .map_err(OutputError::Matting)?;
    let person = |f: &Face| (f.bbox.center(), f.bbox.w);
    let others: Vec<(Point, f32)> = a.scene.faces.iter().filter(|f| *f != face).map(person).collect();
    headshot_core::matte::clear_others(&mut matte, person(face), &others, s);
    // A hole up to a third of the face's width across (a ring, a buckle) is part of the person.
    let hole = (face.bbox.w / s / 3.0).powi(2) as usize;
    let mut matte = headshot_core::matte::fill_holes(&isolate(&matte, face, s), hole);
    if let Some(d) = &face.details {
        headshot_core::matte::make_face_solid(&mut matte, &d.outline, s);
    }
    Ok(matte)
}

/// File-name-safe stem of a photo: letters, digits, `-`, `_` and `.`; anything else becomes `_`.
pub fn safe_stem(path: &Path) -> String {
    let stem = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
    let s: String = stem
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.' { c } else { '_' })
        .collect();
    let s = s.trim_start_matches('.').to_string();
    if s.is_empty() { "photo".into() } else { s }
}

/// The files a studio run writes beside the photos' folders: no folder may take their names.
pub const SESSION_FILES: [&str; 3] = ["report.json", "index.html", "contact-sheet.jpg"];

/// One folder name per photo, in input order; a repeated stem gets `-2`, `-3`, ..., and so does
/// a stem that is the name of one of the session's own files (`report.json.jpg`).
pub fn folder_names(paths: &[PathBuf]) -> Vec<String> {
    let mut seen: HashSet<String> = SESSION_FILES.iter().map(|f| f.to_string()).collect();
    paths
        .iter()
        .map(|p| {
            let base = safe_stem(p);
            let mut name = base.clone();
            let mut n = 2;
            while !seen.insert(name.to_ascii_lowercase()) {
                name = format!("{base}-{n}");
                n += 1;
            }
            name
        })
        .collect()
}

/// The background of one use's output.
pub fn background_for(choice: BackgroundChoice, fixes: &[Fix], team: bool) -> Background {
    match choice {
        BackgroundChoice::Fixed(b) => b,
        // A team needs one backdrop for everyone.
        BackgroundChoice::Auto if team => Background::Studio(STUDIO_GREY),
        BackgroundChoice::Auto if fixes.contains(&Fix::ReplaceBackground) => Background::Studio(STUDIO_GREY),
        BackgroundChoice::Auto => Background::Keep,
    }
}

/// One output to make: its use, how, and the crop.
struct Job<'u> {
    u: &'u Use,
    background: Background,
    corrections: Corrections,
    plan: CropPlan,
    planning: Duration,
    /// The use's own size, when the output is made smaller for want of pixels.
    reduced_from: Option<[u32; 2]>,
}

/// Outputs rendered together: `leader` (the largest) is rendered, the other members resized
/// from it.
#[derive(Debug, PartialEq)]
struct RenderGroup {
    leader: usize,
    members: Vec<usize>,
}

/// Whether two plans frame the same part of the photo, turned the same way, in the same shape:
/// then the smaller output is the larger one resized (to within a fifth of a per cent, under
/// a pixel at the largest sizes).
fn same_frame(a: &CropPlan, b: &CropPlan) -> bool {
    let tol = 0.002 * a.width.max(b.width);
    u64::from(a.out_w) * u64::from(b.out_h) == u64::from(b.out_w) * u64::from(a.out_h)
        && (a.angle_deg - b.angle_deg).abs() < 1e-3
        && (a.center.x - b.center.x).abs() < tol
        && (a.center.y - b.center.y).abs() < tol
        && (a.width - b.width).abs() < tol
        && (a.height - b.height).abs() < tol
}

/// Groups jobs that can share one render (same frame, background and corrections).
fn same_render_groups(jobs: &[Job]) -> Vec<RenderGroup> {
    let mut groups: Vec<RenderGroup> = Vec::new();
    for (i, j) in jobs.iter().enumerate() {
        let found = groups.iter_mut().find(|g| {
            let l = &jobs[g.leader];
            l.background == j.background && l.corrections == j.corrections && same_frame(&l.plan, &j.plan)
        });
        match found {
            Some(g) => {
                g.members.push(i);
                if j.plan.out_w > jobs[g.leader].plan.out_w {
                    g.leader = i;
                }
            }
            None => groups.push(RenderGroup { leader: i, members: vec![i] }),
        }
    }
    groups
}

/// What `make_outputs` made of one photo.
#[derive(Debug, Default)]
pub struct PhotoOutputs {
    pub made: Vec<Made>,
    /// Time spent on the person's matte (the portrait matting model), once for all outputs.
    pub matting: Duration,
    pub errors: Vec<OutputError>,
    /// The verdicts the outputs follow: about the person they show.
    pub verdicts: Vec<Verdict>,
}

/// Makes every output `a` is ready or fixable for, writing each to `dir/folder/<use>.<ext>`.
/// Outputs of uses it is no longer good for, left by an earlier run, are removed.
pub fn make_outputs(a: &Analysis, analyzer: &Analyzer, opts: &StudioOptions, dir: &Path, folder: &str) -> PhotoOutputs {
    let sitter = match sitter(a, &analyzer.catalogue, opts.subject) {
        Ok(Some(s)) => s,
        Ok(None) => return PhotoOutputs { verdicts: a.judgement.verdicts.clone(), ..PhotoOutputs::default() },
        Err(e) => {
            return PhotoOutputs { errors: vec![e], verdicts: a.judgement.verdicts.clone(), ..PhotoOutputs::default() };
        }
    };
    let face = sitter.face;
    let head = head_of(a, face);
    let mut verdicts = sitter.judgement.verdicts.clone();
    if opts.smaller_if_needed {
        for v in &mut verdicts {
            if let Some(u) = analyzer.catalogue.get(&v.use_name) {
                *v = judge::smaller_if_needed(&a.scene, u, sitter.index, v.clone());
            }
        }
    }
    let included =
        |v: &Verdict| opts.include_all && opts.team.is_some() && v.reasons.iter().all(|r| r.can_be_overridden());
    let wanted: Vec<(&Use, &Verdict)> = verdicts
        .iter()
        .filter(|v| v.status != Status::Unsuitable || included(v))
        .filter_map(|v| analyzer.catalogue.get(&v.use_name).map(|u| (u, v)))
        .collect();
    let despite: HashMap<String, Vec<Reason>> = wanted
        .iter()
        .filter(|(_, v)| v.status == Status::Unsuitable)
        .map(|(u, v)| (u.name.clone(), v.reasons.clone()))
        .collect();
    // Plan every output first: outputs that frame the same part of the photo the same way
    // (the circle avatars of several platforms, say) differ only in pixel size, so each such
    // group is rendered once, at its largest size, and the others are resized from it.
    let (pw, ph) = (a.photo.width(), a.photo.height());
    // A team's light replaces the mid tone each photo would be brought to on its own.
    let team_light = opts.team.as_ref().and_then(|t| team_light(t, face_light_of(a, face)));
    let mut jobs: Vec<Job> = wanted
        .par_iter()
        .map(|&(u, v)| {
            let started = Instant::now();
            // A document's backdrop is the office's colour, whatever else was asked for.
            let background = match &u.document {
                Some(rules) => Background::Colour(rules.rendered_background()),
                None => background_for(opts.background, &v.fixes, opts.team.is_some()),
            };
            let canvas = if background.replaces() { Canvas::Extendable } else { Canvas::PhotoOnly };
            let even = v.fixes.contains(&Fix::EvenOutLighting);
            let corrections = Corrections { exposure: even, fill_light: even, white_balance: even, team_light };
            let share = opts.team.as_ref().and_then(|t| t.inter_eye_share.get(&u.name).copied());
            let plan = plan::plan(&head_for(&head, u), u, pw, ph, canvas, share);
            Job { u, background, corrections, plan, planning: started.elapsed(), reduced_from: None }
        })
        .collect();
    // What the verdicts foresaw, checked on the frames as planned (a background kept by choice
    // can leave less room than the verdict assumed), before the matte is made for them.
    check_frames(&mut jobs, &head, opts.smaller_if_needed, &mut verdicts);
    // The person's matte, from the portrait matting model over the part of the photo the
    // outputs that cut the person out show (the analysis's quick matte where none does).
    let matting = Instant::now();
    let matte = match person_matte(a, face, &jobs) {
        Ok(m) => m,
        Err(e) => return PhotoOutputs { errors: vec![e], verdicts, ..PhotoOutputs::default() },
    };
    let matting = matting.elapsed();
    let src = render::Source {
        pixels: &a.photo.pixels,
        alpha: a.photo.alpha.as_ref(),
        matte: &matte,
        matte_scale: a.photo.analysis_scale,
        face: face.bbox,
    };
    if let Some(team) = &opts.team {
        jobs.par_iter_mut().for_each(|j| {
            let started = Instant::now();
            let canvas = if j.background.replaces() { Canvas::Extendable } else { Canvas::PhotoOnly };
            let (background, corrections) = (j.background, j.corrections);
            let settled = settle_team_plan(a, analyzer, &head, j.u, canvas, team, |p| {
                render::render(&src, p, background, corrections).image
            });
            if let Some(plan) = settled {
                j.plan = plan;
            }
            j.planning += started.elapsed();
        });
    }
    if opts.team.is_some() {
        // A team's common head size moved the frames: checked again.
        check_frames(&mut jobs, &head, opts.smaller_if_needed, &mut verdicts);
    }
    // Output `i` of the group whose leader's render is `leader` (made in `leader_time`): resized
    // from it unless it is the leader, encoded, written and, for a document, checked.
    let make = |i: usize, leader: &Rendered, leader_time: Duration, is_leader: bool| -> Result<Made, OutputError> {
        let j = &jobs[i];
        let (u, p, background) = (j.u, &j.plan, j.background);
        let started = Instant::now();
        let resized;
        let rendered = if is_leader {
            leader
        } else {
            resized = resize_rendered(leader, p.out_w, p.out_h, background.transparent());
            &resized
        };
        let render_time = if is_leader { leader_time } else { started.elapsed() };
        let encoding = Instant::now();
        let err = |source| OutputError::Export { use_name: u.name.clone(), source };
        let (format, encoded) = match &u.document {
            Some(rules) => {
                // JPEG unless PNG was asked for: both carry the DPI the office reads.
                let format = if opts.format == Some(Format::Png) { Format::Png } else { Format::Jpeg };
                let dpi = u16::try_from(rules.dpi).unwrap_or(300);
                (format, export::encode_document(&rendered.image, format, rules.min_bytes, u.max_bytes, dpi))
            }
            None => {
                let format = output_format(opts.format, u.format, background);
                let e = if background.transparent() {
                    export::encode_rgba(&rendered.to_rgba(), format, u.max_bytes)
                } else {
                    export::encode(&rendered.image, format, u.max_bytes)
                };
                (format, e)
            }
        };
        let encoded = encoded.map_err(err)?;
        let rel = format!("{folder}/{}.{}", u.name, format.extension());
        export::write_atomic(&dir.join(&rel), &encoded.bytes).map_err(err)?;
        let encode_time = encoding.elapsed();
        // A document photo is checked again as the office will read it: the file itself,
        // decoded and analysed like any photo; and laid out on its print sheet.
        let checking = Instant::now();
        let (checks, sheet, check) = match &u.document {
            Some(_) => {
                let (checks, sheet) = document_outputs(u, &encoded.bytes, &rel, analyzer, opts, dir, folder)?;
                (checks, sheet, checking.elapsed())
            }
            None => (Vec::new(), None, Duration::ZERO),
        };
        let timings = OutputTimings { plan: j.planning, render: render_time, encode: encode_time, check };
        // The contact sheet shows a cut-out on the sheet's own paper colour.
        let thumb = (u.width == u.height).then(|| {
            let shown = if background.transparent() { on_paper(rendered) } else { rendered.image.clone() };
            resize_rgb(&shown, 240, 240)
        });
        Ok(Made {
            report: OutputReport {
                use_name: u.name.clone(),
                path: rel,
                width: p.out_w,
                height: p.out_h,
                enlarge: (p.scale() * 100.0).round() / 100.0,
                reduced_from: j.reduced_from,
                team_size: team_size(opts, u, p),
                team_light: j.corrections.team_light.map(|m| (m.stops() * 100.0).round() / 100.0),
                included_despite: despite.get(&u.name).cloned().unwrap_or_default(),
                bytes: encoded.bytes.len() as u64,
                format,
                quality: encoded.quality,
                background: background.to_string(),
                fit: p.fit,
                eye_line: (p.eye_line * 1000.0).round() / 1000.0,
                straightened_deg: (p.angle_deg * 100.0).round() / 100.0,
                circle: u.circle,
                compliant: (!checks.is_empty()).then(|| checks.iter().all(|c| c.pass || c.warning)),
                checks,
                sheet,
            },
            plan: *p,
            thumb,
            timings,
        })
    };
    // Each group's render lives only while its outputs are made from it: the renders alive at
    // once are bounded by the threads, not by the number of outputs (13 of a 24 MP photo's
    // outputs, 6.4 MP of pixels as RGB and a float alpha, had all been held until the last was
    // encoded).
    let groups = same_render_groups(&jobs);
    let mut results: Vec<(usize, Result<Made, OutputError>)> = groups
        .par_iter()
        .flat_map(|g| {
            let started = Instant::now();
            let j = &jobs[g.leader];
            let leader = render::render(&src, &j.plan, j.background, j.corrections);
            let leader_time = started.elapsed();
            g.members.par_iter().map(|&i| (i, make(i, &leader, leader_time, i == g.leader))).collect::<Vec<_>>()
        })
        .collect();
    // In the order the uses were asked for, as before.
    results.sort_by_key(|(i, _)| *i);
    let mut made = Vec::new();
    let mut errors = Vec::new();
    for (_, r) in results {
        match r {
            Ok(m) => made.push(m),
            Err(e) => errors.push(e),
        }
    }
    remove_stale(dir, folder, &made);
    PhotoOutputs { made, matting, errors, verdicts }
}

/// Drops the outputs whose frame would cut the head or enlarge the photo past the use's limit,
/// and says so in their verdicts; with `smaller` an output short of pixels is made at the
/// largest size they allow instead.
fn check_frames(jobs: &mut Vec<Job>, head: &Head, smaller: bool, verdicts: &mut [Verdict]) {
    let mut demote = |name: &str, reason: Reason| {
        if let Some(v) = verdicts.iter_mut().find(|v| v.use_name == name) {
            v.status = Status::Unsuitable;
            if !v.reasons.contains(&reason) {
                v.reasons.push(reason);
            }
        }
    };
    jobs.retain_mut(|j| {
        let head = &head_for(head, j.u);
        let seen = j.plan.head_in_frame(head);
        if !seen.whole(head, j.u) {
            demote(&j.u.name, Reason::HeadCutOff);
            return false;
        }
        let limit = j.u.max_enlarge();
        if seen.enlarge > limit * (1.0 + ENLARGE_ROUNDING) {
            if !smaller {
                demote(&j.u.name, Reason::LowResolution);
                return false;
            }
            let f = limit / seen.enlarge;
            j.reduced_from = Some([j.plan.out_w, j.plan.out_h]);
            j.plan.out_w = ((j.plan.out_w as f32 * f).floor() as u32).max(1);
            j.plan.out_h = ((j.plan.out_h as f32 * f).floor() as u32).max(1);
        }
        true
    });
}

/// The checks of a document photo's written file (`bytes`, at `rel` under `dir`), and its print
/// sheet when the document is printed: the file is decoded and analysed as any photo is, so the
/// checklist says what the office's own software will find.
fn document_outputs(
    u: &Use,
    bytes: &[u8],
    rel: &str,
    analyzer: &Analyzer,
    opts: &StudioOptions,
    dir: &Path,
    folder: &str,
) -> Result<(Vec<headshot_core::document::Check>, Option<String>), OutputError> {
    use headshot_core::document;
    let recheck = |reason: String| OutputError::Recheck { use_name: u.name.clone(), reason };
    let photo = headshot_core::Photo::decode(Path::new(rel), bytes, &analyzer.limits).map_err(|e| recheck(e.reason))?;
    let (w, h) = (photo.width(), photo.height());
    // Only the checks are wanted of this analysis, not every use's verdict.
    let quiet = Analyzer { catalogue: Catalogue { uses: Vec::new() }, ..analyzer.clone() };
    let seen = quiet.analyze_photo(photo).map_err(|e| recheck(e.to_string()))?;
    let mut checks = document::checks(&seen.scene, 0, u);
    if checks.is_empty() {
        checks.push(headshot_core::document::Check {
            rule: document::Rule::SingleFace,
            value: seen.scene.people as f32,
            allowed: "1".into(),
            pass: false,
            warning: false,
        });
    }
    let Some(rules) = &u.document else { return Ok((checks, None)) };
    // The matte is read at the analysis copy's size; document files are smaller than it, so
    // the two are the same pixels.
    let crown_y = seen.scene.subjects.first().map_or(0.0, |m| m.head.crown().y);
    let stray = document::stray_share(&seen.photo.analysis, &seen.matte, rules.rendered_background(), crown_y);
    checks.extend(document::file_checks(u, w, h, document::written_dpi(bytes), bytes.len() as u64, stray));
    let Some([mw, mh]) = rules.print_mm else { return Ok((checks, None)) };
    let caption = format!("{}  {} x {} mm  {}", u.name, trim_mm(mw), trim_mm(mh), headshot_core::sheet::today());
    let Some(sheet) = headshot_core::sheet::lay_out(&seen.photo.pixels, opts.sheet, &caption) else {
        return Ok((checks, None));
    };
    let dpi = u16::try_from(headshot_core::sheet::SHEET_DPI).unwrap_or(300);
    let encoded = export::encode_document(&sheet.image, Format::Jpeg, 0, 50_000_000, dpi)
        .map_err(|source| OutputError::Export { use_name: u.name.clone(), source })?;
    let sheet_rel = format!("{folder}/{}-sheet-{}.jpg", u.name, opts.sheet.paper.name());
    export::write_atomic(&dir.join(&sheet_rel), &encoded.bytes)
        .map_err(|source| OutputError::Export { use_name: u.name.clone(), source })?;
    Ok((checks, Some(sheet_rel)))
}

fn trim_mm(v: f32) -> String {
    let s = format!("{v:.1}");
    s.strip_suffix(".0").unwrap_or(&s).to_string()
}

/// The head a use is framed by: a document measures it chin to crown (`Head::measured`), every
/// other use keeps the planner's cautious crown.
fn head_for(head: &Head, u: &Use) -> Head {
    if u.document.is_some() { head.measured() } else { *head }
}

/// A team member's head size over the team's, in hundredths, whenever it is off by one or more
/// (see `OutputReport::team_size`): the frame the team's size asked for over the one the
/// photo's edges allowed. It was said only past 2 %, which left up to two thirds of the 3 % a
/// team page may spread unaccounted for.
fn team_size(opts: &StudioOptions, u: &Use, p: &CropPlan) -> Option<f32> {
    opts.team.as_ref()?.inter_eye_share.get(&u.name)?;
    let ratio = (p.asked_height / p.height.max(1e-3) * 100.0).round() / 100.0;
    (ratio != 1.0).then_some(ratio)
}

/// Enlargements within this share of a use's limit pass: the verdict rounds to hundredths.
const ENLARGE_ROUNDING: f32 = 0.01;

/// The format an output is written in: the one asked for, else the use's own, except that a
/// transparent background needs an alpha channel, which JPEG lacks: PNG then.
pub fn output_format(asked: Option<Format>, own: Format, background: Background) -> Format {
    match asked {
        Some(f) => f,
        None if background.transparent() && own == Format::Jpeg => Format::Png,
        None => own,
    }
}

/// The contact sheet's paper colour.
const PAPER: [u8; 3] = [246, 246, 244];

/// A cut-out laid on the contact sheet's paper.
fn on_paper(r: &Rendered) -> RgbImage {
    let mut out = r.image.clone();
    for (p, &a) in out.pixels_mut().zip(&r.alpha) {
        for c in 0..3 {
            p[c] = (f32::from(p[c]) * a + f32::from(PAPER[c]) * (1.0 - a)).round() as u8;
        }
    }
    out
}

/// A rendered output resized (with its alpha when it carries one).
fn resize_rendered(r: &Rendered, w: u32, h: u32, with_alpha: bool) -> Rendered {
    let image = resize_rgb(&r.image, w, h);
    let alpha = if with_alpha {
        let (rw, rh) = r.image.dimensions();
        let plane = PersonMatte { width: rw, height: rh, alpha: r.alpha.clone() }.to_gray();
        headshot_core::resize::resize_gray(&plane, w, h).as_raw().iter().map(|&v| f32::from(v) / 255.0).collect()
    } else {
        vec![1.0; (w * h) as usize]
    };
    Rendered { image, alpha }
}

/// File name of the gallery's copy of the photo, in its folder.
const PREVIEW: &str = "photo-preview.jpg";

/// Removes images of this photo's folder that this run did not make (a use it is no longer good
/// for or not asked for, another format) and temporaries of an interrupted run: the folder then
/// holds exactly what `report.json` lists.
fn remove_stale(dir: &Path, folder: &str, made: &[Made]) {
    let folder = dir.join(folder);
    let Ok(entries) = std::fs::read_dir(&folder) else { return };
    let written: HashSet<String> = made
        .iter()
        .flat_map(|m| std::iter::once(&m.report.path).chain(m.report.sheet.as_ref()))
        .filter_map(|p| Path::new(p).file_name().map(|n| n.to_string_lossy().into_owned()))
        .collect();
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let partial = name.starts_with('.') && name.ends_with(".partial");
        let image =
            [Format::Jpeg, Format::Png, Format::Webp].iter().any(|f| name.ends_with(&format!(".{}", f.extension())));
        if partial || (image && name != PREVIEW && !written.contains(&name)) {
            let _ = std::fs::remove_file(e.path());
        }
    }
}

/// A small copy of the photo for the gallery, `DIR/folder/photo-preview.jpg`.
pub fn write_preview(a: &Analysis, dir: &Path, folder: &str) -> Option<String> {
    let (w, h) = a.photo.pixels.dimensions();
    let long = w.max(h).max(1) as f32;
    let s = (640.0 / long).min(1.0);
    let small =
        resize_rgb(&a.photo.pixels, ((w as f32 * s).round() as u32).max(1), ((h as f32 * s).round() as u32).max(1));
    let encoded = export::encode(&small, Format::Jpeg, u64::MAX).ok()?;
    let rel = format!("{folder}/{PREVIEW}");
    export::write_atomic(&dir.join(&rel), &encoded.bytes).ok()?;
    Some(rel)
}

/// The contact sheet: one tile per photo (its first square output), in rows of up to five.
pub fn contact_sheet(tiles: &[RgbImage]) -> Option<RgbImage> {
    if tiles.is_empty() {
        return None;
    }
    const TILE: u32 = 240;
    const GAP: u32 = 12;
    let cols = (tiles.len() as u32).min(5);
    let rows = (tiles.len() as u32).div_ceil(cols);
    let mut sheet = RgbImage::from_pixel(cols * (TILE + GAP) + GAP, rows * (TILE + GAP) + GAP, image::Rgb(PAPER));
    for (i, t) in tiles.iter().enumerate() {
        let (c, r) = (i as u32 % cols, i as u32 / cols);
        let t = if t.dimensions() == (TILE, TILE) { t.clone() } else { resize_rgb(t, TILE, TILE) };
        image::imageops::replace(&mut sheet, &t, i64::from(GAP + c * (TILE + GAP)), i64::from(GAP + r * (TILE + GAP)));
    }
    Some(sheet)
}

/// Why a studio run could not start (single photos failing are reported, not raised).
#[derive(Debug, thiserror::Error)]
pub enum StudioError {
    #[error("cannot write to {path}: {source}")]
    OutDir { path: PathBuf, source: std::io::Error },
    #[error(transparent)]
    Export(#[from] ExportError),
    #[error("the report could not be written as JSON: {0}")]
    Report(#[from] serde_json::Error),
}

/// The outcome of a studio run.
#[derive(Debug)]
pub struct StudioRun {
    pub session: SessionReport,
    /// Whether any input could not be read or processed.
    pub failed: bool,
    /// Work time per stage (the team pass's extra analysis not included).
    pub timings: crate::timings::StageTimes,
    /// Photos an earlier run into the same folder had finished with the same photo and options:
    /// their outputs were kept, not made again (see `Finished`).
    pub reused: usize,
}

/// The record a finished photo leaves in its folder (`.finished.json`), written after its last
/// output: a later run with the same photo (path, size, modification time), the same options
/// and the same program version, finding every output it lists on disk at the listed size,
/// takes the report from it instead of doing the photo again. A run killed mid-photo leaves no
/// record for that photo (an old one is removed before the photo is started), so the photo is
/// done again; a write cut short leaves only a temporary, never a listed output.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
struct Finished {
    key: String,
    report: headshot_core::report::Report,
}

const FINISHED: &str = ".finished.json";

/// What a photo's finished record must match: the photo as it is on disk and everything that
/// decides its outputs.
fn finished_key(path: &Path, opts: &StudioOptions, catalogue: &Catalogue) -> Option<String> {
    let meta = std::fs::metadata(path).ok()?;
    let modified = meta.modified().ok()?.duration_since(std::time::UNIX_EPOCH).ok()?.as_nanos();
    let uses = serde_json::to_string(&catalogue.uses).ok()?;
    Some(format!(
        "{} {} {} {modified} {:?} {:?} {:?} {} {:?} {uses}",
        env!("CARGO_PKG_VERSION"),
        path.display(),
        meta.len(),
        opts.background,
        opts.format,
        opts.subject_of(path),
        opts.smaller_if_needed,
        opts.sheet
    ))
}

/// The report of a photo an earlier run finished, when its record matches and every output is
/// still there.
fn finished_before(dir: &Path, folder: &str, key: &str) -> Option<headshot_core::report::Report> {
    let f: Finished = serde_json::from_slice(&std::fs::read(dir.join(folder).join(FINISHED)).ok()?).ok()?;
    if !f.report.round_trips() {
        return None;
    }
    let intact = |rel: &str, bytes: Option<u64>| {
        std::fs::metadata(dir.join(rel)).is_ok_and(|m| m.is_file() && bytes.is_none_or(|b| m.len() == b))
    };
    let all_there = f.report.outputs.iter().all(|o| intact(&o.path, Some(o.bytes)))
        && f.report.preview.as_deref().is_none_or(|p| intact(p, None));
    (f.key == key && all_there).then_some(f.report)
}

/// A finished photo's contact-sheet tile, from its first square output on disk.
fn tile_from_disk(dir: &Path, report: &headshot_core::report::Report) -> Option<RgbImage> {
    let o = report.outputs.iter().find(|o| o.width == o.height)?;
    let img = image::open(dir.join(&o.path)).ok()?.to_rgba8();
    let (w, h) = img.dimensions();
    let alpha = img.pixels().map(|p| f32::from(p[3]) / 255.0).collect();
    let rgb = image::DynamicImage::ImageRgba8(img).to_rgb8();
    Some(resize_rgb(&on_paper(&Rendered { image: rgb, alpha }), 240, 240)).filter(|_| w > 0 && h > 0)
}

/// One photo of a run, done: analysed, its outputs made, its preview written and, last, its
/// finished record (when it may be reused: `key`).
fn one_photo(
    analyzer: &Analyzer,
    opts: &StudioOptions,
    out: &Path,
    path: &Path,
    folder: &str,
    key: Option<&str>,
) -> Result<(headshot_core::report::Report, Option<RgbImage>, crate::timings::StageTimes), crate::analysis::AnalyzeError>
{
    let a = analyzer.analyze_path(path)?;
    let own;
    let opts = match opts.subjects.get(path) {
        Some(&n) => {
            own = StudioOptions { subject: Some(n), ..opts.clone() };
            &own
        }
        None => opts,
    };
    let PhotoOutputs { made, matting, errors: errs, verdicts } = make_outputs(&a, analyzer, opts, out, folder);
    let mut times = crate::timings::StageTimes::default();
    times.add_analysis(&a.timings);
    times.matting += matting;
    for m in &made {
        times.add_output(&m.timings);
    }
    let mut report = a.report.clone();
    report.verdicts = verdicts;
    report.preview = write_preview(&a, out, folder);
    report.output_errors = errs.iter().map(ToString::to_string).collect();
    let tile = made.iter().find(|m| m.thumb.is_some()).and_then(|m| m.thumb.clone());
    report.outputs = made.into_iter().map(|m| m.report).collect();
    if let Some(key) = key
        && report.output_errors.is_empty()
        && let Ok(json) = serde_json::to_vec(&Finished { key: key.to_string(), report: report.clone() })
    {
        // Best effort: without it the photo is only done again next time.
        let _ = export::write_atomic(&out.join(folder).join(FINISHED), &json);
    }
    Ok((report, tile, times))
}

/// Runs the studio over `inputs` into `out`: analyses every photo (in parallel), makes its
/// outputs, then writes `report.json`, `index.html` and `contact-sheet.jpg`. `progress` is called
/// once per photo as it finishes.
pub fn run(
    analyzer: &Analyzer,
    inputs: &[PathBuf],
    opts: &StudioOptions,
    out: &Path,
    team: bool,
    progress: impl Fn(&Path) + Sync,
) -> Result<StudioRun, StudioError> {
    // Outputs are rendered from the photos' pixels: every one of them is needed.
    let analyzer = &Analyzer { resolution: Resolution::Full, ..analyzer.clone() };
    std::fs::create_dir_all(out).map_err(|source| StudioError::OutDir { path: out.to_path_buf(), source })?;
    let (files, mut errors) = collect_inputs(inputs);
    let folders = folder_names(&files);
    let mut opts = opts.clone();
    if team {
        // First pass: every person's head and light, so the team's common size and light are
        // known before rendering.
        let members: Vec<Member> = analyze_each(analyzer, &files, |_, r| {
            let a = r.ok()?;
            let s = sitter(&a, &analyzer.catalogue, opts.subject_of(&a.photo.path)).ok().flatten()?;
            Some(Member {
                head: (head_of(&a, s.face), a.photo.width(), a.photo.height()),
                eye_span: eye_span_ratio(s.face),
                face_light: face_light_of(&a, s.face),
            })
        })
        .into_iter()
        .flatten()
        .collect();
        let heads: Vec<_> = members.iter().map(|m| m.head).collect();
        let ratios = members.iter().filter_map(|m| m.eye_span).collect();
        let lights = if opts.keep_light { Vec::new() } else { members.iter().filter_map(|m| m.face_light).collect() };
        let canvas =
            if background_for(opts.background, &[], true).replaces() { Canvas::Extendable } else { Canvas::PhotoOnly };
        opts.team =
            Some(Team::from_heads(&heads, &analyzer.catalogue, canvas).with_eye_spans(ratios).with_light(lights));
    }
    let index: HashMap<&Path, &str> =
        files.iter().map(|p| p.as_path()).zip(folders.iter().map(String::as_str)).collect();
    let reused = std::sync::atomic::AtomicUsize::new(0);
    let started = std::sync::atomic::AtomicUsize::new(0);
    let results: Vec<_> = files
        .par_iter()
        .map(|p| {
            let path = p.as_path();
            let folder = index.get(path).copied().unwrap_or("photo");
            // A team's common size depends on every photo: a team run does them all again.
            let key = if team { None } else { finished_key(path, &opts, &analyzer.catalogue) };
            if let Some(report) = key.as_deref().and_then(|k| finished_before(out, folder, k)) {
                reused.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                progress(path);
                let tile = tile_from_disk(out, &report);
                return Ok((report, tile, crate::timings::StageTimes::default()));
            }
            let late = opts.deadline.is_some_and(|d| std::time::Instant::now() >= d);
            if late && started.load(std::sync::atomic::Ordering::Relaxed) > 0 {
                // Not done: no progress to report.
                return Err(crate::analysis::AnalyzeError::Photo(headshot_core::photo::PhotoError {
                    path: path.to_path_buf(),
                    kind: headshot_core::photo::PhotoErrorKind::TimeBudget,
                    reason: "not done: the session's time budget ran out before this photo's turn".into(),
                }));
            }
            started.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let _ = std::fs::remove_file(out.join(folder).join(FINISHED));
            let result = one_photo(analyzer, &opts, out, path, folder, key.as_deref());
            progress(path);
            result
        })
        .collect();
    let reused = reused.into_inner();
    let mut photos = Vec::new();
    let mut tiles = Vec::new();
    let mut timings = crate::timings::StageTimes::default();
    for r in results {
        match r {
            Ok((report, tile, times)) => {
                photos.push(report);
                tiles.extend(tile);
                timings.merge(&times);
            }
            Err(e) => errors.push(e.to_photo_error()),
        }
    }
    // Outputs that could not be written (a full disk, a read-only folder) are failed work too:
    // the contract's exit status 1, and those photos are done again by the next run.
    let failed = !errors.is_empty() || photos.iter().any(|p| !p.output_errors.is_empty());
    let mut session = SessionReport::new(photos, errors.iter().map(ErrorReport::from).collect());
    if let Some(root) = &opts.names_relative_to {
        session = relabel(session, root);
    }
    // A report that cannot be serialised is an error, never an empty file.
    let json = serde_json::to_vec_pretty(&session)?;
    export::write_atomic(&out.join("report.json"), &json)?;
    let sheet = contact_sheet(&tiles);
    if let Some(sheet) = &sheet {
        let encoded = export::encode(sheet, Format::Jpeg, u64::MAX)?;
        export::write_atomic(&out.join("contact-sheet.jpg"), &encoded.bytes)?;
    }
    let html = crate::gallery::page(&session, sheet.is_some().then_some("contact-sheet.jpg"));
    export::write_atomic(&out.join("index.html"), html.as_bytes())?;
    Ok(StudioRun { session, failed, timings, reused })
}

/// Paths in a report made relative to `root`.
fn relabel(mut s: SessionReport, root: &Path) -> SessionReport {
    let rel = |p: &str| Path::new(p).strip_prefix(root).map_or_else(|_| p.to_string(), |r| r.display().to_string());
    for r in &mut s.photos {
        r.path = rel(&r.path);
    }
    for e in &mut s.errors {
        e.path = rel(&e.path);
    }
    for b in &mut s.best {
        b.path = b.path.as_deref().map(rel);
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use headshot_core::geometry::Point;

    fn job(u: &Use, w: u32, h: u32, crop_w: f32, background: Background) -> Job<'_> {
        let plan = CropPlan {
            center: Point::new(500.0, 400.0),
            width: crop_w,
            height: crop_w * h as f32 / w as f32,
            angle_deg: 0.0,
            out_w: w,
            out_h: h,
            fit: Fit::AsPlanned,
            eye_line_target: 0.43,
            eye_line: 0.43,
            asked_height: crop_w * h as f32 / w as f32,
        };
        Job { u, background, corrections: Corrections::default(), plan, planning: Duration::ZERO, reduced_from: None }
    }

    #[test]
    fn no_photo_folder_takes_a_session_files_name_or_another_photos() {
        let paths: Vec<PathBuf> =
            ["a/report.json.jpg", "b/INDEX.html.png", "c/contact-sheet.jpg.jpg", "d/x.jpg", "e/x.jpg", "f/X.png"]
                .iter()
                .map(PathBuf::from)
                .collect();
        let names = folder_names(&paths);
        assert_eq!(names, ["report.json-2", "INDEX.html-2", "contact-sheet.jpg-2", "x", "x-2", "X-3"]);
    }

    #[test]
    fn outputs_framed_alike_share_one_render_at_the_largest_size() {
        let cat = Catalogue::built_in();
        let u = cat.get("linkedin").expect("use");
        let grey = Background::Studio(STUDIO_GREY);
        let jobs = [
            job(u, 400, 400, 600.0, grey),
            job(u, 648, 648, 600.5, grey),             // same frame, larger: leads
            job(u, 240, 240, 600.0, Background::Keep), // another background
            job(u, 400, 500, 600.0, grey),             // another shape
            job(u, 384, 384, 640.0, grey),             // a wider frame
            job(u, 384, 384, 599.8, grey),
        ];
        let groups = same_render_groups(&jobs);
        assert_eq!(groups[0], RenderGroup { leader: 1, members: vec![0, 1, 5] });
        assert_eq!(groups.len(), 4, "{groups:?}");
    }

    /// A team of two where one photo ends close below the chin (room for 90 % of the planned
    /// frame): the team's size is raised until that photo has room to spare, so a head
    /// re-measured a few per cent larger on settling is still framed at the team's size rather
    /// than tightened.
    #[test]
    fn the_team_size_leaves_room_in_every_photo() {
        let mut cat = Catalogue::built_in();
        cat.select(&["team-page".into()]);
        let u = &cat.uses[0];
        let head = |eye_y: f32| Head {
            eye_mid: Point::new(500.0, eye_y),
            inter_eye: 60.0,
            eye_to_chin: 90.0,
            eye_to_top: 110.0,
            roll_deg: 0.0,
            top_from_matte: true,
            ..Head::default()
        };
        let (roomy, cramped) = ((head(300.0), 1000, 1400), (head(300.0), 1000, 580));
        let team = Team::from_heads(&[roomy, cramped], &cat, Canvas::Extendable);
        let share = team.inter_eye_share["team-page"];
        let alone = Team::from_heads(&[roomy, roomy], &cat, Canvas::Extendable).inter_eye_share["team-page"];
        assert!(share > alone, "the cramped photo raises the team's size: {share} vs {alone}");
        for grown in [1.0, 1.04] {
            let h = Head { inter_eye: 60.0 * grown, ..cramped.0 };
            let p = plan::plan(&h, u, cramped.1, cramped.2, Canvas::Extendable, Some(share));
            assert!(p.fit != Fit::Tightened && p.fit != Fit::Shifted, "{grown}: {p:?}");
        }
    }

    /// Each member is brought to the team's light, by at most half a stop, and differences no
    /// one would see are left alone; a team that keeps its light changes nobody.
    #[test]
    fn team_light_is_capped_and_leaves_small_differences() {
        let team = Team { inter_eye_share: HashMap::new(), eye_span_per_inter_eye: 1.0, face_light: None }
            .with_light(vec![0.3, 0.4, 0.45, f32::NAN]);
        assert_eq!(team.face_light, Some(0.4));
        let stops = |own: f32| team_light(&team, Some(own)).map(|m| m.stops());
        assert!((stops(0.32).expect("a match") - (0.4f32 / 0.32).log2()).abs() < 1e-4);
        assert!((stops(0.1).expect("a match") - TEAM_LIGHT_MAX_STOPS).abs() < 1e-4);
        assert!((stops(0.9).expect("a match") + TEAM_LIGHT_MAX_STOPS).abs() < 1e-4);
        assert_eq!(stops(0.41), None);
        assert_eq!(team_light(&team, None), None);
        let kept = Team { face_light: None, ..team.clone() };
        assert_eq!(team_light(&kept, Some(0.1)), None);
    }
}
