//! HTML pages (`.html`, `.htm`, `.xhtml`, and files that start with HTML
//! markup), read with html5ever's tokenizer.
//!
//! Why the tokenizer alone: measured on the 2ch.net portal page of the
//! corpus, on 50 hand-broken 2ch-style posts (unclosed `<dd>`/`<font>`,
//! raw `<` and `&`, an unterminated comment) and on 200,000 nested
//! `<div>`/`<b>` and 50,000 nested `<table><tr><td>`: html5ever's
//! tokenizer decoded every entity and raw character and kept script and
//! style text out (it switches to their raw-text states when told), in
//! flat memory with no recursion; tl lost the raw `<`/`&` text and did
//! not decode `&hearts;`; lol_html hands out undecoded text (entities
//! would be ours to decode). html5ever's tree builder was not used: a
//! tree of 200,000 nested elements is built and dropped recursively, and
//! the tree is not needed to read text.
//!
//! Charset: the caller's (a MIME part's) label, else a BOM, else a
//! `<meta charset>` / `http-equiv` / `<?xml encoding?>` declaration in
//! the first 4 KB, else detection (`encoding.rs`). A declaration loses to
//! valid non-ASCII UTF-8 (a page saved as UTF-8 that still says
//! Shift_JIS) and to detection when its own decoding fails.
//!
//! Units: block elements (`p`, `div`, `li`, `h1`…, `dt`, `dd`, …) make
//! paragraphs (`paragraph N`, one unit, `<br>` a line break within one);
//! `script`, `style`, `noframes`, `noembed` and `iframe` text is skipped;
//! `title` and `textarea` text and the `value` of text inputs (a saved
//! form keeps what was typed there) are read. Each table row is a row of
//! cells (`table T row R col C`): a row of `<th>` cells (or a first row
//! that reads as a header) gives each column its header as context, a
//! `<th>` at the start of a row gives the row's other cells theirs
//! (`<th>氏名</th><td>山田太郎</td>`). The creation date from
//! `<meta name="dcterms.created">` (or `DC.date.created`, `date`) is
//! reported as document metadata.

use std::cell::RefCell;

use encoding_rs::Encoding;
use html5ever::tendril::StrTendril;
use html5ever::tokenizer::{
    states, BufferQueue, TagKind, Token, TokenSink, TokenSinkResult, Tokenizer, TokenizerOpts,
};

use super::{encoding, DocumentMeta, ExtractContext, ExtractError, Extractor, Format};
use crate::text::{Location, SegmentsBuilder, TextUnit};

/// Reads HTML pages.
pub struct Html;

impl Extractor for Html {
    fn formats(&self) -> &'static [Format] {
        &[Format::Html]
    }

    fn extract(
        &self,
        _name: &str,
        _format: Format,
        data: &[u8],
        cx: &mut ExtractContext<'_>,
    ) -> Result<(), ExtractError> {
        cx.budget.charge_bytes(data.len() as u64)?;
        read_html(data, None, true, cx)
    }
}

/// Reads an HTML document's bytes (`charset`: a label given from outside,
/// e.g. by a MIME part) into units of `cx`; its creation date is reported
/// when `report_date` (a saved page reports its own `Date` instead).
pub fn read_html(
    data: &[u8],
    charset: Option<&str>,
    report_date: bool,
    cx: &mut ExtractContext<'_>,
) -> Result<(), ExtractError> {
    let text = decode(data, charset);
    let page = tokenize(&text);
    if let Some(created) = page.created.filter(|_| report_date) {
        cx.metadata(DocumentMeta {
            created: Some(created),
        });
    }
    for row in page.rows {
        cx.unit(row)?;
    }
    if !page.body.is_empty() {
        cx.unit(page.body.build())?;
    }
    Ok(())
}

