//! 要配慮個人情報 keywords (`[records] sensitive_keywords`), compiled for
//! searching text, and the test "personal data next to a keyword" behind
//! one criterion of `breach_report_hint`.
//!
//! Only the configured keywords are ever returned, never document text, so
//! what is found may be stored and shown.

use std::collections::BTreeSet;
use std::ops::Range;

use aho_corasick::AhoCorasick;

/// How far (in characters) a keyword may be from a finding to count as
/// "next to" it: about a table row or a short paragraph.
pub const DEFAULT_WINDOW_CHARS: usize = 100;

/// The keywords and their matcher.
#[derive(Debug, Clone, Default)]
pub struct SensitiveKeywords {
    words: Vec<String>,
    matcher: Option<AhoCorasick>,
}

impl SensitiveKeywords {
    /// Compiles `words`; a blank keyword is an error (it would match
    /// everywhere). Duplicates are dropped.
    pub fn new<S: AsRef<str>>(words: &[S]) -> Result<SensitiveKeywords, String> {
        let mut list: Vec<String> = Vec::with_capacity(words.len());
        for (i, w) in words.iter().enumerate() {
            let w = w.as_ref().trim();
            if w.is_empty() {
                return Err(format!("keyword {} is empty", i + 1));
            }
            if !list.iter().any(|x| x == w) {
                list.push(w.to_string());
            }
        }
        let matcher = if list.is_empty() {
            None
        } else {
            Some(AhoCorasick::new(&list).map_err(|e| format!("cannot compile the keywords: {e}"))?)
        };
        Ok(SensitiveKeywords {
            words: list,
            matcher,
        })
    }

    /// The keywords, in the configured order.
    pub fn words(&self) -> &[String] {
        &self.words
    }

    pub fn len(&self) -> usize {
        self.words.len()
    }

    pub fn is_empty(&self) -> bool {
        self.words.is_empty()
    }

    /// Every keyword that occurs in `text`.
    pub fn found_in(&self, text: &str) -> BTreeSet<&str> {
        self.matches(text).into_iter().map(|(w, _)| w).collect()
    }

    /// The keywords that occur within `window_chars` characters of one of
    /// `spans` (byte ranges of findings in `text`), or overlap one.
    pub fn near(&self, text: &str, spans: &[Range<usize>], window_chars: usize) -> BTreeSet<&str> {
        let mut out = BTreeSet::new();
        // Spans that are not ranges of this text say nothing about it.
        let mut sorted: Vec<Range<usize>> = spans
            .iter()
            .filter(|r| r.start <= r.end && r.end <= text.len())
            .cloned()
            .collect();
        if sorted.is_empty() {
            return out;
        }
        sorted.sort_by_key(|r| r.start);
        // The furthest end among the spans starting at or before each one:
        // the nearest span on the left of a keyword is the one reaching
        // furthest right.
        let mut reach = Vec::with_capacity(sorted.len());
        let mut furthest = 0;
        for r in &sorted {
            furthest = furthest.max(r.end);
            reach.push(furthest);
        }
        let bytes = text.as_bytes();
        for (word, m) in self.matches(text) {
            if out.contains(word) {
                continue;
            }
            let i = sorted.partition_point(|r| r.start <= m.start);
            let mut gaps = Vec::with_capacity(2);
            if let Some(&end) = i.checked_sub(1).and_then(|j| reach.get(j)) {
                gaps.push(end.min(m.start)..m.start);
            }
            if let Some(r) = sorted.get(i) {
                gaps.push(m.end.min(r.start)..r.start);
            }
            if gaps
                .into_iter()
                .any(|g| chars_within(bytes, g, window_chars))
            {
                out.insert(word);
            }
        }
        out
    }

    /// Every occurrence of a keyword: the keyword and its byte range.
    fn matches(&self, text: &str) -> Vec<(&str, Range<usize>)> {
        let Some(m) = &self.matcher else {
            return Vec::new();
        };
        m.find_overlapping_iter(text)
            .filter_map(|hit| {
                let w = self.words.get(hit.pattern().as_usize())?;
                Some((w.as_str(), hit.start()..hit.end()))
            })
            .collect()
    }
}

/// Whether the byte range `gap` of `bytes` holds at most `window` characters
/// (counting character starts, so that a range off a boundary is no harm).
fn chars_within(bytes: &[u8], gap: Range<usize>, window: usize) -> bool {
    let (start, end) = (gap.start.min(bytes.len()), gap.end.min(bytes.len()));
    if end <= start || end - start <= window {
        return true;
    }
    // A UTF-8 character is at most 4 bytes.
    if end - start > window.saturating_mul(4) {
        return false;
    }
    bytes[start..end]
        .iter()
        .filter(|&&b| (b as i8) >= -0x40)
        .count()
        <= window
}

#[cfg(test)]
mod tests {
    use super::*;

    fn span(text: &str, needle: &str) -> Range<usize> {
        let s = text.find(needle).unwrap();
        s..s + needle.len()
    }

    #[test]
    fn keywords_near_findings() {
        let k = SensitiveKeywords::new(&["病歴", "生活保護", "前科"]).unwrap();
        let text = "氏名 山田太郎 病歴 糖尿病。".to_string()
            + &"あ".repeat(300)
            + "生活保護 受給中。"
            + &"い".repeat(300)
            + "住所 東京都";
        let name = span(&text, "山田太郎");
        let address = span(&text, "東京都");
        assert_eq!(
            k.near(&text, std::slice::from_ref(&name), DEFAULT_WINDOW_CHARS),
            BTreeSet::from(["病歴"])
        );
        // 生活保護 is 300 characters from either finding.
        assert_eq!(
            k.near(
                &text,
                &[address.clone(), name.clone()],
                DEFAULT_WINDOW_CHARS
            ),
            BTreeSet::from(["病歴"])
        );
        assert_eq!(
            k.near(&text, &[name, address], 400),
            BTreeSet::from(["病歴", "生活保護"])
        );
        assert!(k.near(&text, &[], 1000).is_empty());
        assert_eq!(k.found_in(&text), BTreeSet::from(["病歴", "生活保護"]));
    }

    #[test]
    fn window_counts_characters_not_bytes() {
        let k = SensitiveKeywords::new(&["病歴"]).unwrap();
        // 50 three-byte characters between: 150 bytes, 50 characters.
        let text = format!("病歴{}山田", "あ".repeat(50));
        let name = span(&text, "山田");
        assert_eq!(k.near(&text, std::slice::from_ref(&name), 50).len(), 1);
        assert_eq!(k.near(&text, std::slice::from_ref(&name), 49).len(), 0);
        // A long span reaching past the keyword covers it.
        let k = SensitiveKeywords::new(&["診断"]).unwrap();
        let text = "表 山田 診断 なし";
        let whole = 0..text.len();
        assert_eq!(k.near(text, std::slice::from_ref(&whole), 0).len(), 1);
        // Spans off character boundaries or past the end do no harm.
        assert_eq!(k.near(text, &[1..2, 500..900], 3).len(), 0);
    }

    #[test]
    fn overlapping_keywords_are_all_found() {
        let k = SensitiveKeywords::new(&["診断", "健康診断", "診断"]).unwrap();
        assert_eq!(k.len(), 2);
        assert_eq!(
            k.found_in("健康診断の結果"),
            BTreeSet::from(["診断", "健康診断"])
        );
        assert!(SensitiveKeywords::new(&["a", ""]).is_err());
        assert!(SensitiveKeywords::new::<&str>(&[])
            .unwrap()
            .found_in("病歴")
            .is_empty());
    }
}
