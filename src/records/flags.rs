//! The records flags of one file: a pure evaluation of what the rules say
//! about a file, given what the scan found in it, on a given day.
//!
//! Nothing here reads a file or the store: the caller gathers the
//! [`FileFacts`] (finding counts after review decisions, mail facts,
//! metadata and modification dates) and gets back an [`Evaluation`]: the
//! retention state, the flags (stable snake_case names) and the reasons
//! behind them as data, each of which renders as one line in Japanese or
//! English for `mamori explain`. Recomputing is cheap and has no state, so
//! a change of rules or of the day is a new evaluation.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;
use std::str::FromStr;

use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use super::dates::{document_date, DateSource, DocumentDate, YearKind};
use super::retention::{retention_span, RetentionPeriod};
use super::rules::{Action, HoldBasis, Rules};
use crate::finding::Kind;

/// The kinds that identify a person: one value, one person. Their
/// distinct fingerprints count the persons in a file.
pub const PERSON_IDENTIFYING_KINDS: &[Kind] = &[
    Kind::MyNumber,
    Kind::ResidentCode,
    Kind::BasicPensionNumber,
    Kind::PassportNumber,
    Kind::DriversLicenseNumber,
    Kind::HealthInsuranceNumber,
    Kind::PersonName,
];

/// How many distinct persons a file names, from the fingerprints of its
/// findings (any kind; those not in [`PERSON_IDENTIFYING_KINDS`] are
/// ignored): the largest number of distinct values of one identifying
/// kind. Summing over kinds would count a person once per identifier (a
/// 名簿 of 150 people with names and My Numbers would make 300); the
/// largest count is a number of persons the file certainly holds.
pub fn distinct_persons<'a>(fingerprints: impl IntoIterator<Item = (Kind, &'a str)>) -> u32 {
    let mut by_kind: HashMap<Kind, HashSet<&'a str>> = HashMap::new();
    for (kind, fp) in fingerprints {
        if PERSON_IDENTIFYING_KINDS.contains(&kind) {
            by_kind.entry(kind).or_default().insert(fp);
        }
    }
    by_kind
        .values()
        .map(|s| u32::try_from(s.len()).unwrap_or(u32::MAX))
        .max()
        .unwrap_or(0)
}

/// What the scan knows about one file, as the evaluation needs it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FileFacts {
    /// The path relative to its root, `/`-separated.
    pub path: String,
    /// The creation date the document records about itself (extractors'
    /// `DocumentMeta::created`).
    pub metadata_date: Option<Date>,
    /// The modification date (see [`super::dates::mtime_date`]).
    pub mtime_date: Option<Date>,
    /// Findings at medium confidence or above, by kind, after review
    /// decisions that suppress findings.
    pub finding_counts: BTreeMap<Kind, u32>,
    /// Distinct persons in the file (see [`distinct_persons`]).
    pub distinct_persons: u32,
    /// A mail export: an `.eml`, `.mbox` or `.msg` file, or any file under
    /// a root of kind `mail_export`.
    pub mail_export: bool,
    /// Outbound leak candidates among its messages (the outbound check).
    pub outbound_messages: u32,
    /// Whether one of those outbound messages carries a My Number.
    pub outbound_my_number: bool,
    /// 要配慮個人情報 keywords found next to personal data (the configured
    /// words, see [`super::keywords::SensitiveKeywords::near`]).
    pub sensitive_keywords: Vec<String>,
}

impl FileFacts {
    /// Facts of a file at `path` with nothing found yet.
    pub fn new(path: impl Into<String>) -> Self {
        FileFacts {
            path: path.into(),
            ..FileFacts::default()
        }
    }

    /// Personal findings: every kind but `corporate_number` (a company's
    /// public number is not personal information).
    pub fn personal_findings(&self) -> u32 {
        self.finding_counts
            .iter()
            .filter(|(k, _)| **k != Kind::CorporateNumber)
            .fold(0u32, |n, (_, c)| n.saturating_add(*c))
    }

    pub fn holds_personal_data(&self) -> bool {
        self.personal_findings() > 0
    }

    /// My Number findings (at medium or above, as all counts are).
    pub fn my_numbers(&self) -> u32 {
        self.finding_counts
            .get(&Kind::MyNumber)
            .copied()
            .unwrap_or(0)
    }
}

/// A records flag. The names (`as_str`) are stable: they are stored and
/// printed in the JSONL output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Flag {
    /// The retention period ended.
    RetentionExpired,
    /// Expired, 廃棄 at expiry, not on hold: 廃棄候補.
    DisposalCandidate,
    /// Expired, 移管 at expiry, not on hold: 移管候補.
    TransferCandidate,
    /// Personal data and no rule (or no date) to tell its retention.
    RetentionUnknown,
    /// My Number where no `[[my_number_area]]` allows it (番号法第20条).
    MyNumberOutsideArea,
    /// My Number kept after the retention ended (delete as soon as possible).
    MyNumberRetentionExceeded,
    /// A hold (施行令第9条) is in force: no disposal or transfer.
    LegalHold,
    /// A message from the office to outside holds personal data.
    OutboundLeakCandidate,
    /// Personal data in a mail export.
    PersonalDataInMailExport,
    /// A breach of this file might have to be reported.
    BreachReportHint,
}

