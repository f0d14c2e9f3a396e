//! The one way every photo enters the program: bytes -> oriented, sRGB, size-limited pixels,
//! plus a reduced copy for analysis.
//!
//! Every coordinate the program reports is in the photo *as a person sees it*: EXIF orientation is
//! applied here, once, so no later stage has to think about it.
//!
//! JPEGs are decoded whole by zune-jpeg; for analysis at a reduced size by the system's
//! libjpeg-turbo where it is (`headshot-turbojpeg`, loaded at run time), else, and for any file
//! it warns about, by jpeg-decoder. The two reduced decoders read the same picture to within a
//! level.

use std::io::Cursor;
use std::path::{Path, PathBuf};

use image::{DynamicImage, GrayImage, ImageDecoder, ImageReader, RgbImage};
use serde::{Deserialize, Serialize};

use crate::resize::shrink_rgb;

/// Bounds on what a single photo may cost. A photo over them is refused before its pixels are
/// allocated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest number of pixels (width x height) accepted.
    pub max_pixels: u64,
    /// Largest file accepted, in bytes.
    pub max_bytes: u64,
    /// Long side of the analysis copy, in pixels.
    pub analysis_long_side: u32,
    /// Most memory one photo's decoding may take, in bytes, estimated from its header before
    /// any pixel buffer exists (a 16-bit PNG of zeros is tiny on disk and huge in memory).
    pub max_decode_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_pixels: 100_000_000,
            max_bytes: 50 * 1024 * 1024,
            // ~1.9 MP for a 4:3 photo: enough for faces down to ~20 px in a full-body shot, small
            // enough that detection and measurements stay in tens of milliseconds.
            analysis_long_side: 1600,
            max_decode_bytes: MAX_DECODE_BYTES,
        }
    }
}

/// Memory all the photos being decoded at once may take together, in bytes: photos decode in
/// parallel, and one that needs more than what is left waits for the others to finish.
pub const DECODE_BUDGET: u64 = 2 << 30;

/// Most memory one photo may take to decode: a 100 MP 8-bit photo fits (about 950 MiB), a
/// 10000x10000 16-bit one (1.6 GB) does not.
pub const MAX_DECODE_BYTES: u64 = 1 << 30;

/// The decoding memory in use across the process, against `DECODE_BUDGET`.
static DECODING: (std::sync::Mutex<u64>, std::sync::Condvar) = (std::sync::Mutex::new(0), std::sync::Condvar::new());

/// `bytes` of the decode budget, held while a photo decodes.
struct DecodeGrant(u64);

impl DecodeGrant {
    /// Waits until `bytes` (at most the whole budget) fit beside the decodes under way.
    fn wait_for(bytes: u64) -> DecodeGrant {
        let bytes = bytes.min(DECODE_BUDGET);
        let (lock, freed) = &DECODING;
        // A poisoned lock only means another decode panicked; the count is still right.
        let mut used = lock.lock().unwrap_or_else(|e| e.into_inner());
        while *used + bytes > DECODE_BUDGET {
            used = freed.wait(used).unwrap_or_else(|e| e.into_inner());
        }
        *used += bytes;
        DecodeGrant(bytes)
    }
}

impl Drop for DecodeGrant {
    fn drop(&mut self) {
        let (lock, freed) = &DECODING;
        let mut used = lock.lock().unwrap_or_else(|e| e.into_inner());
        *used = used.saturating_sub(self.0);
        freed.notify_all();
    }
}

/// What kind of failure stopped a photo. Serialised as in the report's `errors[].kind`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum PhotoErrorKind {
    /// The bytes are not a valid image of a format we read (truncated, corrupt, empty).
    Decode,
    /// A valid file of a format or variant we do not read.
    Unsupported,
    /// Over the pixel or byte limits.
    TooLarge,
    /// Could not be read from disk.
    Io,
    /// Read, but a model failed on it: not the photo's fault.
    Model,
    /// Not processed: the run's time budget (a server's limit per session) ran out first.
    TimeBudget,
}

/// A photo that could not be read, with the path and the reason.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{}: {reason}", path.display())]
pub struct PhotoError {
    pub path: PathBuf,
    pub kind: PhotoErrorKind,
    pub reason: String,
}

impl PhotoError {
    fn new(path: &Path, kind: PhotoErrorKind, reason: impl Into<String>) -> Self {
        Self { path: path.to_path_buf(), kind, reason: reason.into() }
    }

    fn from_image(path: &Path, e: image::ImageError) -> Self {
        use image::ImageError as E;
        let kind = match &e {
            E::Decoding(_) => PhotoErrorKind::Decode,
            E::Unsupported(_) => PhotoErrorKind::Unsupported,
            E::Limits(_) => PhotoErrorKind::TooLarge,
            E::IoError(io) if io.kind() == std::io::ErrorKind::UnexpectedEof => PhotoErrorKind::Decode,
            E::IoError(_) => PhotoErrorKind::Io,
            E::Encoding(_) | E::Parameter(_) => PhotoErrorKind::Decode,
        };
        let reason = match &e {
            E::IoError(io) if io.kind() == std::io::ErrorKind::UnexpectedEof => {
                "truncated: the file ends before the image does".to_string()
            }
            _ => e.to_string(),
        };
        Self::new(path, kind, reason)
    }
}

