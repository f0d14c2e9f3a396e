//! Faster forms of some of tract's operations, put in place of the general ones where they
//! compute exactly the same thing.
//!
//! - `Upsample2x` for the resamplings (tract's own `Resize`, which decluttering makes of ONNX's)
//!   that double both spatial axes, linear, with half-pixel centres and clamped edges (PyTorch's
//!   `interpolate(scale_factor=2, mode="bilinear")`), as the portrait matting model (MODNet)
//!   does six times over large feature maps, and the person segmenter three times.
//!   tract resamples one axis at a time through a generic gather with a weight per tap, slow
//!   along the innermost axis: at 512x384 on one core MODNet's upsamplings took 149 ms of a 740
//!   ms run; this op does the same sums row by row, each output pixel 3/4 of its nearest input
//!   pixel and 1/4 of the next one in each direction (25 ms; the segmenter's 5.8 -> 0.5 ms).
//! - `ConstantPad` for the `Pad` nodes tract's code generation puts before a convolution it runs
//!   as a matrix product over a lazily gathered input (the gather reads no padding of its own).
//!   tract's pad fills an n-dimensional array, assigns the input into a strided view of it and
//!   copies the result into a tensor of its own: three passes over the output and a second
//!   buffer of its size (28 MB at a time on a large MODNet shape). This one fills the tensor once
//!   and copies the input's rows into it: MODNet's 15 pads 56 -> 39 ms at 384x384 and 68 -> 53
//!   ms at 512x384 on one core (`model_profile -- matting`, medians of 5 alternating runs). (Zero padding
//!   and channel concatenation replaced before code generation were tried earlier and were no
//!   faster; these pads only appear after it.)
//! - `MaxPool2x2` for the 2x2, stride-2 max pools over f32 NCHW with no padding that the face
//!   detector (YuNet) halves its feature maps with. tract vectorises its 2x2 pools at stride 1
//!   only; at stride 2 it visits each output pixel through a general walk with a bounds check
//!   per tap, and YuNet's pools (as decluttered) also compute an index output nothing reads,
//!   widened to 64 bits. This one takes each pair of input rows once and keeps the largest of
//!   each 2x2 block: the four pools 9.2 -> 1.0 ms of a detector run at 640x640 on one core, the
//!   run 45 -> 30 ms (`model_profile -- detector`, back to back).
//! - `PRelu` for the parametric ReLUs of the face mesh (23) and the iris model (53), which their
//!   conversion from TFLite spelled as four operations and their constants:
//!   `max(x, 0) * (1 - a) + x * a`. Folded into one node before code generation, which costs
//!   more the more nodes a model has (tract scans the whole graph for each node a rewrite adds):
//!   the iris model's 1347 nodes were its slowest part to load.

use tract_onnx::prelude::*;
use tract_onnx::tract_core::internal::*;
use tract_onnx::tract_core::ops::array::{Pad, PadMode};
use tract_onnx::tract_core::ops::binary::TypedBinOp;
use tract_onnx::tract_core::ops::cnn::{OptMaxPool, PaddingSpec};
use tract_onnx::tract_core::ops::nn::DataFormat;
use tract_onnx::tract_core::ops::nn::resize::{CoordTransformer, Interpolator, Resize};

/// Bilinear upsampling by two of the last two axes of a rank-4 f32 tensor (N, C, H, W).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Upsample2x;

impl Op for Upsample2x {
    fn name(&self) -> StaticName {
        "Upsample2x".into()
    }

    op_as_typed_op!();
}

impl EvalOp for Upsample2x {
    op_out_of_plan!();

    fn eval(&self, _ctx: &EvalContext, inputs: TVec<TValue>) -> TractResult<TVec<TValue>> {
        let input = args_1!(inputs);
        let view = input.to_plain_array_view::<f32>()?;
        let shape = view.shape().to_vec();
        ensure!(shape.len() == 4, "Upsample2x takes a rank-4 tensor, got {shape:?}");
        let (h, w) = (shape[2], shape[3]);
        let copied;
        let data: &[f32] = match view.as_slice() {
            Some(flat) => flat,
            None => {
                copied = view.iter().copied().collect::<Vec<f32>>();
                &copied
            }
        };
        // Written straight into the output tensor: a vector of it turned into a tensor is copied
        // (25 MB at a time on a large MODNet shape).
        let mut out = Tensor::zero::<f32>(&[shape[0], shape[1], 2 * h, 2 * w])?;
        let mut plain = out.try_as_plain_ram_mut()?;
        let dst = plain.as_slice_mut::<f32>()?;
        if h * w > 0 {
            for (plane, dst) in data.chunks_exact(h * w).zip(dst.chunks_exact_mut(4 * h * w)) {
                upsample_plane(plane, h, w, dst);
            }
        }
        Ok(tvec!(out.into_tvalue()))
    }
}

