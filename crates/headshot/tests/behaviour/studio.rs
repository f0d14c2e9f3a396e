//! The studio: outputs at their uses' exact sizes and limits, composed as planned, backgrounds
//! replaced without halos, teams framed alike, and files written atomically.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use headshot::core::Point;
use headshot::core::judge::Status;
use headshot::core::plan::{self, Canvas, Fit};
use headshot::core::render::{self, Background, Corrections};
use headshot::core::report::SessionReport;
use headshot::core::uses::{Catalogue, UseKind};
use headshot::studio::{self, BackgroundChoice, StudioOptions};
use image::{Rgb, RgbImage};

use crate::common::*;

/// One studio run over the bundled examples with the defaults, shared by the tests that only
/// read its outputs.
fn examples_run() -> &'static (PathBuf, SessionReport) {
    static RUN: OnceLock<(PathBuf, SessionReport)> = OnceLock::new();
    RUN.get_or_init(|| {
        let out = scratch("studio-examples");
        let run = studio::run(analyzer(), &[repo().join("examples")], &StudioOptions::default(), &out, false, |_| {})
            .expect("studio runs");
        assert!(!run.failed, "{:?}", run.session.errors);
        (out, run.session)
    })
}

#[test]
fn every_output_has_its_uses_exact_size_format_and_byte_limit() {
    let (out, session) = examples_run();
    let catalogue = Catalogue::built_in();
    let mut n = 0;
    for photo in &session.photos {
        // One output per use the photo is ready or fixable for.
        let wanted: Vec<&str> =
            photo.verdicts.iter().filter(|v| v.status != Status::Unsuitable).map(|v| v.use_name.as_str()).collect();
        let made: Vec<&str> = photo.outputs.iter().map(|o| o.use_name.as_str()).collect();
        assert_eq!(made, wanted, "{}: {:?}", photo.path, photo.output_errors);
        for o in &photo.outputs {
            let u = catalogue.get(&o.use_name).expect("known use");
            let bytes = std::fs::read(out.join(&o.path)).expect("output exists");
            assert_eq!(bytes.len() as u64, o.bytes);
            assert!(o.bytes <= u.max_bytes, "{}: {} bytes over {}", o.path, o.bytes, u.max_bytes);
            let img = image::load_from_memory(&bytes).expect("decodes");
            assert_eq!((img.width(), img.height()), (u.width, u.height), "{}", o.path);
            assert_eq!((o.width, o.height), (u.width, u.height));
            assert!(bytes.starts_with(&[0xFF, 0xD8]), "{} is a JPEG", o.path);
            // sRGB-tagged; no EXIF block (camera, location) carried over.
            assert!(bytes.windows(11).any(|w| w == b"ICC_PROFILE"), "{} has no ICC profile", o.path);
            assert!(!bytes.windows(6).any(|w| w == b"Exif\0\0"), "{} carries EXIF", o.path);
            n += 1;
        }
    }
    // (Outputs a photo lacks the pixels or the room for are not made: 53 of 114 uses.)
    assert!(n > 45, "only {n} outputs");
    // The report on disk is the session, and the gallery shows every output.
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("report.json")).expect("report")).expect("json");
    assert_eq!(json["photos"].as_array().map(Vec::len), Some(session.photos.len()));
    let html = std::fs::read_to_string(out.join("index.html")).expect("gallery");
    for o in session.photos.iter().flat_map(|p| &p.outputs) {
        assert!(html.contains(&o.path), "gallery lacks {}", o.path);
    }
    assert!(image::open(out.join("contact-sheet.jpg")).is_ok());
    // The report reads back as what was written (a re-run takes finished photos' reports from
    // their records this way).
    let text = std::fs::read_to_string(out.join("report.json")).expect("report");
    let back: SessionReport = serde_json::from_str(&text).expect("report.json reads back");
    let again = |r: &SessionReport| serde_json::to_string(r).expect("serialises");
    assert_eq!(again(&back), again(session));
}

/// Eye midpoint of the primary face found in an image file, as shares of its size, and the
/// re-analysis.
fn eyes_in(path: &Path) -> (Point, headshot::Analysis) {
    let a = analyze(path);
    let f = a.scene.faces.first().unwrap_or_else(|| panic!("no face in {}", path.display()));
    let e = f.landmarks.eye_mid();
    (Point::new(e.x / a.photo.width() as f32, e.y / a.photo.height() as f32), a)
}