/// How much of a photo's resolution its caller needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Resolution {
    /// Every pixel: outputs are rendered from them.
    #[default]
    Full,
    /// What the analysis reads: a JPEG at least twice the analysis copy's long side is decoded
    /// at 1/2, 1/4 or 1/8 of its size by the inverse DCT itself (as libjpeg and libvips do),
    /// never below the analysis copy's long side, and oriented and colour-converted at that size.
    Analysis,
}

/// A decoded photo: oriented, in sRGB, 8 bits per channel.
#[derive(Debug, Clone)]
pub struct Photo {
    /// Where it came from (for reports and errors).
    pub path: PathBuf,
    /// The pixels, oriented and in sRGB: at full resolution unless `reduction` says otherwise.
    /// Transparent pixels are composited over mid grey so analysis sees a plain background
    /// where the photo had none.
    pub pixels: RgbImage,
    /// Full-resolution pixels per pixel of `pixels`: 1, or 2, 4 or 8 for a large JPEG decoded
    /// for analysis only (`Resolution::Analysis`). Coordinates are always full-resolution ones;
    /// a position in `pixels` is one divided by this.
    pub reduction: u32,
    /// The oriented photo's width and height at full resolution.
    size: (u32, u32),
    /// The photo's own transparency, if it had any (255 = opaque). A transparent background
    /// counts as already replaced.
    pub alpha: Option<GrayImage>,
    /// A reduced copy for analysis (long side at most `Limits::analysis_long_side`).
    pub analysis: RgbImage,
    /// Full-resolution pixels per analysis pixel (>= 1).
    pub analysis_scale: f32,
    /// The EXIF orientation that was applied (1..=8; 1 = none).
    pub exif_orientation: u8,
    /// Whether an embedded ICC profile was converted to sRGB.
    pub icc_converted: bool,
    /// What the file was: its format, its pixel layout, whether only its first frame was used.
    pub source: Source,
}

/// What a photo's file held, as decoded: reported so that a grey scan, a CMYK print file or an
/// animation's first frame is never mistaken for the photo the user meant.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Source {
    /// "jpeg", "png", "webp", "tiff", "heic" or "avif".
    pub format: String,
    /// The decoder's pixel layout before conversion to 8-bit RGB: "rgb8", "l8" (grey),
    /// "rgba16", "cmyk" (a CMYK or YCCK JPEG) and so on.
    pub layout: String,
    /// An animation (APNG, animated WebP, a multi-page TIFF) of which the first frame is used.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub first_frame_only: bool,
}

impl Photo {
    /// The oriented photo's width at full resolution.
    pub fn width(&self) -> u32 {
        self.size.0
    }

    /// The oriented photo's height at full resolution.
    pub fn height(&self) -> u32 {
        self.size.1
    }

    /// Whether `pixels` holds every pixel of the photo (what rendering needs).
    pub fn is_full_resolution(&self) -> bool {
        self.reduction == 1
    }

    /// Lays the photo on white and drops its alpha: for transparency that is not a cut-out of
    /// a person (a round avatar's corners), so the photo is analysed as what it shows.
    pub fn flatten_onto_white(&mut self) {
        let Some(alpha) = self.alpha.take() else { return };
        // The pixels were laid on mid grey (128); the same colour on white is that plus
        // 127 times the transparency.
        for (p, a) in self.pixels.pixels_mut().zip(alpha.pixels()) {
            let lift = (127 * u32::from(255 - a[0]) + 127) / 255;
            for c in p.0.iter_mut() {
                *c = (u32::from(*c) + lift).min(255) as u8;
            }
        }
        // The same size as before, whatever resolution `pixels` has: the analysis copy's
        // coordinates do not move.
        let (w, h) = self.analysis.dimensions();
        self.analysis =
            if self.pixels.dimensions() == (w, h) { self.pixels.clone() } else { shrink_rgb(&self.pixels, w, h) };
    }

    /// Reads and decodes a photo from disk, at full resolution.
    pub fn open(path: &Path, limits: &Limits) -> Result<Photo, PhotoError> {
        Photo::open_at(path, limits, Resolution::Full)
    }

    /// Reads and decodes a photo from disk, at the resolution the caller needs.
    pub fn open_at(path: &Path, limits: &Limits, resolution: Resolution) -> Result<Photo, PhotoError> {
        Photo::decode_at(path, &Photo::read_bytes(path, limits)?, limits, resolution)
    }

    /// A photo file's bytes, refused before reading when it is not a regular file or is over
    /// the byte limit.
    pub fn read_bytes(path: &Path, limits: &Limits) -> Result<Vec<u8>, PhotoError> {
        let meta = std::fs::metadata(path).map_err(|e| PhotoError::new(path, PhotoErrorKind::Io, e.to_string()))?;
        if meta.is_dir() {
            return Err(PhotoError::new(path, PhotoErrorKind::Io, "is a directory"));
        }
        if !meta.is_file() {
            // A FIFO, socket or device: reading it could block forever or never end.
            return Err(PhotoError::new(path, PhotoErrorKind::Io, "not a regular file"));
        }
        if meta.len() > limits.max_bytes {
            return Err(PhotoError::new(
                path,
                PhotoErrorKind::TooLarge,
                format!("file is {} bytes; the limit is {}", meta.len(), limits.max_bytes),
            ));
        }
        std::fs::read(path).map_err(|e| PhotoError::new(path, PhotoErrorKind::Io, e.to_string()))
    }