impl TypedOp for Upsample2x {
    as_op!();

    fn output_facts(&self, inputs: &[&TypedFact]) -> TractResult<TVec<TypedFact>> {
        let s = &inputs[0].shape;
        ensure!(s.rank() == 4, "Upsample2x takes a rank-4 tensor");
        let shape = [s[0].clone(), s[1].clone(), s[2].clone() * 2, s[3].clone() * 2];
        Ok(tvec!(f32::fact(shape)))
    }
}

/// One `h` x `w` plane into `2h` x `2w`: along each axis, output `2i` is `3/4 x[i] + 1/4
/// x[i-1]` and `2i+1` is `3/4 x[i] + 1/4 x[i+1]`, indices clamped to the plane (half-pixel
/// centres: output pixel `j` samples input position `j/2 - 1/4`).
pub fn upsample_plane(src: &[f32], h: usize, w: usize, dst: &mut [f32]) {
    if h == 0 || w == 0 {
        return;
    }
    let w2 = 2 * w;
    // The input rows widened, one at a time, two kept (the row and its neighbour).
    let widen = |row: &[f32], out: &mut [f32]| {
        for i in 0..w {
            let (l, c, r) = (row[i.saturating_sub(1)], row[i], row[(i + 1).min(w - 1)]);
            out[2 * i] = 0.75 * c + 0.25 * l;
            out[2 * i + 1] = 0.75 * c + 0.25 * r;
        }
    };
    let mut wide = vec![0f32; h * w2];
    for (row, out) in src.chunks_exact(w).zip(wide.chunks_exact_mut(w2)) {
        widen(row, out);
    }
    for j in 0..h {
        let (up, cur, down) =
            (&wide[j.saturating_sub(1) * w2..][..w2], &wide[j * w2..][..w2], &wide[(j + 1).min(h - 1) * w2..][..w2]);
        let (even, odd) = dst[2 * j * w2..(2 * j + 2) * w2].split_at_mut(w2);
        for (((e, o), (&c, &u)), &d) in even.iter_mut().zip(odd.iter_mut()).zip(cur.iter().zip(up)).zip(down) {
            *e = 0.75 * c + 0.25 * u;
            *o = 0.75 * c + 0.25 * d;
        }
    }
}

/// Puts `Upsample2x` in place of every `Resize` node of `model` that it computes exactly: linear,
/// half-pixel centres, rank 4, twice the size on the last two axes and the same on the others.
/// Returns how many were replaced.
pub fn replace_resizes(model: &mut TypedModel) -> TractResult<usize> {
    let mut replaced = 0;
    for id in model.eval_order()? {
        let node = model.node(id);
        // tract's own resampling, which decluttering makes of the ONNX operator where it fits.
        let Some(r) = node.op_as::<Resize>() else { continue };
        let half_pixel =
            matches!(r.coord_transformer, CoordTransformer::HalfPixel | CoordTransformer::PytorchHalfPixel);
        if !half_pixel || r.interpolator != Interpolator::Linear {
            continue;
        }
        let (input, output) = (model.outlet_fact(node.inputs[0])?, &node.outputs[0].fact);
        let (Some(i), Some(o)) = (input.shape.as_concrete(), output.shape.as_concrete()) else { continue };
        let twice = i.len() == 4
            && o.len() == 4
            && input.datum_type == f32::datum_type()
            && (i[0], i[1], 2 * i[2], 2 * i[3]) == (o[0], o[1], o[2], o[3])
            // With one input pixel the half-pixel grid clamps everything to it; the op would
            // agree, but there is nothing to gain.
            && i[2] > 1
            && i[3] > 1;
        if !twice {
            continue;
        }
        let patch = TypedModelPatch::replace_single_op(model, node, &node.inputs[..1], Upsample2x)?;
        patch.apply(model)?;
        replaced += 1;
    }
    Ok(replaced)
}

