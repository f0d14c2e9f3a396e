//! Measurements: numbers read off the analysis copy, the faces and the person matte. Each is
//! documented with its unit; the judgement (`judge`) turns them into classes. (The background's
//! measures have a room of their own, `background`.)

use image::RgbImage;
use serde::Serialize;

use crate::face::Face;
use crate::geometry::{Point, Rect};
use crate::matte::PersonMatte;

/// Where and how large the primary person is in the frame.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, serde::Deserialize)]
pub struct FramingMeasures {
    /// Primary face box height / frame height, 0..1.
    pub face_height_ratio: f32,
    /// Primary face box area / frame area, 0..1: how tightly the frame is cut around the face,
    /// whatever its aspect.
    pub face_area_share: f32,
    /// How far down the body the frame (or the person, if they end inside it) reaches, measured
    /// from the chin in face-box heights: ~0.7 shoulders, ~1.8 chest, ~3.3 waist, ~5.5 knees,
    /// ~7.5 feet.
    pub body_below_chin: f32,
    /// The same reach in head heights, the unit the labelling rule in the framing docs speaks in
    /// (a headshot's frame ends within about one head height below the chin, at the upper
    /// chest). A head is taken as twice its eye-line-to-chin distance (the eyes sit half way
    /// down an adult head), the chin from the face mesh: unlike the crown, neither moves with
    /// the hair.
    pub below_chin_heads: f32,
    /// Whether the person runs into the bottom edge of the frame (cut by it).
    pub cut_by_bottom: bool,
    /// Share of the frame the person covers (matte mean), 0..1.
    pub person_coverage: f32,
    /// Horizontal offset of the primary face from the frame centre, share of frame width, 0..0.5.
    pub off_centre: f32,
    /// Top of the head above the face box top, in face-box heights (from the matte; 0 when the
    /// matte does not show it).
    pub hair_above_box: f32,
    /// Whether the top of the head touches the frame's top edge (cut off).
    pub head_cut_at_top: bool,
}

/// Measures the framing of `primary` in a frame of `width` x `height` (pixels of the same image
/// as the face and matte).
pub fn framing(width: u32, height: u32, primary: &Face, matte: &PersonMatte) -> FramingMeasures {
    let (w, h) = (width as f32, height as f32);
    let b = primary.bbox;
    let face_h = b.h.max(1.0);
    // YuNet's box ends at about the chin; the mesh finds the chin itself.
    let chin = primary.details.as_ref().map_or(b.bottom(), |d| d.chin.y);

    // The lowest row of the person below the face, in the face's column band widened to the
    // shoulders (a neighbour's body at the side must not count).
    let band = Rect::new(b.center().x - b.w * 2.0, 0.0, b.w * 4.0, h).clamped(w, h);
    let mut lowest = chin;
    let mut touching_bottom = false;
    let (x0, x1) = (band.x as u32, (band.right() as u32).min(width));
    let step = ((x1 - x0) / 64).max(1);
    for y in (chin.max(0.0) as u32..height).rev() {
        let hit = (x0..x1).step_by(step as usize).any(|x| matte.get(x, y) > 0.5);
        if hit {
            lowest = y as f32 + 1.0;
            touching_bottom = y + 2 >= height;
            break;
        }
    }
    let body_below_chin = (lowest - chin).max(0.0) / face_h;

    let head_top = matte.head_top(b.x + b.w * 0.2, b.right() - b.w * 0.2, b.y + b.h * 0.3);
    let hair_above_box = head_top.map_or(0.0, |t| ((b.y - t) / face_h).max(0.0));
    let head = (2.0 * (chin - primary.landmarks.eye_mid().y)).max(0.5 * face_h);
    let below_chin_heads = (lowest - chin).max(0.0) / head;
    let head_cut_at_top = head_top.is_some_and(|t| t <= 1.0) || b.y <= 1.0;

    FramingMeasures {
        face_height_ratio: b.h / h,
        face_area_share: (b.w * b.h / (w * h)).clamp(0.0, 1.0),
        body_below_chin,
        below_chin_heads,
        cut_by_bottom: touching_bottom,
        person_coverage: matte.coverage(),
        off_centre: ((b.center().x - w * 0.5) / w).abs(),
        hair_above_box,
        head_cut_at_top,
    }
}

