//! The workers: a bounded queue of session ids and a fixed number of threads that take one at a
//! time and run the studio on it. A full queue refuses new work (the API answers 503) rather
//! than piling up memory; a run that fails or panics marks its session failed and the worker
//! goes on. Workers are long-lived threads rather than Tokio's blocking pool: the pool hands each
//! job to whichever of its many threads is free, and the allocator keeps a heap per thread, so
//! memory grew with every session (957 MiB after 20); a fixed thread reuses its own.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use std::sync::Mutex;

use tokio::sync::mpsc;

use super::store::{Progress, RenderOptions, Session, State, now};
use super::{ApiError, App};
use crate::analysis::Analyzer;
use crate::studio::{self, BackgroundChoice, StudioOptions};

/// The sessions waiting for a worker.
#[derive(Debug)]
pub struct Queue {
    tx: mpsc::Sender<String>,
    waiting: AtomicUsize,
}

impl Queue {
    pub fn new(capacity: usize) -> (Queue, mpsc::Receiver<String>) {
        let (tx, rx) = mpsc::channel(capacity);
        (Queue { tx, waiting: AtomicUsize::new(0) }, rx)
    }

    /// Whether a new session would be taken now (checked before reading an upload's body).
    pub fn has_room(&self) -> bool {
        self.tx.capacity() > 0
    }

    pub fn waiting(&self) -> usize {
        self.waiting.load(Ordering::Relaxed)
    }
}

impl App {
    /// Puts a session in the queue, or refuses with `Busy` when the queue is full.
    pub(super) fn submit(&self, id: &str) -> Result<(), ApiError> {
        self.queue.waiting.fetch_add(1, Ordering::Relaxed);
        self.queue.tx.try_send(id.to_string()).map_err(|_| {
            self.queue.waiting.fetch_sub(1, Ordering::Relaxed);
            self.busy()
        })
    }

    pub(super) fn busy(&self) -> ApiError {
        ApiError::Busy { queued: self.queue.waiting(), retry_after: self.retry_after() }
    }

    pub(super) fn has_room(&self) -> bool {
        self.queue.has_room()
    }
}

/// Starts the workers and the expiry sweep, and re-queues what a previous process left unfinished.
pub fn start(app: &Arc<App>, rx: mpsc::Receiver<String>) {
    let rx = Arc::new(Mutex::new(rx));
    for n in 0..app.config.workers.max(1) {
        let (app, rx) = (app.clone(), rx.clone());
        let spawned = std::thread::Builder::new().name(format!("headshot-worker-{n}")).spawn(move || {
            loop {
                // One worker waits on the queue at a time; the others wait for it to take a job.
                let next = rx.lock().unwrap_or_else(|p| p.into_inner()).blocking_recv();
                let Some(id) = next else { return };
                app.queue.waiting.fetch_sub(1, Ordering::Relaxed);
                process(&app, id);
            }
        });
        if let Err(e) = spawned {
            eprintln!("headshot: cannot start a worker thread: {e}");
        }
    }
    let unfinished = app.store.in_state(&[State::Queued, State::Running]);
    let resumer = app.clone();
    tokio::spawn(async move {
        for id in unfinished {
            resumer.store.update(&id, |s| s.state = State::Queued);
            resumer.queue.waiting.fetch_add(1, Ordering::Relaxed);
            // Waits for room: at start nothing else competes for long.
            if resumer.queue.tx.send(id).await.is_err() {
                return;
            }
        }
    });
    super::start_sweeper(app);
}

