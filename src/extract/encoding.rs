//! Text encodings of Japanese files: UTF-8, UTF-8/UTF-16 with BOM, UTF-16
//! without BOM, Shift_JIS (decoded as CP932, which is what Windows writes),
//! EUC-JP and ISO-2022-JP.
//!
//! Order: BOM → ISO-2022-JP (7-bit with its escapes) → UTF-16 by NUL
//! pattern → valid UTF-8 (both of the former are valid UTF-8 too) →
//! chardetng's guess, checked against CP932 and
//! EUC-JP by which decodes without errors.

use encoding_rs::{Encoding, EUC_JP, ISO_2022_JP, SHIFT_JIS, UTF_16BE, UTF_16LE, UTF_8};

/// Decoded text and the encoding it was read as.
#[derive(Debug, Clone)]
pub struct Decoded {
    pub text: String,
    pub encoding: &'static str,
    /// Whether malformed sequences were replaced with U+FFFD.
    pub had_errors: bool,
}

/// Whether `head` looks like text in some encoding (no NUL bytes, unless it
/// is UTF-16).
pub fn looks_like_text(head: &[u8]) -> bool {
    if head.starts_with(&[0xFF, 0xFE]) || head.starts_with(&[0xFE, 0xFF]) {
        return true;
    }
    if utf16_without_bom(head).is_some() {
        return true;
    }
    let sample = &head[..head.len().min(8192)];
    if sample.contains(&0) {
        return false;
    }
    // Control characters other than tab, newline, CR, form feed, ESC
    // (ISO-2022-JP) and SUB are rare in text.
    let controls = sample
        .iter()
        .filter(|&&b| b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r' | 0x0C | 0x1B | 0x1A))
        .count();
    controls * 100 <= sample.len()
}

/// Whether `head` is UTF-16 (by BOM or NUL pattern): `Some(true)` for
/// little-endian, `Some(false)` for big-endian.
pub fn utf16_kind(head: &[u8]) -> Option<bool> {
    if head.starts_with(&[0xFF, 0xFE]) {
        return Some(true);
    }
    if head.starts_with(&[0xFE, 0xFF]) {
        return Some(false);
    }
    utf16_without_bom(head).map(|e| e == UTF_16LE)
}

/// UTF-16 without a BOM: mostly-ASCII text has a NUL in every other byte.
fn utf16_without_bom(head: &[u8]) -> Option<&'static Encoding> {
    let sample = &head[..head.len().min(4096) & !1];
    if sample.len() < 8 {
        return None;
    }
    let pairs = sample.len() / 2;
    let even_nul = sample.iter().step_by(2).filter(|&&b| b == 0).count();
    let odd_nul = sample
        .iter()
        .skip(1)
        .step_by(2)
        .filter(|&&b| b == 0)
        .count();
    if odd_nul * 10 >= pairs * 3 && even_nul * 20 < pairs {
        Some(UTF_16LE)
    } else if even_nul * 10 >= pairs * 3 && odd_nul * 20 < pairs {
        Some(UTF_16BE)
    } else {
        None
    }
}

/// Decodes `bytes` to text, detecting the encoding.
pub fn decode(bytes: &[u8]) -> Decoded {
    if let Some((enc, bom_len)) = Encoding::for_bom(bytes) {
        let (text, had_errors) = enc.decode_without_bom_handling(&bytes[bom_len..]);
        return Decoded {
            text: text.into_owned(),
            encoding: enc.name(),
            had_errors,
        };
    }
    if bytes.is_ascii() && bytes.windows(3).any(|w| w == b"\x1b$B" || w == b"\x1b$@") {
        let (text, had_errors) = ISO_2022_JP.decode_without_bom_handling(bytes);
        return Decoded {
            text: text.into_owned(),
            encoding: ISO_2022_JP.name(),
            had_errors,
        };
    }
    if let Some(enc) = utf16_without_bom(bytes) {
        let (text, had_errors) = enc.decode_without_bom_handling(bytes);
        return Decoded {
            text: text.into_owned(),
            encoding: enc.name(),
            had_errors,
        };
    }
    if let Ok(s) = std::str::from_utf8(bytes) {
        return Decoded {
            text: s.to_string(),
            encoding: UTF_8.name(),
            had_errors: false,
        };
    }
    let mut det = chardetng::EncodingDetector::new();
    det.feed(bytes, true);
    let guess = det.guess(Some(b"jp"), true);
    // Japanese encodings first (CP932 is the Windows default), chardetng's
    // guess among them first: the first that decodes without errors wins. A
    // single-byte guess (windows-1252 decodes nearly anything) comes last.
    let order = if guess == EUC_JP {
        [EUC_JP, SHIFT_JIS, guess]
    } else {
        [SHIFT_JIS, EUC_JP, guess]
    };
    for enc in order {
        let (text, had_errors) = enc.decode_without_bom_handling(bytes);
        if !had_errors {
            return Decoded {
                text: text.into_owned(),
                encoding: enc.name(),
                had_errors,
            };
        }
    }
    let enc = order[0];
    let (text, had_errors) = enc.decode_without_bom_handling(bytes);
    Decoded {
        text: text.into_owned(),
        encoding: enc.name(),
        had_errors,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn enc(e: &'static Encoding, s: &str) -> Vec<u8> {
        e.encode(s).0.into_owned()
    }

    const SAMPLE: &str =
        "氏名,住所,個人番号\n山田太郎,東京都千代田区霞が関三丁目1番1号,258231856428\n髙﨑①㈱\n";

    #[test]
    fn cp932_and_eucjp_and_iso2022jp() {
        let d = decode(&enc(SHIFT_JIS, SAMPLE));
        assert_eq!(d.text, SAMPLE);
        assert_eq!(d.encoding, "Shift_JIS");
        let no_nec = "氏名,住所\n山田太郎,東京都千代田区霞が関三丁目1番1号\n";
        let d = decode(&enc(EUC_JP, no_nec));
        assert_eq!(d.text, no_nec);
        assert_eq!(d.encoding, "EUC-JP");
        let d = decode(&enc(ISO_2022_JP, no_nec));
        assert_eq!(d.text, no_nec);
        assert_eq!(d.encoding, "ISO-2022-JP");
    }

    #[test]
    fn boms_and_utf16() {
        let mut b = vec![0xEF, 0xBB, 0xBF];
        b.extend_from_slice(SAMPLE.as_bytes());
        assert_eq!(decode(&b).text, SAMPLE);
        let mut le = vec![0xFF, 0xFE];
        for u in SAMPLE.encode_utf16() {
            le.extend_from_slice(&u.to_le_bytes());
        }
        assert_eq!(decode(&le).text, SAMPLE);
        assert!(looks_like_text(&le));
        let ascii = "name,phone\nTaro,03-1234-5678\n";
        let mut le_nobom = Vec::new();
        for u in ascii.encode_utf16() {
            le_nobom.extend_from_slice(&u.to_le_bytes());
        }
        assert_eq!(decode(&le_nobom).text, ascii);
    }

    #[test]
    fn binary_is_not_text() {
        assert!(!looks_like_text(&[
            0x7f, b'E', b'L', b'F', 2, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0
        ]));
        assert!(looks_like_text("普通の文章です。".as_bytes()));
    }
}
