//! Accuracy against a person's labels (`headshot eval MANIFEST`, and the floor the test suite
//! keeps): each judgement (framing, gaze, background, sharp) scored with its confusion matrix,
//! the LinkedIn verdict checked against what the brief asks of a headshot, and the closest calls
//! of each measure named, so a reader sees where the judgement is fragile.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use headshot_core::judge::{self, Reason, Status};
use headshot_core::report::Report;
use serde::Serialize;

use crate::analysis::Analyzer;
use crate::session::analyze_each;

/// A manifest could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EvalError {
    #[error("{path}: {source}")]
    Io { path: String, source: std::io::Error },
    #[error("{path}: {reason}")]
    Manifest { path: String, reason: String },
}

/// One labelled photo (a row of the manifest).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Label {
    pub file: String,
    pub framing: String,
    pub gaze: String,
    pub background: String,
    pub sharp: String,
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

/// Reads a manifest: a CSV with at least the columns file, framing, gaze, background, sharp.
pub fn read_manifest(path: &Path) -> Result<Vec<Label>, EvalError> {
    let name = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|source| EvalError::Io { path: name.clone(), source })?;
    let bad = |reason: String| EvalError::Manifest { path: name.clone(), reason };
    let mut lines = text.lines();
    let header = split_csv(lines.next().ok_or_else(|| bad("empty manifest".into()))?);
    let col = |c: &str| header.iter().position(|h| h == c).ok_or_else(|| bad(format!("no column {c:?}")));
    let (f, fr, g, b, s) = (col("file")?, col("framing")?, col("gaze")?, col("background")?, col("sharp")?);
    Ok(lines
        .filter(|l| !l.trim().is_empty())
        .map(|line| {
            let v = split_csv(line);
            let get = |i: usize| v.get(i).cloned().unwrap_or_default();
            Label { file: get(f), framing: get(fr), gaze: get(g), background: get(b), sharp: get(s) }
        })
        .collect())
}

/// Labelled against judged values of one judgement, photo by photo.
#[derive(Debug, Default, Clone, Serialize)]
pub struct Score {
    /// (photo, label, judged)
    pub pairs: Vec<(String, String, String)>,
}

impl Score {
    fn add(&mut self, file: &str, truth: &str, judged: &str) {
        self.pairs.push((file.to_string(), truth.to_string(), judged.to_string()));
    }

    /// Share of photos judged as labelled, 0..1.
    pub fn accuracy(&self) -> f32 {
        let ok = self.pairs.iter().filter(|(_, t, p)| t == p).count();
        ok as f32 / self.pairs.len().max(1) as f32
    }

    pub fn misses(&self) -> impl Iterator<Item = &(String, String, String)> {
        self.pairs.iter().filter(|(_, t, p)| t != p)
    }

    /// The accuracy, the confusion matrix and the misses.
    pub fn print(&self, out: &mut impl Write, name: &str) -> std::io::Result<()> {
        let ok = self.pairs.iter().filter(|(_, t, p)| t == p).count();
        writeln!(out, "{name}: {ok}/{} = {:.1} %", self.pairs.len(), 100.0 * self.accuracy())?;
        let mut classes: Vec<&str> = self.pairs.iter().flat_map(|(_, t, p)| [t.as_str(), p.as_str()]).collect();
        classes.sort();
        classes.dedup();
        let mut m: BTreeMap<(&str, &str), usize> = BTreeMap::new();
        for (_, t, p) in &self.pairs {
            *m.entry((t.as_str(), p.as_str())).or_default() += 1;
        }
        write!(out, "  {:<14}", "label \\ judged")?;
        for c in &classes {
            write!(out, " {c:>13}")?;
        }
        writeln!(out)?;
        for t in &classes {
            write!(out, "  {t:<14}")?;
            for p in &classes {
                write!(out, " {:>13}", m.get(&(*t, *p)).copied().unwrap_or(0))?;
            }
            writeln!(out)?;
        }
        for (f, t, p) in self.misses() {
            writeln!(out, "  miss: {f}: labelled {t}, judged {p}")?;
        }
        Ok(())
    }
}

/// A photo whose measure lies close to its judgement's threshold: `margin` is the distance to
/// it as a share of the threshold (0 = on it).
#[derive(Debug, Clone, Serialize)]
pub struct CloseCall {
    pub file: String,
    pub margin: f32,
    /// The measure and the threshold it was held against.
    pub why: String,
}