/// The page's text, decoded by the order in the module header.
pub fn decode(data: &[u8], charset: Option<&str>) -> String {
    if let Some((enc, bom)) = Encoding::for_bom(data) {
        return enc.decode_without_bom_handling(&data[bom..]).0.into_owned();
    }
    let declared = charset
        .and_then(|c| Encoding::for_label(c.trim().as_bytes()))
        .or_else(|| declared_charset(data));
    if let Some(enc) = declared {
        // A UTF-16 label on bytes without a BOM means the bytes are ASCII-compatible.
        let enc = enc.output_encoding();
        // Valid UTF-8 with non-ASCII text is UTF-8 whatever the page says
        // (a legacy multi-byte text almost never is valid UTF-8).
        if enc != encoding_rs::UTF_8 && !data.is_ascii() {
            if let Ok(s) = std::str::from_utf8(data) {
                return s.to_string();
            }
        }
        let (text, had_errors) = enc.decode_without_bom_handling(data);
        if !had_errors {
            return text.into_owned();
        }
        let detected = encoding::decode(data);
        if !detected.had_errors {
            return detected.text;
        }
        return text.into_owned();
    }
    encoding::decode(data).text
}

/// The charset a page declares in its first 4 KB: `<meta charset=x>`,
/// `<meta http-equiv="Content-Type" content="text/html; charset=x">`, or
/// `<?xml version="1.0" encoding="x"?>`.
fn declared_charset(data: &[u8]) -> Option<&'static Encoding> {
    let head = &data[..data.len().min(4096)];
    let lower = head.to_ascii_lowercase();
    let mut from = 0;
    while let Some(i) = find(&lower[from..], b"charset") {
        let at = from + i + b"charset".len();
        from = at;
        let rest = &lower[at..];
        let rest = rest.trim_ascii_start();
        let Some(rest) = rest.strip_prefix(b"=") else {
            continue;
        };
        let rest = rest.trim_ascii_start();
        let rest = rest.strip_prefix(b"\"").unwrap_or(rest);
        let rest = rest.strip_prefix(b"'").unwrap_or(rest);
        let end = rest
            .iter()
            .position(|b| matches!(b, b'"' | b'\'' | b';' | b'>' | b'/') || b.is_ascii_whitespace())
            .unwrap_or(rest.len());
        if let Some(enc) = Encoding::for_label(&rest[..end]) {
            return Some(enc);
        }
    }
    if lower.starts_with(b"<?xml") {
        let decl_end = find(&lower, b"?>").unwrap_or(lower.len());
        let decl = &lower[..decl_end];
        if let Some(i) = find(decl, b"encoding=") {
            let rest = &decl[i + 9..];
            let quote = *rest.first()?;
            let rest = rest.get(1..)?;
            let end = rest.iter().position(|&b| b == quote).unwrap_or(rest.len());
            return Encoding::for_label(&rest[..end]);
        }
    }
    None
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// What a page holds: paragraphs as one unit, table rows, its creation date.
struct Page {
    body: SegmentsBuilder,
    rows: Vec<TextUnit<'static>>,
    created: Option<jiff::civil::Date>,
}

/// Tables nested deeper than this are read as text of the enclosing cell.
const MAX_TABLE_DEPTH: usize = 64;
/// Cells of one row beyond this are not kept apart (read as the last cell's text).
const MAX_CELLS: usize = 4096;
/// Largest `colspan` honoured when numbering columns.
const MAX_COLSPAN: u32 = 1000;

/// Tokenizes `text` and collects the page.
fn tokenize(text: &str) -> Page {
    let sink = Collector {
        st: RefCell::new(State::default()),
    };
    let tokenizer = Tokenizer::new(
        sink,
        TokenizerOpts {
            discard_bom: true,
            ..TokenizerOpts::default()
        },
    );
    let input = BufferQueue::default();
    input.push_back(StrTendril::from_slice(text));
    let _ = tokenizer.feed(&input);
    tokenizer.end();
    let mut st = tokenizer.sink.st.into_inner();
    st.end_paragraph();
    while !st.tables.is_empty() {
        st.close_table();
    }
    let created = st.created.or(st.date);
    Page {
        body: st.body,
        rows: st.rows,
        created,
    }
}

/// One cell being read.
struct Cell {
    col: u32,
    text: String,
    is_header: bool,
}

/// A table being read.
struct Table {
    number: u32,
    row: u32,
    next_col: u32,
    cells: Vec<Cell>,
    open_cell: bool,
    /// Column headers by column number.
    header: Option<Vec<(u32, String)>>,
}

