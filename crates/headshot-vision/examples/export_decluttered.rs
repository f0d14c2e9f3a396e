//! Makes `models/decluttered/`: each model the analysis of every photo needs, decluttered for
//! the input shape the program fixes, as NNEF (what `Model::load_decluttered` loads), and its
//! provenance. Run after changing an ONNX file in `models/` or upgrading tract (the test
//! `the_embedded_decluttered_models_compute_what_the_onnx_files_do` says when):
//! `cargo run --release -p headshot-vision --example export_decluttered`.

use headshot_vision::models::DECLUTTERED;
use headshot_vision::runtime::decluttered_nnef;

fn main() -> anyhow::Result<()> {
    let models = concat!(env!("CARGO_MANIFEST_DIR"), "/../../models");
    let out = format!("{models}/decluttered");
    std::fs::create_dir_all(&out)?;
    let mut provenance = String::from(
        "# Made by `cargo run --release -p headshot-vision --example export_decluttered` from the ONNX\n\
         # files in models/ (see models/PROVENANCE for where those come from, and their licences,\n\
         # which these files keep: they are the same networks with the same weights, their graphs\n\
         # simplified by tract's decluttering for one input shape, written in tract's NNEF).\n\
         # file | made from | input shape\n",
    );
    for (name, onnx, shape) in DECLUTTERED {
        let tar = decluttered_nnef(name, &std::fs::read(format!("{models}/{onnx}"))?, &shape)?;
        let file = format!("{name}.nnef.tar");
        std::fs::write(format!("{out}/{file}"), &tar)?;
        provenance.push_str(&format!("{file} | {onnx} | {shape:?}\n"));
        println!("{file}: {} bytes", tar.len());
    }
    std::fs::write(format!("{out}/PROVENANCE"), provenance)?;
    Ok(())
}
