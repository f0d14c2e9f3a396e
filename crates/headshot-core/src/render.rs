//! Rendering one planned output: resample the frame out of the photo, bring the person matte to
//! the output's resolution and onto the photo's edges, estimate the subject's own colours at the
//! edge (so no fringe of the old background survives), and lay the subject over the new
//! background. Everything here works at output resolution, never on the full photo.

use std::str::FromStr;

use image::{GrayImage, RgbImage};
use serde::Serialize;

use crate::geometry::{Point, Rect};
use crate::matte::{PersonMatte, block_taps, box_mean, box_means, guided_filter_between};
use crate::plan::CropPlan;
use crate::resize::resize_rgb_crop;

/// What goes behind the subject.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case", tag = "kind", content = "colour")]
pub enum Background {
    /// The photo's own background.
    Keep,
    /// One flat colour.
    Colour([u8; 3]),
    /// A studio backdrop: the colour lit from behind the head, falling off towards the edges.
    Studio([u8; 3]),
    /// The photo's own background, defocused more the further it is from the subject.
    Blur,
    /// None: the subject alone on transparency (an image with an alpha channel), its colours
    /// freed of the old background at the edge.
    Transparent,
}

/// The refined matte's soft edge, stretched: values up to `MATTE_FLOOR` become background and
/// from `MATTE_CEIL` subject. The segmentation model sees the person at about 256 px, so even
/// after guided refinement its edge ramp is several output pixels wide; left as it is, the low
/// end of that ramp lays a pale veil of the old background around the hair and the high end a
/// dent inside the subject. Measured on a studio cut-out pasted on a street and re-cut onto
/// blue (`a_pasted_subject_recut_onto_colour_has_no_halo`), this stretch lowers the edge
/// colour error from 17.0 to 12.4 levels and the mean alpha 6 px outside the outline from
/// 0.44 to 0.19, against raising mid values (`1 - (1 - a)^2`, which widened the veil).
const MATTE_FLOOR: f32 = 0.2;
const MATTE_CEIL: f32 = 0.8;

/// The final alpha of one output pixel from the refined matte (see `MATTE_FLOOR`); also makes
/// a replaced background exactly the colour asked for, with no faint veil left over it.
fn tighten(a: f32) -> f32 {
    ((a - MATTE_FLOOR) / (MATTE_CEIL - MATTE_FLOOR)).clamp(0.0, 1.0)
}

/// The default studio backdrop: a cool mid grey, the commonest choice of portrait studios.
pub const STUDIO_GREY: [u8; 3] = [112, 120, 128];

impl Background {
    /// Whether the subject is cut out (and the canvas may be extended).
    pub fn replaces(self) -> bool {
        matches!(self, Background::Colour(_) | Background::Studio(_) | Background::Transparent)
    }

    /// Whether outputs carry an alpha channel (and so need a format that has one).
    pub fn transparent(self) -> bool {
        self == Background::Transparent
    }
}

impl std::fmt::Display for Background {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let hex = |c: &[u8; 3]| format!("#{:02x}{:02x}{:02x}", c[0], c[1], c[2]);
        match self {
            Background::Keep => write!(f, "keep"),
            Background::Blur => write!(f, "blur"),
            Background::Transparent => write!(f, "transparent"),
            Background::Colour(c) => write!(f, "{}", hex(c)),
            Background::Studio(c) => write!(f, "studio:{}", hex(c)),
        }
    }
}

impl FromStr for Background {
    type Err = String;

    /// `keep`, `blur`, `transparent`, `studio`, `studio:COLOUR`, or a colour: `#rrggbb` or one of white, light
    /// grey, grey, charcoal, black, navy, blue.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim().to_ascii_lowercase();
        match s.as_str() {
            "keep" | "original" => Ok(Background::Keep),
            "blur" => Ok(Background::Blur),
            "transparent" | "none" => Ok(Background::Transparent),
            "studio" => Ok(Background::Studio(STUDIO_GREY)),
            _ => match s.strip_prefix("studio:") {
                Some(c) => parse_colour(c).map(Background::Studio),
                None => parse_colour(&s).map(Background::Colour),
            },
        }
    }
}

fn parse_colour(s: &str) -> Result<[u8; 3], String> {
    let named = match s {
        "white" => Some([255, 255, 255]),
        "light-grey" | "light-gray" => Some([220, 222, 225]),
        "grey" | "gray" => Some([128, 128, 128]),
        "charcoal" => Some([54, 57, 62]),
        "black" => Some([0, 0, 0]),
        "navy" => Some([24, 38, 66]),
        "blue" => Some([46, 92, 150]),
        _ => None,
    };
    if let Some(c) = named {
        return Ok(c);
    }
    if let Some(c) = crate::uses::hex_digits(s.strip_prefix('#').unwrap_or(s)) {
        return Ok(c);
    }
    Err(format!(
        "unknown background {s:?}: use keep, blur, studio, studio:COLOUR, #rrggbb, or a colour name \
         (white, light-grey, grey, charcoal, black, navy, blue)"
    ))
}

/// Gentle corrections the verdict asked for.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize)]
pub struct Corrections {
    /// Bring the face's exposure towards a mid tone.
    pub exposure: bool,
    /// Lift the darker side of the face towards the brighter.
    pub fill_light: bool,
    /// Take part of a colour cast of the light out (grey-edge estimate of the illuminant).
    pub white_balance: bool,
    /// Team runs: the exposure that brings this face's light to the team's (in place of
    /// `exposure`'s mid tone, so a page of people reads as one shoot).
    pub team_light: Option<LightMatch>,
}

/// An exposure change given by where it takes one level: the face's light
/// (`measure::face_light`, linear light) from `from` to `to`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct LightMatch {
    pub from: f32,
    pub to: f32,
}

impl LightMatch {
    /// The change in photographic stops (+1 = twice the light).
    pub fn stops(&self) -> f32 {
        (self.to / self.from.max(1e-6)).log2()
    }

    /// The gain at black of `correct`'s curve (`g x / (1 + (g - 1) x)`) that passes through
    /// (`from`, `to`): solved for g, `to (1 - from) / (from (1 - to))`.
    fn curve_gain(&self) -> f32 {
        let (m, t) = (self.from.clamp(1e-4, 0.999), self.to.clamp(1e-4, 0.999));
        t * (1.0 - m) / (m * (1.0 - t))
    }
}

/// The frame, matte and everything else rendering needs from the analysis.
#[derive(Debug)]
pub struct Source<'a> {
    /// The full-resolution photo.
    pub pixels: &'a RgbImage,
    /// The photo's own alpha, if it had one (then it is the matte, exactly).
    pub alpha: Option<&'a GrayImage>,
    /// The person matte over the analysis copy, and photo pixels per matte pixel.
    pub matte: &'a PersonMatte,
    pub matte_scale: f32,
    /// The subject's face box, photo pixels (for corrections and the studio light).
    pub face: Rect,
}

