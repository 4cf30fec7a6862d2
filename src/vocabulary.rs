//! Label vocabulary: the words that make a column header or a form label
//! (個人番号, 氏名, KOJIN_NO, Date of Birth …), matched the same way on both
//! sides of the pipeline.
//!
//! A ground module: the detector registry fills a [`Vocabulary`] with its
//! keyword lists (detectors are data, so the words live in
//! `detectors/*.toml`); the engine matches column headers against it, and
//! extractors receive it through their sink to tell a header row from a
//! title row, without importing anything from `detect/`.
//!
//! Matching is case-, width-, underscore- and space-insensitive: labels and
//! words are both [`fold`]ed (NFKC, ASCII lowercase, separators `_ - ・ . / :`
//! spaces and brackets dropped), so `KOJIN_NO`, `Kojin No` and `ｋｏｊｉｎ＿ｎｏ`
//! are one label. A word written in ASCII or in katakana alone must start
//! where a word of the label starts (`TEL` matches `TEL_NO` and `自宅TEL` but
//! not `HOTEL`; `NAME` matches `SHIMEI_NAME` but not `FILENAME`; `カナ`
//! matches `氏名カナ` but not the name `タカナシ`), since such words are
//! short and occur inside others; words with kanji match anywhere.

use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind};

use crate::normalize::normalize;

/// Table furniture that marks a header row without being a detector's
/// keyword (`No.`, 備考, 区分 …).
pub const GENERIC_LABELS: &[&str] = &[
    "no",
    "番号",
    "備考",
    "区分",
    "種別",
    "性別",
    "続柄",
    "年齢",
    "所属",
    "役職",
    "職名",
    "地区",
    "世帯",
    "日付",
    "年月日",
    "受付日",
    "申請日",
    "処理日",
    "摘要",
    "内容",
    "件名",
    "金額",
    "状況",
    "状態",
    "コード",
    "id",
    "email",
    "e-mail",
    "date",
    "sex",
    "gender",
    "code",
    "note",
    "remarks",
    "status",
];

/// A label folded for matching, with the positions where its words start.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Folded {
    pub text: String,
    /// For each byte of `text`: whether a word of the original label starts there.
    starts: Vec<bool>,
}

impl Folded {
    /// Whether a word of the original label starts at byte `i` of the folded text.
    pub fn word_starts_at(&self, i: usize) -> bool {
        self.starts.get(i).copied().unwrap_or(false)
    }
}

fn is_katakana(c: char) -> bool {
    ('\u{30A1}'..='\u{30FA}').contains(&c) || c == 'ー'
}

/// A word that must start where a word of the label starts.
fn needs_word_start(word: &str) -> bool {
    word.is_ascii() || word.chars().all(is_katakana)
}

fn is_separator(c: char) -> bool {
    c.is_whitespace()
        || matches!(
            c,
            '_' | '-'
                | '・'
                | '.'
                | '/'
                | ':'
                | '('
                | ')'
                | '['
                | ']'
                | '【'
                | '】'
                | '「'
                | '」'
                | '#'
                | '＃'
                | '※'
                | '*'
                | '〔'
                | '〕'
                | '\''
                | '"'
        )
}

/// Folds a label or a word for matching (see the module documentation).
pub fn fold(label: &str) -> Folded {
    let norm = normalize(label);
    let mut text = String::with_capacity(norm.text.len());
    let mut starts = Vec::with_capacity(norm.text.len());
    let mut prev: Option<char> = None;
    let mut after_separator = true;
    for c in norm.text.chars() {
        if is_separator(c) {
            after_separator = true;
            prev = Some(c);
            continue;
        }
        let start = after_separator
            || prev.is_some_and(|p| {
                // ASCII ↔ other scripts, letters ↔ digits, camelCase.
                p.is_ascii() != c.is_ascii()
                    || is_katakana(p) != is_katakana(c)
                    || (p.is_ascii_alphabetic() && c.is_ascii_digit())
                    || (p.is_ascii_digit() && c.is_ascii_alphabetic())
                    || (p.is_ascii_lowercase() && c.is_ascii_uppercase())
            });
        after_separator = false;
        prev = Some(c);
        let lower = c.to_ascii_lowercase();
        let at = text.len();
        text.push(lower);
        starts.resize(text.len(), false);
        starts[at] = start;
    }
    Folded { text, starts }
}

