//! The human-readable output of `analyze` and `uses`.

use std::io::Write;

use headshot::core::judge::Status;
use headshot::core::report::{Report, SessionReport};
use headshot::core::uses::{Catalogue, UseKind};

pub fn print_session(out: &mut impl Write, s: &SessionReport) -> std::io::Result<()> {
    for r in &s.photos {
        print_photo(out, r)?;
    }
    for e in &s.errors {
        writeln!(out, "error: {}: {} ({:?})", e.path, e.error, e.kind)?;
    }
    if s.photos.len() > 1 {
        print_best(out, s)?;
    }
    Ok(())
}

fn yes(b: bool, y: &'static str, n: &'static str) -> &'static str {
    if b { y } else { n }
}

fn print_photo(out: &mut impl Write, r: &Report) -> std::io::Result<()> {
    writeln!(out, "{}  ({}x{})", r.path, r.width, r.height)?;
    if let Some(deg) = r.turned {
        writeln!(
            out,
            "  no face upright, but one when the photo is turned {deg} degrees clockwise: it was stored turned without its orientation tag; turn it and try again"
        )?;
    }
    if r.source.first_frame_only {
        writeln!(out, "  an animation: its first frame is the photo judged")?;
    }
    let gaze = match r.gaze {
        Some(g) => format!("{g:?}").to_lowercase(),
        None => "-".into(),
    };
    writeln!(
        out,
        "  {}; {} face(s), {} person(s); gaze {gaze}; {}; {} background; {} light",
        r.framing.as_str(),
        r.faces.len(),
        r.people,
        yes(r.sharp, "sharp", "not sharp"),
        yes(r.background.plain, "plain", "busy"),
        yes(r.lighting.even, "even", "uneven"),
    )?;
    for v in &r.verdicts {
        let status = match v.status {
            Status::Ready => "ready",
            Status::Fixable => "fixable",
            Status::Unsuitable => "unsuitable",
        };
        let reasons = v.reason_words();
        let mut line = format!("    {:<18} {:<11}", v.use_name, status);
        if !reasons.is_empty() {
            line.push_str(&reasons.join(", "));
        }
        if !v.fixes.is_empty() {
            line.push_str(&format!("  -> fix: {}", fix_words(&v.fixes)));
        }
        writeln!(out, "{}", line.trim_end())?;
    }
    writeln!(out)
}

fn fix_words(fixes: &[headshot::core::judge::Fix]) -> String {
    fixes.iter().map(|f| f.words()).collect::<Vec<_>>().join(", ")
}

/// The best photo per use across the session.
fn print_best(out: &mut impl Write, s: &SessionReport) -> std::io::Result<()> {
    if s.best.is_empty() {
        return Ok(());
    }
    writeln!(out, "Best photo per use:")?;
    for b in &s.best {
        match (&b.path, b.status) {
            (Some(p), Some(Status::Ready)) => writeln!(out, "  {:<18} {p}", b.use_name)?,
            (Some(p), _) => writeln!(out, "  {:<18} {p}  (after fixes)", b.use_name)?,
            _ => writeln!(out, "  {:<18} none suitable", b.use_name)?,
        }
    }
    Ok(())
}

pub fn print_uses(out: &mut impl Write, c: &Catalogue) -> std::io::Result<()> {
    writeln!(
        out,
        "{:<18} {:<9} {:>11}  {:<6} {:>9}  {:>7}  format",
        "use", "kind", "size", "shape", "max bytes", "display"
    )?;
    for u in &c.uses {
        let kind = match u.kind {
            UseKind::Headshot => "headshot",
            UseKind::Portrait => "portrait",
            UseKind::Document => "document",
        };
        let shape = if u.circle {
            "circle"
        } else if u.width == u.height {
            "square"
        } else {
            "rect"
        };
        writeln!(
            out,
            "{:<18} {:<9} {:>11}  {:<6} {:>9}  {:>5}px  {}",
            u.name,
            kind,
            format!("{}x{}", u.width, u.height),
            shape,
            u.max_bytes,
            u.display_px,
            u.format.extension()
        )?;
        if let Some(d) = &u.document {
            let print = d.print_mm.map_or("digital upload".to_string(), |[w, h]| format!("{w} x {h} mm print"));
            writeln!(
                out,
                "{:<18} {print} at {} dpi; head {:.0}-{:.0} %, eyes {:.0}-{:.0} % from the bottom; background {}; glasses {}",
                "",
                d.dpi,
                d.head_height[0] * 100.0,
                d.head_height[1] * 100.0,
                d.eye_line_from_bottom[0] * 100.0,
                d.eye_line_from_bottom[1] * 100.0,
                d.backgrounds.join(" or "),
                match d.glasses {
                    headshot::core::uses::Glasses::Allowed => "allowed",
                    headshot::core::uses::Glasses::NotAllowed => "not allowed",
                }
            )?;
        }
    }
    Ok(())
}

/// What a studio run made: one line per photo, then where to look.
pub fn print_studio(out: &mut impl Write, s: &SessionReport, dir: &std::path::Path) -> std::io::Result<()> {
    for r in &s.photos {
        let names: Vec<&str> = r.outputs.iter().map(|o| o.use_name.as_str()).collect();
        writeln!(
            out,
            "{}: {}, {} output(s){}{}",
            r.path,
            r.framing.as_str(),
            r.outputs.len(),
            if names.is_empty() { String::new() } else { format!(": {}", names.join(", ")) },
            if r.output_errors.is_empty() { String::new() } else { format!(" ({} failed)", r.output_errors.len()) },
        )?;
        for e in &r.output_errors {
            writeln!(out, "  not made: {e}")?;
        }
        for o in r.outputs.iter() {
            if let Some(t) = o.team_size {
                let how = if t > 1.0 { "larger" } else { "smaller" };
                let why = if t > 1.0 { ": the photo has too little room around the head" } else { "" };
                writeln!(out, "  {}: head {:.0} % {how} than the team's{why}", o.use_name, (t - 1.0).abs() * 100.0)?;
            }
        }
        // One change of light per photo, whatever the use (it is measured on the photo).
        if let Some(stops) = r.outputs.iter().find_map(|o| o.team_light) {
            let how = if stops > 0.0 { "brighter" } else { "darker" };
            writeln!(out, "  face {:.1} stop {how}, to the team's light", stops.abs())?;
        }
        for o in r.outputs.iter().filter(|o| o.compliant == Some(false)) {
            let failed: Vec<String> = o.checks.iter().filter(|c| !c.pass && !c.warning).map(|c| c.words()).collect();
            writeln!(out, "  {}: made, but the file fails: {}", o.use_name, failed.join("; "))?;
        }
        for o in r.outputs.iter().filter(|o| !o.included_despite.is_empty()) {
            let why: Vec<&str> = o.included_despite.iter().map(|r| r.words()).collect();
            writeln!(out, "  {}: made as asked, though {}", o.use_name, why.join("; "))?;
        }
    }
    for e in &s.errors {
        writeln!(out, "error: {}: {} ({:?})", e.path, e.error, e.kind)?;
    }
    writeln!(out, "gallery: {}", dir.join("index.html").display())?;
    writeln!(out, "report:  {}", dir.join("report.json").display())
}
