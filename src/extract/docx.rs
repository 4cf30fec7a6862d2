//! Word (docx, docm) and the OOXML parts that hold text, read with zip +
//! quick-xml (docx-rs was measured to miss footnotes and VML text boxes and
//! to panic on some inputs; see shared/docs/extraction.md).
//!
//! Units: the body's paragraphs as one unit (`paragraph N`), each table row
//! as a row of cells (`table T row R col C`; the shared table builder finds
//! the header row, also below title rows and as two rows with merged cells,
//! and in a form gives a value cell its label cell as context), text boxes (`text box N`), headers, footers,
//! footnotes, endnotes and comments (`comment N`). Deleted text of tracked
//! changes (`w:delText`) is read: it is still in the file. Of Word's two
//! copies of a text box (`mc:Choice` and the VML `mc:Fallback`), only the
//! first is read. Documents embedded in the document (`word/embeddings/`)
//! go back through the dispatcher.

use super::table::{Merge, TableBuilder, TableCell, TableRow, SAMPLE_WORDS};
use super::xml::{self, Ev};
use super::zip::{extract_embedded, member_names, open, read_named};
use super::{ExtractContext, ExtractError, Extractor, Format};
use crate::text::{Location, SegmentsBuilder, TextUnit};

/// Reads Word documents.
pub struct Docx;

impl Extractor for Docx {
    fn formats(&self) -> &'static [Format] {
        &[Format::Docx]
    }

    fn extract(
        &self,
        _name: &str,
        _format: Format,
        data: &[u8],
        cx: &mut ExtractContext<'_>,
    ) -> Result<(), ExtractError> {
        let mut archive = open(data)?;
        super::docmeta::report_package_created(&mut archive, cx);
        let names = member_names(&mut archive);
        let mut state = BodyState::default();
        if let Some(bytes) = read_named(&mut archive, "word/document.xml", cx)? {
            read_body(&xml::part_text(&bytes), &mut state, cx)?;
        } else {
            return Err(ExtractError::new(
                super::UnreadableReason::Corrupt,
                "docx without word/document.xml",
            ));
        }
        // Headers, footers and notes, in name order.
        let mut parts: Vec<&String> = names
            .iter()
            .filter(|n| {
                n.starts_with("word/")
                    && n.ends_with(".xml")
                    && ["header", "footer", "footnotes", "endnotes", "comments"]
                        .iter()
                        .any(|p| n["word/".len()..].starts_with(p))
            })
            .collect();
        parts.sort();
        for part in parts {
            let Some(bytes) = read_named(&mut archive, part, cx)? else {
                continue;
            };
            let kind = &part["word/".len()..];
            let text = xml::part_text(&bytes);
            if kind.starts_with("header") || kind.starts_with("footer") {
                let label = if kind.starts_with("header") {
                    "header"
                } else {
                    "footer"
                };
                let mut b = SegmentsBuilder::default();
                for p in paragraphs(&text)? {
                    b.push(&p.text, Location::Named(label.into()));
                }
                if !b.is_empty() {
                    cx.unit(b.build())?;
                }
            } else {
                let (element, label) = match kind {
                    k if k.starts_with("footnotes") => ("w:footnote", "footnote"),
                    k if k.starts_with("endnotes") => ("w:endnote", "endnote"),
                    _ => ("w:comment", "comment"),
                };
                let mut b = SegmentsBuilder::default();
                for (n, t) in notes(&text, element)?.into_iter().enumerate() {
                    b.push(&t, Location::Named(format!("{label} {}", n + 1)));
                }
                if !b.is_empty() {
                    cx.unit(b.build())?;
                }
            }
        }
        // Embedded documents (an Excel sheet in a Word file, …).
        extract_embedded(&mut archive, &names, "word/embeddings/", cx)?;
        Ok(())
    }
}

/// A paragraph's text and whether it sits in a table cell or text box.
#[derive(Debug, Default)]
struct Para {
    text: String,
}

