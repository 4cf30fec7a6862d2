//! Word 97-2003 `.doc` (MS-DOC), read from its compound file with the cfb
//! crate and an own reader of the File Information Block and the piece
//! table: no maintained crate reads `.doc` text (the Rust readers found are
//! parts of large conversion frameworks), and what text extraction needs is
//! small.
//!
//! The text of all stories sits in one character-position (CP) space that
//! the piece table (the Clx in the `0Table`/`1Table` stream) maps to the
//! `WordDocument` stream: pieces are either 8-bit "compressed" text (CP1252)
//! or UTF-16LE. Stories in CP order: main text, footnotes, headers and
//! footers, (macros), comments, endnotes, text boxes, header text boxes.
//!
//! Units: the main text's paragraphs as one unit (`paragraph N`, as docx);
//! table rows as rows of cells (`table T row R col C`, header context from
//! the first row), found through the paragraph properties (sprmPFInTable,
//! sprmPFTtp in the PAPX FKPs); `header`/`footer`, `footnote N`,
//! `endnote N`, `comment N`, `text box N`. Fields keep their result and
//! drop their code (`HYPERLINK "…"`). Word 6/95 files (8-bit text in the
//! code page of the document's language) are read without table
//! structure. Documents embedded in the file (`/ObjectPool`: Office
//! documents, OOXML packages, packaged files) go back through the
//! dispatcher as `ObjectPool/_NNNN.xls`. Encrypted or XOR-obfuscated files
//! are `encrypted`.

use std::io::Cursor;

use super::ole_props::{created_date, read_stream, root_format};
use super::word_table::Tables;
use super::{DocumentMeta, ExtractContext, ExtractError, Extractor, Format, UnreadableReason};
use crate::text::{Location, SegmentsBuilder};

/// Reads Word 97-2003 (and 6/95) documents.
pub struct Doc;

fn corrupt(detail: impl Into<String>) -> ExtractError {
    ExtractError::new(UnreadableReason::Corrupt, detail)
}

fn u16_at(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(
        b.get(at..at.checked_add(2)?)?.try_into().ok()?,
    ))
}

fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(
        b.get(at..at.checked_add(4)?)?.try_into().ok()?,
    ))
}

/// Indices into FibRgFcLcb97 of the structures read here.
mod fclcb {
    pub const PLCFFND_TXT: usize = 3;
    pub const PLCFAND_TXT: usize = 5;
    pub const PLCF_HDD: usize = 11;
    pub const PLCF_BTE_PAPX: usize = 13;
    pub const CLX: usize = 33;
    pub const PLCFEND_TXT: usize = 47;
    pub const PLCFTXBX_TXT: usize = 56;
}

/// What the reader needs from the File Information Block.
#[derive(Debug)]
struct Fib {
    /// Word 6.0/95: 8-bit text, fixed FIB offsets, no table stream.
    word95: bool,
    encrypted: bool,
    table_stream_1: bool,
    /// Story lengths in CP order (text, footnotes, headers, macros,
    /// comments, endnotes, text boxes, header text boxes).
    ccp: [u32; 8],
    /// (fc, lcb) pairs of FibRgFcLcb (Word 97 and later).
    fc_lcb: Vec<(u32, u32)>,
    /// Word 6/95: the Clx in the WordDocument stream, the first text byte,
    /// and the language (for the code page).
    clx95: (u32, u32),
    fc_min: u32,
    lid: u16,
}

