//! headshot-core: everything about a photo that does not need a neural network.
//!
//! The data path (see the README): `photo` decodes, `measure` turns pixels and detections into
//! numbers, `judge` turns numbers into a framing class and per-use verdicts, `uses` holds the
//! catalogue of platforms. Coordinates are pixels of the oriented photo unless a doc says
//! otherwise.

pub mod background;
pub mod document;
pub mod export;
pub mod face;
pub mod gaze;
pub mod geometry;
pub mod judge;
pub mod matte;
pub mod measure;
pub mod photo;
pub mod plan;
pub mod render;
pub mod report;
pub mod resize;
pub mod sharpness;
pub mod sheet;
pub mod uses;
pub mod warp;

pub use geometry::{Point, Rect};
pub use photo::{Limits, Photo, PhotoError, PhotoErrorKind, Resolution};
