//! The detection engine: per unit, normalise → one prefilter pass (keywords
//! and the longest digit run) → for each detector whose trigger fired:
//! regex → boundary check → allow list → validator → context (see
//! `context`) → the detector's confidence ladder → masking and keyed
//! fingerprint → dedupe.

use std::path::Path;
use std::sync::Arc;

use super::columns::Observation;
use super::context::{CharIndex, Context};
use super::multi::PatternSet;
use super::prefilter::{Hit, Prefilter, Role};
use super::registry::{CompiledPattern, Detector, DetectorLoadError, Registry};
use super::spec::{self, Adjacency, Level};
use super::validators::Validation;
use crate::finding::{mask, Confidence, Explanation, Finding, Fingerprinter};
use crate::normalize::{is_numeric_char, normalize, Normalized};
use crate::text::{longest_digit_run, Locator, TextUnit};
use crate::vocabulary::Vocabulary;

/// All detectors plus the shared prefilter.
pub struct Engine {
    registry: Registry,
    pub(super) prefilter: Prefilter,
    fingerprinter: Fingerprinter,
    /// The detectors' label words, for extractors choosing header rows.
    labels: Arc<Vocabulary>,
    /// Tells engines apart in the per-thread cache of header keywords.
    id: u64,
    /// Every pattern that runs on whole units, in one multi-pattern set.
    patterns: PatternSet,
}

/// Engines created so far (each gets its own id).
static ENGINES: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

thread_local! {
    /// Keyword ids of recently seen column headers: a list repeats its
    /// headers on every row, and folding them each time would cost more
    /// than the rest of a short row's scan.
    static HINT_CACHE: std::cell::RefCell<std::collections::HashMap<(u64, String), Vec<usize>>> =
        std::cell::RefCell::new(std::collections::HashMap::new());
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("detectors", &self.registry.detectors)
            .finish()
    }
}

/// A candidate before deduplication: what it takes to make the finding,
/// which is made (location, mask, fingerprint) only if it survives.
struct Candidate {
    /// The detector's registry slot (dedupe prefers earlier detectors).
    detector: usize,
    pattern: usize,
    kind: crate::finding::Kind,
    /// The value's range in normalised text.
    start: usize,
    end: usize,
    confidence: Confidence,
    validation: Validation,
    context_word: Option<std::sync::Arc<str>>,
}

/// Per-unit state shared by the detectors.
pub(super) struct UnitScan<'u> {
    pub(super) text: &'u str,
    pub(super) hits: Vec<Hit>,
    /// Keyword ids in each cell's hint (parallel to the cells), and in the unit hint.
    pub(super) cell_hint_keywords: Vec<Vec<usize>>,
    pub(super) unit_hint_keywords: Vec<usize>,
    /// Line starts of a `Lines` unit, computed on the first finding.
    lines: crate::text::LineIndex,
    /// Character positions, built on the first context lookup.
    pub(super) chars: std::cell::OnceCell<Option<CharIndex>>,
    /// Candidates in table cells, for column evidence (when asked for).
    observe: bool,
    observations: std::cell::RefCell<Vec<Observation>>,
}

impl Engine {
    /// Loads the bundled detectors, then every `*.toml` in `user_dir` (a user
    /// file with a bundled id replaces it; a new id is added).
    pub fn load(
        user_dir: Option<&Path>,
        fingerprinter: Fingerprinter,
    ) -> Result<Engine, DetectorLoadError> {
        Ok(Engine::new(Registry::load(user_dir)?, fingerprinter))
    }

    /// Builds an engine from (source name, TOML text) pairs (see
    /// [`Registry::from_sources`]).
    pub fn from_sources(
        sources: Vec<(String, String)>,
        fingerprinter: Fingerprinter,
    ) -> Result<Engine, DetectorLoadError> {
        Ok(Engine::new(Registry::from_sources(sources)?, fingerprinter))
    }

