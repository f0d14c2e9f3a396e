//! The models, embedded in the binary (see `models/PROVENANCE` for where each file comes from).

use crate::fast_ops;
use crate::runtime::{Lazy, Model, VisionError};

pub(crate) const YUNET: &[u8] = include_bytes!("../../../models/face_detection_yunet_2023mar.onnx");
pub(crate) const FACE_MESH: &[u8] = include_bytes!("../../../models/face_landmark.onnx");
pub(crate) const IRIS: &[u8] = include_bytes!("../../../models/iris_landmark.onnx");
pub(crate) const MODNET: &[u8] = include_bytes!("../../../models/modnet.onnx");
pub(crate) const SELFIE: &[u8] = include_bytes!("../../../models/selfie_segmentation.onnx");
pub(crate) const SELFIE_LANDSCAPE: &[u8] = include_bytes!("../../../models/selfie_segmentation_landscape.onnx");

/// Side of the square the detector runs on (pixels). YuNet was trained at 640; any multiple of
/// 32 works, and one fixed size means one optimised plan for the whole process.
pub const DETECTOR_SIDE: usize = 640;
/// Side of the face mesh's input crop (pixels).
pub const MESH_SIDE: usize = 192;
/// Side of the iris model's input crop (pixels).
pub const IRIS_SIDE: usize = 64;
/// The portrait matting model's input shapes (height, width): about 0.2 MP or less each, for
/// crops from tall (full-length) to wide. One plan per shape is optimised, on first use.
pub const MATTING_SHAPES: [(usize, usize); 7] =
    [(512, 256), (512, 320), (512, 384), (448, 448), (384, 512), (320, 512), (256, 512)];
/// Segmentation input, square model (height, width).
pub const SELFIE_SQUARE: (usize, usize) = (256, 256);
/// Segmentation input, landscape model (height, width).
pub const SELFIE_WIDE: (usize, usize) = (144, 256);

static DETECTOR: Lazy = Lazy::new();
static MESH: Lazy = Lazy::new();
static IRIS_MODEL: Lazy = Lazy::new();
static MATTING: [Lazy; 7] = [Lazy::new(), Lazy::new(), Lazy::new(), Lazy::new(), Lazy::new(), Lazy::new(), Lazy::new()];
static SEG_SQUARE: Lazy = Lazy::new();
static SEG_WIDE: Lazy = Lazy::new();

/// Starts loading, each on a thread of its own, the models that follow the detector in the
/// analysis of a photo with a face in it (the face mesh, the iris model, the square person
/// segmenter), so that their loading (tens of milliseconds each, mostly tract's optimisation)
/// overlaps the photo's decoding and detection instead of following it. Only where there is a
/// core to spare: on one core it would only add the loading of models a photo may not need (one
/// with no face needs neither landmark model). A model being loaded is waited for, not loaded
/// twice, and a failed load is reported by the first analysis that needs it.
pub fn warm_up() {
    if std::thread::available_parallelism().map_or(1, |n| n.get()) < 2 {
        return;
    }
    let loads: [fn(); 3] = [|| drop(face_mesh()), || drop(iris_landmark()), || drop(selfie_square())];
    for load in loads {
        // A thread that cannot be started only leaves that model to load on first use.
        let _ = std::thread::Builder::new().name("model-warm-up".into()).spawn(load);
    }
}

/// YuNet, NCHW BGR 0..255 at `DETECTOR_SIDE` square.
pub fn detector() -> Result<&'static Model, VisionError> {
    DETECTOR.get("yunet", || Model::load("yunet", YUNET, &[1, 3, DETECTOR_SIDE, DETECTOR_SIDE]))
}

/// MediaPipe face mesh, NHWC RGB 0..1 at 192x192.
pub fn face_mesh() -> Result<&'static Model, VisionError> {
    MESH.get("face_mesh", || Model::load("face_mesh", FACE_MESH, &[1, MESH_SIDE, MESH_SIDE, 3]))
}

/// MediaPipe iris landmarks, NHWC RGB 0..1 at 64x64 (one eye, outer corner on the left).
pub fn iris_landmark() -> Result<&'static Model, VisionError> {
    IRIS_MODEL.get("iris_landmark", || Model::load("iris_landmark", IRIS, &[1, IRIS_SIDE, IRIS_SIDE, 3]))
}

/// MODNet at one of `MATTING_SHAPES` (height, width), NCHW RGB scaled to -1..1. Its
/// upsamplings run as `fast_ops::Upsample2x`.
pub fn matting_model(h: usize, w: usize) -> Result<&'static Model, VisionError> {
    let i = MATTING_SHAPES
        .iter()
        .position(|&s| s == (h, w))
        .ok_or(VisionError::Load { model: "modnet", reason: format!("{h}x{w} is not one of the matting shapes") })?;
    MATTING[i].get("modnet", || {
        Model::load_with("modnet", MODNET, &[1, 3, h, w], |m| fast_ops::replace_resizes(m).map(|_| ()))
    })
}

/// MediaPipe selfie segmentation (square), NHWC RGB 0..1.
pub fn selfie_square() -> Result<&'static Model, VisionError> {
    SEG_SQUARE.get("selfie_segmentation", || {
        Model::load("selfie_segmentation", SELFIE, &[1, SELFIE_SQUARE.0, SELFIE_SQUARE.1, 3])
    })
}

/// MediaPipe selfie segmentation (landscape), NHWC RGB 0..1.
pub fn selfie_wide() -> Result<&'static Model, VisionError> {
    SEG_WIDE.get("selfie_segmentation_landscape", || {
        Model::load("selfie_segmentation_landscape", SELFIE_LANDSCAPE, &[1, SELFIE_WIDE.0, SELFIE_WIDE.1, 3])
    })
}
