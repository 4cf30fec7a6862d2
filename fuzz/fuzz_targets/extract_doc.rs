#![no_main]
//! Any bytes, read as `report.doc` (Word 97-2003): must never panic, hang or allocate without bound.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = mamori::extract::extract_discarding("report.doc", data);
});
