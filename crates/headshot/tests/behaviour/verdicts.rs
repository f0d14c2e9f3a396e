//! Verdicts per use on real photos: the classic failures caught by name, and the fixes offered.

use headshot::core::judge::{Fix, Reason, Status, Verdict};
use headshot::core::report::{Report, SessionReport};
use headshot::core::uses::Catalogue;

use crate::common::*;

fn verdict<'a>(v: &'a [Verdict], use_name: &str) -> &'a Verdict {
    v.iter().find(|v| v.use_name == use_name).unwrap_or_else(|| panic!("no verdict for {use_name}"))
}

#[test]
fn the_astronaut_needs_a_tighter_crop_and_a_new_background_for_linkedin_and_is_too_small_for_an_author_bio() {
    let a = analyze(&example("astronaut.png"));
    let li = verdict(&a.judgement.verdicts, "linkedin");
    assert_eq!(li.status, Status::Fixable, "{li:?}");
    assert!(li.fixes.contains(&Fix::CropTighter) && li.fixes.contains(&Fix::ReplaceBackground), "{li:?}");
    assert!(li.reasons.contains(&Reason::BusyBackground));
    // A 512 px photo would be enlarged about 4x for a 1600x2000 author bio: a half-body
    // portrait otherwise, but not one to hand over at that size.
    let bio = verdict(&a.judgement.verdicts, "author-bio");
    assert_eq!(bio.status, Status::Unsuitable, "{bio:?}");
    assert!(bio.reasons.contains(&Reason::LowResolution) && bio.enlarge.is_some_and(|e| e > 3.0), "{bio:?}");
}

#[test]
fn the_man_at_the_camera_is_unsuitable_for_linkedin_because_he_looks_away() {
    let a = analyze(&example("camera.png"));
    let li = verdict(&a.judgement.verdicts, "linkedin");
    assert_eq!(li.status, Status::Unsuitable);
    assert!(li.reasons.contains(&Reason::LookingAway), "{li:?}");
    // A portrait may look aside.
    assert!(!verdict(&a.judgement.verdicts, "author-bio").reasons.contains(&Reason::LookingAway));
}

#[test]
fn the_small_faces_of_a_street_scene_are_too_small_at_thumbnail_size() {
    let a = analyze(&shared("ultralytics/bus.jpg"));
    let li = verdict(&a.judgement.verdicts, "linkedin");
    assert_eq!(li.status, Status::Unsuitable);
    assert!(li.reasons.contains(&Reason::FaceTooSmallAtThumbnail), "{li:?}");
}

#[test]
fn a_photo_without_a_person_is_unsuitable_everywhere() {
    let a = analyze(&shared("mtcnn/no-faces.jpg"));
    assert!(!a.judgement.verdicts.is_empty());
    for v in &a.judgement.verdicts {
        assert_eq!(v.status, Status::Unsuitable, "{}", v.use_name);
        assert_eq!(v.reasons, vec![Reason::NoFace], "{}", v.use_name);
    }
}

#[test]
fn two_subjects_ask_for_one_to_be_picked() {
    let a = analyze(&example("obama_and_biden.jpg"));
    let li = verdict(&a.judgement.verdicts, "linkedin");
    assert!(li.reasons.contains(&Reason::MultiplePeople), "{li:?}");
    assert!(li.fixes.contains(&Fix::PickPrimarySubject));
}

#[test]
fn a_blurred_copy_is_caught_as_not_sharp() {
    let img = pixels(&example("grace_hopper.jpg"));
    let sharp = analyze_image("grace_hopper.png", &img);
    assert!(sharp.judgement.sharp);
    assert!(!verdict(&sharp.judgement.verdicts, "linkedin").reasons.contains(&Reason::FaceNotSharp));
    let blurred = analyze_image("grace_hopper-blurred.png", &blur(&img, 4.0));
    assert!(!blurred.judgement.sharp);
    let li = verdict(&blurred.judgement.verdicts, "linkedin");
    assert_eq!(li.status, Status::Unsuitable);
    assert!(li.reasons.contains(&Reason::FaceNotSharp), "{li:?}");
}

