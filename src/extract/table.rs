//! Tables: finding the header row where a city office puts it, for every
//! format that holds tables (spreadsheets, CSV/TSV, Word tables, PDF lists).
//!
//! A Japanese 帳票 rarely starts with its header: a title row (「令和6年度
//! ○○名簿」), a 取扱注意 line, a date or a department come first, notes
//! follow the list, and a second list may start below a blank row. So rows
//! are not labelled by "the first row"; a [`TableBuilder`] buffers the first
//! [`WINDOW`] rows of a sheet (and again after every blank-row gap) and
//! chooses the row whose cells most look like column labels: words of the
//! detectors' vocabulary (passed in, see [`crate::vocabulary`]), short text,
//! no digit runs. A label row directly above or below it joins it as a
//! two-row header (`申請者` over `氏名 | 住所` gives the hint `申請者 氏名`),
//! with merged header cells filled across their region. After a gap, a new
//! header starts a new table; rows without one continue the table above.
//!
//! Data rows become row units whose cells carry the header label of their
//! column as hint and a [`ColumnId`] (for column evidence). In a form (a
//! label cell followed by its value in the same row: `氏名 | 佐々木 あすか`) the
//! value cell takes the label as its hint. Title, header and note rows are
//! units too, without hints: nothing in a file goes unscanned.

use std::collections::HashMap;
use std::sync::Arc;

use crate::text::{longest_digit_run, ColumnId, Location, TextUnit};
use crate::vocabulary::{fold, Vocabulary};

/// Rows looked at before the header is chosen (at the start and after every gap).
pub const WINDOW: usize = 30;

/// A cell handed to the builder.
#[derive(Debug, Clone)]
pub struct TableCell {
    /// The column: a sheet's column index, a CSV field index, a PDF column.
    pub column: u32,
    pub text: String,
    pub location: Location,
    /// The cell held a number (a spreadsheet number cell): under a 個人番号
    /// header an 11-digit number gets back the leading zero Excel dropped.
    pub number: bool,
}

/// A row handed to the builder.
#[derive(Debug, Clone)]
pub struct TableRow {
    /// The row's position (sheet row, CSV line, PDF line ordinal): a jump
    /// of more than one is a blank-row gap.
    pub index: u32,
    pub cells: Vec<TableCell>,
}

/// A merged cell region (inclusive, in row indices and columns): a header
/// cell merged over several columns labels all of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Merge {
    pub first_row: u32,
    pub first_column: u32,
    pub last_row: u32,
    pub last_column: u32,
}

/// What a row looks like, for choosing the header.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct RowShape {
    /// Non-empty cells.
    cells: usize,
    /// Cells holding a word of the vocabulary.
    vocab: usize,
    /// Short cells without digit runs (label-like, vocabulary or not).
    short: usize,
    /// Cells with a run of three digits or more (values, dates, codes).
    data: usize,
    /// Cells longer than a label.
    long: usize,
}

/// Merged regions looked at per sheet: a hostile file may declare millions.
pub const MAX_MERGES: usize = 4096;

/// A label is at most this many characters.
const LABEL_CHARS: usize = 16;

struct Buffered {
    row: TableRow,
    gap_before: bool,
    shape: RowShape,
    /// For each cell: whether it is a label (a vocabulary word, short, no digits).
    labels: Vec<bool>,
}

/// The table rows are currently labelled by.
struct Active {
    id: u32,
    labels: HashMap<u32, String>,
}

/// Chooses headers and turns rows into units; see the module documentation.
pub struct TableBuilder {
    vocab: Option<Arc<Vocabulary>>,
    merges: Vec<Merge>,
    window: Vec<Buffered>,
    looking: bool,
    gap_pending: bool,
    last_index: Option<u32>,
    active: Option<Active>,
    next_table: u32,
    /// A 記入例 (sample) was seen: the values below are examples.
    sample: bool,
}

/// Words that mark a form or list as a filled-in sample (記入例).
pub const SAMPLE_WORDS: &[&str] = &["記入例", "記載例", "見本", "サンプル"];

/// What the hints of a sample's cells start with: a negative context word
/// of the detectors, longer than their column words (in a header, the
/// longest word decides).
pub const SAMPLE_HINT: &str = "記入例（サンプル）";

impl TableBuilder {
    /// A builder whose tables are numbered from `first_table` (tables are
    /// numbered per file: give the next sheet [`next_table`](Self::next_table)).
    pub fn new(vocab: Option<Arc<Vocabulary>>, first_table: u32) -> Self {
        TableBuilder {
            vocab,
            merges: Vec::new(),
            window: Vec::new(),
            looking: true,
            gap_pending: false,
            last_index: None,
            active: None,
            next_table: first_table,
            sample: false,
        }
    }

    /// Marks what follows as a sample (the document says 記入例 above the
    /// table): every data cell's hint then starts with 記入例, which the
    /// detectors weigh against their context words.
    pub fn mark_sample(&mut self) {
        self.sample = true;
    }

    fn note_sample(&mut self, row: &TableRow) {
        if !self.sample
            && row
                .cells
                .iter()
                .any(|c| SAMPLE_WORDS.iter().any(|w| c.text.contains(w)))
        {
            self.sample = true;
        }
    }