    /// Decodes a photo from bytes already in memory, at full resolution; `path` names it in
    /// errors and reports.
    pub fn decode(path: &Path, bytes: &[u8], limits: &Limits) -> Result<Photo, PhotoError> {
        Photo::decode_at(path, bytes, limits, Resolution::Full)
    }

    /// Decodes a photo from bytes already in memory, at the resolution the caller needs.
    pub fn decode_at(path: &Path, bytes: &[u8], limits: &Limits, resolution: Resolution) -> Result<Photo, PhotoError> {
        if bytes.is_empty() {
            return Err(PhotoError::new(path, PhotoErrorKind::Decode, "the file is empty"));
        }
        if bytes.len() as u64 > limits.max_bytes {
            return Err(PhotoError::new(
                path,
                PhotoErrorKind::TooLarge,
                format!("file is {} bytes; the limit is {}", bytes.len(), limits.max_bytes),
            ));
        }
        if let Some(kind) = headshot_heif::sniff(bytes) {
            return decode_heif(path, bytes, kind, limits);
        }
        let reader = ImageReader::new(Cursor::new(bytes))
            .with_guessed_format()
            .map_err(|e| PhotoError::new(path, PhotoErrorKind::Io, e.to_string()))?;
        if reader.format().is_none() {
            return Err(PhotoError::new(
                path,
                PhotoErrorKind::Unsupported,
                "not a JPEG, PNG, WebP, TIFF, HEIC or AVIF image (unrecognised content)",
            ));
        }
        if let Some((w, h)) = png_header_size(bytes) {
            // The PNG decoder reads on to the first image data before it reports a size; a header
            // alone is enough to refuse.
            check_pixels(path, w, h, limits)?;
        }
        if reader.format() == Some(image::ImageFormat::Jpeg) && jpeg_is_truncated(bytes) {
            // The JPEG decoder would fill the missing rows with grey and carry on; a half-grey
            // photo would then be judged as if it were real.
            return Err(PhotoError::new(
                path,
                PhotoErrorKind::Decode,
                "truncated JPEG: the file ends inside the image data",
            ));
        }
        let format = reader.format().map_or("unknown", format_name);
        let first_frame_only = is_animation(bytes);
        let mut reader = reader;
        reader.limits(image_limits(limits));
        let mut decoder = reader.into_decoder().map_err(|e| PhotoError::from_image(path, e))?;

        // Refuse from the header, before any pixel buffer exists.
        let (w, h) = decoder.dimensions();
        check_pixels(path, w, h, limits)?;
        if w == 0 || h == 0 {
            return Err(PhotoError::new(path, PhotoErrorKind::Decode, "the image has no pixels"));
        }

        // The decoder's buffer, a turned copy of it, and the 8-bit colour and alpha planes.
        let needed = decoder.total_bytes().saturating_mul(2).saturating_add(4 * u64::from(w) * u64::from(h));
        if needed > limits.max_decode_bytes {
            return Err(PhotoError::new(
                path,
                PhotoErrorKind::TooLarge,
                format!(
                    "{w}x{h} {:?} needs about {} MB to decode; the limit is {} MB",
                    decoder.color_type(),
                    needed >> 20,
                    limits.max_decode_bytes >> 20
                ),
            ));
        }
        let _grant = DecodeGrant::wait_for(needed);

        // Metadata problems are not fatal: a photo with a broken EXIF block is still a photo.
        let orientation = decoder.orientation().unwrap_or(image::metadata::Orientation::NoTransforms);
        let icc = decoder.icc_profile().ok().flatten();
        // The JPEG decoder turns CMYK and YCCK into RGB and reports RGB; the frame header says
        // what the file held.
        let layout = match jpeg_components(bytes) {
            Some(4) if format == "jpeg" => "cmyk".to_string(),
            _ => layout_name(decoder.original_color_type()),
        };

        // A print shop's CMYK file carries the profile of the press it was separated for; its
        // colours are only right read through that profile. The decoder's own conversion is a
        // profile-less formula, kept for files without one (or with a profile we cannot use).
        let press = match (&icc, layout.as_str()) {
            (Some(profile), "cmyk") => cmyk_profile(profile),
            _ => None,
        };
        if let Some(press) = press {
            drop(decoder);
            let mut img = DynamicImage::ImageRgb8(decode_cmyk_through(path, bytes, press.as_ref())?);
            img.apply_orientation(orientation);
            let source = Source { format: format.into(), layout, first_frame_only };
            let mut photo = Photo::finish(path, img, orientation, None, source, limits);
            photo.icc_converted = true;
            return Ok(photo);
        }

        let source = Source { format: format.into(), layout, first_frame_only };
        let reduced = match resolution {
            Resolution::Analysis if format == "jpeg" => decode_jpeg_reduced(bytes, w, h, limits.analysis_long_side),
            _ => None,
        };
        let (mut img, reduction) = match reduced {
            Some(reduced) => reduced,
            // Whole, zune-jpeg decodes a 12 MP photo within a tenth of libjpeg-turbo's time (95
            // against 88 ms, one core), and the studio's measures stay those of the decoder they
            // were calibrated on.
            None => (DynamicImage::from_decoder(decoder).map_err(|e| PhotoError::from_image(path, e))?, 1),
        };
        img.apply_orientation(orientation);
        let mut photo = Photo::finish(path, img, orientation, icc, source, limits);
        if reduction > 1 {
            photo.reduction = reduction;
            photo.size = if orientation_code(orientation) >= 5 { (h, w) } else { (w, h) };
            // Full-resolution pixels per analysis pixel: a reduced pixel is `reduction` full ones
            // (its last column and row may reach past the photo's edge, as the DCT blocks do).
            photo.analysis_scale *= reduction as f32;
        }
        Ok(photo)
    }

