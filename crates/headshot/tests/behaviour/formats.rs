//! Every format people's photos come in decodes to the same picture: each file of
//! `tests/fixtures/formats/` (made from one photo by `tests/fixtures/make_formats.py`, with
//! Pillow and libheif's own encoder, not with this program) is compared with the lossless
//! reference, pixel by pixel, and says what it was.

use std::path::{Path, PathBuf};

use headshot::core::{Limits, Photo, PhotoErrorKind};

use crate::common::*;

fn fixture(name: &str) -> PathBuf {
    repo().join("tests/fixtures/formats").join(name)
}

/// Mean absolute difference per channel (0..255) between two photos of one size; for a grey
/// file, between luminances.
fn difference(a: &Photo, b: &Photo, grey: bool) -> f64 {
    assert_eq!(a.pixels.dimensions(), b.pixels.dimensions(), "{}", a.path.display());
    let luma = |p: &image::Rgb<u8>| 0.299 * f64::from(p[0]) + 0.587 * f64::from(p[1]) + 0.114 * f64::from(p[2]);
    let mut sum = 0.0;
    for (p, q) in a.pixels.pixels().zip(b.pixels.pixels()) {
        sum += if grey {
            (luma(p) - luma(q)).abs()
        } else {
            (0..3).map(|c| (f64::from(p[c]) - f64::from(q[c])).abs()).sum::<f64>() / 3.0
        };
    }
    sum / f64::from(a.width() * a.height())
}

fn open(name: &str) -> Photo {
    Photo::open(&fixture(name), &Limits::default()).unwrap_or_else(|e| panic!("{e}"))
}

/// Whether libheif is expected here: CI installs it and says so; elsewhere a machine without it
/// must give the clear error instead (checked below).
fn heif_required() -> bool {
    std::env::var_os("HEADSHOT_REQUIRE_LIBHEIF").is_some()
}

#[test]
fn every_format_decodes_to_the_reference_photo_and_says_what_it_was() {
    let reference = open("reference.png");
    // (file, format, layout, grey, largest mean difference, first frame only). The limits are
    // each codec's own loss at its quality (JPEG 92: about 1.5 levels; HEIC and AVIF at 80:
    // about 3), with room; a wrong conversion (inverted CMYK, a channel swap, a lost profile)
    // is tens of levels off.
    let cases: &[(&str, &str, &str, bool, f64, bool)] = &[
        ("cmyk.jpg", "jpeg", "cmyk", false, 4.0, false),
        ("gray.jpg", "jpeg", "l8", true, 3.0, false),
        ("gray.png", "png", "l8", true, 1.0, false),
        ("gray16.png", "png", "l16", true, 1.0, false),
        ("palette.png", "png", "rgb8", false, 4.0, false),
        ("animated.png", "png", "rgb8", false, 0.5, true),
        ("animated.webp", "webp", "rgb8", false, 4.0, true),
        ("scan.tif", "tiff", "rgb8", false, 0.5, false),
        ("scan-lzw.tif", "tiff", "rgb8", false, 0.5, false),
        ("photo.heic", "heic", "rgb8", false, 6.0, false),
        ("photo.avif", "avif", "rgb8", false, 6.0, false),
    ];
    for &(name, format, layout, grey, limit, first_frame) in cases {
        let photo = match Photo::open(&fixture(name), &Limits::default()) {
            Ok(p) => p,
            Err(e) if (format == "heic" || format == "avif") && !heif_required() => {
                assert_eq!(e.kind, PhotoErrorKind::Unsupported, "{e}");
                assert!(e.to_string().contains("libheif"), "{e}");
                eprintln!("{name}: skipped, libheif is not installed here ({e})");
                continue;
            }
            Err(e) => panic!("{e}"),
        };
        let d = difference(&photo, &reference, grey);
        eprintln!("{name}: {format} {layout}, mean difference {d:.2}");
        assert!(d <= limit, "{name}: differs from the reference by {d:.2} (limit {limit})");
        assert_eq!(photo.source.format, format, "{name}");
        assert_eq!(photo.source.layout, layout, "{name}");
        assert_eq!(photo.source.first_frame_only, first_frame, "{name}");
    }
}