#[test]
fn headshots_put_the_eye_line_on_target_and_keep_the_hair_inside() {
    let (out, session) = examples_run();
    let catalogue = Catalogue::built_in();
    let mut checked = 0;
    for photo in session.photos.iter().filter(|p| p.people == 1) {
        for o in &photo.outputs {
            let u = catalogue.get(&o.use_name).expect("known use");
            if u.kind != UseKind::Headshot || !matches!(o.fit, Fit::AsPlanned | Fit::ExtendedCanvas) {
                continue;
            }
            let (eyes, a) = eyes_in(&out.join(&o.path));
            let target = u.composition().eye_line;
            assert!((eyes.y - target).abs() < 0.03, "{}: eye line at {:.3}, target {target}", o.path, eyes.y);
            // The hair top, from the output's own matte, is inside the frame with room.
            let f = &a.scene.faces[0];
            let s = a.photo.analysis_scale;
            let top = a.matte.head_top(f.bbox.x / s, f.bbox.right() / s, f.landmarks.eye_mid().y / s);
            let top = top.map_or(0.0, |t| t * s / a.photo.height() as f32);
            assert!(top > 0.04, "{}: hair top at {top:.3} of the height", o.path);
            checked += 1;
        }
    }
    assert!(checked >= 15, "only {checked} headshots checked");
}

#[test]
fn a_tilted_head_comes_out_straight() {
    let dir = scratch("studio-tilt");
    let img = rotated(&pixels(&example("obama.jpg")), 9.0);
    let input = dir.join("tilted.png");
    img.save(&input).expect("save");
    let roll_of = |a: &headshot::Analysis| a.scene.faces[0].details.as_ref().map_or(99.0, |d| d.pose.roll_deg);
    let before = analyze(&input);
    let roll = roll_of(&before);
    // Known truth: the fixture is the photo turned by 9 degrees, so the roll to take out is 9
    // degrees plus the head's own roll in the photo, both read on the full-size face.
    let own = roll_of(&analyze(&example("obama.jpg")));
    eprintln!("own roll {own:.2}, turned by 9: read {roll:.2}");
    assert!((roll - (9.0 + own)).abs() < 1.0, "roll read {roll}, truth {}", 9.0 + own);

    let out = dir.join("out");
    let opts = StudioOptions {
        background: BackgroundChoice::Fixed(Background::Studio(render::STUDIO_GREY)),
        ..Default::default()
    };
    let mut analyzer = headshot::Analyzer::default();
    analyzer.catalogue.select(&["linkedin".into(), "team-page".into()]);
    let run = studio::run(&analyzer, &[input], &opts, &out, false, |_| {}).expect("runs");
    for o in &run.session.photos[0].outputs {
        assert!((o.straightened_deg - roll).abs() < 0.01, "{o:?}");
        let a = analyze(&out.join(&o.path));
        let after = roll_of(&a);
        eprintln!("{}: roll {roll:.2} -> {after:.2} degrees", o.use_name);
        // Read again on the output the roll is near nought; one pixel of landmark noise on a small
        // output's ~50 px inter-eye distance is about a degree, so here 1.5 degrees is "straight".
        assert!(after.abs() < 1.5, "{}: roll after straightening {after}", o.use_name);
    }
}

/// Pixels of `alpha` (one per output pixel) farther than `r` px from any pixel the subject
/// shows in at all (alpha above 0: a trace of a tenth of a per cent of the photo can still tip
/// a level's rounding).
fn far_from_subject(alpha: &[f32], w: u32, h: u32, r: i32) -> Vec<bool> {
    let subject: Vec<bool> = alpha.iter().map(|&a| a > 0.0).collect();
    let d = distance_to(&subject, w, h, r as u32 + 1);
    d.iter().map(|&d| d > r as u32).collect()
}

