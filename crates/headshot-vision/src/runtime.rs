//! A thin layer over `tract-onnx`: each model is embedded in the binary, loaded and optimised
//! once per process on first use, and shared by every thread (tract's runnable plans are
//! immutable and `Send + Sync`; each `run` keeps its own state).

use std::io::Cursor;
use std::sync::{Arc, OnceLock};

use tract_onnx::prelude::*;
use tract_onnx::tract_core::knobs::KnobScope;
use tract_onnx::tract_core::plan::SimpleState;

/// A model could not be loaded or run. Loading errors mean a broken build (the files are
/// embedded), so callers report them rather than retry.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum VisionError {
    #[error("model {model}: could not load: {reason}")]
    Load { model: &'static str, reason: String },
    #[error("model {model}: inference failed: {reason}")]
    Run { model: &'static str, reason: String },
}

/// One loaded model with a fixed input shape.
pub struct Model {
    name: &'static str,
    plan: Arc<TypedRunnableModel>,
}

impl std::fmt::Debug for Model {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Model").field("name", &self.name).finish_non_exhaustive()
    }
}

impl Model {
    /// Loads an ONNX model from bytes, fixing its single input to `shape` (f32) and optimising
    /// the graph for that shape (with `fast_ops` where they fit: see `from_decluttered`).
    pub fn load(name: &'static str, onnx: &[u8], shape: &[usize]) -> Result<Model, VisionError> {
        let err = load_error(name);
        let decluttered = optimising(|| typed_from_onnx(onnx, shape)?.into_decluttered()).map_err(err)?;
        Self::from_decluttered(name, decluttered)
    }

    /// Loads a model kept decluttered for its input `shape` as NNEF (`decluttered_nnef`): the
    /// half of `load`'s work that is the same on every machine was done ahead of time, and
    /// only the machine's own code generation is left.
    pub fn load_decluttered(name: &'static str, nnef_tar: &[u8], shape: &[usize]) -> Result<Model, VisionError> {
        let err = load_error(name);
        let proto = match crate::nnef_graph::proto_model(nnef_tar) {
            Ok(proto) => proto,
            // A file beyond the quick reader (see `nnef_graph`) is read by tract's own.
            Err(_) => nnef().proto_model_for_read(&mut Cursor::new(nnef_tar)).map_err(err)?,
        };
        let model = nnef().model_for_proto_model(&proto).map_err(err)?;
        let input = model.input_fact(0).map_err(err)?;
        if input.shape.as_concrete() != Some(shape) {
            let reason = format!("decluttered for input {:?}, not {shape:?}", input.shape);
            return Err(VisionError::Load { model: name, reason });
        }
        Self::from_decluttered(name, model)
    }

    /// The runnable plan of a decluttered model, made for this machine's CPU, with parametric
    /// ReLUs folded into `fast_ops::PRelu` before code generation, the padding code generation
    /// adds done by `fast_ops::ConstantPad`, 2x2 max pools at stride 2 by
    /// `fast_ops::MaxPool2x2`, and bilinear doublings (the person segmenter's three) by
    /// `fast_ops::Upsample2x`.
    fn from_decluttered(name: &'static str, model: TypedModel) -> Result<Model, VisionError> {
        let err = load_error(name);
        prefer_the_faster_vector_width();
        let mut model = without_identity_casts(&model).map_err(err)?;
        crate::fast_ops::fold_prelus(&mut model).map_err(err)?;
        optimising(|| model.optimize()).map_err(err)?;
        crate::fast_ops::replace_pads(&mut model).map_err(err)?;
        crate::fast_ops::replace_pools(&mut model).map_err(err)?;
        crate::fast_ops::replace_resizes(&mut model).map_err(err)?;
        let plan = model.into_runnable().map_err(err)?;
        Ok(Model { name, plan })
    }

    /// Runs the model on one input tensor; returns its outputs in the file's order.
    pub fn run(&self, input: Tensor) -> Result<TVec<TValue>, VisionError> {
        self.plan.run(tvec!(input.into())).map_err(|e| VisionError::Run { model: self.name, reason: format!("{e:#}") })
    }

