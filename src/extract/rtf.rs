//! Rich Text Format (`.rtf`), and the compressed RTF (MS-OXRTFCP, "LZFu")
//! in which Outlook keeps message bodies (`.msg` PR_RTF_COMPRESSED, TNEF).
//!
//! Own reader: the RTF crates measured (rtf-parser 0.4) decode `\'xx` as
//! Latin-1, so the CP932 double-byte escapes of Japanese RTF
//! (`\'8e\'81\'96\'bc` = 氏名) come out as mojibake, and they do not skip
//! `\bin` data. Here 8-bit text (`\'xx` escapes and raw bytes) is collected
//! and decoded in runs with the code page of the current font
//! (`\fcharset128` → CP932) or the document's (`\ansicpg932`), so a
//! two-byte character split across two escapes is decoded whole. `\uN` is
//! read with its `\ucN` fallback skipped (surrogate pairs joined). Skipped:
//! `\bin N` data, `{\*\…}` destinations that are not known to hold text,
//! font/colour/style/list tables, `\info` (except the creation date),
//! pictures, object data, field instructions (`\fldinst`; `\fldrslt` is
//! kept), shape properties.
//!
//! Units: body paragraphs as one unit (`paragraph N`); table rows
//! (`\intbl` … `\cell` … `\row`) as rows of cells with header context
//! (`table T row R col C`); `header`/`footer`, `footnote N`, `endnote N`,
//! `comment N` (annotations), `text box N` (shape text).
//! Compressed RTF is decompressed with the compressed-rtf crate after the
//! header is checked (the crate sizes its output from the header and slices
//! without bounds checks); the CRC is checked, the uncompressed "MELA"
//! form is read too.

use std::collections::HashMap;

use encoding_rs::Encoding;

use super::word_table::Tables;
use super::{DocumentMeta, ExtractContext, ExtractError, Extractor, Format, UnreadableReason};
use crate::text::{Location, SegmentsBuilder, TextUnit};

/// Reads RTF documents.
pub struct Rtf;

/// Group nesting read; real documents stay far below.
const MAX_GROUPS: usize = 4096;

fn corrupt(detail: impl Into<String>) -> ExtractError {
    ExtractError::new(UnreadableReason::Corrupt, detail)
}

/// A Windows code page's encoding, where encoding_rs has it.
pub fn encoding_for_codepage(cp: i32) -> Option<&'static Encoding> {
    Some(match cp {
        932 => encoding_rs::SHIFT_JIS,
        936 | 54936 => encoding_rs::GBK,
        949 => encoding_rs::EUC_KR,
        950 => encoding_rs::BIG5,
        874 => encoding_rs::WINDOWS_874,
        1250 => encoding_rs::WINDOWS_1250,
        1251 => encoding_rs::WINDOWS_1251,
        1252 | 437 | 850 => encoding_rs::WINDOWS_1252,
        1253 => encoding_rs::WINDOWS_1253,
        1254 => encoding_rs::WINDOWS_1254,
        1255 => encoding_rs::WINDOWS_1255,
        1256 => encoding_rs::WINDOWS_1256,
        1257 => encoding_rs::WINDOWS_1257,
        1258 => encoding_rs::WINDOWS_1258,
        10000 => encoding_rs::MACINTOSH,
        20932 | 51932 => encoding_rs::EUC_JP,
        65001 => encoding_rs::UTF_8,
        _ => return None,
    })
}

/// A font's `\fcharset` as an encoding; `None` for ANSI/default (the
/// document's code page applies).
fn encoding_for_charset(charset: i32) -> Option<&'static Encoding> {
    Some(match charset {
        77 => encoding_rs::MACINTOSH,
        128 => encoding_rs::SHIFT_JIS,
        129 | 130 => encoding_rs::EUC_KR,
        134 => encoding_rs::GBK,
        136 => encoding_rs::BIG5,
        161 => encoding_rs::WINDOWS_1253,
        162 => encoding_rs::WINDOWS_1254,
        163 => encoding_rs::WINDOWS_1258,
        177 => encoding_rs::WINDOWS_1255,
        178 => encoding_rs::WINDOWS_1256,
        186 => encoding_rs::WINDOWS_1257,
        204 => encoding_rs::WINDOWS_1251,
        222 => encoding_rs::WINDOWS_874,
        238 => encoding_rs::WINDOWS_1250,
        _ => return None,
    })
}

