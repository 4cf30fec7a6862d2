//! Extraction: file bytes → text units with locations.
//!
//! [`Format::sniff`] recognises a format by content (magic bytes) first and
//! by extension second. The [`Dispatcher`] hands the bytes to the extractor
//! for that format; extractors push [`TextUnit`]s into a [`UnitSink`] (the
//! push model of ripgrep's `Sink`). Containers (zip, mail) will call
//! [`Dispatcher::extract`] again for each member, with a longer
//! [`MemberPath`] and the same [`ScanBudget`], so that limits hold across
//! nesting. A format that is recognised but has no extractor is reported
//! `unreadable` / `unsupported` with its name: a records officer must see
//! what was not checked.

pub mod damaged;
pub mod delimited;
pub mod doc;
pub mod docmeta;
pub mod docx;
pub mod encoding;
pub mod gzip;
pub mod html;
pub mod image;
pub mod lzh;
pub mod mail;
pub mod mht;
pub mod msg;
pub mod ocr;
pub mod odf;
pub mod ole_props;
pub mod pdf;
pub mod plain;
pub mod ppt;
pub mod pptx;
pub mod rtf;
pub mod sevenz;
pub mod spreadsheet;
pub mod table;
pub mod tar;
pub mod tnef;
pub mod word_table;
pub mod xml;
pub mod zip;

use std::time::{Duration, Instant};

use thiserror::Error;

pub use crate::outcome::{DocumentMeta, MemberPath, UnreadableReason};
use crate::text::TextUnit;

/// An extractor's failure: a contract reason plus a short detail that never
/// contains document text.
#[derive(Debug, Clone, Error, PartialEq, Eq)]
#[error("{reason}: {detail}")]
pub struct ExtractError {
    pub reason: UnreadableReason,
    pub detail: String,
}

impl ExtractError {
    pub fn new(reason: UnreadableReason, detail: impl Into<String>) -> Self {
        ExtractError {
            reason,
            detail: detail.into(),
        }
    }
}

