//! PowerPoint 97-2003 `.ppt` (MS-PPT), read from its compound file with the
//! cfb crate and an own record reader (no maintained crate reads `.ppt`).
//!
//! The `PowerPoint Document` stream is a tree of records. The live version
//! of each slide is found through the persist directory: the `Current User`
//! stream points at the last UserEditAtom, whose chain of edits gives every
//! persist object's offset (an incremental "fast save" leaves older copies
//! in the stream; they are not read). The document's SlideListWithText
//! lists slides, masters and notes in order, with the placeholder text that
//! PowerPoint 97 keeps there; the text of shapes (PowerPoint 2000 and later
//! keep it all there) is in each slide's drawing, in TextCharsAtom (UTF-16)
//! and TextBytesAtom (8-bit: Latin-1, the high byte of each UTF-16 unit 0).
//!
//! Units: slides, notes and masters as one unit (`slide N`, `notes N`,
//! `master N`), as pptx; PowerPoint 95 files by their `Text_Content`
//! stream (`slides`); PowerPoint 4.0 is `unsupported`. A file encrypted with a password (an encrypted
//! Current User token, a UserEditAtom naming an encryption session, or an
//! `EncryptedSummary` stream) is `encrypted`. When the persist directory is
//! broken, the stream is read front to back instead.

use std::collections::{HashMap, HashSet};
use std::io::Cursor;

use super::ole_props::{created_date, read_stream};
use super::{DocumentMeta, ExtractContext, ExtractError, Extractor, Format, UnreadableReason};
use crate::text::{Location, SegmentsBuilder, TextUnit};

/// Reads PowerPoint 97-2003 presentations.
pub struct Ppt;

mod rt {
    pub const DOCUMENT: u16 = 0x03E8;
    pub const SLIDE: u16 = 0x03EE;
    pub const NOTES: u16 = 0x03F0;
    pub const NOTES_ATOM: u16 = 0x03F1;
    pub const SLIDE_PERSIST_ATOM: u16 = 0x03F3;
    pub const MAIN_MASTER: u16 = 0x03F8;
    pub const TEXT_CHARS_ATOM: u16 = 0x0FA0;
    pub const TEXT_BYTES_ATOM: u16 = 0x0FA8;
    pub const SLIDE_LIST_WITH_TEXT: u16 = 0x0FF0;
    pub const USER_EDIT_ATOM: u16 = 0x0FF5;
    pub const PERSIST_DIRECTORY_ATOM: u16 = 0x1772;
    pub const CRYPT_SESSION: u16 = 0x2F14;
}

/// The Current User token of an encrypted presentation.
const ENCRYPTED_TOKEN: u32 = 0xF3D1_C4DF;
/// Record nesting depth read (real files nest less than 10 deep).
const MAX_DEPTH: usize = 32;

fn corrupt(detail: impl Into<String>) -> ExtractError {
    ExtractError::new(UnreadableReason::Corrupt, detail)
}