/// 4-connected distance (in steps, capped at `cap`) from each pixel to the nearest `true` one.
fn distance_to(set: &[bool], w: u32, h: u32, cap: u32) -> Vec<u32> {
    let mut dist = vec![cap; set.len()];
    let mut queue = std::collections::VecDeque::new();
    for (k, &s) in set.iter().enumerate() {
        if s {
            dist[k] = 0;
            queue.push_back(k);
        }
    }
    while let Some(k) = queue.pop_front() {
        let d = dist[k] + 1;
        if d >= cap {
            continue;
        }
        let (x, y) = ((k as u32 % w), (k as u32 / w));
        let mut visit = |n: usize| {
            if dist[n] > d {
                dist[n] = d;
                queue.push_back(n);
            }
        };
        if x > 0 {
            visit(k - 1);
        }
        if x + 1 < w {
            visit(k + 1);
        }
        if y > 0 {
            visit(k - w as usize);
        }
        if y + 1 < h {
            visit(k + w as usize);
        }
    }
    dist
}

#[test]
fn a_replaced_background_is_exactly_the_colour_or_gradient_asked_for() {
    let a = analyze(&example("biden.jpg"));
    let face = &a.scene.faces[0];
    let head = studio::head_of(&a, face);
    let u = Catalogue::built_in().get("linkedin").cloned().expect("use");
    let p = plan::plan(&head, &u, a.photo.width(), a.photo.height(), Canvas::Extendable, None);
    let src = whole_matte_source(&a, face);
    let colour = [40, 90, 160];
    let light = render::studio_light(render::face_in_output(&p, face.bbox));
    for bg in [Background::Colour(colour), Background::Studio(colour)] {
        let r = render::render(&src, &p, bg, Corrections::default());
        let far = far_from_subject(&r.alpha, p.out_w, p.out_h, 6);
        let mut n = 0;
        for (k, px) in r.image.pixels().enumerate() {
            if !far[k] {
                continue;
            }
            let (x, y) = (k as u32 % p.out_w, k as u32 / p.out_w);
            let want = match bg {
                Background::Studio(c) => {
                    render::studio_backdrop(p.out_w, p.out_h, light, c, x, y).map(|v| v.round() as u8)
                }
                _ => colour,
            };
            assert_eq!(px.0, want, "{bg}: pixel ({x}, {y})");
            n += 1;
        }
        // Most of a headshot frame around a busy scene is background.
        assert!(n as f32 > 0.3 * (p.out_w * p.out_h) as f32, "{bg}: only {n} background pixels");
    }
}

/// What rendering needs from an analysis, with the photo's whole person matte.
fn whole_matte_source<'a>(a: &'a headshot::Analysis, face: &headshot_core::face::Face) -> render::Source<'a> {
    render::Source {
        pixels: &a.photo.pixels,
        alpha: None,
        matte: &a.matte,
        matte_scale: a.photo.analysis_scale,
        face: face.bbox,
    }
}

