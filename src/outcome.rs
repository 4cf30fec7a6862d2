//! The outcome vocabulary every stage shares: what scanning one file
//! produced ([`Outcome`]), why something could not be read
//! ([`Unreadable`]), where inside a container ([`MemberPath`]), and the
//! single consumer of outcomes ([`OutcomeSink`]) with the scan's totals.
//!
//! An outcome has three shapes, one per job: a **part** of a large
//! container sent ahead of the rest (an mbox message, so memory stays
//! bounded), the file's **done** outcome (with how it ended), and
//! **unchanged** (not re-extracted: the store already has it). What the
//! store needs for bookkeeping (run ids, detector sets) travels beside the
//! outcome, not in it.

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::finding::{Confidence, Finding, Kind};

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
    pub const ALL: [UnreadableReason; 7] = [
        UnreadableReason::Encrypted,
        UnreadableReason::ImageOnly,
        UnreadableReason::Corrupt,
        UnreadableReason::TooLarge,
        UnreadableReason::Unsupported,
        UnreadableReason::Timeout,
        UnreadableReason::PermissionDenied,
    ];

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

    /// The English label (reports with `--lang en`).
    pub fn label_en(self) -> &'static str {
        match self {
            UnreadableReason::Encrypted => "encrypted",
            UnreadableReason::ImageOnly => "image only (no text)",
            UnreadableReason::Corrupt => "damaged",
            UnreadableReason::TooLarge => "too large",
            UnreadableReason::Unsupported => "format not supported",
            UnreadableReason::Timeout => "timed out",
            UnreadableReason::PermissionDenied => "permission denied",
        }
    }
}

impl fmt::Display for UnreadableReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where inside a container text was found: `attachments/請求書.pdf`,
/// `3/請求書.pdf`, `docs/a.xlsx`. Empty for the file itself.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
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
    /// Whether `prefix` is this path or one of its enclosing members.
    pub fn starts_with(&self, prefix: &MemberPath) -> bool {
        self.0.len() >= prefix.0.len() && self.0[..prefix.0.len()] == prefix.0[..]
    }

    pub fn depth(&self) -> usize {
        self.0.len()
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

/// One message's addressing, by domain only.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MailMeta {
    /// The sender's domain (lowercase), if any.
    pub sender_domain: Option<String>,
    /// Domains of To, Cc and Bcc recipients (lowercase, sorted, unique).
    pub recipient_domains: Vec<String>,
}

/// A file or member that could not be read, with the contract reason.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Unreadable {
    pub member: MemberPath,
    pub reason: UnreadableReason,
    /// The format, when it was recognised.
    pub format: Option<String>,
    /// A short explanation that never contains document text.
    pub detail: String,
}

/// A mail message from the office's own domains to outside recipients
/// whose body or attachments hold personal data (the outbound check).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutboundMessage {
    /// The message (empty for a single .eml; `3` for an mbox's third message).
    pub member: MemberPath,
    /// Outside recipients' domains.
    pub recipient_domains: Vec<String>,
    /// Personal findings in the message, by kind.
    pub kinds: BTreeMap<Kind, usize>,
}

/// The flag a finding of an outbound leak candidate carries.
pub const OUTBOUND_FLAG: &str = "outbound_leak_candidate";

/// A file as the walk found it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileRef {
    /// The path exactly as reached (lossless: any bytes the file system allows).
    #[serde(with = "crate::paths::as_bytes")]
    pub path: PathBuf,
    pub size: u64,
    /// Modification time, nanoseconds since the epoch.
    pub modified_ns: i64,
    /// The path as shown to people: control characters and undecodable
    /// bytes escaped, identifiers in file and folder names masked. Set by
    /// the names step; until then the escaped path.
    #[serde(skip)]
    pub display: Option<String>,
}

impl FileRef {
    pub fn new(path: PathBuf, size: u64, modified_ns: i64) -> Self {
        FileRef {
            path,
            size,
            modified_ns,
            display: None,
        }
    }

