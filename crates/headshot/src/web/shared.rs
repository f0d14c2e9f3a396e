//! Sessions shared by several front-ends (`headshot serve --queue URL --store URL`): the
//! session records in PostgreSQL beside the job queue, the photos and outputs in the object
//! store, and every render a job for `headshot worker`s. Any front-end can answer for any
//! session, so a load balancer may send a person's requests to whichever it likes.
//!
//! - A record (`headshot_web_sessions`) keeps the session as the page sent it and the jobs of
//!   its renders, the last one current. Its state, progress and error are not stored: they are
//!   read off the current job when the session is read, so a worker never writes a session
//!   and nothing can disagree with the queue.
//! - A render is a job (`jobs::SessionJob`) whose outputs a worker commits under its claim's
//!   prefix. Committed outputs never change, so each front-end keeps a copy of the ones it
//!   serves in its data folder (`results/<job>/`) without asking anyone whether it is stale.
//! - Changes that must not interleave (two renders asked for at once, on two front-ends) are
//!   one transaction with the record's row locked.

use std::path::{Path, PathBuf};

use tokio_postgres::{Client, NoTls, Row};

use super::ApiError;
use super::store::{Progress, RenderOptions, Session, State, now};
use crate::jobs::queue::{create_schema, create_tables, enqueue_on};
use crate::jobs::store::Store as ObjectStore;
use crate::jobs::{JobError, JobPhoto, JobSpec, SessionJob};

/// The front-end's side of the shared queue and store.
pub struct Shared {
    url: String,
    db: tokio::sync::Mutex<Client>,
    store: ObjectStore,
    /// This front-end's copies of committed outputs: `<data>/results/<job>/`.
    cache: PathBuf,
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared").field("store", &self.store).field("cache", &self.cache).finish_non_exhaustive()
    }
}

/// The current job of a session, as far as the session needs it.
struct JobState {
    state: String,
    progress: i32,
    error: Option<String>,
    finished: Option<i64>,
}

impl From<JobError> for ApiError {
    fn from(e: JobError) -> Self {
        ApiError::Internal(e.to_string())
    }
}

impl From<tokio_postgres::Error> for ApiError {
    fn from(e: tokio_postgres::Error) -> Self {
        ApiError::Internal(format!("queue: {e}"))
    }
}

/// Where a session's photos are in the store.
fn input_path(id: &str, name: &str) -> String {
    format!("sessions/{id}/inputs/{name}")
}

/// The job that renders `s` for the `render`th time.
fn job_for(s: &Session, render: u32, budget_secs: u64) -> JobSpec {
    let photos: Vec<JobPhoto> =
        s.photos.iter().map(|p| JobPhoto { input: input_path(&s.id, &p.name), name: p.name.clone() }).collect();
    let first = photos.first().cloned().unwrap_or(JobPhoto { input: String::new(), name: String::new() });
    JobSpec {
        input: first.input,
        name: first.name,
        uses: s.options.uses.clone(),
        background: s.options.background.clone().unwrap_or_else(|| "auto".into()),
        team: None,
        session: Some(SessionJob { id: s.id.clone(), render, photos, options: s.options.clone(), budget_secs }),
    }
}

/// A session as stored, with what its current job says: its state, progress and error, and
/// one more finished render once the job is done. `renders` in the record counts the renders
/// finished before the current one.
fn with_job(mut s: Session, job: Option<JobState>) -> Session {
    let total = s.photos.len();
    s.progress = Progress { done: 0, total };
    s.error = None;
    let Some(job) = job else {
        s.state = State::Failed;
        s.error = Some("the render's job is gone from the queue; render again".into());
        return s;
    };
    s.updated = s.updated.max(job.finished.map_or(0, |t| u64::try_from(t).unwrap_or(0)));
    s.state = match job.state.as_str() {
        "queued" => State::Queued,
        "running" => State::Running,
        "done" => State::Done,
        _ => State::Failed,
    };
    match s.state {
        State::Running => s.progress.done = usize::try_from(job.progress).unwrap_or(0).min(total),
        State::Done => {
            s.progress.done = total;
            s.renders += 1;
        }
        State::Failed => s.error = Some(job.error.unwrap_or_else(|| "the render failed".into())),
        State::Queued => {}
    }
    s
}

