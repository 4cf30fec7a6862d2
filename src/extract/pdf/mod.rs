//! PDF via lopdf, with an own text layer that gets Japanese right.
//!
//! lopdf parses the file, decrypts it (an empty user password opens it;
//! lopdf loads an encrypted file with zero pages and no error otherwise,
//! so that case is checked) and gives each page's content stream. Text is
//! decoded per font, in this order:
//! 1. the font's `ToUnicode` CMap;
//! 2. predefined CMaps: `Uni*-UCS2-*` / `Uni*-UTF16-*` are UTF-16BE,
//!    `*RKSJ*` is CP932, `EUC-*` is EUC-JP, `H`/`V` are JIS X 0208;
//! 3. `Identity-H/V` with an Adobe-Japan1 ordering: CIDs through Adobe's
//!    Adobe-Japan1-UCS2 table (kept in the repository, BSD-3-Clause);
//! 4. simple fonts: their `Encoding` (WinAnsi, MacRoman, Standard,
//!    `Differences` with glyph names).
//!
//! Text follows the content stream; a change of line (of column, for
//! vertical fonts) starts a new line, so numbers and names are not glued
//! across lines. All pages form one unit (`page N` by offset), so a label
//! at the foot of one page is context for a value at the top of the next.
//! Pages with images but no text are OCRed when tesseract is installed
//! (`page N (OCR)`, see `ocr.rs`); otherwise they make the file
//! `image_only` (all pages) or add an `image_only` note naming the pages
//! (some pages): they were not checked.

mod cmap;
mod forms;
mod truetype;

use std::collections::HashMap;

use encoding_rs::{EUC_JP, SHIFT_JIS, WINDOWS_1252};
use lopdf::content::Content;
use lopdf::{Dictionary, Document, LoadOptions, Object, ObjectId};

use super::table::{
    layout_tables, Field, LayoutColumns, Line, Merge, TableBuilder, TableCell, TableRow,
};
use super::{ExtractContext, ExtractError, Extractor, Format, UnreadableReason};
use crate::text::{Location, SegmentsBuilder, TextUnit};

pub use cmap::{adobe_collection, adobe_japan1, CMap};

/// Reads PDF files.
pub struct Pdf;

/// Form XObjects nested deeper than this are not followed.
const MAX_FORM_DEPTH: usize = 4;
/// Image-only pages beyond this are not OCRed (about 2 s of CPU each).
const MAX_OCR_PAGES: usize = 50;
/// Decompressed content of one page beyond this is not read.
const MAX_PAGE_CONTENT: usize = 64 * 1024 * 1024;

impl Extractor for Pdf {
    fn formats(&self) -> &'static [Format] {
        &[Format::Pdf]
    }

    fn extract(
        &self,
        _name: &str,
        _format: Format,
        data: &[u8],
        cx: &mut ExtractContext<'_>,
    ) -> Result<(), ExtractError> {
        let doc = load(data)?;
        super::docmeta::report_pdf_created(&doc, cx);
        let pages = doc.get_pages();
        let encrypted = is_encrypted(&doc);
        let mut fonts = FontCache::default();
        let mut text = SegmentsBuilder::default();
        let mut image_only_pages = Vec::new();
        let mut damaged_pages = Vec::new();
        let mut lists = Lists::new(cx.vocabulary());
        for (&number, &page_id) in &pages {
            cx.budget.check_time()?;
            let page = page_text(&doc, page_id, &mut fonts);
            cx.budget.charge_bytes(page.text.len() as u64)?;
            if page.damaged {
                damaged_pages.push(number);
            }
            if page.text.chars().all(char::is_whitespace) {
                if page.images > 0 {
                    image_only_pages.push(number);
                }
                continue;
            }
            // Lists (a sheet saved as PDF) become rows of cells; the rest
            // of the page stays running text.
            let rest = lists.page(&page, number, &mut |u| cx.unit(u))?;
            text.push(&rest, Location::Page(number));
        }
        lists.finish(&mut |u| cx.unit(u))?;
        let total = pages.len();
        // Pages without a text layer: OCR them when tesseract is installed.
        if !image_only_pages.is_empty() && super::ocr::available() && super::ocr::can_render_pdf() {
            let mut still = Vec::new();
            for &n in &image_only_pages {
                if cx.budget.check_time().is_err() || n as usize > MAX_OCR_PAGES {
                    still.push(n);
                    continue;
                }
                match super::ocr::pdf_page_text(data, n, cx.budget.deadline()) {
                    Ok(t) if !t.trim().is_empty() => {
                        cx.budget.charge_bytes(t.len() as u64)?;
                        text.push(&t, Location::Named(format!("page {n} (OCR)")));
                    }
                    _ => still.push(n),
                }
            }
            image_only_pages = still;
        }
        // Filled-in forms keep what was typed in their fields; markup
        // annotations keep reviewers' notes.
        let fields = forms::read_fields(&doc, &pages, &mut fonts);
        let notes = forms::read_annotation_notes(&doc, &pages);
        let has_form_text = !fields.is_empty() || !notes.is_empty();
        let mut shown = SegmentsBuilder::default();
        for f in &fields {
            let loc = match f.page {
                Some(p) => format!("page {p} form"),
                None => "form".to_string(),
            };
            shown.push(&f.shown, Location::Named(loc));
        }
        let values: Vec<forms::Field> =
            fields.into_iter().filter(|f| !f.value.is_empty()).collect();
        if !values.is_empty() {
            let bytes: usize = values.iter().map(|f| f.value.len()).sum();
            cx.budget.charge_bytes(bytes as u64)?;
            let row = TextUnit::row(values.into_iter().map(|f| {
                let location = Location::Named(f.location());
                let hint = Some(f.label).filter(|l| !l.is_empty());
                (f.value, location, hint)
            }));
            cx.unit(row)?;
        }
        if !shown.is_empty() {
            cx.budget.charge_bytes(shown.len() as u64)?;
            cx.unit(shown.build())?;
        }
        if !notes.is_empty() {
            let mut b = SegmentsBuilder::default();
            for (i, (page, note)) in notes.iter().enumerate() {
                b.push(
                    note,
                    Location::Named(format!("page {page} comment {}", i + 1)),
                );
            }
            cx.budget.charge_bytes(b.len() as u64)?;
            cx.unit(b.build())?;
        }
        if text.is_empty() && has_form_text && image_only_pages.is_empty() {
            return Ok(());
        }
        if text.is_empty() {
            // Never silence: a PDF that yields no text was not checked.
            return Err(if encrypted {
                ExtractError::new(
                    UnreadableReason::Encrypted,
                    "PDF is encrypted and its content could not be decrypted without a password",
                )
            } else if !damaged_pages.is_empty() && image_only_pages.is_empty() {
                // Not a scan that needs OCR: the content itself is broken.
                ExtractError::new(
                    UnreadableReason::Corrupt,
                    format!(
                        "the content of {} of {total} page(s) is damaged and could not be read",
                        damaged_pages.len()
                    ),
                )
            } else {
                ExtractError::new(
                    UnreadableReason::ImageOnly,
                    format!("{total} page(s), no text layer (scanned images or outlined text: needs OCR)"),
                )
            });
        }
        if !text.is_empty() {
            cx.unit(text.build())?;
        }
        if total > 0 && image_only_pages.len() == total {
            return Err(ExtractError::new(
                UnreadableReason::ImageOnly,
                format!("{total} page(s), none with a text layer (needs OCR)"),
            ));
        }
        if !damaged_pages.is_empty() {
            let list: Vec<String> = damaged_pages.iter().map(u32::to_string).collect();
            let path = cx.member.clone();
            cx.units.unreadable(
                &path,
                Format::Pdf,
                ExtractError::new(
                    UnreadableReason::Corrupt,
                    format!(
                        "{} of {total} pages have damaged content: pages {}",
                        damaged_pages.len(),
                        list.join(", ")
                    ),
                ),
            );
        }
        // A cut-off copy that lopdf could still open: read, and still reported.
        let tail = &data[data.len().saturating_sub(1024)..];
        if doc.xref_recovery == Some(lopdf::xref::XrefRecovery::Reconstructed)
            && !tail.windows(5).any(|w| w == b"%%EOF")
        {
            let path = cx.member.clone();
            cx.units.unreadable(
                &path,
                Format::Pdf,
                ExtractError::new(
                    UnreadableReason::Corrupt,
                    "PDF is truncated (no end-of-file marker, cross-reference table rebuilt); the pages that are left were read",
                ),
            );
        }
        if !image_only_pages.is_empty() {
            let list: Vec<String> = image_only_pages.iter().map(u32::to_string).collect();
            let path = cx.member.clone();
            cx.units.unreadable(
                &path,
                Format::Pdf,
                ExtractError::new(
                    UnreadableReason::ImageOnly,
                    format!(
                        "{} of {total} pages have no text layer (needs OCR): pages {}",
                        image_only_pages.len(),
                        list.join(", ")
                    ),
                ),
            );
        }
        Ok(())
    }
}

