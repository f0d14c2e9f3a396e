//! Document photos (passports, visas, ID cards): an office's rules, checked one by one.
//!
//! A document use (`UseKind::Document`, rules in `documents.toml`) is judged by a checklist
//! rather than the headshot's few judgements: each rule is measured (`checks`), compared with
//! what the office allows, and a failed rule makes the verdict `fixable` when rendering can
//! mend it (framing, the background, a tilt, uneven light) and `unsuitable` otherwise (the
//! eyes, the mouth, the pose, the gaze, a soft face, a second person). The same checks run on
//! the rendered file (`headshot::studio`), so the report says what the office will see.
//!
//! Limits the offices leave to the standard come from ISO/IEC 19794-5 (full-frontal images) and
//! ICAO Doc 9303; each constant says which.

use image::RgbImage;
use serde::{Deserialize, Serialize};

use crate::face::{Face, FaceDetails};
use crate::geometry::Rect;
use crate::judge::{self, Fix, Reason, Scene};
use crate::matte::PersonMatte;
use crate::plan::{Head, MIN_HEADROOM};
use crate::uses::{Composition, DocumentRules, Glasses, Use};

/// Head turned to the side or nodding: ISO/IEC 19794-5 full frontal allows 5 degrees of yaw and
/// of pitch from frontal.
pub const MAX_YAW_DEG: f32 = 5.0;
pub const MAX_PITCH_DEG: f32 = 5.0;
/// How far the face mesh's reading of a frontal head strays, degrees: the limits above are
/// applied to the reading with this much added, so a head the office would pass is not refused
/// for the measurement's own error. Measured on the camera-labelled faces of
/// `../shared/photos` that look frontal: yaw reads within about 3 degrees of the mirror
/// image's (the reading is averaged with it), pitch spreads about 5 degrees around its resting
/// value (it leans with the forehead's slope, see `mesh::RESTING_PITCH_DEG`).
pub const YAW_READING_ERROR_DEG: f32 = 3.0;
pub const PITCH_READING_ERROR_DEG: f32 = 5.0;
/// Tilt: ISO/IEC 19794-5 allows 8 degrees of roll; rendering straightens anything over
/// `judge::STRAIGHTEN_ABOVE_DEG`.
pub const MAX_ROLL_DEG: f32 = 8.0;
/// ISO/IEC 19794-5: the eyes' midpoint between 45 % and 55 % of the width.
pub const CENTRE_BAND: [f32; 2] = [0.45, 0.55];
/// Inner-lip gap over the eye-to-chin distance above which the mouth is open. On the faces of
/// `../shared/photos` closed mouths read 0.004-0.03 and smiles showing teeth 0.045-0.22, with
/// two in between (0.032, 0.037); the set has no mouth labels, so the limit is the round
/// number in the gap, not a calibrated one.
pub const MAX_MOUTH_OPENNESS: f32 = 0.04;
/// A background farther than this (CIE76 delta E) from every colour the office accepts is the
/// wrong colour: 10 is a difference anyone sees side by side (a light grey wall read as
/// white is 5-8, a pale blue one 15 and more).
pub const MAX_BACKGROUND_DELTA_E: f32 = 12.0;
/// The background's luminance spread (standard deviation, 0..1) above which it is not uniform:
/// ICAO asks for a uniform backdrop; a smooth studio light fall-off is 0.03-0.05.
pub const MAX_BACKGROUND_SPREAD: f32 = 0.08;
/// Background beside the head and shoulders at under this share of the luminance of the
/// backdrop away from them: a shadow cast on it (ICAO: no shadows behind the head).
pub const MIN_SHADOW_RATIO: f32 = 0.85;
/// Face pixels clipped white or crushed black: above this share, detail is lost (ISO/IEC
/// 29794-5 under- and over-exposure measures; no pass threshold is published, 5 % of the face
/// is a visible patch).
pub const MAX_CLIPPED: f32 = 0.05;
/// Bright specular pixels in the eye regions above this share: a reflection on glasses (a catch
/// light in the iris is under 1 %).
pub const MAX_GLARE: f32 = 0.02;

