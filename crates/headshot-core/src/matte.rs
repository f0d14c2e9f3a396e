//! The person matte: a soft mask, 0 (background) .. 1 (person), and what can be read off it.

use image::{GrayImage, RgbImage};

use crate::geometry::Rect;

/// A soft person mask over an image (usually the analysis copy), one f32 per pixel, 0..1.
#[derive(Debug, Clone, PartialEq)]
pub struct PersonMatte {
    pub width: u32,
    pub height: u32,
    pub alpha: Vec<f32>,
}

impl PersonMatte {
    pub fn new(width: u32, height: u32) -> Self {
        Self { width, height, alpha: vec![0.0; width as usize * height as usize] }
    }

    pub fn get(&self, x: u32, y: u32) -> f32 {
        self.alpha.get(y as usize * self.width as usize + x as usize).copied().unwrap_or(0.0)
    }

    /// The matte as 8-bit grey (for rendering and debugging).
    pub fn to_gray(&self) -> GrayImage {
        let data = self.alpha.iter().map(|a| (a.clamp(0.0, 1.0) * 255.0).round() as u8).collect();
        GrayImage::from_raw(self.width, self.height, data).unwrap_or_else(|| GrayImage::new(1, 1))
    }

    /// Share of the frame the person covers, 0..1.
    pub fn coverage(&self) -> f32 {
        if self.alpha.is_empty() {
            return 0.0;
        }
        self.alpha.iter().sum::<f32>() / self.alpha.len() as f32
    }

    /// The box around pixels over one half, in matte pixels; `None` if there are none.
    pub fn extent(&self) -> Option<Rect> {
        let (mut x0, mut y0, mut x1, mut y1) = (u32::MAX, u32::MAX, 0u32, 0u32);
        for y in 0..self.height {
            for x in 0..self.width {
                if self.get(x, y) > 0.5 {
                    x0 = x0.min(x);
                    y0 = y0.min(y);
                    x1 = x1.max(x);
                    y1 = y1.max(y);
                }
            }
        }
        (x0 != u32::MAX).then(|| Rect::new(x0 as f32, y0 as f32, (x1 - x0 + 1) as f32, (y1 - y0 + 1) as f32))
    }

    /// The top of the head: the highest row (matte pixels) where the person covers the columns
    /// `x0..x1` (the face's width), searching upwards from `from_y`. `None` if the matte does
    /// not hold the head there.
    pub fn head_top(&self, x0: f32, x1: f32, from_y: f32) -> Option<f32> {
        let xa = x0.max(0.0) as u32;
        let xb = (x1.max(0.0) as u32).min(self.width.saturating_sub(1));
        let start = (from_y.max(0.0) as u32).min(self.height.saturating_sub(1));
        if xb <= xa {
            return None;
        }
        let mut top = None;
        for y in (0..=start).rev() {
            let covered = (xa..=xb).filter(|&x| self.get(x, y) > 0.5).count();
            // Hair narrows towards the crown: a few columns still count.
            if covered * 8 >= (xb - xa + 1) as usize {
                top = Some(y as f32);
            } else if top.is_some() {
                break;
            }
        }
        top
    }

    /// Mirrored left-right (for metamorphic tests).
    pub fn mirrored(&self) -> Self {
        let mut out = Self::new(self.width, self.height);
        for y in 0..self.height {
            for x in 0..self.width {
                out.alpha[(y * self.width + x) as usize] = self.get(self.width - 1 - x, y);
            }
        }
        out
    }
}

/// Edge-aware refinement of a coarse matte with the photo as guide (He, Sun & Tang's guided
/// filter, grey guide): the mask's edges move onto the photo's edges, so hair and shoulders
/// follow the real outline. `radius` in pixels; `eps` is the edge threshold in (0..1)^2 units.
pub fn guided_filter(guide: &RgbImage, matte: &PersonMatte, radius: u32, eps: f32) -> PersonMatte {
    let (w, h) = (matte.width as usize, matte.height as usize);
    if guide.width() as usize != w || guide.height() as usize != h || w == 0 || h == 0 {
        return matte.clone();
    }
    let i: Vec<f32> = guide
        .pixels()
        .map(|p| (0.299 * f32::from(p[0]) + 0.587 * f32::from(p[1]) + 0.114 * f32::from(p[2])) / 255.0)
        .collect();
    let p = &matte.alpha;
    let r = radius as usize;
    let mean_i = box_mean(&i, w, h, r);
    let mean_p = box_mean(p, w, h, r);
    let ii: Vec<f32> = i.iter().map(|v| v * v).collect();
    let ip: Vec<f32> = i.iter().zip(p).map(|(a, b)| a * b).collect();
    let mean_ii = box_mean(&ii, w, h, r);
    let mean_ip = box_mean(&ip, w, h, r);
    let mut a = vec![0f32; w * h];
    let mut b = vec![0f32; w * h];
    for k in 0..w * h {
        let var = mean_ii[k] - mean_i[k] * mean_i[k];
        let cov = mean_ip[k] - mean_i[k] * mean_p[k];
        a[k] = cov / (var + eps);
        b[k] = mean_p[k] - a[k] * mean_i[k];
    }
    let mean_a = box_mean(&a, w, h, r);
    let mean_b = box_mean(&b, w, h, r);
    let alpha = (0..w * h).map(|k| (mean_a[k] * i[k] + mean_b[k]).clamp(0.0, 1.0)).collect();
    PersonMatte { width: matte.width, height: matte.height, alpha }
}

