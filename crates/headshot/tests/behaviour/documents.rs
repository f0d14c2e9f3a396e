//! Passport, visa and ID photos: every preset's rules checked on real photos, before and after
//! rendering; the files' pixel size, DPI and bytes; print sheets made of the photo's own pixels.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use headshot::analysis::Analyzer;
use headshot::core::document::{Check, Rule};
use headshot::core::judge::{Fix, Reason, Status, Verdict};
use headshot::core::report::{OutputReport, SessionReport};
use headshot::core::uses::Catalogue;
use headshot::studio::{self, StudioOptions};
use image::RgbImage;

use crate::common::*;

/// Every document preset, and nothing else.
fn documents() -> &'static Analyzer {
    static A: OnceLock<Analyzer> = OnceLock::new();
    A.get_or_init(|| Analyzer { catalogue: Catalogue::documents(), ..Analyzer::default() })
}

/// A frontal photo with a plain backdrop, eyes to the lens, mouth closed, and room around the
/// head for every format (labelled camera / plain in `../shared/photos`).
const FRONTAL: &str = "deepface/img20.jpg";

/// The studio over the frontal photo with every document preset.
fn frontal_run() -> &'static (PathBuf, SessionReport) {
    static RUN: OnceLock<(PathBuf, SessionReport)> = OnceLock::new();
    RUN.get_or_init(|| {
        let out = scratch("documents-frontal");
        let run = studio::run(documents(), &[shared(FRONTAL)], &StudioOptions::default(), &out, false, |_| {})
            .expect("studio runs");
        assert!(!run.failed, "{:?}", run.session.errors);
        (out, run.session)
    })
}

fn verdict_for<'a>(verdicts: &'a [Verdict], name: &str) -> &'a Verdict {
    verdicts.iter().find(|v| v.use_name == name).unwrap_or_else(|| panic!("no verdict for {name}"))
}

fn check(checks: &[Check], rule: Rule) -> &Check {
    checks.iter().find(|c| c.rule == rule).unwrap_or_else(|| panic!("no {rule:?} check in {checks:?}"))
}

/// JFIF density straight from the file's APP0 segment (units 1 = dots per inch), read here
/// rather than by the program's own reader.
fn jfif_dpi(bytes: &[u8]) -> Option<(u8, u16, u16)> {
    (bytes.get(2..4)? == [0xFF, 0xE0] && bytes.get(6..11)? == b"JFIF\0")
        .then(|| (bytes[13], u16::from_be_bytes([bytes[14], bytes[15]]), u16::from_be_bytes([bytes[16], bytes[17]])))
}

#[test]
fn a_frontal_plain_photo_passes_every_rule_of_every_preset_once_rendered() {
    let (out, session) = frontal_run();
    let photo = &session.photos[0];
    let catalogue = Catalogue::documents();
    let outputs: Vec<&OutputReport> = photo.outputs.iter().collect();
    assert_eq!(outputs.len(), catalogue.uses.len(), "{:?}", photo.verdicts);
    for o in outputs {
        let u = catalogue.get(&o.use_name).expect("a preset");
        let rules = u.document.as_ref().expect("rules");
        let failed: Vec<&Check> = o.checks.iter().filter(|c| !c.pass && !c.warning).collect();
        assert!(failed.is_empty() && o.compliant == Some(true), "{}: {failed:?}", u.name);
        // The rules a render must meet are all among the checks made on the file.
        for rule in [Rule::HeadHeight, Rule::EyeLine, Rule::Centred, Rule::BackgroundColour, Rule::Dpi, Rule::FileSize]
        {
            check(&o.checks, rule);
        }
        // The file: exactly the preset's pixels, its DPI in the JFIF header, bytes in the window.
        let bytes = std::fs::read(out.join(&o.path)).expect("output");
        let img = image::load_from_memory(&bytes).expect("decodes");
        assert_eq!((img.width(), img.height()), (u.width, u.height), "{}", u.name);
        let dpi = u16::try_from(rules.dpi).expect("dpi");
        assert_eq!(jfif_dpi(&bytes), Some((1, dpi, dpi)), "{}", u.name);
        assert!(bytes.len() as u64 >= rules.min_bytes && bytes.len() as u64 <= u.max_bytes, "{}", u.name);
        assert_eq!(bytes.len() as u64, o.bytes);
    }
}

#[test]
fn the_checklist_before_rendering_names_what_a_render_mends() {
    let (_, session) = frontal_run();
    let v = verdict_for(&session.photos[0].verdicts, "passport-schengen");
    // As it stands, the photo is framed for a portrait, not a passport: the head is too small
    // in it; the render crops to the rule.
    assert_eq!(v.status, Status::Fixable, "{v:?}");
    assert!(!check(&v.checks, Rule::HeadHeight).pass && v.reasons.contains(&Reason::FramingOffRule), "{v:?}");
    assert!(v.fixes.contains(&Fix::CropTighter), "{v:?}");
    for rule in [Rule::EyesOpen, Rule::MouthClosed, Rule::Gaze, Rule::Yaw, Rule::SingleFace, Rule::Sharpness] {
        assert!(check(&v.checks, rule).pass, "{rule:?}: {v:?}");
    }
    // The reason carries the measured figure.
    let words = v.reason_words().join("; ");
    assert!(words.contains("allowed 0.711-0.8"), "{words}");
}