#[derive(Default)]
struct BodyState {
    body: SegmentsBuilder,
    paragraph: u32,
    tables: u32,
    text_boxes: u32,
    /// Table ids for column evidence (numbered across the document).
    next_table_id: u32,
    /// The last body paragraph: a 記入例 heading marks the table below as a sample.
    last_paragraph: String,
}

/// Table being read: its number, rows so far, the cells of the current row
/// (text and grid column), and the builder that chooses its header.
struct Table {
    number: u32,
    row: u32,
    cells: Vec<(String, u32)>,
    cell: Option<String>,
    /// Grid column of the current cell and how many grid columns it spans.
    grid: u32,
    span: u32,
    /// Grid columns whose vertical merge started in an earlier row: (column, first row).
    vmerge: Vec<(u32, u32)>,
    builder: TableBuilder,
}

/// Reads `word/document.xml`: body paragraphs into one unit, table rows and
/// text boxes as their own units.
fn read_body(
    xml_text: &str,
    st: &mut BodyState,
    cx: &mut ExtractContext<'_>,
) -> Result<(), ExtractError> {
    let mut tables: Vec<Table> = Vec::new();
    let mut para: Option<String> = None;
    // Text boxes nest inside a paragraph: their paragraphs are kept apart.
    let mut boxes: Vec<(String, Option<String>)> = Vec::new();
    let mut in_text = false;
    let mut skip_depth = 0u32; // inside mc:Fallback
    let mut pending_rows: Vec<TextUnit<'static>> = Vec::new();
    let mut pending_boxes: Vec<TextUnit<'static>> = Vec::new();
    let vocabulary = cx.vocabulary();
    xml::walk(xml_text, |ev| {
        match ev {
            Ev::Open(e) => {
                let n = xml::qname(&e);
                if skip_depth > 0 {
                    if n == "mc:Fallback" {
                        skip_depth += 1;
                    }
                    return Ok(());
                }
                match n.as_str() {
                    "mc:Fallback" => skip_depth = 1,
                    "w:t" | "w:delText" => in_text = true,
                    "w:tab" => push_text(&mut boxes, &mut para, "\t"),
                    "w:br" | "w:cr" => push_text(&mut boxes, &mut para, "\n"),
                    "w:p" => {
                        if let Some((_, p)) = boxes.last_mut() {
                            *p = Some(String::new());
                        } else {
                            para = Some(String::new());
                        }
                    }
                    "w:txbxContent" => boxes.push((String::new(), None)),
                    "w:tbl" if boxes.is_empty() => {
                        st.tables += 1;
                        let mut builder = TableBuilder::new(vocabulary.clone(), st.next_table_id);
                        if SAMPLE_WORDS.iter().any(|w| st.last_paragraph.contains(w)) {
                            builder.mark_sample();
                        }
                        tables.push(Table {
                            number: st.tables,
                            row: 0,
                            cells: Vec::new(),
                            cell: None,
                            grid: 0,
                            span: 1,
                            vmerge: Vec::new(),
                            builder,
                        });
                    }
                    "w:tr" if boxes.is_empty() => {
                        if let Some(t) = tables.last_mut() {
                            t.row += 1;
                            t.cells.clear();
                            t.grid = 0;
                        }
                    }
                    "w:tc" if boxes.is_empty() => {
                        if let Some(t) = tables.last_mut() {
                            t.cell = Some(String::new());
                            t.span = 1;
                        }
                    }
                    // A cell spanning grid columns, or merged with the cells above.
                    "w:gridSpan" if boxes.is_empty() => {
                        if let Some(t) = tables.last_mut() {
                            let n = xml::attr(&e, "w:val").and_then(|v| v.parse::<u32>().ok());
                            t.span = n.unwrap_or(1).clamp(1, 64);
                        }
                    }
                    "w:vMerge" if boxes.is_empty() => {
                        if let Some(t) = tables.last_mut() {
                            let restart = xml::attr(&e, "w:val").as_deref() == Some("restart");
                            let (col, row) = (t.grid, t.row.saturating_sub(1));
                            let open = t.vmerge_start(col);
                            t.vmerge.retain(|&(c, _)| c != col);
                            if restart {
                                t.vmerge.push((col, row));
                            } else if let Some(first) = open {
                                t.builder.add_merge(Merge {
                                    first_row: first,
                                    first_column: col,
                                    last_row: row,
                                    last_column: col,
                                });
                                t.vmerge.push((col, first));
                            }
                        }
                    }
                    _ => {}
                }
            }
            Ev::Close(n) => {
                if skip_depth > 0 {
                    if n == "mc:Fallback" {
                        skip_depth -= 1;
                    }
                    return Ok(());
                }
                match n.as_str() {
                    "w:t" | "w:delText" => in_text = false,
                    "w:p" => {
                        if let Some((b, p)) = boxes.last_mut() {
                            if let Some(p) = p.take() {
                                if !b.is_empty() {
                                    b.push('\n');
                                }
                                b.push_str(&p);
                            }
                        } else if let Some(p) = para.take() {
                            if let Some(t) = tables.last_mut() {
                                if let Some(c) = t.cell.as_mut() {
                                    if !c.is_empty() {
                                        c.push('\n');
                                    }
                                    c.push_str(&p);
                                }
                            } else {
                                st.paragraph += 1;
                                st.body.push(&p, Location::Paragraph(st.paragraph));
                                if !p.trim().is_empty() {
                                    st.last_paragraph = p;
                                }
                            }
                        }
                    }
                    "w:txbxContent" => {
                        if let Some((b, _)) = boxes.pop() {
                            if !b.trim().is_empty() {
                                st.text_boxes += 1;
                                pending_boxes.push(TextUnit::fixed(
                                    b,
                                    Location::Named(format!("text box {}", st.text_boxes)),
                                ));
                            }
                        }
                    }
                    "w:tc" if boxes.is_empty() => {
                        if let Some(t) = tables.last_mut() {
                            if let Some(c) = t.cell.take() {
                                if t.span > 1 {
                                    let (col, row) = (t.grid, t.row.saturating_sub(1));
                                    t.builder.add_merge(Merge {
                                        first_row: row,
                                        first_column: col,
                                        last_row: row,
                                        last_column: col + t.span - 1,
                                    });
                                }
                                t.cells.push((c, t.grid));
                                t.grid += t.span;
                            }
                        }
                    }
                    "w:tr" if boxes.is_empty() => {
                        if let Some(t) = tables.last_mut() {
                            let (number, row) = (t.number, t.row);
                            let cells = std::mem::take(&mut t.cells)
                                .into_iter()
                                .enumerate()
                                .map(|(i, (text, grid))| TableCell {
                                    column: grid,
                                    text,
                                    location: Location::Named(format!(
                                        "table {number} row {row} col {}",
                                        i + 1
                                    )),
                                    number: false,
                                })
                                .collect();
                            let row = TableRow {
                                index: row.saturating_sub(1),
                                cells,
                            };
                            t.builder.push(row, &mut |u| {
                                pending_rows.push(u);
                                Ok::<(), ExtractError>(())
                            })?;
                        }
                    }
                    "w:tbl" if boxes.is_empty() => {
                        if let Some(mut t) = tables.pop() {
                            t.builder.finish(&mut |u| {
                                pending_rows.push(u);
                                Ok::<(), ExtractError>(())
                            })?;
                            st.next_table_id = t.builder.next_table();
                        }
                    }
                    _ => {}
                }
            }
            Ev::Text(t) => {
                if in_text && skip_depth == 0 {
                    push_text(&mut boxes, &mut para, &t);
                }
            }
        }
        Ok(())
    })?;
    for u in pending_rows.into_iter().chain(pending_boxes) {
        cx.unit(u)?;
    }
    let body = std::mem::take(&mut st.body);
    if !body.is_empty() {
        cx.unit(body.build())?;
    }
    Ok(())
}

