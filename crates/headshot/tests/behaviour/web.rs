//! The HTTP API against the real router, the real studio and real photos: uploads, polling,
//! reports, outputs, zips, refusals, a full queue, restarts and expiry.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use headshot::web::{self, App, Config};
use http_body_util::BodyExt;
use serde_json::Value;
use tower::ServiceExt;

use crate::common::{example, scratch};

pub(crate) const BOUNDARY: &str = "headshot-test-boundary-7c1f";

/// A part of a multipart form: a file (name, bytes) or a text field.
pub(crate) enum Part<'a> {
    File(&'a str, Vec<u8>),
    Text(&'a str, &'a str),
}

pub(crate) fn multipart(parts: &[Part]) -> Vec<u8> {
    let mut body = Vec::new();
    for p in parts {
        body.extend_from_slice(format!("--{BOUNDARY}\r\n").as_bytes());
        match p {
            Part::File(name, bytes) => {
                body.extend_from_slice(
                    format!(
                        "Content-Disposition: form-data; name=\"photos\"; filename=\"{name}\"\r\n\
                         Content-Type: application/octet-stream\r\n\r\n"
                    )
                    .as_bytes(),
                );
                body.extend_from_slice(bytes);
            }
            Part::Text(name, value) => {
                body.extend_from_slice(
                    format!("Content-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}").as_bytes(),
                );
            }
        }
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    body
}

pub(crate) fn photo(name: &str) -> Vec<u8> {
    std::fs::read(example(name)).expect("example photo")
}

pub(crate) struct Server {
    pub(crate) app: Arc<App>,
    pub(crate) router: Router,
}

impl Server {
    pub(crate) fn open(config: Config) -> Server {
        let app = App::open(config, headshot::Analyzer::default()).expect("data folder");
        Server { router: web::router(app.clone()), app }
    }

    pub(crate) fn config(dir: &Path) -> Config {
        Config { data: dir.to_path_buf(), ..Config::default() }
    }

    pub(crate) async fn send(&self, req: Request<Body>) -> (StatusCode, axum::http::HeaderMap, Vec<u8>) {
        let res = self.router.clone().oneshot(req).await.expect("router answers");
        let (parts, body) = res.into_parts();
        let bytes = body.collect().await.expect("body").to_bytes().to_vec();
        (parts.status, parts.headers, bytes)
    }

    pub(crate) async fn get(&self, uri: &str) -> (StatusCode, axum::http::HeaderMap, Vec<u8>) {
        self.send(Request::get(uri).body(Body::empty()).expect("request")).await
    }

    async fn get_with_host(&self, uri: &str, host: &str) -> (StatusCode, axum::http::HeaderMap, Vec<u8>) {
        self.send(Request::get(uri).header(header::HOST, host).body(Body::empty()).expect("request")).await
    }

    pub(crate) async fn get_json(&self, uri: &str) -> (StatusCode, Value) {
        let (status, _, body) = self.get(uri).await;
        (status, serde_json::from_slice(&body).unwrap_or(Value::Null))
    }

    pub(crate) async fn upload(&self, parts: &[Part<'_>]) -> (StatusCode, axum::http::HeaderMap, Value) {
        let req = Request::post("/api/sessions")
            .header(header::CONTENT_TYPE, format!("multipart/form-data; boundary={BOUNDARY}"))
            .body(Body::from(multipart(parts)))
            .expect("request");
        let (status, headers, body) = self.send(req).await;
        (status, headers, serde_json::from_slice(&body).unwrap_or(Value::Null))
    }

    /// Uploads `parts` as a new session and waits for its render to end; its id.
    pub(crate) async fn rendered(&self, parts: &[Part<'_>]) -> String {
        let (_, _, created) = self.upload(parts).await;
        let id = created["id"].as_str().unwrap_or_else(|| panic!("no session: {created}")).to_string();
        self.finished(&id).await;
        id
    }

    /// Polls a session until it is done or failed (or a generous time has passed).
    pub(crate) async fn finished(&self, id: &str) -> Value {
        let started = Instant::now();
        loop {
            let (status, s) = self.get_json(&format!("/api/sessions/{id}")).await;
            assert_eq!(status, StatusCode::OK, "{s}");
            if s["state"] == "done" || s["state"] == "failed" {
                return s;
            }
            assert!(started.elapsed() < Duration::from_secs(300), "session {id} never finished: {s}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    pub(crate) fn stored_sessions(&self) -> usize {
        std::fs::read_dir(self.app.config.data.join("sessions")).map_or(0, |d| d.count())
    }

    pub(crate) fn staged_uploads(&self) -> usize {
        std::fs::read_dir(self.app.config.data.join("uploads")).map_or(0, |d| d.count())
    }
}

/// Without the parts that only a studio run adds (and the path, which names the stored file).
fn analysis_part(mut report: Value) -> Value {
    if let Some(o) = report.as_object_mut() {
        for k in ["path", "outputs", "preview", "output_errors"] {
            o.remove(k);
        }
    }
    report
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_reports_as_analyze_does_and_serves_its_outputs() {
    let dir = scratch("web-session");
    let server = Server::open(Server::config(&dir));
    let (status, headers, created) = server.upload(&[Part::File("astronaut.png", photo("astronaut.png"))]).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{created}");
    let id = created["id"].as_str().expect("id").to_string();
    assert_eq!(headers[header::LOCATION], format!("/api/sessions/{id}").as_str());
    let s = server.finished(&id).await;
    assert_eq!(s["state"], "done", "{s}");
    assert_eq!(s["progress"]["done"], 1);

    // The report is the one `headshot analyze` prints for the same photo.
    let (status, report) = server.get_json(&format!("/api/sessions/{id}/report")).await;
    assert_eq!(status, StatusCode::OK);
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_headshot"))
        .args(["analyze", "--json"])
        .arg(example("astronaut.png"))
        .output()
        .expect("headshot analyze");
    let cli: Value = serde_json::from_slice(&out.stdout).expect("analyze JSON");
    assert_eq!(report["photos"][0]["path"], "astronaut.png", "paths name the upload, not the server's folder");
    assert_eq!(analysis_part(report["photos"][0].clone()), analysis_part(cli["photos"][0].clone()));
    assert_eq!(s["report"], report, "the session shows the same report");

    // The LinkedIn output: a 400x400 JPEG, served as one.
    let linkedin = report["photos"][0]["outputs"]
        .as_array()
        .and_then(|o| o.iter().find(|o| o["use"] == "linkedin"))
        .expect("a linkedin output");
    let (status, headers, bytes) =
        server.get(&format!("/api/sessions/{id}/files/{}", linkedin["path"].as_str().expect("path"))).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers[header::CONTENT_TYPE], "image/jpeg");
    assert_eq!(image::guess_format(&bytes).expect("format"), image::ImageFormat::Jpeg);
    let img = image::load_from_memory(&bytes).expect("decodes");
    assert_eq!((img.width(), img.height()), (400, 400));
    assert_eq!(bytes.len() as u64, linkedin["bytes"].as_u64().expect("bytes"));

    // Every output in one zip.
    let (status, headers, zip) = server.get(&format!("/api/sessions/{id}/download.zip")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers[header::CONTENT_TYPE], "application/zip");
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(zip)).expect("a zip");
    let outputs = report["photos"][0]["outputs"].as_array().map_or(0, Vec::len);
    assert_eq!(archive.len(), outputs + 2, "outputs, report.json and the contact sheet");
    let entry = archive.by_name(linkedin["path"].as_str().expect("path")).expect("linkedin in the zip");
    assert_eq!(entry.size(), bytes.len() as u64);
    drop(entry);

    // Rendered again with another background: the outputs change, the verdicts do not.
    let req = Request::post(format!("/api/sessions/{id}/render"))
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(r##"{"background": "#203040", "uses": ["linkedin"]}"##))
        .expect("request");
    let (status, _, body) = server.send(req).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{}", String::from_utf8_lossy(&body));
    let again = server.finished(&id).await;
    assert_eq!(again["renders"], 2);
    let outputs = again["report"]["photos"][0]["outputs"].as_array().cloned().unwrap_or_default();
    assert_eq!(outputs.len(), 1, "only the use asked for");
    assert_eq!(outputs[0]["background"], "#203040");

    // Deleted: gone from the API and from the disk.
    let (status, _, _) =
        server.send(Request::delete(format!("/api/sessions/{id}")).body(Body::empty()).expect("req")).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(server.get_json(&format!("/api/sessions/{id}")).await.0, StatusCode::NOT_FOUND);
    assert_eq!(server.stored_sessions(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_uploads_get_clear_errors_and_leave_nothing_behind() {
    let dir = scratch("web-refusals");
    let config = Config {
        max_photos: 2,
        max_photo_bytes: 1024 * 1024,
        max_upload_bytes: 3 * 1024 * 1024,
        ..Server::config(&dir)
    };
    let server = Server::open(config);
    let small = photo("obama.jpg");
    assert!(small.len() < 1024 * 1024);
    let mut big = vec![0xFF, 0xD8, 0xFF, 0xE0];
    big.resize(1024 * 1024 + 10, 7);
    let cases: Vec<(&str, Vec<Part>, StatusCode, &str, &str)> = vec![
        (
            "not an image",
            vec![Part::File("notes.txt", b"hello, not a photo".to_vec())],
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "not-a-photo",
            "notes.txt",
        ),
        (
            "an svg named .jpg",
            vec![
                Part::File("fake.jpg", b"<svg xmlns='http://www.w3.org/2000/svg'/>".to_vec()),
                Part::File("ok.jpg", small.clone()),
            ],
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "not-a-photo",
            "fake.jpg",
        ),
        (
            "a photo too large",
            vec![Part::File("huge.jpg", big.clone())],
            StatusCode::PAYLOAD_TOO_LARGE,
            "photo-too-large",
            "huge.jpg",
        ),
        (
            "too many photos",
            vec![
                Part::File("a.jpg", small.clone()),
                Part::File("b.jpg", small.clone()),
                Part::File("c.jpg", small.clone()),
            ],
            StatusCode::BAD_REQUEST,
            "too-many-photos",
            "at most 2",
        ),
        ("no photos", vec![Part::Text("background", "white")], StatusCode::BAD_REQUEST, "no-photos", "no photos"),
        (
            "an unknown background",
            vec![Part::File("a.jpg", small.clone()), Part::Text("background", "plaid")],
            StatusCode::BAD_REQUEST,
            "bad-option",
            "plaid",
        ),
        (
            "an unknown use",
            vec![Part::File("a.jpg", small.clone()), Part::Text("uses", "linkedin,myspace")],
            StatusCode::BAD_REQUEST,
            "bad-option",
            "myspace",
        ),
        (
            "an upload over the request limit",
            vec![Part::File("a.jpg", small.clone()), Part::File("b.jpg", big.clone()), Part::File("c.jpg", big)],
            StatusCode::PAYLOAD_TOO_LARGE,
            "",
            "",
        ),
    ];
    for (what, parts, want, code, names) in cases {
        let (status, _, body) = server.upload(&parts).await;
        assert_eq!(status, want, "{what}: {body}");
        if !code.is_empty() {
            assert_eq!(body["error"]["code"], code, "{what}: {body}");
            let message = body["error"]["message"].as_str().unwrap_or_default();
            assert!(message.contains(names), "{what}: the message should name {names:?}: {message}");
        }
        assert_eq!(server.stored_sessions(), 0, "{what}: a refused upload left a session");
        assert_eq!(server.staged_uploads(), 0, "{what}: a refused upload left files");
    }

    // Names never reach the disk unchecked.
    for uri in [
        "/api/sessions/..%2F..%2Fetc",
        "/api/sessions/0123456789abcdef0123456789abcdef",
        "/api/sessions/0123456789abcdef0123456789abcdef/files/..%2Fsession.json",
    ] {
        let (status, _, _) = server.get(uri).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{uri}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outputs_of_a_session_are_the_only_files_it_serves() {
    let dir = scratch("web-paths");
    let server = Server::open(Server::config(&dir));
    let id = server.rendered(&[Part::File("obama.jpg", photo("obama.jpg"))]).await;
    for path in [
        "../session.json",
        "..%2Fsession.json",
        "obama/../../session.json",
        "%2e%2e/inputs/obama.jpg",
        "index.html",
        "obama/.x.partial",
    ] {
        let (status, _, _) = server.get(&format!("/api/sessions/{id}/files/{path}")).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
    }
    let (status, headers, _) = server.get(&format!("/api/sessions/{id}/files/obama/linkedin.jpg?download=1")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers[header::CONTENT_DISPOSITION], "attachment; filename=\"obama-linkedin.jpg\"");
    // The page and everything it loads carry the policy that keeps it to this server.
    let (_, headers, page) = server.get("/").await;
    assert!(headers[header::CONTENT_TYPE].to_str().is_ok_and(|t| t.starts_with("text/html")));
    assert!(headers[header::CONTENT_SECURITY_POLICY].to_str().is_ok_and(|c| c.contains("default-src 'none'")));
    assert_eq!(headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
    let page = String::from_utf8(page).expect("utf-8");
    assert!(!page.contains("http://") && !page.contains("https://"), "the page loads nothing from elsewhere");
    for asset in ["/assets/app.js", "/assets/app.css", "/assets/icon.svg"] {
        assert_eq!(server.get(asset).await.0, StatusCode::OK, "{asset}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_queue_answers_503_with_retry_after() {
    let dir = scratch("web-queue");
    let server = Server::open(Config { workers: 1, queue: 1, ..Server::config(&dir) });
    let bytes = photo("astronaut.png");
    let mut accepted = Vec::new();
    let mut refused = None;
    for _ in 0..4 {
        let (status, headers, body) = server.upload(&[Part::File("astronaut.png", bytes.clone())]).await;
        match status {
            StatusCode::ACCEPTED => accepted.push(body["id"].as_str().expect("id").to_string()),
            StatusCode::SERVICE_UNAVAILABLE => refused = Some((headers, body)),
            other => panic!("unexpected {other}: {body}"),
        }
    }
    let (headers, body) = refused.expect("one worker and a queue of one cannot take four sessions at once");
    assert_eq!(body["error"]["code"], "busy");
    let retry: u64 =
        headers[header::RETRY_AFTER].to_str().ok().and_then(|s| s.parse().ok()).expect("Retry-After seconds");
    assert!((1..=600).contains(&retry), "{retry}");
    assert_eq!(server.stored_sessions(), accepted.len(), "a refused upload left a session");
    for id in &accepted {
        assert_eq!(server.finished(id).await["state"], "done");
    }
    // Room again once the work is done.
    let (status, _, _) = server.upload(&[Part::File("astronaut.png", bytes)]).await;
    assert_eq!(status, StatusCode::ACCEPTED);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_survive_a_restart_and_unfinished_ones_resume() {
    let dir = scratch("web-restart");
    let id = {
        let server = Server::open(Server::config(&dir));
        let (_, _, created) = server.upload(&[Part::File("obama.jpg", photo("obama.jpg"))]).await;
        let id = created["id"].as_str().expect("id").to_string();
        assert_eq!(server.finished(&id).await["state"], "done");
        id
    };
    // As if the process had stopped in the middle of a render.
    let record = dir.join("sessions").join(&id).join("session.json");
    let mut s: Value = serde_json::from_slice(&std::fs::read(&record).expect("record")).expect("json");
    s["state"] = "running".into();
    std::fs::write(&record, serde_json::to_vec(&s).expect("json")).expect("write");
    std::fs::create_dir_all(dir.join("uploads").join("half")).expect("a half upload");

    let server = Server::open(Server::config(&dir));
    assert_eq!(server.staged_uploads(), 0, "half uploads are cleared at start");
    let s = server.finished(&id).await;
    assert_eq!(s["state"], "done", "{s}");
    assert_eq!(s["renders"], 2, "the interrupted render ran again");
    assert_eq!(s["report"]["photos"][0]["path"], "obama.jpg");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_expire_after_the_keep_time() {
    let dir = scratch("web-expiry");
    let server = Server::open(Config { keep: Duration::from_secs(2), ..Server::config(&dir) });
    let id = server.rendered(&[Part::File("obama.jpg", photo("obama.jpg"))]).await;
    let started = Instant::now();
    while server.get_json(&format!("/api/sessions/{id}")).await.0 == StatusCode::OK {
        assert!(started.elapsed() < Duration::from_secs(30), "never expired");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(server.stored_sessions(), 0, "its folder is removed too");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_openapi_file_describes_every_route() {
    let dir = scratch("web-openapi");
    let server = Server::open(Server::config(&dir));
    let (status, spec) = server.get_json("/api/openapi.json").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(spec["openapi"], "3.1.0");
    for path in [
        "/api/sessions",
        "/api/sessions/{id}",
        "/api/sessions/{id}/report",
        "/api/sessions/{id}/render",
        "/api/sessions/{id}/files/{path}",
        "/api/sessions/{id}/download.zip",
        "/api/uses",
        "/api/limits",
        "/api/vocabulary",
    ] {
        assert!(spec["paths"][path].is_object(), "{path} is not described");
        // And the route exists: it answers something other than the fallback's 404 page.
        let concrete = path.replace("{id}", "0123456789abcdef0123456789abcdef").replace("{path}", "x.jpg");
        let (_, _, body) = server.get(&concrete).await;
        let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
        assert_ne!(body["error"]["code"], "not-found", "{path} has no route");
    }
    let (_, words) = server.get_json("/api/vocabulary").await;
    assert_eq!(words["reasons"]["busy-background"], "busy background");
    assert_eq!(words["framing"]["half-body"], "Half-body portrait");
}

/// What another site could make a browser send is refused before it reaches a handler: a form
/// posted from another origin, a request through a rebound DNS name, a render body that is not
/// JSON. The page's own requests (same origin, loopback host) and plain clients (no Origin)
/// still work.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cross_site_requests_and_rebound_hosts_are_refused() {
    let dir = scratch("web-cross-site");
    let server = Server::open(Server::config(&dir));
    let upload = |origin: Option<&str>, host: &str| {
        let mut req = Request::post("/api/sessions")
            .header(header::HOST, host)
            .header(header::CONTENT_TYPE, format!("multipart/form-data; boundary={BOUNDARY}"));
        if let Some(o) = origin {
            req = req.header(header::ORIGIN, o);
        }
        req.body(Body::from(multipart(&[Part::File("obama.jpg", photo("obama.jpg"))]))).expect("request")
    };
    let (status, _, body) = server.send(upload(Some("http://evil.example"), "127.0.0.1:8080")).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{}", String::from_utf8_lossy(&body));
    assert!(String::from_utf8_lossy(&body).contains("cross-site"));
    let (status, _, _) = server.send(upload(None, "evil.example:8080")).await;
    assert_eq!(status, StatusCode::MISDIRECTED_REQUEST);
    let (status, _, _) = server.get_with_host("/api/uses", "rebound.example:8080").await;
    assert_eq!(status, StatusCode::MISDIRECTED_REQUEST);
    assert_eq!(server.stored_sessions(), 0, "nothing was stored");

    // The page itself: same origin, loopback host.
    let (status, _, body) = server.send(upload(Some("http://127.0.0.1:8080"), "127.0.0.1:8080")).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{}", String::from_utf8_lossy(&body));
    let id = serde_json::from_slice::<Value>(&body).expect("json")["id"].as_str().expect("id").to_string();
    server.finished(&id).await;
    // A render body sent as a form is refused; as JSON it is taken.
    let render = |kind: &str| {
        Request::post(format!("/api/sessions/{id}/render"))
            .header(header::CONTENT_TYPE, kind)
            .body(Body::from(r#"{"background": "white"}"#))
            .expect("request")
    };
    let (status, _, _) = server.send(render("text/plain")).await;
    assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let (status, _, body) = server.send(render("application/json; charset=utf-8")).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{}", String::from_utf8_lossy(&body));
    server.finished(&id).await;
}
