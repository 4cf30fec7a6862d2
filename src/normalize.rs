//! Normalisation before matching, with an offset map back to the original text.
//!
//! Detectors match on a normalised copy of each text unit:
//! - NFKC for characters that have compatibility forms: full-width digits and
//!   letters (`１２３４` → `1234`), half-width katakana (`ｺｰﾄﾞ` → `コード`),
//!   ideographic and no-break spaces (→ ` `), `＠` → `@`, `㍻` → `平成`, …;
//! - dash and hyphen variants (`‐ ‑ ‒ – — ― − ー － ｰ`) become `-` **only between
//!   digits**: a global map would turn `マイナンバー` into `マイナンバ-` and break
//!   keyword matching (identifiers.md §13.2);
//! - zero-width spaces and soft hyphens inside digit runs are dropped.
//!
//! CJK ideographs, kana and ASCII are already stable, so the common case copies
//! nothing: [`normalize`] returns the input borrowed when no character changes.

use std::borrow::Cow;
use unicode_normalization::UnicodeNormalization;

/// Normalised text plus the map from its byte offsets to the original's.
#[derive(Debug, Clone)]
pub struct Normalized<'a> {
    /// The normalised text detectors match on.
    pub text: Cow<'a, str>,
    /// One entry per replaced stretch of the original, in order.
    /// Outside these stretches the two texts are byte-identical.
    edits: Vec<Edit>,
}

/// One replaced stretch: `orig[orig_start..orig_end]` became `norm[norm_start..norm_end]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Edit {
    orig_start: usize,
    orig_end: usize,
    norm_start: usize,
    norm_end: usize,
}

impl Normalized<'_> {
    /// Byte offset in the original text for a byte offset in the normalised text.
    /// A position inside a replaced stretch maps to the stretch's start
    /// (or its end, when `pos` is the stretch's end).
    pub fn to_original(&self, pos: usize) -> usize {
        let idx = self.edits.partition_point(|e| e.norm_start <= pos);
        if idx == 0 {
            return pos;
        }
        let e = self.edits[idx - 1];
        if pos < e.norm_end || pos == e.norm_start {
            e.orig_start
        } else {
            e.orig_end + (pos - e.norm_end)
        }
    }

    /// Byte offset in the normalised text for a byte offset in the original.
    pub fn to_normalized(&self, pos: usize) -> usize {
        let idx = self.edits.partition_point(|e| e.orig_start <= pos);
        if idx == 0 {
            return pos;
        }
        let e = self.edits[idx - 1];
        if pos < e.orig_end {
            e.norm_start
        } else {
            e.norm_end + (pos - e.orig_end)
        }
    }

    /// Whether any character was changed.
    pub fn changed(&self) -> bool {
        !self.edits.is_empty()
    }
}

/// Characters that may change under our normalisation. Everything else is copied.
#[inline]
fn may_change(c: char) -> bool {
    let u = c as u32;
    if u < 0x80 {
        return false;
    }
    // Hiragana, katakana (except the combining sound marks and ー, which is
    // only replaced between digits) and the CJK unified ideographs are stable.
    !STABLE_RANGES.iter().any(|r| r.contains(&u))
}

/// Ranges whose characters NFKC leaves unchanged (checked by a unit test):
/// CJK punctuation, hiragana, katakana (without the combining sound marks and
/// ー, which is only replaced between digits), CJK unified ideographs.
const STABLE_RANGES: [std::ops::RangeInclusive<u32>; 5] = [
    0x3001..=0x3035,
    0x3041..=0x3096,
    0x30A1..=0x30FA,
    0x3400..=0x4DBF,
    0x4E00..=0x9FFF,
];

#[inline]
fn is_dash_like(c: char) -> bool {
    matches!(
        c,
        '-' | '\u{2010}'
            | '\u{2011}'
            | '\u{2012}'
            | '\u{2013}'
            | '\u{2014}'
            | '\u{2015}'
            | '\u{2212}'
            | '\u{30FC}'
            | '\u{FF0D}'
            | '\u{FF70}'
            | '\u{FE63}'
            | '\u{FE58}'
    )
}

#[inline]
fn is_any_digit(c: char) -> bool {
    c.is_ascii_digit() || ('\u{FF10}'..='\u{FF19}').contains(&c)
}

/// Characters that join the previous one under NFKC composition
/// (voiced / semi-voiced sound marks, combining marks).
#[inline]
fn joins_previous(c: char) -> bool {
    matches!(c, '\u{FF9E}' | '\u{FF9F}' | '\u{3099}' | '\u{309A}')
        || unicode_normalization::char::canonical_combining_class(c) != 0
}