fn encrypted() -> ExtractError {
    ExtractError::new(
        UnreadableReason::Encrypted,
        "password-protected PowerPoint presentation",
    )
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

/// A record header: its type, instance, whether it is a container, and
/// its body `[start, end)` in the stream (cut to the stream's end).
#[derive(Debug, Clone, Copy)]
struct Record {
    kind: u16,
    instance: u16,
    container: bool,
    start: usize,
    end: usize,
}

fn record_at(s: &[u8], at: usize, limit: usize) -> Option<Record> {
    let ver_inst = u16_at(s, at)?;
    let kind = u16_at(s, at + 2)?;
    let len = u32_at(s, at + 4)? as usize;
    let start = at + 8;
    if start > limit {
        return None;
    }
    Some(Record {
        kind,
        instance: ver_inst >> 4,
        container: ver_inst & 0x0F == 0x0F,
        start,
        end: start.saturating_add(len).min(limit),
    })
}

/// The child records of a container.
fn children(s: &[u8], parent: Record) -> Vec<Record> {
    let mut out = Vec::new();
    let mut at = parent.start;
    while at + 8 <= parent.end {
        let Some(r) = record_at(s, at, parent.end) else {
            break;
        };
        out.push(r);
        at = r.end.max(at + 8);
    }
    out
}

/// The text of a text atom, paragraph and line breaks as newlines.
fn atom_text(s: &[u8], r: Record) -> Option<String> {
    let body = s.get(r.start..r.end)?;
    let text: String = match r.kind {
        rt::TEXT_CHARS_ATOM => {
            let units: Vec<u16> = body
                .chunks_exact(2)
                .map(|c| u16::from_le_bytes([c[0], c[1]]))
                .collect();
            String::from_utf16_lossy(&units)
        }
        rt::TEXT_BYTES_ATOM => body.iter().map(|&b| char::from(b)).collect(),
        _ => return None,
    };
    Some(
        text.chars()
            .map(|c| if c == '\r' || c == '\u{0B}' { '\n' } else { c })
            .filter(|&c| c == '\n' || c == '\t' || !c.is_control())
            .collect(),
    )
}

/// Every text atom under `r`, in order.
fn collect_text(s: &[u8], r: Record, depth: usize, out: &mut Vec<String>) {
    if r.container {
        if depth >= MAX_DEPTH {
            return;
        }
        for c in children(s, r) {
            collect_text(s, c, depth + 1, out);
        }
    } else if let Some(t) = atom_text(s, r) {
        if !t.trim().is_empty() {
            out.push(t);
        }
    }
}

/// One entry of a SlideListWithText: the persist object it names, its
/// slide id, and the placeholder text listed with it.
#[derive(Debug, Default)]
struct ListEntry {
    persist: u32,
    slide_id: u32,
    texts: Vec<String>,
}

/// The slides (instance 0), masters (1) and notes (2) of the document.
fn slide_lists(s: &[u8], document: Record) -> [Vec<ListEntry>; 3] {
    let mut lists: [Vec<ListEntry>; 3] = Default::default();
    for c in children(s, document) {
        if c.kind != rt::SLIDE_LIST_WITH_TEXT || !c.container {
            continue;
        }
        let Some(list) = lists.get_mut(usize::from(c.instance)) else {
            continue;
        };
        for a in children(s, c) {
            if a.kind == rt::SLIDE_PERSIST_ATOM {
                list.push(ListEntry {
                    persist: u32_at(s, a.start).unwrap_or(0),
                    slide_id: u32_at(s, a.start + 12).unwrap_or(0),
                    texts: Vec::new(),
                });
            } else if let Some(e) = list.last_mut() {
                collect_text(s, a, 1, &mut e.texts);
            }
        }
    }
    lists
}

/// The live persist objects (id → stream offset) and the document's id,
/// following the chain of edits from the Current User's last edit.
fn persist_directory(s: &[u8], current_edit: u32) -> Result<(HashMap<u32, u32>, u32), ()> {
    let mut map = HashMap::new();
    let mut seen = HashSet::new();
    let mut offset = current_edit as usize;
    let mut document = None;
    while offset != 0 && seen.insert(offset) && seen.len() <= 10_000 {
        let r = record_at(s, offset, s.len()).ok_or(())?;
        if r.kind != rt::USER_EDIT_ATOM {
            return Err(());
        }
        let body = s.get(r.start..r.end).ok_or(())?;
        if body.len() >= 32 && u32_at(body, 28).is_some_and(|e| e != 0) {
            // encryptSessionPersistIdRef: the edit is encrypted.
            return Err(());
        }
        let last_edit = u32_at(body, 8).ok_or(())?;
        let dir_at = u32_at(body, 12).ok_or(())? as usize;
        if document.is_none() {
            document = Some(u32_at(body, 16).ok_or(())?);
        }
        let dir = record_at(s, dir_at, s.len()).ok_or(())?;
        if dir.kind != rt::PERSIST_DIRECTORY_ATOM {
            return Err(());
        }
        let mut at = dir.start;
        while at + 4 <= dir.end {
            let head = u32_at(s, at).ok_or(())?;
            let (first, count) = (head & 0x000F_FFFF, head >> 20);
            at += 4;
            for k in 0..count {
                let Some(off) = u32_at(s, at).filter(|_| at + 4 <= dir.end) else {
                    break;
                };
                // Newer edits come first and win.
                map.entry(first.wrapping_add(k)).or_insert(off);
                at += 4;
            }
        }
        offset = last_edit as usize;
    }
    Ok((map, document.ok_or(())?))
}

/// Whether the persist chain names an encryption session.
fn edit_is_encrypted(s: &[u8], current_edit: u32) -> bool {
    record_at(s, current_edit as usize, s.len()).is_some_and(|r| {
        r.kind == rt::USER_EDIT_ATOM
            && r.end - r.start >= 32
            && u32_at(s, r.start + 28).is_some_and(|e| e != 0)
    })
}

impl Extractor for Ppt {
    fn formats(&self) -> &'static [Format] {
        &[Format::Ppt]
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
            .map_err(|e| corrupt(format!("ppt: compound file: {e}")))?;
        if cf.is_stream("/EncryptedSummary") || cf.is_stream("/EncryptedPackage") {
            return Err(encrypted());
        }
        let limit = data.len() as u64;
        // A file saved for PowerPoint 95 and 97 keeps the 97 version apart.
        let base = if cf.is_stream("/PP97_DUALSTORAGE/PowerPoint Document") {
            "/PP97_DUALSTORAGE"
        } else {
            ""
        };
        if cf.is_stream("/PP40") && !cf.is_stream("/PowerPoint Document") {
            return Err(ExtractError::new(
                UnreadableReason::Unsupported,
                "ppt: PowerPoint 4.0 presentation",
            ));
        }
        let stream = read_stream(&mut cf, format!("{base}/PowerPoint Document"), limit)
            .ok_or_else(|| corrupt("ppt: no PowerPoint Document stream"))?;
        let current =
            read_stream(&mut cf, format!("{base}/Current User"), 4096).unwrap_or_default();
        // PowerPoint 95 has no CurrentUserAtom (record type 0x0FF6); its
        // text is kept in plain form in `Text_Content`.
        if u16_at(&current, 2) != Some(0x0FF6) {
            if let Some(text) = read_stream(&mut cf, "/Text_Content", limit) {
                if let Some(created) = created_date(&mut cf) {
                    cx.metadata(DocumentMeta {
                        created: Some(created),
                    });
                }
                let text = super::encoding::decode(&text).text.replace('\r', "\n");
                if !text.trim().is_empty() {
                    cx.unit(TextUnit::fixed(text, Location::Named("slides".into())))?;
                }
                return Ok(());
            }
        }
        if u32_at(&current, 12) == Some(ENCRYPTED_TOKEN) {
            return Err(encrypted());
        }
        let current_edit = u32_at(&current, 16);
        if current_edit.is_some_and(|e| edit_is_encrypted(&stream, e)) {
            return Err(encrypted());
        }
        if let Some(created) = created_date(&mut cf) {
            cx.metadata(DocumentMeta {
                created: Some(created),
            });
        }
        let s = stream.as_slice();
        let live = current_edit.and_then(|e| persist_directory(s, e).ok());
        let mut out = SegmentsBuilder::default();
        match live {
            Some((map, doc_id)) => read_live(s, &map, doc_id, &mut out)?,
            None => read_front_to_back(s, &mut out)?,
        }
        if !out.is_empty() {
            cx.unit(out.build())?;
        }
        Ok(())
    }
}

