//! Spreadsheets via calamine: xlsx, xlsm, xlsb, xls, ods. Every sheet is
//! read, hidden ones included. Each row is one unit of cells (`Sheet1!C5`);
//! the shared table builder (`table.rs`) finds the header row below title
//! rows, two-row headers (with calamine's merged regions for xlsx and xls)
//! and a new table after a blank-row gap, and gives each column's cells
//! their header as hint.
//!
//! xlsx and xlsb are read with calamine's streaming cell reader: its dense
//! `Range` is sized from the sheet's declared dimension, and a 5 KB file
//! declaring a cell at XFD1048576 would allocate hundreds of GB. xls and
//! ods have no streaming reader in calamine; their memory is bounded by
//! the extraction worker's limits instead.
//!
//! Numbers are written as a person would read them (an integral float as
//! an integer, so a 12-digit My Number stored as a number is found); in a
//! column headed 個人番号/マイナンバー/KOJIN_NO an 11-digit number gets back
//! the leading zero that Excel dropped. Dates are written `YYYY/MM/DD`.

use std::io::Cursor;

use calamine::{Data, DataRef, Ods, Reader, Xls, Xlsb, Xlsx};

use super::table::{Merge, TableBuilder, TableCell, TableRow};
use super::{ExtractContext, ExtractError, Extractor, Format, UnreadableReason};
use crate::text::Location;

/// Reads spreadsheets.
pub struct Spreadsheet;

/// Reads every sheet of a workbook with calamine's streaming cell reader
/// (`worksheet_cells_reader`), row units as they complete. `$merges` reads
/// a sheet's merged regions (header cells merged over columns).
macro_rules! stream_cells {
    ($open:expr, $cx:expr, $merges:expr) => {{
        let mut wb = $open.map_err(|e| open_error(&e.to_string()))?;
        let mut first_table = 0;
        for sheet in wb.sheet_names() {
            let merges = $merges(&mut wb, &sheet);
            let mut rows = RowBuilder::new(&sheet, $cx, first_table, merges);
            let mut reader = wb
                .worksheet_cells_reader(&sheet)
                .map_err(|e| open_error(&e.to_string()))?;
            while let Some(cell) = reader.next_cell().map_err(|e| corrupt(&e.to_string()))? {
                let (r, c) = cell.get_position();
                if let Some(v) = ref_value(cell.get_value()) {
                    rows.cell(r, c, v, $cx)?;
                }
            }
            first_table = rows.finish($cx)?;
        }
    }};
}

impl Extractor for Spreadsheet {
    fn formats(&self) -> &'static [Format] {
        &[Format::Xlsx, Format::Xlsb, Format::Xls, Format::Ods]
    }

    fn extract(
        &self,
        _name: &str,
        format: Format,
        data: &[u8],
        cx: &mut ExtractContext<'_>,
    ) -> Result<(), ExtractError> {
        match format {
            Format::Xls => super::docmeta::report_ole_created(data, cx),
            _ => super::docmeta::report_zip_created(data, cx),
        }
        let cursor = Cursor::new(data);
        match format {
            // calamine's two streaming readers have the same shape but no
            // common trait: one body for both.
            Format::Xlsx => stream_cells!(
                Xlsx::<_>::new(cursor),
                cx,
                |wb: &mut Xlsx<_>, sheet: &str| wb
                    .merge_cells_by_sheet_name(sheet)
                    .unwrap_or_default()
            ),
            // calamine reads no merged regions of xlsb and ods files: the
            // table builder then spans group labels by their layout.
            Format::Xlsb => {
                stream_cells!(Xlsb::<_>::new(cursor), cx, |_: &mut Xlsb<_>, _: &str| {
                    Vec::new()
                })
            }
            Format::Xls => {
                let wb: Xls<_> = Xls::new(cursor).map_err(|e| open_error(&e.to_string()))?;
                let merges = |wb: &Xls<_>, sheet: &str| {
                    wb.merge_cells_by_sheet_name(sheet).unwrap_or_default()
                };
                ranges(wb, cx, merges)?;
            }
            _ => {
                let wb: Ods<_> = Ods::new(cursor).map_err(|e| open_error(&e.to_string()))?;
                ranges(wb, cx, |_: &Ods<_>, _: &str| Vec::new())?;
            }
        }
        // Cell comments: calamine does not read them, and a comment is
        // where "本人確認済み 個人番号 …" gets written.
        if matches!(format, Format::Xlsx | Format::Ods) {
            comments(format, data, cx)?;
        }
        Ok(())
    }
}

