//! How busy a photo's background is, read the way a viewer reads it: at thumbnail size, outside
//! the person. A plain backdrop (seamless paper, a wall of one tone, a smooth gradient, soft
//! uniform bokeh) is one surface: once its smooth fall-off of light is taken away, almost
//! nothing is left. Content (logos and lettering, a press wall's pattern, a crowd even when
//! defocused, furniture, windows) leaves blobs and edges behind. The measures here are that
//! residue, its strong edges, and the other faces behind the subject; the judgement
//! (`judge::is_plain`) decides.

use image::RgbImage;
use serde::Serialize;

use crate::geometry::Rect;
use crate::matte::{PersonMatte, box_mean, box_means};
use crate::resize::{resize_gray, resize_rgb};

/// The long side the background is judged at, pixels: the size a headshot is seen at in a
/// profile card or a team page (LinkedIn's circle is 128-200 px on screen), so content a viewer
/// cannot see there does not count and content they can, does.
pub const THUMBNAIL_SIDE: u32 = 160;
/// A luminance step (0..1) across one thumbnail pixel at or above this is a strong edge: the
/// outline of a letter or a logo, a window frame, a person's silhouette. A defocused backdrop's
/// softest detail changes by under a fifth of that per pixel.
pub const STRONG_EDGE: f32 = 0.06;
/// A pixel that differs from the backdrop's smooth surface by more than this (0..1, in
/// luminance or in colour) is content: about the step at which a shape stands out from its
/// surround at a glance (a 6 % luminance contrast on a mid-grey wall).
pub const CONTENT_STEP: f32 = 0.06;
/// A pixel that differs from its neighbourhood's mean by this much (0..1, luminance or colour) is
/// detail (`BackgroundMeasures::detail`).
pub const DETAIL_STEP: f32 = 0.04;
/// The neighbourhood detail is measured against: three box passes of this radius (a Gaussian of
/// about 2.4 thumbnail pixels).
const DETAIL_RADIUS: usize = 2;
/// Pixels of the thumbnail kept clear around the person, so their own outline (and the soft
/// edge of the matte) does not count as clutter.
const CLEARANCE_PX: usize = 2;
/// A pixel that differs from the backdrop's smooth surface by more than this (0..1, luminance or
/// colour) belongs to a mark: as clear as dark print on a light wall, white numerals on a teal
/// one, a gold logo on blue. Plain backdrops' own texture (concrete's pores, a paper's mottling)
/// stays well under it at thumbnail size.
pub const MARK_STEP: f32 = 0.25;
/// A mark smaller than this many thumbnail pixels is noise or a speck (a pixel is 1/160 of the
/// frame's long side); a letter or digit seen at thumbnail size covers more.
const MIN_MARK_PX: usize = 3;
/// With fewer background pixels than this at thumbnail size, there is nothing to judge.
const MIN_PIXELS: usize = 80;

/// The background's measures. Luminance and colour are 0..1 sRGB values.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize)]
pub struct BackgroundMeasures {
    /// 0 (one surface) .. 1 (very busy): the combined score (see `busyness`).
    pub busyness: f32,
    /// Share of background pixels that stand out from the smooth surface by more than
    /// `CONTENT_STEP` in luminance or colour: how much of the backdrop is covered by things.
    pub content: f32,
    /// The same for colour alone: a red logo, a flag, a poster.
    pub colour_content: f32,
    /// Share of background pixels that differ by more than `DETAIL_STEP` from their own
    /// neighbourhood (a blur of a few thumbnail pixels): detail a viewer reads as things, which a
    /// slow swell of defocused light does not have.
    pub detail: f32,
    /// Root mean square of the luminance left once a smooth surface (a quadratic in x and y,
    /// fitted to the background) is taken away: blobs, shapes and lettering.
    pub structure: f32,
    /// The same residue of colour (two opponent channels, red-green and yellow-blue): a red logo
    /// on a grey wall, a flag, a poster.
    pub colour_structure: f32,
    /// Share of background pixels on a strong edge (`STRONG_EDGE`).
    pub edges: f32,
    /// Distinct marks on the backdrop: separate shapes standing out from its smooth surface by
    /// more than `MARK_STEP`. Lettering is many marks (a letter or a digit each) and so are a
    /// logo's parts or a pattern's repeats, however little of the backdrop they cover; a single
    /// light in the dark, or one mark on a wall, is one.
    pub marks: usize,
    /// Mean luminance step between neighbouring background pixels (Sobel magnitude / 8), per
    /// thumbnail pixel: OFIQ's background-uniformity gradient at the size it is seen at.
    pub gradient: f32,
    /// Faces behind the subject (detected, not among the photo's people).
    pub faces: usize,
    /// Share of the frame that is background, 0..1.
    pub share: f32,
}