/// Where a group's text goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Dest {
    Body,
    Skip,
    FontTable,
    Info,
    Created,
    /// A numbered or labelled item (header, footnote, comment, text box):
    /// index into `Doc::items`.
    Item(usize),
}

#[derive(Debug, Clone, Copy)]
struct Group {
    dest: Dest,
    uc: u32,
    font: i32,
    intbl: bool,
    /// Nothing but control words seen yet: a destination word may follow.
    fresh: bool,
}

/// What an RTF document holds, in reading order.
#[derive(Debug, Default)]
pub struct RtfDoc {
    /// Body paragraphs and table rows, in order.
    pub body: Vec<Block>,
    /// Headers, footers, notes, comments, text boxes: (kind, text).
    pub items: Vec<(&'static str, String)>,
    /// `\info{\creatim\yr\mo\dy}`: the writer's local date.
    pub created: Option<jiff::civil::Date>,
    /// Whether the document's closing brace was reached (a truncated copy
    /// ends before it).
    pub complete: bool,
}

/// A piece of the body.
#[derive(Debug, PartialEq, Eq)]
pub enum Block {
    Paragraph(String),
    Row(Vec<String>),
    /// The end of a table (text outside a table follows).
    TableEnd,
}

impl RtfDoc {
    /// All text, paragraphs on lines and cells separated by tabs (for a
    /// mail body).
    pub fn plain_text(&self) -> String {
        let mut s = String::new();
        for b in &self.body {
            match b {
                Block::Paragraph(p) => s.push_str(p),
                Block::Row(cells) => s.push_str(&cells.join("\t")),
                Block::TableEnd => continue,
            }
            s.push('\n');
        }
        for (_, t) in &self.items {
            s.push_str(t);
            s.push('\n');
        }
        s
    }
}

struct Reader {
    doc: RtfDoc,
    stack: Vec<Group>,
    default_enc: &'static Encoding,
    /// Font number → its encoding (from `\fcharset` or `\cpg`).
    fonts: HashMap<i32, &'static Encoding>,
    font_in_table: Option<i32>,
    /// 8-bit text not yet decoded, and where it goes.
    bytes: Vec<u8>,
    bytes_enc: &'static Encoding,
    bytes_dest: Dest,
    high_surrogate: Option<u16>,
    /// Fallback characters still to skip after `\uN`.
    skip: u32,
    para: String,
    cell: String,
    /// A table row has cells and no `\row` yet.
    row_open: bool,
    created: (i32, i32, i32),
}

impl Reader {
    fn new() -> Self {
        Reader {
            doc: RtfDoc::default(),
            stack: vec![Group {
                dest: Dest::Body,
                uc: 1,
                font: -1,
                intbl: false,
                fresh: true,
            }],
            default_enc: encoding_rs::WINDOWS_1252,
            fonts: HashMap::new(),
            font_in_table: None,
            bytes: Vec::new(),
            bytes_enc: encoding_rs::WINDOWS_1252,
            bytes_dest: Dest::Body,
            high_surrogate: None,
            skip: 0,
            para: String::new(),
            cell: String::new(),
            row_open: false,
            created: (0, 0, 0),
        }
    }

    fn top(&mut self) -> &mut Group {
        // The stack never empties: the outermost group is not popped.
        let last = self.stack.len() - 1;
        &mut self.stack[last]
    }

    fn dest(&self) -> Dest {
        self.stack.last().map(|g| g.dest).unwrap_or(Dest::Skip)
    }

    /// The encoding of 8-bit text in the current font.
    fn encoding(&self) -> &'static Encoding {
        let font = self.stack.last().map(|g| g.font).unwrap_or(-1);
        self.fonts.get(&font).copied().unwrap_or(self.default_enc)
    }

