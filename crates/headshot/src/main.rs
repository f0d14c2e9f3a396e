//! The `headshot` command. Thin: parses arguments, calls the library, prints.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use headshot::analysis::Analyzer;
use headshot::core::Resolution;
use headshot::core::report::{ErrorReport, Report, SessionReport};
use headshot::core::uses::Catalogue;
use headshot::jobs::queue::Queue;
use headshot::jobs::store::Store;
use headshot::jobs::{JobPhoto, JobSpec, TeamSpec};
use headshot::session::{analyze_each, collect_inputs};
use headshot::studio::StudioOptions;
use headshot::timings::StageTimes;

mod human;

#[derive(Parser, Debug)]
#[command(
    name = "headshot",
    version,
    about = "Professional headshots and portraits from your own photos, on your own machine"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(clap::Args, Debug, Clone)]
struct CatalogueArgs {
    /// A TOML file of extra uses, or overrides of built-in ones (same form as `headshot uses --toml`).
    #[arg(long, value_name = "FILE")]
    catalogue: Option<PathBuf>,
    /// Only these uses (comma separated names from `headshot uses`; a document photo of any size
    /// as `id-35x45mm` or `id-2x2in-600dpi`).
    #[arg(long, value_delimiter = ',', value_name = "USE,...")]
    uses: Vec<String>,
    /// Only the uses of this kind: headshot, portrait, document (passports, visas, ID cards:
    /// made only when asked for, by name or by this), or all.
    #[arg(long, value_name = "KIND")]
    kind: Option<String>,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Analyse photos: faces, framing, background, light, and a verdict for every use.
    Analyze {
        /// Print one JSON document {"photos": [...], "errors": [...]} and nothing else.
        #[arg(long)]
        json: bool,
        /// Print where the time went, stage by stage, on stderr.
        #[arg(long)]
        timings: bool,
        #[command(flatten)]
        catalogue: CatalogueArgs,
        /// Photos or directories (searched recursively for .jpg, .jpeg, .png, .webp, .tif, .tiff, .heic, .heif, .avif).
        #[arg(required = true, value_name = "PATH")]
        paths: Vec<PathBuf>,
    },
    /// List the known uses (platforms) with their sizes and limits.
    Uses {
        /// Machine-readable JSON.
        #[arg(long)]
        json: bool,
        /// The catalogue as TOML (a starting point for `--catalogue`).
        #[arg(long, conflicts_with = "json")]
        toml: bool,
        #[command(flatten)]
        catalogue: CatalogueArgs,
    },
    /// Make every output the photos are good for: each use's crop, background, size and byte
    /// limit, written as OUT/<photo>/<use>.<ext> with report.json, index.html and a contact sheet.
    Studio {
        /// The output folder (created if missing; outputs already there are replaced).
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
        /// auto (replace only where the verdict asks), keep, blur, studio, studio:COLOUR,
        /// transparent (the person cut out: PNG, or WebP with alpha), or a colour (#rrggbb,
        /// white, light-grey, grey, charcoal, black, navy, blue).
        #[arg(long, default_value = "auto", value_name = "BACKGROUND")]
        background: headshot::studio::BackgroundChoice,
        /// Encode every output as this format instead of each use's own (jpeg, png, webp).
        #[arg(long, value_parser = parse_format, value_name = "FORMAT")]
        format: Option<headshot::core::uses::Format>,
        /// The subject of group photos: 1 is the most prominent face, 2 the next, ...
        #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
        subject: Option<u16>,
        /// Team framing: one eye line, one head size and one background across all photos.
        #[arg(long)]
        team: bool,
        /// With --team: make every member's team outputs, even for a photo judged unsuitable
        /// for a reason a person may overrule (looking away, eyes closed, a soft face); the
        /// report names those reasons on each such output.
        #[arg(long, requires = "team")]
        team_include_all: bool,
        /// With --team: leave each member's light as their photo has it. By default every face
        /// is brought towards the team's light, by at most half a stop, so the page reads as one
        /// shoot; the report gives each member's change.
        #[arg(long, requires = "team")]
        team_keep_light: bool,
        /// Where a photo lacks the pixels for a use's size, make that output at the largest size
        /// the pixels allow (smaller than the use asks for; the report says so) instead of
        /// leaving it out.
        #[arg(long)]
        smaller_if_needed: bool,
        /// The paper a printed document photo is laid out on, as many copies as fit, with crop
        /// marks: 4x6, 10x15, 5x7, a4 or letter.
        #[arg(long, default_value = "4x6", value_name = "PAPER")]
        sheet: headshot::core::sheet::Paper,
        /// Space between the copies on a print sheet, millimetres.
        #[arg(long, default_value_t = 2.0, value_name = "MM", value_parser = parse_gap)]
        sheet_gap_mm: f32,
        /// Print where the time went, stage by stage, on stderr.
        #[arg(long)]
        timings: bool,
        #[command(flatten)]
        catalogue: CatalogueArgs,
        /// Photos or directories (searched recursively for .jpg, .jpeg, .png, .webp, .tif, .tiff, .heic, .heif, .avif).
        #[arg(required = true, value_name = "PATH")]
        paths: Vec<PathBuf>,
    },
    /// Cut the person out of each photo: a full-resolution PNG with transparency, their colours
    /// freed of the old background at the edge, written as OUT/<photo>.png.
    Cutout {
        /// The output folder (created if missing).
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
        /// Whom to cut out of a group photo: 1 is the most prominent face, 2 the next, ...
        #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
        subject: Option<u16>,
        /// Photos or directories (searched recursively for .jpg, .jpeg, .png, .webp, .tif, .tiff, .heic, .heif, .avif).
        #[arg(required = true, value_name = "PATH")]
        paths: Vec<PathBuf>,
    },
    /// Run the web app and HTTP API: a page to drop photos on, see verdicts and download outputs.
    Serve {
        /// Where to listen. Loopback by default: other machines cannot reach it unless told.
        #[arg(long, default_value = "127.0.0.1:8080", value_name = "HOST:PORT")]
        addr: std::net::SocketAddr,
        /// Where sessions are kept (default: headshot in the user's data folder).
        #[arg(long, value_name = "DIR")]
        data: Option<PathBuf>,
        /// Remove a session this long after its last change (e.g. 30m, 24h, 7d).
        #[arg(long, default_value = "24h", value_parser = parse_duration, value_name = "TIME")]
        keep: std::time::Duration,
        /// Most photos in one session.
        #[arg(long, default_value_t = 20, value_name = "N")]
        max_photos: usize,
        /// Sessions rendered at the same time.
        #[arg(long, default_value_t = 1, value_name = "N")]
        workers: usize,
        /// Sessions that may wait for a worker (a number; more are refused with 503 and
        /// Retry-After), or a PostgreSQL URL: then sessions live in that database and the store
        /// (`--store`), `headshot worker`s render them, and any number of `serve` front-ends on
        /// the same two answer for any session. The waiting limit is then `--max-waiting`.
        #[arg(long, default_value = "16", value_name = "N|URL")]
        queue: ServeQueue,
        /// The store the workers share, with `--queue URL`: a folder, file:///folder, or a cloud
        /// bucket (as for `enqueue`).
        #[arg(long, value_name = "URL")]
        store: Option<String>,
        /// Jobs that may wait for a worker in a shared queue before new sessions are refused.
        #[arg(long, default_value_t = 16, value_name = "N")]
        max_waiting: usize,
        /// Longest one session's render may take; photos not started by then are reported as
        /// not done (e.g. 10m).
        #[arg(long, default_value = "10m", value_parser = parse_duration, value_name = "TIME")]
        render_budget: std::time::Duration,
        /// Disk the data folder may use, GiB; beyond it the oldest finished sessions are swept.
        #[arg(long, default_value_t = 20, value_name = "GIB")]
        max_disk_gib: u64,
        /// Access token every request must carry. Generated and printed when the address is
        /// not loopback and none is given; with it, open the printed address once per browser.
        #[arg(long, value_name = "TOKEN")]
        token: Option<String>,
    },
    /// Queue photos as studio jobs for workers (`headshot worker`) to make, on many machines:
    /// each photo is copied into the store and one job per photo is added to the queue.
    Enqueue {
        /// The queue: a PostgreSQL URL (postgres://user@host:port/database).
        #[arg(long, value_name = "URL")]
        queue: String,
        /// The store photos and outputs are kept in: a folder, file:///folder, or, in a build with
        /// the matching feature, s3://bucket/prefix, gs://bucket/prefix or az://container/prefix
        /// (configured by the cloud's usual AWS_*, GOOGLE_* or AZURE_* variables).
        #[arg(long, value_name = "URL")]
        store: String,
        /// The uses to make, comma-separated (default: every headshot and portrait use).
        #[arg(long, value_delimiter = ',', value_name = "USE,...")]
        uses: Vec<String>,
        /// As `headshot studio --background`.
        #[arg(long, default_value = "auto", value_name = "BACKGROUND")]
        background: String,
        /// The photos are one team (as `headshot studio --team`): one job frames them all with
        /// one eye line, one head size and one backdrop.
        #[arg(long)]
        team: bool,
        /// With --team: make every member's team outputs, even for a photo judged unsuitable
        /// for the use (as `headshot studio --team-include-all`).
        #[arg(long, requires = "team")]
        team_include_all: bool,
        /// With --team: leave each member's light as their photo has it (as `headshot studio
        /// --team-keep-light`).
        #[arg(long, requires = "team")]
        team_keep_light: bool,
        /// Photos or directories.
        #[arg(required = true, value_name = "PATH")]
        paths: Vec<PathBuf>,
    },
    /// Make queued studio jobs: claim one, make its outputs, write them to the store, commit;
    /// the next. Start as many as there are cores, on as many machines as share the queue and
    /// the store.
    Worker {
        /// The queue: a PostgreSQL URL.
        #[arg(long, value_name = "URL")]
        queue: String,
        /// The store: a folder, file:///folder, or a cloud bucket (as for `enqueue`).
        #[arg(long, value_name = "URL")]
        store: String,
        /// This worker's name in the queue (default: host name and process id).
        #[arg(long, value_name = "NAME")]
        name: Option<String>,
        /// How long a job stays claimed without renewal: a dead worker's job is taken up again
        /// after this long.
        #[arg(long, default_value = "30s", value_parser = parse_duration, value_name = "TIME")]
        lease: std::time::Duration,
        /// Stop once no job is queued or running, instead of waiting for more.
        #[arg(long)]
        exit_when_idle: bool,
    },
    /// The queue's jobs: state, worker, attempts, and where each one's outputs are.
    Jobs {
        /// The queue: a PostgreSQL URL.
        #[arg(long, value_name = "URL")]
        queue: String,
        /// One JSON document.
        #[arg(long)]
        json: bool,
        /// Also remove from this store the outputs no job refers to (left by workers that died
        /// mid-job); safe while workers run.
        #[arg(long, value_name = "STORE")]
        sweep: Option<String>,
    },
    /// Score the judgements against a labelled manifest (CSV with file, framing, gaze, background).
    Eval {
        /// The manifest; photo paths in it are relative to its folder.
        manifest: PathBuf,
        /// Print the JSON of the scores instead of tables.
        #[arg(long)]
        json: bool,
    },
}

