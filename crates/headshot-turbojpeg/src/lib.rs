//! JPEG encoding and DCT-scaled decoding through the system's libjpeg-turbo, by its TurboJPEG
//! API (`libturbojpeg.so.0`).
//!
//! libjpeg-turbo's SIMD codec encodes about twice as fast as the pure-Rust encoder at the same
//! quality, and decodes at 1/2, 1/4 or 1/8 of a photo's size about twice as fast as the
//! pure-Rust reduced decoder (both measured on this project's 12 MP set, one core). It is loaded
//! with `dlopen` the first time a JPEG is made or read, not linked: building headshot needs no C
//! library, headers or toolchain, and on a machine without it every call here returns `None`
//! and the caller does the same work with its pure-Rust codec. `HEADSHOT_TURBOJPEG=off` in the
//! environment makes it so on any machine (to compare the two, or to rule one out).
//!
//! Only calls present since libjpeg-turbo 1.4 (2015) are used; 3.x keeps them.
//!
//! Decoding stops at libjpeg-turbo's first warning (a truncated file, a corrupt segment): such
//! files are left to the pure-Rust decoder, whose handling of them the program's tests pin down.
//!
//! The unsafe code here is the calls into the library, each with the invariant it relies on
//! written beside it. What comes out is owned, checked Rust data.

use std::ffi::{CStr, c_char, c_int, c_uchar, c_ulong, c_void};
use std::sync::OnceLock;

use libloading::Library;

/// Why libjpeg-turbo could not do what was asked. Callers fall back to their own codec.
#[derive(Debug, Clone, thiserror::Error)]
#[error("libjpeg-turbo: {0}")]
pub struct TurboError(String);

/// Chroma subsampling of an encoded JPEG.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Subsampling {
    /// Full-resolution colour.
    S444,
    /// Colour at half the resolution both ways.
    S420,
}

/// One decoded image at the size asked for, as the file stores it (no EXIF orientation
/// applied, no colour profile converted).
#[derive(Debug, Clone)]
pub struct Decoded {
    pub width: u32,
    pub height: u32,
    pub pixels: Pixels,
}

/// A decoded image's samples, 8 bits each, rows packed.
#[derive(Debug, Clone)]
pub enum Pixels {
    /// Interleaved red, green and blue.
    Rgb(Vec<u8>),
    /// One grey sample a pixel (a greyscale file).
    Grey(Vec<u8>),
}

type Handle = *mut c_void;

/// turbojpeg.h's values (unchanged since 1.2).
const TJPF_RGB: c_int = 0;
const TJPF_GRAY: c_int = 6;
const TJSAMP_444: c_int = 0;
const TJSAMP_420: c_int = 2;
const TJCS_RGB: c_int = 0;
const TJCS_YCBCR: c_int = 1;
const TJCS_GRAY: c_int = 2;
/// The accurate integer DCT: TurboJPEG uses the fast, less accurate one below quality 96
/// otherwise, where the pure-Rust encoder and libvips use the accurate one.
const TJFLAG_ACCURATEDCT: c_int = 4096;
/// The output buffer is ours, sized by `tjBufSize`: the library never reallocates it.
const TJFLAG_NOREALLOC: c_int = 1024;
/// A warning (corrupt data, a premature end) ends the decode with an error instead of an image
/// patched with grey.
const TJFLAG_STOPONWARNING: c_int = 8192;
/// A progressive file of more than 500 scans is refused: a crafted one with thousands of tiny
/// scans keeps a decoder busy for minutes (libjpeg-turbo's own guard against it).
const TJFLAG_LIMITSCANS: c_int = 32768;

