//! zip archives: every member goes back through the dispatcher (nested zips,
//! documents inside), under the file's shared budget. Member names stored
//! in CP932 without the UTF-8 flag (Windows Explorer) are decoded as CP932.
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
const MAX_RATIO: u64 = 1000;

/// Reads zip archives.
pub struct ZipArchive;

/// Opens a zip archive held in memory.
pub fn open(data: &[u8]) -> Result<zip::ZipArchive<Cursor<&[u8]>>, ExtractError> {
    zip::ZipArchive::new(Cursor::new(data))
        .map_err(|e| ExtractError::new(UnreadableReason::Corrupt, format!("zip: {e}")))
}

/// A member's name: UTF-8 when it is valid UTF-8 (flag set or not), else CP932.
pub fn member_name(raw: &[u8]) -> String {
    match std::str::from_utf8(raw) {
        Ok(s) => s.to_string(),
        Err(_) => SHIFT_JIS.decode(raw).0.into_owned(),
    }
}

/// Reads member `index`, charging the budget for what is actually inflated.
pub fn read_member(
    archive: &mut zip::ZipArchive<Cursor<&[u8]>>,
    index: usize,
    cx: &mut ExtractContext<'_>,
) -> Result<Vec<u8>, ExtractError> {
    let limit = cx.budget.bytes_left();
    let mut entry = archive.by_index(index).map_err(|e| match e {
        zip::result::ZipError::UnsupportedArchive(m) if m.contains("assword") => {
            ExtractError::new(UnreadableReason::Encrypted, "password-protected member")
        }
        other => ExtractError::new(UnreadableReason::Corrupt, format!("zip member: {other}")),
    })?;
    let declared = entry.size();
    let compressed = entry.compressed_size().max(1);
    if declared > 1024 * 1024 && declared / compressed > MAX_RATIO {
        return Err(ExtractError::new(
            UnreadableReason::TooLarge,
            format!("member inflates {}x (zip bomb?)", declared / compressed),
        ));
    }
    let mut buf = Vec::with_capacity(declared.min(limit).min(64 * 1024 * 1024) as usize);
    (&mut entry)
        .take(limit.saturating_add(1))
        .read_to_end(&mut buf)
        .map_err(|e| ExtractError::new(UnreadableReason::Corrupt, format!("zip member: {e}")))?;
    cx.budget.charge_bytes(buf.len() as u64)?;
    Ok(buf)
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

/// The names of all members, in archive order (CP932 names decoded).
pub fn member_names(archive: &mut zip::ZipArchive<Cursor<&[u8]>>) -> Vec<String> {
    (0..archive.len())
        .filter_map(|i| {
            archive
                .by_index_raw(i)
                .ok()
                .map(|f| member_name(f.name_raw()))
        })
        .collect()
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
        for i in 0..archive.len() {
            cx.budget.check_time()?;
            let (member, is_dir, encrypted) = {
                let raw = archive.by_index_raw(i).map_err(|e| {
                    ExtractError::new(UnreadableReason::Corrupt, format!("zip: {e}"))
                })?;
                (member_name(raw.name_raw()), raw.is_dir(), raw.encrypted())
            };
            if is_dir {
                continue;
            }
            cx.budget.charge_member()?;
            let format = Format::sniff(&member, &[]);
            if encrypted {
                cx.unreadable_member(
                    &member,
                    format,
                    ExtractError::new(UnreadableReason::Encrypted, "password-protected zip member"),
                );
                continue;
            }
            match read_member(&mut archive, i, cx) {
                Ok(bytes) => cx.member(&member, &bytes)?,
                Err(e) if e.reason == UnreadableReason::TooLarge && cx.budget.bytes_left() == 0 => {
                    return Err(e)
                }
                Err(e) => cx.unreadable_member(&member, format, e),
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cp932_member_names() {
        let raw = SHIFT_JIS.encode("住民名簿.csv").0;
        assert_eq!(member_name(&raw), "住民名簿.csv");
        assert_eq!(member_name("docs/a.xlsx".as_bytes()), "docs/a.xlsx");
    }
}
