//! headshot-vision: the neural models (face detection, face mesh, person segmentation), embedded
//! in the binary and run on tract, with their pre- and post-processing. Inputs and outputs are in
//! the types of `headshot-core`.

pub mod detect;
pub mod mesh;
pub mod models;
pub mod runtime;
pub mod segment;

pub use detect::{DetectOptions, detect_faces};
pub use runtime::VisionError;
