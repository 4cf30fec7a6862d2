//! Reports for managers and auditors, from the store alone (no rescan).
//!
//! [`WeeklyReport::gather`] collects everything the weekly report says —
//! figures with last week's for comparison, a 12-week trend, and the lists
//! a records officer acts on — as plain data; the renderers ([`html`],
//! [`xlsx`], [`csv`], and serde for `report.json`) only lay it out, so
//! that every count in every format is the same number, taken from the
//! store once. Weeks are ISO weeks (Monday to Sunday) in Japan time.
//! Findings figures are as of the end of the week (first seen before it,
//! not resolved by then); records flags as of the report's day.
//!
//! Findings marked `false_positive` are left out of every count and list.
//! Records flags are evaluated as of the report's day with the
//! configuration's rules.

pub mod csv;
pub mod html;
pub mod labels;
pub mod xlsx;

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap, HashSet};

use jiff::civil::{Date, Weekday};
use rusqlite::{params, Connection};
use serde::Serialize;

use crate::finding::Kind;
use crate::keys::KeySet;
use crate::records::apply::{evaluate_files, for_each_verdict, FileVerdict, RecordsContext};
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
    /// The legal hold in force (施行令第9条), if any: its last day and reason.
    pub hold_until: Option<Date>,
    pub hold_reason: Option<String>,
    /// The reasons, one line each, in the report's language.
    pub reasons: Vec<ReasonLine>,
}

/// One line of why a file carries its flags.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReasonLine {
    pub text: String,
    /// The flags this line explains (none: context, such as the date used).
    pub flags: Vec<String>,
}

impl FileItem {
    /// The reason lines that explain `flag`.
    pub fn reasons_for(&self, flag: Flag) -> impl Iterator<Item = &str> {
        self.reasons
            .iter()
            .filter(move |r| r.flags.iter().any(|f| f == flag.as_str()))
            .map(|r| r.text.as_str())
    }
}

/// A file holding open findings at the end of the week, with its counts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OpenFile {
    /// The store's row id of the file (to join `findings.csv` rows).
    pub file_id: i64,
    pub path: String,
    pub root: String,
    /// Open findings by kind.
    pub counts: BTreeMap<Cow<'static, str>, i64>,
    pub total: i64,
    /// Open My Number findings of medium confidence or above (the files
    /// `my_number_files` counts).
    pub my_numbers: i64,
    /// Its records flags as of the report's day (none for a file deleted since).
    pub flags: Vec<&'static str>,
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

/// A value (same kind and keyed fingerprint: one organisation-wide key)
/// held on several sites, as only the centre sees it: the same person's
/// My Number copied to several file servers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SharedValue {
    pub kind: String,
    pub masked: String,
    /// The keyed fingerprint (hex): one value, whatever site found it.
    pub fingerprint: String,
    /// How many sites hold it.
    pub sites: usize,
    pub locations: Vec<ValueLocation>,
}

/// One place a shared value is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ValueLocation {
    pub site: String,
    /// `SITE:PATH`.
    pub path: String,
    pub member: Option<String>,
    pub location: String,
    pub state: String,
    /// The centre's id of the finding.
    pub finding_id: i64,
    /// The centre's id of its file (the review screen's file page).
    pub file_id: i64,
}

/// The version of `report.json`'s layout (README.md, "report.json"):
/// raised when a field changes meaning or goes; new fields may be added
/// without raising it.
pub const REPORT_SCHEMA_VERSION: u32 = 1;

/// Everything the weekly report says.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WeeklyReport {
    /// [`REPORT_SCHEMA_VERSION`].
    pub schema_version: u32,
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
    /// Unreadable files (as in `totals`) by reason.
    pub unreadable_by_reason: BTreeMap<String, i64>,
    /// New high-confidence findings of the week.
    pub new_high: Vec<FindingItem>,
    /// Files with open findings: counts by kind (by root, then path).
    pub open_files: Vec<OpenFile>,
    /// Files per flag of interest (as of `as_of`).
    pub outside_area: Vec<FileItem>,
    pub retention_expired: Vec<FileItem>,
    pub outbound: Vec<FileItem>,
    pub breach_hints: Vec<FileItem>,
    pub unreadable: Vec<UnreadableItem>,
    /// Review decisions of the week, newest first.
    pub review: Vec<ReviewItem>,
    /// The centre's report only (`report weekly --central`): the My
    /// Numbers open at the end of the week on two sites or more, masked,
    /// with their places (`SITE:PATH`); `None` (`null`) in a site's report,
    /// which sees one site.
    pub shared_values: Option<Vec<SharedValue>>,
}

