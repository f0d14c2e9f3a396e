//! Sessions on disk: `DATA/sessions/<id>/` holds `session.json` (state, options, progress),
//! `inputs/` (the uploaded photos, never modified) and `out/` (what the studio wrote). The
//! in-memory map is a cache of those files, so a restart finds every session again.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

/// Where a session stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum State {
    /// Waiting for a worker.
    Queued,
    /// A worker is analysing and rendering.
    Running,
    /// Outputs, report and gallery are ready.
    Done,
    /// The run could not finish (the reason is in `error`).
    Failed,
}

/// One uploaded photo as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Upload {
    /// The stored file name (safe characters only), as the report names the photo.
    pub name: String,
    /// The name the person's browser sent.
    pub original: String,
    pub bytes: u64,
}

/// How a session's outputs are made (the studio's options, in a form a page can send).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RenderOptions {
    /// `auto`, `keep`, `blur`, `studio`, `studio:COLOUR` or a colour.
    pub background: Option<String>,
    /// `jpeg`, `png` or `webp` for every output instead of each use's own.
    pub format: Option<String>,
    /// Only these uses (empty: all).
    pub uses: Vec<String>,
    /// Team framing across the session's photos.
    pub team: bool,
    /// The subject (1 = most prominent face) of particular photos, by stored name.
    pub subjects: BTreeMap<String, u16>,
    /// Outputs a photo lacks the pixels for are made smaller than the use's size.
    pub smaller_if_needed: bool,
    /// The paper printed document photos are laid out on: `4x6`, `10x15`, `5x7`, `a4` or
    /// `letter` (default 4x6).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sheet: Option<String>,
}

/// Photos done out of the photos in the run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Progress {
    pub done: usize,
    pub total: usize,
}

/// A session as stored in `session.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Session {
    pub id: String,
    /// Seconds since the Unix epoch.
    pub created: u64,
    /// Last change (upload, render, finish), seconds since the Unix epoch; expiry counts from it.
    pub updated: u64,
    pub state: State,
    pub photos: Vec<Upload>,
    pub options: RenderOptions,
    pub progress: Progress,
    /// Finished renders; output URLs carry it so a browser never shows an old render.
    pub renders: u32,
    /// Time the render under way has had so far, ms, over its turns (see `worker`).
    #[serde(default)]
    pub render_ms: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// Seconds since the Unix epoch.
pub fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// A new session id: 128 random bits, hex. Unguessable, so a session's URL is its key.
pub fn new_id() -> std::io::Result<String> {
    let mut b = [0u8; 16];
    getrandom::fill(&mut b).map_err(|e| std::io::Error::other(e.to_string()))?;
    Ok(b.iter().map(|x| format!("{x:02x}")).collect())
}

