//! Export: encoding an output for its use (format, byte limit, an sRGB tag, no camera or location
//! metadata) and writing files so that no reader ever sees half of one.

use std::io::Write;
use std::path::{Path, PathBuf};

use headshot_turbojpeg::Subsampling;
use image::RgbImage;
use serde::Serialize;
use thiserror::Error;

use crate::uses::Format;

/// The best JPEG quality tried; above it files grow a lot for no visible gain.
pub const MAX_JPEG_QUALITY: u8 = 92;
/// The lowest JPEG quality accepted before giving up on a byte limit.
pub const MIN_JPEG_QUALITY: u8 = 40;

#[derive(Debug, Error)]
pub enum ExportError {
    #[error("even at JPEG quality {MIN_JPEG_QUALITY} the output takes {bytes} bytes, over the limit of {limit}")]
    OverLimit { bytes: usize, limit: u64 },
    #[error("{format:?} output of {bytes} bytes is over the limit of {limit} (it has no quality to lower)")]
    LosslessOverLimit { format: Format, bytes: usize, limit: u64 },
    #[error("encoding failed: {0}")]
    Encode(String),
    #[error("{format:?} has no alpha channel: a transparent background needs PNG or WebP")]
    NoAlpha { format: Format },
    #[error(
        "even at the best quality the output takes {bytes} bytes, under the least of {limit} the document accepts (nothing is padded)"
    )]
    UnderLimit { bytes: usize, limit: u64 },
    #[error("{format:?} has no field for the resolution a document photo must carry: use JPEG or PNG")]
    NoDpi { format: Format },
    #[error("could not write {path}: {source}")]
    Write { path: PathBuf, source: std::io::Error },
}

/// An encoded output.
#[derive(Debug, Clone, Serialize)]
pub struct Encoded {
    #[serde(skip)]
    pub bytes: Vec<u8>,
    pub format: Format,
    /// JPEG quality used (`None` for lossless formats).
    pub quality: Option<u8>,
}

/// The sRGB ICC profile every output carries, so colour-managed viewers show what we meant.
/// Its creation date is fixed (IEC 61966-2-1's, 1999-10-18): the profile would otherwise carry
/// the second it was made, and the same photo and options would not give the same bytes twice,
/// which a re-run job, a cache or a digest of the outputs relies on. Built once: every output
/// carries the same bytes.
pub fn srgb_profile() -> &'static [u8] {
    static PROFILE: std::sync::LazyLock<Vec<u8>> = std::sync::LazyLock::new(|| {
        let mut profile = moxcms::ColorProfile::new_srgb();
        profile.creation_date_time = SRGB_PROFILE_DATE;
        profile.encode().unwrap_or_default()
    });
    &PROFILE
}

const SRGB_PROFILE_DATE: moxcms::ColorDateTime =
    moxcms::ColorDateTime { year: 1999, month: 10, day_of_the_month: 18, hours: 0, minutes: 0, seconds: 0 };

/// Encodes `img` as `format` within `max_bytes`. JPEG searches (by bisection) the highest
/// quality that fits; PNG and WebP are lossless and either fit or fail.
pub fn encode(img: &RgbImage, format: Format, max_bytes: u64) -> Result<Encoded, ExportError> {
    let icc = srgb_profile();
    match format {
        Format::Jpeg => {
            let try_q = |q: u8| encode_jpeg(img, q, icc, None);
            let (q, bytes) = best_jpeg_under(&try_q, max_bytes)?;
            Ok(Encoded { bytes, format, quality: Some(q) })
        }
        Format::Png | Format::Webp => {
            let (w, h) = img.dimensions();
            lossless_within(img.as_raw(), w, h, image::ExtendedColorType::Rgb8, format, max_bytes, icc)
        }
    }
}