/// Measures the background of `img` where `matte` (same resolution) holds none of the photo's
/// `people` (their face boxes, pixels of `img`), with `faces_behind` other faces seen in it.
///
/// The segmentation model marks every person it sees, and some bright shapes beside a head (a
/// logo on a press wall) with them; only what lies within a body's reach of the people's faces
/// is taken as them. The rest of the matte (the crowd behind, a stranger's shoulder, a sign) is
/// background, and is judged as such.
pub fn measure(img: &RgbImage, matte: &PersonMatte, people: &[Rect], faces_behind: usize) -> BackgroundMeasures {
    let (w, h) = img.dimensions();
    if w < 3 || h < 3 {
        return BackgroundMeasures { faces: faces_behind, ..Default::default() };
    }
    let s = (THUMBNAIL_SIDE as f32 / w.max(h) as f32).min(1.0);
    let (tw, th) = (((w as f32 * s).round() as u32).max(3), ((h as f32 * s).round() as u32).max(3));
    let thumb = resize_rgb(img, tw, th);
    let (wu, hu) = (tw as usize, th as usize);
    let reach = body_reach(people, tw, th, s);
    let person: Vec<f32> = resize_gray(&matte.to_gray(), tw, th)
        .as_raw()
        .iter()
        .zip(&reach)
        .map(|(&v, &r)| if r { f32::from(v) / 255.0 } else { 0.0 })
        .collect();
    let near_person = box_mean(&person, wu, hu, CLEARANCE_PX);
    let background: Vec<bool> = near_person.iter().map(|&m| m <= 0.01).collect();
    let n = background.iter().filter(|&&b| b).count();
    let share = n as f32 / (wu * hu) as f32;
    if n < MIN_PIXELS {
        // Almost no background: nothing to be busy, unless faces show in what there is.
        let mut m = BackgroundMeasures { share, faces: faces_behind, ..Default::default() };
        m.busyness = busyness(&m);
        return m;
    }

    // Luminance and two opponent colour channels per pixel.
    let planes: Vec<[f32; 3]> = thumb
        .pixels()
        .map(|p| {
            let [r, g, b] = p.0.map(|v| f32::from(v) / 255.0);
            [0.299 * r + 0.587 * g + 0.114 * b, r - g, 0.5 * (r + g) - b]
        })
        .collect();
    let fit = SmoothSurface::fit_robust(&planes, &background, wu, hu);
    let (mut sq, mut csq, mut content, mut colour_content) = (0f64, 0f64, 0usize, 0usize);
    let mut marked = vec![false; wu * hu];
    for y in 0..hu {
        for x in 0..wu {
            let k = y * wu + x;
            if !background[k] {
                continue;
            }
            let d = fit.residual(&planes[k], x, y, wu, hu);
            let chroma = d[1].hypot(d[2]);
            sq += f64::from(d[0] * d[0]);
            csq += f64::from(chroma * chroma);
            content += usize::from(d[0].abs() > CONTENT_STEP || chroma > CONTENT_STEP);
            colour_content += usize::from(chroma > CONTENT_STEP);
            marked[k] = d[0].abs().max(chroma) > MARK_STEP;
        }
    }
    let detail = fine_detail(&planes, &background, wu, hu);
    let marks = count_marks(&marked, wu, hu, MIN_MARK_PX);
    let structure = (sq / n as f64).sqrt() as f32;
    let colour_structure = (csq / n as f64).sqrt() as f32;
    let content = content as f32 / n as f32;
    let colour_content = colour_content as f32 / n as f32;

    // Edges, where the whole 3x3 neighbourhood is background.
    let (mut strong, mut gsum, mut m) = (0usize, 0f64, 0usize);
    for y in 1..hu - 1 {
        for x in 1..wu - 1 {
            let all_bg = (y - 1..=y + 1).all(|yy| (x - 1..=x + 1).all(|xx| background[yy * wu + xx]));
            if !all_bg {
                continue;
            }
            let l = |dx: isize, dy: isize| planes[(y as isize + dy) as usize * wu + (x as isize + dx) as usize][0];
            let gx = (l(1, -1) + 2.0 * l(1, 0) + l(1, 1)) - (l(-1, -1) + 2.0 * l(-1, 0) + l(-1, 1));
            let gy = (l(-1, 1) + 2.0 * l(0, 1) + l(1, 1)) - (l(-1, -1) + 2.0 * l(0, -1) + l(1, -1));
            let g = (gx * gx + gy * gy).sqrt() / 8.0;
            gsum += f64::from(g);
            strong += usize::from(g >= STRONG_EDGE);
            m += 1;
        }
    }
    let (edges, gradient) = if m == 0 { (0.0, 0.0) } else { (strong as f32 / m as f32, (gsum / m as f64) as f32) };
    let mut out = BackgroundMeasures {
        busyness: 0.0,
        content,
        colour_content,
        detail,
        structure,
        colour_structure,
        edges,
        marks,
        gradient,
        faces: faces_behind,
        share,
    };
    out.busyness = busyness(&out);
    out
}

