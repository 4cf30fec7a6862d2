//! Extraction in worker processes.
//!
//! A hostile file must never take the scanner down, but an allocation
//! failure aborts a Rust process and cannot be caught, and a parser can
//! loop. So files are scanned in a small pool of worker processes (this
//! same binary, `mamori __worker`), each with an address-space limit
//! (`RLIMIT_AS`). The parent waits for each answer with a deadline; a
//! worker that dies or overruns is killed, its file is reported
//! (`too_large` when it aborted, as a failed allocation does; `timeout`
//! when it overran; `corrupt` otherwise) and a fresh worker takes its place.
//!
//! Protocol: the parent writes the fingerprint key (hex) as the first line
//! on the worker's stdin, then one JSON job per line (`{"path":…,"size":…}`);
//! the worker answers each with a [`WireOutcome`] as a postcard frame
//! (4-byte little-endian length, then the bytes): a resident list can hold
//! tens of thousands of findings, and JSON doubled the cost of scanning it.
//! Findings cross the pipe already masked: no full value leaves the worker.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{channel, Receiver, RecvTimeoutError};
use std::sync::Mutex;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::detect::Engine;
use crate::extract::{Dispatcher, Limits, MemberPath, UnreadableReason};
use crate::finding::{Confidence, Explanation, Finding, Fingerprinter, Kind};
use crate::pipeline::{FileOutcome, Unreadable};
use crate::text::Location;

/// How workers are started and limited.
#[derive(Debug, Clone)]
pub struct WorkerConfig {
    /// The mamori executable.
    pub exe: PathBuf,
    pub detectors: Option<PathBuf>,
    pub limits: Limits,
    /// Address-space limit of each worker, in bytes (0 = none).
    pub memory_bytes: u64,
    pub key: [u8; 32],
    /// The office's own mail domains.
    pub internal_domains: Vec<String>,
}

#[derive(Serialize, Deserialize)]
struct Job {
    path: PathBuf,
    size: u64,
    /// The stored content hash: equal means unchanged, nothing to extract.
    known_hash: Option<[u8; 32]>,
}

#[derive(Serialize, Deserialize)]
struct WireFinding {
    member: Vec<String>,
    kind: Kind,
    confidence: Confidence,
    detector: String,
    detector_version: u32,
    location: String,
    masked: String,
    fingerprint: [u8; 32],
    pattern: String,
    validation: String,
    context_word: Option<String>,
}

#[derive(Serialize, Deserialize)]
struct WireUnreadable {
    member: Vec<String>,
    reason: UnreadableReason,
    format: Option<String>,
    detail: String,
}

/// A file's outcome as it crosses the pipe.
#[derive(Serialize, Deserialize)]
pub struct WireOutcome {
    size: u64,
    format: Option<String>,
    skipped: bool,
    findings: Vec<WireFinding>,
    unreadable: Vec<WireUnreadable>,
    messages: Vec<(Vec<String>, crate::extract::mail::MailMeta)>,
    partial: bool,
    earlier_findings: bool,
    modified_ns: i64,
    content_hash: Option<[u8; 32]>,
    unchanged: bool,
}

fn leak_str(s: Option<String>) -> Option<&'static str> {
    // Format names are a small fixed set: intern them rather than leak per file.
    s.map(|s| crate::extract::format_name_static(&s).unwrap_or("unknown"))
}

