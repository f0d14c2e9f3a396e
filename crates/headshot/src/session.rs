//! A session: many photos, found on disk, analysed in parallel, in a stable order.

use std::path::{Path, PathBuf};

use headshot_core::{PhotoError, PhotoErrorKind};
use rayon::prelude::*;

use crate::analysis::{Analysis, AnalyzeError, Analyzer};

/// File endings read when a directory is given (a file named explicitly is always tried).
pub const PHOTO_EXTENSIONS: &[&str] = &["jpg", "jpeg", "png", "webp"];

/// Expands files and directories (recursively, sorted) into photo paths. A path that does not
/// exist becomes an error for that path, and the others go on.
pub fn collect_inputs(inputs: &[PathBuf]) -> (Vec<PathBuf>, Vec<PhotoError>) {
    let mut files = Vec::new();
    let mut errors = Vec::new();
    for input in inputs {
        if input.is_dir() {
            walk(input, &mut files, &mut errors);
        } else if input.exists() {
            files.push(input.clone());
        } else {
            errors.push(PhotoError {
                path: input.clone(),
                kind: PhotoErrorKind::Io,
                reason: "no such file or directory".into(),
            });
        }
    }
    (files, errors)
}

fn walk(dir: &Path, files: &mut Vec<PathBuf>, errors: &mut Vec<PhotoError>) {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) => {
            errors.push(PhotoError { path: dir.to_path_buf(), kind: PhotoErrorKind::Io, reason: e.to_string() });
            return;
        }
    };
    let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    for p in paths {
        if p.is_dir() {
            walk(&p, files, errors);
        } else if p
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| PHOTO_EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()))
        {
            files.push(p);
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
