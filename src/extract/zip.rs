//! zip archives: every member goes back through the dispatcher (nested zips,
//! documents inside), under the file's shared budget. Member names stored
//! without the UTF-8 flag (Windows Explorer) are decoded by detection over
//! all names of the archive, CP932 first ([`decode_names`]).
//! Encrypted members are reported `encrypted` with their member chain.
//!
//! Declared sizes lie, so what is actually read is capped: a member may
//! not inflate past what is left of the file's byte budget, and a member
//! whose declared size is over 1,000 times its compressed size is refused
//! as a bomb before it is inflated.

use std::io::{Cursor, Read};

use encoding_rs::SHIFT_JIS;

use super::{ExtractContext, ExtractError, Extractor, Format, UnreadableReason};

/// Declared inflation ratio above which a member is treated as a zip bomb.
pub const MAX_RATIO: u64 = 1000;

/// Reads zip archives.
pub struct ZipArchive;

/// Opens a zip archive held in memory.
pub fn open(data: &[u8]) -> Result<zip::ZipArchive<Cursor<&[u8]>>, ExtractError> {
    zip::ZipArchive::new(Cursor::new(data))
        .map_err(|e| ExtractError::new(UnreadableReason::Corrupt, format!("zip: {e}")))
}

/// Member names of one archive (zip without the UTF-8 flag, LHA), decoded
/// together: valid UTF-8 stays UTF-8; the others are decoded with the
/// encoding chardetng guesses over all of them when it is CP932, GBK,
/// Big5, EUC-KR or EUC-JP and decodes them cleanly, with CP932 (what
/// Japanese Windows writes) first when the guess is anything else (a few
/// short names are ambiguous). A name the chosen encoding cannot decode
/// tries the others alone; only a name no encoding decodes gets
/// replacement characters.
pub fn decode_names(raws: &[Vec<u8>]) -> Vec<String> {
    use encoding_rs::{BIG5, EUC_JP, EUC_KR, GBK};
    const CJK: [&encoding_rs::Encoding; 5] = [SHIFT_JIS, GBK, BIG5, EUC_KR, EUC_JP];
    let legacy: Vec<&[u8]> = raws
        .iter()
        .filter(|r| std::str::from_utf8(r).is_err())
        .map(Vec::as_slice)
        .collect();
    let mut order: Vec<&'static encoding_rs::Encoding> = Vec::new();
    if !legacy.is_empty() {
        let mut det = chardetng::EncodingDetector::new();
        for r in &legacy {
            det.feed(r, false);
            det.feed(b"\n", false);
        }
        det.feed(b"", true);
        let guess = det.guess(None, true);
        if CJK.contains(&guess) {
            order.push(guess);
        }
        for enc in CJK {
            if !order.contains(&enc) {
                order.push(enc);
            }
        }
        // The whole set decoded cleanly by one encoding wins.
        if let Some(pos) = order.iter().position(|enc| {
            legacy.iter().all(|r| {
                enc.decode_without_bom_handling_and_without_replacement(r)
                    .is_some()
            })
        }) {
            let enc = order.remove(pos);
            order.insert(0, enc);
        }
        // Single-byte names (CP437, Latin-1) decode with no error at all.
        order.push(guess);
        order.push(encoding_rs::WINDOWS_1252);
    }
    raws.iter()
        .map(|raw| match std::str::from_utf8(raw) {
            Ok(s) => s.to_string(),
            Err(_) => order
                .iter()
                .find_map(|enc| enc.decode_without_bom_handling_and_without_replacement(raw))
                .map(|c| c.into_owned())
                .unwrap_or_else(|| SHIFT_JIS.decode(raw).0.into_owned()),
        })
        .collect()
}

/// Declared inflation of `declared` from `compressed` bytes that is
/// treated as a bomb (over 1 MB and over [`MAX_RATIO`] times).
pub fn looks_like_bomb(declared: u64, compressed: u64) -> bool {
    declared > 1024 * 1024 && declared / compressed.max(1) > MAX_RATIO
}