impl WireOutcome {
    fn from_outcome(o: &FileOutcome) -> Self {
        WireOutcome {
            size: o.size,
            format: o.format.map(str::to_string),
            skipped: o.skipped,
            partial: o.partial,
            earlier_findings: o.earlier_findings,
            modified_ns: o.modified_ns,
            content_hash: o.content_hash,
            unchanged: o.unchanged,
            messages: o
                .messages
                .iter()
                .map(|(m, meta)| (m.0.clone(), meta.clone()))
                .collect(),
            findings: o
                .findings
                .iter()
                .map(|(m, f)| WireFinding {
                    member: m.0.clone(),
                    kind: f.kind,
                    confidence: f.confidence,
                    detector: f.detector_id.to_string(),
                    detector_version: f.detector_version,
                    location: f.location.to_string(),
                    masked: f.masked.clone(),
                    fingerprint: f.fingerprint,
                    pattern: f.explanation.pattern.to_string(),
                    validation: f.explanation.validation.to_string(),
                    context_word: f.explanation.context_word.as_deref().map(str::to_string),
                })
                .collect(),
            unreadable: o
                .unreadable
                .iter()
                .map(|u| WireUnreadable {
                    member: u.member.0.clone(),
                    reason: u.reason,
                    format: u.format.map(str::to_string),
                    detail: u.detail.clone(),
                })
                .collect(),
        }
    }

    fn into_outcome(self, path: &Path) -> FileOutcome {
        FileOutcome {
            path: path.to_path_buf(),
            size: self.size,
            format: leak_str(self.format),
            skipped: self.skipped,
            partial: self.partial,
            earlier_findings: self.earlier_findings,
            modified_ns: self.modified_ns,
            content_hash: self.content_hash,
            unchanged: self.unchanged,
            detector_set: None,
            messages: self
                .messages
                .into_iter()
                .map(|(m, meta)| (MemberPath(m), meta))
                .collect(),
            findings: self
                .findings
                .into_iter()
                .map(|w| {
                    (
                        MemberPath(w.member),
                        Finding {
                            kind: w.kind,
                            confidence: w.confidence,
                            detector_id: w.detector.into(),
                            detector_version: w.detector_version,
                            location: Location::Named(w.location),
                            masked: w.masked,
                            fingerprint: w.fingerprint,
                            explanation: Explanation {
                                pattern: w.pattern.into(),
                                validation: match w.validation.as_str() {
                                    "valid" => "valid",
                                    "invalid" => "invalid",
                                    _ => "not_applicable",
                                },
                                context_word: w.context_word.map(Into::into),
                            },
                            span: 0..0,
                        },
                    )
                })
                .collect(),
            unreadable: self
                .unreadable
                .into_iter()
                .map(|u| Unreadable {
                    member: MemberPath(u.member),
                    reason: u.reason,
                    format: leak_str(u.format),
                    detail: u.detail,
                })
                .collect(),
        }
    }
}

/// One running worker.
struct Worker {
    child: Child,
    stdin: ChildStdin,
    frames: Receiver<Vec<u8>>,
}

impl Worker {
    fn spawn(cfg: &WorkerConfig) -> std::io::Result<Worker> {
        let mut cmd = Command::new(&cfg.exe);
        cmd.arg("__worker")
            .arg("--max-file-size")
            .arg(cfg.limits.max_file_size.to_string())
            .arg("--timeout-secs")
            .arg(cfg.limits.timeout.as_secs().to_string())
            .arg("--memory-bytes")
            .arg(cfg.memory_bytes.to_string());
        if let Some(d) = &cfg.detectors {
            cmd.arg("--detectors").arg(d);
        }
        for d in &cfg.internal_domains {
            cmd.arg("--internal-domain").arg(d);
        }
        cmd.stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        let mut child = cmd.spawn()?;
        let mut stdin = child.stdin.take().expect("piped");
        let stdout = child.stdout.take().expect("piped");
        writeln!(stdin, "{}", hex::encode(cfg.key))?;
        stdin.flush()?;
        let (tx, rx) = channel();
        std::thread::Builder::new()
            .name("mamori-worker-reader".into())
            .spawn(move || {
                let mut r = BufReader::new(stdout);
                loop {
                    let mut len = [0u8; 4];
                    if r.read_exact(&mut len).is_err() {
                        break;
                    }
                    let mut buf = vec![0u8; u32::from_le_bytes(len) as usize];
                    if r.read_exact(&mut buf).is_err() || tx.send(buf).is_err() {
                        break;
                    }
                }
            })?;
        Ok(Worker {
            child,
            stdin,
            frames: rx,
        })
    }