#[derive(Default)]
struct State {
    body: SegmentsBuilder,
    paragraph: u32,
    /// The paragraph being read (outside tables).
    current: String,
    rows: Vec<TextUnit<'static>>,
    tables: Vec<Table>,
    table_count: u32,
    /// Inside `<pre>`/`<textarea>`: whitespace kept.
    pre: u32,
    /// Inside an element whose raw text is skipped.
    skipping: bool,
    /// `<meta name="date">` and `dcterms.created` (the latter wins).
    date: Option<jiff::civil::Date>,
    created: Option<jiff::civil::Date>,
}

/// Elements that start and end a block (a paragraph break).
fn is_block(name: &str) -> bool {
    matches!(
        name,
        "p" | "div"
            | "li"
            | "ul"
            | "ol"
            | "dl"
            | "dt"
            | "dd"
            | "h1"
            | "h2"
            | "h3"
            | "h4"
            | "h5"
            | "h6"
            | "title"
            | "pre"
            | "blockquote"
            | "address"
            | "section"
            | "article"
            | "header"
            | "footer"
            | "nav"
            | "aside"
            | "main"
            | "figure"
            | "figcaption"
            | "form"
            | "fieldset"
            | "legend"
            | "hr"
            | "option"
            | "caption"
            | "center"
            | "body"
            | "html"
            | "head"
            | "textarea"
            | "select"
            | "details"
            | "summary"
            | "menu"
            | "noscript"
    )
}

impl State {
    /// Where text goes now: the open cell of the innermost table, or the paragraph.
    fn sink(&mut self) -> &mut String {
        if let Some(t) = self.tables.last_mut() {
            if t.open_cell {
                if let Some(c) = t.cells.last_mut() {
                    return &mut c.text;
                }
            }
        }
        &mut self.current
    }

    fn text(&mut self, t: &str) {
        if self.skipping {
            return;
        }
        let pre = self.pre > 0;
        let out = self.sink();
        if pre {
            out.push_str(t);
            return;
        }
        // Outside <pre>, runs of whitespace are one space.
        for c in t.chars() {
            if c.is_whitespace() {
                if !out.is_empty() && !out.ends_with([' ', '\n']) {
                    out.push(' ');
                }
            } else {
                out.push(c);
            }
        }
    }

    fn line_break(&mut self) {
        let out = self.sink();
        while out.ends_with(' ') {
            out.pop();
        }
        out.push('\n');
    }

    /// Ends a block: in a cell a line break, outside tables a paragraph.
    fn block(&mut self) {
        if self.tables.last().is_some_and(|t| t.open_cell) {
            let out = self.sink();
            if !out.is_empty() && !out.ends_with('\n') {
                self.line_break();
            }
            return;
        }
        self.end_paragraph();
    }

    fn end_paragraph(&mut self) {
        let p = std::mem::take(&mut self.current);
        let p = p.trim();
        if !p.is_empty() {
            self.paragraph += 1;
            self.body.push(p, Location::Paragraph(self.paragraph));
        }
    }

    fn open_table(&mut self) {
        if self.tables.len() >= MAX_TABLE_DEPTH {
            self.block();
            return;
        }
        self.block();
        self.table_count += 1;
        self.tables.push(Table {
            number: self.table_count,
            row: 0,
            next_col: 1,
            cells: Vec::new(),
            open_cell: false,
            header: None,
        });
    }

    fn close_table(&mut self) {
        self.close_row();
        self.tables.pop();
    }

    fn open_row(&mut self) {
        self.close_row();
        if let Some(t) = self.tables.last_mut() {
            t.row = t.row.saturating_add(1);
            t.next_col = 1;
        }
    }

    fn open_cell(&mut self, is_header: bool, colspan: u32) {
        let Some(t) = self.tables.last_mut() else {
            self.block();
            return;
        };
        if t.row == 0 {
            t.row = 1;
        }
        if t.cells.len() >= MAX_CELLS {
            t.open_cell = true;
            return;
        }
        t.cells.push(Cell {
            col: t.next_col,
            text: String::new(),
            is_header,
        });
        t.next_col = t.next_col.saturating_add(colspan.clamp(1, MAX_COLSPAN));
        t.open_cell = true;
    }

    fn close_cell(&mut self) {
        if let Some(t) = self.tables.last_mut() {
            t.open_cell = false;
        }
    }