    /// The common end of every decoder: 8-bit sRGB pixels, alpha apart, the analysis copy.
    fn finish(
        path: &Path,
        img: DynamicImage,
        orientation: image::metadata::Orientation,
        icc: Option<Vec<u8>>,
        source: Source,
        limits: &Limits,
    ) -> Photo {
        let (mut rgb, alpha) = split_alpha(img);
        let icc_converted = match icc {
            Some(profile) => to_srgb(&mut rgb, &profile),
            None => false,
        };
        let (analysis, analysis_scale) = analysis_copy(&rgb, limits.analysis_long_side);
        Photo {
            path: path.to_path_buf(),
            size: rgb.dimensions(),
            reduction: 1,
            pixels: rgb,
            alpha,
            analysis,
            analysis_scale,
            exif_orientation: orientation_code(orientation),
            icc_converted,
            source,
        }
    }
}

/// HEIC and AVIF, through libheif (`headshot-heif`): the size is checked from the container
/// before anything is decoded, and the container's rotation is applied by libheif (HEIF keeps
/// orientation in its own boxes, not in EXIF).
fn decode_heif(path: &Path, bytes: &[u8], kind: headshot_heif::Kind, limits: &Limits) -> Result<Photo, PhotoError> {
    use headshot_heif::HeifError;
    let heif_error = |e: HeifError| {
        let kind = match e {
            HeifError::Missing(_) => PhotoErrorKind::Unsupported,
            HeifError::Decode(_) => PhotoErrorKind::Decode,
        };
        PhotoError::new(path, kind, e.to_string())
    };
    let file = headshot_heif::HeifFile::open(bytes).map_err(heif_error)?;
    let (w, h) = file.size();
    check_pixels(path, w, h, limits)?;
    if w == 0 || h == 0 {
        return Err(PhotoError::new(path, PhotoErrorKind::Decode, "the image has no pixels"));
    }
    // libheif's YCbCr planes (up to 16 bits), its RGBA result, our copy of it and the 8-bit
    // colour and alpha planes.
    let px = u64::from(w) * u64::from(h);
    let needed = px * (6 + 4 + 4 + 4);
    if needed > limits.max_decode_bytes {
        return Err(PhotoError::new(
            path,
            PhotoErrorKind::TooLarge,
            format!(
                "{w}x{h} needs about {} MB to decode; the limit is {} MB",
                needed >> 20,
                limits.max_decode_bytes >> 20
            ),
        ));
    }
    let _grant = DecodeGrant::wait_for(needed);
    let icc = file.icc_profile();
    let d = file.decode().map_err(heif_error)?;
    let img = match d.channels {
        4 => image::RgbaImage::from_raw(d.width, d.height, d.pixels).map(DynamicImage::ImageRgba8),
        _ => RgbImage::from_raw(d.width, d.height, d.pixels).map(DynamicImage::ImageRgb8),
    }
    .ok_or_else(|| PhotoError::new(path, PhotoErrorKind::Decode, "libheif returned a short image"))?;
    let layout = if d.channels == 4 { "rgba8" } else { "rgb8" };
    let source = Source { format: kind.name().into(), layout: layout.into(), first_frame_only: false };
    Ok(Photo::finish(path, img, image::metadata::Orientation::NoTransforms, icc, source, limits))
}

/// The file extension for a photo's first bytes (at least 32 of them where the file has them),
/// or None for anything this program does not read. Recognises what `Photo::decode` reads.
pub fn sniff_extension(head: &[u8]) -> Option<&'static str> {
    if let Some(kind) = headshot_heif::sniff(head) {
        return Some(kind.name());
    }
    if head.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some("jpg")
    } else if head.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("png")
    } else if head.len() >= 12 && &head[..4] == b"RIFF" && &head[8..12] == b"WEBP" {
        Some("webp")
    } else if head.starts_with(b"II*\0") || head.starts_with(b"MM\0*") {
        Some("tif")
    } else {
        None
    }
}

fn format_name(f: image::ImageFormat) -> &'static str {
    match f {
        image::ImageFormat::Jpeg => "jpeg",
        image::ImageFormat::Png => "png",
        image::ImageFormat::WebP => "webp",
        image::ImageFormat::Tiff => "tiff",
        _ => "other",
    }
}

fn layout_name(c: image::ExtendedColorType) -> String {
    use image::ExtendedColorType as C;
    match c {
        C::Cmyk8 => "cmyk".into(),
        other => format!("{other:?}").to_lowercase(),
    }
}

/// Whether the file is an animation whose decoders give its first frame: an APNG (an `acTL`
/// chunk before the first image data) or an animated WebP (the animation flag of `VP8X`).
fn is_animation(bytes: &[u8]) -> bool {
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        let mut at = 8usize;
        while let Some(head) = bytes.get(at..at.saturating_add(8)) {
            let len = u32::from_be_bytes([head[0], head[1], head[2], head[3]]) as usize;
            match &head[4..8] {
                b"acTL" => return true,
                b"IDAT" | b"IEND" => return false,
                _ => {}
            }
            at = at.saturating_add(12).saturating_add(len);
        }
        return false;
    }
    // RIFF....WEBPVP8X, then the flags byte: bit 1 is "animation".
    bytes.len() > 20 && &bytes[..4] == b"RIFF" && &bytes[8..16] == b"WEBPVP8X" && bytes[20] & 0x02 != 0
}

