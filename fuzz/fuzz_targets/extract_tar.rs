#![no_main]
//! Any bytes, read as `archive.tar` or, when the first byte is odd,
//! `archive.tar.gz` (gzip and tar share the target): must never panic,
//! hang or allocate without bound.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let name = match data.first() {
        Some(b) if b % 2 == 1 => "archive.tar.gz",
        _ => "archive.tar",
    };
    let _ = mamori::extract::extract_discarding(name, data);
});
