//! Face detection with YuNet: every face, its box, score and five landmarks, in pixels of the
//! image it was given.
//!
//! The detector runs at one fixed 640x640 size: the image is scaled to fit and padded (never
//! stretched). When the largest face found is small, the image is searched again in 640x640 tiles
//! at its own resolution, so the small faces of full-body and group shots are not lost.

use headshot_core::face::{Face, Landmarks};
use headshot_core::{Point, Rect};
use image::RgbImage;
use tract_onnx::prelude::*;

use crate::models::{DETECTOR_SIDE, detector};
use crate::runtime::{VisionError, output_f32};

/// The most a small image is enlarged for the detector.
const MAX_UPSCALE: f32 = 2.0;

/// Detection settings.
#[derive(Debug, Clone, Copy)]
pub struct DetectOptions {
    /// Minimum score for a face (0..1). OpenCV's sample uses 0.9; 0.6 keeps small and turned
    /// faces that a person would still call a face, and is what the reference test runs OpenCV
    /// with.
    pub score_threshold: f32,
    /// Minimum score for a faint face (0..1): a face too defocused, small or hidden to be anyone's
    /// subject, but still a face a viewer sees behind the subject (a crowd in bokeh). At 0.35
    /// YuNet finds the blurred onlookers of the press photos in `../shared/photos` (scores
    /// 0.39-0.59) and nothing on their plain backdrops (whose best spurious score is under 0.2).
    pub faint_threshold: f32,
    /// Overlap above which the weaker of two boxes is dropped (OpenCV's default 0.3).
    pub nms_iou: f32,
    /// Search again in tiles when the largest face is shorter than this many pixels of the
    /// 640 view (YuNet's reliable floor is ~10-16 px; faces up to this size hint that smaller
    /// ones may hide).
    pub retry_below_px: f32,
}

impl Default for DetectOptions {
    fn default() -> Self {
        Self { score_threshold: 0.6, faint_threshold: 0.35, nms_iou: 0.3, retry_below_px: 48.0 }
    }
}

/// Finds every face in `img` scoring at least `opts.score_threshold`. Coordinates are pixels of
/// `img`.
pub fn detect_faces(img: &RgbImage, opts: &DetectOptions) -> Result<Vec<Face>, VisionError> {
    Ok(detect_faces_and_faint(img, opts)?.0)
}

/// Finds every face in `img`: those scoring at least `opts.score_threshold`, and apart from them
/// the faint ones (at least `opts.faint_threshold`), each list strongest first.
pub fn detect_faces_and_faint(img: &RgbImage, opts: &DetectOptions) -> Result<(Vec<Face>, Vec<Face>), VisionError> {
    let (w, h) = img.dimensions();
    if w == 0 || h == 0 {
        return Ok((Vec::new(), Vec::new()));
    }
    let side = DETECTOR_SIDE as f32;
    // Small images are enlarged at most twice: YuNet finds faces from ~10 px up, and blowing a
    // thumbnail up sevenfold only invents faces in its blocky pixels.
    let scale = (side / w.max(h) as f32).min(MAX_UPSCALE);
    let mut faces = run_window(img, Rect::new(0.0, 0.0, w as f32, h as f32), scale, opts)?;

    let largest =
        faces.iter().filter(|f| f.score >= opts.score_threshold).map(|f| f.bbox.h * scale).fold(0.0, f32::max);
    // Tiles at the image's own resolution only help when the image is larger than the 640 view.
    if largest < opts.retry_below_px && scale < 0.9 {
        for tile in tiles(w, h, DETECTOR_SIDE as u32) {
            faces.extend(run_window(img, tile, 1.0, opts)?);
        }
    }
    let all = non_max_suppression(faces, opts.nms_iou);
    Ok(all.into_iter().partition(|f| f.score >= opts.score_threshold))
}

/// The 640x640 windows, overlapping by a quarter, that cover a `w` x `h` image.
fn tiles(w: u32, h: u32, side: u32) -> Vec<Rect> {
    let starts = |len: u32| -> Vec<u32> {
        if len <= side {
            return vec![0];
        }
        let step = side * 3 / 4;
        let mut v: Vec<u32> = (0..).map(|i| i * step).take_while(|s| s + side < len).collect();
        v.push(len - side);
        v
    };
    let mut out = Vec::new();
    for y in starts(h) {
        for x in starts(w) {
            out.push(Rect::new(x as f32, y as f32, side.min(w) as f32, side.min(h) as f32));
        }
    }
    out
}