impl Table {
    /// The first row of a vertical merge still open in grid column `col`.
    fn vmerge_start(&self, col: u32) -> Option<u32> {
        self.vmerge.iter().find(|(c, _)| *c == col).map(|(_, r)| *r)
    }
}

fn push_text(boxes: &mut [(String, Option<String>)], para: &mut Option<String>, t: &str) {
    if let Some((_, Some(p))) = boxes.last_mut() {
        p.push_str(t);
    } else if let Some(p) = para.as_mut() {
        p.push_str(t);
    }
}

/// Paragraph texts of a header or footer part (tables and text boxes included, in order).
fn paragraphs(xml_text: &str) -> Result<Vec<Para>, ExtractError> {
    let mut out = Vec::new();
    let mut cur: Option<String> = None;
    let mut in_text = false;
    let mut skip = 0u32;
    xml::walk(xml_text, |ev| {
        match ev {
            Ev::Open(e) => match xml::qname(&e).as_str() {
                "mc:Fallback" => skip += 1,
                _ if skip > 0 => {}
                "w:p" => cur = Some(cur.take().unwrap_or_default()),
                "w:t" | "w:delText" => in_text = true,
                "w:tab" => cur.get_or_insert_with(String::new).push('\t'),
                "w:br" | "w:cr" => cur.get_or_insert_with(String::new).push('\n'),
                _ => {}
            },
            Ev::Close(n) => match n.as_str() {
                "mc:Fallback" => skip = skip.saturating_sub(1),
                _ if skip > 0 => {}
                "w:t" | "w:delText" => in_text = false,
                "w:p" => {
                    if let Some(t) = cur.take() {
                        out.push(Para { text: t });
                    }
                }
                _ => {}
            },
            Ev::Text(t) => {
                if in_text && skip == 0 {
                    cur.get_or_insert_with(String::new).push_str(&t);
                }
            }
        }
        Ok(())
    })?;
    Ok(out)
}