#[test]
fn a_pasted_subject_recut_onto_colour_has_no_halo() {
    // Truth: a studio cut-out (hard-edged silhouette, as in the matte test) pasted on a busy
    // street; re-cut by the studio onto flat blue, it should match the silhouette on blue.
    let img = crate::scene::cutout_at_analysis_size();
    let (w, h) = img.dimensions();
    let hard = crate::scene::cutout_truth(&img);
    // A soft truth: the silhouette's edge spread over ~2 px, like a real edge in focus.
    let mask = RgbImage::from_fn(w, h, |x, y| if hard[(y * w + x) as usize] { Rgb([255; 3]) } else { Rgb([0; 3]) });
    let soft = blur(&mask, 1.0);
    // The cut-out's own rim, and the pixels just outside it the soft edge reaches, still hold
    // its old white studio backdrop: the subject's true colours there are those just inside
    // (each such pixel takes the mean of the subject pixels at least 4 px in, within 6 px).
    let outside: Vec<bool> = hard.iter().map(|t| !t).collect();
    let depth = distance_to(&outside, w, h, 10);
    let img = RgbImage::from_fn(w, h, |x, y| {
        let k = (y * w + x) as usize;
        if depth[k] >= 4 || soft.get_pixel(x, y)[0] == 0 {
            return *img.get_pixel(x, y);
        }
        let (mut sum, mut n) = ([0u32; 3], 0u32);
        for yy in y.saturating_sub(6)..(y + 7).min(h) {
            for xx in x.saturating_sub(6)..(x + 7).min(w) {
                if depth[(yy * w + xx) as usize] >= 4 {
                    let p = img.get_pixel(xx, yy);
                    (0..3).for_each(|c| sum[c] += u32::from(p[c]));
                    n += 1;
                }
            }
        }
        if n == 0 { *img.get_pixel(x, y) } else { Rgb(sum.map(|v| (v / n) as u8)) }
    });
    let truth: Vec<f32> = soft.pixels().map(|p| f32::from(p[0]) / 255.0).collect();
    let bus = pixels(&shared("ultralytics/bus.jpg"));
    let bg = image::imageops::resize(&bus, w, h, image::imageops::FilterType::Triangle);
    let blue = [50u8, 96, 160];
    let paste = |under: &dyn Fn(u32, u32) -> Rgb<u8>| {
        RgbImage::from_fn(w, h, |x, y| {
            let a = truth[(y * w + x) as usize];
            let (f, b) = (img.get_pixel(x, y), under(x, y));
            Rgb([0, 1, 2].map(|c| (f32::from(f[c]) * a + f32::from(b[c]) * (1.0 - a)).round() as u8))
        })
    };
    let pasted = paste(&|x, y| *bg.get_pixel(x, y));
    let on_blue = paste(&|_, _| Rgb(blue));

    let a = analyze_image("pasted.png", &pasted);
    let face = &a.scene.faces[0];
    let head = studio::head_of(&a, face);
    let u = Catalogue::built_in().get("team-page").cloned().expect("use");
    let p = plan::plan(&head, &u, w, h, Canvas::Extendable, None);
    // The matte the studio cuts with: the portrait matting model's, over the person.
    let region = headshot::vision::segment::person_region(w, h, &[face]);
    let matte = studio::subject_matte(&a, face, region, p.scale()).expect("matte");
    let src = render::Source { matte: &matte, ..whole_matte_source(&a, face) };
    let recut = render::render(&src, &p, Background::Colour(blue), Corrections::default());
    let got = recut.image;
    let (want, _) = render::sample_frame(&on_blue, &p);
    if let Ok(dir) = std::env::var("HEADSHOT_TEST_DUMP") {
        let _ = got.save(format!("{dir}/recut-got.png"));
        let _ = want.save(format!("{dir}/recut-want.png"));
    }
    // The naive cut: the same matte, but the photo's own colours at the edge.
    let naive = {
        let (frame, _) = render::sample_frame(&pasted, &p);
        RgbImage::from_fn(p.out_w, p.out_h, |x, y| {
            let al = recut.alpha[(y * p.out_w + x) as usize];
            let f = frame.get_pixel(x, y);
            Rgb([0, 1, 2].map(|c| (f32::from(f[c]) * al + f32::from(blue[c]) * (1.0 - al)).round() as u8))
        })
    };

    // Bands by distance to the truth's outline, inside (negative) and outside (positive).
    let (ow, oh) = (p.out_w, p.out_h);
    let (mask_out, _) = render::sample_frame(&soft, &p);
    let inside: Vec<bool> = mask_out.pixels().map(|px| px[0] > 127).collect();
    let outside: Vec<bool> = inside.iter().map(|i| !i).collect();
    let to_in = distance_to(&inside, ow, oh, 8);
    let to_out = distance_to(&outside, ow, oh, 8);
    let lum = |p: &Rgb<u8>| 0.2126 * f32::from(p[0]) + 0.7152 * f32::from(p[1]) + 0.0722 * f32::from(p[2]);
    let mut rings = [(0f64, 0f64, 0u64); 13]; // signed distance -6..=6: (signed lum error, abs colour error, n)
    let mut naive_err = (0f64, 0u64);
    for k in 0..(ow * oh) as usize {
        let d: i32 = if inside[k] { -(to_out[k] as i32) + 1 } else { to_in[k] as i32 };
        if d.abs() > 6 {
            continue;
        }
        let (x, y) = (k as u32 % ow, k as u32 / ow);
        let (g, t, nv) = (got.get_pixel(x, y), want.get_pixel(x, y), naive.get_pixel(x, y));
        let ring = &mut rings[(d + 6) as usize];
        ring.0 += f64::from(lum(g) - lum(t));
        ring.1 += (0..3).map(|c| f64::from(g[c].abs_diff(t[c]))).sum::<f64>() / 3.0;
        ring.2 += 1;
        if d.abs() <= 4 {
            naive_err.0 += (0..3).map(|c| f64::from(nv[c].abs_diff(t[c]))).sum::<f64>() / 3.0;
            naive_err.1 += 1;
        }
    }
    let band: (f64, u64) = rings[2..11].iter().fold((0.0, 0), |acc, r| (acc.0 + r.1, acc.1 + r.2));
    let band_err = band.0 / band.1.max(1) as f64;
    let naive = naive_err.0 / naive_err.1.max(1) as f64;
    let profile: Vec<String> = rings.iter().map(|r| format!("{:+.1}", r.0 / r.2.max(1) as f64)).collect();
    eprintln!(
        "recut onto blue: mean colour error {band_err:.1} levels within 4 px of the edge (naive cut {naive:.1}); \
         signed luminance error by ring -6..6 px: {}",
        profile.join(" ")
    );
    // 5.5 levels with the portrait matting model; 12.4 with the quick segmentation matte it
    // replaced, 17.0 when mid alphas were raised instead of stretched.
    assert!(band_err < 8.0, "edge colour error {band_err}");
    assert!(band_err < naive, "foreground estimation should beat the naive cut ({band_err} vs {naive})");
    // No halo: no ring brighter or darker than both its neighbours by more than a few levels.
    let m: Vec<f64> = rings.iter().map(|r| r.0 / r.2.max(1) as f64).collect();
    for i in 1..m.len() - 1 {
        let bump = (m[i] - m[i - 1]).min(m[i] - m[i + 1]).max((m[i - 1] - m[i]).min(m[i + 1] - m[i]));
        assert!(bump < 8.0, "a halo at ring {}: {}", i as i32 - 6, profile.join(" "));
    }
}