/// Whether `s` has the shape of a session id (and so is safe in a path).
pub fn valid_id(s: &str) -> bool {
    s.len() == 32 && s.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// The sessions of one data folder.
#[derive(Debug)]
pub struct Store {
    root: PathBuf,
    sessions: Mutex<HashMap<String, Session>>,
    /// Held while a session's record is written or its folder removed: writes of one session
    /// never overtake each other (the file always ends with the latest state), and a removal
    /// never races a write that would bring the folder back.
    disk: Mutex<()>,
}

impl Store {
    /// Opens (creating) the data folder and loads every session in it. Half-finished uploads of
    /// a previous process are removed; a session whose `session.json` cannot be read is left on
    /// disk untouched but not served.
    pub fn open(root: &Path) -> std::io::Result<Store> {
        std::fs::create_dir_all(root.join("sessions"))?;
        let _ = std::fs::remove_dir_all(root.join("uploads"));
        std::fs::create_dir_all(root.join("uploads"))?;
        let mut sessions = HashMap::new();
        for e in std::fs::read_dir(root.join("sessions"))?.flatten() {
            let id = e.file_name().to_string_lossy().into_owned();
            if !valid_id(&id) {
                continue;
            }
            let Ok(bytes) = std::fs::read(e.path().join("session.json")) else { continue };
            if let Ok(s) = serde_json::from_slice::<Session>(&bytes)
                && s.id == id
            {
                sessions.insert(id, s);
            }
        }
        Ok(Store { root: root.to_path_buf(), sessions: Mutex::new(sessions), disk: Mutex::new(()) })
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<String, Session>> {
        // A panic while holding the lock leaves a consistent map (every change is one insert).
        self.sessions.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The folder of one session.
    pub fn dir(&self, id: &str) -> PathBuf {
        self.root.join("sessions").join(id)
    }

    pub fn inputs(&self, id: &str) -> PathBuf {
        self.dir(id).join("inputs")
    }

    pub fn out(&self, id: &str) -> PathBuf {
        self.dir(id).join("out")
    }

    /// A staging folder for an upload in progress, outside `sessions/` so that nothing half
    /// uploaded is ever served or survives a restart.
    pub fn staging(&self, id: &str) -> PathBuf {
        self.root.join("uploads").join(id)
    }

    fn persist(&self, s: &Session) -> std::io::Result<()> {
        let json = serde_json::to_vec_pretty(s).map_err(std::io::Error::other)?;
        headshot_core::export::write_atomic(&self.dir(&s.id).join("session.json"), &json)
            .map_err(|e| std::io::Error::other(e.to_string()))
    }

    fn disk(&self) -> MutexGuard<'_, ()> {
        self.disk.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Writes down the session's current state, if it still exists (under `disk`).
    fn write_current(&self, id: &str) {
        let _disk = self.disk();
        let Some(current) = self.get(id) else { return };
        let _ = self.persist(&current);
    }

    /// Moves a finished upload from staging into place and records the session.
    pub fn insert(&self, s: Session) -> std::io::Result<()> {
        let _disk = self.disk();
        let dir = self.dir(&s.id);
        std::fs::create_dir_all(&dir)?;
        std::fs::rename(self.staging(&s.id), self.inputs(&s.id))?;
        self.persist(&s)?;
        self.lock().insert(s.id.clone(), s);
        Ok(())
    }

    pub fn get(&self, id: &str) -> Option<Session> {
        self.lock().get(id).cloned()
    }

    /// Changes a session and writes it down; `None` when it no longer exists.
    pub fn update(&self, id: &str, f: impl FnOnce(&mut Session)) -> Option<Session> {
        self.try_update(id, |s| {
            f(s);
            Ok::<(), std::convert::Infallible>(())
        })
        .and_then(Result::ok)
    }

    /// Checks and changes a session in one step (no other change can come between the two),
    /// then writes it down: `None` when it no longer exists, the check's error when it refuses.
    pub fn try_update<E>(&self, id: &str, f: impl FnOnce(&mut Session) -> Result<(), E>) -> Option<Result<Session, E>> {
        let changed = {
            let mut map = self.lock();
            let s = map.get_mut(id)?;
            let mut next = s.clone();
            match f(&mut next) {
                Ok(()) => {
                    *s = next.clone();
                    next
                }
                Err(e) => return Some(Err(e)),
            }
        };
        self.write_current(id);
        Some(Ok(changed))
    }

    /// Forgets a session and removes its folder.
    pub fn remove(&self, id: &str) -> bool {
        let _disk = self.disk();
        let existed = self.lock().remove(id).is_some();
        let _ = std::fs::remove_dir_all(self.dir(id));
        existed
    }

    /// Removes folders under `sessions/` that no session owns (a record that could not be read
    /// at start, a folder left by a crash between its creation and its record) once they have
    /// been left alone for `keep`; and staging folders of uploads abandoned as long ago.
    pub fn sweep_orphans(&self, keep: Duration) -> usize {
        let _disk = self.disk();
        let known: std::collections::HashSet<String> = self.lock().keys().cloned().collect();
        let old = |p: &Path| {
            std::fs::metadata(p).and_then(|m| m.modified()).is_ok_and(|t| t.elapsed().is_ok_and(|age| age >= keep))
        };
        let mut removed = 0;
        for e in std::fs::read_dir(self.root.join("sessions")).into_iter().flatten().flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if !known.contains(&name) && old(&e.path()) && std::fs::remove_dir_all(e.path()).is_ok() {
                removed += 1;
            }
        }
        for e in std::fs::read_dir(self.root.join("uploads")).into_iter().flatten().flatten() {
            if old(&e.path()) && std::fs::remove_dir_all(e.path()).is_ok() {
                removed += 1;
            }
        }
        removed
    }

    /// The finished (done or failed) session changed longest ago.
    pub fn oldest_finished(&self) -> Option<String> {
        self.lock()
            .values()
            .filter(|s| matches!(s.state, State::Done | State::Failed))
            .min_by_key(|s| (s.updated, s.created))
            .map(|s| s.id.clone())
    }

    /// Ids of sessions in these states.
    pub fn in_state(&self, states: &[State]) -> Vec<String> {
        let mut v: Vec<(u64, String)> =
            self.lock().values().filter(|s| states.contains(&s.state)).map(|s| (s.created, s.id.clone())).collect();
        v.sort();
        v.into_iter().map(|(_, id)| id).collect()
    }

    /// Ids of sessions untouched for longer than `keep` that no worker is busy with.
    pub fn expired(&self, now: u64, keep: Duration) -> Vec<String> {
        self.lock()
            .values()
            .filter(|s| s.state != State::Running && s.updated.saturating_add(keep.as_secs()) <= now)
            .map(|s| s.id.clone())
            .collect()
    }

    pub fn len(&self) -> usize {
        self.lock().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Bytes of every file under `dir` (links not followed).
pub fn folder_size(dir: &Path) -> u64 {
    let mut total = 0;
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            match e.file_type() {
                Ok(t) if t.is_dir() => stack.push(e.path()),
                Ok(t) if t.is_file() => total += e.metadata().map_or(0, |m| m.len()),
                _ => {}
            }
        }
    }
    total
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_random_hex_and_checked() {
        let (a, b) = (new_id().expect("id"), new_id().expect("id"));
        assert!(valid_id(&a) && valid_id(&b) && a != b);
        for bad in ["", "../../etc/passwd", "0123456789abcdef0123456789ABCDEF", "0123456789abcdef0123456789abcde/"] {
            assert!(!valid_id(bad), "{bad}");
        }
    }
}
