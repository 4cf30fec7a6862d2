//! Detection: compiled detector definitions, the prefilter and the engine
//! that turns a [`TextUnit`] into [`Finding`]s.
//!
//! Per unit: normalise → one keyword pass + digit-run scan → for each
//! detector whose trigger fired: regex → boundary check → allow list →
//! validator (valid / invalid / not applicable) → context (character window
//! around the match, plus the cell's column header or label) → the
//! detector's confidence ladder → masking and keyed fingerprint → dedupe.

pub mod prefilter;
pub mod spec;
pub mod validators;

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use regex::Regex;
use sha2::{Digest, Sha256};
use thiserror::Error;

use crate::finding::{mask, Confidence, Explanation, Finding, Fingerprinter, Kind};
use crate::normalize::{is_numeric_char, normalize};
use crate::text::{Locator, TextUnit};
use prefilter::{longest_digit_run, Hit, Prefilter, Role};
use spec::{Adjacency, DetectorSpec, ExampleSpec, Level};
use validators::{Validation, Validator};

/// The detector files bundled into the binary. `tests` check that every
/// file in `detectors/` is listed here.
pub const BUNDLED: &[(&str, &str)] = &[
    (
        "bank_account.toml",
        include_str!("../../detectors/bank_account.toml"),
    ),
    (
        "basic_pension_number.toml",
        include_str!("../../detectors/basic_pension_number.toml"),
    ),
    (
        "birth_date.toml",
        include_str!("../../detectors/birth_date.toml"),
    ),
    (
        "corporate_number.toml",
        include_str!("../../detectors/corporate_number.toml"),
    ),
    (
        "credit_card.toml",
        include_str!("../../detectors/credit_card.toml"),
    ),
    (
        "drivers_license_number.toml",
        include_str!("../../detectors/drivers_license_number.toml"),
    ),
    (
        "email_address.toml",
        include_str!("../../detectors/email_address.toml"),
    ),
    (
        "health_insurance_number.toml",
        include_str!("../../detectors/health_insurance_number.toml"),
    ),
    (
        "my_number.toml",
        include_str!("../../detectors/my_number.toml"),
    ),
    (
        "passport_number.toml",
        include_str!("../../detectors/passport_number.toml"),
    ),
    (
        "person_name.toml",
        include_str!("../../detectors/person_name.toml"),
    ),
    (
        "phone_number.toml",
        include_str!("../../detectors/phone_number.toml"),
    ),
    (
        "postal_address.toml",
        include_str!("../../detectors/postal_address.toml"),
    ),
    (
        "resident_code.toml",
        include_str!("../../detectors/resident_code.toml"),
    ),
];

/// Why detector definitions could not be loaded.
#[derive(Debug, Error)]
pub enum DetectorLoadError {
    #[error("{source_name}: {message}")]
    Invalid {
        source_name: String,
        message: String,
    },
    #[error("{source_name}: {error}")]
    Parse {
        source_name: String,
        error: toml::de::Error,
    },
    #[error("reading {path}: {error}")]
    Io {
        path: PathBuf,
        error: std::io::Error,
    },
    #[error("detector id {id:?} is defined twice ({first} and {second})")]
    DuplicateId {
        id: String,
        first: String,
        second: String,
    },
}

struct CompiledPattern {
    name: Arc<str>,
    regex: Regex,
    value_group: Option<usize>,
    adjacency: Adjacency,
    hint_only: bool,
    label_is_context: bool,
    max: Option<Level>,
    max_without_context: Option<Level>,
}

/// One compiled detector.
pub struct Detector {
    pub id: String,
    shared_id: Arc<str>,
    pub kind: Kind,
    pub version: u32,
    pub description: String,
    /// Where the definition came from: `bundled:my_number.toml` or a path.
    pub source: String,
    pub examples: Vec<ExampleSpec>,
    patterns: Vec<CompiledPattern>,
    digit_run: Option<usize>,
    validator: Option<(String, Validator)>,
    strip: Vec<char>,
    window: usize,
    negative_window: usize,
    require_context: bool,
    ladder: spec::LadderSpec,
    keep_first: usize,
    keep_last: usize,
    allow: HashSet<String>,
    /// Trigger, context and negative words, for the prefilter.
    keywords: Vec<(Role, String)>,
    spec_text: String,
}

impl std::fmt::Debug for Detector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Detector")
            .field("id", &self.id)
            .field("kind", &self.kind)
            .finish()
    }
}