/// Recognised formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    Text,
    Csv,
    Tsv,
    Pdf,
    Docx,
    Xlsx,
    Xlsb,
    Pptx,
    Ods,
    Odt,
    Zip,
    /// OLE compound file: legacy .doc / .xls / .ppt / Outlook .msg / 一太郎.
    Doc,
    Xls,
    /// Excel 2.x-4.0 worksheets (BIFF2-4, a bare record stream, not OLE):
    /// calamine does not read them.
    XlsBiff4,
    Ppt,
    Msg,
    Jtd,
    Ole,
    /// An OOXML file encrypted with a password (an OLE container holding
    /// `EncryptedPackage`).
    EncryptedOffice,
    Rtf,
    /// Outlook/Exchange rich-text mail (winmail.dat, application/ms-tnef).
    Tnef,
    Eml,
    Mbox,
    Image(&'static str),
    /// Not text and not a known format (executables, media, …).
    Binary,
    /// OpenDocument presentation (`.odp`; drawings `.odg` are read the same way).
    Odp,
    /// Flat (single-XML) OpenDocument: `.fodt`, `.fodp`, `.fods`.
    Fodt,
    Html,
    /// A saved web page: MIME `multipart/related` (`.mht`, `.mhtml`).
    Mht,
    /// LHA / LZH archive.
    Lzh,
    SevenZ,
    Tar,
    Gzip,
    /// A format recognised by its magic bytes or extension that this
    /// version does not read (一太郎 `.jaw`, OASYS, CAD, RAR, …): its name.
    NotRead(&'static str),
}

/// Formats recognised but not read, by extension: (extensions, name). The
/// name is what a records officer sees in the report.
const NOT_READ_BY_EXTENSION: &[(&[&str], &str)] = &[
    (
        &["jaw", "jbw", "jfw", "jvw", "juw", "jsw"],
        "jaw (一太郎 old)",
    ),
    (&["oas", "oa2", "oa3", "oak"], "oas (OASYS)"),
    (&["dwg"], "dwg (AutoCAD)"),
    (&["jww", "jwc"], "jww (Jw_cad)"),
    (&["sfc", "sfz", "p21"], "sfc (SXF CAD)"),
    (&["xdw", "xbd"], "xdw (DocuWorks)"),
    (&["rar"], "rar"),
    (&["xz", "txz"], "xz"),
    (&["bz2", "tbz", "tbz2"], "bzip2"),
    (&["cab"], "cab"),
    (&["wpd"], "wpd (WordPerfect)"),
    (&["hwp"], "hwp (Hangul)"),
    (&["pages", "numbers", "key"], "iwork (Apple)"),
];

/// Formats recognised but not read, by magic bytes at offset 0.
const NOT_READ_BY_MAGIC: &[(&[u8], &str)] = &[
    (b"AC10", "dwg (AutoCAD)"),
    (b"JwwData.", "jww (Jw_cad)"),
    (b"Rar!\x1a\x07", "rar"),
    (b"\xFD7zXZ\x00", "xz"),
    (b"BZh", "bzip2"),
    (b"MSCF\0\0\0\0", "cab"),
    (b"\xFFWPC", "wpd (WordPerfect)"),
];

impl Format {
    /// The format's name as shown to users.
    pub fn name(self) -> &'static str {
        match self {
            Format::Text => "text",
            Format::Csv => "csv",
            Format::Tsv => "tsv",
            Format::Pdf => "pdf",
            Format::Docx => "docx",
            Format::Xlsx => "xlsx",
            Format::Xlsb => "xlsb",
            Format::Pptx => "pptx",
            Format::Ods => "ods",
            Format::Odt => "odt",
            Format::Zip => "zip",
            Format::Doc => "doc (Word 97-2003)",
            Format::Xls => "xls (Excel 97-2003)",
            Format::XlsBiff4 => "xls (Excel 2.x-4.0)",
            Format::Ppt => "ppt (PowerPoint 97-2003)",
            Format::Msg => "msg (Outlook)",
            Format::Jtd => "jtd (一太郎)",
            Format::Ole => "ole (compound file)",
            Format::EncryptedOffice => "encrypted office document",
            Format::Rtf => "rtf",
            Format::Tnef => "tnef (winmail.dat)",
            Format::Eml => "eml",
            Format::Mbox => "mbox",
            Format::Image(n) => n,
            Format::Binary => "binary",
            Format::Odp => "odp",
            Format::Fodt => "fodt",
            Format::Html => "html",
            Format::Mht => "mht",
            Format::Lzh => "lzh",
            Format::SevenZ => "7z",
            Format::Tar => "tar",
            Format::Gzip => "gzip",
            Format::NotRead(n) => n,
        }
    }

    /// Recognises a format from the first bytes and the file name.
    pub fn sniff(name: &str, head: &[u8]) -> Format {
        let ext = name
            .rsplit_once('.')
            .map(|(_, e)| e.to_ascii_lowercase())
            .unwrap_or_default();
        let ext = ext.as_str();
        if head.starts_with(b"%PDF-")
            || (head.len() > 5
                && head[..head.len().min(1024)]
                    .windows(5)
                    .any(|w| w == b"%PDF-"))
        {
            return Format::Pdf;
        }
        if head.starts_with(b"PK\x03\x04") || head.starts_with(b"PK\x05\x06") {
            if head.len() > 38 && &head[30..38] == b"mimetype" {
                let rest = &head[38..head.len().min(120)];
                if rest.starts_with(b"application/vnd.oasis.opendocument.spreadsheet") {
                    return Format::Ods;
                }
                if rest.starts_with(b"application/vnd.oasis.opendocument.text") {
                    return Format::Odt;
                }
                if rest.starts_with(b"application/vnd.oasis.opendocument.presentation")
                    || rest.starts_with(b"application/vnd.oasis.opendocument.graphics")
                {
                    return Format::Odp;
                }
            }
            return match ext {
                "docx" | "docm" | "dotx" | "dotm" => Format::Docx,
                "xlsx" | "xlsm" | "xltx" | "xltm" => Format::Xlsx,
                "xlsb" => Format::Xlsb,
                "pptx" | "pptm" | "potx" | "ppsx" => Format::Pptx,
                "ods" => Format::Ods,
                "odt" | "ott" => Format::Odt,
                "odp" | "otp" | "odg" => Format::Odp,
                _ => Format::Zip,
            };
        }
        if head.starts_with(&[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1]) {
            const MARK: &[u8] = b"E\0n\0c\0r\0y\0p\0t\0e\0d\0P\0a\0c\0k\0a\0g\0e\0";
            if head.windows(MARK.len()).any(|w| w == MARK) {
                return Format::EncryptedOffice;
            }
            let has = |name: &str| {
                let utf16: Vec<u8> = name.bytes().flat_map(|b| [b, 0]).collect();
                head.windows(utf16.len()).any(|w| w == utf16.as_slice())
            };
            // Stream names in the directory sectors tell the application.
            if has("Workbook") || has("Book") && ext == "xls" {
                return Format::Xls;
            }
            if has("WordDocument") {
                return Format::Doc;
            }
            if has("PowerPoint Document") {
                return Format::Ppt;
            }
            if has("__substg1.0_") {
                return Format::Msg;
            }
            return match ext {
                "doc" | "dot" => Format::Doc,
                "xls" | "xlt" => Format::Xls,
                "ppt" | "pps" | "pot" => Format::Ppt,
                "msg" => Format::Msg,
                "jtd" | "jtdc" | "jtt" => Format::Jtd,
                // Encrypted OOXML is an OLE container too.
                "docx" | "xlsx" | "pptx" | "xlsm" | "docm" => Format::Ole,
                _ => Format::Ole,
            };
        }
        if head.starts_with(b"\x89PNG\r\n\x1a\n") {
            return Format::Image("png");
        }
        if head.starts_with(&[0xFF, 0xD8, 0xFF]) {
            return Format::Image("jpeg");
        }
        if head.starts_with(b"GIF87a") || head.starts_with(b"GIF89a") {
            return Format::Image("gif");
        }
        if head.starts_with(b"II*\0") || head.starts_with(b"MM\0*") {
            return Format::Image("tiff");
        }
        if head.starts_with(b"BM") && matches!(ext, "bmp" | "dib") {
            return Format::Image("bmp");
        }
        if head.starts_with(b"{\\rtf") {
            return Format::Rtf;
        }
        if head.starts_with(&tnef::SIGNATURE) {
            return Format::Tnef;
        }
        // A BIFF2/3/4 BOF record (0x0009, 0x0209, 0x0409) opens an Excel
        // 2.x-4.0 file.
        if matches!(ext, "xls" | "xlw")
            && head.len() >= 4
            && head[0] == 0x09
            && matches!(head[1], 0x00 | 0x02 | 0x04)
            && matches!(head[2], 4 | 6 | 8)
            && head[3] == 0
        {
            return Format::XlsBiff4;
        }
        if let Some(f) = sniff_archive(ext, head) {
            return f;
        }
        if matches!(ext, "jtd" | "jtdc") {
            return Format::Jtd;
        }
        if let Some(f) = sniff_not_read(ext, head) {
            return f;
        }
        if matches!(ext, "mht" | "mhtml") || saved_web_page(head) {
            return Format::Mht;
        }
        // Mail before the binary check: a MIME part may be raw UTF-16 (NULs).
        if ext == "eml"
            || ext == "msg" && !head.starts_with(&[0xD0, 0xCF])
            || looks_like_mail_headers(head)
        {
            return Format::Eml;
        }
        if !encoding::looks_like_text(head) {
            return Format::Binary;
        }
        if let Some(f) = sniff_markup(ext, head) {
            return f;
        }
        if head.starts_with(b"From ") && ext != "csv" && ext != "txt" {
            return Format::Mbox;
        }
        if ext == "eml" || looks_like_mail_headers(head) {
            return Format::Eml;
        }
        match ext {
            "csv" => Format::Csv,
            "tsv" | "tab" => Format::Tsv,
            "mbox" | "mbx" => Format::Mbox,
            _ => Format::Text,
        }
    }
}

