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

/// What a job makes: one photo (an object in the store) and the studio's options for it, or a
/// team's photos framed together.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobSpec {
    /// The photo's object path in the store (`inputs/<sha256>.<ext>`: named by content); a
    /// team's first member.
    pub input: String,
    /// The photo's own name, for the outputs' folder and the report.
    pub name: String,
    /// The uses to make (empty: every headshot and portrait use).
    pub uses: Vec<String>,
    /// The background choice, as `headshot studio --background` takes it.
    pub background: String,
    /// A team job (`headshot enqueue --team`): its other members, framed with the first as one
    /// team. One job, not one per member, because the team's common size and eye line are
    /// settled across all of them; teams are small, so a company's many teams still spread over
    /// many workers. Absent from a one-photo job's record, whose id is unchanged by it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub team: Option<TeamSpec>,
    /// A web session's render (`headshot serve --queue`): its photos and every option the page
    /// can set. One job per render, not per photo: a session is small (`--max-photos`), its
    /// report and gallery cover all its photos, and many users' sessions spread over the
    /// workers. Absent from other jobs' records.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session: Option<SessionJob>,
}

/// The rest of a web session's render job.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionJob {
    /// The session's id: its photos are under `sessions/<id>/inputs/`, and deleting the
    /// session deletes its jobs.
    pub id: String,
    /// Which render of the session this is (1, 2, ...): rendering again, even with the same
    /// options, is new work, as it is in a server that renders in-process.
    pub render: u32,
    /// Every photo of the session, in upload order (the first is also `input`/`name`).
    pub photos: Vec<JobPhoto>,
    /// The options the page sent.
    pub options: crate::web::RenderOptions,
    /// The render's time budget, seconds: photos not started by then are reported as not done.
    pub budget_secs: u64,
}

/// The rest of a team job.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TeamSpec {
    /// The members after the first, in order.
    pub others: Vec<JobPhoto>,
    /// As `headshot studio --team-include-all`: every member's team outputs, even where a
    /// member's photo is judged unsuitable for the use (the report still says why).
    #[serde(default)]
    pub include_all: bool,
    /// As `headshot studio --team-keep-light`: each member's light left as their photo has it.
    #[serde(default)]
    pub keep_light: bool,
}

/// One photo of a job: where it is in the store, and its own name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobPhoto {
    pub input: String,
    pub name: String,
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

    /// Every photo the job makes outputs of: the one, or the team's members in order.
    pub fn photos(&self) -> Vec<JobPhoto> {
        if let Some(s) = &self.session {
            return s.photos.clone();
        }
        let first = JobPhoto { input: self.input.clone(), name: self.name.clone() };
        let others = self.team.iter().flat_map(|t| t.others.iter().cloned());
        std::iter::once(first).chain(others).collect()
    }

    /// How the queue names the job: the photo's name, or the team's first and how many more.
    pub fn label(&self) -> String {
        if let Some(s) = &self.session {
            let short = s.id.get(..8).unwrap_or(&s.id);
            return format!("session {short} render {}: {} photo(s)", s.render, s.photos.len());
        }
        match &self.team {
            Some(t) if !t.others.is_empty() => format!("team: {} +{}", self.name, t.others.len()),
            Some(_) => format!("team: {}", self.name),
            None => self.name.clone(),
        }
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

    /// A one-photo job of every use on the automatic background.
    fn one_photo(input: &str, name: &str) -> JobSpec {
        JobSpec {
            input: input.into(),
            name: name.into(),
            uses: vec![],
            background: "auto".into(),
            team: None,
            session: None,
        }
    }

    #[test]
    fn a_job_id_names_its_work() {
        let spec = JobSpec { uses: vec!["linkedin".into()], ..one_photo("inputs/ab.jpg", "a.jpg") };
        assert_eq!(spec.id(), spec.clone().id());
        assert_eq!(spec.id().len(), 32);
        let other = JobSpec { background: "white".into(), ..spec.clone() };
        assert_ne!(spec.id(), other.id());
    }

    #[test]
    fn a_one_photo_job_is_recorded_as_before_teams_existed() {
        let spec = one_photo("inputs/ab.jpg", "a.jpg");
        let json = serde_json::to_value(&spec).expect("serialises");
        assert!(json.get("team").is_none() && json.get("session").is_none(), "{json}");
        // A record written before teams existed reads back as a one-photo job with the same id.
        let old = r#"{"input":"inputs/ab.jpg","name":"a.jpg","uses":[],"background":"auto"}"#;
        let read: JobSpec = serde_json::from_str(old).expect("an old record reads");
        assert_eq!((read.id(), read.photos().len()), (spec.id(), 1));
    }

    #[test]
    fn a_team_job_lists_its_members_in_order_and_is_not_its_first_members_job() {
        let one = one_photo("inputs/a.jpg", "a.jpg");
        let others = vec![JobPhoto { input: "inputs/b.jpg".into(), name: "b.jpg".into() }];
        let team = JobSpec { team: Some(TeamSpec { others, include_all: false, keep_light: false }), ..one.clone() };
        let names: Vec<String> = team.photos().into_iter().map(|p| p.name).collect();
        assert_eq!(names, ["a.jpg", "b.jpg"]);
        assert_ne!(team.id(), one.id());
        assert_eq!(team.label(), "team: a.jpg +1");
    }
}
