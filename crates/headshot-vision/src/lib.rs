//! headshot-vision: the neural models (face detection, face mesh, iris, person segmentation), embedded
//! in the binary and run on tract, with their pre- and post-processing. Inputs and outputs are in
//! the types of `headshot-core`.

pub mod detect;
pub mod fast_ops;
pub mod iris;
pub mod matting;
pub mod mesh;
pub mod models;
pub mod nnef_graph;
pub mod runtime;
pub mod segment;

pub use detect::{DetectOptions, detect_faces, detect_faces_and_faint};
pub use runtime::VisionError;