    /// Merged regions of the sheet (header cells spanning columns or rows).
    /// Only regions that can touch a header are kept (at most [`MAX_MERGES`]).
    pub fn with_merges(mut self, mut merges: Vec<Merge>) -> Self {
        merges.truncate(MAX_MERGES);
        self.merges = merges;
        self
    }

    /// Adds a merged region found while reading (Word's gridSpan and vMerge).
    pub fn add_merge(&mut self, merge: Merge) {
        if self.merges.len() < MAX_MERGES {
            self.merges.push(merge);
        }
    }

    /// The number the next table (of another sheet) should start from.
    pub fn next_table(&self) -> u32 {
        self.next_table
    }

    /// Adds a row; units for rows that are decided go to `emit`.
    pub fn push<E>(
        &mut self,
        row: TableRow,
        emit: &mut impl FnMut(TextUnit<'static>) -> Result<(), E>,
    ) -> Result<(), E> {
        if row.cells.iter().all(|c| c.text.trim().is_empty()) {
            self.gap_pending = true;
            return Ok(());
        }
        let gap_before = self.gap_pending
            || self
                .last_index
                .is_some_and(|l| row.index > l.saturating_add(1));
        self.gap_pending = false;
        self.last_index = Some(row.index);
        if !self.looking {
            if !gap_before {
                return self.emit_data(&row, emit);
            }
            self.looking = true;
        }
        let (shape, labels) = self.shape(&row);
        self.window.push(Buffered {
            row,
            gap_before,
            shape,
            labels,
        });
        if self.window.len() >= WINDOW {
            self.resolve(emit)?;
        }
        Ok(())
    }

    /// Emits whatever is still buffered.
    pub fn finish<E>(
        &mut self,
        emit: &mut impl FnMut(TextUnit<'static>) -> Result<(), E>,
    ) -> Result<(), E> {
        while !self.window.is_empty() {
            self.resolve(emit)?;
        }
        Ok(())
    }

    fn is_label_word(&self, text: &str) -> bool {
        self.vocab.as_ref().is_some_and(|v| v.matches(text))
    }

    fn shape(&self, row: &TableRow) -> (RowShape, Vec<bool>) {
        let mut s = RowShape::default();
        let mut labels = Vec::with_capacity(row.cells.len());
        for c in &row.cells {
            let t = c.text.trim();
            if t.is_empty() {
                labels.push(false);
                continue;
            }
            s.cells += 1;
            let chars = t.chars().count();
            let digits = longest_digit_run(&crate::normalize::normalize(t).text);
            let vocab = chars <= LABEL_CHARS * 2 && self.is_label_word(t);
            if digits >= 3 {
                s.data += 1;
            } else if chars > LABEL_CHARS * 2 {
                s.long += 1;
            } else if chars <= LABEL_CHARS {
                s.short += 1;
            }
            let is_label = vocab && digits < 3 && chars <= LABEL_CHARS;
            if is_label {
                s.vocab += 1;
            }
            labels.push(is_label);
        }
        (s, labels)
    }

    /// How much a row looks like a header; `None` when it cannot be one.
    fn header_score(b: &Buffered) -> Option<i32> {
        let s = b.shape;
        if s.cells < 2 || s.data > 0 || s.long > 0 {
            return None;
        }
        if s.vocab == 0 && s.short < 3 {
            return None;
        }
        Some(3 * s.vocab as i32 + s.short as i32)
    }

    fn is_data(b: &Buffered) -> bool {
        b.shape.data > 0 || (b.shape.cells >= 2 && b.shape.vocab == 0)
    }

    /// A short label row that can be one half of a two-row header.
    fn is_sublabel(b: &Buffered) -> bool {
        let s = b.shape;
        s.cells >= 1 && s.data == 0 && s.long == 0 && s.short == s.cells
    }

    /// A form: most rows pair a label cell with its value.
    fn is_form(rows: &[Buffered]) -> bool {
        let paired = rows
            .iter()
            .filter(|b| {
                let first = b.row.cells.iter().position(|c| !c.text.trim().is_empty());
                let label_cells = b.labels.iter().filter(|&&l| l).count();
                first.is_some_and(|i| b.labels[i]) && 2 * label_cells <= b.shape.cells
            })
            .count();
        paired >= 2 && 2 * paired >= rows.len()
    }

    /// The header row (best score; a following data row adds to it).
    fn best_header(rows: &[Buffered]) -> Option<usize> {
        let mut best: Option<(i32, usize)> = None;
        for (i, b) in rows.iter().enumerate() {
            let Some(mut score) = Self::header_score(b) else {
                continue;
            };
            let next = rows.get(i + 1).filter(|n| !n.gap_before);
            let after = rows.get(i + 2).filter(|n| !n.gap_before);
            let followed_by_data = next.is_some_and(Self::is_data)
                || (next.is_some_and(Self::is_sublabel) && after.is_some_and(Self::is_data));
            if followed_by_data {
                score += 2;
            }
            if best.is_none_or(|(s, _)| score > s) {
                best = Some((score, i));
            }
        }
        best.map(|(_, i)| i)
    }

    /// The text of header cell (row index, column), with merged regions filled.
    fn header_text(
        merges: &[Merge],
        b: &Buffered,
        column: u32,
        all: &[Buffered],
    ) -> Option<String> {
        if let Some(c) = b
            .row
            .cells
            .iter()
            .find(|c| c.column == column && !c.text.trim().is_empty())
        {
            return Some(c.text.trim().to_string());
        }
        let m = merges.iter().find(|m| {
            (m.first_row..=m.last_row).contains(&b.row.index)
                && (m.first_column..=m.last_column).contains(&column)
        })?;
        all.iter()
            .find(|r| r.row.index == m.first_row)
            .and_then(|r| {
                r.row
                    .cells
                    .iter()
                    .find(|c| c.column == m.first_column && !c.text.trim().is_empty())
            })
            .map(|c| c.text.trim().to_string())
    }

    /// Labels of a header of one row (`rows[top]`) or two rows.
    fn labels(&self, rows: &[Buffered], top: usize, two: bool) -> HashMap<u32, String> {
        let block = &rows[top..top + if two { 2 } else { 1 }];
        let mut columns: Vec<u32> = block
            .iter()
            .flat_map(|b| b.row.cells.iter().map(|c| c.column))
            .collect();
        let merges: Vec<Merge> = self
            .merges
            .iter()
            .filter(|m| {
                block
                    .iter()
                    .any(|b| (m.first_row..=m.last_row).contains(&b.row.index))
            })
            .copied()
            .collect();
        for m in &merges {
            columns.extend(m.first_column..=m.last_column.min(m.first_column + 256));
        }
        columns.sort_unstable();
        columns.dedup();
        let mut per_row: Vec<HashMap<u32, String>> = block
            .iter()
            .map(|b| {
                columns
                    .iter()
                    .filter_map(|&c| Self::header_text(&merges, b, c, rows).map(|t| (c, t)))
                    .collect()
            })
            .collect();
        if two && merges.is_empty() {
            // Without merge information (CSV, ODS, PDF): a group label above
            // two or more sub-labels spans them, up to the next group label.
            let (upper, lower) = per_row.split_at_mut(1);
            let (upper, lower) = (&mut upper[0], &lower[0]);
            let mut fill: Vec<(u32, String)> = Vec::new();
            let mut current: Option<(u32, String)> = None;
            for &c in &columns {
                match upper.get(&c) {
                    Some(t) => current = Some((c, t.clone())),
                    None => {
                        if let Some((start, t)) = &current {
                            if lower.contains_key(&c) && lower.contains_key(start) {
                                fill.push((c, t.clone()));
                                continue;
                            }
                        }
                        current = None;
                    }
                }
            }
            upper.extend(fill);
        }
        let mut out = HashMap::new();
        for &c in &columns {
            let mut parts: Vec<&str> = Vec::new();
            for r in &per_row {
                if let Some(t) = r.get(&c) {
                    if parts.last() != Some(&t.as_str()) {
                        parts.push(t);
                    }
                }
            }
            if !parts.is_empty() {
                out.insert(c, parts.join(" "));
            }
        }
        out
    }

    fn new_table(&mut self, labels: HashMap<u32, String>) {
        self.active = Some(Active {
            id: self.next_table,
            labels,
        });
        self.next_table += 1;
    }

    /// Decides the buffered window: header or not, and which rows belong to
    /// which table. Rows after a gap that follows the header go back into
    /// the window, to be looked at again.
    fn resolve<E>(
        &mut self,
        emit: &mut impl FnMut(TextUnit<'static>) -> Result<(), E>,
    ) -> Result<(), E> {
        let rows = std::mem::take(&mut self.window);
        self.looking = false;
        if rows.is_empty() {
            return Ok(());
        }
        if Self::is_form(&rows) {
            self.new_table(HashMap::new());
            for b in &rows {
                self.emit_data(&b.row, emit)?;
            }
            return Ok(());
        }
        let Some(h) = Self::best_header(&rows) else {
            // No header: rows after a gap continue the table above; a sheet
            // without any header is still one table (its columns count).
            if self.active.is_none() {
                self.new_table(HashMap::new());
            }
            for b in &rows {
                self.emit_data(&b.row, emit)?;
            }
            return Ok(());
        };
        // A label row directly below (or above) joins the header.
        let below = rows.get(h + 1).filter(|b| {
            !b.gap_before
                && Self::is_sublabel(b)
                && rows
                    .get(h + 2)
                    .is_none_or(|n| n.gap_before || Self::is_data(n))
        });
        let above = (h > 0 && !rows[h].gap_before)
            .then(|| &rows[h - 1])
            .filter(|b| Self::is_sublabel(b) && self.is_group_row(b));
        let (top, two) = match (above, below) {
            (_, Some(_)) => (h, true),
            (Some(_), None) => (h - 1, true),
            (None, None) => (h, false),
        };
        let end = top + if two { 2 } else { 1 };
        // Rows before the header: up to the last gap before it they continue
        // the table above; after that gap they are its title and notes.
        let title_from = rows[..=top].iter().rposition(|b| b.gap_before).unwrap_or(0);
        for b in &rows[..title_from] {
            self.emit_data(&b.row, emit)?;
        }
        for b in &rows[title_from..end] {
            self.note_sample(&b.row);
            emit(plain_row(&b.row))?;
        }
        let labels = self.labels(&rows, top, two);
        self.new_table(labels);
        let mut rest = rows.into_iter().skip(end).peekable();
        while let Some(b) = rest.next_if(|b| !b.gap_before) {
            self.emit_data(&b.row, emit)?;
        }
        let rest: Vec<Buffered> = rest.collect();
        if !rest.is_empty() {
            self.window = rest;
            self.looking = true;
        }
        Ok(())
    }

    /// A row above the header that groups its columns (申請者 over 氏名 | 住所),
    /// not a lone title in the first column.
    fn is_group_row(&self, b: &Buffered) -> bool {
        if b.shape.cells >= 2 {
            return true;
        }
        let Some(c) = b.row.cells.iter().find(|c| !c.text.trim().is_empty()) else {
            return false;
        };
        let spans = self.merges.iter().any(|m| {
            m.first_row == b.row.index
                && m.first_column == c.column
                && m.last_column > m.first_column
        });
        spans || (c.column > 0 && c.text.trim().chars().count() <= 10)
    }

    /// A data row: each cell with its column's label (or the label cell
    /// before it) as hint and its column id.
    fn emit_data<E>(
        &mut self,
        row: &TableRow,
        emit: &mut impl FnMut(TextUnit<'static>) -> Result<(), E>,
    ) -> Result<(), E> {
        self.note_sample(row);
        let mut cells = Vec::with_capacity(row.cells.len());
        let mut ids = Vec::with_capacity(row.cells.len());
        let mut previous_label: Option<&str> = None;
        for c in &row.cells {
            let text = c.text.trim();
            let column_label = self
                .active
                .as_ref()
                .and_then(|a| a.labels.get(&c.column))
                .map(String::as_str);
            let is_label = !text.is_empty()
                && text.chars().count() <= LABEL_CHARS
                && longest_digit_run(text) < 3
                && self.is_label_word(text);
            let hint = column_label.or(if is_label { None } else { previous_label });
            let value = if c.number
                && hint.is_some_and(is_my_number_label)
                && c.text.len() == 11
                && c.text.bytes().all(|b| b.is_ascii_digit())
            {
                format!("0{}", c.text)
            } else {
                c.text.clone()
            };
            let hint = match (self.sample, hint) {
                (true, Some(h)) => Some(format!("{SAMPLE_HINT} {h}")),
                (true, None) => Some(SAMPLE_HINT.to_string()),
                (false, h) => h.map(str::to_string),
            };
            cells.push((value, c.location.clone(), hint));
            ids.push(self.active.as_ref().map(|a| ColumnId {
                table: a.id,
                column: c.column,
            }));
            if !text.is_empty() {
                previous_label = is_label.then_some(text);
            }
        }
        emit(TextUnit::row(cells).with_columns(ids))
    }
}

/// A piece of text on a line of a laid-out page (a PDF): where it starts
/// and ends, in page units.
#[derive(Debug, Clone)]
pub struct Field {
    pub x0: f32,
    pub x1: f32,
    pub text: String,
    /// The text object it was set in (a PDF's BT … ET): pieces of one
    /// object are one cell, even where a clipped cell's text runs on under
    /// the next column.
    pub block: u32,
}

/// A line of a laid-out page: its height (font size), its fields (text set
/// together, left to right: what a reader sees as one cell) and the pieces
/// they were set in (a wrapped address may be set in pieces, one per script).
#[derive(Debug, Clone)]
pub struct Line {
    pub y: f32,
    pub height: f32,
    pub fields: Vec<Field>,
    pub pieces: Vec<Field>,
}

/// The columns of a list that reached the foot of a page: the next page's
/// first lines may go on with it.
#[derive(Debug, Clone)]
pub struct LayoutColumns {
    spans: Vec<(f32, f32)>,
    pitch: Option<f32>,
}

/// A row of a list on a laid-out page: each column's text.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LayoutRow {
    pub cells: Vec<(u32, String)>,
}

/// A list found on a laid-out page.
#[derive(Debug, Clone, Default)]
pub struct LayoutTable {
    /// Rows in order: a group label row, the header, data rows.
    pub rows: Vec<LayoutRow>,
    /// The lines the list is made of.
    pub lines: Vec<usize>,
    /// Group labels spanning columns; `first_row`/`last_row` index `rows`.
    pub merges: Vec<Merge>,
    /// The list goes on from the previous page (no header on this page).
    pub continued: bool,
}

/// Whether a line of a page reads as a list's header: two or more label
/// fields of which some are vocabulary words (four short labels will do
/// only when no vocabulary is known).
fn is_header_line(line: &Line, vocab: Option<&Vocabulary>) -> bool {
    let n = line.fields.len();
    if n < 2 {
        return false;
    }
    let mut words = 0;
    for f in &line.fields {
        let t = f.text.trim();
        let chars = t.chars().count();
        if chars == 0 || chars > LABEL_CHARS || longest_digit_run(t) >= 3 {
            return false;
        }
        if vocab.is_some_and(|v| v.matches(t)) {
            words += 1;
        }
    }
    words >= 2 || (words >= 1 && n >= 3) || (vocab.is_none() && n >= 4)
}

/// A short label line (a group label above the header).
fn is_label_line(line: &Line) -> bool {
    !line.fields.is_empty()
        && line.fields.iter().all(|f| {
            let t = f.text.trim();
            !t.is_empty() && t.chars().count() <= LABEL_CHARS && longest_digit_run(t) < 3
        })
}

/// The column of a piece of text. Header labels are mostly set at the left
/// of their column, and values left (text) or right (numbers) in theirs:
/// a piece between one label's start and the next label's start belongs
/// to the first. Otherwise (centred labels) the label it overlaps most, or
/// the nearest.
fn column_of(f: &Field, spans: &[(f32, f32)], tolerance: f32) -> Option<u32> {
    let mut inside = None;
    for (i, &(a, _)) in spans.iter().enumerate() {
        let next = spans.get(i + 1).map(|s| s.0).unwrap_or(f32::INFINITY);
        if f.x0 >= a - tolerance && f.x1 <= next + tolerance {
            if inside.is_some() {
                inside = None;
                break;
            }
            inside = Some(i as u32);
        }
    }
    if inside.is_some() {
        return inside;
    }
    spans
        .iter()
        .enumerate()
        .map(|(i, &(a, b))| {
            let overlap = f.x1.min(b) - f.x0.max(a);
            let distance = if overlap >= 0.0 {
                0.0
            } else {
                (a - f.x1).max(f.x0 - b)
            };
            (i, distance, overlap)
        })
        .min_by(|x, y| x.1.total_cmp(&y.1).then(y.2.total_cmp(&x.2)))
        .map(|(i, _, _)| i as u32)
}

/// A line's pieces by column, pieces of one column joined (without a space
/// where they were set close: a script change in 「神町2丁目」).
fn cells_of(line: &Line, spans: &[(f32, f32)]) -> Vec<(u32, String)> {
    let mut cells: Vec<(u32, String, f32)> = Vec::new();
    // (block, column, end) of the pieces so far: a piece that goes on
    // right where a piece of its block ended continues that cell.
    let mut groups: Vec<(u32, u32, f32)> = Vec::new();
    for p in &line.pieces {
        let t = p.text.trim();
        if t.is_empty() {
            continue;
        }
        let continued = groups
            .iter()
            .find(|(b, _, end)| *b == p.block && (p.x0 - end).abs() < line.height * 0.5);
        let c = match continued {
            Some(&(_, c, _)) => c,
            None => match column_of(p, spans, line.height * 0.5) {
                Some(c) => c,
                None => continue,
            },
        };
        groups.push((p.block, c, p.x1));
        match cells.iter_mut().find(|(k, _, _)| *k == c) {
            Some((_, text, end)) => {
                if p.x0 - *end > line.height * 0.35 {
                    text.push(' ');
                }
                text.push_str(t);
                *end = end.max(p.x1);
            }
            None => cells.push((c, t.to_string(), p.x1)),
        }
    }
    cells.sort_by_key(|c| c.0);
    cells.into_iter().map(|(c, t, _)| (c, t)).collect()
}

/// Lines from `start` on that fit the columns: rows with pieces in two or
/// more columns, and lines closer than a row (a cell's wrapped text) that
/// go on with the row above.
fn follow(
    lines: &[Line],
    start: usize,
    from_y: Option<f32>,
    cols: &mut LayoutColumns,
    vocab: Option<&Vocabulary>,
    table: &mut LayoutTable,
    data_rows_before: usize,
) -> usize {
    let mut prev_y = from_y;
    let mut data_rows = data_rows_before;
    let mut j = start;
    while let Some(line) = lines.get(j) {
        let gap = prev_y.map(|py| (py - line.y).abs());
        let limit = cols.pitch.unwrap_or(line.height * 1.6).max(line.height) * 2.5;
        if gap.is_some_and(|g| g > limit) {
            break;
        }
        let wrapped = data_rows > 0
            && gap
                .is_some_and(|g| cols.pitch.is_some_and(|p| g < p * 0.8) && g <= line.height * 1.6);
        if !wrapped && is_header_line(line, vocab) {
            break;
        }
        let cells = cells_of(line, &cols.spans);
        if cells.is_empty() {
            break;
        }
        if wrapped {
            if let Some(row) = table.rows.last_mut() {
                for (c, t) in cells {
                    match row.cells.iter_mut().find(|(k, _)| *k == c) {
                        Some((_, text)) => text.push_str(&t),
                        None => {
                            row.cells.push((c, t));
                            row.cells.sort_by_key(|x| x.0);
                        }
                    }
                }
            }
        } else {
            if cells.len() < 2.min(cols.spans.len()) {
                break;
            }
            if data_rows == 0 || cols.pitch.is_none() {
                if let Some(g) = gap {
                    cols.pitch = Some(g.max(line.height));
                }
            }
            table.rows.push(LayoutRow { cells });
            data_rows += 1;
        }
        table.lines.push(j);
        prev_y = Some(line.y);
        j += 1;
    }
    j
}

/// Finds lists on a laid-out page: a line of labels followed by lines whose
/// text falls into its columns (what LibreOffice and Excel make of a sheet
/// saved as PDF, and of a Word table). `open` are the columns of a list that
/// reached the foot of the previous page; the columns of one reaching the
/// foot of this page are returned. Lines must be in reading order, top to
/// bottom.
pub fn layout_tables(
    lines: &[Line],
    vocab: Option<&Vocabulary>,
    open: Option<LayoutColumns>,
) -> (Vec<LayoutTable>, Option<LayoutColumns>) {
    let mut tables = Vec::new();
    let mut open_after = None;
    let mut i = 0;
    if let Some(mut cols) = open {
        let mut table = LayoutTable {
            continued: true,
            ..LayoutTable::default()
        };
        // The wrapped tail of the previous page's last row may open the
        // page: it stays running text.
        let start = lines
            .iter()
            .take(3)
            .take_while(|l| cells_of(l, &cols.spans).len() == 1)
            .count();
        let next = follow(lines, start, None, &mut cols, vocab, &mut table, 1);
        if !table.rows.is_empty() {
            if next >= lines.len() {
                open_after = Some(cols.clone());
            }
            tables.push(table);
            i = next;
        }
    }
    while i < lines.len() {
        let header = &lines[i];
        if !is_header_line(header, vocab) {
            i += 1;
            continue;
        }
        let mut cols = LayoutColumns {
            spans: header.fields.iter().map(|f| (f.x0, f.x1)).collect(),
            pitch: None,
        };
        let mut table = LayoutTable::default();
        // A group label line right above the header (申請者 over 氏名 | 住所).
        let free_from = tables
            .last()
            .and_then(|t: &LayoutTable| t.lines.last().map(|l| l + 1))
            .unwrap_or(0);
        if i > free_from {
            let above = &lines[i - 1];
            if is_label_line(above) && (above.y - header.y).abs() <= header.height * 2.0 {
                let mut cells = Vec::new();
                for f in &above.fields {
                    let covered: Vec<u32> = cols
                        .spans
                        .iter()
                        .enumerate()
                        .filter(|(_, &(a, b))| f.x1.min(b) - f.x0.max(a) > 0.0)
                        .map(|(c, _)| c as u32)
                        .collect();
                    let Some(&first) = covered.first() else {
                        continue;
                    };
                    cells.push((first, f.text.trim().to_string()));
                    if let Some(&last) = covered.last().filter(|&&l| l > first) {
                        table.merges.push(Merge {
                            first_row: 0,
                            first_column: first,
                            last_row: 0,
                            last_column: last,
                        });
                    }
                }
                if !cells.is_empty() {
                    table.rows.push(LayoutRow { cells });
                    table.lines.push(i - 1);
                }
            }
        }
        table.rows.push(LayoutRow {
            cells: header
                .fields
                .iter()
                .enumerate()
                .map(|(k, f)| (k as u32, f.text.trim().to_string()))
                .collect(),
        });
        table.lines.push(i);
        let header_rows = table.rows.len();
        let next = follow(
            lines,
            i + 1,
            Some(header.y),
            &mut cols,
            vocab,
            &mut table,
            0,
        );
        if table.rows.len() == header_rows {
            i += 1;
            continue;
        }
        open_after = (next >= lines.len()).then_some(cols);
        tables.push(table);
        i = next;
    }
    (tables, open_after)
}

/// A title, header or note row: its cells without hints or columns.
fn plain_row(row: &TableRow) -> TextUnit<'static> {
    TextUnit::row(
        row.cells
            .iter()
            .map(|c| (c.text.clone(), c.location.clone(), None)),
    )
}

/// Whether a column label names the My Number (個人番号, マイナンバー, KOJIN_NO …).
pub fn is_my_number_label(label: &str) -> bool {
    let f = fold(label).text;
    [
        "個人番号",
        "マイナンバー",
        "kojinno",
        "kojinbango",
        "mynumber",
        "myno",
    ]
    .iter()
    .any(|w| f.contains(w))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vocab() -> Arc<Vocabulary> {
        Arc::new(Vocabulary::new([
            "氏名",
            "住所",
            "電話番号",
            "個人番号",
            "生年月日",
            "申請者",
            "フリガナ",
            "no",
            "備考",
            "KOJIN_NO",
            "SHIMEI",
            "受給者",
        ]))
    }

    fn row(index: u32, cells: &[&str]) -> TableRow {
        TableRow {
            index,
            cells: cells
                .iter()
                .enumerate()
                .filter(|(_, t)| !t.is_empty())
                .map(|(i, t)| TableCell {
                    column: i as u32,
                    text: t.to_string(),
                    location: Location::Cell {
                        sheet: "S".into(),
                        cell: format!("{}{}", i, index + 1),
                    },
                    number: false,
                })
                .collect(),
        }
    }

    fn run(b: &mut TableBuilder, rows: Vec<TableRow>) -> Vec<TextUnit<'static>> {
        let mut out = Vec::new();
        let mut emit = |u: TextUnit<'static>| -> Result<(), ()> {
            out.push(u);
            Ok(())
        };
        for r in rows {
            b.push(r, &mut emit).unwrap();
        }
        b.finish(&mut emit).unwrap();
        out
    }