fn image_limits(limits: &Limits) -> image::Limits {
    let mut l = image::Limits::default();
    // A side longer than the whole pixel budget on a 1-pixel-high strip is still refused.
    let side = limits.max_pixels.min(u64::from(u32::MAX)) as u32;
    l.max_image_width = Some(side);
    l.max_image_height = Some(side);
    // 16-bit RGBA is the widest layout a decoder may produce (8 bytes per pixel), plus slack
    // for the decoder's own buffers.
    l.max_alloc = Some(limits.max_pixels.saturating_mul(8).saturating_add(64 << 20));
    l
}

fn orientation_code(o: image::metadata::Orientation) -> u8 {
    use image::metadata::Orientation as O;
    match o {
        O::NoTransforms => 1,
        O::FlipHorizontal => 2,
        O::Rotate180 => 3,
        O::FlipVertical => 4,
        O::Rotate90FlipH => 5,
        O::Rotate90 => 6,
        O::Rotate270FlipH => 7,
        O::Rotate270 => 8,
    }
}

/// Splits any decoded layout into 8-bit RGB plus an optional alpha plane. Transparent pixels
/// are composited over mid grey, which reads as a plain studio background to the analysis.
fn split_alpha(img: DynamicImage) -> (RgbImage, Option<GrayImage>) {
    if !img.color().has_alpha() {
        return (img.into_rgb8(), None);
    }
    let rgba = img.into_rgba8();
    let (w, h) = rgba.dimensions();
    let mut rgb = RgbImage::new(w, h);
    let mut alpha = GrayImage::new(w, h);
    let mut any_transparent = false;
    for ((src, dst), a) in rgba.pixels().zip(rgb.pixels_mut()).zip(alpha.pixels_mut()) {
        let al = u32::from(src[3]);
        any_transparent |= al < 255;
        for c in 0..3 {
            dst[c] = ((u32::from(src[c]) * al + 128 * (255 - al) + 127) / 255) as u8;
        }
        a[0] = src[3];
    }
    (rgb, any_transparent.then_some(alpha))
}

/// Converts pixels from an embedded ICC profile to sRGB in place. Returns whether a conversion
/// happened: profiles that cannot be parsed, or that describe something other than RGB pixels
/// (a CMYK profile is read by `decode_cmyk_through`, before this), leave the pixels as they are.
fn to_srgb(rgb: &mut RgbImage, icc: &[u8]) -> bool {
    let Ok(src) = moxcms::ColorProfile::new_from_slice(icc) else {
        return false;
    };
    if src.color_space != moxcms::DataColorSpace::Rgb {
        return false;
    }
    let srgb = moxcms::ColorProfile::new_srgb();
    let Ok(transform) =
        src.create_transform_8bit(moxcms::Layout::Rgb, &srgb, moxcms::Layout::Rgb, moxcms::TransformOptions::default())
    else {
        return false;
    };
    let mut out = vec![0u8; rgb.as_raw().len()];
    if transform.transform(rgb.as_raw(), &mut out).is_err() {
        return false;
    }
    rgb.copy_from_slice(&out);
    true
}

/// A CMYK JPEG's embedded profile, when it describes CMYK and converts to sRGB.
fn cmyk_profile(icc: &[u8]) -> Option<std::sync::Arc<moxcms::Transform8BitExecutor>> {
    let src = moxcms::ColorProfile::new_from_slice(icc).ok()?;
    if src.color_space != moxcms::DataColorSpace::Cmyk {
        return None;
    }
    // Relative colorimetric: the press's colours as measured, its paper white shown as white.
    // The perceptual reading of a version 2 profile is each colour engine's own (LittleCMS
    // rescales the black point, moxcms does not: 10 levels apart on a press file); the
    // colorimetric one is what they agree on. moxcms takes 8-bit CMYK in its four-channel layout.
    let options = moxcms::TransformOptions {
        rendering_intent: moxcms::RenderingIntent::RelativeColorimetric,
        ..moxcms::TransformOptions::default()
    };
    src.create_transform_8bit(moxcms::Layout::Rgba, &moxcms::ColorProfile::new_srgb(), moxcms::Layout::Rgb, options)
        .ok()
}

