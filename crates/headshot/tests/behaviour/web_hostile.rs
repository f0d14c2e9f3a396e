//! The web app under hostile clients and load: racing requests run concurrently against the
//! real router and store, limits answered with the right status and Retry-After, slow and
//! abandoned uploads cleaned up, a token where one is required.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::{Body, Bytes};
use axum::http::{Request, StatusCode, header};
use headshot::web::{Config, Progress, RenderOptions, Session, State, Store};
use http_body_util::channel::Channel;
use serde_json::Value;

use crate::common::scratch;
use crate::web::{BOUNDARY, Part, Server, multipart, photo};

fn session(id: &str) -> Session {
    Session {
        id: id.to_string(),
        created: 1,
        updated: 1,
        state: State::Queued,
        photos: Vec::new(),
        options: RenderOptions::default(),
        progress: Progress::default(),
        renders: 0,
        render_ms: 0,
        error: None,
    }
}

/// A store with one session in it, as an upload leaves it.
fn store_with(dir: &std::path::Path, id: &str) -> Arc<Store> {
    let store = Store::open(dir).expect("store");
    std::fs::create_dir_all(store.staging(id)).expect("staging");
    store.insert(session(id)).expect("insert");
    Arc::new(store)
}

const ID: &str = "0123456789abcdef0123456789abcdef";