/// A session whose render was queued by the change just committed: its job is new (its id
/// names the session and the render's number), so nothing has happened to it yet.
fn just_queued(s: Session) -> Session {
    with_job(s, Some(JobState { state: "queued".into(), progress: 0, error: None, finished: None }))
}

/// The session and its current job from a row of `SESSION_AND_JOB`.
fn from_row(row: &Row) -> Result<(Session, i32, Vec<String>), ApiError> {
    let record: String = row.get(0);
    let session: Session =
        serde_json::from_str(&record).map_err(|e| ApiError::Internal(format!("a session record: {e}")))?;
    let job = row.get::<_, Option<String>>(3).map(|state| JobState {
        state,
        progress: row.get(4),
        error: row.get(5),
        finished: row.get(6),
    });
    Ok((with_job(session, job), row.get(1), row.get(2)))
}

/// A session's record, its renders started, its jobs, and its current job's state.
const SESSION_AND_JOB: &str = "SELECT w.record, w.seq, w.jobs, j.state, j.progress, j.error, \
     extract(epoch FROM j.finished_at)::bigint \
     FROM headshot_web_sessions w LEFT JOIN headshot_jobs j ON j.id = w.job WHERE w.id = $1";

impl Shared {
    /// Connects to the queue at `queue` (creating the tables where missing) and opens `store`;
    /// committed outputs are copied into `data/results/` as they are served.
    pub async fn connect(queue: &str, store: &str, data: &Path) -> Result<Shared, JobError> {
        let client = connect(queue).await?;
        let store = ObjectStore::open(store)?;
        let cache = data.join("results");
        std::fs::create_dir_all(&cache).map_err(|source| JobError::Io { path: cache.display().to_string(), source })?;
        Ok(Shared { url: queue.to_string(), db: tokio::sync::Mutex::new(client), store, cache })
    }