/// Decodes a CMYK or YCCK JPEG to its ink values and converts them to sRGB through the file's
/// own profile.
///
/// Files with 4 components are taken to store ink inverted (0 = full ink), as Adobe's
/// applications write them and as the image crate's own conversion assumes. A YCCK file holds
/// the inks' C, M and Y as a YCbCr triple and K inverted.
fn decode_cmyk_through(
    path: &Path,
    bytes: &[u8],
    press: &moxcms::Transform8BitExecutor,
) -> Result<RgbImage, PhotoError> {
    use zune_jpeg::zune_core::bytestream::ZCursor;
    use zune_jpeg::zune_core::colorspace::ColorSpace;
    use zune_jpeg::zune_core::options::DecoderOptions;

    let failed = |e: String| PhotoError::new(path, PhotoErrorKind::Decode, e);
    let mut decoder = zune_jpeg::JpegDecoder::new(ZCursor::new(bytes));
    decoder.decode_headers().map_err(|e| failed(e.to_string()))?;
    let input = decoder.input_colorspace().ok_or_else(|| failed("no colour space in the header".into()))?;
    let info = decoder.info().ok_or_else(|| failed("no size in the header".into()))?;
    let (w, h) = (usize::from(info.width), usize::from(info.height));
    // Ask for the stored components as they are (no conversion by the decoder).
    let stored = match input {
        ColorSpace::CMYK | ColorSpace::YCCK => input,
        other => return Err(failed(format!("4 components, but {other:?} colour"))),
    };
    decoder.set_options(DecoderOptions::default().jpeg_set_out_colorspace(stored));
    let mut raw = decoder.decode().map_err(|e| failed(e.to_string()))?;
    if raw.len() != w * h * 4 {
        return Err(failed(format!("{} bytes of CMYK for {w}x{h}", raw.len())));
    }
    for px in raw.chunks_exact_mut(4) {
        let ink = if stored == ColorSpace::YCCK {
            let [c, m, y] = ycc_to_rgb(px[0], px[1], px[2]);
            [c, m, y, 255 - px[3]]
        } else {
            [255 - px[0], 255 - px[1], 255 - px[2], 255 - px[3]]
        };
        px.copy_from_slice(&ink);
    }
    let mut rgb = vec![0u8; w * h * 3];
    press.transform(&raw, &mut rgb).map_err(|e| failed(format!("CMYK profile: {e:?}")))?;
    // Sizes come from a header already checked against the pixel limit.
    RgbImage::from_raw(w as u32, h as u32, rgb).ok_or_else(|| failed("CMYK buffer size".into()))
}

/// JFIF's full-range YCbCr to RGB, rounded.
fn ycc_to_rgb(y: u8, cb: u8, cr: u8) -> [u8; 3] {
    let (y, cb, cr) = (f32::from(y), f32::from(cb) - 128.0, f32::from(cr) - 128.0);
    let r = y + 1.402 * cr;
    let g = y - 0.344_136 * cb - 0.714_136 * cr;
    let b = y + 1.772 * cb;
    [r, g, b].map(|v| v.round().clamp(0.0, 255.0) as u8)
}

/// The reduced copy used for analysis, and the full-per-analysis pixel scale.
fn analysis_copy(rgb: &RgbImage, long_side: u32) -> (RgbImage, f32) {
    let (w, h) = rgb.dimensions();
    let long = w.max(h);
    if long <= long_side {
        return (rgb.clone(), 1.0);
    }
    let s = long_side as f32 / long as f32;
    let nw = ((w as f32 * s).round() as u32).max(1);
    let nh = ((h as f32 * s).round() as u32).max(1);
    let small = shrink_rgb(rgb, nw, nh);
    (small, w as f32 / nw as f32)
}

/// A `w` x `h` JPEG (as stored, before orientation) decoded straight at the smallest of 1/8,
/// 1/4 and 1/2 of its size whose long side is still at least `min_long`: the reduced inverse
/// DCT skips most of the arithmetic and the full-size buffers. Returns the image and how many
/// full pixels one of its pixels spans; `None` when the photo is too small to gain, or when
/// neither libjpeg-turbo nor the pure-Rust reduced decoder can read it (CMYK, 16-bit, a damaged
/// file): the full decoder then reads it, and reports what is wrong with it.
fn decode_jpeg_reduced(bytes: &[u8], w: u32, h: u32, min_long: u32) -> Option<(DynamicImage, u32)> {
    let long = w.max(h);
    let k = [8u32, 4, 2].into_iter().find(|&k| long / k >= min_long.max(1))?;
    decode_jpeg_turbo(bytes, w, h, k).or_else(|| decode_jpeg_scaled_rust(bytes, w, h, k)).map(|img| (img, k))
}

/// A JPEG of `w` x `h` decoded at 1/`k` of its size (2, 4 or 8) by the pure-Rust decoder's
/// reduced inverse DCT; `None` where it cannot (CMYK, 16-bit, a damaged file).
fn decode_jpeg_scaled_rust(bytes: &[u8], w: u32, h: u32, k: u32) -> Option<DynamicImage> {
    let mut decoder = jpeg_decoder::Decoder::new(bytes);
    decoder.read_info().ok()?;
    let info = decoder.info()?;
    if (u32::from(info.width), u32::from(info.height)) != (w, h) {
        return None;
    }
    let (sw, sh) = (w.div_ceil(k), h.div_ceil(k));
    let got = decoder.scale(u16::try_from(sw).ok()?, u16::try_from(sh).ok()?).ok()?;
    if (u32::from(got.0), u32::from(got.1)) != (sw, sh) {
        return None;
    }
    let pixels = decoder.decode().ok()?;
    match info.pixel_format {
        jpeg_decoder::PixelFormat::RGB24 => RgbImage::from_raw(sw, sh, pixels).map(DynamicImage::ImageRgb8),
        jpeg_decoder::PixelFormat::L8 => GrayImage::from_raw(sw, sh, pixels).map(DynamicImage::ImageLuma8),
        _ => None,
    }
}

/// A JPEG of `w` x `h` decoded at 1/`k` of its size by the system's libjpeg-turbo, about twice
/// as fast as the pure-Rust reduced decoder; `None` where it is missing, for CMYK files, and for any
/// file it warns about (truncated, corrupt), which the pure-Rust decoders then read as before.
fn decode_jpeg_turbo(bytes: &[u8], w: u32, h: u32, k: u32) -> Option<DynamicImage> {
    use headshot_turbojpeg::Pixels;
    let d = headshot_turbojpeg::decode_scaled(bytes, w, h, k)?.ok()?;
    match d.pixels {
        Pixels::Rgb(v) => RgbImage::from_raw(d.width, d.height, v).map(DynamicImage::ImageRgb8),
        Pixels::Grey(v) => GrayImage::from_raw(d.width, d.height, v).map(DynamicImage::ImageLuma8),
    }
}

