//! Where the eyes look: from the iris centres inside the eye openings and the head pose, a gaze
//! direction relative to the camera's axis. Pure geometry; the judgement decides what counts as
//! looking into the lens (`judge::at_camera`).
//!
//! The model (orthographic camera, x to the viewer's right): each eyeball turns about a centre
//! that lies `EYE_CENTRE_DEPTH` eyeball radii behind the midpoint of the eye's two corners, and
//! the iris sits one radius in front of that centre along the gaze. With the head turned by yaw
//! `psi` and the eye looking along `gamma` (both in the camera's frame), the iris appears off the
//! corners' midpoint by `R sin(gamma) - D sin(psi)`, while the corners themselves appear
//! `W cos(psi)` apart. So the iris offset `h` (a share of half the projected eye width) gives
//! `sin(gamma) = (W / 2R) h cos(psi) + (D / R) sin(psi)`, and the same holds vertically with the
//! head's pitch. An eye looking into the lens from a turned head shows its iris close to the
//! middle of the opening; an eye fixed in a turned head shows it shifted towards the turn.

use serde::Serialize;

use crate::face::{EyeReading, EyesReading, Pose};
use crate::geometry::Point;

/// Half the eye's corner-to-corner width over the eyeball's radius: adult palpebral fissures
/// are ~29 mm wide and the iris plane sits ~11.5 mm in front of the eye's centre of rotation
/// (Gullstrand's schematic eye), so 14.5 / 11.5.
pub const HALF_WIDTH_OVER_RADIUS: f32 = 1.26;
/// How far the eye's centre of rotation lies behind the midpoint of its corners, in eyeball
/// radii, for turns of the head to the side. Fitted on the camera-labelled faces of
/// `../shared/photos` (head yaw -13 to +12 degrees): their iris offsets fall with the tangent of
/// the head's yaw at a slope of -0.13 half-widths, i.e. a depth of 0.13 x 1.26 = 0.16 radii
/// (anatomy would allow 0.1-0.4: the medial canthus sits well in front of the lateral one).
pub const EYE_CENTRE_DEPTH: f32 = 0.16;
/// The same depth for nods of the head. On the same photos (head pitch -11 to +21 degrees) the
/// vertical iris offset does not move with the head's pitch (slope 0.02 half-widths per unit
/// tangent, within noise), so none is applied: the mesh's pitch is also the least sure of its
/// angles (it leans with the forehead's slope).
pub const EYE_CENTRE_DEPTH_VERTICAL: f32 = 0.0;
/// Where an iris centre sits at rest, off its corners' midpoint, in half eye widths: towards the
/// outer corner (the inner corner's caruncle widens the opening on the nose's side) and above
/// the line through the corners. Medians over the camera-labelled faces of `../shared/photos`
/// (0.10 and 0.14, the spread of each about 0.05).
pub const RESTING_IRIS_OUTWARD: f32 = 0.10;
pub const RESTING_IRIS_RISE: f32 = 0.14;

/// A gaze direction relative to the camera's axis, degrees: 0, 0 looks into the lens.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize)]
pub struct GazeDirection {
    /// > 0: towards the viewer's right.
    pub yaw_deg: f32,
    /// > 0: upwards.
    pub pitch_deg: f32,
}

/// Where one eye's iris sits in its opening, as shares of half the eye's projected width:
/// `across` > 0 towards the viewer's right, `down` > 0 below the corners' line.
pub fn iris_offset(eye: &EyeReading) -> (f32, f32) {
    let (a, b) = (eye.viewer_left, eye.viewer_right);
    let half = (a.distance(b) * 0.5).max(1e-3);
    let ex = Point::new((b.x - a.x) / (2.0 * half), (b.y - a.y) / (2.0 * half));
    // Down the face: the eye line turned a quarter clockwise (y grows downwards).
    let ey = Point::new(-ex.y, ex.x);
    let m = a.midpoint(b);
    let d = Point::new(eye.iris.x - m.x, eye.iris.y - m.y);
    ((d.x * ex.x + d.y * ex.y) / half, (d.x * ey.x + d.y * ey.y) / half)
}

/// The gaze of a pair of eyes, given the head's pose. Each eye's offset (from its own resting
/// place) is weighted by its projected width: the far eye of a turned head is foreshortened and
/// read less surely.
pub fn gaze_direction(eyes: &EyesReading, pose: &Pose) -> GazeDirection {
    let w = |e: &EyeReading| e.viewer_left.distance(e.viewer_right).max(1e-3);
    let (wr, wl) = (w(&eyes.right), w(&eyes.left));
    // The subject's right eye has its outer corner on the viewer's left.
    let (hr, vr) = iris_offset(&eyes.right);
    let (hl, vl) = iris_offset(&eyes.left);
    let (hr, hl) = (hr + RESTING_IRIS_OUTWARD, hl - RESTING_IRIS_OUTWARD);
    let h = (hr * wr + hl * wl) / (wr + wl);
    let v = (vr * wr + vl * wl) / (wr + wl) + RESTING_IRIS_RISE;
    let angle = |offset: f32, head_deg: f32, depth: f32| {
        let (s, c) = head_deg.to_radians().sin_cos();
        (HALF_WIDTH_OVER_RADIUS * offset * c + depth * s).clamp(-1.0, 1.0).asin().to_degrees()
    };
    // Pitch > 0 is upwards while image y grows downwards: the vertical offset enters negated.
    GazeDirection {
        yaw_deg: angle(h, pose.yaw_deg, EYE_CENTRE_DEPTH),
        pitch_deg: angle(-v, pose.pitch_deg, EYE_CENTRE_DEPTH_VERTICAL),
    }
}

