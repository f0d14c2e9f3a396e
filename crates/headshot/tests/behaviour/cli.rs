//! The command as users and outside checks drive it (../shared/docs/contract.md).

use std::process::{Command, Output};

use crate::common::*;
use crate::decode::write_bad_files;

fn headshot(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_headshot")).args(args).output().expect("run headshot")
}

fn json(out: &Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("stdout is not one JSON document ({e}): {}", String::from_utf8_lossy(&out.stdout)))
}

#[test]
fn analyze_json_prints_one_document_for_the_examples() {
    let dir = example("");
    let out = headshot(&["analyze", "--json", dir.to_str().expect("utf-8 path")]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let doc = json(&out);
    let photos = doc["photos"].as_array().expect("photos");
    assert!(photos.len() >= 5);
    assert_eq!(doc["errors"].as_array().map(Vec::len), Some(0));
    for p in photos {
        assert!(p["path"].is_string() && p["width"].as_u64().is_some() && p["height"].as_u64().is_some());
        assert!(p["faces"].is_array() && p["people"].is_u64() && p["framing"].is_string());
        assert!(p["background"]["plain"].is_boolean() && p["lighting"]["even"].is_boolean() && p["sharp"].is_boolean());
        let verdicts = p["verdicts"].as_array().expect("verdicts");
        assert!(verdicts.iter().any(|v| v["use"] == "linkedin"));
        for f in p["faces"].as_array().expect("faces") {
            assert!(f["landmarks"]["right_eye"].as_array().map(Vec::len) == Some(2));
        }
    }
}

#[test]
fn bad_files_are_reported_and_the_good_ones_still_processed() {
    let dir = scratch("cli-bad");
    let kinds = write_bad_files(&dir);
    std::fs::copy(example("grace_hopper.jpg"), dir.join("good.jpg")).expect("copy");
    let out = headshot(&["analyze", "--json", dir.to_str().expect("utf-8 path")]);
    assert_eq!(out.status.code(), Some(1));
    let doc = json(&out);
    let photos = doc["photos"].as_array().expect("photos");
    assert_eq!(photos.len(), 1);
    assert!(photos[0]["path"].as_str().is_some_and(|p| p.ends_with("good.jpg")));
    let errors = doc["errors"].as_array().expect("errors");
    assert_eq!(errors.len(), kinds.len(), "{errors:?}");
    for (name, _) in &kinds {
        let e = errors
            .iter()
            .find(|e| e["path"].as_str().is_some_and(|p| p.ends_with(name)))
            .unwrap_or_else(|| panic!("no error for {name}"));
        assert!(e["error"].as_str().is_some_and(|s| !s.is_empty()));
        assert!(["decode", "unsupported", "too-large", "io"].contains(&e["kind"].as_str().unwrap_or("")), "{e}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_missing_path_is_an_error_not_a_crash_and_usage_errors_exit_2() {
    let out = headshot(&["analyze", "--json", "/nonexistent/photo.jpg"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(json(&out)["errors"][0]["kind"], "io");
    assert_eq!(headshot(&["analyze"]).status.code(), Some(2));
    assert_eq!(headshot(&["no-such-command"]).status.code(), Some(2));
}

#[test]
fn uses_lists_the_catalogue_and_a_custom_file_extends_it() {
    let out = headshot(&["uses", "--json"]);
    assert_eq!(out.status.code(), Some(0));
    let doc = json(&out);
    let uses = doc.as_array().or_else(|| doc["uses"].as_array()).expect("uses");
    assert!(uses.len() >= 15);
    assert!(uses.iter().any(|u| u["name"] == "linkedin" && u["width"] == 400));

    let dir = scratch("catalogue");
    let file = dir.join("mine.toml");
    std::fs::write(
        &file,
        "[[use]]\nname = \"intranet\"\nkind = \"headshot\"\nwidth = 256\nheight = 256\ncircle = true\n\
         display_px = 64\nmin_source_px = 256\nmax_bytes = 100000\nformat = \"png\"\nsource = \"IT\"\n",
    )
    .expect("write");
    let out = headshot(&[
        "analyze",
        "--json",
        "--catalogue",
        file.to_str().expect("utf-8"),
        example("obama.jpg").to_str().expect("utf-8"),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let doc = json(&out);
    assert!(doc["photos"][0]["verdicts"].as_array().expect("verdicts").iter().any(|v| v["use"] == "intranet"));

    std::fs::write(&file, "[[use]]\nname = 3\n").expect("write");
    let out = headshot(&["uses", "--catalogue", file.to_str().expect("utf-8")]);
    assert_ne!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stderr).contains("mine.toml"));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_human_summary_names_classes_reasons_and_the_best_pick() {
    let out = headshot(&[
        "analyze",
        example("camera.png").to_str().expect("utf-8"),
        example("obama.jpg").to_str().expect("utf-8"),
    ]);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("environmental") && text.contains("half-body"), "{text}");
    assert!(text.contains("not looking at the camera"), "{text}");
    assert!(text.contains("Best photo per use"), "{text}");
}