fn check_pixels(path: &Path, w: u32, h: u32, limits: &Limits) -> Result<(), PhotoError> {
    let pixels = u64::from(w) * u64::from(h);
    if pixels > limits.max_pixels {
        return Err(PhotoError::new(
            path,
            PhotoErrorKind::TooLarge,
            format!("{w}x{h} is {:.1} MP; the limit is {:.1} MP", pixels as f64 / 1e6, limits.max_pixels as f64 / 1e6),
        ));
    }
    Ok(())
}

/// Width and height from a PNG's IHDR, which always comes first.
fn png_header_size(bytes: &[u8]) -> Option<(u32, u32)> {
    if bytes.len() < 24 || &bytes[..8] != b"\x89PNG\r\n\x1a\n" || &bytes[12..16] != b"IHDR" {
        return None;
    }
    let be = |i: usize| u32::from_be_bytes([bytes[i], bytes[i + 1], bytes[i + 2], bytes[i + 3]]);
    Some((be(16), be(20)))
}

/// Whether a JPEG stops before its image ends: its marker segments are walked from the start,
/// through every scan's entropy-coded data, to the first end-of-image marker. Whatever follows
/// that marker is not the image's (a motion photo's video, a tool's trailer, random bytes) and
/// is never read; an embedded EXIF thumbnail sits inside an APP1 segment and is skipped whole.
fn jpeg_is_truncated(bytes: &[u8]) -> bool {
    jpeg_image_end(bytes).is_none()
}

/// The next marker at or after `i`, and the offset just past it: decoders skip stray bytes
/// between segments, and 0xFF fill bytes before a marker.
fn jpeg_next_marker(bytes: &[u8], mut i: usize) -> Option<(u8, usize)> {
    i += bytes.get(i..)?.iter().position(|&b| b == 0xFF)?;
    while bytes.get(i) == Some(&0xFF) {
        i += 1;
    }
    Some((*bytes.get(i)?, i + 1))
}

/// A segment's length field at `i` (it counts itself, so at least 2).
fn jpeg_segment_length(bytes: &[u8], i: usize) -> Option<usize> {
    let len = usize::from(u16::from_be_bytes([*bytes.get(i)?, *bytes.get(i + 1)?]));
    (len >= 2).then_some(len)
}

/// The number of colour components in a JPEG's frame header (1 grey, 3 YCbCr or RGB, 4 CMYK or
/// YCCK), from the segments before the first scan.
fn jpeg_components(bytes: &[u8]) -> Option<u8> {
    if bytes.get(..2)? != [0xFF, 0xD8] {
        return None;
    }
    let mut i = 2usize;
    loop {
        let (marker, after) = jpeg_next_marker(bytes, i)?;
        i = after;
        match marker {
            // Start of frame (all but DHT 0xC4, JPG 0xC8 and DAC 0xCC): length, precision,
            // height, width, then the component count.
            0xC0..=0xCF if !matches!(marker, 0xC4 | 0xC8 | 0xCC) => return bytes.get(i + 7).copied(),
            0xDA | 0xD9 => return None,
            0x01 | 0xD0..=0xD7 => {}
            _ => i += jpeg_segment_length(bytes, i)?,
        }
    }
}

