//! The one way photos enter the program: orientation, colour, limits, bad files.

use std::path::Path;

use headshot::core::{Limits, Photo, PhotoErrorKind, Resolution};
use image::metadata::Orientation;
use image::{DynamicImage, GrayImage, Luma, RgbImage};

use crate::common::*;

/// A JPEG with an EXIF block carrying only an orientation tag, inserted right after SOI.
pub fn with_exif_orientation(jpeg: &[u8], orientation: u16) -> Vec<u8> {
    let mut tiff = Vec::new();
    tiff.extend_from_slice(b"II*\0");
    tiff.extend_from_slice(&8u32.to_le_bytes()); // first IFD right after the header
    tiff.extend_from_slice(&1u16.to_le_bytes()); // one entry
    tiff.extend_from_slice(&0x0112u16.to_le_bytes()); // Orientation
    tiff.extend_from_slice(&3u16.to_le_bytes()); // SHORT
    tiff.extend_from_slice(&1u32.to_le_bytes()); // count
    tiff.extend_from_slice(&orientation.to_le_bytes());
    tiff.extend_from_slice(&[0, 0]);
    tiff.extend_from_slice(&0u32.to_le_bytes()); // no next IFD
    let mut app1 = b"Exif\0\0".to_vec();
    app1.extend_from_slice(&tiff);
    let mut out = jpeg[..2].to_vec();
    out.extend_from_slice(&[0xFF, 0xE1]);
    out.extend_from_slice(&((app1.len() + 2) as u16).to_be_bytes());
    out.extend_from_slice(&app1);
    out.extend_from_slice(&jpeg[2..]);
    out
}

/// How to store an upright image so that a viewer applying `orientation` shows it upright.
fn stored_for(upright: &DynamicImage, orientation: u8) -> DynamicImage {
    // Orientations 6 and 8 undo each other; every other one is its own inverse.
    let inverse = match orientation {
        6 => 8,
        8 => 6,
        o => o,
    };
    let mut img = upright.clone();
    img.apply_orientation(Orientation::from_exif(inverse).expect("orientation 1-8"));
    img
}

fn jpeg_bytes(img: &DynamicImage, quality: u8) -> Vec<u8> {
    let mut bytes = Vec::new();
    let enc = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut bytes, quality);
    img.write_with_encoder(enc).expect("jpeg encode");
    bytes
}

#[test]
fn all_eight_exif_orientations_decode_to_identical_pixels() {
    // Flat 8x8 blocks survive JPEG exactly (a DC coefficient only), and a grey image has no
    // chroma subsampling, so any difference is the orientation's fault. The pattern is
    // asymmetric under every flip and turn.
    let upright = GrayImage::from_fn(48, 32, |x, y| {
        let (bx, by) = (x / 8, y / 8);
        Luma([(bx * 40 + by * 13 + if bx == 0 && by == 0 { 7 } else { 0 }) as u8])
    });
    let upright = DynamicImage::ImageLuma8(upright);
    let expected = upright.to_rgb8();
    for o in 1..=8u8 {
        let bytes = with_exif_orientation(&jpeg_bytes(&stored_for(&upright, o), 100), u16::from(o));
        let photo = Photo::decode(Path::new(&format!("orientation-{o}.jpg")), &bytes, &Limits::default())
            .unwrap_or_else(|e| panic!("orientation {o}: {e}"));
        assert_eq!(photo.exif_orientation, o);
        assert_eq!(photo.pixels.dimensions(), expected.dimensions(), "orientation {o}");
        assert!(
            photo.pixels == expected,
            "orientation {o}: pixels differ, mean {}",
            mean_abs_diff(&photo.pixels, &expected)
        );
    }
}

#[test]
fn a_real_photo_stored_rotated_comes_out_upright() {
    let upright = DynamicImage::ImageRgb8(pixels(&example("grace_hopper.jpg")));
    let reference = pixels_of(&jpeg_bytes(&upright, 95), "upright.jpg");
    for o in 1..=8u8 {
        let bytes = with_exif_orientation(&jpeg_bytes(&stored_for(&upright, o), 95), u16::from(o));
        let got = pixels_of(&bytes, "rotated.jpg");
        // JPEG blocks fall differently on a turned image: small differences, never a turned face.
        let d = mean_abs_diff(&got, &reference);
        assert!(d < 2.0, "orientation {o}: mean difference {d}");
    }
}

