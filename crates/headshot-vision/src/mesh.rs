//! Face details from the MediaPipe face mesh: head pose, the eye opening, and the face's
//! sharpness (the eyes' gaze comes from the iris model, `iris`).
//!
//! The mesh reads a 192x192 crop 1.5x the face box, turned so the eyes are level (how MediaPipe
//! itself feeds it), and gives 468 points (x, y in crop pixels, z depth on the same scale,
//! smaller = nearer the camera).

use headshot_core::Point;
use headshot_core::face::{EyesReading, Face, FaceDetails, Pose};
use headshot_core::gaze;
use headshot_core::sharpness::face_sharpness;
use headshot_core::warp::SquareWindow;
use image::RgbImage;
use tract_onnx::prelude::*;

use crate::models::{MESH_SIDE, face_mesh};
use crate::runtime::{VisionError, output_f32};

/// Mesh indices used here (MediaPipe's canonical face topology). "Right" is the subject's right.
pub(crate) mod idx {
    pub const FOREHEAD: usize = 10;
    pub const CHIN: usize = 152;
    pub const RIGHT_EYE_OUTER: usize = 33;
    pub const RIGHT_EYE_INNER: usize = 133;
    pub const RIGHT_EYE_UPPER: usize = 159;
    pub const RIGHT_EYE_LOWER: usize = 145;
    pub const LEFT_EYE_OUTER: usize = 263;
    pub const LEFT_EYE_INNER: usize = 362;
    pub const LEFT_EYE_UPPER: usize = 386;
    pub const LEFT_EYE_LOWER: usize = 374;
    /// The middle of the upper and of the lower lip's inner edge.
    pub const UPPER_LIP_INNER: usize = 13;
    pub const LOWER_LIP_INNER: usize = 14;
    /// The face's outline (MediaPipe's face oval), clockwise in the image from the top of the
    /// forehead: along the hairline, the temples, the cheeks and the jaw.
    pub const OUTLINE: [usize; 36] = [
        10, 338, 297, 332, 284, 251, 389, 356, 454, 323, 361, 288, 397, 365, 379, 378, 400, 377, 152, 148, 176, 149,
        150, 136, 172, 58, 132, 93, 234, 127, 162, 21, 54, 103, 67, 109,
    ];
}

/// A 3-D mesh point in crop pixels.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct MeshPoint {
    pub x: f32,
    pub y: f32,
    pub z: f32,
}

/// The mesh of one face: its points in crop pixels and the crop that maps them to the photo.
#[derive(Debug, Clone)]
pub struct FaceMesh {
    pub points: Vec<MeshPoint>,
    /// The points the model gives for the mirrored crop (in that crop's coordinates).
    pub mirrored: Vec<MeshPoint>,
    pub window: SquareWindow,
    /// The mesh's confidence that the crop holds a face, 0..1.
    pub presence: f32,
}

impl FaceMesh {
    pub fn photo_point(&self, i: usize) -> Point {
        let p = self.points.get(i).copied().unwrap_or_default();
        self.window.to_photo(Point::new(p.x, p.y))
    }
}

/// Runs the face mesh on `face` of `photo` (full resolution) reading from `analysis` when the
/// face is large enough there: it saves sampling a 12 MP image for a 192 px crop.
pub fn mesh_face(
    photo: &RgbImage,
    analysis: &RgbImage,
    analysis_scale: f32,
    face: &Face,
) -> Result<FaceMesh, VisionError> {
    let model = face_mesh()?;
    let (window, crop) = face_crop(photo, analysis, analysis_scale, face);
    let (points, presence) = run_mesh(model, &crop)?;
    // The mesh model is not exactly mirror-symmetric; averaging it with its reading of the
    // mirrored crop makes yaw change sign, and pitch stay, when the photo is mirrored.
    let (mirrored, _) = run_mesh(model, &image::imageops::flip_horizontal(&crop))?;
    Ok(FaceMesh { points, mirrored, window, presence })
}

/// The aligned crop the mesh reads: 1.5 times the face box, turned so the eyes are level, taken
/// from the analysis copy when the face is large enough there.
fn face_crop(photo: &RgbImage, analysis: &RgbImage, analysis_scale: f32, face: &Face) -> (SquareWindow, RgbImage) {
    let side = face.bbox.w.max(face.bbox.h) * 1.5;
    let center = face.bbox.center();
    let window = SquareWindow { center, side, angle_deg: face.landmarks.roll_deg(), out: MESH_SIDE as u32 };
    let crop = if side / analysis_scale >= MESH_SIDE as f32 {
        let s = 1.0 / analysis_scale;
        SquareWindow { center: center.scaled(s), side: side * s, ..window }.sample(analysis)
    } else {
        window.sample(photo)
    };
    (window, crop)
}

fn run_mesh(model: &crate::runtime::Model, crop: &RgbImage) -> Result<(Vec<MeshPoint>, f32), VisionError> {
    let n = MESH_SIDE;
    let input = tract_ndarray::Array4::<f32>::from_shape_fn((1, n, n, 3), |(_, y, x, c)| {
        f32::from(crop.get_pixel(x as u32, y as u32)[c]) / 255.0
    });
    let outputs = model.run(input.into_tensor())?;
    let raw = output_f32(model, &outputs, 0)?;
    let presence_logit = output_f32(model, &outputs, 1)?.first().copied().unwrap_or(-10.0);
    let points = raw.chunks_exact(3).map(|c| MeshPoint { x: c[0], y: c[1], z: c[2] }).collect::<Vec<_>>();
    if points.len() != 468 {
        return Err(VisionError::Run {
            model: model.name(),
            reason: format!("expected 468 points, got {}", points.len()),
        });
    }
    Ok((points, sigmoid(presence_logit)))
}

fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + (-x).exp())
}

/// Reads the details of a face from its mesh and, when the iris model read them, its eyes.
/// `photo` is the full-resolution photo (for the sharpness measure).
pub fn face_details(photo: &RgbImage, face: &Face, mesh: &FaceMesh, eyes: Option<EyesReading>) -> FaceDetails {
    let p = |i: usize| mesh.points.get(i).copied().unwrap_or_default();
    let q = |i: usize| mesh.mirrored.get(i).copied().unwrap_or_default();
    let pose = head_pose(mesh, &p, &q);

    let chin = mesh.photo_point(idx::CHIN);
    let re = mesh.photo_point(idx::RIGHT_EYE_OUTER).midpoint(mesh.photo_point(idx::RIGHT_EYE_INNER));
    let le = mesh.photo_point(idx::LEFT_EYE_OUTER).midpoint(mesh.photo_point(idx::LEFT_EYE_INNER));
    let eye_to_chin = re.midpoint(le).distance(chin).max(1.0);
    // The iris model's lids are the sharper reading; the mesh's lids sit on the lash line.
    let eye_openness = match &eyes {
        Some(e) => gaze::eye_openness(e, eye_to_chin),
        None => {
            let opening = |u: usize, l: usize| mesh.photo_point(u).distance(mesh.photo_point(l));
            0.5 * (opening(idx::RIGHT_EYE_UPPER, idx::RIGHT_EYE_LOWER)
                + opening(idx::LEFT_EYE_UPPER, idx::LEFT_EYE_LOWER))
                / eye_to_chin
        }
    };

    FaceDetails {
        pose,
        eye_openness,
        gaze: eyes.as_ref().map(|e| gaze::gaze_direction(e, &pose)),
        eyes,
        sharpness: face_sharpness(photo, face.bbox),
        mesh_presence: mesh.presence,
        forehead: mesh.photo_point(idx::FOREHEAD),
        chin,
        mouth_openness: mouth_openness(mesh, eye_to_chin),
        outline: idx::OUTLINE.iter().map(|&i| mesh.photo_point(i)).collect(),
    }
}

/// The inner lips' gap over the eye-to-chin distance, averaged over the crop and its mirror
/// (the mesh is not exactly mirror-symmetric).
fn mouth_openness(mesh: &FaceMesh, eye_to_chin: f32) -> f32 {
    let gap = |pts: &[MeshPoint]| {
        let (a, b) = (pts.get(idx::UPPER_LIP_INNER), pts.get(idx::LOWER_LIP_INNER));
        a.zip(b).map_or(0.0, |(a, b)| ((a.x - b.x).powi(2) + (a.y - b.y).powi(2)).sqrt())
    };
    // Crop pixels to photo pixels.
    let scale = mesh.window.side / mesh.window.out.max(1) as f32;
    0.5 * (gap(&mesh.points) + gap(&mesh.mirrored)) * scale / eye_to_chin.max(1.0)
}

/// The mesh's forehead-to-chin line leans back from the face's true vertical: faces looking
/// straight into the lens measure about -8 degrees of raw pitch (median over the camera-labelled
/// photos of `../shared/photos`), so that reads as level.
const RESTING_PITCH_DEG: f32 = -8.0;

/// Yaw and pitch from the direction the mesh's face plane points; roll from the eye line in the
/// photo (the crop was turned by the detector's eye line; the mesh corrects it).
fn head_pose(mesh: &FaceMesh, p: &impl Fn(usize) -> MeshPoint, q: &impl Fn(usize) -> MeshPoint) -> Pose {
    let (yaw_a, pitch_a) = facing(p);
    // In the mirrored crop the same face turns the other way.
    let (yaw_b, pitch_b) = facing(q);
    // Roll inside the crop, from each reading (mirroring turns it the other way), plus the angle
    // the crop was turned by (the window maps crop directions to photo ones by that rotation).
    let eye_line = |f: &dyn Fn(usize) -> MeshPoint| {
        let (r, l) = (f(idx::RIGHT_EYE_OUTER), f(idx::LEFT_EYE_OUTER));
        (l.y - r.y).atan2(l.x - r.x).to_degrees()
    };
    let roll_deg = mesh.window.angle_deg + 0.5 * (eye_line(p) - eye_line(q));
    Pose { yaw_deg: 0.5 * (yaw_a - yaw_b), pitch_deg: 0.5 * (pitch_a + pitch_b) - RESTING_PITCH_DEG, roll_deg }
}

/// Yaw and pitch (degrees) of the direction the face plane of a mesh points.
fn facing(p: &impl Fn(usize) -> MeshPoint) -> (f32, f32) {
    let sub = |a: MeshPoint, b: MeshPoint| [a.x - b.x, a.y - b.y, a.z - b.z];
    // Across the face, towards the viewer's right; down the face, towards the chin.
    let across = sub(p(idx::LEFT_EYE_OUTER), p(idx::RIGHT_EYE_OUTER));
    let down = sub(p(idx::CHIN), p(idx::FOREHEAD));
    // across x down points away from the camera for a frontal face (+z is farther); the face
    // looks the opposite way.
    let n = [
        across[1] * down[2] - across[2] * down[1],
        across[2] * down[0] - across[0] * down[2],
        across[0] * down[1] - across[1] * down[0],
    ];
    let len = (n[0] * n[0] + n[1] * n[1] + n[2] * n[2]).sqrt().max(1e-6);
    let f = [-n[0] / len, -n[1] / len, -n[2] / len];
    (f[0].clamp(-1.0, 1.0).asin().to_degrees(), (-f[1]).clamp(-1.0, 1.0).asin().to_degrees())
}