impl Fib {
    fn parse(w: &[u8]) -> Result<Fib, ExtractError> {
        let short = || corrupt("doc: File Information Block truncated");
        let ident = u16_at(w, 0).ok_or_else(short)?;
        let nfib = u16_at(w, 2).ok_or_else(short)?;
        // Word 97 and later write 0xA5EC; Word 6.0/95 0xA5DC (and 0xA697 or
        // 0xA699 in some Asian editions).
        if !matches!(ident, 0xA5EC | 0xA5DC | 0xA697 | 0xA699) {
            return Err(if matches!(ident, 0xA59B | 0xA5DB) {
                ExtractError::new(
                    UnreadableReason::Unsupported,
                    "doc: Word for Windows 1.x/2.0 document",
                )
            } else {
                corrupt("doc: not a Word document (FIB signature)")
            });
        }
        let flags = u16_at(w, 0x0A).ok_or_else(short)?;
        let encrypted = flags & 0x0100 != 0 || flags & 0x8000 != 0;
        let lid = u16_at(w, 0x06).ok_or_else(short)?;
        if nfib < 0x0065 {
            return Err(ExtractError::new(
                UnreadableReason::Unsupported,
                "doc: Word document older than Word 6.0",
            ));
        }
        let ccp_at = |at: usize| -> Result<u32, ExtractError> {
            let v = u32_at(w, at).ok_or_else(short)?;
            Ok(if (v as i32) < 0 { 0 } else { v })
        };
        if nfib < 0x00C0 {
            // Word 6.0/95: fixed offsets (ccpText at 0x34, fcClx at 0x160);
            // a piece table only when the file was fast-saved (fComplex).
            let mut ccp = [0u32; 8];
            for (i, c) in ccp.iter_mut().enumerate() {
                *c = ccp_at(0x34 + 4 * i)?;
            }
            let complex = flags & 0x0004 != 0;
            return Ok(Fib {
                word95: true,
                encrypted,
                table_stream_1: false,
                ccp,
                fc_lcb: Vec::new(),
                clx95: if complex {
                    (
                        u32_at(w, 0x0160).unwrap_or(0),
                        u32_at(w, 0x0164).unwrap_or(0),
                    )
                } else {
                    (0, 0)
                },
                fc_min: u32_at(w, 0x18).ok_or_else(short)?,
                lid,
            });
        }
        // FibBase (32 bytes), csw + fibRgW, cslw + fibRgLw, cbRgFcLcb + pairs.
        let csw = usize::from(u16_at(w, 32).ok_or_else(short)?);
        let lw_count_at = 34 + csw * 2;
        let cslw = usize::from(u16_at(w, lw_count_at).ok_or_else(short)?);
        let lw = lw_count_at + 2;
        let mut ccp = [0u32; 8];
        for (i, c) in ccp.iter_mut().enumerate() {
            // fibRgLw: cbMac, two product fields, then ccpText … ccpHdrTxbx.
            if 3 + i < cslw {
                *c = ccp_at(lw + (3 + i) * 4)?;
            }
        }
        let pairs_count_at = lw + cslw * 4;
        let pairs = usize::from(u16_at(w, pairs_count_at).unwrap_or(0));
        let mut fc_lcb = Vec::with_capacity(pairs.min(256));
        for i in 0..pairs.min(256) {
            let at = pairs_count_at + 2 + i * 8;
            match (u32_at(w, at), u32_at(w, at + 4)) {
                (Some(fc), Some(lcb)) => fc_lcb.push((fc, lcb)),
                _ => break,
            }
        }
        Ok(Fib {
            word95: false,
            encrypted,
            table_stream_1: flags & 0x0200 != 0,
            ccp,
            fc_lcb,
            clx95: (0, 0),
            fc_min: 0,
            lid,
        })
    }

    /// The bytes of structure `index` in the table stream, if present.
    fn part<'t>(&self, table: &'t [u8], index: usize) -> Option<&'t [u8]> {
        let (fc, lcb) = *self.fc_lcb.get(index)?;
        if lcb == 0 {
            return None;
        }
        table.get(fc as usize..(fc as usize).checked_add(lcb as usize)?)
    }
}

/// The 8-bit code page of a Word 6/95 document, from its language id.
fn encoding_for_lid(lid: u16) -> &'static encoding_rs::Encoding {
    match lid {
        0x0411 => encoding_rs::SHIFT_JIS,
        0x0404 | 0x0C04 | 0x1404 => encoding_rs::BIG5,
        0x0804 | 0x1004 => encoding_rs::GBK,
        0x0412 => encoding_rs::EUC_KR,
        0x0419 | 0x0422 | 0x0423 | 0x0402 => encoding_rs::WINDOWS_1251,
        _ => encoding_rs::WINDOWS_1252,
    }
}

/// One piece of the piece table: CPs `[cp, cp_end)` stored at byte `fc`.
#[derive(Debug, Clone, Copy)]
struct Piece {
    cp: u32,
    cp_end: u32,
    fc: u32,
    /// One byte per CP (8-bit) instead of two (UTF-16LE).
    compressed: bool,
}