#[test]
fn a_large_jpeg_read_for_analysis_is_decoded_reduced_upright_and_at_full_size_coordinates() {
    // A real photo enlarged past twice the analysis copy's long side (1600): read for analysis
    // only, the reduced inverse DCT decodes it at half size. The full decode (with no DCT
    // scaling, halved by averaging) is the reference for what the analysis copy shows.
    let small = pixels(&example("grace_hopper.jpg"));
    let (w, h) = (3301, 3301 * small.height() / small.width());
    let upright = DynamicImage::ImageRgb8(image::imageops::resize(&small, w, h, image::imageops::FilterType::Triangle));
    let limits = Limits::default();
    for o in [1u8, 3, 6, 8] {
        let bytes = with_exif_orientation(&jpeg_bytes(&stored_for(&upright, o), 90), u16::from(o));
        let name = format!("large-{o}.jpg");
        let full = Photo::decode(Path::new(&name), &bytes, &limits).expect("full decode");
        let reduced =
            Photo::decode_at(Path::new(&name), &bytes, &limits, Resolution::Analysis).expect("reduced decode");
        assert!(full.is_full_resolution() && !reduced.is_full_resolution(), "orientation {o}");
        assert_eq!(reduced.reduction, 2, "orientation {o}");
        // Coordinates stay the full photo's, upright.
        assert_eq!((reduced.width(), reduced.height()), (w, h), "orientation {o}");
        assert_eq!((full.width(), full.height()), (w, h), "orientation {o}");
        assert_eq!(reduced.pixels.dimensions(), (w.div_ceil(2), h.div_ceil(2)), "orientation {o}");
        assert_eq!(reduced.analysis.dimensions(), full.analysis.dimensions(), "orientation {o}");
        let scale_gap = (reduced.analysis_scale / full.analysis_scale - 1.0).abs();
        assert!(
            scale_gap < 1e-3,
            "orientation {o}: analysis scale {} vs {}",
            reduced.analysis_scale,
            full.analysis_scale
        );
        let d = mean_abs_diff(&reduced.analysis, &full.analysis);
        assert!(d < 1.5, "orientation {o}: the analysis copies differ by {d} on average");
        // The reduced pixels are the full ones, halved: compare where both exist.
        let halved =
            image::imageops::resize(&full.pixels, w.div_ceil(2), h.div_ceil(2), image::imageops::FilterType::Triangle);
        let d = mean_abs_diff(&reduced.pixels, &halved);
        assert!(d < 2.0, "orientation {o}: the reduced pixels differ from the halved full ones by {d}");
    }
    // A photo that is not large enough to gain is decoded whole, the same pixels either way.
    let bytes = std::fs::read(example("grace_hopper.jpg")).expect("example");
    let p = Photo::decode_at(Path::new("small.jpg"), &bytes, &limits, Resolution::Analysis).expect("decode");
    assert!(p.is_full_resolution());
    assert!(p.pixels == small);
}

#[test]
fn a_damaged_large_jpeg_read_for_analysis_is_an_error_or_a_photo_never_a_panic() {
    // The reduced decoder meets the same hostile files as the full one: bytes flipped and stray
    // markers written at spread places (headers, tables, entropy-coded data).
    let small = pixels(&example("obama.jpg"));
    let (w, h) = (3300, 3300 * small.height() / small.width());
    let big = DynamicImage::ImageRgb8(image::imageops::resize(&small, w, h, image::imageops::FilterType::Triangle));
    let bytes = jpeg_bytes(&big, 85);
    let limits = Limits::default();
    for i in 0..24usize {
        let mut damaged = bytes.clone();
        let at = 2 + (i * i * 7919 + i * 104_729) % (damaged.len() - 4);
        damaged[at] ^= 0x5A;
        damaged[at + 1] = 0xFF;
        let name = format!("damaged-{i}.jpg");
        match Photo::decode_at(Path::new(&name), &damaged, &limits, Resolution::Analysis) {
            Ok(p) => {
                assert_eq!((p.width(), p.height()), (w, h), "{name}");
                assert_eq!(p.pixels.width(), w.div_ceil(p.reduction), "{name}");
            }
            Err(e) => assert!(e.path.ends_with(&name) && !e.reason.is_empty(), "{name}: {e}"),
        }
    }
}

fn pixels_of(bytes: &[u8], name: &str) -> RgbImage {
    Photo::decode(Path::new(name), bytes, &Limits::default()).expect("decode").pixels
}