/// One of a document's rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Rule {
    HeadHeight,
    EyeLine,
    Centred,
    Roll,
    Yaw,
    Pitch,
    EyesOpen,
    MouthClosed,
    Gaze,
    SingleFace,
    BackgroundColour,
    BackgroundUniform,
    BackgroundShadow,
    /// A rendered file's backdrop is the office's colour everywhere outside the person: no
    /// piece of the old background left (checked on outputs).
    BackgroundClean,
    EvenLight,
    Exposure,
    Sharpness,
    InterEye,
    Resolution,
    GlassesGlare,
    /// The file's own properties (checked on the rendered output).
    PixelSize,
    Dpi,
    FileSize,
}

impl Rule {
    pub const ALL: [Rule; 23] = [
        Rule::HeadHeight,
        Rule::EyeLine,
        Rule::Centred,
        Rule::Roll,
        Rule::Yaw,
        Rule::Pitch,
        Rule::EyesOpen,
        Rule::MouthClosed,
        Rule::Gaze,
        Rule::SingleFace,
        Rule::BackgroundColour,
        Rule::BackgroundUniform,
        Rule::BackgroundShadow,
        Rule::BackgroundClean,
        Rule::EvenLight,
        Rule::Exposure,
        Rule::Sharpness,
        Rule::InterEye,
        Rule::Resolution,
        Rule::GlassesGlare,
        Rule::PixelSize,
        Rule::Dpi,
        Rule::FileSize,
    ];

    /// What a failed rule means for the verdict: the reason, and the fix a render applies (none:
    /// the photo itself must be taken again).
    pub fn failure(self) -> (Reason, Option<Fix>) {
        match self {
            Rule::HeadHeight | Rule::EyeLine | Rule::Centred => (Reason::FramingOffRule, Some(Fix::CropTighter)),
            Rule::Roll => (Reason::TiltedHead, Some(Fix::Straighten)),
            Rule::Yaw | Rule::Pitch => (Reason::HeadTurned, None),
            Rule::EyesOpen => (Reason::EyesClosed, None),
            Rule::MouthClosed => (Reason::MouthOpen, None),
            Rule::Gaze => (Reason::LookingAway, None),
            Rule::SingleFace => (Reason::MultiplePeople, None),
            Rule::BackgroundColour => (Reason::BackgroundColour, Some(Fix::ReplaceBackground)),
            Rule::BackgroundUniform => (Reason::BusyBackground, Some(Fix::ReplaceBackground)),
            Rule::BackgroundShadow => (Reason::BackgroundShadow, Some(Fix::ReplaceBackground)),
            Rule::BackgroundClean => (Reason::BusyBackground, None),
            Rule::EvenLight => (Reason::UnevenLighting, Some(Fix::EvenOutLighting)),
            Rule::Exposure => (Reason::Overexposed, None),
            Rule::Sharpness => (Reason::FaceNotSharp, None),
            Rule::InterEye | Rule::Resolution | Rule::PixelSize => (Reason::LowResolution, None),
            Rule::Dpi | Rule::FileSize => (Reason::FileOffRule, None),
            // A warning only (`Check::warning`).
            Rule::GlassesGlare => (Reason::GlassesGlare, None),
        }
    }

    /// The rule in plain words.
    pub fn words(self) -> &'static str {
        match self {
            Rule::HeadHeight => "head height (chin to crown)",
            Rule::EyeLine => "eye line from the bottom",
            Rule::Centred => "face centred",
            Rule::Roll => "head level",
            Rule::Yaw => "head facing the camera",
            Rule::Pitch => "head not nodding",
            Rule::EyesOpen => "eyes open",
            Rule::MouthClosed => "mouth closed",
            Rule::Gaze => "looking into the lens",
            Rule::SingleFace => "one person only",
            Rule::BackgroundColour => "background colour",
            Rule::BackgroundUniform => "background plain and uniform",
            Rule::BackgroundShadow => "no shadow behind the head",
            Rule::BackgroundClean => "nothing left of the old background",
            Rule::EvenLight => "even light across the face",
            Rule::Exposure => "exposure (no clipped face pixels)",
            Rule::Sharpness => "face sharp",
            Rule::InterEye => "distance between the eyes",
            Rule::Resolution => "enough pixels",
            Rule::GlassesGlare => "no glare on glasses",
            Rule::PixelSize => "pixel size",
            Rule::Dpi => "resolution written in the file",
            Rule::FileSize => "file size",
        }
    }
}