    /// An engine over the detectors of `registry`: one prefilter for all
    /// their keywords.
    pub fn new(registry: Registry, fingerprinter: Fingerprinter) -> Engine {
        let entries = registry.detectors.iter().flat_map(|d| {
            d.keywords
                .iter()
                .map(|(role, kw)| (d.slot, *role, normalize(kw).text.into_owned()))
        });
        let registry_patterns: Vec<(usize, usize, &str)> = registry
            .detectors
            .iter()
            .flat_map(|d| {
                d.patterns
                    .iter()
                    .enumerate()
                    .filter(|(_, p)| !p.hint_only)
                    .map(move |(i, p)| (d.slot, i, p.regex.as_str()))
            })
            .collect();
        let patterns = PatternSet::new(&registry_patterns);
        Engine {
            prefilter: Prefilter::new(entries),
            labels: Arc::new(Vocabulary::new(registry.label_words())),
            registry,
            fingerprinter,
            id: ENGINES.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
            patterns,
        }
    }

    /// The detectors' label vocabulary (their keywords and context words,
    /// plus table furniture such as 備考): what extractors use to tell a
    /// header row from a title or a data row.
    pub fn vocabulary(&self) -> Arc<Vocabulary> {
        self.labels.clone()
    }

    /// The keyword ids in a column header or label (cached per thread).
    fn hint_keywords(&self, hint: &str) -> Vec<usize> {
        HINT_CACHE.with(|cache| {
            let mut cache = cache.borrow_mut();
            let key = (self.id, hint.to_string());
            if let Some(v) = cache.get(&key) {
                return v.clone();
            }
            let v = self.prefilter.keywords_in(hint);
            if cache.len() >= 4096 {
                cache.clear();
            }
            cache.insert(key, v.clone());
            v
        })
    }

    /// The compiled detectors, in id order.
    pub fn detectors(&self) -> &[Detector] {
        self.registry.detectors()
    }

    /// A digest of every detector definition: changes when any detector changes.
    pub fn set_version(&self) -> &str {
        self.registry.set_version()
    }

    pub fn triggered(&self, unit: &TextUnit<'_>) -> Vec<&str> {
        let norm = normalize(&unit.text);
        let scan = self.prepare(unit, &norm.text);
        let run = longest_digit_run(&norm.text);
        self.detectors()
            .iter()
            .filter(|d| self.is_triggered(d, &scan, run))
            .map(|d| d.id.as_str())
            .collect()
    }

    pub(super) fn prepare<'u>(&self, unit: &TextUnit<'_>, text: &'u str) -> UnitScan<'u> {
        let mut hits = Vec::new();
        self.prefilter.hits(text, &mut hits);
        hits.sort_unstable_by_key(|h| (h.start, h.end));
        let cell_hint_keywords = match &unit.locator {
            Locator::Cells(cells) => cells
                .iter()
                .map(|c| {
                    c.hint
                        .as_deref()
                        .map(|h| self.hint_keywords(h))
                        .unwrap_or_default()
                })
                .collect(),
            _ => Vec::new(),
        };
        let unit_hint_keywords = unit
            .context_hint
            .as_deref()
            .map(|h| self.hint_keywords(h))
            .unwrap_or_default();
        UnitScan {
            text,
            lines: crate::text::LineIndex::default(),
            hits,
            cell_hint_keywords,
            unit_hint_keywords,
            chars: std::cell::OnceCell::new(),
            observe: false,
            observations: std::cell::RefCell::new(Vec::new()),
        }
    }

    /// Whether keyword `kw` plays `role` for detector `d`.
    pub(super) fn has_role(&self, kw: usize, d: &Detector, role: Role) -> bool {
        self.prefilter.has_role(kw, d.slot, role)
    }

    fn is_triggered(&self, d: &Detector, scan: &UnitScan<'_>, digit_run: usize) -> bool {
        self.triggered_set(scan, digit_run)[d.slot]
    }