const OPEN: &str = "f.review_state != 'false_positive'";

fn count(conn: &Connection, sql: &str, p: impl rusqlite::Params) -> Result<i64, StoreError> {
    Ok(conn.query_row(sql, p, |r| r.get(0))?)
}

/// A kind's name, borrowed when it is one this binary knows (most files
/// hold several: no allocation each).
pub(crate) fn kind_name(name: &str) -> Cow<'static, str> {
    match Kind::ALL.iter().find(|k| k.as_str() == name) {
        Some(k) => Cow::Borrowed(k.as_str()),
        None => Cow::Owned(name.to_string()),
    }
}

/// One file's open findings at the end of the week, while they are counted.
#[derive(Default)]
struct FileCounts {
    /// (kind number in [`FindingsPass::kinds`], findings)
    counts: Vec<(usize, i64)>,
    my_numbers: i64,
}

/// What one pass over the findings (false positives left out) tells the
/// report: the findings of each kind bucketed by the week they were first
/// seen and the week they were resolved, over the trend's weeks, and the
/// files with findings open at the end of the last two weeks. A query per
/// figure and week would read the million rows of a large store some
/// thirty times. Bucket `b` of a time `t` is the number of bounds at or
/// before it, the bounds being the first week's start and every week's
/// end; `weeks + 2` stands for "not resolved".
struct FindingsPass {
    weeks: usize,
    /// The kinds met, in the order met.
    kinds: Vec<String>,
    /// (kind, first-seen bucket, resolved bucket) → findings.
    cells: HashMap<(usize, usize, usize), i64>,
    /// Files with findings open at the end of the last week.
    files: HashMap<i64, FileCounts>,
    /// Files with findings, and with a My Number (medium or above), open at
    /// the end of the week before.
    previous_files: HashSet<i64>,
    previous_my_number_files: HashSet<i64>,
}

fn text<'r>(r: &'r rusqlite::Row<'_>, i: usize) -> rusqlite::Result<Option<&'r str>> {
    r.get_ref(i)?.as_str_or_null().map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(i, rusqlite::types::Type::Text, Box::new(e))
    })
}

impl FindingsPass {
    fn gather(conn: &Connection, weeks: &[Week]) -> Result<FindingsPass, StoreError> {
        let mut bounds = Vec::with_capacity(weeks.len() + 1);
        if let Some(first) = weeks.first() {
            bounds.push(first.start_bound());
        }
        bounds.extend(weeks.iter().map(Week::end_bound));
        let bucket = |t: Option<&str>| match t {
            None => bounds.len() + 1,
            Some(t) => bounds.partition_point(|b| b.as_str() <= t),
        };
        let (this, before) = (weeks.len(), weeks.len().saturating_sub(1));
        let mut pass = FindingsPass {
            weeks: weeks.len(),
            kinds: Vec::new(),
            cells: HashMap::new(),
            files: HashMap::new(),
            previous_files: HashSet::new(),
            previous_my_number_files: HashSet::new(),
        };
        let mut st = conn.prepare(&format!(
            "SELECT f.file_id, f.kind, f.confidence, f.first_seen_at, f.resolved_at FROM findings f WHERE {OPEN}"
        ))?;
        let mut rows = st.query([])?;
        while let Some(r) = rows.next()? {
            let file_id: i64 = r.get(0)?;
            let kind_name = text(r, 1)?.unwrap_or_default();
            let kind = match pass.kinds.iter().position(|k| k == kind_name) {
                Some(i) => i,
                None => {
                    pass.kinds.push(kind_name.to_string());
                    pass.kinds.len() - 1
                }
            };
            let my_number = kind_name == "my_number" && text(r, 2)? != Some("low");
            let (seen, gone) = (bucket(text(r, 3)?), bucket(text(r, 4)?));
            *pass.cells.entry((kind, seen, gone)).or_default() += 1;
            if seen <= this && gone > this {
                let f = pass.files.entry(file_id).or_default();
                match f.counts.iter_mut().find(|c| c.0 == kind) {
                    Some(c) => c.1 += 1,
                    None => f.counts.push((kind, 1)),
                }
                if my_number {
                    f.my_numbers += 1;
                }
            }
            if seen <= before && gone > before {
                pass.previous_files.insert(file_id);
                if my_number {
                    pass.previous_my_number_files.insert(file_id);
                }
            }
        }
        Ok(pass)
    }