/// The lists of a PDF, page after page: a list that reaches the foot of a
/// page may go on on the next.
struct Lists {
    vocabulary: Option<std::sync::Arc<crate::vocabulary::Vocabulary>>,
    open: Option<LayoutColumns>,
    builder: Option<TableBuilder>,
    next_table: u32,
    rows: u32,
}

impl Lists {
    fn new(vocabulary: Option<std::sync::Arc<crate::vocabulary::Vocabulary>>) -> Self {
        Lists {
            vocabulary,
            open: None,
            builder: None,
            next_table: 0,
            rows: 0,
        }
    }

    /// Emits the lists of a page as rows of cells; returns the rest of the
    /// page's text.
    fn page(
        &mut self,
        page: &PageText,
        number: u32,
        emit: &mut impl FnMut(TextUnit<'static>) -> Result<(), ExtractError>,
    ) -> Result<String, ExtractError> {
        let (lines, runs_of) = layout_lines(page);
        let (tables, open) = layout_tables(&lines, self.vocabulary.as_deref(), self.open.take());
        self.open = open;
        if tables.is_empty() {
            if let Some(mut b) = self.builder.take() {
                b.finish(emit)?;
                self.next_table = b.next_table();
            }
            return Ok(page.text.clone());
        }
        let mut consumed: Vec<(usize, usize)> = Vec::new();
        for t in tables {
            if !t.continued || self.builder.is_none() {
                if let Some(mut b) = self.builder.take() {
                    b.finish(emit)?;
                    self.next_table = b.next_table();
                }
                self.builder = Some(TableBuilder::new(self.vocabulary.clone(), self.next_table));
            }
            let Some(builder) = self.builder.as_mut() else {
                continue;
            };
            for &l in &t.lines {
                for &r in runs_of.get(l).into_iter().flatten() {
                    consumed.push((page.runs[r].start, page.runs[r].end));
                }
            }
            let first_row = self.rows;
            for m in &t.merges {
                builder.add_merge(Merge {
                    first_row: first_row + m.first_row,
                    last_row: first_row + m.last_row,
                    ..*m
                });
            }
            for r in t.rows {
                let row = TableRow {
                    index: self.rows,
                    cells: r
                        .cells
                        .into_iter()
                        .map(|(column, text)| TableCell {
                            column,
                            // A printed number: a spreadsheet may have dropped its leading zero.
                            number: !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()),
                            text,
                            location: Location::Page(number),
                        })
                        .collect(),
                };
                self.rows += 1;
                builder.push(row, emit)?;
            }
            // A blank row between lists keeps the builder from joining them.
            self.rows += 1;
        }
        if self.open.is_none() {
            if let Some(mut b) = self.builder.take() {
                b.finish(emit)?;
                self.next_table = b.next_table();
            }
        }
        Ok(without_ranges(&page.text, consumed))
    }