    fn hints(u: &TextUnit<'_>) -> Vec<Option<String>> {
        match &u.locator {
            crate::text::Locator::Cells(c) => c.iter().map(|c| c.hint.clone()).collect(),
            _ => vec![],
        }
    }

    #[test]
    fn header_after_title_rows() {
        let mut b = TableBuilder::new(Some(vocab()), 0);
        let units = run(
            &mut b,
            vec![
                row(0, &["令和6年度 児童手当 受給者名簿"]),
                row(1, &["取扱注意", "", "", "令和6年4月1日現在"]),
                row(4, &["No.", "氏名", "住所", "個人番号"]),
                row(
                    5,
                    &["1", "佐々木 あすか", "藤沢市鵠沼1-2-3", "258231856428"],
                ),
                row(6, &["2", "山口 七夏", "藤沢市辻堂2-3-4", "063619562099"]),
            ],
        );
        assert_eq!(units.len(), 5);
        assert_eq!(hints(&units[2]), vec![None, None, None, None]);
        assert_eq!(
            hints(&units[3]),
            vec![
                Some("No.".into()),
                Some("氏名".into()),
                Some("住所".into()),
                Some("個人番号".into())
            ]
        );
        match &units[4].locator {
            crate::text::Locator::Cells(c) => {
                assert_eq!(
                    c[3].column,
                    Some(ColumnId {
                        table: 0,
                        column: 3
                    })
                )
            }
            _ => panic!(),
        }
    }