/// Grace Hopper cut out and put on a flat grey, cropped to head and shoulders: what kept her
/// photo from LinkedIn (the flag behind her, the chest-up frame) is gone, so nothing but the
/// slight tilt of her head can be left; turned straight by the tilt the verdict reads, she is
/// ready. Each step's expected change is known from the step, not from the photo.
#[test]
fn a_clean_tight_headshot_is_ready_for_linkedin() {
    let img = pixels(&example("grace_hopper.jpg"));
    let a = analyze_image("grace_hopper.png", &img);
    let flat = image::RgbImage::from_fn(img.width(), img.height(), |x, y| {
        let m = a.matte.get(x, y);
        let p = img.get_pixel(x, y);
        image::Rgb([0, 1, 2].map(|c| (f32::from(p[c]) * m + 150.0 * (1.0 - m)).round() as u8))
    });
    // Face box ~(180, 123, 178, 214): chest-up crop.
    let crop = image::imageops::crop_imm(&flat, 60, 40, 420, 470).to_image();
    let c = analyze_image("grace-headshot.png", &crop);
    let li = verdict(&c.judgement.verdicts, "linkedin");
    assert!(li.status != Status::Unsuitable && li.reasons.iter().all(|r| *r == Reason::TiltedHead), "{li:?}");
    let roll = c.scene.faces[0].details.as_ref().map_or(0.0, |d| d.pose.roll_deg);
    // Turning the photo by -roll levels the eyes (rotated() turns clockwise by its angle).
    let level = analyze_image("grace-level.png", &rotated(&crop, -roll));
    let li = verdict(&level.judgement.verdicts, "linkedin");
    assert_eq!(li.status, Status::Ready, "{li:?} after turning by {roll:.2} deg, {:?}", level.scene.framing());
}

#[test]
fn a_custom_catalogue_adds_a_use_to_every_report() {
    let text = r#"
[[use]]
name = "conference-badge"
kind = "headshot"
width = 300
height = 400
circle = false
display_px = 150
min_source_px = 300
max_bytes = 200_000
format = "jpeg"
source = "the organisers' mail"
"#;
    let extra = Catalogue::parse("badge.toml", text).expect("parse");
    let mut c = Catalogue::built_in();
    let before = c.uses.len();
    c.uses.extend(extra.uses);
    assert_eq!(c.uses.len(), before + 1);
    let analyzer = headshot::Analyzer { catalogue: c, ..headshot::Analyzer::default() };
    for name in ["grace_hopper.jpg", "camera.png"] {
        let a = analyzer.analyze_path(&example(name)).expect("analyse");
        assert!(a.judgement.verdicts.iter().any(|v| v.use_name == "conference-badge"), "{name}");
        assert_eq!(a.judgement.verdicts.len(), before + 1);
    }
}

#[test]
fn the_best_photo_per_use_is_a_sensible_one() {
    let reports: Vec<Report> = ["astronaut.png", "camera.png", "grace_hopper.jpg", "obama.jpg", "obama_and_biden.jpg"]
        .iter()
        .map(|n| analyze(&example(n)).report)
        .collect();
    let s = SessionReport::new(reports, Vec::new());
    let pick = |u: &str| s.best.iter().find(|b| b.use_name == u).and_then(|b| b.path.clone()).unwrap_or_default();
    // One person, looking at the lens, enough pixels for the face: not the man at the camera,
    // not the pair on stage.
    let li = pick("linkedin");
    assert!(li.ends_with("grace_hopper.jpg") || li.ends_with("obama.jpg"), "linkedin: {li}");
    // None of these has the pixels for a 1600x2000 author bio; a 16:9 speaker page comes from
    // one of the large photos, not the 512 px ones.
    assert!(pick("author-bio").is_empty(), "author-bio: {}", pick("author-bio"));
    let speaker = pick("speaker-page");
    assert!(speaker.ends_with("obama.jpg") || speaker.ends_with("obama_and_biden.jpg"), "speaker-page: {speaker}");
}