/// The whole document's text as UTF-16 code units indexed by CP, with the
/// pieces to map a CP back to its file offset.
struct DocText {
    units: Vec<u16>,
    pieces: Vec<Piece>,
}

impl DocText {
    fn load(w: &[u8], table: &[u8], fib: &Fib, total: u32) -> Result<DocText, ExtractError> {
        let clx = if fib.word95 {
            let (fc, lcb) = fib.clx95;
            w.get(fc as usize..(fc as usize).saturating_add(lcb as usize))
                .filter(|c| !c.is_empty())
        } else {
            fib.part(table, fclcb::CLX)
        };
        let pieces = match clx {
            Some(clx) => parse_clx(clx, fib.word95)?,
            None if fib.word95 => vec![Piece {
                cp: 0,
                cp_end: total,
                fc: fib.fc_min,
                compressed: true,
            }],
            None => return Err(corrupt("doc: no piece table")),
        };
        // Each CP takes at least one byte of the stream: more CPs than bytes
        // means pieces that overlap (a hostile file), cut off there.
        let cap = (total as usize).min(w.len());
        let mut units: Vec<u16> = Vec::with_capacity(cap.min(1 << 24));
        let mut bytes95 = Vec::new();
        for p in &pieces {
            if units.len() >= cap {
                break;
            }
            if p.cp as usize != units.len() {
                // Pieces are contiguous from CP 0: an overlap is skipped, a
                // gap (a broken table) is left empty.
                if (p.cp as usize) < units.len() {
                    continue;
                }
                if p.cp as usize >= cap {
                    break;
                }
                units.resize(p.cp as usize, IGNORED);
            }
            let n = ((p.cp_end - p.cp) as usize).min(cap - units.len());
            let start = p.fc as usize;
            if p.compressed {
                let Some(b) = w.get(start..start.saturating_add(n)) else {
                    return Err(corrupt("doc: text piece beyond the stream"));
                };
                if fib.word95 {
                    // 8-bit text in the document's code page, decoded as a
                    // whole below (double-byte characters take two CPs).
                    bytes95.extend_from_slice(b);
                    units.extend(std::iter::repeat_n(0, b.len()));
                } else {
                    units.extend(b.iter().map(|&c| cp1252(c)));
                }
            } else {
                let Some(b) = w.get(start..start.saturating_add(n.saturating_mul(2))) else {
                    return Err(corrupt("doc: text piece beyond the stream"));
                };
                units.extend(b.chunks_exact(2).map(|c| u16::from_le_bytes([c[0], c[1]])));
            }
        }
        if fib.word95 {
            // Word 6/95 stores 8-bit text; keep CP positions by padding
            // each double-byte character's second CP with an ignorable unit.
            let enc = encoding_for_lid(fib.lid);
            units.clear();
            let mut i = 0;
            while i < bytes95.len() {
                let b = bytes95[i];
                let lead = is_lead_byte(enc, b);
                let len = if lead && i + 1 < bytes95.len() { 2 } else { 1 };
                let (s, _) = enc.decode_without_bom_handling(&bytes95[i..i + len]);
                let mut cs = s.encode_utf16();
                units.push(cs.next().unwrap_or(0xFFFD));
                for _ in 1..len {
                    units.push(cs.next().unwrap_or(IGNORED));
                }
                i += len;
            }
        }
        Ok(DocText { units, pieces })
    }

    /// The code units of `[start, start + len)`, cut to what was read.
    fn story(&self, start: u32, len: u32) -> &[u16] {
        let s = (start as usize).min(self.units.len());
        let e = (start as usize)
            .saturating_add(len as usize)
            .min(self.units.len());
        &self.units[s..e]
    }

    /// The file offset of `cp`, for paragraph properties.
    fn fc_of(&self, cp: u32) -> Option<u32> {
        let i = self.pieces.partition_point(|p| p.cp_end <= cp);
        let p = self.pieces.get(i).filter(|p| p.cp <= cp)?;
        let off = cp - p.cp;
        Some(if p.compressed {
            p.fc.wrapping_add(off)
        } else {
            p.fc.wrapping_add(off.wrapping_mul(2))
        })
    }
}