/// Progress from many photos at once: every change is kept, and the record on disk ends with
/// the last state, not whichever write happened to finish last.
#[test]
fn parallel_progress_updates_leave_the_latest_state_on_disk() {
    let dir = scratch("web-progress-race");
    let store = store_with(&dir, ID);
    let threads: Vec<_> = (0..8)
        .map(|_| {
            let store = store.clone();
            std::thread::spawn(move || {
                for _ in 0..50 {
                    store.update(ID, |s| s.progress.done += 1);
                }
            })
        })
        .collect();
    for t in threads {
        t.join().expect("thread");
    }
    assert_eq!(store.get(ID).map(|s| s.progress.done), Some(400));
    let on_disk: Value =
        serde_json::from_slice(&std::fs::read(store.dir(ID).join("session.json")).expect("record")).expect("json");
    assert_eq!(on_disk["progress"]["done"], 400, "the record on disk is not the latest state");
    let leftovers: Vec<_> = std::fs::read_dir(store.dir(ID))
        .expect("dir")
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().ends_with(".partial"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

/// A delete while progress is being written: the folder stays gone (a write in flight never
/// brings it back), however the two interleave.
#[test]
fn a_delete_racing_progress_writes_never_brings_the_folder_back() {
    let dir = scratch("web-delete-race");
    for round in 0..20 {
        let id = format!("{round:032x}");
        let store = store_with(&dir, &id);
        let writers: Vec<_> = (0..4)
            .map(|_| {
                let (store, id) = (store.clone(), id.clone());
                std::thread::spawn(move || while store.update(&id, |s| s.progress.done += 1).is_some() {})
            })
            .collect();
        std::thread::sleep(Duration::from_millis(2));
        assert!(store.remove(&id));
        for w in writers {
            w.join().expect("writer");
        }
        assert!(!store.dir(&id).exists(), "round {round}: the deleted session's folder came back");
    }
}

/// A double click on render: of many renders asked for at once, exactly one is queued. (More
/// threads than cores, so the requests really interleave.)
#[tokio::test(flavor = "multi_thread", worker_threads = 8)]
async fn renders_asked_for_at_once_queue_the_session_once() {
    let dir = scratch("web-double-render");
    let server = Arc::new(Server::open(Server::config(&dir)));
    let id = server.rendered(&[Part::File("obama.jpg", photo("obama.jpg"))]).await;
    // Every request's body is held back and released at the same moment, so the handlers run
    // side by side.
    let (go, _) = tokio::sync::broadcast::channel::<()>(1);
    let tasks: Vec<_> = (0..64)
        .map(|_| {
            let (server, id) = (server.clone(), id.clone());
            let (mut tx, body) = Channel::<Bytes>::new(1);
            let mut released = go.subscribe();
            tokio::spawn(async move {
                let _ = released.recv().await;
                let _ = tx.send_data(Bytes::from_static(br#"{"background": "white"}"#)).await;
            });
            tokio::spawn(async move {
                let req = Request::post(format!("/api/sessions/{id}/render"))
                    .header(header::CONTENT_TYPE, "application/json")
                    .body(Body::new(body))
                    .expect("request");
                server.send(req).await.0
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let _ = go.send(());
    let mut statuses = Vec::new();
    for t in tasks {
        statuses.push(t.await.expect("task"));
    }
    let queued = statuses.iter().filter(|&&s| s == StatusCode::ACCEPTED).count();
    assert_eq!(queued, 1, "{statuses:?}");
    assert!(statuses.iter().all(|&s| s == StatusCode::ACCEPTED || s == StatusCode::CONFLICT), "{statuses:?}");
    let s = server.finished(&id).await;
    assert_eq!(s["renders"], 2, "rendered once more, not once per click: {s}");
}

/// The report and the gallery a server writes never hold a path of the server's disk.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_report_never_holds_server_paths() {
    let dir = scratch("web-paths");
    let server = Server::open(Server::config(&dir));
    let id = server
        .rendered(&[
            Part::File("obama.jpg", photo("obama.jpg")),
            Part::File("cut.jpg", photo("biden.jpg")[..2000].to_vec()),
        ])
        .await;
    let out = dir.join("sessions").join(&id).join("out");
    let root = dir.to_string_lossy().into_owned();
    for name in ["report.json", "index.html"] {
        let text = std::fs::read_to_string(out.join(name)).expect(name);
        assert!(!text.contains(&root), "{name} names the server's folder {root}");
    }
    let report: Value = serde_json::from_slice(&std::fs::read(out.join("report.json")).expect("report")).expect("json");
    assert_eq!(report["photos"][0]["path"], "obama.jpg");
    assert_eq!(report["errors"][0]["path"], "cut.jpg");
}

/// An upload body that arrives in two parts: the first at once, the rest when `rest` is sent
/// (or never, if it is dropped).
fn slow_upload() -> (Request<Body>, tokio::sync::oneshot::Sender<()>) {
    let body = multipart(&[Part::File("obama.jpg", photo("obama.jpg"))]);
    let (mut tx, channel) = Channel::<Bytes>::new(2);
    let (rest, go) = tokio::sync::oneshot::channel::<()>();
    let half = body.len() / 2;
    let (first, second) = (Bytes::copy_from_slice(&body[..half]), Bytes::copy_from_slice(&body[half..]));
    tokio::spawn(async move {
        let _ = tx.send_data(first).await;
        if go.await.is_ok() {
            let _ = tx.send_data(second).await;
        }
    });
    let req = Request::post("/api/sessions")
        .header(header::CONTENT_TYPE, format!("multipart/form-data; boundary={BOUNDARY}"))
        .body(Body::new(channel))
        .expect("request");
    (req, rest)
}

/// More uploads at once than allowed get 429 with Retry-After, before their bodies are read;
/// when the first finishes there is room again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uploads_beyond_the_limit_at_once_get_429_with_retry_after() {
    let dir = scratch("web-upload-limit");
    let server = Arc::new(Server::open(Config { max_uploads: 1, ..Server::config(&dir) }));
    let (req, rest) = slow_upload();
    let first = {
        let server = server.clone();
        tokio::spawn(async move { server.send(req).await.0 })
    };
    // Wait until the first upload is being read (its staging folder exists).
    let started = Instant::now();
    while server.staged_uploads() == 0 {
        assert!(started.elapsed() < Duration::from_secs(10), "the first upload never started");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let (status, headers, body) = server.upload(&[Part::File("biden.jpg", photo("biden.jpg"))]).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    assert_eq!(body["error"]["code"], "too-many-uploads");
    assert!(headers.contains_key(header::RETRY_AFTER));
    rest.send(()).expect("the first upload is still waiting");
    assert_eq!(first.await.expect("task"), StatusCode::ACCEPTED);
    let (status, _, _) = server.upload(&[Part::File("biden.jpg", photo("biden.jpg"))]).await;
    assert_eq!(status, StatusCode::ACCEPTED);
}

/// A client that stops sending halfway is cut off by the request timeout, and its staging
/// folder goes with it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_upload_times_out_and_leaves_nothing_staged() {
    let dir = scratch("web-stalled");
    let server = Server::open(Config { request_timeout: Duration::from_secs(1), ..Server::config(&dir) });
    let (req, _never) = slow_upload();
    let (status, _, _) = server.send(req).await;
    assert_eq!(status, StatusCode::REQUEST_TIMEOUT);
    assert_eq!(server.staged_uploads(), 0, "the stalled upload's staging folder was left");
    assert_eq!(server.stored_sessions(), 0);
}

/// At the session limit the oldest finished session makes room; when every session is still
/// at work, a new upload is refused with 503 and Retry-After.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_session_limit_sweeps_the_oldest_finished_and_then_refuses() {
    let dir = scratch("web-session-limit");
    let server = Server::open(Config { max_sessions: 1, ..Server::config(&dir) });
    let (_, _, first) = server.upload(&[Part::File("obama.jpg", photo("obama.jpg"))]).await;
    let first = first["id"].as_str().expect("id").to_string();
    server.finished(&first).await;
    let (status, _, second) = server.upload(&[Part::File("biden.jpg", photo("biden.jpg"))]).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{second}");
    assert_eq!(server.get_json(&format!("/api/sessions/{first}")).await.0, StatusCode::NOT_FOUND, "swept");
    // The second is queued or rendering: nothing finished to sweep.
    let (status, headers, body) = server.upload(&[Part::File("obama.jpg", photo("obama.jpg"))]).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(body["error"]["code"], "full");
    assert!(headers.contains_key(header::RETRY_AFTER));
    server.finished(second["id"].as_str().expect("id")).await;
}

/// A session's render past its time budget: the first photo is always done (every turn makes
/// progress), the photos not started by then are reported as not done, by name, and the session
/// still finishes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_render_past_its_time_budget_reports_the_photos_not_done() {
    let dir = scratch("web-budget");
    let server = Server::open(Config { render_budget: Duration::ZERO, ..Server::config(&dir) });
    let names = ["obama.jpg", "biden.jpg", "grace_hopper.jpg", "two_people.jpg", "astronaut.png"];
    let parts: Vec<Part> = names.iter().map(|n| Part::File(n, photo(n))).collect();
    let (_, _, created) = server.upload(&parts).await;
    let s = server.finished(created["id"].as_str().expect("id")).await;
    assert_eq!(s["state"], "done", "{s}");
    let errors = s["report"]["errors"].as_array().expect("errors");
    let done = s["report"]["photos"].as_array().expect("photos").len();
    assert!(done >= 1 && !errors.is_empty(), "{s}");
    assert_eq!(done + errors.len(), names.len());
    assert!(errors.iter().all(|e| e["kind"] == "time-budget"), "{errors:?}");
}

/// Fair turns: a large session does not hold the only worker while a small one waits. With
/// turns shorter than a photo, the large session goes back in the queue after each photo or
/// two, and a one-photo session sent after it is done before it; the large one still finishes
/// with every photo.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_small_session_is_not_stuck_behind_a_large_one() {
    let dir = scratch("web-fair");
    let server = Server::open(Config { turn: Duration::ZERO, ..Server::config(&dir) });
    let names = ["obama.jpg", "biden.jpg", "grace_hopper.jpg", "two_people.jpg", "astronaut.png", "obama.jpg"];
    let parts: Vec<Part> =
        names.iter().enumerate().map(|(i, n)| Part::File(if i == 5 { "again.jpg" } else { n }, photo(n))).collect();
    let (_, _, large) = server.upload(&parts).await;
    let large = large["id"].as_str().expect("id").to_string();
    let (_, _, small) = server.upload(&[Part::File("biden.jpg", photo("biden.jpg"))]).await;
    let small = small["id"].as_str().expect("id").to_string();
    let small_done = server.finished(&small).await;
    assert_eq!(small_done["state"], "done");
    let (_, large_now) = server.get_json(&format!("/api/sessions/{large}")).await;
    assert_ne!(large_now["state"], "done", "the small session waited for the whole large one");
    let large_done = server.finished(&large).await;
    assert_eq!(large_done["state"], "done", "{large_done}");
    assert_eq!(large_done["report"]["photos"].as_array().map(Vec::len), Some(names.len()), "{large_done}");
    assert_eq!(large_done["report"]["errors"].as_array().map(Vec::len), Some(0));
    assert_eq!(large_done["progress"]["done"], names.len());
    assert_eq!(large_done["renders"], 1);
}

/// Folders nobody owns (a record that could not be read, a crash between a folder and its
/// record) are swept once left alone for the keep time.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn orphaned_folders_are_swept() {
    let dir = scratch("web-orphans");
    std::fs::create_dir_all(dir.join("sessions").join(ID).join("out")).expect("orphan");
    std::fs::create_dir_all(dir.join("sessions").join("not-a-session")).expect("junk");
    let server = Server::open(Config { keep: Duration::from_secs(1), ..Server::config(&dir) });
    let started = Instant::now();
    while server.stored_sessions() > 0 {
        assert!(started.elapsed() < Duration::from_secs(20), "orphans were never swept");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// With a token, nothing answers without it; the page gets it as a cookie from `/?token=`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_with_a_token_answers_only_requests_that_carry_it() {
    let dir = scratch("web-token");
    let token = "s3cret-token-for-tests-0123";
    let server = Server::open(Config { token: Some(token.into()), ..Server::config(&dir) });
    let get = |uri: &str, auth: Option<(header::HeaderName, String)>| {
        let mut req = Request::get(uri);
        if let Some((name, value)) = auth {
            req = req.header(name, value);
        }
        req.body(Body::empty()).expect("request")
    };
    for uri in ["/", "/api/uses", "/assets/app.js", "/api/sessions/0123456789abcdef0123456789abcdef"] {
        let (status, headers, _) = server.send(get(uri, None)).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{uri}");
        assert!(headers.contains_key(header::WWW_AUTHENTICATE));
    }
    let (status, _, _) = server.send(get("/api/uses", Some((header::AUTHORIZATION, "Bearer wrong".into())))).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _, _) = server.send(get("/?token=wrong", None)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _, _) = server.send(get("/api/uses", Some((header::AUTHORIZATION, format!("Bearer {token}"))))).await;
    assert_eq!(status, StatusCode::OK);
    let (status, headers, _) = server.send(get(&format!("/?token={token}"), None)).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let cookie = headers[header::SET_COOKIE].to_str().expect("cookie").to_string();
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"), "{cookie}");
    let pair = cookie.split(';').next().expect("name=value").to_string();
    let (status, _, _) = server.send(get("/", Some((header::COOKIE, pair)))).await;
    assert_eq!(status, StatusCode::OK);
}

/// Over a real socket: a client that sends half its headers and then nothing is disconnected
/// after the header timeout, while a normal request on the same server is answered.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_headers_client_is_cut_off() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let dir = scratch("web-slow-headers");
    let config = Config { header_timeout: Duration::from_secs(1), ..Server::config(&dir) };
    let app = headshot::web::App::open(config, headshot::Analyzer::default()).expect("app");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(headshot::web::serve_on(listener, app, async {
        let _ = stopped.await;
    }));

    let mut slow = tokio::net::TcpStream::connect(addr).await.expect("connect");
    slow.write_all(b"GET /api/uses HTTP/1.1\r\nHost: 127.0.0.1\r\n").await.expect("half the headers");
    let started = Instant::now();
    let mut buf = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(10), slow.read_to_end(&mut buf)).await;
    assert!(read.is_ok(), "the slow client was never cut off");
    assert!(started.elapsed() < Duration::from_secs(5), "cut off after {:?}", started.elapsed());

    let mut fine = tokio::net::TcpStream::connect(addr).await.expect("connect");
    fine.write_all(b"GET /api/uses HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n").await.expect("request");
    let mut answer = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), fine.read_to_end(&mut answer))
        .await
        .expect("answered")
        .expect("read");
    assert!(answer.starts_with(b"HTTP/1.1 200"), "{}", String::from_utf8_lossy(&answer[..answer.len().min(200)]));

    let _ = stop.send(());
    tokio::time::timeout(Duration::from_secs(40), server).await.expect("the server stops").expect("task");
}

