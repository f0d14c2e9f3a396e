//! Crop planning: where each use's frame sits in the photo, from the face, its landmarks and the
//! person matte (rules in `docs/framing.md`). Pure geometry: no pixels are touched here.
//!
//! A plan is a rectangle in the photo, possibly turned (to straighten a tilted head) and possibly
//! reaching outside the photo (when the background is being replaced, the canvas is extended
//! with the new background).

use serde::Serialize;

use crate::face::Face;
use crate::geometry::Point;
use crate::judge::needs_straightening;
use crate::matte::PersonMatte;
use crate::uses::{Composition, Use, UseKind};

/// A turned subject is placed to look into the frame when the head turns more than this.
const TURNED_DEG: f32 = 8.0;

/// The hairline of most adult heads sits about this many eye-to-chin distances above the eyes.
const FOREHEAD_OVER_EYE_TO_CHIN: f32 = 0.6;

/// How far past the frame's edge a headshot's estimated forehead or chin may fall, as a share
/// of the frame height, in the tightest crops of a face that fills the photo.
const HEADSHOT_SLACK: f32 = 0.02;

/// The least room kept above the crown in any output, as a share of the frame height: hair
/// may come close to the edge in a tight crop, never touch it.
pub const MIN_HEADROOM: f32 = 0.03;

/// When the photo lacks room and the background is kept, the frame may tighten to this share of
/// its planned height before the subject is moved off the planned eye line instead.
const MIN_TIGHTEN: f32 = 0.7;

/// The least eye-to-crown distance, in eye-to-chin distances, framing takes from the matte:
/// below it the matte may have lost the top of the hair (dark hair on a dark backdrop), and a
/// frame planned on it would cut the head; the typical proportion is safer there. A document
/// measures the head instead, and takes the matte down to `MIN_MEASURED_CROWN_OVER_CHIN`.
const MIN_CROWN_OVER_CHIN: f32 = 1.0;
/// The least eye-to-crown distance a head really has, in eye-to-chin distances: the eyes sit
/// about halfway between crown and chin, and a bald head with a broad smile (whose jaw drops)
/// reads 0.75.
const MIN_MEASURED_CROWN_OVER_CHIN: f32 = 0.75;

/// The head as the planner sees it, in photo pixels.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize)]
pub struct Head {
    /// Midpoint between the eyes.
    pub eye_mid: Point,
    /// Distance between the eye centres.
    pub inter_eye: f32,
    /// Eye line to chin, along the face's own vertical.
    pub eye_to_chin: f32,
    /// Eye line to the top of the hair, along the face's own vertical.
    pub eye_to_top: f32,
    /// Tilt of the eye line, degrees, clockwise as seen.
    pub roll_deg: f32,
    /// Whether `eye_to_top` came from the matte (else it is the typical proportion).
    pub top_from_matte: bool,
    /// Which way the face is turned, degrees: > 0 towards the viewer's right.
    pub yaw_deg: f32,
    /// The person runs into the photo's left, right or top edge: a canvas extended past that
    /// side would show the body (or the head) ending in a hard line.
    pub cut_left: bool,
    pub cut_right: bool,
    pub cut_top: bool,
    /// Eye line to the top of the hair as the matte reads it, when a head can be that shape
    /// (`measured`).
    pub measured_top: Option<f32>,
}

