//! OpenDocument text, presentation and drawing files (`.odt`, `.ott`,
//! `.odp`, `.odg`) and flat single-XML OpenDocument (`.fodt`, `.fodp`,
//! `.fods`), read with zip + quick-xml as docx is (`.ods` goes to calamine
//! in `spreadsheet.rs`).
//!
//! Units: body paragraphs (`text:p`, `text:h`, also those in frames and
//! text boxes) as one unit, `paragraph N`; slides and their notes as one
//! unit, `slide N` / `notes N` (`page N` in a drawing), master pages of a
//! presentation `master N`; each table row as a row of cells
//! (`table T row R col C`, prefixed with `slide N ` on a slide; `Sheet!B3`
//! in a flat spreadsheet), the header rows (`table:table-header-rows`, or
//! a first row that reads as a header) giving the columns context;
//! footnotes and endnotes (`footnote N`, `endnote N`), annotations
//! (`comment N`, without their author and date), deleted text of tracked
//! changes (`deleted text N`: still in the file); headers and footers of
//! the master pages in `styles.xml` (`header`, `footer`). `svg:title` and
//! `svg:desc` (accessibility texts of drawings) are not read.
//!
//! A package whose manifest carries `manifest:encryption-data` is
//! `encrypted` (its XML parts are AES ciphertext). The creation date of
//! `meta.xml` (`meta:creation-date`) is reported as document metadata.

use super::xml::{self, Ev};
use super::zip::{open, read_named};
use super::{DocumentMeta, ExtractContext, ExtractError, Extractor, Format, UnreadableReason};
use crate::text::{Location, SegmentsBuilder, TextUnit};

/// Reads OpenDocument text and presentations.
pub struct Odf;

impl Extractor for Odf {
    fn formats(&self) -> &'static [Format] {
        &[Format::Odt, Format::Odp, Format::Fodt]
    }

    fn extract(
        &self,
        _name: &str,
        format: Format,
        data: &[u8],
        cx: &mut ExtractContext<'_>,
    ) -> Result<(), ExtractError> {
        let mut walker = Walker::default();
        if format == Format::Fodt {
            cx.budget.charge_bytes(data.len() as u64)?;
            let text = super::encoding::decode(data).text;
            let result = walker.walk(&text, cx);
            walker.finish(cx)?;
            return result;
        }
        let mut archive = open(data)?;
        if let Some(manifest) = read_named(&mut archive, "META-INF/manifest.xml", cx)? {
            if contains(&manifest, b"encryption-data") {
                return Err(ExtractError::new(
                    UnreadableReason::Encrypted,
                    "password-protected OpenDocument file",
                ));
            }
        }
        let Some(content) = read_named(&mut archive, "content.xml", cx)? else {
            return Err(ExtractError::new(
                UnreadableReason::Corrupt,
                "OpenDocument package without content.xml",
            ));
        };
        // The body first; what was read of it is kept if a later part fails.
        let mut result = walker.walk(&xml::part_text(&content), cx);
        for part in ["styles.xml", "meta.xml"] {
            if result.is_err() {
                break;
            }
            if let Some(bytes) = read_named(&mut archive, part, cx)? {
                result = walker.walk(&xml::part_text(&bytes), cx);
            }
        }
        walker.finish(cx)?;
        result
    }
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

/// What kind of document the body is.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
enum Kind {
    #[default]
    Text,
    Presentation,
    Drawing,
    Spreadsheet,
}