/// Whether `b` starts a double-byte character in `enc`.
fn is_lead_byte(enc: &'static encoding_rs::Encoding, b: u8) -> bool {
    if enc == encoding_rs::SHIFT_JIS {
        matches!(b, 0x81..=0x9F | 0xE0..=0xFC)
    } else if enc == encoding_rs::BIG5 || enc == encoding_rs::GBK || enc == encoding_rs::EUC_KR {
        matches!(b, 0x81..=0xFE)
    } else {
        false
    }
}

/// A unit that stands for nothing (the second CP of a Word 6/95 double-byte character).
const IGNORED: u16 = 0xFEFF;

/// CP1252 byte to UTF-16 (compressed pieces are CP1252 whatever the language).
fn cp1252(b: u8) -> u16 {
    if !(0x80..0xA0).contains(&b) {
        return u16::from(b);
    }
    let byte = [b];
    let (s, _) = encoding_rs::WINDOWS_1252.decode_without_bom_handling(&byte);
    s.encode_utf16().next().unwrap_or(u16::from(b))
}

/// The piece table of a Clx: Prc entries (skipped), then the Pcdt.
fn parse_clx(clx: &[u8], word95: bool) -> Result<Vec<Piece>, ExtractError> {
    let mut i = 0usize;
    let plc = loop {
        match clx.get(i) {
            Some(1) => {
                let cb = u16_at(clx, i + 1).ok_or_else(|| corrupt("doc: Clx truncated"))?;
                i += 3 + usize::from(cb);
            }
            Some(2) => {
                let lcb = u32_at(clx, i + 1).ok_or_else(|| corrupt("doc: Clx truncated"))?;
                let start = i + 5;
                break clx
                    .get(start..start.saturating_add(lcb as usize))
                    .ok_or_else(|| corrupt("doc: piece table truncated"))?;
            }
            _ => return Err(corrupt("doc: piece table not found")),
        }
    };
    if plc.len() < 4 {
        return Err(corrupt("doc: empty piece table"));
    }
    let n = (plc.len() - 4) / 12;
    let mut pieces = Vec::with_capacity(n);
    for k in 0..n {
        let (Some(cp), Some(cp_end), Some(fc_raw)) = (
            u32_at(plc, k * 4),
            u32_at(plc, (k + 1) * 4),
            u32_at(plc, (n + 1) * 4 + k * 8 + 2),
        ) else {
            break;
        };
        if cp_end <= cp {
            continue;
        }
        let (fc, compressed) = if word95 {
            (fc_raw, true)
        } else if fc_raw & 0x4000_0000 != 0 {
            ((fc_raw & 0x3FFF_FFFF) / 2, true)
        } else {
            (fc_raw & 0x3FFF_FFFF, false)
        };
        pieces.push(Piece {
            cp,
            cp_end,
            fc,
            compressed,
        });
    }
    pieces.sort_by_key(|p| p.cp);
    Ok(pieces)
}

/// A PLC of CPs only (`n + 1` CPs before `n` data entries of `data_size` bytes).
fn plc_cps(plc: &[u8], data_size: usize) -> Vec<u32> {
    if plc.len() < 4 {
        return Vec::new();
    }
    let n = (plc.len() - 4) / (4 + data_size);
    (0..=n).filter_map(|k| u32_at(plc, k * 4)).collect()
}

/// Paragraph properties that matter here, per run of file offsets.
#[derive(Debug, Clone, Copy, Default)]
struct ParaProps {
    in_table: bool,
    /// The paragraph that ends a table row (its mark is the row-end mark).
    row_end: bool,
}

/// `[fc, fc_end)` runs with their paragraph properties, from the PAPX FKPs.
struct Papx(Vec<(u32, u32, ParaProps)>);

impl Papx {
    fn load(w: &[u8], table: &[u8], fib: &Fib) -> Option<Papx> {
        if fib.word95 {
            return None;
        }
        let plc = fib.part(table, fclcb::PLCF_BTE_PAPX)?;
        let n = plc.len().checked_sub(4)? / 8;
        let mut runs = Vec::new();
        for k in 0..n {
            let pn = u32_at(plc, (n + 1) * 4 + k * 4)? & 0x003F_FFFF;
            let start = (pn as usize).checked_mul(512)?;
            let Some(page) = w.get(start..start + 512) else {
                continue;
            };
            let crun = usize::from(page[511]);
            for i in 0..crun {
                let (Some(fc), Some(fc_end)) = (u32_at(page, i * 4), u32_at(page, (i + 1) * 4))
                else {
                    break;
                };
                let Some(&b_offset) = page.get((crun + 1) * 4 + i * 13) else {
                    break;
                };
                let props = if b_offset == 0 {
                    ParaProps::default()
                } else {
                    papx_in_fkp(page, usize::from(b_offset) * 2)
                };
                runs.push((fc, fc_end, props));
            }
        }
        runs.sort_by_key(|r| r.0);
        Some(Papx(runs))
    }