/// Encodes an image with an alpha channel (a cut-out) as `format` within `max_bytes`: PNG or
/// WebP, both lossless; JPEG has no alpha channel.
pub fn encode_rgba(img: &image::RgbaImage, format: Format, max_bytes: u64) -> Result<Encoded, ExportError> {
    if format == Format::Jpeg {
        return Err(ExportError::NoAlpha { format });
    }
    let (w, h) = img.dimensions();
    lossless_within(img.as_raw(), w, h, image::ExtendedColorType::Rgba8, format, max_bytes, srgb_profile())
}

fn lossless_within(
    raw: &[u8],
    w: u32,
    h: u32,
    layout: image::ExtendedColorType,
    format: Format,
    max_bytes: u64,
    icc: &[u8],
) -> Result<Encoded, ExportError> {
    let bytes = encode_lossless(raw, w, h, layout, format, icc)?;
    if bytes.len() as u64 > max_bytes {
        return Err(ExportError::LosslessOverLimit { format, bytes: bytes.len(), limit: max_bytes });
    }
    Ok(Encoded { bytes, format, quality: None })
}

/// The highest JPEG quality from `MIN_JPEG_QUALITY` to `MAX_JPEG_QUALITY` whose file (made by
/// `try_q`) fits in `max_bytes`, and that file: the best quality first (most outputs fit), then
/// a bisection (file size grows with quality).
fn best_jpeg_under(
    try_q: &dyn Fn(u8) -> Result<Vec<u8>, ExportError>,
    max_bytes: u64,
) -> Result<(u8, Vec<u8>), ExportError> {
    let best = try_q(MAX_JPEG_QUALITY)?;
    if best.len() as u64 <= max_bytes {
        return Ok((MAX_JPEG_QUALITY, best));
    }
    let (mut lo, mut hi) = (MIN_JPEG_QUALITY, MAX_JPEG_QUALITY - 1);
    let mut found = None;
    while lo <= hi {
        let q = lo + (hi - lo) / 2;
        let bytes = try_q(q)?;
        if bytes.len() as u64 <= max_bytes {
            found = Some((q, bytes));
            lo = q + 1;
        } else {
            hi = q - 1;
        }
    }
    match found {
        Some(f) => Ok(f),
        None => Err(ExportError::OverLimit { bytes: try_q(MIN_JPEG_QUALITY)?.len(), limit: max_bytes }),
    }
}

/// Encodes a document photo: `format` (JPEG or PNG) with `dpi` written into the file (JFIF
/// density, PNG pHYs), its size within `min_bytes..=max_bytes`. A JPEG takes the best quality
/// under the upper limit; one that stays under the lower limit even at the best quality is an
/// error, never padded to size.
pub fn encode_document(
    img: &RgbImage,
    format: Format,
    min_bytes: u64,
    max_bytes: u64,
    dpi: u16,
) -> Result<Encoded, ExportError> {
    let icc = srgb_profile();
    let e = match format {
        Format::Jpeg => {
            let try_q = |q: u8| encode_jpeg(img, q, icc, Some(dpi));
            // The best quality worth having that fits under the upper limit...
            let (mut q, mut bytes) = best_jpeg_under(&try_q, max_bytes)?;
            // ...raised, when the file is under the lower limit, to the least quality that
            // reaches it (a plain backdrop compresses well: a small file is not a bad one, but
            // an upload under the window is refused).
            while (bytes.len() as u64) < min_bytes && q < 100 {
                let next = try_q(q + 1)?;
                if next.len() as u64 > max_bytes {
                    break;
                }
                q += 1;
                bytes = next;
            }
            Encoded { bytes, format, quality: Some(q) }
        }
        Format::Png => {
            let (w, h) = img.dimensions();
            let mut e = lossless_within(img.as_raw(), w, h, image::ExtendedColorType::Rgb8, format, max_bytes, icc)?;
            e.bytes = with_png_dpi(&e.bytes, dpi);
            if e.bytes.len() as u64 > max_bytes {
                return Err(ExportError::LosslessOverLimit { format, bytes: e.bytes.len(), limit: max_bytes });
            }
            e
        }
        Format::Webp => return Err(ExportError::NoDpi { format }),
    };
    if (e.bytes.len() as u64) < min_bytes {
        return Err(ExportError::UnderLimit { bytes: e.bytes.len(), limit: min_bytes });
    }
    Ok(e)
}