/// The entry points used, resolved once. The library is kept with them and never unloaded, so
/// the function pointers stay valid for the life of the process.
struct Api {
    _lib: Library,
    init_compress: unsafe extern "C" fn() -> Handle,
    init_decompress: unsafe extern "C" fn() -> Handle,
    destroy: unsafe extern "C" fn(Handle) -> c_int,
    error_str: unsafe extern "C" fn(Handle) -> *mut c_char,
    buf_size: unsafe extern "C" fn(c_int, c_int, c_int) -> c_ulong,
    #[allow(clippy::type_complexity)]
    compress2: unsafe extern "C" fn(
        Handle,
        *const c_uchar,
        c_int,
        c_int,
        c_int,
        c_int,
        *mut *mut c_uchar,
        *mut c_ulong,
        c_int,
        c_int,
        c_int,
    ) -> c_int,
    decompress_header3:
        unsafe extern "C" fn(Handle, *const c_uchar, c_ulong, *mut c_int, *mut c_int, *mut c_int, *mut c_int) -> c_int,
    decompress2:
        unsafe extern "C" fn(Handle, *const c_uchar, c_ulong, *mut c_uchar, c_int, c_int, c_int, c_int, c_int) -> c_int,
}

/// The library, or `None` where it is missing or turned off.
fn api() -> Option<&'static Api> {
    static API: OnceLock<Option<Api>> = OnceLock::new();
    API.get_or_init(|| if turned_off() { None } else { load().ok() }).as_ref()
}

fn turned_off() -> bool {
    std::env::var("HEADSHOT_TURBOJPEG").is_ok_and(|v| matches!(v.trim(), "off" | "0" | "false" | "no"))
}

/// Whether libjpeg-turbo is loaded (or can be) and not turned off.
pub fn available() -> bool {
    api().is_some()
}

fn load() -> Result<Api, String> {
    // SAFETY: loading libturbojpeg runs no initialiser beyond the C runtime's; it keeps no
    // global state (every call works on a handle of its own).
    let lib = unsafe { Library::new("libturbojpeg.so.0") }.map_err(|e| e.to_string())?;
    macro_rules! sym {
        ($name:literal) => {
            // SAFETY: the pointer's type is the C prototype of this symbol in turbojpeg.h.
            *unsafe { lib.get(concat!($name, "\0").as_bytes()) }.map_err(|e| e.to_string())?
        };
    }
    Ok(Api {
        init_compress: sym!("tjInitCompress"),
        init_decompress: sym!("tjInitDecompress"),
        destroy: sym!("tjDestroy"),
        error_str: sym!("tjGetErrorStr2"),
        buf_size: sym!("tjBufSize"),
        compress2: sym!("tjCompress2"),
        decompress_header3: sym!("tjDecompressHeader3"),
        decompress2: sym!("tjDecompress2"),
        _lib: lib,
    })
}

/// A TurboJPEG instance, destroyed on drop. One per call: an instance is not to be shared
/// between threads, and making one is a small allocation next to any image's work.
struct Instance {
    api: &'static Api,
    handle: Handle,
}

impl Instance {
    fn new(api: &'static Api, compress: bool) -> Result<Instance, TurboError> {
        // SAFETY: no arguments; returns a new instance or NULL.
        let handle = unsafe { if compress { (api.init_compress)() } else { (api.init_decompress)() } };
        if handle.is_null() {
            return Err(TurboError("could not make an instance".into()));
        }
        Ok(Instance { api, handle })
    }

    /// The instance's last error, as a `TurboError`.
    fn error(&self) -> TurboError {
        // SAFETY: the handle is live; the message is a NUL-terminated string owned by the
        // instance (or static), copied before the instance can change it.
        let message = unsafe { (self.api.error_str)(self.handle) };
        if message.is_null() {
            return TurboError("unknown error".into());
        }
        // SAFETY: as above.
        TurboError(unsafe { CStr::from_ptr(message) }.to_string_lossy().into_owned())
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        // SAFETY: the handle came from tjInit* and is destroyed once.
        unsafe { (self.api.destroy)(self.handle) };
    }
}

fn dimension(v: u32) -> Result<c_int, TurboError> {
    c_int::try_from(v).ok().filter(|&v| v > 0).ok_or_else(|| TurboError(format!("{v} is not a JPEG dimension")))
}