    #[test]
    fn two_row_header_with_merged_group_cell() {
        let mut b = TableBuilder::new(Some(vocab()), 0).with_merges(vec![
            Merge {
                first_row: 2,
                first_column: 1,
                last_row: 2,
                last_column: 2,
            },
            Merge {
                first_row: 2,
                first_column: 3,
                last_row: 3,
                last_column: 3,
            },
        ]);
        let units = run(
            &mut b,
            vec![
                row(0, &["申請者一覧"]),
                row(2, &["No", "申請者", "", "電話番号"]),
                row(3, &["", "氏名", "住所", ""]),
                row(
                    4,
                    &["1", "佐々木 あすか", "藤沢市鵠沼1-2-3", "090-1234-5678"],
                ),
            ],
        );
        assert_eq!(
            hints(units.last().unwrap()),
            vec![
                Some("No".into()),
                Some("申請者 氏名".into()),
                Some("申請者 住所".into()),
                Some("電話番号".into())
            ]
        );
    }

    #[test]
    fn two_row_header_without_merges_spans_group_labels() {
        let mut b = TableBuilder::new(Some(vocab()), 0);
        let units = run(
            &mut b,
            vec![
                row(0, &["No", "申請者", "", "電話番号"]),
                row(1, &["", "氏名", "住所", ""]),
                row(
                    2,
                    &["1", "佐々木 あすか", "藤沢市鵠沼1-2-3", "090-1234-5678"],
                ),
            ],
        );
        assert_eq!(
            hints(units.last().unwrap()),
            vec![
                Some("No".into()),
                Some("申請者 氏名".into()),
                Some("申請者 住所".into()),
                Some("電話番号".into())
            ]
        );
    }

