//! Odd and hostile inputs, in one batch through the real command: every file gets a clear error
//! naming it and the reason, or a sensible report, and the rest of the batch is processed.
//! The corpus is generated (a few files would be large or are easier to state as code); it is
//! also written to `target/odd-inputs/` so it can be timed file by file by hand:
//! `for f in target/odd-inputs/*; do /usr/bin/time -f "$f %es %MkB" target/release/headshot analyze --json "$f" >/dev/null; done`.

use std::path::{Path, PathBuf};
use std::process::Command;

use image::imageops::{self, FilterType};
use image::{Rgb, RgbImage};

use crate::common::*;

fn encode(img: &RgbImage, format: image::ImageFormat) -> Vec<u8> {
    let mut out = Vec::new();
    img.write_to(&mut std::io::Cursor::new(&mut out), format).expect("encode");
    out
}

fn jpeg(img: &RgbImage) -> Vec<u8> {
    encode(img, image::ImageFormat::Jpeg)
}

/// What a file must come out as.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Expect {
    /// An error of this kind, naming the file.
    Error(&'static str),
    /// A report with this framing class.
    Report(&'static str),
    /// A report, whatever its class.
    AnyReport,
}

/// Writes the corpus into `dir`: (file name, expected outcome).
fn write_corpus(dir: &Path) -> Vec<(String, Expect)> {
    let obama = pixels(&example("obama.jpg"));
    let good_jpeg = std::fs::read(example("obama.jpg")).expect("read");
    let good_png = encode(&obama, image::ImageFormat::Png);
    let good_webp = encode(&imageops::resize(&obama, 300, 375, FilterType::Triangle), image::ImageFormat::WebP);
    let mut files: Vec<(String, Vec<u8>, Expect)> = vec![
        ("zero-bytes.jpg".into(), Vec::new(), Expect::Error("decode")),
        ("notes.png".into(), b"just some text\n".to_vec(), Expect::Error("unsupported")),
        ("truncated.jpg".into(), good_jpeg[..good_jpeg.len() / 2].to_vec(), Expect::Error("decode")),
        ("truncated.png".into(), good_png[..good_png.len() / 2].to_vec(), Expect::Error("decode")),
        ("truncated.webp".into(), good_webp[..good_webp.len() / 2].to_vec(), Expect::Error("decode")),
        (
            "one-by-one.png".into(),
            encode(&RgbImage::from_pixel(1, 1, Rgb([200, 10, 10])), image::ImageFormat::Png),
            Expect::Report("no-person"),
        ),
        (
            "strip-1x10000.png".into(),
            encode(&RgbImage::from_pixel(1, 10_000, Rgb([30, 30, 30])), image::ImageFormat::Png),
            Expect::Report("no-person"),
        ),
        (
            "strip-20000x100.png".into(),
            encode(&RgbImage::from_pixel(20_000, 100, Rgb([90, 140, 90])), image::ImageFormat::Png),
            Expect::Report("no-person"),
        ),
        ("upside-down.jpg".into(), jpeg(&imageops::rotate180(&obama)), Expect::Report("no-person")),
        ("sideways.jpg".into(), jpeg(&imageops::rotate90(&obama)), Expect::Report("no-person")),
        ("photo-of-a-photo.jpg".into(), jpeg(&photo_of_a_photo(&obama)), Expect::AnyReport),
        (
            "cut-by-the-edge.jpg".into(),
            jpeg(&imageops::crop_imm(&obama, obama.width() / 2, 0, obama.width() / 2, obama.height()).to_image()),
            Expect::AnyReport,
        ),
        ("good.jpg".into(), good_jpeg.clone(), Expect::Report("half-body")),
    ];
    // Corrupt: a JPEG whose scan data is overwritten in the middle (it still ends properly).
    let mut corrupt = good_jpeg.clone();
    let mid = corrupt.len() / 2;
    for b in &mut corrupt[mid..mid + 4000] {
        *b = 0x55;
    }
    files.push(("corrupt-scan.jpg".into(), corrupt, Expect::AnyReport));
    // A PNG whose image data fails its checksum.
    let mut bad_crc = good_png.clone();
    let idat = bad_crc.windows(4).position(|w| w == b"IDAT").expect("IDAT");
    bad_crc[idat + 10] ^= 0xFF;
    // (The decoder may read around the damage or refuse it: either is fine, a panic is not.)
    files.push(("bad-crc.png".into(), bad_crc, Expect::AnyReport));
    // An EXIF orientation of 9 (there are eight).
    files.push((
        "orientation-9.jpg".into(),
        crate::decode::with_exif_orientation(&good_jpeg, 9),
        Expect::Report("half-body"),
    ));
    let mut written = Vec::new();
    for (name, bytes, expect) in files {
        std::fs::write(dir.join(&name), bytes).expect("write");
        written.push((name, expect));
    }
    written
}

/// The photo shown on a sheet of paper lying on a desk, photographed again a little turned.
fn photo_of_a_photo(img: &RgbImage) -> RgbImage {
    let small = imageops::resize(img, img.width() / 2, img.height() / 2, FilterType::Triangle);
    let mut desk =
        RgbImage::from_fn(img.width(), img.height(), |x, y| Rgb([120 + (x % 7) as u8, 90 + (y % 5) as u8, 60]));
    let paper = RgbImage::from_pixel(small.width() + 40, small.height() + 40, Rgb([245, 245, 240]));
    imageops::overlay(&mut desk, &paper, (img.width() / 4 - 20) as i64, (img.height() / 4 - 20) as i64);
    imageops::overlay(&mut desk, &small, (img.width() / 4) as i64, (img.height() / 4) as i64);
    rotated(&desk, 6.0)
}

#[test]
fn every_odd_input_gets_a_clear_error_or_a_sensible_report_and_the_batch_goes_on() {
    let dir = scratch("odd-inputs");
    let corpus = write_corpus(&dir);
    // Kept for timing by hand (see the module's comment).
    let keep = repo().join("target").join("odd-inputs");
    let _ = std::fs::remove_dir_all(&keep);
    if std::fs::create_dir_all(&keep).is_ok() {
        for (name, _) in &corpus {
            let _ = std::fs::copy(dir.join(name), keep.join(name));
        }
    }
    let started = std::time::Instant::now();
    let out =
        Command::new(env!("CARGO_BIN_EXE_headshot")).args(["analyze", "--json"]).arg(&dir).output().expect("runs");
    let elapsed = started.elapsed();
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("one JSON document");
    let photos = doc["photos"].as_array().expect("photos");
    let errors = doc["errors"].as_array().expect("errors");
    let named = |list: &[serde_json::Value], name: &str| -> Option<serde_json::Value> {
        list.iter().find(|e| e["path"].as_str().is_some_and(|p| PathBuf::from(p).ends_with(name))).cloned()
    };
    for (name, expect) in &corpus {
        let report = named(photos, name);
        let error = named(errors, name);
        eprintln!(
            "{name}: {}",
            match (&report, &error) {
                (Some(r), _) => format!("report, {}", r["framing"]),
                (_, Some(e)) => format!("{} error: {}", e["kind"], e["error"]),
                _ => "nothing".into(),
            }
        );
        match expect {
            Expect::Error(kind) => {
                let e = error.unwrap_or_else(|| panic!("{name}: no error ({report:?})"));
                assert_eq!(e["kind"], *kind, "{name}: {e}");
                assert!(e["error"].as_str().is_some_and(|s| s.len() > 5), "{name}: {e}");
            }
            Expect::Report(class) => {
                let r = report.unwrap_or_else(|| panic!("{name}: no report ({error:?})"));
                assert_eq!(r["framing"], *class, "{name}");
            }
            Expect::AnyReport => assert!(report.is_some() || error.is_some(), "{name}: neither report nor error"),
        }
    }
    assert_eq!(photos.len() + errors.len(), corpus.len(), "one outcome per file");
    // A person stored turned without an orientation tag: no face upright, and the report says
    // which turn shows one (clockwise, to make it upright). An upright photo says nothing.
    for (name, turn) in [("upside-down.jpg", 180), ("sideways.jpg", 270)] {
        let r = named(photos, name).expect("report");
        assert_eq!(r["turned"], turn, "{name}");
    }
    assert!(named(photos, "good.jpg").expect("report").get("turned").is_none());
    // Half a face, cut by the frame's edge, is no headshot.
    let cut = named(photos, "cut-by-the-edge.jpg").expect("report");
    let li = cut["verdicts"].as_array().and_then(|v| v.iter().find(|v| v["use"] == "linkedin")).expect("verdict");
    assert_eq!(li["status"], "unsuitable");
    assert!(li["reasons"].as_array().is_some_and(|r| r.iter().any(|r| r == "head-cut-off")), "{li}");
    // The whole odd batch, models loaded once: seconds, not minutes.
    assert!(elapsed < std::time::Duration::from_secs(120), "{elapsed:?}");
}

/// Found by fuzzing (`fuzz/run.sh`, target `report`): a record whose number does not fit its
/// field (`0.19584e87` read into an f32 is infinite) was taken as a finished photo's report and
/// could not be written back (JSON has no infinity). Such a record is not reused: the photo is
/// done again.
#[test]
fn a_record_with_a_number_out_of_range_is_not_reused() {
    // The second, found once the first was fixed: the number in an optional field, written
    // back as `null` and read again as absent.
    for name in ["report-number-out-of-range.json", "report-optional-number-out-of-range.json"] {
        let bytes = std::fs::read(repo().join("tests/fixtures/fuzz").join(name)).expect("fixture");
        let r: headshot::core::report::Report = serde_json::from_slice(&bytes).expect("it parses");
        assert!(!r.round_trips(), "{name}");
    }
    let good = headshot::analysis::Analyzer::default().analyze_path(&example("obama.jpg")).expect("analyses");
    assert!(good.report.round_trips());
}
