//! Scanning one file: read (read-only) → sniff → extract → detect, with the
//! per-file budget and panic containment. Used by `mamori scan` and, later,
//! by the daemon; where outcomes go is the caller's business.

use std::io::Read;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::time::Instant;

use crate::detect::Engine;
use crate::extract::{
    Dispatched, Dispatcher, ExtractError, Format, Limits, MemberPath, ScanBudget, UnitSink,
    UnreadableReason,
};
use crate::finding::Finding;
use crate::text::TextUnit;
use crate::walk::io_reason;

/// A file or member that could not be read, with the contract reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unreadable {
    pub member: MemberPath,
    pub reason: UnreadableReason,
    /// The format, when it was recognised.
    pub format: Option<&'static str>,
    /// A short explanation that never contains document text.
    pub detail: String,
}

/// Everything learnt from one file.
#[derive(Debug, Clone, Default)]
pub struct FileOutcome {
    pub path: PathBuf,
    pub size: u64,
    pub format: Option<&'static str>,
    pub findings: Vec<(MemberPath, Finding)>,
    pub unreadable: Vec<Unreadable>,
    /// Not a document (unknown binary): nothing was scanned.
    pub skipped: bool,
    /// Mail messages met in the file: member and addressing by domain.
    pub messages: Vec<(MemberPath, crate::extract::mail::MailMeta)>,
    /// A part of a large container's outcome (one mbox message), sent ahead
    /// of the rest so that memory does not grow with the file; the file's
    /// last outcome has `partial == false`.
    pub partial: bool,
    /// On a last outcome: whether parts sent earlier held findings.
    pub earlier_findings: bool,
    /// Modification time (ns since the epoch) when read.
    pub modified_ns: i64,
    /// SHA-256 of the file's bytes (recognises moved files); None when not read whole.
    pub content_hash: Option<[u8; 32]>,
    /// Not read: unchanged since the store last saw it (size, mtime, detectors).
    pub unchanged: bool,
    /// The detector set that produced the outcome (set by the service).
    pub detector_set: Option<String>,
}

impl FileOutcome {
    /// Adds a part's findings, unreadable members and messages to this outcome.
    pub fn merge(&mut self, part: FileOutcome) {
        self.findings.extend(part.findings);
        self.unreadable.extend(part.unreadable);
        self.messages.extend(part.messages);
    }

    fn new(path: &Path, size: u64) -> Self {
        FileOutcome {
            path: path.to_path_buf(),
            size,
            ..FileOutcome::default()
        }
    }

    /// An outcome for a file that could not be opened or was too large.
    pub fn unreadable(
        path: &Path,
        size: u64,
        reason: UnreadableReason,
        detail: impl Into<String>,
    ) -> Self {
        let mut o = FileOutcome::new(path, size);
        o.unreadable.push(Unreadable {
            member: MemberPath::root(),
            reason,
            format: None,
            detail: detail.into(),
        });
        o
    }
}

/// Feeds units to the engine as extractors push them; stops at the deadline.
struct DetectingSink<'a> {
    engine: &'a Engine,
    outcome: &'a mut FileOutcome,
    deadline: Option<Instant>,
    /// Issue 13: column evidence of the file's tables (`detect/columns.rs`).
    columns: crate::detect::columns::ColumnPass,
    internal: &'a [String],
    /// Where parts of a large container go as soon as they are complete.
    emit: Option<&'a mut dyn FnMut(FileOutcome)>,
}

