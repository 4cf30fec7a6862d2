//! Damaged documents are reported, not skipped: a file whose name says
//! document (`.pdf`, `.docx`, `.xls`, …) but whose bytes are not
//! recognised (a zeroed or overwritten header, a truncated copy) would
//! otherwise count as an unknown binary, and a records officer would
//! believe it was checked. Such a file, and a recognised document that
//! fails to open without yielding any text, is `corrupt`, and what can
//! still be read is read first:
//!
//! - PDF: a header is put back where it was lost, and when the catalog or
//!   page tree is gone (a cut-off copy loses them: writers put them last)
//!   a new catalog over every `/Type /Page` object found by scanning for
//!   `N G obj` is appended; lopdf then rebuilds the cross-reference table
//!   by scanning for objects;
//! - zip-based files (OOXML, OpenDocument, zip): damaged local headers
//!   are rewritten from the central directory (found through the
//!   end-of-central-directory record); without a central directory (a
//!   truncated copy) one is rebuilt from the local headers that are left.
//!
//! The repaired bytes go through the format's own reader, in memory only
//! (scanned files are never modified). The file stays `corrupt`, with a
//! detail saying whether a partial recovery was read.

use regex::bytes::Regex;

use super::{ExtractError, Format, UnreadableReason};

/// The format a file name promises, for the formats whose files are
/// documents (an unknown binary with one of these names is damaged).
pub fn expected_format(name: &str) -> Option<Format> {
    let ext = name.rsplit_once('.')?.1.to_ascii_lowercase();
    Some(match ext.as_str() {
        "pdf" => Format::Pdf,
        "docx" | "docm" | "dotx" => Format::Docx,
        "xlsx" | "xlsm" | "xltx" => Format::Xlsx,
        "xlsb" => Format::Xlsb,
        "pptx" | "pptm" | "ppsx" | "potx" => Format::Pptx,
        "odt" | "ott" => Format::Odt,
        "ods" | "ots" => Format::Ods,
        "odp" | "otp" => Format::Odp,
        "zip" => Format::Zip,
        "doc" | "dot" => Format::Doc,
        "xls" | "xlt" => Format::Xls,
        "ppt" | "pps" => Format::Ppt,
        "msg" => Format::Msg,
        "rtf" => Format::Rtf,
        "jtd" => Format::Jtd,
        "7z" => Format::SevenZ,
        "lzh" | "lha" => Format::Lzh,
        _ => return None,
    })
}

/// Whether this module knows how to repair `format`.
pub fn repairable(format: Format) -> bool {
    is_zip_based(format) || format == Format::Pdf
}

fn is_zip_based(format: Format) -> bool {
    matches!(
        format,
        Format::Docx
            | Format::Xlsx
            | Format::Xlsb
            | Format::Pptx
            | Format::Odt
            | Format::Ods
            | Format::Odp
            | Format::Zip
    )
}

/// The bytes of a damaged `format` file made readable again, if this
/// module knows how (the repaired copy exists in memory only).
pub fn repair(format: Format, data: &[u8]) -> Option<Vec<u8>> {
    if format == Format::Pdf {
        repair_pdf(data)
    } else if is_zip_based(format) {
        repair_zip(data)
    } else {
        None
    }
}

/// The `corrupt` error for a damaged file: what is wrong, and how many
/// units a recovery read (they have been scanned).
pub fn corrupt(what: &str, recovered_units: usize) -> ExtractError {
    let recovery = if recovered_units == 0 {
        "no part could be recovered".to_string()
    } else {
        format!("partial recovery: {recovered_units} text unit(s) read from the intact parts")
    };
    ExtractError::new(UnreadableReason::Corrupt, format!("{what}; {recovery}"))
}

/// Most pages put under a rebuilt catalog.
const MAX_PAGES: usize = 100_000;

fn object_marker() -> Regex {
    // `12 0 obj` at the start of a line (or after whitespace).
    Regex::new(r"(?m)(?:^|[\r\n\t ])([0-9]{1,7})[\t ]+([0-9]{1,5})[\t ]+obj\b")
        .unwrap_or_else(|_| unreachable!("constant regex"))
}

