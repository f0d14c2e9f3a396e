//! HEIC/HEIF (the iPhone's default) and AVIF photos, decoded by the system's libheif.
//!
//! libheif is loaded with `dlopen` the first time such a photo arrives, not linked: building
//! headshot needs no C library or headers, every other format works on a machine without
//! libheif, and a HEIC photo there gets an error that says what to install. libheif's C API has
//! kept its ABI across 1.x (soname `libheif.so.1`); only calls present since 1.3 are used.
//!
//! This crate is the only place in the workspace with unsafe code: the calls into libheif, each
//! with the invariant it relies on written beside it. What comes out is owned, checked Rust data.

use std::ffi::{CStr, c_char, c_int, c_void};
use std::marker::PhantomData;
use std::sync::OnceLock;

use libloading::Library;

/// Which container a file is, by its `ftyp` brands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// HEIF with HEVC images: what iPhones (and many Android phones) save.
    Heic,
    /// HEIF with AV1 images.
    Avif,
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::Heic => "heic",
            Kind::Avif => "avif",
        }
    }
}

/// Recognises a HEIF-family file from its first bytes (the `ftyp` box and its brands).
pub fn sniff(bytes: &[u8]) -> Option<Kind> {
    if bytes.len() < 16 || &bytes[4..8] != b"ftyp" {
        return None;
    }
    let size = u32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]) as usize;
    let end = size.clamp(16, 256).min(bytes.len());
    // The major brand, then (after the minor version) the compatible brands.
    let brands = std::iter::once(&bytes[8..12]).chain(bytes[16..end].chunks_exact(4));
    let mut kind = None;
    for b in brands {
        match b {
            b"avif" | b"avis" => return Some(Kind::Avif),
            b"heic" | b"heix" | b"heim" | b"heis" | b"hevc" | b"hevx" | b"mif1" | b"msf1" => kind = Some(Kind::Heic),
            _ => {}
        }
    }
    kind
}

/// Why a HEIF file could not be read.
#[derive(Debug, Clone, thiserror::Error)]
pub enum HeifError {
    /// libheif is not on this machine (or too old to have the calls used here).
    #[error(
        "HEIC and AVIF photos are decoded by libheif, which could not be loaded ({0}); install it \
         (Debian and Ubuntu: apt install libheif1) or convert the photo to JPEG"
    )]
    Missing(String),
    /// libheif refused the file: corrupt, truncated, or a variant it cannot decode.
    #[error("{0}")]
    Decode(String),
}

/// One decoded image: 8-bit interleaved RGB or RGBA, rows packed, upright (the container's
/// rotation and mirroring applied by libheif).
#[derive(Debug, Clone)]
pub struct Decoded {
    pub width: u32,
    pub height: u32,
    /// 3 (RGB) or 4 (RGBA).
    pub channels: u8,
    pub pixels: Vec<u8>,
}

/// `struct heif_error`: returned by value from most calls; code 0 is success.
#[repr(C)]
#[derive(Clone, Copy)]
struct RawError {
    code: c_int,
    subcode: c_int,
    message: *const c_char,
}

type Opaque = c_void;

/// libheif's enum values (heif.h; unchanged since 1.0).
const COLORSPACE_RGB: c_int = 1;
const CHROMA_INTERLEAVED_RGB: c_int = 10;
const CHROMA_INTERLEAVED_RGBA: c_int = 11;
const CHANNEL_INTERLEAVED: c_int = 10;
const fn fourcc(s: &[u8; 4]) -> c_int {
    ((s[0] as c_int) << 24) | ((s[1] as c_int) << 16) | ((s[2] as c_int) << 8) | s[3] as c_int
}
const PROFILE_RICC: c_int = fourcc(b"rICC");
const PROFILE_PROF: c_int = fourcc(b"prof");