/// The `&'static` name of a format, from its printed name (used when an
/// outcome crosses a process boundary).
pub fn format_name_static(name: &str) -> Option<&'static str> {
    const ALL: &[Format] = &[
        Format::Text,
        Format::Csv,
        Format::Tsv,
        Format::Pdf,
        Format::Docx,
        Format::Xlsx,
        Format::Xlsb,
        Format::Pptx,
        Format::Ods,
        Format::Odt,
        Format::Zip,
        Format::Doc,
        Format::Xls,
        Format::XlsBiff4,
        Format::Ppt,
        Format::Msg,
        Format::Jtd,
        Format::Ole,
        Format::EncryptedOffice,
        Format::Rtf,
        Format::Tnef,
        Format::Eml,
        Format::Mbox,
        Format::Image("png"),
        Format::Image("jpeg"),
        Format::Image("gif"),
        Format::Image("tiff"),
        Format::Image("bmp"),
        Format::Binary,
        Format::Odp,
        Format::Fodt,
        Format::Html,
        Format::Mht,
        Format::Lzh,
        Format::SevenZ,
        Format::Tar,
        Format::Gzip,
    ];
    ALL.iter()
        .map(|f| f.name())
        .chain(NOT_READ_BY_EXTENSION.iter().map(|(_, n)| *n))
        .chain(NOT_READ_BY_MAGIC.iter().map(|(_, n)| *n))
        .find(|n| *n == name)
}

/// 7z, LHA, gzip and tar by their magic bytes (a tar without the ustar
/// magic by its extension and a valid header checksum).
fn sniff_archive(ext: &str, head: &[u8]) -> Option<Format> {
    if head.starts_with(b"7z\xBC\xAF\x27\x1C") {
        return Some(Format::SevenZ);
    }
    // LHA level 0-3 headers carry the method id at offset 2: `-lh5-`.
    if let Some(m) = head.get(2..7) {
        let known = m[0] == b'-'
            && m[4] == b'-'
            && matches!(&m[1..3], b"lh" | b"lz" | b"pm")
            && m[3].is_ascii_alphanumeric();
        if known {
            return Some(Format::Lzh);
        }
    }
    if head.starts_with(&[0x1F, 0x8B]) {
        return Some(Format::Gzip);
    }
    if head.get(257..262) == Some(b"ustar") {
        return Some(Format::Tar);
    }
    if ext == "tar" && tar_checksum_ok(head) {
        return Some(Format::Tar);
    }
    None
}

/// Whether the first 512 bytes are a tar header with a valid checksum.
fn tar_checksum_ok(head: &[u8]) -> bool {
    let Some(block) = head.get(..512) else {
        return false;
    };
    let stored = std::str::from_utf8(&block[148..156])
        .ok()
        .map(|s| s.trim_matches(|c: char| c == '\0' || c == ' '))
        .and_then(|s| u32::from_str_radix(s, 8).ok());
    let sum: u32 = block
        .iter()
        .enumerate()
        .map(|(i, &b)| {
            if (148..156).contains(&i) {
                32
            } else {
                b as u32
            }
        })
        .sum();
    stored == Some(sum) && block[0] != 0
}

