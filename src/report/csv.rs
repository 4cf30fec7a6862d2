//! CSV renderers: `findings.csv` (every finding open at the end of the
//! report's week) and the retention list as CSV.
//!
//! UTF-8 with a byte-order mark, because Excel in Japan opens a CSV without
//! one as Shift_JIS (CP932) and garbles every Japanese character. The
//! findings are streamed from the store page by page (keyset paging on the
//! finding id, as `mamori review list` does), so a store of a million
//! findings never sits in memory; each row's flags are the report's (as of
//! its day), so that the CSV agrees with the HTML and XLSX.

use std::collections::{BTreeSet, HashMap};
use std::io::Write;

use rusqlite::Connection;

use super::labels::{self, t};
use super::{root_label, FileItem, WeeklyReport};
use crate::finding::Kind;
use crate::records::apply::RecordsContext;
use crate::records::Lang;
use crate::review::FindingFilter;
use crate::store::StoreError;

/// The UTF-8 byte-order mark.
pub const BOM: &[u8] = b"\xEF\xBB\xBF";

/// Findings per page read from the store.
const PAGE: usize = 5_000;

/// Why a CSV could not be written.
#[derive(Debug, thiserror::Error)]
pub enum CsvError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("writing CSV: {0}")]
    Csv(#[from] ::csv::Error),
    #[error("writing CSV: {0}")]
    Io(#[from] std::io::Error),
}

/// Writes every finding open at the end of the report's week (false
/// positives left out) to `out`; returns how many rows were written.
pub fn write_findings(
    conn: &Connection,
    records: &RecordsContext,
    report: &WeeklyReport,
    end_bound: &str,
    lang: Lang,
    mut out: impl Write,
) -> Result<u64, CsvError> {
    out.write_all(BOM)?;
    let mut w = ::csv::Writer::from_writer(out);
    w.write_record([
        t(lang, "ID", "id"),
        t(lang, "ファイル", "path"),
        t(lang, "課（ルート）", "root"),
        t(lang, "内部の場所", "member"),
        t(lang, "種類", "kind"),
        t(lang, "確度", "confidence"),
        t(lang, "位置", "location"),
        t(lang, "マスク値", "masked"),
        t(lang, "状態", "state"),
        t(lang, "初回検出", "first seen"),
        t(lang, "最終検出", "last seen"),
        t(lang, "フラグ", "flags"),
    ])?;
    let flags: HashMap<i64, String> = report
        .open_files
        .iter()
        .filter(|f| !f.flags.is_empty())
        .map(|f| {
            let names: Vec<String> = f.flags.iter().map(|n| labels::flag(n, lang)).collect();
            (f.file_id, names.join(" / "))
        })
        .collect();
    // Words and times are converted once per distinct value, not per row.
    let mut roots: HashMap<String, String> = HashMap::new();
    let (mut kinds, mut states, mut confidences) = (HashMap::new(), HashMap::new(), HashMap::new());
    let mut clock = labels::JstClock::default();
    let filter = FindingFilter {
        open_at: Some(end_bound.to_string()),
        ..FindingFilter::default()
    };
    let (mut after, mut n) = (0, 0u64);
    loop {
        let page = crate::store::review::list_findings(conn, &filter, after, PAGE)?;
        let Some(last) = page.last() else { break };
        after = last.id;
        for r in &page {
            let root = match &r.root {
                None => String::new(),
                Some(shown) => roots
                    .entry(shown.clone())
                    .or_insert_with(|| root_label(records, Some(shown)))
                    .clone(),
            };
            w.write_record([
                r.id.to_string().as_str(),
                &r.path,
                &root,
                r.member.as_deref().unwrap_or(""),
                memo(&mut kinds, &r.kind, |k| labels::kind(k, lang)),
                memo(&mut confidences, &r.confidence, |c| {
                    labels::confidence(c, lang)
                }),
                &labels::location(&r.location, lang),
                &r.masked,
                memo(&mut states, &r.state, |s| labels::state(s, lang)),
                &clock.time(&r.first_seen),
                &clock.time(&r.last_seen),
                flags.get(&r.file_id).map(String::as_str).unwrap_or(""),
            ])?;
            n += 1;
        }
    }
    w.flush()?;
    Ok(n)
}

/// `f(key)`, computed once per key.
fn memo<'m>(
    m: &'m mut HashMap<String, String>,
    key: &str,
    f: impl FnOnce(&str) -> String,
) -> &'m str {
    if !m.contains_key(key) {
        m.insert(key.to_string(), f(key));
    }
    m.get(key).map(String::as_str).unwrap_or_default()
}

/// The kinds with a count in any of `items`, in the contract's order.
pub(crate) fn kinds_of(items: &[FileItem]) -> Vec<String> {
    let present: BTreeSet<&str> = items
        .iter()
        .flat_map(|i| i.finding_counts.keys().map(String::as_str))
        .collect();
    let mut v: Vec<String> = Kind::ALL
        .iter()
        .map(|k| k.as_str())
        .filter(|k| present.contains(k))
        .map(str::to_string)
        .collect();
    // Kinds this binary does not know (a newer store) go last.
    v.extend(
        present
            .iter()
            .filter(|k| k.parse::<Kind>().is_err())
            .map(|k| k.to_string()),
    );
    v
}

/// The file name of a shown path (名称 in the 管理簿).
pub(crate) fn file_name(path: &str) -> &str {
    path.rsplit(['/', '\\']).next().unwrap_or(path)
}