    fn text_wanted(&self) -> bool {
        matches!(self.dest(), Dest::Body | Dest::Item(_))
    }

    /// One 8-bit text byte (a `\'xx` escape or a raw byte).
    fn byte(&mut self, b: u8) {
        if self.skip > 0 {
            self.skip -= 1;
            return;
        }
        if !self.text_wanted() {
            return;
        }
        let enc = self.encoding();
        let dest = self.dest();
        if !self.bytes.is_empty() && (enc != self.bytes_enc || dest != self.bytes_dest) {
            self.flush();
        }
        self.bytes_enc = enc;
        self.bytes_dest = dest;
        self.bytes.push(b);
    }

    /// Decodes pending 8-bit text into its destination.
    fn flush(&mut self) {
        if self.bytes.is_empty() {
            return;
        }
        let (text, _) = self.bytes_enc.decode_without_bom_handling(&self.bytes);
        let text = text.into_owned();
        self.bytes.clear();
        let dest = self.bytes_dest;
        self.push_to(dest, &text);
    }

    fn push_to(&mut self, dest: Dest, text: &str) {
        match dest {
            Dest::Body => self.para.push_str(text),
            Dest::Item(i) => {
                if let Some((_, t)) = self.doc.items.get_mut(i) {
                    t.push_str(text);
                }
            }
            _ => {}
        }
    }

    /// Text that is not 8-bit (a Unicode character, a tab, a newline).
    fn text(&mut self, s: &str) {
        if !self.text_wanted() {
            return;
        }
        self.flush();
        let dest = self.dest();
        self.push_to(dest, s);
    }

    fn unicode(&mut self, n: i64) {
        let u = if n < 0 { n + 65536 } else { n };
        let Ok(u) = u16::try_from(u) else {
            return;
        };
        self.skip = self.stack.last().map(|g| g.uc).unwrap_or(1);
        match u {
            0xD800..=0xDBFF => self.high_surrogate = Some(u),
            0xDC00..=0xDFFF => {
                if let Some(h) = self.high_surrogate.take() {
                    let s = String::from_utf16_lossy(&[h, u]);
                    self.text(&s);
                }
            }
            _ => {
                self.high_surrogate = None;
                if let Some(c) = char::from_u32(u32::from(u)) {
                    self.text(c.encode_utf8(&mut [0; 4]));
                }
            }
        }
    }

    fn paragraph_end(&mut self) {
        self.flush();
        match self.dest() {
            Dest::Body => {
                let p = std::mem::take(&mut self.para);
                if self.stack.last().is_some_and(|g| g.intbl) {
                    self.cell.push_str(&p);
                    self.cell.push('\n');
                } else {
                    if !self.cell.is_empty() {
                        // A cell left without `\cell`: keep its text.
                        let c = std::mem::take(&mut self.cell);
                        self.doc.body.push(Block::Paragraph(c));
                    }
                    if matches!(self.doc.body.last(), Some(Block::Row(_))) {
                        self.doc.body.push(Block::TableEnd);
                    }
                    self.doc.body.push(Block::Paragraph(p));
                }
            }
            Dest::Item(_) => self.text("\n"),
            _ => {}
        }
    }

    fn cell_end(&mut self) {
        self.flush();
        if self.dest() != Dest::Body {
            self.text("\t");
            return;
        }
        let p = std::mem::take(&mut self.para);
        self.cell.push_str(&p);
        let c = std::mem::take(&mut self.cell);
        match self.doc.body.last_mut() {
            Some(Block::Row(cells)) if self.row_open => cells.push(c),
            _ => {
                self.doc.body.push(Block::Row(vec![c]));
                self.row_open = true;
            }
        }
    }

    fn row_end(&mut self) {
        self.flush();
        if self.dest() != Dest::Body {
            self.text("\n");
            return;
        }
        if !self.para.is_empty() || !self.cell.is_empty() {
            self.cell_end();
        }
        self.row_open = false;
    }
}

