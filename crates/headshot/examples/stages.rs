//! Per-stage wall time of the analysis of one photo (a benchmark to run by hand, not a test):
//! `cargo run --release --example stages -- PHOTO [RUNS]`. The first run loads the models and
//! is reported apart.

use std::path::PathBuf;
use std::time::Duration;

use headshot::analysis::Analyzer;

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let path = PathBuf::from(args.next().ok_or_else(|| anyhow::anyhow!("usage: stages PHOTO [RUNS]"))?);
    let runs: u32 = args.next().map(|r| r.parse()).transpose()?.unwrap_or(5);
    let analyzer = Analyzer::default();
    let first = analyzer.analyze_path(&path)?;
    println!(
        "{} ({}x{}), first run (loads models): {:?}",
        path.display(),
        first.photo.width(),
        first.photo.height(),
        {
            let t = first.timings;
            t.decode + t.detect + t.mesh + t.segment + t.judge
        }
    );
    let mut sum = [Duration::ZERO; 5];
    for _ in 0..runs {
        let t = analyzer.analyze_path(&path)?.timings;
        for (s, d) in sum.iter_mut().zip([t.decode, t.detect, t.mesh, t.segment, t.judge]) {
            *s += d;
        }
    }
    let names = ["decode", "detect", "mesh", "segment", "measure+judge"];
    let mut total = Duration::ZERO;
    for (n, s) in names.iter().zip(sum) {
        let mean = s / runs;
        total += mean;
        println!("  {n:<14} {:>8.1} ms", mean.as_secs_f64() * 1e3);
    }
    println!("  {:<14} {:>8.1} ms (mean of {runs}, one photo at a time)", "total", total.as_secs_f64() * 1e3);
    Ok(())
}