/// The connected groups (8-neighbours) of `on` pixels in a `w` x `h` grid with at least `min_px`
/// pixels each.
fn count_marks(on: &[bool], w: usize, h: usize, min_px: usize) -> usize {
    let mut seen = vec![false; w * h];
    let mut stack = Vec::new();
    let mut count = 0;
    for start in 0..w * h {
        if !on[start] || seen[start] {
            continue;
        }
        seen[start] = true;
        stack.push(start);
        let mut size = 0;
        while let Some(k) = stack.pop() {
            size += 1;
            let (x, y) = (k % w, k / w);
            for yy in y.saturating_sub(1)..(y + 2).min(h) {
                for xx in x.saturating_sub(1)..(x + 2).min(w) {
                    let n = yy * w + xx;
                    if on[n] && !seen[n] {
                        seen[n] = true;
                        stack.push(n);
                    }
                }
            }
        }
        count += usize::from(size >= min_px);
    }
    count
}

/// Where the people can be, per thumbnail pixel (`s` thumbnail pixels per pixel of the boxes):
/// beside each head, within 1.3 face widths of its centre (hair, ears, a hat); from a face
/// height below the chin down, anywhere (shoulders, arms and bodies are wide, and in a tight
/// crop fill the frame); in between, widening from the one to the other. What the matte holds
/// beside a head beyond that is someone or something else: another head, a logo.
fn body_reach(people: &[Rect], w: u32, h: u32, s: f32) -> Vec<bool> {
    if people.is_empty() {
        return vec![true; w as usize * h as usize];
    }
    let mut reach = vec![false; w as usize * h as usize];
    for b in people {
        let b = b.scaled(s);
        let cx = b.center().x;
        let below = b.bottom() + b.h;
        for y in 0..h {
            let yf = y as f32 + 0.5;
            let t = ((yf - b.bottom()) / (below - b.bottom())).clamp(0.0, 1.0);
            let half = if t >= 1.0 { w as f32 } else { b.w * (1.3 + 2.0 * t / (1.0 - t + 1e-3)) };
            let (x0, x1) = ((cx - half).max(0.0) as u32, ((cx + half).max(0.0) as u32).min(w));
            for x in x0..x1 {
                reach[(y * w + x) as usize] = true;
            }
        }
    }
    reach
}

/// `BackgroundMeasures::detail`: the neighbourhood mean is a normalised convolution over the
/// background only (the person is left out of both the sum and the weight), so the person's own
/// outline adds no detail.
fn fine_detail(planes: &[[f32; 3]], background: &[bool], w: usize, h: usize) -> f32 {
    let mut acc: Vec<[f32; 4]> =
        planes.iter().zip(background).map(|(p, &b)| if b { [p[0], p[1], p[2], 1.0] } else { [0.0; 4] }).collect();
    for _ in 0..3 {
        acc = box_means(&acc, w, h, DETAIL_RADIUS);
    }
    let (mut n, mut hits) = (0usize, 0usize);
    for (k, (p, m)) in planes.iter().zip(&acc).enumerate() {
        if !background[k] || m[3] <= 1e-3 {
            continue;
        }
        let mean = [m[0] / m[3], m[1] / m[3], m[2] / m[3]];
        let chroma = (p[1] - mean[1]).hypot(p[2] - mean[2]);
        hits += usize::from((p[0] - mean[0]).abs() > DETAIL_STEP || chroma > DETAIL_STEP);
        n += 1;
    }
    if n == 0 { 0.0 } else { hits as f32 / n as f32 }
}

