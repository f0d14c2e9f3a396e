//! Rotated square crops: the aligned face crops the face mesh reads, and the inverse map back to
//! the photo's pixels.

use image::{Rgb, RgbImage};

use crate::geometry::{Point, Rect};

/// A square window of a photo, `side` pixels wide, centred on `center` and turned by `angle_deg`
/// (clockwise as seen), sampled into an `out` x `out` image.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SquareWindow {
    pub center: Point,
    pub side: f32,
    pub angle_deg: f32,
    pub out: u32,
}

impl SquareWindow {
    /// Window pixel -> photo pixel.
    pub fn to_photo(&self, p: Point) -> Point {
        let s = self.side / self.out as f32;
        let (sin, cos) = self.angle_deg.to_radians().sin_cos();
        let u = (p.x - self.out as f32 * 0.5) * s;
        let v = (p.y - self.out as f32 * 0.5) * s;
        Point::new(self.center.x + u * cos - v * sin, self.center.y + u * sin + v * cos)
    }

    /// Samples the window from `img` (outside the photo reads as black). A window much larger
    /// than its output is first shrunk with a proper filter (Lanczos, over the window's bounding
    /// box) to about the output's pixel size, then turned bilinearly: bilinear sampling alone
    /// would skip most source pixels and alias lashes, hair and skin texture into noise the
    /// models then read.
    pub fn sample(&self, img: &RgbImage) -> RgbImage {
        let k = self.out as f32 / self.side.max(1e-3);
        if k < 0.5 {
            let r = self.side * std::f32::consts::FRAC_1_SQRT_2 + 2.0 / k;
            let bounds = Rect::new(self.center.x - r, self.center.y - r, 2.0 * r, 2.0 * r).intersect(&Rect::new(
                0.0,
                0.0,
                img.width() as f32,
                img.height() as f32,
            ));
            if bounds.w >= 1.0 && bounds.h >= 1.0 {
                let (iw, ih) = (((bounds.w * k).ceil() as u32).max(1), ((bounds.h * k).ceil() as u32).max(1));
                let small = crate::resize::resize_rgb_crop(img, bounds, iw, ih);
                let (sx, sy) = (iw as f32 / bounds.w, ih as f32 / bounds.h);
                return self
                    .sample_with(|p| bilinear(&small, (p.x - bounds.x) * sx - 0.5, (p.y - bounds.y) * sy - 0.5));
            }
        }
        self.sample_with(|p| bilinear(img, p.x - 0.5, p.y - 0.5))
    }

    fn sample_with(&self, at: impl Fn(Point) -> Rgb<u8>) -> RgbImage {
        let mut out = RgbImage::new(self.out, self.out);
        for (x, y, px) in out.enumerate_pixels_mut() {
            *px = at(self.to_photo(Point::new(x as f32 + 0.5, y as f32 + 0.5)));
        }
        out
    }
}

/// Bilinear sample at a (possibly fractional) pixel position; black outside.
pub fn bilinear(img: &RgbImage, x: f32, y: f32) -> Rgb<u8> {
    let (w, h) = (img.width() as i64, img.height() as i64);
    let x0 = x.floor();
    let y0 = y.floor();
    let fx = x - x0;
    let fy = y - y0;
    let get = |xi: i64, yi: i64| -> [f32; 3] {
        if xi < 0 || yi < 0 || xi >= w || yi >= h {
            [0.0; 3]
        } else {
            let p = img.get_pixel(xi as u32, yi as u32);
            [f32::from(p[0]), f32::from(p[1]), f32::from(p[2])]
        }
    };
    let (xi, yi) = (x0 as i64, y0 as i64);
    let (a, b, c, d) = (get(xi, yi), get(xi + 1, yi), get(xi, yi + 1), get(xi + 1, yi + 1));
    let mut o = [0u8; 3];
    for i in 0..3 {
        let top = a[i] + (b[i] - a[i]) * fx;
        let bot = c[i] + (d[i] - c[i]) * fx;
        o[i] = (top + (bot - top) * fy).round().clamp(0.0, 255.0) as u8;
    }
    Rgb(o)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unrotated_window_maps_centre_to_centre() {
        let w = SquareWindow { center: Point::new(100.0, 50.0), side: 40.0, angle_deg: 0.0, out: 20 };
        assert_eq!(w.to_photo(Point::new(10.0, 10.0)), Point::new(100.0, 50.0));
        assert_eq!(w.to_photo(Point::new(0.0, 0.0)), Point::new(80.0, 30.0));
    }

    #[test]
    fn rotated_window_turns_clockwise() {
        let w = SquareWindow { center: Point::new(0.0, 0.0), side: 2.0, angle_deg: 90.0, out: 2 };
        // The window's +x axis points down the photo after a quarter turn clockwise.
        let p = w.to_photo(Point::new(2.0, 1.0));
        assert!((p.x - 0.0).abs() < 1e-5 && (p.y - 1.0).abs() < 1e-5, "{p:?}");
    }
}
