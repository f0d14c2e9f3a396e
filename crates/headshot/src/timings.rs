//! Where the time of a run went, stage by stage, summed over photos and outputs: what
//! `--timings` prints and the benchmarks report. Stages of different photos and outputs run in
//! parallel, so the sums are work time; the wall time is printed beside them.

use std::io::Write;
use std::time::Duration;

use crate::analysis::Timings;

/// Wall time of the stages of one output.
#[derive(Debug, Clone, Copy, Default)]
pub struct OutputTimings {
    /// Crop planning, including team settling (which renders and detects again).
    pub plan: Duration,
    /// Resampling, matte refinement, foreground estimation, background and corrections.
    pub render: Duration,
    /// Encoding within the byte limit, and the atomic write.
    pub encode: Duration,
    /// A document photo's file checked again (decoded and analysed) and its print sheet.
    pub check: Duration,
}

/// Work time per stage over a run.
#[derive(Debug, Clone, Copy, Default)]
pub struct StageTimes {
    pub photos: usize,
    pub outputs: usize,
    pub decode: Duration,
    pub detect: Duration,
    pub mesh: Duration,
    pub segment: Duration,
    /// Measures, judgement and report.
    pub judge: Duration,
    /// The person's matte for cut-out outputs (portrait matting), once per photo.
    pub matting: Duration,
    pub plan: Duration,
    pub render: Duration,
    /// Encoding within the byte limit and the atomic write.
    pub encode: Duration,
    /// Document photos checked again on their files, and their print sheets.
    pub check: Duration,
}

impl StageTimes {
    pub fn add_analysis(&mut self, t: &Timings) {
        self.photos += 1;
        self.decode += t.decode;
        self.detect += t.detect;
        self.mesh += t.mesh;
        self.segment += t.segment;
        self.judge += t.judge;
    }

    pub fn add_output(&mut self, t: &OutputTimings) {
        self.outputs += 1;
        self.plan += t.plan;
        self.render += t.render;
        self.encode += t.encode;
        self.check += t.check;
    }

    pub fn merge(&mut self, o: &StageTimes) {
        self.photos += o.photos;
        self.outputs += o.outputs;
        self.decode += o.decode;
        self.detect += o.detect;
        self.mesh += o.mesh;
        self.segment += o.segment;
        self.judge += o.judge;
        self.matting += o.matting;
        self.plan += o.plan;
        self.render += o.render;
        self.encode += o.encode;
        self.check += o.check;
    }

    /// The stages with their names, in the order of the data path.
    pub fn stages(&self) -> [(&'static str, Duration); 10] {
        [
            ("decode", self.decode),
            ("detect", self.detect),
            ("mesh", self.mesh),
            ("segment", self.segment),
            ("measure+judge", self.judge),
            ("matting", self.matting),
            ("plan", self.plan),
            ("render", self.render),
            ("encode+write", self.encode),
            ("document check", self.check),
        ]
    }

    pub fn total(&self) -> Duration {
        self.stages().iter().map(|(_, d)| *d).sum()
    }

    /// A table: each stage's work time, its share, and per photo.
    pub fn print(&self, out: &mut impl Write, wall: Duration) -> std::io::Result<()> {
        let total = self.total().as_secs_f64().max(1e-9);
        let per = self.photos.max(1) as f64;
        writeln!(out, "timings: {} photo(s), {} output(s), wall {:.0} ms", self.photos, self.outputs, ms(wall))?;
        writeln!(out, "  {:<14} {:>10} {:>6} {:>12}", "stage", "work ms", "share", "ms/photo")?;
        for (name, d) in self.stages() {
            if self.outputs == 0 && matches!(name, "plan" | "render" | "encode+write") {
                continue;
            }
            if name == "document check" && d.is_zero() {
                continue;
            }
            let s = d.as_secs_f64();
            writeln!(out, "  {name:<14} {:>10.1} {:>5.1}% {:>12.1}", s * 1e3, 100.0 * s / total, s * 1e3 / per)?;
        }
        writeln!(out, "  {:<14} {:>10.1} {:>6} {:>12.1}", "total", total * 1e3, "", total * 1e3 / per)
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// A large photo for benchmarks, made from a smaller one: enlarged (Lanczos) to about
/// `megapixels`, with a little grain (about 3 levels, like a camera's sensor noise at base ISO)
/// so that it decodes and encodes like a camera file rather than like a smooth enlargement.
/// Deterministic for a given `seed`.
pub fn synthetic_large(src: &image::RgbImage, megapixels: f64, seed: u32) -> image::RgbImage {
    let s = (megapixels * 1e6 / (f64::from(src.width()) * f64::from(src.height()))).sqrt();
    let (w, h) = ((f64::from(src.width()) * s).round() as u32, (f64::from(src.height()) * s).round() as u32);
    let mut big = headshot_core::resize::resize_rgb(src, w.max(1), h.max(1));
    let mut state = seed.wrapping_mul(2_654_435_761).wrapping_add(1);
    let mut uniform = move || {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        (state >> 8) as f32 / (1u32 << 24) as f32
    };
    for v in big.iter_mut() {
        // The sum of three uniforms: close enough to a Gaussian, sigma ~3 levels.
        let n = (uniform() + uniform() + uniform() - 1.5) * 6.0;
        *v = (f32::from(*v) + n).round().clamp(0.0, 255.0) as u8;
    }
    big
}
