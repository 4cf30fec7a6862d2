//! The records rules of `mamori.toml` (`[records]`, `[[retention]]`,
//! `[[my_number_area]]`, `[[legal_hold]]`), as records officers write them
//! from their 文書分類表, 特定個人情報保護評価書 and disclosure decisions,
//! and their compiled form with lookups by path.
//!
//! Paths are globs relative to a root with `/` separators (`\` is taken as
//! `/` for those who copy paths from Windows Explorer): `*` stays within
//! one folder or file name, `**` spans folders, and a leading `**/` also
//! matches at the root itself (`**/職員課/給与/**` matches
//! `職員課/給与/a.xlsx`). The first matching `[[retention]]` wins, in the
//! file's order, so specific rules go before general ones. Names are
//! compared in Unicode NFC: a folder name written in decomposed form (a
//! Mac's ガ as カ + ゛) still matches.
//!
//! Compiling checks everything a records officer can get wrong and names
//! the table and its number (from 1, in the file's order) in the error.

use std::fmt;

use globset::{GlobBuilder, GlobSet, GlobSetBuilder};
use jiff::civil::Date;
use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::Deserialize;
use thiserror::Error;
use unicode_normalization::{is_nfc, UnicodeNormalization};

use super::keywords::SensitiveKeywords;
use super::retention::{hold_end, FiscalYearStart, PeriodError, RetentionPeriod};

/// The records sections of `mamori.toml`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecordsConfig {
    #[serde(default)]
    pub records: RecordsSettings,
    #[serde(default)]
    pub retention: Vec<RetentionRule>,
    #[serde(default)]
    pub my_number_area: Vec<MyNumberArea>,
    #[serde(default)]
    pub legal_hold: Vec<LegalHold>,
}

impl RecordsConfig {
    /// The records sections of a whole `mamori.toml`, other sections
    /// ignored (they belong to the service's own configuration).
    pub fn from_config_text(text: &str) -> Result<RecordsConfig, toml::de::Error> {
        let mut table: toml::Table = toml::from_str(text)?;
        table.retain(|k, _| matches!(k, "records" | "retention" | "my_number_area" | "legal_hold"));
        toml::Value::Table(table).try_into()
    }
}

/// `[records]`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RecordsSettings {
    /// The first day of the fiscal year, `MM-DD`: the 起算日 is this day
    /// of the fiscal year after the document's.
    pub fiscal_year_start: String,
    /// 要配慮個人情報 keywords: personal data next to one of them makes a
    /// `breach_report_hint`.
    pub sensitive_keywords: Vec<String>,
    /// More distinct persons than this in one file makes a
    /// `breach_report_hint` (施行規則第43条: 本人の数が百人を超える; the
    /// threshold is configurable because its current wording is
    /// UNVERIFIED in shared/docs/records-rules.md).
    pub breach_person_threshold: u32,
}

/// Default 要配慮個人情報 keywords: the categories of 個人情報保護法第2条
/// 第3項 and 施行令第2条 (人種, 信条, 社会的身分, 病歴, 犯罪の経歴, 犯罪
/// により害を被った事実, 心身の障害, 健康診断・診療・調剤, 刑事事件・少年
/// 保護事件の手続) in the words a city's papers use, plus 生活保護, which
/// many cities treat as sensitive (条例要配慮個人情報 varies by city:
/// add the city's own words in `sensitive_keywords`).
pub const DEFAULT_SENSITIVE_KEYWORDS: &[&str] = &[
    "人種",
    "信条",
    "社会的身分",
    "病名",
    "病歴",
    "既往歴",
    "障害",
    "障がい",
    "療育手帳",
    "精神保健福祉手帳",
    "犯罪歴",
    "犯罪の経歴",
    "前科",
    "前歴",
    "犯罪被害",
    "被害届",
    "診断",
    "診療",
    "服薬",
    "処方",
    "調剤",
    "逮捕",
    "少年審判",
    "保護処分",
    "生活保護",
];

impl Default for RecordsSettings {
    fn default() -> Self {
        RecordsSettings {
            fiscal_year_start: "04-01".into(),
            sensitive_keywords: DEFAULT_SENSITIVE_KEYWORDS
                .iter()
                .map(|s| s.to_string())
                .collect(),
            breach_person_threshold: 100,
        }
    }
}