/// Normalise `text` for matching. See the module documentation.
pub fn normalize(text: &str) -> Normalized<'_> {
    // Fast path: nothing that could change.
    let first = text.char_indices().find(|&(_, c)| may_change(c));
    let Some((first_change, _)) = first else {
        return Normalized {
            text: Cow::Borrowed(text),
            edits: Vec::new(),
        };
    };

    let mut out = String::with_capacity(text.len());
    out.push_str(&text[..first_change]);
    let mut edits = Vec::new();
    let rest = &text[first_change..];
    let mut iter = rest.char_indices().peekable();
    let mut cluster = String::new();
    while let Some((rel, c)) = iter.next() {
        let start = first_change + rel;
        if !may_change(c) {
            out.push(c);
            continue;
        }
        let prev_is_digit = out.as_bytes().last().is_some_and(|b| b.is_ascii_digit());
        // Dash variants: '-' only between digits; elsewhere kept as they are.
        if is_dash_like(c) {
            let next_is_digit = iter.peek().is_some_and(|&(_, n)| is_any_digit(n));
            if prev_is_digit && next_is_digit && c != '-' {
                let norm_start = out.len();
                out.push('-');
                edits.push(Edit {
                    orig_start: start,
                    orig_end: start + c.len_utf8(),
                    norm_start,
                    norm_end: out.len(),
                });
                continue;
            }
            if c == '\u{30FC}' || c == '-' {
                out.push(c);
                continue;
            }
        }
        // Invisible characters inside a digit run (soft hyphen, zero-width space).
        if matches!(
            c,
            '\u{00AD}' | '\u{200B}' | '\u{200C}' | '\u{200D}' | '\u{FEFF}'
        ) {
            let norm_start = out.len();
            edits.push(Edit {
                orig_start: start,
                orig_end: start + c.len_utf8(),
                norm_start,
                norm_end: norm_start,
            });
            continue;
        }
        // Gather a cluster: this character and any that compose with it.
        cluster.clear();
        cluster.push(c);
        let mut end = start + c.len_utf8();
        while let Some(&(nrel, n)) = iter.peek() {
            if joins_previous(n) {
                cluster.push(n);
                end = first_change + nrel + n.len_utf8();
                iter.next();
            } else {
                break;
            }
        }
        let norm_start = out.len();
        for n in cluster.nfkc() {
            // NFKC maps U+3000 and U+00A0 to ' ' already; map other space
            // separators too so that digit groups split by them still match.
            if n != ' ' && n.is_whitespace() && n != '\n' && n != '\r' && n != '\t' {
                out.push(' ');
            } else {
                out.push(n);
            }
        }
        if out[norm_start..] != text[start..end] {
            edits.push(Edit {
                orig_start: start,
                orig_end: end,
                norm_start,
                norm_end: out.len(),
            });
        }
    }
    // A dash that became '-' when the previous digit was itself produced by
    // NFKC (e.g. '１－２') is covered: prev_is_digit looks at the output.
    if edits.is_empty() {
        return Normalized {
            text: Cow::Borrowed(text),
            edits,
        };
    }
    Normalized {
        text: Cow::Owned(out),
        edits,
    }
}

/// Whether `c` counts as a digit for boundary checks in original text
/// (ASCII, full-width, circled and other numeric characters).
pub fn is_numeric_char(c: char) -> bool {
    c.is_numeric()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_width_digits_and_spaces() {
        let n = normalize("個人番号：１２３４　５６７８　９０１８");
        assert_eq!(n.text, "個人番号:1234 5678 9018");
    }

    #[test]
    fn dashes_only_between_digits() {
        let n = normalize("マイナンバー ０３ー１２３４－５６７８ データ—ベース");
        assert_eq!(n.text, "マイナンバー 03-1234-5678 データ—ベース");
    }

    #[test]
    fn half_width_katakana_composes() {
        let n = normalize("住民票ｺｰﾄﾞ");
        assert_eq!(n.text, "住民票コード");
    }

    #[test]
    fn square_era_and_at_sign() {
        assert_eq!(normalize("㍻元年").text, "平成元年");
        assert_eq!(normalize("taro＠example.jp").text, "taro@example.jp");
    }

    #[test]
    fn unchanged_text_is_borrowed() {
        let n = normalize("山田太郎 123456789018");
        assert!(matches!(n.text, Cow::Borrowed(_)));
        assert!(!n.changed());
        assert_eq!(n.to_original(5), 5);
    }

    #[test]
    fn offsets_map_back_to_original() {
        let orig = "番号：１２３４X";
        let n = normalize(orig);
        assert_eq!(n.text, "番号:1234X");
        let pos_x = n.text.find('X').unwrap();
        assert_eq!(&orig[n.to_original(pos_x)..], "X");
        let pos_1 = n.text.find('1').unwrap();
        assert_eq!(&orig[n.to_original(pos_1)..], "１２３４X");
        let pos_3 = n.text.find('3').unwrap();
        assert_eq!(&orig[n.to_original(pos_3)..], "３４X");
        // and forward
        let orig_x = orig.find('X').unwrap();
        assert_eq!(n.to_normalized(orig_x), pos_x);
        assert_eq!(n.to_normalized(0), 0);
    }

    #[test]
    fn stable_ranges_are_really_nfkc_stable() {
        for r in STABLE_RANGES {
            for u in r {
                let Some(c) = char::from_u32(u) else { continue };
                let n: String = std::iter::once(c).nfkc().collect();
                assert_eq!(n, c.to_string(), "U+{u:04X} changes under NFKC");
            }
        }
    }

    #[test]
    fn soft_hyphen_inside_digits_removed() {
        assert_eq!(normalize("03\u{00AD}1234").text, "031234");
    }
}