/// A PDF made readable again: a header where it is missing, and a new
/// catalog and trailer over the page objects when the original ones are
/// lost (no `/Root` can be found).
pub fn repair_pdf(data: &[u8]) -> Option<Vec<u8>> {
    let marker = object_marker();
    // Where the first object's number starts.
    let first = marker.captures(data)?.get(1)?;
    let mut out = Vec::with_capacity(data.len() + 256);
    if data.starts_with(b"%PDF-") {
        out.extend_from_slice(data);
    } else {
        // Objects shift; lopdf's rebuilt cross-reference table finds them.
        out.extend_from_slice(b"%PDF-1.7\n");
        out.extend_from_slice(&data[first.start()..]);
    }
    let has_root = Regex::new(r"/Root[\t\r\n ]*[0-9]+[\t\r\n ]+[0-9]+[\t\r\n ]+R")
        .map(|r| r.is_match(data))
        .unwrap_or(false);
    let has_catalog = Regex::new(r"/Type[\t\r\n ]*/Catalog\b")
        .map(|r| r.is_match(data))
        .unwrap_or(false);
    if has_root && has_catalog {
        return Some(out);
    }
    // Find the page objects: `/Type /Page` (not /Pages) near an object header.
    let page_type = Regex::new(r"/Type[\t\r\n ]*/Page\b").ok()?;
    let mut pages = Vec::new();
    let mut max_number = 0u32;
    let markers: Vec<(usize, u32, u32)> = marker
        .captures_iter(&out)
        .filter_map(|c| {
            let m = c.get(0)?;
            let number = std::str::from_utf8(c.get(1)?.as_bytes())
                .ok()?
                .parse()
                .ok()?;
            let generation = std::str::from_utf8(c.get(2)?.as_bytes())
                .ok()?
                .parse()
                .ok()?;
            Some((m.end(), number, generation))
        })
        .collect();
    for (i, &(start, number, generation)) in markers.iter().enumerate() {
        max_number = max_number.max(number);
        let end = markers
            .get(i + 1)
            .map(|m| m.0)
            .unwrap_or(out.len())
            .min(start + 4096);
        let body = out.get(start..end).unwrap_or(&[]);
        // The object's own dictionary, before any stream data.
        let body = match body.windows(6).position(|w| w == b"stream") {
            Some(p) => &body[..p],
            None => body,
        };
        if page_type.is_match(body) && pages.len() < MAX_PAGES {
            pages.push((number, generation));
        }
    }
    if pages.is_empty() {
        return Some(out);
    }
    let pages_id = max_number.checked_add(1)?;
    let catalog_id = pages_id.checked_add(1)?;
    let kids: Vec<String> = pages.iter().map(|(n, g)| format!("{n} {g} R")).collect();
    out.extend_from_slice(
        format!(
            "\n{pages_id} 0 obj\n<< /Type /Pages /Kids [{}] /Count {} >>\nendobj\n\
             {catalog_id} 0 obj\n<< /Type /Catalog /Pages {pages_id} 0 R >>\nendobj\n\
             trailer\n<< /Root {catalog_id} 0 R /Size {} >>\n%%EOF\n",
            kids.join(" "),
            pages.len(),
            catalog_id + 1
        )
        .as_bytes(),
    );
    Some(out)
}

fn u16_at(d: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(d.get(at..at + 2)?.try_into().ok()?))
}

fn u32_at(d: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(d.get(at..at + 4)?.try_into().ok()?))
}

const LOCAL: &[u8; 4] = b"PK\x03\x04";
const CENTRAL: &[u8; 4] = b"PK\x01\x02";
const END: &[u8; 4] = b"PK\x05\x06";

/// A zip made readable again: local headers rewritten from an intact
/// central directory, or a central directory rebuilt from the local
/// headers when it is lost. `None` when neither is there to work from.
pub fn repair_zip(data: &[u8]) -> Option<Vec<u8>> {
    repair_local_headers(data).or_else(|| rebuild_central_directory(data))
}

/// The end-of-central-directory record: (entries, directory offset).
fn find_end_record(data: &[u8]) -> Option<(usize, usize)> {
    let from = data.len().saturating_sub(65_557);
    let tail = &data[from..];
    let pos = tail.windows(4).rposition(|w| w == END)? + from;
    let entries = u16_at(data, pos + 10)? as usize;
    let offset = u32_at(data, pos + 16)? as usize;
    (data.get(offset..offset + 4) == Some(CENTRAL)).then_some((entries, offset))
}

fn repair_local_headers(data: &[u8]) -> Option<Vec<u8>> {
    let (entries, mut at) = find_end_record(data)?;
    let mut out = data.to_vec();
    let mut fixed = 0;
    for _ in 0..entries {
        if data.get(at..at + 4) != Some(CENTRAL) {
            break;
        }
        let name_len = u16_at(data, at + 28)? as usize;
        let extra_len = u16_at(data, at + 30)? as usize;
        let comment_len = u16_at(data, at + 32)? as usize;
        let local = u32_at(data, at + 42)? as usize;
        if local + 30 <= data.len() && data.get(local..local + 4) != Some(LOCAL) {
            // Signature, version, flags, method, time, date, CRC and sizes
            // are the central record's; name and extra lengths are kept
            // when the name is still in place.
            out[local..local + 4].copy_from_slice(LOCAL);
            out[local + 4..local + 26].copy_from_slice(data.get(at + 6..at + 28)?);
            let stored_name_len = u16_at(data, local + 26)? as usize;
            let name_in_place = data.get(local + 30..local + 30 + name_len)
                == data.get(at + 46..at + 46 + name_len);
            if stored_name_len != name_len || !name_in_place {
                out[local + 26..local + 28].copy_from_slice(&(name_len as u16).to_le_bytes());
                out[local + 28..local + 30].copy_from_slice(&0u16.to_le_bytes());
                if let Some(name) = data.get(at + 46..at + 46 + name_len) {
                    if local + 30 + name_len <= out.len() {
                        out[local + 30..local + 30 + name_len].copy_from_slice(name);
                    }
                }
            }
            fixed += 1;
        }
        at += 46 + name_len + extra_len + comment_len;
    }
    (fixed > 0).then_some(out)
}