    pub fn name(&self) -> &'static str {
        self.name
    }

    /// Runs the model once and times each of its nodes: (node name, operation, milliseconds),
    /// in the order they ran. For finding where a model spends its time.
    pub fn profile(&self, input: Tensor) -> Result<Vec<(String, String, f64)>, VisionError> {
        let err = |e: TractError| VisionError::Run { model: self.name, reason: format!("{e:#}") };
        let mut state = SimpleState::new(&self.plan).map_err(err)?;
        let mut times = Vec::new();
        state
            .run_plan_with_eval(tvec!(input.into()), |ctx, op_state, node, inputs| -> TractResult<TVec<TValue>> {
                let started = std::time::Instant::now();
                let out = tract_onnx::tract_core::plan::eval(ctx, op_state, node, inputs);
                times.push((node.name.clone(), node.op.name().to_string(), started.elapsed().as_secs_f64() * 1e3));
                out
            })
            .map_err(err)?;
        Ok(times)
    }
}

/// `onnx` with its single input fixed to `shape` (f32), optimised by tract alone, without any of
/// `fast_ops`: the reference the faster forms are checked and timed against.
pub fn tracts_own_plan(onnx: &[u8], shape: &[usize]) -> TractResult<Arc<TypedRunnableModel>> {
    typed_from_onnx(onnx, shape)?.into_optimized()?.into_runnable()
}

/// `model` without its casts of a value to the type it already has. tract's NNEF reader puts
/// one before each input of every binary operation (the iris model: 549 of its 1347 nodes), and
/// code generation would remove them one rewrite at a time, each scanning the whole graph; this
/// rebuilds the graph once, every other node and fact as it was.
fn without_identity_casts(model: &TypedModel) -> TractResult<TypedModel> {
    use std::collections::HashMap;
    use tract_onnx::tract_core::model::translator::Translate;
    use tract_onnx::tract_core::ops::cast::Cast;

    #[derive(Debug)]
    struct Skip;
    impl Translate<TypedFact, Box<dyn TypedOp>, TypedFact, Box<dyn TypedOp>> for Skip {
        fn translate_node(
            &self,
            source: &TypedModel,
            node: &TypedNode,
            target: &mut TypedModel,
            mapping: &HashMap<OutletId, OutletId>,
        ) -> TractResult<TVec<OutletId>> {
            let inputs = node
                .inputs
                .iter()
                .map(|i| mapping.get(i).copied().ok_or_else(|| TractError::msg(format!("{i:?} is not translated yet"))))
                .collect::<TractResult<TVec<OutletId>>>()?;
            if let Some(cast) = node.op_as::<Cast>()
                && inputs.len() == 1
                && source.outlet_fact(node.inputs[0])?.datum_type == cast.to
            {
                return Ok(inputs);
            }
            let facts = node.outputs.iter().map(|o| o.fact.clone()).collect();
            let id = target.add_node(node.name.clone(), node.op.clone(), facts)?;
            for (ix, input) in inputs.iter().enumerate() {
                target.add_edge(*input, InletId::new(id, ix))?;
            }
            Ok((0..node.outputs.len()).map(|slot| OutletId::new(id, slot)).collect())
        }
    }
    Skip.translate_model(model)
}

/// How a tract error while loading `model` is reported.
fn load_error(model: &'static str) -> impl Fn(TractError) -> VisionError + Copy {
    move |e| VisionError::Load { model, reason: format!("{e:#}") }
}

/// An ONNX model with its single input fixed to `shape` (f32), typed. The protobuf is decoded
/// from `onnx` itself: tract's own reader first copies the whole file (MODNet's 26 MB) into a
/// buffer of its own, while the photo's pixels are in memory.
fn typed_from_onnx(onnx: &[u8], shape: &[usize]) -> TractResult<TypedModel> {
    use prost::Message;
    let proto = tract_onnx::pb::ModelProto::decode(onnx)?;
    tract_onnx::onnx().model_for_proto_model(&proto)?.with_input_fact(0, f32::fact(shape).into())?.into_typed()
}

/// Runs `f` (a model's decluttering or code generation) with this program's choices of tract's
/// kernels. tract's direct spatial convolution measured slower than im2col and a matrix product
/// on MODNet (512x384, one core: 932 ms with it, 742 ms without); the analysis models' stage
/// times stayed within this machine's noise with it off (studio_bench, 12 MP: detect 38 ms,
/// mesh 25 ms, segment 106 ms, against 67 / 22 / 90 ms before). The knob is scoped to `f`.
fn optimising<T>(f: impl FnOnce() -> TractResult<T>) -> TractResult<T> {
    KnobScope::new([("TRACT_DISABLE_DIRECT_SPATIAL", "true")])?.enter(f)
}