/// Rec. 601 luma of an sRGB pixel, 0..1.
pub fn luma(p: &image::Rgb<u8>) -> f32 {
    (0.299 * f32::from(p[0]) + 0.587 * f32::from(p[1]) + 0.114 * f32::from(p[2])) / 255.0
}

/// Light on the primary face.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, serde::Deserialize)]
pub struct LightingMeasures {
    /// Left/right balance: intersection of the luminance histograms of the two halves of the
    /// face (OFIQ's illumination uniformity), 0..1, 1 = identical.
    pub balance: f32,
    /// Ratio of the darker half's mean luminance to the brighter's, 0..1.
    pub side_ratio: f32,
    /// Mean face luminance, 0..1.
    pub exposure: f32,
    /// Share of face pixels clipped white (>= 250), 0..1.
    pub clipped: f32,
    /// Share of face pixels crushed black (<= 5), 0..1.
    pub crushed: f32,
    /// Standard deviation of face luminance, 0..1.
    pub contrast: f32,
}

/// How far in from the mesh's face outline the face's light is read (see
/// `matte::FACE_SOLID_SHRINK`): the outline runs along the hairline and the jaw.
const SKIN_SHRINK: f32 = 0.2;

/// The light on a face, in linear light (0..1): the median luminance inside its mesh `outline`
/// (photo pixels) above the line `above` (the nose: forehead, eyes, cheekbones, the bridge of
/// the nose), read on `img`, a copy `scale` times smaller than the photo. `None` for a face of
/// fewer than 64 such pixels.
///
/// Above the nose, and the median rather than the mean, because the whole face's mean is as
/// much the person as the light: a beard or stubble, an open mouth and the shaded side pull it
/// down (the bearded face of the team test read 0.52 in sRGB, the others 0.58-0.68).
pub fn face_light(img: &RgbImage, outline: &[Point], above: f32, scale: f32) -> Option<f32> {
    if outline.len() < 3 || scale <= 0.0 {
        return None;
    }
    let linear = crate::render::linear_table();
    let (w, h) = (img.width() as usize, img.height() as usize);
    let mut levels = Vec::new();
    let ring = crate::geometry::shrunk(outline, SKIN_SHRINK, scale);
    let above = (above / scale).max(0.0) as usize;
    crate::geometry::polygon_spans(&ring, w, h.min(above), |y, x0, x1| {
        for x in x0..x1 {
            let p = img.get_pixel(x as u32, y as u32);
            let [r, g, b] = p.0.map(|v| linear[usize::from(v)]);
            levels.push(0.2126 * r + 0.7152 * g + 0.0722 * b);
        }
    });
    if levels.len() < 64 {
        return None;
    }
    let k = levels.len() / 2;
    let (_, q, _) = levels.select_nth_unstable_by(k, f32::total_cmp);
    Some(*q)
}