/// One rule, measured: `value` against `allowed` (in words and figures), and whether it passes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Check {
    pub rule: Rule,
    pub value: f32,
    pub allowed: String,
    pub pass: bool,
    /// Reported, but it does not change the verdict (glare on glasses where glasses are allowed).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub warning: bool,
}

impl Check {
    fn new(rule: Rule, value: f32, allowed: String, pass: bool) -> Check {
        // Values are reported to three decimals; a NaN (a measure with nothing to measure)
        // fails and is written as 0 so the report stays valid JSON.
        let v = if value.is_finite() { (value * 1000.0).round() / 1000.0 } else { 0.0 };
        Check { rule, value: v, allowed, pass: pass && value.is_finite(), warning: false }
    }

    /// "head height (chin to crown) 0.62, allowed 0.5-0.688".
    pub fn words(&self) -> String {
        format!("{} {}, allowed {}", self.rule.words(), trim(self.value), self.allowed)
    }

    /// "0.62, allowed 0.5-0.688": the figures only, where the rule is named already.
    pub fn figures(&self) -> String {
        format!("{}, allowed {}", trim(self.value), self.allowed)
    }
}

fn trim(v: f32) -> String {
    let s = format!("{v:.3}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

fn band(b: [f32; 2]) -> String {
    format!("{}-{}", trim(b[0]), trim(b[1]))
}

fn within(v: f32, b: [f32; 2]) -> bool {
    v >= b[0] && v <= b[1]
}

/// The backdrop as a document office sees it: its colour, how uniform it is, and whether a
/// shadow falls on it beside the person.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct Backdrop {
    /// Mean colour of the background pixels, sRGB 0..255.
    pub colour: [f32; 3],
    /// Standard deviation of the background's luminance, 0..1.
    pub spread: f32,
    /// Mean luminance beside the head and shoulders over that of the backdrop away from them
    /// (capped at 1): below 1, something darkens the backdrop next to the person.
    pub shadow_ratio: f32,
    /// Share of the frame that is background.
    pub share: f32,
}

/// Measures the backdrop of `img` around `face` (both at the same resolution) where `matte`
/// holds no person.
pub fn measure_backdrop(img: &RgbImage, matte: &PersonMatte, face: &Face) -> Backdrop {
    let (w, h) = img.dimensions();
    if w < 4 || h < 4 || matte.width != w || matte.height != h {
        return Backdrop { shadow_ratio: 1.0, ..Backdrop::default() };
    }
    let b = face.bbox;
    // Beside the person: within half a face width of the outline, from the crown down.
    let reach = (0.5 * b.w).max(2.0);
    let (mut sum, mut sq, mut n) = ([0f64; 3], 0f64, 0u64);
    let (mut near, mut near_n, mut far, mut far_n) = (0f64, 0u64, 0f64, 0u64);
    let step = ((w * h) / 250_000).max(1);
    for y in (0..h).step_by(step as usize) {
        // Where the person is on this row: the span of matte pixels.
        let row: Vec<bool> = (0..w).map(|x| matte.get(x, y) >= 0.5).collect();
        let first = row.iter().position(|&v| v);
        let last = row.iter().rposition(|&v| v);
        for x in (0..w).step_by(step as usize) {
            if matte.get(x, y) > 0.05 {
                continue;
            }
            let p = img.get_pixel(x, y);
            let l = crate::measure::luma(p);
            for (c, s) in sum.iter_mut().enumerate() {
                *s += f64::from(p[c]);
            }
            sq += f64::from(l * l);
            n += 1;
            let xf = x as f32;
            let beside = match (first, last) {
                (Some(f), Some(l)) => {
                    let (f, l) = (f as f32, l as f32);
                    (xf < f && f - xf <= reach) || (xf > l && xf - l <= reach)
                }
                _ => false,
            };
            if beside && y as f32 >= b.y - 0.6 * b.h {
                near += f64::from(l);
                near_n += 1;
            } else if y as f32 <= b.y - 0.6 * b.h || (first.is_none() && y as f32 <= b.y) {
                // Above the head, the backdrop the person casts nothing on.
                far += f64::from(l);
                far_n += 1;
            }
        }
    }
    if n == 0 {
        return Backdrop { shadow_ratio: 1.0, ..Backdrop::default() };
    }
    let nf = n as f64;
    let colour = [(sum[0] / nf) as f32, (sum[1] / nf) as f32, (sum[2] / nf) as f32];
    // The mean colour's luma, unrounded (the mean of the pixels' lumas).
    let mean = (0.299 * colour[0] + 0.587 * colour[1] + 0.114 * colour[2]) / 255.0;
    let spread = ((sq / nf) as f32 - mean * mean).max(0.0).sqrt();
    let shadow_ratio = if near_n < 20 || far_n < 20 {
        1.0
    } else {
        ((near / near_n as f64) / (far / far_n as f64).max(1e-3)).min(1.0) as f32
    };
    let total = u64::from(w.div_ceil(step)) * u64::from(h.div_ceil(step));
    Backdrop { colour, spread, shadow_ratio, share: n as f32 / total.max(1) as f32 }
}

/// Share of the backdrop of a rendered document photo (`img`, with the person `matte` read from
/// it) that is not the backdrop colour: pieces of the old background the cut-out kept (a flag
/// above a hat, a sign beside a shoulder). Pixels near the person's outline are left out (the
/// hair's soft edge blends into the backdrop), except above `crown_y` (the head's top, from the
/// landmarks and the matte): nothing of the person is there, so a piece the cut-out kept
/// touching the hair is found even when the matte holds it.
pub fn stray_share(img: &RgbImage, matte: &PersonMatte, colour: [u8; 3], crown_y: f32) -> f32 {
    let (w, h) = img.dimensions();
    if matte.width != w || matte.height != h || w < 8 || h < 8 {
        return 0.0;
    }
    // The person, grown by 2 % of the width: their edge and its blend are not stray.
    let grow = (w as f32 * 0.02).ceil() as usize;
    let person: Vec<f32> = matte.alpha.iter().map(|&a| if a > 0.05 { 1.0 } else { 0.0 }).collect();
    let near = crate::matte::box_mean(&person, w as usize, h as usize, grow);
    let above = crown_y - 0.01 * h as f32;
    // Over the whole backdrop, and over the band above the head alone (a small piece there is
    // what a viewer sees first, and a few per cent of the whole would hide it).
    let (mut stray, mut n, mut stray_above, mut n_above) = (0u32, 0u32, 0u32, 0u32);
    for y in 0..h {
        let over_head = (y as f32) < above;
        for x in 0..w {
            if !over_head && near[(y * w + x) as usize] > 1e-4 {
                continue;
            }
            let p = img.get_pixel(x, y);
            let off = u32::from((0..3).any(|c| p[c].abs_diff(colour[c]) > 24));
            n += 1;
            stray += off;
            if over_head {
                n_above += 1;
                stray_above += off;
            }
        }
    }
    let share = |a: u32, b: u32| if b == 0 { 0.0 } else { a as f32 / b as f32 };
    share(stray, n).max(share(stray_above, n_above))
}

/// The most of a rendered backdrop that may differ from its colour: JPEG keeps a flat colour
/// within a few levels, so any real remnant counts; 0.2 % allows a few blocks of ringing.
pub const MAX_STRAY: f32 = 0.002;

/// Share of near-white, colourless pixels in the two eye regions (a lens's reach around each
/// eye): reflections on glasses. `img` at the resolution of `d`'s eye readings.
pub fn eye_glare(img: &RgbImage, d: &FaceDetails) -> f32 {
    let Some(eyes) = d.eyes else { return 0.0 };
    let (mut bright, mut n) = (0u32, 0u32);
    for e in [eyes.right, eyes.left] {
        let width = e.viewer_left.distance(e.viewer_right).max(2.0);
        let c = e.viewer_left.midpoint(e.viewer_right);
        // A lens covers about 1.6 eye widths across and one down.
        let r = Rect::new(c.x - 0.8 * width, c.y - 0.5 * width, 1.6 * width, width)
            .clamped(img.width() as f32, img.height() as f32);
        for y in r.y as u32..r.bottom() as u32 {
            for x in r.x as u32..r.right() as u32 {
                let p = img.get_pixel(x, y);
                let (lo, hi) = (p.0.iter().min().copied().unwrap_or(0), p.0.iter().max().copied().unwrap_or(0));
                bright += u32::from(lo >= 235 && hi - lo <= 20);
                n += 1;
            }
        }
    }
    if n == 0 { 0.0 } else { bright as f32 / n as f32 }
}

/// CIE76 colour difference between two sRGB colours (0..255).
pub fn delta_e(a: [f32; 3], b: [f32; 3]) -> f32 {
    let (la, lb) = (lab(a), lab(b));
    ((la[0] - lb[0]).powi(2) + (la[1] - lb[1]).powi(2) + (la[2] - lb[2]).powi(2)).sqrt()
}

fn lab(c: [f32; 3]) -> [f32; 3] {
    let lin = |v: f32| {
        let v = (v / 255.0).clamp(0.0, 1.0);
        if v <= 0.04045 { v / 12.92 } else { ((v + 0.055) / 1.055).powf(2.4) }
    };
    let (r, g, b) = (lin(c[0]), lin(c[1]), lin(c[2]));
    // sRGB (D65) to XYZ, normalised by the white point.
    let x = (0.4124 * r + 0.3576 * g + 0.1805 * b) / 0.9505;
    let y = 0.2126 * r + 0.7152 * g + 0.0722 * b;
    let z = (0.0193 * r + 0.1192 * g + 0.9505 * b) / 1.089;
    let f = |t: f32| if t > 0.008856 { t.cbrt() } else { 7.787 * t + 16.0 / 116.0 };
    let (fx, fy, fz) = (f(x), f(y), f(z));
    [116.0 * fy - 16.0, 500.0 * (fx - fy), 200.0 * (fy - fz)]
}

/// The composition a document's rules give this head: the head at the middle of its band, the
/// eye line at the middle of its band when the head's own proportions leave the crown room
/// under the top edge and the chin above the bottom; otherwise moved within the band (and, if
/// even that is not enough, the head made smaller within its band) until they do.
pub fn compose(rules: &DocumentRules, mut comp: Composition, head: &Head) -> Composition {
    let total = head.height().max(1.0);
    let above = head.eye_to_top / total;
    let below = head.eye_to_chin / total;
    // The eye line from the top, as allowed by the band.
    let (top_lo, top_hi) = (1.0 - rules.eye_line_from_bottom[1], 1.0 - rules.eye_line_from_bottom[0]);
    let [head_lo, head_hi] = rules.head_height;
    let mut size = 0.5 * (head_lo + head_hi);
    let mut eye = comp.eye_line;
    for _ in 0..20 {
        // Crown at least `MIN_HEADROOM` under the top edge; chin a little over the bottom.
        let least = above * size + MIN_HEADROOM;
        let most = 1.0 - below * size - 0.02;
        eye = eye.clamp(top_lo, top_hi).max(least.min(top_hi)).min(most.max(top_lo));
        if (least <= top_hi && most >= top_lo) || size <= head_lo {
            break;
        }
        size = (size - 0.01).max(head_lo);
    }
    comp.head = size;
    comp.eye_line = eye;
    comp.eye_x = 0.5;
    comp
}

/// The checks of document use `u` about face `i` of `scene`, as the photo (or the rendered
/// output, when `scene` was read from it) stands. Empty without the face.
pub fn checks(scene: &Scene, i: usize, u: &Use) -> Vec<Check> {
    let (Some(rules), Some(face), Some(m)) = (&u.document, scene.faces.get(i), scene.subjects.get(i)) else {
        return Vec::new();
    };
    let (w, h) = (scene.width.max(1) as f32, scene.height.max(1) as f32);
    let head = &m.head.measured();
    let mut out = Vec::new();

    // Framing, in the frame as it stands.
    let crown = head.crown();
    let chin = head.chin();
    let head_share = (chin.y - crown.y) / h;
    out.push(Check::new(Rule::HeadHeight, head_share, band(rules.head_height), within(head_share, rules.head_height)));
    let eye_line = 1.0 - head.eye_mid.y / h;
    out.push(Check::new(
        Rule::EyeLine,
        eye_line,
        band(rules.eye_line_from_bottom),
        within(eye_line, rules.eye_line_from_bottom),
    ));
    let centre = head.eye_mid.x / w;
    out.push(Check::new(Rule::Centred, centre, band(CENTRE_BAND), within(centre, CENTRE_BAND)));

    // The face itself.
    if let Some(d) = &face.details {
        let roll = d.pose.roll_deg;
        out.push(Check::new(Rule::Roll, roll, format!("within ±{MAX_ROLL_DEG} deg"), roll.abs() <= MAX_ROLL_DEG));
        let yaw = d.pose.yaw_deg;
        let yaw_limit = MAX_YAW_DEG + YAW_READING_ERROR_DEG;
        out.push(Check::new(
            Rule::Yaw,
            yaw,
            format!("within ±{MAX_YAW_DEG} deg (±{yaw_limit} as read)"),
            yaw.abs() <= yaw_limit,
        ));
        let pitch = d.pose.pitch_deg;
        let pitch_limit = MAX_PITCH_DEG + PITCH_READING_ERROR_DEG;
        out.push(Check::new(
            Rule::Pitch,
            pitch,
            format!("within ±{MAX_PITCH_DEG} deg (±{pitch_limit} as read)"),
            pitch.abs() <= pitch_limit,
        ));
        out.push(Check::new(
            Rule::EyesOpen,
            d.eye_openness,
            format!("at least {}", judge::EYES_OPEN_MIN),
            judge::eyes_open(d),
        ));
        out.push(Check::new(
            Rule::MouthClosed,
            d.mouth_openness,
            format!("at most {MAX_MOUTH_OPENNESS}"),
            d.mouth_openness <= MAX_MOUTH_OPENNESS,
        ));
        let (gaze, allowed) = match d.gaze {
            Some(g) => (
                g.yaw_deg.abs().max(g.pitch_deg.abs()),
                format!(
                    "within ±{} deg across, ±{} deg up or down",
                    judge::MAX_GAZE_YAW_DEG,
                    judge::MAX_GAZE_PITCH_DEG
                ),
            ),
            None => {
                (d.pose.yaw_deg.abs().max(d.pose.pitch_deg.abs()), "head turned no further than the eyes allow".into())
            }
        };
        out.push(Check::new(Rule::Gaze, gaze, allowed, judge::at_camera(d)));
        out.push(Check::new(
            Rule::Sharpness,
            d.sharpness,
            format!("at least {}", judge::MIN_SHARPNESS),
            d.sharpness >= judge::MIN_SHARPNESS,
        ));
        let (warning, allowed) = match rules.glasses {
            Glasses::Allowed => (true, format!("glare at most {MAX_GLARE} of the eye regions")),
            Glasses::NotAllowed => (true, format!("glasses not allowed; glare at most {MAX_GLARE}")),
        };
        let mut glare = Check::new(Rule::GlassesGlare, m.glare, allowed, m.glare <= MAX_GLARE);
        glare.warning = warning;
        out.push(glare);
    }
    out.push(Check::new(Rule::SingleFace, scene.people as f32, "1".into(), scene.people == 1));

    // The backdrop (a photo that came with transparency has none to judge yet).
    let bd = &scene.backdrop;
    if !scene.transparent_background {
        let accepted = rules.background_colours();
        let de = accepted.iter().map(|c| delta_e(bd.colour, c.map(f32::from))).fold(f32::INFINITY, f32::min);
        out.push(Check::new(
            Rule::BackgroundColour,
            de,
            format!("delta E at most {MAX_BACKGROUND_DELTA_E} from {}", rules.backgrounds.join(" or ")),
            de <= MAX_BACKGROUND_DELTA_E,
        ));
        let uniform = bd.spread <= MAX_BACKGROUND_SPREAD && judge::is_plain(scene);
        out.push(Check::new(
            Rule::BackgroundUniform,
            bd.spread,
            format!("luminance spread at most {MAX_BACKGROUND_SPREAD}, and plain"),
            uniform,
        ));
        out.push(Check::new(
            Rule::BackgroundShadow,
            bd.shadow_ratio,
            format!("at least {MIN_SHADOW_RATIO} of the backdrop's light"),
            bd.shadow_ratio >= MIN_SHADOW_RATIO,
        ));
    }

    // Light.
    let l = &m.lighting;
    out.push(Check::new(
        Rule::EvenLight,
        l.balance.min(l.side_ratio),
        format!(
            "left/right balance at least {} and side ratio at least {}",
            judge::MIN_LIGHT_BALANCE,
            judge::MIN_SIDE_RATIO
        ),
        l.balance >= judge::MIN_LIGHT_BALANCE && l.side_ratio >= judge::MIN_SIDE_RATIO,
    ));
    let clipped = l.clipped + l.crushed;
    out.push(Check::new(
        Rule::Exposure,
        clipped,
        format!("at most {MAX_CLIPPED} of the face clipped or crushed"),
        clipped <= MAX_CLIPPED,
    ));

    // The eyes' distance in the file: what this head gives at the size the document frames it.
    let planned = compose(rules, u.composition(), head);
    let in_frame = head.inter_eye / head.height().max(1.0) * planned.head * u.height as f32;
    let here = head.inter_eye * (u.height as f32 / h);
    // Measured on an output of the document's own size, the output's own figure counts.
    let px = if scene.width == u.width && scene.height == u.height { here } else { in_frame };
    out.push(Check::new(
        Rule::InterEye,
        px,
        format!("at least {} px", rules.min_inter_eye_px),
        px >= rules.min_inter_eye_px as f32,
    ));
    out
}

/// The verdict's status, reasons and fixes from a checklist: a failed rule a render can mend
/// makes it fixable, any other failed rule unsuitable; warnings change nothing.
pub fn judge_checks(checks: &[Check]) -> (Vec<(Reason, Option<Fix>)>, bool) {
    let mut out: Vec<(Reason, Option<Fix>)> = Vec::new();
    let mut unsuitable = false;
    for c in checks.iter().filter(|c| !c.pass && !c.warning) {
        let (reason, fix) = c.rule.failure();
        unsuitable |= fix.is_none();
        if !out.iter().any(|(r, _)| *r == reason) {
            out.push((reason, fix));
        }
    }
    (out, unsuitable)
}

/// Checks of the file itself: its pixel size against the use's and the upload's limits, the DPI
/// written in it, and its size against the byte window.
pub fn file_checks(u: &Use, width: u32, height: u32, dpi: Option<u32>, bytes: u64, stray: f32) -> Vec<Check> {
    let Some(rules) = &u.document else { return Vec::new() };
    let mut out = Vec::new();
    out.push(Check::new(
        Rule::BackgroundClean,
        stray,
        format!("at most {MAX_STRAY} of the backdrop off its colour"),
        stray <= MAX_STRAY,
    ));
    let size_ok = width == u.width
        && height == u.height
        && rules.min_pixels.is_none_or(|[mw, mh]| width >= mw && height >= mh)
        && rules.max_pixels.is_none_or(|[mw, mh]| width <= mw && height <= mh);
    out.push(Check::new(
        Rule::PixelSize,
        width as f32,
        format!("{} x {} px (the file is {width} x {height})", u.width, u.height),
        size_ok,
    ));
    let d = dpi.unwrap_or(0);
    out.push(Check::new(Rule::Dpi, d as f32, format!("{} dpi", rules.dpi), d == rules.dpi));
    let lo = rules.min_bytes;
    out.push(Check::new(
        Rule::FileSize,
        bytes as f32,
        format!("{lo}-{} bytes", u.max_bytes),
        bytes >= lo && bytes <= u.max_bytes,
    ));
    out
}

/// Pixels per inch written in an encoded JPEG (JFIF APP0 density) or PNG (pHYs); `None` when the
/// file says none (or gives an aspect ratio only). Read straight from the bytes, independently
/// of the encoder that wrote them.
pub fn written_dpi(bytes: &[u8]) -> Option<u32> {
    if bytes.starts_with(&[0xFF, 0xD8]) {
        // SOI, then APP0 "JFIF\0": version (2), units (1), x density (2), y density (2).
        let app0 = bytes.get(2..4)? == [0xFF, 0xE0];
        let jfif = bytes.get(6..11)? == b"JFIF\0";
        if !(app0 && jfif) {
            return None;
        }
        let units = *bytes.get(13)?;
        let x = u32::from(u16::from_be_bytes([*bytes.get(14)?, *bytes.get(15)?]));
        return match units {
            1 => Some(x),
            2 => Some((x as f32 * 2.54).round() as u32),
            _ => None,
        };
    }
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        let mut at = 8usize;
        while at + 8 <= bytes.len() {
            let len = u32::from_be_bytes(bytes[at..at + 4].try_into().ok()?) as usize;
            let kind = &bytes[at + 4..at + 8];
            if kind == b"pHYs" {
                let data = bytes.get(at + 8..at + 8 + 9)?;
                let per_metre = u32::from_be_bytes(data[0..4].try_into().ok()?);
                return (data[8] == 1).then(|| (per_metre as f32 * 0.0254).round() as u32);
            }
            if kind == b"IDAT" {
                return None;
            }
            at = at.checked_add(12 + len)?;
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::geometry::Point;
    use crate::uses::Catalogue;

    fn head(eye_to_top: f32, eye_to_chin: f32) -> Head {
        Head { eye_mid: Point::new(500.0, 500.0), inter_eye: 60.0, eye_to_chin, eye_to_top, ..Head::default() }
    }

    #[test]
    fn every_preset_composes_a_typical_head_inside_both_bands() {
        for u in Catalogue::documents().uses {
            let rules = u.document.as_ref().expect("rules");
            for (top, chin) in [(130.0, 100.0), (160.0, 100.0), (110.0, 100.0)] {
                let h = head(top, chin);
                let c = compose(rules, u.composition(), &h);
                let eye_from_bottom = 1.0 - c.eye_line;
                assert!(within(c.head, rules.head_height), "{}: head {}", u.name, c.head);
                assert!(
                    within(eye_from_bottom + 1e-4, rules.eye_line_from_bottom)
                        || within(eye_from_bottom - 1e-4, rules.eye_line_from_bottom),
                    "{}: eyes {eye_from_bottom}",
                    u.name
                );
                // The crown under the top edge.
                let crown = c.eye_line - c.head * top / (top + chin);
                assert!(crown >= 0.0, "{} ({top}/{chin}): crown at {crown}", u.name);
            }
        }
    }

    #[test]
    fn delta_e_sees_grey_on_white_and_not_white_on_white() {
        assert!(delta_e([255.0; 3], [255.0; 3]) < 1e-3);
        assert!(delta_e([230.0; 3], [255.0; 3]) > 5.0);
        assert!(delta_e([200.0, 220.0, 245.0], [255.0; 3]) > MAX_BACKGROUND_DELTA_E);
    }

    #[test]
    fn the_written_dpi_is_read_from_jfif_and_phys() {
        let img = RgbImage::from_pixel(8, 8, image::Rgb([200, 200, 200]));
        for format in [crate::uses::Format::Jpeg, crate::uses::Format::Png] {
            let e = crate::export::encode_document(&img, format, 0, 1_000_000, 300).expect("encodes");
            assert_eq!(written_dpi(&e.bytes), Some(300), "{format:?}");
        }
        let plain = crate::export::encode(&img, crate::uses::Format::Jpeg, 1_000_000).expect("encodes");
        assert_ne!(written_dpi(&plain.bytes), Some(300));
    }
}
