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