/// Formats recognised and named but not read: by magic first, then extension.
fn sniff_not_read(ext: &str, head: &[u8]) -> Option<Format> {
    // Magic alone only for binary heads: a text file may start with `BZh`.
    if !encoding::looks_like_text(head) {
        if let Some((_, n)) = NOT_READ_BY_MAGIC.iter().find(|(m, _)| head.starts_with(m)) {
            return Some(Format::NotRead(n));
        }
    }
    NOT_READ_BY_EXTENSION
        .iter()
        .find(|(exts, _)| exts.contains(&ext))
        .map(|(_, n)| Format::NotRead(n))
}

/// A web page saved as MIME (`From: <Saved by …>`, Chrome's
/// `Snapshot-Content-Location`): not a mail.
fn saved_web_page(head: &[u8]) -> bool {
    let start = &head[..head.len().min(2048)];
    start.starts_with(b"From: <Saved by ")
        || start
            .windows(26)
            .any(|w| w.eq_ignore_ascii_case(b"Snapshot-Content-Location:"))
}

/// HTML and flat OpenDocument XML by their first markup (UTF-16 included).
fn sniff_markup(ext: &str, head: &[u8]) -> Option<Format> {
    let sample = &head[..head.len().min(2048)];
    // UTF-16: keep the low (ASCII) bytes so that the markup can be seen.
    let ascii: Vec<u8> = match encoding::utf16_kind(sample) {
        Some(le) => sample
            .strip_prefix(if le { &[0xFF, 0xFE] } else { &[0xFE, 0xFF] })
            .unwrap_or(sample)
            .chunks_exact(2)
            .map(|p| if le { p[0] } else { p[1] })
            .filter(|&b| b != 0)
            .collect(),
        None => sample.to_vec(),
    };
    let lower = ascii.to_ascii_lowercase();
    let body = lower
        .strip_prefix(b"\xEF\xBB\xBF")
        .unwrap_or(&lower)
        .trim_ascii_start();
    let has = |needle: &[u8]| lower.windows(needle.len()).any(|w| w == needle);
    if body.starts_with(b"<?xml") || body.starts_with(b"<office:document") {
        if has(b"<office:document") && has(b"opendocument.") {
            return Some(Format::Fodt);
        }
        if has(b"<html") {
            return Some(Format::Html);
        }
        return match ext {
            "fodt" | "fodp" | "fods" | "fodg" => Some(Format::Fodt),
            "html" | "htm" | "xhtml" | "xht" | "shtml" => Some(Format::Html),
            _ => None,
        };
    }
    let markup = body.starts_with(b"<!doctype html")
        || body.starts_with(b"<html")
        || (body.starts_with(b"<")
            && (has(b"<html") || has(b"<body") || has(b"<head>") || has(b"<head ")));
    if markup || matches!(ext, "html" | "htm" | "xhtml" | "xht" | "shtml") {
        return Some(Format::Html);
    }
    None
}

fn looks_like_mail_headers(head: &[u8]) -> bool {
    let start = &head[..head.len().min(2048)];
    let known = [
        &b"Received:"[..],
        b"Return-Path:",
        b"MIME-Version:",
        b"Message-ID:",
        b"Delivered-To:",
        b"X-Mailer:",
        b"DKIM-Signature:",
        b"Authentication-Results:",
    ];
    // Content-Type with a MIME boundary or charset also makes a message.
    let content_type = start.starts_with(b"Content-Type:")
        && start
            .windows(9)
            .any(|w| w.eq_ignore_ascii_case(b"boundary=") || w.eq_ignore_ascii_case(b"\nSubject:"));
    content_type
        || known
            .iter()
            .any(|k| start.len() >= k.len() && start[..k.len()].eq_ignore_ascii_case(k))
        || (start.starts_with(b"From:")
            && start
                .windows(9)
                .any(|w| w.eq_ignore_ascii_case(b"\nSubject:")))
}

/// Limits for one file, including everything nested in it (ClamAV's
/// cumulative scan budget).
#[derive(Debug, Clone)]
pub struct Limits {
    /// Files larger than this are not read: `too_large`.
    pub max_file_size: u64,
    /// Wall-clock time for one file, checked between units: `timeout`.
    pub timeout: Duration,
    /// Container nesting depth (zip in zip in mail …).
    pub max_depth: usize,
    /// Total bytes extracted from one file's members (declared sizes lie:
    /// extractors charge what they actually read).
    pub max_total_bytes: u64,
    /// Members of all containers of one file.
    pub max_members: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_file_size: 256 * 1024 * 1024,
            timeout: Duration::from_secs(120),
            max_depth: 8,
            max_total_bytes: 1024 * 1024 * 1024,
            max_members: 10_000,
        }
    }
}