/// Reads a member's data from `reader`, reading at most what is left of
/// the file's byte budget (plus one byte, to know it ran over) and
/// charging what was actually read: headers that lie about sizes cannot
/// make more than the budget be inflated.
pub fn read_bounded(
    reader: &mut dyn Read,
    declared: u64,
    cx: &mut ExtractContext<'_>,
) -> Result<Vec<u8>, ExtractError> {
    let limit = cx.budget.bytes_left();
    let mut buf = Vec::with_capacity(declared.min(limit).min(64 * 1024 * 1024) as usize);
    reader
        .take(limit.saturating_add(1))
        .read_to_end(&mut buf)
        .map_err(|e| ExtractError::new(UnreadableReason::Corrupt, format!("member data: {e}")))?;
    cx.budget.charge_bytes(buf.len() as u64)?;
    Ok(buf)
}

/// Hands a member's bytes (or the error reading them) on: the bytes go
/// through the dispatcher as member `name`, an error is reported for the
/// member, and only a spent budget or the deadline stops the archive.
pub fn member_done(
    cx: &mut ExtractContext<'_>,
    name: &str,
    read: Result<Vec<u8>, ExtractError>,
) -> Result<(), ExtractError> {
    match read {
        Ok(bytes) => cx.member(name, &bytes),
        Err(e) if e.reason == UnreadableReason::Timeout => Err(e),
        Err(e) if e.reason == UnreadableReason::TooLarge && cx.budget.bytes_left() == 0 => Err(e),
        Err(e) => {
            cx.unreadable_member(name, Format::sniff(name, &[]), e);
            Ok(())
        }
    }
}

/// Reads member `index`, charging the budget for what is actually inflated.
pub fn read_member(
    archive: &mut zip::ZipArchive<Cursor<&[u8]>>,
    index: usize,
    cx: &mut ExtractContext<'_>,
) -> Result<Vec<u8>, ExtractError> {
    let mut entry = archive.by_index(index).map_err(|e| match e {
        zip::result::ZipError::UnsupportedArchive(m) if m.contains("assword") => {
            ExtractError::new(UnreadableReason::Encrypted, "password-protected member")
        }
        other => ExtractError::new(UnreadableReason::Corrupt, format!("zip member: {other}")),
    })?;
    let declared = entry.size();
    if looks_like_bomb(declared, entry.compressed_size()) {
        return Err(ExtractError::new(
            UnreadableReason::TooLarge,
            format!(
                "member inflates {}x (zip bomb?)",
                declared / entry.compressed_size().max(1)
            ),
        ));
    }
    read_bounded(&mut entry, declared, cx).map_err(|e| {
        if e.reason == UnreadableReason::Corrupt {
            ExtractError::new(UnreadableReason::Corrupt, format!("zip {}", e.detail))
        } else {
            e
        }
    })
}

/// Reads the member called `name`, if present.
pub fn read_named(
    archive: &mut zip::ZipArchive<Cursor<&[u8]>>,
    name: &str,
    cx: &mut ExtractContext<'_>,
) -> Result<Option<Vec<u8>>, ExtractError> {
    match archive.index_for_name(name) {
        Some(i) => read_member(archive, i, cx).map(Some),
        None => Ok(None),
    }
}

/// The names of all members, in archive order (names without the UTF-8
/// flag decoded together, [`decode_names`]; a member whose header cannot
/// be read has an empty name, so that indexes stay the archive's).
pub fn member_names(archive: &mut zip::ZipArchive<Cursor<&[u8]>>) -> Vec<String> {
    let raws: Vec<Vec<u8>> = (0..archive.len())
        .map(|i| {
            archive
                .by_index_raw(i)
                .map(|f| f.name_raw().to_vec())
                .unwrap_or_default()
        })
        .collect();
    decode_names(&raws)
}

/// Reads every member under `prefix` (`word/embeddings/`, …) back through
/// the dispatcher as a member of its own: documents embedded in documents.
pub fn extract_embedded(
    archive: &mut zip::ZipArchive<Cursor<&[u8]>>,
    names: &[String],
    prefix: &str,
    cx: &mut ExtractContext<'_>,
) -> Result<(), ExtractError> {
    for (i, n) in names.iter().enumerate() {
        if n.starts_with(prefix) {
            cx.budget.charge_member()?;
            match read_member(archive, i, cx) {
                Ok(bytes) => cx.member(n, &bytes)?,
                Err(e) => cx.unreadable_member(n, Format::sniff(n, &[]), e),
            }
        }
    }
    Ok(())
}