/// All detectors plus the shared prefilter.
pub struct Engine {
    detectors: Vec<Detector>,
    prefilter: Prefilter,
    set_version: String,
    fingerprinter: Fingerprinter,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("detectors", &self.detectors)
            .finish()
    }
}

/// A candidate before deduplication.
struct Candidate {
    detector: usize,
    start: usize,
    end: usize,
    confidence: Confidence,
    /// The value as fingerprinted; the fingerprint is computed only for
    /// candidates that survive dedupe.
    stripped: String,
    finding: Finding,
}

/// Per-unit state shared by the detectors.
struct UnitScan<'u> {
    text: &'u str,
    hits: Vec<Hit>,
    /// Keyword ids in each cell's hint (parallel to the cells), and in the unit hint.
    cell_hint_keywords: Vec<Vec<usize>>,
    unit_hint_keywords: Vec<usize>,
    /// Line starts of a `Lines` unit, computed on the first finding.
    lines: crate::text::LineIndex,
}

impl Engine {
    /// Loads the bundled detectors, then every `*.toml` in `user_dir` (a user
    /// file with a bundled id replaces it; a new id is added).
    pub fn load(
        user_dir: Option<&Path>,
        fingerprinter: Fingerprinter,
    ) -> Result<Engine, DetectorLoadError> {
        let mut sources: Vec<(String, String)> = BUNDLED
            .iter()
            .map(|(name, text)| (format!("bundled:{name}"), text.to_string()))
            .collect();
        if let Some(dir) = user_dir {
            let entries = std::fs::read_dir(dir).map_err(|error| DetectorLoadError::Io {
                path: dir.to_path_buf(),
                error,
            })?;
            let mut paths: Vec<PathBuf> = entries
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "toml"))
                .collect();
            paths.sort();
            for p in paths {
                let text = std::fs::read_to_string(&p).map_err(|error| DetectorLoadError::Io {
                    path: p.clone(),
                    error,
                })?;
                sources.push((p.display().to_string(), text));
            }
        }
        Engine::from_sources(sources, fingerprinter)
    }

    /// Builds an engine from (source name, TOML text) pairs, later sources
    /// overriding earlier ones with the same id (within one group of sources
    /// an id may appear once).
    pub fn from_sources(
        sources: Vec<(String, String)>,
        fingerprinter: Fingerprinter,
    ) -> Result<Engine, DetectorLoadError> {
        let mut by_id: BTreeMap<String, (String, DetectorSpec, String)> = BTreeMap::new();
        for (name, text) in sources {
            let spec: DetectorSpec =
                toml::from_str(&text).map_err(|error| DetectorLoadError::Parse {
                    source_name: name.clone(),
                    error,
                })?;
            if let Some((prev, _, _)) = by_id.get(&spec.id) {
                let both_bundled = prev.starts_with("bundled:") == name.starts_with("bundled:");
                if both_bundled {
                    return Err(DetectorLoadError::DuplicateId {
                        id: spec.id.clone(),
                        first: prev.clone(),
                        second: name,
                    });
                }
            }
            by_id.insert(spec.id.clone(), (name, spec, text));
        }
        let mut detectors = Vec::new();
        for (_, (name, spec, text)) in by_id {
            detectors.push(compile(&name, spec, text)?);
        }
        let mut entries = Vec::new();
        let mut hasher = Sha256::new();
        for (i, d) in detectors.iter().enumerate() {
            hasher.update(d.id.as_bytes());
            hasher.update(d.version.to_le_bytes());
            hasher.update(d.spec_text.as_bytes());
            for (role, kw) in &d.keywords {
                entries.push((i, *role, normalize(kw).text.into_owned()));
            }
        }
        let set_version = hex::encode(&hasher.finalize()[..8]);
        Ok(Engine {
            prefilter: Prefilter::new(entries),
            detectors,
            set_version,
            fingerprinter,
        })
    }

    /// The compiled detectors, in id order.
    pub fn detectors(&self) -> &[Detector] {
        &self.detectors
    }

    /// A digest of every detector definition: changes when any detector changes.
    pub fn set_version(&self) -> &str {
        &self.set_version
    }

    /// Ids of the detectors whose trigger fires on `unit` (the prefilter alone).
    pub fn triggered(&self, unit: &TextUnit<'_>) -> Vec<&str> {
        let norm = normalize(&unit.text);
        let scan = self.prepare(unit, &norm.text);
        let run = longest_digit_run(&norm.text);
        (0..self.detectors.len())
            .filter(|&i| self.is_triggered(i, &scan, run))
            .map(|i| self.detectors[i].id.as_str())
            .collect()
    }

    fn prepare<'u>(&self, unit: &TextUnit<'_>, text: &'u str) -> UnitScan<'u> {
        let mut hits = Vec::new();
        self.prefilter.hits(text, &mut hits);
        hits.sort_unstable_by_key(|h| (h.start, h.end));
        let cell_hint_keywords = match &unit.locator {
            Locator::Cells(cells) => cells
                .iter()
                .map(|c| {
                    c.hint
                        .as_deref()
                        .map(|h| self.prefilter.keywords_in(&normalize(h).text))
                        .unwrap_or_default()
                })
                .collect(),
            _ => Vec::new(),
        };
        let unit_hint_keywords = unit
            .context_hint
            .as_deref()
            .map(|h| self.prefilter.keywords_in(&normalize(h).text))
            .unwrap_or_default();
        UnitScan {
            text,
            lines: crate::text::LineIndex::default(),
            hits,
            cell_hint_keywords,
            unit_hint_keywords,
        }
    }

    fn has_role(&self, kw: usize, det: usize, role: Role) -> bool {
        self.prefilter.owners[kw].contains(&(det, role))
    }

    fn is_triggered(&self, det: usize, scan: &UnitScan<'_>, digit_run: usize) -> bool {
        let d = &self.detectors[det];
        if d.digit_run.is_some_and(|n| digit_run >= n) {
            return true;
        }
        let fires = |kw: &usize| {
            self.has_role(*kw, det, Role::Trigger) || self.has_role(*kw, det, Role::Positive)
        };
        scan.hits
            .iter()
            .any(|h| self.has_role(h.keyword, det, Role::Trigger))
            || scan.unit_hint_keywords.iter().any(fires)
            || scan.cell_hint_keywords.iter().flatten().any(fires)
    }

    /// Scans one unit and appends its findings to `out`.
    pub fn scan_unit(&self, unit: &TextUnit<'_>, out: &mut Vec<Finding>) {
        let norm = normalize(&unit.text);
        let text: &str = &norm.text;
        let scan = self.prepare(unit, text);
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
        for det in 0..self.detectors.len() {
            if !self.is_triggered(det, &scan, digit_run) {
                continue;
            }
            let d = &self.detectors[det];
            for p in &d.patterns {
                if p.hint_only {
                    // Each cell (or the unit) whose hint has a positive word, alone.
                    let pos_hint = |kws: &Vec<usize>| {
                        kws.iter().any(|&k| self.has_role(k, det, Role::Positive))
                    };
                    if cells_norm.is_empty() {
                        if pos_hint(&scan.unit_hint_keywords) {
                            self.run_pattern(
                                det,
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
                                    det,
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
                } else {
                    self.run_pattern(
                        det,
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
        dedupe(&mut candidates);
        out.extend(candidates.into_iter().map(|mut c| {
            c.finding.fingerprint = self.fingerprinter.fingerprint(c.finding.kind, &c.stripped);
            c.finding
        }));
    }

    #[allow(clippy::too_many_arguments)]
    fn run_pattern(
        &self,
        det: usize,
        p: &CompiledPattern,
        scan: &UnitScan<'_>,
        (from, to): (usize, usize),
        hint_context: bool,
        unit: &TextUnit<'_>,
        norm: &crate::normalize::Normalized<'_>,
        out: &mut Vec<Candidate>,
    ) {
        let d = &self.detectors[det];
        let text = scan.text;
        let hay = &text[from..to];
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
            let stripped: String = value.chars().filter(|c| !d.strip.contains(c)).collect();
            if d.allow.contains(&stripped) {
                continue;
            }
            let validation = match &d.validator {
                Some((_, f)) => f(&stripped),
                None => Validation::NotApplicable,
            };
            if validation == Validation::Invalid {
                continue;
            }
            let (ms, me) = (m.start() + from, m.end() + from);
            let ctx = self.context(
                det,
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
            let location = scan.lines.location(unit, norm.to_original(vs));
            let finding = Finding {
                kind: d.kind,
                confidence,
                detector_id: d.shared_id.clone(),
                detector_version: d.version,
                location,
                masked: mask(value, d.keep_first, d.keep_last),
                fingerprint: [0; 32],
                span: norm.to_original(vs)..norm.to_original(ve),
                explanation: Explanation {
                    pattern: p.name.clone(),
                    validation: validation.as_str(),
                    context_word: match ctx {
                        Context::Positive(w) => Some(w),
                        _ => None,
                    },
                },
            };
            out.push(Candidate {
                detector: det,
                start: vs,
                end: ve,
                confidence,
                stripped,
                finding,
            });
        }
    }

    /// Decides the context of a value at `vs..ve` (the whole match at `ms..me`).
    /// The nearest word wins; words after the value count double distance,
    /// because Japanese labels precede their values. Hints are distance 0.
    #[allow(clippy::too_many_arguments)]
    fn context(
        &self,
        det: usize,
        scan: &UnitScan<'_>,
        vs: usize,
        ve: usize,
        (ms, me): (usize, usize),
        unit: &TextUnit<'_>,
        norm: &crate::normalize::Normalized<'_>,
        (structural, hint_only_label): (bool, bool),
    ) -> Context {
        let d = &self.detectors[det];
        let text = scan.text;
        // Never echo hint or label text: a mis-detected header row is data.
        if structural {
            return Context::Positive(Arc::from(if hint_only_label {
                "(column header)"
            } else {
                "(label)"
            }));
        }
        let mut best_pos: Option<(usize, usize)> = None; // (distance, keyword)
        let mut best_neg: Option<usize> = None;
        // Hints: the cell's column header, then the unit's label.
        let cell_hint = unit
            .cell_at(norm.to_original(vs))
            .and_then(|c| match &unit.locator {
                Locator::Cells(cells) => cells.iter().position(|x| std::ptr::eq(x, c)),
                _ => None,
            })
            .map(|i| &scan.cell_hint_keywords[i]);
        // In a hint, the longest context word decides (代表電話 over 電話).
        for kws in cell_hint
            .into_iter()
            .chain(std::iter::once(&scan.unit_hint_keywords))
        {
            if best_pos.is_some() || best_neg.is_some() {
                break;
            }
            let longest = |role| {
                kws.iter()
                    .filter(|&&k| self.has_role(k, det, role))
                    .map(|&k| self.prefilter.keywords[k].chars().count())
                    .max()
            };
            match (longest(Role::Positive), longest(Role::Negative)) {
                (Some(p), Some(n)) if n > p => best_neg = Some(0),
                (Some(_), _) => best_pos = Some((0, usize::MAX)),
                (None, Some(_)) => best_neg = Some(0),
                (None, None) => {}
            }
        }
        let lo_pos = back_chars(text, ms, d.window);
        let hi_pos = fwd_chars(text, me, d.window);
        let lo_neg = back_chars(text, ms, d.negative_window);
        let hi_neg = fwd_chars(text, me, d.negative_window);
        let role_of = |h: &Hit| {
            let pos = self.has_role(h.keyword, det, Role::Positive);
            let neg = self.has_role(h.keyword, det, Role::Negative);
            (pos, neg)
        };
        // Hits are sorted by start: look only at those that can be in a window.
        let lo = lo_pos.min(lo_neg);
        let hi = hi_pos.max(hi_neg);
        let first = scan.hits.partition_point(|h| h.start < lo);
        let last = scan.hits.partition_point(|h| h.start < hi);
        let near = &scan.hits[first..last];
        for h in near {
            // Words overlapping the value itself are part of it, not context.
            if h.end > vs && h.start < ve {
                continue;
            }
            let (is_pos, is_neg) = role_of(h);
            if !is_pos && !is_neg {
                continue;
            }
            // A word inside a longer word of the other role yields to it
            // (電話 in 代表電話, 保険者番号 in 被保険者番号).
            let shadowed = near.iter().any(|o| {
                o.start <= h.start && o.end >= h.end && (o.end - o.start) > (h.end - h.start) && {
                    let (op, on) = role_of(o);
                    (is_pos && on && !op) || (is_neg && op && !on)
                }
            });
            if shadowed {
                continue;
            }
            let before = h.end <= vs;
            let dist = if before {
                text[h.end..vs].chars().count()
            } else {
                2 * text[ve..h.start.max(ve)].chars().count() + 1
            };
            if is_pos
                && (if before {
                    h.start >= lo_pos
                } else {
                    h.end <= hi_pos
                })
                && best_pos.is_none_or(|(bd, _)| dist < bd)
            {
                best_pos = Some((dist, h.keyword));
            }
            if is_neg
                && (if before {
                    h.start >= lo_neg
                } else {
                    h.end <= hi_neg
                })
                && best_neg.is_none_or(|bd| dist < bd)
            {
                best_neg = Some(dist);
            }
        }
        match (best_pos, best_neg) {
            (Some((p, _)), Some(n)) if n < p => Context::Negative,
            (Some((_, usize::MAX)), _) => Context::Positive(Arc::from("(column header)")),
            (Some((_, k)), _) => Context::Positive(self.prefilter.keywords[k].clone()),
            (None, Some(_)) => Context::Negative,
            (None, None) => Context::None,
        }
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

enum Context {
    None,
    Positive(Arc<str>),
    Negative,
}

fn next_char(s: &str, i: usize) -> usize {
    s[i..]
        .chars()
        .next()
        .map(|c| i + c.len_utf8())
        .unwrap_or(s.len() + 1)
}

fn back_chars(text: &str, pos: usize, n: usize) -> usize {
    text[..pos]
        .char_indices()
        .rev()
        .nth(n.saturating_sub(1))
        .map(|(i, _)| i)
        .unwrap_or(0)
}

fn fwd_chars(text: &str, pos: usize, n: usize) -> usize {
    text[pos..]
        .char_indices()
        .nth(n)
        .map(|(i, _)| pos + i)
        .unwrap_or(text.len())
}

/// Checks the characters next to the value in the normalised text and in
/// the original (where `①` is a digit that NFKC turned into `1`).
fn boundary_ok(
    adj: Adjacency,
    norm_text: &str,
    vs: usize,
    ve: usize,
    orig: &str,
    norm: &crate::normalize::Normalized<'_>,
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
            if a.finding.kind == b.finding.kind {
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

fn compile(source: &str, spec: DetectorSpec, text: String) -> Result<Detector, DetectorLoadError> {
    let invalid = |message: String| DetectorLoadError::Invalid {
        source_name: source.to_string(),
        message,
    };
    let kind = spec::check(&spec).map_err(invalid)?;
    let mut patterns = Vec::new();
    for p in &spec.patterns {
        let regex =
            Regex::new(&p.regex).map_err(|e| invalid(format!("pattern {:?}: {e}", p.name)))?;
        let value_group = regex.capture_names().position(|n| n == Some("value"));
        patterns.push(CompiledPattern {
            name: Arc::from(p.name.as_str()),
            regex,
            value_group,
            adjacency: p.not_adjacent_to,
            hint_only: p.hint_only,
            label_is_context: p.label_is_context,
            max: p.max,
            max_without_context: p.max_without_context,
        });
    }
    if patterns.iter().any(|p| p.hint_only) && spec.context.words.is_empty() {
        return Err(invalid("hint_only patterns need [context] words".into()));
    }
    let validator = match &spec.validate {
        Some(v) => Some((
            v.validator.clone(),
            validators::by_name(&v.validator).ok_or_else(|| {
                let known: Vec<&str> = validators::VALIDATORS.iter().map(|(n, _)| *n).collect();
                invalid(format!(
                    "unknown validator {:?} (known: {})",
                    v.validator,
                    known.join(", ")
                ))
            })?,
        )),
        None => None,
    };
    let strip = spec
        .validate
        .as_ref()
        .map(|v| v.strip.iter().flat_map(|s| s.chars()).collect())
        .unwrap_or_default();
    Ok(Detector {
        id: spec.id.clone(),
        shared_id: Arc::from(spec.id.as_str()),
        kind,
        version: spec.version,
        description: spec.description.clone(),
        source: source.to_string(),
        examples: spec.examples.clone(),
        patterns,
        digit_run: spec.trigger.digit_run,
        validator,
        strip,
        window: spec.context.window_chars,
        negative_window: spec
            .context
            .negative_window_chars
            .unwrap_or(spec.context.window_chars),
        require_context: spec.context.require,
        ladder: spec.confidence.clone(),
        keep_first: spec.mask.keep_first,
        keep_last: spec.mask.keep_last,
        allow: spec.allow.iter().cloned().collect(),
        keywords: spec
            .trigger
            .keywords
            .iter()
            .map(|k| (Role::Trigger, k.clone()))
            .chain(
                spec.context
                    .words
                    .iter()
                    .map(|k| (Role::Positive, k.clone())),
            )
            .chain(
                spec.context
                    .negative_words
                    .iter()
                    .map(|k| (Role::Negative, k.clone())),
            )
            .collect(),
        spec_text: text,
    })
}

impl Detector {
    /// The validator's name, if any.
    pub fn validator_name(&self) -> Option<&str> {
        self.validator.as_ref().map(|(n, _)| n.as_str())
    }
    /// Each pattern's name and compiled regex (for `mamori bench --patterns`).
    pub fn pattern_regexes(&self) -> Vec<(&str, &Regex)> {
        self.patterns.iter().map(|p| (&*p.name, &p.regex)).collect()
    }
    /// Pattern names.
    pub fn pattern_names(&self) -> Vec<&str> {
        self.patterns.iter().map(|p| &*p.name).collect()
    }
}
