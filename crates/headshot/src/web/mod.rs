//! The web app and HTTP API (`headshot serve`): a page where a person drops photos and gets
//! every output, and the JSON API behind it. The same studio as the command line runs behind
//! a bounded queue; sessions live on disk (`store`), uploads are checked as they stream in
//! (`upload`), a fixed number of workers render (`worker`), and the page, its script and the
//! OpenAPI description are compiled into the binary (`assets`): nothing is fetched from outside.
//! With a shared queue (`serve --queue postgres://... --store ...`) sessions live in its
//! database and store instead, and `headshot worker`s render them (`shared`).

mod api;
mod assets;
pub mod shared;
pub mod store;
mod upload;
mod worker;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::TimeoutLayer;

use crate::analysis::Analyzer;
pub use store::{Progress, RenderOptions, Session, State, Store};
pub(crate) use worker::session_studio;

/// Where a front-end that renders nothing itself sends its work (`serve --queue URL --store
/// URL`): a PostgreSQL queue shared with the workers and the other front-ends, and the object
/// store they share.
#[derive(Debug, Clone)]
pub struct SharedUrls {
    pub queue: String,
    pub store: String,
}

/// Settings of a server.
#[derive(Debug, Clone)]
pub struct Config {
    pub addr: SocketAddr,
    /// Where sessions are kept.
    pub data: PathBuf,
    /// Photos in one session.
    pub max_photos: usize,
    /// One photo's file size.
    pub max_photo_bytes: u64,
    /// One upload request's size (all its photos).
    pub max_upload_bytes: u64,
    /// Sessions rendered at once (each already uses every core for its photos).
    pub workers: usize,
    /// Sessions waiting for a worker; beyond it new work is refused with 503.
    pub queue: usize,
    /// A session untouched for this long is removed.
    pub keep: Duration,
    /// Longest time one request may take.
    pub request_timeout: Duration,
    /// Longest time one session's render may take: photos not started by then are reported as
    /// not done, so one huge session cannot hold a worker for an hour.
    pub render_budget: Duration,
    /// One turn of a worker: a session with photos left after this long goes to the back of
    /// the queue (its finished photos are kept), so one large session cannot hold a worker
    /// while small ones wait.
    pub turn: Duration,
    /// Uploads read at the same time; more are answered 429 with Retry-After (each may stage up
    /// to `max_upload_bytes`).
    pub max_uploads: usize,
    /// Sessions kept at once; beyond it the oldest finished ones are swept, and when none is
    /// finished new uploads are answered 503.
    pub max_sessions: usize,
    /// Disk the data folder may use, bytes, the same way.
    pub max_disk_bytes: u64,
    /// How long a client may take to send a request's headers.
    pub header_timeout: Duration,
    /// A secret every request must carry (`Authorization: Bearer`, or the cookie the page gets
    /// from `/?token=`): required when the server listens beyond this machine.
    pub token: Option<String>,
    /// Sessions kept in a shared database and store and rendered by `headshot worker`s, instead
    /// of in the data folder by this process's own workers. The data folder then holds only
    /// uploads being read and copies of outputs being served.
    pub shared: Option<SharedUrls>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            addr: SocketAddr::from(([127, 0, 0, 1], 8080)),
            data: default_data_dir(),
            max_photos: 20,
            max_photo_bytes: 30 * 1024 * 1024,
            max_upload_bytes: 200 * 1024 * 1024,
            workers: 1,
            queue: 16,
            keep: Duration::from_secs(24 * 3600),
            request_timeout: Duration::from_secs(120),
            // 20 photos of 100 MP take about 4 minutes on 2 cores; twice that is generous.
            render_budget: Duration::from_secs(600),
            // A few photos' worth: a single photo of 100 MP takes about 10 s on 2 cores.
            turn: Duration::from_secs(20),
            max_uploads: 4,
            max_sessions: 500,
            max_disk_bytes: 20 << 30,
            token: None,
            header_timeout: HEADER_READ_TIMEOUT,
            shared: None,
        }
    }
}