    fn finish(
        &mut self,
        emit: &mut impl FnMut(TextUnit<'static>) -> Result<(), ExtractError>,
    ) -> Result<(), ExtractError> {
        if let Some(mut b) = self.builder.take() {
            b.finish(emit)?;
        }
        Ok(())
    }
}

/// The page's horizontal text as lines (top to bottom) of fields (left to
/// right), and for each line the runs it was made of. Runs set close together
/// in one text object make one field, as do runs of another script set just
/// apart (LibreOffice spaces Latin from Japanese text by about a fifth of
/// an em); a new text object a little apart (the next cell of a list) or a
/// wide gap starts another field. Each run is also kept as a piece of its own.
fn layout_lines(page: &PageText) -> (Vec<Line>, Vec<Vec<usize>>) {
    let mut order: Vec<usize> = (0..page.runs.len())
        .filter(|&i| {
            let r = &page.runs[i];
            r.x0.is_finite()
                && r.x1.is_finite()
                && r.y.is_finite()
                && page
                    .text
                    .get(r.start..r.end)
                    .is_some_and(|t| !t.trim().is_empty())
        })
        .collect();
    order.sort_by(|&a, &b| {
        let (ra, rb) = (&page.runs[a], &page.runs[b]);
        rb.y.total_cmp(&ra.y).then(ra.x0.total_cmp(&rb.x0))
    });
    let mut line_runs: Vec<Vec<usize>> = Vec::new();
    for i in order {
        let r = page.runs[i];
        match line_runs.last_mut() {
            Some(l) if (page.runs[l[0]].y - r.y).abs() <= page.runs[l[0]].size * 0.5 => l.push(i),
            _ => line_runs.push(vec![i]),
        }
    }
    let mut lines: Vec<Line> = Vec::new();
    let mut runs_of: Vec<Vec<usize>> = Vec::new();
    for mut l in line_runs {
        l.sort_by(|&a, &b| page.runs[a].x0.total_cmp(&page.runs[b].x0));
        let mut fields: Vec<Field> = Vec::new();
        let mut pieces: Vec<Field> = Vec::new();
        let mut last: Option<(Run, &str)> = None;
        for &i in &l {
            let r = page.runs[i];
            let piece = page.text.get(r.start..r.end).unwrap_or("").trim();
            pieces.push(Field {
                x0: r.x0,
                x1: r.x1,
                text: piece.to_string(),
                block: r.block,
            });
            let same_field = last.is_some_and(|(p, ptext)| {
                let gap = r.x0 - p.x1;
                let script_change = ptext.chars().next_back().is_some_and(|c| c.is_ascii())
                    != piece.chars().next().is_some_and(|c| c.is_ascii());
                gap < r.size * 0.15
                    || (p.block == r.block && gap < r.size * 1.5)
                    || (script_change && gap < r.size * 0.3 && !piece.starts_with(char::is_numeric))
            });
            match (same_field, fields.last_mut()) {
                (true, Some(f)) => {
                    if r.x0 - f.x1 > r.size * 0.35 {
                        f.text.push(' ');
                    }
                    f.text.push_str(piece);
                    f.x1 = f.x1.max(r.x1);
                }
                _ => fields.push(Field {
                    x0: r.x0,
                    x1: r.x1,
                    text: piece.to_string(),
                    block: r.block,
                }),
            }
            last = Some((r, piece));
        }
        let first = l[0];
        lines.push(Line {
            y: page.runs[first].y,
            height: page.runs[first].size,
            fields,
            pieces,
        });
        runs_of.push(l);
    }
    (lines, runs_of)
}

/// `text` without the byte ranges `cut`, and without the lines left empty.
fn without_ranges(text: &str, mut cut: Vec<(usize, usize)>) -> String {
    cut.sort_unstable();
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for (a, b) in cut {
        let (a, b) = (a.max(at), b.min(text.len()));
        if a >= b || !text.is_char_boundary(a) || !text.is_char_boundary(b) {
            continue;
        }
        out.push_str(&text[at..a]);
        at = b;
    }
    out.push_str(text.get(at..).unwrap_or(""));
    out.lines()
        .filter(|l| !l.trim().is_empty())
        .collect::<Vec<_>>()
        .join("\n")
}

/// Loads a PDF; an encrypted one opens only with an empty user password.
fn load(data: &[u8]) -> Result<Document, ExtractError> {
    let corrupt =
        |e: lopdf::Error| ExtractError::new(UnreadableReason::Corrupt, format!("PDF: {e}"));
    let encrypted =
        || ExtractError::new(UnreadableReason::Encrypted, "PDF needs a password to open");
    let doc = match Document::load_mem(data) {
        Ok(d) => d,
        Err(lopdf::Error::Decryption(_)) | Err(lopdf::Error::InvalidPassword) => {
            return Err(encrypted())
        }
        Err(e) => {
            let msg = e.to_string().to_ascii_lowercase();
            if msg.contains("password") || msg.contains("decrypt") || msg.contains("encrypt") {
                return Err(encrypted());
            }
            return Err(corrupt(e));
        }
    };
    if is_encrypted(&doc) {
        // Opening with the empty user password decrypts what lopdf could not
        // on its own (AES-256 R6); a real user password stays a secret.
        if let Ok(d) = Document::load_mem_with_options(data, LoadOptions::with_password("")) {
            if !d.get_pages().is_empty() {
                return Ok(d);
            }
        }
        if doc.get_pages().is_empty() {
            return Err(encrypted());
        }
    }
    if doc.get_pages().is_empty() {
        return Err(ExtractError::new(
            UnreadableReason::Corrupt,
            "PDF: no pages found",
        ));
    }
    Ok(doc)
}

/// lopdf's `is_encrypted` can be false while the trailer still names an
/// encryption dictionary: either means encrypted.
fn is_encrypted(doc: &Document) -> bool {
    doc.is_encrypted() || doc.trailer.get(b"Encrypt").is_ok()
}

/// The text of one page, how many images it draws, and whether its
/// content was damaged.
struct PageText {
    text: String,
    images: usize,
    damaged: bool,
    /// Where each piece of horizontal text was set (for lists: `layout`).
    runs: Vec<Run>,
}

/// A piece of text set at one place: one text show (Tj, TJ) with the
/// continuation of its TJ array, in text space.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Run {
    pub x0: f32,
    pub x1: f32,
    pub y: f32,
    pub size: f32,
    /// Byte range in the page text.
    pub start: usize,
    pub end: usize,
    /// The text object (BT … ET) it was set in: a list's cells are each a
    /// text object of their own.
    pub block: u32,
}