/// The level at which each measure alone makes a background read as busy. Calibrated on the
/// labelled photos of `../shared/photos` (`headshot eval` prints the closest calls; `analyze
/// --json` every photo's measures):
/// - content: plain backdrops measure 0-0.10, but for three the labeller called borderline
///   (a soft blue blur with light streaks, a mottled grey blur, a wall with a painting:
///   0.29-0.34); press walls whose logos are their only content measure 0.16 and up;
/// - edges: plain backdrops 0-0.03 (one at 0.065, the wall with the painting); lettering and
///   furniture 0.05 and up;
/// - colour structure: plain backdrops up to 0.06; a hot-pink press wall with small text 0.13;
/// - marks: plain backdrops show at most 3 (a concrete wall's tie holes), most none or one (a
///   bokeh light, a stain); a festival wall whose only content is white numerals along its top
///   and an emblem beside a shoulder shows 5 (4 in its mirror image: digits a thumbnail pixel
///   apart can merge) while covering 3 % of the backdrop, under every other measure's level.
///   Four marks is the level: lettering has more.
pub const BUSY_CONTENT: f32 = 0.12;
pub const BUSY_EDGES: f32 = 0.05;
pub const BUSY_COLOUR_STRUCTURE: f32 = 0.09;
pub const BUSY_MARKS: f32 = 4.0;
/// Content counts only when it has detail (`BackgroundMeasures::detail` at least this): the
/// mottled grey blur behind one labelled plain photo covers 0.29 of its backdrop with shapes and
/// has no detail (0.008), while the busy backdrops with that much content, however defocused,
/// have 0.044 and more.
pub const MIN_CONTENT_DETAIL: f32 = 0.03;

/// One score, 0..1: the strongest of the measures as a share of its level (`BUSY_CONTENT` and
/// the others), halved, so a background at 0.5 or more has at least one measure at its level. A
/// face behind the subject is content whatever else the background holds.
pub fn busyness(m: &BackgroundMeasures) -> f32 {
    let content = if m.detail >= MIN_CONTENT_DETAIL { m.content / BUSY_CONTENT } else { 0.0 };
    let strongest = content
        .max(m.edges / BUSY_EDGES)
        .max(m.colour_structure / BUSY_COLOUR_STRUCTURE)
        .max(m.marks as f32 / BUSY_MARKS);
    let faces = if m.faces > 0 { 1.0 } else { 0.0 };
    (0.5 * strongest).max(faces).min(1.0)
}

/// A quadratic surface per channel, `c0 + c1 x + c2 y + c3 x^2 + c4 x y + c5 y^2` with x and y in
/// -1..1 across the image: the smooth fall-off of light on a backdrop, a sky's gradient, a
/// vignette. Fitted by least squares over the background pixels.
struct SmoothSurface {
    coef: [[f64; 6]; 3],
}

impl SmoothSurface {
    fn basis(x: usize, y: usize, w: usize, h: usize) -> [f64; 6] {
        let u = 2.0 * (x as f64 + 0.5) / w as f64 - 1.0;
        let v = 2.0 * (y as f64 + 0.5) / h as f64 - 1.0;
        [1.0, u, v, u * u, u * v, v * v]
    }

    /// Least squares over the `mask`ed pixels, each weighted by `weight(pixel index)`.
    fn fit(planes: &[[f32; 3]], mask: &[bool], w: usize, h: usize, weight: impl Fn(usize) -> f64) -> SmoothSurface {
        let mut ata = [[0f64; 6]; 6];
        let mut atb = [[0f64; 6]; 3];
        for y in 0..h {
            for x in 0..w {
                let k = y * w + x;
                if !mask[k] {
                    continue;
                }
                let b = Self::basis(x, y, w, h);
                let wt = weight(k);
                for i in 0..6 {
                    for j in 0..6 {
                        ata[i][j] += wt * b[i] * b[j];
                    }
                    for c in 0..3 {
                        atb[c][i] += wt * b[i] * f64::from(planes[k][c]);
                    }
                }
            }
        }
        // A small ridge keeps the system solvable when the background is a thin strip (a
        // quadratic across one column is undetermined); it barely moves a well-posed fit.
        for (i, row) in ata.iter_mut().enumerate() {
            row[i] += 1e-3;
        }
        SmoothSurface { coef: atb.map(|b| solve6(ata, b)) }
    }