impl Flag {
    pub const ALL: [Flag; 10] = [
        Flag::RetentionExpired,
        Flag::DisposalCandidate,
        Flag::TransferCandidate,
        Flag::RetentionUnknown,
        Flag::MyNumberOutsideArea,
        Flag::MyNumberRetentionExceeded,
        Flag::LegalHold,
        Flag::OutboundLeakCandidate,
        Flag::PersonalDataInMailExport,
        Flag::BreachReportHint,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Flag::RetentionExpired => "retention_expired",
            Flag::DisposalCandidate => "disposal_candidate",
            Flag::TransferCandidate => "transfer_candidate",
            Flag::RetentionUnknown => "retention_unknown",
            Flag::MyNumberOutsideArea => "my_number_outside_area",
            Flag::MyNumberRetentionExceeded => "my_number_retention_exceeded",
            Flag::LegalHold => "legal_hold",
            Flag::OutboundLeakCandidate => "outbound_leak_candidate",
            Flag::PersonalDataInMailExport => "personal_data_in_mail_export",
            Flag::BreachReportHint => "breach_report_hint",
        }
    }

    pub fn label_ja(self) -> &'static str {
        match self {
            Flag::RetentionExpired => "保存期間満了",
            Flag::DisposalCandidate => "廃棄候補",
            Flag::TransferCandidate => "移管候補",
            Flag::RetentionUnknown => "保存期間不明",
            Flag::MyNumberOutsideArea => "個人番号の保管場所外",
            Flag::MyNumberRetentionExceeded => "個人番号の保存期間超過",
            Flag::LegalHold => "保存期間延長中（開示請求等）",
            Flag::OutboundLeakCandidate => "外部送信（漏えいの疑い）",
            Flag::PersonalDataInMailExport => "メール保存データ内の個人情報",
            Flag::BreachReportHint => "漏えい等報告の要否確認",
        }
    }

    pub fn label_en(self) -> &'static str {
        match self {
            Flag::RetentionExpired => "retention period expired",
            Flag::DisposalCandidate => "candidate for disposal",
            Flag::TransferCandidate => "candidate for transfer to the archives",
            Flag::RetentionUnknown => "retention unknown",
            Flag::MyNumberOutsideArea => "My Number outside its registered areas",
            Flag::MyNumberRetentionExceeded => "My Number kept past its retention",
            Flag::LegalHold => "on legal hold",
            Flag::OutboundLeakCandidate => "outbound leak candidate",
            Flag::PersonalDataInMailExport => "personal data in a mail export",
            Flag::BreachReportHint => "check whether a breach report is due",
        }
    }

    pub fn label(self, lang: Lang) -> &'static str {
        match lang {
            Lang::Ja => self.label_ja(),
            Lang::En => self.label_en(),
        }
    }
}

impl fmt::Display for Flag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Flag {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Flag::ALL
            .into_iter()
            .find(|f| f.as_str() == s)
            .ok_or_else(|| {
                let names: Vec<&str> = Flag::ALL.iter().map(|f| f.as_str()).collect();
                format!("unknown flag {s:?} (one of: {})", names.join(", "))
            })
    }
}

/// The language of rendered reasons (Japanese by default).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Lang {
    #[default]
    Ja,
    En,
}

impl FromStr for Lang {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "ja" => Ok(Lang::Ja),
            "en" => Ok(Lang::En),
            _ => Err(format!("unknown language {s:?} (ja or en)")),
        }
    }
}

/// Which criterion of `breach_report_hint` fired.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BreachCriterion {
    /// More distinct persons than the threshold (施行規則第43条第4号).
    Persons { persons: u32, threshold: u32 },
    /// A My Number in a message sent outside (番号法: no minimum count).
    OutboundMyNumber,
    /// Personal data next to 要配慮個人情報 keywords (施行規則第43条第1号).
    SensitiveKeywords { keywords: Vec<String> },
}

/// One reason of an evaluation, as data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reason {
    /// The document date used, and where it came from.
    DocumentDate(DocumentDate),
    /// No date at all (no year in the path, no metadata, no mtime).
    NoDocumentDate { flagged: bool },
    /// The `[[retention]]` that matched (the first in the file's order).
    RuleMatched {
        number: usize,
        glob: String,
        class: String,
        period: RetentionPeriod,
        action: Option<Action>,
    },
    /// No `[[retention]]` matched; `flagged` when the file holds personal
    /// data (then `retention_unknown`).
    NoRuleMatched { flagged: bool },
    /// Within the retention period.
    WithinRetention { start: Date, end: Date },
    /// 常用 or 永年.
    NeverExpires { period: RetentionPeriod },
    /// The period ended on `end`; `hold_until` when a hold keeps the file.
    RetentionExpired {
        end: Date,
        action: Action,
        hold_until: Option<Date>,
    },
    /// My Number and no `[[my_number_area]]` matches.
    MyNumberOutsideArea { count: u32 },
    /// My Number in a registered area.
    MyNumberInArea {
        number: usize,
        glob: String,
        purpose: String,
    },
    /// My Number in a file whose retention ended.
    MyNumberRetentionExceeded {
        count: u32,
        end: Date,
        hold_until: Option<Date>,
    },
    /// A hold in force.
    LegalHold {
        number: usize,
        glob: String,
        reason: String,
        basis: HoldBasis,
        until: Date,
    },
    /// A hold that matches the path but has ended.
    HoldEnded {
        number: usize,
        glob: String,
        reason: String,
        until: Date,
    },
    /// Messages to outside recipients with personal data.
    OutboundLeak { messages: u32 },
    /// Personal findings in a mail export.
    PersonalDataInMailExport { findings: u32 },
    /// A `breach_report_hint` criterion.
    BreachHint(BreachCriterion),
}

impl Reason {
    /// The flags this reason explains.
    pub fn flags(&self) -> Vec<Flag> {
        match self {
            Reason::NoDocumentDate { flagged: true } | Reason::NoRuleMatched { flagged: true } => {
                vec![Flag::RetentionUnknown]
            }
            Reason::RetentionExpired {
                action, hold_until, ..
            } => {
                let mut v = vec![Flag::RetentionExpired];
                if hold_until.is_none() {
                    v.push(candidate(*action));
                }
                v
            }
            Reason::MyNumberOutsideArea { .. } => vec![Flag::MyNumberOutsideArea],
            Reason::MyNumberRetentionExceeded { .. } => vec![Flag::MyNumberRetentionExceeded],
            Reason::LegalHold { .. } => vec![Flag::LegalHold],
            Reason::OutboundLeak { .. } => vec![Flag::OutboundLeakCandidate],
            Reason::PersonalDataInMailExport { .. } => vec![Flag::PersonalDataInMailExport],
            Reason::BreachHint(_) => vec![Flag::BreachReportHint],
            _ => Vec::new(),
        }
    }

    /// One line for `mamori explain`.
    pub fn render(&self, lang: Lang) -> String {
        match lang {
            Lang::Ja => self.render_ja(),
            Lang::En => self.render_en(),
        }
    }

