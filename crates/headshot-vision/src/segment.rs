//! Person segmentation with MediaPipe's selfie model, run on a person-centred crop and refined
//! against the photo's edges.

use headshot_core::Rect;
use headshot_core::face::Face;
use headshot_core::matte::{PersonMatte, guided_filter_on_blocks};
use headshot_core::resize::resize_rgb_crop;
use image::RgbImage;
use tract_onnx::prelude::*;

use crate::models::{SELFIE_SQUARE, SELFIE_WIDE, selfie_square, selfie_wide};
use crate::runtime::{VisionError, output_f32};

/// The region the segmentation model looks at, in pixels of `img`: around the prominent faces,
/// wide enough for outstretched shoulders and down to the bottom of the frame (the body hangs
/// below the face), or the whole frame when there is no face.
pub fn person_region(width: u32, height: u32, faces: &[&Face]) -> Rect {
    let frame = Rect::new(0.0, 0.0, width as f32, height as f32);
    let mut region: Option<Rect> = None;
    for f in faces {
        let b = f.bbox;
        // ~7 face widths covers arms held away from the body; 1.2 face heights above the box
        // keeps tall hair.
        let top = b.y - b.h * 1.2;
        let r = Rect::new(b.center().x - b.w * 3.5, top, b.w * 7.0, height as f32 - top);
        region = Some(match region {
            None => r,
            Some(u) => {
                let x = u.x.min(r.x);
                let y = u.y.min(r.y);
                Rect::new(x, y, u.right().max(r.right()) - x, u.bottom().max(r.bottom()) - y)
            }
        });
    }
    region.map_or(frame, |r| r.clamped(width as f32, height as f32))
}

/// Segments the person in `img` (the analysis copy). The model sees `region` padded, never
/// stretched, to its own aspect (the landscape model for wide regions, the square one
/// otherwise); the result is refined with a guided filter at `img`'s resolution.
pub fn segment_person(img: &RgbImage, region: Rect) -> Result<PersonMatte, VisionError> {
    let (w, h) = img.dimensions();
    let mut matte = PersonMatte::new(w, h);
    if region.w < 2.0 || region.h < 2.0 {
        return Ok(matte);
    }
    let wide = region.w / region.h > 1.3;
    let (mh, mw) = if wide { SELFIE_WIDE } else { SELFIE_SQUARE };
    let model = if wide { selfie_wide()? } else { selfie_square()? };

    // Fit the region into the model's input, centred, keeping its aspect.
    let s = (mw as f32 / region.w).min(mh as f32 / region.h);
    let vw = ((region.w * s).round() as u32).clamp(1, mw as u32);
    let vh = ((region.h * s).round() as u32).clamp(1, mh as u32);
    let ox = (mw as u32 - vw) / 2;
    let oy = (mh as u32 - vh) / 2;
    let view = resize_rgb_crop(img, region, vw, vh);
    let input = tract_ndarray::Array4::<f32>::from_shape_fn((1, mh, mw, 3), |(_, y, x, c)| {
        let (x, y) = (x as u32, y as u32);
        if x < ox || y < oy || x >= ox + vw || y >= oy + vh {
            // Padding reads as a mid-grey wall: plain background.
            0.5
        } else {
            f32::from(view.get_pixel(x - ox, y - oy)[c]) / 255.0
        }
    });
    let outputs = model.run(input.into_tensor())?;
    let prob = output_f32(model, &outputs, 0)?;
    if prob.len() != mw * mh {
        return Err(VisionError::Run { model: model.name(), reason: "unexpected mask size".into() });
    }

    // Back to image pixels, bilinear in the model's grid. The taps and weights of each column
    // and each row are worked out once (a photo's region is a million pixels or more).
    let taps = |pos: f32, n: usize| {
        let lo = pos.floor().clamp(0.0, (n - 1) as f32);
        (lo as usize, (lo as usize + 1).min(n - 1), (pos - lo).clamp(0.0, 1.0))
    };
    let (x0, y0) = (region.x.floor().max(0.0) as u32, region.y.floor().max(0.0) as u32);
    let (x1, y1) = ((region.right().ceil() as u32).min(w), (region.bottom().ceil() as u32).min(h));
    let columns: Vec<(usize, usize, f32)> =
        (x0..x1).map(|x| taps((x as f32 + 0.5 - region.x) * s + ox as f32 - 0.5, mw)).collect();
    for y in y0..y1 {
        let (ya, yb, fy) = taps((y as f32 + 0.5 - region.y) * s + oy as f32 - 0.5, mh);
        let (above, below) = (&prob[ya * mw..(ya + 1) * mw], &prob[yb * mw..(yb + 1) * mw]);
        let row = &mut matte.alpha[(y * w + x0) as usize..(y * w + x1) as usize];
        for (a, &(xa, xb, fx)) in row.iter_mut().zip(&columns) {
            let top = above[xa] + (above[xb] - above[xa]) * fx;
            let bot = below[xa] + (below[xb] - below[xa]) * fx;
            *a = (top + (bot - top) * fy).clamp(0.0, 1.0);
        }
    }
    // The radius follows the model's cell size in image pixels, so the refinement reaches across
    // one coarse mask pixel whatever the photo's size.
    let radius = ((1.0 / s) * 1.5).round().clamp(2.0, 24.0) as u32;
    // This matte is read at thumbnail scale and by rows (the crown), never pixel by pixel as an
    // output's edge is: its models are fitted on blocks of two pixels or more (a quarter of the
    // radius) from radius 6 up, where the render's start at 8.
    let block = if radius >= 6 { (radius / 4).max(2) } else { 1 };
    Ok(guided_filter_on_blocks(img, &matte, radius, 1e-3, block))
}
