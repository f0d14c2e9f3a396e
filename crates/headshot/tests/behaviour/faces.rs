//! Faces: detection against an independent implementation and hand-drawn boxes, face details,
//! and how they change (or do not) when the photo is transformed in known ways.

use headshot::core::Rect;
use headshot::core::face::Face;
use headshot::core::judge::Gaze;
use headshot::vision::{DetectOptions, detect_faces, segment};
use image::RgbImage;

use crate::common::*;
use crate::decode::with_exif_orientation;

#[test]
fn yunet_finds_the_one_face_of_the_astronaut() {
    let img = pixels(&example("astronaut.png"));
    let faces = detect_faces(&img, &DetectOptions::default()).expect("detect");
    assert_eq!(faces.len(), 1, "{faces:?}");
    // Checked by eye: Eileen Collins' face, brow to chin.
    let expected = Rect::new(178.0, 63.0, 92.0, 112.0);
    assert!(faces[0].bbox.iou(&expected) > 0.85, "{:?}", faces[0].bbox);
    assert!(faces[0].score > 0.9);
    // The subject's right eye is on the viewer's left.
    assert!(faces[0].landmarks.right_eye.x < faces[0].landmarks.left_eye.x);
}

#[test]
fn the_segmentation_covers_the_person_and_not_the_corners() {
    let a = analyze(&example("astronaut.png"));
    let m = &a.matte;
    let f = a.scene.faces[0].bbox.scaled(1.0 / a.photo.analysis_scale);
    let mean_in = |r: Rect| {
        let mut sum = 0.0;
        let mut n = 0.0;
        for y in r.y as u32..r.bottom() as u32 {
            for x in r.x as u32..r.right() as u32 {
                sum += m.get(x, y);
                n += 1.0;
            }
        }
        sum / n
    };
    let inner = Rect::new(f.x + f.w * 0.2, f.y + f.h * 0.2, f.w * 0.6, f.h * 0.6);
    assert!(mean_in(inner) > 0.95, "face {}", mean_in(inner));
    // The flag at the top left and the shuttle model at the top right are not the person.
    for corner in [Rect::new(0.0, 0.0, 60.0, 60.0), Rect::new(452.0, 0.0, 60.0, 60.0)] {
        assert!(mean_in(corner) < 0.05, "corner {corner:?}: {}", mean_in(corner));
    }
    // Her body runs out of the bottom of the frame below the face.
    assert!(m.get(f.center().x as u32, 505) > 0.9);
}

/// Reference detections from OpenCV's FaceDetectorYN on the same model file
/// (`tools/reference/yunet_opencv.py`).
#[test]
fn detections_agree_with_opencv_running_the_same_model() {
    let text = std::fs::read_to_string(repo().join("tests/reference/yunet_opencv.json")).expect("reference");
    let reference: serde_json::Value = serde_json::from_str(&text).expect("json");
    let photos = reference["photos"].as_object().expect("photos");
    assert!(photos.len() >= 5);
    for (name, want) in photos {
        let a = analyze(&example(name));
        let got: Vec<&Face> = a.scene.faces.iter().collect();
        let want = want["faces"].as_array().expect("faces");
        for w in want {
            let b: Vec<f32> =
                w["box"].as_array().expect("box").iter().map(|v| v.as_f64().unwrap_or(0.0) as f32).collect();
            let wb = Rect::new(b[0], b[1], b[2], b[3]);
            let best = got.iter().max_by(|p, q| p.bbox.iou(&wb).total_cmp(&q.bbox.iou(&wb)));
            let Some(f) = best else { panic!("{name}: no face where OpenCV found {wb:?}") };
            let iou = f.bbox.iou(&wb);
            assert!(iou >= 0.9, "{name}: IoU {iou} for {wb:?} vs {:?}", f.bbox);
            let lm: Vec<[f32; 2]> = w["landmarks"]
                .as_array()
                .expect("landmarks")
                .iter()
                .map(|p| [p[0].as_f64().unwrap_or(0.0) as f32, p[1].as_f64().unwrap_or(0.0) as f32])
                .collect();
            for (i, (p, q)) in f.landmarks.points().iter().zip(&lm).enumerate() {
                let d = ((p.x - q[0]).powi(2) + (p.y - q[1]).powi(2)).sqrt();
                assert!(d <= 0.02 * wb.w, "{name}: landmark {i} off by {d:.1} px (face {:.0} px wide)", wb.w);
            }
        }
        // No extra faces: every face found is one OpenCV found.
        assert_eq!(got.len(), want.len(), "{name}: {} faces, OpenCV {}", got.len(), want.len());
    }
}