    /// Which detectors the unit triggers, by registry slot: one pass over
    /// the keyword hits and hints for all detectors at once.
    fn triggered_set(&self, scan: &UnitScan<'_>, digit_run: usize) -> Vec<bool> {
        let mut on: Vec<bool> = self
            .detectors()
            .iter()
            .map(|d| d.digit_run.is_some_and(|n| digit_run >= n))
            .collect();
        for h in &scan.hits {
            for &(slot, role) in &self.prefilter.owners[h.keyword] {
                if role == Role::Trigger {
                    on[slot] = true;
                }
            }
        }
        for &k in scan
            .unit_hint_keywords
            .iter()
            .chain(scan.cell_hint_keywords.iter().flatten())
        {
            for &(slot, role) in &self.prefilter.owners[k] {
                if matches!(role, Role::Trigger | Role::Positive) {
                    on[slot] = true;
                }
            }
        }
        on
    }

    /// Scans one unit and appends its findings to `out`.
    pub fn scan_unit(&self, unit: &TextUnit<'_>, out: &mut Vec<Finding>) {
        self.scan(unit, out, None);
    }

    /// [`scan_unit`](Self::scan_unit), also noting every candidate in a
    /// table cell, valid or not (for column evidence, see `columns`).
    pub(super) fn scan_unit_observed(
        &self,
        unit: &TextUnit<'_>,
        out: &mut Vec<Finding>,
        observations: &mut Vec<Observation>,
    ) {
        self.scan(unit, out, Some(observations));
    }

    fn scan(
        &self,
        unit: &TextUnit<'_>,
        out: &mut Vec<Finding>,
        observations: Option<&mut Vec<Observation>>,
    ) {
        let norm = normalize(&unit.text);
        let text: &str = &norm.text;
        let mut scan = self.prepare(unit, text);
        scan.observe = observations.is_some();
        let digit_run = longest_digit_run(text);
        // Cell ranges in normalised coordinates.
        let cells_norm: Vec<(usize, usize)> = match &unit.locator {
            Locator::Cells(cells) => cells
                .iter()
                .map(|c| (norm.to_normalized(c.start), norm.to_normalized(c.end)))
                .collect(),
            _ => Vec::new(),
        };
        let mut candidates: Vec<Candidate> = Vec::new();
        let triggered = self.triggered_set(&scan, digit_run);
        // One pass of every detector's patterns at once tells which can
        // match at all; each such pattern then runs alone for its matches.
        let matching = self.patterns.matching(text, |slot| triggered[slot]);
        for d in self.detectors() {
            if !triggered[d.slot] {
                continue;
            }
            for (pi, p) in d.patterns.iter().enumerate() {
                let p = (pi, p);
                if p.1.hint_only {
                    // Each cell (or the unit) whose hint has a positive word, alone.
                    let pos_hint =
                        |kws: &Vec<usize>| kws.iter().any(|&k| self.has_role(k, d, Role::Positive));
                    if cells_norm.is_empty() {
                        if pos_hint(&scan.unit_hint_keywords) {
                            self.run_pattern(
                                d,
                                p,
                                &scan,
                                (0, text.len()),
                                true,
                                unit,
                                &norm,
                                &mut candidates,
                            );
                        }
                    } else {
                        for (ci, &range) in cells_norm.iter().enumerate() {
                            if pos_hint(&scan.cell_hint_keywords[ci]) {
                                self.run_pattern(
                                    d,
                                    p,
                                    &scan,
                                    range,
                                    true,
                                    unit,
                                    &norm,
                                    &mut candidates,
                                );
                            }
                        }
                    }
                } else if matching.may_match(d.slot, p.0) {
                    self.run_pattern(
                        d,
                        p,
                        &scan,
                        (0, text.len()),
                        false,
                        unit,
                        &norm,
                        &mut candidates,
                    );
                }
            }
        }
        if let Some(o) = observations {
            o.append(&mut scan.observations.borrow_mut());
        }
        dedupe(&mut candidates);
        let detectors = self.detectors();
        out.extend(candidates.into_iter().map(|c| {
            let d = &detectors[c.detector];
            let value = &text[c.start..c.end];
            let stripped = strip(value, &d.strip);
            let (os, oe) = (norm.to_original(c.start), norm.to_original(c.end));
            Finding {
                kind: d.kind,
                confidence: c.confidence,
                detector_id: d.shared_id.clone(),
                detector_version: d.version,
                location: scan.lines.location(unit, os),
                masked: mask(value, d.keep_first, d.keep_last),
                fingerprint: self.fingerprinter.fingerprint(d.kind, &stripped),
                span: os..oe,
                explanation: Explanation {
                    pattern: d.patterns[c.pattern].name.clone(),
                    validation: c.validation,
                    context_word: c.context_word,
                },
            }
        }));
    }

