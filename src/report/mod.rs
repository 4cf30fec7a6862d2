//! Reports for managers and auditors, from the store alone (no rescan).
//!
//! [`WeeklyReport::gather`] collects everything the weekly report says —
//! figures with last week's for comparison, a 12-week trend, and the lists
//! a records officer acts on — as plain data; the renderers (`html`,
//! `xlsx`, `csv`, `json`) only lay it out, so that every count in every
//! format is the same number, taken from the store once. Weeks are ISO
//! weeks (Monday to Sunday) in Japan time.
//!
//! Findings marked `false_positive` are left out of every count and list.
//! Records flags are evaluated as of the report's day with the
//! configuration's rules.

use std::collections::BTreeMap;

use jiff::civil::{Date, Weekday};
use rusqlite::{params, Connection};
use serde::Serialize;

use crate::keys::KeySet;
use crate::records::apply::{evaluate_files, FileVerdict, RecordsContext};
use crate::records::Flag;
use crate::store::StoreError;

/// The weeks the trend covers.
pub const TREND_WEEKS: usize = 12;

/// An ISO week: its label (`2026-W48`), Monday and Sunday.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Week {
    pub year: i16,
    pub number: i8,
    pub start: Date,
    pub end: Date,
}

impl Week {
    /// The week holding `d`.
    pub fn of(d: Date) -> Week {
        let iso = d.iso_week_date();
        let start = d
            .checked_sub(jiff::Span::new().days(i64::from(iso.weekday().to_monday_zero_offset())))
            .unwrap_or(d);
        Week {
            year: iso.year(),
            number: iso.week(),
            start,
            end: start
                .checked_add(jiff::Span::new().days(6))
                .unwrap_or(start),
        }
    }

    /// Parses `2026-W48`.
    pub fn parse(s: &str) -> Result<Week, String> {
        let bad = || format!("{s:?} is not an ISO week (e.g. 2026-W48)");
        let (y, w) = s.trim().split_once("-W").ok_or_else(bad)?;
        let year: i16 = y.parse().map_err(|_| bad())?;
        let week: i8 = w.parse().map_err(|_| bad())?;
        let d = jiff::civil::ISOWeekDate::new(year, week, Weekday::Monday).map_err(|_| bad())?;
        Ok(Week::of(d.date()))
    }

    pub fn label(&self) -> String {
        format!("{}-W{:02}", self.year, self.number)
    }

    /// The week before.
    pub fn previous(&self) -> Week {
        Week::of(
            self.start
                .checked_sub(jiff::Span::new().days(1))
                .unwrap_or(self.start),
        )
    }

    /// The first moment after the week (next Monday 00:00 in Japan), as the
    /// store writes times (RFC 3339 UTC, milliseconds): a bound for
    /// comparing stored timestamps as text.
    pub fn end_bound(&self) -> String {
        day_start_utc(
            self.end
                .checked_add(jiff::Span::new().days(1))
                .unwrap_or(self.end),
        )
    }

    pub fn start_bound(&self) -> String {
        day_start_utc(self.start)
    }
}

/// Midnight in Japan of `d`, as an RFC 3339 UTC timestamp with milliseconds.
pub fn day_start_utc(d: Date) -> String {
    d.to_zoned(crate::time::jst())
        .map(|z| z.timestamp().strftime("%Y-%m-%dT%H:%M:%S%.3fZ").to_string())
        .unwrap_or_default()
}

/// The headline figures of one week (as of its end).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Totals {
    /// Open findings (not resolved, not false positives).
    pub open_findings: i64,
    /// Files holding open findings.
    pub open_files: i64,
    /// Files holding an open My Number finding (medium or above).
    pub my_number_files: i64,
    /// Findings first seen during the week.
    pub new_findings: i64,
    /// Findings resolved during the week.
    pub resolved_findings: i64,
    /// Review decisions recorded during the week.
    pub decisions: i64,
    /// Files that could not be read (live files with an unreadable reason).
    pub unreadable_files: i64,
    /// Files tracked (not deleted).
    pub files_tracked: i64,
}

/// One week of the trend.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TrendPoint {
    pub week: String,
    pub end: Date,
    pub open_by_kind: BTreeMap<String, i64>,
    pub new_findings: i64,
    pub resolved_findings: i64,
}

/// A finding in a list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FindingItem {
    pub id: i64,
    pub path: String,
    pub root: String,
    pub member: Option<String>,
    pub kind: String,
    pub confidence: String,
    pub location: String,
    pub masked: String,
    pub state: String,
    pub first_seen: String,
}

