//! Any bytes as a finished record or report.json (both are read back from the output folder,
//! which a user or another program may have edited): an error or a report, never a panic.
#![no_main]

use headshot_core::report::Report;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // What the studio takes as a record of finished work (`Report::round_trips`) must be
    // written back and read again as it is.
    if let Ok(r) = serde_json::from_slice::<Report>(data)
        && r.round_trips()
    {
        let json = serde_json::to_vec(&r).expect("a report that was read serialises");
        let back: Report = serde_json::from_slice(&json).expect("and reads back");
        let again = serde_json::to_vec(&back).expect("and serialises again");
        assert_eq!(json, again, "and reads back as it was");
    }
});
