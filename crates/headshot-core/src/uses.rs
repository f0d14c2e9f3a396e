//! The catalogue of uses (platforms): data, not code. The built-in catalogue is `uses.toml`,
//! embedded; users can add or override uses with their own file of the same form.

use std::path::Path;

use serde::{Deserialize, Serialize};

/// Whether a use wants a headshot (identification), a portrait (story), or an identity
/// document's photo (a headshot held to an office's rules, checked one by one).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum UseKind {
    Headshot,
    Portrait,
    Document,
}

impl UseKind {
    /// A document photo is a headshot for every judgement that is not one of its own rules
    /// (the subject looks into the lens, the face is read at its size).
    pub fn is_headshot_like(self) -> bool {
        matches!(self, UseKind::Headshot | UseKind::Document)
    }
}

impl std::str::FromStr for UseKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "headshot" => Ok(UseKind::Headshot),
            "portrait" => Ok(UseKind::Portrait),
            "document" => Ok(UseKind::Document),
            other => Err(format!("unknown kind {other:?}: use headshot, portrait or document")),
        }
    }
}

/// Whether glasses may be worn in a document photo.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Glasses {
    Allowed,
    NotAllowed,
}

/// An issuing office's rules for a document photo (see `documents.toml` for each field).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DocumentRules {
    /// Printed width and height, millimetres; absent for a digital upload only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub print_mm: Option<[f32; 2]>,
    /// Pixels per inch written into the file.
    pub dpi: u32,
    /// Chin to crown as a share of the height, [min, max].
    pub head_height: [f32; 2],
    /// The eye line from the bottom edge as a share of the height, [min, max].
    pub eye_line_from_bottom: [f32; 2],
    /// Accepted background colours, `#rrggbb`; the first is rendered.
    pub backgrounds: Vec<String>,
    pub glasses: Glasses,
    /// The smallest file a digital upload accepts, bytes.
    #[serde(default)]
    pub min_bytes: u64,
    /// The pixel sizes a digital upload accepts, [width, height].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_pixels: Option<[u32; 2]>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_pixels: Option<[u32; 2]>,
    /// The least distance between the eye centres in the file, pixels.
    pub min_inter_eye_px: u32,
    /// Where each number comes from.
    pub sources: DocumentSources,
}

/// The source of each of a document's numbers, cited beside it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DocumentSources {
    pub size: String,
    pub head_height: String,
    pub eye_line: String,
    pub background: String,
    pub glasses: String,
    pub inter_eye: String,
}

impl DocumentRules {
    /// The background colours as RGB; an entry that is not `#rrggbb` is refused when the
    /// catalogue is read, so none is dropped here.
    pub fn background_colours(&self) -> Vec<[u8; 3]> {
        self.backgrounds.iter().filter_map(|s| hex_colour(s)).collect()
    }

    /// The colour the background is rendered in.
    pub fn rendered_background(&self) -> [u8; 3] {
        self.background_colours().first().copied().unwrap_or([255, 255, 255])
    }

    fn check(&self, width: u32, height: u32) -> Result<(), String> {
        let band = |name: &str, b: [f32; 2]| {
            if b.iter().all(|v| v.is_finite() && (0.05..=1.0).contains(v)) && b[0] <= b[1] {
                Ok(())
            } else {
                Err(format!("document.{name} = {b:?} is not a band [min, max] within 0.05..=1"))
            }
        };
        band("head_height", self.head_height)?;
        band("eye_line_from_bottom", self.eye_line_from_bottom)?;
        if !(72..=1200).contains(&self.dpi) {
            return Err(format!("document.dpi = {} is outside 72..=1200", self.dpi));
        }
        if self.backgrounds.is_empty() || self.backgrounds.iter().any(|b| hex_colour(b).is_none()) {
            return Err(format!("document.backgrounds = {:?}: one or more #rrggbb colours", self.backgrounds));
        }
        if let Some([w, h]) = self.print_mm {
            // The file is the print at its DPI: a print sheet lays its very pixels out.
            let px = |mm: f32| (mm / 25.4 * self.dpi as f32).round();
            if !(w.is_finite() && h.is_finite() && w > 0.0 && h > 0.0)
                || (px(w) - width as f32).abs() > 1.0
                || (px(h) - height as f32).abs() > 1.0
            {
                return Err(format!(
                    "document.print_mm = {w} x {h} mm at {} dpi is not the use's {width} x {height} pixels",
                    self.dpi
                ));
            }
        }
        let fits = |lo: Option<[u32; 2]>, hi: Option<[u32; 2]>| {
            lo.is_none_or(|[w, h]| width >= w && height >= h) && hi.is_none_or(|[w, h]| width <= w && height <= h)
        };
        if !fits(self.min_pixels, self.max_pixels) {
            return Err(format!("{width} x {height} pixels is outside document.min_pixels / max_pixels"));
        }
        Ok(())
    }
}