/// The record of persist object `id`, if it is of `kind`.
fn persist_record(s: &[u8], map: &HashMap<u32, u32>, id: u32, kind: u16) -> Option<Record> {
    let at = *map.get(&id)? as usize;
    record_at(s, at, s.len()).filter(|r| r.kind == kind && r.container)
}

/// Appends texts to `out` under `location`, skipping repeats (PowerPoint
/// may keep a placeholder's text both in the list and in the slide).
fn push_texts(out: &mut SegmentsBuilder, texts: Vec<String>, location: &Location) {
    let mut seen = HashSet::new();
    for t in texts {
        if seen.insert(t.clone()) {
            out.push(&t, location.clone());
        }
    }
}

fn read_live(
    s: &[u8],
    map: &HashMap<u32, u32>,
    doc_id: u32,
    out: &mut SegmentsBuilder,
) -> Result<(), ExtractError> {
    // Each persist object is read once, however many list entries name it
    // (a hostile list could name one large slide a million times).
    let mut read = HashSet::new();
    let mut persist_record = |s: &[u8], map: &HashMap<u32, u32>, id: u32, kind: u16| {
        persist_record(s, map, id, kind).filter(|r| read.insert(r.start))
    };
    let document = persist_record(s, map, doc_id, rt::DOCUMENT)
        .ok_or_else(|| corrupt("ppt: document record missing"))?;
    if children(s, document)
        .iter()
        .any(|c| c.kind == rt::CRYPT_SESSION)
    {
        return Err(encrypted());
    }
    let [slides, masters, notes] = slide_lists(s, document);
    let mut number_of_slide = HashMap::new();
    for (i, e) in slides.into_iter().enumerate() {
        let n = i + 1;
        number_of_slide.insert(e.slide_id, n);
        let mut texts = e.texts;
        if let Some(r) = persist_record(s, map, e.persist, rt::SLIDE) {
            collect_text(s, r, 1, &mut texts);
        }
        push_texts(out, texts, &Location::Named(format!("slide {n}")));
    }
    for (i, e) in notes.into_iter().enumerate() {
        let mut texts = e.texts;
        let mut n = i + 1;
        if let Some(r) = persist_record(s, map, e.persist, rt::NOTES) {
            // The NotesAtom names the slide the notes belong to.
            if let Some(slide) = children(s, r)
                .iter()
                .find(|c| c.kind == rt::NOTES_ATOM)
                .and_then(|a| u32_at(s, a.start))
                .and_then(|id| number_of_slide.get(&id))
            {
                n = *slide;
            }
            collect_text(s, r, 1, &mut texts);
        }
        push_texts(out, texts, &Location::Named(format!("notes {n}")));
    }
    for (i, e) in masters.into_iter().enumerate() {
        let mut texts = e.texts;
        if let Some(r) = persist_record(s, map, e.persist, rt::MAIN_MASTER) {
            collect_text(s, r, 1, &mut texts);
        }
        push_texts(out, texts, &Location::Named(format!("master {}", i + 1)));
    }
    Ok(())
}