/// The entry points used, resolved once. The library is kept with them and never unloaded, so
/// the function pointers stay valid for the life of the process.
struct Api {
    _lib: Library,
    context_alloc: unsafe extern "C" fn() -> *mut Opaque,
    context_free: unsafe extern "C" fn(*mut Opaque),
    read_from_memory_without_copy: unsafe extern "C" fn(*mut Opaque, *const c_void, usize, *const c_void) -> RawError,
    primary_image_handle: unsafe extern "C" fn(*mut Opaque, *mut *mut Opaque) -> RawError,
    handle_release: unsafe extern "C" fn(*const Opaque),
    handle_width: unsafe extern "C" fn(*const Opaque) -> c_int,
    handle_height: unsafe extern "C" fn(*const Opaque) -> c_int,
    handle_has_alpha: unsafe extern "C" fn(*const Opaque) -> c_int,
    profile_type: unsafe extern "C" fn(*const Opaque) -> c_int,
    raw_profile_size: unsafe extern "C" fn(*const Opaque) -> usize,
    raw_profile: unsafe extern "C" fn(*const Opaque, *mut c_void) -> RawError,
    decode_image: unsafe extern "C" fn(*const Opaque, *mut *mut Opaque, c_int, c_int, *const c_void) -> RawError,
    image_release: unsafe extern "C" fn(*const Opaque),
    plane_readonly: unsafe extern "C" fn(*const Opaque, c_int, *mut c_int) -> *const u8,
    image_width: unsafe extern "C" fn(*const Opaque, c_int) -> c_int,
    image_height: unsafe extern "C" fn(*const Opaque, c_int) -> c_int,
}

fn api() -> Result<&'static Api, HeifError> {
    static API: OnceLock<Result<Api, String>> = OnceLock::new();
    API.get_or_init(load).as_ref().map_err(|e| HeifError::Missing(e.clone()))
}

fn load() -> Result<Api, String> {
    // SAFETY: loading libheif runs its initialisers, which only set up its own state.
    let lib = unsafe { Library::new("libheif.so.1") }.map_err(|e| e.to_string())?;
    macro_rules! sym {
        ($name:literal) => {
            // SAFETY: the pointer's type is the C prototype of this symbol in heif.h.
            *unsafe { lib.get(concat!($name, "\0").as_bytes()) }.map_err(|e| e.to_string())?
        };
    }
    // libheif 1.13 and later load their codec plugins in heif_init; earlier versions have
    // the codecs built in and no heif_init.
    // SAFETY: heif_init(NULL) is the documented default initialisation; it may be called more
    // than once (it counts).
    if let Ok(init) = unsafe { lib.get::<unsafe extern "C" fn(*const c_void) -> RawError>(b"heif_init\0") } {
        // SAFETY: as above.
        let e = unsafe { init(std::ptr::null()) };
        if e.code != 0 {
            return Err(format!("heif_init failed: {}", message(&e)));
        }
    }
    Ok(Api {
        context_alloc: sym!("heif_context_alloc"),
        context_free: sym!("heif_context_free"),
        read_from_memory_without_copy: sym!("heif_context_read_from_memory_without_copy"),
        primary_image_handle: sym!("heif_context_get_primary_image_handle"),
        handle_release: sym!("heif_image_handle_release"),
        handle_width: sym!("heif_image_handle_get_width"),
        handle_height: sym!("heif_image_handle_get_height"),
        handle_has_alpha: sym!("heif_image_handle_has_alpha_channel"),
        profile_type: sym!("heif_image_handle_get_color_profile_type"),
        raw_profile_size: sym!("heif_image_handle_get_raw_color_profile_size"),
        raw_profile: sym!("heif_image_handle_get_raw_color_profile"),
        decode_image: sym!("heif_decode_image"),
        image_release: sym!("heif_image_release"),
        plane_readonly: sym!("heif_image_get_plane_readonly"),
        image_width: sym!("heif_image_get_width"),
        image_height: sym!("heif_image_get_height"),
        _lib: lib,
    })
}