fn page_text(doc: &Document, page_id: ObjectId, fonts: &mut FontCache) -> PageText {
    let mut st = TextState::default();
    let content = match doc.get_page_content_with_limit(page_id, MAX_PAGE_CONTENT) {
        Ok(c) => c,
        Err(_) => {
            st.damaged = true;
            Vec::new()
        }
    };
    if !contents_are_streams(doc, page_id) {
        // `/Contents` names objects that did not load (a stream whose
        // `Length` is a reference cycle is dropped by the parser).
        st.damaged = true;
    }
    let resources = page_resources(doc, page_id);
    let mut images = 0;
    run_content(doc, &content, &resources, fonts, &mut st, &mut images, 0);
    PageText {
        text: st.out,
        images,
        damaged: st.damaged,
        runs: st.runs,
    }
}

/// Whether every object the page's `/Contents` names is a stream (true
/// when it has none: an empty page).
fn contents_are_streams(doc: &Document, page_id: ObjectId) -> bool {
    let Ok(Object::Dictionary(page)) = doc.get_object(page_id) else {
        return false;
    };
    let ids: Vec<ObjectId> = match page.get(b"Contents") {
        Err(_) => return true,
        Ok(Object::Reference(id)) => match doc.get_object(*id) {
            Ok(Object::Array(a)) => a.iter().filter_map(|o| o.as_reference().ok()).collect(),
            _ => vec![*id],
        },
        Ok(Object::Array(a)) => a.iter().filter_map(|o| o.as_reference().ok()).collect(),
        Ok(_) => return false,
    };
    ids.iter().all(|id| match doc.get_object(*id) {
        // A Length that is not a number (a reference to nowhere, or a
        // reference cycle) leaves the parser guessing the stream's end.
        Ok(Object::Stream(st)) => match st.dict.get(b"Length") {
            Ok(Object::Integer(_)) => true,
            Ok(Object::Reference(r)) => matches!(doc.get_object(*r), Ok(Object::Integer(_))),
            _ => false,
        },
        _ => false,
    })
}

/// The page's resource dictionaries (its own first, then inherited ones).
fn page_resources(doc: &Document, page_id: ObjectId) -> Vec<Dictionary> {
    let mut out = Vec::new();
    if let Ok((own, inherited)) = doc.get_page_resources(page_id) {
        if let Some(d) = own {
            out.push(d.clone());
        }
        for id in inherited {
            if let Ok(Object::Dictionary(d)) = doc.get_object(id) {
                out.push(d.clone());
            }
        }
    }
    out
}

fn deref<'a>(doc: &'a Document, o: &'a Object) -> &'a Object {
    doc.dereference(o).map(|(_, o)| o).unwrap_or(o)
}

fn dict_get<'a>(doc: &'a Document, d: &'a Dictionary, key: &[u8]) -> Option<&'a Object> {
    d.get(key).ok().map(|o| deref(doc, o))
}

fn name_of(o: &Object) -> Option<&[u8]> {
    match o {
        Object::Name(n) => Some(n),
        _ => None,
    }
}

fn num(o: &Object) -> f32 {
    match o {
        Object::Integer(i) => *i as f32,
        Object::Real(r) => *r,
        _ => 0.0,
    }
}

/// Finds a resource (`Font` or `XObject` entry `name`) in the resource stack.
fn resource<'a>(
    doc: &'a Document,
    resources: &'a [Dictionary],
    kind: &[u8],
    name: &[u8],
) -> Option<(&'a Object, Option<ObjectId>)> {
    for r in resources {
        if let Some(Object::Dictionary(d)) = dict_get(doc, r, kind) {
            if let Ok(o) = d.get(name) {
                let id = match o {
                    Object::Reference(id) => Some(*id),
                    _ => None,
                };
                return Some((deref(doc, o), id));
            }
        }
    }
    None
}

/// At most this many runs are kept per page (the text is kept regardless).
const MAX_RUNS: usize = 200_000;

#[derive(Default)]
struct TextState {
    out: String,
    font: Option<usize>,
    size: f32,
    /// Text line origin (x, y) from Td/TD/Tm/T*.
    line: (f32, f32),
    /// Where the next glyph goes on the line (line origin plus the advance
    /// of what was shown since).
    pen_x: f32,
    leading: f32,
    /// Where the last shown text was set: decides line breaks.
    last: Option<(f32, f32)>,
    /// A content stream could not be loaded or parsed (a `Length` that
    /// points nowhere, a reference cycle, nesting beyond reason).
    damaged: bool,
    /// Text objects begun so far (BT).
    block: u32,
    runs: Vec<Run>,
    /// The clipping region text is set in (q … re W n … Q): a spreadsheet
    /// cell whose text runs over its width is clipped, and what it hides
    /// still belongs to the cell. Regions are numbered; saved at `q`.
    clip: Option<u32>,
    clips: u32,
    clip_stack: Vec<Option<u32>>,
    /// Saves beyond the stack's bound (only counted).
    clip_overflow: u32,
    clip_pending: bool,
}