/// A PNG with a pHYs chunk (pixels per metre, unit: metre) after its header chunk.
fn with_png_dpi(png: &[u8], dpi: u16) -> Vec<u8> {
    // Signature (8) + IHDR (4 length + 4 type + 13 data + 4 CRC).
    const AFTER_IHDR: usize = 8 + 25;
    if png.len() < AFTER_IHDR {
        return png.to_vec();
    }
    let per_metre = (f64::from(dpi) / 0.0254).round() as u32;
    let mut chunk = Vec::with_capacity(21);
    chunk.extend_from_slice(&9u32.to_be_bytes());
    let mut body = b"pHYs".to_vec();
    body.extend_from_slice(&per_metre.to_be_bytes());
    body.extend_from_slice(&per_metre.to_be_bytes());
    body.push(1);
    chunk.extend_from_slice(&body);
    chunk.extend_from_slice(&crc32fast::hash(&body).to_be_bytes());
    let mut out = Vec::with_capacity(png.len() + chunk.len());
    out.extend_from_slice(&png[..AFTER_IHDR]);
    out.extend_from_slice(&chunk);
    out.extend_from_slice(&png[AFTER_IHDR..]);
    out
}

/// Full-resolution colour at high quality (skin and lips suffer from 4:2:0), halved below.
fn full_colour(quality: u8) -> bool {
    quality >= 90
}

/// A JPEG of `img` at `quality`, tagged with `icc` and, for documents, `dpi`: made by the
/// system's libjpeg-turbo where it is (about twice as fast), by the pure-Rust encoder otherwise
/// or if libjpeg-turbo fails. The two differ only in their Huffman tables at full colour:
/// libjpeg-turbo's TurboJPEG API writes libjpeg's standard ones, the pure-Rust encoder tables
/// fitted to the image (a second pass over it), about 4 % smaller at quality 92.
fn encode_jpeg(img: &RgbImage, quality: u8, icc: &[u8], dpi: Option<u16>) -> Result<Vec<u8>, ExportError> {
    let sampling = if full_colour(quality) { Subsampling::S444 } else { Subsampling::S420 };
    headshot_turbojpeg::encode_rgb(img.as_raw(), img.width(), img.height(), quality, sampling)
        .and_then(Result::ok)
        .and_then(|jpeg| tagged(&jpeg, icc, dpi))
        .map_or_else(|| encode_jpeg_rust(img, quality, icc, dpi), Ok)
}

/// `jpeg` (a JFIF file from libjpeg-turbo) with its density set to `dpi` and `icc` embedded in
/// APP2 segments right after the JFIF one, as the ICC specification lays them out (at most
/// 65,519 bytes of profile a segment, numbered from 1). `None` if the file does not start with
/// the JFIF segment this expects.
fn tagged(jpeg: &[u8], icc: &[u8], dpi: Option<u16>) -> Option<Vec<u8>> {
    const CHUNK: usize = 65_519;
    if jpeg.len() < 20 || jpeg[..4] != [0xFF, 0xD8, 0xFF, 0xE0] || &jpeg[6..11] != b"JFIF\0" {
        return None;
    }
    let app0_end = 4 + usize::from(u16::from_be_bytes([jpeg[4], jpeg[5]]));
    if app0_end < 18 || app0_end > jpeg.len() {
        return None;
    }
    let chunks: Vec<&[u8]> = icc.chunks(CHUNK).collect();
    let count = u8::try_from(chunks.len()).ok()?;
    let mut out = Vec::with_capacity(jpeg.len() + icc.len() + 18 * chunks.len());
    out.extend_from_slice(&jpeg[..app0_end]);
    if let Some(d) = dpi {
        // JFIF: units (1 = dots per inch) at 13, then the horizontal and vertical densities.
        out[13] = 1;
        out[14..16].copy_from_slice(&d.to_be_bytes());
        out[16..18].copy_from_slice(&d.to_be_bytes());
    }
    for (i, chunk) in chunks.iter().enumerate() {
        let length = u16::try_from(2 + 12 + 2 + chunk.len()).ok()?;
        out.extend_from_slice(&[0xFF, 0xE2]);
        out.extend_from_slice(&length.to_be_bytes());
        out.extend_from_slice(b"ICC_PROFILE\0");
        out.extend_from_slice(&[i as u8 + 1, count]);
        out.extend_from_slice(chunk);
    }
    out.extend_from_slice(&jpeg[app0_end..]);
    Some(out)
}