/// Eye opening over the eye-midpoint-to-chin distance (ISO/IEC 29794-5's measure), from the
/// lids the iris model reads: the mean over both eyes of the distance between the middle of the
/// upper lid and of the lower lid.
pub fn eye_openness(eyes: &EyesReading, eye_to_chin: f32) -> f32 {
    let opening = |e: &EyeReading| e.upper_lid.distance(e.lower_lid);
    0.5 * (opening(&eyes.right) + opening(&eyes.left)) / eye_to_chin.max(1.0)
}

impl EyesReading {
    /// The same eyes in the photo mirrored left-right (`width` pixels wide): positions mirror,
    /// and the subject's right eye becomes their left.
    pub fn mirrored(&self, width: f32) -> Self {
        let m = |p: Point| Point::new(width - p.x, p.y);
        let eye = |e: &EyeReading| EyeReading {
            viewer_left: m(e.viewer_right),
            viewer_right: m(e.viewer_left),
            upper_lid: m(e.upper_lid),
            lower_lid: m(e.lower_lid),
            iris: m(e.iris),
            iris_radius: e.iris_radius,
        };
        EyesReading { right: eye(&self.left), left: eye(&self.right) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An eye 30 px wide centred at `c`, its iris `h` half-widths across and `v` down.
    fn eye(c: Point, h: f32, v: f32) -> EyeReading {
        EyeReading {
            viewer_left: Point::new(c.x - 15.0, c.y),
            viewer_right: Point::new(c.x + 15.0, c.y),
            upper_lid: Point::new(c.x, c.y - 5.0),
            lower_lid: Point::new(c.x, c.y + 5.0),
            iris: Point::new(c.x + 15.0 * h, c.y + 15.0 * v),
            iris_radius: 6.0,
        }
    }

    /// Both eyes with their irises `h` across and `v` down from where they rest.
    fn eyes(h: f32, v: f32) -> EyesReading {
        let v = v - RESTING_IRIS_RISE;
        EyesReading {
            right: eye(Point::new(100.0, 100.0), h - RESTING_IRIS_OUTWARD, v),
            left: eye(Point::new(160.0, 100.0), h + RESTING_IRIS_OUTWARD, v),
        }
    }

    #[test]
    fn centred_irises_in_a_frontal_head_look_into_the_lens() {
        let g = gaze_direction(&eyes(0.0, 0.0), &Pose::default());
        assert!(g.yaw_deg.abs() < 1e-3 && g.pitch_deg.abs() < 1e-3, "{g:?}");
    }

    #[test]
    fn irises_towards_the_viewers_right_look_right_and_mirroring_flips_it() {
        let e = eyes(0.3, 0.0);
        let g = gaze_direction(&e, &Pose::default());
        assert!(g.yaw_deg > 15.0, "{g:?}");
        let m = gaze_direction(&e.mirrored(300.0), &Pose::default());
        assert!((m.yaw_deg + g.yaw_deg).abs() < 1e-3 && (m.pitch_deg - g.pitch_deg).abs() < 1e-3, "{m:?}");
    }

    #[test]
    fn a_turned_head_with_eyes_fixed_in_it_looks_where_the_head_does() {
        // Eyes straight ahead in a head turned 20 degrees: the iris shows (R - D) sin(psi) off
        // the corners' midpoint against a width foreshortened by cos(psi).
        let psi = 20f32;
        let (s, c) = psi.to_radians().sin_cos();
        let h = (1.0 - EYE_CENTRE_DEPTH) * s / (HALF_WIDTH_OVER_RADIUS * c);
        let g = gaze_direction(&eyes(h, 0.0), &Pose { yaw_deg: psi, ..Pose::default() });
        assert!((g.yaw_deg - psi).abs() < 0.5, "{g:?}");
        // The same head with the eyes back on the lens: the iris shows -D sin(psi).
        let h = -EYE_CENTRE_DEPTH * s / (HALF_WIDTH_OVER_RADIUS * c);
        let g = gaze_direction(&eyes(h, 0.0), &Pose { yaw_deg: psi, ..Pose::default() });
        assert!(g.yaw_deg.abs() < 0.5, "{g:?}");
    }

    #[test]
    fn irises_low_in_the_opening_look_down() {
        let g = gaze_direction(&eyes(0.0, 0.3), &Pose::default());
        assert!(g.pitch_deg < -15.0, "{g:?}");
    }
}