/// Where a closed paragraph's text goes.
#[derive(Debug)]
enum Target {
    /// A body paragraph, or the text of the current slide.
    Body,
    /// A footnote, endnote, annotation or deletion: (label, text).
    Note(&'static str, String),
    /// The current cell of the innermost table.
    Cell,
    /// The notes page of the current slide.
    SlideNotes,
    /// A header or footer of a master page.
    HeaderFooter(&'static str),
    /// A master page of a presentation.
    Master,
}

/// A table being read.
struct Table {
    number: u32,
    name: String,
    /// Rows so far, counting repeated rows.
    row: u32,
    /// Column of the next cell (1-based), counting repeated cells.
    col: u32,
    in_header_rows: bool,
    header: Option<Vec<(u32, String)>>,
    header_rows: Vec<(u32, String)>,
    cells: Vec<(u32, String)>,
    cell: Option<String>,
    /// `table:number-rows-repeated` of the current row.
    row_repeat: u32,
}

/// The state of one document's walk over its XML parts.
#[derive(Default)]
struct Walker {
    kind: Kind,
    targets: Vec<Target>,
    /// Open paragraphs (a frame anchored in a paragraph holds paragraphs of its own).
    paragraphs: Vec<String>,
    tables: Vec<Table>,
    table_count: u32,
    /// Depth inside elements whose text is not read.
    skip: u32,
    body: SegmentsBuilder,
    paragraph: u32,
    slide: u32,
    slide_text: String,
    slide_notes: String,
    master: u32,
    master_text: String,
    notes: SegmentsBuilder,
    note_counts: [u32; 4],
    header_footer: SegmentsBuilder,
    creation_date: Option<String>,
    meta: Option<DocumentMeta>,
}

/// Most consecutive spaces one `text:s` stands for.
const MAX_SPACES: usize = 64;

fn repeat_attr(e: &quick_xml::events::BytesStart<'_>, name: &str) -> u32 {
    xml::attr(e, name)
        .and_then(|v| v.parse::<u32>().ok())
        .unwrap_or(1)
        .clamp(1, 1 << 20)
}

impl Walker {
    fn walk(&mut self, text: &str, cx: &mut ExtractContext<'_>) -> Result<(), ExtractError> {
        xml::walk(text, |ev| self.event(ev, cx))
    }

    fn push_text(&mut self, t: &str) {
        if self.skip > 0 {
            return;
        }
        if let Some(p) = self.paragraphs.last_mut() {
            p.push_str(t);
        } else if let Some(c) = self.creation_date.as_mut() {
            c.push_str(t);
        }
    }

    fn event(&mut self, ev: Ev<'_>, cx: &mut ExtractContext<'_>) -> Result<(), ExtractError> {
        match ev {
            Ev::Open(e) => {
                let n = xml::qname(&e);
                if self.skip > 0 {
                    self.skip += 1;
                    return Ok(());
                }
                match n.as_str() {
                    "svg:title"
                    | "svg:desc"
                    | "dc:creator"
                    | "dc:date"
                    | "office:change-info"
                    | "text:tracked-changes-info" => self.skip = 1,
                    "office:text" => self.kind = Kind::Text,
                    "office:presentation" => self.kind = Kind::Presentation,
                    "office:drawing" => self.kind = Kind::Drawing,
                    "office:spreadsheet" => self.kind = Kind::Spreadsheet,
                    "meta:creation-date" => self.creation_date = Some(String::new()),
                    "text:p" | "text:h" => self.paragraphs.push(String::new()),
                    "text:s" => {
                        let n = repeat_attr(&e, "text:c") as usize;
                        self.push_text(&" ".repeat(n.min(MAX_SPACES)));
                    }
                    "text:tab" => self.push_text("\t"),
                    "text:line-break" => self.push_text("\n"),
                    "text:note" => {
                        let label = match xml::attr(&e, "text:note-class").as_deref() {
                            Some("endnote") => "endnote",
                            _ => "footnote",
                        };
                        self.targets.push(Target::Note(label, String::new()));
                    }
                    "office:annotation" => {
                        self.targets.push(Target::Note("comment", String::new()))
                    }
                    "text:deletion" => self
                        .targets
                        .push(Target::Note("deleted text", String::new())),
                    "draw:page" => {
                        self.slide += 1;
                        self.slide_text.clear();
                        self.slide_notes.clear();
                        self.targets.push(Target::Body);
                    }
                    "presentation:notes" => self.targets.push(Target::SlideNotes),
                    "style:master-page" => {
                        self.master += 1;
                        self.master_text.clear();
                        self.targets.push(Target::Master);
                    }
                    "style:header" | "style:header-left" | "style:header-first" => {
                        self.targets.push(Target::HeaderFooter("header"))
                    }
                    "style:footer" | "style:footer-left" | "style:footer-first" => {
                        self.targets.push(Target::HeaderFooter("footer"))
                    }
                    "table:table" => {
                        self.table_count += 1;
                        self.tables.push(Table {
                            number: self.table_count,
                            name: xml::attr(&e, "table:name").unwrap_or_default(),
                            row: 0,
                            col: 1,
                            in_header_rows: false,
                            header: None,
                            header_rows: Vec::new(),
                            cells: Vec::new(),
                            cell: None,
                            row_repeat: 1,
                        });
                        self.targets.push(Target::Cell);
                    }
                    "table:table-header-rows" => {
                        if let Some(t) = self.tables.last_mut() {
                            t.in_header_rows = true;
                        }
                    }
                    "table:table-row" => {
                        let repeat = repeat_attr(&e, "table:number-rows-repeated");
                        if let Some(t) = self.tables.last_mut() {
                            t.row = t.row.saturating_add(1);
                            t.row_repeat = repeat;
                            t.col = 1;
                            t.cells.clear();
                        }
                    }
                    "table:table-cell" | "table:covered-table-cell" => {
                        let repeat = repeat_attr(&e, "table:number-columns-repeated");
                        if let Some(t) = self.tables.last_mut() {
                            // The cell's column is where it starts; repeats advance on close.
                            t.cell = Some(String::new());
                            t.cells.push((t.col, String::new()));
                            t.col = t.col.saturating_add(repeat);
                        }
                    }
                    _ => {}
                }
            }
            Ev::Close(n) => {
                if self.skip > 0 {
                    self.skip -= 1;
                    return Ok(());
                }
                match n.as_str() {
                    "meta:creation-date" => {
                        if let Some(d) = self.creation_date.take() {
                            if let Some(created) = super::docmeta::w3cdtf_date(&d) {
                                self.meta = Some(DocumentMeta {
                                    created: Some(created),
                                });
                            }
                        }
                    }
                    "text:p" | "text:h" => {
                        if let Some(p) = self.paragraphs.pop() {
                            self.paragraph_done(p);
                        }
                    }
                    "text:note" | "office:annotation" | "text:deletion" => {
                        if let Some(Target::Note(label, text)) = self.targets.pop() {
                            let i = match label {
                                "footnote" => 0,
                                "endnote" => 1,
                                "comment" => 2,
                                _ => 3,
                            };
                            if !text.trim().is_empty() {
                                self.note_counts[i] += 1;
                                let loc = format!("{label} {}", self.note_counts[i]);
                                self.notes.push(&text, Location::Named(loc));
                            }
                        }
                    }
                    "presentation:notes" => {
                        self.targets.pop();
                    }
                    "draw:page" => {
                        self.targets.pop();
                        let (slide, notes) = match self.kind {
                            Kind::Drawing => ("page", "notes"),
                            _ => ("slide", "notes"),
                        };
                        let text = std::mem::take(&mut self.slide_text);
                        self.body
                            .push(&text, Location::Named(format!("{slide} {}", self.slide)));
                        let text = std::mem::take(&mut self.slide_notes);
                        self.body
                            .push(&text, Location::Named(format!("{notes} {}", self.slide)));
                    }
                    "style:master-page" => {
                        self.targets.pop();
                        let text = std::mem::take(&mut self.master_text);
                        self.body
                            .push(&text, Location::Named(format!("master {}", self.master)));
                    }
                    "style:header" | "style:header-left" | "style:header-first"
                    | "style:footer" | "style:footer-left" | "style:footer-first" => {
                        self.targets.pop();
                    }
                    "table:table-header-rows" => {
                        if let Some(t) = self.tables.last_mut() {
                            t.in_header_rows = false;
                            if !t.header_rows.is_empty() {
                                t.header = Some(std::mem::take(&mut t.header_rows));
                            }
                        }
                    }
                    "table:table-cell" | "table:covered-table-cell" => {
                        if let Some(t) = self.tables.last_mut() {
                            if let (Some(text), Some(last)) = (t.cell.take(), t.cells.last_mut()) {
                                last.1 = text;
                            }
                        }
                    }
                    "table:table-row" => self.row_done(cx)?,
                    "table:table" => {
                        self.tables.pop();
                        self.targets.pop();
                    }
                    _ => {}
                }
            }
            Ev::Text(t) => self.push_text(&t),
        }
        Ok(())
    }

    /// A closed paragraph goes to the innermost target.
    fn paragraph_done(&mut self, p: String) {
        let joined = |buf: &mut String, p: &str| {
            if !buf.is_empty() && !p.is_empty() {
                buf.push('\n');
            }
            buf.push_str(p);
        };
        match self.targets.last_mut() {
            None => {
                // Body paragraphs (and any outside slides and master pages).
                if !p.trim().is_empty() {
                    self.paragraph += 1;
                    self.body.push(&p, Location::Paragraph(self.paragraph));
                }
            }
            Some(Target::Body) => joined(&mut self.slide_text, &p),
            Some(Target::SlideNotes) => joined(&mut self.slide_notes, &p),
            Some(Target::Master) => joined(&mut self.master_text, &p),
            Some(Target::Note(_, text)) => joined(text, &p),
            Some(Target::HeaderFooter(label)) => {
                let label = *label;
                self.header_footer.push(&p, Location::Named(label.into()));
            }
            Some(Target::Cell) => {
                if let Some(c) = self.tables.last_mut().and_then(|t| t.cell.as_mut()) {
                    joined(c, &p);
                } else if let Some(Target::Body) = self.targets.iter().rev().nth(1) {
                    // Text of a table outside any cell: keep it with the slide.
                    joined(&mut self.slide_text, &p);
                }
            }
        }
    }

    /// A closed table row becomes a row unit (header rows give context).
    fn row_done(&mut self, cx: &mut ExtractContext<'_>) -> Result<(), ExtractError> {
        let kind = self.kind;
        let slide = self.slide;
        let in_slide = self.targets.iter().any(|t| matches!(t, Target::Body));
        let Some(t) = self.tables.last_mut() else {
            return Ok(());
        };
        let cells = std::mem::take(&mut t.cells);
        let row = t.row;
        t.row = t.row.saturating_add(t.row_repeat - 1);
        if cells.iter().all(|(_, c)| c.trim().is_empty()) {
            return Ok(());
        }
        if t.in_header_rows {
            t.header_rows = cells
                .iter()
                .map(|(i, c)| (*i, c.trim().to_string()))
                .collect();
        } else if row == 1
            && t.header.is_none()
            && crate::text::looks_like_header(cells.iter().map(|(_, c)| c.as_str()))
        {
            t.header = Some(
                cells
                    .iter()
                    .map(|(i, c)| (*i, c.trim().to_string()))
                    .collect(),
            );
        }
        let is_header_row = t.in_header_rows || row == 1;
        let header = if is_header_row {
            None
        } else {
            t.header.as_ref()
        };
        let (number, name) = (t.number, t.name.clone());
        let unit = TextUnit::row(cells.into_iter().map(|(col, c)| {
            let location = match kind {
                Kind::Spreadsheet => Location::Cell {
                    sheet: name.clone(),
                    cell: format!("{}{row}", column_letters(col)),
                },
                _ if in_slide => {
                    Location::Named(format!("slide {slide} table {number} row {row} col {col}"))
                }
                _ => Location::Named(format!("table {number} row {row} col {col}")),
            };
            let hint = header
                .and_then(|h| h.iter().find(|(i, _)| *i == col))
                .map(|(_, h)| h.clone())
                .filter(|h| !h.is_empty());
            (c, location, hint)
        }));
        cx.unit(unit)
    }

    /// Pushes what was collected.
    fn finish(&mut self, cx: &mut ExtractContext<'_>) -> Result<(), ExtractError> {
        if let Some(meta) = self.meta.take() {
            cx.metadata(meta);
        }
        // Paragraphs still open at a malformed end are kept.
        while let Some(p) = self.paragraphs.pop() {
            self.paragraph_done(p);
        }
        for b in [
            std::mem::take(&mut self.body),
            std::mem::take(&mut self.notes),
            std::mem::take(&mut self.header_footer),
        ] {
            if !b.is_empty() {
                cx.unit(b.build())?;
            }
        }
        Ok(())
    }
}

/// `A`, `B`, … `Z`, `AA` for a 1-based column.
fn column_letters(mut col: u32) -> String {
    let mut out = Vec::new();
    while col > 0 {
        let rem = (col - 1) % 26;
        out.push(b'A' + rem as u8);
        col = (col - 1) / 26;
    }
    out.reverse();
    String::from_utf8(out).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn column_names() {
        assert_eq!(column_letters(1), "A");
        assert_eq!(column_letters(26), "Z");
        assert_eq!(column_letters(27), "AA");
        assert_eq!(column_letters(703), "AAA");
    }
}