/// Runs YuNet on `window` of `img` scaled by `scale` (window pixels * scale <= 640), padding the
/// rest of the 640 square with black. Returns faces in pixels of `img`.
fn run_window(img: &RgbImage, window: Rect, scale: f32, opts: &DetectOptions) -> Result<Vec<Face>, VisionError> {
    let model = detector()?;
    let side = DETECTOR_SIDE;
    let vw = ((window.w * scale).round() as usize).clamp(1, side);
    let vh = ((window.h * scale).round() as usize).clamp(1, side);
    let view = if (scale - 1.0).abs() < 1e-6 {
        image::imageops::crop_imm(img, window.x as u32, window.y as u32, vw as u32, vh as u32).to_image()
    } else {
        headshot_core::resize::resize_rgb_crop(img, window, vw as u32, vh as u32)
    };
    // NCHW, BGR, 0..255, as OpenCV feeds it.
    let mut input = tract_ndarray::Array4::<f32>::zeros((1, 3, side, side));
    for (x, y, p) in view.enumerate_pixels() {
        let (x, y) = (x as usize, y as usize);
        input[[0, 0, y, x]] = f32::from(p[2]);
        input[[0, 1, y, x]] = f32::from(p[1]);
        input[[0, 2, y, x]] = f32::from(p[0]);
    }
    let outputs = model.run(input.into_tensor())?;
    let mut faces = Vec::new();
    for (i, stride) in [8usize, 16, 32].into_iter().enumerate() {
        let cls = output_f32(model, &outputs, i)?;
        let obj = output_f32(model, &outputs, 3 + i)?;
        let bbox = output_f32(model, &outputs, 6 + i)?;
        let kps = output_f32(model, &outputs, 9 + i)?;
        let cols = side / stride;
        let s = stride as f32;
        for (idx, (c, o)) in cls.iter().zip(&obj).enumerate() {
            let score = (c.clamp(0.0, 1.0) * o.clamp(0.0, 1.0)).sqrt();
            if score < opts.faint_threshold.min(opts.score_threshold)
                || bbox.len() < idx * 4 + 4
                || kps.len() < idx * 10 + 10
            {
                continue;
            }
            let (row, col) = ((idx / cols) as f32, (idx % cols) as f32);
            let b = &bbox[idx * 4..idx * 4 + 4];
            let cx = (col + b[0]) * s;
            let cy = (row + b[1]) * s;
            let bw = b[2].exp() * s;
            let bh = b[3].exp() * s;
            let k = &kps[idx * 10..idx * 10 + 10];
            let to_img = |x: f32, y: f32| Point::new(window.x + x / scale, window.y + y / scale);
            let mut pts = [Point::default(); 5];
            for (n, p) in pts.iter_mut().enumerate() {
                *p = to_img((col + k[2 * n]) * s, (row + k[2 * n + 1]) * s);
            }
            let tl = to_img(cx - bw * 0.5, cy - bh * 0.5);
            faces.push(Face {
                bbox: Rect::new(tl.x, tl.y, bw / scale, bh / scale),
                score,
                landmarks: Landmarks::from_points(pts),
                ..Face::default()
            });
        }
    }
    Ok(faces)
}

/// Keeps the strongest of overlapping boxes, strongest first.
fn non_max_suppression(mut faces: Vec<Face>, iou: f32) -> Vec<Face> {
    faces.sort_by(|a, b| b.score.total_cmp(&a.score));
    let mut kept: Vec<Face> = Vec::new();
    for f in faces {
        // A small box inside a big one (a tile that saw half a face) is also a duplicate.
        let dup = kept.iter().any(|k| {
            let inter = k.bbox.intersect(&f.bbox).area();
            k.bbox.iou(&f.bbox) > iou || inter > 0.7 * f.bbox.area().min(k.bbox.area())
        });
        if !dup {
            kept.push(f);
        }
    }
    kept
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tiles_cover_the_image() {
        let t = tiles(1600, 1200, 640);
        assert!(t.iter().any(|r| r.x == 0.0 && r.y == 0.0));
        assert!(t.iter().any(|r| r.right() == 1600.0 && r.bottom() == 1200.0));
        assert_eq!(tiles(500, 400, 640).len(), 1);
    }
}