    #[test]
    fn a_gap_and_a_new_header_start_a_new_table() {
        let mut b = TableBuilder::new(Some(vocab()), 3);
        let units = run(
            &mut b,
            vec![
                row(0, &["氏名", "個人番号"]),
                row(1, &["佐々木 あすか", "258231856428"]),
                row(3, &["緊急連絡先"]),
                row(4, &["氏名", "電話番号"]),
                row(5, &["山口 七夏", "090-1234-5678"]),
                row(7, &["佐藤 一郎", "258231856428"]),
            ],
        );
        let last = units.last().unwrap();
        // After the second gap, no new header: the second table goes on.
        assert_eq!(
            hints(last),
            vec![Some("氏名".into()), Some("電話番号".into())]
        );
        match &last.locator {
            crate::text::Locator::Cells(c) => assert_eq!(c[0].column.unwrap().table, 4),
            _ => panic!(),
        }
        assert_eq!(
            hints(&units[1]),
            vec![Some("氏名".into()), Some("個人番号".into())]
        );
        assert_eq!(b.next_table(), 5);
    }

    #[test]
    fn form_rows_label_their_values() {
        let mut b = TableBuilder::new(Some(vocab()), 0);
        let units = run(
            &mut b,
            vec![
                row(0, &["フリガナ", "ササキ アスカ"]),
                row(1, &["氏名", "佐々木 あすか"]),
                row(2, &["住所", "藤沢市鵠沼1-2-3"]),
            ],
        );
        assert_eq!(hints(&units[1]), vec![None, Some("氏名".into())]);
        assert_eq!(hints(&units[0]), vec![None, Some("フリガナ".into())]);
    }

