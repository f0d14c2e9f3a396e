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
}

impl Use {
    /// Output width / height.
    pub fn aspect(&self) -> f32 {
        self.width as f32 / self.height.max(1) as f32
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
    }

    #[test]
    fn bad_catalogue_is_a_clear_error() {
        let e = Catalogue::parse("mine.toml", "[[use]]\nname = 'x'\n").expect_err("an error");
        assert!(e.to_string().starts_with("mine.toml: not a valid catalogue"), "{e}");
    }
}
