//! Any bytes through the photo decoder: an error or a photo, never a panic, a hang or an
//! allocation past the decode budget (libFuzzer's -rss_limit_mb catches the last).
#![no_main]

use std::path::Path;

use headshot_core::photo::{Limits, Photo, Resolution};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // Small limits keep each run fast; the checks are the same at any size.
    let limits = Limits { max_pixels: 4_000_000, max_decode_bytes: 64 << 20, ..Limits::default() };
    if let Ok(photo) = Photo::decode(Path::new("fuzz.jpg"), data, &limits) {
        assert!(photo.width() > 0 && photo.height() > 0);
        assert!(photo.analysis.width() <= limits.analysis_long_side);
        assert!(photo.analysis.height() <= limits.analysis_long_side);
    }
    // The reduced decode a report-only run uses, reached by small images too when the analysis
    // copy is tiny: its pixels cover the whole photo at a whole fraction of its size.
    let tiny = Limits { analysis_long_side: 8, ..limits };
    if let Ok(photo) = Photo::decode_at(Path::new("fuzz.jpg"), data, &tiny, Resolution::Analysis) {
        assert!(photo.width() > 0 && photo.height() > 0);
        assert_eq!(photo.pixels.width(), photo.width().div_ceil(photo.reduction));
        assert_eq!(photo.pixels.height(), photo.height().div_ceil(photo.reduction));
    }
});