/// Encodes 8-bit RGB `pixels` (`width` x `height`, rows packed) as a baseline JPEG at `quality`
/// (1-100) with `subsampling`, the accurate DCT and libjpeg's standard Huffman tables. The file
/// starts with a JFIF segment (no density: aspect 1:1). `None` where libjpeg-turbo is missing.
pub fn encode_rgb(
    pixels: &[u8],
    width: u32,
    height: u32,
    quality: u8,
    subsampling: Subsampling,
) -> Option<Result<Vec<u8>, TurboError>> {
    let api = api()?;
    Some(encode_with(api, pixels, width, height, quality, subsampling))
}

fn encode_with(
    api: &'static Api,
    pixels: &[u8],
    width: u32,
    height: u32,
    quality: u8,
    subsampling: Subsampling,
) -> Result<Vec<u8>, TurboError> {
    let (w, h) = (dimension(width)?, dimension(height)?);
    if pixels.len() != width as usize * height as usize * 3 {
        return Err(TurboError(format!("{} bytes are not {width}x{height} RGB pixels", pixels.len())));
    }
    let samp = match subsampling {
        Subsampling::S444 => TJSAMP_444,
        Subsampling::S420 => TJSAMP_420,
    };
    let instance = Instance::new(api, true)?;
    // SAFETY: no pointers; returns the worst-case size of such a JPEG (or -1 on bad arguments,
    // which becomes u64::MAX and fails the conversion below).
    let bound = unsafe { (api.buf_size)(w, h, samp) };
    let bound = usize::try_from(bound).ok().filter(|&b| b > 0 && b < 1 << 31).ok_or_else(|| instance.error())?;
    let mut out = vec![0u8; bound];
    let mut buf = out.as_mut_ptr();
    let mut size = bound as c_ulong;
    // SAFETY: `pixels` holds `h` packed rows of `w` RGB pixels (checked above) and outlives the
    // call; with TJFLAG_NOREALLOC the library writes at most `bound` bytes (tjBufSize's bound
    // for this size and subsampling) into `out` through `buf`, and sets `size` to what it wrote.
    let status = unsafe {
        (api.compress2)(
            instance.handle,
            pixels.as_ptr(),
            w,
            0,
            h,
            TJPF_RGB,
            &mut buf,
            &mut size,
            samp,
            c_int::from(quality.clamp(1, 100)),
            TJFLAG_ACCURATEDCT | TJFLAG_NOREALLOC,
        )
    };
    if status != 0 {
        return Err(instance.error());
    }
    let size = usize::try_from(size).unwrap_or(usize::MAX);
    if !std::ptr::eq(buf, out.as_ptr()) || size > bound {
        return Err(TurboError("the encoder did not write into the buffer it was given".into()));
    }
    out.truncate(size);
    Ok(out)
}

/// Decodes a JPEG of `width` x `height` pixels (as its frame header says; anything else is an
/// error) at 1/`reduction` of its size (1, 2, 4 or 8; each side rounded up, as the DCT scaling
/// does), to RGB or, for a greyscale file, grey. Stops at libjpeg-turbo's first warning; CMYK
/// and YCCK files are refused (their colours need the file's profile). `None` where
/// libjpeg-turbo is missing.
pub fn decode_scaled(bytes: &[u8], width: u32, height: u32, reduction: u32) -> Option<Result<Decoded, TurboError>> {
    let api = api()?;
    Some(decode_with(api, bytes, width, height, reduction))
}