    /// The path as shown to people (see [`FileRef::display`]).
    pub fn shown(&self) -> std::borrow::Cow<'_, str> {
        match &self.display {
            Some(d) => std::borrow::Cow::Borrowed(d),
            None => crate::paths::display(&self.path),
        }
    }
}

/// What extraction and detection found in a file (or a part of it).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Content {
    pub findings: Vec<(MemberPath, Finding)>,
    pub unreadable: Vec<Unreadable>,
    /// Mail messages met, with their addressing by domain.
    pub messages: Vec<(MemberPath, MailMeta)>,
    /// What documents record about themselves (creation dates).
    pub metadata: Vec<(MemberPath, DocumentMeta)>,
    /// Messages flagged by the outbound check (a step after detection).
    pub outbound: Vec<OutboundMessage>,
    /// 要配慮個人情報 keywords found next to personal data (the configured
    /// words, never the text around them).
    pub sensitive_terms: Vec<(MemberPath, String)>,
}

impl Content {
    /// Adds another part's content to this one.
    pub fn merge(&mut self, other: Content) {
        self.findings.extend(other.findings);
        self.unreadable.extend(other.unreadable);
        self.messages.extend(other.messages);
        self.metadata.extend(other.metadata);
        self.outbound.extend(other.outbound);
        self.sensitive_terms.extend(other.sensitive_terms);
    }

    pub fn is_empty(&self) -> bool {
        self.findings.is_empty()
            && self.unreadable.is_empty()
            && self.messages.is_empty()
            && self.metadata.is_empty()
            && self.outbound.is_empty()
            && self.sensitive_terms.is_empty()
    }

    /// The document's own creation date: the file's, else the latest of its
    /// messages' (an mbox or a mail with attached mails).
    pub fn document_created(&self) -> Option<jiff::civil::Date> {
        self.metadata
            .iter()
            .filter(|(m, _)| m.depth() == 0)
            .find_map(|(_, d)| d.created)
            .or_else(|| {
                self.metadata
                    .iter()
                    .filter(|(m, _)| m.depth() == 1)
                    .filter_map(|(_, d)| d.created)
                    .max()
            })
    }

    /// The outbound message a finding at `member` belongs to (the innermost).
    pub fn outbound_of(&self, member: &MemberPath) -> Option<&OutboundMessage> {
        self.outbound
            .iter()
            .filter(|m| member.starts_with(&m.member))
            .max_by_key(|m| m.member.depth())
    }
}

/// How a file's scan ended.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileEnd {
    /// The format, when recognised.
    pub format: Option<String>,
    /// Not a document (unknown binary): nothing was scanned.
    pub skipped: bool,
    /// Keyed hash of the file's bytes (recognises moved and touched files);
    /// None when the file was not read whole.
    pub content_hash: Option<[u8; 32]>,
    /// Parts sent earlier (mbox messages) held findings.
    pub earlier_findings: bool,
    /// The file's size or modification time changed while it was read:
    /// what was read may be a mix; it is scanned again later.
    pub changed_during_scan: bool,
    /// mamori itself failed on this file (a worker could not be started or
    /// answered nonsense, a scan thread died): the file was not scanned.
    pub failed: bool,
}

/// What scanning one file produced.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Outcome {
    /// A self-contained part of a large container (an mbox message), sent
    /// ahead of the rest so that memory does not grow with the file.
    Part { file: FileRef, content: Content },
    /// The file's last outcome.
    Done {
        file: FileRef,
        content: Content,
        end: FileEnd,
    },
    /// Not re-extracted: unchanged since the store last saw it, by size and
    /// modification time (`by_hash == false`) or by content hash.
    Unchanged { file: FileRef, by_hash: bool },
}