/// Mean over a (2r+1)^2 window, clipped at the borders, via a summed-area table.
pub fn box_mean(v: &[f32], w: usize, h: usize, r: usize) -> Vec<f32> {
    let mut sat = vec![0f64; (w + 1) * (h + 1)];
    for y in 0..h {
        let mut row = 0f64;
        for x in 0..w {
            row += f64::from(v[y * w + x]);
            sat[(y + 1) * (w + 1) + x + 1] = sat[y * (w + 1) + x + 1] + row;
        }
    }
    let mut out = vec![0f32; w * h];
    for y in 0..h {
        let y0 = y.saturating_sub(r);
        let y1 = (y + r + 1).min(h);
        for x in 0..w {
            let x0 = x.saturating_sub(r);
            let x1 = (x + r + 1).min(w);
            let s = sat[y1 * (w + 1) + x1] - sat[y0 * (w + 1) + x1] - sat[y1 * (w + 1) + x0] + sat[y0 * (w + 1) + x0];
            out[y * w + x] = (s / ((y1 - y0) * (x1 - x0)) as f64) as f32;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn box_mean_is_the_mean_of_the_clipped_window() {
        let (w, h) = (23usize, 17usize);
        let v: Vec<f32> = (0..w * h).map(|k| ((k * 7919 % 101) as f32) / 100.0).collect();
        for r in [0usize, 1, 3, 8, 30] {
            let got = box_mean(&v, w, h, r);
            for y in 0..h {
                for x in 0..w {
                    let (mut sum, mut n) = (0f64, 0);
                    for yy in y.saturating_sub(r)..(y + r + 1).min(h) {
                        for xx in x.saturating_sub(r)..(x + r + 1).min(w) {
                            sum += f64::from(v[yy * w + xx]);
                            n += 1;
                        }
                    }
                    let want = (sum / f64::from(n)) as f32;
                    assert!((got[y * w + x] - want).abs() < 1e-5, "r {r} at ({x}, {y}): {} vs {want}", got[y * w + x]);
                }
            }
        }
    }

    #[test]
    fn guided_filter_snaps_a_blurry_edge_to_the_photo_edge() {
        // Photo: dark left half, bright right half. Coarse matte: a ramp across the middle.
        let (w, h) = (64u32, 16u32);
        let guide = RgbImage::from_fn(w, h, |x, _| if x < 32 { image::Rgb([20; 3]) } else { image::Rgb([230; 3]) });
        let mut m = PersonMatte::new(w, h);
        for y in 0..h {
            for x in 0..w {
                m.alpha[(y * w + x) as usize] = ((x as f32 - 20.0) / 24.0).clamp(0.0, 1.0);
            }
        }
        let r = guided_filter(&guide, &m, 6, 1e-3);
        // The ramp rises 0.04 per pixel; the filtered matte jumps where the photo does, and is
        // flat on either side.
        let jump = r.get(32, 8) - r.get(31, 8);
        assert!(jump > 0.25, "jump {jump}");
        assert!((r.get(29, 8) - r.get(31, 8)).abs() < 0.05 && (r.get(32, 8) - r.get(34, 8)).abs() < 0.05);
        assert!(r.get(10, 8) < 0.01 && r.get(54, 8) > 0.99);
    }

    #[test]
    fn head_top_finds_the_crown() {
        let mut m = PersonMatte::new(40, 40);
        for y in 10..40 {
            for x in 10..30 {
                m.alpha[(y * 40 + x) as usize] = 1.0;
            }
        }
        assert_eq!(m.head_top(10.0, 30.0, 25.0), Some(10.0));
        assert_eq!(m.extent(), Some(Rect::new(10.0, 10.0, 20.0, 30.0)));
    }
}
