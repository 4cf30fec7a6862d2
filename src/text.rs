//! Text units: what extractors produce and detectors read.
//!
//! A unit is a stretch of text with a way to name where any byte of it came
//! from (its [`Locator`]) and optional context hints (a column header, a form
//! label). Extractors push units; the engine never sees file formats.

use std::borrow::Cow;
use std::fmt;

/// A human-readable place inside a file or member, printed exactly as the
/// findings contract spells it (`line 40`, `page 3`, `Sheet1!C5`, `header`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum Location {
    /// A line of a text file (1-based).
    Line(u32),
    /// A field of a delimited file: 1-based line and column.
    LineColumn { line: u32, column: u32 },
    /// A page of a paged document (1-based).
    Page(u32),
    /// A spreadsheet cell: `Sheet1!C5`.
    Cell { sheet: String, cell: String },
    /// A paragraph of a word-processor document (1-based).
    Paragraph(u32),
    /// Any other named place: `header`, `subject`, `body`, `comment 2`, `slide 4`.
    Named(String),
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::Line(n) => write!(f, "line {n}"),
            Location::LineColumn { line, column } => write!(f, "line {line} column {column}"),
            Location::Page(n) => write!(f, "page {n}"),
            Location::Cell { sheet, cell } => write!(f, "{sheet}!{cell}"),
            Location::Paragraph(n) => write!(f, "paragraph {n}"),
            Location::Named(s) => f.write_str(s),
        }
    }
}

/// A part of a unit with its own location and hint: a CSV field or a sheet
/// cell within a row that is scanned as one unit, so that context words in
/// neighbouring cells count and digits split across cells can be joined.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cell {
    /// Byte range in the unit's original text.
    pub start: usize,
    pub end: usize,
    pub location: Location,
    /// Header of the cell's column (or its form label), if known.
    pub hint: Option<String>,
    /// The table column the cell belongs to, when it is a data cell of a
    /// table (column evidence is gathered per column).
    pub column: Option<ColumnId>,
}

/// A column of one table within a file or member: tables are numbered per
/// member (a new table starts on each sheet and after a blank-row gap that
/// is followed by a new header), columns by their position.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ColumnId {
    pub table: u32,
    pub column: u32,
}

/// How to name the place of a byte offset within a unit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Locator {
    /// The whole unit has one location.
    Fixed(Location),
    /// The unit is a run of lines; `first_line` is the number of its first line.
    Lines { first_line: u32 },
    /// The unit is a row of cells, in order, separated by tabs.
    Cells(Vec<Cell>),
    /// The unit is a run of segments (paragraphs, pages, slides) joined by
    /// newlines: `(start byte, location)` in order. A body or a whole PDF
    /// is one unit, so a label at the end of one paragraph or page is
    /// context for a value at the start of the next.
    Segments(Vec<(usize, Location)>),
}

/// A piece of extracted text with its location and context hints.
#[derive(Debug, Clone)]
pub struct TextUnit<'a> {
    pub text: Cow<'a, str>,
    pub locator: Locator,
    /// A hint that applies to the whole unit (e.g. a form label).
    pub context_hint: Option<String>,
}

impl<'a> TextUnit<'a> {
    /// A unit with one fixed location.
    pub fn fixed(text: impl Into<Cow<'a, str>>, location: Location) -> Self {
        TextUnit {
            text: text.into(),
            locator: Locator::Fixed(location),
            context_hint: None,
        }
    }

    /// A unit of lines starting at line 1.
    pub fn lines(text: impl Into<Cow<'a, str>>) -> Self {
        TextUnit {
            text: text.into(),
            locator: Locator::Lines { first_line: 1 },
            context_hint: None,
        }
    }

