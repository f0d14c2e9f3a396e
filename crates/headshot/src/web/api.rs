//! The JSON API's handlers. Every name that reaches the file system is checked first: session
//! ids are 32 hex digits, file paths are at most `folder/file` of safe characters.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::Json;
use axum::body::Body;
use axum::extract::{Multipart, Path as UrlPath, Query, State as AppState};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use headshot_core::judge::{Fix, Framing, Reason};
use serde::Deserialize;
use serde_json::{Value, json};

use super::store::{Progress, RenderOptions, Session, State, new_id, now, valid_id};
use super::upload::{self, UploadLimits};
use super::worker::{session_analyzer, studio_options};
use super::{ApiError, App};

type Shared = AppState<Arc<App>>;

/// The catalogue of uses (as `headshot uses --json`), and the document presets a session may
/// ask for by name (passports, visas, ID cards: made only when asked for).
pub async fn uses(AppState(app): Shared) -> Json<Value> {
    let documents: Vec<_> = headshot_core::uses::Catalogue::documents()
        .uses
        .into_iter()
        .filter(|d| !app.analyzer.catalogue.uses.iter().any(|u| u.name == d.name))
        .collect();
    Json(json!({ "uses": app.analyzer.catalogue.uses, "documents": documents }))
}

/// What the server accepts, for the page to say so before an upload is refused.
pub async fn limits(AppState(app): Shared) -> Json<Value> {
    let c = &app.config;
    Json(json!({
        "max_photos": c.max_photos,
        "max_photo_bytes": c.max_photo_bytes,
        "max_upload_bytes": c.max_upload_bytes,
        "keep_seconds": c.keep.as_secs(),
        "formats": ["jpeg", "png", "webp"],
    }))
}

/// Plain words for the report's codes, so pages need not carry their own copy.
pub async fn vocabulary() -> Json<Value> {
    fn words<T: serde::Serialize>(all: &[T], words: impl Fn(&T) -> &'static str) -> Value {
        let pairs =
            all.iter().filter_map(|v| Some((serde_json::to_value(v).ok()?.as_str()?.to_string(), json!(words(v)))));
        Value::Object(pairs.collect())
    }
    Json(json!({
        "reasons": words(&Reason::ALL, |r| r.words()),
        "fixes": words(&Fix::ALL, |f| f.words()),
        "framing": words(&Framing::ALL, |f| f.words()),
        "rules": words(&headshot_core::document::Rule::ALL, |r| r.words()),
    }))
}

/// A session as the API shows it: its record, links, and the report once done.
async fn view(app: &App, s: &Session) -> Value {
    let base = format!("/api/sessions/{}", s.id);
    let mut v = json!({
        "id": s.id,
        "state": s.state,
        "created": s.created,
        "updated": s.updated,
        "expires": s.updated.saturating_add(app.config.keep.as_secs()),
        "photos": s.photos,
        "options": s.options,
        "progress": s.progress,
        "renders": s.renders,
        "links": {
            "self": base,
            "report": format!("{base}/report"),
            "render": format!("{base}/render"),
            "zip": format!("{base}/download.zip"),
            "files": format!("{base}/files/"),
        },
    });
    if let Some(e) = &s.error {
        v["error"] = json!(e);
    }
    if s.renders > 0
        && let Some(report) = read_report(app, &s.id).await
    {
        v["report"] = report;
    }
    v
}

async fn read_report(app: &App, id: &str) -> Option<Value> {
    let out = outputs(app, id).await.ok()??;
    let bytes = tokio::fs::read(out.join("report.json")).await.ok()?;
    serde_json::from_slice(&bytes).ok()
}

async fn session(app: &App, id: &str) -> Result<Session, ApiError> {
    if !valid_id(id) {
        return Err(ApiError::NoSession);
    }
    match &app.shared {
        Some(shared) => shared.get(id).await?.ok_or(ApiError::NoSession),
        None => app.store.get(id).ok_or(ApiError::NoSession),
    }
}

/// The folder of the session's latest outputs: its own in the data folder, or this
/// front-end's copy of its last finished render (`None` before there is one).
async fn outputs(app: &App, id: &str) -> Result<Option<PathBuf>, ApiError> {
    match &app.shared {
        Some(shared) => Ok(shared.outputs(id).await?.map(|(_, dir)| dir)),
        None => Ok(Some(app.store.out(id))),
    }
}

/// Refuses new work when as much is waiting as the server takes (over every front-end when
/// the queue is shared).
async fn room_to_render(app: &App) -> Result<(), ApiError> {
    let Some(shared) = &app.shared else {
        return if app.has_room() { Ok(()) } else { Err(app.busy()) };
    };
    let queued = shared.waiting().await?;
    if queued < app.config.queue.max(1) {
        return Ok(());
    }
    Err(ApiError::Busy { queued, retry_after: app.retry_after() })
}