    fn kill(mut self) -> Option<std::process::ExitStatus> {
        let _ = self.child.kill();
        self.child.wait().ok()
    }
}

/// A pool of worker processes shared by the scan threads.
pub struct WorkerPool {
    cfg: WorkerConfig,
    idle: Mutex<Vec<Worker>>,
}

/// Below this a worker cannot even start (its code, stacks and detectors).
pub const MIN_WORKER_MEMORY: u64 = 64 * 1024 * 1024;

impl WorkerPool {
    pub fn new(mut cfg: WorkerConfig) -> Self {
        if cfg.memory_bytes != 0 && cfg.memory_bytes < MIN_WORKER_MEMORY {
            tracing::warn!(
                "worker memory {} bytes is too small for a worker to start; using {MIN_WORKER_MEMORY}",
                cfg.memory_bytes
            );
            cfg.memory_bytes = MIN_WORKER_MEMORY;
        }
        WorkerPool {
            cfg,
            idle: Mutex::new(Vec::new()),
        }
    }

    /// Scans one file in a worker. Never fails: problems become outcomes.
    pub fn scan(&self, path: &Path, size: u64) -> FileOutcome {
        let mut parts = Vec::new();
        let mut last = self.scan_streaming(path, size, None, &mut |p| parts.push(p));
        for p in parts {
            last.merge(p);
        }
        last
    }

    /// Like [`WorkerPool::scan`], passing the parts of a large container
    /// (mbox messages) to `on_part` as the worker sends them. The time limit
    /// counts from the worker's last answer, so a long mbox that makes
    /// progress is not cut off.
    pub fn scan_streaming(
        &self,
        path: &Path,
        size: u64,
        known_hash: Option<[u8; 32]>,
        on_part: &mut dyn FnMut(FileOutcome),
    ) -> FileOutcome {
        let worker = self.idle.lock().expect("pool lock").pop();
        let mut worker = match worker {
            Some(w) => w,
            None => match Worker::spawn(&self.cfg) {
                Ok(w) => w,
                Err(e) => {
                    return FileOutcome::unreadable(
                        path,
                        size,
                        UnreadableReason::Corrupt,
                        format!("could not start an extraction worker: {e}"),
                    )
                }
            },
        };
        let job = serde_json::to_string(&Job {
            path: path.to_path_buf(),
            size,
            known_hash,
        })
        .expect("job serialises");
        if writeln!(worker.stdin, "{job}")
            .and_then(|_| worker.stdin.flush())
            .is_err()
        {
            let status = worker.kill();
            return died(path, size, status);
        }
        // The worker enforces the time limit between units itself; this
        // deadline catches a parser that never returns.
        let deadline = self.cfg.limits.timeout + Duration::from_secs(5);
        loop {
            match worker.frames.recv_timeout(deadline) {
                Ok(frame) => match postcard::from_bytes::<WireOutcome>(&frame) {
                    Ok(w) if w.partial => on_part(w.into_outcome(path)),
                    Ok(w) => {
                        self.idle.lock().expect("pool lock").push(worker);
                        return w.into_outcome(path);
                    }
                    Err(e) => {
                        worker.kill();
                        return FileOutcome::unreadable(
                            path,
                            size,
                            UnreadableReason::Corrupt,
                            format!("bad answer from worker: {e}"),
                        );
                    }
                },
                Err(RecvTimeoutError::Timeout) => {
                    worker.kill();
                    tracing::warn!(path = %path.display(), "extraction worker overran its time limit; killed");
                    return FileOutcome::unreadable(
                        path,
                        size,
                        UnreadableReason::Timeout,
                        "extraction did not finish in time; worker stopped",
                    );
                }
                Err(RecvTimeoutError::Disconnected) => {
                    let status = worker.kill();
                    return died(path, size, status);
                }
            }
        }
    }
}