    /// A row of cells: texts are joined by tabs and each keeps its location and hint.
    pub fn row(
        cells: impl IntoIterator<Item = (String, Location, Option<String>)>,
    ) -> TextUnit<'static> {
        let mut text = String::new();
        let mut out = Vec::new();
        for (value, location, hint) in cells {
            if !text.is_empty() {
                text.push('\t');
            }
            let start = text.len();
            // Tabs and newlines inside a cell would confuse the joined row.
            for c in value.chars() {
                text.push(if c == '\t' { ' ' } else { c });
            }
            out.push(Cell {
                start,
                end: text.len(),
                location,
                hint,
                column: None,
            });
        }
        TextUnit {
            text: Cow::Owned(text),
            locator: Locator::Cells(out),
            context_hint: None,
        }
    }

    /// Gives the cells of a row unit their table columns, in order
    /// (`columns` has one entry per cell; extra entries are ignored).
    pub fn with_columns(mut self, columns: impl IntoIterator<Item = Option<ColumnId>>) -> Self {
        if let Locator::Cells(cells) = &mut self.locator {
            for (c, id) in cells.iter_mut().zip(columns) {
                c.column = id;
            }
        }
        self
    }

    /// The cell that contains original byte offset `pos`, if the unit has cells.
    pub fn cell_at(&self, pos: usize) -> Option<&Cell> {
        match &self.locator {
            Locator::Cells(cells) => {
                let idx = cells.partition_point(|c| c.end < pos);
                cells.get(idx).filter(|c| c.start <= pos)
            }
            _ => None,
        }
    }

    /// The location of original byte offset `pos`.
    pub fn location_at(&self, pos: usize) -> Location {
        match &self.locator {
            Locator::Fixed(l) => l.clone(),
            Locator::Lines { first_line } => {
                let upto = &self.text.as_bytes()[..pos.min(self.text.len())];
                let newlines = upto.iter().filter(|&&b| b == b'\n').count() as u32;
                Location::Line(first_line + newlines)
            }
            Locator::Segments(segs) => {
                let i = segs.partition_point(|(start, _)| *start <= pos);
                segs.get(i.saturating_sub(1))
                    .map(|(_, l)| l.clone())
                    .unwrap_or(Location::Named("document".into()))
            }
            Locator::Cells(cells) => match self.cell_at(pos) {
                Some(c) => c.location.clone(),
                None => cells
                    .last()
                    .map(|c| c.location.clone())
                    .unwrap_or(Location::Named("row".into())),
            },
        }
    }
}

/// Builds a [`Locator::Segments`] unit by appending segments.
#[derive(Debug, Default)]
pub struct SegmentsBuilder {
    text: String,
    segs: Vec<(usize, Location)>,
}

impl SegmentsBuilder {
    /// Appends one segment (a newline is put between segments).
    pub fn push(&mut self, text: &str, location: Location) {
        if text.trim().is_empty() {
            return;
        }
        if !self.text.is_empty() {
            self.text.push('\n');
        }
        self.segs.push((self.text.len(), location));
        self.text.push_str(text);
    }
    pub fn is_empty(&self) -> bool {
        self.segs.is_empty()
    }
    /// Bytes of text so far.
    pub fn len(&self) -> usize {
        self.text.len()
    }
    pub fn build(self) -> TextUnit<'static> {
        TextUnit {
            text: Cow::Owned(self.text),
            locator: Locator::Segments(self.segs),
            context_hint: None,
        }
    }
}

/// Whether a row of values reads as a header: some text, and no value with
/// a run of three or more digits (numbers, dates and codes have them).
pub fn looks_like_header<'a>(cells: impl IntoIterator<Item = &'a str>) -> bool {
    let mut any_text = false;
    for field in cells {
        let f = crate::normalize::normalize(field);
        if longest_digit_run(&f.text) >= 3 {
            return false;
        }
        if f.text.chars().any(|c| c.is_alphabetic()) {
            any_text = true;
        }
    }
    any_text
}

/// Line starts of a unit's original text, built once on first use, so that
/// naming the line of many findings costs a binary search each.
#[derive(Debug, Default)]
pub struct LineIndex {
    newlines: std::cell::OnceCell<Vec<usize>>,
}