fn unsuitable_for(a: &headshot::Analysis, rule: Rule, reason: Reason) {
    for u in &documents().catalogue.uses {
        let v = headshot::core::judge::verdict(&a.scene, u, 0);
        assert_eq!(v.status, Status::Unsuitable, "{}: {v:?}", u.name);
        assert!(v.reasons.contains(&reason), "{}: {:?}", u.name, v.reasons);
        assert!(!check(&v.checks, rule).pass, "{}: {rule:?}", u.name);
    }
}

#[test]
fn a_photo_looking_away_fails_the_gaze_rule() {
    // Eyes turned to the viewer's right, head to the camera (labelled away).
    let a = analyze(&shared("deepface/img17.jpg"));
    unsuitable_for(&a, Rule::Gaze, Reason::LookingAway);
}

#[test]
fn closed_eyes_fail_the_eyes_rule() {
    // The painting of `judgement::eyes_painted_shut_are_closed_and_not_at_the_camera`, on the
    // photo it was made for (its eyes are large enough for the lids to be read).
    let img = pixels(&example("obama.jpg"));
    let before = analyze_image("obama.png", &img);
    let shut = paint_eyes_shut(&img, &before.scene.faces[0]);
    let a = analyze_image("obama-shut.png", &shut);
    unsuitable_for(&a, Rule::EyesOpen, Reason::EyesClosed);
    // Only the eyes changed: the open-eyed photo passes that rule.
    let v = headshot::core::judge::verdict(&before.scene, &documents().catalogue.uses[0], 0);
    assert!(check(&v.checks, Rule::EyesOpen).pass, "{v:?}");
}

#[test]
fn a_head_turned_aside_fails_the_pose_rule() {
    // Looking into the lens with the head turned about 13 degrees (labelled camera).
    let a = analyze(&shared("deepface/img61.jpg"));
    unsuitable_for(&a, Rule::Yaw, Reason::HeadTurned);
}

#[test]
fn two_people_fail_the_single_face_rule() {
    let a = analyze(&example("two_people.jpg"));
    for u in &documents().catalogue.uses {
        let v = headshot::core::judge::subject_verdict(&a.scene, u, headshot::core::judge::Subject::Auto);
        assert_eq!(v.status, Status::Unsuitable, "{}: {v:?}", u.name);
        let c = check(&v.checks, Rule::SingleFace);
        assert!(!c.pass && c.value == 2.0, "{c:?}");
        assert!(v.reasons.contains(&Reason::MultiplePeople), "{v:?}");
    }
}

/// A photo turned 20 degrees in the frame fails the tilt rule as it stands, which a render
/// mends: the output is straight and passes.
#[test]
fn a_photo_turned_20_degrees_is_straightened_to_pass() {
    let img = rotated(&pixels(&shared(FRONTAL)), 20.0);
    let dir = scratch("documents-turned");
    let input = dir.join("turned.png");
    img.save(&input).expect("save");
    let out = dir.join("out");
    let mut catalogue = Catalogue::documents();
    catalogue.select(&["passport-schengen".to_string()]);
    let analyzer = Analyzer { catalogue, ..Analyzer::default() };
    let run = studio::run(&analyzer, &[input], &StudioOptions::default(), &out, false, |_| {}).expect("runs");
    let photo = &run.session.photos[0];
    let v = verdict_for(&photo.verdicts, "passport-schengen");
    let roll = check(&v.checks, Rule::Roll);
    assert!(!roll.pass && (roll.value.abs() - 20.0).abs() < 3.0, "{roll:?}");
    assert!(v.status == Status::Fixable && v.fixes.contains(&Fix::Straighten), "{v:?}");
    let o = photo.outputs.iter().find(|o| o.use_name == "passport-schengen").expect("made");
    assert!((o.straightened_deg.abs() - 20.0).abs() < 3.0, "{o:?}");
    let roll = check(&o.checks, Rule::Roll);
    assert!(roll.pass && roll.value.abs() < 2.5, "{roll:?}");
}