impl Outcome {
    /// A done outcome for a file that could not be read at all.
    pub fn unreadable(
        file: FileRef,
        reason: UnreadableReason,
        format: Option<&str>,
        detail: impl Into<String>,
    ) -> Outcome {
        Outcome::Done {
            file,
            content: Content {
                unreadable: vec![Unreadable {
                    member: MemberPath::root(),
                    reason,
                    format: format.map(str::to_string),
                    detail: detail.into(),
                }],
                ..Content::default()
            },
            end: FileEnd {
                format: format.map(str::to_string),
                ..FileEnd::default()
            },
        }
    }

    /// A done outcome for a file mamori itself failed on (not scanned).
    pub fn failed(file: FileRef, detail: impl Into<String>) -> Outcome {
        let mut o = Outcome::unreadable(file, UnreadableReason::Corrupt, None, detail);
        if let Outcome::Done { end, .. } = &mut o {
            end.failed = true;
        }
        o
    }

    pub fn file(&self) -> &FileRef {
        match self {
            Outcome::Part { file, .. }
            | Outcome::Done { file, .. }
            | Outcome::Unchanged { file, .. } => file,
        }
    }

    pub fn file_mut(&mut self) -> &mut FileRef {
        match self {
            Outcome::Part { file, .. }
            | Outcome::Done { file, .. }
            | Outcome::Unchanged { file, .. } => file,
        }
    }

    /// The findings and unreadable members carried (none when unchanged).
    pub fn content(&self) -> Option<&Content> {
        match self {
            Outcome::Part { content, .. } | Outcome::Done { content, .. } => Some(content),
            Outcome::Unchanged { .. } => None,
        }
    }

    pub fn content_mut(&mut self) -> Option<&mut Content> {
        match self {
            Outcome::Part { content, .. } | Outcome::Done { content, .. } => Some(content),
            Outcome::Unchanged { .. } => None,
        }
    }

    /// Whether this is the file's last outcome.
    pub fn is_last(&self) -> bool {
        !matches!(self, Outcome::Part { .. })
    }
}

/// Totals of one scan.
#[derive(Debug, Clone, Default)]
pub struct ScanStats {
    pub files: u64,
    pub bytes: u64,
    pub files_with_findings: u64,
    pub findings: u64,
    pub unreadable: u64,
    pub skipped_binary: u64,
    /// Not opened: unchanged since the store last saw them.
    pub unchanged: u64,
    /// Files mamori itself failed on: not scanned.
    pub failed: u64,
    /// Files that changed while they were read.
    pub changed_during_scan: u64,
    pub elapsed: Duration,
}

impl ScanStats {
    /// Adds one outcome (counting only findings at or above `min`).
    pub fn add(&mut self, o: &Outcome, min: Confidence) {
        let mut n = 0;
        if let Some(c) = o.content() {
            n = c
                .findings
                .iter()
                .filter(|(_, f)| f.confidence >= min)
                .count() as u64;
            self.findings += n;
            self.unreadable += c.unreadable.len() as u64;
        }
        match o {
            Outcome::Part { .. } => {} // the file itself is counted with its last outcome
            Outcome::Done { file, end, .. } => {
                self.files += 1;
                self.bytes += file.size;
                if n > 0 || end.earlier_findings {
                    self.files_with_findings += 1;
                }
                self.skipped_binary += end.skipped as u64;
                self.failed += end.failed as u64;
                self.changed_during_scan += end.changed_during_scan as u64;
            }
            Outcome::Unchanged { file, .. } => {
                self.files += 1;
                self.bytes += file.size;
                self.unchanged += 1;
            }
        }
    }
}

/// Why a sink could not take an outcome. The scan stops: output that
/// cannot be written or recorded must not be silently lost.
#[derive(Debug, thiserror::Error)]
pub enum SinkError {
    #[error("writing output: {0}")]
    Io(#[from] std::io::Error),
    #[error("recording in the findings store: {0}")]
    Store(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// Consumes outcomes: the single writer (a printer, the store, or both).
pub trait OutcomeSink {
    fn accept(&mut self, outcome: &Outcome) -> Result<(), SinkError>;
    fn finish(&mut self, stats: &ScanStats) -> Result<(), SinkError>;
}
