//! The schema of `detectors/*.toml` files and its load-time checks.
//!
//! Unknown keys are rejected; kinds must be contract kinds; regexes must
//! compile; validator names must exist; every detector carries at least one
//! positive and one negative `[[example]]`. See `detectors/README.md`.

use serde::Deserialize;
use std::str::FromStr;

use crate::finding::{Confidence, Kind};

/// One detector definition file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DetectorSpec {
    /// Unique id; a user file with the same id replaces the bundled one.
    pub id: String,
    /// A findings-contract kind.
    pub kind: String,
    /// Bump when behaviour changes: stored files are rescanned.
    pub version: u32,
    pub description: String,
    #[serde(default)]
    pub trigger: TriggerSpec,
    #[serde(rename = "pattern")]
    pub patterns: Vec<PatternSpec>,
    pub validate: Option<ValidateSpec>,
    #[serde(default)]
    pub context: ContextSpec,
    pub confidence: LadderSpec,
    #[serde(default)]
    pub mask: MaskSpec,
    /// Values that are never reported (sample numbers printed on forms).
    #[serde(default)]
    pub allow: Vec<String>,
    #[serde(rename = "example", default)]
    pub examples: Vec<ExampleSpec>,
}

/// When to run the detector at all (the prefilter). Any one condition suffices.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TriggerSpec {
    /// Words whose presence in the unit or in its hints (column header, label) triggers the detector.
    #[serde(default)]
    pub keywords: Vec<String>,
    /// Trigger on a run of at least this many digits (single spaces or hyphens between digits allowed).
    pub digit_run: Option<usize>,
}

/// Which characters may not touch a match.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Adjacency {
    #[default]
    None,
    /// No digit (of any script) right before or after the value.
    Digit,
    /// No ASCII letter or digit right before or after the value.
    Alnum,
}

/// One regular expression of a detector.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PatternSpec {
    pub name: String,
    /// Rust `regex` syntax (no look-around), run on normalised text. A named
    /// group `value` marks the value inside a larger match (e.g. after a label).
    pub regex: String,
    #[serde(default)]
    pub not_adjacent_to: Adjacency,
    /// Run only on cells (or units) whose header/label holds a context word;
    /// the pattern then sees that cell's text alone (use `^…$` anchors).
    #[serde(default)]
    pub hint_only: bool,
    /// The match itself contains the label (`氏名：…`, `…様`), which counts as context.
    #[serde(default)]
    pub label_is_context: bool,
    /// Keep a match only when the validator says `valid` (a name without a
    /// label must start with a known surname; `not_applicable` drops it).
    #[serde(default)]
    pub require_valid: bool,
    /// Highest confidence this pattern may give.
    pub max: Option<Level>,
    /// Highest confidence without context (e.g. bare 12 digits: `low`).
    pub max_without_context: Option<Level>,
}

/// Validation of a candidate value.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ValidateSpec {
    /// Characters removed before validation and fingerprinting.
    #[serde(default)]
    pub strip: Vec<String>,
    /// Name of a function in `src/detect/validators.rs`.
    pub validator: String,
}

/// Context words looked for in a character window around each match.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContextSpec {
    #[serde(default)]
    pub words: Vec<String>,
    /// Characters before and after the match (same unit); hints always count.
    #[serde(default = "default_window")]
    pub window_chars: usize,
    #[serde(default)]
    pub negative_words: Vec<String>,
    /// Window for negative words; defaults to `window_chars`.
    pub negative_window_chars: Option<usize>,
    /// Drop matches that have no context word.
    #[serde(default)]
    pub require: bool,
    /// Words that, on the value's line (or in its table cell), mark it as
    /// an office's and outweigh context words found in the window (課,
    /// センター: 「子育て支援課（電話 0466-…）」), unless a `strong_words`
    /// word is in the window. A column header still decides.
    #[serde(default)]
    pub line_negative_words: Vec<String>,
    /// Context words a line-negative word cannot outweigh (自宅, 携帯).
    #[serde(default)]
    pub strong_words: Vec<String>,
}

