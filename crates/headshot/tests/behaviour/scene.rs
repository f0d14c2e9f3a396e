//! The person matte, scene measurements and framing classes, checked by transformations whose
//! effect is known.

use headshot::core::Rect;
use headshot::core::judge::{self, Framing};
use image::{Rgb, RgbImage};

use crate::common::*;

/// A busy texture: a street's worth of edges and colours (random-coloured blocks of several
/// sizes with thin dark lines), deterministic.
fn busy_texture(w: u32, h: u32) -> RgbImage {
    let hash = |x: u32, y: u32, k: u32| {
        let mut v = x.wrapping_mul(0x9E37_79B1) ^ y.wrapping_mul(0x85EB_CA77) ^ k.wrapping_mul(0xC2B2_AE3D);
        v ^= v >> 15;
        v = v.wrapping_mul(0x2C1B_3C6D);
        v ^= v >> 12;
        v
    };
    RgbImage::from_fn(w, h, |x, y| {
        let big = hash(x / 37, y / 29, 1);
        let small = hash(x / 9, y / 11, 2);
        if x % 23 == 0 || y % 31 == 0 {
            return Rgb([30, 30, 30]);
        }
        let c = |s: u32| ((big >> s) as u8 / 2).wrapping_add((small >> s) as u8 / 2);
        Rgb([c(0), c(8), c(16)])
    })
}

/// `img` with its person (by `alpha`, 0..1 per pixel of `img`) over `bg`.
fn composite(img: &RgbImage, alpha: impl Fn(u32, u32) -> f32, bg: &RgbImage) -> RgbImage {
    RgbImage::from_fn(img.width(), img.height(), |x, y| {
        let a = alpha(x, y).clamp(0.0, 1.0);
        let (p, q) = (img.get_pixel(x, y), bg.get_pixel(x, y));
        Rgb([0, 1, 2].map(|c| (f32::from(p[c]) * a + f32::from(q[c]) * (1.0 - a)).round() as u8))
    })
}

#[test]
fn the_astronaut_cropped_to_head_and_shoulders_is_a_headshot() {
    let img = pixels(&example("astronaut.png"));
    assert_eq!(analyze_image("astronaut.png", &img).judgement.framing, Framing::HalfBody);
    // Face box (178, 63, 92, 112): a head-and-shoulders frame around it.
    let crop = image::imageops::crop_imm(&img, 104, 15, 240, 260).to_image();
    let a = analyze_image("astronaut-crop.png", &crop);
    assert_eq!(a.judgement.framing, Framing::Headshot, "{:?}", a.scene.framing());
}

#[test]
fn pasting_the_subject_on_flat_colour_makes_the_background_plain_and_on_texture_busy() {
    for name in ["astronaut.png", "grace_hopper.jpg"] {
        let img = pixels(&example(name));
        let a = analyze_image(name, &img);
        assert!(!a.judgement.plain, "{name} starts busy");
        // The matte is at the analysis size; these photos are small enough to be their own.
        assert_eq!(a.matte.width, img.width());
        let m = &a.matte;
        let flat = RgbImage::from_pixel(img.width(), img.height(), Rgb([128, 140, 150]));
        let on_flat = composite(&img, |x, y| m.get(x, y), &flat);
        let p = analyze_image("on-flat.png", &on_flat);
        assert!(p.judgement.plain, "{name} on flat: {:?}", p.scene.background);

        let texture = busy_texture(img.width(), img.height());
        let on_busy = composite(&on_flat, |x, y| p.matte.get(x, y), &texture);
        let b = analyze_image("on-busy.png", &on_busy);
        assert!(!b.judgement.plain, "{name} on texture: {:?}", b.scene.background);
        assert!(b.scene.background.busyness > p.scene.background.busyness + 0.3);
    }
}

#[test]
fn a_wide_busy_border_moves_a_portrait_to_environmental() {
    let img = pixels(&example("astronaut.png"));
    let a = analyze_image("astronaut.png", &img);
    let (w, h) = img.dimensions();
    let mut big = busy_texture(w * 3, h * 2);
    image::imageops::replace(&mut big, &img, i64::from(w), i64::from(h) / 2);
    let b = analyze_image("astronaut-in-a-wide-scene.png", &big);
    let (fa, fb) = (a.scene.framing().expect("framing"), b.scene.framing().expect("framing"));
    assert!(fb.face_area_share < fa.face_area_share / 4.0);
    assert!(fb.person_coverage < fa.person_coverage);
    assert_eq!(b.judgement.framing, Framing::Environmental, "{fb:?}");
}