/// Constant padding of an f32 tensor of any rank: `pads[k]` elements before and after on axis
/// `k`, filled with `value`.
#[derive(Debug, Clone, PartialEq)]
pub struct ConstantPad {
    pub pads: Vec<(usize, usize)>,
    pub value: f32,
}

impl Eq for ConstantPad {}

impl std::hash::Hash for ConstantPad {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.pads.hash(state);
        self.value.to_bits().hash(state);
    }
}

impl Op for ConstantPad {
    fn name(&self) -> StaticName {
        "ConstantPad".into()
    }

    op_as_typed_op!();
}

impl EvalOp for ConstantPad {
    op_out_of_plan!();

    fn eval(&self, _ctx: &EvalContext, inputs: TVec<TValue>) -> TractResult<TVec<TValue>> {
        let input = args_1!(inputs);
        Ok(tvec!(pad_into(&input, &self.pads, self.value)?.into_tvalue()))
    }
}

impl TypedOp for ConstantPad {
    as_op!();

    fn output_facts(&self, inputs: &[&TypedFact]) -> TractResult<TVec<TypedFact>> {
        let mut fact = inputs[0].without_value();
        ensure!(self.pads.len() == fact.rank(), "ConstantPad: {} pads for rank {}", self.pads.len(), fact.rank());
        for (axis, (before, after)) in self.pads.iter().enumerate() {
            fact.shape.set(axis, fact.shape[axis].clone() + *before + *after);
        }
        Ok(tvec!(fact))
    }
}

/// `input` laid into a new tensor grown by `pads`, the rest `value`: the output is filled once,
/// then each innermost row of the input is copied to its place.
fn pad_into(input: &Tensor, pads: &[(usize, usize)], value: f32) -> TractResult<Tensor> {
    let shape = input.shape();
    ensure!(pads.len() == shape.len() && !shape.is_empty(), "ConstantPad: {} pads for shape {shape:?}", pads.len());
    let out_shape: Vec<usize> = shape.iter().zip(pads).map(|(&d, &(a, b))| d + a + b).collect();
    let mut out = Tensor::zero::<f32>(&out_shape)?;
    let plain = input.try_as_plain_ram()?;
    let src = plain.as_slice::<f32>()?;
    let mut out_plain = out.try_as_plain_ram_mut()?;
    let dst = out_plain.as_slice_mut::<f32>()?;
    if value != 0.0 {
        dst.fill(value);
    }
    let rank = shape.len();
    let row = shape[rank - 1];
    if row == 0 || src.is_empty() {
        return Ok(out);
    }
    // Row-major strides of the output, and an index over the input's outer axes.
    let mut strides = vec![1usize; rank];
    for k in (0..rank - 1).rev() {
        strides[k] = strides[k + 1] * out_shape[k + 1];
    }
    let mut index = vec![0usize; rank - 1];
    for chunk in src.chunks_exact(row) {
        let start: usize =
            index.iter().enumerate().map(|(k, &i)| (i + pads[k].0) * strides[k]).sum::<usize>() + pads[rank - 1].0;
        dst[start..start + row].copy_from_slice(chunk);
        // The next row: the last outer axis moves fastest.
        for k in (0..rank - 1).rev() {
            index[k] += 1;
            if index[k] < shape[k] {
                break;
            }
            index[k] = 0;
        }
    }
    Ok(out)
}

/// Puts `ConstantPad` in place of every constant-mode `Pad` node of `model` over f32, which may
/// be optimised already (the pads that cost are added by code generation). Returns how many.
pub fn replace_pads(model: &mut TypedModel) -> TractResult<usize> {
    let mut replaced = 0;
    for id in model.eval_order()? {
        let node = model.node(id);
        let Some(pad) = node.op_as::<Pad>() else { continue };
        let PadMode::Constant(value) = &pad.mode else { continue };
        if model.outlet_fact(node.inputs[0])?.datum_type != f32::datum_type() {
            continue;
        }
        let Ok(value) = value.cast_to_scalar::<f32>() else { continue };
        let op = ConstantPad { pads: pad.pads.clone(), value };
        let patch = TypedModelPatch::replace_single_op(model, node, &node.inputs[..1], op)?;
        patch.apply(model)?;
        replaced += 1;
    }
    Ok(replaced)
}