    /// Ends the current row of the innermost table: a header row becomes
    /// the column headers, any other row a unit.
    fn close_row(&mut self) {
        let Some(t) = self.tables.last_mut() else {
            return;
        };
        t.open_cell = false;
        let cells = std::mem::take(&mut t.cells);
        if cells.iter().all(|c| c.text.trim().is_empty()) {
            return;
        }
        let all_th = cells.iter().all(|c| c.is_header);
        let texts = || cells.iter().map(|c| c.text.as_str());
        if all_th || (t.row == 1 && t.header.is_none() && crate::text::looks_like_header(texts())) {
            t.header = Some(
                cells
                    .iter()
                    .map(|c| (c.col, c.text.trim().to_string()))
                    .collect(),
            );
        }
        let is_header_row = all_th || t.row == 1;
        // A <th> opening a row of <td>s labels the row: 氏名 | 山田太郎.
        let row_label = match cells.first() {
            Some(c) if c.is_header && !all_th => Some(c.text.trim().to_string()),
            _ => None,
        };
        let (number, row) = (t.number, t.row);
        let header = if is_header_row && all_th {
            None
        } else {
            t.header.clone()
        };
        let unit = TextUnit::row(cells.into_iter().map(|c| {
            let location = Location::Named(format!("table {number} row {row} col {}", c.col));
            let column_header = header
                .as_ref()
                .and_then(|h| h.iter().find(|(i, _)| *i == c.col))
                .map(|(_, h)| h.clone());
            let hint = row_label
                .clone()
                .filter(|_| !c.is_header)
                .or_else(|| column_header.filter(|_| !is_header_row))
                .filter(|h| !h.is_empty());
            (c.text.trim().to_string(), location, hint)
        }));
        self.rows.push(unit);
    }

    fn meta(&mut self, attrs: &[html5ever::Attribute]) {
        let get = |n: &str| {
            attrs
                .iter()
                .find(|a| (*a.name.local).eq_ignore_ascii_case(n))
                .map(|a| a.value.to_string())
        };
        let (Some(name), Some(content)) = (get("name"), get("content")) else {
            return;
        };
        let name = name.to_ascii_lowercase();
        match name.as_str() {
            "dcterms.created" | "dc.date.created" | "created" => {
                self.created = super::docmeta::w3cdtf_date(&content).or(self.created)
            }
            "date" | "dc.date" | "dcterms.date" => {
                self.date = self.date.or_else(|| super::docmeta::w3cdtf_date(&content))
            }
            _ => {}
        }
    }
}

struct Collector {
    st: RefCell<State>,
}

impl TokenSink for Collector {
    type Handle = ();