/// A rendered output before encoding, and the matte it was cut with (0..1 per output pixel).
/// With a transparent background `image` holds the subject's own colours (straight, not
/// multiplied by `alpha`) and `alpha` is the output's alpha channel.
#[derive(Debug, Clone)]
pub struct Rendered {
    pub image: RgbImage,
    pub alpha: Vec<f32>,
}

impl Rendered {
    /// The output as RGBA: `alpha` as its alpha channel (for transparent backgrounds).
    pub fn to_rgba(&self) -> image::RgbaImage {
        let (w, h) = self.image.dimensions();
        image::RgbaImage::from_fn(w, h, |x, y| {
            let a = self.alpha.get((y * w + x) as usize).copied().unwrap_or(1.0);
            let p = self.image.get_pixel(x, y);
            image::Rgba([p[0], p[1], p[2], to_u8(a * 255.0)])
        })
    }
}

/// Whether rendering with this background and these corrections reads the person's matte: the
/// photo's own background left untouched needs none, and neither does white balance alone (with a
/// kept background it corrects the whole frame).
pub fn needs_matte(background: Background, corrections: Corrections) -> bool {
    background != Background::Keep || corrections.exposure || corrections.fill_light || corrections.team_light.is_some()
}

/// Renders `plan` from `src` over `background`.
pub fn render(src: &Source, plan: &CropPlan, background: Background, corrections: Corrections) -> Rendered {
    let (w, h) = (plan.out_w, plan.out_h);
    let (frame, inside) = sample_frame(src.pixels, plan);
    let mut alpha = match src.alpha {
        _ if !needs_matte(background, corrections) => vec![1.0; inside.len()],
        Some(a) => sample_alpha(a, plan),
        None => {
            let coarse = sample_matte(src.matte, src.matte_scale, plan);
            // Guided refinement at output resolution: the radius spans about one matte pixel
            // scaled up, so the soft edge of the coarse matte snaps onto hair and shoulders.
            let up = plan.scale() * src.matte_scale;
            let radius = (up * 1.5).round().clamp(2.0, 16.0) as u32;
            // Only where `tighten` can still tell the refined value from 0 or 1.
            guided_filter_between(&frame, &coarse, radius, 1e-3, MATTE_FLOOR, MATTE_CEIL).alpha
        }
    };
    for (a, &i) in alpha.iter_mut().zip(&inside) {
        *a = tighten(*a) * i;
    }
    let face = face_in_output(plan, src.face);
    // The light's colour is read off the photo's own pixels, before a new backdrop joins them.
    let gains = corrections.white_balance.then(|| white_balance_gains(&frame));
    let mut image = match background {
        Background::Keep => frame,
        Background::Colour(c) => composite(&frame, &alpha, |_, _| c.map(f32::from)),
        Background::Studio(c) => {
            let centre = studio_light(face);
            composite(&frame, &alpha, |x, y| studio_backdrop(w, h, centre, c, x, y))
        }
        Background::Transparent => cut_out(&frame, &alpha),
        Background::Blur => {
            let bg = defocus(&frame, &alpha, &inside);
            composite(&frame, &alpha, |x, y| {
                let p = bg.get_pixel(x, y);
                [f32::from(p[0]), f32::from(p[1]), f32::from(p[2])]
            })
        }
    };
    if let Some(g) = gains {
        // A kept background was lit by the same light: it is corrected with the subject.
        let whole = background == Background::Keep;
        apply_gains(&mut image, &alpha, g, whole);
    }
    correct(&mut image, &alpha, face, corrections);
    Rendered { image, alpha }
}

/// Channel gains that take part of the light's colour cast out, estimated by the grey-edge
/// hypothesis (van de Weijer et al. 2007: the average edge in a scene is achromatic), which
/// unlike grey-world is not pulled by large areas of one colour (a blue shirt, a red wall).
/// Gentle by design: two thirds of the estimated cast (in log terms) is removed, each gain stays
/// within 0.86..1.16, and the gains keep luminance, so a warm sunset portrait stays warm, just
/// less orange.
pub fn white_balance_gains(img: &RgbImage) -> [f32; 3] {
    let (w, h) = img.dimensions();
    let lut = linear_table();
    let px = |x: u32, y: u32| img.get_pixel(x, y).0.map(|v| lut[usize::from(v)]);
    let mut sum = [0f64; 3];
    // Every other row and column: the estimate is a mean over millions of edges.
    for y in (0..h.saturating_sub(1)).step_by(2) {
        for x in (0..w.saturating_sub(1)).step_by(2) {
            let (p, r, d) = (px(x, y), px(x + 1, y), px(x, y + 1));
            // Clipped pixels carry no colour information.
            if p.iter().any(|&v| v > 0.95) {
                continue;
            }
            for c in 0..3 {
                let g = (r[c] - p[c]).powi(2) + (d[c] - p[c]).powi(2);
                sum[c] += f64::from(g);
            }
        }
    }
    let norm = sum.map(|s| s.sqrt() as f32);
    let grey = (norm[0] + norm[1] + norm[2]) / 3.0;
    if norm.iter().any(|&n| n < 1e-6) {
        return [1.0; 3];
    }
    let g = norm.map(|n| (grey / n).powf(2.0 / 3.0).clamp(0.86, 1.16));
    let lum = 0.2126 * g[0] + 0.7152 * g[1] + 0.0722 * g[2];
    g.map(|v| v / lum)
}

/// Multiplies linear light by per-channel gains, on the subject (weighted by the matte) or on
/// the whole frame.
fn apply_gains(image: &mut RgbImage, alpha: &[f32], g: [f32; 3], whole: bool) {
    if g.iter().all(|&v| (v - 1.0).abs() < 1e-3) {
        return;
    }
    // A table per channel: 256 entries instead of a power function per pixel.
    let tables: [[u8; 256]; 3] = [0, 1, 2].map(|c| {
        std::array::from_fn(|v| (to_srgb((to_linear(v as f32 / 255.0) * g[c]).clamp(0.0, 1.0)) * 255.0).round() as u8)
    });
    for (p, &a) in image.pixels_mut().zip(alpha) {
        let a = if whole { 1.0 } else { a };
        if a <= 0.0 {
            continue;
        }
        for c in 0..3 {
            let v = p[c];
            let t = f32::from(tables[c][usize::from(v)]);
            p[c] = (f32::from(v) + (t - f32::from(v)) * a).round() as u8;
        }
    }
}

/// The subject's face box in output pixels (axis-aligned hull of the turned box).
pub fn face_in_output(plan: &CropPlan, face: Rect) -> Rect {
    let corners = [
        Point::new(face.x, face.y),
        Point::new(face.right(), face.y),
        Point::new(face.x, face.bottom()),
        Point::new(face.right(), face.bottom()),
    ]
    .map(|p| plan.to_output(p));
    let x0 = corners.iter().map(|p| p.x).fold(f32::INFINITY, f32::min);
    let y0 = corners.iter().map(|p| p.y).fold(f32::INFINITY, f32::min);
    let x1 = corners.iter().map(|p| p.x).fold(f32::NEG_INFINITY, f32::max);
    let y1 = corners.iter().map(|p| p.y).fold(f32::NEG_INFINITY, f32::max);
    Rect::new(x0, y0, x1 - x0, y1 - y0)
}