/// Destinations whose text is not document text.
const SKIPPED: &[&str] = &[
    "colortbl",
    "stylesheet",
    "listtable",
    "listoverridetable",
    "revtbl",
    "rsidtbl",
    "generator",
    "pict",
    "objdata",
    "objclass",
    "objname",
    "themedata",
    "colorschememapping",
    "datastore",
    "latentstyles",
    "xmlnstbl",
    "mmathPr",
    "pgdsctbl",
    "fldinst",
    "datafield",
    "bkmkstart",
    "bkmkend",
    "xe",
    "tc",
    "template",
    "filetbl",
    "pntxta",
    "pntxtb",
    "sn",
    "sp",
    "shprslt",
    "nonshppict",
    "atnid",
    "atnauthor",
    "atndate",
    "atnref",
    "atnicn",
    "userprops",
    "docvar",
    "ftnsep",
    "ftnsepc",
    "ftncn",
    "aftnsep",
    "aftnsepc",
    "aftncn",
    "falt",
    "panose",
    "fontemb",
    "fontfile",
    "wgrffmtfilter",
    "private",
    "protusertbl",
    "passwordhash",
];

/// Starred destinations that hold document text (others are skipped).
const STARRED_KEPT: &[&str] = &["shpinst", "shptxt", "fldrslt", "annotation"];

impl Reader {
    fn open_group(&mut self) -> Result<(), ExtractError> {
        if self.stack.len() >= MAX_GROUPS {
            return Err(corrupt("rtf: groups nested too deeply"));
        }
        self.flush();
        let mut g = *self.top();
        g.fresh = true;
        self.stack.push(g);
        Ok(())
    }

    fn close_group(&mut self) {
        self.flush();
        self.skip = 0;
        if self.stack.len() <= 1 {
            return;
        }
        let Some(g) = self.stack.pop() else { return };
        let parent = self.dest();
        match g.dest {
            Dest::Created if parent != Dest::Created => {
                let (y, m, d) = self.created;
                if let (Ok(y), Ok(m), Ok(d)) = (i16::try_from(y), i8::try_from(m), i8::try_from(d))
                {
                    self.doc.created = jiff::civil::Date::new(y, m, d).ok();
                }
            }
            // The font table ends.
            Dest::FontTable if parent != Dest::FontTable => self.font_in_table = None,
            _ => {}
        }
    }

    /// Starts a destination for the current group.
    fn set_dest(&mut self, dest: Dest) {
        self.flush();
        self.top().dest = dest;
    }

    fn new_item(&mut self, kind: &'static str) {
        if self.dest() == Dest::Skip {
            return;
        }
        self.doc.items.push((kind, String::new()));
        let i = self.doc.items.len() - 1;
        self.set_dest(Dest::Item(i));
    }

    /// A control word with its parameter; `starred` after `\*`.
    fn control(&mut self, word: &str, param: Option<i64>, starred: bool) {
        let fresh = self.top().fresh;
        self.top().fresh = false;
        let p32 = param.map(|p| p.clamp(i64::from(i32::MIN), i64::from(i32::MAX)) as i32);
        // Words that start a destination.
        if starred && !STARRED_KEPT.contains(&word) {
            self.set_dest(Dest::Skip);
            return;
        }
        if fresh || SKIPPED.contains(&word) {
            match word {
                w if SKIPPED.contains(&w) => return self.set_dest(Dest::Skip),
                "fonttbl" => return self.set_dest(Dest::FontTable),
                "info" => return self.set_dest(Dest::Info),
                "creatim" if self.dest() == Dest::Info => return self.set_dest(Dest::Created),
                _ => {}
            }
        }
        let dest = self.dest();
        if dest == Dest::Info {
            // Title, author, dates other than the creation date: skipped.
            return;
        }
        match word {
            "header" | "headerl" | "headerr" | "headerf" => return self.new_item("header"),
            "footer" | "footerl" | "footerr" | "footerf" => return self.new_item("footer"),
            "footnote" => return self.new_item("footnote"),
            "annotation" => return self.new_item("comment"),
            "shptxt" | "dptxbxtext" => return self.new_item("text box"),
            "ftnalt" => {
                if let Dest::Item(i) = dest {
                    if let Some(item) = self.doc.items.get_mut(i) {
                        item.0 = "endnote";
                    }
                }
                return;
            }
            _ => {}
        }
        match (dest, word) {
            (Dest::Created, "yr") => self.created.0 = p32.unwrap_or(0),
            (Dest::Created, "mo") => self.created.1 = p32.unwrap_or(0),
            (Dest::Created, "dy") => self.created.2 = p32.unwrap_or(0),
            (Dest::FontTable, "f") => {
                self.font_in_table = p32;
            }
            (Dest::FontTable, "fcharset") | (Dest::FontTable, "cpg") => {
                let enc = if word == "fcharset" {
                    p32.and_then(encoding_for_charset)
                } else {
                    p32.and_then(encoding_for_codepage)
                };
                if let (Some(f), Some(enc)) = (self.font_in_table, enc) {
                    if self.fonts.len() < 4096 || self.fonts.contains_key(&f) {
                        self.fonts.insert(f, enc);
                    }
                }
            }
            _ => self.format_word(word, param, p32),
        }
    }