/// `[[retention]]`: one line of the 文書分類表.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RetentionRule {
    /// Glob relative to the root.
    pub path: String,
    /// 文書分類 (`給与・源泉徴収`).
    pub class: String,
    /// 保存期間: a number of years or `1年未満`, `常用`, `永年`.
    pub years: YearsSpec,
    /// 満了時の措置. Required for a number of years; 1年未満 is always
    /// disposed of (never 歴史公文書), 常用 and 永年 never expire.
    #[serde(default)]
    pub action: Option<Action>,
}

/// `years` as written: a number or a word, checked by [`Rules::compile`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum YearsSpec {
    Number(i64),
    Word(String),
}

impl<'de> Deserialize<'de> for YearsSpec {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = YearsSpec;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(
                    "a number of years (1, 3, 5, 10, 30 …) or \"1年未満\", \"常用\", \"永年\"",
                )
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<YearsSpec, E> {
                Ok(YearsSpec::Number(v))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<YearsSpec, E> {
                Ok(YearsSpec::Number(i64::try_from(v).unwrap_or(i64::MAX)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<YearsSpec, E> {
                Ok(YearsSpec::Word(v.to_string()))
            }
        }
        d.deserialize_any(V)
    }
}

impl YearsSpec {
    /// The period this spells, or why not.
    fn period(&self) -> Result<RetentionPeriod, PeriodError> {
        match self {
            YearsSpec::Number(n) => RetentionPeriod::from_years(*n),
            YearsSpec::Word(w) => RetentionPeriod::from_word(w),
        }
    }
}

/// 満了時の措置.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
pub enum Action {
    /// 廃棄: destroy at expiry (the officer decides; mamori never deletes).
    #[serde(rename = "廃棄", alias = "dispose")]
    Dispose,
    /// 移管: transfer to the archives (歴史公文書等).
    #[serde(rename = "移管", alias = "transfer")]
    Transfer,
}

impl Action {
    /// Stable machine name (`dispose`, `transfer`).
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Dispose => "dispose",
            Action::Transfer => "transfer",
        }
    }

    pub fn label_ja(self) -> &'static str {
        match self {
            Action::Dispose => "廃棄",
            Action::Transfer => "移管",
        }
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `[[my_number_area]]`: where 特定個人情報 may be kept.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MyNumberArea {
    pub path: String,
    /// The 個人番号利用事務 or 関係事務 (as in the 特定個人情報保護評価書).
    pub purpose: String,
}

/// `[[legal_hold]]`: files kept past their retention (施行令第9条).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LegalHold {
    pub path: String,
    /// 開示請求 第22-114号, 審査請求, 訴訟 …
    pub reason: String,
    /// The date of the decision: held through one year from the next day.
    #[serde(default, deserialize_with = "toml_date")]
    pub decided: Option<Date>,
    /// An explicit last day of the hold.
    #[serde(default, deserialize_with = "toml_date")]
    pub until: Option<Date>,
}

/// A TOML local date (`2026-03-15`) or the same as a string.
fn toml_date<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Date>, D::Error> {
    struct V;
    fn parse<E: de::Error>(s: &str) -> Result<Date, E> {
        let s = s.trim();
        // A date alone: a time of day or an offset would be silently dropped.
        if s.len() != 10 {
            return Err(E::custom(format!(
                "{s:?}: write a date without a time, YYYY-MM-DD"
            )));
        }
        s.parse::<Date>()
            .map_err(|e| E::custom(format!("{s:?} is not a date: {e}")))
    }
    impl<'de> Visitor<'de> for V {
        type Value = Option<Date>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a date, YYYY-MM-DD")
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
            parse(v).map(Some)
        }
        // The toml crate hands a datetime over as a one-entry map.
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let Some((_, value)) = map.next_entry::<String, String>()? else {
                return Err(de::Error::custom("empty date"));
            };
            parse(&value).map(Some)
        }
    }
    d.deserialize_any(V)
}