    /// The fit that the backdrop's content does not pull: a few rounds of iteratively
    /// reweighted least squares with Cauchy weights, so one bright light in a dark night does not
    /// tilt the whole surface and make the rest of the night look like content.
    fn fit_robust(planes: &[[f32; 3]], mask: &[bool], w: usize, h: usize) -> SmoothSurface {
        let mut fit = Self::fit(planes, mask, w, h, |_| 1.0);
        for _ in 0..3 {
            let weights: Vec<f64> = planes
                .iter()
                .enumerate()
                .map(|(k, p)| {
                    let d = fit.residual(p, k % w, k / w, w, h);
                    let r2 = f64::from(d[0] * d[0] + d[1] * d[1] + d[2] * d[2]);
                    1.0 / (1.0 + r2 / f64::from(ROBUST_SCALE * ROBUST_SCALE))
                })
                .collect();
            fit = Self::fit(planes, mask, w, h, |k| weights[k]);
        }
        fit
    }

    fn residual(&self, p: &[f32; 3], x: usize, y: usize, w: usize, h: usize) -> [f32; 3] {
        let f = self.at(x, y, w, h);
        [p[0] - f[0], p[1] - f[1], p[2] - f[2]]
    }

    fn at(&self, x: usize, y: usize, w: usize, h: usize) -> [f32; 3] {
        let b = Self::basis(x, y, w, h);
        self.coef.map(|c| c.iter().zip(&b).map(|(c, b)| c * b).sum::<f64>() as f32)
    }
}

/// The residual (0..1) at which the robust fit gives a pixel half weight: about the step at
/// which a shape is content (`CONTENT_STEP`).
const ROBUST_SCALE: f32 = 0.04;

