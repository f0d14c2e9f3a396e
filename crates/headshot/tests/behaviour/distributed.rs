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
    service("HEADSHOT_TEST_POSTGRES", "HEADSHOT_REQUIRE_POSTGRES", "url=$(tests/postgres/start.sh) starts one")
}

/// A test service's address from `var`, or `None` (with a note saying how to start one) unless
/// `require` is set, as CI sets it so that there the tests cannot skip.
fn service(var: &str, require: &str, how: &str) -> Option<String> {
    match std::env::var(var) {
        Ok(url) => Some(url),
        Err(_) if std::env::var_os(require).is_none() => {
            eprintln!("skipped: no {var} ({how})");
            None
        }
        Err(_) => panic!("{require} is set but {var} is not"),
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

/// The files under `results/` of a local store, counted by their claim's prefix
/// (`results/<job>/<token>`, as the queue names a committed result).
fn result_files(store: &Path) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for f in files_recursively(&store.join("results")) {
        let rel = f.strip_prefix(store).expect("in the store");
        let prefix = rel.iter().take(3).map(|p| p.to_string_lossy()).collect::<Vec<_>>().join("/");
        *counts.entry(prefix).or_default() += 1;
    }
    counts
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

    // The sweep removes what the victim left and nothing committed: afterwards every job has
    // exactly its committed prefix, with the same files as before.
    let committed: BTreeMap<String, usize> = done
        .iter()
        .map(|j| {
            let result = j.result.clone().expect("a result");
            let n = files_recursively(&store.join(&result)).len();
            (result, n)
        })
        .collect();
    let status =
        headshot(&["jobs", "--queue", &url, "--sweep", store.to_str().expect("utf-8")]).status().expect("sweep");
    assert!(status.success());
    assert_eq!(result_files(&store), committed, "after the sweep, exactly the committed outputs are left");

    // Idempotent: the same photos again are the same jobs.
    enqueue(&photos);
    assert_eq!(jobs(&rt, &queue).len(), 8);
}

/// A team queued as one job (`enqueue --team`) is framed on a worker exactly as `headshot
/// studio --team` frames it in one process: every output the same, byte for byte, and the same
/// team record in the report (who is in, who is framed at a size of their own). The photos are
/// stored once each, and queueing the same team again adds nothing.
#[test]
fn a_team_job_on_a_worker_makes_what_the_studio_makes() {
    let Some(server) = postgres() else { return };
    let url = fresh_database(&server, "team");
    let store = scratch("team-store");
    let photos = ["deepface/img7.jpg", "deepface/img19.jpg", "deepface/img48.jpg"].map(shared);
    let paths: Vec<&str> = photos.iter().map(|p| p.to_str().expect("utf-8 path")).collect();
    let uses = "team-page,linkedin";
    let enqueue = || {
        let store = store.to_str().expect("utf-8");
        let mut args = vec!["enqueue", "--queue", &url, "--store", store, "--uses", uses, "--team"];
        args.extend(&paths);
        assert!(headshot(&args).status().expect("enqueue").success());
    };
    enqueue();
    enqueue();
    let rt = runtime();
    let queue = rt.block_on(Queue::connect(&url)).expect("queue");
    let queued = jobs(&rt, &queue);
    assert_eq!(queued.len(), 1, "one job for the team, queued once: {queued:?}");
    assert_eq!(queued[0].name, "team: img7.jpg +2");
    assert_eq!(files_recursively(&store.join("inputs")).len(), 3);

    wait_for(&mut worker(&url, &store, "w"), Duration::from_secs(300));
    let done = jobs(&rt, &queue);
    assert_eq!(done[0].state, "done", "{done:?}");
    let result = store.join(done[0].result.as_deref().expect("a result"));

    let local = scratch("team-local");
    let mut args = vec!["studio", "--team", "--uses", uses, "--out", local.to_str().expect("utf-8")];
    args.extend(&paths);
    assert!(headshot(&args).status().expect("studio").success());

    // The pictures: the same files with the same bytes (the gallery page and the report name
    // the folders they were made from, so they are compared below by content).
    let pictures = |dir: &Path| -> BTreeMap<PathBuf, Vec<u8>> {
        files_recursively(dir)
            .into_iter()
            .filter(|f| f.extension().is_some_and(|e| e == "jpg" || e == "png" || e == "webp"))
            .map(|f| (f.strip_prefix(dir).expect("under").to_path_buf(), std::fs::read(&f).expect("read")))
            .collect()
    };
    let (remote, here) = (pictures(&result), pictures(&local));
    assert!(remote.keys().any(|p| p.to_string_lossy().contains("team-page")), "{:?}", remote.keys());
    assert_eq!(remote.keys().collect::<Vec<_>>(), here.keys().collect::<Vec<_>>());
    let differ: Vec<_> = remote.iter().filter(|(path, bytes)| *bytes != &here[*path]).map(|(p, _)| p).collect();
    assert!(differ.is_empty(), "differ from the studio's: {differ:?}");
    // The report: the same members, the same verdicts, the same team sizes.
    let team_record = |dir: &Path| -> Vec<serde_json::Value> {
        let report: serde_json::Value =
            serde_json::from_slice(&std::fs::read(dir.join("report.json")).expect("report")).expect("parses");
        let photos = report["photos"].as_array().cloned().unwrap_or_default();
        photos
            .iter()
            .map(|p| {
                let outputs = p["outputs"].as_array().cloned().unwrap_or_default();
                let framed: Vec<_> = outputs
                    .iter()
                    .map(|o| [&o["use"], &o["path"], &o["eye_line"], &o["team_size"], &o["included_despite"]])
                    .map(|fields| fields.map(Clone::clone))
                    .collect();
                serde_json::json!({ "framing": p["framing"], "verdicts": p["verdicts"], "outputs": framed })
            })
            .collect()
    };
    let remote_team = team_record(&result);
    assert_eq!(remote_team.len(), 3);
    assert_eq!(remote_team, team_record(&local));
}

/// The store failing under a job (here: its results folder is a file, so nothing can be
/// written) is not the photo's fault: the job goes back to the queue with the store's error,
/// the worker carries on, and once the store is writable again the job is done by the same
/// worker, on its second attempt, with nothing of the failed attempt left behind.
#[test]
fn a_store_failure_puts_the_job_back_and_it_is_done_once_the_store_recovers() {
    let Some(server) = postgres() else { return };
    let url = fresh_database(&server, "storefail");
    let store = scratch("jobs-store-fail");
    let blocker = store.join("results");
    std::fs::write(&blocker, b"not a folder").expect("block the results folder");
    let photo = example("obama.jpg");
    let args = ["enqueue", "--queue", &url, "--store", store.to_str().expect("utf-8"), "--uses", "linkedin"];
    let mut args = args.to_vec();
    args.push(photo.to_str().expect("utf-8"));
    assert!(headshot(&args).status().expect("enqueue").success());
    let rt = runtime();
    let queue = rt.block_on(Queue::connect(&url)).expect("queue");
    let mut w = worker(&url, &store, "w");

    // Back in the queue, with the store's error, while the worker lives on.
    let started = Instant::now();
    let put_back = loop {
        assert!(started.elapsed() < Duration::from_secs(120), "the job never came back: {:?}", jobs(&rt, &queue));
        let j = jobs(&rt, &queue).remove(0);
        if j.state == "queued" && j.attempts == 1 {
            break j;
        }
        assert_ne!(j.state, "failed", "a store error failed the job: {j:?}");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(put_back.error.as_deref().is_some_and(|e| e.contains("store")), "{put_back:?}");
    assert!(w.try_wait().expect("wait").is_none(), "the worker stopped on a store error");
    std::fs::remove_file(&blocker).expect("unblock");

    wait_for(&mut w, Duration::from_secs(120));
    let j = jobs(&rt, &queue).remove(0);
    assert_eq!((j.state.as_str(), j.attempts, j.worker.as_deref()), ("done", 2, Some("w")), "{j:?}");
    let result = j.result.expect("a result");
    let under_results: BTreeSet<String> = result_files(&store).into_keys().collect();
    assert_eq!(under_results, BTreeSet::from([result]));
}

/// A job put back after a store error waits before it is claimed again, and one that has used
/// up its attempts is failed with its last error rather than claimed again.
#[test]
fn a_job_put_back_waits_and_gives_up_after_its_last_attempt() {
    let Some(server) = postgres() else { return };
    let url = fresh_database(&server, "release");
    runtime().block_on(async {
        let queue = Queue::connect(&url).await.expect("queue");
        let spec = |n: &str| JobSpec {
            input: format!("inputs/{n}.jpg"),
            name: format!("{n}.jpg"),
            uses: vec!["linkedin".into()],
            background: "auto".into(),
            team: None,
            session: None,
        };
        let id = queue.enqueue(&spec("a")).await.expect("enqueue");
        let lease = Duration::from_secs(30);
        let first = queue.claim("w", lease, 2).await.expect("claim").expect("a job");
        assert!(queue.release(&first, "the store failed: down").await.expect("release"));
        // Not again at once: it waits out its delay (2 s after a first attempt).
        assert!(queue.claim("w", lease, 2).await.expect("claim").is_none(), "claimed during its delay");
        tokio::time::sleep(Duration::from_millis(2200)).await;
        let second = queue.claim("w", lease, 2).await.expect("claim").expect("claimed after its delay");
        assert_eq!((second.id.as_str(), second.attempt), (id.as_str(), 2));
        // A put-back claim cannot be committed any more.
        assert!(!queue.commit(&first, "results/x").await.expect("commit"));
        assert!(queue.release(&second, "the store failed: still down").await.expect("release"));
        // Two attempts of two: failed, saying why, and never claimed again.
        assert!(queue.claim("w", lease, 2).await.expect("claim").is_none());
        let row = queue.jobs().await.expect("jobs").into_iter().find(|j| j.id == id).expect("the job");
        assert_eq!(row.state, "failed", "{row:?}");
        let error = row.error.unwrap_or_default();
        assert!(error.contains("gave up after 2 tries") && error.contains("still down"), "{error}");
    });
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
            team: None,
            session: None,
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

/// The S3 store under test, `s3://bucket`: `HEADSHOT_TEST_S3`, with the AWS_* variables the
/// client reads (CI starts an S3-compatible server on loopback and sets both, and
/// `HEADSHOT_REQUIRE_S3`, so there the test cannot skip).
#[cfg(feature = "s3")]
#[test]
fn workers_share_an_s3_store() {
    let how = "eval \"$(tests/s3/start.sh)\" starts one";
    if let Some(bucket) = service("HEADSHOT_TEST_S3", "HEADSHOT_REQUIRE_S3", how) {
        workers_share_a_cloud_store("s3", &bucket);
    }
}

/// The same on Azure Blob Storage, `az://container`: `HEADSHOT_TEST_AZURE`, with the AZURE_*
/// variables (CI starts Azurite, Microsoft's emulator, on loopback, and sets
/// `HEADSHOT_REQUIRE_AZURE`).
#[cfg(feature = "azure")]
#[test]
fn workers_share_an_azure_store() {
    let how = "eval \"$(tests/azure/start.sh)\" starts one";
    if let Some(container) = service("HEADSHOT_TEST_AZURE", "HEADSHOT_REQUIRE_AZURE", how) {
        workers_share_a_cloud_store("azure", &container);
    }
}

/// Two workers share a cloud store: the photos go into the bucket once, every job's outputs
/// come back out of it and decode, and a sweep there keeps exactly the committed outputs.
#[cfg(any(feature = "s3", feature = "azure"))]
fn workers_share_a_cloud_store(name: &str, bucket: &str) {
    use headshot::jobs::store::Store;
    let Some(server) = postgres() else { return };
    let url = fresh_database(&server, name);
    // A prefix of this run's own in the bucket, so runs never see each other's objects.
    let store_url = format!("{}/run-{}", bucket.trim_end_matches('/'), std::process::id());
    let photos = [example("obama.jpg"), example("grace_hopper.jpg"), shared("deepface/img7.jpg")];
    let mut args = vec!["enqueue", "--queue", &url, "--store", &store_url, "--uses", "linkedin,team-page"];
    args.extend(photos.iter().map(|p| p.to_str().expect("utf-8 path")));
    assert!(headshot(&args).status().expect("enqueue").success());
    let start = |name: &str| {
        headshot(&["worker", "--queue", &url, "--store", &store_url, "--name", name, "--exit-when-idle"])
            .spawn()
            .expect("start a worker")
    };
    let mut workers = [start("a"), start("b")];
    for w in &mut workers {
        wait_for(w, Duration::from_secs(300));
    }

    let rt = runtime();
    let queue = rt.block_on(Queue::connect(&url)).expect("queue");
    let done = jobs(&rt, &queue);
    assert_eq!(done.len(), 3);
    let store = Store::open(&store_url).expect("the cloud store");
    rt.block_on(async {
        let inputs = store.list("inputs").await.expect("list inputs");
        assert_eq!(inputs.len(), 3, "each photo stored once: {inputs:?}");
        for j in &done {
            assert_eq!(j.state, "done", "{j:?}");
            let result = j.result.as_deref().expect("a result");
            let objects = store.list(result).await.expect("list a result");
            let jpegs: Vec<&String> = objects.iter().filter(|o| o.ends_with(".jpg")).collect();
            assert!(!jpegs.is_empty(), "job {}: no outputs in {objects:?}", j.id);
            for o in jpegs {
                let bytes = store.get(o).await.expect("get an output");
                image::load_from_memory(&bytes).unwrap_or_else(|e| panic!("{o}: {e}"));
            }
            let report: serde_json::Value =
                serde_json::from_slice(&store.get(&format!("{result}/report.json")).await.expect("the report"))
                    .expect("the report parses");
            assert_eq!(report["photos"].as_array().map_or(0, Vec::len), 1);
        }
        // An orphan (a dead worker's prefix) is swept; the committed outputs stay.
        let before = store.list("results").await.expect("list").len();
        store.put("results/deadbeef/0000/linkedin/x.jpg", vec![1, 2, 3]).await.expect("put an orphan");
        let swept = headshot::jobs::sweep(&queue, &store).await.expect("sweep");
        assert_eq!((swept.removed, swept.kept), (1, before));
    });
}

/// A JSON answer of a server at `addr`.
fn get_json(addr: &str, path: &str) -> (u16, serde_json::Value) {
    let (status, body) = crate::web_hostile::http(addr, "GET", path, None, b"");
    (status, serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null))
}

/// Every output file a session's report names, fetched from `addr`, by path.
fn session_files(addr: &str, id: &str, report: &serde_json::Value) -> BTreeMap<String, Vec<u8>> {
    let mut files = BTreeMap::new();
    for photo in report["photos"].as_array().into_iter().flatten() {
        for output in photo["outputs"].as_array().into_iter().flatten() {
            let path = output["path"].as_str().expect("an output path").to_string();
            let (status, bytes) =
                crate::web_hostile::http(addr, "GET", &format!("/api/sessions/{id}/files/{path}"), None, b"");
            assert_eq!(status, 200, "{path} from {addr}");
            files.insert(path, bytes);
        }
    }
    files
}

/// Two `serve` front-ends on one queue and store (`--queue URL --store DIR`), and workers:
/// a session uploaded to one is seen by the other, rendered by a worker (not by either
/// front-end), and served by both with the same bytes a server rendering in-process makes. Two
/// renders asked for at once on the two front-ends give one render; a delete on one is a
/// delete everywhere, with nothing of the session left in the store.
#[test]
fn front_ends_share_sessions_that_workers_render() {
    use crate::web::{BOUNDARY, Part, multipart, photo};
    use crate::web_hostile::{finished_over_http, http, start_server_with};
    let Some(server) = postgres() else { return };
    let url = fresh_database(&server, "web");
    let store = scratch("web-shared-store");
    let shared = ["--queue", url.as_str(), "--store", store.to_str().expect("utf-8")];
    let (front_a, a) = start_server_with(&scratch("web-front-a"), &shared);
    let (front_b, b) = start_server_with(&scratch("web-front-b"), &shared);
    let _servers = (Stopped(front_a), Stopped(front_b));
    let content_type = format!("multipart/form-data; boundary={BOUNDARY}");
    let parts = || {
        multipart(&[
            Part::File("obama.jpg", photo("obama.jpg")),
            Part::File("grace_hopper.jpg", photo("grace_hopper.jpg")),
            Part::Text("uses", "linkedin,x"),
        ])
    };
    let (status, body) = http(&a, "POST", "/api/sessions", Some(&content_type), &parts());
    assert_eq!(status, 202, "{}", String::from_utf8_lossy(&body));
    let created: serde_json::Value = serde_json::from_slice(&body).expect("json");
    let id = created["id"].as_str().expect("id").to_string();

    // The other front-end knows the session; nobody renders it until a worker comes.
    std::thread::sleep(Duration::from_millis(500));
    let (status, seen) = get_json(&b, &format!("/api/sessions/{id}"));
    assert_eq!((status, seen["state"].as_str()), (200, Some("queued")), "{seen}");
    assert_eq!(files_recursively(&store.join("sessions").join(&id).join("inputs")).len(), 2);

    wait_for(&mut worker(&url, &store, "w1"), Duration::from_secs(300));
    let done = finished_over_http(&b, &id);
    assert_eq!(done["state"], "done", "{done}");
    assert_eq!((done["renders"].as_u64(), done["progress"]["done"].as_u64()), (Some(1), Some(2)), "{done}");
    let report = done["report"].clone();
    assert_eq!(report["photos"].as_array().map(Vec::len), Some(2), "{report}");
    let (from_a, from_b) = (session_files(&a, &id, &report), session_files(&b, &id, &report));
    assert!(from_a.keys().any(|p| p.ends_with("linkedin.jpg")), "{:?}", from_a.keys());
    assert!(from_a == from_b, "the two front-ends serve different bytes");

    // A server rendering in-process makes the same outputs of the same upload.
    let (local, l) = start_server_with(&scratch("web-front-local"), &[]);
    let _local = Stopped(local);
    let (status, body) = http(&l, "POST", "/api/sessions", Some(&content_type), &parts());
    assert_eq!(status, 202);
    let local_id =
        serde_json::from_slice::<serde_json::Value>(&body).expect("json")["id"].as_str().expect("id").to_string();
    let local_done = finished_over_http(&l, &local_id);
    assert_eq!(local_done["report"]["photos"], report["photos"], "the reports differ");
    let local_files = session_files(&l, &local_id, &local_done["report"]);
    let differ: Vec<&String> =
        from_a.iter().filter(|(p, bytes)| local_files.get(*p) != Some(bytes)).map(|(p, _)| p).collect();
    assert!(differ.is_empty(), "differ from the in-process render: {differ:?}");

    // Two renders at once, one on each front-end: one is queued, the other told it renders.
    let render = |addr: String| {
        std::thread::spawn({
            let path = format!("/api/sessions/{id}/render");
            move || http(&addr, "POST", &path, Some("application/json"), br#"{"uses": ["linkedin"]}"#).0
        })
    };
    let (ra, rb) = (render(a.clone()), render(b.clone()));
    let mut statuses = [ra.join().expect("a"), rb.join().expect("b")];
    statuses.sort();
    assert_eq!(statuses, [202, 409]);
    wait_for(&mut worker(&url, &store, "w2"), Duration::from_secs(300));
    let again = finished_over_http(&a, &id);
    assert_eq!((again["state"].as_str(), again["renders"].as_u64()), (Some("done"), Some(2)), "{again}");
    let outputs = again["report"]["photos"][0]["outputs"].as_array().cloned().unwrap_or_default();
    assert!(outputs.iter().all(|o| o["use"] == "linkedin") && !outputs.is_empty(), "{outputs:?}");
    let (status, zip) = http(&b, "GET", &format!("/api/sessions/{id}/download.zip"), None, b"");
    assert_eq!(status, 200);
    assert!(zip.starts_with(b"PK"), "not a zip");

    // Each render's worker counted the session's photos as it finished them.
    let rt = runtime();
    let queue = rt.block_on(Queue::connect(&url)).expect("queue");
    let renders = jobs(&rt, &queue);
    assert_eq!(renders.iter().map(|j| (j.state.as_str(), j.progress)).collect::<Vec<_>>(), [("done", 2), ("done", 2)]);

    // Deleted on one front-end: gone on the other, and from the store and the queue.
    assert_eq!(http(&b, "DELETE", &format!("/api/sessions/{id}"), None, b"").0, 204);
    assert_eq!(get_json(&a, &format!("/api/sessions/{id}")).0, 404);
    assert!(files_recursively(&store.join("sessions")).is_empty(), "photos left in the store");
    assert!(files_recursively(&store.join("results")).is_empty(), "outputs left in the store");
    assert!(jobs(&rt, &queue).is_empty(), "jobs left in the queue");
}

/// A server process, killed when the test ends however it ends.
struct Stopped(Child);

impl Drop for Stopped {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}