/// The user's data folder for headshot (`$XDG_DATA_HOME/headshot` on Linux), or `./headshot-data`
/// when the system names none.
pub fn default_data_dir() -> PathBuf {
    dirs::data_dir().map_or_else(|| PathBuf::from("headshot-data"), |d| d.join("headshot"))
}

/// Sweeps the app's sessions (`App::sweep`) now and then: four times per `keep`, between once
/// a second and once every ten minutes.
fn start_sweeper(app: &Arc<App>) {
    let app = app.clone();
    tokio::spawn(async move {
        let every = (app.config.keep / 4).clamp(Duration::from_secs(1), Duration::from_secs(600));
        loop {
            app.sweep().await;
            tokio::time::sleep(every).await;
        }
    });
}

/// What every request handler shares.
#[derive(Debug)]
pub struct App {
    pub config: Config,
    pub store: Store,
    pub analyzer: Analyzer,
    /// The shared queue and store, when sessions live there (`Config::shared`).
    pub shared: Option<shared::Shared>,
    queue: worker::Queue,
    /// Mean wall time of a session's render, ms (for Retry-After).
    mean_run_ms: AtomicU64,
    /// Uploads being read (`Config::max_uploads`).
    uploads: Arc<tokio::sync::Semaphore>,
    /// The data folder's size, bytes, and when it was measured (walking it is not free).
    disk_use: std::sync::Mutex<Option<(std::time::Instant, u64)>>,
}

impl App {
    /// Opens the data folder, starts the workers and the expiry sweep, and puts sessions a
    /// previous process left queued or running back in the queue. Needs a Tokio runtime.
    pub fn open(config: Config, analyzer: Analyzer) -> std::io::Result<Arc<App>> {
        let (app, rx) = Self::new(config, analyzer, None)?;
        worker::start(&app, rx);
        Ok(app)
    }

    /// Opens a front-end whose sessions live in the shared queue and store (`Config::shared`,
    /// or the data folder's as `open` does when there is none): it renders nothing itself, and
    /// sweeps expired sessions as every front-end does. Needs a Tokio runtime.
    pub async fn open_shared(config: Config, analyzer: Analyzer) -> anyhow::Result<Arc<App>> {
        let Some(urls) = config.shared.clone() else { return Ok(Self::open(config, analyzer)?) };
        let shared = shared::Shared::connect(&urls.queue, &urls.store, &config.data).await?;
        let (app, _) = Self::new(config, analyzer, Some(shared))?;
        start_sweeper(&app);
        Ok(app)
    }

    /// Removes the sessions untouched for `keep` (a render under way is never swept), and what
    /// nobody owns any more: folders without a session, abandoned uploads, and a shared
    /// front-end's copies of outputs not read for as long.
    async fn sweep(&self) {
        let keep = self.config.keep;
        match &self.shared {
            Some(shared) => {
                if let Err(e) = shared.expire(keep).await {
                    eprintln!("headshot: could not sweep expired sessions: {e}");
                }
                shared.sweep_copies(keep);
            }
            None => {
                for id in self.store.expired(store::now(), keep) {
                    self.store.remove(&id);
                }
            }
        }
        self.store.sweep_orphans(keep);
    }

    fn new(
        config: Config,
        analyzer: Analyzer,
        shared: Option<shared::Shared>,
    ) -> std::io::Result<(Arc<App>, tokio::sync::mpsc::Receiver<String>)> {
        let store = Store::open(&config.data)?;
        let (queue, rx) = worker::Queue::new(config.queue.max(1));
        let uploads = Arc::new(tokio::sync::Semaphore::new(config.max_uploads.max(1)));
        let app = Arc::new(App {
            config,
            store,
            analyzer,
            shared,
            queue,
            mean_run_ms: AtomicU64::new(5000),
            uploads,
            disk_use: std::sync::Mutex::new(None),
        });
        Ok((app, rx))
    }

