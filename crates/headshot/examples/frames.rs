//! Each use's frame for one photo, planned on a kept and on a replaced background, and what it
//! shows: crown, forehead and chin (shares of the height), the face's sides (shares of the
//! width), the enlargement at the face, and whether the head is whole.
//! `cargo run --example frames -- PHOTO [USE]`.

use headshot::Analyzer;
use headshot_core::plan::{self, Canvas};

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let Some(path) = args.get(1) else {
        anyhow::bail!("usage: frames PHOTO [USE]");
    };
    let analyzer = Analyzer::default();
    let a = analyzer.analyze_path(std::path::Path::new(path))?;
    let Some(m) = a.scene.subjects.first() else {
        anyhow::bail!("{path}: no person");
    };
    println!("{:?}", m.head);
    for u in analyzer.catalogue.uses.iter().filter(|u| args.get(2).is_none_or(|n| *n == u.name)) {
        for canvas in [Canvas::PhotoOnly, Canvas::Extendable] {
            let p = plan::plan(&m.head, u, a.scene.width, a.scene.height, canvas, None);
            let s = p.head_in_frame(&m.head);
            println!(
                "{:<18} {:<10} {:<15} crown {:>5.2} forehead {:>5.2} chin {:>5.2} sides {:.2}..{:.2} enlarge {:.2} (limit {}) whole {}",
                u.name,
                format!("{canvas:?}"),
                format!("{:?}", p.fit),
                s.crown,
                s.forehead,
                s.chin,
                s.left,
                s.right,
                s.enlarge,
                u.max_enlarge(),
                s.whole(&m.head, u)
            );
        }
    }
    Ok(())
}
