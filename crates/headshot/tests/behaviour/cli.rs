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

/// `serve --queue` is a number of sessions or a shared queue's URL, and a shared queue needs
/// the workers' store: each mistake is a usage error with the reason, before anything starts.
#[test]
fn serve_refuses_a_shared_queue_without_a_store_and_a_store_without_one() {
    let cases: [(&[&str], &str); 3] = [
        (&["serve", "--queue", "postgres://nobody@127.0.0.1:9/x"], "needs --store"),
        (&["serve", "--store", "/tmp/s"], "needs --queue postgres://"),
        (
            &["serve", "--queue", "mysql://db/x", "--store", "/tmp/s"],
            "neither a number of sessions nor a postgres:// URL",
        ),
    ];
    for (args, reason) in cases {
        let out = headshot(args);
        let said = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {said}");
        assert!(said.contains(reason), "{args:?}: {said}");
    }
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

/// Every visible file under `dir` (recursively), and every hidden one (temporaries, records).
fn files_under(dir: &std::path::Path) -> (Vec<std::path::PathBuf>, Vec<std::path::PathBuf>) {
    crate::common::files_recursively(dir)
        .into_iter()
        .partition(|p| !p.file_name().is_some_and(|n| n.to_string_lossy().starts_with('.')))
}

#[test]
fn studio_reruns_replace_outputs_and_an_interrupted_run_leaves_no_half_file() {
    let dir = scratch("cli-studio");
    let out = dir.join("out");
    let out_s = out.to_string_lossy().into_owned();
    let biden = example("biden.jpg").to_string_lossy().into_owned();
    let input_before = std::fs::read(&biden).expect("input");

    let first = headshot(&["studio", "--uses", "linkedin,resume", "--background", "white", &biden, "--out", &out_s]);
    assert!(first.status.success(), "{}", String::from_utf8_lossy(&first.stderr));
    // Not a terminal: no progress bar on stdout, just the summary.
    assert!(!String::from_utf8_lossy(&first.stdout).contains('\u{1b}'));
    let linkedin = out.join("biden/linkedin.jpg");
    let white = std::fs::read(&linkedin).expect("made");

    let second = headshot(&["studio", "--uses", "linkedin", "--background", "navy", &biden, "--out", &out_s]);
    assert!(second.status.success());
    let navy = std::fs::read(&linkedin).expect("replaced");
    assert_ne!(white, navy, "the second run replaced the output");
    let corner = image::load_from_memory(&navy).expect("decodes").to_rgb8();
    assert!(corner.get_pixel(2, 2).0.iter().zip([24u8, 38, 66]).all(|(a, b)| a.abs_diff(b) < 8));
    // resume.jpg was not asked for this time: gone, so the folder matches report.json.
    assert!(!out.join("biden/resume.jpg").exists());
    assert_eq!(std::fs::read(&biden).expect("input"), input_before, "inputs are never modified");

    // Interrupt a long run part-way: whatever is visible must be whole.
    let examples = repo().join("examples").to_string_lossy().into_owned();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_headshot"))
        .args(["studio", &examples, "--out", &out_s])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("spawn");
    std::thread::sleep(std::time::Duration::from_millis(2500));
    let _ = child.kill();
    let _ = child.wait();
    let (visible, _) = files_under(&out);
    for p in &visible {
        let bytes = std::fs::read(p).expect("read");
        match p.extension().and_then(|e| e.to_str()) {
            Some("jpg") => assert!(image::load_from_memory(&bytes).is_ok(), "{} is not whole", p.display()),
            Some("json") => assert!(serde_json::from_slice::<serde_json::Value>(&bytes).is_ok(), "{}", p.display()),
            Some("html") => assert!(String::from_utf8_lossy(&bytes).trim_end().ends_with("</html>")),
            _ => {}
        }
    }
    // A full run afterwards completes and cleans up any temporaries of the killed one.
    let full = headshot(&["studio", &examples, "--out", &out_s]);
    assert!(full.status.success(), "{}", String::from_utf8_lossy(&full.stderr));
    let (visible, hidden) = files_under(&out);
    // (A finished photo's record, `.finished.json`, is hidden and stays: re-runs read it.)
    let hidden: Vec<_> = hidden.into_iter().filter(|p| !p.ends_with(".finished.json")).collect();
    assert!(hidden.is_empty(), "temporaries left: {hidden:?}");
    let report = json_file(&out.join("report.json"));
    let listed: usize =
        report["photos"].as_array().map_or(0, |p| p.iter().map(|p| p["outputs"].as_array().map_or(0, Vec::len)).sum());
    let jpgs = visible
        .iter()
        .filter(|p| p.extension().is_some_and(|e| e == "jpg") && !p.ends_with("contact-sheet.jpg"))
        .count();
    let previews = visible.iter().filter(|p| p.ends_with("photo-preview.jpg")).count();
    assert_eq!(jpgs - previews, listed, "files on disk match report.json");
}

fn json_file(path: &std::path::Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(path).expect("read")).expect("json")
}