/// Resamples the frame out of the photo. Shrinking goes through a Lanczos pass over the frame's
/// box first (no aliasing in hair and fabric), then a bilinear pass turns and places it. Also
/// returns, per output pixel, 1 inside the photo and 0 where the frame reaches past it.
pub fn sample_frame(img: &RgbImage, plan: &CropPlan) -> (RgbImage, Vec<f32>) {
    let (w, h) = (plan.out_w, plan.out_h);
    let (pw, ph) = (img.width() as f32, img.height() as f32);
    let k = plan.scale();
    let bounds = plan.bounds();
    let margin = 3.0 / k.min(1.0);
    let region = Rect::new(bounds.x - margin, bounds.y - margin, bounds.w + 2.0 * margin, bounds.h + 2.0 * margin)
        .intersect(&Rect::new(0.0, 0.0, pw, ph));
    let frame_inside = bounds.x >= 0.0 && bounds.y >= 0.0 && bounds.right() <= pw && bounds.bottom() <= ph;
    let mut inside = vec![1.0f32; w as usize * h as usize];
    if plan.angle_deg == 0.0 && frame_inside {
        // The common case: one Lanczos resample, exact.
        return (resize_rgb_crop(img, bounds, w, h), inside);
    }
    if region.w < 1.0 || region.h < 1.0 {
        return (RgbImage::new(w, h), vec![0.0; w as usize * h as usize]);
    }
    // Intermediate at about output scale when shrinking; the photo itself when enlarging.
    // (The photo is borrowed, not copied: a copy of a 24 MP photo per output cost 70 MB each.)
    let (inter, origin, kx, ky) = if k < 0.9 {
        let iw = ((region.w * k).ceil() as u32).max(1);
        let ih = ((region.h * k).ceil() as u32).max(1);
        (
            std::borrow::Cow::Owned(resize_rgb_crop(img, region, iw, ih)),
            Point::new(region.x, region.y),
            iw as f32 / region.w,
            ih as f32 / region.h,
        )
    } else {
        (std::borrow::Cow::Borrowed(img), Point::new(0.0, 0.0), 1.0, 1.0)
    };
    let map = plan.pixel_map();
    let (iw, ih) = (inter.width() as usize, inter.height() as usize);
    // Fixed point, 8 fractional bits: integer weights keep the per-pixel work to a few
    // multiply-adds (in floats, with a conversion per byte, this loop was a quarter of a run).
    // Unsigned throughout (every weight and value is non-negative): the divisions by powers of
    // two below are then shifts and masks, without a signed division's corrections.
    const ONE: u32 = 256;
    let (max_x, max_y) = (((iw - 1) as u32 * ONE) as f32, ((ih - 1) as u32 * ONE) as f32);
    let stride = iw * 3;
    let src = inter.as_raw();
    let mut out = vec![0u8; w as usize * h as usize * 3];
    let unit = ONE as f32;
    let step = Point::new(map.step_x.x * kx * unit, map.step_x.y * ky * unit);
    for (rows, columns) in tiles(w as usize, h as usize) {
        for y in rows {
            let row = map.at(0, y as u32);
            let start = Point::new(((row.x - origin.x) * kx - 0.5) * unit, ((row.y - origin.y) * ky - 0.5) * unit);
            let line = y * w as usize;
            for x in columns.clone() {
                let xf = x as f32;
                // A turned frame inside the photo needs no check of each pixel.
                if !frame_inside {
                    let (px, py) = (row.x + xf * map.step_x.x, row.y + xf * map.step_x.y);
                    if px < 0.0 || py < 0.0 || px > pw || py > ph {
                        inside[line + x] = 0.0;
                    }
                }
                // The edge pixels repeat outside the image; clamped to be non-negative, the
                // conversion truncates to the floor.
                let sx = (start.x + xf * step.x).clamp(0.0, max_x) as u32;
                let sy = (start.y + xf * step.y).clamp(0.0, max_y) as u32;
                let (x0, y0) = ((sx / ONE) as usize, (sy / ONE) as usize);
                let (fx, fy) = (sx % ONE, sy % ONE);
                let i00 = y0 * stride + x0 * 3;
                let i01 = if x0 + 1 < iw { i00 + 3 } else { i00 };
                let (i10, i11) = if y0 + 1 < ih { (i00 + stride, i01 + stride) } else { (i00, i01) };
                let weights = [(ONE - fx) * (ONE - fy), fx * (ONE - fy), (ONE - fx) * fy, fx * fy];
                let (p00, p01, p10, p11) =
                    (&src[i00..i00 + 3], &src[i01..i01 + 3], &src[i10..i10 + 3], &src[i11..i11 + 3]);
                let o = &mut out[(line + x) * 3..(line + x) * 3 + 3];
                for c in 0..3 {
                    let v = u32::from(p00[c]) * weights[0]
                        + u32::from(p01[c]) * weights[1]
                        + u32::from(p10[c]) * weights[2]
                        + u32::from(p11[c]) * weights[3];
                    o[c] = ((v + ONE * ONE / 2) / (ONE * ONE)) as u8;
                }
            }
        }
    }
    let out = RgbImage::from_raw(w, h, out).unwrap_or_else(|| RgbImage::new(w, h));
    (out, inside)
}

/// A `w` x `h` frame in tiles 256 wide and 32 tall, as (rows, columns), for the loops that
/// resample a turned frame: its output rows run diagonally through the source's rows, and a tile
/// keeps the source it reads in cache (best of 7 runs over 20 MP of turned outputs: 0.51 s tiled,
/// 0.62 s row by row).
fn tiles(w: usize, h: usize) -> impl Iterator<Item = (std::ops::Range<usize>, std::ops::Range<usize>)> {
    const TILE_W: usize = 256;
    const TILE_H: usize = 32;
    (0..h)
        .step_by(TILE_H)
        .flat_map(move |y| (0..w).step_by(TILE_W).map(move |x| (y..(y + TILE_H).min(h), x..(x + TILE_W).min(w))))
}

/// A channel value rounded to the nearest level and held in 0..=255. Adding a half and
/// truncating is rounding for the non-negative values that remain after the clamp, without the
/// libm call `f32::round` compiles to on baseline x86-64 (it was 6 % of a studio run).
#[inline]
pub(crate) fn to_u8(v: f32) -> u8 {
    (v.clamp(0.0, 255.0) + 0.5) as u8
}