impl Drop for WorkerPool {
    /// Closes each worker's stdin (its signal to finish) and reaps it, so
    /// that no worker outlives the scan.
    fn drop(&mut self) {
        let workers = std::mem::take(&mut *self.idle.lock().unwrap_or_else(|e| e.into_inner()));
        for w in workers {
            let Worker {
                mut child, stdin, ..
            } = w;
            drop(stdin);
            let _ = child.wait();
        }
    }
}

/// The outcome for a file whose worker died.
fn died(path: &Path, size: u64, status: Option<std::process::ExitStatus>) -> FileOutcome {
    #[cfg(unix)]
    let signal = {
        use std::os::unix::process::ExitStatusExt;
        status.and_then(|s| s.signal())
    };
    #[cfg(not(unix))]
    let signal: Option<i32> = {
        let _ = status;
        None
    };
    tracing::warn!(path = %path.display(), ?signal, "extraction worker died");
    match signal {
        // A failed allocation aborts (SIGABRT); the kernel may also kill on memory.
        Some(6) | Some(9) => FileOutcome::unreadable(
            path,
            size,
            UnreadableReason::TooLarge,
            "extraction needed more memory than a worker may use",
        ),
        Some(24) => FileOutcome::unreadable(
            path,
            size,
            UnreadableReason::Timeout,
            "extraction used too much CPU time",
        ),
        _ => FileOutcome::unreadable(
            path,
            size,
            UnreadableReason::Corrupt,
            "the extraction worker failed on this file",
        ),
    }
}

/// The worker's side: limit itself, read the key, then answer jobs until
/// stdin closes.
pub fn worker_main(
    detectors: Option<&Path>,
    limits: Limits,
    memory_bytes: u64,
    internal: &[String],
) -> anyhow::Result<()> {
    limit_memory(memory_bytes);
    let stdin = std::io::stdin();
    let mut lines = stdin.lock().lines();
    let key_line = lines
        .next()
        .ok_or_else(|| anyhow::anyhow!("no key on stdin"))??;
    let mut key = [0u8; 32];
    hex::decode_to_slice(key_line.trim(), &mut key)?;
    let engine = Engine::load(detectors, Fingerprinter::new(key))?;
    let dispatcher = Dispatcher::default();
    let stdout = std::io::stdout();
    for line in lines {
        let job: Job = serde_json::from_str(&line?)?;
        let send = |o: &FileOutcome| -> std::io::Result<()> {
            let frame = postcard::to_stdvec(&WireOutcome::from_outcome(o))
                .map_err(std::io::Error::other)?;
            let mut out = stdout.lock();
            out.write_all(&(frame.len() as u32).to_le_bytes())?;
            out.write_all(&frame)?;
            out.flush()
        };
        let mut failed = None;
        let outcome = crate::pipeline::scan_file_streaming(
            &job.path,
            job.size,
            &engine,
            &dispatcher,
            &limits,
            internal,
            job.known_hash.as_ref(),
            &mut |part| {
                if failed.is_none() {
                    failed = send(&part).err();
                }
            },
        );
        if let Some(e) = failed {
            return Err(e.into());
        }
        send(&outcome)?;
    }
    Ok(())
}

/// Caps this process's address space (Unix). Without it a hostile file can
/// exhaust the machine's memory before the kernel intervenes.
fn limit_memory(bytes: u64) {
    #[cfg(unix)]
    if bytes > 0 {
        let lim = libc::rlimit {
            rlim_cur: bytes as libc::rlim_t,
            rlim_max: bytes as libc::rlim_t,
        };
        // SAFETY: setrlimit with a valid pointer to an initialised struct.
        let rc = unsafe { libc::setrlimit(libc::RLIMIT_AS, &lim) };
        if rc != 0 {
            tracing::warn!(
                "could not limit worker memory: {}",
                std::io::Error::last_os_error()
            );
        }
    }
    #[cfg(not(unix))]
    let _ = bytes;
}