/// tract's NNEF reader and writer, with the ONNX operators tract keeps as its own.
fn nnef() -> &'static tract_nnef::framework::Nnef {
    static NNEF: std::sync::LazyLock<tract_nnef::framework::Nnef> =
        std::sync::LazyLock::new(|| tract_nnef::nnef().with_onnx());
    &NNEF
}

/// An ONNX model decluttered for its input `shape` and written as NNEF (a tar): what
/// `Model::load_decluttered` loads. Decluttering (folding constants, fusing
/// and simplifying the graph: 20-65 ms a model on one core) depends only on the file and the
/// shape, so it is done once, ahead of time (`examples/export_decluttered.rs`), and the result
/// is embedded; a test checks that the embedded files compute what the ONNX ones do.
pub fn decluttered_nnef(name: &'static str, onnx: &[u8], shape: &[usize]) -> Result<Vec<u8>, VisionError> {
    let err = load_error(name);
    let decluttered = optimising(|| typed_from_onnx(onnx, shape)?.into_decluttered()).map_err(err)?;
    nnef().write_to_tar_with_config(&decluttered, Vec::new(), false, true).map_err(err)
}

/// Chooses, once per process and before any kernel is picked, between tract's 512-bit and
/// 256-bit matrix kernels. tract prefers its AVX-512 kernels wherever the CPU has AVX-512, but
/// many such cores retire one 512-bit FMA per cycle against two 256-bit ones (client Intel
/// parts, AMD Zen 4, and virtual machines that throttle 512-bit work), so the wide kernels do no
/// more work per cycle and pay more overhead. On this project's 2-core machine (one 512-bit FMA
/// port, as tract's probe finds) MODNet at 512x384 on one core ran 673 ms with the AVX-512
/// kernels and 513 ms with the 256-bit ones (`model_profile -- matting`, alternating runs), the analysis
/// models 5-10 % faster too. tract measures the port count itself, timing a 512-bit against a
/// 256-bit loop (`fma_width`, about 5 ms, on cores with AVX-512 VNNI, which its probe needs);
/// where it finds one port, AVX-512 is left out of tract's choice of kernels. Elsewhere tract's
/// own choice stands, and `TRACT_CPU_ISA` in the environment overrides both.
fn prefer_the_faster_vector_width() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        #[cfg(target_arch = "x86_64")]
        {
            use tract_onnx::tract_core::tract_linalg::x86_64::fma_width::avx512_fma_units;
            if std::is_x86_feature_detected!("avx512vnni") && avx512_fma_units() < 2 {
                // A failure here (a knob tract no longer has) only leaves tract's own choice.
                let _ = tract_onnx::tract_core::knobs::set_config_global("TRACT_CPU_ISA", "-avx512f");
            }
        }
    });
}

/// A model slot filled on first use. A failed load is remembered, so a broken model is reported
/// for every photo rather than retried.
#[derive(Debug)]
pub(crate) struct Lazy {
    cell: OnceLock<Result<Model, String>>,
}

impl Lazy {
    pub(crate) const fn new() -> Self {
        Self { cell: OnceLock::new() }
    }

    pub(crate) fn get(
        &self,
        name: &'static str,
        load: impl FnOnce() -> Result<Model, VisionError>,
    ) -> Result<&Model, VisionError> {
        self.cell
            .get_or_init(|| load().map_err(|e| e.to_string()))
            .as_ref()
            .map_err(|reason| VisionError::Load { model: name, reason: reason.clone() })
    }
}

/// Reads output `index` as a flat f32 slice copy.
pub(crate) fn output_f32(model: &Model, outputs: &TVec<TValue>, index: usize) -> Result<Vec<f32>, VisionError> {
    let run_err = |reason: String| VisionError::Run { model: model.name(), reason };
    let t = outputs.get(index).ok_or_else(|| run_err(format!("missing output {index}")))?;
    let view = t.to_plain_array_view::<f32>().map_err(|e| run_err(format!("{e:#}")))?;
    Ok(view.iter().copied().collect())
}