fn message(e: &RawError) -> String {
    if e.message.is_null() {
        return format!("libheif error {}.{}", e.code, e.subcode);
    }
    // SAFETY: libheif's error messages are static NUL-terminated strings (or owned by the
    // context, which is still alive when this is called).
    unsafe { CStr::from_ptr(e.message) }.to_string_lossy().into_owned()
}

fn check(e: RawError) -> Result<(), HeifError> {
    if e.code == 0 { Ok(()) } else { Err(HeifError::Decode(message(&e))) }
}

/// An opened HEIF file: its primary image's size and profile are known, nothing is decoded
/// yet. Borrows the file's bytes, which libheif reads in place.
pub struct HeifFile<'a> {
    api: &'static Api,
    ctx: *mut Opaque,
    handle: *mut Opaque,
    _bytes: PhantomData<&'a [u8]>,
}

impl std::fmt::Debug for HeifFile<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HeifFile").field("size", &self.size()).finish()
    }
}

impl<'a> HeifFile<'a> {
    /// Parses the container and finds the primary image.
    pub fn open(bytes: &'a [u8]) -> Result<HeifFile<'a>, HeifError> {
        let api = api()?;
        // SAFETY: no arguments; returns a new context or NULL.
        let ctx = unsafe { (api.context_alloc)() };
        if ctx.is_null() {
            return Err(HeifError::Decode("libheif could not allocate a context".into()));
        }
        let mut file = HeifFile { api, ctx, handle: std::ptr::null_mut(), _bytes: PhantomData };
        // SAFETY: ctx is live; the bytes outlive the context (the lifetime 'a ties them to
        // `file`, which frees the context on drop); NULL options are the defaults.
        check(unsafe {
            (api.read_from_memory_without_copy)(ctx, bytes.as_ptr().cast(), bytes.len(), std::ptr::null())
        })?;
        let mut handle = std::ptr::null_mut();
        // SAFETY: ctx is live and read; `handle` receives a new reference or stays NULL.
        check(unsafe { (api.primary_image_handle)(ctx, &mut handle) })?;
        if handle.is_null() {
            return Err(HeifError::Decode("the file has no primary image".into()));
        }
        file.handle = handle;
        Ok(file)
    }

    /// The primary image's size as shown (after the container's rotation).
    pub fn size(&self) -> (u32, u32) {
        // SAFETY: handle is live for as long as self.
        let (w, h) = unsafe { ((self.api.handle_width)(self.handle), (self.api.handle_height)(self.handle)) };
        (w.max(0) as u32, h.max(0) as u32)
    }

    pub fn has_alpha(&self) -> bool {
        // SAFETY: handle is live.
        unsafe { (self.api.handle_has_alpha)(self.handle) != 0 }
    }

    /// The embedded ICC profile, if the image carries one (rather than an nclx colour box).
    pub fn icc_profile(&self) -> Option<Vec<u8>> {
        // SAFETY: handle is live.
        let kind = unsafe { (self.api.profile_type)(self.handle) };
        if kind != PROFILE_RICC && kind != PROFILE_PROF {
            return None;
        }
        // SAFETY: handle is live.
        let n = unsafe { (self.api.raw_profile_size)(self.handle) };
        if n == 0 || n > 16 << 20 {
            return None;
        }
        let mut buf = vec![0u8; n];
        // SAFETY: buf has exactly the size libheif reported for this profile.
        check(unsafe { (self.api.raw_profile)(self.handle, buf.as_mut_ptr().cast()) }).ok()?;
        Some(buf)
    }

    /// Decodes the primary image to 8-bit RGB (RGBA when it has alpha), upright.
    pub fn decode(&self) -> Result<Decoded, HeifError> {
        let alpha = self.has_alpha();
        let (chroma, channels) = if alpha { (CHROMA_INTERLEAVED_RGBA, 4u8) } else { (CHROMA_INTERLEAVED_RGB, 3u8) };
        let mut img = std::ptr::null_mut();
        // SAFETY: handle is live; `img` receives a new image or stays NULL; NULL options are
        // the defaults (the container's transformations applied).
        check(unsafe { (self.api.decode_image)(self.handle, &mut img, COLORSPACE_RGB, chroma, std::ptr::null()) })?;
        if img.is_null() {
            return Err(HeifError::Decode("libheif returned no image".into()));
        }
        let img = Image { api: self.api, ptr: img };
        // SAFETY: img is live (released by `Image` on drop).
        let (w, h) = unsafe {
            (
                (self.api.image_width)(img.ptr, CHANNEL_INTERLEAVED),
                (self.api.image_height)(img.ptr, CHANNEL_INTERLEAVED),
            )
        };
        let (w, h) = (usize::try_from(w).unwrap_or(0), usize::try_from(h).unwrap_or(0));
        if w == 0 || h == 0 {
            return Err(HeifError::Decode("the decoded image has no pixels".into()));
        }
        let mut stride: c_int = 0;
        // SAFETY: img is live; the plane stays valid until the image is released, after the
        // copy below.
        let plane = unsafe { (self.api.plane_readonly)(img.ptr, CHANNEL_INTERLEAVED, &mut stride) };
        let row = w * usize::from(channels);
        let stride = usize::try_from(stride).unwrap_or(0);
        if plane.is_null() || stride < row {
            return Err(HeifError::Decode("libheif returned no pixel plane".into()));
        }
        let total = stride.checked_mul(h - 1).and_then(|n| n.checked_add(row));
        let Some(total) = total else {
            return Err(HeifError::Decode("the decoded image is too large".into()));
        };
        // SAFETY: libheif's interleaved plane holds `h` rows of `stride` bytes, the last at
        // least `row` long: `total` bytes from `plane` are initialised and stay valid while
        // `img` lives.
        let data = unsafe { std::slice::from_raw_parts(plane, total) };
        let mut pixels = Vec::with_capacity(row * h);
        for y in 0..h {
            pixels.extend_from_slice(&data[y * stride..y * stride + row]);
        }
        Ok(Decoded { width: w as u32, height: h as u32, channels, pixels })
    }
}

impl Drop for HeifFile<'_> {
    fn drop(&mut self) {
        // SAFETY: each pointer is released once, the handle before its context.
        unsafe {
            if !self.handle.is_null() {
                (self.api.handle_release)(self.handle);
            }
            (self.api.context_free)(self.ctx);
        }
    }
}