/// Checks options against what the server knows, before anything is queued.
fn check_options(app: &App, o: &RenderOptions, photos: &[super::store::Upload]) -> Result<(), ApiError> {
    studio_options(o, Path::new("")).map_err(ApiError::BadOption)?;
    session_analyzer(&app.analyzer, o).map_err(ApiError::BadOption)?;
    for (name, &n) in &o.subjects {
        if !photos.iter().any(|p| &p.name == name) {
            return Err(ApiError::BadOption(format!("subjects: no photo named {name:?} in this session")));
        }
        if n == 0 {
            return Err(ApiError::BadOption("subjects: faces are numbered from 1".into()));
        }
    }
    Ok(())
}

/// `POST /api/sessions`: a multipart upload of photos (and options) starts a session.
pub async fn create(AppState(app): Shared, form: Multipart) -> Result<Response, ApiError> {
    // Refuse before storing anything when no worker could take it anyway, when as many uploads
    // as allowed are being read, or when there is no room to keep it.
    let reading = app.uploads.clone().try_acquire_owned();
    let refused = if let Err(e) = room_to_render(&app).await {
        Some(e)
    } else if reading.is_err() {
        Some(ApiError::TooManyUploads { retry_after: 5 })
    } else {
        app.make_room().await.err()
    };
    if let Some(e) = refused {
        drain(form, DRAIN_BYTES).await;
        return Err(e);
    }
    let id = new_id().map_err(ApiError::io)?;
    let staging = app.store.staging(&id);
    // Removed however this request ends: refused, failed, or dropped by the request timeout or a
    // client that went away (then no code after an await runs, but this guard's drop does).
    let _staging_guard = StagingGuard(staging.clone());
    let limits = UploadLimits { max_photos: app.config.max_photos, max_photo_bytes: app.config.max_photo_bytes };
    let read = upload::read(form, &staging, limits).await;
    let session = read.and_then(|(photos, options)| {
        check_options(&app, &options, &photos)?;
        let t = now();
        Ok(Session {
            id: id.clone(),
            created: t,
            updated: t,
            state: State::Queued,
            progress: Progress { done: 0, total: photos.len() },
            photos,
            options,
            renders: 0,
            render_ms: 0,
            error: None,
        })
    });
    let accepted = match (session, &app.shared) {
        (Ok(s), Some(shared)) => shared.create(&s, &staging, app.config.render_budget.as_secs()).await,
        (Ok(s), None) => app.store.insert(s.clone()).map(|()| s).map_err(ApiError::io),
        (Err(e), _) => Err(e),
    };
    let s = match accepted {
        Ok(s) => s,
        Err(e) => {
            let _ = tokio::fs::remove_dir_all(&staging).await;
            return Err(e);
        }
    };
    if app.shared.is_none()
        && let Err(e) = app.submit(&id)
    {
        app.store.remove(&id);
        return Err(e);
    }
    let mut r = (StatusCode::ACCEPTED, Json(view(&app, &s).await)).into_response();
    if let Ok(loc) = HeaderValue::from_str(&format!("/api/sessions/{id}")) {
        r.headers_mut().insert(header::LOCATION, loc);
    }
    Ok(r)
}

/// How much of a refused upload is read and thrown away so that its client reads the answer.
const DRAIN_BYTES: u64 = 8 << 20;

/// Reads and discards up to `cap` bytes of an upload that is being refused: a client still
/// sending its body when the answer comes gets a broken pipe instead of the answer and its
/// Retry-After. An upload larger than that (a phone photo is 2-6 MB) is cut off.
async fn drain(mut form: Multipart, cap: u64) {
    let mut seen = 0u64;
    while let Ok(Some(mut field)) = form.next_field().await {
        while let Ok(Some(chunk)) = field.chunk().await {
            seen += chunk.len() as u64;
            if seen > cap {
                return;
            }
        }
    }
}

/// Removes an upload's staging folder when dropped (after a successful upload it has been
/// moved into the session, and there is nothing left to remove).
struct StagingGuard(PathBuf);