    fn render_ja(&self) -> String {
        match self {
            Reason::DocumentDate(d) => match (&d.source, &d.path) {
                (DateSource::Path, Some(p)) => format!(
                    "文書の日付: {}（{}「{}」の「{}」: {}の末日）",
                    d.date,
                    if p.depth == 0 { "ファイル名" } else { "フォルダ名" },
                    p.component,
                    p.year.matched,
                    match p.year.kind {
                        YearKind::Fiscal => format!("{}年度", p.year.year),
                        YearKind::Calendar => format!("{}年", p.year.year),
                    }
                ),
                (source, _) => format!("文書の日付: {}（{}）", d.date, source.label_ja()),
            },
            Reason::NoDocumentDate { flagged } => format!(
                "文書の日付がわかりません（パスに年度なし、文書のプロパティなし、更新日時なし）{}",
                if *flagged { "。個人情報を含むため保存期間不明" } else { "" }
            ),
            Reason::RuleMatched {
                number,
                glob,
                class,
                period,
                action,
            } => format!(
                "保存期間の規則: [[retention]] #{number}「{glob}」に一致 → 分類「{class}」、保存期間 {}、満了時の措置 {}",
                period.label_ja(),
                action.map_or("なし", Action::label_ja)
            ),
            Reason::NoRuleMatched { flagged } => format!(
                "保存期間の規則: どの [[retention]] にも一致しません{}",
                if *flagged { "。個人情報を含むため保存期間不明" } else { "" }
            ),
            Reason::WithinRetention { start, end } => {
                format!("保存期間内: 起算日 {start}、満了日 {end}")
            }
            Reason::NeverExpires { period } => {
                format!("保存期間 {}: 満了しません", period.label_ja())
            }
            Reason::RetentionExpired {
                end,
                action,
                hold_until,
            } => match hold_until {
                None => format!(
                    "保存期間満了: 満了日 {end} を過ぎています → {}",
                    candidate(*action).label_ja()
                ),
                Some(until) => format!(
                    "保存期間満了: 満了日 {end} を過ぎていますが、{until} まで保存期間延長中のため{}しません",
                    action.label_ja()
                ),
            },
            Reason::MyNumberOutsideArea { count } => format!(
                "個人番号 {count} 件: どの [[my_number_area]]（特定個人情報の保管場所）にも一致しません（番号法第20条）"
            ),
            Reason::MyNumberInArea {
                number,
                glob,
                purpose,
            } => format!(
                "個人番号: [[my_number_area]] #{number}「{glob}」（{purpose}）の保管場所内"
            ),
            Reason::MyNumberRetentionExceeded {
                count,
                end,
                hold_until,
            } => match hold_until {
                None => format!(
                    "個人番号 {count} 件: 保存期間（満了日 {end}）を過ぎています。できるだけ速やかに削除又は廃棄してください"
                ),
                Some(until) => format!(
                    "個人番号 {count} 件: 保存期間（満了日 {end}）を過ぎていますが、{until} まで保存期間延長中です"
                ),
            },
            Reason::LegalHold {
                number,
                glob,
                reason,
                basis,
                until,
            } => match basis {
                HoldBasis::Decided(decided) => format!(
                    "保存期間延長: [[legal_hold]] #{number}「{glob}」（{reason}）、決定日 {decided} の翌日から1年間、{until} まで（施行令第9条）"
                ),
                HoldBasis::Until => format!(
                    "保存期間延長: [[legal_hold]] #{number}「{glob}」（{reason}）、{until} まで"
                ),
            },
            Reason::HoldEnded {
                number,
                glob,
                reason,
                until,
            } => format!(
                "保存期間延長の終了: [[legal_hold]] #{number}「{glob}」（{reason}）は {until} で終了しています"
            ),
            Reason::OutboundLeak { messages } => format!(
                "外部送信: 庁外あての {messages} 通のメールが個人情報を含みます"
            ),
            Reason::PersonalDataInMailExport { findings } => format!(
                "メール保存データに個人情報 {findings} 件"
            ),
            Reason::BreachHint(c) => match c {
                BreachCriterion::Persons { persons, threshold } => format!(
                    "漏えい等報告の確認: 本人の数 {persons} 人が {threshold} 人を超えます（個人情報保護法施行規則第43条第4号）"
                ),
                BreachCriterion::OutboundMyNumber => {
                    "漏えい等報告の確認: 庁外あてのメールに個人番号が含まれます（特定個人情報は件数を問いません）".to_string()
                }
                BreachCriterion::SensitiveKeywords { keywords } => format!(
                    "漏えい等報告の確認: 個人情報の近くに要配慮個人情報の語（{}）があります（施行規則第43条第1号）",
                    keywords.join("、")
                ),
            },
        }
    }