/// sRGB (0..255) to Display P3 (0..255): linearise, change primaries, re-encode with the same
/// curve. Written out here, independently of the colour library the program uses.
fn srgb_to_p3(img: &RgbImage) -> RgbImage {
    let lin = |v: u8| {
        let c = f64::from(v) / 255.0;
        if c <= 0.04045 { c / 12.92 } else { ((c + 0.055) / 1.055).powf(2.4) }
    };
    let enc = |c: f64| {
        let c = c.clamp(0.0, 1.0);
        let v = if c <= 0.0031308 { c * 12.92 } else { 1.055 * c.powf(1.0 / 2.4) - 0.055 };
        (v * 255.0).round() as u8
    };
    // Linear sRGB -> linear Display P3 (both D65).
    const M: [[f64; 3]; 3] = [[0.8225, 0.1774, 0.0000], [0.0332, 0.9669, 0.0000], [0.0171, 0.0724, 0.9108]];
    RgbImage::from_fn(img.width(), img.height(), |x, y| {
        let p = img.get_pixel(x, y);
        let l = [lin(p[0]), lin(p[1]), lin(p[2])];
        let m = |r: usize| M[r][0] * l[0] + M[r][1] * l[1] + M[r][2] * l[2];
        image::Rgb([enc(m(0)), enc(m(1)), enc(m(2))])
    })
}

#[test]
fn a_display_p3_photo_decodes_to_the_right_srgb() {
    let original = pixels(&example("astronaut.png"));
    let p3 = srgb_to_p3(&original);
    // Read as if it were sRGB, the P3 numbers are visibly off: the test can fail.
    assert!(mean_abs_diff(&p3, &original) > 3.0, "P3 and sRGB values too close to tell apart");

    let profile = moxcms::ColorProfile::new_display_p3().encode().expect("P3 profile");
    let mut bytes = Vec::new();
    let mut enc = image::codecs::png::PngEncoder::new(&mut bytes);
    image::ImageEncoder::set_icc_profile(&mut enc, profile).expect("icc in png");
    image::ImageEncoder::write_image(enc, p3.as_raw(), p3.width(), p3.height(), image::ExtendedColorType::Rgb8)
        .expect("png");
    let photo = Photo::decode(Path::new("p3.png"), &bytes, &Limits::default()).expect("decode");
    assert!(photo.icc_converted);
    let d = mean_abs_diff(&photo.pixels, &original);
    assert!(d < 1.0, "mean difference after conversion {d}");
    let worst = photo.pixels.as_raw().iter().zip(original.as_raw()).map(|(a, b)| a.abs_diff(*b)).max();
    assert!(worst.unwrap_or(0) <= 4, "worst difference {worst:?}");
}

#[test]
fn grey_sixteen_bit_and_transparent_photos_decode() {
    // 16-bit grey PNG.
    let grey16 = image::ImageBuffer::<Luma<u16>, Vec<u16>>::from_fn(64, 48, |x, _| Luma([(x * 1000) as u16]));
    let mut bytes = Vec::new();
    DynamicImage::ImageLuma16(grey16)
        .write_to(&mut std::io::Cursor::new(&mut bytes), image::ImageFormat::Png)
        .expect("png");
    let p = Photo::decode(Path::new("grey16.png"), &bytes, &Limits::default()).expect("16-bit grey");
    assert_eq!(p.pixels.dimensions(), (64, 48));
    assert!(p.alpha.is_none());

    // RGBA: the alpha is kept as the photo's own matte.
    let rgba = image::RgbaImage::from_fn(40, 40, |x, _| image::Rgba([200, 100, 50, if x < 20 { 0 } else { 255 }]));
    let mut bytes = Vec::new();
    DynamicImage::ImageRgba8(rgba)
        .write_to(&mut std::io::Cursor::new(&mut bytes), image::ImageFormat::Png)
        .expect("png");
    let p = Photo::decode(Path::new("cutout.png"), &bytes, &Limits::default()).expect("rgba");
    let alpha = p.alpha.expect("alpha kept");
    assert_eq!(alpha.get_pixel(5, 5)[0], 0);
    assert_eq!(alpha.get_pixel(35, 5)[0], 255);

    // WebP (lossless, what the image crate writes).
    let mut bytes = Vec::new();
    DynamicImage::ImageRgb8(pixels(&example("astronaut.png")))
        .write_to(&mut std::io::Cursor::new(&mut bytes), image::ImageFormat::WebP)
        .expect("webp");
    let p = Photo::decode(Path::new("a.webp"), &bytes, &Limits::default()).expect("webp");
    assert_eq!(p.pixels.dimensions(), (512, 512));
}

#[test]
fn the_analysis_copy_is_reduced_once_and_the_scale_is_recorded() {
    let p = Photo::open(&example("biden.jpg"), &Limits::default()).expect("biden");
    assert_eq!(p.pixels.dimensions(), (970, 2204));
    assert_eq!(p.analysis.height(), 1600);
    assert!((p.analysis_scale - 2204.0 / 1600.0).abs() < 0.01);
}