#[test]
fn studio_rejects_a_bad_background_and_a_missing_subject_clearly() {
    let out = scratch("cli-studio-bad");
    let bad = headshot(&["studio", "--background", "plaid", "examples", "--out", &out.to_string_lossy()]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("unknown background"));
    let obama = example("obama.jpg").to_string_lossy().into_owned();
    let run = headshot(&["studio", "--subject", "3", "--uses", "linkedin", &obama, "--out", &out.to_string_lossy()]);
    // The outputs asked for could not be made: failed work (exit 1), the report says why.
    assert_eq!(run.status.code(), Some(1));
    let report = json_file(&out.join("report.json"));
    let errs = report["photos"][0]["output_errors"].to_string();
    assert!(errs.contains("subject 3"), "{errs}");
}

/// Exit codes follow the contract: 2 for a command line asking for what does not exist, 1 when
/// the work could not be done (here, an output folder that cannot be created: a file is in
/// its way), with the reason on stderr.
#[test]
fn exit_codes_tell_usage_errors_from_failed_work() {
    let dir = scratch("cli-exit-codes");
    let obama = example("obama.jpg").to_string_lossy().into_owned();
    let unknown = headshot(&["studio", "--uses", "myspace", &obama, "--out", &dir.join("o").to_string_lossy()]);
    assert_eq!(unknown.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("unknown use(s): myspace"));

    let blocker = dir.join("not-a-folder");
    std::fs::write(&blocker, b"a file").expect("write");
    let out = blocker.join("out");
    let failed = headshot(&["studio", "--uses", "linkedin", &obama, "--out", &out.to_string_lossy()]);
    assert_eq!(failed.status.code(), Some(1), "{}", String::from_utf8_lossy(&failed.stderr));
    let err = String::from_utf8_lossy(&failed.stderr);
    assert!(err.contains("cannot write to") && err.contains("not-a-folder"), "{err}");
}

/// A studio run killed (SIGKILL) while it is writing an output: the write it interrupted is
/// left as a temporary only, every output on disk decodes whole, and a re-run finishes the rest
/// without redoing the photos the first run had finished (their records say so).
#[test]
fn a_run_killed_mid_write_leaves_no_broken_output_and_a_rerun_finishes_the_rest() {
    let dir = scratch("cli-killed");
    let photos = dir.join("photos");
    std::fs::create_dir_all(&photos).expect("mkdir");
    for copy in 0..3 {
        for name in ["obama.jpg", "biden.jpg", "grace_hopper.jpg", "two_people.jpg"] {
            std::fs::copy(example(name), photos.join(format!("{copy}-{name}"))).expect("copy");
        }
    }
    let out = dir.join("out");
    let bin = env!("CARGO_BIN_EXE_headshot");
    // Kill the run the moment a photo is finished and a write is under way; try again if the
    // write happened to end between seeing it and the kill.
    let mut interrupted = None;
    for _ in 0..10 {
        let _ = std::fs::remove_dir_all(&out);
        let mut child = std::process::Command::new(bin)
            .args(["studio", &photos.to_string_lossy(), "--out", &out.to_string_lossy()])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("spawn");
        let started = std::time::Instant::now();
        let mut partial = None;
        while started.elapsed() < std::time::Duration::from_secs(120) {
            let files = crate::common::files_recursively(&out);
            let finished = files.iter().any(|p| p.ends_with(".finished.json"));
            partial = files.into_iter().find(|p| p.to_string_lossy().ends_with(".partial"));
            if finished && partial.is_some() {
                break;
            }
            if child.try_wait().expect("wait").is_some() {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(2));
        }
        let _ = child.kill();
        let _ = child.wait();
        if let Some(p) = partial
            && p.exists()
        {
            interrupted = Some(p);
            break;
        }
    }
    let interrupted = interrupted.expect("a run was killed in the middle of a write");
    let files = crate::common::files_recursively(&out);
    let finished = files.iter().filter(|p| p.ends_with(".finished.json")).count();
    assert!((1..12).contains(&finished), "{finished} photos finished before the kill");
    // No listed output is broken: every image on disk that is not a temporary decodes whole.
    for f in files.iter().filter(|p| !p.to_string_lossy().ends_with(".partial")) {
        if f.extension().is_some_and(|e| e == "jpg" || e == "png") {
            image::open(f).unwrap_or_else(|e| panic!("{} is broken: {e}", f.display()));
        }
    }
    assert!(!out.join("report.json").exists() || json_file(&out.join("report.json")).is_object());

    let rerun = headshot(&["studio", &photos.to_string_lossy(), "--out", &out.to_string_lossy()]);
    assert!(rerun.status.success(), "{}", String::from_utf8_lossy(&rerun.stderr));
    let said = String::from_utf8_lossy(&rerun.stderr);
    assert!(said.contains(&format!("{finished} photo(s) finished by an earlier run")), "{said}");
    assert!(!interrupted.exists(), "the interrupted temporary is swept");
    let report = json_file(&out.join("report.json"));
    assert_eq!(report["photos"].as_array().map(Vec::len), Some(12));
    for p in report["photos"].as_array().expect("photos") {
        for o in p["outputs"].as_array().into_iter().flatten() {
            let path = out.join(o["path"].as_str().expect("path"));
            assert_eq!(std::fs::metadata(&path).map(|m| m.len()).ok(), o["bytes"].as_u64(), "{}", path.display());
        }
    }
    // A third run with nothing left to do reuses every photo.
    let again = headshot(&["studio", &photos.to_string_lossy(), "--out", &out.to_string_lossy()]);
    assert!(String::from_utf8_lossy(&again.stderr).contains("12 photo(s) finished by an earlier run"));
}