/// `encode_jpeg` by the pure-Rust encoder, with Huffman tables fitted to the image at full
/// colour. With tables of its own the encoder writes each component in a scan of its own (a
/// non-interleaved baseline file, as the standard allows), which zune-jpeg 0.5.15, the image
/// crate's JPEG decoder, reads as garbage when the colour is subsampled (zune-image issue 419,
/// fixed after it): so at 4:2:0 the standard tables and one interleaved scan, readable by every
/// decoder, for files about 4 % larger.
fn encode_jpeg_rust(img: &RgbImage, quality: u8, icc: &[u8], dpi: Option<u16>) -> Result<Vec<u8>, ExportError> {
    let (w, h) = img.dimensions();
    let (w16, h16) = (
        u16::try_from(w).map_err(|_| ExportError::Encode(format!("{w} px is too wide for JPEG")))?,
        u16::try_from(h).map_err(|_| ExportError::Encode(format!("{h} px is too tall for JPEG")))?,
    );
    let mut out = Vec::new();
    let mut enc = jpeg_encoder::Encoder::new(&mut out, quality);
    enc.set_sampling_factor(if full_colour(quality) {
        jpeg_encoder::SamplingFactor::R_4_4_4
    } else {
        jpeg_encoder::SamplingFactor::R_4_2_0
    });
    enc.set_optimized_huffman_tables(full_colour(quality));
    if let Some(d) = dpi {
        enc.set_density(jpeg_encoder::PixelDensity::dpi(d));
    }
    if !icc.is_empty() {
        enc.add_icc_profile(icc).map_err(|e| ExportError::Encode(e.to_string()))?;
    }
    enc.encode(img.as_raw(), w16, h16, jpeg_encoder::ColorType::Rgb).map_err(|e| ExportError::Encode(e.to_string()))?;
    Ok(out)
}

fn encode_lossless(
    raw: &[u8],
    w: u32,
    h: u32,
    layout: image::ExtendedColorType,
    format: Format,
    icc: &[u8],
) -> Result<Vec<u8>, ExportError> {
    use image::ImageEncoder;
    let mut out = Vec::new();
    let result = match format {
        Format::Png => {
            // The smallest file for outputs of a few megapixels (byte limits bite there); a
            // full-resolution cut-out would spend seconds for a few per cent.
            let level = if u64::from(w) * u64::from(h) <= 4_000_000 {
                image::codecs::png::CompressionType::Best
            } else {
                image::codecs::png::CompressionType::Default
            };
            let mut enc = image::codecs::png::PngEncoder::new_with_quality(
                &mut out,
                level,
                image::codecs::png::FilterType::Adaptive,
            );
            // A missing tag is not worth failing an output for.
            let _ = enc.set_icc_profile(icc.to_vec());
            enc.write_image(raw, w, h, layout)
        }
        _ => {
            let mut enc = image::codecs::webp::WebPEncoder::new_lossless(&mut out);
            let _ = enc.set_icc_profile(icc.to_vec());
            enc.write_image(raw, w, h, layout)
        }
    };
    result.map_err(|e| ExportError::Encode(e.to_string()))?;
    Ok(out)
}

