//! Framing of every output: whole heads, no pixels enlarged past a use's limit without saying
//! so, wide formats composed. (Every output of the bundled and labelled photos is also checked
//! by OpenCV's detector in CI: `tests/outputs/check_outputs.py`.)

use headshot::core::judge::{Reason, Status};
use headshot::core::report::SessionReport;
use headshot::core::uses::Catalogue;
use headshot::studio::{self, StudioOptions};
use image::imageops::{self, FilterType};

use crate::common::*;

fn studio_on(name: &str, img: &image::RgbImage, opts: &StudioOptions) -> (std::path::PathBuf, SessionReport) {
    let dir = scratch(name);
    let input = dir.join("in").join(format!("{name}.png"));
    std::fs::create_dir_all(input.parent().expect("parent")).expect("mkdir");
    img.save(&input).expect("save");
    let out = dir.join("out");
    let run = studio::run(analyzer(), &[input], opts, &out, false, |_| {}).expect("studio runs");
    (out, run.session)
}

/// The same photo at a third of its size has a third of the pixels at the face: the large
/// portrait uses it served become unsuitable for want of pixels, with the enlargement in the
/// words; asked to, the studio makes them at the largest size the pixels allow instead.
#[test]
fn a_small_photo_is_not_enlarged_past_a_uses_limit_unless_asked() {
    let full = pixels(&example("obama.jpg"));
    let small = imageops::resize(&full, full.width() / 3, full.height() / 3, FilterType::Lanczos3);
    let catalogue = Catalogue::built_in();

    let (_, session) = studio_on("framing-small", &small, &StudioOptions::default());
    let photo = &session.photos[0];
    let speaker = photo.verdicts.iter().find(|v| v.use_name == "speaker-page").expect("verdict");
    assert_eq!(speaker.status, Status::Unsuitable, "{speaker:?}");
    assert!(speaker.reasons.contains(&Reason::LowResolution), "{speaker:?}");
    let limit = catalogue.get("speaker-page").expect("use").max_enlarge();
    assert!(speaker.enlarge.is_some_and(|e| e > limit), "{speaker:?}");
    assert!(speaker.reason_words().iter().any(|w| w.contains("would enlarge")), "{:?}", speaker.reason_words());
    for o in &photo.outputs {
        let u = catalogue.get(&o.use_name).expect("use");
        assert!(o.enlarge <= u.max_enlarge() * 1.01, "{}: enlarged {}x", o.path, o.enlarge);
    }

    let opts = StudioOptions { smaller_if_needed: true, ..StudioOptions::default() };
    let (out, session) = studio_on("framing-small-asked", &small, &opts);
    let photo = &session.photos[0];
    let o = photo.outputs.iter().find(|o| o.use_name == "speaker-page").expect("made smaller");
    assert_eq!(o.reduced_from, Some([1920, 1080]));
    let img = image::open(out.join(&o.path)).expect("decodes");
    assert_eq!((img.width(), img.height()), (o.width, o.height));
    assert!(o.width < 1920 && (o.width as f32 / o.height as f32 - 16.0 / 9.0).abs() < 0.01, "{o:?}");
    assert!(o.enlarge <= limit * 1.01, "{o:?}");
}

/// A photo cropped to the head and shoulders (the shoulders run into both sides) has no room
/// for a banner: none is made that cuts the head or shows a body ending in a hard line; the
/// square avatars are still made.
#[test]
fn a_tight_photo_makes_no_wide_output_that_cuts_the_head() {
    let full = pixels(&example("obama.jpg"));
    let a = analyze(&example("obama.jpg"));
    let f = a.scene.faces[0].bbox;
    let (x, y) = ((f.x - 0.35 * f.w).max(0.0) as u32, (f.y - 0.6 * f.h).max(0.0) as u32);
    let (w, h) = ((1.7 * f.w) as u32, (2.2 * f.h) as u32);
    let tight = imageops::crop_imm(&full, x, y, w.min(full.width() - x), h.min(full.height() - y)).to_image();
    let (_, session) = studio_on("framing-tight", &tight, &StudioOptions::default());
    let photo = &session.photos[0];
    for name in ["linkedin-banner", "speaker-page", "personal-branding", "creative-site"] {
        let v = photo.verdicts.iter().find(|v| v.use_name == name).expect("verdict");
        assert_eq!(v.status, Status::Unsuitable, "{name}: {v:?}");
        assert!(!photo.outputs.iter().any(|o| o.use_name == name), "{name} made");
    }
    assert!(photo.outputs.iter().any(|o| o.use_name == "linkedin"), "{:?}", photo.verdicts);
}

/// Wide formats put the person on a third, eyes on the upper third, and the banner keeps the
/// head clear of the profile circle on its left.
#[test]
fn wide_formats_put_the_person_on_a_third() {
    let (_, session) = studio_on("framing-wide", &pixels(&example("obama.jpg")), &StudioOptions::default());
    let photo = &session.photos[0];
    let banner = photo.outputs.iter().find(|o| o.use_name == "linkedin-banner").expect("banner made");
    assert!((banner.eye_line - 0.38).abs() < 0.03, "{banner:?}");
    let catalogue = Catalogue::built_in();
    for o in &photo.outputs {
        let u = catalogue.get(&o.use_name).expect("use");
        let c = u.composition();
        if u.aspect() > 1.2
            && matches!(o.fit, headshot::core::plan::Fit::AsPlanned | headshot::core::plan::Fit::ExtendedCanvas)
        {
            assert!((o.eye_line - c.eye_line).abs() < 0.03, "{}: eye line {} for {}", o.path, o.eye_line, c.eye_line);
        }
    }
}