    /// Control words outside destinations' starts: text, structure, state.
    fn format_word(&mut self, word: &str, param: Option<i64>, p32: Option<i32>) {
        // Any control word but `\'` counts as one fallback character.
        if self.skip > 0 && word != "uc" {
            self.skip -= 1;
            return;
        }
        match word {
            "ansicpg" => {
                if let Some(enc) = p32.and_then(encoding_for_codepage) {
                    self.default_enc = enc;
                }
            }
            "mac" => self.default_enc = encoding_rs::MACINTOSH,
            "f" => {
                self.flush();
                self.top().font = p32.unwrap_or(-1);
            }
            "uc" => self.top().uc = p32.unwrap_or(1).clamp(0, 16) as u32,
            "u" => self.unicode(param.unwrap_or(0)),
            "par" | "sect" | "page" | "column" => self.paragraph_end(),
            "line" | "softline" => self.text("\n"),
            "tab" => self.text("\t"),
            "cell" => self.cell_end(),
            "row" => self.row_end(),
            "nestcell" => self.text("\t"),
            "nestrow" => self.text("\n"),
            "intbl" => self.top().intbl = true,
            "itap" => self.top().intbl = p32.unwrap_or(0) > 0,
            "pard" => self.top().intbl = false,
            "emdash" => self.text("\u{2014}"),
            "endash" => self.text("\u{2013}"),
            "bullet" => self.text("\u{2022}"),
            "lquote" => self.text("\u{2018}"),
            "rquote" => self.text("\u{2019}"),
            "ldblquote" => self.text("\u{201C}"),
            "rdblquote" => self.text("\u{201D}"),
            "emspace" | "enspace" | "qmspace" => self.text(" "),
            _ => {}
        }
    }

    /// A control symbol (`\~`, `\-`, `\_`, `\\`, `\{`, `\}`, `\*`).
    fn symbol(&mut self, c: u8) {
        match c {
            b'~' => self.text("\u{A0}"),
            b'_' => self.text("-"),
            b'\\' | b'{' | b'}' => {
                if self.skip > 0 {
                    self.skip -= 1;
                } else {
                    self.text(if c == b'\\' {
                        "\\"
                    } else if c == b'{' {
                        "{"
                    } else {
                        "}"
                    });
                }
            }
            _ => {}
        }
    }

    fn finish(mut self) -> RtfDoc {
        self.flush();
        if !self.para.is_empty() || !self.cell.is_empty() {
            let mut p = std::mem::take(&mut self.cell);
            p.push_str(&self.para);
            self.doc.body.push(Block::Paragraph(p));
        }
        self.doc
    }
}

