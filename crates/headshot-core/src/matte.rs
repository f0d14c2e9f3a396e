//! The person matte: a soft mask, 0 (background) .. 1 (person), and what can be read off it.

use image::{GrayImage, RgbImage};

use crate::geometry::{Point, Rect};

/// A cut-out has at least this share of its frame transparent (a person fills well under 90 %
/// of any frame they are cut out of)...
const MIN_CUTOUT_TRANSPARENT: f32 = 0.1;
/// ... and the person segmentation covers at least this share of its opaque part: a real
/// cut-out is all person but for the segmentation's soft edge and misses, while an avatar
/// circle keeps the background inside it (Grace Hopper's photo: 0.997 cut out, 0.64 as a round
/// avatar).
const MIN_CUTOUT_AGREEMENT: f32 = 0.85;

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
        let data = self.alpha.iter().map(|a| crate::render::to_u8(a.clamp(0.0, 1.0) * 255.0)).collect();
        GrayImage::from_raw(self.width, self.height, data).unwrap_or_else(|| GrayImage::new(1, 1))
    }

    /// Share of the frame the person covers, 0..1.
    pub fn coverage(&self) -> f32 {
        if self.alpha.is_empty() {
            return 0.0;
        }
        self.alpha.iter().sum::<f32>() / self.alpha.len() as f32
    }

    /// Whether a photo's own transparency (`self`) really cuts a person out: enough of the frame
    /// is transparent, and the opaque part is where the person segmentation (`seen`, same size)
    /// finds the person. A round avatar or a single transparent pixel over a busy photo is not
    /// a cut-out, whatever its alpha channel says.
    pub fn outlines_person(&self, seen: &PersonMatte) -> bool {
        let (transparent, agreement) = self.cutout_measures(seen);
        transparent >= MIN_CUTOUT_TRANSPARENT && agreement >= MIN_CUTOUT_AGREEMENT
    }

    /// The share of the frame transparent in `self`, and the share of its opaque part that the
    /// person in `seen` covers.
    pub fn cutout_measures(&self, seen: &PersonMatte) -> (f32, f32) {
        if self.alpha.len() != seen.alpha.len() || self.alpha.is_empty() {
            return (0.0, 0.0);
        }
        let transparent = self.alpha.iter().filter(|&&a| a < 0.5).count() as f32 / self.alpha.len() as f32;
        let (mut opaque, mut person) = (0usize, 0usize);
        for (&a, &b) in self.alpha.iter().zip(&seen.alpha) {
            opaque += usize::from(a >= 0.5);
            person += usize::from(a >= 0.5 && b >= 0.5);
        }
        (transparent, person as f32 / opaque.max(1) as f32)
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

/// The matte with its small holes filled: places inside the person that the matte calls
/// background (where a silver ring meets a dark strap, a buckle, a glint on a button) but that no
/// path of background reaches from the frame's edge, up to `max_area` pixels each. Larger
/// enclosed areas (the gap between an arm on the hip and the body) are real background and stay.
pub fn fill_holes(matte: &PersonMatte, max_area: usize) -> PersonMatte {
    let (w, h) = (matte.width as usize, matte.height as usize);
    let bg: Vec<bool> = matte.alpha.iter().map(|&a| a < 0.5).collect();
    // 0: person, 1: background reached from the edge, 2: not yet seen.
    let mut seen = vec![0u8; w * h];
    for (s, &b) in seen.iter_mut().zip(&bg) {
        *s = if b { 2 } else { 0 };
    }
    let mut stack: Vec<usize> = Vec::new();
    let neighbours = |k: usize| {
        let (x, y) = (k % w, k / w);
        [(x > 0).then(|| k - 1), (x + 1 < w).then(|| k + 1), (y > 0).then(|| k - w), (y + 1 < h).then(|| k + w)]
    };
    for k in
        (0..w).chain((h.saturating_sub(1)) * w..h * w).chain((0..h).map(|y| y * w)).chain((0..h).map(|y| y * w + w - 1))
    {
        if k < seen.len() && seen[k] == 2 {
            seen[k] = 1;
            stack.push(k);
        }
    }
    while let Some(k) = stack.pop() {
        for n in neighbours(k).into_iter().flatten() {
            if seen[n] == 2 {
                seen[n] = 1;
                stack.push(n);
            }
        }
    }
    // What is left unseen is enclosed: fill each piece that is small enough.
    let mut out = matte.clone();
    for start in 0..w * h {
        if seen[start] != 2 {
            continue;
        }
        let mut piece = vec![start];
        seen[start] = 3;
        let mut i = 0;
        while i < piece.len() {
            for n in neighbours(piece[i]).into_iter().flatten() {
                if seen[n] == 2 {
                    seen[n] = 3;
                    piece.push(n);
                }
            }
            i += 1;
        }
        if piece.len() <= max_area {
            for k in piece {
                out.alpha[k] = 1.0;
            }
        }
    }
    out
}

/// Takes the people beside the subject out of the matte: every pixel nearer another face than the
/// subject's is cleared, nearness measured in each face's own widths (a face's `(centre, width)`,
/// photo pixels; `scale` photo pixels per matte pixel), so the line between two people runs
/// midway between faces of one size and closer to the smaller face of a child or of someone
/// further back. People who touch (an arm around a shoulder) are one piece of the matte, and a
/// headshot of one of them kept the other's face at its edge. (Counting distances below a face
/// as shorter, since a body hangs below its head, took more of a child hugging a parent from
/// behind, and the parent's hair with it.)
pub fn clear_others(matte: &mut PersonMatte, subject: (Point, f32), others: &[(Point, f32)], scale: f32) {
    let others: Vec<(Point, f32)> = others.iter().copied().filter(|(_, w)| *w > 0.0).collect();
    if others.is_empty() || subject.1 <= 0.0 || scale <= 0.0 {
        return;
    }
    let w = matte.width as usize;
    let nearness = |(c, size): (Point, f32), x: f32, y: f32| ((x - c.x).powi(2) + (y - c.y).powi(2)) / (size * size);
    for (k, a) in matte.alpha.iter_mut().enumerate() {
        if *a <= 0.0 {
            continue;
        }
        let (x, y) = (((k % w) as f32 + 0.5) * scale, ((k / w) as f32 + 0.5) * scale);
        let mine = nearness(subject, x, y);
        if others.iter().any(|&o| nearness(o, x, y) < mine) {
            *a = 0.0;
        }
    }
}

/// How far in from the face's outline the matte is made solid, as a share of the way to the
/// outline's centre: the outline runs along the hairline, the temples and the jaw, where hair,
/// ears or the background begin, and the mesh places it to a few per cent of the face; so the
/// outer fifth is left to the matte's own soft edge. (A tenth reached past a temple onto the
/// background on the cutout tests' pasted subject: 0.26 % of the old background left, from 0.03.)
const FACE_SOLID_SHRINK: f32 = 0.2;

/// Makes the matte solid (1) inside a face's `outline` (photo pixels; `scale` photo pixels per
/// matte pixel) pulled in by `FACE_SOLID_SHRINK`: a face is always the person. Sunlit skin against
/// bright foliage once read as background, and a replaced background punched a grey hole through
/// a forehead and an eye.
pub fn make_face_solid(matte: &mut PersonMatte, outline: &[Point], scale: f32) {
    if outline.len() < 3 || scale <= 0.0 {
        return;
    }
    let ring = crate::geometry::shrunk(outline, FACE_SOLID_SHRINK, scale);
    let (w, h) = (matte.width as usize, matte.height as usize);
    crate::geometry::polygon_spans(&ring, w, h, |y, x0, x1| matte.alpha[y * w + x0..y * w + x1].fill(1.0));
}

/// Edge-aware refinement of a coarse matte with the photo as guide (He, Sun & Tang's guided
/// filter, grey guide): the mask's edges move onto the photo's edges, so hair and shoulders
/// follow the real outline. `radius` in pixels; `eps` is the edge threshold in (0..1)^2 units.
///
/// From `FAST_GUIDED_RADIUS` up, the linear models are fitted on a reduced grid (He & Sun's fast
/// guided filter, 2015): the models' coefficients are window means, smooth at the scale of the
/// radius, so they are fitted and averaged on blocks a quarter of the radius wide and
/// interpolated back; only the last step, coefficients times the guide, runs at full resolution,
/// so the edge still lands on the photo's own pixels. The window sums then cover a block's
/// square fewer cells (the analysis matte of a 12 MP photo, radius 9: its segment stage 72-81
/// ms -> 52-58 ms). The render's radii stay under 8 at the outputs' sizes (the matting model's
/// matte is near them), so its outputs are the exact filter's.
pub fn guided_filter(guide: &RgbImage, matte: &PersonMatte, radius: u32, eps: f32) -> PersonMatte {
    let block = if radius >= FAST_GUIDED_RADIUS { radius / 4 } else { 1 };
    guided_filter_on_blocks(guide, matte, radius, eps, block)
}

/// `guided_filter` with the models fitted on blocks `block` pixels wide (1: the exact filter).
/// A matte that is only ever read at a coarser scale than its own pixels (the analysis matte:
/// thumbnails of the background, the crown's row) can take blocks of two below
/// `FAST_GUIDED_RADIUS`.
pub fn guided_filter_on_blocks(
    guide: &RgbImage,
    matte: &PersonMatte,
    radius: u32,
    eps: f32,
    block: u32,
) -> PersonMatte {
    let (w, h) = (matte.width as usize, matte.height as usize);
    if guide.width() as usize != w || guide.height() as usize != h || w == 0 || h == 0 {
        return matte.clone();
    }
    let alpha = if block > 1 {
        guided_on_grid(guide, &matte.alpha, w, h, radius, eps, block as usize)
    } else {
        guided_exact(guide, &matte.alpha, w, h, radius as usize, eps)
    };
    PersonMatte { width: matte.width, height: matte.height, alpha }
}

/// `guided_filter` for a matte that is then read through a ramp from `floor` to `ceil` (at or
/// below `floor` it counts as 0, at or above `ceil` as 1, as an output's alpha does), filtered
/// only where the ramp can still tell the result apart. A pixel's filtered value depends on the
/// matte within twice the radius of it, and moves at most `1/(4 sqrt(eps))` times the spread of
/// the matte there beyond it (the window models' slope `cov(I,p) / (var(I) + eps)` is at most
/// `(spread / 2) sigma / (sigma^2 + eps)`, times a guide difference of at most 1). Square tiles
/// whose surroundings keep every value on one side of the ramp are given 0 or 1 outright; the
/// rest are filtered in runs along each row of tiles, with that reach of margin, so their
/// values are the whole-frame filter's. On an output the matte is decided over most of the
/// frame (the backdrop, the body), and its edge is a band through a few tiles per row.
pub fn guided_filter_between(
    guide: &RgbImage,
    matte: &PersonMatte,
    radius: u32,
    eps: f32,
    floor: f32,
    ceil: f32,
) -> PersonMatte {
    let (w, h) = (matte.width as usize, matte.height as usize);
    let (r, t) = (radius as usize, SETTLED_TILE);
    let reach = 2 * r;
    if radius >= FAST_GUIDED_RADIUS || guide.width() as usize != w || guide.height() as usize != h || w == 0 || h == 0 {
        return guided_filter(guide, matte, radius, eps);
    }
    let p = &matte.alpha;
    let (tw, th) = (w.div_ceil(t), h.div_ceil(t));
    let mut lows = vec![f32::INFINITY; tw * th];
    let mut highs = vec![f32::NEG_INFINITY; tw * th];
    for (y, row) in p.chunks_exact(w).enumerate() {
        let tiles = (y / t) * tw;
        for (x, &v) in row.iter().enumerate() {
            let k = tiles + x / t;
            lows[k] = lows[k].min(v);
            highs[k] = highs[k].max(v);
        }
    }
    // The value a tile is decided at, if it is: its neighbours hold everything within the
    // filter's reach of it (the reach is at most a tile).
    let spread = 1.0 / (4.0 * eps.sqrt());
    let decided: Vec<Option<f32>> = (0..tw * th)
        .map(|k| {
            let (tx, ty) = (k % tw, k / tw);
            let (mut lo, mut hi) = (f32::INFINITY, f32::NEG_INFINITY);
            for ny in ty.saturating_sub(1)..(ty + 2).min(th) {
                for nx in tx.saturating_sub(1)..(tx + 2).min(tw) {
                    lo = lo.min(lows[ny * tw + nx]);
                    hi = hi.max(highs[ny * tw + nx]);
                }
            }
            let moved = spread * (hi - lo) + SETTLED_MARGIN;
            if hi + moved <= floor {
                Some(0.0)
            } else if lo - moved >= ceil {
                Some(1.0)
            } else {
                None
            }
        })
        .collect();
    if decided.iter().all(Option::is_none) {
        return guided_filter(guide, matte, radius, eps);
    }
    let mut alpha = vec![0f32; w * h];
    for ty in 0..th {
        let (y0, y1) = (ty * t, ((ty + 1) * t).min(h));
        let mut tx = 0;
        while tx < tw {
            if let Some(v) = decided[ty * tw + tx] {
                let (x0, x1) = (tx * t, ((tx + 1) * t).min(w));
                for y in y0..y1 {
                    alpha[y * w + x0..y * w + x1].fill(v);
                }
                tx += 1;
                continue;
            }
            let start = tx;
            while tx < tw && decided[ty * tw + tx].is_none() {
                tx += 1;
            }
            // The run of undecided tiles, filtered with the reach around it (clipped where the
            // frame ends, as the whole-frame filter's windows are).
            let (x0, x1) = (start * t, (tx * t).min(w));
            let (sx0, sy0) = (x0.saturating_sub(reach), y0.saturating_sub(reach));
            let (sx1, sy1) = ((x1 + reach).min(w), (y1 + reach).min(h));
            let (sw, sh) = (sx1 - sx0, sy1 - sy0);
            let part = image::imageops::crop_imm(guide, sx0 as u32, sy0 as u32, sw as u32, sh as u32).to_image();
            let part_p: Vec<f32> = (sy0..sy1).flat_map(|y| p[y * w + sx0..y * w + sx1].iter().copied()).collect();
            let q = guided_exact(&part, &part_p, sw, sh, r, eps);
            for y in y0..y1 {
                let from = (y - sy0) * sw + (x0 - sx0);
                alpha[y * w + x0..y * w + x1].copy_from_slice(&q[from..from + (x1 - x0)]);
            }
        }
    }
    PersonMatte { width: matte.width, height: matte.height, alpha }
}

/// The side of `guided_filter_between`'s tiles: at least twice the largest exact radius (its
/// reach), small enough that the edge's tiles are a small part of a frame.
const SETTLED_TILE: usize = 32;

// A tile's neighbours must hold everything within the exact filter's reach of it.
const _: () = assert!(2 * (FAST_GUIDED_RADIUS as usize - 1) <= SETTLED_TILE);

/// Room for rounding in `guided_filter_between`'s bound (the models' sums are of f32 values).
const SETTLED_MARGIN: f32 = 0.01;

/// The guide's grey level at pixel `i`.
fn grey_at(guide: &RgbImage) -> impl Fn(usize) -> f32 + '_ {
    let pixels = guide.as_raw();
    move |i| crate::measure::luma(&image::Rgb([pixels[3 * i], pixels[3 * i + 1], pixels[3 * i + 2]]))
}