/// What is to happen to a file whose retention ended: 廃棄候補, 移管候補, or
/// kept on a hold.
pub(crate) fn disposition(item: &FileItem, lang: Lang) -> String {
    use crate::records::Flag;
    if let Some(until) = item.hold_until {
        return match lang {
            Lang::Ja => format!("保存延長中（{until} まで）"),
            Lang::En => format!("on hold until {until}"),
        };
    }
    let has = |f: Flag| item.flags.iter().any(|n| n == f.as_str());
    if has(Flag::DisposalCandidate) {
        Flag::DisposalCandidate.label(lang).to_string()
    } else if has(Flag::TransferCandidate) {
        Flag::TransferCandidate.label(lang).to_string()
    } else {
        String::new()
    }
}

/// The headers of the retention list (the 行政文書ファイル管理簿's columns),
/// then one column per kind.
pub(crate) fn retention_headers(lang: Lang, kinds: &[String]) -> Vec<String> {
    let mut h: Vec<String> = [
        t(lang, "分類", "class"),
        t(lang, "名称", "name"),
        t(lang, "保存期間", "retention"),
        t(lang, "起算日", "start"),
        t(lang, "満了日", "end"),
        t(lang, "措置", "action"),
        t(lang, "判定", "disposition"),
        t(lang, "保存延長の期限", "hold until"),
        t(lang, "保存延長の理由", "hold reason"),
        t(lang, "課（ルート）", "root"),
        t(lang, "パス", "path"),
        t(lang, "個人情報の件数", "personal data findings"),
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    h.extend(kinds.iter().map(|k| labels::kind(k, lang)));
    h
}

/// Writes the retention list (廃棄候補, 移管候補, and expired files on hold)
/// as CSV; returns how many files.
pub fn write_retention(
    items: &[FileItem],
    lang: Lang,
    mut out: impl Write,
) -> Result<u64, CsvError> {
    out.write_all(BOM)?;
    let kinds = kinds_of(items);
    let mut w = ::csv::Writer::from_writer(out);
    w.write_record(retention_headers(lang, &kinds))?;
    for i in items {
        let date = |d: Option<jiff::civil::Date>| d.map(|d| d.to_string()).unwrap_or_default();
        let total: u32 = i.finding_counts.values().sum();
        let mut row = vec![
            i.retention_class.clone().unwrap_or_default(),
            file_name(&i.path).to_string(),
            i.retention.clone().unwrap_or_default(),
            date(i.retention_start),
            date(i.retention_end),
            i.action
                .as_deref()
                .map(|a| labels::action(a, lang))
                .unwrap_or_default(),
            disposition(i, lang),
            date(i.hold_until),
            i.hold_reason.clone().unwrap_or_default(),
            i.root.clone(),
            i.path.clone(),
            total.to_string(),
        ];
        row.extend(
            kinds
                .iter()
                .map(|k| i.finding_counts.get(k).copied().unwrap_or(0).to_string()),
        );
        w.write_record(&row)?;
    }
    w.flush()?;
    Ok(items.len() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(path: &str, flags: &[&str], hold: Option<jiff::civil::Date>) -> FileItem {
        FileItem {
            path: path.into(),
            root: "総務課".into(),
            flags: flags.iter().map(|s| s.to_string()).collect(),
            finding_counts: [("my_number".to_string(), 2), ("person_name".to_string(), 1)]
                .into_iter()
                .collect(),
            document_date: None,
            date_source: None,
            retention_class: Some("給与・源泉徴収".into()),
            retention: Some("5年".into()),
            retention_start: Some(jiff::civil::date(2021, 4, 1)),
            retention_end: Some(jiff::civil::date(2026, 3, 31)),
            action: Some("dispose".into()),
            hold_until: hold,
            hold_reason: hold.map(|_| "開示請求 第22-114号".into()),
            reasons: Vec::new(),
        }
    }

    #[test]
    fn retention_csv_has_the_register_columns_a_bom_and_one_row_per_file() {
        let items = vec![
            item(
                "/srv/職員課/給与/R2/源泉.xlsx",
                &["retention_expired", "disposal_candidate"],
                None,
            ),
            item(
                "/srv/職員課/給与/R2/扶養.xlsx",
                &["retention_expired", "legal_hold"],
                Some(jiff::civil::date(2027, 3, 15)),
            ),
        ];
        let mut buf = Vec::new();
        assert_eq!(write_retention(&items, Lang::Ja, &mut buf).unwrap(), 2);
        assert!(buf.starts_with(BOM));
        let text = std::str::from_utf8(&buf[BOM.len()..]).unwrap();
        let mut r = ::csv::Reader::from_reader(text.as_bytes());
        let headers: Vec<String> = r.headers().unwrap().iter().map(str::to_string).collect();
        assert_eq!(
            &headers[..6],
            ["分類", "名称", "保存期間", "起算日", "満了日", "措置"]
        );
        assert_eq!(headers.last().unwrap(), "氏名");
        let rows: Vec<::csv::StringRecord> = r.records().map(Result::unwrap).collect();
        assert_eq!(rows.len(), 2);
        assert_eq!(&rows[0][1], "源泉.xlsx");
        assert_eq!(&rows[0][4], "2026-03-31");
        assert_eq!(&rows[0][5], "廃棄");
        assert_eq!(&rows[0][6], "廃棄候補");
        assert_eq!(&rows[1][6], "保存延長中（2027-03-15 まで）");
        assert_eq!(&rows[1][8], "開示請求 第22-114号");
        assert_eq!(&rows[0][11], "3");
    }

    #[test]
    fn file_names_of_shown_paths() {
        assert_eq!(file_name("/srv/a/b.txt"), "b.txt");
        assert_eq!(file_name(r"C:\share\b.txt"), "b.txt");
        assert_eq!(file_name("b.txt"), "b.txt");
    }
}