/// A file in a records list, with what the rules say about it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FileItem {
    pub path: String,
    pub root: String,
    pub flags: Vec<String>,
    pub finding_counts: BTreeMap<String, u32>,
    pub document_date: Option<Date>,
    pub date_source: Option<String>,
    pub retention_class: Option<String>,
    pub retention: Option<String>,
    pub retention_start: Option<Date>,
    pub retention_end: Option<Date>,
    pub action: Option<String>,
    pub hold_until: Option<Date>,
    /// The reasons, one line each, in the report's language.
    pub reasons: Vec<String>,
}

/// A file that could not be read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UnreadableItem {
    pub path: String,
    pub root: String,
    pub reason: String,
    pub format: Option<String>,
}

/// A batch of review decisions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReviewItem {
    pub at: String,
    pub reviewer: String,
    pub decision: String,
    pub findings: i64,
}

/// Everything the weekly report says.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WeeklyReport {
    pub week: String,
    pub week_start: Date,
    pub week_end: Date,
    /// The day records flags are evaluated for.
    pub as_of: Date,
    pub generated_at: String,
    pub totals: Totals,
    /// The same figures for the week before (for deltas).
    pub previous: Totals,
    pub open_by_kind: BTreeMap<String, i64>,
    pub previous_open_by_kind: BTreeMap<String, i64>,
    /// Files per records flag, as of `as_of`.
    pub files_by_flag: BTreeMap<String, i64>,
    /// Oldest week first, this week last.
    pub trend: Vec<TrendPoint>,
    /// Files with My Number (open, medium or above) per root (課).
    pub my_number_files_by_root: BTreeMap<String, i64>,
    pub unreadable_by_reason: BTreeMap<String, i64>,
    /// New high-confidence findings of the week.
    pub new_high: Vec<FindingItem>,
    /// Files with open findings: counts by kind.
    pub open_files: Vec<FileItem>,
    /// Files per flag of interest (as of `as_of`).
    pub outside_area: Vec<FileItem>,
    pub retention_expired: Vec<FileItem>,
    pub outbound: Vec<FileItem>,
    pub breach_hints: Vec<FileItem>,
    pub unreadable: Vec<UnreadableItem>,
    /// Review decisions of the week, newest first.
    pub review: Vec<ReviewItem>,
}

const OPEN: &str = "f.review_state != 'false_positive'";

