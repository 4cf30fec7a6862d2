//! Scanning one file: open read-only → sniff → extract → detect, with the
//! per-file budget and panic containment, and the steps that run after
//! detection on every outcome (names, outbound check). Used in worker
//! processes and, with `--no-isolation`, in the scanning process itself;
//! where outcomes go is the caller's business.

use std::io::Read;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::time::Instant;

use crate::detect::Engine;
use crate::extract::{
    Dispatched, Dispatcher, DocumentMeta, ExtractError, Format, Limits, MemberPath, ScanBudget,
    UnitSink, UnreadableReason,
};
use crate::keys::KeySet;
use crate::names::MemberNames;
use crate::outcome::{Content, FileEnd, FileRef, MailMeta, Outcome, Unreadable};
use crate::records::keywords::{SensitiveKeywords, DEFAULT_WINDOW_CHARS};
use crate::text::TextUnit;
use crate::walk::io_reason;

/// What scanning a file needs.
pub struct FileScanner<'a> {
    pub engine: &'a Engine,
    pub dispatcher: &'a Dispatcher,
    pub limits: &'a Limits,
    pub keys: &'a KeySet,
    /// The office's own mail domains (staff signatures are not findings).
    pub internal: &'a [String],
    /// 要配慮個人情報 keywords, noted when they stand next to a finding.
    pub sensitive: &'a SensitiveKeywords,
}

/// Feeds units to the engine as extractors push them; stops at the deadline.
struct DetectingSink<'a> {
    engine: &'a Engine,
    content: Content,
    deadline: Option<Instant>,
    /// Column evidence of the file's tables (`detect/columns.rs`).
    columns: crate::detect::columns::ColumnPass,
    internal: &'a [String],
    sensitive: &'a SensitiveKeywords,
    names: MemberNames,
    /// Where parts of a large container go as soon as they are complete.
    emit: Option<(&'a FileRef, &'a mut dyn FnMut(Outcome))>,
    earlier_findings: bool,
}

impl DetectingSink<'_> {
    fn member(&mut self, member: &MemberPath) -> MemberPath {
        self.names
            .mask(self.engine, member, &mut self.content.findings)
    }
}

impl UnitSink for DetectingSink<'_> {
    fn unit(&mut self, member: &MemberPath, unit: TextUnit<'_>) -> Result<(), ExtractError> {
        let member = self.member(member);
        let before = self.content.findings.len();
        self.columns
            .scan(self.engine, &member, &unit, &mut self.content.findings);
        let found = self.content.findings.get(before..).unwrap_or_default();
        if !found.is_empty() && !self.sensitive.is_empty() {
            // Personal data next to 病歴, 生活保護 …: a breach of this file
            // would be reportable whatever its size. Only the keyword is kept.
            let spans: Vec<std::ops::Range<usize>> = found
                .iter()
                .filter(|(_, f)| f.confidence >= crate::finding::Confidence::Medium)
                .map(|(_, f)| f.span.clone())
                .collect();
            for term in self
                .sensitive
                .near(&unit.text, &spans, DEFAULT_WINDOW_CHARS)
            {
                if !self.content.sensitive_terms.iter().any(|(_, t)| t == term) {
                    self.content
                        .sensitive_terms
                        .push((member.clone(), term.to_string()));
                }
            }
        }
        if self.deadline.is_some_and(|d| Instant::now() > d) {
            return Err(ExtractError::new(
                UnreadableReason::Timeout,
                "time limit for one file reached",
            ));
        }
        Ok(())
    }

    fn mail(&mut self, member: &MemberPath, meta: MailMeta) {
        let member = self.member(member);
        self.content.messages.push((member, meta));
    }

    fn metadata(&mut self, member: &MemberPath, meta: DocumentMeta) {
        let member = self.member(member);
        self.content.metadata.push((member, meta));
    }

    fn internal_domain(&self, domain: &str) -> bool {
        crate::extract::mail::is_internal(domain, self.internal)
    }

    // Extractors choose table headers with the detectors' words, and
    // report mail parties by whether the office's domains are known.
    fn vocabulary(&self) -> Option<std::sync::Arc<crate::vocabulary::Vocabulary>> {
        Some(self.engine.vocabulary())
    }

    fn internal_domains_known(&self) -> bool {
        !self.internal.is_empty()
    }

    fn part_done(&mut self) {
        self.columns.finish(&mut self.content.findings);
        let Some((file, emit)) = self.emit.as_mut() else {
            return;
        };
        // A part is self-contained: its member names are not met again,
        // and a long mbox must not grow this cache without bound.
        self.names = MemberNames::default();
        if self.content.is_empty() {
            return;
        }
        if !self.content.findings.is_empty() {
            self.earlier_findings = true;
        }
        emit(Outcome::Part {
            file: (*file).clone(),
            content: std::mem::take(&mut self.content),
        });
    }

    fn unreadable(&mut self, member: &MemberPath, format: Format, error: ExtractError) {
        let member = self.member(member);
        self.content.unreadable.push(Unreadable {
            member,
            reason: error.reason,
            format: Some(format.name().to_string()),
            detail: error.detail,
        });
    }
}

