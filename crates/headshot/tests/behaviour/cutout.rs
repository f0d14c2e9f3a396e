//! Cut-outs measured against a truth: a subject with a known outline pasted onto busy
//! backgrounds (the matte's error at the edge and what is left of the old background once it is
//! replaced, against the quick analysis matte), and the bundled photos with their backgrounds
//! replaced, checked where a person marked "surely background" (`tests/reference`).

use headshot::core::plan::{self, Canvas, CropPlan};
use headshot::core::render::{self, Background, Corrections, STUDIO_GREY};
use headshot::core::uses::Catalogue;
use headshot::core::{Point, Rect, matte::PersonMatte};
use headshot::studio::{self, BackgroundChoice, StudioOptions};
use image::{Rgb, RgbImage};
use rayon::prelude::*;

use crate::common::*;

/// How a cut along one matte compares with the truth in one output frame.
#[derive(Debug, Clone, Copy)]
struct CutScore {
    /// Mean |alpha - truth| within 4 px of the true outline.
    edge_error: f64,
    /// Share of the true background (2 px and more from the outline) whose colour, after the
    /// background is replaced by flat blue, is more than 8 levels off that blue.
    remnant: f64,
}

/// Renders `plan` of `pasted` over flat blue with `matte` and scores it against `truth` (0..1
/// alpha per pixel of `pasted`).
fn score_cut(
    pasted: &RgbImage,
    truth: &[f32],
    matte: &PersonMatte,
    scale: f32,
    face: Rect,
    plan: &CropPlan,
) -> CutScore {
    let blue = [50u8, 96, 160];
    let src = render::Source { pixels: pasted, alpha: None, matte, matte_scale: scale, face };
    let cut = render::render(&src, plan, Background::Colour(blue), Corrections::default());
    let (w, h) = pasted.dimensions();
    let truth_img = RgbImage::from_fn(w, h, |x, y| Rgb([(truth[(y * w + x) as usize] * 255.0).round() as u8; 3]));
    let (t_out, _) = render::sample_frame(&truth_img, plan);
    let t: Vec<f32> = t_out.pixels().map(|p| f32::from(p[0]) / 255.0).collect();
    let (ow, oh) = (plan.out_w as usize, plan.out_h as usize);
    let person: Vec<bool> = t.iter().map(|&a| a > 0.5).collect();
    let near = |k: usize, r: usize| {
        let (x, y) = (k % ow, k / ow);
        let (x0, x1, y0, y1) = (x.saturating_sub(r), (x + r).min(ow - 1), y.saturating_sub(r), (y + r).min(oh - 1));
        (y0..=y1).any(|yy| (x0..=x1).any(|xx| person[yy * ow + xx] != person[k]))
    };
    let (mut edge, mut edge_n, mut remnant, mut bg_n) = (0f64, 0u64, 0u64, 0u64);
    for k in 0..ow * oh {
        if near(k, 4) {
            edge += f64::from((cut.alpha[k] - t[k]).abs());
            edge_n += 1;
        }
        if !person[k] && t[k] == 0.0 && !near(k, 2) {
            bg_n += 1;
            let p = cut.image.get_pixel((k % ow) as u32, (k / ow) as u32);
            if (0..3).any(|c| p[c].abs_diff(blue[c]) > 8) {
                remnant += 1;
            }
        }
    }
    CutScore { edge_error: edge / edge_n.max(1) as f64, remnant: remnant as f64 / bg_n.max(1) as f64 }
}

