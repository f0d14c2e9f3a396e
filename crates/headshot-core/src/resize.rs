//! Resampling, through `fast_image_resize` (SIMD; ~18x faster here than `image`'s resize).

use fast_image_resize::images::{Image, ImageRef};
use fast_image_resize::{FilterType, PixelType, ResizeAlg, ResizeOptions, Resizer};
use image::{GrayImage, ImageBuffer, Pixel, RgbImage};

use crate::geometry::Rect;

/// Resizes the whole image to `w` x `h` (Lanczos3 when shrinking keeps fine detail honest for the
/// sharpness measure; Catmull-Rom would do as well).
pub fn resize_rgb(src: &RgbImage, w: u32, h: u32) -> RgbImage {
    let full = Rect::new(0.0, 0.0, src.width() as f32, src.height() as f32);
    resize_crop(src, full, w, h, PixelType::U8x3)
}

/// Shrinks the whole image to `w` x `h` as libvips does a large reduction: whole halvings first
/// (each output pixel the mean of a 2x2 block, one cheap pass), while the image is still at least
/// twice the target each way, then Lanczos3 for the remaining factor, under two. Lanczos over
/// the whole factor reads about 15 source pixels per output pixel and pass at 2.4x (a 12 MP
/// photo to its 1600 px analysis copy); after one halving it reads 7, from a quarter of the
/// pixels (the decode stage of a 12 MP photo, copy included, 131 -> 125 ms on one core in the
/// dev profile; in release, where the decoder is most of the stage, within its runs' noise,
/// 100-110 ms either way). The box
/// is a slightly softer pre-filter than Lanczos at the finest detail the target can hold, as
/// libvips' shrink-on-load (the JPEG decoder's own DCT scaling) is.
pub fn shrink_rgb(src: &RgbImage, w: u32, h: u32) -> RgbImage {
    let (w, h) = (w.max(1), h.max(1));
    // The source extent the target covers, in the current image's pixels: halving keeps it
    // exact (a halved odd side ends in a half-filled pixel, and the extent stops half way into it).
    let (mut ew, mut eh) = (src.width() as f32, src.height() as f32);
    let mut halved: Option<RgbImage> = None;
    while ew >= 2.0 * w as f32 && eh >= 2.0 * h as f32 {
        let next = halve_rgb(halved.as_ref().unwrap_or(src));
        halved = Some(next);
        (ew, eh) = (ew / 2.0, eh / 2.0);
    }
    match halved {
        Some(img) => resize_rgb_crop(&img, Rect::new(0.0, 0.0, ew, eh), w, h),
        None => resize_rgb(src, w, h),
    }
}

/// Each 2x2 block of `src` averaged into one pixel (rounded); an odd last column or row is
/// averaged over the pixels it has (counted twice, which gives the same mean).
fn halve_rgb(src: &RgbImage) -> RgbImage {
    let (sw, sh) = (src.width() as usize, src.height() as usize);
    let (w, h) = (sw.div_ceil(2), sh.div_ceil(2));
    let mut out = vec![0u8; w * h * 3];
    // Two source rows summed into one of u16s, then neighbouring pixels of it: two flat loops
    // the compiler vectorises, rather than one with a block's bookkeeping per pixel.
    let mut pair = vec![0u16; sw * 3];
    let mut rows = src.as_raw().chunks_exact(sw * 3);
    for dst in out.chunks_exact_mut(w * 3) {
        let (Some(top), bottom) = (rows.next(), rows.next()) else { break };
        let bottom = bottom.unwrap_or(top);
        for ((s, &a), &b) in pair.iter_mut().zip(top).zip(bottom) {
            *s = u16::from(a) + u16::from(b);
        }
        for (d, s) in dst.chunks_exact_mut(3).zip(pair.chunks_exact(6)) {
            for k in 0..3 {
                d[k] = ((s[k] + s[k + 3] + 2) >> 2) as u8;
            }
        }
        if sw % 2 == 1 {
            let (d, s) = (&mut dst[(w - 1) * 3..], &pair[(sw - 1) * 3..]);
            for k in 0..3 {
                d[k] = ((2 * s[k] + 2) >> 2) as u8;
            }
        }
    }
    RgbImage::from_raw(w as u32, h as u32, out).unwrap_or_else(|| RgbImage::new(w as u32, h as u32))
}

/// Resizes a single-channel plane (masks, alpha) to `w` x `h`.
pub fn resize_gray(src: &GrayImage, w: u32, h: u32) -> GrayImage {
    let full = Rect::new(0.0, 0.0, src.width() as f32, src.height() as f32);
    resize_crop(src, full, w, h, PixelType::U8)
}

/// Resamples the part `crop` (source pixels, may be fractional; must lie inside the image) into
/// a new `w` x `h` image.
pub fn resize_rgb_crop(src: &RgbImage, crop: Rect, w: u32, h: u32) -> RgbImage {
    resize_crop(src, crop, w, h, PixelType::U8x3)
}