/// A decoded `heif_image`, released on drop.
struct Image {
    api: &'static Api,
    ptr: *mut Opaque,
}

impl Drop for Image {
    fn drop(&mut self) {
        // SAFETY: ptr came from heif_decode_image and is released once.
        unsafe { (self.api.image_release)(self.ptr) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn brands_are_recognised() {
        let ftyp = |major: &[u8; 4], compat: &[&[u8; 4]]| {
            let mut b = Vec::new();
            let size = 16 + 4 * compat.len() as u32;
            b.extend_from_slice(&size.to_be_bytes());
            b.extend_from_slice(b"ftyp");
            b.extend_from_slice(major);
            b.extend_from_slice(&[0; 4]);
            for c in compat {
                b.extend_from_slice(*c);
            }
            b
        };
        assert_eq!(sniff(&ftyp(b"heic", &[b"mif1", b"heic"])), Some(Kind::Heic));
        assert_eq!(sniff(&ftyp(b"mif1", &[b"avif", b"miaf"])), Some(Kind::Avif));
        assert_eq!(sniff(&ftyp(b"avif", &[])), Some(Kind::Avif));
        // An MP4 video is an ISO file too, but not a photo.
        assert_eq!(sniff(&ftyp(b"isom", &[b"iso2", b"mp41"])), None);
        assert_eq!(sniff(b"\xFF\xD8\xFF\xE0 not heif at all"), None);
        assert_eq!(sniff(b"short"), None);
    }
}