/// Open findings at the end of a week (first seen before it, not resolved
/// by then), by kind.
fn open_by_kind_at(conn: &Connection, bound: &str) -> Result<BTreeMap<String, i64>, StoreError> {
    let mut st = conn.prepare_cached(&format!(
        "SELECT f.kind, count(*) FROM findings f WHERE {OPEN} AND f.first_seen_at < ?1
           AND (f.resolved_at IS NULL OR f.resolved_at >= ?1) GROUP BY f.kind"
    ))?;
    let rows = st.query_map(params![bound], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

fn count(conn: &Connection, sql: &str, p: impl rusqlite::Params) -> Result<i64, StoreError> {
    Ok(conn.query_row(sql, p, |r| r.get(0))?)
}

fn totals(conn: &Connection, week: &Week) -> Result<Totals, StoreError> {
    let (start, end) = (week.start_bound(), week.end_bound());
    let open_at = format!(
        "{OPEN} AND f.first_seen_at < ?1 AND (f.resolved_at IS NULL OR f.resolved_at >= ?1)"
    );
    Ok(Totals {
        open_findings: count(conn, &format!("SELECT count(*) FROM findings f WHERE {open_at}"), params![end])?,
        open_files: count(
            conn,
            &format!("SELECT count(DISTINCT f.file_id) FROM findings f WHERE {open_at}"),
            params![end],
        )?,
        my_number_files: count(
            conn,
            &format!(
                "SELECT count(DISTINCT f.file_id) FROM findings f WHERE {open_at} AND f.kind = 'my_number' AND f.confidence != 'low'"
            ),
            params![end],
        )?,
        new_findings: count(
            conn,
            &format!("SELECT count(*) FROM findings f WHERE {OPEN} AND f.first_seen_at >= ?1 AND f.first_seen_at < ?2"),
            params![start, end],
        )?,
        resolved_findings: count(
            conn,
            &format!("SELECT count(*) FROM findings f WHERE {OPEN} AND f.resolved_at >= ?1 AND f.resolved_at < ?2"),
            params![start, end],
        )?,
        decisions: count(
            conn,
            "SELECT count(*) FROM decisions WHERE at >= ?1 AND at < ?2",
            params![start, end],
        )?,
        unreadable_files: count(
            conn,
            "SELECT count(*) FROM files WHERE unreadable_reason IS NOT NULL AND first_seen_at < ?1
               AND (deleted_at IS NULL OR deleted_at >= ?1)",
            params![end],
        )?,
        files_tracked: count(
            conn,
            "SELECT count(*) FROM files WHERE first_seen_at < ?1 AND (deleted_at IS NULL OR deleted_at >= ?1)",
            params![end],
        )?,
    })
}

fn file_item(v: &FileVerdict, lang: crate::records::Lang) -> FileItem {
    let e = &v.evaluation;
    FileItem {
        path: v.path.clone(),
        root: v.root.clone(),
        flags: e.flag_names().iter().map(|s| s.to_string()).collect(),
        finding_counts: v
            .facts
            .finding_counts
            .iter()
            .map(|(k, n)| (k.as_str().to_string(), *n))
            .collect(),
        document_date: e.document_date.as_ref().map(|d| d.date),
        date_source: e
            .document_date
            .as_ref()
            .map(|d| d.source.as_str().to_string()),
        retention_class: e.retention_class.clone(),
        retention: e.retention.map(|r| r.to_string()),
        retention_start: e.retention_start,
        retention_end: e.retention_end,
        action: e.action.map(|a| a.as_str().to_string()),
        hold_until: e.hold.as_ref().map(|h| h.until),
        reasons: e.explain(lang),
    }
}

impl WeeklyReport {
    /// Gathers the report of `week` from the store, with records flags as
    /// of `as_of` (the week's last day unless given).
    pub fn gather(
        conn: &Connection,
        keys: &KeySet,
        records: &RecordsContext,
        week: Week,
        as_of: Option<Date>,
        lang: crate::records::Lang,
    ) -> Result<WeeklyReport, StoreError> {
        let as_of = as_of.unwrap_or(week.end);
        let (start, end) = (week.start_bound(), week.end_bound());
        let previous = week.previous();
        let mut trend = Vec::with_capacity(TREND_WEEKS);
        let mut w = week;
        for _ in 0..TREND_WEEKS {
            trend.push(TrendPoint {
                week: w.label(),
                end: w.end,
                open_by_kind: open_by_kind_at(conn, &w.end_bound())?,
                new_findings: count(
                    conn,
                    &format!("SELECT count(*) FROM findings f WHERE {OPEN} AND f.first_seen_at >= ?1 AND f.first_seen_at < ?2"),
                    params![w.start_bound(), w.end_bound()],
                )?,
                resolved_findings: count(
                    conn,
                    &format!("SELECT count(*) FROM findings f WHERE {OPEN} AND f.resolved_at >= ?1 AND f.resolved_at < ?2"),
                    params![w.start_bound(), w.end_bound()],
                )?,
            });
            w = w.previous();
        }
        trend.reverse();

        let verdicts = evaluate_files(conn, keys, records, as_of, None)?;
        let root_of: BTreeMap<i64, String> = verdicts
            .iter()
            .map(|v| (v.file_id, v.root.clone()))
            .collect();
        let mut files_by_flag: BTreeMap<String, i64> = BTreeMap::new();
        for v in &verdicts {
            for f in &v.evaluation.flags {
                *files_by_flag.entry(f.as_str().to_string()).or_default() += 1;
            }
        }
        let with = |flag: Flag| -> Vec<FileItem> {
            verdicts
                .iter()
                .filter(|v| v.evaluation.has(flag))
                .map(|v| file_item(v, lang))
                .collect()
        };
        let open_files: Vec<FileItem> = verdicts
            .iter()
            .filter(|v| v.facts.holds_personal_data())
            .map(|v| file_item(v, lang))
            .collect();
        let mut my_number_files_by_root: BTreeMap<String, i64> = BTreeMap::new();
        for v in &verdicts {
            if v.facts.my_numbers() > 0 {
                *my_number_files_by_root.entry(v.root.clone()).or_default() += 1;
            }
        }

        let mut new_high = Vec::new();
        let mut st = conn.prepare(&format!(
            "SELECT f.id, f.file_id, x.path, f.member, f.kind, f.confidence, f.location, f.masked, f.review_state, f.first_seen_at
             FROM findings f JOIN files x ON x.id = f.file_id
             WHERE {OPEN} AND f.resolved_at IS NULL AND f.confidence = 'high' AND f.first_seen_at >= ?1 AND f.first_seen_at < ?2
             ORDER BY f.id"
        ))?;
        let rows = st.query_map(params![start, end], |r| {
            let member: String = r.get(3)?;
            Ok((
                r.get::<_, i64>(1)?,
                FindingItem {
                    id: r.get(0)?,
                    path: r.get(2)?,
                    root: String::new(),
                    member: (!member.is_empty()).then_some(member),
                    kind: r.get(4)?,
                    confidence: r.get(5)?,
                    location: r.get(6)?,
                    masked: r.get(7)?,
                    state: r.get(8)?,
                    first_seen: r.get(9)?,
                },
            ))
        })?;
        for row in rows {
            let (file_id, mut item) = row?;
            item.root = root_of.get(&file_id).cloned().unwrap_or_default();
            new_high.push(item);
        }

        let mut unreadable = Vec::new();
        let mut unreadable_by_reason: BTreeMap<String, i64> = BTreeMap::new();
        let mut st = conn.prepare(
            "SELECT id, path, unreadable_reason, format FROM files
             WHERE deleted_at IS NULL AND unreadable_reason IS NOT NULL ORDER BY path",
        )?;
        let rows = st.query_map([], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, Option<String>>(3)?,
            ))
        })?;
        for row in rows {
            let (id, path, reason, format) = row?;
            *unreadable_by_reason.entry(reason.clone()).or_default() += 1;
            unreadable.push(UnreadableItem {
                path,
                root: root_of.get(&id).cloned().unwrap_or_default(),
                reason,
                format,
            });
        }

        let mut review = Vec::new();
        let mut st = conn.prepare(
            "SELECT min(at), reviewer, decision, count(*) FROM decisions WHERE at >= ?1 AND at < ?2
             GROUP BY batch ORDER BY batch DESC",
        )?;
        let rows = st.query_map(params![start, end], |r| {
            Ok(ReviewItem {
                at: r.get(0)?,
                reviewer: r.get(1)?,
                decision: r.get(2)?,
                findings: r.get(3)?,
            })
        })?;
        for row in rows {
            review.push(row?);
        }

        Ok(WeeklyReport {
            week: week.label(),
            week_start: week.start,
            week_end: week.end,
            as_of,
            generated_at: crate::time::now(),
            totals: totals(conn, &week)?,
            previous: totals(conn, &previous)?,
            open_by_kind: open_by_kind_at(conn, &end)?,
            previous_open_by_kind: open_by_kind_at(conn, &previous.end_bound())?,
            files_by_flag,
            trend,
            my_number_files_by_root,
            unreadable_by_reason,
            new_high,
            open_files,
            outside_area: with(Flag::MyNumberOutsideArea),
            retention_expired: with(Flag::RetentionExpired),
            outbound: with(Flag::OutboundLeakCandidate),
            breach_hints: with(Flag::BreachReportHint),
            unreadable,
            review,
        })
    }
}

