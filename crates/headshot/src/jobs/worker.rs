//! The loop a worker runs: claim a job, make its outputs with the studio (the same code as
//! `headshot studio`), write them to the store under the claim's own prefix, commit. While it
//! works, the lease is renewed; if it dies, the lease runs out and another worker takes the job.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::queue::{Claim, Queue};
use super::store::Store;
use super::{JobError, JobSpec};
use crate::analysis::Analyzer;
use crate::studio::{self, BackgroundChoice, StudioOptions};

/// How a worker runs.
#[derive(Debug, Clone)]
pub struct WorkerOptions {
    /// Its name in the queue (which worker holds which job).
    pub name: String,
    /// How long a claim lasts without renewal: a dead worker's job waits this long.
    pub lease: Duration,
    /// A job claimed this many times is failed, not retried.
    pub max_attempts: i32,
    /// Stop when no job is queued or running (for batch runs and tests); otherwise wait.
    pub exit_when_idle: bool,
    /// Where a job's photo and outputs are kept while it runs.
    pub scratch: PathBuf,
}

/// What a worker did.
#[derive(Debug, Default, Clone, Copy)]
pub struct WorkerStats {
    pub done: usize,
    pub failed: usize,
    /// Jobs whose claim was taken over before they finished: their outputs were discarded.
    pub lost: usize,
    /// Jobs put back in the queue because the store failed under them.
    pub retried: usize,
}

/// Why a job did not finish. The job's own failures (a photo that cannot be read, an unknown
/// use) will fail again anywhere; the store's may pass, so the job is put back in the queue.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Failure {
    Job(String),
    Store(String),
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::Job(e) => f.write_str(e),
            Failure::Store(e) => write!(f, "the store failed: {e}"),
        }
    }
}

impl From<JobError> for Failure {
    /// A missing object will stay missing (its photo was deleted); any other store error may
    /// pass (a dropped connection, a full disk freed, a bucket back from throttling).
    fn from(e: JobError) -> Self {
        match e {
            JobError::Store(object_store::Error::NotFound { .. }) => Failure::Job(e.to_string()),
            JobError::Store(_) => Failure::Store(e.to_string()),
            other => Failure::Job(other.to_string()),
        }
    }
}

/// Runs jobs until told to stop (`exit_when_idle`) or the queue fails.
pub async fn run(queue: Arc<Queue>, store: Store, opts: WorkerOptions) -> Result<WorkerStats, JobError> {
    let mut stats = WorkerStats::default();
    loop {
        let Some(claim) = queue.claim(&opts.name, opts.lease, opts.max_attempts).await? else {
            if opts.exit_when_idle && queue.unfinished().await? == 0 {
                return Ok(stats);
            }
            // A lease running out, or a retry's delay ending, sends no notification: look
            // again within a lease.
            queue.wait(opts.lease.min(Duration::from_secs(5))).await;
            continue;
        };
        let started = Instant::now();
        let prefix = super::result_prefix(&claim.id, &claim.token);
        let (done_tx, done_rx) = tokio::sync::watch::channel(0);
        let work = tokio::spawn(make(store.clone(), claim.clone(), prefix.clone(), opts.scratch.clone(), done_tx));
        let outcome = hold_while(&queue, &claim, opts.lease, work, done_rx).await?;
        let applied = match &outcome {
            Ok(()) => queue.commit(&claim, &prefix).await?,
            Err(Failure::Job(reason)) => queue.fail(&claim, reason).await?,
            Err(e @ Failure::Store(_)) => queue.release(&claim, &e.to_string()).await?,
        };
        if !applied || outcome.is_err() {
            // Nobody's result: another worker holds the job now (this one stalled past its
            // lease), or the job did not finish. What cannot be removed now (the store is
            // down) stays as an orphan for `headshot jobs --sweep`; the worker carries on.
            if let Err(e) = store.delete_prefix(&prefix).await {
                eprintln!("{}: could not remove {prefix}: {e}", opts.name);
            }
        }
        let what = match (&outcome, applied) {
            (_, false) => {
                stats.lost += 1;
                "lost to another worker".to_string()
            }
            (Ok(()), true) => {
                stats.done += 1;
                "done".to_string()
            }
            (Err(e @ Failure::Store(_)), true) => {
                stats.retried += 1;
                format!("put back in the queue: {e}")
            }
            (Err(e), true) => {
                stats.failed += 1;
                format!("failed: {e}")
            }
        };
        eprintln!(
            "{}: job {} ({}) {what} in {:.1} s",
            opts.name,
            claim.id,
            claim.spec.label(),
            started.elapsed().as_secs_f64()
        );
    }
}

/// Renews the claim every third of a lease until `work` ends, and records the photos it has
/// finished as `done` counts them; its outcome (the job's error as text). Losing the claim
/// does not stop the work (it cannot be interrupted), but its commit will be refused.
async fn hold_while(
    queue: &Queue,
    claim: &Claim,
    lease: Duration,
    mut work: tokio::task::JoinHandle<Result<(), Failure>>,
    mut done: tokio::sync::watch::Receiver<i32>,
) -> Result<Result<(), Failure>, JobError> {
    let mut tick = tokio::time::interval(lease / 3);
    tick.tick().await;
    loop {
        tokio::select! {
            done = &mut work => {
                return Ok(done.unwrap_or_else(|e| Err(Failure::Job(format!("the job's task ended: {e}")))));
            }
            _ = tick.tick() => {
                queue.renew(claim, lease).await?;
            }
            // Ends (and is left out of this select) once the work has dropped its sender.
            Ok(()) = done.changed() => {
                let n = *done.borrow_and_update();
                queue.progress(claim, n).await?;
            }
        }
    }
}