/// What is left of one file's limits while it is being extracted.
#[derive(Debug, Clone)]
pub struct ScanBudget {
    deadline: Instant,
    bytes_left: u64,
    members_left: u32,
    max_depth: usize,
}

impl ScanBudget {
    pub fn new(limits: &Limits) -> Self {
        ScanBudget {
            deadline: Instant::now() + limits.timeout,
            bytes_left: limits.max_total_bytes,
            members_left: limits.max_members,
            max_depth: limits.max_depth,
        }
    }

    /// Charges bytes actually read; `too_large` when the file's total runs out.
    pub fn charge_bytes(&mut self, bytes: u64) -> Result<(), ExtractError> {
        if bytes > self.bytes_left {
            self.bytes_left = 0;
            return Err(ExtractError::new(
                UnreadableReason::TooLarge,
                "extracted data exceeds the per-file limit",
            ));
        }
        self.bytes_left -= bytes;
        Ok(())
    }

    /// Charges one container member; `too_large` past the member limit.
    pub fn charge_member(&mut self) -> Result<(), ExtractError> {
        if self.members_left == 0 {
            return Err(ExtractError::new(
                UnreadableReason::TooLarge,
                "too many members",
            ));
        }
        self.members_left -= 1;
        Ok(())
    }

    /// `timeout` once the file's deadline has passed.
    pub fn check_time(&self) -> Result<(), ExtractError> {
        if Instant::now() > self.deadline {
            Err(ExtractError::new(
                UnreadableReason::Timeout,
                "time limit for one file reached",
            ))
        } else {
            Ok(())
        }
    }

    /// Bytes that may still be extracted from this file.
    pub fn bytes_left(&self) -> u64 {
        self.bytes_left
    }

    /// When this file's time runs out.
    pub fn deadline(&self) -> Instant {
        self.deadline
    }

    /// `too_large` when nesting is deeper than allowed.
    pub fn check_depth(&self, member: &MemberPath) -> Result<(), ExtractError> {
        if member.depth() > self.max_depth {
            Err(ExtractError::new(
                UnreadableReason::TooLarge,
                "containers nested too deeply",
            ))
        } else {
            Ok(())
        }
    }
}

/// Receives what extractors produce (push model).
pub trait UnitSink {
    /// A unit of text found in `member`. Returning an error stops the
    /// extraction of the whole file (e.g. the deadline passed).
    fn unit(&mut self, member: &MemberPath, unit: TextUnit<'_>) -> Result<(), ExtractError>;
    /// A member that could not be read; extraction of the rest goes on.
    fn unreadable(&mut self, member: &MemberPath, format: Format, error: ExtractError);
    /// A mail message at `member` and its addressing (by domain).
    fn mail(&mut self, _member: &MemberPath, _meta: mail::MailMeta) {}
    /// Whether `domain` is one of the office's own mail domains.
    fn internal_domain(&self, _domain: &str) -> bool {
        false
    }
    /// Whether the office's own mail domains are known at all (else no
    /// mail party can be told from staff).
    fn internal_domains_known(&self) -> bool {
        false
    }
    /// A large container finished one self-contained part (an mbox
    /// message): what was pushed so far may be passed on.
    fn part_done(&mut self) {}
    /// What the document at `member` says about itself (its creation date,
    /// for retention). Extractors call it when the format records it.
    fn metadata(&mut self, _member: &MemberPath, _meta: DocumentMeta) {}
    /// The detectors' label words, for choosing the header row of a table
    /// (see `table.rs`); without them headers are chosen by shape alone.
    fn vocabulary(&self) -> Option<std::sync::Arc<crate::vocabulary::Vocabulary>> {
        None
    }
}

/// Everything an extractor needs besides the bytes.
pub struct ExtractContext<'a> {
    pub member: MemberPath,
    pub budget: &'a mut ScanBudget,
    pub units: &'a mut dyn UnitSink,
    pub dispatcher: &'a Dispatcher,
}

impl ExtractContext<'_> {
    /// Extracts a member of a container (an attachment, a zip entry, an
    /// embedded document) through the dispatcher, with the same budget. A
    /// member that cannot be read is reported and the container goes on;
    /// only a spent budget (time, bytes, members) stops the whole file.
    pub fn member(&mut self, name: &str, data: &[u8]) -> Result<(), ExtractError> {
        let path = self.member.child(name);
        let file_name = name.rsplit('/').next().unwrap_or(name);
        match self
            .dispatcher
            .extract(file_name, data, path.clone(), self.budget, self.units)
        {
            Ok(_) => Ok(()),
            Err((_, e)) if e.reason == UnreadableReason::Timeout => Err(e),
            Err((_, e))
                if e.reason == UnreadableReason::TooLarge && self.budget.bytes_left() == 0 =>
            {
                Err(e)
            }
            Err((format, e)) => {
                self.units.unreadable(&path, format, e);
                Ok(())
            }
        }
    }

    /// Reports a member that cannot be read (e.g. an encrypted zip entry).
    pub fn unreadable_member(&mut self, name: &str, format: Format, error: ExtractError) {
        let path = self.member.child(name);
        self.units.unreadable(&path, format, error);
    }

    /// Reports what this file or member records about itself.
    pub fn metadata(&mut self, meta: DocumentMeta) {
        self.units.metadata(&self.member, meta);
    }

    /// The detectors' label words (see [`UnitSink::vocabulary`]).
    pub fn vocabulary(&self) -> Option<std::sync::Arc<crate::vocabulary::Vocabulary>> {
        self.units.vocabulary()
    }

    /// Pushes a unit of this file or member.
    pub fn unit(&mut self, unit: TextUnit<'_>) -> Result<(), ExtractError> {
        self.budget.check_time()?;
        self.units.unit(&self.member, unit)
    }
}