/// Eye lines and inter-eye distances (as shares of the frame height) of the team-page outputs
/// of a run, re-measured on the files.
fn team_page_faces(run: &studio::StudioRun, dir: &Path) -> (Vec<f32>, Vec<f32>) {
    let mut eyes = Vec::new();
    let mut spans = Vec::new();
    for p in &run.session.photos {
        let o = p.outputs.first().unwrap_or_else(|| panic!("{}: no team-page output {:?}", p.path, p.output_errors));
        assert!(o.background.starts_with("studio:"), "one backdrop for the team: {}", o.background);
        // Read the way the team was settled (the output and its mirror, averaged), off the
        // encoded file.
        let img = image::open(dir.join(&o.path)).expect("output decodes").to_rgb8();
        let h = img.height() as f32;
        let near = Point::new(img.width() as f32 / 2.0, o.eye_line * h);
        let (e, span) = studio::read_eyes(&img, analyzer(), near).expect("a face in the team output");
        eyes.push(e.y / h);
        spans.push(span / h);
    }
    (eyes, spans)
}

#[test]
fn team_mode_frames_everyone_alike() {
    let photos = ["obama.jpg", "biden.jpg", "grace_hopper.jpg"].map(example).to_vec();
    let mut analyzer = headshot::Analyzer::default();
    analyzer.catalogue.select(&["team-page".into()]);
    // Tiles of 400x500: Grace Hopper's photo has the pixels for these, not for 800x1000
    // (it would be enlarged 1.7x, past the use's limit, and left out of the team).
    analyzer.catalogue.uses[0].width = 400;
    analyzer.catalogue.uses[0].height = 500;
    let opts = StudioOptions {
        background: BackgroundChoice::Fixed(Background::Studio(render::STUDIO_GREY)),
        ..Default::default()
    };
    let solo_dir = scratch("studio-solo");
    let solo = studio::run(&analyzer, &photos, &opts, &solo_dir, false, |_| {}).expect("runs");
    let team_dir = scratch("studio-team");
    let team = studio::run(&analyzer, &photos, &StudioOptions::default(), &team_dir, true, |_| {}).expect("runs");
    let spread = |v: &[f32]| {
        let (lo, hi) = v.iter().fold((f32::MAX, f32::MIN), |(lo, hi), &x| (lo.min(x), hi.max(x)));
        (hi - lo) / (v.iter().sum::<f32>() / v.len() as f32)
    };
    let range = |v: &[f32]| v.iter().fold(f32::MIN, |m, &x| m.max(x)) - v.iter().fold(f32::MAX, |m, &x| m.min(x));
    let (solo_eyes, solo_spans) = team_page_faces(&solo, &solo_dir);
    let (eyes, spans) = team_page_faces(&team, &team_dir);
    eprintln!(
        "each framed alone: eye lines {solo_eyes:?}, inter-eye shares {solo_spans:?} (spread {:.3}); \
         as a team: eye lines {eyes:?}, inter-eye shares {spans:?} (spread {:.3})",
        spread(&solo_spans),
        spread(&spans)
    );
    assert!(range(&eyes) < 0.02, "eye lines {eyes:?} (shares of the frame height)");
    // The eyes' corners re-read on a re-rendered face move by a fraction of a per cent between
    // renders; the team is settled on the mean of several renders, with room kept in every
    // photo for settling to move in. Measured: 0.7 % (0.1417 / 0.1408 / 0.1417), of which
    // 0.9 % is meant: Biden turns his head 7.7 degrees, and the team sizes faces as they would
    // be seen turned to the camera, so his eyes are framed that much closer together (0.1 %
    // before sizes were corrected for the turn). This reads with the settling's own measure;
    // CI checks the team with OpenCV running the same model files and its own reading of the
    // turn (tests/outputs/check_team.py).
    assert!(spread(&spans) < 0.02, "inter-eye distances {spans:?}");
    assert!(spread(&spans) < 0.5 * spread(&solo_spans), "team {spans:?} vs alone {solo_spans:?}");
}