impl Default for ContextSpec {
    fn default() -> Self {
        ContextSpec {
            words: Vec::new(),
            window_chars: default_window(),
            negative_words: Vec::new(),
            negative_window_chars: None,
            require: false,
            line_negative_words: Vec::new(),
            strong_words: Vec::new(),
        }
    }
}

fn default_window() -> usize {
    30
}

/// A confidence level, or `drop`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Drop,
    Is(Confidence),
}

impl<'de> Deserialize<'de> for Level {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        if s == "drop" {
            return Ok(Level::Drop);
        }
        Confidence::from_str(&s).map(Level::Is).map_err(|_| {
            serde::de::Error::custom(format!("unknown level {s:?} (high, medium, low or drop)"))
        })
    }
}

/// The confidence ladder, written out per detector so that it is auditable.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LadderSpec {
    pub valid_with_context: Option<Level>,
    pub valid_without_context: Option<Level>,
    pub not_applicable_with_context: Level,
    pub not_applicable_without_context: Level,
    /// A negative word is nearer than any positive one.
    pub negative_context: Level,
}

/// How the value is masked in output.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MaskSpec {
    #[serde(default)]
    pub keep_first: usize,
    #[serde(default = "default_keep_last")]
    pub keep_last: usize,
}

impl Default for MaskSpec {
    fn default() -> Self {
        MaskSpec {
            keep_first: 0,
            keep_last: default_keep_last(),
        }
    }
}

fn default_keep_last() -> usize {
    4
}

/// An example run by the test suite and by `mamori validate`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExampleSpec {
    pub text: String,
    /// A column header or label for the example text.
    pub hint: Option<String>,
    pub expect: Expect,
}

/// What an example must produce.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum Expect {
    /// `expect = "none"`: no finding of this detector's kind.
    Nothing(String),
    /// `expect = { kind = "…", confidence = "…" }`.
    Finding {
        kind: String,
        confidence: String,
        /// Optional exact masked output.
        masked: Option<String>,
    },
}

impl ExampleSpec {
    /// Whether the example expects a finding.
    pub fn is_positive(&self) -> bool {
        matches!(self.expect, Expect::Finding { .. })
    }
}

/// Checks that do not need compilation. Returns the parsed kind.
pub fn check(spec: &DetectorSpec) -> Result<Kind, String> {
    let kind = Kind::from_str(&spec.kind)?;
    if spec.id.is_empty()
        || !spec
            .id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        return Err(format!(
            "id {:?} must be ASCII letters, digits, _ or -",
            spec.id
        ));
    }
    if spec.patterns.is_empty() {
        return Err("needs at least one [[pattern]]".into());
    }
    if spec.trigger.keywords.is_empty() && spec.trigger.digit_run.is_none() {
        return Err("[trigger] needs keywords or digit_run".into());
    }
    if spec.validate.is_some()
        && (spec.confidence.valid_with_context.is_none()
            || spec.confidence.valid_without_context.is_none())
    {
        return Err(
            "a detector with a validator needs valid_with_context and valid_without_context".into(),
        );
    }
    if !spec.examples.iter().any(ExampleSpec::is_positive) {
        return Err("needs at least one positive [[example]]".into());
    }
    if !spec.examples.iter().any(|e| !e.is_positive()) {
        return Err("needs at least one negative [[example]] (expect = \"none\")".into());
    }
    for e in &spec.examples {
        match &e.expect {
            Expect::Nothing(s) if s != "none" => {
                return Err(format!(
                    "example expect must be \"none\" or a table, not {s:?}"
                ));
            }
            Expect::Finding {
                kind: k,
                confidence,
                ..
            } => {
                Kind::from_str(k)?;
                Confidence::from_str(confidence)?;
            }
            _ => {}
        }
    }
    Ok(kind)
}
