//! Exports of a page's table: XLSX (rust_xlsxwriter) and CSV (UTF-8 with a
//! byte-order mark, which Excel in Japan needs to read it as UTF-8). Kept
//! small and on its own so that the weekly report's renderers can take it
//! over. Cells are written as text (counts as numbers): a value that looks
//! like a formula is never evaluated — in CSV it is prefixed with `'`.

use rust_xlsxwriter::{Format, Workbook};

use super::app::WebError;

/// A table to export: a header row and rows of text.
#[derive(Debug, Clone, Default)]
pub(crate) struct Table {
    pub headers: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

fn is_count(cell: &str) -> bool {
    !cell.is_empty() && cell.len() < 10 && cell.bytes().all(|b| b.is_ascii_digit())
}

/// The table as an XLSX workbook of one sheet named `sheet`.
pub(crate) fn xlsx(t: &Table, sheet: &str) -> Result<Vec<u8>, WebError> {
    let err = |e: rust_xlsxwriter::XlsxError| WebError::Internal(format!("xlsx export: {e}"));
    let mut book = Workbook::new();
    let ws = book.add_worksheet();
    ws.set_name(sheet).map_err(err)?;
    let bold = Format::new().set_bold();
    for (c, h) in t.headers.iter().enumerate() {
        ws.write_string_with_format(0, c as u16, h, &bold)
            .map_err(err)?;
    }
    for (r, row) in t.rows.iter().enumerate() {
        let r = r as u32 + 1;
        for (c, cell) in row.iter().enumerate() {
            let c = c as u16;
            match cell.parse::<i64>() {
                Ok(n) if is_count(cell) => ws.write_number(r, c, n as f64).map_err(err)?,
                _ => ws.write_string(r, c, cell).map_err(err)?,
            };
        }
    }
    ws.set_freeze_panes(1, 0).map_err(err)?;
    ws.autofit();
    book.save_to_buffer().map_err(err)
}

/// A cell Excel would take for a formula, defused.
fn defuse(cell: &str) -> String {
    match cell.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{cell}"),
        _ => cell.to_string(),
    }
}

/// The table as CSV (UTF-8 with a BOM, CRLF line ends).
pub(crate) fn csv(t: &Table) -> Result<Vec<u8>, WebError> {
    let err = |e: csv::Error| WebError::Internal(format!("csv export: {e}"));
    let mut out = b"\xEF\xBB\xBF".to_vec();
    {
        let mut w = csv::WriterBuilder::new()
            .terminator(csv::Terminator::CRLF)
            .from_writer(&mut out);
        w.write_record(t.headers.iter().map(|h| defuse(h)))
            .map_err(err)?;
        for row in &t.rows {
            w.write_record(row.iter().map(|c| defuse(c))).map_err(err)?;
        }
        w.flush()
            .map_err(|e| WebError::Internal(format!("csv export: {e}")))?;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Table {
        Table {
            headers: vec!["ファイル".into(), "件数".into()],
            rows: vec![
                vec!["/srv/総務課/名簿.xlsx".into(), "12".into()],
                vec!["=HYPERLINK(\"http://x\")".into(), "3".into()],
            ],
        }
    }

    #[test]
    fn csv_has_a_bom_and_defuses_formulas() {
        let b = csv(&sample()).unwrap();
        assert!(b.starts_with(b"\xEF\xBB\xBF"));
        let s = String::from_utf8(b[3..].to_vec()).unwrap();
        assert!(s.starts_with("ファイル,件数\r\n"), "{s}");
        assert!(s.contains("\"'=HYPERLINK(\"\"http://x\"\")\",3"), "{s}");
    }

    #[test]
    fn xlsx_is_a_zip_with_a_sheet() {
        let b = xlsx(&sample(), "保存期間満了").unwrap();
        assert!(b.starts_with(b"PK"));
        let mut z = zip::ZipArchive::new(std::io::Cursor::new(b)).unwrap();
        let mut sheet = String::new();
        std::io::Read::read_to_string(
            &mut z.by_name("xl/worksheets/sheet1.xml").unwrap(),
            &mut sheet,
        )
        .unwrap();
        // Counts are numbers; text goes to the shared strings, never a formula.
        assert!(sheet.contains("<v>12</v>"), "{sheet}");
        assert!(!sheet.contains("<f>"), "{sheet}");
    }
}