/// A PNG header (signature + IHDR with a correct CRC) claiming `w` x `h`, and nothing after it.
fn png_header_only(w: u32, h: u32) -> Vec<u8> {
    let mut ihdr = b"IHDR".to_vec();
    ihdr.extend_from_slice(&w.to_be_bytes());
    ihdr.extend_from_slice(&h.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    out.extend_from_slice(&13u32.to_be_bytes());
    out.extend_from_slice(&ihdr);
    out.extend_from_slice(&crc32(&ihdr).to_be_bytes());
    out
}

fn crc32(data: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
        }
    }
    !crc
}

/// The broken files of the bad-input tests, written into `dir`; returns (file name, kind).
pub fn write_bad_files(dir: &Path) -> Vec<(&'static str, PhotoErrorKind)> {
    let good = std::fs::read(example("grace_hopper.jpg")).expect("read example");
    std::fs::write(dir.join("truncated.jpg"), &good[..good.len() * 2 / 5]).expect("write");
    std::fs::write(dir.join("empty.jpg"), b"").expect("write");
    std::fs::write(dir.join("notes.jpg"), b"This is a text file, not a photo.\n").expect("write");
    std::fs::write(dir.join("huge.png"), png_header_only(50_000, 50_000)).expect("write");
    vec![
        ("truncated.jpg", PhotoErrorKind::Decode),
        ("empty.jpg", PhotoErrorKind::Decode),
        ("notes.jpg", PhotoErrorKind::Unsupported),
        ("huge.png", PhotoErrorKind::TooLarge),
    ]
}

#[test]
fn bad_files_give_typed_errors_naming_the_file() {
    let dir = scratch("bad-files");
    for (name, kind) in write_bad_files(&dir) {
        let path = dir.join(name);
        match Photo::open(&path, &Limits::default()) {
            Ok(_) => panic!("{name} decoded"),
            Err(e) => {
                assert_eq!(e.kind, kind, "{name}: {e}");
                assert_eq!(e.path, path);
                assert!(e.to_string().contains(name), "{e}");
            }
        }
    }
    // Bytes over the limit are refused before decoding.
    let small = Limits { max_bytes: 1000, ..Limits::default() };
    let e = Photo::open(&example("grace_hopper.jpg"), &small).map(|_| ()).expect_err("refused");
    assert_eq!(e.kind, PhotoErrorKind::TooLarge);
    // Pixels over the limit likewise, from the header.
    let e = Photo::open(&example("grace_hopper.jpg"), &Limits { max_pixels: 100_000, ..Limits::default() })
        .map(|_| ())
        .expect_err("refused");
    assert_eq!(e.kind, PhotoErrorKind::TooLarge);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn inputs_are_never_modified() {
    let path = example("obama.jpg");
    let before = std::fs::read(&path).expect("read");
    let _ = analyze(&path);
    assert!(std::fs::read(&path).expect("read") == before);
}

/// A folder with a link to itself, a link to its parent, a second link to a photo and a FIFO
/// named like a photo: the walk ends, lists each photo once and never opens the FIFO; reading
/// the FIFO named explicitly is a clear error, not a hang.
#[test]
fn folder_walks_end_on_link_loops_and_never_open_a_fifo() {
    let dir = scratch("walk-loops");
    let inner = dir.join("photos");
    std::fs::create_dir_all(&inner).expect("mkdir");
    std::fs::copy(example("obama.jpg"), inner.join("obama.jpg")).expect("copy");
    std::os::unix::fs::symlink(".", inner.join("loop")).expect("link");
    std::os::unix::fs::symlink("..", inner.join("up")).expect("link");
    std::os::unix::fs::symlink("obama.jpg", inner.join("again.jpg")).expect("link");
    let fifo = inner.join("x.jpg");
    let made = std::process::Command::new("mkfifo").arg(&fifo).status().expect("mkfifo runs");
    assert!(made.success());

    let (tx, rx) = std::sync::mpsc::channel();
    let walked = dir.clone();
    std::thread::spawn(move || {
        let _ = tx.send(headshot::session::collect_inputs(&[walked]));
    });
    let (files, errors) = rx.recv_timeout(std::time::Duration::from_secs(20)).expect("the walk ends");
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(files.len(), 1, "{files:?}");

    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(Photo::open(&fifo, &Limits::default()).map(|_| ()));
    });
    let e = rx.recv_timeout(std::time::Duration::from_secs(20)).expect("no hang").expect_err("an error");
    assert_eq!(e.kind, PhotoErrorKind::Io);
    assert!(e.to_string().contains("x.jpg: not a regular file"), "{e}");
}

