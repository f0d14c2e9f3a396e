//! Face sharpness that does not depend on the photo's resolution.

use image::{GrayImage, RgbImage};

use crate::geometry::Rect;
use crate::resize::resize_rgb_crop;

/// The face is judged at this width (pixels) or its own, whichever is smaller: about the size a
/// face has in a 400 px headshot, so "sharp" means sharp where it will be seen.
pub const FACE_SHARPNESS_WIDTH: f32 = 128.0;

/// Sharpness of the face inside `face_box` (pixels of `img`), 0..1: one minus the re-blur
/// measure of Crete, Dolmiere, Ladret & Nicolas (2007). A sharp image loses much of its
/// neighbour-to-neighbour variation when blurred again; a blurry one has little left to lose.
/// Contrast cancels out (it is a ratio), and the face is first brought to a normalised width.
pub fn face_sharpness(img: &RgbImage, face_box: Rect) -> f32 {
    // The inner face (brows to mouth), so hair and background edges do not count.
    let inner =
        Rect::new(face_box.x + face_box.w * 0.15, face_box.y + face_box.h * 0.2, face_box.w * 0.7, face_box.h * 0.7)
            .clamped(img.width() as f32, img.height() as f32);
    if inner.w < 8.0 || inner.h < 8.0 {
        return 0.0;
    }
    let s = (FACE_SHARPNESS_WIDTH / inner.w).min(1.0);
    let w = (inner.w * s).round().max(8.0) as u32;
    let h = (inner.h * s).round().max(8.0) as u32;
    let crop = resize_rgb_crop(img, inner, w, h);
    1.0 - crete_blur(&image::imageops::grayscale(&crop))
}

/// Sharpness of the central half of `img`, brought to twice the face measurement width (a
/// scene has more to see than a face), on the same 0..1 scale as `face_sharpness`.
pub fn image_sharpness(img: &RgbImage) -> f32 {
    let (w, h) = (img.width() as f32, img.height() as f32);
    let centre = Rect::new(w * 0.25, h * 0.25, w * 0.5, h * 0.5);
    if centre.w < 8.0 || centre.h < 8.0 {
        return 0.0;
    }
    let s = (2.0 * FACE_SHARPNESS_WIDTH / centre.w).min(1.0);
    let crop =
        resize_rgb_crop(img, centre, (centre.w * s).round().max(8.0) as u32, (centre.h * s).round().max(8.0) as u32);
    1.0 - crete_blur(&image::imageops::grayscale(&crop))
}

/// Crete et al.'s no-reference blur, 0 (sharp) .. 1 (blurred): the larger of the vertical and
/// horizontal share of variation that survives a 9-tap box re-blur.
pub fn crete_blur(g: &GrayImage) -> f32 {
    let (w, h) = (g.width() as usize, g.height() as usize);
    if w < 10 || h < 10 {
        return 1.0;
    }
    let px: Vec<f32> = g.as_raw().iter().map(|&v| f32::from(v)).collect();
    let at = |x: usize, y: usize| px[y * w + x];
    let blur_h = |x: usize, y: usize| -> f32 {
        let lo = x.saturating_sub(4);
        let hi = (x + 4).min(w - 1);
        (lo..=hi).map(|i| at(i, y)).sum::<f32>() / (hi - lo + 1) as f32
    };
    let blur_v = |x: usize, y: usize| -> f32 {
        let lo = y.saturating_sub(4);
        let hi = (y + 4).min(h - 1);
        (lo..=hi).map(|j| at(x, j)).sum::<f32>() / (hi - lo + 1) as f32
    };
    let mut bh = vec![0f32; w * h];
    let mut bv = vec![0f32; w * h];
    for y in 0..h {
        for x in 0..w {
            bh[y * w + x] = blur_h(x, y);
            bv[y * w + x] = blur_v(x, y);
        }
    }
    let (mut sf_h, mut sv_h, mut sf_v, mut sv_v) = (0f32, 0f32, 0f32, 0f32);
    for y in 1..h {
        for x in 1..w {
            let d_h = (at(x, y) - at(x - 1, y)).abs();
            let db_h = (bh[y * w + x] - bh[y * w + x - 1]).abs();
            let d_v = (at(x, y) - at(x, y - 1)).abs();
            let db_v = (bv[y * w + x] - bv[(y - 1) * w + x]).abs();
            sf_h += d_h;
            sv_h += (d_h - db_h).max(0.0);
            sf_v += d_v;
            sv_v += (d_v - db_v).max(0.0);
        }
    }
    let b = |sf: f32, sv: f32| if sf <= 0.0 { 1.0 } else { (sf - sv) / sf };
    b(sf_h, sv_h).max(b(sf_v, sv_v))
}