    #[allow(clippy::too_many_arguments)]
    fn run_pattern(
        &self,
        d: &Detector,
        (pi, p): (usize, &CompiledPattern),
        scan: &UnitScan<'_>,
        (from, to): (usize, usize),
        hint_context: bool,
        unit: &TextUnit<'_>,
        norm: &Normalized<'_>,
        out: &mut Vec<Candidate>,
    ) {
        let text = scan.text;
        let hay = &text[from..to];
        let mut stripped = String::new();
        let mut locs = p.regex.capture_locations();
        let mut at = 0;
        while at <= hay.len() {
            let Some(m) = p.regex.captures_read_at(&mut locs, hay, at) else {
                break;
            };
            at = if m.end() > m.start() {
                m.end()
            } else {
                next_char(hay, m.end())
            };
            let (vs, ve) = match p.value_group.and_then(|g| locs.get(g)) {
                Some((s, e)) => (s + from, e + from),
                None => (m.start() + from, m.end() + from),
            };
            if vs >= ve {
                continue;
            }
            if !boundary_ok(p.adjacency, text, vs, ve, &unit.text, norm) {
                continue;
            }
            let value = &text[vs..ve];
            stripped.clear();
            stripped.extend(value.chars().filter(|c| !d.strip.contains(c)));
            if !d.allow.is_empty() && d.allow.contains(&stripped) {
                continue;
            }
            let validation = match &d.validator {
                Some((_, f)) => f(&stripped),
                None => Validation::NotApplicable,
            };
            if scan.observe {
                self.observe(d, scan, unit, norm.to_original(vs), validation);
            }
            if validation == Validation::Invalid
                || (p.require_valid && validation != Validation::Valid)
            {
                continue;
            }
            let (ms, me) = (m.start() + from, m.end() + from);
            let ctx = self.context(
                d,
                scan,
                vs,
                ve,
                (ms, me),
                unit,
                norm,
                (hint_context || p.label_is_context, hint_context),
            );
            let level = match ctx {
                Context::Negative => d.ladder.negative_context,
                Context::Positive(_) => match validation {
                    Validation::Valid => d.ladder.valid_with_context.unwrap_or(Level::Drop),
                    _ => d.ladder.not_applicable_with_context,
                },
                Context::None => {
                    if d.require_context {
                        Level::Drop
                    } else {
                        match validation {
                            Validation::Valid => {
                                d.ladder.valid_without_context.unwrap_or(Level::Drop)
                            }
                            _ => d.ladder.not_applicable_without_context,
                        }
                    }
                }
            };
            let mut level = level;
            if let Some(cap) = p.max {
                level = level.min(cap);
            }
            if matches!(ctx, Context::None) {
                if let Some(cap) = p.max_without_context {
                    level = level.min(cap);
                }
            }
            let Level::Is(confidence) = level else {
                continue;
            };
            out.push(Candidate {
                detector: d.slot,
                pattern: pi,
                kind: d.kind,
                start: vs,
                end: ve,
                confidence,
                validation,
                context_word: match ctx {
                    Context::Positive(w) => Some(w),
                    _ => None,
                },
            });
        }
    }

