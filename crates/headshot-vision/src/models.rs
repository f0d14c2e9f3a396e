//! The models, embedded in the binary (see `models/PROVENANCE` for where each file comes from).

use crate::runtime::{Lazy, Model, VisionError};

/// The models the analysis of every photo needs, kept decluttered for their fixed input shapes
/// (`runtime::decluttered_nnef`): (name, the ONNX file they are made from, the input shape).
/// Made by `cargo run --release -p headshot-vision --example export_decluttered`.
pub const DECLUTTERED: [(&str, &str, [usize; 4]); 5] = [
    ("yunet", "face_detection_yunet_2023mar.onnx", [1, 3, DETECTOR_SIDE, DETECTOR_SIDE]),
    ("face_mesh", "face_landmark.onnx", [1, MESH_SIDE, MESH_SIDE, 3]),
    ("iris_landmark", "iris_landmark.onnx", [1, IRIS_SIDE, IRIS_SIDE, 3]),
    ("selfie_segmentation", "selfie_segmentation.onnx", [1, SELFIE_SQUARE.0, SELFIE_SQUARE.1, 3]),
    ("selfie_segmentation_landscape", "selfie_segmentation_landscape.onnx", [1, SELFIE_WIDE.0, SELFIE_WIDE.1, 3]),
];

/// The decluttered form of `DECLUTTERED[i]`, as embedded.
pub(crate) const DECLUTTERED_FILES: [&[u8]; 5] = [
    include_bytes!("../../../models/decluttered/yunet.nnef.tar"),
    include_bytes!("../../../models/decluttered/face_mesh.nnef.tar"),
    include_bytes!("../../../models/decluttered/iris_landmark.nnef.tar"),
    include_bytes!("../../../models/decluttered/selfie_segmentation.nnef.tar"),
    include_bytes!("../../../models/decluttered/selfie_segmentation_landscape.nnef.tar"),
];

/// MODNet stays ONNX: it has a plan per matting shape (seven per tier, see `MATTING_TIERS`),
/// made only when a background is replaced, for the shapes a run uses.
pub(crate) const MODNET: &[u8] = include_bytes!("../../../models/modnet.onnx");

/// Loads `DECLUTTERED[i]` from its embedded file.
fn decluttered(i: usize) -> Result<Model, VisionError> {
    let (name, _, shape) = DECLUTTERED[i];
    Model::load_decluttered(name, DECLUTTERED_FILES[i], &shape)
}

/// Side of the square the detector runs on (pixels). YuNet was trained at 640; any multiple of
/// 32 works, and one fixed size means one optimised plan for the whole process.
pub const DETECTOR_SIDE: usize = 640;
/// Side of the face mesh's input crop (pixels).
pub const MESH_SIDE: usize = 192;
/// Side of the iris model's input crop (pixels).
pub const IRIS_SIDE: usize = 64;
/// The portrait matting model's input shapes (height, width), in two tiers of seven shapes each,
/// for crops from tall (full-length) to wide (sides are multiples of 32, as the model needs).
/// The full tier, about 0.2 MP a shape, is near the 512 px the model was trained at. The light
/// tier, about 0.14 MP, runs in about four fifths of the time (one core, fastest of 6 runs:
/// 448x448 478 ms, 384x384 382 ms; 512x384 467-524 ms, 448x320 388 ms) and serves mattes whose
/// outputs are small (a 400 px LinkedIn square), which are refined at the output's own
/// resolution anyway. Smaller tiers cut worse: on the pasted-subject scenes of the cutout tests,
/// at LinkedIn's size, the edge error before a crowd was 0.057 at 384x384 (as at 448x448), 0.077
/// at 352x352 and 0.125 at 320x320. One plan per shape is optimised, on first use.
pub const MATTING_TIERS: [[(usize, usize); 7]; 2] = [
    [(512, 256), (512, 320), (512, 384), (448, 448), (384, 512), (320, 512), (256, 512)],
    [(448, 224), (448, 256), (448, 320), (384, 384), (320, 448), (256, 448), (224, 448)],
];
/// Segmentation input, square model (height, width).
pub const SELFIE_SQUARE: (usize, usize) = (256, 256);
/// Segmentation input, landscape model (height, width).
pub const SELFIE_WIDE: (usize, usize) = (144, 256);