/// A studio cut-out with a known soft outline (img13 on white), pasted onto busy scenes: a
/// street, a flag and curtains, a flag and a wall, a crowd at a table. The portrait matting
/// model's cut errs at the edge by less than half what the quick analysis matte's did, and leaves
/// under 0.5 % of the old background behind, in a large output (team-page, 800x1000: the model's
/// full tier) and a small one (linkedin, 400x400: its light tier, `matting::tier_for`).
#[test]
fn the_matting_model_cuts_a_pasted_subject_along_its_true_outline() {
    let img = crate::scene::cutout_at_analysis_size();
    let (w, h) = img.dimensions();
    let hard = crate::scene::cutout_truth(&img);
    let mask = RgbImage::from_fn(w, h, |x, y| if hard[(y * w + x) as usize] { Rgb([255; 3]) } else { Rgb([0; 3]) });
    let truth: Vec<f32> = blur(&mask, 1.0).pixels().map(|p| f32::from(p[0]) / 255.0).collect();
    let uses = ["team-page", "linkedin"].map(|u| Catalogue::built_in().get(u).cloned().expect("use"));
    // Whole scenes, or the part of one beside its own subject (x, y, width, height).
    let scenes: [(&str, Option<[u32; 4]>); 4] = [
        ("ultralytics/bus.jpg", None),
        ("face_recognition/obama.jpg", Some([0, 0, 330, 700])),
        ("grace_hopper/grace_hopper.jpg", Some([0, 0, 150, 330])),
        ("dlib_faces/2008_002470.jpg", None),
    ];
    for (scene, part) in scenes {
        let full = pixels(&shared(scene));
        let full = match part {
            Some([x, y, pw, ph]) => image::imageops::crop_imm(&full, x, y, pw, ph).to_image(),
            None => full,
        };
        let bg = image::imageops::resize(&full, w, h, image::imageops::FilterType::Triangle);
        let pasted = RgbImage::from_fn(w, h, |x, y| {
            let a = truth[(y * w + x) as usize];
            let (f, b) = (img.get_pixel(x, y), bg.get_pixel(x, y));
            Rgb([0, 1, 2].map(|c| (f32::from(f[c]) * a + f32::from(b[c]) * (1.0 - a)).round() as u8))
        });
        let a = analyze_image("pasted.png", &pasted);
        let face = a.scene.faces[0].clone();
        let head = studio::head_of(&a, &face);
        let s = a.photo.analysis_scale;
        for u in &uses {
            let p = plan::plan(&head, u, w, h, Canvas::Extendable, None);
            let region = studio::matte_region(&a, &face, &[p.bounds()]);
            let modnet = studio::subject_matte(&a, &face, region, p.scale()).expect("matte");
            let quick = score_cut(&pasted, &truth, &a.matte, s, face.bbox, &p);
            let model = score_cut(&pasted, &truth, &modnet, s, face.bbox, &p);
            eprintln!(
                "{scene}, {}: edge error {:.3} -> {:.3}, remnant {:.2} % -> {:.2} %",
                u.name,
                quick.edge_error,
                model.edge_error,
                100.0 * quick.remnant,
                100.0 * model.remnant
            );
            assert!(model.edge_error <= 0.5 * quick.edge_error, "{scene}, {}: {quick:?} -> {model:?}", u.name);
            assert!(model.remnant < 0.005, "{scene}, {}: {model:?}", u.name);
        }
    }
}

/// The bundled photos with their backgrounds replaced by the studio backdrop, in every headshot
/// frame and a wide one: where a person marked the old background as surely background, beside
/// and above the subject, the output shows the backdrop and nothing of the old scene. Made three
/// times: with large outputs among them (the matting model's full tier, over all their frames),
/// for LinkedIn alone (its light tier, over a tight frame), and for two tight squares, one large
/// enough for the full tier (a star of the flag above Grace Hopper's cap once stayed there).
#[test]
fn no_remnant_of_the_old_background_is_left_behind() {
    let text = std::fs::read_to_string(repo().join("tests/reference/background_regions.json")).expect("regions");
    let doc: serde_json::Value = serde_json::from_str(&text).expect("json");
    let regions = doc["regions"].as_object().expect("regions");
    let dir = scratch("remnants");
    let opts = StudioOptions {
        background: BackgroundChoice::Fixed(Background::Studio(STUDIO_GREY)),
        ..StudioOptions::default()
    };
    let mut checked = 0;
    let selections: [&[&str]; 3] =
        [&["linkedin", "team-page", "pr-contact", "speaker-page"], &["linkedin"], &["linkedin", "microsoft-365"]];
    for (selection, (name, boxes)) in selections.iter().flat_map(|s| regions.iter().map(move |r| (s, r))) {
        let analyzer = analyzer_for(selection);
        let a = analyzer.analyze_path(&example(name)).expect("analyse");
        let boxes: Vec<Rect> = boxes
            .as_array()
            .expect("boxes")
            .iter()
            .filter_map(|b| {
                let v: Vec<f32> = b.as_array()?.iter().filter_map(|n| n.as_f64().map(|f| f as f32)).collect();
                (v.len() == 4).then(|| Rect::new(v[0], v[1], v[2], v[3]))
            })
            .collect();
        let sitter = studio::sitter(&a, &analyzer.catalogue, None).expect("subject").expect("a face");
        let made = studio::make_outputs(&a, &analyzer, &opts, &dir, "photo");
        assert!(made.errors.is_empty(), "{name}: {:?}", made.errors);
        for m in &made.made {
            let out = pixels(&dir.join(&m.report.path));
            let p = &m.plan;
            let light = render::studio_light(render::face_in_output(p, sitter.face.bbox));
            for (i, b) in boxes.iter().enumerate() {
                let (mut n, mut off) = (0u64, 0u64);
                for (x, y, px) in out.enumerate_pixels() {
                    if !b.contains(p.to_photo(x as f32 + 0.5, y as f32 + 0.5)) {
                        continue;
                    }
                    n += 1;
                    let want = render::studio_backdrop(p.out_w, p.out_h, light, STUDIO_GREY, x, y);
                    // JPEG at its quality allows a few levels either way.
                    if (0..3).any(|c| (f32::from(px[c]) - want[c]).abs() > 10.0) {
                        off += 1;
                    }
                }
                if n < 50 {
                    continue;
                }
                let share = off as f64 / n as f64;
                eprintln!("{name} {}: region {i}: {off}/{n} px off the backdrop", m.report.use_name);
                assert!(
                    share < 0.005,
                    "{name} {}: region {i} keeps {:.2} % of the old background",
                    m.report.use_name,
                    100.0 * share
                );
                checked += 1;
            }
        }
    }
    assert!(checked >= 30, "only {checked} regions seen in the outputs");
}