/// An error and its causes in one line, each cause once: many of our errors already name their
/// cause in their own message ("could not write X: File too large"), and anyhow's `{:#}` would
/// repeat it.
fn describe(e: &anyhow::Error) -> String {
    let mut text = e.to_string();
    for cause in e.chain().skip(1) {
        let c = cause.to_string();
        if !text.contains(&c) {
            text.push_str(": ");
            text.push_str(&c);
        }
    }
    text
}

fn main() -> ExitCode {
    // Before any thread starts: see headshot_memory.
    headshot_memory::limit_arenas();
    let cli = Cli::parse();
    // Only the runs that report: their buffers are a photo's analysis, a few tens of megabytes,
    // kept at little cost; the studio's renders would keep more (see headshot_memory).
    if matches!(cli.command, Command::Analyze { .. } | Command::Eval { .. }) {
        headshot_memory::keep_freed_memory();
    }
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            // A closed pipe (`headshot analyze | head`) is not a failure.
            if let Some(io) = e.downcast_ref::<std::io::Error>()
                && io.kind() == std::io::ErrorKind::BrokenPipe
            {
                return ExitCode::SUCCESS;
            }
            eprintln!("headshot: {}", describe(&e));
            // The contract: 2 for a usage error (clap exits with it for bad arguments itself),
            // 1 when the work could not be done (an unwritable output folder, a full disk).
            if e.downcast_ref::<Usage>().is_some() { ExitCode::from(2) } else { ExitCode::from(1) }
        }
    }
}

