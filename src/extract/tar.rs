//! tar archives (`.tar`, and the inside of `.tar.gz` / `.tgz`, see
//! `gzip.rs`), read with the tar crate (ustar, GNU long names, PAX): every
//! regular file goes back through the dispatcher under the file's budget,
//! as zip members do (`zip.rs`). tar stores members uncompressed, so what
//! is read is bounded by the archive itself; it is still charged to the
//! budget. Names that are not UTF-8 (a tar made on Japanese Windows) are
//! decoded together by detection, CP932 first (`zip::decode_names`).

use std::io::Cursor;

use super::zip::{decode_names, member_done, read_bounded};
use super::{ExtractContext, ExtractError, Extractor, Format, UnreadableReason};

/// Reads tar archives.
pub struct Tar;

impl Extractor for Tar {
    fn formats(&self) -> &'static [Format] {
        &[Format::Tar]
    }

    fn extract(
        &self,
        _name: &str,
        _format: Format,
        data: &[u8],
        cx: &mut ExtractContext<'_>,
    ) -> Result<(), ExtractError> {
        read_tar(data, cx)
    }
}

fn corrupt(e: impl std::fmt::Display) -> ExtractError {
    ExtractError::new(UnreadableReason::Corrupt, format!("tar: {e}"))
}

/// Raw names of the regular files, in order (first pass: headers only).
fn raw_names(data: &[u8], cx: &mut ExtractContext<'_>) -> Result<Vec<Vec<u8>>, ExtractError> {
    let mut archive = tar::Archive::new(Cursor::new(data));
    let mut out = Vec::new();
    for entry in archive.entries().map_err(corrupt)? {
        cx.budget.check_time()?;
        // A damaged header ends the list; the second pass reports it.
        let Ok(entry) = entry else { break };
        if entry.header().entry_type().is_file() {
            out.push(entry.path_bytes().into_owned());
        }
    }
    Ok(out)
}

/// Reads the tar archive `data` into `cx`: members by their tar paths.
pub fn read_tar(data: &[u8], cx: &mut ExtractContext<'_>) -> Result<(), ExtractError> {
    let names = decode_names(&raw_names(data, cx)?);
    let mut archive = tar::Archive::new(Cursor::new(data));
    let mut files = names.iter();
    for entry in archive.entries().map_err(corrupt)? {
        cx.budget.check_time()?;
        let mut entry = entry.map_err(corrupt)?;
        if !entry.header().entry_type().is_file() {
            continue;
        }
        let Some(name) = files.next() else { break };
        let name = name.trim_start_matches("./").trim_start_matches('/');
        cx.budget.charge_member()?;
        let size = entry.size();
        let read = read_bounded(&mut entry, size, cx);
        member_done(cx, name, read)?;
    }
    Ok(())
}
