//! Rows of a word-processor table as the legacy readers (Word 97–2003, RTF)
//! stream them:
//! `table T row R col C`, with the first row's cells giving their columns
//! context when that row reads as a header, so that a 個人番号 column makes
//! its cells context-matched. This is the simple first-row rule, not the
//! header chooser of `table.rs` (title rows, two-row headers) that docx,
//! spreadsheets, CSV and PDF lists use: these readers emit rows as they
//! stream and have not been moved onto it yet.

use crate::text::{looks_like_header, Location, TextUnit};

/// Builds the rows of the tables of one story, numbering tables as they start.
#[derive(Debug, Default)]
pub struct Tables {
    tables: u32,
    open: bool,
    row: u32,
    header: Option<Vec<String>>,
    cells: Vec<String>,
}

impl Tables {
    /// Adds a finished cell to the current row (starting a table if none is open).
    pub fn cell(&mut self, text: &str) {
        if !self.open {
            self.open = true;
            self.tables += 1;
            self.row = 0;
            self.header = None;
        }
        // Bounded by the input: each cell consumed at least one mark.
        self.cells.push(text.trim_end_matches('\n').to_string());
    }

    /// Whether a row has cells not yet ended.
    pub fn has_cells(&self) -> bool {
        !self.cells.is_empty()
    }

    /// Ends the current row: its unit, or `None` for a row without cells.
    pub fn end_row(&mut self) -> Option<TextUnit<'static>> {
        if self.cells.is_empty() {
            return None;
        }
        if !self.open {
            self.open = true;
            self.tables += 1;
            self.row = 0;
            self.header = None;
        }
        self.row += 1;
        let cells = std::mem::take(&mut self.cells);
        if self.row == 1 && looks_like_header(cells.iter().map(String::as_str)) {
            self.header = Some(cells.iter().map(|c| c.trim().to_string()).collect());
        }
        let header = if self.row == 1 {
            None
        } else {
            self.header.clone()
        };
        let (number, row) = (self.tables, self.row);
        Some(TextUnit::row(cells.into_iter().enumerate().map(
            |(i, c)| {
                (
                    c,
                    Location::Named(format!("table {number} row {row} col {}", i + 1)),
                    header
                        .as_ref()
                        .and_then(|h| h.get(i))
                        .filter(|h| !h.is_empty())
                        .cloned(),
                )
            },
        )))
    }

    /// Ends the current table (text outside a table follows). A row left
    /// without its end mark is returned as a unit.
    pub fn end_table(&mut self) -> Option<TextUnit<'static>> {
        let last = self.end_row();
        self.open = false;
        last
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::Locator;

    #[test]
    fn header_row_gives_context_to_later_rows() {
        let mut t = Tables::default();
        t.cell("氏名");
        t.cell("個人番号");
        let header = t.end_row().unwrap();
        assert!(matches!(&header.locator, Locator::Cells(c) if c[0].hint.is_none()));
        t.cell("山田 太郎");
        t.cell("123456789018");
        let row = t.end_row().unwrap();
        let Locator::Cells(cells) = &row.locator else {
            panic!("a row has cells")
        };
        assert_eq!(cells[1].hint.as_deref(), Some("個人番号"));
        assert_eq!(cells[1].location.to_string(), "table 1 row 2 col 2");
        assert!(t.end_table().is_none());
        t.cell("x");
        let next = t.end_table().unwrap();
        assert_eq!(next.location_at(0).to_string(), "table 2 row 1 col 1");
    }
}
