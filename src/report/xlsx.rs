//! XLSX renderer (rust_xlsxwriter): `report.xlsx` of the weekly report, and
//! the retention list as XLSX.
//!
//! One sheet per list, for officers who filter and sort in Excel: the
//! header row is frozen and carries an autofilter; column widths fit the
//! longest value, counting East Asian wide characters as two (Excel's
//! column unit is about one Latin digit wide); dates are real Excel dates
//! with a date format and counts are numbers, so that they sort and sum.
//! List sheets use rust_xlsxwriter's constant-memory mode (rows go to a
//! temporary file in the output directory as they are written), so a list
//! of 100,000 files does not sit in memory twice; column widths are
//! measured while the rows are written and set afterwards (the column
//! definitions are written when the workbook is saved, in this mode too).
//! Every figure is the [`WeeklyReport`]'s.

use std::path::Path;

use jiff::civil::{Date, DateTime};
use rust_xlsxwriter::{Format, FormatAlign, Workbook, Worksheet, XlsxError};
use unicode_width::UnicodeWidthStr;

use super::csv::{disposition, file_name, kinds_of, retention_headers};
use super::labels::{self, t};
use super::{FileItem, WeeklyReport};
use crate::finding::Kind;
use crate::records::{Flag, Lang};

/// The sheets of `report.xlsx`, in order, in each language.
pub const SHEETS_JA: [&str; 9] = [
    "概要",
    "新規",
    "未対応",
    "保存期間満了",
    "マイナンバー所在",
    "外部送信",
    "読めなかったファイル",
    "レビュー履歴",
    "漏えい等報告の確認",
];
pub const SHEETS_EN: [&str; 9] = [
    "Summary",
    "New",
    "Open",
    "Retention expired",
    "My Number",
    "Outbound",
    "Unreadable",
    "Review",
    "Breach report check",
];

/// Widest column, in Excel's units (longer values wrap off screen, not the sheet).
const MAX_WIDTH: f64 = 80.0;

/// One cell of a row.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Text(String),
    Int(i64),
    Date(Date),
    DateTime(DateTime),
    Empty,
}

impl Cell {
    fn text(s: impl Into<String>) -> Cell {
        Cell::Text(s.into())
    }

    fn date(d: Option<Date>) -> Cell {
        d.map_or(Cell::Empty, Cell::Date)
    }

    /// A stored timestamp as a date-time in Japan (the text if it is not one).
    fn stored_time(s: &str) -> Cell {
        labels::datetime_jst(s).map_or_else(|| Cell::text(s), Cell::DateTime)
    }

    /// Display width in Excel's column units.
    fn width(&self) -> usize {
        match self {
            Cell::Text(s) => s.lines().map(UnicodeWidthStr::width).max().unwrap_or(0),
            Cell::Int(n) => labels::number(*n).len(),
            Cell::Date(_) => 10,
            Cell::DateTime(_) => 16,
            Cell::Empty => 0,
        }
    }
}

/// The display width of a header or value (East Asian wide characters count two).
pub fn display_width(s: &str) -> usize {
    UnicodeWidthStr::width(s)
}

struct Formats {
    header: Format,
    date: Format,
    datetime: Format,
    int: Format,
    text: Format,
    delta: Format,
}

impl Formats {
    fn new() -> Formats {
        Formats {
            header: Format::new()
                .set_bold()
                .set_background_color("#DDE7F0")
                .set_align(FormatAlign::Center),
            date: Format::new().set_num_format("yyyy-mm-dd"),
            datetime: Format::new().set_num_format("yyyy-mm-dd hh:mm"),
            int: Format::new().set_num_format("#,##0"),
            text: Format::new(),
            delta: Format::new().set_num_format("+#,##0;-#,##0;0"),
        }
    }
}

fn write_cell(
    ws: &mut Worksheet,
    f: &Formats,
    row: u32,
    col: u16,
    cell: &Cell,
) -> Result<(), XlsxError> {
    match cell {
        Cell::Text(s) => {
            ws.write_string_with_format(row, col, s, &f.text)?;
        }
        Cell::Int(n) => {
            ws.write_number_with_format(row, col, *n as f64, &f.int)?;
        }
        Cell::Date(d) => {
            ws.write_datetime_with_format(row, col, d, &f.date)?;
        }
        Cell::DateTime(d) => {
            ws.write_datetime_with_format(row, col, d, &f.datetime)?;
        }
        Cell::Empty => {}
    }
    Ok(())
}