/// A HEIC whose container asks for a turn (`irot`, as phones write): the decoder shows it
/// turned, as every viewer would.
#[test]
fn a_heic_is_shown_as_its_container_turns_it() {
    let photo = match Photo::open(&fixture("rotated.heic"), &Limits::default()) {
        Ok(p) => p,
        Err(e) if !heif_required() => return eprintln!("skipped: {e}"),
        Err(e) => panic!("{e}"),
    };
    let reference = open("reference.png");
    assert_eq!(photo.pixels.dimensions(), (reference.height(), reference.width()));
    // 90 degrees anticlockwise is 270 clockwise.
    let turned = image::imageops::rotate270(&reference.pixels);
    let d: f64 = photo
        .pixels
        .as_raw()
        .iter()
        .zip(turned.as_raw())
        .map(|(&a, &b)| (f64::from(a) - f64::from(b)).abs())
        .sum::<f64>()
        / photo.pixels.as_raw().len() as f64;
    assert!(d <= 6.0, "differs from the reference turned anticlockwise by {d:.2}");
}

#[test]
fn a_heic_cut_short_or_garbled_is_a_decode_error_naming_the_file() {
    let bytes = std::fs::read(fixture("photo.heic")).expect("read");
    let cut = &bytes[..bytes.len() / 2];
    let mut garbled = bytes.clone();
    for b in garbled.iter_mut().skip(400).step_by(7) {
        *b ^= 0x5A;
    }
    for (name, data) in [("cut.heic", cut), ("garbled.heic", &garbled[..]), ("header-only.heic", &bytes[..40])] {
        let e = Photo::decode(Path::new(name), data, &Limits::default()).expect_err(name);
        if !heif_required() && e.kind == PhotoErrorKind::Unsupported {
            continue;
        }
        assert_eq!(e.kind, PhotoErrorKind::Decode, "{name}: {e}");
        assert!(e.to_string().starts_with(name), "{e}");
    }
}

#[test]
fn a_heic_larger_than_the_pixel_limit_is_refused_before_decoding() {
    let bytes = std::fs::read(fixture("photo.heic")).expect("read");
    let limits = Limits { max_pixels: 10_000, ..Limits::default() };
    let e = Photo::decode(Path::new("big.heic"), &bytes, &limits).expect_err("over the limit");
    if !heif_required() && e.kind == PhotoErrorKind::Unsupported {
        return;
    }
    assert_eq!(e.kind, PhotoErrorKind::TooLarge, "{e}");
}

#[test]
fn a_phone_photo_in_heic_is_judged_like_its_jpeg() {
    let heic = analyzer().analyze_path(&fixture("photo.heic"));
    let png = analyzer().analyze_path(&fixture("reference.png")).expect("reference analyses");
    let heic = match heic {
        Ok(a) => a,
        Err(e) if !heif_required() => return eprintln!("skipped: {e}"),
        Err(e) => panic!("{e}"),
    };
    assert_eq!(heic.report.framing, png.report.framing);
    assert_eq!(heic.report.faces.len(), png.report.faces.len());
    let (a, b) = (&heic.report.faces[0].bbox, &png.report.faces[0].bbox);
    assert!((a.x - b.x).abs() < 3.0 && (a.y - b.y).abs() < 3.0 && (a.w - b.w).abs() < 3.0, "{a:?} vs {b:?}");
}

/// The press profile the CMYK fixtures were separated with: Ghostscript's default CMYK profile
/// from Debian's `libgs-common` (AGPL, so it is read from the system, not kept in the repo).
const PRESS_PROFILE: &str = "/usr/share/color/icc/ghostscript/default_cmyk.icc";
/// Its length and CRC-32: the references were made with exactly this file.
const PRESS_PROFILE_ID: (usize, u32) = (187_484, 0xeb53_e296);

/// The press profile, or `None` (with a note) where it is not installed and CI has not said it
/// must be.
fn press_profile() -> Option<Vec<u8>> {
    match std::fs::read(PRESS_PROFILE) {
        Ok(bytes) => {
            let id = (bytes.len(), crc32fast::hash(&bytes));
            assert_eq!(id, PRESS_PROFILE_ID, "{PRESS_PROFILE} is not the profile the fixtures were made with");
            Some(bytes)
        }
        Err(e) if std::env::var_os("HEADSHOT_REQUIRE_PRESS_PROFILE").is_none() => {
            eprintln!("skipped: {PRESS_PROFILE}: {e} (Debian: libgs-common)");
            None
        }
        Err(e) => panic!("{PRESS_PROFILE}: {e}"),
    }
}