/// `#rrggbb` as RGB.
pub fn hex_colour(s: &str) -> Option<[u8; 3]> {
    hex_digits(s.trim().strip_prefix('#')?)
}

/// Six hex digits (`rrggbb`, no `#`) as RGB; also read by `render`'s colour names.
pub fn hex_digits(hex: &str) -> Option<[u8; 3]> {
    if hex.len() != 6 || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
        return None;
    }
    let byte = |i: usize| u8::from_str_radix(&hex[i..i + 2], 16).ok();
    Some([byte(0)?, byte(2)?, byte(4)?])
}

/// Output encodings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Format {
    Jpeg,
    Png,
    Webp,
}

impl Format {
    pub fn extension(self) -> &'static str {
        match self {
            Format::Jpeg => "jpg",
            Format::Png => "png",
            Format::Webp => "webp",
        }
    }
}

impl std::str::FromStr for Format {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "jpeg" | "jpg" => Ok(Format::Jpeg),
            "png" => Ok(Format::Png),
            "webp" => Ok(Format::Webp),
            other => Err(format!("unknown format {other:?}: use jpeg, png or webp")),
        }
    }
}

/// One place a photo goes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Use {
    pub name: String,
    pub kind: UseKind,
    /// Output size, pixels.
    pub width: u32,
    pub height: u32,
    /// Shown cropped to a circle.
    #[serde(default)]
    pub circle: bool,
    /// Size it is seen at on screen, pixels (long side), for the thumbnail legibility test.
    pub display_px: u32,
    /// Smallest crop (short side, source pixels) worth making this output from.
    pub min_source_px: u32,
    /// Largest output file, bytes.
    pub max_bytes: u64,
    pub format: Format,
    /// Where the figures come from.
    #[serde(default)]
    pub source: String,
    /// How the person sits in the frame; without it, the default for the use's kind and shape.
    #[serde(default)]
    pub composition: Option<Composition>,
    /// The largest enlargement worth handing over: output pixels per source pixel at the face.
    /// Without it, the default for the use's kind (print and editorial are stricter).
    #[serde(default)]
    pub max_enlarge: Option<f32>,
    /// A document use's rules (and only a document use has them).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub document: Option<DocumentRules>,
}

/// Where the head sits in a use's frame (rules in `docs/framing.md`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Composition {
    /// Head height (hair top to chin) as a share of the frame height.
    pub head: f32,
    /// Eye line, from the top, as a share of the frame height.
    pub eye_line: f32,
    /// Eye midpoint, from the left, as a share of the frame width, for a subject facing the
    /// camera.
    pub eye_x: f32,
    /// A subject turned to one side is placed on the other side of the frame (`1 - eye_x`
    /// when that puts more room in front of the face), looking into the frame, not out of it.
    #[serde(default)]
    pub into_frame: bool,
    /// Share of the frame's width, from the left, the subject's head must stay clear of (the
    /// LinkedIn banner's profile circle covers its lower left).
    #[serde(default)]
    pub clear_left: f32,
    /// Where the numbers come from.
    #[serde(default)]
    pub source: String,
}

/// Enlargement limits by kind of use: a print or an editorial shows every soft pixel; a screen
/// forgives a little more (the image on a web page is often shown smaller than its file).
pub const MAX_ENLARGE_PRINT: f32 = 1.25;
pub const MAX_ENLARGE_WEB: f32 = 1.6;

impl Use {
    /// Output width / height.
    pub fn aspect(&self) -> f32 {
        self.width as f32 / self.height.max(1) as f32
    }