#[test]
fn darkening_half_a_face_makes_the_light_uneven() {
    let img = pixels(&example("grace_hopper.jpg"));
    let a = analyze_image("grace_hopper.jpg", &img);
    assert!(a.judgement.even, "{:?}", a.scene.lighting());
    let f = a.scene.faces[0].bbox;
    let mid = f.center().x;
    let mut dark = img.clone();
    for (x, y, p) in dark.enumerate_pixels_mut() {
        // The whole left side of the head and beyond, as a hard side light would leave it.
        if (x as f32) < mid && (y as f32) > f.y - f.h * 0.3 && (y as f32) < f.bottom() + f.h * 0.3 {
            for c in 0..3 {
                p[c] = (f32::from(p[c]) * 0.3) as u8;
            }
        }
    }
    let b = analyze_image("half-lit.png", &dark);
    assert!(!b.judgement.even, "{:?}", b.scene.lighting());
    assert!(
        b.judgement
            .verdicts
            .iter()
            .any(|v| v.reasons.contains(&judge::Reason::UnevenLighting)
                && v.fixes.contains(&judge::Fix::EvenOutLighting))
    );
}

/// The truth of a subject on a flat white backdrop: every row filled between its outermost
/// non-white pixels (the silhouette has no holes: head, neck, shoulders).
pub(crate) fn cutout_truth(img: &RgbImage) -> Vec<bool> {
    let (w, h) = img.dimensions();
    let mut truth = vec![false; (w * h) as usize];
    for y in 0..h {
        let not_white = |x: u32| img.get_pixel(x, y).0.iter().any(|&c| c < 225);
        let first = (0..w).find(|&x| not_white(x));
        let last = (0..w).rev().find(|&x| not_white(x));
        if let (Some(a), Some(b)) = (first, last) {
            for x in a..=b {
                truth[(y * w + x) as usize] = true;
            }
        }
    }
    truth
}

/// The studio cut-out on white (img13), reduced to the analysis size (long side 1600 px) so a
/// matte and its truth share pixels.
pub(crate) fn cutout_at_analysis_size() -> RgbImage {
    let full = pixels(&shared("deepface/img13.jpg"));
    let s = 1600.0 / full.width().max(full.height()) as f32;
    image::imageops::resize(
        &full,
        (full.width() as f32 * s).round() as u32,
        (full.height() as f32 * s).round() as u32,
        image::imageops::FilterType::Lanczos3,
    )
}

#[test]
fn the_matte_of_a_subject_pasted_on_a_busy_scene_matches_the_truth() {
    // A studio cut-out on white (test use only, see ../shared/photos/SOURCES.md), reduced to
    // the analysis size so the matte and the truth share pixels.
    let img = cutout_at_analysis_size();
    let (w, h) = img.dimensions();
    let truth = cutout_truth(&img);
    let bus = pixels(&shared("ultralytics/bus.jpg"));
    let bg = image::imageops::resize(&bus, w, h, image::imageops::FilterType::Triangle);
    let pasted = composite(&img, |x, y| if truth[(y * w + x) as usize] { 1.0 } else { 0.0 }, &bg);
    let a = analyze_image("pasted.png", &pasted);
    assert_eq!((a.matte.width, a.matte.height), (w, h));

    let (mut inter, mut union) = (0u64, 0u64);
    let (mut edge_err, mut edge_n) = (0f64, 0u64);
    for y in 0..h {
        for x in 0..w {
            let t = truth[(y * w + x) as usize];
            let m = a.matte.get(x, y);
            if t && m > 0.5 {
                inter += 1;
            }
            if t || m > 0.5 {
                union += 1;
            }
            // Edge band: pixels within 4 px of a truth boundary.
            let near_edge = (x >= 4 && x + 4 < w && y >= 4 && y + 4 < h)
                && [(4i32, 0i32), (-4, 0), (0, 4), (0, -4)]
                    .iter()
                    .any(|(dx, dy)| truth[((y as i32 + dy) as u32 * w + (x as i32 + dx) as u32) as usize] != t);
            if near_edge {
                edge_err += f64::from((m - if t { 1.0 } else { 0.0 }).abs());
                edge_n += 1;
            }
        }
    }
    let iou = inter as f64 / union.max(1) as f64;
    let edge = edge_err / edge_n.max(1) as f64;
    eprintln!("matte on a pasted subject: IoU {iou:.3}, mean edge error {edge:.3} (band of 4 px, {edge_n} px)");
    assert!(iou >= 0.95, "IoU {iou}");
    // The truth is a hard, aliased cut; the matte is soft across ~2 px of hair and shoulder, so
    // the band's error is far from 0 even when the outline is right.
    assert!(edge < 0.45, "edge error {edge}");
}

#[test]
fn measures_stay_in_their_documented_ranges() {
    for name in ["astronaut.png", "camera.png", "obama_and_biden.jpg", "two_people.jpg"] {
        let a = analyze(&example(name));
        let bg = a.scene.background;
        assert!((0.0..=1.0).contains(&bg.busyness), "{name}");
        let fm = a.scene.framing().expect("framing");
        assert!((0.0..=1.0).contains(&fm.person_coverage) && (0.0..=1.0).contains(&fm.face_area_share), "{name}");
        let l = a.scene.lighting().expect("lighting");
        assert!((0.0..=1.0).contains(&l.balance) && (0.0..=1.0).contains(&l.exposure), "{name}");
        let r = Rect::new(0.0, 0.0, a.scene.width as f32, a.scene.height as f32);
        for f in &a.scene.faces {
            assert!(r.intersect(&f.bbox).area() > 0.0, "{name}: face outside the photo");
        }
    }
}