    fn process_token(&self, token: Token, _line: u64) -> TokenSinkResult<()> {
        let mut st = self.st.borrow_mut();
        match token {
            Token::CharacterTokens(t) => st.text(&t),
            Token::NullCharacterToken => {}
            Token::TagToken(tag) => {
                let name: &str = &tag.name;
                if tag.kind == TagKind::EndTag {
                    match name {
                        "script" | "style" | "noframes" | "noembed" | "iframe" | "xmp" => {
                            st.skipping = false
                        }
                        "table" => st.close_table(),
                        "tr" => st.close_row(),
                        "td" | "th" => st.close_cell(),
                        "pre" | "textarea" => {
                            st.pre = st.pre.saturating_sub(1);
                            st.block();
                        }
                        "br" => st.line_break(),
                        _ if is_block(name) => st.block(),
                        _ => {}
                    }
                    return TokenSinkResult::Continue;
                }
                match name {
                    "script" | "style" | "noframes" | "noembed" | "iframe" => {
                        st.skipping = true;
                        let kind = if name == "script" {
                            states::ScriptData
                        } else {
                            states::Rawtext
                        };
                        return TokenSinkResult::RawData(kind);
                    }
                    "xmp" => return TokenSinkResult::RawData(states::Rawtext),
                    "title" | "textarea" => {
                        st.block();
                        if name == "textarea" {
                            st.pre += 1;
                        }
                        return TokenSinkResult::RawData(states::Rcdata);
                    }
                    "plaintext" => {
                        st.block();
                        return TokenSinkResult::Plaintext;
                    }
                    "br" => st.line_break(),
                    "table" => st.open_table(),
                    "tr" => st.open_row(),
                    "td" | "th" => {
                        st.close_cell();
                        let colspan = tag
                            .attrs
                            .iter()
                            .find(|a| &*a.name.local == "colspan")
                            .and_then(|a| a.value.trim().parse::<u32>().ok())
                            .unwrap_or(1);
                        st.open_cell(name == "th", colspan)
                    }
                    "pre" => {
                        st.block();
                        st.pre += 1;
                    }
                    "meta" => st.meta(&tag.attrs),
                    "input" => {
                        let attr = |n: &str| {
                            tag.attrs
                                .iter()
                                .find(|a| &*a.name.local == n)
                                .map(|a| a.value.to_string())
                        };
                        let kind = attr("type").unwrap_or_default().to_ascii_lowercase();
                        let typed = matches!(
                            kind.as_str(),
                            "" | "text" | "tel" | "email" | "number" | "date" | "search"
                        );
                        if let Some(v) = attr("value").filter(|_| typed) {
                            st.text(" ");
                            st.text(&v);
                            st.text(" ");
                        }
                    }
                    "img" | "span" | "a" | "b" | "i" | "font" | "em" | "strong" | "u" => {}
                    _ if is_block(name) => st.block(),
                    _ => {}
                }
            }
            _ => {}
        }
        TokenSinkResult::Continue
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page_text(html: &str) -> (String, Vec<String>) {
        let p = tokenize(html);
        let body = p.body.build().text.into_owned();
        let rows = p.rows.into_iter().map(|r| r.text.into_owned()).collect();
        (body, rows)
    }

    #[test]
    fn scripts_styles_skipped_entities_decoded_blocks_broken() {
        let (body, _) = page_text(
            "<html><head><title>案内</title><style>p{color:red}</style>\
             <script>var x = '<p>秘密</p>';</script></head><body>\
             <p>山田&amp;太郎&#x5C71;&hearts;<p>1 < 2<br>次の行<div>区画</div></body>",
        );
        assert_eq!(body, "案内\n山田&太郎山♥\n1 < 2\n次の行\n区画");
    }

    #[test]
    fn table_headers_give_context() {
        let p = tokenize(
            "<table><tr><th>氏名</th><th>個人番号</th></tr>\
             <tr><td>山田太郎<td>123456789018</tr>\
             <tr><th>住所</th><td>東京都</td></tr></table>",
        );
        // The header row is a row too (without hints).
        assert_eq!(p.rows.len(), 3);
        assert_eq!(p.rows[0].text, "氏名\t個人番号");
        let r = &p.rows[1];
        assert_eq!(r.text, "山田太郎\t123456789018");
        let pos = r.text.find("1234").unwrap();
        assert_eq!(r.cell_at(pos).unwrap().hint.as_deref(), Some("個人番号"));
        assert_eq!(
            r.location_at(pos),
            Location::Named("table 1 row 2 col 2".into())
        );
        // A row label <th> gives the row's <td> its context.
        let r = &p.rows[2];
        let pos = r.text.find("東京").unwrap();
        assert_eq!(r.cell_at(pos).unwrap().hint.as_deref(), Some("住所"));
    }

    #[test]
    fn deep_nesting_is_flat() {
        let mut s = "<div><b><table><tr><td>".repeat(100_000);
        s.push_str("深い");
        let (body, rows) = page_text(&s);
        assert!(body.contains("深い") || rows.iter().any(|r| r.contains("深い")));
    }

    #[test]
    fn charset_from_meta_bom_or_detection() {
        let sjis = encoding_rs::SHIFT_JIS
            .encode("<meta charset=\"Shift_JIS\"><p>山田太郎")
            .0;
        assert!(decode(&sjis, None).contains("山田太郎"));
        let eucjp = encoding_rs::EUC_JP
            .encode(
                "<meta http-equiv=\"Content-Type\" content=\"text/html; charset=EUC-JP\"><p>住所",
            )
            .0;
        assert!(decode(&eucjp, None).contains("住所"));
        // Declared Shift_JIS, saved as UTF-8: detection wins.
        assert!(decode("<meta charset=shift_jis><p>氏名".as_bytes(), None).contains("氏名"));
        let mut le = vec![0xFF, 0xFE];
        for u in "<meta charset=utf-8><p>電話".encode_utf16() {
            le.extend_from_slice(&u.to_le_bytes());
        }
        assert!(decode(&le, None).contains("電話"));
    }
}