/// Parses an RTF document.
pub fn parse(data: &[u8]) -> Result<RtfDoc, ExtractError> {
    let start = data
        .windows(5)
        .take(1024)
        .position(|w| w == b"{\\rtf")
        .ok_or_else(|| corrupt("rtf: no {\\rtf header"))?;
    let mut r = Reader::new();
    let mut i = start + 1; // inside the outermost group
    let mut starred = false;
    while i < data.len() {
        let b = data[i];
        match b {
            b'{' => {
                r.open_group()?;
                starred = false;
                i += 1;
            }
            b'}' => {
                if r.stack.len() <= 1 {
                    r.doc.complete = true; // the document's closing brace
                    break;
                }
                r.close_group();
                starred = false;
                i += 1;
            }
            b'\\' => {
                let Some(&next) = data.get(i + 1) else { break };
                if next.is_ascii_alphabetic() {
                    let word_start = i + 1;
                    let mut j = word_start;
                    while j < data.len() && data[j].is_ascii_alphabetic() && j - word_start < 32 {
                        j += 1;
                    }
                    let word = std::str::from_utf8(&data[word_start..j]).unwrap_or("");
                    let mut param: Option<i64> = None;
                    let neg = data.get(j) == Some(&b'-')
                        && data.get(j + 1).is_some_and(u8::is_ascii_digit);
                    if neg {
                        j += 1;
                    }
                    let digits_start = j;
                    while j < data.len() && data[j].is_ascii_digit() && j - digits_start < 10 {
                        j += 1;
                    }
                    if j > digits_start {
                        let v: i64 = std::str::from_utf8(&data[digits_start..j])
                            .ok()
                            .and_then(|s| s.parse().ok())
                            .unwrap_or(0);
                        param = Some(if neg { -v } else { v });
                    }
                    if data.get(j) == Some(&b' ') {
                        j += 1;
                    }
                    if word == "bin" {
                        // Binary data: skipped whole, whatever it holds.
                        let n = usize::try_from(param.unwrap_or(0).max(0)).unwrap_or(0);
                        j = j.saturating_add(n);
                        if r.skip > 0 {
                            r.skip -= 1;
                        }
                    } else {
                        r.control(word, param, starred);
                    }
                    starred = false;
                    i = j;
                } else if next == b'\'' {
                    let hex = data.get(i + 2..i + 4).and_then(|h| {
                        std::str::from_utf8(h)
                            .ok()
                            .and_then(|h| u8::from_str_radix(h, 16).ok())
                    });
                    if let Some(v) = hex {
                        r.byte(v);
                        i += 4;
                    } else {
                        i += 2;
                    }
                } else if next == b'*' {
                    starred = true;
                    i += 2;
                } else if next == b'\r' || next == b'\n' {
                    // `\` + newline is a paragraph mark.
                    r.paragraph_end();
                    i += 2;
                } else {
                    r.symbol(next);
                    i += 2;
                }
            }
            b'\r' | b'\n' => i += 1,
            _ => {
                r.top().fresh = false;
                if r.skip > 0 {
                    r.skip -= 1;
                } else if b < 0x20 && b != b'\t' {
                    // Stray control bytes are not text.
                } else if b == b'\t' {
                    r.text("\t");
                } else {
                    r.byte(b);
                }
                i += 1;
            }
        }
    }
    Ok(r.finish())
}

/// Decompresses compressed RTF (MS-OXRTFCP): `corrupt` when the header
/// does not match the data, the CRC fails or the references are invalid.
pub fn decompress(data: &[u8]) -> Result<Vec<u8>, ExtractError> {
    const COMPRESSED: u32 = 0x7546_5A4C; // "LZFu"
    const UNCOMPRESSED: u32 = 0x414C_454D; // "MELA"
    let bad = |what: &str| corrupt(format!("compressed RTF: {what}"));
    let field = |at: usize| {
        data.get(at..at + 4)
            .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    };
    let (Some(comp_size), Some(raw_size), Some(kind)) = (field(0), field(4), field(8)) else {
        return Err(bad("header truncated"));
    };
    if data.len() < 16 || comp_size as usize != data.len() - 4 {
        return Err(bad("size in the header does not match the data"));
    }
    match kind {
        // Each control byte and its 8 tokens (at most 17 bytes) give at
        // most 8 × 17 bytes: a larger declared size is a lie, and the crate
        // would reserve it.
        COMPRESSED if (raw_size as usize) <= (data.len() - 16).saturating_mul(8) + 17 => {}
        COMPRESSED => return Err(bad("declared size impossible")),
        UNCOMPRESSED if raw_size as usize <= data.len() - 16 => {}
        UNCOMPRESSED => return Err(bad("declared size beyond the data")),
        _ => return Err(bad("unknown compression type")),
    }
    let text = compressed_rtf::decompress_rtf(data).map_err(|e| {
        bad(match e {
            compressed_rtf::Error::CompressedCrcMismatch(_) => "CRC mismatch",
            _ => "invalid data",
        })
    })?;
    // The crate maps each byte to one char (U+0000–U+00FF): map it back.
    Ok(text
        .chars()
        .map(|c| u8::try_from(u32::from(c)).unwrap_or(b'?'))
        .collect())
}