    fn at(&self, fc: u32) -> ParaProps {
        let i = self.0.partition_point(|r| r.1 <= fc);
        self.0
            .get(i)
            .filter(|r| r.0 <= fc)
            .map(|r| r.2)
            .unwrap_or_default()
    }
}

/// The table flags in one PapxInFkp (a count, the style, then sprms).
fn papx_in_fkp(page: &[u8], at: usize) -> ParaProps {
    let Some(&cb) = page.get(at) else {
        return ParaProps::default();
    };
    let (start, len) = if cb == 0 {
        let Some(&cb2) = page.get(at + 1) else {
            return ParaProps::default();
        };
        (at + 2, usize::from(cb2) * 2)
    } else {
        (at + 1, usize::from(cb) * 2 - 1)
    };
    let Some(grpprl) = page.get(start..(start + len).min(page.len())) else {
        return ParaProps::default();
    };
    // The style index (2 bytes), then the sprms.
    let mut props = ParaProps::default();
    for (sprm, operand) in sprms(grpprl.get(2..).unwrap_or_default()) {
        let on = operand.first().is_some_and(|&b| b != 0);
        match sprm {
            0x2416 => props.in_table |= on, // sprmPFInTable
            0x2417 => props.row_end |= on,  // sprmPFTtp
            0x6649 => {
                // sprmPItap: table depth
                props.in_table |= u32_at(operand, 0).is_some_and(|d| d > 0);
            }
            _ => {}
        }
    }
    props
}

/// The (sprm, operand) pairs of a grpprl, as far as they parse.
fn sprms(grpprl: &[u8]) -> Vec<(u16, &[u8])> {
    let mut out = Vec::new();
    let mut i = 0usize;
    while let Some(sprm) = u16_at(grpprl, i) {
        i += 2;
        let size = match sprm >> 13 {
            0 | 1 => 1,
            2 | 4 | 5 => 2,
            3 => 4,
            7 => 3,
            _ => {
                // Variable: sprmTDefTable(10) has a 2-byte count (one more
                // than the bytes that follow it); sprmPChgTabs may use 255
                // as an escape (not needed here: stop).
                if sprm == 0xD608 || sprm == 0xD606 {
                    let Some(cb) = u16_at(grpprl, i) else { break };
                    2 + usize::from(cb).saturating_sub(1)
                } else {
                    let Some(&cb) = grpprl.get(i) else { break };
                    if sprm == 0xC615 && cb == 255 {
                        break;
                    }
                    1 + usize::from(cb)
                }
            }
        };
        let Some(operand) = grpprl.get(i..i + size) else {
            break;
        };
        out.push((sprm, operand));
        i += size;
    }
    out
}

/// A paragraph of a story: its text, the mark that ended it and that
/// mark's CP (relative to the story start).
struct Para {
    text: String,
    mark: u16,
    mark_cp: u32,
}

