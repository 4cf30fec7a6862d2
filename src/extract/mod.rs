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

pub mod delimited;
pub mod docx;
pub mod encoding;
pub mod image;
pub mod mail;
pub mod msg;
pub mod ocr;
pub mod pdf;
pub mod plain;
pub mod pptx;
pub mod spreadsheet;
pub mod table;
pub mod xml;
pub mod zip;

use std::fmt;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::text::TextUnit;

/// Why a file (or a member of one) could not be read. The names are the
/// findings contract's `reason` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UnreadableReason {
    Encrypted,
    ImageOnly,
    Corrupt,
    TooLarge,
    Unsupported,
    Timeout,
    PermissionDenied,
}

impl UnreadableReason {
    pub fn as_str(self) -> &'static str {
        match self {
            UnreadableReason::Encrypted => "encrypted",
            UnreadableReason::ImageOnly => "image_only",
            UnreadableReason::Corrupt => "corrupt",
            UnreadableReason::TooLarge => "too_large",
            UnreadableReason::Unsupported => "unsupported",
            UnreadableReason::Timeout => "timeout",
            UnreadableReason::PermissionDenied => "permission_denied",
        }
    }

    pub fn label_ja(self) -> &'static str {
        match self {
            UnreadableReason::Encrypted => "暗号化",
            UnreadableReason::ImageOnly => "画像のみ（文字情報なし）",
            UnreadableReason::Corrupt => "破損",
            UnreadableReason::TooLarge => "サイズ超過",
            UnreadableReason::Unsupported => "未対応形式",
            UnreadableReason::Timeout => "時間切れ",
            UnreadableReason::PermissionDenied => "アクセス権なし",
        }
    }
}

impl fmt::Display for UnreadableReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

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

/// Where inside a container text was found: `attachments/請求書.pdf`,
/// `3/請求書.pdf`, `docs/a.xlsx`. Empty for the file itself.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MemberPath(pub Vec<String>);

impl MemberPath {
    /// The file itself.
    pub fn root() -> Self {
        MemberPath(Vec::new())
    }
    /// This path with one more member.
    pub fn child(&self, name: impl Into<String>) -> Self {
        let mut v = self.0.clone();
        v.push(name.into());
        MemberPath(v)
    }
    /// `None` for the file itself, else the `/`-joined chain.
    pub fn to_contract(&self) -> Option<String> {
        if self.0.is_empty() {
            None
        } else {
            Some(self.0.join("/"))
        }
    }
    pub fn depth(&self) -> usize {
        self.0.len()
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
    Ppt,
    Msg,
    Jtd,
    Ole,
    /// An OOXML file encrypted with a password (an OLE container holding
    /// `EncryptedPackage`).
    EncryptedOffice,
    Rtf,
    Eml,
    Mbox,
    Image(&'static str),
    /// Not text and not a known format (executables, media, …).
    Binary,
}

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
            Format::Ppt => "ppt (PowerPoint 97-2003)",
            Format::Msg => "msg (Outlook)",
            Format::Jtd => "jtd (一太郎)",
            Format::Ole => "ole (compound file)",
            Format::EncryptedOffice => "encrypted office document",
            Format::Rtf => "rtf",
            Format::Eml => "eml",
            Format::Mbox => "mbox",
            Format::Image(n) => n,
            Format::Binary => "binary",
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
            }
            return match ext {
                "docx" | "docm" | "dotx" | "dotm" => Format::Docx,
                "xlsx" | "xlsm" | "xltx" | "xltm" => Format::Xlsx,
                "xlsb" => Format::Xlsb,
                "pptx" | "pptm" | "potx" | "ppsx" => Format::Pptx,
                "ods" => Format::Ods,
                "odt" => Format::Odt,
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
        if matches!(ext, "jtd" | "jtdc") {
            return Format::Jtd;
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
        Format::Ppt,
        Format::Msg,
        Format::Jtd,
        Format::Ole,
        Format::EncryptedOffice,
        Format::Rtf,
        Format::Eml,
        Format::Mbox,
        Format::Image("png"),
        Format::Image("jpeg"),
        Format::Image("gif"),
        Format::Image("tiff"),
        Format::Image("bmp"),
        Format::Binary,
    ];
    ALL.iter().map(|f| f.name()).find(|n| *n == name)
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

/// What a document records about itself, as far as records rules need it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocumentMeta {
    /// The creation date the document carries (Office `docProps/core.xml`
    /// `dcterms:created`, OLE SummaryInformation, ODF `meta:creation-date`,
    /// PDF `/CreationDate` or XMP `xmp:CreateDate`, a mail's `Date`), as a
    /// civil date in Japan time (JST) when the source has a time zone.
    pub created: Option<jiff::civil::Date>,
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
            ],
        }
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
        let format = Format::sniff(name, data);
        if format == Format::Binary {
            return Ok(Dispatched::Skipped);
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
        let mut cx = ExtractContext {
            member,
            budget,
            units,
            dispatcher: self,
        };
        extractor
            .extract(name, format, data, &mut cx)
            .map(|_| Dispatched::Extracted(format))
            .map_err(|e| (format, e))
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