    /// The use's composition: its own, or the default for its kind and shape (headshots tight
    /// with shoulders, the eye line about a third down; circles with room around the head;
    /// portraits wider, the eye line higher; wide formats with the person on a third).
    pub fn composition(&self) -> Composition {
        if let Some(c) = &self.composition {
            return c.clone();
        }
        if let Some(d) = &self.document {
            // The middle of each band; `plan::placed` moves the eye line within its band so
            // that this head's crown and chin fit (heads differ in proportion).
            let mid = |b: [f32; 2]| 0.5 * (b[0] + b[1]);
            return Composition {
                head: mid(d.head_height),
                eye_line: 1.0 - mid(d.eye_line_from_bottom),
                eye_x: 0.5,
                into_frame: false,
                clear_left: 0.0,
                source: d.sources.head_height.clone(),
            };
        }
        let aspect = self.aspect();
        let (head, eye_line, eye_x, into_frame) = match self.kind {
            UseKind::Headshot if self.circle => (0.50, 0.43, 0.5, false),
            UseKind::Headshot if aspect >= 0.95 => (0.54, 0.40, 0.5, false),
            UseKind::Headshot => (0.42, 0.36, 0.5, false),
            UseKind::Portrait if aspect > 3.0 => (0.40, 0.38, 0.70, false),
            UseKind::Portrait if aspect > 1.2 => (0.27, 0.34, 0.65, true),
            UseKind::Portrait => (0.21, 0.26, 0.5, false),
            // A document without rules is refused when the catalogue is read; this is the
            // ICAO middle (head 75 %, eyes 60 % from the bottom) should one be built by hand.
            UseKind::Document => (0.75, 0.40, 0.5, false),
        };
        Composition {
            head,
            eye_line,
            eye_x,
            into_frame,
            clear_left: 0.0,
            source: "default for the kind and shape".into(),
        }
    }

    /// Refuses numbers the planner cannot work with: TOML reads `nan` and `inf` as floats, and
    /// a head taller than the frame, an eye line outside it or a zero byte limit would plan
    /// crops that are empty, infinite or impossible to encode.
    fn check_numbers(&self) -> Result<(), String> {
        let share = |name: &str, v: f32, lo: f32, hi: f32| {
            if v.is_finite() && (lo..=hi).contains(&v) {
                Ok(())
            } else {
                Err(format!("{name} = {v} is outside {lo}..={hi}"))
            }
        };
        if let Some(c) = &self.composition {
            // A head under 2 % of the frame is a crowd shot, not a use's composition.
            share("composition.head", c.head, 0.02, 1.0)?;
            share("composition.eye_line", c.eye_line, 0.0, 1.0)?;
            share("composition.eye_x", c.eye_x, 0.0, 1.0)?;
            share("composition.clear_left", c.clear_left, 0.0, 0.9)?;
        }
        if let Some(e) = self.max_enlarge {
            share("max_enlarge", e, 0.1, 16.0)?;
        }
        if self.display_px == 0 || self.display_px > 10_000 {
            return Err(format!("display_px = {} is outside 1..=10000", self.display_px));
        }
        if self.min_source_px > 100_000 {
            return Err(format!("min_source_px = {} is over 100000", self.min_source_px));
        }
        // The smallest JPEG of a 1x1 image is about 130 bytes; below a kilobyte nothing fits.
        if self.max_bytes < 1024 {
            return Err(format!("max_bytes = {} is under 1024", self.max_bytes));
        }
        match (&self.document, self.kind) {
            (Some(d), UseKind::Document) => d.check(self.width, self.height)?,
            (None, UseKind::Document) => return Err("a document use needs its [use.document] rules".into()),
            (Some(_), _) => return Err("[use.document] rules belong to kind = \"document\" only".into()),
            (None, _) => {}
        }
        Ok(())
    }

    /// The largest enlargement at the face this use accepts.
    pub fn max_enlarge(&self) -> f32 {
        self.max_enlarge.unwrap_or(match self.kind {
            UseKind::Headshot => MAX_ENLARGE_WEB,
            UseKind::Portrait | UseKind::Document => MAX_ENLARGE_PRINT,
        })
    }
}

/// A catalogue could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CatalogueError {
    #[error("{path}: {source}")]
    Io { path: String, source: std::io::Error },
    #[error("{path}: not a valid catalogue: {reason}")]
    Parse { path: String, reason: String },
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CatalogueFile {
    #[serde(rename = "use", default)]
    uses: Vec<Use>,
}

/// The uses a session judges and renders for, in catalogue order.
#[derive(Debug, Clone, PartialEq)]
pub struct Catalogue {
    pub uses: Vec<Use>,
}

const BUILT_IN: &str = include_str!("uses.toml");
const DOCUMENTS: &str = include_str!("documents.toml");

impl Catalogue {
    /// The built-in catalogue of the uses a session makes by default: the headshots and
    /// portraits (document photos are made only when asked for, see `full`).
    pub fn built_in() -> Catalogue {
        // The embedded file is checked by a test; an error here is a broken build.
        Catalogue::parse("built-in uses.toml", BUILT_IN).unwrap_or(Catalogue { uses: Vec::new() })
    }