/// Makes one job's outputs and writes them under `prefix`; `done` counts its finished photos.
async fn make(
    store: Store,
    claim: Claim,
    prefix: String,
    scratch: PathBuf,
    done: tokio::sync::watch::Sender<i32>,
) -> Result<(), Failure> {
    let dir = scratch.join(format!("{}-{}", claim.id, claim.token));
    let result = make_in(&store, &claim.spec, &prefix, &dir, done).await;
    let _ = tokio::fs::remove_dir_all(&dir).await;
    result
}

async fn make_in(
    store: &Store,
    spec: &JobSpec,
    prefix: &str,
    dir: &Path,
    done: tokio::sync::watch::Sender<i32>,
) -> Result<(), Failure> {
    // The scratch folder is this machine's: a failure there is the job's, as for `studio`.
    let local = |e: std::io::Error| Failure::Job(e.to_string());
    let (in_dir, out) = (dir.join("in"), dir.join("out"));
    tokio::fs::create_dir_all(&in_dir).await.map_err(local)?;
    let mut inputs: Vec<PathBuf> = Vec::new();
    for photo in spec.photos() {
        let bytes = store.get(&photo.input).await?;
        let input = in_dir.join(local_name(&photo.name, &inputs));
        tokio::fs::write(&input, bytes).await.map_err(local)?;
        inputs.push(input);
    }
    let spec = spec.clone();
    let run_out = out.clone();
    tokio::task::spawn_blocking(move || {
        let finished = std::sync::atomic::AtomicI32::new(0);
        let on_photo = || {
            done.send_replace(finished.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1);
        };
        studio_job(&spec, &inputs, &run_out, &on_photo)
    })
    .await
    .map_err(|e| Failure::Job(e.to_string()))?
    .map_err(Failure::Job)?;
    for file in files_under(&out).map_err(local)? {
        let rel =
            file.strip_prefix(&out).map_err(|e| Failure::Job(e.to_string()))?.to_string_lossy().replace('\\', "/");
        let bytes = tokio::fs::read(&file).await.map_err(local)?;
        store.put(&format!("{prefix}/{rel}"), bytes).await?;
    }
    Ok(())
}

/// The file name a job's photo is made under in the scratch folder: only the name's last part
/// (a job names no path on the machine that queued it), and numbered when a team has two
/// members of the same name (photos from different folders), so neither overwrites the other.
fn local_name(name: &str, taken: &[PathBuf]) -> String {
    let base = Path::new(name).file_name().map(|n| n.to_string_lossy().into_owned());
    let base = base.filter(|n| !n.is_empty()).unwrap_or_else(|| "photo.jpg".into());
    let used = |n: &str| taken.iter().any(|p| p.file_name().is_some_and(|f| f.to_string_lossy() == n));
    if !used(&base) {
        return base;
    }
    (2..).map(|k| format!("{k}-{base}")).find(|n| !used(n)).unwrap_or(base)
}

/// The studio on a job's photos, as `headshot studio --uses ... --background ... [--team]` would
/// run it, or as a web server renders a session in-process; `on_photo` after each photo.
fn studio_job(spec: &JobSpec, inputs: &[PathBuf], out: &Path, on_photo: &(dyn Fn() + Sync)) -> Result<(), String> {
    let in_dir = inputs.first().and_then(|p| p.parent()).map(Path::to_path_buf);
    if let Some(session) = &spec.session {
        let until = Instant::now() + Duration::from_secs(session.budget_secs);
        let dir = in_dir.unwrap_or_default();
        let (analyzer, opts) = crate::web::session_studio(&Analyzer::default(), &session.options, &dir, until)?;
        studio::run(&analyzer, inputs, &opts, out, session.options.team, |_| on_photo()).map_err(|e| e.to_string())?;
        return Ok(());
    }
    let mut analyzer = Analyzer::default();
    if !spec.uses.is_empty() {
        let unknown = analyzer.catalogue.select(&spec.uses);
        if !unknown.is_empty() {
            return Err(format!("unknown uses: {}", unknown.join(", ")));
        }
    }
    let background: BackgroundChoice = spec.background.parse().map_err(|e: String| e)?;
    let opts = StudioOptions {
        background,
        names_relative_to: in_dir,
        include_all: spec.team.as_ref().is_some_and(|t| t.include_all),
        keep_light: spec.team.as_ref().is_some_and(|t| t.keep_light),
        ..Default::default()
    };
    studio::run(&analyzer, inputs, &opts, out, spec.team.is_some(), |_| on_photo()).map_err(|e| e.to_string())?;
    Ok(())
}

/// Every file under `dir`, recursively (the studio writes no links).
fn files_under(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d)? {
            let entry = entry?;
            let kind = entry.file_type()?;
            if kind.is_dir() {
                stack.push(entry.path());
            } else if kind.is_file() {
                out.push(entry.path());
            }
        }
    }
    out.sort();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn team_members_of_the_same_name_get_their_own_files() {
        let mut taken = Vec::new();
        for name in ["a/me.jpg", "b/me.jpg", "/etc/../me.jpg", ""] {
            let n = local_name(name, &taken);
            taken.push(PathBuf::from("in").join(n));
        }
        let names: Vec<String> = taken.iter().map(|p| p.to_string_lossy().into_owned()).collect();
        assert_eq!(names, ["in/me.jpg", "in/2-me.jpg", "in/3-me.jpg", "in/photo.jpg"]);
    }
}