/// One format's extractor.
pub trait Extractor: Send + Sync {
    /// The formats this extractor reads.
    fn formats(&self) -> &'static [Format];
    /// Extracts `data` (named `name`, format `format`) into `cx.units`.
    fn extract(
        &self,
        name: &str,
        format: Format,
        data: &[u8],
        cx: &mut ExtractContext<'_>,
    ) -> Result<(), ExtractError>;
}

/// Chooses the extractor for each file or member.
pub struct Dispatcher {
    extractors: Vec<Box<dyn Extractor>>,
}

impl Default for Dispatcher {
    fn default() -> Self {
        Dispatcher {
            extractors: vec![
                Box::new(plain::PlainText),
                Box::new(delimited::Delimited),
                Box::new(zip::ZipArchive),
                Box::new(docx::Docx),
                Box::new(pdf::Pdf),
                Box::new(spreadsheet::Spreadsheet),
                Box::new(pptx::Pptx),
                Box::new(image::Image),
                Box::new(mail::Mail),
                Box::new(msg::Msg),
                Box::new(doc::Doc),
                Box::new(ppt::Ppt),
                Box::new(rtf::Rtf),
                Box::new(tnef::Tnef),
                Box::new(odf::Odf),
                Box::new(html::Html),
                Box::new(mht::Mht),
                Box::new(lzh::Lzh),
                Box::new(sevenz::SevenZ),
                Box::new(tar::Tar),
                Box::new(gzip::Gzip),
            ],
        }
    }
}

/// Passes everything on to `inner`, counting the units (to know whether
/// a failed extraction yielded anything).
struct CountingSink<'a> {
    inner: &'a mut dyn UnitSink,
    units: usize,
}

impl UnitSink for CountingSink<'_> {
    fn unit(&mut self, member: &MemberPath, unit: TextUnit<'_>) -> Result<(), ExtractError> {
        self.units += 1;
        self.inner.unit(member, unit)
    }
    fn unreadable(&mut self, member: &MemberPath, format: Format, error: ExtractError) {
        self.inner.unreadable(member, format, error)
    }
    fn mail(&mut self, member: &MemberPath, meta: mail::MailMeta) {
        self.inner.mail(member, meta)
    }
    fn internal_domain(&self, domain: &str) -> bool {
        self.inner.internal_domain(domain)
    }
    fn part_done(&mut self) {
        self.inner.part_done()
    }
    fn metadata(&mut self, member: &MemberPath, meta: DocumentMeta) {
        self.inner.metadata(member, meta)
    }
    // Every method with a default must be passed on too, or a document
    // inside a container loses what the outer sink knows.
    fn vocabulary(&self) -> Option<std::sync::Arc<crate::vocabulary::Vocabulary>> {
        self.inner.vocabulary()
    }
    fn internal_domains_known(&self) -> bool {
        self.inner.internal_domains_known()
    }
}

/// What a dispatch did with the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dispatched {
    Extracted(Format),
    /// Not a document (unknown binary): nothing to scan.
    Skipped,
}

impl Dispatcher {
    /// Extracts `data` as `format` (already recognised, e.g. by a container
    /// looking inside a zip), within the caller's context.
    pub fn extract_as(
        &self,
        format: Format,
        name: &str,
        data: &[u8],
        cx: &mut ExtractContext<'_>,
    ) -> Result<(), ExtractError> {
        match self
            .extractors
            .iter()
            .find(|e| e.formats().contains(&format))
        {
            Some(e) => e.extract(name, format, data, cx),
            None => Err(ExtractError::new(
                UnreadableReason::Unsupported,
                format!(
                    "{} files are recognised but not read by this version",
                    format.name()
                ),
            )),
        }
    }

