//! Studio jobs on many workers, against a real PostgreSQL server: `HEADSHOT_TEST_POSTGRES`
//! names one (CI starts a throwaway one with `tests/postgres/start.sh` and sets
//! `HEADSHOT_REQUIRE_POSTGRES`, so there the tests cannot skip). Each test works in a database
//! of its own. Workers are the real command, as separate processes, killed with SIGKILL.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use headshot::jobs::JobSpec;
use headshot::jobs::queue::{JobRow, Queue};

use crate::common::*;

/// The server's URL, or `None` (with a note) where there is none and CI has not said there
/// must be.
fn postgres() -> Option<String> {
    match std::env::var("HEADSHOT_TEST_POSTGRES") {
        Ok(url) => Some(url),
        Err(_) if std::env::var_os("HEADSHOT_REQUIRE_POSTGRES").is_none() => {
            eprintln!("skipped: no HEADSHOT_TEST_POSTGRES (url=$(tests/postgres/start.sh) starts one)");
            None
        }
        Err(_) => panic!("HEADSHOT_REQUIRE_POSTGRES is set but HEADSHOT_TEST_POSTGRES is not"),
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime")
}

/// A new, empty database on the server for one test; its URL.
fn fresh_database(server: &str, name: &str) -> String {
    let db = format!("headshot_{name}_{}", std::process::id());
    runtime().block_on(async {
        let (client, connection) = tokio_postgres::connect(server, tokio_postgres::NoTls).await.expect("connect");
        tokio::spawn(connection);
        client.batch_execute(&format!("DROP DATABASE IF EXISTS {db}")).await.expect("drop");
        client.batch_execute(&format!("CREATE DATABASE {db}")).await.expect("create");
    });
    let (base, _) = server.rsplit_once('/').expect("a URL ending in /database");
    format!("{base}/{db}")
}

fn headshot(args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_headshot"));
    c.args(args).stdout(Stdio::null()).stderr(Stdio::null());
    c
}

fn worker(queue: &str, store: &Path, name: &str) -> Child {
    let store = store.to_str().expect("utf-8 path");
    headshot(&["worker", "--queue", queue, "--store", store, "--name", name, "--lease", "2s", "--exit-when-idle"])
        .spawn()
        .expect("start a worker")
}

/// Every job, oldest first.
fn jobs(rt: &tokio::runtime::Runtime, queue: &Queue) -> Vec<JobRow> {
    rt.block_on(queue.jobs()).expect("jobs")
}

fn wait_for(child: &mut Child, limit: Duration) {
    let started = Instant::now();
    while child.try_wait().expect("wait").is_none() {
        assert!(started.elapsed() < limit, "a worker did not finish within {limit:?}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Eight photos, three workers, one of them killed with SIGKILL while it holds a job: every job
/// is done, each exactly once in effect (one committed result, which decodes), nothing
/// half-written is committed, the killed worker's job is done by another after its lease ran
/// out, and queueing the same photos again adds nothing.
#[test]
fn a_worker_killed_mid_job_loses_nothing_and_every_job_is_done_once() {
    let Some(server) = postgres() else { return };
    let url = fresh_database(&server, "kill");
    let store = scratch("jobs-store");
    let mut photos: Vec<PathBuf> =
        ["obama.jpg", "biden.jpg", "grace_hopper.jpg", "two_people.jpg", "astronaut.png", "camera.png"]
            .map(example)
            .to_vec();
    photos.extend(["deepface/img7.jpg", "deepface/img19.jpg"].map(shared));
    let enqueue = |photos: &[PathBuf]| {
        let mut args =
            vec!["enqueue", "--queue", &url, "--store", store.to_str().expect("utf-8"), "--uses", "linkedin,x"];
        args.extend(photos.iter().map(|p| p.to_str().expect("utf-8 path")));
        assert!(headshot(&args).status().expect("enqueue").success());
    };
    enqueue(&photos);
    // One runtime for the test's connection: the connection lives on it.
    let rt = runtime();
    let queue = rt.block_on(Queue::connect(&url)).expect("queue");
    assert_eq!(jobs(&rt, &queue).len(), 8);

    // The victim works alone until it holds a job, a moment into it.
    let mut victim = worker(&url, &store, "victim");
    let started = Instant::now();
    let held = loop {
        assert!(started.elapsed() < Duration::from_secs(60), "the victim never claimed a job");
        if let Some(j) =
            jobs(&rt, &queue).into_iter().find(|j| j.state == "running" && j.worker.as_deref() == Some("victim"))
        {
            break j.id;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    std::thread::sleep(Duration::from_millis(150));
    victim.kill().expect("SIGKILL");
    victim.wait().expect("reaped");
    // The kill cut a job: it was still running under the victim when the victim died.
    let at_kill = jobs(&rt, &queue).into_iter().find(|j| j.id == held).expect("the held job");
    assert_eq!((at_kill.state.as_str(), at_kill.worker.as_deref()), ("running", Some("victim")), "{at_kill:?}");

    let mut survivors = [worker(&url, &store, "a"), worker(&url, &store, "b")];
    for w in &mut survivors {
        wait_for(w, Duration::from_secs(300));
    }

    let done = jobs(&rt, &queue);
    for JobRow { id, state, worker: by, attempts, result, .. } in &done {
        assert_eq!(state, "done", "job {id}: {done:?}");
        let result = result.as_deref().expect("a done job names its result");
        let files = files_recursively(&store.join(result));
        let report: serde_json::Value =
            serde_json::from_slice(&std::fs::read(store.join(result).join("report.json")).expect("report"))
                .expect("the report parses");
        let photos = report["photos"].as_array().map_or(0, Vec::len) + report["errors"].as_array().map_or(0, Vec::len);
        assert_eq!(photos, 1, "job {id}: one photo per job");
        for f in files.iter().filter(|f| f.extension().is_some_and(|e| e == "jpg")) {
            image::open(f).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
        }
        if *id == held {
            assert_eq!(*attempts, 2, "the killed worker's job was taken up again");
            assert_ne!(by.as_deref(), Some("victim"));
        }
    }
    // Work done once: every job has one result prefix in the store, except the killed job,
    // which may also hold what the victim wrote before it died (never committed).
    let mut prefixes: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for f in files_recursively(&store.join("results")) {
        let rel = f.strip_prefix(store.join("results")).expect("under results");
        let mut parts = rel.iter().map(|p| p.to_string_lossy().into_owned());
        if let (Some(id), Some(token)) = (parts.next(), parts.next()) {
            prefixes.entry(id).or_default().insert(token);
        }
    }
    for (id, tokens) in &prefixes {
        let limit = if *id == held { 2 } else { 1 };
        assert!(tokens.len() <= limit, "job {id} was made {} times: {tokens:?}", tokens.len());
    }
    assert!(!files_recursively(&store).iter().any(|f| f.to_string_lossy().contains(".partial")));

    // Idempotent: the same photos again are the same jobs.
    enqueue(&photos);
    assert_eq!(jobs(&rt, &queue).len(), 8);
}

/// A worker that stalls past its lease and comes back cannot commit over the worker that took
/// its job over, nor renew a claim it no longer holds; two claims never hold one job.
#[test]
fn a_worker_that_comes_back_late_cannot_overwrite_the_newer_result() {
    let Some(server) = postgres() else { return };
    let url = fresh_database(&server, "fence");
    let rt = runtime();
    rt.block_on(async {
        let queue = Queue::connect(&url).await.expect("queue");
        let spec = JobSpec {
            input: "inputs/x.jpg".into(),
            name: "x.jpg".into(),
            uses: vec!["linkedin".into()],
            background: "auto".into(),
        };
        let id = queue.enqueue(&spec).await.expect("enqueue");
        let late = queue.claim("late", Duration::from_millis(500), 3).await.expect("claim").expect("a job");
        assert_eq!(late.id, id);
        assert!(queue.claim("other", Duration::from_secs(30), 3).await.expect("claim").is_none(), "claimed twice");
        tokio::time::sleep(Duration::from_millis(700)).await;
        let fresh = queue.claim("fresh", Duration::from_secs(30), 3).await.expect("claim").expect("taken over");
        assert_eq!((fresh.id.as_str(), fresh.attempt), (id.as_str(), 2));
        // The late worker comes back while the new one still works: it can neither commit nor
        // renew, and the new one's claim is untouched.
        assert!(!queue.commit(&late, "results/late").await.expect("commit"), "the late worker committed");
        assert!(!queue.renew(&late, Duration::from_secs(30)).await.expect("renew"));
        assert!(!queue.fail(&late, "late").await.expect("fail"));
        assert!(queue.renew(&fresh, Duration::from_secs(30)).await.expect("renew"));
        assert!(queue.commit(&fresh, "results/fresh").await.expect("commit"));
        // And after the new one's commit.
        assert!(!queue.commit(&late, "results/late").await.expect("commit"), "the late worker committed");
        let row = queue.jobs().await.expect("jobs").into_iter().find(|j| j.id == id).expect("the job");
        assert_eq!((row.state.as_str(), row.result.as_deref()), ("done", Some("results/fresh")));
    });
}
