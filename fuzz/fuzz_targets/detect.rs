#![no_main]
//! Any text through the normaliser and every detector: offsets stay on
//! character boundaries and masked values never show more than 4 characters.
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

fuzz_target!(|text: &str| {
    static ENGINE: OnceLock<mamori::detect::Engine> = OnceLock::new();
    let engine = ENGINE.get_or_init(|| {
        mamori::detect::Engine::load(None, mamori::finding::Fingerprinter::new([0; 32])).unwrap()
    });
    let unit = mamori::text::TextUnit::lines(text);
    let mut out = Vec::new();
    engine.scan_unit(&unit, &mut out);
    for f in out {
        assert!(text.is_char_boundary(f.span.start) && text.is_char_boundary(f.span.end));
        let shown = f.masked.chars().filter(|c| !matches!(c, '*' | ' ' | '-' | '.' | '/' | ':' | '@' | '\u{3000}')).count();
        assert!(shown <= 4, "{}", f.masked);
    }
});