/// A JPEG with an ICC profile inserted after its start marker, in APP2 chunks as the ICC
/// specification lays them out (at most 65519 bytes of profile per segment).
fn with_profile(jpeg: &[u8], profile: &[u8]) -> Vec<u8> {
    const CHUNK: usize = 65_519;
    let chunks: Vec<&[u8]> = profile.chunks(CHUNK).collect();
    let mut out = jpeg[..2].to_vec();
    for (i, chunk) in chunks.iter().enumerate() {
        let length = 2 + 12 + 2 + chunk.len();
        out.extend_from_slice(&[0xFF, 0xE2]);
        out.extend_from_slice(&u16::try_from(length).expect("chunk fits a segment").to_be_bytes());
        out.extend_from_slice(b"ICC_PROFILE\0");
        out.extend_from_slice(&[i as u8 + 1, chunks.len() as u8]);
        out.extend_from_slice(chunk);
    }
    out.extend_from_slice(&jpeg[2..]);
    out
}

fn decode_bytes(name: &str, bytes: &[u8]) -> Photo {
    Photo::decode(Path::new(name), bytes, &Limits::default()).unwrap_or_else(|e| panic!("{e}"))
}

/// A print shop's file reads through its own press profile: compared with LittleCMS's reading
/// of the same file through the same profile (Pillow's ImageCms, in make_formats.py), not with
/// the plain formula, which is 27 levels off on this file.
#[test]
fn a_cmyk_jpeg_is_read_through_its_embedded_press_profile() {
    let Some(profile) = press_profile() else { return };
    let reference = open("cmyk-press-reference.png");
    let separated = std::fs::read(fixture("cmyk-press.jpg")).expect("fixture");

    let plain = decode_bytes("cmyk-press.jpg", &separated);
    let d_plain = difference(&plain, &reference, false);
    assert!(!plain.icc_converted);

    let tagged = decode_bytes("cmyk-press+profile.jpg", &with_profile(&separated, &profile));
    let d = difference(&tagged, &reference, false);
    eprintln!("CMYK through its profile: {d:.2} from LittleCMS (the plain formula: {d_plain:.2})");
    assert!(tagged.icc_converted, "the profile was not used");
    assert_eq!(tagged.source.layout, "cmyk");
    assert!(d <= 2.0, "differs from LittleCMS's reading by {d:.2}");
    assert!(d_plain > 4.0 * d.max(1.0), "the fixture does not tell the profile from the formula");

    // YCCK: the same inks, written as Photoshop writes YCCK (by jpeg-encoder, not by Pillow).
    let inks = stored_inks(&separated);
    let mut ycck = Vec::new();
    let mut encoder = jpeg_encoder::Encoder::new(&mut ycck, 100);
    encoder.add_icc_profile(&profile).expect("profile fits");
    let (w, h) = (reference.width() as u16, reference.height() as u16);
    encoder.encode(&inks, w, h, jpeg_encoder::ColorType::CmykAsYcck).expect("encode YCCK");
    let tagged = decode_bytes("ycck-press.jpg", &ycck);
    let d = difference(&tagged, &reference, false);
    eprintln!("YCCK through its profile: {d:.2} from LittleCMS");
    assert!(tagged.icc_converted && tagged.source.layout == "cmyk");
    assert!(d <= 2.5, "YCCK differs from LittleCMS's reading by {d:.2}");
}

/// The inks (0 = none) of an Adobe-style CMYK JPEG, which stores them inverted, read by the
/// JPEG decoder without conversion.
fn stored_inks(jpeg: &[u8]) -> Vec<u8> {
    use zune_jpeg::zune_core::{bytestream::ZCursor, colorspace::ColorSpace, options::DecoderOptions};
    let options = DecoderOptions::default().jpeg_set_out_colorspace(ColorSpace::CMYK);
    let mut decoder = zune_jpeg::JpegDecoder::new_with_options(ZCursor::new(jpeg), options);
    let stored = decoder.decode().expect("CMYK fixture decodes");
    stored.into_iter().map(|v| 255 - v).collect()
}