impl Head {
    /// Reads the head off a face and, if known, the hair top (photo y of the highest person
    /// pixel above the face, from the matte).
    pub fn new(face: &Face, hair_top_y: Option<f32>) -> Head {
        let lm = &face.landmarks;
        let eye_mid = lm.eye_mid();
        let roll_deg = face.details.as_ref().map_or(lm.roll_deg(), |d| d.pose.roll_deg);
        let (sin, cos) = roll_deg.to_radians().sin_cos();
        // Distance along the face's vertical (the eye line's normal).
        let along = |p: Point| -(p.x - eye_mid.x) * sin + (p.y - eye_mid.y) * cos;
        // Mouth sits ~62 % of the way from the eye line to the chin in adult faces; the mesh's
        // chin point is better when there is one.
        let from_mouth = along(lm.mouth_mid()) / 0.62;
        let eye_to_chin = match &face.details {
            Some(d) if along(d.chin) > 0.0 => along(d.chin),
            _ => from_mouth,
        }
        .max(lm.inter_eye() * 0.8)
        .max(1.0);
        // Hair top: trust the matte within the range heads come in (1.0 to 1.9 eye-to-chin
        // distances above the eyes); outside it the matte has caught a hat, a wall or nothing.
        let typical = 1.3 * eye_to_chin;
        let (eye_to_top, top_from_matte) = match hair_top_y {
            Some(y) => {
                let above = (eye_mid.y - y) / cos.max(0.5);
                if (MIN_CROWN_OVER_CHIN * eye_to_chin..=1.9 * eye_to_chin).contains(&above) {
                    (above, true)
                } else {
                    (above.clamp(MIN_CROWN_OVER_CHIN * eye_to_chin, 1.9 * eye_to_chin), false)
                }
            }
            None => (typical, false),
        };
        let measured_top = hair_top_y
            .map(|y| (eye_mid.y - y) / cos.max(0.5))
            .filter(|&above| (MIN_MEASURED_CROWN_OVER_CHIN * eye_to_chin..=1.9 * eye_to_chin).contains(&above));
        Head {
            eye_mid,
            inter_eye: lm.inter_eye(),
            eye_to_chin,
            eye_to_top,
            roll_deg,
            top_from_matte,
            yaw_deg: face.details.as_ref().map_or(0.0, |d| d.pose.yaw_deg),
            cut_left: false,
            cut_right: false,
            cut_top: false,
            measured_top,
        }
    }

    /// The distance between the eyes as it would be seen with the face turned to the camera: a
    /// head turned by an angle shows its eyes closer together by the angle's cosine, and is no
    /// smaller for it (a face turned 15 degrees, sized by what is seen, comes out 3.5 % too
    /// large beside frontal ones). Team sizes are set in it. Turns past `MAX_CORRECTED_TURN_DEG`
    /// count as that much.
    pub fn frontal_inter_eye(&self) -> f32 {
        self.inter_eye * self.turn_factor()
    }

    /// `frontal_inter_eye` over the inter-eye distance as seen (>= 1).
    pub fn turn_factor(&self) -> f32 {
        1.0 / self.yaw_deg.abs().min(MAX_CORRECTED_TURN_DEG).to_radians().cos()
    }

    /// The head as a document measures it, chin to crown: the matte's crown wherever a head
    /// can have it, even nearer the eyes than framing trusts (see `MIN_CROWN_OVER_CHIN`).
    pub fn measured(&self) -> Head {
        match self.measured_top {
            Some(top) if !self.top_from_matte => Head { eye_to_top: top, top_from_matte: true, ..*self },
            _ => *self,
        }
    }

    /// Reads the head of `face` (photo pixels) with the person matte (analysis pixels, `scale`
    /// photo pixels each): the hair top, and which of the photo's edges the person runs into
    /// from the eyes down to four head heights below.
    pub fn read(face: &Face, matte: &PersonMatte, scale: f32) -> Head {
        let b = face.bbox;
        let eye_y = face.landmarks.eye_mid().y;
        let top = matte.head_top(b.x / scale, b.right() / scale, eye_y / scale).map(|y| y * scale);
        let mut head = Head::new(face, top);
        let (mw, mh) = (matte.width, matte.height);
        if mw < 2 || mh < 2 {
            return head;
        }
        let y0 = (eye_y / scale).max(0.0) as u32;
        let y1 = (((eye_y + 4.0 * head.height()) / scale) as u32).min(mh);
        let rows = y1.saturating_sub(y0).max(1);
        // A few rows of hair or a shoulder at the edge already show as a hard line.
        let runs_into = |x: u32| (y0..y1).filter(|&y| matte.get(x, y) > 0.5).count() * 50 >= rows as usize;
        head.cut_left = runs_into(0);
        head.cut_right = runs_into(mw - 1);
        head.cut_top = top.is_some_and(|t| t <= scale);
        head
    }

    /// The point `d` photo pixels below the eyes' midpoint along the face's own vertical
    /// (above for negative `d`).
    pub fn along(&self, d: f32) -> Point {
        let (sin, cos) = self.roll_deg.to_radians().sin_cos();
        Point::new(self.eye_mid.x - d * sin, self.eye_mid.y + d * cos)
    }

    /// The crown (hair top), in photo pixels.
    pub fn crown(&self) -> Point {
        self.along(-self.eye_to_top)
    }

    /// The chin, in photo pixels.
    pub fn chin(&self) -> Point {
        self.along(self.eye_to_chin)
    }

    /// Hair top to chin.
    pub fn height(&self) -> f32 {
        self.eye_to_top + self.eye_to_chin
    }
}