impl FileScanner<'_> {
    /// Scans one file; never panics and never fails: every problem becomes
    /// an [`Unreadable`] entry, and findings made before a problem are kept.
    /// Parts of a large container (mbox messages) go to `emit` as they are
    /// complete, so memory stays bounded by one message; the returned
    /// outcome is the file's last. When the file's content hash equals
    /// `known_hash` (its size or mtime changed, its content did not),
    /// nothing is extracted: the outcome is `Unchanged`.
    pub fn scan(
        &self,
        file: FileRef,
        known_hash: Option<&[u8; 32]>,
        emit: &mut dyn FnMut(Outcome),
    ) -> Outcome {
        // One open: the first bytes decide the format; an mbox is then
        // streamed from the same handle, anything else read whole.
        let mut handle = match open_read_only(&file.path) {
            Ok(f) => f,
            Err(e) => return Outcome::unreadable(file, open_reason(&e), None, e.to_string()),
        };
        let before = stat(&handle);
        let mut head = vec![0u8; 8192];
        match read_up_to(&mut handle, &mut head) {
            Ok(n) => head.truncate(n),
            Err(e) => return Outcome::unreadable(file, io_reason(&e), None, e.to_string()),
        }
        let name = file
            .path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if Format::sniff(&name, &head) == Format::Mbox {
            return self.scan_mbox(file, head, handle, before, emit);
        }
        if file.size > self.limits.max_file_size {
            let detail = format!(
                "{} bytes is over the {} byte limit",
                file.size, self.limits.max_file_size
            );
            return Outcome::unreadable(file, UnreadableReason::TooLarge, None, detail);
        }
        let mut hasher = self.keys.content_hasher();
        let data = match read_rest(head, &mut handle, self.limits.max_file_size) {
            Ok(d) => d,
            Err(e) => return Outcome::unreadable(file, io_reason(&e), None, e.to_string()),
        };
        hasher.update(&data);
        let hash = hasher.finish();
        let after = stat(&handle);
        let changed = before != after || after.is_some_and(|(size, _)| size != data.len() as u64);
        let mut file = file;
        file.size = data.len() as u64;
        if let Some((_, mtime)) = before {
            file.modified_ns = mtime;
        }
        if !changed && known_hash == Some(&hash) {
            return Outcome::Unchanged {
                file,
                by_hash: true,
            };
        }
        let mut budget = ScanBudget::new(self.limits);
        let mut sink = self.sink(Some(Instant::now() + self.limits.timeout), None);
        let result = catch_unwind(AssertUnwindSafe(|| {
            self.dispatcher
                .extract(&name, &data, MemberPath::root(), &mut budget, &mut sink)
        }));
        sink.columns.finish(&mut sink.content.findings);
        let mut end = FileEnd {
            content_hash: (!changed).then_some(hash),
            changed_during_scan: changed,
            ..FileEnd::default()
        };
        let mut content = std::mem::take(&mut sink.content);
        match result {
            Ok(Ok(Dispatched::Extracted(format))) => end.format = Some(format.name().into()),
            Ok(Ok(Dispatched::Skipped)) => end.skipped = true,
            Ok(Err((format, e))) => {
                end.format = Some(format.name().into());
                content.unreadable.push(Unreadable {
                    member: MemberPath::root(),
                    reason: e.reason,
                    format: Some(format.name().into()),
                    detail: e.detail,
                });
            }
            Err(_) => content.unreadable.push(panicked(None)),
        }
        Outcome::Done { file, content, end }
    }

    fn sink<'s>(
        &'s self,
        deadline: Option<Instant>,
        emit: Option<(&'s FileRef, &'s mut dyn FnMut(Outcome))>,
    ) -> DetectingSink<'s> {
        DetectingSink {
            engine: self.engine,
            content: Content::default(),
            deadline,
            columns: Default::default(),
            internal: self.internal,
            sensitive: self.sensitive,
            names: MemberNames::default(),
            emit,
            earlier_findings: false,
        }
    }

    /// An mbox file is streamed message by message (an export of several
    /// GB is never loaded whole; each message has its own budget and time
    /// limit), from the handle whose first bytes (`head`) were already read.
    fn scan_mbox(
        &self,
        mut file: FileRef,
        head: Vec<u8>,
        handle: std::fs::File,
        before: Option<(u64, i64)>,
        emit: &mut dyn FnMut(Outcome),
    ) -> Outcome {
        if let Some((size, mtime)) = before {
            file.size = size;
            file.modified_ns = mtime;
        }
        let reader =
            std::io::BufReader::with_capacity(1 << 20, std::io::Cursor::new(head).chain(&handle));
        let shared = file.clone();
        let mut sink = self.sink(None, Some((&shared, emit)));
        let result = catch_unwind(AssertUnwindSafe(|| {
            crate::extract::mail::scan_mbox(reader, self.limits, &mut sink, self.dispatcher)
        }));
        sink.columns.finish(&mut sink.content.findings);
        let mut content = std::mem::take(&mut sink.content);
        let earlier_findings = sink.earlier_findings;
        drop(sink);
        match result {
            Ok(Ok(_)) => {}
            Ok(Err(e)) => content.unreadable.push(Unreadable {
                member: MemberPath::root(),
                reason: e.reason,
                format: Some("mbox".into()),
                detail: e.detail,
            }),
            Err(_) => content.unreadable.push(panicked(Some("mbox"))),
        }
        let changed = before != stat(&handle);
        Outcome::Done {
            file,
            content,
            end: FileEnd {
                format: Some("mbox".into()),
                earlier_findings,
                changed_during_scan: changed,
                ..FileEnd::default()
            },
        }
    }
}