    #[test]
    fn a_sample_form_marks_its_values() {
        let mut b = TableBuilder::new(Some(vocab()), 0);
        let units = run(
            &mut b,
            vec![
                row(0, &["記入例"]),
                row(1, &["氏名", "山田 太郎"]),
                row(2, &["住所", "藤沢市朝日町1番地の1"]),
            ],
        );
        assert_eq!(
            hints(&units[1]),
            vec![
                Some(SAMPLE_HINT.into()),
                Some(format!("{SAMPLE_HINT} 氏名"))
            ]
        );
    }

    #[test]
    fn my_number_leading_zero_restored_under_its_header() {
        let mut b = TableBuilder::new(Some(vocab()), 0);
        let mut r = row(1, &["山田 太郎", "63619562099"]);
        r.cells[1].number = true;
        let units = run(&mut b, vec![row(0, &["SHIMEI", "KOJIN_NO"]), r]);
        assert!(units[1].text.ends_with("063619562099"));
    }

    fn line(y: f32, fields: &[(f32, f32, &str)]) -> Line {
        let fields: Vec<Field> = fields
            .iter()
            .enumerate()
            .map(|(i, &(x0, x1, t))| Field {
                x0,
                x1,
                text: t.to_string(),
                block: i as u32,
            })
            .collect();
        Line {
            y,
            height: 8.0,
            pieces: fields.clone(),
            fields,
        }
    }

