//! headshot: professional headshots and portraits from your own photos, on your own machine.
//!
//! The library behind the `headshot` command: `analysis` runs one photo through detection, face
//! mesh, segmentation, measurements and judgement; `session` runs many in parallel; `studio` plans, renders and writes
//! every output, and `gallery` the page that shows them; `cutout` writes each person on transparency; `web` is the web app and HTTP API; `jobs` runs the
//! studio on many machines (a queue on PostgreSQL, a shared store); the
//! building blocks live in `headshot-core` (no models) and `headshot-vision` (models).

pub mod analysis;
pub mod cutout;
pub mod eval;
pub mod gallery;
pub mod jobs;
pub mod session;
pub mod studio;
pub mod timings;
pub mod web;

pub use analysis::{Analysis, AnalyzeError, Analyzer};
pub use headshot_core as core;
pub use headshot_vision as vision;