/// dlib's imglab boxes: `<image file=...>` then `<box top left width height>` lines.
fn dlib_boxes(xml: &str) -> Vec<(String, Vec<Rect>)> {
    let attr = |line: &str, key: &str| -> Option<String> {
        let start = line.find(&format!("{key}='"))? + key.len() + 2;
        let end = line[start..].find('\'')? + start;
        Some(line[start..end].to_string())
    };
    let num = |line: &str, key: &str| attr(line, key).and_then(|v| v.parse::<f32>().ok()).unwrap_or(0.0);
    let mut out: Vec<(String, Vec<Rect>)> = Vec::new();
    for line in xml.lines().map(str::trim) {
        if line.starts_with("<image ") {
            out.push((attr(line, "file").unwrap_or_default(), Vec::new()));
        } else if line.starts_with("<box ")
            && let Some(last) = out.last_mut()
        {
            last.1.push(Rect::new(num(line, "left"), num(line, "top"), num(line, "width"), num(line, "height")));
        }
    }
    out
}

/// Recall against hand-drawn boxes. dlib's boxes are square and tight (brows to lower lip, cheek
/// to cheek); YuNet's run from the hairline to the chin, so a perfect detection of the same face
/// overlaps a dlib box at IoU ~0.5-0.7, never 1. Matching is one-to-one, greedy by IoU, at the
/// IoU >= 0.4 the issue sets; a detection may match only one annotated face.
#[test]
fn recall_on_hand_annotated_faces_is_at_least_95_percent() {
    let dir = shared("dlib_faces");
    let mut total = 0;
    let mut found = 0;
    let mut misses = Vec::new();
    for xml in ["training.xml", "testing.xml"] {
        let text = std::fs::read_to_string(dir.join(xml)).expect("dlib xml");
        for (file, truth) in dlib_boxes(&text) {
            let path = dir.join(&file);
            if !path.exists() {
                continue;
            }
            let faces = analyze(&path).scene.faces;
            let mut pairs: Vec<(f32, usize, usize)> = Vec::new();
            for (ti, t) in truth.iter().enumerate() {
                for (fi, f) in faces.iter().enumerate() {
                    let iou = t.iou(&f.bbox);
                    if iou >= 0.4 {
                        pairs.push((iou, ti, fi));
                    }
                }
            }
            pairs.sort_by(|a, b| b.0.total_cmp(&a.0));
            let (mut t_used, mut f_used) = (vec![false; truth.len()], vec![false; faces.len()]);
            for (_, ti, fi) in pairs {
                if !t_used[ti] && !f_used[fi] {
                    t_used[ti] = true;
                    f_used[fi] = true;
                }
            }
            total += truth.len();
            found += t_used.iter().filter(|u| **u).count();
            for (ti, used) in t_used.iter().enumerate() {
                if !used {
                    misses.push(format!("{file} {:?}", truth[ti]));
                }
            }
        }
    }
    assert!(total >= 30, "only {total} annotated faces read");
    let recall = found as f32 / total as f32;
    eprintln!("dlib recall: {found}/{total} = {:.1} %", recall * 100.0);
    assert!(recall >= 0.95, "recall {found}/{total}; missed {misses:?}");
}

#[test]
fn known_answers_for_faces_people_and_gaze() {
    let gaze = |p: &std::path::Path| analyze(p).judgement.gaze;
    assert_eq!(gaze(&example("camera.png")), Some(Gaze::Away), "the man at the camera looks into it, not at us");
    assert_eq!(gaze(&example("grace_hopper.jpg")), Some(Gaze::Camera));
    assert_eq!(gaze(&example("obama.jpg")), Some(Gaze::Camera));
    let ob = analyze(&example("obama_and_biden.jpg"));
    assert_eq!(ob.scene.people, 2, "the girl low at the right edge is not one of the subjects");
    assert!(ob.scene.faces.len() >= 3, "but her face is found");
    let none = analyze(&shared("mtcnn/no-faces.jpg"));
    assert!(none.scene.faces.is_empty());
    assert_eq!(none.scene.people, 0);
    for name in ["astronaut.png", "grace_hopper.jpg", "obama.jpg"] {
        let a = analyze(&example(name));
        let d = a.scene.faces[0].details.as_ref().expect("details");
        assert!(headshot::core::judge::eyes_open(d), "{name}");
        assert!(d.pose.yaw_deg.abs() < 12.0 && d.pose.pitch_deg.abs() < 12.0, "{name}: {:?}", d.pose);
    }
}