/// The coarse matte resampled into the output frame (bilinear; 0 outside the matte).
pub fn sample_matte(matte: &PersonMatte, matte_scale: f32, plan: &CropPlan) -> PersonMatte {
    let (w, h) = (plan.out_w, plan.out_h);
    let mut out = PersonMatte::new(w, h);
    let (mw, mh) = (matte.width as i64, matte.height as i64);
    let get = |x: i64, y: i64| if x < 0 || y < 0 || x >= mw || y >= mh { 0.0 } else { matte.get(x as u32, y as u32) };
    let map = plan.pixel_map();
    // In matte pixels: where each row starts, and the step from one output pixel to the next
    // (multiplications by one reciprocal, not two divisions a pixel).
    let to_matte = 1.0 / matte_scale;
    let step = Point::new(map.step_x.x * to_matte, map.step_x.y * to_matte);
    let wu = w as usize;
    for (rows, columns) in tiles(wu, h as usize) {
        for y in rows {
            let start = map.at(0, y as u32);
            let start = Point::new(start.x * to_matte - 0.5, start.y * to_matte - 0.5);
            let row = &mut out.alpha[y * wu + columns.start..y * wu + columns.end];
            for (x, a) in columns.clone().zip(row.iter_mut()) {
                let xf = x as f32;
                let (mx, my) = (start.x + xf * step.x, start.y + xf * step.y);
                let (xi, yi) = (floor(mx), floor(my));
                let (fx, fy) = (mx - xi as f32, my - yi as f32);
                // The four taps read once each, straight from the rows when all lie inside (nearly
                // every pixel), not by six checked reads: two 12 MP photos' 32 outputs on one core
                // spent 320 ms here instead of 394.
                let [tl, tr, bl, br] = if xi >= 0 && yi >= 0 && xi + 1 < mw && yi + 1 < mh {
                    let i = (yi * mw + xi) as usize;
                    let (upper, lower) = (&matte.alpha[i..i + 2], &matte.alpha[i + mw as usize..i + mw as usize + 2]);
                    [upper[0], upper[1], lower[0], lower[1]]
                } else {
                    [get(xi, yi), get(xi + 1, yi), get(xi, yi + 1), get(xi + 1, yi + 1)]
                };
                let top = tl + (tr - tl) * fx;
                let bot = bl + (br - bl) * fx;
                *a = top + (bot - top) * fy;
            }
        }
    }
    out
}

/// The integer at or below `v`: truncation corrected for negatives, with no libm call (on
/// baseline x86-64 `f32::floor` is one, per pixel here).
#[inline]
fn floor(v: f32) -> i64 {
    let t = v as i64;
    if (t as f32) > v { t - 1 } else { t }
}

/// The photo's own alpha resampled into the frame (nearest neighbour is enough: it is exact).
fn sample_alpha(alpha: &GrayImage, plan: &CropPlan) -> Vec<f32> {
    let (w, h) = (plan.out_w, plan.out_h);
    let (aw, ah) = (alpha.width() as f32, alpha.height() as f32);
    let mut out = vec![0f32; w as usize * h as usize];
    let map = plan.pixel_map();
    for y in 0..h {
        for x in 0..w {
            let p = map.at(x, y);
            if p.x >= 0.0 && p.y >= 0.0 && p.x < aw && p.y < ah {
                out[(y * w + x) as usize] = f32::from(alpha.get_pixel(p.x as u32, p.y as u32)[0]) / 255.0;
            }
        }
    }
    out
}

/// The subject's own colours, where the matte is soft: "blur fusion" (Forte & Pitie, 2021), run
/// twice, coarse then fine. At an edge pixel the photo is a mix `a F + (1 - a) B`; local means of
/// the surely-subject and surely-background colours give F and B, and F is corrected so the mix
/// reproduces the photo. Without it a replaced background keeps a rim of the old one.
///
/// Only the soft edge needs it: where the matte is 1 the estimate is the photo's own colour
/// exactly, and where it is 0 the subject is not drawn. So the coarse pass, whose window spans
/// tens of pixels, reads its local means from a copy reduced to a window of about six pixels,
/// and the fine pass (a 7x7 window) runs only on the edge pixels: on a 2400x1600 output that is
/// a few per cent of the frame instead of fourteen full-frame box filters.
pub fn estimate_foreground(img: &RgbImage, alpha: &[f32]) -> Vec<[f32; 3]> {
    let mut out: Vec<[f32; 3]> = img.pixels().map(|p| p.0.map(|v| f32::from(v) / 255.0)).collect();
    for (q, f) in edge_foreground(img, alpha) {
        out[q] = f;
    }
    out
}

/// `estimate_foreground` where it differs from the photo: the soft edge pixels only, as
/// (pixel index, colour 0..1), in index order.
fn edge_foreground(img: &RgbImage, alpha: &[f32]) -> Vec<(usize, [f32; 3])> {
    let (w, h) = (img.width() as usize, img.height() as usize);
    let raw = img.as_raw();
    let px = |q: usize| -> [f32; 3] { std::array::from_fn(|c| f32::from(raw[q * 3 + c]) / 255.0) };
    let edge = |a: f32| a > 0.0 && a < 1.0;
    if w == 0 || alpha.len() < w * h || !alpha.iter().any(|&a| edge(a)) {
        return Vec::new();
    }
    let short = w.min(h);
    let coarse = (short / 12).clamp(4, 45);
    // Coarse pass: local means of a*I, (1-a)*I and a, on a copy `k` times smaller.
    let k = (coarse / 6).max(1);
    let (sw, sh) = (w.div_ceil(k), h.div_ceil(k));
    // Summed in 0..255 units and scaled once per cell, the cells of a row found by walking it
    // in steps of `k` pixels: no division per pixel (there were five, two of them integer).
    let mut sums = vec![[0f32; 8]; sw * sh];
    for (y, (row, alphas)) in raw.chunks_exact(3 * w).zip(alpha.chunks_exact(w)).take(h).enumerate() {
        let cells = &mut sums[(y / k) * sw..(y / k + 1) * sw];
        for ((s, pixels), alphas) in cells.iter_mut().zip(row.chunks(3 * k)).zip(alphas.chunks(k)) {
            for (p, &a) in pixels.chunks_exact(3).zip(alphas) {
                for c in 0..3 {
                    let v = f32::from(p[c]);
                    s[c] += a * v;
                    s[3 + c] += v - a * v;
                }
                s[6] += a;
            }
            s[7] += alphas.len() as f32;
        }
    }
    let planes: Vec<[f32; 7]> = sums
        .iter()
        .map(|s| {
            let n = s[7].max(1.0);
            std::array::from_fn(|j| if j < 6 { s[j] / (255.0 * n) } else { s[j] / n })
        })
        .collect();
    let r = ((coarse as f32 / k as f32).round() as usize).max(1);
    let m = box_means(&planes, sw, sh, r);
    let small_f: Vec<[f32; 3]> = m.iter().map(|m| std::array::from_fn(|c| m[c] / (m[6] + 1e-5))).collect();
    let small_b: Vec<[f32; 3]> = m.iter().map(|m| std::array::from_fn(|c| m[3 + c] / (1.0 - m[6] + 1e-5))).collect();
    // Back at full size, only in the band the fine pass reads (edge pixels and R around them):
    // B, and F corrected to reproduce the photo.
    const R: usize = 3;
    let edges: Vec<bool> = alpha[..w * h].iter().map(|&a| edge(a)).collect();
    let band = dilate(&edges, w, h, R);
    // B and F are needed only R rows either side of the row the fine pass is on: they are kept
    // for 2R + 1 rows at a time, row y in slot y mod 2R + 1 (full-frame buffers of them were
    // 86 MB each on a 7 MP frame).
    let rows = 2 * R + 1;
    let mut b = vec![[0f32; 3]; w * rows];
    let mut f = vec![[0f32; 3]; w * rows];
    let xs: Vec<(usize, usize, f32)> = (0..w).map(|x| block_taps(x, k, sw)).collect();
    // Row y of B and F into `b` and `f` (one row each), in the band only: nothing else is read.
    let fill_row = |y: usize, b: &mut [[f32; 3]], f: &mut [[f32; 3]]| {
        let (y0, y1, ty) = block_taps(y, k, sh);
        for (x, &(x0, x1, tx)) in xs.iter().enumerate() {
            let q = y * w + x;
            if !band[q] {
                continue;
            }
            let up = |small: &[[f32; 3]]| -> [f32; 3] {
                let (p00, p01, p10, p11) =
                    (small[y0 * sw + x0], small[y0 * sw + x1], small[y1 * sw + x0], small[y1 * sw + x1]);
                std::array::from_fn(|c| {
                    let top = p00[c] + (p01[c] - p00[c]) * tx;
                    let bottom = p10[c] + (p11[c] - p10[c]) * tx;
                    top + (bottom - top) * ty
                })
            };
            let (a, i) = (alpha[q], px(q));
            b[x] = up(&small_b);
            f[x] = if edge(a) {
                let fb = up(&small_f);
                std::array::from_fn(|c| (fb[c] + a * (i[c] - a * fb[c] - (1.0 - a) * b[x][c])).clamp(0.0, 1.0))
            } else {
                i
            };
        }
    };
    let mut out = Vec::new();
    for next in 0..h + R {
        if next < h {
            let slot = (next % rows) * w;
            fill_row(next, &mut b[slot..slot + w], &mut f[slot..slot + w]);
        }
        // Fine pass, edge pixels only, 7x7 window, on the row whose window is now complete.
        let Some(y) = next.checked_sub(R) else { continue };
        for x in 0..w {
            let q = y * w + x;
            let a = alpha[q];
            if !edge(a) {
                continue;
            }
            let (mut sa, mut sf, mut sb, mut n) = (0f32, [0f32; 3], [0f32; 3], 0f32);
            for yy in y.saturating_sub(R)..(y + R + 1).min(h) {
                for xx in x.saturating_sub(R)..(x + R + 1).min(w) {
                    let (j, s) = (yy * w + xx, (yy % rows) * w + xx);
                    let aj = alpha[j];
                    sa += aj;
                    for c in 0..3 {
                        sf[c] += f[s][c] * aj;
                        sb[c] += b[s][c] * (1.0 - aj);
                    }
                    n += 1.0;
                }
            }
            let ma = sa / n;
            let i = px(q);
            out.push((
                q,
                std::array::from_fn(|c| {
                    let fm = sf[c] / n / (ma + 1e-5);
                    let bm = sb[c] / n / (1.0 - ma + 1e-5);
                    (fm + a * (i[c] - a * fm - (1.0 - a) * bm)).clamp(0.0, 1.0)
                }),
            ));
        }
    }
    out
}