/// The entry for a file whose extractor panicked (contained).
fn panicked(format: Option<&str>) -> Unreadable {
    // The panic message may quote document text: not logged, not kept.
    tracing::warn!("an extractor failed on a file; reported corrupt");
    Unreadable {
        member: MemberPath::root(),
        reason: UnreadableReason::Corrupt,
        format: format.map(str::to_string),
        detail: "the extractor failed on this file".into(),
    }
}

/// The steps after detection, run on every outcome (from a worker or from
/// this process) before it is printed or stored.
pub struct AfterDetection<'a> {
    pub engine: &'a Engine,
    pub roots: &'a [PathBuf],
    pub internal_domains: &'a [String],
}

impl AfterDetection<'_> {
    pub fn apply(&self, outcome: &mut Outcome) {
        crate::names::apply(self.engine, self.roots, outcome);
        if let Some(content) = outcome.content_mut() {
            crate::outbound::check(content, self.internal_domains);
        }
    }
}

/// (size, mtime ns) of an open file, to notice a file changing under us.
fn stat(f: &std::fs::File) -> Option<(u64, i64)> {
    let m = f.metadata().ok()?;
    Some((m.len(), m.modified().map(crate::time::nanos).unwrap_or(0)))
}

fn read_up_to(f: &mut std::fs::File, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match f.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

/// Reads the rest of a file after its first bytes `head`, at most `max`
/// bytes in all (the file may have grown since it was listed).
fn read_rest(mut data: Vec<u8>, file: &mut std::fs::File, max: u64) -> std::io::Result<Vec<u8>> {
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

/// Why a file could not be opened: "not a regular file" is `unsupported`.
fn open_reason(e: &std::io::Error) -> UnreadableReason {
    if e.kind() == std::io::ErrorKind::InvalidInput {
        UnreadableReason::Unsupported
    } else {
        io_reason(e)
    }
}

/// Opens a regular file without changing it (on Linux without updating its
/// access time where the kernel allows) and without waiting: a FIFO put
/// where a file was listed would otherwise block the scan forever.
pub fn open_read_only(path: &Path) -> std::io::Result<std::fs::File> {
    #[cfg(unix)]
    let file = {
        use std::os::unix::fs::OpenOptionsExt;
        let nonblock = libc::O_NONBLOCK;
        #[cfg(target_os = "linux")]
        let noatime = libc::O_NOATIME;
        #[cfg(not(target_os = "linux"))]
        let noatime = 0;
        // O_NOATIME is refused (EPERM) for files we do not own unless
        // privileged: fall back to a plain read-only open.
        match std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(nonblock | noatime)
            .open(path)
        {
            Ok(f) => f,
            Err(_) => std::fs::OpenOptions::new()
                .read(true)
                .custom_flags(nonblock)
                .open(path)?,
        }
    };
    #[cfg(not(unix))]
    let file = std::fs::File::open(path)?;
    let meta = file.metadata()?;
    if !meta.is_file() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!("not a regular file ({})", file_type_name(&meta.file_type())),
        ));
    }
    Ok(file)
}

