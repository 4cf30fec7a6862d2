//! LHA / LZH archives (`.lzh`, `.lha`), still received in Japanese offices,
//! read with delharc: every member goes back through the dispatcher under
//! the file's budget, as zip members do (`zip.rs`: bytes actually read
//! are charged, a member declaring over 1,000 times its compressed size is
//! refused as a bomb, nesting depth and member count are the file's).
//!
//! Names: UNLHA32's UTF-16 name headers when present; otherwise the raw
//! name bytes of all members are decoded together (CP932 first, see
//! `zip::decode_names`), and only then is `\` turned into `/`, because a
//! CP932 name may hold 0x5C as the trail byte of a kanji (表 = 0x95 0x5C).
//! A member whose CRC does not match is `corrupt`; a member packed with a
//! method delharc cannot decode is `unsupported`. LHA has no encryption.

use std::io::Cursor;

use delharc::header::ext::{EXT_HEADER_FILENAME, EXT_HEADER_PATH};
use delharc::{LhaDecodeReader, LhaHeader};

use super::zip::{decode_names, looks_like_bomb, member_done, read_bounded};
use super::{ExtractContext, ExtractError, Extractor, Format, UnreadableReason};

/// Reads LHA archives.
pub struct Lzh;

/// UNLHA32's extended headers with UTF-16LE names.
const EXT_HEADER_UNICODE_FILENAME: u8 = 0x44;
const EXT_HEADER_UNICODE_PATH: u8 = 0x45;

/// Headers read ahead to decode names together (well over the member limit).
const MAX_HEADERS: usize = 100_000;

fn corrupt(e: impl std::fmt::Display) -> ExtractError {
    ExtractError::new(UnreadableReason::Corrupt, format!("LHA: {e}"))
}

/// A member's name as stored: raw bytes (legacy encoding, `\` not yet
/// split), or a name already decoded from UTF-16.
struct RawName {
    bytes: Vec<u8>,
    unicode: Option<String>,
}

fn utf16le(data: &[u8]) -> String {
    let units: Vec<u16> = data
        .chunks_exact(2)
        .map(|p| u16::from_le_bytes([p[0], p[1]]))
        .take_while(|&u| u != 0)
        .map(|u| if u == 0xFFFF { u16::from(b'/') } else { u })
        .collect();
    String::from_utf16_lossy(&units)
}

fn raw_name(h: &LhaHeader) -> RawName {
    let (mut file, mut dir, mut ufile, mut udir) = (None, None, None, None);
    for ext in h.iter_extra() {
        match ext {
            [EXT_HEADER_FILENAME, data @ ..] => file = Some(data.to_vec()),
            // Directory parts are separated by 0xFF (not a CP932 byte).
            [EXT_HEADER_PATH, data @ ..] => {
                dir = Some(
                    data.iter()
                        .map(|&b| if b == 0xFF { b'/' } else { b })
                        .collect::<Vec<u8>>(),
                )
            }
            [EXT_HEADER_UNICODE_FILENAME, data @ ..] => ufile = Some(utf16le(data)),
            [EXT_HEADER_UNICODE_PATH, data @ ..] => udir = Some(utf16le(data)),
            _ => {}
        }
    }
    let join = |dir: Option<Vec<u8>>, file: Vec<u8>| {
        let mut out = dir.unwrap_or_default();
        if !out.is_empty() && !out.ends_with(b"/") {
            out.push(b'/');
        }
        out.extend_from_slice(&file);
        out
    };
    let stored: Vec<u8> = h.filename.split(|&b| b == 0).next().unwrap_or(&[]).to_vec();
    let bytes = match file {
        Some(f) => join(dir, f.split(|&b| b == 0).next().unwrap_or(&[]).to_vec()),
        None => join(dir, stored),
    };
    let unicode = ufile.map(|f| {
        let d = udir.unwrap_or_default();
        if d.is_empty() {
            f
        } else {
            format!("{}/{f}", d.trim_end_matches('/'))
        }
    });
    RawName { bytes, unicode }
}

/// All members' names, decoded together.
fn names(data: &[u8], cx: &mut ExtractContext<'_>) -> Result<Vec<String>, ExtractError> {
    let mut rd = LhaDecodeReader::new(Cursor::new(data)).map_err(corrupt)?;
    let mut raws = Vec::new();
    loop {
        cx.budget.check_time()?;
        raws.push(raw_name(rd.header()));
        if raws.len() >= MAX_HEADERS {
            break;
        }
        // A broken header ends the list; the second pass reports it.
        match rd.next_file() {
            Ok(true) => {}
            Ok(false) | Err(_) => break,
        }
    }
    let legacy: Vec<Vec<u8>> = raws.iter().map(|r| r.bytes.clone()).collect();
    let decoded = decode_names(&legacy);
    Ok(raws
        .into_iter()
        .zip(decoded)
        .map(|(r, d)| {
            let name = r.unicode.filter(|u| !u.is_empty()).unwrap_or(d);
            let name = name.replace('\\', "/");
            name.trim_start_matches('/').to_string()
        })
        .collect())
}

impl Extractor for Lzh {
    fn formats(&self) -> &'static [Format] {
        &[Format::Lzh]
    }

    fn extract(
        &self,
        _name: &str,
        _format: Format,
        data: &[u8],
        cx: &mut ExtractContext<'_>,
    ) -> Result<(), ExtractError> {
        let names = names(data, cx)?;
        let mut rd = LhaDecodeReader::new(Cursor::new(data)).map_err(corrupt)?;
        for (i, name) in names.iter().enumerate() {
            cx.budget.check_time()?;
            if i > 0 {
                match rd.next_file() {
                    Ok(true) => {}
                    Ok(false) => break,
                    Err(e) => return Err(corrupt(e)),
                }
            }
            let header = rd.header().clone();
            if header.is_directory() {
                continue;
            }
            let name = if name.is_empty() {
                format!("member-{}", i + 1)
            } else {
                name.clone()
            };
            cx.budget.charge_member()?;
            let read = if !rd.is_decoder_supported() {
                let method = String::from_utf8_lossy(&header.compression).into_owned();
                Err(ExtractError::new(
                    UnreadableReason::Unsupported,
                    format!("LHA method {method} is not supported"),
                ))
            } else if looks_like_bomb(header.original_size, header.compressed_size) {
                Err(ExtractError::new(
                    UnreadableReason::TooLarge,
                    format!(
                        "member inflates {}x (bomb?)",
                        header.original_size / header.compressed_size.max(1)
                    ),
                ))
            } else {
                read_bounded(&mut rd, header.original_size, cx).and_then(|bytes| {
                    if rd.crc_is_ok() {
                        Ok(bytes)
                    } else {
                        Err(ExtractError::new(
                            UnreadableReason::Corrupt,
                            "LHA member: CRC mismatch",
                        ))
                    }
                })
            };
            member_done(cx, &name, read)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_from_path_headers_keep_cp932_trail_backslashes() {
        // 表 is 0x95 0x5C in CP932: a backslash as trail byte.
        let raw = encoding_rs::SHIFT_JIS.encode("資料\\表.txt").0.into_owned();
        let decoded = decode_names(&[raw]);
        assert_eq!(decoded[0].replace('\\', "/"), "資料/表.txt");
    }
}