/// Splits a story into paragraphs, keeping field results and dropping
/// field codes, special characters removed.
fn paragraphs(units: &[u16]) -> Vec<Para> {
    let mut out = Vec::new();
    let mut cur: Vec<u16> = Vec::new();
    // Field nesting: for each open field, whether it is past its separator.
    let mut fields: Vec<bool> = Vec::new();
    let mut deep = 0usize; // fields beyond the tracked depth
    let mut hidden = 0usize; // open fields still in their code
    for (i, &u) in units.iter().enumerate() {
        match u {
            0x0D | 0x07 | 0x0C => {
                out.push(Para {
                    text: String::from_utf16_lossy(&cur),
                    mark: u,
                    mark_cp: i as u32,
                });
                cur.clear();
            }
            0x13 => {
                if fields.len() < 64 {
                    fields.push(false);
                    hidden += 1;
                } else {
                    deep += 1;
                }
            }
            0x14 => {
                if deep == 0 {
                    if let Some(f) = fields.last_mut() {
                        if !*f {
                            *f = true;
                            hidden -= 1;
                        }
                    }
                }
            }
            0x15 => {
                if deep > 0 {
                    deep -= 1;
                } else if let Some(f) = fields.pop() {
                    if !f {
                        hidden -= 1;
                    }
                }
            }
            _ if hidden > 0 || deep > 0 => {}
            0x09 => cur.push(u16::from(b'\t')),
            0x0B => cur.push(u16::from(b'\n')),
            0x1E => cur.push(u16::from(b'-')),
            IGNORED => {}
            _ if u < 0x20 => {}
            _ => cur.push(u),
        }
    }
    if !cur.is_empty() {
        out.push(Para {
            text: String::from_utf16_lossy(&cur),
            mark: 0,
            mark_cp: units.len() as u32,
        });
    }
    out
}

/// A story's text with its paragraphs on lines.
fn story_text(units: &[u16]) -> String {
    let mut s = String::new();
    for p in paragraphs(units) {
        if p.text.trim().is_empty() {
            continue;
        }
        if !s.is_empty() {
            s.push('\n');
        }
        s.push_str(&p.text);
    }
    s
}

impl Extractor for Doc {
    fn formats(&self) -> &'static [Format] {
        &[Format::Doc]
    }

    fn extract(
        &self,
        _name: &str,
        _format: Format,
        data: &[u8],
        cx: &mut ExtractContext<'_>,
    ) -> Result<(), ExtractError> {
        cx.budget.charge_bytes(data.len() as u64)?;
        let mut cf = cfb::CompoundFile::open(Cursor::new(data))
            .map_err(|e| corrupt(format!("doc: compound file: {e}")))?;
        if !cf.is_stream("/WordDocument") {
            return Err(match root_format(data) {
                Some(Format::EncryptedOffice) => ExtractError::new(
                    UnreadableReason::Encrypted,
                    "password-protected Office document",
                ),
                _ => corrupt("doc: no WordDocument stream"),
            });
        }
        let limit = data.len() as u64;
        let word = read_stream(&mut cf, "/WordDocument", limit)
            .ok_or_else(|| corrupt("doc: WordDocument stream unreadable"))?;
        let fib = Fib::parse(&word)?;
        if fib.encrypted {
            return Err(ExtractError::new(
                UnreadableReason::Encrypted,
                "password-protected Word document",
            ));
        }
        if let Some(created) = created_date(&mut cf) {
            cx.metadata(DocumentMeta {
                created: Some(created),
            });
        }
        let table = if fib.word95 {
            Vec::new()
        } else {
            let name = if fib.table_stream_1 {
                "/1Table"
            } else {
                "/0Table"
            };
            read_stream(&mut cf, name, limit).ok_or_else(|| corrupt("doc: table stream missing"))?
        };
        let total = fib
            .ccp
            .iter()
            .fold(0u32, |a, &c| a.saturating_add(c))
            .saturating_add(1);
        let text = DocText::load(&word, &table, &fib, total)?;
        cx.budget.charge_bytes(text.units.len() as u64 * 2)?;
        let papx = Papx::load(&word, &table, &fib);
        let starts: Vec<u32> = fib
            .ccp
            .iter()
            .scan(0u32, |acc, &c| {
                let s = *acc;
                *acc = acc.saturating_add(c);
                Some(s)
            })
            .collect();
        read_main(&text, fib.ccp[0], papx.as_ref(), cx)?;
        // Headers and footers: Plcfhdd splits the story; the first six
        // entries are note separators, then six per section.
        let hdd = text.story(starts[2], fib.ccp[2]);
        if !hdd.is_empty() {
            let cps = fib
                .part(&table, fclcb::PLCF_HDD)
                .map(|p| plc_cps(p, 0))
                .unwrap_or_default();
            let mut b = SegmentsBuilder::default();
            if cps.len() >= 2 {
                let mut done = 0usize;
                for (i, w) in cps.windows(2).enumerate() {
                    if i < 6 {
                        continue;
                    }
                    let label = if matches!((i - 6) % 6, 0 | 1 | 4) {
                        "header"
                    } else {
                        "footer"
                    };
                    // CPs only go forward: overlapping entries of a hostile
                    // PLC would read the story again and again.
                    let s = (w[0] as usize).clamp(done, hdd.len());
                    let e = (w[1] as usize).clamp(s, hdd.len());
                    done = e;
                    b.push(&story_text(&hdd[s..e]), Location::Named(label.into()));
                }
            } else {
                b.push(&story_text(hdd), Location::Named("header".into()));
            }
            if !b.is_empty() {
                cx.unit(b.build())?;
            }
        }
        // Notes, comments and text boxes, each numbered.
        for (story, index, data_size, label) in [
            (1usize, fclcb::PLCFFND_TXT, 0usize, "footnote"),
            (4, fclcb::PLCFAND_TXT, 0, "comment"),
            (5, fclcb::PLCFEND_TXT, 0, "endnote"),
            (6, fclcb::PLCFTXBX_TXT, 22, "text box"),
            (7, usize::MAX, 0, "header"),
        ] {
            let units = text.story(starts[story], fib.ccp[story]);
            if units.is_empty() {
                continue;
            }
            let cps = fib
                .part(&table, index)
                .map(|p| plc_cps(p, data_size))
                .filter(|c| c.len() >= 2)
                .unwrap_or_else(|| vec![0, units.len() as u32]);
            let mut b = SegmentsBuilder::default();
            let mut n = 0;
            let mut done = 0usize;
            for w in cps.windows(2) {
                // Forward only (see the headers above).
                let s = (w[0] as usize).clamp(done, units.len());
                let e = (w[1] as usize).clamp(s, units.len());
                done = e;
                let t = story_text(&units[s..e]);
                if t.trim().is_empty() {
                    continue;
                }
                n += 1;
                let location = if label == "header" {
                    Location::Named(label.into())
                } else {
                    Location::Named(format!("{label} {n}"))
                };
                b.push(&t, location);
            }
            if !b.is_empty() {
                cx.unit(b.build())?;
            }
        }
        read_object_pool(&mut cf, cx)
    }
}