    /// Seconds a client should wait before trying again when the queue is full: a place in the
    /// queue opens when a worker finishes a session, on average one session's time divided by
    /// the workers.
    fn retry_after(&self) -> u64 {
        let per_session = self.mean_run_ms.load(Ordering::Relaxed) as f64 / 1000.0;
        (per_session / self.config.workers.max(1) as f64).ceil().clamp(1.0, 600.0) as u64
    }

    /// The data folder's size, measured at most every few seconds.
    fn disk_use(&self) -> u64 {
        let mut cached = self.disk_use.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((at, bytes)) = *cached
            && at.elapsed() < Duration::from_secs(5)
        {
            return bytes;
        }
        let bytes = store::folder_size(self.store.root());
        *cached = Some((std::time::Instant::now(), bytes));
        bytes
    }

    /// Makes room for one more upload of up to `max_upload_bytes`: while the sessions or the
    /// disk they use are at their limit, the oldest finished session is swept. `Full` when
    /// nothing finished is left to sweep. Shared sessions count over every front-end; their
    /// store's size is the deployment's to watch, not a front-end's.
    async fn make_room(&self) -> Result<(), ApiError> {
        let Some(shared) = &self.shared else { return self.make_local_room() };
        while shared.count().await? >= self.config.max_sessions {
            let Some(oldest) = shared.oldest_finished().await? else {
                return Err(ApiError::Full { retry_after: self.retry_after() });
            };
            shared.remove(&oldest).await?;
        }
        Ok(())
    }

    fn make_local_room(&self) -> Result<(), ApiError> {
        let limit = self.config.max_disk_bytes;
        loop {
            let over = self.store.len() >= self.config.max_sessions
                || self.disk_use().saturating_add(self.config.max_upload_bytes) > limit;
            if !over {
                return Ok(());
            }
            let Some(oldest) = self.store.oldest_finished() else {
                return Err(ApiError::Full { retry_after: self.retry_after() });
            };
            self.store.remove(&oldest);
            *self.disk_use.lock().unwrap_or_else(|p| p.into_inner()) = None;
        }
    }

    fn record_run(&self, took: Duration) {
        let old = self.mean_run_ms.load(Ordering::Relaxed) as f64;
        let new = 0.8 * old + 0.2 * took.as_millis() as f64;
        self.mean_run_ms.store(new as u64, Ordering::Relaxed);
    }
}

/// Why a request was refused, as the API answers it: a status and
/// `{"error": {"code": ..., "message": ...}}`.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("no such session (it may have expired or been deleted)")]
    NoSession,
    #[error("no such file in this session")]
    NoFile,
    #[error("not found")]
    NotFound,
    #[error("{file}: not a JPEG, PNG, WebP, TIFF, HEIC or AVIF photo")]
    NotAPhoto { file: String },
    #[error("{file}: larger than the limit of {} MB per photo", max / (1024 * 1024))]
    PhotoTooLarge { file: String, max: u64 },
    #[error("the upload is larger than the server accepts at once")]
    UploadTooLarge,
    #[error("too many photos: at most {max} per session")]
    TooManyPhotos { max: usize },
    #[error("no photos in the upload (send them as file parts of a multipart form)")]
    NoPhotos,
    #[error("the upload could not be read: {0}")]
    BadUpload(String),
    #[error("{0}")]
    BadOption(String),
    #[error("the session is still being rendered; try again when it is done")]
    StillRendering,
    #[error("busy: {queued} sessions are waiting; try again in {retry_after} s")]
    Busy { queued: usize, retry_after: u64 },
    #[error("internal error: {0}")]
    Internal(String),
    #[error("requests that change something must come from this server's own page (origin {0})")]
    CrossSite(String),
    #[error("this server answers to its own address, not to {0}")]
    WrongHost(String),
    #[error("the body must be JSON (Content-Type: application/json)")]
    NotJson,
    #[error("too many uploads at once; try again in {retry_after} s")]
    TooManyUploads { retry_after: u64 },
    #[error("the server's storage for sessions is full; try again in {retry_after} s")]
    Full { retry_after: u64 },
    #[error("this server needs its access token (open the address it printed at start, or send Authorization: Bearer)")]
    Unauthorized,
}