impl TextState {
    fn show(&mut self, fonts: &FontCache, bytes: &[u8]) {
        let Some(fi) = self.font else { return };
        let font = &fonts.fonts[fi];
        let em = self.size.abs().max(1.0);
        if let Some((lx, ly)) = self.last {
            let (x, y) = self.line;
            let tol = em * 0.5;
            let new_line = if font.vertical {
                (x - lx).abs() > tol
            } else {
                (y - ly).abs() > tol
            };
            if new_line && !self.out.ends_with('\n') {
                self.out.push('\n');
            } else if !new_line && !font.vertical {
                // Text set apart on the same line (the next cell of a list,
                // a tab stop) is kept apart: a tab, so that a phone number
                // and the My Number in the next column do not fuse.
                if let Some(prev) = self.runs.last() {
                    let gap = self.pen_x - prev.x1;
                    let apart = gap > em * 0.8 || (prev.block != self.group() && gap > em * 0.3);
                    if apart && !self.out.ends_with([' ', '\t', '\n']) {
                        self.out.push('\t');
                    }
                }
            }
        }
        self.last = Some(self.line);
        let start = self.out.len();
        font.decode(bytes, &mut self.out);
        let advance = font.widths.advance(bytes, &self.out[start..]) * self.size.abs();
        if !font.vertical && self.runs.len() < MAX_RUNS {
            self.runs.push(Run {
                x0: self.pen_x,
                x1: self.pen_x + advance,
                y: self.line.1,
                size: em,
                start,
                end: self.out.len(),
                block: self.group(),
            });
        }
        self.pen_x += advance;
    }

    /// The continuation of a TJ array after its first string.
    fn show_more(&mut self, fonts: &FontCache, bytes: &[u8]) {
        let Some(fi) = self.font else { return };
        let font = &fonts.fonts[fi];
        let start = self.out.len();
        font.decode(bytes, &mut self.out);
        let advance = font.widths.advance(bytes, &self.out[start..]) * self.size.abs();
        self.pen_x += advance;
        self.extend_run();
    }

    /// A TJ position adjustment (thousandths of an em; negative moves right).
    fn adjust(&mut self, thousandths: f32) {
        self.pen_x -= thousandths / 1000.0 * self.size.abs();
        self.extend_run();
    }

    fn extend_run(&mut self) {
        let (end, x, group) = (self.out.len(), self.pen_x, self.group());
        if let Some(r) = self.runs.last_mut() {
            if r.block == group {
                r.end = end;
                r.x1 = r.x1.max(x);
            }
        }
    }

    /// The pen goes back to the line origin (Td, Tm, T*).
    fn moved(&mut self) {
        self.pen_x = self.line.0;
    }