/// One HTTP/1.1 exchange over a plain socket (`Connection: close`): status and body.
pub(crate) fn http(addr: &str, method: &str, path: &str, content_type: Option<&str>, body: &[u8]) -> (u16, Vec<u8>) {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(60))).expect("timeout");
    let mut head = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    if let Some(t) = content_type {
        head.push_str(&format!("Content-Type: {t}\r\n"));
    }
    head.push_str(&format!("Content-Length: {}\r\n\r\n", body.len()));
    s.write_all(head.as_bytes()).and_then(|()| s.write_all(body)).expect("send");
    let mut answer = Vec::new();
    let _ = s.read_to_end(&mut answer);
    let text = String::from_utf8_lossy(&answer);
    let status = text.get(9..12).and_then(|c| c.parse().ok()).unwrap_or(0);
    let start = answer.windows(4).position(|w| w == b"\r\n\r\n").map_or(answer.len(), |p| p + 4);
    (status, answer[start..].to_vec())
}

/// A session of the server at `addr`, polled until its render has ended (or a generous time
/// has passed).
pub(crate) fn finished_over_http(addr: &str, id: &str) -> Value {
    let started = Instant::now();
    loop {
        let (_, body) = http(addr, "GET", &format!("/api/sessions/{id}"), None, b"");
        let v: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
        if v["state"] == "done" || v["state"] == "failed" {
            return v;
        }
        assert!(started.elapsed() < Duration::from_secs(300), "session {id} never finished: {v}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// `headshot serve` on a free loopback port with `data`; its address.
fn start_server(data: &std::path::Path) -> (std::process::Child, String) {
    start_server_with(data, &[])
}

/// `headshot serve` on a free loopback port with `data` and `more` arguments; its address.
pub(crate) fn start_server_with(data: &std::path::Path, more: &[&str]) -> (std::process::Child, String) {
    use std::io::BufRead;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_headshot"))
        .args(["serve", "--addr", "127.0.0.1:0", "--data", &data.to_string_lossy()])
        .args(more)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn");
    let stderr = child.stderr.take().expect("stderr");
    let mut line = String::new();
    std::io::BufReader::new(stderr).read_line(&mut line).expect("banner");
    let addr = line.split("http://").nth(1).and_then(|r| r.split('/').next()).expect("address").to_string();
    (child, addr)
}

/// The server killed (SIGKILL) while it renders one session, has others queued and is in the
/// middle of reading an upload; started again on the same folder: every accepted session ends
/// done with every output whole, the half upload is gone, and no temporary survives.
#[test]
fn a_server_killed_mid_render_and_mid_upload_resumes_every_accepted_session() {
    let data = scratch("web-killed");
    let (mut server, addr) = start_server(&data);
    let content_type = format!("multipart/form-data; boundary={BOUNDARY}");
    let mut ids = Vec::new();
    for name in ["obama.jpg", "biden.jpg", "grace_hopper.jpg", "two_people.jpg"] {
        let (status, body) =
            http(&addr, "POST", "/api/sessions", Some(&content_type), &multipart(&[Part::File(name, photo(name))]));
        assert_eq!(status, 202, "{}", String::from_utf8_lossy(&body));
        let v: Value = serde_json::from_slice(&body).expect("json");
        ids.push(v["id"].as_str().expect("id").to_string());
    }
    // An upload cut off by the kill: half its body sent.
    let half_upload = {
        use std::io::Write;
        let body = multipart(&[Part::File("obama.jpg", photo("obama.jpg"))]);
        let mut s = std::net::TcpStream::connect(&addr).expect("connect");
        let head = format!(
            "POST /api/sessions HTTP/1.1\r\nHost: {addr}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\r\n",
            body.len()
        );
        s.write_all(head.as_bytes()).and_then(|()| s.write_all(&body[..body.len() / 2])).expect("send");
        s
    };
    // Kill while the first session is being rendered and the half upload is being staged (on
    // a loaded machine the server may reach the upload's bytes a moment after the render
    // starts: both are waited for).
    let started = Instant::now();
    loop {
        let (_, body) = http(&addr, "GET", &format!("/api/sessions/{}", ids[0]), None, b"");
        let v: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
        let staged = data.join("uploads").read_dir().map_or(0, |d| d.count()) > 0;
        if v["state"] == "running" && v["progress"]["done"] == 0 && staged {
            break;
        }
        assert!(v["state"] != "done", "the render finished before it could be interrupted (staged: {staged})");
        assert!(started.elapsed() < Duration::from_secs(60), "never started rendering, or staging: {v} {staged}");
        std::thread::sleep(Duration::from_millis(5));
    }
    server.kill().expect("kill");
    server.wait().expect("wait");
    drop(half_upload);

    let (mut server, addr) = start_server(&data);
    assert_eq!(data.join("uploads").read_dir().expect("uploads").count(), 0, "the half upload survived");
    for id in &ids {
        let v = finished_over_http(&addr, id);
        assert_eq!(v["state"], "done", "{v}");
        for p in v["report"]["photos"].as_array().expect("photos") {
            for o in p["outputs"].as_array().into_iter().flatten() {
                let rel = o["path"].as_str().expect("path");
                let (status, bytes) = http(&addr, "GET", &format!("/api/sessions/{id}/files/{rel}"), None, b"");
                assert_eq!(status, 200, "{rel}");
                assert_eq!(Some(bytes.len() as u64), o["bytes"].as_u64(), "{rel}");
                image::load_from_memory(&bytes).unwrap_or_else(|e| panic!("{rel} is broken: {e}"));
            }
        }
    }
    let _ = server.kill();
    let _ = server.wait();
    let leftovers: Vec<String> = crate::common::files_recursively(&data.join("sessions"))
        .into_iter()
        .map(|p| p.to_string_lossy().into_owned())
        .filter(|p| p.ends_with(".partial"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

/// Many downloads of a session's zip at once, before any is cached: each builds under a name of
/// its own, and every client gets the same whole archive.
#[tokio::test(flavor = "multi_thread", worker_threads = 8)]
async fn zips_downloaded_at_once_are_all_whole_and_alike() {
    let dir = scratch("web-zips");
    let server = Arc::new(Server::open(Server::config(&dir)));
    let id = server.rendered(&[Part::File("obama.jpg", photo("obama.jpg"))]).await;
    let tasks: Vec<_> = (0..12)
        .map(|_| {
            let (server, id) = (server.clone(), id.clone());
            tokio::spawn(async move { server.get(&format!("/api/sessions/{id}/download.zip")).await })
        })
        .collect();
    let mut bodies = Vec::new();
    for t in tasks {
        let (status, _, body) = t.await.expect("task");
        assert_eq!(status, StatusCode::OK);
        let mut archive = zip::ZipArchive::new(std::io::Cursor::new(body)).expect("a whole zip");
        let mut entries = Vec::new();
        for i in 0..archive.len() {
            let mut entry = archive.by_index(i).expect("entry");
            let mut bytes = Vec::new();
            std::io::Read::read_to_end(&mut entry, &mut bytes).expect("the entry reads whole");
            entries.push((entry.name().to_string(), bytes));
        }
        entries.sort();
        assert!(!entries.is_empty());
        bodies.push(entries);
    }
    // The same files in every download (a zip's own bytes carry times, which may differ).
    assert!(bodies.windows(2).all(|w| w[0] == w[1]), "the downloads differ");
    let leftovers: Vec<_> = std::fs::read_dir(dir.join("sessions").join(&id))
        .expect("dir")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".partial"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}