/// Documents embedded in the document (`/ObjectPool/_NNNN` storages): Office
/// documents as compound files of their own, OOXML packages, files inserted
/// as packages (`\x01Ole10Native`), each back through the dispatcher as
/// `ObjectPool/_NNNN.xls` (or the packaged file's name).
fn read_object_pool(
    cf: &mut cfb::CompoundFile<Cursor<&[u8]>>,
    cx: &mut ExtractContext<'_>,
) -> Result<(), ExtractError> {
    let mut objects: Vec<(String, std::path::PathBuf)> = match cf.read_storage("/ObjectPool") {
        Ok(entries) => entries
            .filter(|e| e.is_storage())
            .map(|e| (e.name().to_string(), e.path().to_path_buf()))
            .collect(),
        Err(_) => return Ok(()),
    };
    objects.sort();
    for (name, dir) in objects {
        cx.budget.check_time()?;
        let limit = cx.budget.bytes_left();
        let (member, data) =
            if let Some(native) = read_stream(cf, dir.join("\u{1}Ole10Native"), limit) {
                match super::ole_props::ole10_native(&native) {
                    Some((file, data)) => (format!("ObjectPool/{name}/{file}"), data.to_vec()),
                    None => continue,
                }
            } else if let Some(package) = read_stream(cf, dir.join("Package"), limit) {
                let head = &package[..package.len().min(64 * 1024)];
                let has = |m: &[u8]| head.windows(m.len()).any(|w| w == m);
                let ext = if has(b"word/") {
                    "docx"
                } else if has(b"xl/") {
                    "xlsx"
                } else if has(b"ppt/") {
                    "pptx"
                } else {
                    "zip"
                };
                (format!("ObjectPool/{name}.{ext}"), package)
            } else {
                let ext = ["WordDocument", "Workbook", "Book", "PowerPoint Document"]
                    .iter()
                    .zip(["doc", "xls", "xls", "ppt"])
                    .find(|(s, _)| cf.is_stream(dir.join(s)))
                    .map(|(_, e)| e);
                let Some(ext) = ext else { continue };
                let Some(file) = super::ole_props::storage_to_file(cf, &dir, limit) else {
                    continue;
                };
                (format!("ObjectPool/{name}.{ext}"), file)
            };
        cx.budget.charge_member()?;
        cx.budget.charge_bytes(data.len() as u64)?;
        cx.member(&member, &data)?;
    }
    Ok(())
}