    /// The group a run belongs to: its clipping region when there is one
    /// (one cell of a list), else its text object.
    fn group(&self) -> u32 {
        match self.clip {
            Some(c) => c | 0x8000_0000,
            None => self.block,
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn run_content(
    doc: &Document,
    content: &[u8],
    resources: &[Dictionary],
    fonts: &mut FontCache,
    st: &mut TextState,
    images: &mut usize,
    depth: usize,
) {
    let Ok(ops) = Content::decode(content) else {
        st.damaged = true;
        return;
    };
    for op in ops.operations {
        let a = &op.operands;
        match op.operator.as_str() {
            "BT" => {
                st.line = (0.0, 0.0);
                st.block += 1;
                st.moved();
            }
            // Clipping regions (the graphics state's, saved and restored).
            "q" if st.clip_stack.len() < 64 => st.clip_stack.push(st.clip),
            "q" => st.clip_overflow += 1,
            "Q" if st.clip_overflow > 0 => st.clip_overflow -= 1,
            "Q" => st.clip = st.clip_stack.pop().flatten(),
            "W" | "W*" => st.clip_pending = true,
            "n" | "f" | "f*" | "S" | "s" | "B" | "B*" | "b" | "b*" if st.clip_pending => {
                st.clip_pending = false;
                st.clips += 1;
                st.clip = Some(st.clips);
            }
            "Tf" => {
                if let (Some(name), Some(size)) = (a.first().and_then(name_of), a.get(1)) {
                    st.font = fonts.get(doc, resources, name);
                    st.size = num(size);
                }
            }
            "Td" | "TD" => {
                let (tx, ty) = (
                    a.first().map(num).unwrap_or(0.0),
                    a.get(1).map(num).unwrap_or(0.0),
                );
                st.line = (
                    st.line.0 + tx * st.size.max(1.0) / st.size.max(1.0),
                    st.line.1 + ty,
                );
                if op.operator == "TD" {
                    st.leading = -ty;
                }
                st.moved();
            }
            // Scale by the matrix so that tolerance compares like with like.
            "Tm" if a.len() == 6 => {
                let scale = num(&a[3]).abs().max(num(&a[0]).abs()).max(1e-3);
                st.line = (num(&a[4]) / scale, num(&a[5]) / scale);
                st.moved();
            }
            "T*" => {
                st.line.1 -= st.leading.max(st.size.abs());
                st.moved();
            }
            "TL" => st.leading = a.first().map(num).unwrap_or(0.0),
            "Tj" => {
                if let Some(Object::String(s, _)) = a.first() {
                    st.show(fonts, s);
                }
            }
            "'" | "\"" => {
                st.line.1 -= st.leading.max(st.size.abs());
                st.moved();
                if let Some(Object::String(s, _)) = a.last() {
                    st.show(fonts, s);
                }
            }
            "TJ" => {
                if let Some(Object::Array(items)) = a.first() {
                    let mut first = true;
                    for it in items {
                        match it {
                            Object::String(s, _) => {
                                if first {
                                    st.show(fonts, s);
                                    first = false;
                                } else {
                                    st.show_more(fonts, s);
                                }
                            }
                            o @ (Object::Integer(_) | Object::Real(_)) => {
                                // A large gap between words (thousandths of an em).
                                if num(o) < -300.0 && !st.out.ends_with([' ', '\t', '\n']) {
                                    st.out.push(' ');
                                }
                                if !first {
                                    st.adjust(num(o));
                                }
                            }
                            _ => {}
                        }
                    }
                }
            }
            "ET" => {}
            "BI" => *images += 1,
            "Do" => {
                let Some(name) = a.first().and_then(name_of) else {
                    continue;
                };
                let Some((Object::Stream(stream), _)) = resource(doc, resources, b"XObject", name)
                else {
                    continue;
                };
                let subtype = stream
                    .dict
                    .get(b"Subtype")
                    .ok()
                    .and_then(name_of)
                    .unwrap_or(b"");
                if subtype == b"Image" {
                    *images += 1;
                } else if subtype == b"Form" && depth < MAX_FORM_DEPTH {
                    let Ok(inner) = stream.decompressed_content_with_limit(MAX_PAGE_CONTENT) else {
                        continue;
                    };
                    let mut res: Vec<Dictionary> = Vec::new();
                    if let Some(Object::Dictionary(d)) = dict_get(doc, &stream.dict, b"Resources") {
                        res.push(d.clone());
                    }
                    res.extend(resources.iter().cloned());
                    if !st.out.is_empty() && !st.out.ends_with('\n') {
                        st.out.push('\n');
                    }
                    st.last = None;
                    run_content(doc, &inner, &res, fonts, st, images, depth + 1);
                }
            }
            _ => {}
        }
    }
    if !st.out.ends_with('\n') && !st.out.is_empty() {
        st.out.push('\n');
    }
}

/// Fonts decoded so far, by their object (or by name for inline dictionaries).
#[derive(Default)]
struct FontCache {
    fonts: Vec<FontDecoder>,
    by_key: HashMap<(Option<ObjectId>, Vec<u8>), usize>,
}

impl FontCache {
    fn get(&mut self, doc: &Document, resources: &[Dictionary], name: &[u8]) -> Option<usize> {
        let (obj, id) = resource(doc, resources, b"Font", name)?;
        let key = (
            id,
            if id.is_some() {
                Vec::new()
            } else {
                name.to_vec()
            },
        );
        if let Some(&i) = self.by_key.get(&key) {
            return Some(i);
        }
        let Object::Dictionary(dict) = obj else {
            return None;
        };
        let decoder = FontDecoder::new(doc, dict);
        self.fonts.push(decoder);
        self.by_key.insert(key, self.fonts.len() - 1);
        Some(self.fonts.len() - 1)
    }
}

/// How a font's string bytes become text.
enum Decoding {
    ToUnicode(CMap, usize),
    Utf16Be,
    Cp932,
    EucJp,
    /// Chinese and Korean legacy CMaps (GBK-EUC, B5, KSC-EUC): their codes
    /// are the encoding's bytes.
    Legacy(&'static encoding_rs::Encoding),
    /// JIS X 0208 two-byte codes (the `H`/`V` CMaps): EUC-JP with the high bit set.
    Jis,
    /// Two-byte CIDs of an Adobe-Japan1 font.
    Collection(&'static CMap),
    /// Two-byte CIDs of an embedded TrueType font, through its own cmap.
    Glyphs(HashMap<u16, char>),
    /// Two-byte CIDs with no known mapping.
    Unknown,
    Simple(Box<[char; 256]>),
}

struct FontDecoder {
    decoding: Decoding,
    /// For codes a ToUnicode map lacks: the font's own decoding.
    fallback: Option<Box<Decoding>>,
    vertical: bool,
    widths: Widths,
}

/// Glyph advances of a font, for where shown text ends (a list's columns).
#[derive(Debug, Default)]
struct Widths {
    /// Simple fonts: `/FirstChar` and `/Widths` (thousandths of an em).
    first: u32,
    simple: Vec<f32>,
    /// CID fonts with Identity encoding: `/W` by CID, `/DW`.
    cid: HashMap<u32, f32>,
    default: Option<f32>,
    /// Bytes per code: 1 for simple fonts, 2 for Identity-H CID fonts, 0
    /// when codes are not CIDs (then the advance is estimated from the text).
    code_len: usize,
}

/// Entries read from a font's `/W` array at most.
const MAX_WIDTH_ENTRIES: usize = 65_536;

impl Widths {
    fn simple(doc: &Document, font: &Dictionary) -> Widths {
        let first = dict_get(doc, font, b"FirstChar").map(num).unwrap_or(0.0);
        let simple = match dict_get(doc, font, b"Widths") {
            Some(Object::Array(a)) => a.iter().take(256).map(|o| num(deref(doc, o))).collect(),
            _ => Vec::new(),
        };
        Widths {
            first: first.clamp(0.0, 255.0) as u32,
            simple,
            code_len: 1,
            ..Widths::default()
        }
    }

    fn cid(doc: &Document, font: &Dictionary, identity: bool) -> Widths {
        let mut w = Widths {
            code_len: if identity { 2 } else { 0 },
            ..Widths::default()
        };
        let Some(cid) = descendant(doc, font) else {
            return w;
        };
        w.default = Some(dict_get(doc, cid, b"DW").map(num).unwrap_or(1000.0));
        let Some(Object::Array(items)) = dict_get(doc, cid, b"W") else {
            return w;
        };
        let mut i = 0;
        while i < items.len() && w.cid.len() < MAX_WIDTH_ENTRIES {
            let first = num(deref(doc, &items[i])).max(0.0) as u32;
            match items.get(i + 1).map(|o| deref(doc, o)) {
                Some(Object::Array(ws)) => {
                    for (k, o) in ws.iter().take(MAX_WIDTH_ENTRIES).enumerate() {
                        w.cid
                            .insert(first.saturating_add(k as u32), num(deref(doc, o)));
                    }
                    i += 2;
                }
                Some(o) => {
                    let last = num(o).max(0.0) as u32;
                    let width = items.get(i + 2).map(|o| num(deref(doc, o))).unwrap_or(0.0);
                    for c in first..=last.min(first.saturating_add(MAX_WIDTH_ENTRIES as u32)) {
                        w.cid.insert(c, width);
                    }
                    i += 3;
                }
                None => break,
            }
        }
        w
    }

    /// The advance of `bytes` (which decoded to `text`), in ems.
    fn advance(&self, bytes: &[u8], text: &str) -> f32 {
        let estimate = || -> f32 {
            text.chars()
                .map(|c| {
                    let u = c as u32;
                    if (0x2E80..0xFF61).contains(&u) || (0xFFE0..0xFFEF).contains(&u) || u > 0xFFFF
                    {
                        1.0
                    } else {
                        0.55
                    }
                })
                .sum()
        };
        let total: f32 = match self.code_len {
            1 if !self.simple.is_empty() => {
                bytes
                    .iter()
                    .map(|&b| {
                        (b as u32)
                            .checked_sub(self.first)
                            .and_then(|i| self.simple.get(i as usize))
                            .copied()
                            .unwrap_or(500.0)
                    })
                    .sum::<f32>()
                    / 1000.0
            }
            2 => {
                bytes
                    .chunks(2)
                    .map(|c| {
                        let code = u32::from(c[0]) << 8 | u32::from(*c.get(1).unwrap_or(&0));
                        self.cid
                            .get(&code)
                            .copied()
                            .or(self.default)
                            .unwrap_or(1000.0)
                    })
                    .sum::<f32>()
                    / 1000.0
            }
            _ => estimate(),
        };
        if total.is_finite() && total >= 0.0 {
            total
        } else {
            estimate()
        }
    }
}

impl FontDecoder {
    fn new(doc: &Document, font: &Dictionary) -> FontDecoder {
        let subtype = dict_get(doc, font, b"Subtype")
            .and_then(name_of)
            .unwrap_or(b"");
        let encoding = dict_get(doc, font, b"Encoding");
        let enc_name: Vec<u8> = match encoding {
            Some(Object::Name(n)) => n.clone(),
            Some(Object::Stream(s)) => s
                .dict
                .get(b"CMapName")
                .ok()
                .and_then(name_of)
                .map(<[u8]>::to_vec)
                .unwrap_or_default(),
            _ => Vec::new(),
        };
        let vertical = enc_name.ends_with(b"-V") || enc_name == b"V";
        let type0 = subtype == b"Type0";
        if type0 {
            let name = String::from_utf8_lossy(&enc_name).into_owned();
            let decoding =
                if name.starts_with("Uni") && (name.contains("UCS2") || name.contains("UTF16")) {
                    Decoding::Utf16Be
                } else if name.contains("RKSJ") {
                    Decoding::Cp932
                } else if name.starts_with("GB") {
                    Decoding::Legacy(encoding_rs::GBK)
                } else if name.starts_with("B5")
                    || name.starts_with("ETen")
                    || name.starts_with("HKscs")
                {
                    Decoding::Legacy(encoding_rs::BIG5)
                } else if name.starts_with("KSC") {
                    Decoding::Legacy(encoding_rs::EUC_KR)
                } else if name.contains("EUC") {
                    Decoding::EucJp
                } else if name == "H" || name == "V" {
                    Decoding::Jis
                } else if let Some(map) = embedded_truetype_glyphs(doc, font) {
                    Decoding::Glyphs(map)
                } else if let Some(table) = ordering(doc, font).and_then(|o| adobe_collection(&o)) {
                    Decoding::Collection(table)
                } else {
                    Decoding::Unknown
                };
            let identity = name.starts_with("Identity");
            let mut d = FontDecoder::with_to_unicode(doc, font, decoding, vertical, 2);
            d.widths = Widths::cid(doc, font, identity);
            return d;
        }
        let simple = Decoding::Simple(Box::new(simple_table(doc, encoding)));
        let mut d = FontDecoder::with_to_unicode(doc, font, simple, false, 1);
        d.widths = Widths::simple(doc, font);
        d
    }

    /// Uses the font's ToUnicode map when it has one, keeping `base` for
    /// the codes the map lacks (as poppler does).
    fn with_to_unicode(
        doc: &Document,
        font: &Dictionary,
        base: Decoding,
        vertical: bool,
        code_len: usize,
    ) -> FontDecoder {
        if let Some(Object::Stream(s)) = dict_get(doc, font, b"ToUnicode") {
            if let Ok(bytes) = s.decompressed_content_with_limit(16 * 1024 * 1024) {
                let cm = cmap::parse(&bytes);
                if !cm.map.is_empty() {
                    return FontDecoder {
                        decoding: Decoding::ToUnicode(cm, code_len),
                        fallback: Some(Box::new(base)),
                        vertical,
                        widths: Widths::default(),
                    };
                }
            }
        }
        FontDecoder {
            decoding: base,
            fallback: None,
            vertical,
            widths: Widths::default(),
        }
    }

    fn decode(&self, bytes: &[u8], out: &mut String) {
        Self::decode_as(&self.decoding, self.fallback.as_deref(), bytes, out);
    }

    fn decode_as(decoding: &Decoding, fallback: Option<&Decoding>, bytes: &[u8], out: &mut String) {
        match decoding {
            Decoding::ToUnicode(cm, default_len) => {
                cm.decode_with(bytes, *default_len, out, |code, out| match fallback {
                    Some(f) => {
                        let before = out.len();
                        Self::decode_as(f, None, code, out);
                        out.len() > before
                    }
                    None => false,
                });
            }
            Decoding::Utf16Be => {
                let units: Vec<u16> = bytes
                    .chunks(2)
                    .map(|c| u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)]))
                    .collect();
                out.push_str(&String::from_utf16_lossy(&units));
            }
            Decoding::Cp932 => out.push_str(&SHIFT_JIS.decode_without_bom_handling(bytes).0),
            Decoding::EucJp => out.push_str(&EUC_JP.decode_without_bom_handling(bytes).0),
            Decoding::Legacy(enc) => out.push_str(&enc.decode_without_bom_handling(bytes).0),
            Decoding::Jis => {
                let high: Vec<u8> = bytes.iter().map(|b| b | 0x80).collect();
                out.push_str(&EUC_JP.decode_without_bom_handling(&high).0);
            }
            Decoding::Collection(table) => {
                table.decode(bytes, 2, out);
            }
            Decoding::Glyphs(map) => {
                out.extend(
                    bytes.chunks(2).filter_map(|c| {
                        map.get(&u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)]))
                    }),
                );
            }
            Decoding::Unknown => {}
            Decoding::Simple(table) => out.extend(
                bytes
                    .iter()
                    .map(|&b| table[b as usize])
                    .filter(|&c| c != '\0'),
            ),
        }
    }
}