/// The offset just past a JPEG's end-of-image marker, when the walk reaches one after at least
/// one scan.
fn jpeg_image_end(bytes: &[u8]) -> Option<usize> {
    let n = bytes.len();
    if n < 4 || bytes[..2] != [0xFF, 0xD8] {
        return None;
    }
    let mut i = 2;
    let mut scanned = false;
    loop {
        let (marker, after) = jpeg_next_marker(bytes, i)?;
        i = after;
        match marker {
            0xD9 => return scanned.then_some(i),
            // Markers without a length.
            0x01 | 0xD0..=0xD7 => {}
            0xDA => {
                i += jpeg_segment_length(bytes, i)?;
                // Entropy-coded data: 0xFF is followed by a stuffed 0x00, a restart marker or
                // fill; anything else is the next marker.
                loop {
                    i += bytes.get(i..)?.iter().position(|&b| b == 0xFF)?;
                    match *bytes.get(i + 1)? {
                        0x00 | 0xD0..=0xD7 => i += 2,
                        0xFF => i += 1,
                        _ => break,
                    }
                }
                scanned = true;
            }
            _ => i += jpeg_segment_length(bytes, i)?,
        }
        if i > n {
            return None;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_bytes_are_a_decode_error() {
        let e = Photo::decode(Path::new("x.jpg"), &[], &Limits::default()).expect_err("an error");
        assert_eq!(e.kind, PhotoErrorKind::Decode);
        assert!(e.to_string().starts_with("x.jpg:"));
    }

    /// libjpeg-turbo (where the machine has it) and the pure-Rust decoders read the same picture
    /// from the same file at 1/2, 1/4 and 1/8 of its size, colour and grey (and whole, as a
    /// check of the library against zune-jpeg); a file it warns about is left to the pure-Rust
    /// decoders.
    #[test]
    fn both_jpeg_decoders_read_the_same_picture_at_every_scale() {
        if !headshot_turbojpeg::available() {
            assert!(std::env::var_os("HEADSHOT_REQUIRE_TURBOJPEG").is_none(), "libturbojpeg.so.0 could not be loaded");
            return;
        }
        let (w, h) = (403u32, 301u32);
        let img = RgbImage::from_fn(w, h, |x, y| {
            let ring = (((x as f32 - 150.0).powi(2) + (y as f32 - 120.0).powi(2)).sqrt() / 9.0).sin();
            image::Rgb([(x * 255 / w) as u8, (y * 255 / h) as u8, (128.0 + 90.0 * ring) as u8])
        });
        let diff = |a: &[u8], b: &[u8]| {
            assert_eq!(a.len(), b.len());
            a.iter().zip(b).map(|(&x, &y)| (f64::from(x) - f64::from(y)).abs()).sum::<f64>() / a.len() as f64
        };
        for grey in [false, true] {
            let src =
                if grey { DynamicImage::ImageLuma8(image::imageops::grayscale(&img)) } else { img.clone().into() };
            let mut jpeg = Vec::new();
            image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpeg, 90).encode_image(&src).expect("encodes");
            let whole = decode_jpeg_turbo(&jpeg, w, h, 1).expect("libjpeg-turbo reads it");
            let zune = image::load_from_memory(&jpeg).expect("the image crate reads it");
            assert_eq!(whole.color(), zune.color(), "grey {grey}");
            let d = diff(whole.as_bytes(), zune.as_bytes());
            assert!(d < 1.0, "grey {grey}, whole: {d}");
            for k in [2u32, 4, 8] {
                let turbo = decode_jpeg_turbo(&jpeg, w, h, k).expect("libjpeg-turbo reads it scaled");
                let rust = decode_jpeg_scaled_rust(&jpeg, w, h, k).expect("jpeg-decoder reads it scaled");
                assert_eq!((turbo.width(), turbo.height()), (w.div_ceil(k), h.div_ceil(k)), "grey {grey}, 1/{k}");
                assert_eq!((turbo.width(), turbo.height()), (rust.width(), rust.height()), "grey {grey}, 1/{k}");
                assert_eq!(turbo.color(), rust.color(), "grey {grey}, 1/{k}");
                let d = diff(turbo.as_bytes(), rust.as_bytes());
                assert!(d < 1.5, "grey {grey}, 1/{k}: {d}");
            }
            // Cut short: libjpeg-turbo declines, and the pure-Rust decoders read what is there.
            let cut = &jpeg[..jpeg.len() * 2 / 3];
            assert!(decode_jpeg_turbo(cut, w, h, 2).is_none(), "grey {grey}");
            assert!(decode_jpeg_turbo(&jpeg, w + 8, h, 2).is_none(), "grey {grey}: not the frame's size");
        }
    }

    /// A small real JPEG, made by the encoder this crate ships with.
    fn small_jpeg(progressive_like_noise: bool) -> Vec<u8> {
        let img = RgbImage::from_fn(64, 48, |x, y| {
            let v = if progressive_like_noise { ((x * 37 + y * 91) % 255) as u8 } else { (x * 4) as u8 };
            image::Rgb([v, (y * 5) as u8, 255 - v])
        });
        let mut out = Vec::new();
        image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 90).encode_image(&img).expect("encodes");
        out
    }

    #[test]
    fn a_complete_jpeg_with_anything_after_its_end_is_complete() {
        for noisy in [false, true] {
            let jpeg = small_jpeg(noisy);
            assert!(!jpeg_is_truncated(&jpeg));
            // A motion photo: a video after the image, with marker-like pairs in it.
            let mut motion = jpeg.clone();
            motion.extend_from_slice(b"\0\0\0\x18ftypmp42");
            motion.extend_from_slice(&[0xFF, 0xDA, 0x00, 0x08, 0xFF, 0xD8, 0x12, 0xFF]);
            assert!(!jpeg_is_truncated(&motion));
            // Random tails (a fixed generator, so a failure repeats).
            let mut state = 0x2545_F491_4F6C_DD1Du64;
            for _ in 0..200 {
                let mut tail = jpeg.clone();
                for _ in 0..512 {
                    state ^= state << 13;
                    state ^= state >> 7;
                    state ^= state << 17;
                    tail.push((state >> 24) as u8);
                }
                assert!(!jpeg_is_truncated(&tail));
                assert!(Photo::decode(Path::new("tail.jpg"), &tail, &Limits::default()).is_ok());
            }
        }
    }

    #[test]
    fn a_jpeg_cut_anywhere_before_its_end_is_truncated() {
        let jpeg = small_jpeg(true);
        for cut in (4..jpeg.len() - 1).step_by(7) {
            assert!(jpeg_is_truncated(&jpeg[..cut]), "cut at {cut} of {}", jpeg.len());
        }
        let e = Photo::decode(Path::new("cut.jpg"), &jpeg[..jpeg.len() / 2], &Limits::default()).expect_err("error");
        assert_eq!(e.kind, PhotoErrorKind::Decode);
        assert!(e.to_string().starts_with("cut.jpg: truncated JPEG"), "{e}");
    }

    #[test]
    fn text_is_unsupported() {
        let e = Photo::decode(Path::new("notes.jpg"), b"hello, not a photo", &Limits::default()).expect_err("an error");
        assert_eq!(e.kind, PhotoErrorKind::Unsupported);
    }
}