/// A hidden temporary name beside `path` (`.<name>.<pid>-<n>.partial`), unique to this call,
/// not only to this process: threads writing the same file at once (progress updates of one
/// session, two downloads of one zip) must not share, truncate or rename each other's
/// temporary. Interrupted runs leave only such names, which the studio sweeps.
pub fn temporary_beside(path: &Path) -> std::path::PathBuf {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let dir = path.parent().unwrap_or_else(|| Path::new("."));
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    dir.join(format!(".{name}.{}-{n}.partial", std::process::id()))
}

/// Writes `bytes` to `path` atomically: into a hidden temporary file beside it, flushed to disk,
/// then renamed over the target. A reader sees the old file or the new one, never part of one;
/// an interrupted run leaves at most a hidden temporary, which the next run's write replaces.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), ExportError> {
    let err = |source| ExportError::Write { path: path.to_path_buf(), source };
    let dir = path.parent().unwrap_or_else(|| Path::new("."));
    std::fs::create_dir_all(dir).map_err(err)?;
    let tmp = temporary_beside(path);
    let result = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result.map_err(err)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_profile_carries_a_fixed_date_so_the_same_pixels_give_the_same_bytes() {
        let icc = srgb_profile();
        // The ICC header's dateTimeNumber: six big-endian u16 at bytes 24..36.
        let date: Vec<u16> = icc[24..36].chunks(2).map(|b| u16::from_be_bytes([b[0], b[1]])).collect();
        assert_eq!(date, [1999, 10, 18, 0, 0, 0]);
        let img = RgbImage::from_pixel(64, 64, image::Rgb([120, 90, 200]));
        let formats = [Format::Jpeg, Format::Png, Format::Webp];
        let once: Vec<Vec<u8>> = formats.map(|f| encode(&img, f, u64::MAX).expect("encodes").bytes).to_vec();
        // A second later, as a re-run job would be.
        std::thread::sleep(std::time::Duration::from_millis(1100));
        for (f, bytes) in formats.iter().zip(&once) {
            assert_eq!(&encode(&img, *f, u64::MAX).expect("encodes").bytes, bytes, "{f:?}");
        }
    }

    /// A document's byte window is kept both ways: under the lower limit is an error that says
    /// so (never padded), and the DPI is in the file.
    #[test]
    fn a_document_under_its_byte_window_is_an_error_not_padding() {
        let flat = RgbImage::from_pixel(64, 64, image::Rgb([240, 240, 240]));
        match encode_document(&flat, Format::Jpeg, 100_000, 1_000_000, 300) {
            Err(ExportError::UnderLimit { bytes, limit: 100_000 }) => assert!(bytes < 100_000),
            other => panic!("{other:?}"),
        }
        assert!(matches!(encode_document(&flat, Format::Webp, 0, 1_000_000, 300), Err(ExportError::NoDpi { .. })));
        // Raised quality reaches a lower limit the best web quality misses.
        let noisy = RgbImage::from_fn(200, 200, |x, y| {
            image::Rgb([(x * 7 % 256) as u8, (y * 13 % 256) as u8, ((x ^ y) % 256) as u8])
        });
        let at_92 = encode_document(&noisy, Format::Jpeg, 0, 10_000_000, 300).expect("encodes");
        let floor = at_92.bytes.len() as u64 + 2_000;
        let raised = encode_document(&noisy, Format::Jpeg, floor, 10_000_000, 300).expect("reaches the floor");
        assert!(raised.bytes.len() as u64 >= floor && raised.quality > at_92.quality, "{:?}", raised.quality);
    }

    /// Threads writing the same file at once: every write lands whole, the file always holds one
    /// of them, and no temporary is left behind.
    #[test]
    fn concurrent_atomic_writes_of_one_file_never_mix_or_fail() {
        let dir = std::env::temp_dir().join(format!("headshot-atomic-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let path = dir.join("session.json");
        std::thread::scope(|s| {
            for t in 0..8u8 {
                let path = &path;
                s.spawn(move || {
                    for _ in 0..50 {
                        write_atomic(path, &vec![b'a' + t; 4096]).expect("write succeeds");
                    }
                });
            }
        });
        let bytes = std::fs::read(&path).expect("read");
        assert_eq!(bytes.len(), 4096);
        assert!(bytes.iter().all(|&b| b == bytes[0]));
        let left = std::fs::read_dir(&dir).expect("dir").count();
        assert_eq!(left, 1, "temporaries left behind");
        let _ = std::fs::remove_dir_all(&dir);
    }

    fn noisy(w: u32, h: u32) -> RgbImage {
        let mut s = 12345u32;
        RgbImage::from_fn(w, h, |_, _| {
            s = s.wrapping_mul(1_103_515_245).wrapping_add(12345);
            image::Rgb([(s >> 24) as u8, (s >> 16) as u8, (s >> 8) as u8])
        })
    }

    #[test]
    fn jpeg_search_finds_a_quality_under_the_limit() {
        let img = noisy(200, 200);
        let free = encode(&img, Format::Jpeg, u64::MAX).expect("encodes");
        assert_eq!(free.quality, Some(MAX_JPEG_QUALITY));
        let limit = free.bytes.len() as u64 / 3;
        let tight = encode(&img, Format::Jpeg, limit).expect("fits at a lower quality");
        assert!(tight.bytes.len() as u64 <= limit);
        let q = tight.quality.expect("jpeg");
        assert!(q < MAX_JPEG_QUALITY);
        // The next quality up would not fit: the search took the highest that does.
        if q < MAX_JPEG_QUALITY - 1 {
            let up = encode_jpeg(&img, q + 1, srgb_profile(), None).expect("encodes");
            assert!(up.len() as u64 > limit);
        }
        assert!(matches!(encode(&img, Format::Jpeg, 1000), Err(ExportError::OverLimit { .. })));
    }

    #[test]
    fn outputs_carry_an_srgb_profile_and_decode_at_size() {
        let img = noisy(64, 48);
        for format in [Format::Jpeg, Format::Png, Format::Webp] {
            let e = encode(&img, format, u64::MAX).expect("encodes");
            let decoded = image::load_from_memory(&e.bytes).expect("decodes");
            assert_eq!((decoded.width(), decoded.height()), (64, 48));
            let mut dec = image::ImageReader::new(std::io::Cursor::new(&e.bytes))
                .with_guessed_format()
                .expect("format")
                .into_decoder()
                .expect("decoder");
            use image::ImageDecoder;
            let icc = dec.icc_profile().expect("reads").expect("has a profile");
            assert_eq!(icc, srgb_profile(), "{format:?}");
        }
    }

    /// What the pure-Rust encoder writes, at full and at subsampled colour, reads back right in
    /// the image crate's decoder (zune-jpeg), as anyone's Rust program would read an output.
    #[test]
    fn the_pure_rust_encoders_files_read_right_in_the_image_crate() {
        let img = RgbImage::from_fn(160, 120, |x, y| image::Rgb([(x * 255 / 160) as u8, (y * 255 / 120) as u8, 128]));
        for q in [92, 80] {
            let jpeg = encode_jpeg_rust(&img, q, srgb_profile(), None).expect("encodes");
            let back = image::load_from_memory(&jpeg).expect("decodes").to_rgb8();
            let d = mean_difference(back.as_raw(), img.as_raw());
            assert!(d < 2.0, "quality {q}: mean difference {d}");
        }
    }

    /// Mean absolute difference of two equally long sample buffers, in levels.
    fn mean_difference(a: &[u8], b: &[u8]) -> f64 {
        assert_eq!(a.len(), b.len());
        a.iter().zip(b).map(|(&x, &y)| (f64::from(x) - f64::from(y)).abs()).sum::<f64>() / a.len() as f64
    }

    /// A JPEG's JFIF density: (units, horizontal, vertical).
    fn jfif_density(jpeg: &[u8]) -> (u8, u16, u16) {
        assert_eq!(&jpeg[6..11], b"JFIF\0", "a JFIF segment first");
        (jpeg[13], u16::from_be_bytes([jpeg[14], jpeg[15]]), u16::from_be_bytes([jpeg[16], jpeg[17]]))
    }

    fn profile_of(jpeg: &[u8]) -> Vec<u8> {
        use image::ImageDecoder;
        let mut dec = image::codecs::jpeg::JpegDecoder::new(std::io::Cursor::new(jpeg)).expect("a JPEG");
        dec.icc_profile().expect("reads").expect("has a profile")
    }

    /// libjpeg-turbo (where the machine has it) and the pure-Rust encoder make the same picture
    /// from the same quality, with the same profile and density, read back by a third decoder
    /// (jpeg-decoder's); only their Huffman tables differ.
    #[test]
    fn both_jpeg_encoders_make_the_same_picture_and_tags() {
        if !headshot_turbojpeg::available() {
            assert!(std::env::var_os("HEADSHOT_REQUIRE_TURBOJPEG").is_none(), "libturbojpeg.so.0 could not be loaded");
            return;
        }
        let img = RgbImage::from_fn(160, 120, |x, y| {
            let ring = (((x as f32 - 70.0).powi(2) + (y as f32 - 50.0).powi(2)).sqrt() / 5.0).sin();
            image::Rgb([(x * 255 / 160) as u8, (y * 255 / 120) as u8, (128.0 + 90.0 * ring) as u8])
        });
        for (q, dpi) in [(92, Some(300)), (80, None)] {
            let turbo = encode_jpeg(&img, q, srgb_profile(), dpi).expect("encodes");
            let rust = encode_jpeg_rust(&img, q, srgb_profile(), dpi).expect("encodes");
            assert_ne!(turbo, rust, "quality {q}: both files came from one encoder");
            let decode = |jpeg: &[u8]| {
                let mut d = jpeg_decoder::Decoder::new(jpeg);
                let pixels = d.decode().expect("decodes");
                let info = d.info().expect("has a frame");
                assert_eq!((u32::from(info.width), u32::from(info.height)), img.dimensions());
                pixels
            };
            let (t, r) = (decode(&turbo), decode(&rust));
            let (t_err, r_err, between) =
                (mean_difference(&t, &img), mean_difference(&r, &img), mean_difference(&t, &r));
            assert!(t_err < r_err + 0.3 && between < 3.0, "quality {q}: {t_err} {r_err} {between}");
            // The same quality scale: files within a fifth of each other.
            let ratio = turbo.len() as f64 / rust.len() as f64;
            assert!((0.8..1.25).contains(&ratio), "quality {q}: {} against {} bytes", turbo.len(), rust.len());
            assert_eq!(profile_of(&turbo), srgb_profile());
            assert_eq!(profile_of(&rust), srgb_profile());
            let density = dpi.map_or((0, 1, 1), |d| (1, d, d));
            assert_eq!(jfif_density(&turbo), density, "quality {q}");
            assert_eq!(jfif_density(&rust), density, "quality {q}");
        }
        // A profile longer than one segment holds is split over numbered segments.
        let long: Vec<u8> = (0..150_000u32).map(|i| (i % 251) as u8).collect();
        let jpeg = encode_jpeg(&img, 85, &long, None).expect("encodes");
        assert_eq!(profile_of(&jpeg), long);
    }

    #[test]
    fn atomic_write_replaces_and_leaves_no_temporary() {
        let dir = std::env::temp_dir().join(format!("headshot-export-{}", std::process::id()));
        let path = dir.join("a.jpg");
        write_atomic(&path, b"one").expect("writes");
        write_atomic(&path, b"two").expect("replaces");
        assert_eq!(std::fs::read(&path).expect("reads"), b"two");
        let names: Vec<_> =
            std::fs::read_dir(&dir).expect("dir").filter_map(|e| e.ok()).map(|e| e.file_name()).collect();
        assert_eq!(names.len(), 1, "{names:?}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
