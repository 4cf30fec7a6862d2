//! Review by records officers: what a decision on a finding can be, and
//! the state a finding's decisions give it.
//!
//! Decisions are append-only events (who, when, what, a note); a finding's
//! state is derived from the latest decision on the same value
//! (kind + fingerprint) in the same file — the same file row, which moves
//! and renames keep, or a file with the same content (deleted and
//! restored). `false_positive` takes a finding out of counts, flags and
//! reports; a `remediated` value that a later scan finds again is
//! `regressed`; `retained` needs a note (the legal basis); `hold` marks a
//! value kept because of a legal hold. The SQL lives in `store::review`.

use std::fmt;
use std::str::FromStr;

use crate::finding::{Confidence, Kind};

/// What a records officer decided about a finding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, clap::ValueEnum)]
#[value(rename_all = "snake_case")]
pub enum Decision {
    /// It is personal data, and it is where it should not be (or needs action).
    Confirmed,
    /// Not personal data: leaves counts, flags and reports.
    FalsePositive,
    /// The data was removed or masked in the file.
    Remediated,
    /// Kept lawfully (the note says on what basis).
    Retained,
    /// Kept because of a legal hold (開示請求, 訴訟 …).
    Hold,
}

impl Decision {
    pub const ALL: [Decision; 5] = [
        Decision::Confirmed,
        Decision::FalsePositive,
        Decision::Remediated,
        Decision::Retained,
        Decision::Hold,
    ];

    pub fn as_str(self) -> &'static str {
        self.state().as_str()
    }

    /// The state a finding takes from this decision.
    pub fn state(self) -> ReviewState {
        match self {
            Decision::Confirmed => ReviewState::Confirmed,
            Decision::FalsePositive => ReviewState::FalsePositive,
            Decision::Remediated => ReviewState::Remediated,
            Decision::Retained => ReviewState::Retained,
            Decision::Hold => ReviewState::Hold,
        }
    }

    /// Whether the decision must say why (the legal basis of keeping data).
    pub fn needs_note(self) -> bool {
        matches!(self, Decision::Retained | Decision::Hold)
    }
}

impl FromStr for Decision {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Decision::ALL
            .into_iter()
            .find(|d| d.as_str() == s)
            .ok_or_else(|| {
                format!("unknown decision {s:?} (confirmed, false_positive, remediated, retained or hold)")
            })
    }
}

/// A finding's review state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, clap::ValueEnum)]
#[value(rename_all = "snake_case")]
pub enum ReviewState {
    /// Not decided on yet.
    Open,
    Confirmed,
    FalsePositive,
    Remediated,
    Retained,
    /// Marked remediated, and found again by a later scan.
    Regressed,
    Hold,
}

impl ReviewState {
    pub const ALL: [ReviewState; 7] = [
        ReviewState::Open,
        ReviewState::Confirmed,
        ReviewState::FalsePositive,
        ReviewState::Remediated,
        ReviewState::Retained,
        ReviewState::Regressed,
        ReviewState::Hold,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ReviewState::Open => "open",
            ReviewState::Confirmed => "confirmed",
            ReviewState::FalsePositive => "false_positive",
            ReviewState::Remediated => "remediated",
            ReviewState::Retained => "retained",
            ReviewState::Regressed => "regressed",
            ReviewState::Hold => "hold",
        }
    }

    pub fn label_ja(self) -> &'static str {
        match self {
            ReviewState::Open => "未対応",
            ReviewState::Confirmed => "確認済み",
            ReviewState::FalsePositive => "誤検出",
            ReviewState::Remediated => "対処済み",
            ReviewState::Retained => "保有継続",
            ReviewState::Regressed => "再検出",
            ReviewState::Hold => "保存延長（法的保留）",
        }
    }

    pub fn label_en(self) -> &'static str {
        match self {
            ReviewState::Open => "open",
            ReviewState::Confirmed => "confirmed",
            ReviewState::FalsePositive => "false positive",
            ReviewState::Remediated => "remediated",
            ReviewState::Retained => "retained",
            ReviewState::Regressed => "regressed",
            ReviewState::Hold => "on hold",
        }
    }
}

impl fmt::Display for ReviewState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ReviewState {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        ReviewState::ALL
            .into_iter()
            .find(|d| d.as_str() == s)
            .ok_or_else(|| format!("unknown review state {s:?}"))
    }
}

/// Which findings a list, a count or a decision covers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FindingFilter {
    /// A records flag the file carries (`my_number_outside_area` …).
    pub flag: Option<String>,
    pub kind: Option<Kind>,
    /// The display path of a root (from its label in the configuration).
    pub root: Option<String>,
    /// The review state; `None`: every unresolved finding but false positives.
    pub status: Option<ReviewState>,
    pub min_confidence: Option<Confidence>,
    /// One file.
    pub file_id: Option<i64>,
    /// One finding.
    pub finding_id: Option<i64>,
    /// Findings first seen on or after this day (`YYYY-MM-DD`).
    pub since: Option<String>,
    /// Roots a restricted user may see (display paths); empty: all.
    pub allowed_roots: Vec<String>,
    /// With no `status`: the findings open at this moment (an RFC 3339
    /// timestamp as the store writes them: first seen before it, not
    /// resolved by then, not false positives) instead of those open now.
    /// The weekly report lists the findings open at the end of its week.
    pub open_at: Option<String>,
}

/// A finding as listed for review.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct FindingRow {
    pub id: i64,
    pub file_id: i64,
    pub path: String,
    /// The root the file was found under (its path as shown), if known.
    pub root: Option<String>,
    pub member: Option<String>,
    pub kind: String,
    pub confidence: String,
    pub location: String,
    pub masked: String,
    pub state: String,
    pub first_seen: String,
    pub last_seen: String,
    pub resolved: Option<String>,
    /// The file's records flags.
    pub flags: Vec<String>,
}

/// One line of a file's trail: a decision or a store event.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct TrailEntry {
    pub at: String,
    /// `decision` or the event's kind (`file_added`, `findings_resolved` …).
    pub what: String,
    pub reviewer: Option<String>,
    pub detail: String,
}