    /// Sniffs `data` and extracts it. Failures of the file or member itself
    /// are returned; a member's own failure inside a container is reported
    /// to `units.unreadable` by the container.
    pub fn extract(
        &self,
        name: &str,
        data: &[u8],
        member: MemberPath,
        budget: &mut ScanBudget,
        units: &mut dyn UnitSink,
    ) -> Result<Dispatched, (Format, ExtractError)> {
        // Sniffing needs the head only (the names in a compound file's
        // directory are checked against its root below): scanning a large
        // file for each stream name costs time for nothing.
        let mut format = Format::sniff(name, &data[..data.len().min(64 * 1024)]);
        if format == Format::Binary {
            // A name that promises a document over bytes that are none:
            // damaged, and reported so (see damaged.rs).
            let Some(expected) = damaged::expected_format(name) else {
                return Ok(Dispatched::Skipped);
            };
            budget.check_depth(&member).map_err(|e| (expected, e))?;
            let mut counting = CountingSink {
                inner: units,
                units: 0,
            };
            if let Some(fixed) = damaged::repair(expected, data) {
                let mut cx = ExtractContext {
                    member,
                    budget,
                    units: &mut counting,
                    dispatcher: self,
                };
                if let Err(e) = self.extract_as(expected, name, &fixed, &mut cx) {
                    if e.reason == UnreadableReason::Timeout {
                        return Err((expected, e));
                    }
                }
            }
            let what = format!(
                "not recognised as a {} file (damaged or overwritten header)",
                expected.name()
            );
            return Err((expected, damaged::corrupt(&what, counting.units)));
        }
        if matches!(
            format,
            Format::Doc | Format::Xls | Format::Ppt | Format::Msg | Format::Ole
        ) {
            // A Word, PowerPoint or Outlook file whose sector tables are
            // broken is corrupt, whatever names its damaged directory
            // shows (a fuzzed .doc sniffed as a workbook made calamine,
            // which follows broken chains without bound, allocate GBs).
            let ext = name
                .rsplit_once('.')
                .map(|(_, e)| e.to_ascii_lowercase())
                .unwrap_or_default();
            let ours = matches!(format, Format::Doc | Format::Ppt | Format::Msg)
                || matches!(ext.as_str(), "doc" | "dot" | "ppt" | "pps" | "pot" | "msg");
            if let Some(e) = ours
                .then(|| ole_props::check_compound_file(data).err())
                .flatten()
            {
                let named = match ext.as_str() {
                    "doc" | "dot" => Format::Doc,
                    "ppt" | "pps" | "pot" => Format::Ppt,
                    "msg" => Format::Msg,
                    _ => format,
                };
                return Err((
                    named,
                    ExtractError::new(UnreadableReason::Corrupt, format!("compound file: {e}")),
                ));
            }
            // The directory names that sniffing sees include those of
            // embedded objects (a chart's Workbook in a Word file): the
            // root streams tell the application.
            if let Some(f) = ole_props::root_format(data) {
                format = f;
            }
        }
        budget.check_depth(&member).map_err(|e| (format, e))?;
        if format == Format::EncryptedOffice {
            return Err((
                format,
                ExtractError::new(
                    UnreadableReason::Encrypted,
                    "password-protected Office document",
                ),
            ));
        }
        let Some(extractor) = self
            .extractors
            .iter()
            .find(|e| e.formats().contains(&format))
        else {
            return Err((
                format,
                ExtractError::new(
                    UnreadableReason::Unsupported,
                    format!(
                        "{} files are recognised but not read by this version",
                        format.name()
                    ),
                ),
            ));
        };
        let mut counting = CountingSink {
            inner: units,
            units: 0,
        };
        let result = {
            let mut cx = ExtractContext {
                member: member.clone(),
                budget: &mut *budget,
                units: &mut counting,
                dispatcher: self,
            };
            extractor.extract(name, format, data, &mut cx)
        };
        match result {
            Ok(()) => Ok(Dispatched::Extracted(format)),
            // A document that does not open and yields nothing (a truncated
            // copy): read what is left, and report it corrupt either way.
            Err(e)
                if e.reason == UnreadableReason::Corrupt
                    && counting.units == 0
                    && damaged::repairable(format) =>
            {
                if let Some(fixed) = damaged::repair(format, data) {
                    let mut cx = ExtractContext {
                        member,
                        budget,
                        units: &mut counting,
                        dispatcher: self,
                    };
                    if let Err(e2) = self.extract_as(format, name, &fixed, &mut cx) {
                        if e2.reason == UnreadableReason::Timeout {
                            return Err((format, e2));
                        }
                    }
                }
                Err((format, damaged::corrupt(&e.detail, counting.units)))
            }
            Err(e) => Err((format, e)),
        }
    }
}

