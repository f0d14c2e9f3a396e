//! Where one model spends its time as the program runs it (the analysis models embedded
//! decluttered, MODNet at one of its shapes, each with `fast_ops` in place), node by node and by
//! kind of operation: the fastest of five runs after a first. Run it pinned to one core:
//! `taskset -c 0 cargo run --release -p headshot-vision --example model_profile --
//! detector|mesh|iris|seg|matting [H W]` (H W: the matting model's input shape, 512x384 unless
//! given).

use std::collections::BTreeMap;

use headshot_vision::models;
use headshot_vision::runtime::Model;
use tract_onnx::prelude::*;

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let which = args.next().unwrap_or_else(|| "matting".into());
    let (model, shape): (&Model, Vec<usize>) = match which.as_str() {
        "detector" => (models::detector()?, vec![1, 3, models::DETECTOR_SIDE, models::DETECTOR_SIDE]),
        "mesh" => (models::face_mesh()?, vec![1, models::MESH_SIDE, models::MESH_SIDE, 3]),
        "iris" => (models::iris_landmark()?, vec![1, models::IRIS_SIDE, models::IRIS_SIDE, 3]),
        "seg" => (models::selfie_square()?, vec![1, models::SELFIE_SQUARE.0, models::SELFIE_SQUARE.1, 3]),
        "matting" => {
            let h: usize = args.next().map(|v| v.parse()).transpose()?.unwrap_or(512);
            let w: usize = args.next().map(|v| v.parse()).transpose()?.unwrap_or(384);
            (models::matting_model(h, w)?, vec![1, 3, h, w])
        }
        other => anyhow::bail!("{other}: one of detector, mesh, iris, seg, matting [H W]"),
    };
    // A deterministic input with some structure; the models' time does not depend on it.
    let n: usize = shape.iter().product();
    let values = (0..n).map(|i| ((i * 7 + i / 640) % 255) as f32 / 255.0).collect();
    let input: Tensor = tract_ndarray::ArrayD::<f32>::from_shape_vec(shape.clone(), values)?.into();
    model.run(input.clone())?;
    let mut nodes = Vec::new();
    let mut best = f64::MAX;
    for _ in 0..5 {
        let run = model.profile(input.clone())?;
        let total: f64 = run.iter().map(|n| n.2).sum();
        if total < best {
            (best, nodes) = (total, run);
        }
    }
    println!("{which} {shape:?}: {best:.1} ms, {} nodes", nodes.len());
    let mut by_op: BTreeMap<&str, (f64, usize)> = BTreeMap::new();
    for (_, op, ms) in &nodes {
        let e = by_op.entry(op.as_str()).or_default();
        e.0 += ms;
        e.1 += 1;
    }
    let mut ops: Vec<_> = by_op.into_iter().collect();
    ops.sort_by(|a, b| b.1.0.total_cmp(&a.1.0));
    for (op, (ms, n)) in ops.iter().take(12) {
        println!("  {op:<28} {ms:7.2} ms  x{n}");
    }
    let mut slowest: Vec<_> = nodes.iter().collect();
    slowest.sort_by(|a, b| b.2.total_cmp(&a.2));
    for (name, op, ms) in slowest.iter().take(10) {
        println!("  {ms:7.2} ms  {name} ({op})");
    }
    Ok(())
}