impl Drop for StagingGuard {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// `GET /api/sessions/{id}`.
pub async fn show(AppState(app): Shared, UrlPath(id): UrlPath<String>) -> Result<Json<Value>, ApiError> {
    let s = session(&app, &id).await?;
    Ok(Json(view(&app, &s).await))
}

/// `GET /api/sessions/{id}/report`: the `contract.md` REPORT document of the last render.
pub async fn report(AppState(app): Shared, UrlPath(id): UrlPath<String>) -> Result<Json<Value>, ApiError> {
    let s = session(&app, &id).await?;
    if s.renders == 0 {
        return Err(ApiError::StillRendering);
    }
    read_report(&app, &id).await.map(Json).ok_or(ApiError::NoFile)
}

/// `POST /api/sessions/{id}/render`: render again with other options (JSON `RenderOptions`;
/// fields left out keep their values).
pub async fn render(
    AppState(app): Shared,
    UrlPath(id): UrlPath<String>,
    headers: axum::http::HeaderMap,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    // JSON only: a form post (which a page elsewhere can send without asking) is refused.
    let json = headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.split(';').next().is_some_and(|m| m.trim().eq_ignore_ascii_case("application/json")));
    if !body.is_empty() && !json {
        return Err(ApiError::NotJson);
    }
    let s = session(&app, &id).await?;
    if matches!(s.state, State::Queued | State::Running) {
        return Err(ApiError::StillRendering);
    }
    let mut merged = serde_json::to_value(&s.options).map_err(|e| ApiError::Internal(e.to_string()))?;
    let changes: Value = if body.is_empty() {
        json!({})
    } else {
        serde_json::from_slice(&body).map_err(|e| ApiError::BadOption(format!("the body is not JSON: {e}")))?
    };
    let Value::Object(changes) = changes else {
        return Err(ApiError::BadOption("the body must be a JSON object of options".into()));
    };
    for (k, v) in changes {
        merged[k] = v;
    }
    let options: RenderOptions =
        serde_json::from_value(merged).map_err(|e| ApiError::BadOption(format!("options: {e}")))?;
    check_options(&app, &options, &s.photos)?;
    room_to_render(&app).await?;
    if let Some(shared) = &app.shared {
        let s = shared.render(&id, options, app.config.render_budget.as_secs()).await?;
        return Ok((StatusCode::ACCEPTED, Json(view(&app, &s).await)).into_response());
    }
    // The state is checked again where it is changed, in one step: of two renders asked for
    // at once (a double click), one is queued and the other told the session is rendering.
    let s = app
        .store
        .try_update(&id, |s| {
            if matches!(s.state, State::Queued | State::Running) {
                return Err(ApiError::StillRendering);
            }
            s.options = options;
            s.state = State::Queued;
            s.updated = now();
            s.render_ms = 0;
            Ok(())
        })
        .ok_or(ApiError::NoSession)??;
    app.submit(&id).inspect_err(|_| {
        app.store.update(&id, |s| s.state = if s.renders > 0 { State::Done } else { State::Failed });
    })?;
    Ok((StatusCode::ACCEPTED, Json(view(&app, &s).await)).into_response())
}

/// `DELETE /api/sessions/{id}`: the photos, outputs and record are removed.
pub async fn delete(AppState(app): Shared, UrlPath(id): UrlPath<String>) -> Result<StatusCode, ApiError> {
    session(&app, &id).await?;
    match &app.shared {
        Some(shared) => {
            shared.remove(&id).await?;
        }
        None => {
            app.store.remove(&id);
        }
    }
    Ok(StatusCode::NO_CONTENT)
}

/// A relative output path from a URL, checked: one or two segments of letters, digits, `-`,
/// `_` and `.`, none starting with a dot, ending in an extension the studio writes.
fn safe_rel(path: &str) -> Option<PathBuf> {
    let segments: Vec<&str> = path.split('/').collect();
    if segments.is_empty() || segments.len() > 2 {
        return None;
    }
    for s in &segments {
        let ok =
            !s.is_empty() && !s.starts_with('.') && s.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b));
        if !ok {
            return None;
        }
    }
    let ext = Path::new(path).extension()?.to_str()?;
    content_type(ext)?;
    Some(segments.iter().collect())
}

fn content_type(ext: &str) -> Option<&'static str> {
    Some(match ext {
        "jpg" => "image/jpeg",
        "png" => "image/png",
        "webp" => "image/webp",
        "json" => "application/json",
        _ => return None,
    })
}

#[derive(Debug, Deserialize)]
pub struct FileQuery {
    /// Present: answer as an attachment (a download) rather than for display.
    download: Option<String>,
}

/// `GET /api/sessions/{id}/files/{path}`: one output, preview, the contact sheet or the report.
pub async fn file(
    AppState(app): Shared,
    UrlPath((id, path)): UrlPath<(String, String)>,
    Query(q): Query<FileQuery>,
) -> Result<Response, ApiError> {
    session(&app, &id).await?;
    let rel = safe_rel(&path).ok_or(ApiError::NoFile)?;
    let full = outputs(&app, &id).await?.ok_or(ApiError::NoFile)?.join(&rel);
    // Regular files only: never a link out of the folder.
    let meta = tokio::fs::symlink_metadata(&full).await.map_err(|_| ApiError::NoFile)?;
    if !meta.is_file() {
        return Err(ApiError::NoFile);
    }
    let bytes = tokio::fs::read(&full).await.map_err(|_| ApiError::NoFile)?;
    let ext = rel.extension().and_then(|e| e.to_str()).unwrap_or_default();
    let mut r = Response::new(Body::from(bytes));
    let ct = content_type(ext).unwrap_or("application/octet-stream");
    r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(ct));
    if q.download.is_some() {
        // photo/linkedin.jpg -> photo-linkedin.jpg: one name that says what it is.
        let name = path.replace('/', "-");
        if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{name}\"")) {
            r.headers_mut().insert(header::CONTENT_DISPOSITION, v);
        }
    }
    Ok(r)
}