/// What is wrong in the records rules. `number` counts the tables of one
/// kind from 1, in the file's order.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum RulesError {
    #[error("[records] fiscal_year_start: {0}")]
    FiscalYearStart(String),
    #[error("[records] sensitive_keywords: {0}")]
    Keywords(String),
    #[error("[[{table}]] #{number}: path {path:?} is not a valid glob: {detail}")]
    Glob {
        table: &'static str,
        number: usize,
        path: String,
        detail: String,
    },
    #[error("[[{table}]] #{number}: {field} is empty")]
    Empty {
        table: &'static str,
        number: usize,
        field: &'static str,
    },
    #[error("[[retention]] #{number} ({path:?}): years must be 1 or more (write \"1年未満\" for less than a year)")]
    ZeroYears { number: usize, path: String },
    #[error("[[retention]] #{number} ({path:?}): {years} years is more than {max}; write \"永年\" for permanent")]
    TooManyYears {
        number: usize,
        path: String,
        years: i64,
        max: u16,
    },
    #[error("[[retention]] #{number} ({path:?}): unknown retention {word:?}: write a number of years, \"1年未満\", \"常用\" or \"永年\"")]
    UnknownClassWord {
        number: usize,
        path: String,
        word: String,
    },
    #[error("[[retention]] #{number} ({path:?}): action (\"廃棄\" or \"移管\") is required for a retention of {period}")]
    MissingAction {
        number: usize,
        path: String,
        period: String,
    },
    #[error("[[legal_hold]] #{number} ({path:?}): give decided or until, not both")]
    HoldBothDates { number: usize, path: String },
    #[error("[[legal_hold]] #{number} ({path:?}): give decided (the decision date) or until (the last day held)")]
    HoldNoDate { number: usize, path: String },
    #[error("[[legal_hold]] #{number} ({path:?}): decided {decided} is out of range")]
    HoldOutOfRange {
        number: usize,
        path: String,
        decided: Date,
    },
}

/// A compiled `[[retention]]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Retention {
    /// Its number among the `[[retention]]` tables, from 1.
    pub number: usize,
    /// The glob as written.
    pub glob: String,
    pub class: String,
    pub period: RetentionPeriod,
    /// `None` only for 常用 and 永年, which never expire.
    pub action: Option<Action>,
}

/// A compiled `[[my_number_area]]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Area {
    pub number: usize,
    pub glob: String,
    pub purpose: String,
}

/// How a hold's end was given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HoldBasis {
    /// `decided`: the end is one year from the day after (施行令第9条).
    Decided(Date),
    /// `until`: the end was written down.
    Until,
}

/// A compiled `[[legal_hold]]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hold {
    pub number: usize,
    pub glob: String,
    pub reason: String,
    pub basis: HoldBasis,
    /// The last day of the hold (inclusive).
    pub until: Date,
}

impl Hold {
    /// Whether the hold is in force on `as_of`.
    pub fn active(&self, as_of: Date) -> bool {
        as_of <= self.until
    }
}

/// The rules, compiled: globs built, periods and dates checked.
#[derive(Debug, Clone)]
pub struct Rules {
    fiscal_year_start: FiscalYearStart,
    keywords: SensitiveKeywords,
    breach_person_threshold: u32,
    retention: Vec<Retention>,
    retention_globs: GlobSet,
    areas: Vec<Area>,
    area_globs: GlobSet,
    holds: Vec<Hold>,
    hold_globs: GlobSet,
}

impl Default for Rules {
    /// No rules: every file with personal data is `retention_unknown`.
    fn default() -> Self {
        Rules {
            fiscal_year_start: FiscalYearStart::APRIL_1,
            keywords: SensitiveKeywords::new(DEFAULT_SENSITIVE_KEYWORDS).unwrap_or_default(),
            breach_person_threshold: 100,
            retention: Vec::new(),
            retention_globs: GlobSet::empty(),
            areas: Vec::new(),
            area_globs: GlobSet::empty(),
            holds: Vec::new(),
            hold_globs: GlobSet::empty(),
        }
    }
}

/// A path or glob in the form rules compare: `/` separators, NFC, no
/// leading `/` or `./` (every path is relative to its root).
fn normalize_path(p: &str) -> String {
    let p = p.trim();
    let p = if p.contains('\\') {
        p.replace('\\', "/")
    } else {
        p.to_string()
    };
    let p = if is_nfc(&p) { p } else { p.nfc().collect() };
    let mut s = p.as_str();
    loop {
        if let Some(rest) = s.strip_prefix("./") {
            s = rest;
        } else if let Some(rest) = s.strip_prefix('/') {
            s = rest;
        } else {
            break;
        }
    }
    s.to_string()
}