/// Reads cell comments (xlsx `xl/comments*.xml`, ods `office:annotation`)
/// into one unit, `comment N` in document order.
fn comments(format: Format, data: &[u8], cx: &mut ExtractContext<'_>) -> Result<(), ExtractError> {
    use super::xml::{self, Ev};
    let mut archive = super::zip::open(data)?;
    let names: Vec<String> = super::zip::member_names(&mut archive)
        .into_iter()
        .filter(|n| match format {
            Format::Xlsx => n.starts_with("xl/comments") && n.ends_with(".xml"),
            _ => n == "content.xml",
        })
        .collect();
    let (element, text_el) = match format {
        Format::Xlsx => ("comment", "t"),
        _ => ("office:annotation", "text:p"),
    };
    let mut b = crate::text::SegmentsBuilder::default();
    let mut n = 0u32;
    for name in names {
        let Some(bytes) = super::zip::read_named(&mut archive, &name, cx)? else {
            continue;
        };
        let text = xml::part_text(&bytes);
        let mut cur: Option<String> = None;
        let mut in_text = 0u32;
        xml::walk(&text, |ev| {
            match ev {
                Ev::Open(e) => {
                    let q = xml::qname(&e);
                    if q == element {
                        cur = Some(String::new());
                    } else if cur.is_some() && q == text_el {
                        in_text += 1;
                    }
                }
                Ev::Close(q) => {
                    if q == element {
                        if let Some(c) = cur.take() {
                            n += 1;
                            b.push(&c, Location::Named(format!("comment {n}")));
                        }
                    } else if q == text_el && in_text > 0 {
                        in_text -= 1;
                        if let Some(c) = cur.as_mut() {
                            c.push('\n');
                        }
                    }
                }
                Ev::Text(t) => {
                    if in_text > 0 {
                        if let Some(c) = cur.as_mut() {
                            c.push_str(&t);
                        }
                    }
                }
            }
            Ok(())
        })?;
    }
    if !b.is_empty() {
        cx.unit(b.build())?;
    }
    Ok(())
}

/// Reads every sheet of a workbook through calamine's dense ranges.
fn ranges<RS, R>(
    mut wb: R,
    cx: &mut ExtractContext<'_>,
    merges: impl Fn(&R, &str) -> Vec<calamine::Dimensions>,
) -> Result<(), ExtractError>
where
    RS: std::io::Read + std::io::Seek,
    R: Reader<RS>,
    R::Error: std::fmt::Display,
{
    let mut first_table = 0;
    for sheet in wb.sheet_names() {
        cx.budget.check_time()?;
        let range = wb
            .worksheet_range(&sheet)
            .map_err(|e| open_error(&e.to_string()))?;
        let (r0, c0) = range.start().unwrap_or((0, 0));
        let mut rows = RowBuilder::new(&sheet, cx, first_table, merges(&wb, &sheet));
        for (i, row) in range.rows().enumerate() {
            for (j, v) in row.iter().enumerate() {
                if let Some(val) = data_value(v) {
                    rows.cell(r0 + i as u32, c0 + j as u32, val, cx)?;
                }
            }
        }
        first_table = rows.finish(cx)?;
    }
    Ok(())
}

fn open_error(msg: &str) -> ExtractError {
    let m = msg.to_ascii_lowercase();
    if m.contains("password") || m.contains("encrypt") {
        ExtractError::new(
            UnreadableReason::Encrypted,
            "workbook is password protected",
        )
    } else {
        corrupt(msg)
    }
}

fn corrupt(msg: &str) -> ExtractError {
    ExtractError::new(UnreadableReason::Corrupt, format!("spreadsheet: {msg}"))
}

/// A cell value as text, or `None` for empty and error cells.
enum Value {
    Text(String),
    Number(String),
}

fn number(f: f64) -> String {
    if f.fract() == 0.0 && f.abs() < 1e16 {
        format!("{}", f as i64)
    } else {
        format!("{f}")
    }
}

fn date(dt: &calamine::ExcelDateTime) -> String {
    if dt.is_datetime() {
        let (y, mo, d, h, mi, s, _) = dt.to_ymd_hms_milli();
        if (h, mi, s) == (0, 0, 0) {
            format!("{y:04}/{mo:02}/{d:02}")
        } else {
            format!("{y:04}/{mo:02}/{d:02} {h:02}:{mi:02}:{s:02}")
        }
    } else {
        number(dt.as_f64())
    }
}