    /// Open findings by kind at the end of week `k` (1 = the oldest).
    fn open_by_kind(&self, k: usize) -> BTreeMap<String, i64> {
        let mut m = BTreeMap::new();
        for ((kind, seen, gone), n) in &self.cells {
            if *seen <= k && *gone > k {
                *m.entry(self.kinds[*kind].clone()).or_default() += n;
            }
        }
        m
    }

    /// Findings first seen during week `k`.
    fn new_in(&self, k: usize) -> i64 {
        self.cells.iter().filter(|c| c.0 .1 == k).map(|c| c.1).sum()
    }

    /// Findings resolved during week `k`.
    fn resolved_in(&self, k: usize) -> i64 {
        self.cells.iter().filter(|c| c.0 .2 == k).map(|c| c.1).sum()
    }

    /// The figures of the last week (`previous`: of the week before) that
    /// come from the findings.
    fn totals(&self, previous: bool) -> Totals {
        let k = if previous { self.weeks - 1 } else { self.weeks };
        let (open_files, my_number_files) = if previous {
            (
                self.previous_files.len() as i64,
                self.previous_my_number_files.len() as i64,
            )
        } else {
            (
                self.files.len() as i64,
                self.files.values().filter(|f| f.my_numbers > 0).count() as i64,
            )
        };
        Totals {
            open_findings: self.open_by_kind(k).values().sum(),
            open_files,
            my_number_files,
            new_findings: self.new_in(k),
            resolved_findings: self.resolved_in(k),
            ..Totals::default()
        }
    }
}

/// The week's figures about decisions and files, added to those from the
/// findings.
fn totals(conn: &Connection, week: &Week, mut t: Totals) -> Result<Totals, StoreError> {
    let (start, end) = (week.start_bound(), week.end_bound());
    t.decisions = count(
        conn,
        "SELECT count(*) FROM decisions WHERE at >= ?1 AND at < ?2",
        params![start, end],
    )?;
    t.unreadable_files = count(
        conn,
        &format!("SELECT count(*) FROM files WHERE unreadable_reason IS NOT NULL AND {LIVE_AT}"),
        params![end],
    )?;
    t.files_tracked = count(
        conn,
        &format!("SELECT count(*) FROM files WHERE {LIVE_AT}"),
        params![end],
    )?;
    Ok(t)
}

/// Files known at bound ?1 and not deleted by then.
const LIVE_AT: &str = "first_seen_at < ?1 AND (deleted_at IS NULL OR deleted_at >= ?1)";