/// How the frame relates to the photo's edges.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Fit {
    /// The planned frame lies inside the photo.
    AsPlanned,
    /// The photo lacked room: the frame was tightened around the same eye line.
    Tightened,
    /// The photo lacked room even for a tighter frame: the subject moved off the planned line.
    Shifted,
    /// The frame reaches past the photo's top or sides; the new background fills the rest.
    ExtendedCanvas,
}

/// A planned crop: a `width` x `height` rectangle of photo pixels centred on `center`, turned by
/// `angle_deg` (clockwise as seen), to be resampled into `out_w` x `out_h`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct CropPlan {
    pub center: Point,
    pub width: f32,
    pub height: f32,
    pub angle_deg: f32,
    pub out_w: u32,
    pub out_h: u32,
    pub fit: Fit,
    /// The eye line the composition asked for, and where it landed (shares of the height).
    pub eye_line_target: f32,
    pub eye_line: f32,
    /// The frame height the composition (or a team's common size) asked for, photo pixels:
    /// above `height` when the photo's edges made the frame tighter.
    pub asked_height: f32,
}

impl CropPlan {
    /// Output pixel (continuous coordinates, 0..out_w) -> photo pixel.
    pub fn to_photo(&self, u: f32, v: f32) -> Point {
        let (sin, cos) = self.angle_deg.to_radians().sin_cos();
        let x = (u / self.out_w as f32 - 0.5) * self.width;
        let y = (v / self.out_h as f32 - 0.5) * self.height;
        Point::new(self.center.x + x * cos - y * sin, self.center.y + x * sin + y * cos)
    }

    /// The output -> photo map as an affine step per output pixel, for loops over every pixel:
    /// the sine and cosine are taken once per frame instead of once per pixel.
    pub fn pixel_map(&self) -> PixelMap {
        let (sin, cos) = self.angle_deg.to_radians().sin_cos();
        let (sx, sy) = (self.width / self.out_w as f32, self.height / self.out_h as f32);
        PixelMap {
            first: self.to_photo(0.5, 0.5),
            step_x: Point::new(sx * cos, sx * sin),
            step_y: Point::new(-sy * sin, sy * cos),
        }
    }

    /// Photo pixel -> output pixel (the inverse of `to_photo`).
    pub fn to_output(&self, p: Point) -> Point {
        let (sin, cos) = self.angle_deg.to_radians().sin_cos();
        let (dx, dy) = (p.x - self.center.x, p.y - self.center.y);
        let x = dx * cos + dy * sin;
        let y = -dx * sin + dy * cos;
        Point::new((x / self.width + 0.5) * self.out_w as f32, (y / self.height + 0.5) * self.out_h as f32)
    }

    /// Output pixels per photo pixel.
    pub fn scale(&self) -> f32 {
        self.out_h as f32 / self.height.max(1e-3)
    }

    /// The axis-aligned box of photo pixels the turned frame touches.
    pub fn bounds(&self) -> crate::geometry::Rect {
        let (sin, cos) = self.angle_deg.to_radians().sin_cos();
        let bw = self.width * cos.abs() + self.height * sin.abs();
        let bh = self.width * sin.abs() + self.height * cos.abs();
        crate::geometry::Rect::new(self.center.x - bw / 2.0, self.center.y - bh / 2.0, bw, bh)
    }
}

/// Where each output pixel's centre falls in the photo: `first` for pixel (0, 0), plus `step_x`
/// per column and `step_y` per row (see `CropPlan::pixel_map`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PixelMap {
    pub first: Point,
    pub step_x: Point,
    pub step_y: Point,
}

impl PixelMap {
    /// The photo point under the centre of output pixel (`x`, `y`).
    pub fn at(&self, x: u32, y: u32) -> Point {
        let (x, y) = (x as f32, y as f32);
        Point::new(
            self.first.x + x * self.step_x.x + y * self.step_y.x,
            self.first.y + x * self.step_x.y + y * self.step_y.y,
        )
    }
}

/// What the planner may do at the photo's edges.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Canvas {
    /// The background is kept: the frame must stay inside the photo.
    PhotoOnly,
    /// The background is replaced: the frame may reach past the top and sides (filled with the
    /// new background), but not below the photo, nor past a side the person runs into, where
    /// the body would end in a hard line.
    Extendable,
}