fn ref_value(v: &DataRef<'_>) -> Option<Value> {
    Some(match v {
        DataRef::Int(i) => Value::Number(i.to_string()),
        DataRef::Float(f) => Value::Number(number(*f)),
        DataRef::String(s) => Value::Text(s.clone()),
        DataRef::SharedString(s) => Value::Text(s.to_string()),
        DataRef::Bool(b) => Value::Text(if *b { "TRUE" } else { "FALSE" }.into()),
        DataRef::DateTime(dt) => Value::Text(date(dt)),
        DataRef::DateTimeIso(s) | DataRef::DurationIso(s) => Value::Text(s.clone()),
        DataRef::Error(_) | DataRef::Empty => return None,
    })
}

fn data_value(v: &Data) -> Option<Value> {
    Some(match v {
        Data::Int(i) => Value::Number(i.to_string()),
        Data::Float(f) => Value::Number(number(*f)),
        Data::String(s) => Value::Text(s.clone()),
        Data::Bool(b) => Value::Text(if *b { "TRUE" } else { "FALSE" }.into()),
        Data::DateTime(dt) => Value::Text(date(dt)),
        Data::DateTimeIso(s) | Data::DurationIso(s) => Value::Text(s.clone()),
        Data::Error(_) | Data::Empty => return None,
    })
}

/// `A`, `Z`, `AA`, … for a 0-based column.
pub fn column_name(mut c: u32) -> String {
    let mut s = Vec::new();
    loop {
        s.push(b'A' + (c % 26) as u8);
        if c < 26 {
            break;
        }
        c = c / 26 - 1;
    }
    s.reverse();
    String::from_utf8(s).expect("ASCII")
}

/// Gathers cells into rows for one sheet and hands them to the shared
/// table builder (header choice, hints, column ids).
struct RowBuilder {
    sheet: String,
    row: Option<u32>,
    cells: Vec<TableCell>,
    table: TableBuilder,
}

impl RowBuilder {
    /// A sheet whose tables are numbered from `first_table`, with its merged regions.
    fn new(
        sheet: &str,
        cx: &ExtractContext<'_>,
        first_table: u32,
        merges: Vec<calamine::Dimensions>,
    ) -> Self {
        let merges = merges
            .into_iter()
            .map(|d| Merge {
                first_row: d.start.0,
                first_column: d.start.1,
                last_row: d.end.0,
                last_column: d.end.1,
            })
            .collect();
        RowBuilder {
            sheet: sheet.to_string(),
            row: None,
            cells: Vec::new(),
            table: TableBuilder::new(cx.vocabulary(), first_table).with_merges(merges),
        }
    }

    fn cell(
        &mut self,
        r: u32,
        c: u32,
        v: Value,
        cx: &mut ExtractContext<'_>,
    ) -> Result<(), ExtractError> {
        if self.row != Some(r) {
            self.flush(cx)?;
            self.row = Some(r);
        }
        let (text, number) = match v {
            Value::Text(s) => (s, false),
            Value::Number(s) => (s, true),
        };
        self.cells.push(TableCell {
            column: c,
            text,
            location: Location::Cell {
                sheet: self.sheet.clone(),
                cell: format!("{}{}", column_name(c), r + 1),
            },
            number,
        });
        Ok(())
    }

    fn flush(&mut self, cx: &mut ExtractContext<'_>) -> Result<(), ExtractError> {
        let Some(r) = self.row else { return Ok(()) };
        let cells = std::mem::take(&mut self.cells);
        if cells.is_empty() {
            return Ok(());
        }
        self.table
            .push(TableRow { index: r, cells }, &mut |u| cx.unit(u))
    }

    /// Emits the rest of the sheet; returns the number for the next sheet's first table.
    fn finish(mut self, cx: &mut ExtractContext<'_>) -> Result<u32, ExtractError> {
        self.flush(cx)?;
        self.table.finish(&mut |u| cx.unit(u))?;
        Ok(self.table.next_table())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn column_names() {
        assert_eq!(column_name(0), "A");
        assert_eq!(column_name(25), "Z");
        assert_eq!(column_name(26), "AA");
        assert_eq!(column_name(701), "ZZ");
        assert_eq!(column_name(702), "AAA");
        assert_eq!(column_name(16383), "XFD");
    }

    #[test]
    fn numbers_read_as_people_read_them() {
        assert_eq!(number(258231856428.0), "258231856428");
        assert_eq!(number(1.5), "1.5");
    }
}