impl ApiError {
    fn io(e: std::io::Error) -> ApiError {
        ApiError::Internal(e.to_string())
    }

    fn status(&self) -> StatusCode {
        match self {
            ApiError::NoSession | ApiError::NoFile | ApiError::NotFound => StatusCode::NOT_FOUND,
            ApiError::NotAPhoto { .. } => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::PhotoTooLarge { .. } | ApiError::UploadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::TooManyPhotos { .. } | ApiError::NoPhotos | ApiError::BadUpload(_) | ApiError::BadOption(_) => {
                StatusCode::BAD_REQUEST
            }
            ApiError::StillRendering => StatusCode::CONFLICT,
            ApiError::Busy { .. } => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
            ApiError::CrossSite(_) => StatusCode::FORBIDDEN,
            ApiError::WrongHost(_) => StatusCode::MISDIRECTED_REQUEST,
            ApiError::NotJson => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::TooManyUploads { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Full { .. } => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Unauthorized => StatusCode::UNAUTHORIZED,
        }
    }

    /// A stable code for programs.
    fn code(&self) -> &'static str {
        match self {
            ApiError::NoSession => "no-session",
            ApiError::NoFile => "no-file",
            ApiError::NotFound => "not-found",
            ApiError::NotAPhoto { .. } => "not-a-photo",
            ApiError::PhotoTooLarge { .. } => "photo-too-large",
            ApiError::UploadTooLarge => "upload-too-large",
            ApiError::TooManyPhotos { .. } => "too-many-photos",
            ApiError::NoPhotos => "no-photos",
            ApiError::BadUpload(_) => "bad-upload",
            ApiError::BadOption(_) => "bad-option",
            ApiError::StillRendering => "still-rendering",
            ApiError::Busy { .. } => "busy",
            ApiError::Internal(_) => "internal",
            ApiError::CrossSite(_) => "cross-site",
            ApiError::WrongHost(_) => "wrong-host",
            ApiError::NotJson => "not-json",
            ApiError::TooManyUploads { .. } => "too-many-uploads",
            ApiError::Full { .. } => "full",
            ApiError::Unauthorized => "unauthorized",
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = serde_json::json!({ "error": { "code": self.code(), "message": self.to_string() } });
        let mut r = (self.status(), axum::Json(body)).into_response();
        match self {
            ApiError::Busy { retry_after, .. }
            | ApiError::TooManyUploads { retry_after }
            | ApiError::Full { retry_after } => {
                r.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(retry_after));
            }
            ApiError::Unauthorized => {
                r.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            }
            _ => {}
        }
        r
    }
}

/// The page may load only what this server serves; it may not be framed.
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; \
                   connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