/// A disk that fills up: every write past a file-size limit fails (EFBIG, as a full disk's
/// ENOSPC does, at the same place), the run says which outputs were not made and why, exits 1,
/// leaves no temporary and no broken file, records no photo as finished that is not, and a
/// second run with room finishes the rest, keeping what the first one finished.
#[test]
fn a_full_disk_is_a_clear_error_with_no_broken_output_and_a_rerun_finishes() {
    let dir = scratch("cli-disk-full");
    let out = dir.join("out");
    let bin = env!("CARGO_BIN_EXE_headshot");
    let photos = [example("obama.jpg"), example("biden.jpg"), example("grace_hopper.jpg")];
    let photos: Vec<String> = photos.iter().map(|p| p.to_string_lossy().into_owned()).collect();
    // 128 blocks of 512 bytes: the report, the gallery and the small outputs fit, the large
    // outputs (over 100 kB) do not. The shell ignores
    // SIGXFSZ so that the write fails instead of the process being killed, as on a full disk.
    let script = r#"ulimit -f 128 && trap '' XFSZ && exec "$@""#;
    let limited = Command::new("sh")
        .args(["-c", script, "sh", bin, "studio"])
        .args(&photos)
        .args(["--out", &out.to_string_lossy()])
        .output()
        .expect("run");
    let said = String::from_utf8_lossy(&limited.stdout);
    assert_eq!(limited.status.code(), Some(1), "{said}{}", String::from_utf8_lossy(&limited.stderr));
    assert!(said.contains("not made:") && said.contains("File too large"), "{said}");
    let not_made = said.lines().filter(|l| l.contains("not made:")).count();
    let (visible, hidden) = files_under(&out);
    let temporaries: Vec<_> = hidden.iter().filter(|p| p.to_string_lossy().ends_with(".partial")).collect();
    assert!(temporaries.is_empty(), "temporaries left: {temporaries:?}");
    for f in visible.iter().filter(|p| p.extension().is_some_and(|e| e == "jpg" || e == "png")) {
        image::open(f).unwrap_or_else(|e| panic!("{} is broken: {e}", f.display()));
    }
    let finished_first = hidden.iter().filter(|p| p.ends_with(".finished.json")).count();
    assert!(not_made > 0);
    assert!(finished_first < photos.len(), "a photo with outputs missing was recorded as finished");

    let rerun = headshot(
        &[&["studio"], &photos.iter().map(String::as_str).collect::<Vec<_>>()[..], &["--out", &out.to_string_lossy()]]
            .concat(),
    );
    assert!(rerun.status.success(), "{}", String::from_utf8_lossy(&rerun.stdout));
    let report = json_file(&out.join("report.json"));
    for p in report["photos"].as_array().expect("photos") {
        assert!(p["output_errors"].as_array().is_none_or(Vec::is_empty), "{}", p["path"]);
        for o in p["outputs"].as_array().into_iter().flatten() {
            let path = out.join(o["path"].as_str().expect("path"));
            image::open(&path).unwrap_or_else(|e| panic!("{} is broken: {e}", path.display()));
        }
    }
    if finished_first > 0 {
        let again = String::from_utf8_lossy(&rerun.stderr);
        assert!(again.contains(&format!("{finished_first} photo(s) finished by an earlier run")), "{again}");
    }
}