    #[test]
    fn a_pdf_list_is_found_by_its_label_line() {
        let v = vocab();
        let lines = vec![
            line(520.0, &[(300.0, 400.0, "支給申請者一覧")]),
            line(499.0, &[(122.0, 140.0, "申請者")]),
            line(
                488.0,
                &[
                    (55.0, 80.0, "No"),
                    (122.0, 138.0, "氏名"),
                    (208.0, 224.0, "住所"),
                    (432.0, 464.0, "電話番号"),
                ],
            ),
            line(
                477.0,
                &[
                    (55.0, 60.0, "1"),
                    (122.0, 170.0, "佐々木 あすか"),
                    (208.0, 330.0, "神奈川県藤沢市鵠沼海岸2丁目3番4号"),
                    (432.0, 480.0, "090-1234-5678"),
                ],
            ),
            line(
                466.0,
                &[
                    (55.0, 60.0, "2"),
                    (122.0, 160.0, "山口 七夏"),
                    (432.0, 480.0, "090-1234-5679"),
                ],
            ),
            line(440.0, &[(55.0, 300.0, "※ 個人番号は厳重に管理すること")]),
        ];
        let (tables, open) = layout_tables(&lines, Some(&v), None);
        assert!(open.is_none());
        assert_eq!(tables.len(), 1);
        let t = &tables[0];
        assert_eq!(t.lines, vec![1, 2, 3, 4]);
        assert_eq!(
            t.rows[3].cells,
            vec![
                (0, "2".to_string()),
                (1, "山口 七夏".to_string()),
                (3, "090-1234-5679".to_string())
            ]
        );
        assert_eq!(t.merges.len(), 0, "申請者 covers one header label only");
        // A list reaching the foot of the page goes on on the next one.
        let (tables, open) = layout_tables(&lines[..5], Some(&v), None);
        assert_eq!(tables.len(), 1);
        let next_page = vec![line(
            700.0,
            &[
                (55.0, 60.0, "3"),
                (122.0, 160.0, "森 ひなた"),
                (432.0, 480.0, "090-1234-5670"),
            ],
        )];
        let (tables, _) = layout_tables(&next_page, Some(&v), open);
        assert!(tables[0].continued);
        assert_eq!(tables[0].rows[0].cells.len(), 3);
    }