/// A face is never cut: every labelled photo of `../shared/photos` with a LinkedIn output, its
/// background replaced by pure green, shows no green in the middle of the subject's face (the
/// middle half of the detector's box, which the cut is not made from: the matte is the
/// matting model's, made solid inside the face mesh's outline). Sunlit skin against bright
/// leaves once read as background there, and a grey hole went through a forehead and an eye.
#[test]
fn no_face_is_cut_by_a_replaced_background() {
    let labels = headshot::eval::read_manifest(&repo().join("../shared/photos/manifest.csv")).expect("manifest");
    let files: Vec<String> = labels.into_iter().map(|l| l.file).collect();
    let analyzer = analyzer_for(&["linkedin"]);
    let checked: Vec<(String, usize, usize)> =
        linkedin_on_green(&analyzer, &files, "faces-whole", |f, a, m, written| {
            let sitter = studio::sitter(a, &analyzer.catalogue, None).ok()??;
            let out = pixels(written);
            let face = render::face_in_output(&m.plan, sitter.face.bbox);
            let middle = Rect::new(face.x + face.w / 4.0, face.y + face.h / 4.0, face.w / 2.0, face.h / 2.0);
            let (mut n, mut cut) = (0, 0);
            for (x, y, p) in out.enumerate_pixels() {
                if !middle.contains(Point::new(x as f32 + 0.5, y as f32 + 0.5)) {
                    continue;
                }
                n += 1;
                // JPEG blurs green into the skin at a cut's edge: a pixel that is more green
                // than anything else by far is the backdrop.
                if i32::from(p[1]) - i32::from(p[0].max(p[2])) > 120 {
                    cut += 1;
                }
            }
            Some((f.to_string(), cut, n))
        });
    for (f, cut, n) in &checked {
        if *cut > 0 {
            eprintln!("{f}: {cut} of {n} px of the middle of the face show the new background");
        }
    }
    assert!(checked.len() >= 40, "only {} LinkedIn outputs made", checked.len());
    let bad: Vec<&(String, usize, usize)> = checked.iter().filter(|(_, cut, n)| *cut * 200 > *n).collect();
    assert!(bad.is_empty(), "faces cut by the new background: {bad:?}");
}

/// A headshot of one person of a group shows that person alone: every labelled group photo of
/// `../shared/photos` with a LinkedIn output, its background replaced, has one face in the
/// output as the face detector reads the file written. People who touch are one piece of the
/// portrait matting model's matte, and 2 of 6 such outputs kept a second face (a child hugging
/// her mother from behind, three friends shoulder to shoulder).
#[test]
fn a_headshot_of_one_person_of_a_group_shows_one_face() {
    let labels = headshot::eval::read_manifest(&repo().join("../shared/photos/manifest.csv")).expect("manifest");
    let groups: Vec<String> = labels.into_iter().filter(|l| l.framing == "group").map(|l| l.file).collect();
    let analyzer = analyzer_for(&["linkedin"]);
    let seen: Vec<(String, usize)> = linkedin_on_green(&analyzer, &groups, "one-face", |f, _, _, written| {
        Some((f.to_string(), analyzer.analyze_path(written).expect("the output reads").scene.faces.len()))
    });
    eprintln!("faces in each group photo's LinkedIn output: {seen:?}");
    assert!(seen.len() >= 5, "only {} outputs", seen.len());
    assert!(seen.iter().all(|(_, n)| *n == 1), "{seen:?}");
}

/// An analyzer that judges and makes the named uses only.
fn analyzer_for(uses: &[&str]) -> headshot::Analyzer {
    let mut catalogue = Catalogue::built_in();
    catalogue.select(&uses.iter().map(|u| u.to_string()).collect::<Vec<_>>());
    headshot::Analyzer { catalogue, ..headshot::Analyzer::default() }
}

/// Each of `files` (in `../shared/photos`) made into its LinkedIn output by `analyzer` (which
/// makes LinkedIn only) with the background replaced by pure green, in parallel, and handed to
/// `check` with its analysis, the output made and the file written; the photos that make no
/// output are left out.
fn linkedin_on_green<T: Send>(
    analyzer: &headshot::Analyzer,
    files: &[String],
    scratch_name: &str,
    check: impl Fn(&str, &headshot::analysis::Analysis, &studio::Made, &std::path::Path) -> Option<T> + Sync,
) -> Vec<T> {
    let opts = StudioOptions {
        background: BackgroundChoice::Fixed(Background::Colour([0, 255, 0])),
        ..StudioOptions::default()
    };
    let dir = scratch(scratch_name);
    files
        .par_iter()
        .filter_map(|f| {
            let a = analyzer.analyze_path(&shared(f)).ok()?;
            let made = studio::make_outputs(&a, analyzer, &opts, &dir, &f.replace(['/', '.'], "_"));
            let m = made.made.first()?;
            check(f, &a, m, &dir.join(&m.report.path))
        })
        .collect()
}