/// The files whose retention ended (廃棄候補 and 移管候補), as of a day: the
/// rows of a 行政文書ファイル管理簿 extract for 文書主管課.
pub fn retention_candidates(
    conn: &Connection,
    keys: &KeySet,
    records: &RecordsContext,
    as_of: Date,
    lang: crate::records::Lang,
) -> Result<Vec<FileItem>, StoreError> {
    Ok(evaluate_files(conn, keys, records, as_of, None)?
        .iter()
        .filter(|v| {
            v.evaluation.has(Flag::DisposalCandidate)
                || v.evaluation.has(Flag::TransferCandidate)
                || (v.evaluation.has(Flag::RetentionExpired) && v.evaluation.hold.is_some())
        })
        .map(|v| file_item(v, lang))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_weeks() {
        let w = Week::parse("2026-W48").unwrap();
        assert_eq!(w.start, jiff::civil::date(2026, 11, 23));
        assert_eq!(w.end, jiff::civil::date(2026, 11, 29));
        assert_eq!(Week::of(jiff::civil::date(2026, 11, 29)), w);
        assert_eq!(w.previous().label(), "2026-W47");
        // The week of 2027-01-01 (a Friday) is 2026-W53.
        assert_eq!(Week::of(jiff::civil::date(2027, 1, 1)).label(), "2026-W53");
        // Monday 00:00 in Japan is Sunday 15:00 UTC.
        assert_eq!(w.start_bound(), "2026-11-22T15:00:00.000Z");
        assert_eq!(w.end_bound(), "2026-11-29T15:00:00.000Z");
        assert!(Week::parse("2026-48").is_err());
    }
}
