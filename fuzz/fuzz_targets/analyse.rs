//! Any bytes that decode, through the whole analysis and judgement (the models included), and
//! the report through serde: an error or a report that reads back, never a panic.
#![no_main]

use std::path::Path;
use std::sync::OnceLock;

use headshot::analysis::Analyzer;
use headshot_core::photo::{Limits, Photo};
use headshot_core::report::Report;
use libfuzzer_sys::fuzz_target;

fn analyzer() -> &'static Analyzer {
    static A: OnceLock<Analyzer> = OnceLock::new();
    A.get_or_init(Analyzer::default)
}

fuzz_target!(|data: &[u8]| {
    let limits = Limits { max_pixels: 1_000_000, max_decode_bytes: 32 << 20, ..Limits::default() };
    let Ok(photo) = Photo::decode(Path::new("fuzz.png"), data, &limits) else { return };
    if let Ok(a) = analyzer().analyze_photo(photo) {
        let json = serde_json::to_vec(&a.report).expect("a report serialises");
        let back: Report = serde_json::from_slice(&json).expect("a report reads back");
        assert_eq!(back.verdicts.len(), a.report.verdicts.len());
    }
});