impl Extractor for Rtf {
    fn formats(&self) -> &'static [Format] {
        &[Format::Rtf]
    }

    fn extract(
        &self,
        _name: &str,
        _format: Format,
        data: &[u8],
        cx: &mut ExtractContext<'_>,
    ) -> Result<(), ExtractError> {
        cx.budget.charge_bytes(data.len() as u64)?;
        let doc = parse(data)?;
        let complete = doc.complete;
        if doc.created.is_some() {
            cx.metadata(DocumentMeta {
                created: doc.created,
            });
        }
        let mut body = SegmentsBuilder::default();
        let mut tables = Tables::default();
        let mut paragraph = 0u32;
        for b in doc.body {
            match b {
                Block::Paragraph(p) => {
                    if let Some(u) = tables.end_table() {
                        cx.unit(u)?;
                    }
                    if !p.trim().is_empty() {
                        paragraph += 1;
                        body.push(&p, Location::Paragraph(paragraph));
                    }
                }
                Block::Row(cells) => {
                    for c in &cells {
                        tables.cell(c);
                    }
                    if let Some(u) = tables.end_row() {
                        cx.unit(u)?;
                    }
                }
                Block::TableEnd => {
                    if let Some(u) = tables.end_table() {
                        cx.unit(u)?;
                    }
                }
            }
        }
        if !body.is_empty() {
            cx.unit(body.build())?;
        }
        let mut counts: Vec<(&str, u32)> = Vec::new();
        let mut others = SegmentsBuilder::default();
        for (kind, text) in doc.items {
            if text.trim().is_empty() {
                continue;
            }
            let location = if kind == "header" || kind == "footer" {
                kind.to_string()
            } else {
                let n = match counts.iter_mut().find(|(k, _)| *k == kind) {
                    Some((_, n)) => {
                        *n += 1;
                        *n
                    }
                    None => {
                        counts.push((kind, 1));
                        1
                    }
                };
                format!("{kind} {n}")
            };
            others.push(text.trim_end(), Location::Named(location));
        }
        if !others.is_empty() {
            cx.unit(others.build())?;
        }
        if !complete {
            // What was read is scanned; the file is still reported.
            return Err(corrupt("rtf: the document ends before its closing brace"));
        }
        Ok(())
    }
}

/// The text of an RTF body (a mail's), all parts in reading order.
pub fn body_text(rtf: &[u8]) -> Result<String, ExtractError> {
    Ok(parse(rtf)?.plain_text())
}

