//! Where the portrait matting model (MODNet) spends its time, node by node and by kind of
//! operation, at one input shape on this machine (run it pinned to one core):
//! `taskset -c 0 cargo run --release -p headshot-vision --example matting_profile -- [H W]`.

use std::collections::BTreeMap;

use tract_onnx::prelude::*;

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let h: usize = args.next().map(|v| v.parse()).transpose()?.unwrap_or(512);
    let w: usize = args.next().map(|v| v.parse()).transpose()?.unwrap_or(384);
    let model = headshot_vision::models::matting_model(h, w)?;
    let input: Tensor = tract_ndarray::Array4::<f32>::from_shape_fn((1, 3, h, w), |(_, c, y, x)| {
        (((x * 7 + y * 3 + c * 11) % 255) as f32 - 127.5) / 127.5
    })
    .into();
    model.run(input.clone())?;
    let nodes = model.profile(input)?;
    let total: f64 = nodes.iter().map(|n| n.2).sum();
    println!("{h}x{w}: {total:.1} ms");
    let mut by_op: BTreeMap<&str, (f64, usize)> = BTreeMap::new();
    for (_, op, ms) in &nodes {
        let e = by_op.entry(op.as_str()).or_default();
        e.0 += ms;
        e.1 += 1;
    }
    let mut ops: Vec<_> = by_op.into_iter().collect();
    ops.sort_by(|a, b| b.1.0.total_cmp(&a.1.0));
    for (op, (ms, n)) in ops.iter().take(10) {
        println!("  {op:<28} {ms:7.1} ms  x{n}");
    }
    let mut slowest: Vec<_> = nodes.iter().collect();
    slowest.sort_by(|a, b| b.2.total_cmp(&a.2));
    for (name, op, ms) in slowest.iter().take(10) {
        println!("  {ms:7.1} ms  {name} ({op})");
    }
    Ok(())
}