fn mirror(img: &RgbImage) -> RgbImage {
    image::imageops::flip_horizontal(img)
}

#[test]
fn mirroring_flips_yaw_and_roll_and_maps_boxes() {
    // Not camera.png: an eye pressed to a viewfinder hides half the face, and the mesh's guess
    // for the hidden half is not mirror-symmetric.
    for name in ["astronaut.png", "biden.jpg", "grace_hopper.jpg", "two_people.jpg", "obama_and_biden.jpg"] {
        let img = pixels(&example(name));
        let a = analyze_image(name, &img);
        let m = analyze_image(name, &mirror(&img));
        let w = img.width() as f32;
        assert_eq!(a.scene.faces.len(), m.scene.faces.len(), "{name}");
        for f in a.scene.faces.iter().filter(|f| f.details.is_some()) {
            let expect = f.bbox.mirrored(w);
            let g = m
                .scene
                .faces
                .iter()
                .max_by(|p, q| p.bbox.iou(&expect).total_cmp(&q.bbox.iou(&expect)))
                .expect("a face");
            // The detector itself is not exactly mirror-symmetric: boxes move by a few pixels.
            assert!(g.bbox.iou(&expect) > 0.85, "{name}: {:?} vs {expect:?}", g.bbox);
            // The subject's right eye is still the one on the viewer's left.
            assert!(g.landmarks.right_eye.x < g.landmarks.left_eye.x, "{name}");
            let (p, q) = (f.details.as_ref().expect("details").pose, g.details.as_ref().expect("details").pose);
            assert!((p.yaw_deg + q.yaw_deg).abs() <= 3.0, "{name}: yaw {} vs {}", p.yaw_deg, q.yaw_deg);
            assert!((p.roll_deg + q.roll_deg).abs() <= 3.0, "{name}: roll {} vs {}", p.roll_deg, q.roll_deg);
            // Pitch does not change sign; the mesh is not exactly symmetric, so allow a little more.
            assert!((p.pitch_deg - q.pitch_deg).abs() <= 5.0, "{name}: pitch {} vs {}", p.pitch_deg, q.pitch_deg);
        }
    }
}