    fn render_en(&self) -> String {
        match self {
            Reason::DocumentDate(d) => match (&d.source, &d.path) {
                (DateSource::Path, Some(p)) => format!(
                    "document date: {} (the {} {:?} says {:?}: the last day of {})",
                    d.date,
                    if p.depth == 0 { "file name" } else { "folder" },
                    p.component,
                    p.year.matched,
                    match p.year.kind {
                        YearKind::Fiscal => format!("fiscal year {}", p.year.year),
                        YearKind::Calendar => format!("calendar year {}", p.year.year),
                    }
                ),
                (source, _) => format!("document date: {} ({})", d.date, source.label_en()),
            },
            Reason::NoDocumentDate { flagged } => format!(
                "no document date (no year in the path, no metadata, no modification time){}",
                if *flagged { "; the file holds personal data, so its retention is unknown" } else { "" }
            ),
            Reason::RuleMatched {
                number,
                glob,
                class,
                period,
                action,
            } => format!(
                "retention rule: [[retention]] #{number} {glob:?} matches: class {class:?}, {}, at expiry: {}",
                period.label_en(),
                action.map_or("none", Action::as_str)
            ),
            Reason::NoRuleMatched { flagged } => format!(
                "retention rule: no [[retention]] matches{}",
                if *flagged { "; the file holds personal data, so its retention is unknown" } else { "" }
            ),
            Reason::WithinRetention { start, end } => {
                format!("within retention: from {start} through {end}")
            }
            Reason::NeverExpires { period } => {
                format!("retention {}: never expires", period.label_en())
            }
            Reason::RetentionExpired {
                end,
                action,
                hold_until,
            } => match hold_until {
                None => format!(
                    "retention expired: it ended on {end}; {}",
                    candidate(*action).label_en()
                ),
                Some(until) => format!(
                    "retention expired on {end}, but the file is on hold through {until}: no {}",
                    match action {
                        Action::Dispose => "disposal",
                        Action::Transfer => "transfer",
                    }
                ),
            },
            Reason::MyNumberOutsideArea { count } => format!(
                "{count} My Number finding(s), and no [[my_number_area]] matches (My Number Act art. 20)"
            ),
            Reason::MyNumberInArea {
                number,
                glob,
                purpose,
            } => format!("My Number in [[my_number_area]] #{number} {glob:?} ({purpose})"),
            Reason::MyNumberRetentionExceeded {
                count,
                end,
                hold_until,
            } => match hold_until {
                None => format!(
                    "{count} My Number finding(s) kept after the retention ended on {end}: delete as soon as possible"
                ),
                Some(until) => format!(
                    "{count} My Number finding(s) kept after the retention ended on {end}; on hold through {until}"
                ),
            },
            Reason::LegalHold {
                number,
                glob,
                reason,
                basis,
                until,
            } => match basis {
                HoldBasis::Decided(decided) => format!(
                    "legal hold: [[legal_hold]] #{number} {glob:?} ({reason}), decided {decided}: held one year from the next day, through {until}"
                ),
                HoldBasis::Until => format!(
                    "legal hold: [[legal_hold]] #{number} {glob:?} ({reason}), through {until}"
                ),
            },
            Reason::HoldEnded {
                number,
                glob,
                reason,
                until,
            } => format!(
                "legal hold ended: [[legal_hold]] #{number} {glob:?} ({reason}) ended on {until}"
            ),
            Reason::OutboundLeak { messages } => format!(
                "{messages} message(s) to outside recipients hold personal data"
            ),
            Reason::PersonalDataInMailExport { findings } => {
                format!("{findings} personal finding(s) in a mail export")
            }
            Reason::BreachHint(c) => match c {
                BreachCriterion::Persons { persons, threshold } => format!(
                    "breach report check: {persons} distinct persons, more than {threshold}"
                ),
                BreachCriterion::OutboundMyNumber => {
                    "breach report check: a My Number in a message sent outside (any number of persons)".to_string()
                }
                BreachCriterion::SensitiveKeywords { keywords } => format!(
                    "breach report check: personal data next to sensitive-information words ({})",
                    keywords.join(", ")
                ),
            },
        }
    }
}

fn candidate(action: Action) -> Flag {
    match action {
        Action::Dispose => Flag::DisposalCandidate,
        Action::Transfer => Flag::TransferCandidate,
    }
}

/// A hold in force on the evaluation day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActiveHold {
    /// Its number among the `[[legal_hold]]` tables, from 1.
    pub number: usize,
    pub reason: String,
    /// The last day held.
    pub until: Date,
}

/// What the rules say about one file on one day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Evaluation {
    /// The day evaluated.
    pub as_of: Date,
    pub document_date: Option<DocumentDate>,
    /// The number of the `[[retention]]` that matched (from 1).
    pub retention_rule: Option<usize>,
    /// 文書分類.
    pub retention_class: Option<String>,
    /// 保存期間 (years or the class word).
    pub retention: Option<RetentionPeriod>,
    /// 起算日.
    pub retention_start: Option<Date>,
    /// 満了日 (inclusive).
    pub retention_end: Option<Date>,
    /// 満了時の措置.
    pub action: Option<Action>,
    /// The hold in force that lasts longest, if any.
    pub hold: Option<ActiveHold>,
    /// The flags, in [`Flag::ALL`] order, each once.
    pub flags: Vec<Flag>,
    /// Why, in the order of the checks.
    pub reasons: Vec<Reason>,
}

impl Evaluation {
    pub fn has(&self, flag: Flag) -> bool {
        self.flags.contains(&flag)
    }

    /// The flags' stable names.
    pub fn flag_names(&self) -> Vec<&'static str> {
        self.flags.iter().map(|f| f.as_str()).collect()
    }

    /// Every reason, one line each.
    pub fn explain(&self, lang: Lang) -> Vec<String> {
        self.reasons.iter().map(|r| r.render(lang)).collect()
    }
}

