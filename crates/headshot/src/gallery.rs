//! The gallery page `studio` writes beside its outputs: one self-contained HTML file that opens
//! from disk (no scripts, no fonts or styles fetched from anywhere), one card per photo with its
//! class, its verdict for every use in plain words, and its outputs (circle uses shown as the
//! circle the platform will cut).

use std::fmt::Write;

use headshot_core::judge::{Framing, Gaze, Status};
use headshot_core::report::{Report, SessionReport};

/// Escapes text for HTML content and attribute values.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Escapes a relative path for an `src`/`href`: each segment percent-encoded where needed.
fn url(rel: &str) -> String {
    let mut out = String::new();
    for b in rel.bytes() {
        if b.is_ascii_alphanumeric() || b"-_./~".contains(&b) {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

fn framing_words(f: Framing) -> &'static str {
    f.words()
}

fn status_words(s: Status) -> &'static str {
    match s {
        Status::Ready => "ready",
        Status::Fixable => "fixable",
        Status::Unsuitable => "unsuitable",
    }
}

const STYLE: &str = r#"
:root { --ink: #1d2329; --muted: #5b6670; --line: #e3e6e8; --paper: #fafaf8; --card: #fff;
  --ready: #1f7a4d; --ready-bg: #e3f4ea; --fix: #8a5a00; --fix-bg: #fdf1d8; --no: #a12a2a; --no-bg: #fbe5e5; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink); background: var(--paper); }
header { padding: 28px 32px 8px; }
h1 { font-size: 22px; margin: 0 0 4px; letter-spacing: -0.01em; }
header p { margin: 0; color: var(--muted); }
main { padding: 16px 32px 48px; display: grid; gap: 24px; }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 12px; padding: 20px; display: grid; grid-template-columns: 260px 1fr; gap: 24px; }
@media (max-width: 800px) { .card { grid-template-columns: 1fr; } main, header { padding-left: 16px; padding-right: 16px; } }
.photo img { width: 100%; border-radius: 8px; display: block; background: #eee; }
.photo h2 { font-size: 15px; margin: 10px 0 2px; word-break: break-all; }
.facts { color: var(--muted); font-size: 13px; margin: 0; padding: 0; list-style: none; }
.class { display: inline-block; font-weight: 600; font-size: 13px; padding: 2px 10px; border-radius: 99px; background: #eef1f4; margin-top: 6px; }
table { border-collapse: collapse; width: 100%; font-size: 13px; }
th, td { text-align: left; padding: 5px 8px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { color: var(--muted); font-weight: 500; }
.badge { display: inline-block; padding: 1px 8px; border-radius: 99px; font-weight: 600; font-size: 12px; }
.ready { color: var(--ready); background: var(--ready-bg); }
.fixable { color: var(--fix); background: var(--fix-bg); }
.unsuitable { color: var(--no); background: var(--no-bg); }
.outputs { display: flex; flex-wrap: wrap; gap: 16px; margin-top: 16px; }
.outputs figure { margin: 0; width: 150px; }
.outputs a { display: block; }
.outputs img { width: 150px; height: 150px; object-fit: contain; background: #f1f2f3; border-radius: 6px; display: block; }
.outputs img.circle { border-radius: 50%; object-fit: cover; }
figcaption { font-size: 12px; color: var(--muted); margin-top: 4px; }
figcaption b { color: var(--ink); font-weight: 600; }
.errors { background: var(--no-bg); color: var(--no); border-radius: 12px; padding: 16px 20px; }
.sheet img { max-width: 100%; border-radius: 8px; border: 1px solid var(--line); }
"#;

/// The whole page for a session; `contact_sheet` is the sheet's path relative to the page.
pub fn page(session: &SessionReport, contact_sheet: Option<&str>) -> String {
    let mut h = String::new();
    let outputs: usize = session.photos.iter().map(|p| p.outputs.len()).sum();
    let _ = write!(
        h,
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; img-src 'self' file: data:; style-src 'unsafe-inline'\">\
         <title>headshot studio: {n} photo{s}</title><style>{STYLE}</style></head><body>\
         <header><h1>Your headshots and portraits</h1><p>{n} photo{s}, {outputs} output{os}. \
         Each output is at its platform's exact size; circles show how round avatars will cut it.</p></header><main>",
        n = session.photos.len(),
        s = if session.photos.len() == 1 { "" } else { "s" },
        os = if outputs == 1 { "" } else { "s" },
    );
    if !session.errors.is_empty() {
        h.push_str("<section class=\"errors\" aria-label=\"Photos that could not be read\"><strong>Could not read:</strong><ul>");
        for e in &session.errors {
            let _ = write!(h, "<li>{}: {}</li>", esc(&e.path), esc(&e.error));
        }
        h.push_str("</ul></section>");
    }
    for p in &session.photos {
        card(&mut h, p);
    }
    if let Some(sheet) = contact_sheet {
        let _ = write!(
            h,
            "<section class=\"sheet\"><h2>Contact sheet</h2><img src=\"{}\" alt=\"Contact sheet: one square output per photo\"></section>",
            url(sheet)
        );
    }
    h.push_str("</main></body></html>\n");
    h
}

fn card(h: &mut String, p: &Report) {
    let name = std::path::Path::new(&p.path).file_name().map_or(p.path.clone(), |n| n.to_string_lossy().into_owned());
    h.push_str("<article class=\"card\"><div class=\"photo\">");
    if let Some(preview) = &p.preview {
        let _ = write!(h, "<img src=\"{}\" alt=\"{}\">", url(preview), esc(&format!("The photo {name}")));
    }
    let gaze = match p.gaze {
        Some(Gaze::Camera) => "looking at the camera",
        Some(Gaze::Away) => "looking away",
        None => "no face",
    };
    let _ = write!(
        h,
        "<h2>{}</h2><span class=\"class\">{}</span><ul class=\"facts\">\
         <li>{} x {} px, {} face{}, {} {}</li><li>{}</li><li>{}, {}</li><li>{}</li></ul></div><div>",
        esc(&name),
        framing_words(p.framing),
        p.width,
        p.height,
        p.faces.len(),
        if p.faces.len() == 1 { "" } else { "s" },
        p.people,
        if p.people == 1 { "person" } else { "people" },
        gaze,
        if p.sharp { "sharp" } else { "not sharp" },
        if p.background.plain { "plain background" } else { "busy background" },
        if p.lighting.even { "even light" } else { "uneven light" },
    );
    h.push_str("<table><thead><tr><th scope=\"col\">Use</th><th scope=\"col\">Verdict</th><th scope=\"col\">Why / what we did</th></tr></thead><tbody>");
    for v in &p.verdicts {
        let status = status_words(v.status);
        let mut why: Vec<String> = v.reason_words();
        why.extend(v.fixes.iter().map(|f| format!("fix: {}", f.done())));
        let _ = write!(
            h,
            "<tr><td>{}</td><td><span class=\"badge {status}\">{status}</span></td><td>{}</td></tr>",
            esc(&v.use_name),
            esc(&why.join("; "))
        );
    }
    h.push_str("</tbody></table>");
    if !p.outputs.is_empty() {
        h.push_str("<div class=\"outputs\">");
        for o in &p.outputs {
            // A document photo: how many of its rules the written file passes, which fail, and
            // its print sheet.
            let mut extra = String::new();
            if let Some(ok) = o.compliant {
                let passed = o.checks.iter().filter(|c| c.pass || c.warning).count();
                let _ = write!(extra, "<br>{passed} of {} rules pass", o.checks.len());
                if !ok {
                    let failed: Vec<String> =
                        o.checks.iter().filter(|c| !c.pass && !c.warning).map(|c| c.words()).collect();
                    let _ = write!(extra, "<br><span class=\"unsuitable\">fails: {}</span>", esc(&failed.join("; ")));
                }
            }
            if let Some(sheet) = &o.sheet {
                let _ = write!(extra, "<br><a href=\"{}\">print sheet</a>", url(sheet));
            }
            let _ = write!(
                h,
                "<figure><a href=\"{src}\"><img src=\"{src}\" class=\"{cls}\" alt=\"{alt}\" loading=\"lazy\"></a>\
                 <figcaption><b>{u}</b><br>{w} x {hh}, {kb} KB{extra}</figcaption></figure>",
                src = url(&o.path),
                cls = if o.circle { "circle" } else { "" },
                alt = esc(&format!("{} output of {name}", o.use_name)),
                u = esc(&o.use_name),
                w = o.width,
                hh = o.height,
                kb = o.bytes.div_ceil(1000),
            );
        }
        h.push_str("</div>");
    }
    for e in &p.output_errors {
        let _ = write!(h, "<p class=\"unsuitable\">Not made: {}</p>", esc(e));
    }
    h.push_str("</div></article>");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_and_paths_are_escaped() {
        assert_eq!(esc("<a href=\"x\">&'"), "&lt;a href=&quot;x&quot;&gt;&amp;&#39;");
        assert_eq!(url("my photo/linkedin.jpg"), "my%20photo/linkedin.jpg");
        assert_eq!(url("a\"b"), "a%22b");
    }
}
