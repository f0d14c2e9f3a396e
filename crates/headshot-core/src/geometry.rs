//! Points and rectangles in pixels of the oriented photo (x to the right, y down).

use serde::{Deserialize, Serialize};

/// A point in pixels.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct Point {
    pub x: f32,
    pub y: f32,
}

impl Point {
    pub const fn new(x: f32, y: f32) -> Self {
        Self { x, y }
    }

    /// Euclidean distance in pixels.
    pub fn distance(self, other: Point) -> f32 {
        (self.x - other.x).hypot(self.y - other.y)
    }

    /// The point halfway to `other`.
    pub fn midpoint(self, other: Point) -> Point {
        Point::new((self.x + other.x) * 0.5, (self.y + other.y) * 0.5)
    }

    /// The same point in an image scaled by `s`.
    pub fn scaled(self, s: f32) -> Point {
        Point::new(self.x * s, self.y * s)
    }
}

/// The pixels of a `w` x `h` grid whose centres lie inside `polygon` (grid units), as spans:
/// `span(y, x0, x1)` for each run of row `y` from `x0` (included) to `x1` (excluded). Each row
/// through the pixel centres is cut where it crosses the polygon's edges and the spans between
/// pairs of crossings are inside (even-odd), so a concave outline is followed too.
pub fn polygon_spans(polygon: &[Point], w: usize, h: usize, mut span: impl FnMut(usize, usize, usize)) {
    if polygon.len() < 3 {
        return;
    }
    let top = polygon.iter().map(|p| p.y).fold(f32::INFINITY, f32::min).floor().max(0.0) as usize;
    let bottom = (polygon.iter().map(|p| p.y).fold(f32::NEG_INFINITY, f32::max).ceil().max(0.0) as usize).min(h);
    let mut crossings = Vec::new();
    for y in top..bottom {
        let yc = y as f32 + 0.5;
        crossings.clear();
        for (i, a) in polygon.iter().enumerate() {
            let b = polygon[(i + 1) % polygon.len()];
            if (a.y <= yc) != (b.y <= yc) {
                crossings.push(a.x + (yc - a.y) / (b.y - a.y) * (b.x - a.x));
            }
        }
        crossings.sort_by(f32::total_cmp);
        for pair in crossings.chunks_exact(2) {
            let x0 = ((pair[0] - 0.5).ceil().max(0.0) as usize).min(w);
            let x1 = ((pair[1] - 0.5).floor() + 1.0).clamp(0.0, w as f32) as usize;
            if x1 > x0 {
                span(y, x0, x1);
            }
        }
    }
}

/// `polygon` pulled towards its centroid by `share` of the way, and scaled by `1 / scale`
/// (photo pixels to the pixels of an image `scale` times smaller).
pub fn shrunk(polygon: &[Point], share: f32, scale: f32) -> Vec<Point> {
    let n = polygon.len().max(1) as f32;
    let c = Point::new(polygon.iter().map(|p| p.x).sum::<f32>() / n, polygon.iter().map(|p| p.y).sum::<f32>() / n);
    let k = 1.0 - share;
    polygon.iter().map(|p| Point::new((c.x + (p.x - c.x) * k) / scale, (c.y + (p.y - c.y) * k) / scale)).collect()
}

/// An axis-aligned rectangle: top-left corner and size, in pixels.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct Rect {
    pub x: f32,
    pub y: f32,
    pub w: f32,
    pub h: f32,
}

impl Rect {
    pub const fn new(x: f32, y: f32, w: f32, h: f32) -> Self {
        Self { x, y, w, h }
    }

    pub fn right(&self) -> f32 {
        self.x + self.w
    }

    pub fn bottom(&self) -> f32 {
        self.y + self.h
    }

    pub fn area(&self) -> f32 {
        self.w.max(0.0) * self.h.max(0.0)
    }

    /// Whether `p` is inside: left and top edges included, right and bottom excluded.
    pub fn contains(&self, p: Point) -> bool {
        p.x >= self.x && p.y >= self.y && p.x < self.right() && p.y < self.bottom()
    }

