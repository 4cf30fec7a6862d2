//! Shared helpers for the OLE compound-file formats (legacy Word, PowerPoint
//! and Excel, Outlook `.msg`): bounded stream reads, which application a
//! compound file belongs to (by its root streams, not by names that an
//! embedded object may add to the directory), and the creation date in the
//! `\x05SummaryInformation` property set (parsed by `docmeta`), which
//! records rules need for retention.

use std::io::{Cursor, Read, Seek};
use std::path::Path;

use super::Format;

/// Reads a stream of `cf`, at most `limit` bytes; `None` when it is absent
/// or unreadable.
pub fn read_stream<F: Read + Seek>(
    cf: &mut cfb::CompoundFile<F>,
    path: impl AsRef<Path>,
    limit: u64,
) -> Option<Vec<u8>> {
    let mut s = cf.open_stream(path).ok()?;
    let mut buf = Vec::new();
    (&mut s).take(limit).read_to_end(&mut buf).ok()?;
    Some(buf)
}

/// Whether `data` opens as a compound file: the cfb crate checks the
/// sector tables, which other readers (calamine) follow without bounds.
pub fn check_compound_file(data: &[u8]) -> Result<(), String> {
    cfb::CompoundFile::open(Cursor::new(data))
        .map(|_| ())
        .map_err(|e| e.to_string())
}

/// The application of a compound file, from the streams and storages at
/// its root. `None` when the file does not open as a compound file.
pub fn root_format(data: &[u8]) -> Option<Format> {
    let cf = cfb::CompoundFile::open(Cursor::new(data)).ok()?;
    let names: Vec<String> = cf
        .read_root_storage()
        .map(|e| e.name().to_string())
        .collect();
    let has = |n: &str| names.iter().any(|x| x == n);
    Some(if has("EncryptedPackage") {
        Format::EncryptedOffice
    } else if has("WordDocument") {
        Format::Doc
    } else if has("PowerPoint Document") {
        Format::Ppt
    } else if has("Workbook") || has("Book") {
        Format::Xls
    } else if names.iter().any(|n| n.starts_with("__substg1.0_")) {
        Format::Msg
    } else {
        return None;
    })
}

/// Copies storage `dir` of `cf` into a compound file of its own, as the
/// application would save the embedded document; `None` past `limit`
/// bytes of streams or when a stream cannot be read.
pub fn storage_to_file<F: Read + Seek>(
    cf: &mut cfb::CompoundFile<F>,
    dir: &Path,
    limit: u64,
) -> Option<Vec<u8>> {
    use std::io::Write;
    let entries: Vec<(std::path::PathBuf, bool)> = cf
        .walk_storage(dir)
        .ok()?
        .map(|e| (e.path().to_path_buf(), e.is_stream()))
        .collect();
    let mut out = cfb::CompoundFile::create(Cursor::new(Vec::new())).ok()?;
    let mut left = limit;
    for (path, is_stream) in entries {
        let Ok(rel) = path.strip_prefix(dir) else {
            continue;
        };
        if rel.as_os_str().is_empty() {
            continue;
        }
        let target = Path::new("/").join(rel);
        if is_stream {
            let data = read_stream(cf, &path, left.saturating_add(1))?;
            left = left.checked_sub(data.len() as u64)?;
            out.create_stream(&target).ok()?.write_all(&data).ok()?;
        } else {
            out.create_storage(&target).ok()?;
        }
    }
    out.flush().ok()?;
    Some(out.into_inner().into_inner())
}

/// The file packaged in an `\x01Ole10Native` stream (an object inserted
/// as a file: its label, then its paths, then its bytes), as (name, data).
pub fn ole10_native(stream: &[u8]) -> Option<(String, &[u8])> {
    fn cstr(b: &[u8], at: usize) -> Option<(&[u8], usize)> {
        let rest = b.get(at..)?;
        let end = rest.iter().position(|&c| c == 0)?;
        Some((&rest[..end], at + end + 1))
    }
    // Total size, a 2-byte flag, the label, the source path, 4 bytes, the
    // temporary path with its length, the data with its length.
    let (label, at) = cstr(stream, 6)?;
    let (_source, at) = cstr(stream, at)?;
    let temp_len = usize::try_from(u32_at(stream, at + 4)?).ok()?;
    let at = (at + 8).checked_add(temp_len)?;
    let size = usize::try_from(u32_at(stream, at)?).ok()?;
    let data = stream.get(at + 4..(at + 4).checked_add(size)?)?;
    let (name, _, _) = encoding_rs::SHIFT_JIS.decode(label);
    let name = name.replace(['/', '\\'], "_");
    Some((
        if name.trim().is_empty() {
            "package".into()
        } else {
            name
        },
        data,
    ))
}

fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

/// The creation date recorded in a compound file's SummaryInformation.
pub fn created_date<F: Read + Seek>(cf: &mut cfb::CompoundFile<F>) -> Option<jiff::civil::Date> {
    let stream = read_stream(cf, "/\u{5}SummaryInformation", 1 << 20)?;
    super::docmeta::ole_summary_created(&stream)
}