    /// The built-in document presets (passports, visas, ID cards).
    pub fn documents() -> Catalogue {
        Catalogue::parse("built-in documents.toml", DOCUMENTS).unwrap_or(Catalogue { uses: Vec::new() })
    }

    /// Every built-in use, the document presets after the others: what `--uses` picks from.
    pub fn full() -> Catalogue {
        let mut c = Catalogue::built_in();
        c.uses.extend(Catalogue::documents().uses);
        c
    }

    /// Without the document uses: a session's default when no use is named.
    pub fn without_documents(mut self) -> Catalogue {
        self.uses.retain(|u| u.kind != UseKind::Document);
        self
    }

    /// Parses a catalogue in the `uses.toml` form. `name` labels errors.
    pub fn parse(name: &str, text: &str) -> Result<Catalogue, CatalogueError> {
        let file: CatalogueFile = toml::from_str(text)
            .map_err(|e| CatalogueError::Parse { path: name.to_string(), reason: e.to_string() })?;
        for u in &file.uses {
            if u.width == 0 || u.height == 0 || u.width > 10_000 || u.height > 10_000 {
                return Err(CatalogueError::Parse {
                    path: name.to_string(),
                    reason: format!("use {:?}: width and height must be 1..=10000", u.name),
                });
            }
            if u.name.is_empty() || !u.name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
                return Err(CatalogueError::Parse {
                    path: name.to_string(),
                    reason: format!("use name {:?}: letters, digits, '-' and '_' only (it names files)", u.name),
                });
            }
            if let Err(reason) = u.check_numbers() {
                return Err(CatalogueError::Parse {
                    path: name.to_string(),
                    reason: format!("use {:?}: {reason}", u.name),
                });
            }
        }
        Ok(Catalogue { uses: file.uses })
    }

    /// The built-in catalogue with the uses of `path` added (a use of the same name replaces
    /// the built-in one).
    pub fn with_file(mut self, path: &Path) -> Result<Catalogue, CatalogueError> {
        let text = std::fs::read_to_string(path)
            .map_err(|source| CatalogueError::Io { path: path.display().to_string(), source })?;
        let extra = Catalogue::parse(&path.display().to_string(), &text)?;
        for u in extra.uses {
            match self.uses.iter_mut().find(|e| e.name == u.name) {
                Some(existing) => *existing = u,
                None => self.uses.push(u),
            }
        }
        Ok(self)
    }

    /// Keeps only the named uses (in catalogue order, custom document sizes such as
    /// `id-35x45mm` after them); unknown names are returned.
    pub fn select(&mut self, names: &[String]) -> Vec<String> {
        for n in names {
            if !self.uses.iter().any(|u| &u.name == n)
                && let Some(u) = custom_document(n)
            {
                self.uses.push(u);
            }
        }
        let unknown = names.iter().filter(|n| !self.uses.iter().any(|u| &u.name == *n)).cloned().collect();
        self.uses.retain(|u| names.contains(&u.name));
        unknown
    }

    pub fn get(&self, name: &str) -> Option<&Use> {
        self.uses.iter().find(|u| u.name == name)
    }
}