/// Extracts `data` as a file called `name` into a sink that only counts
/// (the harness of the `cargo fuzz` targets in `fuzz/`). Returns the number
/// of units and unreadable members.
pub fn extract_discarding(name: &str, data: &[u8]) -> (usize, usize) {
    struct Count(usize, usize);
    impl UnitSink for Count {
        fn unit(&mut self, _: &MemberPath, unit: TextUnit<'_>) -> Result<(), ExtractError> {
            // Touch every location, as the engine would.
            let _ = unit.location_at(unit.text.len() / 2);
            self.0 += 1;
            Ok(())
        }
        fn unreadable(&mut self, _: &MemberPath, _: Format, _: ExtractError) {
            self.1 += 1;
        }
    }
    let limits = Limits {
        max_total_bytes: 64 * 1024 * 1024,
        timeout: Duration::from_secs(10),
        ..Limits::default()
    };
    let mut budget = ScanBudget::new(&limits);
    let mut sink = Count(0, 0);
    let _ = Dispatcher::default().extract(name, data, MemberPath::root(), &mut budget, &mut sink);
    (sink.0, sink.1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniff_by_content_not_extension() {
        assert_eq!(Format::sniff("report.txt", b"%PDF-1.7\n..."), Format::Pdf);
        assert_eq!(Format::sniff("noext", b"PK\x03\x04rest"), Format::Zip);
        assert_eq!(Format::sniff("a.xlsx", b"PK\x03\x04rest"), Format::Xlsx);
        assert_eq!(
            Format::sniff(
                "a.doc",
                &[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1, 0]
            ),
            Format::Doc
        );
        assert_eq!(
            Format::sniff("scan.dat", b"\x89PNG\r\n\x1a\n...."),
            Format::Image("png")
        );
        assert_eq!(
            Format::sniff("meibo.csv", "氏名,住所\n".as_bytes()),
            Format::Csv
        );
        assert_eq!(Format::sniff("memo", "メモ\n".as_bytes()), Format::Text);
        assert_eq!(
            Format::sniff("a.bin", &[0x7f, b'E', b'L', b'F', 0, 0, 0, 1, 2]),
            Format::Binary
        );
        assert_eq!(
            Format::sniff("export", b"Received: from x\r\nSubject: a\r\n\r\nbody"),
            Format::Eml
        );
        assert_eq!(
            Format::sniff("winmail", &[0x78, 0x9F, 0x3E, 0x22, 0, 0, 1]),
            Format::Tnef
        );
        assert_eq!(
            Format::sniff("old.xls", &[0x09, 0x04, 6, 0, 0, 0, 0x10, 0]),
            Format::XlsBiff4
        );
        assert_eq!(Format::sniff("note.rtf", b"{\\rtf1\\ansi x}"), Format::Rtf);
    }

    #[test]
    fn sniff_archives_markup_and_formats_not_read() {
        let mut lzh = vec![0x2E, 0x00];
        lzh.extend_from_slice(b"-lh5-\0\0\0");
        assert_eq!(Format::sniff("x.dat", &lzh), Format::Lzh);
        assert_eq!(
            Format::sniff("x", b"7z\xBC\xAF\x27\x1C\x00\x04"),
            Format::SevenZ
        );
        assert_eq!(Format::sniff("x", &[0x1F, 0x8B, 8, 0]), Format::Gzip);
        let mut tar = vec![0u8; 512];
        tar[257..262].copy_from_slice(b"ustar");
        assert_eq!(Format::sniff("x", &tar), Format::Tar);
        assert_eq!(
            Format::sniff("page.txt", b"<!DOCTYPE html><html><p>a"),
            Format::Html
        );
        let mut utf16 = vec![0xFF, 0xFE];
        for u in "<html><body>氏名".encode_utf16() {
            utf16.extend_from_slice(&u.to_le_bytes());
        }
        assert_eq!(Format::sniff("x", &utf16), Format::Html);
        assert_eq!(
            Format::sniff(
                "a.xml",
                b"<?xml version=\"1.0\"?><office:document office:mimetype=\"application/vnd.oasis.opendocument.text\">"
            ),
            Format::Fodt
        );
        assert_eq!(
            Format::sniff("saved", b"From: <Saved by Blink>\r\nSubject: x\r\n"),
            Format::Mht
        );
        assert_eq!(
            Format::sniff("zumen.dwg", b"AC1032\0\0\0\0"),
            Format::NotRead("dwg (AutoCAD)")
        );
        assert_eq!(
            Format::sniff("a.jaw", b"anything"),
            Format::NotRead("jaw (一太郎 old)")
        );
        // Magic alone does not make a text file a bzip2 stream.
        assert_eq!(Format::sniff("notes", b"BZh hello"), Format::Text);
        // Names cross the worker pipe.
        for f in [
            Format::Lzh,
            Format::NotRead("rar"),
            Format::Odp,
            Format::Mht,
        ] {
            assert_eq!(format_name_static(f.name()), Some(f.name()));
        }
    }

    #[test]
    fn member_paths_join_with_slash() {
        let m = MemberPath::root().child("3").child("請求書.pdf");
        assert_eq!(m.to_contract().as_deref(), Some("3/請求書.pdf"));
        assert_eq!(MemberPath::root().to_contract(), None);
    }

    #[test]
    fn budget_runs_out() {
        let mut b = ScanBudget::new(&Limits {
            max_total_bytes: 10,
            max_members: 1,
            ..Limits::default()
        });
        assert!(b.charge_bytes(6).is_ok());
        assert_eq!(
            b.charge_bytes(6).unwrap_err().reason,
            UnreadableReason::TooLarge
        );
        assert!(b.charge_member().is_ok());
        assert!(b.charge_member().is_err());
    }
}
