//! A thin layer over `tract-onnx`: each model is embedded in the binary, loaded and optimised
//! once per process on first use, and shared by every thread (tract's runnable plans are
//! immutable and `Send + Sync`; each `run` keeps its own state).

use std::io::Cursor;
use std::sync::{Arc, OnceLock};

use tract_onnx::prelude::*;

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
    /// the graph for that shape.
    pub fn load(name: &'static str, onnx: &[u8], shape: &[usize]) -> Result<Model, VisionError> {
        let err = |e: TractError| VisionError::Load { model: name, reason: format!("{e:#}") };
        let plan = tract_onnx::onnx()
            .model_for_read(&mut Cursor::new(onnx))
            .map_err(err)?
            .with_input_fact(0, f32::fact(shape).into())
            .map_err(err)?
            .into_optimized()
            .map_err(err)?
            .into_runnable()
            .map_err(err)?;
        Ok(Model { name, plan })
    }

    /// Runs the model on one input tensor; returns its outputs in the file's order.
    pub fn run(&self, input: Tensor) -> Result<TVec<TValue>, VisionError> {
        self.plan.run(tvec!(input.into())).map_err(|e| VisionError::Run { model: self.name, reason: format!("{e:#}") })
    }

    pub fn name(&self) -> &'static str {
        self.name
    }
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
