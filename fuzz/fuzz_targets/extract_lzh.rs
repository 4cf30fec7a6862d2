#![no_main]
//! Any bytes, read as `archive.lzh`: must never panic, hang or allocate without bound.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = mamori::extract::extract_discarding("archive.lzh", data);
});