/// Measures the light on `face` in `img` (same resolution). The face is split at the line through
/// the eye midpoint and mouth midpoint, so a turned head is split at its own middle.
pub fn lighting(img: &RgbImage, face: &Face) -> LightingMeasures {
    let b = face.bbox.clamped(img.width() as f32, img.height() as f32);
    // The inner face (cheeks, forehead, nose), away from hair and background.
    let inner = Rect::new(b.x + b.w * 0.15, b.y + b.h * 0.15, b.w * 0.7, b.h * 0.75);
    if inner.w < 4.0 || inner.h < 4.0 {
        return LightingMeasures { balance: 1.0, side_ratio: 1.0, ..Default::default() };
    }
    let lm = &face.landmarks;
    let (top, bot) = (lm.eye_mid(), lm.mouth_mid());
    let mut hist = [[0u32; 32]; 2];
    let mut sum = [0f64; 2];
    let mut cnt = [0u32; 2];
    let (mut all, mut sq, mut clipped, mut crushed) = (0f64, 0f64, 0u32, 0u32);
    for y in inner.y as u32..inner.bottom() as u32 {
        for x in inner.x as u32..inner.right() as u32 {
            let p = img.get_pixel(x, y);
            let l = 0.299 * f32::from(p[0]) + 0.587 * f32::from(p[1]) + 0.114 * f32::from(p[2]);
            // Which side of the face's midline (eye midpoint -> mouth midpoint) the pixel is on.
            let side = ((bot.x - top.x) * (y as f32 - top.y) - (bot.y - top.y) * (x as f32 - top.x)) > 0.0;
            let s = usize::from(side);
            hist[s][(l as usize / 8).min(31)] += 1;
            sum[s] += f64::from(l);
            cnt[s] += 1;
            all += f64::from(l);
            sq += f64::from(l) * f64::from(l);
            clipped += u32::from(l >= 250.0);
            crushed += u32::from(l <= 5.0);
        }
    }
    let n = (cnt[0] + cnt[1]).max(1) as f64;
    let balance = if cnt[0] == 0 || cnt[1] == 0 {
        1.0
    } else {
        (0..32).map(|i| (hist[0][i] as f32 / cnt[0] as f32).min(hist[1][i] as f32 / cnt[1] as f32)).sum::<f32>()
    };
    let means = [sum[0] / f64::from(cnt[0].max(1)), sum[1] / f64::from(cnt[1].max(1))];
    let side_ratio = (means[0].min(means[1]) / means[0].max(means[1]).max(1.0)) as f32;
    let mean = all / n;
    LightingMeasures {
        balance,
        side_ratio,
        exposure: (mean / 255.0) as f32,
        clipped: (f64::from(clipped) / n) as f32,
        crushed: (f64::from(crushed) / n) as f32,
        contrast: (((sq / n) - mean * mean).max(0.0).sqrt() / 255.0) as f32,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::face::Landmarks;
    use crate::geometry::Point;

    fn face_at(b: Rect) -> Face {
        let c = b.center();
        Face {
            bbox: b,
            score: 0.9,
            landmarks: Landmarks {
                right_eye: Point::new(c.x - b.w * 0.2, b.y + b.h * 0.4),
                left_eye: Point::new(c.x + b.w * 0.2, b.y + b.h * 0.4),
                nose: c,
                mouth_right: Point::new(c.x - b.w * 0.15, b.y + b.h * 0.75),
                mouth_left: Point::new(c.x + b.w * 0.15, b.y + b.h * 0.75),
            },
            ..Face::default()
        }
    }

    #[test]
    fn half_lit_face_is_unbalanced() {
        let b = Rect::new(50.0, 50.0, 100.0, 120.0);
        let even = RgbImage::from_pixel(200, 220, image::Rgb([180, 150, 130]));
        let l = lighting(&even, &face_at(b));
        assert!(l.balance > 0.95 && l.side_ratio > 0.95);
        let half =
            RgbImage::from_fn(
                200,
                220,
                |x, _| {
                    if x < 100 { image::Rgb([180, 150, 130]) } else { image::Rgb([60, 50, 40]) }
                },
            );
        let l = lighting(&half, &face_at(b));
        assert!(l.balance < 0.3 && l.side_ratio < 0.5, "{l:?}");
    }

    /// The light is read above the nose: a dark beard below it, however much of the face it
    /// covers, does not change the reading, and the light above does, in proportion.
    #[test]
    fn face_light_reads_the_light_not_the_beard() {
        let outline =
            [Point::new(20.0, 10.0), Point::new(80.0, 10.0), Point::new(80.0, 110.0), Point::new(20.0, 110.0)];
        let face = |skin: u8, beard: u8| {
            RgbImage::from_fn(100, 120, |_, y| {
                if y < 60 { image::Rgb([skin, skin - 30, skin - 50]) } else { image::Rgb([beard; 3]) }
            })
        };
        let read = |img: &RgbImage| face_light(img, &outline, 60.0, 1.0).expect("a face");
        let shaven = read(&face(200, 190));
        assert_eq!(read(&face(200, 25)), shaven);
        // Twice the size of photo: the outline and nose in photo pixels, the image half of it.
        let small = image::imageops::resize(&face(200, 25), 50, 60, image::imageops::FilterType::Nearest);
        let scaled = face_light(&small, &outline, 60.0, 2.0).expect("a face");
        assert!((scaled - shaven).abs() < 1e-6, "{scaled} vs {shaven}");
        let darker = read(&face(160, 25));
        // sRGB 200 -> 160 on the red channel is about -0.8 stop in linear light.
        let stops = (darker / shaven).log2();
        assert!((-1.0..-0.6).contains(&stops), "{stops}");
        assert_eq!(face_light(&face(200, 25), &outline[..2], 60.0, 1.0), None);
    }
}