    /// Notes a candidate that starts in a table cell (original offset `pos`).
    fn observe(
        &self,
        d: &Detector,
        scan: &UnitScan<'_>,
        unit: &TextUnit<'_>,
        pos: usize,
        validation: Validation,
    ) {
        let Locator::Cells(cells) = &unit.locator else {
            return;
        };
        let i = cells.partition_point(|c| c.end < pos);
        if !cells
            .get(i)
            .is_some_and(|c| c.start <= pos && c.column.is_some())
        {
            return;
        }
        let header = scan.cell_hint_keywords.get(i);
        let has = |role| header.is_some_and(|h| h.iter().any(|&k| self.has_role(k, d, role)));
        scan.observations.borrow_mut().push(Observation {
            cell: i,
            kind: d.kind,
            valid: validation == Validation::Valid,
            check_digit: d
                .validator_name()
                .is_some_and(super::validators::is_check_digit),
            header_positive: has(Role::Positive),
            header_negative: has(Role::Negative),
        });
    }

    /// Runs a detector's examples; returns a description of each failure.
    pub fn check_examples(&self, det: &Detector) -> Vec<String> {
        let mut failures = Vec::new();
        for ex in &det.examples {
            let mut unit = TextUnit::fixed(
                ex.text.as_str(),
                crate::text::Location::Named("example".into()),
            );
            unit.context_hint = ex.hint.clone();
            let mut found = Vec::new();
            self.scan_unit(&unit, &mut found);
            let of_kind: Vec<&Finding> = found.iter().filter(|f| f.kind == det.kind).collect();
            match &ex.expect {
                spec::Expect::Nothing(_) => {
                    if let Some(f) = of_kind.first() {
                        failures.push(format!(
                            "{}: example {:?} should give no {} but gave {} ({})",
                            det.id, ex.text, det.kind, f.confidence, f.masked
                        ));
                    }
                }
                spec::Expect::Finding {
                    kind,
                    confidence,
                    masked,
                } => {
                    if !self.triggered(&unit).contains(&det.id.as_str()) {
                        failures.push(format!(
                            "{}: positive example {:?} does not fire the trigger",
                            det.id, ex.text
                        ));
                    }
                    let ok = found.iter().any(|f| {
                        f.kind.as_str() == kind
                            && f.confidence.as_str() == confidence
                            && masked.as_ref().is_none_or(|m| &f.masked == m)
                    });
                    if !ok {
                        let got: Vec<String> = found
                            .iter()
                            .map(|f| format!("{} {} {}", f.kind, f.confidence, f.masked))
                            .collect();
                        failures.push(format!(
                            "{}: example {:?} should give {} {}{} but gave [{}]",
                            det.id,
                            ex.text,
                            kind,
                            confidence,
                            masked.as_ref().map(|m| format!(" {m}")).unwrap_or_default(),
                            got.join(", ")
                        ));
                    }
                }
            }
        }
        failures
    }
}

/// The value without the detector's strip characters (as fingerprinted).
fn strip<'v>(value: &'v str, chars: &[char]) -> std::borrow::Cow<'v, str> {
    if value.contains(|c| chars.contains(&c)) {
        std::borrow::Cow::Owned(value.chars().filter(|c| !chars.contains(c)).collect())
    } else {
        std::borrow::Cow::Borrowed(value)
    }
}

fn next_char(s: &str, i: usize) -> usize {
    s[i..]
        .chars()
        .next()
        .map(|c| i + c.len_utf8())
        .unwrap_or(s.len() + 1)
}