/// Joints in head heights below the hair top (an adult is about 7.5 to 8 heads tall): a frame
/// edge falling inside one of these bands cuts the body at a joint, which reads as amputation.
const JOINT_BANDS: [(f32, f32); 5] = [(1.0, 1.35), (2.75, 3.25), (3.8, 4.2), (5.7, 6.3), (7.5, 8.2)];

/// The largest turn `Head::frontal_inter_eye` corrects for: the face mesh's yaw agrees with an
/// independent reading of it (the depth of the eye corners, in OpenCV's run of the same mesh
/// file: tests/outputs/check_team.py) within about 2 degrees up to the 17 degrees of the most
/// turned labelled photo; beyond 30 degrees a team photo is a profile, not a headshot.
const MAX_CORRECTED_TURN_DEG: f32 = 30.0;

/// Plans the crop of `head` for a use. `inter_eye_share`, when given (team mode), fixes the
/// inter-eye distance (seen frontally: `Head::frontal_inter_eye`) as a share of the frame
/// height instead of the head height, so every person of a team comes out the same size.
pub fn plan(
    head: &Head,
    u: &Use,
    photo_w: u32,
    photo_h: u32,
    canvas: Canvas,
    inter_eye_share: Option<f32>,
) -> CropPlan {
    let comp = match &u.document {
        Some(rules) => crate::document::compose(rules, u.composition(), head),
        None => placed(u.composition(), head),
    };
    let aspect = u.aspect();
    // The same test the verdict's "straighten" fix is given by.
    let angle_deg = if needs_straightening(head.roll_deg) { head.roll_deg } else { 0.0 };

    let mut height = match inter_eye_share {
        Some(share) if share > 0.0 => head.frontal_inter_eye() / share,
        _ => head.height() / comp.head,
    };
    // Wider crops: move the bottom edge off a joint by growing or shrinking the frame a little.
    if u.kind == UseKind::Portrait && inter_eye_share.is_none() {
        height = avoid_joints(head, &comp, height);
    }
    let asked_height = height;

    // Everything below is linear in the frame height: centre = eye + height * v.
    let (sin, cos) = angle_deg.to_radians().sin_cos();
    let off = Point::new((0.5 - comp.eye_x) * aspect, 0.5 - comp.eye_line);
    let v = Point::new(off.x * cos - off.y * sin, off.x * sin + off.y * cos);
    let kw = aspect * cos.abs() + sin.abs();
    let kh = aspect * sin.abs() + cos.abs();
    let e = head.eye_mid;
    let (w, h) = (photo_w as f32, photo_h as f32);

    // The largest height whose box keeps each named edge inside the photo.
    let bound = |pos: f32, coef: f32, limit: f32| -> f32 {
        // Edge position = pos + height * coef must be >= 0 (coef < 0) or <= limit (coef > 0).
        if coef > 1e-6 {
            (limit - pos) / coef
        } else if coef < -1e-6 {
            pos / -coef
        } else {
            f32::INFINITY
        }
    };
    let bottom = bound(e.y, v.y + kh / 2.0, h);
    let top = bound(e.y, v.y - kh / 2.0, 0.0);
    let left = bound(e.x, v.x - kw / 2.0, 0.0);
    let right = bound(e.x, v.x + kw / 2.0, w);
    let fit_height = match canvas {
        Canvas::PhotoOnly => bottom.min(top).min(left).min(right),
        Canvas::Extendable => {
            let side = |cut: bool, bound: f32| if cut { bound } else { f32::INFINITY };
            bottom.min(side(head.cut_left, left)).min(side(head.cut_right, right)).min(side(head.cut_top, top))
        }
    };
    let largest = (w / kw).min(h / kh);

    let mut fit = Fit::AsPlanned;
    let mut center = Point::new(e.x + height * v.x, e.y + height * v.y);
    if fit_height.max(0.0) < height {
        if fit_height >= height * MIN_TIGHTEN {
            // Tightened, a portrait's bottom edge still keeps off the joints (by tightening a
            // little more, to the band's upper edge).
            let free = joint_free_below(head, &comp, fit_height);
            let portrait = u.kind == UseKind::Portrait && inter_eye_share.is_none();
            height = if portrait && free >= height * MIN_TIGHTEN { free } else { fit_height };
            fit = Fit::Tightened;
            center = Point::new(e.x + height * v.x, e.y + height * v.y);
        } else {
            // Keep a sensible size and slide the frame into the photo.
            height = (height * MIN_TIGHTEN).min(largest);
            center = Point::new(e.x + height * v.x, e.y + height * v.y);
            let (bw, bh) = (height * kw, height * kh);
            let clamp = |c: f32, half: f32, limit: f32| {
                if limit <= 2.0 * half { limit / 2.0 } else { c.clamp(half, limit - half) }
            };
            // Off the planned eye line, the head is what must stay whole: slide so the chin
            // and the crown (or, where the frame is too short for both, the forehead) are in.
            let chin = head.chin().y + 0.02 * bh;
            let crown = head.crown().y - MIN_HEADROOM * bh;
            let forehead = head.along(-FOREHEAD_OVER_EYE_TO_CHIN * head.eye_to_chin).y;
            for top in [crown, forehead] {
                if chin - top <= bh {
                    center.y = center.y.clamp(chin - bh / 2.0, top + bh / 2.0);
                    break;
                }
            }
            match canvas {
                Canvas::PhotoOnly => {
                    center.x = clamp(center.x, bw / 2.0, w);
                    center.y = clamp(center.y, bh / 2.0, h);
                }
                Canvas::Extendable => {
                    center.y = center.y.min(h - bh / 2.0);
                    if head.cut_left || head.cut_right {
                        center.x = clamp(center.x, bw / 2.0, w);
                    }
                }
            }
            fit = Fit::Shifted;
        }
    }
    let mut plan = CropPlan {
        center,
        width: height * aspect,
        height,
        angle_deg,
        out_w: u.width,
        out_h: u.height,
        fit,
        eye_line_target: comp.eye_line,
        eye_line: 0.0,
        asked_height,
    };
    plan.eye_line = plan.to_output(e).y / plan.out_h as f32;
    if plan.fit == Fit::AsPlanned && canvas == Canvas::Extendable {
        let b = plan.bounds();
        if b.x < 0.0 || b.y < 0.0 || b.right() > w {
            plan.fit = Fit::ExtendedCanvas;
        }
    }
    plan
}