/// A command line asking for something that does not exist (an unknown use, a catalogue file
/// that cannot be read or parsed): exit status 2.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct Usage(String);

/// `serve --queue`: how many sessions may wait for this server's own workers, or the shared
/// queue its sessions go to instead.
#[derive(Debug, Clone)]
enum ServeQueue {
    Size(usize),
    Url(String),
}

impl std::str::FromStr for ServeQueue {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        if let Ok(n) = s.parse() {
            return Ok(ServeQueue::Size(n));
        }
        if s.starts_with("postgres://") || s.starts_with("postgresql://") {
            return Ok(ServeQueue::Url(s.to_string()));
        }
        Err(format!("{s:?} is neither a number of sessions nor a postgres:// URL"))
    }
}

fn catalogue(args: &CatalogueArgs) -> anyhow::Result<Catalogue> {
    let mut c = Catalogue::full();
    if let Some(path) = &args.catalogue {
        c = c.with_file(path).map_err(|e| Usage(e.to_string()))?;
    }
    let kind = match args.kind.as_deref() {
        None | Some("all") => None,
        Some(k) => Some(k.parse::<headshot::core::uses::UseKind>().map_err(Usage)?),
    };
    if !args.uses.is_empty() {
        let unknown = c.select(&args.uses);
        if !unknown.is_empty() {
            return Err(
                Usage(format!("unknown use(s): {} (see `headshot uses --kind all`)", unknown.join(", "))).into()
            );
        }
    }
    match kind {
        Some(k) => c.uses.retain(|u| u.kind == k),
        // Document photos are made only when asked for.
        None if args.uses.is_empty() && args.kind.is_none() => c = c.without_documents(),
        None => {}
    }
    Ok(c)
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Analyze { json, timings, catalogue: cat, paths } => {
            let started = std::time::Instant::now();
            // Only a report is made: a large JPEG is decoded at the size the analysis reads.
            let analyzer =
                Analyzer { catalogue: catalogue(&cat)?, resolution: Resolution::Analysis, ..Analyzer::default() };
            headshot::vision::models::warm_up();
            let (session, failed, times) = analyze(&analyzer, &paths);
            if timings {
                times.print(&mut std::io::stderr().lock(), started.elapsed())?;
            }
            let mut out = std::io::stdout().lock();
            if json {
                serde_json::to_writer_pretty(&mut out, &session)?;
                writeln!(out)?;
            } else {
                human::print_session(&mut out, &session)?;
            }
            out.flush()?;
            Ok(if failed { ExitCode::from(1) } else { ExitCode::SUCCESS })
        }
        Command::Uses { json, toml, catalogue: cat } => {
            let c = catalogue(&cat)?;
            let mut out = std::io::stdout().lock();
            if json {
                serde_json::to_writer_pretty(&mut out, &serde_json::json!({ "uses": c.uses }))?;
                writeln!(out)?;
            } else if toml {
                #[derive(serde::Serialize)]
                struct File<'a> {
                    #[serde(rename = "use")]
                    uses: &'a [headshot::core::uses::Use],
                }
                write!(out, "{}", ::toml::to_string(&File { uses: &c.uses })?)?;
            } else {
                human::print_uses(&mut out, &c)?;
                if cat.uses.is_empty() && cat.kind.is_none() {
                    let n = Catalogue::documents().uses.len();
                    writeln!(out, "\n{n} passport, visa and ID photo presets: headshot uses --kind document")?;
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Cutout { out, subject, paths } => {
            let analyzer = Analyzer::default();
            let (files, _) = collect_inputs(&paths);
            let bar = progress_bar(files.len() as u64);
            let run = headshot::cutout::run(&analyzer, &paths, &out, subject.map(usize::from), |_| bar.inc(1));
            bar.finish_and_clear();
            let mut o = std::io::stdout().lock();
            for m in &run.made {
                writeln!(
                    o,
                    "{}: {}x{} -> {} ({} bytes)",
                    m.photo.display(),
                    m.width,
                    m.height,
                    m.path.display(),
                    m.bytes
                )?;
            }
            for e in &run.errors {
                eprintln!("headshot: {e}");
            }
            Ok(if run.errors.is_empty() { ExitCode::SUCCESS } else { ExitCode::from(1) })
        }
        Command::Eval { manifest, json } => {
            let analyzer = Analyzer { resolution: Resolution::Analysis, ..Analyzer::default() };
            let e = headshot::eval::evaluate(&analyzer, &manifest)?;
            let mut out = std::io::stdout().lock();
            if json {
                let doc = serde_json::json!({
                    "framing": e.framing.accuracy(), "gaze": e.gaze.accuracy(),
                    "background": e.background.accuracy(), "sharp": e.sharp.accuracy(),
                    "linkedin": e.linkedin.accuracy(), "details": e,
                });
                serde_json::to_writer_pretty(&mut out, &doc)?;
                writeln!(out)?;
            } else {
                e.print(&mut out)?;
            }
            Ok(if e.failed.is_empty() { ExitCode::SUCCESS } else { ExitCode::from(1) })
        }
        Command::Serve {
            addr,
            data,
            keep,
            max_photos,
            workers,
            queue,
            store,
            max_waiting,
            render_budget,
            max_disk_gib,
            token,
        } => {
            if let Some(t) = &token
                && (t.len() < 16 || !t.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'))
            {
                return Err(Usage("--token: at least 16 letters, digits, '-' or '_'".into()).into());
            }
            let defaults = headshot::web::Config::default();
            let config = headshot::web::Config {
                addr,
                data: data.unwrap_or(defaults.data.clone()),
                keep,
                max_photos: max_photos.max(1),
                workers: workers.max(1),
                queue: match &queue {
                    ServeQueue::Size(n) => (*n).max(1),
                    ServeQueue::Url(_) => max_waiting.max(1),
                },
                shared: match (queue, store) {
                    (ServeQueue::Url(queue), Some(store)) => Some(headshot::web::SharedUrls { queue, store }),
                    (ServeQueue::Url(_), None) => {
                        return Err(Usage("--queue URL needs --store (the workers' store)".into()).into());
                    }
                    (ServeQueue::Size(_), Some(_)) => {
                        return Err(Usage("--store needs --queue postgres://... (a shared queue)".into()).into());
                    }
                    (ServeQueue::Size(_), None) => None,
                },
                render_budget,
                max_disk_bytes: max_disk_gib.max(1).saturating_mul(1 << 30),
                token,
                ..defaults
            };
            let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
            headshot::vision::models::warm_up();
            runtime.block_on(headshot::web::serve(config, Analyzer::default()))?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Enqueue { queue, store, uses, background, team, team_include_all, team_keep_light, paths } => {
            background.parse::<headshot::studio::BackgroundChoice>().map_err(Usage)?;
            let unknown = Catalogue::full().select(&uses);
            if !unknown.is_empty() {
                return Err(Usage(format!("unknown uses: {}", unknown.join(", "))).into());
            }
            let (files, errors) = headshot::session::collect_inputs(&paths);
            for e in &errors {
                eprintln!("{e}");
            }
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
            let unread = runtime.block_on(async {
                let (queue, store) = (Queue::connect(&queue).await?, Store::open(&store)?);
                let limits = headshot::core::Limits::default();
                let mut unread = 0;
                let mut stored = Vec::new();
                for file in &files {
                    // A photo that cannot be read is named with the reason; the others are queued.
                    let bytes = match headshot::core::Photo::read_bytes(file, &limits) {
                        Ok(b) => b,
                        Err(e) => {
                            eprintln!("{e}");
                            unread += 1;
                            continue;
                        }
                    };
                    let ext = file.extension().map_or("jpg".into(), |e| e.to_string_lossy().to_lowercase());
                    let input = headshot::jobs::content_name(&bytes, &ext);
                    if !store.exists(&input).await? {
                        store.put(&input, bytes).await?;
                    }
                    let name = file.file_name().map_or(String::new(), |n| n.to_string_lossy().into_owned());
                    stored.push((JobPhoto { input, name }, file));
                }
                let job = |photo: JobPhoto, team: Option<TeamSpec>| JobSpec {
                    input: photo.input,
                    name: photo.name,
                    uses: uses.clone(),
                    background: background.clone(),
                    team,
                    session: None,
                };
                if team {
                    let mut photos = stored.into_iter().map(|(p, _)| p);
                    if let Some(first) = photos.next() {
                        let team = TeamSpec {
                            others: photos.collect(),
                            include_all: team_include_all,
                            keep_light: team_keep_light,
                        };
                        let spec = job(first, Some(team));
                        println!("{} {}", queue.enqueue(&spec).await?, spec.label());
                    }
                } else {
                    for (photo, file) in stored {
                        println!("{} {}", queue.enqueue(&job(photo, None)).await?, file.display());
                    }
                }
                anyhow::Ok(unread)
            })?;
            Ok(if errors.is_empty() && unread == 0 { ExitCode::SUCCESS } else { ExitCode::from(1) })
        }
        Command::Worker { queue, store, name, lease, exit_when_idle } => {
            let host = std::fs::read_to_string("/etc/hostname").map(|h| h.trim().to_string()).unwrap_or_default();
            let opts = headshot::jobs::worker::WorkerOptions {
                name: name.unwrap_or_else(|| format!("{host}-{}", std::process::id())),
                lease: lease.max(std::time::Duration::from_secs(1)),
                max_attempts: 3,
                exit_when_idle,
                scratch: std::env::temp_dir().join("headshot-worker"),
            };
            let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
            let stats = runtime.block_on(async {
                let (queue, store) = (Queue::connect(&queue).await?, Store::open(&store)?);
                headshot::vision::models::warm_up();
                headshot::jobs::worker::run(std::sync::Arc::new(queue), store, opts).await
            })?;
            eprintln!(
                "worker: {} done, {} failed, {} lost to another worker, {} put back after a store error",
                stats.done, stats.failed, stats.lost, stats.retried
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Jobs { queue, json, sweep } => {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
            let (jobs, swept) = runtime.block_on(async {
                let queue = Queue::connect(&queue).await?;
                let swept = match &sweep {
                    Some(store) => Some(headshot::jobs::sweep(&queue, &Store::open(store)?).await?),
                    None => None,
                };
                anyhow::Ok((queue.jobs().await?, swept))
            })?;
            if json {
                println!("{}", serde_json::to_string_pretty(&serde_json::json!({ "jobs": jobs, "swept": swept }))?);
            } else {
                for j in &jobs {
                    println!(
                        "{} {:<8} {:<24} attempts {} {}",
                        j.id,
                        j.state,
                        j.name,
                        j.attempts,
                        j.result.as_deref().or(j.error.as_deref()).unwrap_or("")
                    );
                }
                if let Some(s) = swept {
                    println!("swept: {} orphaned outputs removed, {} kept", s.removed, s.kept);
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Studio {
            out,
            background,
            format,
            subject,
            team,
            team_include_all,
            team_keep_light,
            smaller_if_needed,
            sheet,
            sheet_gap_mm,
            timings,
            catalogue: cat,
            paths,
        } => {
            let started = std::time::Instant::now();
            let analyzer = Analyzer { catalogue: catalogue(&cat)?, ..Analyzer::default() };
            headshot::vision::models::warm_up();
            let opts = StudioOptions {
                background,
                format,
                subject: subject.map(usize::from),
                smaller_if_needed,
                include_all: team_include_all,
                keep_light: team_keep_light,
                sheet: headshot::core::sheet::SheetOptions { paper: sheet, gap_mm: sheet_gap_mm },
                ..StudioOptions::default()
            };
            let (files, _) = collect_inputs(&paths);
            // The bar only on a terminal: scripts reading stdout get none.
            let bar = if std::io::stdout().is_terminal() {
                progress_bar(files.len() as u64)
            } else {
                indicatif::ProgressBar::hidden()
            };
            let run = headshot::studio::run(&analyzer, &paths, &opts, &out, team, |_| bar.inc(1))?;
            bar.finish_and_clear();
            if timings {
                run.timings.print(&mut std::io::stderr().lock(), started.elapsed())?;
            }
            if run.reused > 0 {
                // How a re-run after an interruption knows: each finished photo's record.
                eprintln!(
                    "headshot: {} photo(s) finished by an earlier run into {} kept as they were (same photo, same options)",
                    run.reused,
                    out.display()
                );
            }
            let mut o = std::io::stdout().lock();
            human::print_studio(&mut o, &run.session, &out)?;
            Ok(if run.failed { ExitCode::from(1) } else { ExitCode::SUCCESS })
        }
    }
}

/// `90s`, `30m`, `24h`, `7d` (a bare number is seconds).
fn parse_duration(s: &str) -> Result<std::time::Duration, String> {
    let s = s.trim();
    let (num, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len()));
    let n: u64 = num.parse().map_err(|_| format!("{s:?} is not a time like 30m, 24h or 7d"))?;
    let secs = match unit {
        "" | "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86400,
        _ => return Err(format!("{s:?}: the unit must be s, m, h or d")),
    };
    Ok(std::time::Duration::from_secs(n.saturating_mul(secs)))
}

fn parse_gap(s: &str) -> Result<f32, String> {
    match s.trim().parse::<f32>() {
        Ok(v) if (0.0..=20.0).contains(&v) => Ok(v),
        _ => Err(format!("{s:?}: a gap of 0 to 20 mm")),
    }
}

fn parse_format(s: &str) -> Result<headshot::core::uses::Format, String> {
    s.parse()
}

/// Analyses every input; returns the session document, whether any input failed, and where
/// the time went.
fn analyze(analyzer: &Analyzer, paths: &[PathBuf]) -> (SessionReport, bool, StageTimes) {
    let (files, mut errors) = collect_inputs(paths);
    let bar = progress_bar(files.len() as u64);
    let results = analyze_each(analyzer, &files, |_, r| {
        bar.inc(1);
        r.map(|a| (a.report, a.timings))
    });
    bar.finish_and_clear();
    let mut photos: Vec<Report> = Vec::new();
    let mut times = StageTimes::default();
    for r in results {
        match r {
            Ok((report, t)) => {
                photos.push(report);
                times.add_analysis(&t);
            }
            Err(e) => errors.push(e.to_photo_error()),
        }
    }
    let failed = !errors.is_empty();
    let errors = errors.iter().map(ErrorReport::from).collect();
    (SessionReport::new(photos, errors), failed, times)
}

/// A progress bar on stderr when it is a terminal and the batch is long enough to want one.
fn progress_bar(n: u64) -> indicatif::ProgressBar {
    if !std::io::stderr().is_terminal() || n < 2 {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new(n);
    if let Ok(style) =
        indicatif::ProgressStyle::with_template("{spinner} {bar:30} {pos}/{len} photos  {elapsed} (eta {eta})")
    {
        bar.set_style(style);
    }
    bar
}
