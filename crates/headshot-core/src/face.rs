//! A face as the program knows it: where it is, its five landmarks, and (for prominent faces)
//! the details read from the face mesh.

use serde::Serialize;

use crate::geometry::{Point, Rect};

/// Five landmarks in pixels of the oriented photo. `right_eye` is the subject's right eye, which
/// a viewer sees on the left.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, serde::Deserialize)]
pub struct Landmarks {
    pub right_eye: Point,
    pub left_eye: Point,
    pub nose: Point,
    pub mouth_right: Point,
    pub mouth_left: Point,
}

impl Landmarks {
    pub fn points(&self) -> [Point; 5] {
        [self.right_eye, self.left_eye, self.nose, self.mouth_right, self.mouth_left]
    }

    pub fn from_points(p: [Point; 5]) -> Self {
        Self { right_eye: p[0], left_eye: p[1], nose: p[2], mouth_right: p[3], mouth_left: p[4] }
    }

    /// Distance between the eye centres, in pixels: the standard measure of face resolution.
    pub fn inter_eye(&self) -> f32 {
        self.right_eye.distance(self.left_eye)
    }

    pub fn eye_mid(&self) -> Point {
        self.right_eye.midpoint(self.left_eye)
    }

    pub fn mouth_mid(&self) -> Point {
        self.mouth_right.midpoint(self.mouth_left)
    }

    /// Tilt of the eye line in degrees, positive when the subject's left eye (viewer's right) is
    /// lower, i.e. clockwise as seen.
    pub fn roll_deg(&self) -> f32 {
        let d = Point::new(self.left_eye.x - self.right_eye.x, self.left_eye.y - self.right_eye.y);
        d.y.atan2(d.x).to_degrees()
    }

    /// Every point scaled by `s`.
    pub fn scaled(&self, s: f32) -> Self {
        Self::from_points(self.points().map(|p| p.scaled(s)))
    }

    /// The landmarks of the same face in the photo mirrored left-right: positions mirror, and
    /// the subject's right eye becomes their left.
    pub fn mirrored(&self, width: f32) -> Self {
        let m = |p: Point| Point::new(width - p.x, p.y);
        Self {
            right_eye: m(self.left_eye),
            left_eye: m(self.right_eye),
            nose: m(self.nose),
            mouth_right: m(self.mouth_left),
            mouth_left: m(self.mouth_right),
        }
    }
}

/// Head pose in degrees. `yaw_deg` > 0: the face turns towards the viewer's right; `pitch_deg`
/// > 0: the chin rises; `roll_deg` > 0: the head tilts clockwise as seen.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, serde::Deserialize)]
pub struct Pose {
    pub yaw_deg: f32,
    pub pitch_deg: f32,
    pub roll_deg: f32,
}

/// One eye as the iris model reads it, pixels of the oriented photo.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, serde::Deserialize)]
pub struct EyeReading {
    /// The corner on the viewer's left and the one on the viewer's right.
    pub viewer_left: Point,
    pub viewer_right: Point,
    /// The middle of the upper and of the lower lid.
    pub upper_lid: Point,
    pub lower_lid: Point,
    /// The iris centre and its radius.
    pub iris: Point,
    pub iris_radius: f32,
}

/// Both eyes of a face. `right` is the subject's right eye (on the viewer's left).
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, serde::Deserialize)]
pub struct EyesReading {
    pub right: EyeReading,
    pub left: EyeReading,
}

impl EyesReading {
    /// The midpoint of the two eyes' centres (see `EyeReading::centre`) and the distance
    /// between them: where the eyes are and how far apart, unmoved by the gaze.
    pub fn centres(&self) -> (Point, f32) {
        let (right, left) = (self.right.centre(), self.left.centre());
        (right.midpoint(left), right.distance(left))
    }
}

/// What the face mesh and the iris model tell about a face: measurements only; the judgement
/// decides what they mean (eyes open, looking at the camera).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct FaceDetails {
    pub pose: Pose,
    /// Mean eye opening over the eye-midpoint-to-chin distance (ISO/IEC 29794-5's measure; see
    /// `gaze::eye_openness`).
    pub eye_openness: f32,
    /// The eyes, when the iris model read them.
    pub eyes: Option<EyesReading>,
    /// Where the eyes look relative to the camera axis (from `eyes` and `pose`).
    pub gaze: Option<crate::gaze::GazeDirection>,
    /// 0..1, resolution independent: 1 - the Crete et al. (2007) re-blur measure on the face at a
    /// normalised size. Around 0.5 and above is sharp for a face.
    pub sharpness: f32,
    /// The face mesh's confidence that the crop holds a human face (0..1).
    pub mesh_presence: f32,
    /// Top of the forehead from the mesh (the hairline region), pixels of the photo.
    pub forehead: Point,
    /// Chin tip from the mesh, pixels of the photo.
    pub chin: Point,
    /// Gap between the inner lips over the eye-midpoint-to-chin distance (0 = closed; see
    /// `document::MAX_MOUTH_OPENNESS`).
    pub mouth_openness: f32,
    /// The face's outline from the mesh (hairline, temples, cheeks, jaw), pixels of the photo:
    /// everything inside it is the person.
    pub outline: Vec<Point>,
}

/// One detected face.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Face {
    /// The detector's box, pixels of the oriented photo (YuNet's box runs from the brows to
    /// the chin; it is not the head).
    pub bbox: Rect,
    /// Detector confidence, 0..1.
    pub score: f32,
    pub landmarks: Landmarks,
    /// How much this face is the subject of the photo (size, centrality, sharpness), 0..1.
    pub prominence: f32,
    /// Present for the prominent faces.
    pub details: Option<FaceDetails>,
}

impl EyeReading {
    /// The middle of the eye's two corners: fixed in the face, where the iris moves with the gaze.
    pub fn centre(&self) -> Point {
        self.viewer_left.midpoint(self.viewer_right)
    }

    /// Every point scaled by `s`.
    pub fn scaled(&self, s: f32) -> Self {
        EyeReading {
            viewer_left: self.viewer_left.scaled(s),
            viewer_right: self.viewer_right.scaled(s),
            upper_lid: self.upper_lid.scaled(s),
            lower_lid: self.lower_lid.scaled(s),
            iris: self.iris.scaled(s),
            iris_radius: self.iris_radius * s,
        }
    }
}

impl FaceDetails {
    /// The same details in an image scaled by `s`: every position and length scaled, the
    /// measurements (pose, openness, sharpness) kept.
    pub fn scaled(&self, s: f32) -> FaceDetails {
        FaceDetails {
            eyes: self.eyes.map(|e| EyesReading { right: e.right.scaled(s), left: e.left.scaled(s) }),
            forehead: self.forehead.scaled(s),
            chin: self.chin.scaled(s),
            outline: self.outline.iter().map(|p| p.scaled(s)).collect(),
            ..self.clone()
        }
    }
}

impl Face {
    /// The same face in an image scaled by `s`: every position and length scaled, the rest kept.
    pub fn scaled(&self, s: f32) -> Face {
        Face {
            bbox: self.bbox.scaled(s),
            landmarks: self.landmarks.scaled(s),
            details: self.details.as_ref().map(|d| d.scaled(s)),
            ..self.clone()
        }
    }
}