/// A document photo of any size, named `id-<width>x<height><mm|in>[-<dpi>dpi]` (`id-35x45mm`,
/// `id-2x2in-600dpi`; 300 dpi unless given), held to the ICAO / ISO rules: head 70-80 % of the
/// height, the eyes 50-70 % from the bottom, a plain light background, glasses allowed without
/// glare. `None` for any other name.
pub fn custom_document(name: &str) -> Option<Use> {
    let rest = name.strip_prefix("id-")?;
    let (size, dpi) = match rest.split_once('-') {
        Some((size, dpi)) => (size, dpi.strip_suffix("dpi")?.parse::<u32>().ok()?),
        None => (rest, 300),
    };
    let (dims, per_inch) =
        if let Some(d) = size.strip_suffix("mm") { (d, 25.4) } else { (size.strip_suffix("in")?, 1.0) };
    let (w, h) = dims.split_once('x')?;
    let (w, h) = (w.parse::<f32>().ok()?, h.parse::<f32>().ok()?);
    let mm = |v: f32| v * 25.4 / per_inch;
    let px = |v: f32| (v / per_inch * dpi as f32).round();
    let (pw, ph) = (px(w), px(h));
    if !(16.0..=10_000.0).contains(&pw) || !(16.0..=10_000.0).contains(&ph) || !(72..=1200).contains(&dpi) {
        return None;
    }
    let icao = "ICAO Doc 9303 Part 3 / ISO/IEC 19794-5 full frontal (a custom size: the rules of the ICAO format)";
    let u = Use {
        name: name.to_string(),
        kind: UseKind::Document,
        width: pw as u32,
        height: ph as u32,
        circle: false,
        display_px: ph as u32,
        min_source_px: 300.min(pw as u32),
        max_bytes: 10_000_000,
        format: Format::Jpeg,
        source: format!("custom document size {w} x {h} {} at {dpi} dpi", if per_inch == 1.0 { "in" } else { "mm" }),
        composition: None,
        max_enlarge: Some(MAX_ENLARGE_WEB),
        document: Some(DocumentRules {
            print_mm: Some([mm(w), mm(h)]),
            dpi,
            head_height: [0.7, 0.8],
            eye_line_from_bottom: [0.5, 0.7],
            backgrounds: vec!["#eeeeee".into(), "#ffffff".into()],
            glasses: Glasses::Allowed,
            min_bytes: 0,
            min_pixels: None,
            max_pixels: None,
            min_inter_eye_px: 60,
            sources: DocumentSources {
                size: format!("asked for: {w} x {h} at {dpi} dpi"),
                head_height: format!("{icao}: chin to crown 70-80 % of the height"),
                eye_line: "ISO/IEC 19794-5 full frontal: the eyes between 50 % and 70 % of the height from the bottom"
                    .into(),
                background: "ICAO Doc 9303: a plain, light, uniform background".into(),
                glasses: "ICAO Doc 9303: glasses allowed with the eyes clearly seen and no glare".into(),
                inter_eye: "ISO/IEC 19794-5 token image: 60 pixels between the eye centres".into(),
            },
        }),
    };
    u.check_numbers().ok().map(|_| u)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_in_catalogue_parses_and_has_the_documented_uses() {
        let c = Catalogue::parse("uses.toml", BUILT_IN).expect("built-in catalogue parses");
        assert_eq!(c.uses.len(), 19);
        let li = c.get("linkedin").expect("linkedin");
        assert_eq!((li.width, li.height, li.circle, li.kind), (400, 400, true, UseKind::Headshot));
        assert!(c.uses.iter().all(|u| !u.source.is_empty()));
        // Every built-in use says how it is composed and how far it may enlarge, and why.
        for u in &c.uses {
            let comp = u.composition.as_ref().unwrap_or_else(|| panic!("{}: no composition", u.name));
            assert!(!comp.source.is_empty() && u.max_enlarge.is_some(), "{}", u.name);
            assert!((0.05..0.8).contains(&comp.head) && (0.1..0.6).contains(&comp.eye_line), "{}", u.name);
            assert!(comp.eye_x > comp.clear_left, "{}", u.name);
        }
    }

    #[test]
    fn bad_catalogue_is_a_clear_error() {
        let e = Catalogue::parse("mine.toml", "[[use]]\nname = 'x'\n").expect_err("an error");
        assert!(e.to_string().starts_with("mine.toml: not a valid catalogue"), "{e}");
    }

    /// Numbers the planner cannot use are refused by name, whatever TOML lets through.
    #[test]
    fn impossible_numbers_are_refused_by_name() {
        let good = "[[use]]\nname = 'x'\nkind = 'headshot'\nwidth = 400\nheight = 400\ndisplay_px = 128\n\
                    min_source_px = 200\nmax_bytes = 100000\nformat = 'jpeg'\n";
        assert!(Catalogue::parse("ok.toml", good).is_ok());
        let comp = |c: &str| format!("{good}[use.composition]\n{c}\n");
        for (text, field) in [
            (comp("head = nan\neye_line = 0.4\neye_x = 0.5"), "composition.head"),
            (comp("head = 3.0\neye_line = 0.4\neye_x = 0.5"), "composition.head"),
            (comp("head = 0.5\neye_line = inf\neye_x = 0.5"), "composition.eye_line"),
            (comp("head = 0.5\neye_line = 0.4\neye_x = -1.0"), "composition.eye_x"),
            (format!("{good}max_enlarge = 0.0\n"), "max_enlarge"),
            (good.replace("max_bytes = 100000", "max_bytes = 0"), "max_bytes"),
            (good.replace("display_px = 128", "display_px = 0"), "display_px"),
        ] {
            let e = Catalogue::parse("mine.toml", &text).expect_err(field).to_string();
            assert!(e.contains(field), "{field}: {e}");
        }
    }
}