/// A team with one headshot cropped at the collar: the team's size is not raised so far that
/// the others' heads no longer fit a LinkedIn circle. Each member whose own LinkedIn verdict is
/// ready or fixable still gets a LinkedIn output in the team run (before, 7 of 8 team members
/// of a real set lost it as `head-cut-off`, the tightly cropped one included).
#[test]
fn a_tightly_cropped_member_does_not_push_the_team_out_of_the_frame() {
    let photos: Vec<PathBuf> = ["deepface/img33.jpg", "deepface/img47.jpg", "facenet_pytorch/paul_rudd.jpg"]
        .iter()
        .map(|p| shared(p))
        .chain([example("grace_hopper.jpg")])
        .collect();
    let mut analyzer = headshot::Analyzer::default();
    analyzer.catalogue.select(&["linkedin".into()]);
    let dir = scratch("studio-team-tight");
    let team = studio::run(&analyzer, &photos, &StudioOptions::default(), &dir, true, |_| {}).expect("runs");
    for p in &team.session.photos {
        let alone = analyze(Path::new(&p.path));
        let own = alone.judgement.verdicts.iter().find(|v| v.use_name == "linkedin").expect("verdict");
        if own.status == Status::Unsuitable {
            continue;
        }
        let verdict = p.verdicts.iter().find(|v| v.use_name == "linkedin").expect("verdict");
        assert!(
            p.outputs.iter().any(|o| o.use_name == "linkedin"),
            "{}: no LinkedIn output in the team ({:?} {:?})",
            p.path,
            verdict.status,
            verdict.reasons
        );
    }
    // The photo cropped close around the head cannot give the team's size: it is framed
    // tighter, and its output's report says by how much; the others are at the team's size.
    let tight = team.session.photos.iter().find(|p| p.path.ends_with("paul_rudd.jpg")).expect("in the run");
    let o = tight.outputs.iter().find(|o| o.use_name == "linkedin").expect("made");
    assert!(o.team_size.is_some_and(|t| t > 1.02), "{o:?}");
    let roomy = team.session.photos.iter().find(|p| p.path.ends_with("img33.jpg")).expect("in the run");
    assert!(roomy.outputs.iter().all(|o| o.team_size.is_none()), "{:?}", roomy.outputs);
}

