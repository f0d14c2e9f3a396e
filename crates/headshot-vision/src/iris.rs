//! The eyes, read by MediaPipe's iris landmark model: for each eye its corners, lids and iris
//! centre, in pixels of the photo. The gaze itself (where those eyes look relative to the camera)
//! is geometry, worked out in `headshot_core::gaze`.
//!
//! The model reads a 64x64 crop of one eye, square, 2.3 times the corner-to-corner distance,
//! turned so the corners are level (as MediaPipe's own graph crops it), and expects the eye as the
//! subject's right eye looks: outer corner on the left. The subject's left eye is mirrored first.
//! It gives 71 eye and brow points (the first 16 the eyelid contour) and 5 iris points (the first
//! the centre), x and y in crop pixels.

use headshot_core::Point;
use headshot_core::face::{EyeReading, EyesReading};
use headshot_core::warp::SquareWindow;
use image::RgbImage;
use tract_onnx::prelude::*;

use crate::mesh::{FaceMesh, idx};
use crate::models::{IRIS_SIDE, iris_landmark};
use crate::runtime::{VisionError, output_f32};

/// The crop around an eye, as a multiple of the corner-to-corner distance (MediaPipe's
/// `iris_landmark_landmarks_to_roi` uses 2.3).
const EYE_CROP_SCALE: f32 = 2.3;

/// Indices into the model's 71 eye points (its eyelid contour runs outer corner, lower lid,
/// inner corner, then the upper lid back; see MediaPipe's `iris_landmark_cpu` graph).
mod contour {
    pub const OUTER: usize = 0;
    pub const INNER: usize = 8;
    /// The lower lid's middle three points and the upper lid's.
    pub const LOWER_MID: [usize; 3] = [3, 4, 5];
    pub const UPPER_MID: [usize; 3] = [11, 12, 13];
}

/// Reads both eyes of a meshed face. `photo` is the full-resolution photo; `analysis` its
/// reduced copy, `analysis_scale` photo pixels per analysis pixel: the crop is taken from the
/// copy when the eye is large enough there.
pub fn read_eyes(
    photo: &RgbImage,
    analysis: &RgbImage,
    analysis_scale: f32,
    mesh: &FaceMesh,
) -> Result<EyesReading, VisionError> {
    let right = read_eye(
        photo,
        analysis,
        analysis_scale,
        mesh.photo_point(idx::RIGHT_EYE_OUTER),
        mesh.photo_point(idx::RIGHT_EYE_INNER),
        false,
    )?;
    let left = read_eye(
        photo,
        analysis,
        analysis_scale,
        mesh.photo_point(idx::LEFT_EYE_INNER),
        mesh.photo_point(idx::LEFT_EYE_OUTER),
        true,
    )?;
    Ok(EyesReading { right, left })
}

/// One eye whose corners are `a` (on the viewer's left) and `b` (viewer's right), in photo
/// pixels. `mirror`: the eye is the subject's left (its outer corner is `b`).
fn read_eye(
    photo: &RgbImage,
    analysis: &RgbImage,
    analysis_scale: f32,
    a: Point,
    b: Point,
    mirror: bool,
) -> Result<EyeReading, VisionError> {
    let model = iris_landmark()?;
    let angle_deg = (b.y - a.y).atan2(b.x - a.x).to_degrees();
    let side = (a.distance(b) * EYE_CROP_SCALE).max(4.0);
    let window = SquareWindow { center: a.midpoint(b), side, angle_deg, out: IRIS_SIDE as u32 };
    let crop = if side / analysis_scale >= IRIS_SIDE as f32 {
        let s = 1.0 / analysis_scale;
        SquareWindow { center: window.center.scaled(s), side: side * s, ..window }.sample(analysis)
    } else {
        window.sample(photo)
    };
    let crop = if mirror { image::imageops::flip_horizontal(&crop) } else { crop };
    let n = IRIS_SIDE;
    let input = tract_ndarray::Array4::<f32>::from_shape_fn((1, n, n, 3), |(_, y, x, c)| {
        f32::from(crop.get_pixel(x as u32, y as u32)[c]) / 255.0
    });
    let outputs = model.run(input.into_tensor())?;
    let eye = output_f32(model, &outputs, 0)?;
    let iris = output_f32(model, &outputs, 1)?;
    if eye.len() < 71 * 3 || iris.len() < 5 * 3 {
        return Err(VisionError::Run { model: model.name(), reason: "unexpected output size".into() });
    }
    // Crop pixels (of the possibly mirrored crop) -> photo pixels.
    let to_photo = |x: f32, y: f32| {
        let x = if mirror { n as f32 - x } else { x };
        window.to_photo(Point::new(x, y))
    };
    let point = |i: usize| to_photo(eye[i * 3], eye[i * 3 + 1]);
    let mean = |ids: [usize; 3]| {
        let p = ids.map(point);
        Point::new((p[0].x + p[1].x + p[2].x) / 3.0, (p[0].y + p[1].y + p[2].y) / 3.0)
    };
    let (outer, inner) = (point(contour::OUTER), point(contour::INNER));
    // Iris radius: mean distance of its four rim points from the centre.
    let centre = to_photo(iris[0], iris[1]);
    let radius = (1..5).map(|k| to_photo(iris[k * 3], iris[k * 3 + 1]).distance(centre)).sum::<f32>() / 4.0;
    let (viewer_left, viewer_right) = if mirror { (inner, outer) } else { (outer, inner) };
    Ok(EyeReading {
        viewer_left,
        viewer_right,
        upper_lid: mean(contour::UPPER_MID),
        lower_lid: mean(contour::LOWER_MID),
        iris: centre,
        iris_radius: radius,
    })
}
