//! One multi-pattern pass over a unit before the patterns run one by one.
//!
//! Running each pattern of each triggered detector over a unit costs one
//! pass per pattern (about 25 passes on a resident list). A
//! [`regex::RegexSet`] of every pattern that runs on whole units answers
//! in one pass which of them match anywhere in the unit; only those are run
//! again for their match positions and captures (a set reports no
//! positions). Results are identical: a pattern the set rules out has no
//! match to give.
//!
//! Which patterns go into the set: those that can start with a non-ASCII
//! character (names, addresses, 和暦 dates, labelled values). Their
//! detectors are triggered by common words (こと, 様, 番, 生) in most prose,
//! where they rarely match: the set saves their passes. Patterns led by
//! ASCII (digit runs, `T`+13 digits, passport letters) stay out: their
//! detectors run where digit runs or their own keywords are, where they
//! mostly match, and a union of digit patterns makes a lazy DFA with many
//! states (measured: the set then cost more than the passes it saved on a
//! resident list).
//!
//! The set runs only when a detector with patterns in it was triggered.
//! Should many user detectors make it exceed the size limits, it is split
//! into groups.

use regex::RegexSet;

/// Patterns per set when one set of all would be too large.
const GROUP: usize = 8;

/// The whole-unit patterns of every detector, grouped into sets.
#[derive(Debug, Clone)]
pub(super) struct PatternSet {
    groups: Vec<Group>,
    /// For (slot, pattern index): its (group, index in group).
    index: std::collections::HashMap<(usize, usize), (usize, usize)>,
}

#[derive(Debug, Clone)]
struct Group {
    set: Option<RegexSet>,
    /// Registry slots of the detectors whose patterns are in the group.
    slots: Vec<usize>,
}

/// Which patterns can match in one unit.
pub(super) struct Matching<'a> {
    set: &'a PatternSet,
    /// Per group: the patterns that matched, or None when the group did not run.
    matched: Vec<Option<regex::SetMatches>>,
}

impl PatternSet {
    /// Builds the set from (detector slot, pattern index, regex) triples, in
    /// registry order: one set of all of them, or (should that exceed the
    /// size limits, with many user detectors) sets of [`GROUP`] patterns. A
    /// group that does not compile is left without a set: its patterns then
    /// always run.
    pub(super) fn new(patterns: &[(usize, usize, &str)]) -> PatternSet {
        let patterns: Vec<(usize, usize, &str)> = patterns
            .iter()
            .copied()
            .filter(|&(_, _, r)| !ascii_led(r))
            .collect();
        let patterns = patterns.as_slice();
        if let Some(set) = build(patterns) {
            return PatternSet::from_groups(patterns, vec![Some(set)], patterns.len().max(1));
        }
        let sets = patterns.chunks(GROUP).map(build).collect();
        PatternSet::from_groups(patterns, sets, GROUP)
    }

    fn from_groups(
        patterns: &[(usize, usize, &str)],
        sets: Vec<Option<RegexSet>>,
        size: usize,
    ) -> PatternSet {
        let mut index = std::collections::HashMap::new();
        let mut groups = Vec::new();
        for ((g, chunk), set) in patterns.chunks(size).enumerate().zip(sets) {
            for (i, &(slot, p, _)) in chunk.iter().enumerate() {
                index.insert((slot, p), (g, i));
            }
            let mut slots: Vec<usize> = chunk.iter().map(|&(s, _, _)| s).collect();
            slots.dedup();
            groups.push(Group { set, slots });
        }
        PatternSet { groups, index }
    }

    /// Runs the groups that hold patterns of triggered detectors over `text`.
    pub(super) fn matching(&self, text: &str, triggered: impl Fn(usize) -> bool) -> Matching<'_> {
        let matched = self
            .groups
            .iter()
            .map(|g| match &g.set {
                Some(set) if g.slots.iter().any(|&s| triggered(s)) => Some(set.matches(text)),
                _ => None,
            })
            .collect();
        Matching { set: self, matched }
    }
}

/// Whether every match of `regex` starts with an ASCII byte (a digit run,
/// `T`+13 digits, two letters): from the literal prefixes regex-syntax
/// finds; a pattern whose prefixes it cannot list counts as not ASCII-led.
fn ascii_led(regex: &str) -> bool {
    use regex_syntax::hir::literal::{ExtractKind, Extractor};
    let Ok(hir) = regex_syntax::Parser::new().parse(regex) else {
        return false;
    };
    let seq = Extractor::new().kind(ExtractKind::Prefix).extract(&hir);
    seq.literals().is_some_and(|lits| {
        !lits.is_empty()
            && lits
                .iter()
                .all(|l| l.as_bytes().first().is_some_and(u8::is_ascii))
    })
}

/// A set of `patterns`, with room for its automata (the lazy DFA of a
/// union of Japanese patterns needs more than the default cache).
fn build(patterns: &[(usize, usize, &str)]) -> Option<RegexSet> {
    regex::RegexSetBuilder::new(patterns.iter().map(|&(_, _, r)| r))
        .size_limit(64 << 20)
        .dfa_size_limit(16 << 20)
        .build()
        .ok()
}

impl Matching<'_> {
    /// Whether pattern `pattern` of the detector in `slot` may match the unit.
    pub(super) fn may_match(&self, slot: usize, pattern: usize) -> bool {
        match self.set.index.get(&(slot, pattern)) {
            Some(&(g, i)) => match &self.matched[g] {
                Some(m) => m.matched(i),
                None => true,
            },
            None => true,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digit_led_patterns_stay_out_of_the_set() {
        assert!(ascii_led("[0-9]{4}[ -][0-9]{4}[ -][0-9]{4}"));
        assert!(ascii_led("T?(?P<value>[1-9][0-9]{12})"));
        assert!(ascii_led("(?:18|19|20)[0-9]{2}"));
        assert!(!ascii_led("(?:明治|大正|昭和|平成|令和|[MTSHR]) ?[0-9]"));
        assert!(!ascii_led(
            "(?:^|[^\\p{Han}々ヶ])(?P<value>[\\p{Han}]{1,4})様"
        ));
        let set = PatternSet::new(&[
            (0, 0, "[0-9]{12}"),
            (1, 0, "氏名(?P<value>.+)"),
            (1, 1, "様"),
        ]);
        let m = set.matching("氏名 山田", |_| true);
        assert!(m.may_match(0, 0), "digit patterns always run");
        assert!(m.may_match(1, 0));
        assert!(!m.may_match(1, 1));
    }
}