/// Adjusts a portrait frame's height so its bottom edge does not fall on a joint: to whichever
/// edge of the band is nearer, with the eye line kept where the composition put it.
fn avoid_joints(head: &Head, comp: &Composition, height: f32) -> f32 {
    let hh = head.height();
    // Bottom edge, in head heights below the hair top.
    let units = |height: f32| ((1.0 - comp.eye_line) * height + head.eye_to_top) / hh;
    let height_for = |u: f32| (u * hh - head.eye_to_top) / (1.0 - comp.eye_line);
    let u = units(height);
    for (lo, hi) in JOINT_BANDS {
        if u > lo && u < hi {
            let edge = if u - lo < hi - u { lo } else { hi };
            return height_for(edge);
        }
    }
    height
}

/// The largest frame height up to `height` whose bottom edge is off the joints.
fn joint_free_below(head: &Head, comp: &Composition, height: f32) -> f32 {
    let hh = head.height();
    let units = ((1.0 - comp.eye_line) * height + head.eye_to_top) / hh;
    match JOINT_BANDS.iter().find(|&&(lo, hi)| units > lo && units < hi) {
        Some(&(lo, _)) => (lo * hh - head.eye_to_top) / (1.0 - comp.eye_line),
        None => height,
    }
}

/// The inter-eye share of frame height a use's composition gives a typical head: the team's
/// common size is the median of the people's own plans.
pub fn inter_eye_share(head: &Head, u: &Use) -> f32 {
    head.frontal_inter_eye() / (head.height() / u.composition().head)
}

/// The use's composition for this head: a subject turned to one side goes to the third that
/// leaves room in front of the face (looking into the frame), where the use allows it.
pub fn placed(mut comp: Composition, head: &Head) -> Composition {
    // Turned towards the viewer's right, the subject looks right: room on the right, so the
    // eyes go left of the centre (and the other way round).
    let wants_left = head.yaw_deg > TURNED_DEG;
    let wants_right = head.yaw_deg < -TURNED_DEG;
    let on_right = comp.eye_x > 0.5;
    if comp.into_frame && ((wants_left && on_right) || (wants_right && !on_right)) {
        let mirrored = 1.0 - comp.eye_x;
        if mirrored > comp.clear_left {
            comp.eye_x = mirrored;
        }
    }
    comp
}

/// Where a planned frame puts the head, and how much it enlarges the photo there.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct HeadInFrame {
    /// Crown, forehead (where hair starts on most heads) and chin, from the top, as shares of
    /// the frame height.
    pub crown: f32,
    pub forehead: f32,
    pub chin: f32,
    /// The face's sides (the eyes' midpoint plus or minus an inter-eye distance), from the left,
    /// as shares of the frame width.
    pub left: f32,
    pub right: f32,
    /// Output pixels per photo pixel at the face.
    pub enlarge: f32,
}