/// What a zip holds, judged by its member names (and an OpenDocument
/// package's `mimetype` member): an OOXML or OpenDocument file without its
/// usual extension is still read as what it is.
pub fn content_format(archive: &mut zip::ZipArchive<Cursor<&[u8]>>) -> Format {
    let has = |n: &str| archive.index_for_name(n).is_some();
    if has("word/document.xml") {
        Format::Docx
    } else if has("xl/workbook.xml") || has("xl/workbook.bin") {
        if has("xl/workbook.bin") {
            Format::Xlsb
        } else {
            Format::Xlsx
        }
    } else if has("ppt/presentation.xml") {
        Format::Pptx
    } else if has("content.xml") && has("META-INF/manifest.xml") {
        let mut mimetype = Vec::new();
        if let Ok(m) = archive.by_name("mimetype") {
            let _ = m.take(100).read_to_end(&mut mimetype);
        }
        let kind = mimetype
            .strip_prefix(b"application/vnd.oasis.opendocument.")
            .unwrap_or(b"");
        if kind.starts_with(b"text") {
            Format::Odt
        } else if kind.starts_with(b"presentation") || kind.starts_with(b"graphics") {
            Format::Odp
        } else {
            Format::Ods
        }
    } else {
        Format::Zip
    }
}

impl Extractor for ZipArchive {
    fn formats(&self) -> &'static [Format] {
        &[Format::Zip]
    }

    fn extract(
        &self,
        name: &str,
        _format: Format,
        data: &[u8],
        cx: &mut ExtractContext<'_>,
    ) -> Result<(), ExtractError> {
        let mut archive = open(data)?;
        let inner = content_format(&mut archive);
        if inner != Format::Zip {
            // An office document under another name: read it as such.
            return cx.dispatcher.extract_as(inner, name, data, cx);
        }
        let names = member_names(&mut archive);
        for (i, member) in names.iter().enumerate() {
            cx.budget.check_time()?;
            let (is_dir, encrypted) = {
                let raw = archive.by_index_raw(i).map_err(|e| {
                    ExtractError::new(UnreadableReason::Corrupt, format!("zip: {e}"))
                })?;
                (raw.is_dir(), raw.encrypted())
            };
            if is_dir {
                continue;
            }
            cx.budget.charge_member()?;
            if encrypted {
                cx.unreadable_member(
                    member,
                    Format::sniff(member, &[]),
                    ExtractError::new(UnreadableReason::Encrypted, "password-protected zip member"),
                );
                continue;
            }
            let read = read_member(&mut archive, i, cx);
            member_done(cx, member, read)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn member_names_decoded_by_detection_over_the_archive() {
        let enc = |e: &'static encoding_rs::Encoding, names: &[&str]| -> Vec<Vec<u8>> {
            names.iter().map(|n| e.encode(n).0.into_owned()).collect()
        };
        // CP932, with 表 (0x95 0x5C: a backslash as trail byte).
        let names = ["住民名簿.csv", "表.txt", "docs/a.xlsx"];
        assert_eq!(decode_names(&enc(SHIFT_JIS, &names)), names);
        // One short name is ambiguous: CP932.
        assert_eq!(decode_names(&enc(SHIFT_JIS, &["表.txt"])), ["表.txt"]);
        for (e, names) in [
            (encoding_rs::GBK, ["学生名单.xlsx", "报告/会议记录.docx"]),
            (encoding_rs::BIG5, ["學生名單.xlsx", "報告/會議記錄.docx"]),
            (encoding_rs::EUC_KR, ["학생명단.xlsx", "보고서/회의록.docx"]),
        ] {
            assert_eq!(decode_names(&enc(e, &names)), names, "{}", e.name());
        }
        // UTF-8 names stay; a CP437 name gets no replacement character.
        let mixed = vec!["名簿.csv".as_bytes().to_vec(), b"caf\x82.txt".to_vec()];
        let out = decode_names(&mixed);
        assert_eq!(out[0], "名簿.csv");
        assert!(!out[1].contains('\u{FFFD}'), "{}", out[1]);
    }
}