/// A PNG chunk: length, type, data, CRC.
fn png_chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
    let mut body = kind.to_vec();
    body.extend_from_slice(data);
    let mut out = (data.len() as u32).to_be_bytes().to_vec();
    out.extend_from_slice(&body);
    out.extend_from_slice(&crc32(&body).to_be_bytes());
    out
}

/// A memory bomb: a PNG a few dozen bytes long whose header claims 10000x10000 16-bit RGB
/// (600 MB of samples; over 1.5 GB with the copies decoding makes), with the start of its
/// image data. It is refused from the header, before any pixel buffer exists, and quickly.
#[test]
fn a_tiny_png_that_decodes_to_gigabytes_is_refused_before_decoding() {
    let mut ihdr = 10_000u32.to_be_bytes().to_vec();
    ihdr.extend_from_slice(&10_000u32.to_be_bytes());
    ihdr.extend_from_slice(&[16, 2, 0, 0, 0]);
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    png.extend(png_chunk(b"IHDR", &ihdr));
    png.extend(png_chunk(b"IDAT", &[0x78, 0x01, 0x00]));
    png.extend(png_chunk(b"IEND", &[]));
    let started = std::time::Instant::now();
    let e = Photo::decode(Path::new("bomb.png"), &png, &Limits::default()).expect_err("refused");
    assert_eq!(e.kind, PhotoErrorKind::TooLarge, "{e}");
    assert!(e.to_string().starts_with("bomb.png: 10000x10000") && e.to_string().contains("MB to decode"), "{e}");
    assert!(started.elapsed() < std::time::Duration::from_secs(2), "{:?}", started.elapsed());
    // The budget is what counts, not the file size: a plain 2000x2000 PNG (a few kB) needs 40 MB.
    let small_budget = Limits { max_decode_bytes: 16 << 20, ..Limits::default() };
    let photo = image::RgbImage::from_pixel(2000, 2000, image::Rgb([90, 90, 90]));
    let mut bytes = Vec::new();
    photo.write_to(&mut std::io::Cursor::new(&mut bytes), image::ImageFormat::Png).expect("encode");
    let e = Photo::decode(Path::new("grey.png"), &bytes, &small_budget).expect_err("over a 16 MB budget");
    assert_eq!(e.kind, PhotoErrorKind::TooLarge);
    assert!(Photo::decode(Path::new("grey.png"), &bytes, &Limits::default()).is_ok());
}

/// Transparency is a cut-out only when it outlines a person. A round avatar of a photo with a
/// busy flag behind the sitter (its corners transparent) is analysed as the photo it shows,
/// laid on white: the flag is still busy. The person cut out of the same photo by
/// `headshot cutout` is taken as it is: already on a plain background. (Measured: the person
/// segmentation covers 64 % of the avatar's opaque part and 99.7 % of the cut-out's.)
#[test]
fn only_transparency_that_outlines_a_person_is_a_cut_out() {
    let path = example("grace_hopper.jpg");
    let rgb = pixels(&path);
    let (w, h) = rgb.dimensions();
    let (cx, cy, r) = (w as f32 / 2.0, h as f32 / 2.0, w.min(h) as f32 / 2.0);
    let avatar = image::RgbaImage::from_fn(w, h, |x, y| {
        let p = rgb.get_pixel(x, y);
        let inside = (x as f32 + 0.5 - cx).hypot(y as f32 + 0.5 - cy) <= r;
        image::Rgba([p[0], p[1], p[2], if inside { 255 } else { 0 }])
    });
    let a = analyzer().analyze_photo(photo_from_rgba("avatar.png", &avatar)).expect("analyses");
    assert!(!a.scene.transparent_background && a.photo.alpha.is_none());
    assert!(!a.judgement.plain, "busyness {}", a.scene.background.busyness);
    // The corners are white now, not the grey transparent pixels were laid on.
    assert_eq!(a.photo.pixels.get_pixel(0, 0).0, [255, 255, 255]);

    let original = analyze(&path);
    let cut = headshot::cutout::cut_out(&original, analyzer(), None).expect("cut out");
    let a = analyzer().analyze_photo(photo_from_rgba("cutout.png", &cut)).expect("analyses");
    assert!(a.scene.transparent_background && a.photo.alpha.is_some());
    assert!(a.judgement.plain, "busyness {}", a.scene.background.busyness);
}

fn photo_from_rgba(name: &str, img: &image::RgbaImage) -> Photo {
    let mut bytes = Vec::new();
    img.write_to(&mut std::io::Cursor::new(&mut bytes), image::ImageFormat::Png).expect("encode");
    Photo::decode(Path::new(name), &bytes, &Limits::default()).expect("decodes")
}