/// Builds one glob set from the `path` of each table.
fn glob_set<'a>(
    table: &'static str,
    paths: impl Iterator<Item = &'a str>,
) -> Result<GlobSet, RulesError> {
    let mut b = GlobSetBuilder::new();
    for (i, path) in paths.enumerate() {
        let glob_error = |detail: String| RulesError::Glob {
            table,
            number: i + 1,
            path: path.to_string(),
            detail,
        };
        let normalized = normalize_path(path);
        if normalized.is_empty() {
            return Err(RulesError::Empty {
                table,
                number: i + 1,
                field: "path",
            });
        }
        let glob = GlobBuilder::new(&normalized)
            .literal_separator(true)
            .backslash_escape(false)
            .build()
            .map_err(|e| glob_error(e.kind().to_string()))?;
        b.add(glob);
    }
    b.build()
        .map_err(|e| glob_error_of_set(table, e.to_string()))
}

fn glob_error_of_set(table: &'static str, detail: String) -> RulesError {
    RulesError::Glob {
        table,
        number: 0,
        path: String::new(),
        detail,
    }
}

impl Rules {
    /// Checks and compiles the rules.
    pub fn compile(config: &RecordsConfig) -> Result<Rules, RulesError> {
        let fiscal_year_start: FiscalYearStart = config
            .records
            .fiscal_year_start
            .parse()
            .map_err(RulesError::FiscalYearStart)?;
        let keywords = SensitiveKeywords::new(&config.records.sensitive_keywords)
            .map_err(RulesError::Keywords)?;

        let mut retention = Vec::with_capacity(config.retention.len());
        for (i, r) in config.retention.iter().enumerate() {
            let number = i + 1;
            let path = r.path.clone();
            if r.class.trim().is_empty() {
                return Err(RulesError::Empty {
                    table: "retention",
                    number,
                    field: "class",
                });
            }
            let period = r.years.period().map_err(|p| match p {
                PeriodError::Zero => RulesError::ZeroYears {
                    number,
                    path: path.clone(),
                },
                PeriodError::TooMany(years) => RulesError::TooManyYears {
                    number,
                    path: path.clone(),
                    years,
                    max: RetentionPeriod::MAX_YEARS,
                },
                PeriodError::Unknown(word) => RulesError::UnknownClassWord {
                    number,
                    path: path.clone(),
                    word,
                },
            })?;
            let action = match (period, r.action) {
                (_, Some(a)) => Some(a),
                (RetentionPeriod::LessThanOneYear, None) => Some(Action::Dispose),
                (RetentionPeriod::Years(_), None) => {
                    return Err(RulesError::MissingAction {
                        number,
                        path,
                        period: period.label_ja(),
                    })
                }
                (RetentionPeriod::InUse | RetentionPeriod::Permanent, None) => None,
            };
            retention.push(Retention {
                number,
                glob: r.path.clone(),
                class: r.class.trim().to_string(),
                period,
                action,
            });
        }
        let retention_globs = glob_set(
            "retention",
            config.retention.iter().map(|r| r.path.as_str()),
        )?;

        let mut areas = Vec::with_capacity(config.my_number_area.len());
        for (i, a) in config.my_number_area.iter().enumerate() {
            if a.purpose.trim().is_empty() {
                return Err(RulesError::Empty {
                    table: "my_number_area",
                    number: i + 1,
                    field: "purpose",
                });
            }
            areas.push(Area {
                number: i + 1,
                glob: a.path.clone(),
                purpose: a.purpose.trim().to_string(),
            });
        }
        let area_globs = glob_set(
            "my_number_area",
            config.my_number_area.iter().map(|a| a.path.as_str()),
        )?;

        let mut holds = Vec::with_capacity(config.legal_hold.len());
        for (i, h) in config.legal_hold.iter().enumerate() {
            let number = i + 1;
            if h.reason.trim().is_empty() {
                return Err(RulesError::Empty {
                    table: "legal_hold",
                    number,
                    field: "reason",
                });
            }
            let (basis, until) = match (h.decided, h.until) {
                (Some(_), Some(_)) => {
                    return Err(RulesError::HoldBothDates {
                        number,
                        path: h.path.clone(),
                    })
                }
                (None, None) => {
                    return Err(RulesError::HoldNoDate {
                        number,
                        path: h.path.clone(),
                    })
                }
                (Some(decided), None) => (
                    HoldBasis::Decided(decided),
                    hold_end(decided).ok_or_else(|| RulesError::HoldOutOfRange {
                        number,
                        path: h.path.clone(),
                        decided,
                    })?,
                ),
                (None, Some(until)) => (HoldBasis::Until, until),
            };
            holds.push(Hold {
                number,
                glob: h.path.clone(),
                reason: h.reason.trim().to_string(),
                basis,
                until,
            });
        }
        let hold_globs = glob_set(
            "legal_hold",
            config.legal_hold.iter().map(|h| h.path.as_str()),
        )?;

        Ok(Rules {
            fiscal_year_start,
            keywords,
            breach_person_threshold: config.records.breach_person_threshold,
            retention,
            retention_globs,
            areas,
            area_globs,
            holds,
            hold_globs,
        })
    }