/// Gives one session a turn: renders its photos until they are done or the turn is over, and
/// records the outcome. A session with photos left when its turn ends (and render budget left)
/// goes to the back of the queue: its finished photos are kept on disk and reused by its next
/// turn, so the unit of work a waiting session queues behind is a turn, not a whole session.
fn process(app: &Arc<App>, id: String) {
    let Some(session) = app.store.update(&id, |s| {
        if s.render_ms == 0 {
            s.progress = Progress { done: 0, total: s.photos.len() };
        }
        s.state = State::Running;
        s.error = None;
    }) else {
        return; // deleted while it waited
    };
    let started = Instant::now();
    let budget_left = app.config.render_budget.saturating_sub(Duration::from_millis(session.render_ms));
    // Team framing needs every photo at once: a team session runs to its budget in one turn.
    let turn = if session.options.team { budget_left } else { app.config.turn.min(budget_left) };
    // A bug in one photo's render must not take the worker down with it.
    let outcome =
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| render_session(app, &session, started + turn)));
    let took = started.elapsed();
    let result = match outcome {
        Ok(r) => r,
        Err(_) => Err("the render stopped unexpectedly; try again".to_string()),
    };
    let spent = session.render_ms.saturating_add(took.as_millis() as u64);
    let more_turns = matches!(result, Ok(left) if left > 0) && Duration::from_millis(spent) < app.config.render_budget;
    if more_turns {
        let requeued = app.store.update(&id, |s| {
            s.state = State::Queued;
            s.render_ms = spent;
        });
        if requeued.is_some() && app.submit(&id).is_ok() {
            return;
        }
        if requeued.is_some() {
            // The queue is full: this worker goes on with the session rather than drop it.
            return process(app, id);
        }
    }
    app.record_run(took);
    let still_there = app.store.update(&id, |s| {
        match &result {
            Ok(_) => {
                s.state = State::Done;
                s.renders += 1;
            }
            Err(e) => {
                s.state = State::Failed;
                s.error = Some(e.clone());
            }
        }
        s.render_ms = 0;
        s.updated = now();
    });
    if still_there.is_none() {
        // Deleted while rendering: the studio may have written files since.
        let _ = std::fs::remove_dir_all(app.store.dir(&id));
    }
}

/// The studio options of a session (already validated when they were accepted).
pub fn studio_options(o: &RenderOptions, inputs: &Path) -> Result<StudioOptions, String> {
    let background = match &o.background {
        Some(b) => b.parse::<BackgroundChoice>()?,
        None => BackgroundChoice::Auto,
    };
    let format = o.format.as_deref().map(str::parse).transpose()?;
    let subjects = o.subjects.iter().map(|(name, &n)| (inputs.join(name), usize::from(n))).collect();
    let paper = o.sheet.as_deref().map(str::parse).transpose()?.unwrap_or_default();
    Ok(StudioOptions {
        background,
        format,
        subjects,
        smaller_if_needed: o.smaller_if_needed,
        sheet: headshot_core::sheet::SheetOptions { paper, ..Default::default() },
        ..StudioOptions::default()
    })
}

/// The analyzer of a session: the server's, with only the uses it asked for.
pub fn session_analyzer(base: &Analyzer, o: &RenderOptions) -> Result<Analyzer, String> {
    let mut a = base.clone();
    if !o.uses.is_empty() {
        // Named uses may be document presets (made only when asked for) or custom ID sizes.
        for d in headshot_core::uses::Catalogue::documents().uses {
            if !a.catalogue.uses.iter().any(|u| u.name == d.name) {
                a.catalogue.uses.push(d);
            }
        }
        let unknown = a.catalogue.select(&o.uses);
        if !unknown.is_empty() {
            return Err(format!("unknown use(s): {}", unknown.join(", ")));
        }
    }
    Ok(a)
}

/// The analyzer and studio options a session's photos in `inputs` are rendered with, here or by
/// a worker of a shared queue (`jobs::worker`): the report names photos as the person uploaded
/// them, never by where they are kept, and photos not started by `until` are reported as not
/// done.
pub fn session_studio(
    base: &Analyzer,
    o: &RenderOptions,
    inputs: &Path,
    until: Instant,
) -> Result<(Analyzer, StudioOptions), String> {
    let opts = studio_options(o, inputs)?;
    let opts = StudioOptions { names_relative_to: Some(inputs.to_path_buf()), deadline: Some(until), ..opts };
    Ok((session_analyzer(base, o)?, opts))
}

/// Renders a session's photos that are not finished yet, starting none after `until`; the
/// number of photos left for another turn.
fn render_session(app: &App, s: &Session, until: Instant) -> Result<usize, String> {
    let (inputs, out) = (app.store.inputs(&s.id), app.store.out(&s.id));
    let (analyzer, opts) = session_studio(&app.analyzer, &s.options, &inputs, until)?;
    let paths: Vec<PathBuf> = s.photos.iter().map(|p| inputs.join(&p.name)).collect();
    // Every finished photo reports once per turn, those a previous turn finished included.
    let done = AtomicUsize::new(0);
    let first_turn = s.render_ms == 0;
    let run = studio::run(&analyzer, &paths, &opts, &out, s.options.team, |_| {
        let d = (done.fetch_add(1, Ordering::Relaxed) + 1).min(paths.len());
        app.store.update(&s.id, |s| s.progress.done = if first_turn { d } else { s.progress.done.max(d) });
    })
    .map_err(|e| e.to_string())?;
    let left = run.session.errors.iter().filter(|e| e.kind == headshot_core::photo::PhotoErrorKind::TimeBudget).count();
    Ok(left)
}
