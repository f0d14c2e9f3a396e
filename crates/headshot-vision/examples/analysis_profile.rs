//! Where one of the analysis models spends its time, node by node and by kind of operation, as
//! the program runs it (embedded decluttered, with `fast_ops`), the fastest of five runs after a
//! first: `taskset -c 0 cargo run --release -p headshot-vision --example analysis_profile --
//! detector|mesh|iris|seg`. (The matting model has its own, `matting_profile`.)

use std::collections::BTreeMap;

use headshot_vision::models;
use headshot_vision::runtime::Model;
use tract_onnx::prelude::*;

fn main() -> anyhow::Result<()> {
    let which = std::env::args().nth(1).unwrap_or_else(|| "detector".into());
    let (model, shape): (&Model, Vec<usize>) = match which.as_str() {
        "detector" => (models::detector()?, vec![1, 3, models::DETECTOR_SIDE, models::DETECTOR_SIDE]),
        "mesh" => (models::face_mesh()?, vec![1, models::MESH_SIDE, models::MESH_SIDE, 3]),
        "iris" => (models::iris_landmark()?, vec![1, models::IRIS_SIDE, models::IRIS_SIDE, 3]),
        "seg" => (models::selfie_square()?, vec![1, models::SELFIE_SQUARE.0, models::SELFIE_SQUARE.1, 3]),
        other => anyhow::bail!("{other}: one of detector, mesh, iris, seg"),
    };
    // A deterministic input with some structure; the models' time does not depend on it.
    let input: Tensor = tract_ndarray::ArrayD::<f32>::from_shape_vec(
        shape.clone(),
        (0..shape.iter().product::<usize>()).map(|i| ((i * 7 + i / 640) % 255) as f32 / 255.0).collect(),
    )?
    .into();
    model.run(input.clone())?;
    let mut best = f64::MAX;
    let mut nodes = vec![];
    for _ in 0..5 {
        let n = model.profile(input.clone())?;
        let t: f64 = n.iter().map(|n| n.2).sum();
        if t < best {
            best = t;
            nodes = n;
        }
    }
    println!("{which}: {best:.1} ms, {} nodes", nodes.len());
    let mut by_op: BTreeMap<&str, (f64, usize)> = BTreeMap::new();
    for (_, op, ms) in &nodes {
        let e = by_op.entry(op.as_str()).or_default();
        e.0 += ms;
        e.1 += 1;
    }
    let mut ops: Vec<_> = by_op.into_iter().collect();
    ops.sort_by(|a, b| b.1.0.total_cmp(&a.1.0));
    for (op, (ms, n)) in ops.iter().take(14) {
        println!("  {op:<28} {ms:7.2} ms  x{n}");
    }
    let mut slowest: Vec<_> = nodes.iter().collect();
    slowest.sort_by(|a, b| b.2.total_cmp(&a.2));
    for (name, op, ms) in slowest.iter().take(14) {
        println!("  {ms:7.2} ms  {name} ({op})");
    }
    Ok(())
}