    pub fn fiscal_year_start(&self) -> FiscalYearStart {
        self.fiscal_year_start
    }

    /// The 要配慮個人情報 keywords, compiled for searching text.
    pub fn sensitive_keywords(&self) -> &SensitiveKeywords {
        &self.keywords
    }

    pub fn breach_person_threshold(&self) -> u32 {
        self.breach_person_threshold
    }

    /// Every `[[retention]]`, in the file's order.
    pub fn retention_rules(&self) -> &[Retention] {
        &self.retention
    }

    /// Every `[[my_number_area]]`, in the file's order.
    pub fn my_number_areas(&self) -> &[Area] {
        &self.areas
    }

    /// Every `[[legal_hold]]`, in the file's order.
    pub fn holds(&self) -> &[Hold] {
        &self.holds
    }

    /// The first `[[retention]]` whose glob matches `rel_path` (relative to
    /// its root, `/`-separated).
    pub fn retention_for(&self, rel_path: &str) -> Option<&Retention> {
        let first = self
            .retention_globs
            .matches(normalize_path(rel_path))
            .into_iter()
            .min()?;
        self.retention.get(first)
    }

    /// The first `[[my_number_area]]` that matches `rel_path`.
    pub fn my_number_area_for(&self, rel_path: &str) -> Option<&Area> {
        let first = self
            .area_globs
            .matches(normalize_path(rel_path))
            .into_iter()
            .min()?;
        self.areas.get(first)
    }