/// Writes a list sheet: the header (frozen, with an autofilter), the rows,
/// and column widths that fit the widest value. Returns the rows written.
fn list_sheet<'a, T: 'a>(
    wb: &mut Workbook,
    f: &Formats,
    name: &str,
    headers: &[String],
    items: impl Iterator<Item = &'a T>,
    row: impl Fn(&T) -> Vec<Cell>,
) -> Result<u32, XlsxError> {
    // The header's dropdown arrow needs about two more units.
    let mut widths: Vec<usize> = headers.iter().map(|h| display_width(h) + 2).collect();
    let ws = wb.add_worksheet_with_constant_memory()?;
    ws.set_name(name)?;
    ws.set_freeze_panes(1, 0)?;
    for (i, h) in headers.iter().enumerate() {
        ws.write_string_with_format(0, i as u16, h, &f.header)?;
    }
    let mut r = 0u32;
    for item in items {
        r += 1;
        for (i, c) in row(item).iter().enumerate() {
            if let Some(w) = widths.get_mut(i) {
                *w = (*w).max(c.width());
            }
            write_cell(ws, f, r, i as u16, c)?;
        }
    }
    for (i, w) in widths.iter().enumerate() {
        ws.set_column_width(i as u16, ((*w + 2) as f64).clamp(6.0, MAX_WIDTH))?;
    }
    ws.autofilter(0, 0, r, headers.len().saturating_sub(1) as u16)?;
    Ok(r)
}

fn kinds_text(counts: impl IntoIterator<Item = (String, i64)>, lang: Lang) -> String {
    counts
        .into_iter()
        .map(|(k, n)| format!("{} {}", labels::kind(&k, lang), n))
        .collect::<Vec<_>>()
        .join(t(lang, "、", ", "))
}

fn flags_text(flags: &[impl AsRef<str>], lang: Lang) -> String {
    flags
        .iter()
        .map(|n| labels::flag(n.as_ref(), lang))
        .collect::<Vec<_>>()
        .join(t(lang, "、", ", "))
}