/// The whole web app: page, assets and API, with limits and security headers.
pub fn router(app: Arc<App>) -> Router {
    let upload_limit = usize::try_from(app.config.max_upload_bytes).unwrap_or(usize::MAX);
    let timeout = app.config.request_timeout;
    let header =
        |name, value: &'static str| SetResponseHeaderLayer::if_not_present(name, HeaderValue::from_static(value));
    Router::new()
        .route("/", get(assets::page))
        .route("/assets/{name}", get(assets::asset))
        .route("/api/openapi.json", get(assets::openapi))
        .route("/api/uses", get(api::uses))
        .route("/api/limits", get(api::limits))
        .route("/api/vocabulary", get(api::vocabulary))
        .route("/api/sessions", post(api::create).layer(DefaultBodyLimit::max(upload_limit)))
        .route("/api/sessions/{id}", get(api::show).delete(api::delete))
        .route("/api/sessions/{id}/report", get(api::report))
        .route("/api/sessions/{id}/render", post(api::render))
        .route("/api/sessions/{id}/download.zip", get(api::zip))
        .route("/api/sessions/{id}/files/{*path}", get(api::file))
        .fallback(api::not_found)
        .layer(axum::middleware::from_fn_with_state(app.clone(), with_token))
        .layer(axum::middleware::from_fn_with_state(app.clone(), same_site_only))
        .layer(header(header::CONTENT_SECURITY_POLICY, CSP))
        .layer(header(header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .layer(header(header::REFERRER_POLICY, "no-referrer"))
        .layer(header(header::X_FRAME_OPTIONS, "DENY"))
        .layer(header(header::CACHE_CONTROL, "no-cache"))
        .layer(TimeoutLayer::with_status_code(StatusCode::REQUEST_TIMEOUT, timeout))
        .with_state(app)
}

/// Refuses what another site could make a browser send here. A page elsewhere can post a form
/// to this server's address, and a name it controls can be pointed at 127.0.0.1 (DNS
/// rebinding): so on a loopback server the Host must be a loopback name, and every request that
/// changes something must come from this server's own page (its Origin, when the browser sends
/// one, is this Host; `Sec-Fetch-Site` is not cross-site). Clients that are not browsers send
/// neither header and are not affected.
async fn same_site_only(
    axum::extract::State(app): axum::extract::State<Arc<App>>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let headers = req.headers();
    let text = |name: header::HeaderName| headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_ascii_lowercase);
    let host = text(header::HOST);
    if let Some(host) = &host
        && app.config.addr.ip().is_loopback()
        && !is_loopback_host(host)
    {
        return ApiError::WrongHost(host.clone()).into_response();
    }
    let changes =
        !matches!(*req.method(), axum::http::Method::GET | axum::http::Method::HEAD | axum::http::Method::OPTIONS);
    if changes {
        if let Some(origin) = text(header::ORIGIN) {
            let own =
                host.as_deref().is_some_and(|h| origin == format!("http://{h}") || origin == format!("https://{h}"));
            if !own {
                return ApiError::CrossSite(origin).into_response();
            }
        }
        if text(header::HeaderName::from_static("sec-fetch-site"))
            .is_some_and(|s| s == "cross-site" || s == "same-site")
        {
            return ApiError::CrossSite("another site".into()).into_response();
        }
    }
    next.run(req).await
}

/// The name of the cookie that carries the access token for the page.
const TOKEN_COOKIE: &str = "headshot_token";

/// With a token configured, every request must carry it: an API client as `Authorization:
/// Bearer TOKEN`, a browser as the cookie it is given when it opens `/?token=TOKEN` (HttpOnly,
/// SameSite=Strict: the page's own requests and images carry it, other sites' requests do not).
async fn with_token(
    axum::extract::State(app): axum::extract::State<Arc<App>>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let Some(token) = app.config.token.as_deref() else { return next.run(req).await };
    let headers = req.headers();
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .is_some_and(|t| same_secret(t.trim(), token));
    let cookie = headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| c.trim().strip_prefix(TOKEN_COOKIE)?.strip_prefix('='))
        .any(|t| same_secret(t, token));
    if bearer || cookie {
        return next.run(req).await;
    }
    let offered = req.uri().query().into_iter().flat_map(|q| q.split('&')).find_map(|kv| kv.strip_prefix("token="));
    if req.uri().path() == "/" && offered.is_some_and(|t| same_secret(t, token)) {
        // The token leaves the address bar at once: the page is reloaded without it.
        let cookie = format!("{TOKEN_COOKIE}={token}; HttpOnly; SameSite=Strict; Path=/");
        let mut r = (StatusCode::SEE_OTHER, [(header::LOCATION, "/")]).into_response();
        if let Ok(v) = HeaderValue::from_str(&cookie) {
            r.headers_mut().insert(header::SET_COOKIE, v);
        }
        return r;
    }
    ApiError::Unauthorized.into_response()
}