/// The largest value of each 2x2 block of the last two axes of a rank-4 f32 tensor (N, C, H,
/// W), blocks side by side (stride 2) from the top left; an odd last row or column is left out.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct MaxPool2x2;

impl Op for MaxPool2x2 {
    fn name(&self) -> StaticName {
        "MaxPool2x2".into()
    }

    op_as_typed_op!();
}

impl EvalOp for MaxPool2x2 {
    op_out_of_plan!();

    fn eval(&self, _ctx: &EvalContext, inputs: TVec<TValue>) -> TractResult<TVec<TValue>> {
        let input = args_1!(inputs);
        Ok(tvec!(max_pool_2x2(&input)?.into_tvalue()))
    }
}

impl TypedOp for MaxPool2x2 {
    as_op!();

    fn output_facts(&self, inputs: &[&TypedFact]) -> TractResult<TVec<TypedFact>> {
        let s = &inputs[0].shape;
        ensure!(s.rank() == 4, "MaxPool2x2 takes a rank-4 tensor");
        let shape = [s[0].clone(), s[1].clone(), s[2].clone() / 2, s[3].clone() / 2];
        Ok(tvec!(f32::fact(shape)))
    }
}

/// `input` (N, C, H, W) pooled by `MaxPool2x2`.
fn max_pool_2x2(input: &Tensor) -> TractResult<Tensor> {
    let shape = input.shape();
    ensure!(shape.len() == 4, "MaxPool2x2 takes a rank-4 tensor, got {shape:?}");
    let (h, w) = (shape[2], shape[3]);
    let (oh, ow) = (h / 2, w / 2);
    let mut out = Tensor::zero::<f32>(&[shape[0], shape[1], oh, ow])?;
    if oh == 0 || ow == 0 {
        return Ok(out);
    }
    let plain = input.try_as_plain_ram()?;
    let src = plain.as_slice::<f32>()?;
    let mut out_plain = out.try_as_plain_ram_mut()?;
    let dst = out_plain.as_slice_mut::<f32>()?;
    for (plane, out) in src.chunks_exact(h * w).zip(dst.chunks_exact_mut(oh * ow)) {
        for (oy, row) in out.chunks_exact_mut(ow).enumerate() {
            let top = &plane[2 * oy * w..][..2 * ow];
            let bottom = &plane[(2 * oy + 1) * w..][..2 * ow];
            for ((o, t), b) in row.iter_mut().zip(top.chunks_exact(2)).zip(bottom.chunks_exact(2)) {
                // `f32::max`, as tract's own 2x2 pool takes it.
                *o = t[0].max(t[1]).max(b[0].max(b[1]));
            }
        }
    }
    Ok(out)
}

/// Puts `MaxPool2x2` in place of every optimised max pool of `model` that it computes exactly:
/// f32, NCHW, a 2x2 kernel at stride 2 with no dilation and no padding, over a known shape, with
/// no index output that anything reads. Returns how many were replaced.
pub fn replace_pools(model: &mut TypedModel) -> TractResult<usize> {
    let mut replaced = 0;
    for id in model.eval_order()? {
        let node = model.node(id);
        let Some(pool) = node.op_as::<OptMaxPool>() else { continue };
        let spec = &pool.pool_spec;
        let input = model.outlet_fact(node.inputs[0])?;
        let Some(i) = input.shape.as_concrete() else { continue };
        let unpadded = match &spec.padding {
            PaddingSpec::Valid => true,
            PaddingSpec::Explicit(before, after) | PaddingSpec::ExplicitOnnxPool(before, after, false) => {
                before.iter().chain(after).all(|&p| p == 0)
            }
            // Same padding at stride 2 over a 2x2 kernel pads nothing when both sides are even.
            PaddingSpec::SameUpper | PaddingSpec::SameLower => i.len() == 4 && i[2] % 2 == 0 && i[3] % 2 == 0,
            _ => false,
        };
        let ones = |v: &Option<TVec<usize>>| v.as_ref().is_none_or(|v| v.iter().all(|&d| d == 1));
        // An index output nothing reads (the detector's pools, as its decluttered form keeps
        // them, compute one and widen it to 64 bits) is left out.
        let outputs = model.output_outlets()?;
        let unread = |k: usize| node.outputs[k].successors.is_empty() && !outputs.contains(&OutletId::new(id, k));
        let fits = unpadded
            && (pool.with_index_outputs.is_none() || (node.outputs.len() == 2 && unread(1)))
            && spec.data_format == DataFormat::NCHW
            && input.datum_type == f32::datum_type()
            && i.len() == 4
            && spec.kernel_shape[..] == [2, 2]
            && spec.strides.as_ref().is_some_and(|s| s[..] == [2, 2])
            && ones(&spec.dilations)
            && node.outputs[0].fact.shape.as_concrete() == Some(&[i[0], i[1], i[2] / 2, i[3] / 2][..]);
        if !fits {
            continue;
        }
        let patch = TypedModelPatch::replace_single_op(model, node, &node.inputs[..1], MaxPool2x2)?;
        patch.apply(model)?;
        replaced += 1;
    }
    Ok(replaced)
}