static DETECTOR: Lazy = Lazy::new();
static MESH: Lazy = Lazy::new();
static IRIS_MODEL: Lazy = Lazy::new();
static MATTING: [Lazy; 14] = [const { Lazy::new() }; 14];
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
    DETECTOR.get("yunet", || decluttered(0))
}

/// MediaPipe face mesh, NHWC RGB 0..1 at 192x192.
pub fn face_mesh() -> Result<&'static Model, VisionError> {
    MESH.get("face_mesh", || decluttered(1))
}

/// MediaPipe iris landmarks, NHWC RGB 0..1 at 64x64 (one eye, outer corner on the left).
pub fn iris_landmark() -> Result<&'static Model, VisionError> {
    IRIS_MODEL.get("iris_landmark", || decluttered(2))
}

/// MODNet at one of the shapes of `MATTING_TIERS` (height, width), NCHW RGB scaled to -1..1.
/// Its upsamplings run as `fast_ops::Upsample2x`.
pub fn matting_model(h: usize, w: usize) -> Result<&'static Model, VisionError> {
    let i = MATTING_TIERS
        .iter()
        .flatten()
        .position(|&s| s == (h, w))
        .ok_or(VisionError::Load { model: "modnet", reason: format!("{h}x{w} is not one of the matting shapes") })?;
    MATTING[i].get("modnet", || {
        let model = Model::load("modnet", MODNET, &[1, 3, h, w]);
        // Making the plan freed the file's decoded tensors and the graph's earlier forms (about
        // three copies of its 26 MB of weights): handed back, they do not stay resident under the
        // model's run. The file itself is not needed until another shape's plan: out of the
        // process's memory until then (read again from the binary, or the system's file cache).
        headshot_memory::hand_back();
        headshot_memory::page_out(MODNET);
        model
    })
}

/// MediaPipe selfie segmentation (square), NHWC RGB 0..1.
pub fn selfie_square() -> Result<&'static Model, VisionError> {
    SEG_SQUARE.get("selfie_segmentation", || decluttered(3))
}

/// MediaPipe selfie segmentation (landscape), NHWC RGB 0..1.
pub fn selfie_wide() -> Result<&'static Model, VisionError> {
    SEG_WIDE.get("selfie_segmentation_landscape", || decluttered(4))
}

#[cfg(test)]
mod tests {
    use super::*;
    use tract_onnx::prelude::*;
    use tract_onnx::tract_core::ndarray::Dimension;