/// Texts of each footnote, endnote or comment (`element`), in order,
/// without Word's separator notes.
fn notes(xml_text: &str, element: &str) -> Result<Vec<String>, ExtractError> {
    let mut out = Vec::new();
    let mut cur: Option<String> = None;
    let mut in_text = false;
    let mut skip = 0u32;
    xml::walk(xml_text, |ev| {
        match ev {
            Ev::Open(e) => {
                let n = xml::qname(&e);
                if n == "mc:Fallback" {
                    skip += 1;
                } else if skip > 0 {
                } else if n == element {
                    let kind = xml::attr(&e, "w:type").unwrap_or_default();
                    cur = if kind.contains("eparator") {
                        None
                    } else {
                        Some(String::new())
                    };
                } else if n == "w:t" || n == "w:delText" {
                    in_text = true;
                } else if n == "w:p" {
                    if let Some(c) = cur.as_mut() {
                        if !c.is_empty() {
                            c.push('\n');
                        }
                    }
                } else if n == "w:tab" {
                    if let Some(c) = cur.as_mut() {
                        c.push('\t');
                    }
                }
            }
            Ev::Close(n) => {
                if n == "mc:Fallback" {
                    skip = skip.saturating_sub(1);
                } else if n == element {
                    if let Some(c) = cur.take() {
                        out.push(c);
                    }
                } else if n == "w:t" || n == "w:delText" {
                    in_text = false;
                }
            }
            Ev::Text(t) => {
                if in_text && skip == 0 {
                    if let Some(c) = cur.as_mut() {
                        c.push_str(&t);
                    }
                }
            }
        }
        Ok(())
    })?;
    Ok(out)
}