/// Nobody silently dropped from a team: a member looking away has no LinkedIn output in a
/// team run, and the verdict says why; asked to include everyone, the output is made and its
/// report names what was overruled. What cannot be overruled (no face) still makes nothing.
#[test]
fn a_team_can_include_everyone_and_says_what_was_overruled() {
    let photos = vec![shared("deepface/img1.jpg"), example("obama.jpg")];
    let mut analyzer = headshot::Analyzer::default();
    analyzer.catalogue.select(&["linkedin".into()]);
    let linkedin = |run: &studio::StudioRun, name: &str| {
        let p = run.session.photos.iter().find(|p| p.path.ends_with(name)).expect("photo");
        let v = p.verdicts.iter().find(|v| v.use_name == "linkedin").cloned().expect("verdict");
        (v, p.outputs.iter().find(|o| o.use_name == "linkedin").cloned())
    };
    let plain =
        studio::run(&analyzer, &photos, &StudioOptions::default(), &scratch("team-some"), true, |_| {}).expect("runs");
    let (v, out) = linkedin(&plain, "img1.jpg");
    assert_eq!(v.status, Status::Unsuitable);
    assert!(v.reasons.contains(&headshot::core::judge::Reason::LookingAway), "{:?}", v.reasons);
    assert!(out.is_none());
    let everyone = StudioOptions { include_all: true, ..StudioOptions::default() };
    let all = studio::run(&analyzer, &photos, &everyone, &scratch("team-all"), true, |_| {}).expect("runs");
    let (_, out) = linkedin(&all, "img1.jpg");
    let out = out.expect("made when asked");
    assert!(out.included_despite.contains(&headshot::core::judge::Reason::LookingAway), "{:?}", out.included_despite);
    let (_, obama) = linkedin(&all, "obama.jpg");
    assert!(obama.is_some_and(|o| o.included_despite.is_empty()), "a ready member is made as usual");
    assert!(!headshot::core::judge::Reason::NoFace.can_be_overridden());
    assert!(!headshot::core::judge::Reason::HeadCutOff.can_be_overridden());
}

/// A warm cast put on a real photo in linear light (tungsten-like: red up, blue down) is half
/// undone by the white balance: renders of the cast and of the original photo, both corrected,
/// are much closer than uncorrected; the original itself is barely touched.
#[test]
fn white_balance_takes_much_of_a_colour_cast_out() {
    let a = analyze(&example("obama.jpg"));
    let face = &a.scene.faces[0];
    let cat = Catalogue::built_in();
    let u = cat.get("team-page").expect("use");
    let p = plan::plan(&studio::head_of(&a, face), u, a.photo.width(), a.photo.height(), Canvas::PhotoOnly, None);
    let lin = |v: u8| (f32::from(v) / 255.0).powf(2.2);
    let enc = |v: f32| ((v.clamp(0.0, 1.0)).powf(1.0 / 2.2) * 255.0).round() as u8;
    let cast = RgbImage::from_fn(a.photo.width(), a.photo.height(), |x, y| {
        let q = a.photo.pixels.get_pixel(x, y);
        Rgb([enc(lin(q[0]) * 1.18), enc(lin(q[1])), enc(lin(q[2]) * 0.82)])
    });
    let with = Corrections { white_balance: true, ..Default::default() };
    let none = Corrections::default();
    let draw = |pixels: &RgbImage, c| {
        let src = render::Source { pixels, ..whole_matte_source(&a, face) };
        render::render(&src, &p, Background::Keep, c).image
    };
    println!(
        "gains: original {:?}, cast {:?}",
        render::white_balance_gains(&a.photo.pixels),
        render::white_balance_gains(&cast)
    );
    let raw = mean_abs_diff(&draw(&cast, none), &draw(&a.photo.pixels, none));
    let balanced = mean_abs_diff(&draw(&cast, with), &draw(&a.photo.pixels, with));
    let touched = mean_abs_diff(&draw(&a.photo.pixels, with), &draw(&a.photo.pixels, none));
    println!(
        "cast vs original: {raw:.2} levels uncorrected, {balanced:.2} corrected; original changed by {touched:.2}"
    );
    assert!(balanced < 0.6 * raw, "cast {raw:.2} -> {balanced:.2}");
    assert!(touched < 0.5 * raw, "the original photo changed by {touched:.2}");
}

