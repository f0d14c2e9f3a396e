//! Studio work spread over many machines: a queue of jobs on PostgreSQL (`queue`), the photos
//! and outputs behind `object_store` (`store`), and the loop a worker runs (`worker`).
//!
//! A job is one photo and the options to make its outputs with. It is a pure function of
//! those (the same photo and options give the same outputs), so running it twice is harmless:
//! its id is the digest of the photo's bytes and the options, enqueueing it again is a no-op,
//! and a job whose worker died is simply run again. What makes "done exactly once in effect"
//! is the commit: a worker writes the outputs under a prefix of its own claim, then marks the
//! job done in the database only if its claim is still the current one (a fencing token). A
//! worker that comes back after its claim was taken over cannot commit, and removes what it
//! wrote; readers find a job's outputs through the prefix the database committed.

pub mod queue;
pub mod store;
pub mod worker;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// What a job makes: one photo (an object in the store) and the studio's options for it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobSpec {
    /// The photo's object path in the store (`inputs/<sha256>.<ext>`: named by content).
    pub input: String,
    /// The photo's own name, for the outputs' folder and the report.
    pub name: String,
    /// The uses to make (empty: every headshot and portrait use).
    pub uses: Vec<String>,
    /// The background choice, as `headshot studio --background` takes it.
    pub background: String,
}

impl JobSpec {
    /// The job's stable id: the digest of what it makes and of the program that makes it, so
    /// the same work is never queued twice and a new version of the program redoes it.
    pub fn id(&self) -> String {
        let mut h = Sha256::new();
        h.update(env!("CARGO_PKG_VERSION").as_bytes());
        h.update([0]);
        // Serialising a plain struct of strings cannot fail.
        h.update(serde_json::to_vec(self).unwrap_or_default());
        hex(&h.finalize()[..16])
    }
}

/// Where one claim of a job writes its outputs: every claim has its own prefix, so two workers
/// on the same job never write the same object, and the commit names the prefix that counts.
pub fn result_prefix(job: &str, token: &str) -> String {
    format!("results/{job}/{token}")
}

/// The content digest an input photo is stored under.
pub fn content_name(bytes: &[u8], extension: &str) -> String {
    format!("inputs/{}.{extension}", hex(&Sha256::digest(bytes)))
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// What a sweep found under `results/`.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Swept {
    /// Objects under a prefix the queue refers to: kept.
    pub kept: usize,
    /// Objects under a prefix nobody refers to: removed.
    pub removed: usize,
}

/// Removes the outputs no job refers to: those of workers that died mid-job, or lost their
/// claim and could not clean up (the store was down). Safe while workers run: the store is
/// listed before the queue is read, so any prefix listed was claimed before the queue is
/// read, and the queue then names it if its claim is still current or committed.
pub async fn sweep(queue: &queue::Queue, store: &store::Store) -> Result<Swept, JobError> {
    let objects = store.list("results").await?;
    let live = queue.live_prefixes().await?;
    let mut swept = Swept::default();
    for name in objects {
        // results/<job>/<token>/<file...>
        let prefix = name.splitn(4, '/').take(3).collect::<Vec<_>>().join("/");
        if live.contains(&prefix) {
            swept.kept += 1;
        } else {
            store.delete(&name).await?;
            swept.removed += 1;
        }
    }
    Ok(swept)
}

/// What went wrong with the queue, the store or a job.
#[derive(Debug, thiserror::Error)]
pub enum JobError {
    #[error("queue: {0}")]
    Queue(#[from] tokio_postgres::Error),
    #[error("store: {0}")]
    Store(#[from] object_store::Error),
    #[error("store {url}: {reason}")]
    StoreUrl { url: String, reason: String },
    #[error("{path}: {source}")]
    Io { path: String, source: std::io::Error },
    #[error("job {id}: {reason}")]
    Job { id: String, reason: String },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_job_id_names_its_work() {
        let spec = JobSpec {
            input: "inputs/ab.jpg".into(),
            name: "a.jpg".into(),
            uses: vec!["linkedin".into()],
            background: "auto".into(),
        };
        assert_eq!(spec.id(), spec.clone().id());
        assert_eq!(spec.id().len(), 32);
        let other = JobSpec { background: "white".into(), ..spec.clone() };
        assert_ne!(spec.id(), other.id());
    }
}