/// `GET /api/sessions/{id}/download.zip`: every output of the last render and the report.
pub async fn zip(AppState(app): Shared, UrlPath(id): UrlPath<String>) -> Result<Response, ApiError> {
    let s = session(&app, &id).await?;
    if s.renders == 0 || s.state != State::Done {
        return Err(ApiError::StillRendering);
    }
    let (dir, out) = match &app.shared {
        // A shared render's outputs never change: one zip per render's job.
        Some(shared) => {
            let (job, out) = shared.outputs(&id).await?.ok_or(ApiError::StillRendering)?;
            let dir = shared.zips().join(job);
            tokio::fs::create_dir_all(&dir).await.map_err(ApiError::io)?;
            (dir, out)
        }
        None => (app.store.dir(&id), app.store.out(&id)),
    };
    let zip_path = dir.join(format!("headshots-{}.zip", s.renders));
    if !zip_path.exists() {
        let (zp, out) = (zip_path.clone(), out.clone());
        tokio::task::spawn_blocking(move || write_zip(&out, &zp))
            .await
            .map_err(|e| ApiError::Internal(e.to_string()))?
            .map_err(ApiError::io)?;
    }
    let file = tokio::fs::File::open(&zip_path).await.map_err(ApiError::io)?;
    let len = file.metadata().await.map_err(ApiError::io)?.len();
    let body = Body::from_stream(tokio_util::io::ReaderStream::new(file));
    let mut r = Response::new(body);
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/zip"));
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(len));
    h.insert(header::CONTENT_DISPOSITION, HeaderValue::from_static("attachment; filename=\"headshots.zip\""));
    Ok(r)
}

/// Writes the zip of a render's outputs (stored, not deflated: the images are compressed
/// already) to a temporary name and renames it into place; older zips are removed.
fn write_zip(out: &Path, dest: &Path) -> std::io::Result<()> {
    let dir = dest.parent().unwrap_or(Path::new("."));
    // Older renders' zips go; this render's own (another download may be serving it) stays.
    for e in std::fs::read_dir(dir)?.flatten() {
        let n = e.file_name().to_string_lossy().into_owned();
        if n.starts_with("headshots-") && n.ends_with(".zip") && e.path() != dest {
            let _ = std::fs::remove_file(e.path());
        }
    }
    // A name of its own per download being built: two at once never write into one file.
    let tmp = headshot_core::export::temporary_beside(dest);
    let file = std::fs::File::create(&tmp)?;
    let mut zip = zip::ZipWriter::new(std::io::BufWriter::new(file));
    let opts = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    let mut entries: Vec<(String, PathBuf)> = Vec::new();
    for folder in std::fs::read_dir(out)?.flatten() {
        let fname = folder.file_name().to_string_lossy().into_owned();
        if folder.file_type().is_ok_and(|t| t.is_dir()) {
            for f in std::fs::read_dir(folder.path())?.flatten() {
                let name = f.file_name().to_string_lossy().into_owned();
                if safe_rel(&format!("{fname}/{name}")).is_some() && name != "photo-preview.jpg" {
                    entries.push((format!("{fname}/{name}"), f.path()));
                }
            }
        } else if fname == "report.json" || fname == "contact-sheet.jpg" {
            entries.push((fname, folder.path()));
        }
    }
    entries.sort();
    for (name, path) in entries {
        zip.start_file(name, opts).map_err(std::io::Error::other)?;
        zip.write_all(&std::fs::read(path)?)?;
    }
    let mut w = zip.finish().map_err(std::io::Error::other)?;
    w.flush()?;
    drop(w);
    std::fs::rename(&tmp, dest)
}

pub async fn not_found() -> ApiError {
    ApiError::NotFound
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_output_paths_reach_the_disk() {
        assert!(safe_rel("astronaut/linkedin.jpg").is_some());
        assert!(safe_rel("report.json").is_some());
        for bad in [
            "../session.json",
            "astronaut/../../x.jpg",
            "/etc/passwd",
            "a/b/c.jpg",
            ".hidden.jpg",
            "astronaut/.linkedin.jpg.1.partial",
            "astronaut/index.html",
            "astronaut\\..\\x.jpg",
            "",
            "a//b.jpg",
            "a/%2e%2e.jpg",
        ] {
            assert!(safe_rel(bad).is_none(), "{bad}");
        }
    }
}