/// Appends a central directory built from the local headers found by
/// scanning (a truncated copy has its members but not their directory).
fn rebuild_central_directory(data: &[u8]) -> Option<Vec<u8>> {
    let starts: Vec<usize> = data
        .windows(4)
        .enumerate()
        .filter(|(_, w)| *w == LOCAL)
        .map(|(i, _)| i)
        .take(65_535)
        .collect();
    let mut central = Vec::new();
    let mut count = 0u16;
    for (k, &at) in starts.iter().enumerate() {
        let flags = u16_at(data, at + 6)?;
        let method = u16_at(data, at + 8)?;
        let name_len = u16_at(data, at + 26)? as usize;
        let extra_len = u16_at(data, at + 28)? as usize;
        let data_start = at + 30 + name_len + extra_len;
        if data_start > data.len() {
            break;
        }
        let next = starts.get(k + 1).copied().unwrap_or(data.len());
        let mut compressed = u32_at(data, at + 18)? as usize;
        let mut size = u32_at(data, at + 22)?;
        let mut crc = u32_at(data, at + 14)?;
        if flags & 0x08 != 0 && compressed == 0 {
            // Sizes follow the data in a descriptor: the data ends where it starts.
            let region = data.get(data_start..next)?;
            let desc = region.windows(4).rposition(|w| w == b"PK\x07\x08");
            match desc {
                Some(d) if d + 16 <= region.len() => {
                    compressed = d;
                    crc = u32_at(region, d + 4)?;
                    size = u32_at(region, d + 12)?;
                }
                _ => compressed = region.len(),
            }
        }
        // A member cut off by the truncation keeps what is left.
        compressed = compressed.min(data.len() - data_start);
        let mut rec = Vec::with_capacity(46 + name_len);
        rec.extend_from_slice(CENTRAL);
        rec.extend_from_slice(&20u16.to_le_bytes()); // made by
        rec.extend_from_slice(&20u16.to_le_bytes()); // needed
        rec.extend_from_slice(&(flags & !0x08).to_le_bytes());
        rec.extend_from_slice(&method.to_le_bytes());
        rec.extend_from_slice(data.get(at + 10..at + 14)?); // time, date
        rec.extend_from_slice(&crc.to_le_bytes());
        rec.extend_from_slice(&(compressed as u32).to_le_bytes());
        rec.extend_from_slice(&size.to_le_bytes());
        rec.extend_from_slice(&(name_len as u16).to_le_bytes());
        rec.extend_from_slice(&[0; 12]); // extra, comment, disk, attributes
        rec.extend_from_slice(&(at as u32).to_le_bytes());
        rec.extend_from_slice(data.get(at + 30..at + 30 + name_len)?);
        central.extend_from_slice(&rec);
        count += 1;
    }
    if count == 0 {
        return None;
    }
    let mut out = data.to_vec();
    let offset = out.len() as u32;
    out.extend_from_slice(&central);
    out.extend_from_slice(END);
    out.extend_from_slice(&[0; 4]);
    out.extend_from_slice(&count.to_le_bytes());
    out.extend_from_slice(&count.to_le_bytes());
    out.extend_from_slice(&(central.len() as u32).to_le_bytes());
    out.extend_from_slice(&offset.to_le_bytes());
    out.extend_from_slice(&[0; 2]);
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn document_extensions() {
        assert_eq!(expected_format("a/請求書.PDF"), Some(Format::Pdf));
        assert_eq!(expected_format("名簿.xlsx"), Some(Format::Xlsx));
        assert_eq!(expected_format("video.mp4"), None);
        assert_eq!(expected_format("noext"), None);
    }

    #[test]
    fn pdf_without_header_or_catalog_gets_both() {
        let body = b"\0\0\0\0garbage\n3 0 obj\n<< /Type /Page /Contents 4 0 R >>\nendobj\n4 0 obj\n<< /Length 0 >>\nstream\n\nendstream\nendobj\n";
        let fixed = repair_pdf(body).unwrap();
        assert!(fixed.starts_with(b"%PDF-1.7\n3 0 obj"));
        let text = String::from_utf8_lossy(&fixed);
        assert!(
            text.contains("<< /Type /Pages /Kids [3 0 R] /Count 1 >>"),
            "{text}"
        );
        assert!(
            text.contains("trailer\n<< /Root 6 0 R /Size 7 >>"),
            "{text}"
        );
    }
}