fn h(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

/// Writes `report.xlsx`.
pub fn write_weekly(report: &WeeklyReport, lang: Lang, path: &Path) -> Result<(), XlsxError> {
    let mut wb = Workbook::new();
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        wb.set_tempdir(dir)?;
    }
    let f = Formats::new();
    let names = match lang {
        Lang::Ja => SHEETS_JA,
        Lang::En => SHEETS_EN,
    };
    summary_sheet(&mut wb, &f, names[0], report, lang)?;

    list_sheet(
        &mut wb,
        &f,
        names[1],
        &h(&[
            t(lang, "初回検出", "first seen"),
            t(lang, "種類", "kind"),
            t(lang, "確度", "confidence"),
            t(lang, "マスク値", "masked"),
            t(lang, "課（ルート）", "root"),
            t(lang, "ファイル", "path"),
            t(lang, "内部の場所", "member"),
            t(lang, "位置", "location"),
            t(lang, "状態", "state"),
            t(lang, "ID", "id"),
        ]),
        report.new_high.iter(),
        |i| {
            vec![
                Cell::stored_time(&i.first_seen),
                Cell::text(labels::kind(&i.kind, lang)),
                Cell::text(labels::confidence(&i.confidence, lang)),
                Cell::text(&i.masked),
                Cell::text(&i.root),
                Cell::text(&i.path),
                Cell::text(i.member.clone().unwrap_or_default()),
                Cell::text(labels::location(&i.location, lang)),
                Cell::text(labels::state(&i.state, lang)),
                Cell::Int(i.id),
            ]
        },
    )?;

    // One column per kind present, in the contract's order.
    let kinds: Vec<&str> = Kind::ALL
        .iter()
        .map(|k| k.as_str())
        .filter(|k| report.open_files.iter().any(|f| f.counts.contains_key(*k)))
        .collect();
    let mut open_headers = h(&[
        t(lang, "課（ルート）", "root"),
        t(lang, "ファイル", "path"),
        t(lang, "未対応の検出", "open findings"),
    ]);
    open_headers.extend(kinds.iter().map(|k| labels::kind(k, lang)));
    open_headers.push(t(lang, "フラグ", "flags").to_string());
    list_sheet(
        &mut wb,
        &f,
        names[2],
        &open_headers,
        report.open_files.iter(),
        |o| {
            let mut row = vec![Cell::text(&o.root), Cell::text(&o.path), Cell::Int(o.total)];
            row.extend(
                kinds
                    .iter()
                    .map(|k| o.counts.get(*k).map_or(Cell::Empty, |n| Cell::Int(*n))),
            );
            row.push(Cell::text(flags_text(&o.flags, lang)));
            row
        },
    )?;

    retention_sheet(&mut wb, &f, names[3], &report.retention_expired, lang)?;

    list_sheet(
        &mut wb,
        &f,
        names[4],
        &h(&[
            t(lang, "課（ルート）", "root"),
            t(lang, "ファイル", "path"),
            t(lang, "個人番号の件数", "My Number findings"),
            t(lang, "保管場所外", "outside its areas"),
            t(lang, "フラグ", "flags"),
        ]),
        report.open_files.iter().filter(|o| o.my_numbers > 0),
        |o| {
            let outside = o
                .flags
                .iter()
                .any(|n| *n == Flag::MyNumberOutsideArea.as_str());
            vec![
                Cell::text(&o.root),
                Cell::text(&o.path),
                Cell::Int(o.my_numbers),
                Cell::text(if outside {
                    t(lang, "はい", "yes")
                } else {
                    t(lang, "いいえ", "no")
                }),
                Cell::text(flags_text(&o.flags, lang)),
            ]
        },
    )?;

    flagged_sheet(
        &mut wb,
        &f,
        names[5],
        &report.outbound,
        Flag::OutboundLeakCandidate,
        lang,
    )?;

    list_sheet(
        &mut wb,
        &f,
        names[6],
        &h(&[
            t(lang, "課（ルート）", "root"),
            t(lang, "ファイル", "path"),
            t(lang, "理由", "reason"),
            t(lang, "形式", "format"),
        ]),
        report.unreadable.iter(),
        |u| {
            vec![
                Cell::text(&u.root),
                Cell::text(&u.path),
                Cell::text(labels::unreadable(&u.reason, lang)),
                Cell::text(u.format.clone().unwrap_or_default()),
            ]
        },
    )?;

    list_sheet(
        &mut wb,
        &f,
        names[7],
        &h(&[
            t(lang, "日時", "at"),
            t(lang, "担当者", "reviewer"),
            t(lang, "判断", "decision"),
            t(lang, "件数", "findings"),
        ]),
        report.review.iter(),
        |r| {
            vec![
                Cell::stored_time(&r.at),
                Cell::text(&r.reviewer),
                Cell::text(labels::state(&r.decision, lang)),
                Cell::Int(r.findings),
            ]
        },
    )?;

    flagged_sheet(
        &mut wb,
        &f,
        names[8],
        &report.breach_hints,
        Flag::BreachReportHint,
        lang,
    )?;

    wb.save(path)?;
    Ok(())
}

/// Files carrying `flag`: where, what they hold, and why.
fn flagged_sheet(
    wb: &mut Workbook,
    f: &Formats,
    name: &str,
    items: &[FileItem],
    flag: Flag,
    lang: Lang,
) -> Result<u32, XlsxError> {
    list_sheet(
        wb,
        f,
        name,
        &h(&[
            t(lang, "課（ルート）", "root"),
            t(lang, "ファイル", "path"),
            t(lang, "個人情報の件数", "personal data findings"),
            t(lang, "内訳", "by kind"),
            t(lang, "理由", "why"),
        ]),
        items.iter(),
        |i| {
            vec![
                Cell::text(&i.root),
                Cell::text(&i.path),
                Cell::Int(i.finding_counts.values().map(|n| i64::from(*n)).sum()),
                Cell::text(kinds_text(
                    i.finding_counts
                        .iter()
                        .map(|(k, n)| (k.clone(), i64::from(*n))),
                    lang,
                )),
                Cell::text(i.reasons_for(flag).collect::<Vec<_>>().join("\n")),
            ]
        },
    )
}

