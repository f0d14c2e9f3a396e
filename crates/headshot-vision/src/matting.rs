//! Portrait matting with MODNet (photographic portrait matting, MobileNetV2 backbone): the
//! person's alpha, soft where hair is, for every output whose background is replaced, blurred or
//! made transparent. It reads a person-centred crop of the photo at a bounded size, once per
//! photo; every output of that photo shares the result.
//!
//! The model takes RGB scaled to -1..1 at any size whose sides are multiples of 32; it was
//! trained at about 512 px. The crop is taken at one of a few fixed shapes (each optimised once
//! per process), chosen by the crop's aspect, so a photo costs a fixed, bounded time whatever
//! its resolution: about 0.2 MP when an output shows the crop large, about 0.14 MP (four fifths
//! of the time) when every output that needs the matte is small (`MATTING_TIERS`).

use headshot_core::Rect;
use headshot_core::matte::PersonMatte;
use headshot_core::resize::resize_rgb_crop;
use image::RgbImage;
use tract_onnx::prelude::*;

use crate::models::{MATTING_TIERS, matting_model};
use crate::runtime::{VisionError, output_f32};

/// The tiers of `MATTING_TIERS`: the full one, and the light one.
const FULL: usize = 0;
const LIGHT: usize = 1;

/// The most output pixels across the crop's longer side that the light tier serves: its own
/// 448 px and a little more (the guided refinement at the output's resolution takes up a small
/// enlargement; measured at LinkedIn's, 1.15x over a square crop, where both tiers cut alike). A
/// 400 px LinkedIn or a 500 px GitHub square (the crop and 5 % of room around it: 440 and 550 px)
/// take the light tier; a 648 px Microsoft 365 square or an 800x1000 team-page portrait, the full
/// one.
pub const LIGHT_TIER_MAX_ACROSS: f32 = 560.0;

/// The tier of `MATTING_TIERS` for a crop of `across` photo pixels along its longer side shown
/// at `detail` output pixels per photo pixel by the largest output that needs it.
pub fn tier_for(across: f32, detail: f32) -> usize {
    if across * detail <= LIGHT_TIER_MAX_ACROSS { LIGHT } else { FULL }
}

/// The input shape (height, width) of `tier` whose aspect is nearest `aspect` (width / height).
pub fn shape_for(aspect: f32, tier: usize) -> (usize, usize) {
    let ratio = |&(h, w): &(usize, usize)| (w as f32 / h as f32 / aspect.max(1e-3)).ln().abs();
    let shapes = MATTING_TIERS[tier.min(LIGHT)];
    shapes.iter().copied().min_by(|a, b| ratio(a).total_cmp(&ratio(b))).unwrap_or(shapes[2])
}

/// `region` grown to the aspect `aspect` (width / height) about its centre. It may reach past
/// the photo: the model then sees a neutral grey there (which it reads as background).
pub fn fit_region(region: Rect, aspect: f32) -> Rect {
    let c = region.center();
    let (mut w, mut h) = (region.w.max(1.0), region.h.max(1.0));
    if w / h < aspect {
        w = h * aspect;
    } else {
        h = w / aspect;
    }
    Rect::new(c.x - w / 2.0, c.y - h / 2.0, w, h)
}

/// What the model sees of `region` at `detail` (see `tier_for`): its input shape (height,
/// width), and the region grown about its centre to that shape's aspect.
fn model_view(region: Rect, detail: f32) -> ((usize, usize), Rect) {
    let tier = tier_for(region.w.max(region.h), detail);
    let (mh, mw) = shape_for(region.w / region.h.max(1e-3), tier);
    ((mh, mw), fit_region(region, mw as f32 / mh as f32))
}

/// `region` of `img` resampled into `w` x `h` pixels, neutral grey where it reaches past `img`.
fn view_of(img: &RgbImage, region: Rect, w: u32, h: u32) -> RgbImage {
    let (iw, ih) = (img.width() as f32, img.height() as f32);
    let inner = region.intersect(&Rect::new(0.0, 0.0, iw, ih));
    let mut out = RgbImage::from_pixel(w, h, image::Rgb([128, 128, 128]));
    if inner.w < 1.0 || inner.h < 1.0 {
        return out;
    }
    let (sx, sy) = (w as f32 / region.w, h as f32 / region.h);
    let x0 = ((inner.x - region.x) * sx).round() as u32;
    let y0 = ((inner.y - region.y) * sy).round() as u32;
    let vw = ((inner.w * sx).round() as u32).clamp(1, w - x0.min(w - 1));
    let vh = ((inner.h * sy).round() as u32).clamp(1, h - y0.min(h - 1));
    let view = resize_rgb_crop(img, inner, vw, vh);
    image::imageops::replace(&mut out, &view, i64::from(x0), i64::from(y0));
    out
}

/// The person's matte over `region` of `photo` (full-resolution pixels) on the grid of `reduced`,
/// the same photo at `scale` photo pixels per pixel (the analysis copy), for outputs that show it
/// at up to `detail` output pixels per photo pixel (`f32::INFINITY`: as fine as the model goes).
/// The model's view is taken from `reduced` wherever it holds as many pixels over what the model
/// sees as the model's input (at most 512 a side, fewer across a tall or a wide view), and
/// resampled from `photo` only where it does not.
pub fn matte_person_reduced(
    photo: &RgbImage,
    reduced: &RgbImage,
    scale: f32,
    region: Rect,
    detail: f32,
) -> Result<PersonMatte, VisionError> {
    let (rw, rh) = reduced.dimensions();
    let ((mh, mw), seen) = model_view(region, detail);
    if seen.w / scale >= mw as f32 && seen.h / scale >= mh as f32 {
        let small = Rect::new(region.x / scale, region.y / scale, region.w / scale, region.h / scale);
        matte_person(reduced, small, rw, rh, 1.0, detail * scale)
    } else {
        matte_person(photo, region, rw, rh, scale, detail)
    }
}