/// The pixels within `r` (rows and columns apart, the square window clipped at the borders) of a
/// set pixel of `mask`: a byte per pixel, where a box filter of f32s took 4 bytes per pixel
/// twice over (58 MB on a 7 MP frame, for a yes or no). On an output's matte the set pixels
/// (the soft edge) lie in a band through a small part of the rows, so rows with none are
/// passed over: along each row only where it has one, and down the columns only where one of
/// the rows within `r` has.
fn dilate(mask: &[bool], w: usize, h: usize, r: usize) -> Vec<bool> {
    if w == 0 || h == 0 || mask.len() < w * h {
        return vec![false; w * h];
    }
    // One step of a sweep: the steps since the last set pixel, and whether that is within r.
    let near = |since: &mut usize, set: bool| {
        *since = if set { 0 } else { since.saturating_add(1) };
        *since <= r
    };
    // Along each row that has a set pixel, forwards then backwards.
    let mut across = vec![false; w * h];
    let mut any = vec![false; h];
    for ((row, out), any) in mask.chunks_exact(w).zip(across.chunks_exact_mut(w)).zip(&mut any) {
        *any = row.contains(&true);
        if !*any {
            continue;
        }
        let mut since = usize::MAX;
        out.iter_mut().zip(row).for_each(|(o, &m)| *o = near(&mut since, m));
        let mut since = usize::MAX;
        out.iter_mut().zip(row).rev().for_each(|(o, &m)| *o |= near(&mut since, m));
    }
    // Down the columns: each row is the union of the rows within r of it that have any.
    let mut out = vec![false; w * h];
    for (y, o) in out.chunks_exact_mut(w).enumerate() {
        for yy in y.saturating_sub(r)..(y + r + 1).min(h) {
            if any[yy] {
                o.iter_mut().zip(&across[yy * w..(yy + 1) * w]).for_each(|(o, &a)| *o |= a);
            }
        }
    }
    out
}

/// Lays the subject (its estimated foreground colours) over a background given per pixel.
fn composite(frame: &RgbImage, alpha: &[f32], bg: impl Fn(u32, u32) -> [f32; 3]) -> RgbImage {
    let mut edge = edge_foreground(frame, alpha).into_iter().peekable();
    let (w, h) = frame.dimensions();
    let src = frame.as_raw();
    let mut out = vec![0u8; src.len()];
    for y in 0..h {
        for x in 0..w {
            let k = (y * w + x) as usize;
            let a = alpha[k];
            let o = &mut out[k * 3..k * 3 + 3];
            if a >= 1.0 {
                // The subject itself: the photo's own colours, as they are.
                o.copy_from_slice(&src[k * 3..k * 3 + 3]);
                continue;
            }
            let b = bg(x, y);
            if a <= 0.0 {
                for c in 0..3 {
                    o[c] = to_u8(b[c]);
                }
                continue;
            }
            // A soft edge pixel: its estimated foreground (the list is in pixel order).
            let fg = match edge.next_if(|&(q, _)| q <= k) {
                Some((q, f)) if q == k => f,
                _ => std::array::from_fn(|c| f32::from(src[k * 3 + c]) / 255.0),
            };
            for c in 0..3 {
                o[c] = to_u8(fg[c] * 255.0 * a + b[c] * (1.0 - a));
            }
        }
    }
    RgbImage::from_raw(w, h, out).unwrap_or_else(|| RgbImage::new(w, h))
}

/// The subject's own colours, for an image whose alpha channel is `alpha`: the photo where the
/// subject is solid, the estimated foreground where the edge is soft (so no rim of the old
/// background shows on whatever the cut-out is later laid over), black where nothing is.
fn cut_out(frame: &RgbImage, alpha: &[f32]) -> RgbImage {
    let mut out = frame.clone();
    let w = frame.width() as usize;
    for (q, f) in edge_foreground(frame, alpha) {
        out.put_pixel((q % w) as u32, (q / w) as u32, image::Rgb(f.map(|v| to_u8(v * 255.0))));
    }
    for (p, &a) in out.pixels_mut().zip(alpha) {
        if a <= 0.0 {
            *p = image::Rgb([0, 0, 0]);
        }
    }
    out
}