/// The descendant CID font of a Type0 font.
fn descendant<'a>(doc: &'a Document, font: &'a Dictionary) -> Option<&'a Dictionary> {
    let Some(Object::Array(desc)) = dict_get(doc, font, b"DescendantFonts") else {
        return None;
    };
    match desc.first().map(|o| deref(doc, o)) {
        Some(Object::Dictionary(d)) => Some(d),
        _ => None,
    }
}

/// The `Ordering` of a Type0 font's character collection (`Japan1`, …).
fn ordering(doc: &Document, font: &Dictionary) -> Option<Vec<u8>> {
    let cid = descendant(doc, font)?;
    match dict_get(doc, cid, b"CIDSystemInfo") {
        Some(Object::Dictionary(info)) => match dict_get(doc, info, b"Ordering") {
            Some(Object::String(s, _)) => Some(s.clone()),
            _ => None,
        },
        _ => None,
    }
}

/// CID → character for an embedded CID TrueType font (CIDFontType2) through
/// its CIDToGIDMap and the font's own cmap table.
fn embedded_truetype_glyphs(doc: &Document, font: &Dictionary) -> Option<HashMap<u16, char>> {
    let cid = descendant(doc, font)?;
    if dict_get(doc, cid, b"Subtype").and_then(name_of) != Some(b"CIDFontType2") {
        return None;
    }
    let Some(Object::Dictionary(desc)) = dict_get(doc, cid, b"FontDescriptor") else {
        return None;
    };
    let Some(Object::Stream(ff)) = dict_get(doc, desc, b"FontFile2") else {
        return None;
    };
    let data = ff.decompressed_content_with_limit(32 * 1024 * 1024).ok()?;
    let by_glyph = truetype::glyph_to_char(&data)?;
    match dict_get(doc, cid, b"CIDToGIDMap") {
        Some(Object::Stream(s)) => {
            let m = s.decompressed_content_with_limit(256 * 1024).ok()?;
            let mut out = HashMap::new();
            for (c, pair) in m.chunks(2).enumerate() {
                let gid = u16::from_be_bytes([pair[0], *pair.get(1).unwrap_or(&0)]);
                if let (Some(ch), Ok(c)) = (by_glyph.get(&gid), u16::try_from(c)) {
                    out.insert(c, *ch);
                }
            }
            Some(out)
        }
        // Identity (the default): CID = glyph id.
        _ => Some(by_glyph),
    }
}