#[test]
fn a_sheets_copies_are_the_photos_own_pixels() {
    let (out, session) = frontal_run();
    for o in &session.photos[0].outputs {
        let u = Catalogue::documents().get(&o.use_name).cloned().expect("preset");
        let rules = u.document.as_ref().expect("rules");
        let Some(sheet) = &o.sheet else {
            assert!(rules.print_mm.is_none(), "{}: a printed document has a sheet", u.name);
            continue;
        };
        let photo = image::open(out.join(&o.path)).expect("photo").to_rgb8();
        let bytes = std::fs::read(out.join(sheet)).expect("sheet");
        assert_eq!(jfif_dpi(&bytes), Some((1, 300, 300)), "{sheet}");
        let sheet_img = image::load_from_memory(&bytes).expect("sheet decodes").to_rgb8();
        // 4 x 6 inches at 300 dpi, either way round.
        let dims = sheet_img.dimensions();
        assert!(dims == (1200, 1800) || dims == (1800, 1200), "{dims:?}");
        let copies = find_copies(&sheet_img, &photo);
        assert!(copies >= 1, "{}: no copy of the photo on its sheet", u.name);
        if u.name == "passport-uk" {
            // 35 x 45 mm: two across and three down on a 4 x 6 inch print.
            assert_eq!(copies, 6, "{}", u.name);
        }
    }
}

/// How many places of `sheet` hold `photo` (to within JPEG's re-encoding: a mean difference
/// under 3 levels), searched on a 1-pixel grid along the rows where copies can start.
fn find_copies(sheet: &RgbImage, photo: &RgbImage) -> usize {
    let (sw, sh) = sheet.dimensions();
    let (pw, ph) = photo.dimensions();
    // A copy's top-left corner: the first non-white pixel scanning across and down, then each
    // candidate compared in full.
    let mut found: Vec<(u32, u32)> = Vec::new();
    let probe = |x: u32, y: u32| {
        let mut sum = 0u64;
        let step = 7;
        let mut n = 0u64;
        for yy in (0..ph).step_by(step) {
            for xx in (0..pw).step_by(step) {
                let (a, b) = (sheet.get_pixel(x + xx, y + yy), photo.get_pixel(xx, yy));
                sum += (0..3).map(|c| u64::from(a[c].abs_diff(b[c]))).sum::<u64>();
                n += 3;
            }
        }
        sum as f64 / n as f64
    };
    for y in 0..sh.saturating_sub(ph) {
        for x in 0..sw.saturating_sub(pw) {
            if found.iter().any(|&(fx, fy)| x.abs_diff(fx) < pw && y.abs_diff(fy) < ph) {
                continue;
            }
            // Cheap rejection on the corner pixel before the full comparison.
            let (a, b) = (sheet.get_pixel(x, y), photo.get_pixel(0, 0));
            if (0..3).any(|c| a[c].abs_diff(b[c]) > 12) {
                continue;
            }
            if probe(x, y) < 3.0 {
                found.push((x, y));
            }
        }
    }
    found.len()
}

#[test]
fn custom_sizes_and_presets_come_from_the_catalogue() {
    let mut c = Catalogue::full();
    let unknown = c.select(&["id-35x45mm".into(), "id-2x2in-600dpi".into(), "passport-us".into(), "id-0x0mm".into()]);
    assert_eq!(unknown, vec!["id-0x0mm".to_string()]);
    let size = |n: &str| c.get(n).map(|u| (u.width, u.height));
    assert_eq!(size("id-35x45mm"), Some((413, 531)));
    assert_eq!(size("id-2x2in-600dpi"), Some((1200, 1200)));
    // Every preset cites a source beside every number.
    for u in Catalogue::documents().uses {
        let s = &u.document.as_ref().expect("rules").sources;
        for (what, text) in [
            ("size", &s.size),
            ("head height", &s.head_height),
            ("eye line", &s.eye_line),
            ("background", &s.background),
            ("glasses", &s.glasses),
            ("inter-eye", &s.inter_eye),
        ] {
            assert!(text.len() > 20, "{}: no source for the {what}", u.name);
        }
    }
    // Document photos are made only when asked for.
    assert!(Catalogue::built_in().uses.iter().all(|u| u.document.is_none()));
}

#[test]
fn the_cli_lists_documents_and_makes_one_with_its_sheet() {
    let exe = Path::new(env!("CARGO_BIN_EXE_headshot"));
    let listed = std::process::Command::new(exe).args(["uses", "--kind", "document"]).output().expect("runs");
    let text = String::from_utf8_lossy(&listed.stdout);
    assert!(listed.status.success() && text.contains("passport-us") && text.contains("35 x 45 mm"), "{text}");
    let out = scratch("documents-cli");
    let made = std::process::Command::new(exe)
        .args(["studio", "--uses", "passport-uk", "--sheet", "a4", "--out"])
        .arg(&out)
        .arg(shared(FRONTAL))
        .output()
        .expect("runs");
    assert!(made.status.success(), "{}", String::from_utf8_lossy(&made.stderr));
    let sheet = out.join("img20/passport-uk-sheet-a4.jpg");
    let img = image::open(&sheet).expect("an A4 sheet");
    assert_eq!((img.width(), img.height()), (2480, 3508));
}
