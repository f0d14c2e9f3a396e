//! Any text as a catalogue of uses (`--catalogue FILE`): an error naming the problem, or a
//! catalogue whose every use is judged and planned on a real photo, never a panic.
#![no_main]

use std::path::Path;
use std::sync::OnceLock;

use headshot::analysis::{Analysis, Analyzer};
use headshot_core::judge::{self, Subject};
use headshot_core::uses::Catalogue;
use libfuzzer_sys::fuzz_target;

fn analysis() -> &'static Analysis {
    static A: OnceLock<Analysis> = OnceLock::new();
    A.get_or_init(|| {
        let photo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/two_people.jpg");
        Analyzer::default().analyze_path(&photo).expect("the example photo analyses")
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(catalogue) = Catalogue::parse("fuzz.toml", text) else { return };
    let a = analysis();
    for subject in [Subject::Auto, Subject::Face(1), Subject::Face(9)] {
        let j = judge::judge(&a.scene, &catalogue, subject);
        assert_eq!(j.verdicts.len(), catalogue.uses.len());
    }
});