    pub fn center(&self) -> Point {
        Point::new(self.x + self.w * 0.5, self.y + self.h * 0.5)
    }

    /// The overlap of two rectangles (empty, with zero area, when they do not meet).
    pub fn intersect(&self, other: &Rect) -> Rect {
        let x = self.x.max(other.x);
        let y = self.y.max(other.y);
        let r = self.right().min(other.right());
        let b = self.bottom().min(other.bottom());
        Rect::new(x, y, (r - x).max(0.0), (b - y).max(0.0))
    }

    /// Intersection over union, 0..1.
    pub fn iou(&self, other: &Rect) -> f32 {
        let inter = self.intersect(other).area();
        let union = self.area() + other.area() - inter;
        if union <= 0.0 { 0.0 } else { inter / union }
    }

    /// The smallest rectangle holding both.
    pub fn union(&self, other: &Rect) -> Rect {
        let (x, y) = (self.x.min(other.x), self.y.min(other.y));
        Rect::new(x, y, self.right().max(other.right()) - x, self.bottom().max(other.bottom()) - y)
    }

    /// The same rectangle in an image scaled by `s`.
    pub fn scaled(&self, s: f32) -> Rect {
        Rect::new(self.x * s, self.y * s, self.w * s, self.h * s)
    }

    /// Grown by `fx` of its width on each side and `fy` of its height above and below.
    pub fn expanded(&self, fx: f32, fy: f32) -> Rect {
        Rect::new(self.x - self.w * fx, self.y - self.h * fy, self.w * (1.0 + 2.0 * fx), self.h * (1.0 + 2.0 * fy))
    }

    /// Clipped to a `width` x `height` image.
    pub fn clamped(&self, width: f32, height: f32) -> Rect {
        self.intersect(&Rect::new(0.0, 0.0, width, height))
    }

    /// The rectangle mirrored left-right in an image `width` pixels wide.
    pub fn mirrored(&self, width: f32) -> Rect {
        Rect::new(width - self.right(), self.y, self.w, self.h)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iou_of_identical_and_disjoint_rectangles() {
        let a = Rect::new(0.0, 0.0, 10.0, 10.0);
        assert!((a.iou(&a) - 1.0).abs() < 1e-6);
        assert_eq!(a.iou(&Rect::new(20.0, 20.0, 5.0, 5.0)), 0.0);
        let half = Rect::new(5.0, 0.0, 10.0, 10.0);
        assert!((a.iou(&half) - 50.0 / 150.0).abs() < 1e-6);
    }

    #[test]
    fn mirroring_twice_is_identity() {
        let a = Rect::new(3.0, 4.0, 10.0, 20.0);
        assert_eq!(a.mirrored(100.0).mirrored(100.0), a);
        assert_eq!(a.mirrored(100.0).x, 87.0);
    }

    /// The spans of a concave polygon are exactly the pixels whose centres a winding test puts
    /// inside.
    #[test]
    fn polygon_spans_are_the_pixels_whose_centres_are_inside() {
        // An arrow-head: concave at (10, 8).
        let poly = [Point::new(2.0, 2.0), Point::new(18.0, 3.5), Point::new(10.0, 8.0), Point::new(17.0, 15.2)];
        let inside = |x: f32, y: f32| {
            // Even-odd by casting a ray to the right.
            let mut c = false;
            for i in 0..poly.len() {
                let (a, b) = (poly[i], poly[(i + 1) % poly.len()]);
                if (a.y <= y) != (b.y <= y) && x < a.x + (y - a.y) / (b.y - a.y) * (b.x - a.x) {
                    c = !c;
                }
            }
            c
        };
        let (w, h) = (16usize, 20usize);
        let mut got = vec![false; w * h];
        polygon_spans(&poly, w, h, |y, x0, x1| got[y * w + x0..y * w + x1].fill(true));
        for y in 0..h {
            for x in 0..w {
                let want = inside(x as f32 + 0.5, y as f32 + 0.5);
                assert_eq!(got[y * w + x], want, "({x}, {y})");
            }
        }
        assert!(got.iter().filter(|v| **v).count() > 30);
    }
}