/// The scores of a labelled set.
#[derive(Debug, Default, Clone, Serialize)]
pub struct Evaluation {
    pub framing: Score,
    pub gaze: Score,
    pub background: Score,
    pub sharp: Score,
    /// The LinkedIn verdict against what the brief implies from the labels (see
    /// `linkedin_expectation`): "consistent" or the mismatch.
    pub linkedin: Score,
    /// The three closest calls of each judgement.
    pub closest: BTreeMap<String, Vec<CloseCall>>,
    /// Photos that could not be analysed.
    pub failed: Vec<String>,
}

/// Analyses every photo of a manifest (paths relative to its folder) and scores the judgements.
pub fn evaluate(analyzer: &Analyzer, manifest: &Path) -> Result<Evaluation, EvalError> {
    let labels = read_manifest(manifest)?;
    let dir = manifest.parent().unwrap_or(Path::new("."));
    let paths: Vec<PathBuf> = labels.iter().map(|l| dir.join(&l.file)).collect();
    let reports: Vec<Option<Report>> = analyze_each(analyzer, &paths, |_, r| r.ok().map(|a| a.report));
    Ok(score(&labels, &reports))
}

/// Scores reports against their labels (`reports[i]` is the report of `labels[i]`, `None` when
/// it could not be analysed).
pub fn score(labels: &[Label], reports: &[Option<Report>]) -> Evaluation {
    let mut e = Evaluation::default();
    let mut calls: BTreeMap<&str, Vec<CloseCall>> = BTreeMap::new();
    for (l, r) in labels.iter().zip(reports) {
        let Some(r) = r else {
            e.failed.push(l.file.clone());
            continue;
        };
        e.framing.add(&l.file, &l.framing, r.framing.as_str());
        if l.gaze == "camera" || l.gaze == "away" {
            let g = r.gaze.map_or("none".to_string(), |g| format!("{g:?}").to_lowercase());
            e.gaze.add(&l.file, &l.gaze, &g);
        }
        if l.background == "plain" || l.background == "busy" {
            e.background.add(&l.file, &l.background, if r.background.plain { "plain" } else { "busy" });
        }
        if l.sharp == "sharp" || l.sharp == "blurry" {
            e.sharp.add(&l.file, &l.sharp, if r.sharp { "sharp" } else { "blurry" });
        }
        if let Some(v) = r.verdicts.iter().find(|v| v.use_name == "linkedin") {
            let expected = linkedin_expectation(l);
            let judged = if expected.accepts(v.status, &v.reasons) {
                "consistent".to_string()
            } else {
                format!("{:?}", v.status).to_lowercase()
            };
            e.linkedin.add(&l.file, "consistent", &judged);
        }
        for (measure, call) in close_calls(&l.file, r) {
            calls.entry(measure).or_default().push(call);
        }
    }
    for (measure, mut v) in calls {
        v.sort_by(|a, b| a.margin.total_cmp(&b.margin));
        v.truncate(3);
        e.closest.insert(measure.to_string(), v);
    }
    e
}

/// What the brief implies for a photo's LinkedIn verdict from its labels alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expectation {
    /// No person, eyes away or a blurred face: unusable for a headshot, whatever is done to it.
    Unsuitable,
    /// A clean, single, sharp head-and-shoulders shot on a plain backdrop, looking into the lens.
    Ready,
    /// Anything else a crop, a new backdrop or picking one person can fix.
    Fixable,
}

impl Expectation {
    /// Whether a verdict agrees. Light and tilt are not labelled, so a "ready" photo may also
    /// be fixable for those; a photo that needs fixing may be unsuitable because its face is too
    /// small or has too few pixels, which the labels do not say either.
    pub fn accepts(self, status: Status, reasons: &[Reason]) -> bool {
        let unlabelled_fix = |r: &Reason| matches!(r, Reason::UnevenLighting | Reason::TiltedHead);
        let unlabelled_limit =
            |r: &Reason| matches!(r, Reason::FaceTooSmallAtThumbnail | Reason::LowResolution | Reason::HeadCutOff);
        match self {
            Expectation::Unsuitable => status == Status::Unsuitable,
            Expectation::Ready => {
                status == Status::Ready || (status == Status::Fixable && reasons.iter().all(unlabelled_fix))
            }
            Expectation::Fixable => {
                status == Status::Fixable || (status == Status::Unsuitable && reasons.iter().any(unlabelled_limit))
            }
        }
    }
}

/// The LinkedIn verdict the labels call for (the brief: a headshot is tight, single, plain,
/// sharp, looking into the lens).
pub fn linkedin_expectation(l: &Label) -> Expectation {
    if l.framing == "no-person" || l.gaze == "away" || l.sharp == "blurry" {
        Expectation::Unsuitable
    } else if l.framing == "headshot" && l.background == "plain" && l.gaze == "camera" {
        Expectation::Ready
    } else {
        Expectation::Fixable
    }
}