impl HeadInFrame {
    /// The whole head is in the frame: for a portrait with room above the crown, for a
    /// headshot at least from the forehead down (a tight web headshot may crop the top of the
    /// hair, framing.md; the planner only does so when the photo has no room above); the chin
    /// and the face's sides inside, clear of the share of the width on the left the use keeps
    /// free. A portrait of a head the photo itself cuts at the top has no crown to show.
    pub fn whole(&self, head: &Head, u: &Use) -> bool {
        let (top, slack) = match u.kind {
            // The forehead is a typical proportion, not a measured point: a tight crop within a
            // few per cent of it still shows the whole face.
            UseKind::Headshot => (self.forehead >= -HEADSHOT_SLACK, HEADSHOT_SLACK),
            UseKind::Portrait => (!head.cut_top && self.crown >= MIN_HEADROOM, 0.0),
            // A document measures the head from chin to crown: the crown must be in, and seen.
            UseKind::Document => (!head.cut_top && self.crown >= 0.0, 0.0),
        };
        top && self.chin <= 1.0 + slack && self.left >= u.composition().clear_left && self.right <= 1.0
    }
}

impl CropPlan {
    /// Where this frame puts `head`.
    pub fn head_in_frame(&self, head: &Head) -> HeadInFrame {
        let (w, h) = (self.out_w as f32, self.out_h as f32);
        let crown = self.to_output(head.crown()).y / h;
        let forehead = self.to_output(head.along(-FOREHEAD_OVER_EYE_TO_CHIN * head.eye_to_chin)).y / h;
        let chin = self.to_output(head.chin()).y / h;
        let eyes = self.to_output(head.eye_mid).x;
        let side = head.inter_eye * self.scale();
        HeadInFrame { crown, forehead, chin, left: (eyes - side) / w, right: (eyes + side) / w, enlarge: self.scale() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::face::Landmarks;
    use crate::geometry::Rect;
    use crate::uses::Catalogue;

    fn head(eye: Point, roll: f32) -> Head {
        Head {
            eye_mid: eye,
            inter_eye: 60.0,
            eye_to_chin: 100.0,
            eye_to_top: 130.0,
            roll_deg: roll,
            top_from_matte: true,
            yaw_deg: 0.0,
            cut_left: false,
            cut_right: false,
            cut_top: false,
            measured_top: None,
        }
    }

    fn use_named(name: &str) -> Use {
        Catalogue::built_in().get(name).cloned().expect("built-in use")
    }

    #[test]
    fn a_headshot_puts_the_eye_line_where_the_composition_asks() {
        let u = use_named("linkedin");
        let p = plan(&head(Point::new(1000.0, 800.0), 0.0), &u, 2000, 3000, Canvas::PhotoOnly, None);
        assert_eq!(p.fit, Fit::AsPlanned);
        assert!((p.eye_line - p.eye_line_target).abs() < 1e-3, "{p:?}");
        // Head height 230 px is half the frame.
        assert!((p.height - 460.0).abs() < 1e-2, "{p:?}");
        // Hair top inside, with margin.
        let top = p.to_output(Point::new(1000.0, 670.0)).y / p.out_h as f32;
        assert!(top > 0.1, "{top}");
    }

    #[test]
    fn to_output_inverts_to_photo_when_turned() {
        let u = use_named("team-page");
        let p = plan(&head(Point::new(500.0, 500.0), 7.0), &u, 2000, 2000, Canvas::PhotoOnly, None);
        assert!((p.angle_deg - 7.0).abs() < 1e-6);
        let q = p.to_photo(123.0, 456.0);
        let back = p.to_output(q);
        assert!((back.x - 123.0).abs() < 1e-2 && (back.y - 456.0).abs() < 1e-2, "{back:?}");
    }

    #[test]
    fn the_pixel_map_steps_where_to_photo_goes() {
        let u = use_named("team-page");
        let p = plan(&head(Point::new(500.0, 500.0), 7.0), &u, 2000, 2000, Canvas::PhotoOnly, None);
        let map = p.pixel_map();
        for (x, y) in [(0u32, 0u32), (799, 0), (0, 999), (400, 517), (799, 999)] {
            let (a, b) = (map.at(x, y), p.to_photo(x as f32 + 0.5, y as f32 + 0.5));
            assert!((a.x - b.x).abs() < 1e-2 && (a.y - b.y).abs() < 1e-2, "({x}, {y}): {a:?} vs {b:?}");
        }
    }

    #[test]
    fn a_small_tilt_is_left_alone() {
        let u = use_named("linkedin");
        let p = plan(&head(Point::new(1000.0, 800.0), 1.5), &u, 2000, 3000, Canvas::PhotoOnly, None);
        assert_eq!(p.angle_deg, 0.0);
    }

    #[test]
    fn no_room_above_tightens_or_shifts_inside_the_photo_when_the_background_is_kept() {
        let u = use_named("linkedin");
        for eye_y in [150.0, 100.0, 40.0] {
            let p = plan(&head(Point::new(1000.0, eye_y), 0.0), &u, 2000, 3000, Canvas::PhotoOnly, None);
            let b = p.bounds();
            assert!(b.x >= -1e-3 && b.y >= -1e-3 && b.right() <= 2000.001 && b.bottom() <= 3000.001, "{p:?}");
            assert_ne!(p.fit, Fit::AsPlanned);
        }
    }

    #[test]
    fn no_room_above_extends_the_canvas_when_the_background_is_replaced() {
        let u = use_named("linkedin");
        let p = plan(&head(Point::new(1000.0, 150.0), 0.0), &u, 2000, 3000, Canvas::Extendable, None);
        assert_eq!(p.fit, Fit::ExtendedCanvas);
        assert!((p.eye_line - p.eye_line_target).abs() < 1e-3);
    }

    #[test]
    fn wide_portraits_do_not_end_on_a_joint() {
        let h = head(Point::new(1000.0, 600.0), 0.0);
        for u in Catalogue::built_in().uses.iter().filter(|u| u.kind == UseKind::Portrait) {
            let p = plan(&h, u, 4000, 6000, Canvas::PhotoOnly, None);
            let bottom = (p.center.y + p.height / 2.0 - (600.0 - h.eye_to_top)) / h.height();
            for (lo, hi) in JOINT_BANDS {
                assert!(!(bottom > lo + 1e-3 && bottom < hi - 1e-3), "{}: bottom at {bottom} heads", u.name);
            }
        }
    }

    #[test]
    fn team_share_fixes_the_inter_eye_distance() {
        let u = use_named("team-page");
        let p = plan(&head(Point::new(1000.0, 800.0), 0.0), &u, 3000, 3000, Canvas::PhotoOnly, Some(0.1));
        assert!((60.0 * p.scale() / p.out_h as f32 - 0.1).abs() < 1e-4);
    }

    /// The same head turned by 20 degrees shows its eyes cos(20°) closer together; at the
    /// team's size it is framed exactly as large as facing the camera, and turned either way
    /// alike. Past the largest corrected turn, the correction stops growing.
    #[test]
    fn a_turned_head_joins_the_team_at_its_frontal_size() {
        let u = use_named("team-page");
        let frontal = head(Point::new(1500.0, 800.0), 0.0);
        let turned = |yaw: f32| Head { yaw_deg: yaw, inter_eye: 60.0 * yaw.to_radians().cos(), ..frontal };
        let frame = |h: &Head| plan(h, &u, 3000, 3000, Canvas::PhotoOnly, Some(0.1)).height;
        for yaw in [-20.0, 20.0] {
            assert!((frame(&turned(yaw)) / frame(&frontal) - 1.0).abs() < 1e-4, "{yaw}");
            assert!((inter_eye_share(&turned(yaw), &u) / inter_eye_share(&frontal, &u) - 1.0).abs() < 1e-4);
        }
        let profile = frame(&turned(60.0)) / frame(&frontal);
        let most = 0.5 / MAX_CORRECTED_TURN_DEG.to_radians().cos();
        assert!((profile - most).abs() < 1e-4, "{profile} {most}");
    }

    #[test]
    fn a_turned_subject_looks_into_a_wide_frame() {
        let u = use_named("speaker-page");
        let eyes_x = |yaw: f32| {
            let h = Head { yaw_deg: yaw, ..head(Point::new(2000.0, 900.0), 0.0) };
            let p = plan(&h, &u, 4000, 4000, Canvas::PhotoOnly, None);
            p.to_output(h.eye_mid).x / p.out_w as f32
        };
        // Facing the camera: the catalogue's third. Turned to the viewer's right: the left
        // third, room in front of the face; turned the other way: the right third.
        assert!((eyes_x(0.0) - 0.65).abs() < 1e-3, "{}", eyes_x(0.0));
        assert!((eyes_x(25.0) - 0.35).abs() < 1e-3, "{}", eyes_x(25.0));
        assert!((eyes_x(-25.0) - 0.65).abs() < 1e-3, "{}", eyes_x(-25.0));
    }

    #[test]
    fn the_banner_keeps_the_head_clear_of_the_profile_circle() {
        let u = use_named("linkedin-banner");
        for yaw in [-25.0, 0.0, 25.0] {
            let h = Head { yaw_deg: yaw, ..head(Point::new(2000.0, 900.0), 0.0) };
            let p = plan(&h, &u, 4000, 4000, Canvas::PhotoOnly, None);
            let seen = p.head_in_frame(&h);
            assert!(seen.whole(&h, &u) && seen.left > 0.36, "yaw {yaw}: {seen:?}");
        }
    }

    #[test]
    fn a_wide_frame_is_not_extended_past_a_side_the_body_runs_into() {
        let u = use_named("personal-branding");
        // A tight photo: the shoulders run into both sides.
        let h = Head { cut_left: true, cut_right: true, ..head(Point::new(400.0, 400.0), 0.0) };
        let p = plan(&h, &u, 800, 2000, Canvas::Extendable, None);
        let b = p.bounds();
        assert!(b.x >= -1e-3 && b.right() <= 800.001, "{p:?}");
        // Free sides may be extended with the new background.
        let free = plan(&head(Point::new(400.0, 400.0), 0.0), &u, 800, 2000, Canvas::Extendable, None);
        assert!(free.bounds().x < 0.0 && free.fit == Fit::ExtendedCanvas, "{free:?}");
    }

    #[test]
    fn a_portrait_needs_the_crown_a_headshot_the_forehead() {
        // The photo cuts the hair: a headshot may crop it, a portrait has no crown to show.
        let h = Head { cut_top: true, ..head(Point::new(1000.0, 140.0), 0.0) };
        let tight = use_named("linkedin");
        let p = plan(&h, &tight, 2000, 3000, Canvas::PhotoOnly, None);
        assert!(p.head_in_frame(&h).whole(&h, &tight), "{:?}", p.head_in_frame(&h));
        let wide = use_named("author-bio");
        let p = plan(&h, &wide, 2000, 3000, Canvas::Extendable, None);
        assert!(!p.head_in_frame(&h).whole(&h, &wide), "{:?}", p.head_in_frame(&h));
    }

    #[test]
    fn a_frame_moved_for_want_of_room_keeps_the_chin() {
        // The photo ends just below the chin: the frame slides up, never past the chin.
        let h = head(Point::new(1000.0, 500.0), 0.0);
        let u = use_named("linkedin");
        let p = plan(&h, &u, 2000, 620, Canvas::PhotoOnly, None);
        let seen = p.head_in_frame(&h);
        assert_eq!(p.fit, Fit::Shifted);
        assert!(seen.chin <= 1.0 && seen.whole(&h, &u), "{seen:?}");
    }

    #[test]
    fn head_reads_the_chin_from_the_mouth_without_a_mesh() {
        let lm = Landmarks {
            right_eye: Point::new(100.0, 100.0),
            left_eye: Point::new(160.0, 100.0),
            nose: Point::new(130.0, 130.0),
            mouth_right: Point::new(110.0, 162.0),
            mouth_left: Point::new(150.0, 162.0),
        };
        let f = Face {
            bbox: Rect::new(80.0, 60.0, 100.0, 130.0),
            score: 0.9,
            landmarks: lm,
            prominence: 1.0,
            details: None,
        };
        let h = Head::new(&f, Some(40.0));
        assert!((h.eye_to_chin - 100.0).abs() < 0.5, "{h:?}");
        // 60 px from the eyes to the top is less than any head has: the matte is not trusted,
        // for framing or for measuring.
        assert!(!h.top_from_matte && (h.eye_to_top - 100.0).abs() < 0.5, "{h:?}");
        assert_eq!(h.measured(), h);
        // 80 px may be a bald head with a broad smile: framing keeps the typical room, a
        // document measures what the matte says.
        let bald = Head::new(&f, Some(20.0));
        assert!(!bald.top_from_matte && (bald.eye_to_top - 100.0).abs() < 0.5, "{bald:?}");
        assert!((bald.measured().eye_to_top - 80.0).abs() < 0.5, "{:?}", bald.measured());
    }
}
