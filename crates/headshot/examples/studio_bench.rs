//! Benchmark of the studio on big photos (run by hand, not a test; `tools/bench/studio.sh`
//! runs it beside the plain decode-resize-encode floor):
//!
//! `cargo run --release --example studio_bench -- PHOTO WORKDIR [THREADS] [RUNS]`
//!
//! Makes 12 MP and 24 MP JPEG copies of PHOTO in WORKDIR (enlargements with a little grain,
//! `headshot::timings::synthetic_large`: real camera files of those sizes are not among the
//! shared photos), then for each: the analysis stages
//! and the output stages (plan, render, encode) of every output the photo is good for, mean of
//! RUNS after one warm-up run, on THREADS worker threads (default 1: the "one core" figure).
//! Writes `WORKDIR/<size>-jobs.json`: the outputs made, with the JPEG quality each needed, for
//! the floor to make the same files.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use headshot::analysis::Analyzer;
use headshot::studio::{self, StudioOptions};
use headshot::timings::StageTimes;

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    anyhow::ensure!(args.len() >= 2, "usage: studio_bench PHOTO WORKDIR [THREADS] [RUNS]");
    let photo = PathBuf::from(&args[0]);
    let work = PathBuf::from(&args[1]);
    let threads: usize = args.get(2).map(|t| t.parse()).transpose()?.unwrap_or(1);
    let runs: u32 = args.get(3).map(|r| r.parse()).transpose()?.unwrap_or(3);
    rayon::ThreadPoolBuilder::new().num_threads(threads).build_global()?;
    std::fs::create_dir_all(&work)?;
    let src = image::open(&photo).with_context(|| photo.display().to_string())?.to_rgb8();
    let analyzer = Analyzer::default();

    for mp in [12u32, 24] {
        let input = work.join(format!("{mp}mp.jpg"));
        if !input.exists() {
            let big = headshot::timings::synthetic_large(&src, f64::from(mp), mp);
            let mut f = std::io::BufWriter::new(std::fs::File::create(&input)?);
            image::codecs::jpeg::JpegEncoder::new_with_quality(&mut f, 92).encode_image(&big)?;
        }
        let out = work.join(format!("{mp}mp-out"));
        let mut stages = StageTimes::default();
        let mut made_n = 0;
        let mut jobs = Vec::new();
        for run in 0..=runs {
            let a = analyzer.analyze_path(&input)?;
            let t = a.timings;
            let studio::PhotoOutputs { made, errors, matting, .. } =
                studio::make_outputs(&a, &analyzer, &StudioOptions::default(), &out, "photo");
            anyhow::ensure!(errors.is_empty(), "{errors:?}");
            if run == 0 {
                // Warm-up: models load, caches fill.
                made_n = made.len();
                jobs = made
                    .iter()
                    .map(|m| {
                        serde_json::json!({
                            "use": m.report.use_name, "width": m.report.width, "height": m.report.height,
                            "format": m.report.format, "quality": m.report.quality,
                        })
                    })
                    .collect();
                continue;
            }
            stages.add_analysis(&t);
            stages.matting += matting;
            for m in &made {
                stages.add_output(&m.timings);
            }
        }
        std::fs::write(work.join(format!("{mp}mp-jobs.json")), serde_json::to_vec_pretty(&jobs)?)?;
        let (w, h) = image::image_dimensions(&input)?;
        println!("{mp} MP ({w}x{h}), {made_n} outputs, {threads} thread(s), mean of {runs}:");
        let mut total = Duration::ZERO;
        for (n, s) in stages.stages() {
            let mean = s / runs;
            total += mean;
            println!("  {n:<14} {:>8.1} ms", ms(mean));
        }
        println!("  {:<14} {:>8.1} ms", "total", ms(total));
    }
    Ok(())
}
