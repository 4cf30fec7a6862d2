//! Word (docx, docm) and the OOXML parts that hold text, read with zip +
//! quick-xml (docx-rs was measured to miss footnotes and VML text boxes and
//! to panic on some inputs; see shared/docs/extraction.md).
//!
//! Units: the body's paragraphs as one unit (`paragraph N`), each table row
//! as a row of cells (`table T row R col C`, the first row's cells giving
//! their columns context), text boxes (`text box N`), headers, footers,
//! footnotes, endnotes and comments (`comment N`). Deleted text of tracked
//! changes (`w:delText`) is read: it is still in the file. Of Word's two
//! copies of a text box (`mc:Choice` and the VML `mc:Fallback`), only the
//! first is read. Documents embedded in the document (`word/embeddings/`)
//! go back through the dispatcher.

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
}

/// Table being read: its number, rows so far, header cells.
struct Table {
    number: u32,
    row: u32,
    header: Option<Vec<String>>,
    cells: Vec<String>,
    cell: Option<String>,
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
                        tables.push(Table {
                            number: st.tables,
                            row: 0,
                            header: None,
                            cells: Vec::new(),
                            cell: None,
                        });
                    }
                    "w:tr" if boxes.is_empty() => {
                        if let Some(t) = tables.last_mut() {
                            t.row += 1;
                            t.cells.clear();
                        }
                    }
                    "w:tc" if boxes.is_empty() => {
                        if let Some(t) = tables.last_mut() {
                            t.cell = Some(String::new());
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
                                t.cells.push(c);
                            }
                        }
                    }
                    "w:tr" if boxes.is_empty() => {
                        if let Some(t) = tables.last_mut() {
                            let cells = std::mem::take(&mut t.cells);
                            if t.row == 1
                                && crate::text::looks_like_header(cells.iter().map(String::as_str))
                            {
                                t.header =
                                    Some(cells.iter().map(|c| c.trim().to_string()).collect());
                            }
                            let header = if t.row == 1 { None } else { t.header.clone() };
                            let (number, row) = (t.number, t.row);
                            let unit =
                                TextUnit::row(cells.into_iter().enumerate().map(|(i, c)| {
                                    (
                                        c,
                                        Location::Named(format!(
                                            "table {number} row {row} col {}",
                                            i + 1
                                        )),
                                        header
                                            .as_ref()
                                            .and_then(|h| h.get(i))
                                            .filter(|h| !h.is_empty())
                                            .cloned(),
                                    )
                                }));
                            pending_rows.push(unit);
                        }
                    }
                    "w:tbl" if boxes.is_empty() => {
                        tables.pop();
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
