#![no_main]
//! Any bytes as a text or CSV file: encoding detection and the CSV reader.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let name = if data.first().is_some_and(|b| b % 2 == 0) { "list.csv" } else { "memo.txt" };
    let _ = mamori::extract::extract_discarding(name, data);
});