/// A parametric ReLU over f32: `x` where it is positive, `x * slope` elsewhere, with one slope
/// per index of axis `axis` (counted from the end: 0 is the last axis) or one for all.
#[derive(Debug, Clone, PartialEq)]
pub struct PRelu {
    /// One slope per index of the axis, or a single one.
    slopes: Vec<f32>,
    /// The axis the slopes run along, from the end.
    axis_from_end: usize,
}

impl Eq for PRelu {}

impl std::hash::Hash for PRelu {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.slopes.iter().for_each(|v| v.to_bits().hash(state));
        self.axis_from_end.hash(state);
    }
}

impl Op for PRelu {
    fn name(&self) -> StaticName {
        "PRelu".into()
    }

    op_as_typed_op!();
}

impl EvalOp for PRelu {
    op_out_of_plan!();

    fn eval(&self, _ctx: &EvalContext, inputs: TVec<TValue>) -> TractResult<TVec<TValue>> {
        let mut x = args_1!(inputs).into_tensor();
        let shape = x.shape().to_vec();
        // The length of one run of equal slopes: the product of the axes after the slopes' axis.
        let inner: usize = shape[shape.len().saturating_sub(self.axis_from_end)..].iter().product();
        {
            let mut plain = x.try_as_plain_ram_mut()?;
            let data = plain.as_slice_mut::<f32>()?;
            let n = self.slopes.len();
            // One slope for all: one run.
            let inner = if n == 1 { data.len().max(1) } else { inner.max(1) };
            for (k, run) in data.chunks_mut(inner).enumerate() {
                let a = self.slopes[k % n];
                for v in run {
                    if *v < 0.0 {
                        *v *= a;
                    }
                }
            }
        }
        Ok(tvec!(x.into_tvalue()))
    }
}

impl TypedOp for PRelu {
    as_op!();

    fn output_facts(&self, inputs: &[&TypedFact]) -> TractResult<TVec<TypedFact>> {
        Ok(tvec!(f32::fact(inputs[0].shape.clone())))
    }
}

/// A constant's values as f32, in order.
fn f32_values(c: &Tensor) -> Option<Vec<f32>> {
    Some(c.cast_to::<f32>().ok()?.try_as_plain_ram().ok()?.as_slice::<f32>().ok()?.to_vec())
}

/// The slopes of a constant `c` broadcast over a tensor of `shape`, as `PRelu` keeps them: every
/// axis of `c` 1 but at most one, which matches `shape`'s axis at the same place from the end.
fn per_axis(c: &Tensor, shape: &[usize]) -> Option<(Vec<f32>, usize)> {
    let cs = c.shape();
    if cs.len() > shape.len() {
        return None;
    }
    let values = f32_values(c)?;
    let wide: Vec<usize> = (0..cs.len()).filter(|&k| cs[k] != 1).collect();
    match wide[..] {
        [] => Some((values, 0)),
        [k] if cs[k] == shape[shape.len() - cs.len() + k] => Some((values, cs.len() - 1 - k)),
        _ => None,
    }
}