impl UnitSink for DetectingSink<'_> {
    fn unit(&mut self, member: &MemberPath, unit: TextUnit<'_>) -> Result<(), ExtractError> {
        self.columns
            .scan(self.engine, member, &unit, &mut self.outcome.findings);
        if self.deadline.is_some_and(|d| Instant::now() > d) {
            return Err(ExtractError::new(
                UnreadableReason::Timeout,
                "time limit for one file reached",
            ));
        }
        Ok(())
    }

    fn mail(&mut self, member: &MemberPath, meta: crate::extract::mail::MailMeta) {
        self.outcome.messages.push((member.clone(), meta));
    }

    fn internal_domain(&self, domain: &str) -> bool {
        crate::extract::mail::is_internal(domain, self.internal)
    }

    // Issue 13: extractors choose table headers with the detectors' words,
    // and report mail parties by whether the office's domains are known.
    fn vocabulary(&self) -> Option<std::sync::Arc<crate::vocabulary::Vocabulary>> {
        Some(self.engine.vocabulary())
    }

    fn internal_domains_known(&self) -> bool {
        !self.internal.is_empty()
    }

    fn part_done(&mut self) {
        self.columns.finish(&mut self.outcome.findings); // issue 13
        let Some(emit) = self.emit.as_mut() else {
            return;
        };
        if self.outcome.findings.is_empty()
            && self.outcome.unreadable.is_empty()
            && self.outcome.messages.is_empty()
        {
            return;
        }
        if !self.outcome.findings.is_empty() {
            self.outcome.earlier_findings = true;
        }
        emit(FileOutcome {
            path: self.outcome.path.clone(),
            size: 0,
            format: self.outcome.format,
            findings: std::mem::take(&mut self.outcome.findings),
            unreadable: std::mem::take(&mut self.outcome.unreadable),
            messages: std::mem::take(&mut self.outcome.messages),
            skipped: false,
            partial: true,
            earlier_findings: false,
            modified_ns: 0,
            content_hash: None,
            unchanged: false,
            detector_set: None,
        });
    }

    fn unreadable(&mut self, member: &MemberPath, format: Format, error: ExtractError) {
        self.outcome.unreadable.push(Unreadable {
            member: member.clone(),
            reason: error.reason,
            format: Some(format.name()),
            detail: error.detail,
        });
    }
}

/// Scans one file. Never panics and never returns an error: every problem
/// becomes an [`Unreadable`] entry, and findings made before a problem are kept.
pub fn scan_file(
    path: &Path,
    size: u64,
    engine: &Engine,
    dispatcher: &Dispatcher,
    limits: &Limits,
) -> FileOutcome {
    scan_file_with(path, size, engine, dispatcher, limits, &[])
}

/// [`scan_file`] knowing the office's own mail domains (for signatures and
/// the outbound check).
pub fn scan_file_with(
    path: &Path,
    size: u64,
    engine: &Engine,
    dispatcher: &Dispatcher,
    limits: &Limits,
    internal: &[String],
) -> FileOutcome {
    let mut parts = Vec::new();
    let mut last = scan_file_streaming(
        path,
        size,
        engine,
        dispatcher,
        limits,
        internal,
        None,
        &mut |p| parts.push(p),
    );
    for p in parts {
        last.merge(p);
    }
    last
}

/// [`scan_file_with`] for large containers (an mbox): each complete part
/// (message) goes to `emit` at once, and the returned outcome holds only
/// what is left, so that memory stays bounded by one message. When the
/// file's SHA-256 equals `known_hash` (its size or mtime changed, its
/// content did not), nothing is extracted: the outcome is `unchanged`.
#[allow(clippy::too_many_arguments)]
pub fn scan_file_streaming(
    path: &Path,
    size: u64,
    engine: &Engine,
    dispatcher: &Dispatcher,
    limits: &Limits,
    internal: &[String],
    known_hash: Option<&[u8; 32]>,
    emit: &mut dyn FnMut(FileOutcome),
) -> FileOutcome {
    // One open: the first bytes decide the format; an mbox is then streamed
    // from the same handle, anything else read whole.
    let mut file = match open_read_only(path) {
        Ok(f) => f,
        Err(e) => return FileOutcome::unreadable(path, size, io_reason(&e), e.to_string()),
    };
    let mut head = vec![0u8; 8192];
    match read_up_to(&mut file, &mut head) {
        Ok(n) => head.truncate(n),
        Err(e) => return FileOutcome::unreadable(path, size, io_reason(&e), e.to_string()),
    }
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    if crate::extract::Format::sniff(&name, &head) == crate::extract::Format::Mbox {
        return scan_mbox(
            path, size, head, file, engine, dispatcher, limits, internal, emit,
        );
    }
    if size > limits.max_file_size {
        return FileOutcome::unreadable(
            path,
            size,
            UnreadableReason::TooLarge,
            format!(
                "{size} bytes is over the {} byte limit",
                limits.max_file_size
            ),
        );
    }
    let data = match read_rest(head, file, limits.max_file_size) {
        Ok(d) => d,
        Err(e) => return FileOutcome::unreadable(path, size, io_reason(&e), e.to_string()),
    };
    let mut outcome = FileOutcome::new(path, data.len() as u64);
    outcome.modified_ns = modified_ns(path);
    outcome.content_hash =
        Some(sha2::Digest::finalize(<sha2::Sha256 as sha2::Digest>::new_with_prefix(&data)).into());
    if known_hash.is_some() && outcome.content_hash.as_ref() == known_hash {
        outcome.unchanged = true;
        return outcome;
    }
    let mut budget = ScanBudget::new(limits);
    let deadline = Instant::now() + limits.timeout;
    let result = {
        let mut sink = DetectingSink {
            engine,
            outcome: &mut outcome,
            deadline: Some(deadline),
            columns: Default::default(),
            internal,
            emit: None,
        };
        let result = catch_unwind(AssertUnwindSafe(|| {
            dispatcher.extract(&name, &data, MemberPath::root(), &mut budget, &mut sink)
        }));
        sink.columns.finish(&mut sink.outcome.findings); // issue 13
        result
    };
    match result {
        Ok(Ok(Dispatched::Extracted(format))) => outcome.format = Some(format.name()),
        Ok(Ok(Dispatched::Skipped)) => outcome.skipped = true,
        Ok(Err((format, e))) => {
            outcome.format = Some(format.name());
            outcome.unreadable.push(Unreadable {
                member: MemberPath::root(),
                reason: e.reason,
                format: Some(format.name()),
                detail: e.detail,
            });
        }
        Err(_) => {
            tracing::warn!(path = %path.display(), "extractor panicked; file reported corrupt");
            outcome.unreadable.push(Unreadable {
                member: MemberPath::root(),
                reason: UnreadableReason::Corrupt,
                format: outcome.format,
                detail: "the extractor failed on this file".into(),
            });
        }
    }
    outcome
}

