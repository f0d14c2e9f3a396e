//! Time of the portrait matting model (MODNet) on one core, per input shape of both tiers, and how far the
//! faster operations (`fast_ops`) move its output from tract's own (a benchmark and a check to run
//! by hand): `cargo run --release -p headshot-vision --example matting -- [RUNS]`.

use std::time::Instant;

use headshot_vision::models::MATTING_TIERS;
use headshot_vision::runtime::tracts_own_plan;
use tract_onnx::prelude::*;

const MODNET: &[u8] = include_bytes!("../../../models/modnet.onnx");

fn main() -> anyhow::Result<()> {
    let runs: u32 = std::env::args().nth(1).map(|r| r.parse()).transpose()?.unwrap_or(5);
    for (h, w) in MATTING_TIERS.into_iter().flatten() {
        let input: Tensor = tract_ndarray::Array4::<f32>::from_shape_fn((1, 3, h, w), |(_, c, y, x)| {
            (((x * 7 + y * 3 + c * 11) % 255) as f32 - 127.5) / 127.5
        })
        .into();
        let t = Instant::now();
        let fast = headshot_vision::models::matting_model(h, w)?;
        let load = t.elapsed();
        // tract's own operations throughout (its Resize and Pad), without `fast_ops`.
        let plain = tracts_own_plan(MODNET, &[1, 3, h, w])?;
        let a = fast.run(input.clone())?;
        let b = plain.run(tvec!(input.clone().into()))?;
        let (a, b) = (a[0].to_plain_array_view::<f32>()?, b[0].to_plain_array_view::<f32>()?);
        let diff = a.iter().zip(b.iter()).map(|(x, y)| (x - y).abs()).fold(0.0f32, f32::max);
        // The fastest of the runs: on a shared machine the others measure the neighbours.
        let time = |run: &dyn Fn() -> anyhow::Result<()>| -> anyhow::Result<f64> {
            let mut best = f64::INFINITY;
            for _ in 0..runs {
                let t = Instant::now();
                run()?;
                best = best.min(t.elapsed().as_secs_f64() * 1e3);
            }
            Ok(best)
        };
        let ours = time(&|| {
            fast.run(input.clone())?;
            Ok(())
        })?;
        let theirs = time(&|| {
            plain.run(tvec!(input.clone().into()))?;
            Ok(())
        })?;
        println!(
            "{h}x{w}: load {:.0} ms, run {ours:.0} ms (tract's own operations: {theirs:.0} ms), largest difference {diff:.2e}",
            load.as_secs_f64() * 1e3,
        );
    }
    Ok(())
}