    /// The connection, made again if the last one was lost (the database restarted): a
    /// front-end outlives its database's restarts.
    async fn db(&self) -> Result<tokio::sync::MutexGuard<'_, Client>, ApiError> {
        let mut db = self.db.lock().await;
        if db.is_closed() {
            *db = connect(&self.url).await?;
        }
        Ok(db)
    }

    /// Stores an upload's photos (from `staging`) and records the session with its first render
    /// queued; the session as it now stands.
    pub async fn create(&self, s: &Session, staging: &Path, budget_secs: u64) -> Result<Session, ApiError> {
        let recorded = async {
            for p in &s.photos {
                let bytes = tokio::fs::read(staging.join(&p.name)).await.map_err(ApiError::io)?;
                self.store.put(&input_path(&s.id, &p.name), bytes).await?;
            }
            self.record(s, budget_secs).await
        };
        if let Err(e) = recorded.await {
            // Nobody will ever find photos without a record: they go now.
            let _ = self.store.delete_prefix(&format!("sessions/{}", s.id)).await;
            return Err(e);
        }
        Ok(just_queued(s.clone()))
    }

    /// Records a new session with its first render queued, as one change.
    async fn record(&self, s: &Session, budget_secs: u64) -> Result<(), ApiError> {
        let record = serde_json::to_string(s).map_err(|e| ApiError::Internal(e.to_string()))?;
        let mut db = self.db().await?;
        let tx = db.transaction().await?;
        let job = enqueue_on(&tx, &job_for(s, 1, budget_secs)).await?;
        tx.execute(
            "INSERT INTO headshot_web_sessions (id, record, seq, job, jobs, updated) \
             VALUES ($1, $2, 1, $3, ARRAY[$3], $4)",
            &[&s.id, &record, &job, &(s.updated as i64)],
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The session, as its current job leaves it; `None` if there is no such session.
    pub async fn get(&self, id: &str) -> Result<Option<Session>, ApiError> {
        let row = self.db().await?.query_opt(SESSION_AND_JOB, &[&id]).await?;
        row.map(|r| from_row(&r).map(|(s, _, _)| s)).transpose()
    }

    /// Renders the session again with `options`: one new job, unless a render is queued or
    /// running (`StillRendering`), decided with the record locked so that of two requests at
    /// once, on any front-ends, one renders and the other is told so.
    pub async fn render(&self, id: &str, options: RenderOptions, budget_secs: u64) -> Result<Session, ApiError> {
        let mut db = self.db().await?;
        let tx = db.transaction().await?;
        // The lock first, the read after, as two statements: a statement that waited for the
        // lock would see the record as the other render left it but its job as it was when the
        // statement began (joined rows are not read again), and render a second time.
        tx.query_opt("SELECT 1 FROM headshot_web_sessions WHERE id = $1 FOR UPDATE", &[&id])
            .await?
            .ok_or(ApiError::NoSession)?;
        let row = tx.query_one(SESSION_AND_JOB, &[&id]).await?;
        let (mut s, seq, _) = from_row(&row)?;
        if matches!(s.state, State::Queued | State::Running) {
            return Err(ApiError::StillRendering);
        }
        s.options = options;
        s.updated = now();
        let seq = seq + 1;
        let job = enqueue_on(&tx, &job_for(&s, u32::try_from(seq).unwrap_or(u32::MAX), budget_secs)).await?;
        let record = serde_json::to_string(&s).map_err(|e| ApiError::Internal(e.to_string()))?;
        tx.execute(
            "UPDATE headshot_web_sessions SET record = $2, seq = $3, job = $4, jobs = array_append(jobs, $4), \
             updated = $5 WHERE id = $1",
            &[&id, &record, &seq, &job, &(s.updated as i64)],
        )
        .await?;
        tx.commit().await?;
        Ok(just_queued(s))
    }

    /// Removes the session: its record, its jobs, its photos and every output in the store and
    /// in this front-end's copies. Whether it existed. A worker rendering it meanwhile cannot
    /// commit (its job is gone) and removes what it wrote.
    pub async fn remove(&self, id: &str) -> Result<bool, ApiError> {
        let jobs: Option<Vec<String>> = {
            let mut db = self.db().await?;
            let tx = db.transaction().await?;
            let row = tx.query_opt("DELETE FROM headshot_web_sessions WHERE id = $1 RETURNING jobs", &[&id]).await?;
            let jobs = row.map(|r| r.get::<_, Vec<String>>(0));
            if let Some(jobs) = &jobs {
                tx.execute("DELETE FROM headshot_jobs WHERE id = ANY($1)", &[jobs]).await?;
            }
            tx.commit().await?;
            jobs
        };
        let Some(jobs) = jobs else { return Ok(false) };
        self.forget(id, &jobs).await?;
        Ok(true)
    }

    /// Removes a deleted session's objects and this front-end's copies of its outputs.
    async fn forget(&self, id: &str, jobs: &[String]) -> Result<(), ApiError> {
        self.store.delete_prefix(&format!("sessions/{id}")).await?;
        for job in jobs {
            self.store.delete_prefix(&format!("results/{job}")).await?;
            let _ = tokio::fs::remove_dir_all(self.cache.join(job)).await;
            let _ = tokio::fs::remove_dir_all(self.zips().join(job)).await;
        }
        Ok(())
    }

    /// Removes the sessions nobody has changed for `keep` and whose render is not running
    /// (each once, whichever front-end's sweep gets there first); how many.
    pub async fn expire(&self, keep: std::time::Duration) -> Result<usize, ApiError> {
        let cutoff = now().saturating_sub(keep.as_secs()) as i64;
        let gone: Vec<(String, Vec<String>)> = {
            let mut db = self.db().await?;
            let tx = db.transaction().await?;
            let rows = tx
                .query(
                    "DELETE FROM headshot_web_sessions w WHERE greatest(w.updated, coalesce((SELECT \
                     extract(epoch FROM j.finished_at)::bigint FROM headshot_jobs j WHERE j.id = w.job), 0)) <= $1 \
                     AND NOT EXISTS (SELECT 1 FROM headshot_jobs j WHERE j.id = w.job AND j.state = 'running') \
                     RETURNING w.id, w.jobs",
                    &[&cutoff],
                )
                .await?;
            let gone: Vec<(String, Vec<String>)> = rows.iter().map(|r| (r.get(0), r.get(1))).collect();
            let jobs: Vec<&String> = gone.iter().flat_map(|(_, j)| j).collect();
            tx.execute("DELETE FROM headshot_jobs WHERE id = ANY($1)", &[&jobs]).await?;
            tx.commit().await?;
            gone
        };
        for (id, jobs) in &gone {
            self.forget(id, jobs).await?;
        }
        Ok(gone.len())
    }

    /// Sessions recorded, over every front-end.
    pub async fn count(&self) -> Result<usize, ApiError> {
        let row = self.db().await?.query_one("SELECT count(*) FROM headshot_web_sessions", &[]).await?;
        Ok(usize::try_from(row.get::<_, i64>(0)).unwrap_or(0))
    }

    /// The finished session changed longest ago.
    pub async fn oldest_finished(&self) -> Result<Option<String>, ApiError> {
        let row = self
            .db()
            .await?
            .query_opt(
                "SELECT w.id FROM headshot_web_sessions w JOIN headshot_jobs j ON j.id = w.job \
                 WHERE j.state IN ('done', 'failed') ORDER BY w.updated, w.id LIMIT 1",
                &[],
            )
            .await?;
        Ok(row.map(|r| r.get(0)))
    }

    /// Jobs waiting for a worker, sessions' and batches' alike: the shared queue's length.
    pub async fn waiting(&self) -> Result<usize, ApiError> {
        let row = self.db().await?.query_one("SELECT count(*) FROM headshot_jobs WHERE state = 'queued'", &[]).await?;
        Ok(usize::try_from(row.get::<_, i64>(0)).unwrap_or(0))
    }

    /// The folder of this front-end's copy of the session's latest finished render (the
    /// current one once it is done, the one before while it runs), copied from the store the
    /// first time it is asked for; with the job's id. `None` before any render has finished.
    pub async fn outputs(&self, id: &str) -> Result<Option<(String, PathBuf)>, ApiError> {
        let row = self
            .db()
            .await?
            .query_opt(
                "SELECT j.id, j.result FROM headshot_web_sessions w JOIN headshot_jobs j ON j.id = ANY(w.jobs) \
                 WHERE w.id = $1 AND j.state = 'done' AND j.result IS NOT NULL ORDER BY j.finished_at DESC LIMIT 1",
                &[&id],
            )
            .await?;
        let Some(row) = row else { return Ok(None) };
        let (job, prefix): (String, String) = (row.get(0), row.get(1));
        let dir = self.cache.join(&job);
        if !tokio::fs::try_exists(&dir).await.unwrap_or(false) {
            self.copy_out(&prefix, &dir).await?;
        }
        Ok(Some((job, dir)))
    }

    /// Copies the objects under `prefix` into `dir`: into a folder of its own first, renamed
    /// into place whole, so a reader never sees half a copy and two copies at once do not mix.
    async fn copy_out(&self, prefix: &str, dir: &Path) -> Result<(), ApiError> {
        let tmp = headshot_core::export::temporary_beside(dir);
        let copied = async {
            for name in self.store.list(prefix).await? {
                let Some(rel) = name.strip_prefix(prefix).map(|r| r.trim_start_matches('/')) else { continue };
                // Object names are `/`-separated and cannot hold `..` (object_store refuses it);
                // still, nothing but plain segments reaches the disk.
                let plain = Path::new(rel).components().all(|c| matches!(c, std::path::Component::Normal(_)));
                if rel.is_empty() || !plain {
                    continue;
                }
                let path = tmp.join(rel);
                if let Some(parent) = path.parent() {
                    tokio::fs::create_dir_all(parent).await.map_err(ApiError::io)?;
                }
                tokio::fs::write(&path, self.store.get(&name).await?).await.map_err(ApiError::io)?;
            }
            Ok::<(), ApiError>(())
        }
        .await;
        let placed = match copied {
            Ok(()) => tokio::fs::rename(&tmp, dir).await,
            Err(e) => {
                let _ = tokio::fs::remove_dir_all(&tmp).await;
                return Err(e);
            }
        };
        if placed.is_err() {
            // Another request copied the same outputs first: theirs is as good as this one.
            let _ = tokio::fs::remove_dir_all(&tmp).await;
            if !tokio::fs::try_exists(dir).await.unwrap_or(false) {
                return placed.map_err(ApiError::io);
            }
        }
        Ok(())
    }

    /// Where this front-end keeps the zips of its copies: `<data>/zips/<job>/`.
    pub fn zips(&self) -> PathBuf {
        self.cache.with_file_name("zips")
    }

    /// Removes this front-end's copies not read for `keep` (their sessions may live on: a copy
    /// is made again when asked for).
    pub fn sweep_copies(&self, keep: std::time::Duration) {
        for root in [self.cache.clone(), self.zips()] {
            for e in std::fs::read_dir(&root).into_iter().flatten().flatten() {
                let old = e.metadata().and_then(|m| m.modified()).is_ok_and(|t| t.elapsed().is_ok_and(|a| a >= keep));
                if old {
                    let _ = std::fs::remove_dir_all(e.path());
                }
            }
        }
    }
}

async fn connect(url: &str) -> Result<Client, JobError> {
    let (client, connection) = tokio_postgres::connect(url, NoTls).await?;
    tokio::spawn(connection);
    create_schema(&client).await?;
    create_tables(&client, SCHEMA).await?;
    Ok(client)
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS headshot_web_sessions (
    id text PRIMARY KEY,
    record text NOT NULL,
    seq integer NOT NULL,
    job text,
    jobs text[] NOT NULL,
    updated bigint NOT NULL
);
";

#[cfg(test)]
mod tests {
    use super::*;
    use crate::web::store::Upload;

    fn session() -> Session {
        Session {
            id: "0123456789abcdef0123456789abcdef".into(),
            created: 10,
            updated: 10,
            state: State::Queued,
            photos: vec![
                Upload { name: "a.jpg".into(), original: "A.jpg".into(), bytes: 1 },
                Upload { name: "b.jpg".into(), original: "b.jpg".into(), bytes: 1 },
            ],
            options: RenderOptions::default(),
            progress: Progress::default(),
            renders: 1,
            render_ms: 0,
            error: None,
        }
    }

    fn job(state: &str, progress: i32) -> Option<JobState> {
        Some(JobState { state: state.into(), progress, error: Some("boom".into()), finished: Some(20) })
    }

    #[test]
    fn a_session_reads_its_state_off_its_current_job() {
        let running = with_job(session(), job("running", 1));
        assert_eq!((running.state, running.progress.done, running.renders), (State::Running, 1, 1));
        let done = with_job(session(), job("done", 0));
        assert_eq!((done.state, done.progress.done, done.renders, done.updated), (State::Done, 2, 2, 20));
        let failed = with_job(session(), job("failed", 1));
        assert_eq!((failed.state, failed.error.as_deref(), failed.renders), (State::Failed, Some("boom"), 1));
        let gone = with_job(session(), None);
        assert_eq!(gone.state, State::Failed);
    }

    #[test]
    fn each_render_of_a_session_is_its_own_job() {
        let s = session();
        let (first, again) = (job_for(&s, 1, 600), job_for(&s, 2, 600));
        assert_ne!(first.id(), again.id());
        assert_eq!(first.id(), job_for(&s, 1, 600).id());
        let names: Vec<String> = first.photos().into_iter().map(|p| p.input).collect();
        assert_eq!(names, [input_path(&s.id, "a.jpg"), input_path(&s.id, "b.jpg")]);
    }
}