/// Without a usable persist directory: top-level records in stream order.
fn read_front_to_back(s: &[u8], out: &mut SegmentsBuilder) -> Result<(), ExtractError> {
    let top = Record {
        kind: 0,
        instance: 0,
        container: true,
        start: 0,
        end: s.len(),
    };
    let records = children(s, top);
    if records.is_empty() {
        return Err(corrupt("ppt: no records"));
    }
    let (mut slide, mut notes, mut master) = (0, 0, 0);
    for r in records {
        if r.kind == rt::CRYPT_SESSION {
            return Err(encrypted());
        }
        if !r.container {
            continue;
        }
        let location = match r.kind {
            rt::DOCUMENT => {
                let [slides, ..] = slide_lists(s, r);
                for (i, e) in slides.into_iter().enumerate() {
                    push_texts(out, e.texts, &Location::Named(format!("slide {}", i + 1)));
                }
                continue;
            }
            rt::SLIDE => {
                slide += 1;
                format!("slide {slide}")
            }
            rt::NOTES => {
                notes += 1;
                format!("notes {notes}")
            }
            rt::MAIN_MASTER => {
                master += 1;
                format!("master {master}")
            }
            _ => continue,
        };
        let mut texts = Vec::new();
        collect_text(s, r, 1, &mut texts);
        push_texts(out, texts, &Location::Named(location));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(ver_inst: u16, kind: u16, body: &[u8]) -> Vec<u8> {
        let mut v = ver_inst.to_le_bytes().to_vec();
        v.extend_from_slice(&kind.to_le_bytes());
        v.extend_from_slice(&(body.len() as u32).to_le_bytes());
        v.extend_from_slice(body);
        v
    }

    #[test]
    fn text_atoms_in_nested_containers() {
        let chars: Vec<u8> = "氏名\r山田"
            .encode_utf16()
            .flat_map(|u| u.to_le_bytes())
            .collect();
        let mut inner = rec(0, rt::TEXT_CHARS_ATOM, &chars);
        inner.extend(rec(0, rt::TEXT_BYTES_ATOM, b"Tel 03"));
        let drawing = rec(0x0F, 0xF00D, &inner);
        let slide = rec(0x0F, rt::SLIDE, &drawing);
        let top = Record {
            kind: 0,
            instance: 0,
            container: true,
            start: 0,
            end: slide.len(),
        };
        let mut out = Vec::new();
        collect_text(&slide, children(&slide, top)[0], 0, &mut out);
        assert_eq!(out, ["氏名\n山田", "Tel 03"]);
    }

    #[test]
    fn lying_lengths_and_deep_nesting_stay_bounded() {
        // A container that claims more than the stream holds.
        let mut s = rec(0x0F, rt::SLIDE, &[]);
        s[4..8].copy_from_slice(&u32::MAX.to_le_bytes());
        let mut out = SegmentsBuilder::default();
        assert!(read_front_to_back(&s, &mut out).is_ok());
        // 1,000 nested containers.
        let mut deep = Vec::new();
        for _ in 0..1_000 {
            deep = rec(0x0F, rt::SLIDE, &deep);
        }
        assert!(read_front_to_back(&deep, &mut out).is_ok());
    }
}