/// A simple font's byte → char table: WinAnsi by default, or the named base
/// encoding, with `Differences` applied by glyph name.
fn simple_table(doc: &Document, encoding: Option<&Object>) -> [char; 256] {
    let mut t = ['\0'; 256];
    let (base, diffs): (&[u8], Option<&Vec<Object>>) = match encoding {
        Some(Object::Name(n)) => (n, None),
        Some(Object::Dictionary(d)) => (
            dict_get(doc, d, b"BaseEncoding")
                .and_then(name_of)
                .unwrap_or(b"WinAnsiEncoding"),
            match dict_get(doc, d, b"Differences") {
                Some(Object::Array(a)) => Some(a),
                _ => None,
            },
        ),
        _ => (b"WinAnsiEncoding", None),
    };
    let _ = base; // MacRoman and Standard differ from WinAnsi only above 0x7F and in a few glyphs.
    for (b, slot) in t.iter_mut().enumerate() {
        let byte = [b as u8];
        let s = WINDOWS_1252.decode_without_bom_handling(&byte).0;
        let c = s.chars().next().unwrap_or('\0');
        *slot = if b < 0x20 { '\0' } else { c };
    }
    if let Some(diffs) = diffs {
        let mut code = 0usize;
        for o in diffs {
            match o {
                Object::Integer(i) => code = (*i).clamp(0, 255) as usize,
                Object::Name(n) => {
                    if code < 256 {
                        if let Some(c) = glyph_char(n) {
                            t[code] = c;
                        }
                    }
                    code += 1;
                }
                _ => {}
            }
        }
    }
    t
}

/// A character from a glyph name: `uniXXXX`, `uXXXX`, `gXX`-less standard names.
fn glyph_char(name: &[u8]) -> Option<char> {
    let s = std::str::from_utf8(name).ok()?;
    if let Some(hex) = s.strip_prefix("uni").filter(|h| h.len() >= 4) {
        return u32::from_str_radix(&hex[..4], 16)
            .ok()
            .and_then(char::from_u32);
    }
    if let Some(hex) = s.strip_prefix('u').filter(|h| (4..=6).contains(&h.len())) {
        if let Ok(v) = u32::from_str_radix(hex, 16) {
            return char::from_u32(v);
        }
    }
    if s.len() == 1 {
        return s.chars().next();
    }
    const NAMES: &[(&str, char)] = &[
        ("space", ' '),
        ("exclam", '!'),
        ("quotedbl", '"'),
        ("numbersign", '#'),
        ("dollar", '$'),
        ("percent", '%'),
        ("ampersand", '&'),
        ("quotesingle", '\''),
        ("quoteright", '\''),
        ("parenleft", '('),
        ("parenright", ')'),
        ("asterisk", '*'),
        ("plus", '+'),
        ("comma", ','),
        ("hyphen", '-'),
        ("period", '.'),
        ("slash", '/'),
        ("zero", '0'),
        ("one", '1'),
        ("two", '2'),
        ("three", '3'),
        ("four", '4'),
        ("five", '5'),
        ("six", '6'),
        ("seven", '7'),
        ("eight", '8'),
        ("nine", '9'),
        ("colon", ':'),
        ("semicolon", ';'),
        ("less", '<'),
        ("equal", '='),
        ("greater", '>'),
        ("question", '?'),
        ("at", '@'),
        ("bracketleft", '['),
        ("backslash", '\\'),
        ("bracketright", ']'),
        ("asciicircum", '^'),
        ("underscore", '_'),
        ("grave", '`'),
        ("quoteleft", '\''),
        ("braceleft", '{'),
        ("bar", '|'),
        ("braceright", '}'),
        ("asciitilde", '~'),
        ("endash", '–'),
        ("emdash", '—'),
        ("bullet", '•'),
        ("yen", '¥'),
    ];
    NAMES.iter().find(|(n, _)| *n == s).map(|(_, c)| *c)
}
