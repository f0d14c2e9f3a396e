//! `headshot eval MANIFEST`: scores the judgements against a person's labels and prints the
//! accuracy and confusion matrix of each (framing, gaze, background, sharp).

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use headshot::analysis::Analyzer;
use headshot::core::report::Report;
use headshot::session::analyze_each;

/// One labelled photo.
#[derive(Debug, Clone)]
struct Label {
    file: String,
    framing: String,
    gaze: String,
    background: String,
    sharp: String,
}

/// Splits one CSV line (RFC 4180 quotes, no embedded newlines).
fn split_csv(line: &str) -> Vec<String> {
    let mut fields = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                cur.push('"');
                chars.next();
            }
            ('"', _) => quoted = !quoted,
            (',', false) => fields.push(std::mem::take(&mut cur)),
            _ => cur.push(c),
        }
    }
    fields.push(cur);
    fields
}

fn read_manifest(path: &Path) -> anyhow::Result<Vec<Label>> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let mut lines = text.lines();
    let header = split_csv(lines.next().context("empty manifest")?);
    let col =
        |name: &str| header.iter().position(|h| h == name).with_context(|| format!("manifest has no column {name:?}"));
    let (f, fr, g, b, s) = (col("file")?, col("framing")?, col("gaze")?, col("background")?, col("sharp")?);
    let mut out = Vec::new();
    for line in lines.filter(|l| !l.trim().is_empty()) {
        let v = split_csv(line);
        let get = |i: usize| v.get(i).cloned().unwrap_or_default();
        out.push(Label { file: get(f), framing: get(fr), gaze: get(g), background: get(b), sharp: get(s) });
    }
    Ok(out)
}

/// Predicted vs labelled values for one judgement.
#[derive(Debug, Default, serde::Serialize)]
struct Score {
    pairs: Vec<(String, String, String)>,
}

impl Score {
    fn add(&mut self, file: &str, truth: &str, predicted: &str) {
        self.pairs.push((file.to_string(), truth.to_string(), predicted.to_string()));
    }

    fn accuracy(&self) -> f32 {
        let ok = self.pairs.iter().filter(|(_, t, p)| t == p).count();
        ok as f32 / self.pairs.len().max(1) as f32
    }

    fn print(&self, out: &mut impl Write, name: &str) -> std::io::Result<()> {
        let ok = self.pairs.iter().filter(|(_, t, p)| t == p).count();
        writeln!(out, "{name}: {ok}/{} = {:.1} %", self.pairs.len(), 100.0 * self.accuracy())?;
        let mut classes: Vec<&str> = self.pairs.iter().flat_map(|(_, t, p)| [t.as_str(), p.as_str()]).collect();
        classes.sort();
        classes.dedup();
        let mut m: BTreeMap<(&str, &str), usize> = BTreeMap::new();
        for (_, t, p) in &self.pairs {
            *m.entry((t.as_str(), p.as_str())).or_default() += 1;
        }
        write!(out, "  {:<14}", "label \\ pred")?;
        for c in &classes {
            write!(out, " {:>13}", c)?;
        }
        writeln!(out)?;
        for t in &classes {
            write!(out, "  {:<14}", t)?;
            for p in &classes {
                write!(out, " {:>13}", m.get(&(*t, *p)).copied().unwrap_or(0))?;
            }
            writeln!(out)?;
        }
        for (f, t, p) in self.pairs.iter().filter(|(_, t, p)| t != p) {
            writeln!(out, "  miss: {f}: labelled {t}, judged {p}")?;
        }
        writeln!(out)
    }
}

pub fn run(manifest: &Path, json: bool) -> anyhow::Result<ExitCode> {
    let labels = read_manifest(manifest)?;
    let dir = manifest.parent().unwrap_or(Path::new("."));
    let paths: Vec<PathBuf> = labels.iter().map(|l| dir.join(&l.file)).collect();
    let analyzer = Analyzer::default();
    let reports: Vec<Option<Report>> = analyze_each(&analyzer, &paths, |_, r| r.ok().map(|a| a.report));

    let (mut framing, mut gaze, mut background, mut sharp) =
        (Score::default(), Score::default(), Score::default(), Score::default());
    let mut failed = Vec::new();
    for (l, r) in labels.iter().zip(&reports) {
        let Some(r) = r else {
            failed.push(l.file.clone());
            continue;
        };
        framing.add(&l.file, &l.framing, r.framing.as_str());
        if l.gaze == "camera" || l.gaze == "away" {
            let g = r.gaze.map_or("none".to_string(), |g| format!("{g:?}").to_lowercase());
            gaze.add(&l.file, &l.gaze, &g);
        }
        if l.background == "plain" || l.background == "busy" {
            background.add(&l.file, &l.background, if r.background.plain { "plain" } else { "busy" });
        }
        if l.sharp == "sharp" || l.sharp == "blurry" {
            sharp.add(&l.file, &l.sharp, if r.sharp { "sharp" } else { "blurry" });
        }
    }
    let mut out = std::io::stdout().lock();
    if json {
        let doc = serde_json::json!({
            "framing": framing.accuracy(), "gaze": gaze.accuracy(),
            "background": background.accuracy(), "sharp": sharp.accuracy(),
            "pairs": {"framing": framing, "gaze": gaze, "background": background, "sharp": sharp},
            "failed": failed,
        });
        serde_json::to_writer_pretty(&mut out, &doc)?;
        writeln!(out)?;
    } else {
        framing.print(&mut out, "framing")?;
        gaze.print(&mut out, "gaze")?;
        background.print(&mut out, "background")?;
        sharp.print(&mut out, "sharp")?;
        for f in &failed {
            writeln!(out, "could not analyse: {f}")?;
        }
    }
    Ok(if failed.is_empty() { ExitCode::SUCCESS } else { ExitCode::from(1) })
}