/// Where the studio backdrop is brightest: behind the head, a little above the face's centre.
pub fn studio_light(face_in_output: Rect) -> Point {
    Point::new(face_in_output.center().x, face_in_output.y + face_in_output.h * 0.3)
}

/// The studio backdrop at output pixel (x, y): `base` brightened behind the head (`centre`) and
/// darkened towards the far corners, like a painted backdrop lit by one light. A tiny ordered
/// dither keeps the gradient from banding in 8 bits.
pub fn studio_backdrop(w: u32, h: u32, centre: Point, base: [u8; 3], x: u32, y: u32) -> [f32; 3] {
    let reach = (w.max(h) as f32) * 0.85;
    let d = ((x as f32 + 0.5 - centre.x).powi(2) + (y as f32 + 0.5 - centre.y).powi(2)).sqrt() / reach;
    let t = d.clamp(0.0, 1.0);
    let smooth = t * t * (3.0 - 2.0 * t);
    let gain = 1.22 - 0.47 * smooth;
    const BAYER: [[f32; 4]; 4] =
        [[0.0, 8.0, 2.0, 10.0], [12.0, 4.0, 14.0, 6.0], [3.0, 11.0, 1.0, 9.0], [15.0, 7.0, 13.0, 5.0]];
    let dither = BAYER[(y % 4) as usize][(x % 4) as usize] / 16.0 - 0.47;
    base.map(|c| (f32::from(c) * gain + dither).clamp(0.0, 255.0))
}

/// The photo's background, defocused: the subject is left out of the average (no glow of the
/// subject around it), and the blur grows with the distance from the subject, like depth of
/// field behind a person.
fn defocus(frame: &RgbImage, alpha: &[f32], inside: &[f32]) -> RgbImage {
    let (w, h) = (frame.width() as usize, frame.height() as usize);
    let short = w.min(h);
    let weight: Vec<f32> = alpha.iter().zip(inside).map(|(a, i)| (1.0 - a).clamp(0.0, 1.0) * i + 1e-4).collect();
    let blur = |r: usize| -> Vec<[f32; 3]> {
        // The weighted colour and the weight, interleaved, so each pass is one sweep.
        let mut planes: Vec<[f32; 4]> = frame
            .pixels()
            .zip(&weight)
            .map(|(p, &wt)| [f32::from(p[0]) * wt, f32::from(p[1]) * wt, f32::from(p[2]) * wt, wt])
            .collect();
        // Three box passes approximate a Gaussian.
        for _ in 0..3 {
            planes = box_means(&planes, w, h, r);
        }
        planes.iter().map(|m| std::array::from_fn(|c| m[c] / m[3].max(1e-6))).collect()
    };
    let near = blur((short / 120).max(1));
    let far = blur((short / 30).max(2));
    let closeness = box_mean(alpha, w, h, (short / 8).max(2));
    RgbImage::from_fn(w as u32, h as u32, |x, y| {
        let k = y as usize * w + x as usize;
        let t = (1.0 - 3.0 * closeness[k]).clamp(0.0, 1.0);
        image::Rgb(std::array::from_fn(|c| to_u8(near[k][c] + (far[k][c] - near[k][c]) * t)))
    })
}

/// Linear light (0..1) of each 8-bit sRGB value.
pub(crate) fn linear_table() -> [f32; 256] {
    std::array::from_fn(|v| to_linear(v as f32 / 255.0))
}

/// sRGB (0..1) <-> linear light.
pub(crate) fn to_linear(v: f32) -> f32 {
    if v <= 0.04045 { v / 12.92 } else { ((v + 0.055) / 1.055).powf(2.4) }
}
fn to_srgb(v: f32) -> f32 {
    if v <= 0.003_130_8 { v * 12.92 } else { 1.055 * v.powf(1.0 / 2.4) - 0.055 }
}

/// Exposure and fill light on the subject only, in linear light, through a curve that lifts
/// shadows and mid-tones but cannot clip highlights (`g x / (1 + (g - 1) x)`: slope g at black,
/// 1 at white). Gains are capped: the aim is a photo that looks well lit, not retouched.
fn correct(image: &mut RgbImage, alpha: &[f32], face: Rect, c: Corrections) {
    if !c.exposure && !c.fill_light && c.team_light.is_none() {
        return;
    }
    let (w, h) = image.dimensions();
    let lum = |p: &image::Rgb<u8>| {
        to_linear((0.2126 * f32::from(p[0]) + 0.7152 * f32::from(p[1]) + 0.0722 * f32::from(p[2])) / 255.0)
    };
    let fx0 = face.x.max(0.0) as u32;
    let fy0 = face.y.max(0.0) as u32;
    let fx1 = (face.right().max(0.0) as u32).min(w);
    let fy1 = (face.bottom().max(0.0) as u32).min(h);
    if fx1 <= fx0 + 1 || fy1 <= fy0 + 1 {
        return;
    }
    let mid = (fx0 + fx1) / 2;
    let fw = (fx1 - fx0) as f32;
    // How far across the face (0 at its left edge, 1 at its right), held beyond it.
    let across = |x: u32| ((x as f32 - fx0 as f32) / fw).clamp(0.0, 1.0);
    // One pass over the face: each half's light, and the light weighted by how far across it is
    // (what the fill's lift over the face is made of, below).
    let (mut sum, mut n, mut rightwards) = ([0f32; 2], [0f32; 2], 0f32);
    for y in fy0..fy1 {
        for x in fx0..fx1 {
            let (l, half) = (lum(image.get_pixel(x, y)), usize::from(x >= mid));
            sum[half] += l;
            n[half] += 1.0;
            rightwards += l * across(x);
        }
    }
    let (left, right) = (sum[0] / n[0].max(1.0), sum[1] / n[1].max(1.0));
    let face_mean = (left + right) / 2.0;
    let (dark, bright) = if left < right { (left, right) } else { (right, left) };
    let fill = if c.fill_light && dark > 1e-3 { (bright / dark).sqrt().clamp(1.0, 1.5) } else { 1.0 };
    let dark_is_left = left < right;
    // Fill ramps from none at the bright side of the face to full at the dark side, and is held
    // beyond the face so shoulders follow.
    let fill_at = |x: u32| 1.0 + (fill - 1.0) * if dark_is_left { 1.0 - across(x) } else { across(x) };
    let exposure = match c.team_light {
        // The team's level is for the face as it comes out, so the exposure leaves to the fill
        // what it lifts: its gain over the face weighted by the light there (it lifts a shaded
        // side, which adds little to a side-lit face's light).
        Some(m) if fill > 1.0 => {
            let lit = sum[0] + sum[1];
            let towards_dark = if dark_is_left { lit - rightwards } else { rightwards };
            let filled = lit + (fill - 1.0) * towards_dark;
            LightMatch { to: m.to * lit / filled.max(1e-6), ..m }.curve_gain()
        }
        Some(m) => m.curve_gain(),
        // A well exposed face averages about 0.2 in linear light (0.48 in sRGB).
        None if c.exposure => (0.2 / face_mean.max(1e-3)).clamp(0.8, 1.6),
        None => 1.0,
    };
    // Bytes to linear light and back by table: two powf a channel had been a fifth of a team
    // run's time (every settling round renders).
    let (linear, bounds) = (linear_table(), byte_bounds());
    for y in 0..h {
        for x in 0..w {
            let a = alpha[(y * w + x) as usize];
            if a <= 0.0 {
                continue;
            }
            let g = exposure * fill_at(x);
            let g = 1.0 + (g - 1.0) * a;
            let p = image.get_pixel_mut(x, y);
            for v in p.0.iter_mut() {
                let l = linear[usize::from(*v)];
                *v = nearest_byte(g * l / (1.0 + (g - 1.0) * l), &bounds);
            }
        }
    }
}

