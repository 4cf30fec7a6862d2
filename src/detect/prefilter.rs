//! The prefilter: one Aho-Corasick pass over each unit for every keyword of
//! every detector (triggers, context and negative words), plus a digit-run
//! scan. Detectors run only on units where their trigger fired
//! (trufflehog's keyword core).

use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind};

use crate::vocabulary::Vocabulary;

/// What a keyword means to one detector.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Trigger,
    Positive,
    Negative,
    /// On the value's line (or in its cell): an office's number, not a person's.
    LineNegative,
    /// A positive word that a line-negative word cannot outweigh (自宅, 携帯).
    Strong,
}

/// A keyword occurrence in normalised text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hit {
    pub keyword: usize,
    pub start: usize,
    pub end: usize,
}

/// All keywords of all detectors in one automaton.
#[derive(Debug, Clone)]
pub struct Prefilter {
    automaton: AhoCorasick,
    /// The same keywords, folded, for column headers and labels (case-,
    /// width-, underscore- and space-insensitive: `KOJIN_NO`, `Kojin No`).
    hint_words: Vocabulary,
    /// For each keyword: (detector index, role).
    pub owners: Vec<Vec<(usize, Role)>>,
    pub keywords: Vec<std::sync::Arc<str>>,
    /// For each keyword: its owners as bits (`detector * ROLES + role`),
    /// when there are few enough detectors; a role test is then one AND.
    masks: Option<Vec<u128>>,
}

/// Roles per detector in a mask.
const ROLES: usize = 5;

fn role_bit(detector: usize, role: Role) -> Option<u32> {
    let r = match role {
        Role::Trigger => 0,
        Role::Positive => 1,
        Role::Negative => 2,
        Role::LineNegative => 3,
        Role::Strong => 4,
    };
    let bit = detector * ROLES + r;
    (bit < 128).then_some(bit as u32)
}

impl Prefilter {
    /// Builds the automaton from (detector index, role, keyword) triples.
    /// Keywords must already be normalised.
    pub fn new(entries: impl IntoIterator<Item = (usize, Role, String)>) -> Prefilter {
        let mut keywords: Vec<String> = Vec::new();
        let mut owners: Vec<Vec<(usize, Role)>> = Vec::new();
        let mut index = std::collections::HashMap::new();
        for (det, role, kw) in entries {
            let key = kw.to_ascii_lowercase();
            let id = *index.entry(key.clone()).or_insert_with(|| {
                keywords.push(key);
                owners.push(Vec::new());
                keywords.len() - 1
            });
            if !owners[id].contains(&(det, role)) {
                owners[id].push((det, role));
            }
        }
        let automaton = AhoCorasick::builder()
            .ascii_case_insensitive(true)
            .match_kind(MatchKind::Standard)
            .kind(Some(AhoCorasickKind::DFA))
            .build(&keywords)
            .expect("keyword automaton builds");
        let masks = owners
            .iter()
            .map(|os| {
                os.iter().try_fold(0u128, |m, &(d, role)| {
                    role_bit(d, role).map(|b| m | (1u128 << b))
                })
            })
            .collect::<Option<Vec<u128>>>();
        Prefilter {
            masks,
            hint_words: Vocabulary::new(&keywords),
            automaton,
            owners,
            keywords: keywords.into_iter().map(std::sync::Arc::from).collect(),
        }
    }

    /// Whether keyword `kw` plays `role` for the detector in `slot`.
    #[inline]
    pub fn has_role(&self, kw: usize, slot: usize, role: Role) -> bool {
        match (&self.masks, role_bit(slot, role)) {
            (Some(m), Some(b)) => m[kw] & (1u128 << b) != 0,
            _ => self.owners[kw].contains(&(slot, role)),
        }
    }

    /// Every keyword occurrence, overlapping ones included.
    pub fn hits(&self, text: &str, out: &mut Vec<Hit>) {
        out.clear();
        for m in self.automaton.find_overlapping_iter(text) {
            out.push(Hit {
                keyword: m.pattern().as_usize(),
                start: m.start(),
                end: m.end(),
            });
        }
    }

    /// The keyword ids found in a column header or label (folded: see
    /// [`crate::vocabulary`]).
    pub fn keywords_in(&self, hint: &str) -> Vec<usize> {
        self.hint_words.find(hint)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overlapping_keywords_all_found() {
        let p = Prefilter::new(vec![
            (0, Role::Trigger, "個人番号".to_string()),
            (1, Role::Negative, "番号".to_string()),
            (2, Role::Positive, "TEL".to_string()),
        ]);
        let mut hits = Vec::new();
        p.hits("個人番号 tel", &mut hits);
        let kws: Vec<&str> = hits.iter().map(|h| &*p.keywords[h.keyword]).collect();
        assert!(kws.contains(&"個人番号"));
        assert!(kws.contains(&"番号"));
        assert!(kws.contains(&"tel"));
    }

    #[test]
    fn hints_are_folded() {
        let p = Prefilter::new(vec![
            (0, Role::Trigger, "kojin_no".to_string()),
            (1, Role::Positive, "tel".to_string()),
        ]);
        assert_eq!(p.keywords_in("KOJIN NO"), vec![0]);
        assert_eq!(p.keywords_in("ＴＥＬ＿ＮＯ"), vec![1]);
        assert!(p.keywords_in("HOTEL").is_empty());
    }
}