/// Puts `PRelu` in place of each `add(mul(max(x, 0), b), mul(x, a))` of `model` over f32 whose
/// constants `a` and `b` give `a + b = 1` for every channel (the parametric ReLU, as the MediaPipe
/// models were converted), before code generation. Returns how many were folded.
pub fn fold_prelus(model: &mut TypedModel) -> TractResult<usize> {
    let bin = |model: &TypedModel, id: usize, name: &str| {
        model.node(id).op_as::<TypedBinOp>().is_some_and(|op| op.0.name() == name) && model.node(id).inputs.len() == 2
    };
    // The one non-constant input of binary node `id` and the constant, in either order.
    let split = |model: &TypedModel, id: usize| -> TractResult<Option<(OutletId, Arc<Tensor>)>> {
        let ins = &model.node(id).inputs;
        for (x, c) in [(ins[0], ins[1]), (ins[1], ins[0])] {
            if let Some(k) = model.outlet_fact(c)?.konst.clone()
                && model.outlet_fact(x)?.konst.is_none()
            {
                return Ok(Some((x, k)));
            }
        }
        Ok(None)
    };
    let single_use = |model: &TypedModel, o: OutletId| -> TractResult<bool> {
        Ok(model.node(o.node).outputs[o.slot].successors.len() == 1 && !model.output_outlets()?.contains(&o))
    };
    let mut folded = 0;
    for add in model.eval_order()? {
        if !bin(model, add, "Add") {
            continue;
        }
        let [p, q] = [model.node(add).inputs[0], model.node(add).inputs[1]];
        // Which side of the add is the positive part: the mul whose input is a max.
        let mut found = None;
        for (pos, neg) in [(p, q), (q, p)] {
            if pos.slot != 0 || neg.slot != 0 || !bin(model, pos.node, "Mul") || !bin(model, neg.node, "Mul") {
                continue;
            }
            let (Some((low, b)), Some((x, a))) = (split(model, pos.node)?, split(model, neg.node)?) else { continue };
            if low.slot != 0 || !bin(model, low.node, "Max") {
                continue;
            }
            let Some((x2, zero)) = split(model, low.node)? else { continue };
            let zeros = f32_values(&zero).is_some_and(|v| v.iter().all(|&v| v == 0.0));
            if x2 != x || !zeros {
                continue;
            }
            found = Some((x, a, b, low.node, pos.node, neg.node));
            break;
        }
        let Some((x, a, b, low, pos, neg)) = found else { continue };
        let fact = model.outlet_fact(x)?.clone();
        let Some(shape) = fact.shape.as_concrete().map(|s| s.to_vec()) else { continue };
        if fact.datum_type != f32::datum_type()
            || model.outlet_fact(OutletId::new(add, 0))?.shape.as_concrete() != Some(&shape[..])
            || !single_use(model, OutletId::new(low, 0))?
            || !single_use(model, OutletId::new(pos, 0))?
            || !single_use(model, OutletId::new(neg, 0))?
        {
            continue;
        }
        let (Some((slopes, axis)), Some((rest, axis_b))) = (per_axis(&a, &shape), per_axis(&b, &shape)) else {
            continue;
        };
        let complementary = !slopes.is_empty()
            && rest.len() == slopes.len()
            && (axis_b == axis || slopes.len() == 1)
            && slopes.iter().zip(&rest).all(|(a, b)| (a + b - 1.0).abs() <= 1e-6);
        if !complementary {
            continue;
        }
        let mut patch = TypedModelPatch::default();
        let tap = patch.tap_model(model, x)?;
        let name = model.node(add).name.clone();
        let out = patch.wire_node(name, PRelu { slopes, axis_from_end: axis }, &[tap])?;
        patch.shunt_outside(model, OutletId::new(add, 0), out[0])?;
        patch.apply(model)?;
        folded += 1;
    }
    Ok(folded)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// ONNX Resize, linear, half-pixel, scale 2, written out from its definition: output pixel
    /// `j` samples input position `(j + 0.5) / 2 - 0.5`, clamped to the plane, interpolated.
    fn reference(src: &[f32], h: usize, w: usize) -> Vec<f32> {
        let sample = |len: usize, j: usize| {
            let x = ((j as f32 + 0.5) / 2.0 - 0.5).clamp(0.0, (len - 1) as f32);
            let i0 = x.floor() as usize;
            (i0, (i0 + 1).min(len - 1), x - i0 as f32)
        };
        let mut out = vec![0f32; 4 * h * w];
        for y in 0..2 * h {
            let (y0, y1, fy) = sample(h, y);
            for x in 0..2 * w {
                let (x0, x1, fx) = sample(w, x);
                let g = |yy: usize, xx: usize| src[yy * w + xx];
                let top = g(y0, x0) * (1.0 - fx) + g(y0, x1) * fx;
                let bot = g(y1, x0) * (1.0 - fx) + g(y1, x1) * fx;
                out[y * 2 * w + x] = top * (1.0 - fy) + bot * fy;
            }
        }
        out
    }

    #[test]
    fn it_matches_the_definition_of_a_half_pixel_bilinear_resize() {
        for (h, w) in [(1, 1), (2, 3), (5, 7), (16, 9)] {
            let src: Vec<f32> = (0..h * w).map(|k| ((k * 7919 % 101) as f32) / 10.0 - 3.0).collect();
            let mut got = vec![0f32; 4 * h * w];
            upsample_plane(&src, h, w, &mut got);
            let want = reference(&src, h, w);
            for (k, (a, b)) in got.iter().zip(&want).enumerate() {
                assert!((a - b).abs() < 1e-5, "{h}x{w} at {k}: {a} vs {b}");
            }
        }
    }

    /// The pad computes what tract's own `Pad` computes, on ranks 1 to 4, with padding on any
    /// side of any axis, none at all, and a fill that is not zero.
    #[test]
    fn constant_pad_matches_tracts_pad() {
        // (shape, pads, fill)
        type Case<'a> = (&'a [usize], &'a [(usize, usize)], f32);
        let cases: [Case; 6] = [
            (&[5], &[(2, 1)], 0.0),
            (&[3, 4], &[(0, 0), (1, 2)], 0.0),
            (&[2, 3, 4], &[(1, 0), (0, 2), (3, 1)], -1.5),
            (&[1, 3, 5, 7], &[(0, 0), (0, 0), (1, 1), (1, 1)], 0.0),
            (&[2, 2, 3, 3], &[(1, 1), (0, 1), (2, 0), (0, 0)], 7.0),
            (&[1, 2, 3, 4], &[(0, 0), (0, 0), (0, 0), (0, 0)], 0.0),
        ];
        for (shape, pads, value) in cases {
            let n: usize = shape.iter().product();
            let input =
                tract_ndarray::ArrayD::from_shape_vec(shape.to_vec(), (0..n).map(|k| k as f32 * 0.5 - 3.0).collect())
                    .expect("shape")
                    .into_tensor();
            // tract's pad, run as a one-node model.
            let mut model = TypedModel::default();
            let source = model.add_source("input", f32::fact(shape)).expect("source");
            let theirs = Pad::new(pads.to_vec(), PadMode::Constant(Arc::new(tensor0(value))));
            let padded = model.wire_node("pad", theirs, &[source]).expect("wired");
            model.select_output_outlets(&padded).expect("output");
            let plan = model.into_runnable().expect("runnable");
            let want = plan.run(tvec!(input.clone().into_tvalue())).expect("tract pads").remove(0).into_tensor();
            let got = pad_into(&input, pads, value).expect("pads");
            assert_eq!(got, want, "{shape:?} {pads:?} {value}");
        }
    }

    /// The pool computes what tract's own max pool computes (its general walk at stride 2),
    /// on even and odd sides, one output pixel, several images and channels, negative values.
    #[test]
    fn max_pool_2x2_matches_tracts_max_pool() {
        use tract_onnx::tract_core::ops::cnn::{MaxPool, PoolSpec};
        for shape in [[1, 1, 2, 2], [1, 3, 6, 8], [2, 2, 7, 5], [1, 4, 9, 9], [1, 2, 3, 2]] {
            let n: usize = shape.iter().product();
            let values = (0..n).map(|k| ((k * 7919 % 103) as f32) * 0.37 - 19.0).collect();
            let input = tract_ndarray::ArrayD::from_shape_vec(shape.to_vec(), values).expect("shape").into_tensor();
            let mut model = TypedModel::default();
            let source = model.add_source("input", f32::fact(shape)).expect("source");
            let spec = PoolSpec::new(
                DataFormat::NCHW,
                tvec![2, 2],
                PaddingSpec::Valid,
                None,
                Some(tvec![2, 2]),
                shape[1],
                shape[1],
            );
            let pooled = model.wire_node("pool", MaxPool::new(spec, None), &[source]).expect("wired");
            model.select_output_outlets(&pooled).expect("output");
            let theirs = model.clone().into_runnable().expect("runnable");
            let want = theirs.run(tvec!(input.clone().into_tvalue())).expect("tract pools").remove(0).into_tensor();
            let got = max_pool_2x2(&input).expect("pools");
            assert_eq!(got, want, "{shape:?}");
            // And the rewrite finds tract's optimised pool and puts this one in its place.
            let mut optimised = model.into_optimized().expect("optimised");
            assert_eq!(replace_pools(&mut optimised).expect("replaced"), 1, "{shape:?}");
            let ours = optimised.into_runnable().expect("runnable");
            let got = ours.run(tvec!(input.into_tvalue())).expect("ours pools").remove(0).into_tensor();
            assert_eq!(got, want, "{shape:?} through the rewritten model");
        }
    }

    /// The four-operation form of a parametric ReLU the MediaPipe models were converted to,
    /// `max(x, 0) * (1 - a) + x * a` with a slope per channel (the second of four axes), run by
    /// tract, against the same graph with it folded into `PRelu`; and a graph whose constants do
    /// not add up to one is left alone.
    #[test]
    fn a_folded_prelu_computes_what_its_four_operations_do() {
        use tract_onnx::tract_core::ops::math;
        let build = |slope_sum: f32| -> TractResult<TypedModel> {
            let mut m = TypedModel::default();
            let x = m.add_source("x", f32::fact([1, 3, 2, 4]))?;
            let a = tract_ndarray::arr3(&[[[0.25f32]], [[-0.5]], [[0.0]]]).into_shape_with_order((1, 3, 1, 1))?;
            let b = tract_ndarray::arr3(&[[[slope_sum - 0.25f32]], [[slope_sum + 0.5]], [[slope_sum]]])
                .into_shape_with_order((1, 3, 1, 1))?;
            let (a, b) = (a.into_tensor(), b.into_tensor());
            let zero = m.add_const("zero", tract_ndarray::Array4::<f32>::zeros((1, 1, 1, 1)).into_tensor())?;
            let (a, b) = (m.add_const("a", a)?, m.add_const("b", b)?);
            let low = m.wire_node("low", math::max(), &[x, zero])?;
            let pos = m.wire_node("pos", math::mul(), &[low[0], b])?;
            let neg = m.wire_node("neg", math::mul(), &[x, a])?;
            let y = m.wire_node("y", math::add(), &[pos[0], neg[0]])?;
            m.select_output_outlets(&y)?;
            Ok(m)
        };
        let input: Tensor = tract_ndarray::Array4::from_shape_fn((1, 3, 2, 4), |(_, c, y, x)| {
            (c as f32 - 1.0) * 0.7 + (y as f32 - 0.5) * (x as f32 - 1.5)
        })
        .into();
        let plain = build(1.0).expect("builds").into_runnable().expect("plan");
        let mut folded = build(1.0).expect("builds");
        assert_eq!(fold_prelus(&mut folded).expect("folds"), 1);
        let folded = folded.into_optimized().expect("optimises").into_runnable().expect("plan");
        let want = plain.run(tvec!(input.clone().into())).expect("runs");
        let got = folded.run(tvec!(input.into())).expect("runs");
        let want: Vec<f32> = want[0].to_plain_array_view::<f32>().expect("f32").iter().copied().collect();
        let got: Vec<f32> = got[0].to_plain_array_view::<f32>().expect("f32").iter().copied().collect();
        assert!(want.iter().zip(&got).all(|(w, g)| (w - g).abs() <= 1e-6), "{want:?} against {got:?}");
        assert!(want.iter().any(|&v| v < 0.0), "the input reaches the negative side");
        let mut other = build(0.9).expect("builds");
        assert_eq!(fold_prelus(&mut other).expect("runs"), 0);
    }
}
