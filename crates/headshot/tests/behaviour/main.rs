//! Behaviour of headshot on real photos with the real models: one test binary (models load once
//! per process, and one link instead of many).
//!
//! Fixtures: the public-domain photos in `examples/`, and the labelled photos of
//! `../shared/photos` (beside the clone, as in CI), read in place and never copied.

mod cli;
mod common;
mod cutout;
mod decode;
mod distributed;
mod documents;
mod faces;
mod formats;
mod framing;
mod judgement;
mod odd;
mod scene;
mod studio;
mod verdicts;
mod web;
mod web_hostile;