/// The label of a root as the store shows it (its path): the
/// configuration's label, or the path when the root is not configured.
pub fn root_label(records: &RecordsContext, shown_root: Option<&str>) -> String {
    let Some(shown) = shown_root else {
        return String::new();
    };
    records
        .roots
        .iter()
        .find(|r| crate::paths::display(&r.path) == shown)
        .map(|r| r.label.clone())
        .unwrap_or_else(|| shown.to_string())
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
        retention: e.retention.map(|r| match lang {
            crate::records::Lang::Ja => r.label_ja(),
            crate::records::Lang::En => r.label_en(),
        }),
        retention_start: e.retention_start,
        retention_end: e.retention_end,
        action: e.action.map(|a| a.as_str().to_string()),
        hold_until: e.hold.as_ref().map(|h| h.until),
        hold_reason: e.hold.as_ref().map(|h| h.reason.clone()),
        reasons: e
            .reasons
            .iter()
            .map(|r| ReasonLine {
                text: r.render(lang),
                flags: r.flags().iter().map(|f| f.as_str().to_string()).collect(),
            })
            .collect(),
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
        let t0 = std::time::Instant::now();
        let step =
            |what: &str| tracing::debug!("report: {what} at {:.2} s", t0.elapsed().as_secs_f64());
        let mut weeks = Vec::with_capacity(TREND_WEEKS);
        let mut w = week;
        for _ in 0..TREND_WEEKS {
            weeks.push(w);
            w = w.previous();
        }
        weeks.reverse();
        let pass = FindingsPass::gather(conn, &weeks)?;
        let trend: Vec<TrendPoint> = weeks
            .iter()
            .enumerate()
            .map(|(i, w)| TrendPoint {
                week: w.label(),
                end: w.end,
                open_by_kind: pass.open_by_kind(i + 1),
                new_findings: pass.new_in(i + 1),
                resolved_findings: pass.resolved_in(i + 1),
            })
            .collect();
        let label = |shown: Option<&str>| root_label(records, shown);
        step("findings");

        // Records flags, one file at a time: only what the report shows is kept.
        let mut files_by_flag: BTreeMap<String, i64> = BTreeMap::new();
        let mut flags_of: HashMap<i64, Vec<&'static str>> = HashMap::new();
        let (mut outside_area, mut retention_expired, mut outbound, mut breach_hints) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for_each_verdict(conn, keys, records, as_of, None, |v| {
            if v.evaluation.flags.is_empty() {
                return;
            }
            for f in &v.evaluation.flags {
                *files_by_flag.entry(f.as_str().to_string()).or_default() += 1;
            }
            for (flag, list) in [
                (Flag::MyNumberOutsideArea, &mut outside_area),
                (Flag::RetentionExpired, &mut retention_expired),
                (Flag::OutboundLeakCandidate, &mut outbound),
                (Flag::BreachReportHint, &mut breach_hints),
            ] {
                if v.evaluation.has(flag) {
                    list.push(file_item(&v, lang));
                }
            }
            if pass.files.contains_key(&v.file_id) {
                flags_of.insert(v.file_id, v.evaluation.flag_names());
            }
        })?;
        step("records flags");

        // Files with open findings at the end of the week: where they are.
        let mut open_files: Vec<OpenFile> = Vec::with_capacity(pass.files.len());
        let mut my_number_files_by_root: BTreeMap<String, i64> = BTreeMap::new();
        let mut roots: HashMap<String, String> = HashMap::new();
        let mut st = conn.prepare("SELECT id, path, root FROM files ORDER BY id")?;
        let mut rows = st.query([])?;
        while let Some(r) = rows.next()? {
            let id: i64 = r.get(0)?;
            let Some(counts) = pass.files.get(&id) else {
                continue;
            };
            let shown_root = text(r, 2)?;
            let root = match roots.get(shown_root.unwrap_or_default()) {
                Some(l) => l.clone(),
                None => {
                    let l = label(shown_root);
                    roots.insert(shown_root.unwrap_or_default().to_string(), l.clone());
                    l
                }
            };
            if counts.my_numbers > 0 {
                *my_number_files_by_root.entry(root.clone()).or_default() += 1;
            }
            open_files.push(OpenFile {
                file_id: id,
                path: r.get(1)?,
                root,
                counts: counts
                    .counts
                    .iter()
                    .map(|(k, n)| (kind_name(&pass.kinds[*k]), *n))
                    .collect(),
                total: counts.counts.iter().map(|c| c.1).sum(),
                my_numbers: counts.my_numbers,
                flags: flags_of.remove(&id).unwrap_or_default(),
            });
        }
        drop(rows);
        open_files.sort_by(|a, b| (&a.root, &a.path).cmp(&(&b.root, &b.path)));
        step("open files");

        let mut new_high = Vec::new();
        let mut st = conn.prepare(&format!(
            "SELECT f.id, x.root, x.path, f.member, f.kind, f.confidence, f.location, f.masked, f.review_state, f.first_seen_at
             FROM findings f JOIN files x ON x.id = f.file_id
             WHERE {OPEN} AND f.resolved_at IS NULL AND f.confidence = 'high' AND f.first_seen_at >= ?1 AND f.first_seen_at < ?2
             ORDER BY f.id"
        ))?;
        let rows = st.query_map(params![start, end], |r| {
            let member: String = r.get(3)?;
            Ok(FindingItem {
                id: r.get(0)?,
                root: label(r.get::<_, Option<String>>(1)?.as_deref()),
                path: r.get(2)?,
                member: (!member.is_empty()).then_some(member),
                kind: r.get(4)?,
                confidence: r.get(5)?,
                location: r.get(6)?,
                masked: r.get(7)?,
                state: r.get(8)?,
                first_seen: r.get(9)?,
            })
        })?;
        for row in rows {
            new_high.push(row?);
        }
        step("new high-confidence findings");

        let mut unreadable = Vec::new();
        let mut unreadable_by_reason: BTreeMap<String, i64> = BTreeMap::new();
        let mut st = conn.prepare(&format!(
            "SELECT root, path, unreadable_reason, format FROM files
             WHERE unreadable_reason IS NOT NULL AND {LIVE_AT} ORDER BY path"
        ))?;
        let rows = st.query_map(params![end], |r| {
            Ok(UnreadableItem {
                root: label(r.get::<_, Option<String>>(0)?.as_deref()),
                path: r.get(1)?,
                reason: r.get(2)?,
                format: r.get(3)?,
            })
        })?;
        for row in rows {
            let item = row?;
            *unreadable_by_reason.entry(item.reason.clone()).or_default() += 1;
            unreadable.push(item);
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
        let totals_now = totals(conn, &week, pass.totals(false))?;
        let totals_before = totals(conn, &previous, pass.totals(true))?;
        step("totals");

        Ok(WeeklyReport {
            schema_version: REPORT_SCHEMA_VERSION,
            week: week.label(),
            week_start: week.start,
            week_end: week.end,
            as_of,
            generated_at: crate::time::now(),
            totals: totals_now,
            previous: totals_before,
            open_by_kind: pass.open_by_kind(TREND_WEEKS),
            previous_open_by_kind: pass.open_by_kind(TREND_WEEKS - 1),
            files_by_flag,
            trend,
            my_number_files_by_root,
            unreadable_by_reason,
            new_high,
            open_files,
            outside_area,
            retention_expired,
            outbound,
            breach_hints,
            unreadable,
            review,
            shared_values: None,
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

    /// Findings open at bound ?1 (first seen before it, not resolved by then).
    const OPEN_AT: &str = "f.review_state != 'false_positive' AND f.first_seen_at < ?1
        AND (f.resolved_at IS NULL OR f.resolved_at >= ?1)";

    /// The one pass gives what a query per week gives.
    #[test]
    fn the_findings_pass_agrees_with_a_query_per_week() {
        let dir = tempfile::tempdir().unwrap();
        let store =
            crate::store::Store::open(&dir.path().join("m.db"), &KeySet::new([7u8; 32])).unwrap();
        let conn = store.connection();
        for id in 1..=3 {
            conn.execute(
                "INSERT INTO files(id, path, size, mtime_ns, first_seen_at) VALUES (?1, ?2, 1, 0, '2026-01-01T00:00:00.000Z')",
                params![id, format!("/{id}")],
            )
            .unwrap();
        }
        let this = Week::parse("2026-W48").unwrap();
        let mut weeks = vec![this];
        for _ in 1..TREND_WEEKS {
            let w = weeks.last().unwrap().previous();
            weeks.push(w);
        }
        weeks.reverse();
        // Findings seen and resolved around every bound (at it, just before,
        // long before and after), some false positives.
        let mut times: Vec<String> = vec!["2025-06-01T00:00:00.000Z".into()];
        for w in &weeks {
            times.push(w.start_bound());
            times.push(w.start_bound().replace(":00.000Z", ":00.001Z"));
            times.push(w.end_bound().replace("T15:00:00.000Z", "T14:59:59.999Z"));
        }
        times.push("2027-06-01T00:00:00.000Z".into());
        let mut n = 0;
        for (i, seen) in times.iter().enumerate() {
            for gone in times[i..].iter().map(Some).chain([None]) {
                for (kind, state, confidence) in [
                    ("my_number", "open", "high"),
                    ("my_number", "confirmed", "low"),
                    ("person_name", "open", "medium"),
                    ("phone_number", "false_positive", "high"),
                ] {
                    n += 1;
                    conn.execute(
                        "INSERT INTO findings(file_id, member, kind, confidence, location, masked, fingerprint,
                             detector_id, detector_version, first_seen_at, last_seen_at, resolved_at, review_state)
                         VALUES (?1, '', ?2, ?3, ?4, '*', x'00', 'd', 1, ?5, ?5, ?6, ?7)",
                        params![1 + n % 3, kind, confidence, n.to_string(), seen, gone, state],
                    )
                    .unwrap();
                }
            }
        }
        let b = FindingsPass::gather(conn, &weeks).unwrap();
        for (i, w) in weeks.iter().enumerate() {
            let k = i + 1;
            let open = count(
                conn,
                &format!("SELECT count(*) FROM findings f WHERE {OPEN_AT}"),
                params![w.end_bound()],
            )
            .unwrap();
            let new = count(
                conn,
                &format!("SELECT count(*) FROM findings f WHERE {OPEN} AND f.first_seen_at >= ?1 AND f.first_seen_at < ?2"),
                params![w.start_bound(), w.end_bound()],
            )
            .unwrap();
            let resolved = count(
                conn,
                &format!("SELECT count(*) FROM findings f WHERE {OPEN} AND f.resolved_at >= ?1 AND f.resolved_at < ?2"),
                params![w.start_bound(), w.end_bound()],
            )
            .unwrap();
            assert!(open > 0 && new > 0 && resolved > 0, "week {k} is exercised");
            assert_eq!(
                b.open_by_kind(k).values().sum::<i64>(),
                open,
                "open, week {k}"
            );
            assert_eq!(b.new_in(k), new, "new, week {k}");
            assert_eq!(b.resolved_in(k), resolved, "resolved, week {k}");
            assert!(
                !b.open_by_kind(k).contains_key("phone_number"),
                "false positives left out"
            );
        }
        // Files open at the end of the last two weeks, and those with a My
        // Number of medium confidence or above.
        for previous in [false, true] {
            let w = if previous { this.previous() } else { this };
            let files = |extra: &str| {
                count(
                    conn,
                    &format!(
                        "SELECT count(DISTINCT f.file_id) FROM findings f WHERE {OPEN_AT}{extra}"
                    ),
                    params![w.end_bound()],
                )
                .unwrap()
            };
            let t = b.totals(previous);
            assert_eq!(t.open_files, files(""));
            assert_eq!(
                t.my_number_files,
                files(" AND f.kind = 'my_number' AND f.confidence != 'low'")
            );
            let k = if previous {
                TREND_WEEKS - 1
            } else {
                TREND_WEEKS
            };
            assert_eq!(t.open_findings, b.open_by_kind(k).values().sum::<i64>());
        }
        let mut per_file = HashMap::new();
        let mut st = conn
            .prepare(&format!(
                "SELECT f.file_id, count(*), sum(f.kind = 'my_number' AND f.confidence != 'low') FROM findings f
                 WHERE {OPEN_AT} GROUP BY f.file_id"
            ))
            .unwrap();
        for row in st
            .query_map(params![this.end_bound()], |r| {
                Ok((r.get::<_, i64>(0)?, (r.get(1)?, r.get(2)?)))
            })
            .unwrap()
        {
            let (id, v): (i64, (i64, i64)) = row.unwrap();
            per_file.insert(id, v);
        }
        assert!(per_file.len() == 3 && per_file.values().any(|v| v.1 > 0));
        assert_eq!(per_file.len(), b.files.len());
        for (id, (n, mine)) in per_file {
            let f = &b.files[&id];
            assert_eq!(f.counts.iter().map(|c| c.1).sum::<i64>(), n, "file {id}");
            assert_eq!(f.my_numbers, mine, "file {id}");
        }
    }
}