    #[test]
    fn right_aligned_numbers_and_wrapped_cells_find_their_columns() {
        let v = vocab();
        let mut wrapped = line(
            469.0,
            &[
                (208.0, 230.0, "神町"),
                (232.0, 236.0, "2"),
                (238.0, 250.0, "丁目"),
            ],
        );
        wrapped.fields = vec![Field {
            x0: 208.0,
            x1: 250.0,
            text: "神町2丁目".into(),
            block: 0,
        }];
        let lines = vec![
            line(
                488.0,
                &[
                    (55.0, 70.0, "No."),
                    (122.0, 138.0, "氏名"),
                    (208.0, 224.0, "住所"),
                ],
            ),
            line(
                477.0,
                &[
                    (115.0, 120.0, "1"),
                    (122.0, 160.0, "森 ひなた"),
                    (208.0, 290.0, "東京都八王子市明"),
                ],
            ),
            wrapped,
            line(
                458.0,
                &[
                    (115.0, 120.0, "2"),
                    (122.0, 160.0, "山口 七夏"),
                    (208.0, 290.0, "藤沢市辻堂1番地"),
                ],
            ),
        ];
        let (tables, _) = layout_tables(&lines, Some(&v), None);
        let rows = &tables[0].rows;
        assert_eq!(rows.len(), 3);
        assert_eq!(
            rows[1].cells,
            vec![
                (0, "1".to_string()),
                (1, "森 ひなた".to_string()),
                (2, "東京都八王子市明神町2丁目".to_string())
            ]
        );
        assert_eq!(tables[0].lines, vec![0, 1, 2, 3]);
    }

    #[test]
    fn prose_lines_are_no_list() {
        let lines = vec![
            line(
                500.0,
                &[(50.0, 500.0, "本市では、令和6年度の予算編成にあたり、")],
            ),
            line(
                488.0,
                &[(50.0, 500.0, "市民サービスの向上を基本方針としています。")],
            ),
        ];
        let (tables, open) = layout_tables(&lines, Some(&vocab()), None);
        assert!(tables.is_empty() && open.is_none());
    }

    #[test]
    fn window_is_bounded_and_rows_keep_their_order() {
        let mut b = TableBuilder::new(Some(vocab()), 0);
        let mut rows = vec![row(0, &["氏名", "個人番号"])];
        for i in 1..100 {
            rows.push(row(i, &["佐藤 一郎", "258231856428"]));
        }
        let units = run(&mut b, rows);
        assert_eq!(units.len(), 100);
        assert!(units[99].text.starts_with("佐藤"));
        assert_eq!(hints(&units[99])[1].as_deref(), Some("個人番号"));
        assert!(b.window.is_empty());
    }
}