/// Evaluates one file under `rules` on `as_of`.
pub fn evaluate(rules: &Rules, facts: &FileFacts, as_of: Date) -> Evaluation {
    let mut flags: Vec<Flag> = Vec::new();
    let mut reasons: Vec<Reason> = Vec::new();
    let personal = facts.holds_personal_data();
    let my_numbers = facts.my_numbers();

    // The document date.
    let date = document_date(
        &facts.path,
        rules.fiscal_year_start(),
        facts.metadata_date,
        facts.mtime_date,
    );
    match &date {
        Some(d) => reasons.push(Reason::DocumentDate(d.clone())),
        None => reasons.push(Reason::NoDocumentDate { flagged: false }),
    }

    // Holds: every matching one is reported; the longest in force keeps the file.
    let mut hold: Option<ActiveHold> = None;
    let mut hold_reasons = Vec::new();
    for h in rules.holds_for(&facts.path) {
        if h.active(as_of) {
            if hold.as_ref().is_none_or(|k| h.until > k.until) {
                hold = Some(ActiveHold {
                    number: h.number,
                    reason: h.reason.clone(),
                    until: h.until,
                });
            }
            hold_reasons.push(Reason::LegalHold {
                number: h.number,
                glob: h.glob.clone(),
                reason: h.reason.clone(),
                basis: h.basis,
                until: h.until,
            });
        } else {
            hold_reasons.push(Reason::HoldEnded {
                number: h.number,
                glob: h.glob.clone(),
                reason: h.reason.clone(),
                until: h.until,
            });
        }
    }
    let hold_until = hold.as_ref().map(|h| h.until);
    if hold.is_some() {
        flags.push(Flag::LegalHold);
    }

    // Retention.
    let rule = rules.retention_for(&facts.path);
    let mut span = None;
    match rule {
        None => {
            reasons.push(Reason::NoRuleMatched { flagged: personal });
            if personal {
                flags.push(Flag::RetentionUnknown);
            }
        }
        Some(r) => {
            reasons.push(Reason::RuleMatched {
                number: r.number,
                glob: r.glob.clone(),
                class: r.class.clone(),
                period: r.period,
                action: r.action,
            });
            span = date
                .as_ref()
                .and_then(|d| retention_span(d.date, r.period, rules.fiscal_year_start()));
            match span {
                None if date.is_none() => {
                    // No date: the period is unknown.
                    if let Some(Reason::NoDocumentDate { flagged }) = reasons.first_mut() {
                        *flagged = personal;
                    }
                    if personal {
                        flags.push(Flag::RetentionUnknown);
                    }
                }
                // A date so late that the period ends past year 9999 (a
                // clock gone wrong): it has not ended, which is all a flag
                // could say.
                None => {}
                Some(s) => match (s.start, s.end) {
                    (Some(_), Some(end)) if s.expired(as_of) => {
                        flags.push(Flag::RetentionExpired);
                        // A rule with an end always has an action (checked
                        // when compiled); 廃棄 is the fallback all the same.
                        let action = r.action.unwrap_or(Action::Dispose);
                        if hold.is_none() {
                            flags.push(candidate(action));
                        }
                        reasons.push(Reason::RetentionExpired {
                            end,
                            action,
                            hold_until,
                        });
                    }
                    (Some(start), Some(end)) => {
                        reasons.push(Reason::WithinRetention { start, end })
                    }
                    _ => reasons.push(Reason::NeverExpires { period: r.period }),
                },
            }
        }
    }
    reasons.extend(hold_reasons);
    let expired_end = span.filter(|s| s.expired(as_of)).and_then(|s| s.end);

    // My Number: where it is kept, and for how long.
    if my_numbers > 0 {
        match rules.my_number_area_for(&facts.path) {
            None => {
                flags.push(Flag::MyNumberOutsideArea);
                reasons.push(Reason::MyNumberOutsideArea { count: my_numbers });
            }
            Some(a) => reasons.push(Reason::MyNumberInArea {
                number: a.number,
                glob: a.glob.clone(),
                purpose: a.purpose.clone(),
            }),
        }
        if let Some(end) = expired_end {
            // Stays visible on hold: the officer must know, even if the
            // file may not be destroyed yet.
            flags.push(Flag::MyNumberRetentionExceeded);
            reasons.push(Reason::MyNumberRetentionExceeded {
                count: my_numbers,
                end,
                hold_until,
            });
        }
    }

    // Mail.
    if facts.outbound_messages > 0 {
        flags.push(Flag::OutboundLeakCandidate);
        reasons.push(Reason::OutboundLeak {
            messages: facts.outbound_messages,
        });
    }
    if facts.mail_export && personal {
        flags.push(Flag::PersonalDataInMailExport);
        reasons.push(Reason::PersonalDataInMailExport {
            findings: facts.personal_findings(),
        });
    }

    // Breach report hints: each criterion that fired is a reason of its own.
    let threshold = rules.breach_person_threshold();
    let mut criteria = Vec::new();
    if facts.distinct_persons > threshold {
        criteria.push(BreachCriterion::Persons {
            persons: facts.distinct_persons,
            threshold,
        });
    }
    if facts.outbound_my_number {
        criteria.push(BreachCriterion::OutboundMyNumber);
    }
    if personal && !facts.sensitive_keywords.is_empty() {
        criteria.push(BreachCriterion::SensitiveKeywords {
            keywords: facts.sensitive_keywords.clone(),
        });
    }
    if !criteria.is_empty() {
        flags.push(Flag::BreachReportHint);
        reasons.extend(criteria.into_iter().map(Reason::BreachHint));
    }

    flags.sort();
    flags.dedup();
    Evaluation {
        as_of,
        document_date: date,
        retention_rule: rule.map(|r| r.number),
        retention_class: rule.map(|r| r.class.clone()),
        retention: rule.map(|r| r.period),
        retention_start: span.and_then(|s| s.start),
        retention_end: span.and_then(|s| s.end),
        action: rule.and_then(|r| r.action),
        hold,
        flags,
        reasons,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::records::rules::RecordsConfig;
    use jiff::civil::date;

    const RULES: &str = r#"
[[retention]]
path = "**/職員課/給与/**"
class = "給与・源泉徴収"
years = 7
action = "廃棄"
[[retention]]
path = "**/総務課/例規/**"
class = "例規"
years = 30
action = "移管"
[[retention]]
path = "**/総務課/情報公開/**"
class = "情報公開"
years = 5
action = "廃棄"
[[retention]]
path = "**/人事記録/**"
class = "人事記録"
years = "常用"
[[retention]]
path = "**/連絡/**"
class = "連絡・照会"
years = "1年未満"
[[retention]]
path = "**/総務課/**"
class = "総務 一般"
years = 3
action = "廃棄"

[[my_number_area]]
path = "**/職員課/給与/**"
purpose = "給与所得の源泉徴収事務"

[[legal_hold]]
path = "**/情報公開/令和4年度/**"
reason = "開示請求 第22-114号"
decided = 2026-03-15
"#;

    fn rules() -> Rules {
        Rules::compile(&toml::from_str::<RecordsConfig>(RULES).unwrap()).unwrap()
    }

    fn facts(path: &str, counts: &[(Kind, u32)]) -> FileFacts {
        FileFacts {
            finding_counts: counts.iter().copied().collect(),
            ..FileFacts::new(path)
        }
    }

    fn flags(e: &Evaluation) -> Vec<&'static str> {
        e.flag_names()
    }

    #[test]
    fn both_sides_of_an_expiry_date() {
        let r = rules();
        // 令和元年度 → 2020-03-31 → 起算 2020-04-01 → 5年 → 満了 2025-03-31.
        let f = facts(
            "総務課/情報公開/令和元年度/請求書.pdf",
            &[(Kind::PersonName, 2)],
        );
        let e = evaluate(&r, &f, date(2025, 3, 31));
        assert_eq!(
            e.document_date.as_ref().map(|d| d.date),
            Some(date(2020, 3, 31))
        );
        assert_eq!(
            e.document_date.as_ref().map(|d| d.source),
            Some(DateSource::Path)
        );
        assert_eq!(e.retention_start, Some(date(2020, 4, 1)));
        assert_eq!(e.retention_end, Some(date(2025, 3, 31)));
        assert_eq!(e.retention_class.as_deref(), Some("情報公開"));
        assert_eq!(e.retention, Some(RetentionPeriod::Years(5)));
        assert_eq!(e.action, Some(Action::Dispose));
        assert_eq!(e.retention_rule, Some(3));
        assert!(flags(&e).is_empty(), "{:?}", e.flags);
        let e = evaluate(&r, &f, date(2025, 4, 1));
        assert_eq!(flags(&e), ["retention_expired", "disposal_candidate"]);
        // Without personal data the retention state is the same.
        let e = evaluate(
            &r,
            &facts("総務課/情報公開/令和元年度/請求書.pdf", &[]),
            date(2025, 4, 1),
        );
        assert_eq!(flags(&e), ["retention_expired", "disposal_candidate"]);
    }

    #[test]
    fn transfer_at_expiry() {
        let e = evaluate(
            &rules(),
            &facts("総務課/例規/昭和63年度/条例.docx", &[]),
            date(2020, 1, 1),
        );
        assert_eq!(e.retention_end, Some(date(2019, 3, 31)));
        assert_eq!(flags(&e), ["retention_expired", "transfer_candidate"]);
        assert_eq!(e.action, Some(Action::Transfer));
    }

    #[test]
    fn first_matching_rule_decides() {
        // 総務課/情報公開 matches rule 3 and the catch-all rule 6: 3 wins.
        let e = evaluate(
            &rules(),
            &facts("総務課/情報公開/a.pdf", &[]),
            date(2026, 1, 1),
        );
        assert_eq!(e.retention_rule, Some(3));
        let e = evaluate(&rules(), &facts("総務課/庶務/a.pdf", &[]), date(2026, 1, 1));
        assert_eq!(e.retention_rule, Some(6));
        assert_eq!(e.retention_class.as_deref(), Some("総務 一般"));
    }

    #[test]
    fn holds_suppress_candidates_while_active() {
        let r = rules();
        // The nearest year is H30年度 (FY2018): 満了 2024-03-31; the folder
        // 令和4年度 is under a hold through 2027-03-15.
        let f = facts(
            "総務課/情報公開/令和4年度/H30年度/請求書.pdf",
            &[(Kind::MyNumber, 1), (Kind::PersonName, 1)],
        );
        let e = evaluate(&r, &f, date(2026, 6, 1));
        assert_eq!(e.retention_end, Some(date(2024, 3, 31)));
        assert_eq!(
            flags(&e),
            [
                "retention_expired",
                "my_number_outside_area",
                "my_number_retention_exceeded",
                "legal_hold"
            ]
        );
        let hold = e.hold.clone().unwrap();
        assert_eq!((hold.number, hold.until), (1, date(2027, 3, 15)));
        assert!(e.reasons.contains(&Reason::MyNumberRetentionExceeded {
            count: 1,
            end: date(2024, 3, 31),
            hold_until: Some(date(2027, 3, 15)),
        }));
        let ja = e.explain(Lang::Ja).join("\n");
        assert!(
            ja.contains("2027-03-15 まで保存期間延長中のため廃棄しません"),
            "{ja}"
        );
        assert!(ja.contains("決定日 2026-03-15 の翌日から1年間"), "{ja}");
        // The last day of the hold, and the day after.
        let e = evaluate(&r, &f, date(2027, 3, 15));
        assert!(e.has(Flag::LegalHold) && !e.has(Flag::DisposalCandidate));
        let e = evaluate(&r, &f, date(2027, 3, 16));
        assert!(!e.has(Flag::LegalHold));
        assert!(e.has(Flag::DisposalCandidate) && e.has(Flag::MyNumberRetentionExceeded));
        assert_eq!(e.hold, None);
        assert!(e
            .reasons
            .iter()
            .any(|x| matches!(x, Reason::HoldEnded { until, .. } if *until == date(2027, 3, 15))));
        // A hold on a file still within retention is a flag of its own.
        let e = evaluate(
            &r,
            &facts("総務課/情報公開/令和4年度/決定.pdf", &[]),
            date(2026, 6, 1),
        );
        assert_eq!(flags(&e), ["legal_hold"]);
    }

    #[test]
    fn the_longest_active_hold_is_reported() {
        let text = format!(
            "{RULES}\n[[legal_hold]]\npath = \"**/情報公開/**\"\nreason = \"審査請求\"\nuntil = 2028-12-31\n\
             [[legal_hold]]\npath = \"**/情報公開/**\"\nreason = \"監査\"\nuntil = 2020-01-01\n"
        );
        let r = Rules::compile(&toml::from_str::<RecordsConfig>(&text).unwrap()).unwrap();
        let e = evaluate(
            &r,
            &facts("総務課/情報公開/令和4年度/a.pdf", &[]),
            date(2026, 6, 1),
        );
        let hold = e.hold.unwrap();
        assert_eq!((hold.number, hold.reason.as_str()), (2, "審査請求"));
        assert_eq!(
            e.reasons
                .iter()
                .filter(|x| matches!(x, Reason::LegalHold { .. }))
                .count(),
            2
        );
        assert_eq!(
            e.reasons
                .iter()
                .filter(|x| matches!(x, Reason::HoldEnded { .. }))
                .count(),
            1
        );
    }

    #[test]
    fn retention_unknown_only_with_personal_data() {
        let r = rules();
        let e = evaluate(
            &r,
            &facts("市民課/窓口/メモ.txt", &[(Kind::PhoneNumber, 1)]),
            date(2026, 1, 1),
        );
        assert_eq!(flags(&e), ["retention_unknown"]);
        assert!(e.reasons.contains(&Reason::NoRuleMatched { flagged: true }));
        let e = evaluate(&r, &facts("市民課/窓口/メモ.txt", &[]), date(2026, 1, 1));
        assert!(e.flags.is_empty());
        // A corporate number alone is not personal data.
        let e = evaluate(
            &r,
            &facts("市民課/窓口/メモ.txt", &[(Kind::CorporateNumber, 4)]),
            date(2026, 1, 1),
        );
        assert!(e.flags.is_empty());
        // A rule but no date at all: unknown as well.
        let e = evaluate(
            &r,
            &facts("総務課/庶務/a.pdf", &[(Kind::PersonName, 1)]),
            date(2026, 1, 1),
        );
        assert_eq!(flags(&e), ["retention_unknown"]);
        assert!(e
            .reasons
            .contains(&Reason::NoDocumentDate { flagged: true }));
        assert_eq!((e.retention_start, e.retention_end), (None, None));
    }

    #[test]
    fn a_date_past_the_calendar_is_not_expired() {
        let f = FileFacts {
            mtime_date: Some(date(9999, 1, 1)),
            ..facts("総務課/庶務/a.pdf", &[(Kind::PersonName, 1)])
        };
        let e = evaluate(&rules(), &f, date(2026, 1, 1));
        assert!(e.flags.is_empty(), "{:?}", e.flags);
        assert_eq!(e.retention_end, None);
    }

    #[test]
    fn my_number_areas_and_retention() {
        let r = rules();
        let outside = evaluate(
            &r,
            &facts("市民課/名簿.xlsx", &[(Kind::MyNumber, 3)]),
            date(2026, 1, 1),
        );
        assert!(outside.has(Flag::MyNumberOutsideArea));
        assert!(outside
            .reasons
            .contains(&Reason::MyNumberOutsideArea { count: 3 }));
        // 職員課/給与/H28年度: FY2016 → 起算 2017-04-01 → 7年 → 満了 2024-03-31.
        let f = facts(
            "職員課/給与/H28年度/源泉徴収簿.xlsx",
            &[(Kind::MyNumber, 2)],
        );
        let e = evaluate(&r, &f, date(2024, 3, 31));
        assert!(e.flags.is_empty(), "{:?}", e.flags);
        assert!(e
            .reasons
            .iter()
            .any(|x| matches!(x, Reason::MyNumberInArea { number: 1, .. })));
        let e = evaluate(&r, &f, date(2024, 4, 1));
        assert_eq!(
            flags(&e),
            [
                "retention_expired",
                "disposal_candidate",
                "my_number_retention_exceeded"
            ]
        );
        let en = e.explain(Lang::En).join("\n");
        assert!(en.contains("delete as soon as possible"), "{en}");
    }

    #[test]
    fn classes_that_never_expire_and_less_than_a_year() {
        let r = rules();
        let e = evaluate(
            &r,
            &facts(
                "職員課/人事記録/S50年度/履歴.xlsx",
                &[(Kind::PersonName, 1)],
            ),
            date(2090, 1, 1),
        );
        assert!(e.flags.is_empty());
        assert_eq!(e.retention, Some(RetentionPeriod::InUse));
        assert_eq!(
            (e.retention_start, e.retention_end, e.action),
            (None, None, None)
        );
        let f = FileFacts {
            metadata_date: Some(date(2024, 6, 10)),
            mtime_date: Some(date(2025, 9, 1)),
            ..facts("総務課/連絡/照会.txt", &[])
        };
        let e = evaluate(&r, &f, date(2025, 6, 9));
        assert_eq!(
            e.document_date.as_ref().map(|d| d.source),
            Some(DateSource::Metadata)
        );
        assert_eq!(e.retention_start, Some(date(2024, 6, 10)));
        assert_eq!(e.retention_end, Some(date(2025, 6, 9)));
        assert!(e.flags.is_empty());
        let e = evaluate(&r, &f, date(2025, 6, 10));
        assert_eq!(flags(&e), ["retention_expired", "disposal_candidate"]);
    }

    #[test]
    fn mail_flags() {
        let r = rules();
        let f = FileFacts {
            mail_export: true,
            outbound_messages: 2,
            ..facts(
                "メール/2023.mbox",
                &[(Kind::EmailAddress, 5), (Kind::PersonName, 1)],
            )
        };
        let e = evaluate(&r, &f, date(2026, 1, 1));
        assert_eq!(
            flags(&e),
            [
                "retention_unknown",
                "outbound_leak_candidate",
                "personal_data_in_mail_export"
            ]
        );
        assert!(e.reasons.contains(&Reason::OutboundLeak { messages: 2 }));
        assert!(e
            .reasons
            .contains(&Reason::PersonalDataInMailExport { findings: 6 }));
        // A mail export without personal findings is not flagged.
        let f = FileFacts {
            mail_export: true,
            ..facts("メール/2023.mbox", &[(Kind::CorporateNumber, 1)])
        };
        assert!(evaluate(&r, &f, date(2026, 1, 1)).flags.is_empty());
    }

    #[test]
    fn breach_report_hint_criteria() {
        let r = rules();
        let persons = |n: u32| FileFacts {
            distinct_persons: n,
            ..facts("職員課/給与/R7/名簿.xlsx", &[(Kind::PersonName, n)])
        };
        assert!(!evaluate(&r, &persons(100), date(2026, 1, 1)).has(Flag::BreachReportHint));
        let e = evaluate(&r, &persons(101), date(2026, 1, 1));
        assert_eq!(flags(&e), ["breach_report_hint"]);
        assert!(e
            .reasons
            .contains(&Reason::BreachHint(BreachCriterion::Persons {
                persons: 101,
                threshold: 100
            })));
        assert!(e
            .explain(Lang::Ja)
            .join("")
            .contains("本人の数 101 人が 100 人を超えます"));

        let f = FileFacts {
            outbound_messages: 1,
            outbound_my_number: true,
            ..facts("職員課/給与/R7/送信.eml", &[(Kind::MyNumber, 1)])
        };
        let e = evaluate(&r, &f, date(2026, 1, 1));
        assert!(e.has(Flag::BreachReportHint) && e.has(Flag::OutboundLeakCandidate));
        assert!(e
            .reasons
            .contains(&Reason::BreachHint(BreachCriterion::OutboundMyNumber)));

        let f = FileFacts {
            sensitive_keywords: vec!["病歴".into(), "生活保護".into()],
            ..facts("職員課/給与/R7/メモ.txt", &[(Kind::PersonName, 1)])
        };
        let e = evaluate(&r, &f, date(2026, 1, 1));
        assert_eq!(flags(&e), ["breach_report_hint"]);
        assert!(e.explain(Lang::Ja).join("").contains("病歴、生活保護"));
        assert!(e.explain(Lang::En).join("").contains("病歴, 生活保護"));
        // Keywords without personal data are not a hint.
        let f = FileFacts {
            sensitive_keywords: vec!["病歴".into()],
            ..facts("職員課/給与/R7/メモ.txt", &[])
        };
        assert!(evaluate(&r, &f, date(2026, 1, 1)).flags.is_empty());

        // All three at once: three reasons, one flag.
        let f = FileFacts {
            distinct_persons: 500,
            outbound_messages: 1,
            outbound_my_number: true,
            sensitive_keywords: vec!["障害".into()],
            ..facts("職員課/給与/R7/全部.eml", &[(Kind::MyNumber, 500)])
        };
        let e = evaluate(&r, &f, date(2026, 1, 1));
        assert_eq!(
            e.reasons
                .iter()
                .filter(|x| x.flags() == [Flag::BreachReportHint])
                .count(),
            3
        );
        assert_eq!(
            e.flags
                .iter()
                .filter(|f| **f == Flag::BreachReportHint)
                .count(),
            1
        );
    }

    #[test]
    fn threshold_is_configurable() {
        let text = format!("[records]\nbreach_person_threshold = 10\n{RULES}");
        let r = Rules::compile(&toml::from_str::<RecordsConfig>(&text).unwrap()).unwrap();
        let f = FileFacts {
            distinct_persons: 11,
            ..facts("職員課/給与/R7/名簿.xlsx", &[(Kind::PersonName, 11)])
        };
        assert!(evaluate(&r, &f, date(2026, 1, 1)).has(Flag::BreachReportHint));
    }

    #[test]
    fn distinct_persons_is_the_largest_identifying_kind() {
        let fps = [
            (Kind::MyNumber, "a"),
            (Kind::MyNumber, "b"),
            (Kind::MyNumber, "a"),
            (Kind::PersonName, "x"),
            (Kind::PersonName, "y"),
            (Kind::PersonName, "z"),
            (Kind::PhoneNumber, "1"),
            (Kind::PhoneNumber, "2"),
            (Kind::PhoneNumber, "3"),
            (Kind::PhoneNumber, "4"),
        ];
        assert_eq!(distinct_persons(fps), 3);
        assert_eq!(distinct_persons([]), 0);
    }

    #[test]
    fn flag_names_are_stable_and_render_in_both_languages() {
        let names: Vec<&str> = Flag::ALL.iter().map(|f| f.as_str()).collect();
        assert_eq!(
            names,
            [
                "retention_expired",
                "disposal_candidate",
                "transfer_candidate",
                "retention_unknown",
                "my_number_outside_area",
                "my_number_retention_exceeded",
                "legal_hold",
                "outbound_leak_candidate",
                "personal_data_in_mail_export",
                "breach_report_hint"
            ]
        );
        for f in Flag::ALL {
            assert_eq!(f.as_str().parse::<Flag>(), Ok(f));
            assert_eq!(
                serde_json::to_string(&f).unwrap(),
                format!("\"{}\"", f.as_str())
            );
            assert!(!f.label_ja().is_empty() && f.label_en().is_ascii());
        }
        assert_eq!(Flag::DisposalCandidate.label_ja(), "廃棄候補");
        assert_eq!(Flag::TransferCandidate.label_ja(), "移管候補");
        assert!("retention".parse::<Flag>().is_err());
        assert_eq!("en".parse::<Lang>(), Ok(Lang::En));
        assert_eq!(Lang::default(), Lang::Ja);
    }

    #[test]
    fn explain_says_which_rule_date_and_source() {
        let r = rules();
        let f = FileFacts {
            metadata_date: Some(date(2019, 5, 1)),
            ..facts(
                "総務課/情報公開/令和元年度/請求書.pdf",
                &[(Kind::PersonName, 1)],
            )
        };
        let e = evaluate(&r, &f, date(2025, 4, 1));
        let ja = e.explain(Lang::Ja);
        assert_eq!(
            ja[0],
            "文書の日付: 2020-03-31（フォルダ名「令和元年度」の「令和元年度」: 2019年度の末日）"
        );
        assert_eq!(
            ja[1],
            "保存期間の規則: [[retention]] #3「**/総務課/情報公開/**」に一致 → 分類「情報公開」、保存期間 5年、満了時の措置 廃棄"
        );
        assert_eq!(
            ja[2],
            "保存期間満了: 満了日 2025-03-31 を過ぎています → 廃棄候補"
        );
        let en = e.explain(Lang::En);
        assert_eq!(
            en[0],
            "document date: 2020-03-31 (the folder \"令和元年度\" says \"令和元年度\": the last day of fiscal year 2019)"
        );
        assert_eq!(
            en[2],
            "retention expired: it ended on 2025-03-31; candidate for disposal"
        );
        // Every flag is explained by some reason.
        for flag in &e.flags {
            assert!(e.reasons.iter().any(|x| x.flags().contains(flag)), "{flag}");
        }
        let f = FileFacts {
            metadata_date: Some(date(2019, 5, 1)),
            ..facts("総務課/情報公開/請求書.pdf", &[])
        };
        let e = evaluate(&r, &f, date(2020, 1, 1));
        assert_eq!(
            e.explain(Lang::Ja)[0],
            "文書の日付: 2019-05-01（文書のプロパティ（作成日時））"
        );
        assert_eq!(
            e.explain(Lang::Ja)[2],
            "保存期間内: 起算日 2020-04-01、満了日 2025-03-31"
        );
    }
}