fn resize_crop<P: Pixel<Subpixel = u8> + 'static>(
    src: &ImageBuffer<P, Vec<u8>>,
    crop: Rect,
    w: u32,
    h: u32,
    pixel_type: PixelType,
) -> ImageBuffer<P, Vec<u8>> {
    let w = w.max(1);
    let h = h.max(1);
    let (sw, sh) = src.dimensions();
    let crop = crop.clamped(sw as f32, sh as f32);
    let fallback = |src: &ImageBuffer<P, Vec<u8>>| {
        let x = crop.x.floor() as u32;
        let y = crop.y.floor() as u32;
        let cw = (crop.w.ceil() as u32).clamp(1, sw - x.min(sw - 1));
        let ch = (crop.h.ceil() as u32).clamp(1, sh - y.min(sh - 1));
        let view = image::imageops::crop_imm(src, x.min(sw - 1), y.min(sh - 1), cw, ch).to_image();
        image::imageops::resize(&view, w, h, image::imageops::FilterType::Triangle)
    };
    if sw == 0 || sh == 0 || crop.w < 0.5 || crop.h < 0.5 {
        return ImageBuffer::new(w, h);
    }
    let Ok(src_ref) = ImageRef::new(sw, sh, src.as_raw(), pixel_type) else {
        return fallback(src);
    };
    let mut dst = Image::new(w, h, pixel_type);
    // In f64 and held inside the image: an f32 crop flush with the right edge can end a few
    // millionths past it, which the resizer refuses, and the slow fallback then did the work
    // (a tenth of a studio run's time before this was found).
    let (x, y) = (f64::from(crop.x), f64::from(crop.y));
    let cw = f64::from(crop.w).min(f64::from(sw) - x);
    let ch = f64::from(crop.h).min(f64::from(sh) - y);
    let options = ResizeOptions::new().resize_alg(ResizeAlg::Convolution(FilterType::Lanczos3)).crop(x, y, cw, ch);
    if Resizer::new().resize(&src_ref, &mut dst, &options).is_err() {
        return fallback(src);
    }
    ImageBuffer::from_raw(w, h, dst.into_vec()).unwrap_or_else(|| fallback(src))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flat_image_stays_flat_and_sized() {
        let img = RgbImage::from_pixel(300, 200, image::Rgb([10, 200, 30]));
        let small = resize_rgb(&img, 150, 100);
        assert_eq!(small.dimensions(), (150, 100));
        assert!(small.pixels().all(|p| p.0 == [10, 200, 30]));
    }

    /// A crop whose f32 right edge lands a hair past the image (48.912445 + 2249.0876 > 2298)
    /// is resampled like the same crop held inside, not by the fallback.
    #[test]
    fn a_crop_flush_with_the_edge_takes_the_fast_exact_path() {
        let img = RgbImage::from_fn(2298, 300, |x, y| {
            image::Rgb([(x * 7 % 256) as u8, (y * 13 % 256) as u8, ((x ^ y) % 256) as u8])
        });
        let flush = resize_rgb_crop(&img, Rect::new(48.912445, 0.0, 2249.0876, 300.0), 630, 84);
        let inside = resize_rgb_crop(&img, Rect::new(48.912445, 0.0, 2249.0875, 300.0), 630, 84);
        let worst = flush.as_raw().iter().zip(inside.as_raw()).map(|(a, b)| a.abs_diff(*b)).max();
        assert!(worst <= Some(1), "differs by {worst:?}");
    }

    /// Shrinking by halvings and then Lanczos lands where Lanczos alone does: the same size, a
    /// flat image stays flat, and an odd-sized image's content stays in place (a bright column
    /// at a third of the width comes out at a third, to within a target pixel).
    #[test]
    fn shrinking_by_halvings_keeps_size_colour_and_place() {
        let flat = RgbImage::from_pixel(3001, 2003, image::Rgb([10, 200, 30]));
        let small = shrink_rgb(&flat, 700, 467);
        assert_eq!(small.dimensions(), (700, 467));
        assert!(small.pixels().all(|p| p.0 == [10, 200, 30]));

        let (w, h) = (3001u32, 1201u32);
        let line = RgbImage::from_fn(w, h, |x, _| image::Rgb(if x / 8 == w / 3 / 8 { [255; 3] } else { [0; 3] }));
        let (tw, th) = (640u32, 256u32);
        for img in [shrink_rgb(&line, tw, th), resize_rgb(&line, tw, th)] {
            let row: Vec<u32> = (0..tw).map(|x| u32::from(img.get_pixel(x, th / 2)[0])).collect();
            let total: u32 = row.iter().sum();
            let centre = row.iter().enumerate().map(|(x, &v)| (x as f32 + 0.5) * v as f32).sum::<f32>() / total as f32;
            let expected = (w / 3 / 8 * 8 + 4) as f32 * tw as f32 / w as f32;
            assert!((centre - expected).abs() < 1.0, "centre {centre}, expected {expected}");
        }
    }

    #[test]
    fn halving_averages_blocks_and_keeps_an_odd_edge() {
        let img = RgbImage::from_fn(3, 3, |x, y| image::Rgb([(10 * x + 100 * y) as u8, 7, 255]));
        let half = halve_rgb(&img);
        assert_eq!(half.dimensions(), (2, 2));
        // (0 + 10 + 100 + 110) / 4 = 55; the odd column: (20 + 120) / 2; the odd row: (200 + 210) / 2.
        assert_eq!(half.get_pixel(0, 0).0, [55, 7, 255]);
        assert_eq!(half.get_pixel(1, 0).0, [70, 7, 255]);
        assert_eq!(half.get_pixel(0, 1).0, [205, 7, 255]);
        assert_eq!(half.get_pixel(1, 1).0, [220, 7, 255]);
    }

    #[test]
    fn crop_takes_the_named_part() {
        let mut img = RgbImage::from_pixel(100, 100, image::Rgb([0, 0, 0]));
        for y in 0..100 {
            for x in 50..100 {
                img.put_pixel(x, y, image::Rgb([255, 255, 255]));
            }
        }
        let right = resize_rgb_crop(&img, Rect::new(60.0, 0.0, 40.0, 100.0), 20, 50);
        assert!(right.pixels().all(|p| p.0 == [255, 255, 255]));
    }
}
