//! The detector registry: loading detector definitions (bundled TOML, then
//! a user directory), validating and compiling them. What a detector *is*
//! lives here; how units are scanned lives in `engine`, how context is
//! weighed in `context`.

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use regex::Regex;
use sha2::{Digest, Sha256};
use thiserror::Error;

use super::prefilter::Role;
use super::spec::{self, Adjacency, DetectorSpec, ExampleSpec, Level};
use super::validators::{self, Validator};
use crate::finding::Kind;

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

pub(super) struct CompiledPattern {
    pub(super) name: Arc<str>,
    pub(super) regex: Regex,
    pub(super) value_group: Option<usize>,
    pub(super) adjacency: Adjacency,
    pub(super) hint_only: bool,
    pub(super) label_is_context: bool,
    pub(super) require_valid: bool,
    pub(super) max: Option<Level>,
    pub(super) max_without_context: Option<Level>,
}

/// One compiled detector.
pub struct Detector {
    /// Its place in the registry (the prefilter's owner lists refer to it).
    pub(super) slot: usize,
    pub id: String,
    pub(super) shared_id: Arc<str>,
    pub kind: Kind,
    pub version: u32,
    pub description: String,
    /// Where the definition came from: `bundled:my_number.toml` or a path.
    pub source: String,
    pub examples: Vec<ExampleSpec>,
    pub(super) patterns: Vec<CompiledPattern>,
    pub(super) digit_run: Option<usize>,
    pub(super) validator: Option<(String, Validator)>,
    pub(super) strip: Vec<char>,
    pub(super) window: usize,
    pub(super) negative_window: usize,
    pub(super) require_context: bool,
    pub(super) ladder: spec::LadderSpec,
    pub(super) keep_first: usize,
    pub(super) keep_last: usize,
    pub(super) allow: HashSet<String>,
    /// Trigger, context and negative words, for the prefilter.
    pub(super) keywords: Vec<(Role, String)>,
    /// The detector has line-negative words (`line_negative_words`).
    pub(super) has_line_negative: bool,
    pub(super) spec_text: String,
}

impl std::fmt::Debug for Detector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Detector")
            .field("id", &self.id)
            .field("kind", &self.kind)
            .finish()
    }
}

/// Every detector, in id order, and the digest of their definitions.
pub struct Registry {
    pub(super) detectors: Vec<Detector>,
    pub(super) set_version: String,
}

impl Registry {
    /// Loads the bundled detectors, then every `*.toml` in `user_dir` (a user
    /// file with a bundled id replaces it; a new id is added).
    pub fn load(user_dir: Option<&Path>) -> Result<Registry, DetectorLoadError> {
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
        Registry::from_sources(sources)
    }

    /// Builds the registry from (source name, TOML text) pairs, later sources
    /// overriding earlier ones with the same id (within one group of sources
    /// an id may appear once).
    pub fn from_sources(sources: Vec<(String, String)>) -> Result<Registry, DetectorLoadError> {
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
        for (slot, (_, (name, spec, text))) in by_id.into_iter().enumerate() {
            detectors.push(compile(slot, &name, spec, text)?);
        }
        let mut hasher = Sha256::new();
        for d in &detectors {
            hasher.update(d.id.as_bytes());
            hasher.update(d.version.to_le_bytes());
            hasher.update(d.spec_text.as_bytes());
        }
        let set_version = hex::encode(&hasher.finalize()[..8]);
        Ok(Registry {
            detectors,
            set_version,
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

    /// The words that make a column header or form label: every detector's
    /// (positive and negative) context words of two characters or more,
    /// plus table furniture ([`GENERIC_LABELS`](crate::vocabulary::GENERIC_LABELS)).
    /// Trigger-only words are left out: 丁目, 様 or 号 start a search but
    /// label nothing.
    pub fn label_words(&self) -> Vec<String> {
        let mut words: Vec<String> = self
            .detectors
            .iter()
            .flat_map(|d| d.keywords.iter())
            .filter(|(role, _)| matches!(role, Role::Positive | Role::Negative))
            .map(|(_, w)| w.clone())
            .filter(|w| crate::vocabulary::fold(w).text.chars().count() >= 2)
            .chain(
                crate::vocabulary::GENERIC_LABELS
                    .iter()
                    .map(|w| w.to_string()),
            )
            .collect();
        words.sort();
        words.dedup();
        words
    }
}

fn compile(
    slot: usize,
    source: &str,
    spec: DetectorSpec,
    text: String,
) -> Result<Detector, DetectorLoadError> {
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
            require_valid: p.require_valid,
            max: p.max,
            max_without_context: p.max_without_context,
        });
    }
    if patterns.iter().any(|p| p.require_valid) && spec.validate.is_none() {
        return Err(invalid(
            "require_valid patterns need a [validate] validator".into(),
        ));
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
        slot,
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
            .chain(
                spec.context
                    .line_negative_words
                    .iter()
                    .map(|k| (Role::LineNegative, k.clone())),
            )
            .chain(
                spec.context
                    .strong_words
                    .iter()
                    .map(|k| (Role::Strong, k.clone())),
            )
            .collect(),
        has_line_negative: !spec.context.line_negative_words.is_empty(),
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