/// A unit for a mail body read from RTF, `None` when it holds no text.
pub fn body_unit(rtf: &[u8]) -> Result<Option<TextUnit<'static>>, ExtractError> {
    let t = body_text(rtf)?;
    Ok((!t.trim().is_empty()).then(|| TextUnit::fixed(t, Location::Named("body".into()))))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(rtf: &str) -> Vec<Block> {
        parse(rtf.as_bytes()).unwrap().body
    }

    #[test]
    fn shift_jis_escapes_split_across_two_escapes() {
        let rtf = r"{\rtf1\ansi\ansicpg932{\fonttbl{\f0\fcharset128 MS Mincho;}}\f0 \'8e\'81\'96\'bc \'8e\'52\'93\'63\par}";
        assert_eq!(body(rtf), [Block::Paragraph("氏名 山田".into())]);
        // Without \ansicpg the font's charset decides.
        let rtf = r"{\rtf1\ansi{\fonttbl{\f1\fcharset128 Gothic;}}{\f1 \'8e\'81\'96\'bc}\par}";
        assert_eq!(body(rtf), [Block::Paragraph("氏名".into())]);
    }

    #[test]
    fn unicode_with_fallback_and_surrogates() {
        let rtf = r"{\rtf1\uc2\u27663\'8e\'81\u21517\'96\'bc\uc1\u-10240?\u-8398?\par}";
        assert_eq!(body(rtf), [Block::Paragraph("氏名\u{10332}".into())]);
    }

    #[test]
    fn skipped_destinations_fields_and_binary() {
        let rtf = concat!(
            r"{\rtf1{\fonttbl{\f0 Arial;}}{\colortbl;\red0;}{\*\generator X;}",
            r"{\info{\title T}{\author A}{\creatim\yr2024\mo4\dy1\hr9}}",
            r"{\field{\*\fldinst HYPERLINK x}{\fldrslt link}} {\pict\bin4 {}\} data}",
            r"{\*\unknown hidden}a\~b\par}"
        );
        let doc = parse(rtf.as_bytes()).unwrap();
        assert_eq!(doc.body, [Block::Paragraph("link a\u{A0}b".into())]);
        assert_eq!(doc.created, Some(jiff::civil::date(2024, 4, 1)));
    }

    #[test]
    fn tables_headers_and_notes() {
        let rtf = concat!(
            r"{\rtf1{\header \pard header text\par}",
            r"\pard before\par",
            r"\trowd\pard\intbl Name\cell Number\cell\row",
            r"\trowd\pard\intbl a\par b\cell 1\cell\row",
            r"\pard after{\footnote \pard note}{\footnote\ftnalt end}\par}"
        );
        let doc = parse(rtf.as_bytes()).unwrap();
        assert_eq!(
            doc.body,
            [
                Block::Paragraph("before".into()),
                Block::Row(vec!["Name".into(), "Number".into()]),
                Block::Row(vec!["a\nb".into(), "1".into()]),
                Block::TableEnd,
                Block::Paragraph("after".into()),
            ]
        );
        let kinds: Vec<_> = doc.items.iter().map(|(k, _)| *k).collect();
        assert_eq!(kinds, ["header", "footnote", "endnote"]);
    }

    #[test]
    fn hostile_input_is_bounded() {
        assert!(parse(b"not rtf").is_err());
        let deep = format!("{{\\rtf1{}", "{".repeat(100_000));
        assert_eq!(
            parse(deep.as_bytes()).unwrap_err().reason,
            UnreadableReason::Corrupt
        );
        assert!(parse(b"{\\rtf1\\bin99999999999 x}").is_ok());
        assert!(parse(b"{\\rtf1\\u99999999999\\uc99999999999 \\'").is_ok());
    }

    #[test]
    fn compressed_rtf_round_trip_and_checks() {
        let rtf = r"{\rtf1\ansi\ansicpg932 \'8e\'81\'96\'bc\par}";
        let packed = compressed_rtf::compress_rtf(rtf).unwrap();
        assert_eq!(decompress(&packed).unwrap(), rtf.as_bytes());
        let mut bad_crc = packed.clone();
        bad_crc[12] ^= 1;
        assert!(decompress(&bad_crc).is_err());
        let mut lying = packed.clone();
        lying[4..8].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(decompress(&lying).is_err());
        assert!(decompress(&packed[..10]).is_err());
        // The uncompressed form.
        let mut mela = Vec::new();
        mela.extend_from_slice(&(rtf.len() as u32 + 12).to_le_bytes());
        mela.extend_from_slice(&(rtf.len() as u32).to_le_bytes());
        mela.extend_from_slice(b"MELA");
        mela.extend_from_slice(&[0; 4]);
        mela.extend_from_slice(rtf.as_bytes());
        assert_eq!(decompress(&mela).unwrap(), rtf.as_bytes());
    }
}