/// A file type's name, for messages.
pub fn file_type_name(t: &std::fs::FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if t.is_fifo() {
            return "named pipe (FIFO)";
        }
        if t.is_socket() {
            return "socket";
        }
        if t.is_block_device() || t.is_char_device() {
            return "device";
        }
    }
    if t.is_dir() {
        "directory"
    } else if t.is_symlink() {
        "symbolic link"
    } else if t.is_file() {
        "regular file"
    } else {
        "special file"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scan(path: &Path, limits: &Limits) -> Outcome {
        let keys = KeySet::new([3; 32]);
        let engine = Engine::load(None, keys.fingerprinter().clone()).unwrap();
        let dispatcher = Dispatcher::default();
        let sensitive = crate::settings::ScanSettings::default().sensitive_keywords();
        let scanner = FileScanner {
            engine: &engine,
            dispatcher: &dispatcher,
            limits,
            keys: &keys,
            internal: &[],
            sensitive: &sensitive,
        };
        let size = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
        scanner.scan(FileRef::new(path.to_path_buf(), size, 0), None, &mut |_| {})
    }

    #[test]
    fn a_timeout_keeps_findings_made_before_it() {
        // A zero time limit expires after the first unit: the file is
        // reported `timeout`, and what was found in that unit is kept.
        let limits = Limits {
            timeout: std::time::Duration::ZERO,
            ..Limits::default()
        };
        let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/memo_eucjp.txt");
        let o = scan(&p, &limits);
        let c = o.content().unwrap();
        assert!(c
            .unreadable
            .iter()
            .any(|u| u.reason == UnreadableReason::Timeout));
        assert!(
            !c.findings.is_empty(),
            "findings before the deadline are kept"
        );
    }

    #[cfg(unix)]
    #[test]
    fn a_fifo_is_never_opened_for_reading() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("pipe.csv");
        let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
        // SAFETY: mkfifo with a valid C string.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        // Without O_NONBLOCK this open would wait for a writer forever.
        let o = scan(&fifo, &Limits::default());
        let c = o.content().unwrap();
        assert_eq!(c.unreadable[0].reason, UnreadableReason::Unsupported);
        assert!(
            c.unreadable[0].detail.contains("FIFO"),
            "{:?}",
            c.unreadable
        );
    }

    #[cfg(unix)]
    #[test]
    fn a_file_name_that_is_not_utf8_is_scanned() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir
            .path()
            .join(crate::paths::from_bytes(b"\x8e\x52\x93\x63.txt".to_vec()));
        std::fs::write(&p, "個人番号 314159265352\n").unwrap();
        let o = scan(&p, &Limits::default());
        assert_eq!(o.file().path, p);
        assert!(o
            .content()
            .unwrap()
            .findings
            .iter()
            .any(|(_, f)| f.kind == crate::finding::Kind::MyNumber));
    }
}
