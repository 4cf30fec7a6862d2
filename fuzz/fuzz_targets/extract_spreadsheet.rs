#![no_main]
//! Any bytes, read as xlsx, xls or ods (the first byte chooses).
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&sel, rest)) = data.split_first() else { return };
    let name = ["book.xlsx", "book.xls", "book.ods", "book.xlsb"][sel as usize % 4];
    let _ = mamori::extract::extract_discarding(name, rest);
});
