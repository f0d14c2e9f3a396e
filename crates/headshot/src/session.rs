//! A session: many photos, found on disk, analysed in parallel, in a stable order.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use headshot_core::{PhotoError, PhotoErrorKind};
use rayon::prelude::*;

use crate::analysis::{Analysis, AnalyzeError, Analyzer};

/// File endings read when a directory is given (a file named explicitly is always tried).
pub const PHOTO_EXTENSIONS: &[&str] = &["jpg", "jpeg", "png", "webp", "tif", "tiff", "heic", "heif", "avif"];

/// Expands files and directories (recursively, sorted) into photo paths. A path that does not
/// exist becomes an error for that path, and the others go on. A directory reached twice
/// (through a link, or a link that loops back) is walked once, and a photo reached twice is
/// listed once; only regular files are listed (a FIFO named `x.jpg` would block the reader).
pub fn collect_inputs(inputs: &[PathBuf]) -> (Vec<PathBuf>, Vec<PhotoError>) {
    let mut walk = Walk::default();
    for input in inputs {
        if input.is_dir() {
            walk.dir(input);
        } else if input.exists() {
            walk.file(input);
        } else {
            walk.errors.push(PhotoError {
                path: input.clone(),
                kind: PhotoErrorKind::Io,
                reason: "no such file or directory".into(),
            });
        }
    }
    (walk.files, walk.errors)
}

#[derive(Default)]
struct Walk {
    files: Vec<PathBuf>,
    errors: Vec<PhotoError>,
    /// Canonical paths of the directories walked and the files listed.
    seen: HashSet<PathBuf>,
}

impl Walk {
    fn first_visit(&mut self, p: &Path) -> bool {
        // A path that cannot be resolved is taken as it is (the reader reports its problem).
        self.seen.insert(std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf()))
    }

    /// A file named on the command line: always tried (whatever its ending), once.
    fn file(&mut self, p: &Path) {
        if self.first_visit(p) {
            self.files.push(p.to_path_buf());
        }
    }

    fn dir(&mut self, dir: &Path) {
        if !self.first_visit(dir) {
            return;
        }
        let entries = match std::fs::read_dir(dir) {
            Ok(e) => e,
            Err(e) => {
                self.errors.push(PhotoError {
                    path: dir.to_path_buf(),
                    kind: PhotoErrorKind::Io,
                    reason: e.to_string(),
                });
                return;
            }
        };
        let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
        paths.sort();
        for p in paths {
            // Follows links, so a linked photo or folder counts; cycles end at `first_visit`.
            let Ok(meta) = std::fs::metadata(&p) else { continue };
            if meta.is_dir() {
                self.dir(&p);
            } else if meta.is_file()
                && p.extension()
                    .and_then(|e| e.to_str())
                    .is_some_and(|e| PHOTO_EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()))
                && self.first_visit(&p)
            {
                self.files.push(p);
            }
        }
    }
}

/// Analyses every path in parallel and hands each result to `f` as soon as it is ready, so a
/// photo's pixels are dropped before the batch ends (memory stays flat over long batches).
/// Results of `f` come back in the order of `paths`.
pub fn analyze_each<T: Send>(
    analyzer: &Analyzer,
    paths: &[PathBuf],
    f: impl Fn(&Path, Result<Analysis, AnalyzeError>) -> T + Sync,
) -> Vec<T> {
    paths.par_iter().map(|p| f(p, analyzer.analyze_path(p))).collect()
}