/// Each judgement's measure of one photo, as (judgement, margin to its threshold).
fn close_calls(file: &str, r: &Report) -> Vec<(&'static str, CloseCall)> {
    let mut out = Vec::new();
    let call = |margin: f32, why: String| CloseCall { file: file.to_string(), margin: margin.abs(), why };
    if let Some(face) = r.faces.first() {
        if let Some(g) = face.gaze {
            let (y, p) = (g.yaw_deg.abs() / judge::MAX_GAZE_YAW_DEG, g.pitch_deg.abs() / judge::MAX_GAZE_PITCH_DEG);
            let why = format!(
                "gaze {:.1} deg across, {:.1} up (limits {} and {})",
                g.yaw_deg,
                g.pitch_deg,
                judge::MAX_GAZE_YAW_DEG,
                judge::MAX_GAZE_PITCH_DEG
            );
            out.push(("gaze", call(y.max(p) - 1.0, why)));
        }
        if let Some(s) = face.sharpness {
            let why = format!("sharpness {s:.3} (limit {})", judge::MIN_SHARPNESS);
            out.push(("sharp", call(s / judge::MIN_SHARPNESS - 1.0, why)));
        }
    }
    let b = &r.background;
    let why = format!(
        "busyness {:.2}: content {:.3}, edges {:.3}, colour {:.3}, marks {}, faces {}",
        b.busyness, b.content, b.edges, b.colour_structure, b.marks, b.faces
    );
    out.push(("background", call(b.busyness / judge::MAX_PLAIN_BUSYNESS - 1.0, why)));
    if let Some(fm) = &r.framing_measures
        && r.people == 1
    {
        let h = fm.below_chin_heads;
        let margins = [
            h / judge::HEADSHOT_MAX_HEADS - 1.0,
            h / judge::TIGHT_HEADSHOT_MAX_HEADS - 1.0,
            h / judge::FULL_BODY_MIN_HEADS - 1.0,
        ];
        let nearest = margins.iter().copied().min_by(|a, b| a.abs().total_cmp(&b.abs())).unwrap_or(1.0);
        let in_band = (judge::HEADSHOT_MAX_HEADS..judge::TIGHT_HEADSHOT_MAX_HEADS).contains(&h);
        let area = fm.face_area_share / judge::TIGHT_HEADSHOT_MIN_FACE_AREA - 1.0;
        let margin = if in_band { nearest.abs().min(area.abs()) } else { nearest };
        let why = format!("frame {h:.2} head heights below the chin, face {:.3} of the area", fm.face_area_share);
        out.push(("framing", call(margin, why)));
    }
    out
}

impl Evaluation {
    /// Every score, the misses, and the closest calls.
    pub fn print(&self, out: &mut impl Write) -> std::io::Result<()> {
        for (name, s) in [
            ("framing", &self.framing),
            ("gaze", &self.gaze),
            ("background", &self.background),
            ("sharp", &self.sharp),
            ("linkedin verdict vs the brief", &self.linkedin),
        ] {
            s.print(out, name)?;
            if let Some(calls) = self.closest.get(name) {
                for c in calls {
                    writeln!(out, "  close: {}: {}", c.file, c.why)?;
                }
            }
            writeln!(out)?;
        }
        for f in &self.failed {
            writeln!(out, "could not analyse: {f}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_fields_keep_their_commas() {
        assert_eq!(split_csv(r#"a,"b, c",d"#), vec!["a", "b, c", "d"]);
        assert_eq!(split_csv(r#""say ""hi""",x"#), vec![r#"say "hi""#, "x"]);
    }

    #[test]
    fn the_brief_sets_what_a_linkedin_verdict_may_be() {
        let l = |framing: &str, gaze: &str, background: &str| Label {
            file: String::new(),
            framing: framing.into(),
            gaze: gaze.into(),
            background: background.into(),
            sharp: "sharp".into(),
        };
        assert_eq!(linkedin_expectation(&l("headshot", "camera", "plain")), Expectation::Ready);
        assert_eq!(linkedin_expectation(&l("headshot", "away", "plain")), Expectation::Unsuitable);
        assert_eq!(linkedin_expectation(&l("half-body", "camera", "busy")), Expectation::Fixable);
        assert!(Expectation::Ready.accepts(Status::Fixable, &[Reason::UnevenLighting]));
        assert!(!Expectation::Ready.accepts(Status::Fixable, &[Reason::BusyBackground]));
        assert!(Expectation::Fixable.accepts(Status::Unsuitable, &[Reason::FaceTooSmallAtThumbnail]));
        assert!(!Expectation::Fixable.accepts(Status::Unsuitable, &[Reason::LookingAway]));
    }
}