/// The guided filter at full resolution.
fn guided_exact(guide: &RgbImage, p: &[f32], w: usize, h: usize, r: usize, eps: f32) -> Vec<f32> {
    let guide_at = grey_at(guide);
    // The four local means the filter needs, in one pass over interleaved planes: I, p, I*I, I*p.
    let first = |i: usize| {
        let g = guide_at(i);
        [g, p[i], g * g, g * p[i]]
    };
    let ab = box_means_of(first, w, h, r, fit(eps));
    box_means_then(&ab, w, h, r, |i, [a, b]| (a * guide_at(i) + b).clamp(0.0, 1.0))
}

/// The guided filter with its models fitted on blocks `step` pixels wide (see `guided_filter`).
///
/// Both passes at full resolution walk the rows as slices, block by block, each with the row's
/// grey levels worked out in one loop the compiler vectorises: the analysis matte of a 12 MP
/// photo is two million pixels, and a division to find each one's block and a bounds check on
/// every read were much of the filter's time. The sums are made in the same order as pixel by
/// pixel, so the result is the same to the bit.
fn guided_on_grid(guide: &RgbImage, p: &[f32], w: usize, h: usize, radius: u32, eps: f32, step: usize) -> Vec<f32> {
    // The guide and the matte as block means on the reduced grid, with the window scaled to it.
    let (lw, lh) = (w.div_ceil(step), h.div_ceil(step));
    let r = ((radius as f32 / step as f32).round() as usize).max(1);
    let mut low = vec![[0f32; 4]; lw * lh];
    let mut grey = vec![0f32; w];
    for (y, (pixels, matte)) in guide.as_raw().chunks_exact(3 * w).zip(p.chunks_exact(w)).enumerate() {
        grey_row(pixels, &mut grey);
        let cells = &mut low[(y / step) * lw..(y / step + 1) * lw];
        for ((cell, g), m) in cells.iter_mut().zip(grey.chunks(step)).zip(matte.chunks(step)) {
            for (&g, &m) in g.iter().zip(m) {
                cell[0] += g;
                cell[1] += m;
            }
        }
    }
    // A block's pixel count: `step` squared, less where the last column or row of blocks is cut.
    let side = |b: usize, n: usize| (step.min(n - b * step)) as f32;
    for (j, cell) in low.iter_mut().enumerate() {
        let n = side(j % lw, w) * side(j / lw, h);
        let (g, p) = (cell[0] / n, cell[1] / n);
        *cell = [g, p, g * g, g * p];
    }
    let ab = box_means_of(|i| low[i], lw, lh, r, fit(eps));
    let coefficients = box_means(&ab, lw, lh, r);

    // Back to full resolution: the coefficients interpolated between the blocks' centres, then
    // applied to the guide's own pixels.
    let columns: Vec<(usize, usize, f32)> = (0..w).map(|x| block_taps(x, step, lw)).collect();
    let mut alpha = Vec::with_capacity(w * h);
    let mut line = vec![[0f32; 2]; lw];
    for (y, pixels) in guide.as_raw().chunks_exact(3 * w).enumerate() {
        let (ya, yb, fy) = block_taps(y, step, lh);
        for (l, (top, bottom)) in line.iter_mut().zip(coefficients[ya * lw..].iter().zip(&coefficients[yb * lw..])) {
            *l = [top[0] + (bottom[0] - top[0]) * fy, top[1] + (bottom[1] - top[1]) * fy];
        }
        grey_row(pixels, &mut grey);
        alpha.extend(grey.iter().zip(&columns).map(|(&g, &(xa, xb, fx))| {
            let (l, r) = (line[xa], line[xb]);
            let (a, b) = (l[0] + (r[0] - l[0]) * fx, l[1] + (r[1] - l[1]) * fx);
            (a * g + b).clamp(0.0, 1.0)
        }));
    }
    alpha
}