/// Checks the characters next to the value in the normalised text and in
/// the original (where `①` is a digit that NFKC turned into `1`).
fn boundary_ok(
    adj: Adjacency,
    norm_text: &str,
    vs: usize,
    ve: usize,
    orig: &str,
    norm: &Normalized<'_>,
) -> bool {
    let bad: fn(char) -> bool = match adj {
        Adjacency::None => return true,
        Adjacency::Digit => is_numeric_char,
        Adjacency::Alnum => |c: char| c.is_ascii_alphanumeric() || c.is_numeric(),
    };
    let before = norm_text[..vs].chars().next_back();
    let after = norm_text[ve..].chars().next();
    if before.is_some_and(bad) || after.is_some_and(bad) {
        return false;
    }
    // A digit directly followed by a hyphen and our value ("03-1234-5678-9012").
    if adj == Adjacency::Digit {
        let mut back = norm_text[..vs].chars().rev();
        if back.next() == Some('-') && back.next().is_some_and(|c| c.is_ascii_digit()) {
            return false;
        }
        let mut fwd = norm_text[ve..].chars();
        if fwd.next() == Some('-') && fwd.next().is_some_and(|c| c.is_ascii_digit()) {
            return false;
        }
    }
    if norm.changed() {
        let os = norm.to_original(vs);
        let oe = norm.to_original(ve);
        if orig[..os].chars().next_back().is_some_and(bad)
            || orig[oe..].chars().next().is_some_and(bad)
        {
            return false;
        }
    }
    true
}

/// Containment dedupe: within a kind, an overlapping candidate with lower
/// confidence (or equal confidence and a shorter span) is dropped. Across
/// kinds, a candidate on exactly the same span as a more confident one is
/// dropped. Candidates are compared only with those they overlap (sorted by
/// start), so dense units stay linear in practice.
fn dedupe(c: &mut Vec<Candidate>) {
    let n = c.len();
    if n < 2 {
        return;
    }
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_unstable_by_key(|&i| (c[i].start, c[i].end));
    let mut keep = vec![true; n];
    let key = |x: &Candidate, i: usize| {
        (
            x.confidence,
            x.end - x.start,
            std::cmp::Reverse(x.detector),
            std::cmp::Reverse(i),
        )
    };
    for (oi, &i) in order.iter().enumerate() {
        for &j in &order[oi + 1..] {
            if c[j].start >= c[i].end {
                break;
            }
            if !keep[i] || !keep[j] {
                continue;
            }
            let (a, b) = (&c[i], &c[j]);
            if a.kind == b.kind {
                // Higher confidence, then the longer span, then the earlier
                // detector and candidate win.
                if key(b, j) > key(a, i) {
                    keep[i] = false;
                } else {
                    keep[j] = false;
                }
            } else if a.start == b.start && a.end == b.end {
                if b.confidence > a.confidence {
                    keep[i] = false;
                } else if a.confidence > b.confidence {
                    keep[j] = false;
                }
            }
        }
    }
    let mut idx = 0;
    c.retain(|_| {
        let k = keep[idx];
        idx += 1;
        k
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::Location;

    /// The multi-pattern pass only skips patterns that cannot match: every
    /// finding is the same with and without it.
    #[test]
    fn the_pattern_set_changes_no_finding() {
        let key = Fingerprinter::new([7; 32]);
        let with_set = Engine::load(None, key.clone()).unwrap();
        let mut without = Engine::load(None, key).unwrap();
        without.patterns = PatternSet::new(&[]);
        let mut texts = vec![
            crate::sample_text::dense_corpus(60_000),
            crate::sample_text::prose_corpus(60_000),
        ];
        for d in with_set.detectors() {
            texts.extend(d.examples.iter().map(|e| e.text.clone()));
        }
        texts.push(
            "山口 七夏と申します。佐藤様、田中さん、財政と申しますのは。\n山田 太郎（ヤマダ タロウ）\n"
                .to_string(),
        );
        let mut compared = 0;
        for text in &texts {
            for chunk in text.split_inclusive('\n').collect::<Vec<_>>().chunks(20) {
                let unit = TextUnit::fixed(chunk.concat(), Location::Named("t".into()));
                let (mut a, mut b) = (Vec::new(), Vec::new());
                with_set.scan_unit(&unit, &mut a);
                without.scan_unit(&unit, &mut b);
                assert_eq!(
                    a,
                    b,
                    "{:?}",
                    chunk.concat().chars().take(40).collect::<String>()
                );
                compared += a.len();
            }
        }
        assert!(compared > 1000, "{compared}");
    }
}