/// Words matched in folded labels. Word ids are the caller's: the order in
/// which words were given to [`Vocabulary::new`].
#[derive(Debug, Clone)]
pub struct Vocabulary {
    automaton: Option<AhoCorasick>,
    /// For each distinct folded word: the ids of the words that fold to it.
    ids: Vec<Vec<usize>>,
    /// Whether each distinct folded word must start a word of the label
    /// (ASCII or katakana alone).
    ascii: Vec<bool>,
    len: usize,
}

impl Default for Vocabulary {
    fn default() -> Self {
        Vocabulary::new(std::iter::empty::<&str>())
    }
}

impl Vocabulary {
    /// A vocabulary of `words`; word `i` is reported as id `i`. Words that
    /// fold to nothing (`-`) are never matched.
    pub fn new<S: AsRef<str>>(words: impl IntoIterator<Item = S>) -> Vocabulary {
        let mut folded: Vec<String> = Vec::new();
        let mut ids: Vec<Vec<usize>> = Vec::new();
        let mut index = std::collections::HashMap::new();
        let mut len = 0;
        for (i, w) in words.into_iter().enumerate() {
            len = i + 1;
            let f = fold(w.as_ref()).text;
            if f.is_empty() {
                continue;
            }
            let slot = *index.entry(f.clone()).or_insert_with(|| {
                folded.push(f);
                ids.push(Vec::new());
                folded.len() - 1
            });
            ids[slot].push(i);
        }
        let ascii = folded.iter().map(|f| needs_word_start(f)).collect();
        let automaton = if folded.is_empty() {
            None
        } else {
            AhoCorasick::builder()
                .match_kind(MatchKind::Standard)
                .kind(Some(AhoCorasickKind::DFA))
                .build(&folded)
                .ok()
        };
        Vocabulary {
            automaton,
            ids,
            ascii,
            len,
        }
    }

    /// How many words were given (including those that fold to nothing).
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// The ids of the words found in `label` (sorted, unique).
    pub fn find(&self, label: &str) -> Vec<usize> {
        self.find_folded(&fold(label))
    }

    /// As [`find`](Self::find), on a label already folded.
    pub fn find_folded(&self, label: &Folded) -> Vec<usize> {
        let Some(ac) = &self.automaton else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for m in ac.find_overlapping_iter(&label.text) {
            let w = m.pattern().as_usize();
            if self.ascii[w] && !label.word_starts_at(m.start()) {
                continue;
            }
            out.extend_from_slice(&self.ids[w]);
        }
        out.sort_unstable();
        out.dedup();
        out
    }

    /// Whether any word is found in `label`.
    pub fn matches(&self, label: &str) -> bool {
        !self.find(label).is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folding_ignores_case_width_underscores_and_spaces() {
        assert_eq!(fold("KOJIN_NO").text, "kojinno");
        assert_eq!(fold("Kojin No").text, "kojinno");
        assert_eq!(fold("ｋｏｊｉｎ＿ｎｏ").text, "kojinno");
        assert_eq!(fold("個人 番号").text, "個人番号");
        assert_eq!(fold("E-mail").text, "email");
        assert_eq!(fold("-").text, "");
    }

    #[test]
    fn ascii_words_start_a_word_of_the_label() {
        let v = Vocabulary::new(["TEL", "NAME", "個人番号", "my number", "KOJIN_NO"]);
        assert_eq!(v.find("TEL_NO"), vec![0]);
        assert_eq!(v.find("自宅TEL"), vec![0]);
        assert_eq!(v.find("telNo"), vec![0]);
        assert!(v.find("HOTEL").is_empty());
        assert!(v.find("FILENAME").is_empty());
        assert_eq!(v.find("SHIMEI_NAME"), vec![1]);
        assert_eq!(v.find("個人 番号（マイナンバー）"), vec![2]);
        assert_eq!(v.find("MYNUMBER"), vec![3]);
        assert_eq!(v.find("My_Number"), vec![3]);
        assert_eq!(v.find("kojinNo"), vec![4]);
        assert_eq!(v.find("ＫＯＪＩＮ＿ＮＯ"), vec![4]);
        let k = Vocabulary::new(["カナ", "フリガナ", "メール"]);
        assert_eq!(k.find("氏名カナ"), vec![0]);
        assert!(k.find("タカナシ ホノカ").is_empty());
        assert_eq!(k.find("フリガナ"), vec![1]);
        assert_eq!(k.find("Eメール"), vec![2]);
    }

    #[test]
    fn words_folding_alike_share_a_slot() {
        let v = Vocabulary::new(["my number", "MYNUMBER", "-"]);
        assert_eq!(v.find("My Number"), vec![0, 1]);
        assert_eq!(v.len(), 3);
        assert!(Vocabulary::default().find("氏名").is_empty());
    }
}