#[test]
fn a_photo_stored_turned_gives_the_same_faces_as_upright() {
    let upright = pixels(&example("two_people.jpg"));
    let a = analyze_image("upright.png", &upright);
    // Stored turned 90 degrees clockwise with EXIF orientation 8 ("turn back").
    let stored = image::imageops::rotate90(&upright);
    let mut jpeg = Vec::new();
    image::DynamicImage::ImageRgb8(stored)
        .write_with_encoder(image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpeg, 95))
        .expect("jpeg");
    let dir = scratch("turned");
    let path = dir.join("turned.jpg");
    std::fs::write(&path, with_exif_orientation(&jpeg, 8)).expect("write");
    let b = analyze(&path);
    assert_eq!(b.photo.exif_orientation, 8);
    assert_eq!((b.scene.width, b.scene.height), (a.scene.width, a.scene.height));
    assert_eq!(a.scene.faces.len(), b.scene.faces.len());
    for (f, g) in a.scene.faces.iter().zip(&b.scene.faces) {
        assert!(f.bbox.iou(&g.bbox) > 0.9, "{:?} vs {:?}", f.bbox, g.bbox);
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn blurring_makes_sharpness_fall_strictly() {
    let img = pixels(&example("grace_hopper.jpg"));
    let mut last = f32::INFINITY;
    let mut values = Vec::new();
    for sigma in [0.0f32, 1.0, 2.0, 3.0, 5.0] {
        let b = if sigma == 0.0 { img.clone() } else { blur(&img, sigma) };
        let a = analyze_image("blurred.png", &b);
        let s = a.scene.faces[0].details.as_ref().expect("details").sharpness;
        values.push((sigma, s));
        assert!(s < last, "sigma {sigma}: sharpness {s} not below {last} ({values:?})");
        last = s;
    }
    // The untouched photo is sharp; sigma 3 on its 214 px face (~1.8 px at the 128 px
    // measurement width) is not.
    assert!(a_is_sharp(values[0].1) && !a_is_sharp(values[3].1), "{values:?}");
}

fn a_is_sharp(s: f32) -> bool {
    s >= headshot::core::judge::MIN_SHARPNESS
}

/// Faces found as the photo shrinks: the face must be found down to an inter-eye distance of
/// ~10 px (a face ~24 px tall), where YuNet's smallest anchors end.
#[test]
fn downscaling_keeps_the_face_until_it_is_tiny() {
    let img = pixels(&example("grace_hopper.jpg"));
    let (w, h) = img.dimensions();
    let mut smallest_found = f32::INFINITY;
    for scale in [1.0f32, 0.5, 0.3, 0.2, 0.15, 0.12, 0.1] {
        let s = image::imageops::resize(
            &img,
            ((w as f32 * scale).round() as u32).max(1),
            ((h as f32 * scale).round() as u32).max(1),
            image::imageops::FilterType::Triangle,
        );
        let faces = detect_faces(&s, &DetectOptions::default()).expect("detect");
        if scale >= 0.15 {
            assert_eq!(faces.len(), 1, "scale {scale}: {} faces", faces.len());
            let expect = Rect::new(180.0, 123.0, 178.0, 214.0).scaled(scale);
            assert!(faces[0].bbox.iou(&expect) > 0.7, "scale {scale}: {:?}", faces[0].bbox);
        }
        if let Some(f) = faces.first() {
            smallest_found = smallest_found.min(f.bbox.h);
        }
    }
    eprintln!("smallest grace_hopper face found: {smallest_found:.0} px tall");
    assert!(smallest_found <= 33.0);
}

#[test]
fn the_person_region_is_never_empty_and_stays_in_the_frame() {
    let a = analyze(&example("obama_and_biden.jpg"));
    let s = a.photo.analysis_scale;
    let small: Vec<Face> = a.scene.faces.iter().map(|f| Face { bbox: f.bbox.scaled(1.0 / s), ..f.clone() }).collect();
    let refs: Vec<&Face> = small.iter().take(2).collect();
    let (w, h) = a.photo.analysis.dimensions();
    let r = segment::person_region(w, h, &refs);
    assert!(r.x >= 0.0 && r.y >= 0.0 && r.right() <= w as f32 + 0.5 && r.bottom() <= h as f32 + 0.5);
    assert!((r.bottom() - h as f32).abs() < 1.0, "the region reaches the bottom of the frame");
}

#[test]
fn a_large_photo_analysed_from_a_reduced_decode_reads_as_from_every_pixel() {
    // Metamorphic: the report of a large real photo (3061x4600) read at the analysis's
    // resolution (decoded at half size by the reduced inverse DCT) against the same photo
    // decoded whole. Positions are in the full photo either way and may move by a fraction of
    // the face; what is judged must not change.
    let path = shared("deepface/img40.jpg");
    let whole = analyze(&path);
    let reduced_reader = headshot::Analyzer { resolution: headshot::core::Resolution::Analysis, ..analyzer().clone() };
    let reduced = reduced_reader.analyze_path(&path).expect("analyses");
    assert!(whole.photo.is_full_resolution());
    assert_eq!(reduced.photo.reduction, 2);
    let (a, b) = (&whole.report, &reduced.report);
    assert_eq!((a.width, a.height), (b.width, b.height));
    assert_eq!((a.faces.len(), a.people, a.framing, a.sharp), (b.faces.len(), b.people, b.framing, b.sharp));
    for (f, g) in a.faces.iter().zip(&b.faces) {
        assert!(f.bbox.iou(&g.bbox) > 0.97, "{:?} vs {:?}", f.bbox, g.bbox);
        let (p, q) = (f.pose.unwrap_or_default(), g.pose.unwrap_or_default());
        assert!((p.yaw_deg - q.yaw_deg).abs() < 1.5 && (p.pitch_deg - q.pitch_deg).abs() < 1.5, "{p:?} vs {q:?}");
        let (s, t) = (f.sharpness.unwrap_or_default(), g.sharpness.unwrap_or_default());
        assert!((s - t).abs() < 0.03, "sharpness {s} vs {t}");
    }
    assert_eq!(a.gaze, b.gaze);
    let verdicts = |r: &headshot::core::report::Report| {
        r.verdicts.iter().map(|v| (v.use_name.clone(), v.status, v.reasons.clone())).collect::<Vec<_>>()
    };
    assert_eq!(verdicts(a), verdicts(b));
}
