#![no_main]
//! Any bytes, read as `slides.ppt` (PowerPoint 97-2003): must never panic, hang or allocate without bound.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = mamori::extract::extract_discarding("slides.ppt", data);
});