    /// Every `[[legal_hold]]` that matches `rel_path`, in the file's order
    /// (active or not: whether a hold is in force depends on the day).
    pub fn holds_for(&self, rel_path: &str) -> Vec<&Hold> {
        let mut m = self.hold_globs.matches(normalize_path(rel_path));
        m.sort_unstable();
        m.into_iter().filter_map(|i| self.holds.get(i)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;
    use regex::Regex;

    fn config(text: &str) -> RecordsConfig {
        toml::from_str(text).unwrap()
    }

    fn compile(text: &str) -> Result<Rules, RulesError> {
        Rules::compile(&config(text))
    }

    const BRIEF: &str = r#"
[records]
fiscal_year_start = "04-01"

[[retention]]
path = "**/職員課/給与/**"
class = "給与・源泉徴収"
years = 7
action = "廃棄"

[[my_number_area]]
path = "**/職員課/給与/**"
purpose = "給与所得の源泉徴収事務"

[[legal_hold]]
path = "**/情報公開/令和4年度/**"
reason = "開示請求 第22-114号"
decided = 2026-03-15
"#;

    #[test]
    fn the_shape_of_the_issue_parses_and_compiles() {
        let rules = compile(BRIEF).unwrap();
        assert_eq!(rules.fiscal_year_start(), FiscalYearStart::APRIL_1);
        let r = rules.retention_for("職員課/給与/a.xlsx").unwrap();
        assert_eq!(r.number, 1);
        assert_eq!(r.class, "給与・源泉徴収");
        assert_eq!(r.period, RetentionPeriod::Years(7));
        assert_eq!(r.action, Some(Action::Dispose));
        assert!(rules.retention_for("本庁/職員課/給与/R5/b.pdf").is_some());
        assert!(rules.retention_for("職員課/給与").is_none());
        assert!(rules.retention_for("職員課/人事/a.xlsx").is_none());
        assert_eq!(
            rules
                .my_number_area_for("職員課/給与/a.xlsx")
                .map(|a| a.purpose.as_str()),
            Some("給与所得の源泉徴収事務")
        );
        let holds = rules.holds_for("総務課/情報公開/令和4年度/決定通知.pdf");
        assert_eq!(holds.len(), 1);
        assert_eq!(holds[0].until, date(2027, 3, 15));
        assert_eq!(holds[0].basis, HoldBasis::Decided(date(2026, 3, 15)));
        assert!(holds[0].active(date(2027, 3, 15)));
        assert!(!holds[0].active(date(2027, 3, 16)));
        assert_eq!(rules.breach_person_threshold(), 100);
        assert!(rules.sensitive_keywords().len() > 10);
    }

    #[test]
    fn globs_match_at_the_root_and_within_one_folder() {
        let rules = compile(
            r#"
[[retention]]
path = "**/職員課/給与/**"
class = "給与"
years = 7
action = "廃棄"
[[retention]]
path = "税務課/*.xlsx"
class = "課税台帳"
years = "5年"
action = "dispose"
[[retention]]
path = '\文書\**'
class = "総務"
years = "常用"
"#,
        )
        .unwrap();
        assert_eq!(rules.retention_for("職員課/給与/a.xlsx").unwrap().number, 1);
        assert_eq!(
            rules.retention_for("./職員課/給与/a.xlsx").unwrap().number,
            1
        );
        assert_eq!(
            rules.retention_for(r"職員課\給与\a.xlsx").unwrap().number,
            1
        );
        assert_eq!(rules.retention_for("税務課/台帳.xlsx").unwrap().number, 2);
        // `*` stays within one folder.
        assert!(rules.retention_for("税務課/R5/台帳.xlsx").is_none());
        assert_eq!(rules.retention_for("文書/規程/a.docx").unwrap().number, 3);
        assert_eq!(
            rules.retention_for("文書/規程/a.docx").unwrap().action,
            None
        );
    }

    #[test]
    fn decomposed_names_match() {
        let rules = compile(
            r#"
[[retention]]
path = "**/データ/**"
class = "x"
years = 1
action = "廃棄"
"#,
        )
        .unwrap();
        let decomposed: String = "課/データ/a.csv".nfd().collect();
        assert_ne!(decomposed, "課/データ/a.csv");
        assert!(rules.retention_for(&decomposed).is_some());
    }

    #[test]
    fn first_matching_rule_wins() {
        let rules = compile(
            r#"
[[retention]]
path = "**/職員課/給与/源泉徴収票/**"
class = "源泉徴収票"
years = 7
action = "廃棄"
[[retention]]
path = "**/職員課/**"
class = "職員課 一般"
years = 5
action = "移管"
[[retention]]
path = "**/職員課/給与/**"
class = "never reached"
years = 1
action = "廃棄"
"#,
        )
        .unwrap();
        let r = rules
            .retention_for("職員課/給与/源泉徴収票/r6.pdf")
            .unwrap();
        assert_eq!((r.number, r.class.as_str()), (1, "源泉徴収票"));
        let r = rules.retention_for("職員課/給与/明細.pdf").unwrap();
        assert_eq!((r.number, r.class.as_str()), (2, "職員課 一般"));
        assert_eq!(r.action, Some(Action::Transfer));
    }

    #[test]
    fn period_words() {
        let period = |y: &str| {
            compile(&format!(
                "[[retention]]\npath = \"a/**\"\nclass = \"c\"\nyears = {y}\naction = \"廃棄\"\n"
            ))
            .map(|r| r.retention_rules()[0].period)
        };
        assert_eq!(period("30"), Ok(RetentionPeriod::Years(30)));
        assert_eq!(period("\"10年\""), Ok(RetentionPeriod::Years(10)));
        assert_eq!(period("\"１０年\""), Ok(RetentionPeriod::Years(10)));
        assert_eq!(period("\"1年未満\""), Ok(RetentionPeriod::LessThanOneYear));
        assert_eq!(period("\"常用\""), Ok(RetentionPeriod::InUse));
        assert_eq!(period("\"永年\""), Ok(RetentionPeriod::Permanent));
        assert!(matches!(
            period("0"),
            Err(RulesError::ZeroYears { number: 1, .. })
        ));
        assert!(matches!(period("-3"), Err(RulesError::ZeroYears { .. })));
        assert!(matches!(
            period("\"0年\""),
            Err(RulesError::ZeroYears { .. })
        ));
        assert!(matches!(
            period("101"),
            Err(RulesError::TooManyYears { .. })
        ));
        match period("\"長期\"") {
            Err(e @ RulesError::UnknownClassWord { .. }) => {
                let m = e.to_string();
                assert!(m.contains("[[retention]] #1") && m.contains("長期"), "{m}");
            }
            other => panic!("{other:?}"),
        }
        // A float is neither a number of years nor a word.
        assert!(toml::from_str::<RecordsConfig>(
            "[[retention]]\npath = \"a\"\nclass = \"c\"\nyears = 1.5\naction = \"廃棄\"\n"
        )
        .is_err());
    }

    #[test]
    fn action_is_required_where_a_period_ends() {
        let e = compile("[[retention]]\npath = \"a\"\nclass = \"c\"\nyears = 5\n").unwrap_err();
        assert!(
            matches!(e, RulesError::MissingAction { number: 1, .. }),
            "{e}"
        );
        let r =
            compile("[[retention]]\npath = \"a\"\nclass = \"c\"\nyears = \"1年未満\"\n").unwrap();
        assert_eq!(r.retention_rules()[0].action, Some(Action::Dispose));
        let r = compile("[[retention]]\npath = \"a\"\nclass = \"c\"\nyears = \"永年\"\n").unwrap();
        assert_eq!(r.retention_rules()[0].action, None);
        assert!(toml::from_str::<RecordsConfig>(
            "[[retention]]\npath = \"a\"\nclass = \"c\"\nyears = 5\naction = \"保存\"\n"
        )
        .is_err());
        let r = compile(
            "[[retention]]\npath = \"a\"\nclass = \"c\"\nyears = 5\naction = \"transfer\"\n",
        )
        .unwrap();
        assert_eq!(r.retention_rules()[0].action, Some(Action::Transfer));
    }

    #[test]
    fn errors_name_the_table_and_its_number() {
        let e = compile(
            "[[retention]]\npath = \"a/**\"\nclass = \"c\"\nyears = 1\naction = \"廃棄\"\n\
             [[retention]]\npath = \"b/[\"\nclass = \"c\"\nyears = 1\naction = \"廃棄\"\n",
        )
        .unwrap_err();
        assert!(
            matches!(
                &e,
                RulesError::Glob {
                    table: "retention",
                    number: 2,
                    ..
                }
            ),
            "{e}"
        );
        assert!(e.to_string().starts_with("[[retention]] #2"), "{e}");
        let e = compile("[[my_number_area]]\npath = \"a/{b\"\npurpose = \"p\"\n").unwrap_err();
        assert!(matches!(
            e,
            RulesError::Glob {
                table: "my_number_area",
                number: 1,
                ..
            }
        ));
        let e = compile(
            "[[legal_hold]]\npath = \"a\"\nreason = \"r\"\ndecided = 2026-03-15\nuntil = 2027-03-31\n",
        )
        .unwrap_err();
        assert!(matches!(e, RulesError::HoldBothDates { number: 1, .. }));
        let e = compile("[[legal_hold]]\npath = \"a\"\nreason = \"r\"\n").unwrap_err();
        assert!(matches!(e, RulesError::HoldNoDate { number: 1, .. }));
        let e = compile("[records]\nfiscal_year_start = \"02-29\"\n").unwrap_err();
        assert!(matches!(e, RulesError::FiscalYearStart(_)));
        assert!(e.to_string().contains("29 February"), "{e}");
        let e = compile("[records]\nfiscal_year_start = \"April\"\n").unwrap_err();
        assert!(matches!(e, RulesError::FiscalYearStart(_)));
        let e = compile("[records]\nsensitive_keywords = [\"病歴\", \" \"]\n").unwrap_err();
        assert!(matches!(e, RulesError::Keywords(_)));
        let e =
            compile("[[retention]]\npath = \"\"\nclass = \"c\"\nyears = 1\naction = \"廃棄\"\n")
                .unwrap_err();
        assert!(matches!(e, RulesError::Empty { field: "path", .. }));
    }

    #[test]
    fn unknown_keys_and_bad_dates_are_refused() {
        for text in [
            "[records]\nfiscal_year = \"04-01\"\n",
            "[[retention]]\npath = \"a\"\nclass = \"c\"\nyears = 1\naction = \"廃棄\"\nnote = \"x\"\n",
            "[[my_number_area]]\npath = \"a\"\npurpose = \"p\"\nyears = 1\n",
            "[[legal_hold]]\npath = \"a\"\nreason = \"r\"\ndecided = 2026-03-15T10:00:00\n",
            "[[legal_hold]]\npath = \"a\"\nreason = \"r\"\ndecided = \"2026-02-30\"\n",
            "[[legal_hold]]\npath = \"a\"\nreason = \"r\"\ndecided = 20260315\n",
            "[other]\nx = 1\n",
        ] {
            assert!(toml::from_str::<RecordsConfig>(text).is_err(), "{text}");
        }
        let c = config("[[legal_hold]]\npath = \"a\"\nreason = \"r\"\nuntil = \"2027-03-31\"\n");
        assert_eq!(c.legal_hold[0].until, Some(date(2027, 3, 31)));
    }

    #[test]
    fn defaults() {
        let rules = Rules::compile(&RecordsConfig::default()).unwrap();
        assert_eq!(rules.fiscal_year_start(), FiscalYearStart::APRIL_1);
        assert_eq!(rules.breach_person_threshold(), 100);
        assert!(rules.retention_for("a.xlsx").is_none());
        let d = Rules::default();
        assert_eq!(
            d.sensitive_keywords().len(),
            DEFAULT_SENSITIVE_KEYWORDS.len()
        );
    }

    /// The records part of `service/mamori.toml.example`, its commented-out
    /// settings and tables uncommented (lines left as they are once a
    /// city has uncommented them).
    fn example_records_part() -> String {
        let text = include_str!("../../service/mamori.toml.example");
        let setting = Regex::new(r#"^(\[|[a-z_]+ = |  "|\]$)"#).unwrap();
        text.lines()
            .skip_while(|l| !l.starts_with("# ─── Records rules"))
            .filter_map(|l| match l.strip_prefix("# ") {
                Some(rest) if setting.is_match(rest) => Some(rest),
                _ if l.starts_with('#') => None,
                _ => Some(l),
            })
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// The example rules shipped in `service/` parse and compile, and say
    /// what their comments say.
    #[test]
    fn example_configuration_compiles() {
        let part = example_records_part();
        assert!(part.contains("[[retention]]") && part.contains("[[legal_hold]]"));
        let config: RecordsConfig = toml::from_str(&part).unwrap();
        // The example shows the default keywords, as every default is shown.
        assert_eq!(
            config.records,
            RecordsSettings::default(),
            "the [records] example and the defaults differ"
        );
        let rules = Rules::compile(&config).unwrap();
        assert!(rules.retention_rules().len() >= 8);
        assert!(rules.my_number_areas().len() >= 3);
        let r = rules
            .retention_for("職員課/給与/令和6年分/源泉徴収票.pdf")
            .unwrap();
        assert_eq!(r.class, "給与・源泉徴収");
        assert_eq!(r.period, RetentionPeriod::Years(7));
        let r = rules.retention_for("総務課/例規/条例改正.docx").unwrap();
        assert_eq!(
            (r.period, r.action),
            (RetentionPeriod::Years(30), Some(Action::Transfer))
        );
        let r = rules.retention_for("職員課/人事記録/a.xlsx").unwrap();
        assert_eq!(r.period, RetentionPeriod::InUse);
        let r = rules.retention_for("総務課/連絡・照会/照会.txt").unwrap();
        assert_eq!(r.period, RetentionPeriod::LessThanOneYear);
        assert!(rules
            .my_number_area_for("税務課/市民税/賦課/R6/台帳.xlsx")
            .is_some());
        assert!(rules
            .my_number_area_for("福祉課/生活保護/ケース記録/a.docx")
            .is_some());
        assert!(rules.my_number_area_for("総務課/情報公開/a.pdf").is_none());
        assert_eq!(rules.holds()[0].until, date(2027, 3, 15));
        // Also as the lead's whole-file reader sees it.
        let whole =
            RecordsConfig::from_config_text(&format!("[store]\ndatabase = \"/x.db\"\n{part}"))
                .unwrap();
        assert_eq!(whole, config);
    }

    /// How the service's configuration can take these sections: flattened
    /// into a struct that also refuses unknown keys (dates and unknown keys
    /// still behave; serde passes the unknown ones to the flattened struct).
    #[test]
    fn flattens_into_a_strict_configuration() {
        #[derive(Debug, Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Service {
            #[allow(dead_code)]
            store: toml::Table,
            #[serde(flatten)]
            records: RecordsConfig,
        }
        let text = format!("[store]\ndatabase = \"/x.db\"\n{}", example_records_part());
        let s: Service = toml::from_str(&text).unwrap();
        assert_eq!(s.records.legal_hold[0].decided, Some(date(2026, 3, 15)));
        assert_eq!(s.records.records, RecordsSettings::default());
        Rules::compile(&s.records).unwrap();
        let s: Service = toml::from_str("[store]\n").unwrap();
        assert_eq!(s.records, RecordsConfig::default());
        assert!(toml::from_str::<Service>("[store]\n[bogus]\nx = 1\n").is_err());
        assert!(toml::from_str::<Service>("[store]\n[records]\nbogus = 1\n").is_err());
    }
}