/// Where each 8-bit sRGB value ends in linear light: half way to the next value, in sRGB.
fn byte_bounds() -> [f32; 255] {
    std::array::from_fn(|k| to_linear((k as f32 + 0.5) / 255.0))
}

/// The 8-bit sRGB value nearest linear light `v` (clamped to 0..1), `bounds` from
/// `byte_bounds`: what rounding `to_srgb(v) * 255` gives, by a search of 255 sorted values
/// instead of a powf.
fn nearest_byte(v: f32, bounds: &[f32; 255]) -> u8 {
    bounds.partition_point(|&b| b <= v) as u8
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The table search gives what rounding the sRGB curve gives, over the whole range of
    /// linear light and beyond it at both ends.
    #[test]
    fn nearest_byte_is_the_rounded_srgb_value() {
        let bounds = byte_bounds();
        let mut differ = 0;
        for k in -100..=110_000 {
            let v = k as f32 / 100_000.0;
            let want = (to_srgb(v.clamp(0.0, 1.0)) * 255.0).round() as u8;
            let got = nearest_byte(v, &bounds);
            assert!(got.abs_diff(want) <= 1, "{v}: {got} against {want}");
            differ += usize::from(got != want);
        }
        // Only where the curve lands within a rounding error of a half.
        assert!(differ <= 2, "{differ} values differ");
        for b in 0..=255u8 {
            assert_eq!(nearest_byte(to_linear(f32::from(b) / 255.0), &bounds), b);
        }
    }

    #[test]
    fn dilation_reaches_exactly_r_pixels_each_way_in_a_square() {
        let (w, h, r) = (23usize, 17usize, 3usize);
        // A scatter of set pixels, some at the borders.
        let mask: Vec<bool> = (0..w * h).map(|k| (k * 7919) % 61 == 0 || k == 0 || k == w * h - 1).collect();
        let got = dilate(&mask, w, h, r);
        for y in 0..h {
            for x in 0..w {
                let near = (y.saturating_sub(r)..(y + r + 1).min(h))
                    .any(|yy| (x.saturating_sub(r)..(x + r + 1).min(w)).any(|xx| mask[yy * w + xx]));
                assert_eq!(got[y * w + x], near, "({x}, {y})");
            }
        }
    }

    /// A neutral textured scene under a warm light: the gains take part of the cast out, and a
    /// neutral scene is left alone.
    #[test]
    fn white_balance_takes_part_of_a_cast_out_and_leaves_neutral_light_alone() {
        let mut seed = 7u32;
        let mut rnd = || {
            seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12345);
            (seed >> 16) as f32 / 65536.0
        };
        let neutral: Vec<f32> = (0..200 * 200).map(|_| 0.05 + 0.6 * rnd()).collect();
        let make = |cast: [f32; 3]| {
            RgbImage::from_fn(200, 200, |x, y| {
                let v = neutral[(y * 200 + x) as usize];
                image::Rgb(cast.map(|c| (to_srgb((v * c).min(1.0)) * 255.0).round() as u8))
            })
        };
        let g = white_balance_gains(&make([1.0, 1.0, 1.0]));
        assert!(g.iter().all(|&v| (v - 1.0).abs() < 0.02), "{g:?}");
        let mut warm = make([1.2, 1.0, 0.8]);
        let g = white_balance_gains(&warm);
        assert!(g[0] < 0.97 && g[2] > 1.05, "{g:?}");
        let alpha = vec![1.0; 200 * 200];
        apply_gains(&mut warm, &alpha, g, false);
        let mean = |c: usize| warm.pixels().map(|p| f64::from(to_linear(f32::from(p[c]) / 255.0))).sum::<f64>();
        let ratio = mean(0) / mean(2);
        // 1.5 before; two thirds of the cast out in log terms leaves about 1.14.
        assert!(ratio > 1.05 && ratio < 1.25, "red/blue after correction {ratio}");
    }

    #[test]
    fn backgrounds_parse_and_print() {
        assert_eq!("keep".parse::<Background>(), Ok(Background::Keep));
        assert_eq!("#FF8000".parse::<Background>(), Ok(Background::Colour([255, 128, 0])));
        assert_eq!("studio".parse::<Background>(), Ok(Background::Studio(STUDIO_GREY)));
        assert_eq!("studio:navy".parse::<Background>(), Ok(Background::Studio([24, 38, 66])));
        assert!("#12345".parse::<Background>().is_err());
        assert_eq!(Background::Colour([255, 128, 0]).to_string(), "#ff8000");
    }

    #[test]
    fn foreground_estimation_removes_the_old_background_from_a_soft_edge() {
        // A red subject on the left half over green; a 10 px linear ramp of alpha between them.
        // Also at sizes the coarse pass's cells do not divide (its last cells are cut short).
        for (w, h) in [(200u32, 200u32), (203, 157), (241, 509)] {
            let alpha: Vec<f32> = (0..w * h).map(|k| (1.0 - ((k % w) as f32 - 95.0) / 10.0).clamp(0.0, 1.0)).collect();
            let img = RgbImage::from_fn(w, h, |x, y| {
                let a = alpha[(y * w + x) as usize];
                image::Rgb([(255.0 * a).round() as u8, (255.0 * (1.0 - a)).round() as u8, 0])
            });
            let fg = estimate_foreground(&img, &alpha);
            for y in [0, h / 2, h - 1] {
                for x in 96..104 {
                    let k = (y * w + x) as usize;
                    // The green that would survive into a composite (a * F) must be all but gone,
                    // and the subject's red kept (cutting with the photo's own colours leaves up
                    // to 0.21 here).
                    let (a, f) = (alpha[k], fg[k]);
                    assert!(a * f[1] < 0.05 && f[0] > 0.85, "{w}x{h} ({x}, {y}): alpha {a} -> {f:?}");
                }
            }
        }
    }

    /// A frame of `size` photo pixels about `centre`, turned by `angle` degrees, shown at `out`.
    fn turned(centre: Point, angle: f32, size: (f32, f32), out: (u32, u32)) -> CropPlan {
        CropPlan {
            center: centre,
            width: size.0,
            height: size.1,
            angle_deg: angle,
            out_w: out.0,
            out_h: out.1,
            fit: crate::plan::Fit::AsPlanned,
            eye_line_target: 0.4,
            eye_line: 0.4,
            asked_height: size.1,
        }
    }

    /// Bilinear at `p` (pixel centres at half-integers) in a `w` x `h` grid read by `at`, zero
    /// outside: the textbook form, point by point, to check the per-pixel loops against.
    fn bilinear(p: Point, w: u32, h: u32, at: impl Fn(u32, u32) -> f32) -> f32 {
        let (x, y) = (p.x - 0.5, p.y - 0.5);
        let (x0, y0) = (x.floor(), y.floor());
        let get = |xx: f32, yy: f32| {
            if xx < 0.0 || yy < 0.0 || xx >= w as f32 || yy >= h as f32 { 0.0 } else { at(xx as u32, yy as u32) }
        };
        let (fx, fy) = (x - x0, y - y0);
        let top = get(x0, y0) * (1.0 - fx) + get(x0 + 1.0, y0) * fx;
        let bottom = get(x0, y0 + 1.0) * (1.0 - fx) + get(x0 + 1.0, y0 + 1.0) * fx;
        top * (1.0 - fy) + bottom * fy
    }

    /// A turned frame larger than a tile, reaching past the matte on one side: every output
    /// pixel of the sampled matte is the matte where `CropPlan::to_photo` puts that pixel's
    /// centre (an independent path: the loops step along the rows), zero past the matte.
    #[test]
    fn the_matte_is_sampled_where_the_plan_puts_each_output_pixel() {
        let (mw, mh) = (150u32, 120u32);
        let mut matte = PersonMatte::new(mw, mh);
        for (k, a) in matte.alpha.iter_mut().enumerate() {
            let (x, y) = ((k as u32 % mw) as f32, (k as u32 / mw) as f32);
            *a = 0.5 + 0.5 * (x * 0.13).sin() * (y * 0.07).cos();
        }
        let scale = 2.5;
        for (angle, centre) in [(7.0, Point::new(180.0, 150.0)), (-4.0, Point::new(340.0, 120.0))] {
            let plan = turned(centre, angle, (300.0, 240.0), (301, 77));
            let got = sample_matte(&matte, scale, &plan);
            let mut outside = 0;
            for y in 0..plan.out_h {
                for x in 0..plan.out_w {
                    let p = plan.to_photo(x as f32 + 0.5, y as f32 + 0.5);
                    let want = bilinear(Point::new(p.x / scale, p.y / scale), mw, mh, |x, y| matte.get(x, y));
                    let v = got.get(x, y);
                    assert!((v - want).abs() < 2e-3, "angle {angle} ({x}, {y}): {v} against {want}");
                    outside += usize::from(p.x / scale > mw as f32 + 1.0);
                }
            }
            assert_eq!(outside > 0, angle < 0.0, "the second frame reaches past the matte");
        }
    }

    /// A turned frame shown at or above the photo's own size (no Lanczos pass first), inside the
    /// photo and reaching past it: each output pixel is the photo where `CropPlan::to_photo`
    /// puts it, to within two levels, and marked inside exactly where its centre lies in the photo.
    #[test]
    fn a_turned_frame_is_sampled_where_the_plan_puts_each_output_pixel() {
        let (pw, ph) = (160u32, 130u32);
        let img = RgbImage::from_fn(pw, ph, |x, y| {
            image::Rgb([(x * 37 % 256) as u8, (y * 53 % 256) as u8, ((x * y) % 251) as u8])
        });
        for (angle, centre) in [(6.0, Point::new(80.0, 65.0)), (-9.0, Point::new(30.0, 60.0))] {
            let plan = turned(centre, angle, (90.0, 70.0), (270, 210));
            let (frame, inside) = sample_frame(&img, &plan);
            let mut past = 0;
            for y in 0..plan.out_h {
                for x in 0..plan.out_w {
                    let p = plan.to_photo(x as f32 + 0.5, y as f32 + 0.5);
                    let off = p.x < 0.0 || p.y < 0.0 || p.x > pw as f32 || p.y > ph as f32;
                    assert_eq!(inside[(y * plan.out_w + x) as usize] == 0.0, off, "({x}, {y})");
                    past += usize::from(off);
                    // Inside, away from the border where the loop repeats the edge pixels.
                    if p.x < 1.0 || p.y < 1.0 || p.x > pw as f32 - 1.0 || p.y > ph as f32 - 1.0 {
                        continue;
                    }
                    // Within two levels: the loop's positions and weights have 8 fractional
                    // bits, worth up to a level per axis across this pattern's steepest steps.
                    for c in 0..3 {
                        let want = bilinear(p, pw, ph, |x, y| f32::from(img.get_pixel(x, y)[c]));
                        let v = f32::from(frame.get_pixel(x, y)[c]);
                        assert!((v - want).abs() <= 2.0, "angle {angle} ({x}, {y}) channel {c}: {v} against {want}");
                    }
                }
            }
            assert_eq!(past > 0, angle < 0.0, "only the second frame reaches past the photo");
        }
    }

    #[test]
    fn the_exposure_curve_lifts_without_clipping() {
        let mut img = RgbImage::from_pixel(40, 40, image::Rgb([60, 60, 60]));
        img.put_pixel(20, 20, image::Rgb([255, 255, 255]));
        let alpha = vec![1.0; 1600];
        correct(
            &mut img,
            &alpha,
            Rect::new(5.0, 5.0, 30.0, 30.0),
            Corrections { exposure: true, ..Corrections::default() },
        );
        assert!(img.get_pixel(10, 10)[0] > 70);
        assert_eq!(img.get_pixel(20, 20)[0], 255);
    }

    /// A team's exposure takes the level it was measured at exactly where it was asked to go,
    /// brighter or darker, and still leaves black black and white white.
    #[test]
    fn a_light_match_takes_its_level_where_it_asks() {
        for (from, to) in [(0.3f32, 0.3 * 2f32.powf(0.4)), (0.5, 0.5 * 2f32.powf(-0.5)), (0.1, 0.14)] {
            let level = f32::from(to_u8(to_srgb(from) * 255.0)) / 255.0;
            let mut img = RgbImage::from_pixel(40, 40, image::Rgb([(level * 255.0) as u8; 3]));
            img.put_pixel(0, 0, image::Rgb([255, 255, 255]));
            img.put_pixel(1, 0, image::Rgb([0, 0, 0]));
            let m = LightMatch { from: to_linear(level), to: to_linear(level) * to / from };
            let c = Corrections { team_light: Some(m), ..Corrections::default() };
            correct(&mut img, &[1.0; 1600], Rect::new(5.0, 5.0, 30.0, 30.0), c);
            let got = to_linear(f32::from(img.get_pixel(20, 20)[0]) / 255.0);
            let stops = (got / to_linear(level)).log2();
            assert!((stops - m.stops()).abs() < 0.03, "{from} -> {to}: {stops} stops, asked {}", m.stops());
            assert_eq!((img.get_pixel(0, 0)[0], img.get_pixel(1, 0)[0]), (255, 0));
        }
    }
}