/// Compares two secrets in time that depends on their lengths only.
fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// `localhost`, `127.0.0.1`, `[::1]` (any port).
fn is_loopback_host(host: &str) -> bool {
    let name = match host.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or(""),
        None => host.rsplit_once(':').map_or(host, |(n, _)| n),
    };
    name == "localhost" || name.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// Runs the server until Ctrl-C (or SIGTERM): in-flight requests finish, queued sessions stay
/// on disk and are picked up by the next start.
pub async fn serve(mut config: Config, analyzer: Analyzer) -> anyhow::Result<()> {
    // Beyond this machine, anyone who can reach the port could upload and read photos: a token
    // is required, generated when none was given.
    if config.token.is_none() && !config.addr.ip().is_loopback() {
        config.token = Some(store::new_id()?);
    }
    let (addr, data) = (config.addr, config.data.clone());
    let app = App::open_shared(config, analyzer)
        .await
        .map_err(|e| anyhow::anyhow!("cannot use the data folder {} or the shared queue: {e}", data.display()))?;
    let listener =
        tokio::net::TcpListener::bind(addr).await.map_err(|e| anyhow::anyhow!("cannot listen on {addr}: {e}"))?;
    let local = listener.local_addr()?;
    let kept = match &app.config.shared {
        Some(urls) => format!("sessions in the queue's database, photos and outputs in {}", urls.store),
        None => format!("data in {}", app.config.data.display()),
    };
    match &app.config.token {
        Some(token) => eprintln!("headshot: serving on http://{local}/?token={token} (the token is needed; {kept})"),
        None => eprintln!("headshot: serving on http://{local}/ ({kept})"),
    }
    serve_on(listener, app, shutdown()).await;
    Ok(())
}

/// Connections open at once; more wait in the kernel's backlog until one closes.
pub const MAX_CONNECTIONS: usize = 256;
/// A client has this long to send a request's headers (after connecting, or after the previous
/// answer on a kept-alive connection): a slow-headers client cannot hold a connection open.
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);
/// After a stop is asked for, requests in flight get this long to finish.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(30);

/// Serves the app on `listener` until `stop` resolves. Each connection gets the header-read
/// timeout (hyper's own, which axum's `serve` leaves off) and counts against
/// `MAX_CONNECTIONS`; the request timeout and body limits are the router's.
pub async fn serve_on(listener: tokio::net::TcpListener, app: Arc<App>, stop: impl std::future::Future<Output = ()>) {
    use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
    let router = router(app.clone());
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let connections = Arc::new(tokio::sync::Semaphore::new(MAX_CONNECTIONS));
    let header_timeout = app.config.header_timeout;
    let mut stop = std::pin::pin!(stop);
    loop {
        let permit = tokio::select! {
            permit = connections.clone().acquire_owned() => permit,
            () = &mut stop => break,
        };
        let Ok(permit) = permit else { break };
        let stream = tokio::select! {
            accepted = listener.accept() => accepted,
            () = &mut stop => break,
        };
        let stream = match stream {
            Ok((stream, _)) => stream,
            Err(_) => {
                // Out of file descriptors or a connection reset before it was taken: wait a
                // moment rather than spin.
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let router = router.clone();
        let service = hyper::service::service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
            tower::ServiceExt::oneshot(router.clone(), req.map(axum::body::Body::new))
        });
        let mut builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
        builder.http1().timer(TokioTimer::new()).header_read_timeout(header_timeout);
        let conn = builder.serve_connection_with_upgrades(TokioIo::new(stream), service).into_owned();
        let conn = graceful.watch(conn);
        tokio::spawn(async move {
            let _ = conn.await;
            drop(permit);
        });
    }
    drop(listener);
    let _ = tokio::time::timeout(SHUTDOWN_GRACE, graceful.shutdown()).await;
}

async fn shutdown() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { () = ctrl_c => {}, () = term => {} }
}