/// The grey levels of one row of RGB pixels, as `measure::luma` gives them.
fn grey_row(pixels: &[u8], grey: &mut [f32]) {
    for (g, p) in grey.iter_mut().zip(pixels.chunks_exact(3)) {
        *g = crate::measure::luma(&image::Rgb([p[0], p[1], p[2]]));
    }
}

/// Where pixel `pos` falls on a grid of `n` blocks `step` pixels wide, for bilinear
/// interpolation between the blocks' centres: the two blocks either side and the weight of the
/// second (held at the first and last centres).
pub(crate) fn block_taps(pos: usize, step: usize, n: usize) -> (usize, usize, f32) {
    let t = ((pos as f32 + 0.5) / step as f32 - 0.5).clamp(0.0, (n - 1) as f32);
    let lo = t as usize; // t >= 0
    (lo, (lo + 1).min(n - 1), t - lo as f32)
}

/// The radius from which `guided_filter` fits its models on a reduced grid (blocks of a quarter
/// of the radius, so at least two pixels wide).
pub const FAST_GUIDED_RADIUS: u32 = 8;

/// Per window: the linear model alpha = a I + b that best fits the coarse matte, from the
/// window's means of I, p, I*I and I*p.
fn fit(eps: f32) -> impl Fn(usize, [f32; 4]) -> [f32; 2] {
    move |_, [mi, mp, mii, mip]| {
        let a = (mip - mi * mp) / (mii - mi * mi + eps);
        [a, mp - a * mi]
    }
}