    /// Each embedded decluttered model computes what its ONNX file in `models/` computes,
    /// loaded the long way (decluttered at load, as the program did before): a changed ONNX
    /// file, or a tract that reads the embedded file differently, fails here. (The files are
    /// not compared byte for byte: tract numbers the nodes it splits in hash-map order, so two
    /// exports of one model differ in names only.)
    #[test]
    fn the_embedded_decluttered_models_compute_what_the_onnx_files_do() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../models/");
        for (i, (name, onnx, shape)) in DECLUTTERED.iter().enumerate() {
            let source = std::fs::read(format!("{dir}{onnx}")).expect("the ONNX file");
            let long_way = Model::load(name, &source, shape).expect("the ONNX model loads");
            let embedded = decluttered(i).expect("the embedded model loads");
            // A deterministic input with structure at every scale, in the models' 0..1 range.
            let input: Tensor = tract_ndarray::ArrayD::from_shape_fn(shape.to_vec(), |ix| {
                let v: usize = ix.as_array_view().iter().enumerate().map(|(k, &x)| x * (k * 7 + 3)).sum();
                (v % 251) as f32 / 250.0
            })
            .into();
            let (a, b) = (long_way.run(input.clone()).expect("runs"), embedded.run(input).expect("runs"));
            assert_eq!(a.len(), b.len(), "{name}: outputs");
            for (x, y) in a.iter().zip(b.iter()) {
                let (x, y) =
                    (x.to_plain_array_view::<f32>().expect("f32"), y.to_plain_array_view::<f32>().expect("f32"));
                assert_eq!(x.shape(), y.shape(), "{name}");
                let worst = x.iter().zip(y.iter()).map(|(p, q)| (p - q).abs()).fold(0f32, f32::max);
                assert!(
                    worst <= 1e-4,
                    "{name}: the embedded model differs from {onnx} by {worst}: \
                     cargo run --release -p headshot-vision --example export_decluttered"
                );
            }
        }
    }

    /// Each analysis model as the program runs it (embedded decluttered, with `fast_ops` in
    /// place of some of tract's operations: the detector's max pools as `MaxPool2x2`, the person
    /// segmenter's upsamplings as `Upsample2x`, the landmark models' parametric ReLUs as
    /// `PRelu`) computes what tract's own operations compute from the ONNX file. Each of those
    /// faster operations must be in use, or the check is void.
    #[test]
    fn the_analysis_models_with_the_faster_ops_compute_what_tracts_own_do() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../models/");
        let mut used = std::collections::BTreeSet::new();
        for (i, (name, onnx, shape)) in DECLUTTERED.iter().enumerate() {
            let source = std::fs::read(format!("{dir}{onnx}")).expect("the ONNX file");
            let plain = crate::runtime::tracts_own_plan(&source, shape).expect("tract loads the ONNX file");
            let ours = decluttered(i).expect("the embedded model loads");
            let input: Tensor = tract_ndarray::ArrayD::from_shape_fn(shape.to_vec(), |ix| {
                let v: usize = ix.as_array_view().iter().enumerate().map(|(k, &x)| x * (k * 5 + 1)).sum();
                (v % 241) as f32 / 240.0 * if shape[1] == 3 { 255.0 } else { 1.0 }
            })
            .into();
            let want = plain.run(tvec!(input.clone().into())).expect("runs");
            let got = ours.run(input.clone()).expect("runs");
            assert_eq!(want.len(), got.len(), "{name}: outputs");
            for (x, y) in want.iter().zip(got.iter()) {
                let (x, y) =
                    (x.to_plain_array_view::<f32>().expect("f32"), y.to_plain_array_view::<f32>().expect("f32"));
                assert_eq!(x.shape(), y.shape(), "{name}");
                // Relative to the output's own scale: the detector's box offsets run to tens.
                let scale = x.iter().fold(1f32, |m, v| m.max(v.abs()));
                let worst = x.iter().zip(y.iter()).map(|(p, q)| (p - q).abs()).fold(0f32, f32::max);
                assert!(worst <= 1e-4 * scale, "{name}: differs from tract's own by {worst} (scale {scale})");
            }
            let ops = ours.profile(input).expect("runs");
            used.extend(
                ops.into_iter()
                    .map(|(_, op, _)| op)
                    .filter(|op| ["MaxPool2x2", "PRelu", "Upsample2x"].contains(&op.as_str())),
            );
        }
        assert_eq!(used.into_iter().collect::<Vec<_>>(), ["MaxPool2x2", "PRelu", "Upsample2x"]);
    }

    /// The portrait matting model as the program runs it (its upsamplings as
    /// `fast_ops::Upsample2x`, the padding code generation adds as `fast_ops::ConstantPad`)
    /// computes what tract's own operations compute from the ONNX file, at the smallest shape.
    #[test]
    fn the_matting_model_with_the_faster_ops_computes_what_tracts_own_do() {
        let (h, w) = MATTING_TIERS[1][0];
        let plain = crate::runtime::tracts_own_plan(MODNET, &[1, 3, h, w]).expect("tract loads the ONNX file");
        let ours = matting_model(h, w).expect("the program's model loads");
        let input: Tensor = tract_ndarray::Array4::from_shape_fn((1, 3, h, w), |(_, c, y, x)| {
            (((x * 7 + y * 3 + c * 11) % 255) as f32 - 127.5) / 127.5
        })
        .into();
        let want = plain.run(tvec!(input.clone().into())).expect("runs");
        let got = ours.run(input).expect("runs");
        let (want, got) =
            (want[0].to_plain_array_view::<f32>().expect("f32"), got[0].to_plain_array_view::<f32>().expect("f32"));
        assert_eq!(want.shape(), got.shape());
        let worst = want.iter().zip(got.iter()).map(|(a, b)| (a - b).abs()).fold(0f32, f32::max);
        assert!(worst <= 1e-4, "the matte differs by {worst}");
    }
}