/// Solves a 6x6 symmetric positive definite system by Gaussian elimination with partial
/// pivoting; a singular system gives zeros.
fn solve6(mut a: [[f64; 6]; 6], mut b: [f64; 6]) -> [f64; 6] {
    for col in 0..6 {
        let pivot = (col..6).max_by(|&i, &j| a[i][col].abs().total_cmp(&a[j][col].abs())).unwrap_or(col);
        if a[pivot][col].abs() < 1e-12 {
            return [0.0; 6];
        }
        a.swap(col, pivot);
        b.swap(col, pivot);
        let (pivot_row, pivot_b) = (a[col], b[col]);
        for row in col + 1..6 {
            let f = a[row][col] / pivot_row[col];
            for (v, p) in a[row].iter_mut().zip(&pivot_row).skip(col) {
                *v -= f * p;
            }
            b[row] -= f * pivot_b;
        }
    }
    let mut x = [0f64; 6];
    for row in (0..6).rev() {
        let s: f64 = (row + 1..6).map(|k| a[row][k] * x[k]).sum();
        x[row] = (b[row] - s) / a[row][row];
    }
    x
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_smooth_gradient_is_one_surface_and_lettering_on_it_is_not() {
        let (w, h) = (320u32, 240u32);
        let matte = PersonMatte::new(w, h);
        let gradient = RgbImage::from_fn(w, h, |x, y| {
            let v = 60.0 + 120.0 * (x as f32 / w as f32) + 40.0 * (y as f32 / h as f32).powi(2);
            image::Rgb([v as u8, (v * 0.9) as u8, (v * 0.8) as u8])
        });
        let plain = measure(&gradient, &matte, &[], 0);
        assert!(plain.busyness < 0.2 && plain.edges < 0.01, "{plain:?}");
        // Dark bars, like large letters of a sponsor's name, across the same gradient.
        let mut lettered = gradient.clone();
        for (x, y, p) in lettered.enumerate_pixels_mut() {
            if (x / 12) % 3 == 0 && (60..110).contains(&y) {
                *p = image::Rgb([20, 20, 30]);
            }
        }
        let busy = measure(&lettered, &matte, &[], 0);
        assert!(busy.busyness > 0.5, "{busy:?}");
    }

    #[test]
    fn a_face_behind_the_subject_makes_any_background_busy() {
        let flat = RgbImage::from_pixel(200, 200, image::Rgb([120, 130, 140]));
        let m = measure(&flat, &PersonMatte::new(200, 200), &[], 1);
        assert!(m.busyness >= 1.0, "{m:?}");
    }

    /// A person with a stranger's head beside theirs, both in the matte: the stranger is beyond a
    /// body's reach of the person's face, so counts as background (and makes it busy); the
    /// person's own shoulders, however wide, do not.
    #[test]
    fn what_the_matte_holds_beside_a_head_is_background() {
        let (w, h) = (400u32, 300u32);
        let face = Rect::new(150.0, 20.0, 80.0, 100.0);
        let stranger = Rect::new(295.0, 25.0, 80.0, 100.0);
        let inside = |r: &Rect, x: u32, y: u32| {
            let c = r.center();
            ((x as f32 - c.x) / (r.w * 0.6)).powi(2) + ((y as f32 - c.y) / (r.h * 0.6)).powi(2) <= 1.0
        };
        let shoulders = |x: u32, y: u32| y > 150 && (20..360).contains(&x);
        let img = RgbImage::from_fn(w, h, |x, y| {
            if inside(&stranger, x, y) {
                image::Rgb([40, 30, 30])
            } else if inside(&face, x, y) || shoulders(x, y) {
                image::Rgb([200, 160, 140])
            } else {
                image::Rgb([150, 155, 160])
            }
        });
        let mut matte = PersonMatte::new(w, h);
        for y in 0..h {
            for x in 0..w {
                if inside(&face, x, y) || inside(&stranger, x, y) || shoulders(x, y) {
                    matte.alpha[(y * w + x) as usize] = 1.0;
                }
            }
        }
        let with_stranger = measure(&img, &matte, &[face], 0);
        assert!(with_stranger.busyness >= 0.5, "{with_stranger:?}");
        // The same photo where the matte held no stranger (and there is none): plain.
        let alone = RgbImage::from_fn(w, h, |x, y| {
            if inside(&stranger, x, y) { image::Rgb([150, 155, 160]) } else { *img.get_pixel(x, y) }
        });
        let mut own = matte.clone();
        for y in 0..h {
            for x in 0..w {
                if inside(&stranger, x, y) {
                    own.alpha[(y * w + x) as usize] = 0.0;
                }
            }
        }
        let plain = measure(&alone, &own, &[face], 0);
        assert!(plain.busyness < 0.2, "{plain:?}");
    }

    #[test]
    fn marks_are_counted_as_separate_shapes_of_some_size() {
        // Three shapes in a 10 x 4 grid: an L of 4 pixels, a diagonal line of 3 (its pixels
        // touch only at corners, which join them), and a lone speck (under a 3-pixel minimum).
        let rows = ["##........", "#...#.....", "#....#...#", "......#..."];
        let on: Vec<bool> = rows.iter().flat_map(|r| r.chars().map(|c| c == '#')).collect();
        assert_eq!(count_marks(&on, 10, 4, 3), 2);
        assert_eq!(count_marks(&on, 10, 4, 1), 3);
        assert_eq!(count_marks(&[true; 40], 10, 4, 3), 1);
    }

    #[test]
    fn the_quadratic_fit_is_exact_on_a_quadratic() {
        let (w, h) = (40usize, 30usize);
        let planes: Vec<[f32; 3]> = (0..w * h)
            .map(|k| {
                let b = SmoothSurface::basis(k % w, k / w, w, h);
                let v = (0.3 + 0.1 * b[1] - 0.05 * b[2] + 0.02 * b[3] + 0.04 * b[4] - 0.03 * b[5]) as f32;
                [v, v * 0.5, -v]
            })
            .collect();
        let mask = vec![true; w * h];
        let fit = SmoothSurface::fit(&planes, &mask, w, h, |_| 1.0);
        for k in [0, 17, 455, w * h - 1] {
            let f = fit.at(k % w, k / w, w, h);
            for c in 0..3 {
                assert!((f[c] - planes[k][c]).abs() < 2e-3, "{k} {c}: {} vs {}", f[c], planes[k][c]);
            }
        }
    }
}