/// Mean over a (2r+1)^2 window, clipped at the borders.
pub fn box_mean(v: &[f32], w: usize, h: usize, r: usize) -> Vec<f32> {
    let planes: Vec<[f32; 1]> = v.iter().map(|&x| [x]).collect();
    box_means(&planes, w, h, r).into_iter().map(|[m]| m).collect()
}

/// Means over a (2r+1)^2 window, clipped at the borders, of `N` interleaved planes at once, by
/// running sums: one sum per column slides down the image (a row added, a row dropped), and one
/// sum slides along each row over those. Constant work per pixel whatever the radius, no table
/// the size of the image, and memory read in order (a summed-area table of f64 was most of the
/// cost of matte refinement through its size alone). Sums are f64, so no drift builds up.
pub fn box_means<const N: usize>(v: &[[f32; N]], w: usize, h: usize, r: usize) -> Vec<[f32; N]> {
    box_means_then(v, w, h, r, |_, m| m)
}

/// `box_means`, each pixel's means handed to `then` (with the pixel's index) as they are made:
/// a filter that only needs a function of the means keeps no image of them (the guided filter
/// of a 12 MP photo's analysis copy had two, 45 MB, every page of it new memory to the process).
pub fn box_means_then<const N: usize, T>(
    v: &[[f32; N]],
    w: usize,
    h: usize,
    r: usize,
    then: impl Fn(usize, [f32; N]) -> T,
) -> Vec<T> {
    if v.len() < w * h {
        return (0..w * h).map(|i| then(i, [0f32; N])).collect();
    }
    box_means_of(|i| v[i], w, h, r, then)
}