impl LineIndex {
    /// The location of original byte offset `pos` in `unit`.
    pub fn location(&self, unit: &TextUnit<'_>, pos: usize) -> Location {
        match &unit.locator {
            Locator::Lines { first_line } => {
                let nl = self
                    .newlines
                    .get_or_init(|| memchr_all(unit.text.as_bytes(), b'\n'));
                Location::Line(first_line + nl.partition_point(|&p| p < pos) as u32)
            }
            _ => unit.location_at(pos),
        }
    }
}

fn memchr_all(hay: &[u8], b: u8) -> Vec<usize> {
    hay.iter()
        .enumerate()
        .filter(|(_, &c)| c == b)
        .map(|(i, _)| i)
        .collect()
}

/// The longest run of ASCII digits in `text`, where a single space or hyphen
/// between two digits continues the run (`1234 5678 9018` is a run of 12).
pub fn longest_digit_run(text: &str) -> usize {
    let b = text.as_bytes();
    let mut best = 0;
    let mut run = 0;
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c.is_ascii_digit() {
            run += 1;
            if run > best {
                best = run;
            }
        } else if (c == b' ' || c == b'-')
            && run > 0
            && b.get(i + 1).is_some_and(u8::is_ascii_digit)
        {
            // separator inside a run: keep counting
        } else {
            run = 0;
        }
        i += 1;
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations_print_as_the_contract_says() {
        assert_eq!(Location::Line(40).to_string(), "line 40");
        assert_eq!(Location::Page(3).to_string(), "page 3");
        assert_eq!(
            Location::Cell {
                sheet: "Sheet1".into(),
                cell: "C5".into()
            }
            .to_string(),
            "Sheet1!C5"
        );
        assert_eq!(Location::Paragraph(12).to_string(), "paragraph 12");
        assert_eq!(Location::Named("header".into()).to_string(), "header");
    }

    #[test]
    fn line_locator_counts_newlines() {
        let u = TextUnit::lines("a\nb\n個人番号\n");
        let pos = u.text.find("個人").unwrap();
        assert_eq!(u.location_at(pos), Location::Line(3));
        assert_eq!(u.location_at(0), Location::Line(1));
        let idx = LineIndex::default();
        assert_eq!(idx.location(&u, pos), Location::Line(3));
        assert_eq!(idx.location(&u, 0), Location::Line(1));
        assert_eq!(idx.location(&u, 2), Location::Line(2));
    }

    #[test]
    fn segments_name_their_place() {
        let mut b = SegmentsBuilder::default();
        b.push("氏名", Location::Paragraph(1));
        b.push("", Location::Paragraph(2));
        b.push("山田太郎", Location::Paragraph(3));
        let u = b.build();
        assert_eq!(u.text, "氏名\n山田太郎");
        assert_eq!(u.location_at(0), Location::Paragraph(1));
        assert_eq!(
            u.location_at(u.text.find("山田").unwrap()),
            Location::Paragraph(3)
        );
    }

    #[test]
    fn header_rows() {
        assert!(looks_like_header(["氏名", "個人番号", "電話番号"]));
        assert!(!looks_like_header(["山田", "258231856428", "03-1234-5678"]));
        assert!(!looks_like_header(["", ""]));
    }

    #[test]
    fn row_cells_keep_their_locations() {
        let u = TextUnit::row(vec![
            (
                "山田".to_string(),
                Location::LineColumn { line: 2, column: 1 },
                Some("氏名".to_string()),
            ),
            (
                "1234".to_string(),
                Location::LineColumn { line: 2, column: 2 },
                None,
            ),
        ]);
        assert_eq!(u.text, "山田\t1234");
        let pos = u.text.find("12").unwrap();
        assert_eq!(
            u.location_at(pos),
            Location::LineColumn { line: 2, column: 2 }
        );
        assert_eq!(u.cell_at(0).unwrap().hint.as_deref(), Some("氏名"));
    }

    #[test]
    fn digit_runs() {
        assert_eq!(longest_digit_run("番号 1234 5678 9018 です"), 12);
        assert_eq!(longest_digit_run("03-1234-5678"), 10);
        assert_eq!(longest_digit_run("a1b22c"), 2);
        assert_eq!(longest_digit_run("12  34"), 2);
        assert_eq!(longest_digit_run(""), 0);
    }
}
