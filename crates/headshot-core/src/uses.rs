//! The catalogue of uses (platforms): data, not code. The built-in catalogue is `uses.toml`,
//! embedded; users can add or override uses with their own file of the same form.

use std::path::Path;

use serde::{Deserialize, Serialize};

/// Whether a use wants a headshot (identification) or a portrait (story).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum UseKind {
    Headshot,
    Portrait,
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
        let aspect = self.aspect();
        let (head, eye_line, eye_x, into_frame) = match self.kind {
            UseKind::Headshot if self.circle => (0.50, 0.43, 0.5, false),
            UseKind::Headshot if aspect >= 0.95 => (0.54, 0.40, 0.5, false),
            UseKind::Headshot => (0.42, 0.36, 0.5, false),
            UseKind::Portrait if aspect > 3.0 => (0.40, 0.38, 0.70, false),
            UseKind::Portrait if aspect > 1.2 => (0.27, 0.34, 0.65, true),
            UseKind::Portrait => (0.21, 0.26, 0.5, false),
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
        Ok(())
    }

    /// The largest enlargement at the face this use accepts.
    pub fn max_enlarge(&self) -> f32 {
        self.max_enlarge.unwrap_or(match self.kind {
            UseKind::Headshot => MAX_ENLARGE_WEB,
            UseKind::Portrait => MAX_ENLARGE_PRINT,
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

impl Catalogue {
    /// The built-in catalogue.
    pub fn built_in() -> Catalogue {
        // The embedded file is checked by a test; an error here is a broken build.
        Catalogue::parse("built-in uses.toml", BUILT_IN).unwrap_or(Catalogue { uses: Vec::new() })
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

    /// Keeps only the named uses (in catalogue order); unknown names are returned.
    pub fn select(&mut self, names: &[String]) -> Vec<String> {
        let unknown = names.iter().filter(|n| !self.uses.iter().any(|u| &u.name == *n)).cloned().collect();
        self.uses.retain(|u| names.contains(&u.name));
        unknown
    }

    pub fn get(&self, name: &str) -> Option<&Use> {
        self.uses.iter().find(|u| u.name == name)
    }
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
