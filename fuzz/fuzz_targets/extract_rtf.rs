#![no_main]
//! Any bytes, read as an RTF file, or (first byte odd) as Outlook's
//! compressed RTF (LZFu/MELA, as in .msg and TNEF bodies) then as RTF.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&sel, rest)) = data.split_first() else { return };
    if sel % 2 == 0 {
        let _ = mamori::extract::extract_discarding("letter.rtf", rest);
    } else if let Ok(rtf) = mamori::extract::rtf::decompress(rest) {
        let _ = mamori::extract::rtf::body_text(&rtf);
    }
});