/// The person's matte over `region` of `photo` (full-resolution pixels), placed in a matte of
/// `out_w` x `out_h` pixels covering the whole photo at `out_scale` photo pixels per matte pixel
/// (the analysis copy's grid, so it stands in for the analysis matte); zero outside the region.
/// `detail` as for `matte_person_reduced`, in output pixels per `photo` pixel.
pub fn matte_person(
    photo: &RgbImage,
    region: Rect,
    out_w: u32,
    out_h: u32,
    out_scale: f32,
    detail: f32,
) -> Result<PersonMatte, VisionError> {
    let (pw, ph) = photo.dimensions();
    let mut out = PersonMatte::new(out_w, out_h);
    let region = region.intersect(&Rect::new(0.0, 0.0, pw as f32, ph as f32));
    if region.w < 8.0 || region.h < 8.0 {
        return Ok(out);
    }
    let ((mh, mw), region) = model_view(region, detail);
    let model = matting_model(mh, mw)?;
    let view = view_of(photo, region, mw as u32, mh as u32);
    let input = tract_ndarray::Array4::<f32>::from_shape_fn((1, 3, mh, mw), |(_, c, y, x)| {
        (f32::from(view.get_pixel(x as u32, y as u32)[c]) - 127.5) / 127.5
    });
    let outputs = model.run(input.into_tensor())?;
    let alpha = output_f32(model, &outputs, 0)?;
    if alpha.len() != mw * mh {
        return Err(VisionError::Run { model: model.name(), reason: "unexpected matte size".into() });
    }
    // Into the output grid, bilinear in the model's grid; each column's two taps and weight are
    // worked out once rather than per pixel (a 2 MP grid, one core: 42 ms per pixel, 10 ms).
    let (sx, sy) = (mw as f32 / region.w, mh as f32 / region.h);
    let x0 = (region.x / out_scale).floor().max(0.0) as u32;
    let y0 = (region.y / out_scale).floor().max(0.0) as u32;
    let x1 = ((region.right() / out_scale).ceil() as u32).min(out_w).max(x0);
    let y1 = ((region.bottom() / out_scale).ceil() as u32).min(out_h);
    let tap = |at: f32, n: usize| {
        let m = at.clamp(0.0, (n - 1) as f32);
        let i = m as usize;
        (i, (i + 1).min(n - 1), m.fract())
    };
    let columns: Vec<(usize, usize, f32)> =
        (x0..x1).map(|x| tap(((x as f32 + 0.5) * out_scale - region.x) * sx - 0.5, mw)).collect();
    for y in y0..y1 {
        let (yi, yj, fy) = tap(((y as f32 + 0.5) * out_scale - region.y) * sy - 0.5, mh);
        let (upper, lower) = (&alpha[yi * mw..(yi + 1) * mw], &alpha[yj * mw..(yj + 1) * mw]);
        let row = &mut out.alpha[(y * out_w + x0) as usize..(y * out_w + x1) as usize];
        for (a, &(xi, xj, fx)) in row.iter_mut().zip(&columns) {
            let top = upper[xi] + (upper[xj] - upper[xi]) * fx;
            let bottom = lower[xi] + (lower[xj] - lower[xi]) * fx;
            *a = (top + (bottom - top) * fy).clamp(0.0, 1.0);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use headshot_core::Point;

    #[test]
    fn regions_take_the_shape_of_the_model_input_and_stay_in_the_photo() {
        assert_eq!(shape_for(0.75, FULL), (512, 384));
        assert_eq!(shape_for(1.0, FULL), (448, 448));
        assert_eq!(shape_for(3.0, FULL), (256, 512));
        assert_eq!(shape_for(0.3, FULL), (512, 256));
        assert_eq!(shape_for(0.75, LIGHT), (448, 320));
        assert_eq!(shape_for(1.0, LIGHT), (384, 384));
        // A 400 px square output of a 1000 px crop takes the light tier; 800 px, the full one.
        assert_eq!(tier_for(1000.0 * 1.1, 0.4), LIGHT);
        assert_eq!(tier_for(1000.0 * 1.1, 0.8), FULL);
        assert_eq!(tier_for(1000.0, f32::INFINITY), FULL);
        // Grown about its centre to the shape's aspect, never cut.
        let r = fit_region(Rect::new(100.0, 50.0, 300.0, 300.0), 0.75);
        assert!((r.w / r.h - 0.75).abs() < 1e-4 && r.x <= 100.0 && r.bottom() >= 350.0, "{r:?}");
        assert_eq!(r.center(), Point::new(250.0, 200.0));
        // Past the photo, the model sees grey.
        let img = RgbImage::from_pixel(100, 100, image::Rgb([200, 10, 10]));
        let v = view_of(&img, Rect::new(-100.0, 0.0, 200.0, 100.0), 64, 32);
        assert_eq!(v.get_pixel(5, 16), &image::Rgb([128, 128, 128]));
        assert_eq!(v.get_pixel(50, 16), &image::Rgb([200, 10, 10]));
    }
}