/// The main text: body paragraphs as one unit, table rows as rows of cells.
fn read_main(
    text: &DocText,
    ccp_text: u32,
    papx: Option<&Papx>,
    cx: &mut ExtractContext<'_>,
) -> Result<(), ExtractError> {
    let units = text.story(0, ccp_text);
    let mut body = SegmentsBuilder::default();
    let mut paragraph = 0u32;
    let mut tables = Tables::default();
    let mut cell = String::new();
    let mut previous_mark = 0u16;
    for p in paragraphs(units) {
        let props = papx
            .and_then(|x| text.fc_of(p.mark_cp).map(|fc| x.at(fc)))
            .unwrap_or_default();
        let (cell_end, row_end, in_table) = match papx {
            Some(_) => (
                p.mark == 0x07 && !props.row_end,
                p.mark == 0x07 && props.row_end,
                props.in_table || p.mark == 0x07,
            ),
            // Without paragraph properties: a mark right after a cell mark
            // with nothing between is taken for the row end.
            None => {
                let row_end = p.mark == 0x07 && previous_mark == 0x07 && p.text.is_empty();
                (p.mark == 0x07 && !row_end, row_end, p.mark == 0x07)
            }
        };
        previous_mark = p.mark;
        if row_end {
            if tables.has_cells() || !cell.is_empty() {
                if !cell.is_empty() {
                    tables.cell(&std::mem::take(&mut cell));
                }
                if let Some(u) = tables.end_row() {
                    cx.unit(u)?;
                }
            }
        } else if cell_end {
            cell.push_str(&p.text);
            tables.cell(&std::mem::take(&mut cell));
        } else if in_table {
            cell.push_str(&p.text);
            cell.push('\n');
        } else {
            if !cell.is_empty() {
                tables.cell(&std::mem::take(&mut cell));
            }
            if let Some(u) = tables.end_table() {
                cx.unit(u)?;
            }
            if !p.text.trim().is_empty() {
                paragraph += 1;
                body.push(&p.text, Location::Paragraph(paragraph));
            }
        }
    }
    if !cell.is_empty() {
        tables.cell(&cell);
    }
    if let Some(u) = tables.end_table() {
        cx.unit(u)?;
    }
    if !body.is_empty() {
        cx.unit(body.build())?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utf16(s: &str) -> Vec<u16> {
        s.encode_utf16().collect()
    }

    #[test]
    fn field_codes_are_dropped_and_results_kept() {
        let u = utf16("前\u{13} HYPERLINK \"http://x\" \u{14}結果\u{15}後\r");
        let p = paragraphs(&u);
        assert_eq!(p[0].text, "前結果後");
        // A field without a separator is code only; nested fields too.
        let u = utf16("a\u{13}PAGE\u{15}b\u{13}X\u{13}Y\u{14}y\u{15}\u{14}r\u{15}\r");
        assert_eq!(paragraphs(&u)[0].text, "abr");
        // Unbalanced marks in a hostile file do not panic.
        let u = utf16("\u{15}\u{14}\u{13}\u{13}a");
        assert!(paragraphs(&u).is_empty(), "text inside open field codes");
    }

    #[test]
    fn compressed_pieces_are_cp1252() {
        assert_eq!(cp1252(0x93), 0x201C);
        assert_eq!(cp1252(b'A'), u16::from(b'A'));
        assert_eq!(cp1252(0xE9), 0xE9);
    }

    #[test]
    fn sprms_parse_fixed_and_variable_operands() {
        // sprmPFInTable 1, sprmPFTtp 1, sprmTDefTable (cb=3: 2 bytes), sprmPItap 1.
        let g = [
            0x16, 0x24, 1, 0x17, 0x24, 1, 0x08, 0xD6, 3, 0, 0xAA, 0xBB, 0x49, 0x66, 1, 0, 0, 0,
        ];
        let s = sprms(&g);
        assert_eq!(
            s.iter().map(|(id, _)| *id).collect::<Vec<_>>(),
            [0x2416, 0x2417, 0xD608, 0x6649]
        );
        assert!(sprms(&[0x08, 0xD6, 0xFF]).is_empty());
    }
}