fn decode_with(
    api: &'static Api,
    bytes: &[u8],
    width: u32,
    height: u32,
    reduction: u32,
) -> Result<Decoded, TurboError> {
    if ![1, 2, 4, 8].contains(&reduction) {
        return Err(TurboError(format!("1/{reduction} is not a scale the decoder has")));
    }
    let len = c_ulong::try_from(bytes.len()).map_err(|_| TurboError("the file is too large".into()))?;
    let instance = Instance::new(api, false)?;
    let (mut w, mut h, mut samp, mut space): (c_int, c_int, c_int, c_int) = (0, 0, 0, 0);
    // SAFETY: `bytes` is valid for `len` bytes for the call; the four outputs are plain ints.
    let status = unsafe {
        (api.decompress_header3)(instance.handle, bytes.as_ptr(), len, &mut w, &mut h, &mut samp, &mut space)
    };
    if status != 0 {
        return Err(instance.error());
    }
    if (i64::from(w), i64::from(h)) != (i64::from(width), i64::from(height)) {
        return Err(TurboError(format!("the frame is {w}x{h}, not {width}x{height}")));
    }
    let (format, channels) = match space {
        TJCS_GRAY => (TJPF_GRAY, 1u8),
        TJCS_YCBCR | TJCS_RGB => (TJPF_RGB, 3u8),
        _ => return Err(TurboError("CMYK and YCCK files are left to the profile-aware decoder".into())),
    };
    let (sw, sh) = (width.div_ceil(reduction), height.div_ceil(reduction));
    let row = sw as usize * usize::from(channels);
    let mut pixels = vec![0u8; row * sh as usize];
    // SAFETY: `bytes` is valid for `len` bytes; asked for `sw` x `sh` pixels (a scale the
    // library has: 1/1, 1/2, 1/4 or 1/8 of the frame checked above, each side rounded up as
    // TJSCALED does), it writes `sh` packed rows of `sw` pixels of `channels` bytes, which is
    // exactly `pixels`' length.
    let status = unsafe {
        (api.decompress2)(
            instance.handle,
            bytes.as_ptr(),
            len,
            pixels.as_mut_ptr(),
            sw as c_int,
            0,
            sh as c_int,
            format,
            TJFLAG_ACCURATEDCT | TJFLAG_STOPONWARNING | TJFLAG_LIMITSCANS,
        )
    };
    if status != 0 {
        return Err(instance.error());
    }
    let pixels = if channels == 1 { Pixels::Grey(pixels) } else { Pixels::Rgb(pixels) };
    Ok(Decoded { width: sw, height: sh, pixels })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The library, or (where CI asks for it with HEADSHOT_REQUIRE_TURBOJPEG) a failure.
    fn library() -> Option<&'static Api> {
        let api = api();
        if api.is_none() {
            assert!(std::env::var_os("HEADSHOT_REQUIRE_TURBOJPEG").is_none(), "libturbojpeg.so.0 could not be loaded");
            eprintln!("libjpeg-turbo is not on this machine: skipped");
        }
        api
    }

    /// A smooth test image with some detail: a gradient and a ring.
    fn picture(w: u32, h: u32) -> Vec<u8> {
        let mut v = Vec::with_capacity((w * h * 3) as usize);
        for y in 0..h {
            for x in 0..w {
                let r = (((x as f32 - 60.0).powi(2) + (y as f32 - 40.0).powi(2)).sqrt() / 4.0).sin();
                v.extend_from_slice(&[(x * 255 / w) as u8, (y * 255 / h) as u8, (128.0 + 100.0 * r) as u8]);
            }
        }
        v
    }

    fn zune_rgb(bytes: &[u8]) -> (usize, usize, Vec<u8>) {
        use zune_jpeg::zune_core::colorspace::ColorSpace;
        use zune_jpeg::zune_core::options::DecoderOptions;
        let options = DecoderOptions::default().jpeg_set_out_colorspace(ColorSpace::RGB);
        let mut d = zune_jpeg::JpegDecoder::new_with_options(std::io::Cursor::new(bytes), options);
        let pixels = d.decode().expect("an independent decoder reads the file");
        let (w, h) = d.dimensions().expect("dimensions");
        (w, h, pixels)
    }

    fn rgb(d: &Decoded) -> &[u8] {
        match &d.pixels {
            Pixels::Rgb(v) => v,
            Pixels::Grey(_) => panic!("a colour file decoded as grey"),
        }
    }

    fn mean_difference(a: &[u8], b: &[u8]) -> f64 {
        assert_eq!(a.len(), b.len());
        a.iter().zip(b).map(|(&x, &y)| (f64::from(x) - f64::from(y)).abs()).sum::<f64>() / a.len() as f64
    }

    #[test]
    fn an_encoded_picture_reads_back_in_an_independent_decoder() {
        let Some(api) = library() else { return };
        let (w, h) = (131, 77);
        let src = picture(w, h);
        for (q, s) in [(92, Subsampling::S444), (75, Subsampling::S420)] {
            let jpeg = encode_with(api, &src, w, h, q, s).expect("encodes");
            assert_eq!(&jpeg[..2], &[0xFF, 0xD8]);
            assert_eq!(&jpeg[6..11], b"JFIF\0", "a JFIF segment first");
            let (dw, dh, back) = zune_rgb(&jpeg);
            assert_eq!((dw, dh), (w as usize, h as usize));
            let d = mean_difference(&src, &back);
            assert!(d < if q >= 90 { 1.5 } else { 3.5 }, "quality {q}: mean difference {d}");
        }
        // A higher quality keeps more: a larger file.
        let small = encode_with(api, &src, w, h, 50, Subsampling::S420).expect("encodes");
        let large = encode_with(api, &src, w, h, 95, Subsampling::S444).expect("encodes");
        assert!(large.len() > small.len());
        // Pixels that are not the size said are refused, never read past.
        assert!(encode_with(api, &src[..src.len() - 3], w, h, 90, Subsampling::S444).is_err());
        assert!(encode_with(api, &src, 0, h, 90, Subsampling::S444).is_err());
    }

    #[test]
    fn a_scaled_decode_is_the_picture_averaged_over_blocks() {
        let Some(api) = library() else { return };
        let (w, h) = (203, 157);
        let src = picture(w, h);
        let jpeg = encode_with(api, &src, w, h, 95, Subsampling::S444).expect("encodes");
        let full = decode_with(api, &jpeg, w, h, 1).expect("decodes");
        assert_eq!((full.width, full.height), (w, h));
        assert!(mean_difference(&src, rgb(&full)) < 1.5);
        for k in [2u32, 4, 8] {
            let small = decode_with(api, &jpeg, w, h, k).expect("decodes scaled");
            assert_eq!((small.width, small.height), (w.div_ceil(k), h.div_ceil(k)), "1/{k}");
            // Each scaled pixel is about the mean of the k x k source pixels it covers.
            let (sw, sh) = (small.width as usize, small.height as usize);
            let mut worst = 0.0f64;
            let mut total = 0.0f64;
            for y in 0..sh - 1 {
                for x in 0..sw - 1 {
                    for c in 0..3 {
                        let mut sum = 0.0;
                        for dy in 0..k as usize {
                            for dx in 0..k as usize {
                                sum +=
                                    f64::from(src[((y * k as usize + dy) * w as usize + x * k as usize + dx) * 3 + c]);
                            }
                        }
                        let mean = sum / f64::from(k * k);
                        let d = (mean - f64::from(rgb(&small)[(y * sw + x) * 3 + c])).abs();
                        worst = worst.max(d);
                        total += d;
                    }
                }
            }
            let mean = total / ((sw - 1) * (sh - 1) * 3) as f64;
            assert!(mean < 2.0 && worst < 24.0, "1/{k}: mean {mean}, worst {worst}");
        }
        // Not a scale the decoder has, or not the frame's size: refused.
        assert!(decode_with(api, &jpeg, w, h, 3).is_err());
        assert!(decode_with(api, &jpeg, w + 1, h, 2).is_err());
    }

    #[test]
    fn a_damaged_file_is_an_error_not_a_patched_image() {
        let Some(api) = library() else { return };
        let (w, h) = (96, 64);
        let jpeg = encode_with(api, &picture(w, h), w, h, 90, Subsampling::S420).expect("encodes");
        // Cut in the middle of its entropy-coded data: libjpeg-turbo would fill the rest with grey
        // and warn; here the warning ends the decode.
        assert!(decode_with(api, &jpeg[..jpeg.len() / 2], w, h, 2).is_err());
        assert!(decode_with(api, &jpeg[..20], w, h, 1).is_err());
        assert!(decode_with(api, b"not a jpeg at all", w, h, 1).is_err());
        assert!(decode_with(api, &[], w, h, 1).is_err());
    }
}