/// The retention list's columns (those of a 行政文書ファイル管理簿).
fn retention_sheet(
    wb: &mut Workbook,
    f: &Formats,
    name: &str,
    items: &[FileItem],
    lang: Lang,
) -> Result<u32, XlsxError> {
    let kinds = kinds_of(items);
    list_sheet(
        wb,
        f,
        name,
        &retention_headers(lang, &kinds),
        items.iter(),
        |i| {
            let mut row = vec![
                Cell::text(i.retention_class.clone().unwrap_or_default()),
                Cell::text(file_name(&i.path)),
                Cell::text(i.retention.clone().unwrap_or_default()),
                Cell::date(i.retention_start),
                Cell::date(i.retention_end),
                Cell::text(
                    i.action
                        .as_deref()
                        .map(|a| labels::action(a, lang))
                        .unwrap_or_default(),
                ),
                Cell::text(disposition(i, lang)),
                Cell::date(i.hold_until),
                Cell::text(i.hold_reason.clone().unwrap_or_default()),
                Cell::text(&i.root),
                Cell::text(&i.path),
                Cell::Int(i.finding_counts.values().map(|n| i64::from(*n)).sum()),
            ];
            row.extend(kinds.iter().map(|k| {
                i.finding_counts
                    .get(k)
                    .map_or(Cell::Empty, |n| Cell::Int(i64::from(*n)))
            }));
            row
        },
    )
}

/// Writes the retention list (廃棄候補, 移管候補, expired files on hold) as XLSX.
pub fn write_retention(
    items: &[FileItem],
    as_of: Date,
    lang: Lang,
    path: &Path,
) -> Result<(), XlsxError> {
    let mut wb = Workbook::new();
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        wb.set_tempdir(dir)?;
    }
    let f = Formats::new();
    let name = match lang {
        Lang::Ja => format!("保存期間満了 {as_of}"),
        Lang::En => format!("Retention expired {as_of}"),
    };
    retention_sheet(&mut wb, &f, &name, items, lang)?;
    wb.save(path)?;
    Ok(())
}

