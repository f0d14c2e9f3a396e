//! Where a process's start-up goes: each model's parse, typing, optimisation and first run,
//! timed separately, and beside them the load the program does (the embedded decluttered model
//! and this machine's code generation: `Model::load_decluttered`). Run it pinned to one core:
//! `taskset -c 0 cargo run --release -p headshot-vision --example load_times`.

use std::io::Cursor;
use std::time::Instant;

use tract_onnx::prelude::*;

fn main() -> anyhow::Result<()> {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../../models/");
    // The embedded decluttered models, with the input shapes the program fixes.
    for (name, file, shape) in headshot_vision::models::DECLUTTERED {
        let bytes = std::fs::read(format!("{root}{file}"))?;
        let t = Instant::now();
        let proto = tract_onnx::onnx().proto_model_for_read(&mut Cursor::new(&bytes))?;
        let t_proto = t.elapsed();
        let model = tract_onnx::onnx().model_for_proto_model(&proto)?.with_input_fact(0, f32::fact(shape).into())?;
        let t_parse = t.elapsed();
        let typed = model.into_typed()?;
        let t_typed = t.elapsed();
        let decl = typed.clone().into_decluttered()?;
        let t_decl = t.elapsed();
        let opt = decl.into_optimized()?;
        let t_opt = t.elapsed();
        let plan = opt.into_runnable()?;
        let input = Tensor::zero::<f32>(&shape)?;
        plan.run(tvec!(input.clone().into()))?;
        let t_run1 = t.elapsed();
        let r = Instant::now();
        plan.run(tvec!(input.into()))?;
        let run2 = r.elapsed();
        let nnef = std::fs::read(format!("{root}decluttered/{name}.nnef.tar"))?;
        let d = Instant::now();
        headshot_vision::runtime::Model::load_decluttered(name, &nnef, &shape)?;
        let embedded = d.elapsed();
        let ms = |d: std::time::Duration| d.as_secs_f64() * 1e3;
        println!(
            "{file:<40} proto {:6.1} parse {:6.1} typed {:6.1} declutter {:6.1} optimise {:6.1} first run {:6.1} | second run {:6.1} | as the program loads it {:6.1}",
            ms(t_proto),
            ms(t_parse - t_proto),
            ms(t_typed - t_parse),
            ms(t_decl - t_typed),
            ms(t_opt - t_decl),
            ms(t_run1 - t_opt),
            ms(run2),
            ms(embedded)
        );
    }
    Ok(())
}