/// The light of the face in each LinkedIn output of a run, in linear light: the median grey of
/// the upper middle of the detector's box on the file as written (forehead, eyes, cheekbones),
/// not the light inside the mesh's outline on the photo that the team's light is set from
/// (`measure::face_light`).
fn linkedin_face_light(run: &studio::StudioRun, dir: &Path) -> Vec<(String, f32)> {
    let linear = |v: f32| if v <= 0.04045 { v / 12.92 } else { ((v + 0.055) / 1.055).powf(2.4) };
    run.session
        .photos
        .iter()
        .map(|p| {
            let o =
                p.outputs.iter().find(|o| o.use_name == "linkedin").unwrap_or_else(|| panic!("{}: no output", p.path));
            let a = analyze(&dir.join(&o.path));
            let b = a.scene.faces.first().unwrap_or_else(|| panic!("no face in {}", o.path)).bbox;
            let mut greys: Vec<f32> = Vec::new();
            for y in (b.y + 0.1 * b.h) as u32..(b.y + 0.5 * b.h) as u32 {
                for x in (b.x + 0.2 * b.w) as u32..(b.x + 0.8 * b.w) as u32 {
                    greys.push(headshot::core::measure::luma(a.photo.pixels.get_pixel(x, y)));
                }
            }
            greys.sort_by(f32::total_cmp);
            (p.path.clone(), linear(greys[greys.len() / 2]))
        })
        .collect()
}

/// One member photographed under less light (the whole photo 0.4 stop darker, in linear light)
/// comes out in the team's light: beside the others, their face is within 0.15 stop (measured:
/// 0.03), where keeping each photo's own light leaves it about 0.4 stop darker; the report gives the
/// change. Metamorphic: the darkening is known, and the faces are measured on the files.
#[test]
fn a_member_shot_in_less_light_comes_out_in_the_teams_light() {
    let dir = scratch("team-light");
    let lin = |v: u8| (f32::from(v) / 255.0).powf(2.2);
    let enc = |v: f32| (v.clamp(0.0, 1.0).powf(1.0 / 2.2) * 255.0).round() as u8;
    let source = pixels(&shared("deepface/img47.jpg"));
    let k = 2f32.powf(-0.4);
    let darker = RgbImage::from_fn(source.width(), source.height(), |x, y| {
        Rgb(source.get_pixel(x, y).0.map(|v| enc(lin(v) * k)))
    });
    let dark_path = dir.join("img47-darker.png");
    darker.save(&dark_path).expect("writes");
    let photos = vec![shared("deepface/img33.jpg"), dark_path, shared("deepface/img4.jpg")];
    let mut analyzer = headshot::Analyzer::default();
    analyzer.catalogue.select(&["linkedin".into()]);
    let gap = |run: &studio::StudioRun, out: &Path| {
        let lights = linkedin_face_light(run, out);
        println!("{lights:?}");
        let dark = lights.iter().find(|(p, _)| p.ends_with("img47-darker.png")).expect("in the run").1;
        let others: Vec<f32> = lights.iter().filter(|(p, _)| !p.ends_with("img47-darker.png")).map(|l| l.1).collect();
        (dark / (others.iter().sum::<f32>() / others.len() as f32)).log2()
    };
    let matched_dir = dir.join("matched");
    let matched = studio::run(&analyzer, &photos, &StudioOptions::default(), &matched_dir, true, |_| {}).expect("runs");
    let kept_dir = dir.join("kept");
    let keep = StudioOptions { keep_light: true, ..StudioOptions::default() };
    let kept = studio::run(&analyzer, &photos, &keep, &kept_dir, true, |_| {}).expect("runs");
    let (matched_gap, kept_gap) = (gap(&matched, &matched_dir), gap(&kept, &kept_dir));
    println!("the darker member beside the others: {matched_gap:.2} stops matched, {kept_gap:.2} kept");
    assert!(kept_gap < -0.3, "kept: {kept_gap}");
    assert!(matched_gap.abs() < 0.15, "matched: {matched_gap}");
    let change = |run: &studio::StudioRun| {
        let p = run.session.photos.iter().find(|p| p.path.ends_with("img47-darker.png")).expect("in the run");
        p.outputs.iter().find(|o| o.use_name == "linkedin").and_then(|o| o.team_light)
    };
    assert!(change(&matched).is_some_and(|s| s > 0.25), "{:?}", change(&matched));
    assert_eq!(change(&kept), None);
}