/// 概要: one filterable table of every figure (this week, last week, change),
/// with the report's week and day beside it.
fn summary_sheet(
    wb: &mut Workbook,
    f: &Formats,
    name: &str,
    r: &WeeklyReport,
    lang: Lang,
) -> Result<(), XlsxError> {
    // (section, item, this week, last week if compared)
    let mut rows: Vec<(&str, String, i64, Option<i64>)> = Vec::new();
    let head = t(lang, "全体", "overall");
    let (a, b) = (&r.totals, &r.previous);
    for (label, x, y) in [
        (
            t(lang, "未対応の検出", "open findings"),
            a.open_findings,
            b.open_findings,
        ),
        (
            t(lang, "検出のあるファイル", "files with open findings"),
            a.open_files,
            b.open_files,
        ),
        (
            t(lang, "マイナンバーを含むファイル", "files with My Number"),
            a.my_number_files,
            b.my_number_files,
        ),
        (
            t(lang, "新規の検出", "new findings"),
            a.new_findings,
            b.new_findings,
        ),
        (
            t(lang, "解決した検出", "resolved findings"),
            a.resolved_findings,
            b.resolved_findings,
        ),
        (
            t(lang, "レビューの判断", "review decisions"),
            a.decisions,
            b.decisions,
        ),
        (
            t(lang, "読めなかったファイル", "unreadable files"),
            a.unreadable_files,
            b.unreadable_files,
        ),
        (
            t(lang, "監視中のファイル", "files tracked"),
            a.files_tracked,
            b.files_tracked,
        ),
    ] {
        rows.push((head, label.to_string(), x, Some(y)));
    }
    let by_kind = t(lang, "未対応の検出（種類別）", "open findings by kind");
    let mut kinds: Vec<&String> = r
        .open_by_kind
        .keys()
        .chain(r.previous_open_by_kind.keys())
        .collect();
    kinds.sort_by_key(|k| (k.parse::<Kind>().ok(), k.to_string()));
    kinds.dedup();
    for k in kinds {
        rows.push((
            by_kind,
            labels::kind(k, lang),
            r.open_by_kind.get(k).copied().unwrap_or(0),
            Some(r.previous_open_by_kind.get(k).copied().unwrap_or(0)),
        ));
    }
    let by_flag = t(lang, "要確認フラグ（ファイル数）", "records flags (files)");
    for fl in Flag::ALL {
        rows.push((
            by_flag,
            fl.label(lang).to_string(),
            r.files_by_flag.get(fl.as_str()).copied().unwrap_or(0),
            None,
        ));
    }
    let by_reason = t(
        lang,
        "読めなかったファイル（理由別）",
        "unreadable files by reason",
    );
    for (k, n) in &r.unreadable_by_reason {
        rows.push((by_reason, labels::unreadable(k, lang), *n, None));
    }
    let by_root = t(
        lang,
        "マイナンバーを含むファイル（課別）",
        "files with My Number by root",
    );
    for (k, n) in &r.my_number_files_by_root {
        rows.push((by_root, k.clone(), *n, None));
    }

    let headers = [
        t(lang, "区分", "section"),
        t(lang, "項目", "item"),
        t(lang, "今週", "this week"),
        t(lang, "前週", "last week"),
        t(lang, "増減", "change"),
    ];
    let ws = wb.add_worksheet();
    ws.set_name(name)?;
    let w0 = rows.iter().map(|r| display_width(r.0)).max().unwrap_or(0);
    let w1 = rows.iter().map(|r| display_width(&r.1)).max().unwrap_or(0);
    for (i, w) in [w0, w1, 10, 10, 10].iter().enumerate() {
        let hw = display_width(headers[i]) + 2;
        ws.set_column_width(i as u16, ((*w).max(hw) + 2) as f64)?;
    }
    for (i, hd) in headers.iter().enumerate() {
        ws.write_string_with_format(0, i as u16, *hd, &f.header)?;
    }
    for (n, (sec, item, x, y)) in rows.iter().enumerate() {
        let row = n as u32 + 1;
        ws.write_string(row, 0, *sec)?;
        ws.write_string(row, 1, item)?;
        ws.write_number_with_format(row, 2, *x as f64, &f.int)?;
        if let Some(y) = y {
            ws.write_number_with_format(row, 3, *y as f64, &f.int)?;
            ws.write_number_with_format(row, 4, (*x - *y) as f64, &f.delta)?;
        }
    }
    ws.set_freeze_panes(1, 0)?;
    ws.autofilter(0, 0, rows.len() as u32, 4)?;

    // The report's week and day, beside the table.
    let meta: [(&str, Cell); 5] = [
        (t(lang, "対象週", "week"), Cell::text(&r.week)),
        (t(lang, "週の初日", "week start"), Cell::Date(r.week_start)),
        (t(lang, "週の末日", "week end"), Cell::Date(r.week_end)),
        (
            t(lang, "フラグの判定日", "flags as of"),
            Cell::Date(r.as_of),
        ),
        (
            t(lang, "作成日時", "generated"),
            Cell::stored_time(&r.generated_at),
        ),
    ];
    ws.set_column_width(6, 16.0)?;
    ws.set_column_width(7, 18.0)?;
    for (i, (k, v)) in meta.iter().enumerate() {
        ws.write_string_with_format(i as u32, 6, *k, &f.header)?;
        write_cell(ws, f, i as u32, 7, v)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wide_characters_count_two() {
        assert_eq!(display_width("abc"), 3);
        assert_eq!(display_width("総務課"), 6);
        assert_eq!(display_width("ｶﾅ"), 2, "half-width katakana is narrow");
        assert_eq!(Cell::text("個人番号\nab").width(), 8);
        assert_eq!(Cell::Int(1_234_567).width(), 9);
    }
}