/// `box_means_then` of planes made on the fly, `planes(i)` for pixel `i` (each is asked for
/// twice, as its row joins the window and as it leaves): planes that are a cheap function of
/// images already in memory need no image of their own (the guided filter's four planes of a
/// 7 MP frame were 115 MB).
pub fn box_means_of<const N: usize, T>(
    planes: impl Fn(usize) -> [f32; N],
    w: usize,
    h: usize,
    r: usize,
    then: impl Fn(usize, [f32; N]) -> T,
) -> Vec<T> {
    let mut out = Vec::with_capacity(w * h);
    if w == 0 || h == 0 {
        return out;
    }
    let mut col = vec![[0f64; N]; w];
    let add_row = |col: &mut [[f64; N]], y: usize, sign: f64| {
        for (x, c) in col.iter_mut().enumerate() {
            let p = planes(y * w + x);
            for k in 0..N {
                c[k] += sign * f64::from(p[k]);
            }
        }
    };
    for y in 0..(r + 1).min(h) {
        add_row(&mut col, y, 1.0);
    }
    // Window sizes along each axis, clipped at the borders.
    let span = |i: usize, n: usize| ((i + r + 1).min(n) - i.saturating_sub(r)) as f64;
    let inv_x: Vec<f64> = (0..w).map(|x| 1.0 / span(x, w)).collect();
    for y in 0..h {
        if y > 0 {
            if y + r < h {
                add_row(&mut col, y + r, 1.0);
            }
            if y > r {
                add_row(&mut col, y - r - 1, -1.0);
            }
        }
        let inv_y = 1.0 / span(y, h);
        let mut acc = [0f64; N];
        for c in &col[..(r + 1).min(w)] {
            for k in 0..N {
                acc[k] += c[k];
            }
        }
        for x in 0..w {
            if x > 0 {
                if x + r < w {
                    for k in 0..N {
                        acc[k] += col[x + r][k];
                    }
                }
                if x > r {
                    for k in 0..N {
                        acc[k] -= col[x - r - 1][k];
                    }
                }
            }
            let norm = inv_x[x] * inv_y;
            out.push(then(y * w + x, acc.map(|a| (a * norm) as f32)));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    /// Two people side by side, faces of one width: the other's half is cleared, the line midway.
    /// A smaller face (a child) takes less: the line moves towards it.
    #[test]
    fn the_people_beside_the_subject_are_cleared() {
        let mut m = PersonMatte::new(40, 10);
        m.alpha.iter_mut().for_each(|a| *a = 1.0);
        let without_others = |subject, others: &[(Point, f32)]| {
            let mut out = m.clone();
            clear_others(&mut out, subject, others, 2.0);
            out
        };
        let out = without_others((Point::new(20.0, 10.0), 10.0), &[(Point::new(60.0, 10.0), 10.0)]);
        assert_eq!(out.get(19, 5), 1.0);
        assert_eq!(out.get(20, 5), 0.0);
        let child = without_others((Point::new(20.0, 10.0), 10.0), &[(Point::new(60.0, 10.0), 5.0)]);
        // (x - 20) / 10 = (60 - x) / 5 at x = 46.7 photo pixels, matte pixel 23.3.
        assert_eq!(child.get(22, 5), 1.0, "nearer the subject in face widths");
        assert_eq!(child.get(23, 5), 0.0);
        assert_eq!(without_others((Point::new(20.0, 10.0), 10.0), &[]), m);
    }

    /// Inside a face's outline, pulled in by a fifth, the matte is solid whatever the model
    /// said; outside, and at the outline's outer fifth, it is left as it was.
    #[test]
    fn a_face_is_always_the_person() {
        let mut m = PersonMatte::new(40, 40);
        m.alpha.iter_mut().for_each(|a| *a = 0.3);
        // A diamond around (20, 20), radius 10 matte pixels; the photo is twice the matte.
        let outline = [Point::new(40.0, 20.0), Point::new(60.0, 40.0), Point::new(40.0, 60.0), Point::new(20.0, 40.0)];
        let with_face_solid = |outline: &[Point]| {
            let mut out = m.clone();
            make_face_solid(&mut out, outline, 2.0);
            out
        };
        let out = with_face_solid(&outline);
        assert_eq!(out.get(20, 20), 1.0);
        assert_eq!(out.get(27, 20), 1.0, "inside the pulled-in outline (radius 8)");
        assert_eq!(out.get(29, 20), 0.3, "in the outer fifth");
        assert_eq!(out.get(5, 5), 0.3);
        assert_eq!(out.get(20, 35), 0.3);
        // Too few points, or an outline past the matte's edges, never panics.
        assert_eq!(with_face_solid(&outline[..2]), m);
        let far = [Point::new(-100.0, -100.0), Point::new(500.0, -100.0), Point::new(500.0, 500.0)];
        let all = with_face_solid(&far);
        assert!(all.alpha.iter().all(|&a| a == 1.0 || a == 0.3));
    }

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

    /// The filter fitted on a reduced grid follows the exact one: on a head-like disc with a
    /// ragged, textured edge and noise, a coarse matte blurred well past the edge comes out
    /// within a hundredth of the exact filter's on average and nowhere a tenth away, and on the
    /// same side of one half almost everywhere (under 0.5 % of the pixels with the render's
    /// blocks, a quarter of the radius; under 1 % with the analysis matte's blocks of two at
    /// radius 6 and 7, whose window is rounded to whole blocks).
    #[test]
    fn the_fast_guided_filter_follows_the_exact_one() {
        let (w, h) = (300usize, 240usize);
        let inside = |x: f32, y: f32| {
            let (dx, dy) = (x - 150.0, y - 120.0);
            let ragged = 70.0 + 6.0 * (dy.atan2(dx) * 9.0).sin();
            (dx * dx + dy * dy).sqrt() < ragged
        };
        let guide = RgbImage::from_fn(w as u32, h as u32, |x, y| {
            let noise = ((x * 7919 + y * 104_729) % 23) as u8;
            let v =
                if inside(x as f32, y as f32) { 190 + noise } else { 40 + noise + ((x / 9 + y / 7) % 2) as u8 * 30 };
            image::Rgb([v, v.saturating_sub(10), v / 2])
        });
        let mut m = PersonMatte::new(w as u32, h as u32);
        for y in 0..h {
            for x in 0..w {
                let d = ((x as f32 - 150.0).powi(2) + (y as f32 - 120.0).powi(2)).sqrt();
                m.alpha[y * w + x] = ((82.0 - d) / 24.0).clamp(0.0, 1.0);
            }
        }
        for (radius, block, sides) in [(8, 2, 0.005), (12, 3, 0.005), (16, 4, 0.005), (6, 2, 0.01), (7, 2, 0.01)] {
            let exact = guided_exact(&guide, &m.alpha, w, h, radius as usize, 1e-3);
            let fast = guided_filter_on_blocks(&guide, &m, radius, 1e-3, block).alpha;
            let diffs: Vec<f32> = exact.iter().zip(&fast).map(|(a, b)| (a - b).abs()).collect();
            let mean = diffs.iter().sum::<f32>() / diffs.len() as f32;
            let far = diffs.iter().filter(|&&d| d > 0.1).count();
            let flipped = exact.iter().zip(&fast).filter(|(a, b)| (**a > 0.5) != (**b > 0.5)).count() as f32;
            assert!(mean < 0.01 && far == 0, "radius {radius}: mean {mean}, {far} pixels over 0.1 away");
            assert!(flipped / ((w * h) as f32) < sides, "radius {radius}: {flipped} pixels change side");
        }
    }

    /// Read through an output's ramp (0.2 to 0.8), the filter run only where the ramp can tell
    /// is the whole-frame filter: on a ragged disc of a near-saturated matte (values within 0.01
    /// of 0 and 1 away from its soft edge), with a busy backdrop whose matte is faint but not
    /// flat (up to 0.15, following the backdrop's pattern) in one corner, at the radii an output
    /// uses. Most tiles are decided outright, and the rest, filtered apart with the filter's
    /// reach around them, match to rounding.
    #[test]
    fn the_filter_between_the_ramps_ends_is_the_whole_frames() {
        let (w, h) = (333usize, 250usize);
        let inside = |x: f32, y: f32| {
            let (dx, dy) = (x - 150.0, y - 120.0);
            (dx * dx + dy * dy).sqrt() < 80.0 + 7.0 * (dy.atan2(dx) * 11.0).sin()
        };
        let noise = |x: usize, y: usize| ((x * 7919 + y * 104_729) % 101) as f32 / 100.0;
        // The corner: stripes of middling contrast that the faint matte follows, and bright
        // specks (highlights) beyond them, where the window models' slope carries the filtered
        // value well past the matte's own.
        let corner = |x: u32, y: u32| x > 260 && y > 180;
        let guide = RgbImage::from_fn(w as u32, h as u32, |x, y| {
            let n = (noise(x as usize, y as usize) * 25.0) as u8;
            let stripe = ((x / 5 + y / 3) % 2) as u8;
            let v = if inside(x as f32, y as f32) {
                180 + n
            } else if corner(x, y) {
                if (x * 13 + y * 7) % 97 == 0 { 255 } else { 100 + 50 * stripe }
            } else {
                30 + n + stripe * 60
            };
            image::Rgb([v, v.saturating_sub(20), v / 3])
        });
        let mut m = PersonMatte::new(w as u32, h as u32);
        for y in 0..h {
            for x in 0..w {
                let d = ((x as f32 - 150.0).powi(2) + (y as f32 - 120.0).powi(2)).sqrt();
                let soft = ((86.0 - d) / 10.0).clamp(0.0, 1.0);
                let grain = 0.01 * noise(x, y);
                let faint = if corner(x as u32, y as u32) { 0.15 * ((x / 5 + y / 3) % 2) as f32 } else { 0.0 };
                m.alpha[y * w + x] = if soft >= 1.0 { 1.0 - grain } else { (soft + grain + faint).min(1.0) };
            }
        }
        let ramp = |a: f32| ((a - 0.2) / 0.6).clamp(0.0, 1.0);
        for radius in [2, 4, 7] {
            let whole = guided_filter(&guide, &m, radius, 1e-3).alpha;
            let between = guided_filter_between(&guide, &m, radius, 1e-3, 0.2, 0.8).alpha;
            let worst = whole.iter().zip(&between).map(|(a, b)| (ramp(*a) - ramp(*b)).abs()).fold(0f32, f32::max);
            assert!(worst < 1e-4, "radius {radius}: {worst} from the whole frame's filter");
            // Decided outright: values at exactly 0 or 1 where the whole-frame filter is not.
            let decided = whole.iter().zip(&between).filter(|(a, b)| (**b == 0.0 || **b == 1.0) && **a != **b).count();
            assert!(decided > w * h / 10, "radius {radius}: only {decided} pixels decided outright");
        }
    }

    /// A person (a filled square) with a small hole (a ring on a strap) and a large one (the gap
    /// under an arm): the small one is filled, the large one stays background.
    #[test]
    fn small_holes_in_the_person_are_filled_and_large_ones_kept() {
        let mut m = PersonMatte::new(60, 60);
        for y in 5..55 {
            for x in 5..55 {
                let small = (20..23).contains(&x) && (20..23).contains(&y);
                let large = (30..45).contains(&x) && (30..45).contains(&y);
                m.alpha[y * 60 + x] = if small || large { 0.0 } else { 1.0 };
            }
        }
        let f = fill_holes(&m, 20);
        assert_eq!(f.get(21, 21), 1.0);
        assert_eq!(f.get(37, 37), 0.0);
        assert_eq!(f.get(2, 2), 0.0, "the background around the person stays");
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