/// An mbox file is streamed message by message (an export of several GB is
/// never loaded whole; each message has its own budget and time limit),
/// from the handle whose first bytes (`head`) were already read.
#[allow(clippy::too_many_arguments)]
fn scan_mbox(
    path: &Path,
    size: u64,
    head: Vec<u8>,
    file: std::fs::File,
    engine: &Engine,
    dispatcher: &Dispatcher,
    limits: &Limits,
    internal: &[String],
    emit: &mut dyn FnMut(FileOutcome),
) -> FileOutcome {
    let mut outcome = FileOutcome::new(path, size);
    outcome.format = Some("mbox");
    outcome.modified_ns = modified_ns(path);
    let reader = std::io::BufReader::with_capacity(1 << 20, std::io::Cursor::new(head).chain(file));
    let result = {
        let mut sink = DetectingSink {
            engine,
            outcome: &mut outcome,
            deadline: None,
            columns: Default::default(),
            internal,
            emit: Some(emit),
        };
        let result = catch_unwind(AssertUnwindSafe(|| {
            crate::extract::mail::scan_mbox(reader, limits, &mut sink, dispatcher)
        }));
        sink.columns.finish(&mut sink.outcome.findings); // issue 13
        result
    };
    match result {
        Ok(Ok(_)) => {}
        Ok(Err(e)) => outcome.unreadable.push(Unreadable {
            member: MemberPath::root(),
            reason: e.reason,
            format: Some("mbox"),
            detail: e.detail,
        }),
        Err(_) => outcome.unreadable.push(Unreadable {
            member: MemberPath::root(),
            reason: UnreadableReason::Corrupt,
            format: Some("mbox"),
            detail: "the extractor failed on this file".into(),
        }),
    }
    outcome
}

fn modified_ns(path: &Path) -> i64 {
    std::fs::metadata(path)
        .and_then(|m| m.modified())
        .map(crate::time::nanos)
        .unwrap_or(0)
}

fn read_up_to(f: &mut std::fs::File, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match f.read(&mut buf[n..])? {
            0 => break,
            k => n += k,
        }
    }
    Ok(n)
}

/// Reads the rest of a file after its first bytes `head`, at most `max`
/// bytes in all (the file may have grown since it was listed).
fn read_rest(mut data: Vec<u8>, file: std::fs::File, max: u64) -> std::io::Result<Vec<u8>> {
    let left = (max + 1).saturating_sub(data.len() as u64);
    file.take(left).read_to_end(&mut data)?;
    if data.len() as u64 > max {
        return Err(std::io::Error::new(
            std::io::ErrorKind::FileTooLarge,
            "file grew beyond the size limit while being read",
        ));
    }
    Ok(data)
}

/// Opens a file without changing it (and, on Linux, without updating its
/// access time where the kernel allows).
fn open_read_only(path: &Path) -> std::io::Result<std::fs::File> {
    #[cfg(target_os = "linux")]
    {
        use std::os::unix::fs::OpenOptionsExt;
        const O_NOATIME: i32 = 0o1000000;
        // O_NOATIME is refused (EPERM) for files we do not own unless
        // privileged: fall back to a plain read-only open.
        if let Ok(f) = std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(O_NOATIME)
            .open(path)
        {
            return Ok(f);
        }
    }
    std::fs::File::open(path)
}
