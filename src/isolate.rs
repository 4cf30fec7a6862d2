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
//! Protocol: the worker's arguments are the scan settings
//! ([`ScanSettings::to_args`]); the parent writes the secret key (hex) as
//! the first line on the worker's stdin, then one job per frame; the worker
//! answers each job with [`Outcome`] frames (parts of a large container,
//! then the file's last outcome). A frame is a 4-byte little-endian length
//! and postcard bytes: a resident list can hold tens of thousands of
//! findings, and JSON doubled the cost of scanning it. Paths travel as
//! bytes, so a name that is not UTF-8 crosses unchanged. Findings cross the
//! pipe already masked: no full value leaves the worker.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{channel, Receiver, RecvTimeoutError};
use std::sync::Mutex;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::detect::Engine;
use crate::extract::{Dispatcher, UnreadableReason};
use crate::keys::KeySet;
use crate::outcome::{FileRef, Outcome};
use crate::pipeline::FileScanner;
use crate::settings::ScanSettings;

/// How workers are started and limited.
#[derive(Debug, Clone)]
pub struct WorkerConfig {
    /// The mamori executable.
    pub exe: PathBuf,
    pub settings: ScanSettings,
    pub key: [u8; 32],
}

/// One file for a worker to scan.
#[derive(Serialize, Deserialize)]
struct Job {
    file: FileRef,
    /// The stored content hash: equal means unchanged, nothing to extract.
    known_hash: Option<[u8; 32]>,
}

/// Writes one length-prefixed postcard frame.
fn write_frame(out: &mut impl Write, value: &impl Serialize) -> std::io::Result<()> {
    let frame = postcard::to_stdvec(value).map_err(std::io::Error::other)?;
    let len = u32::try_from(frame.len()).map_err(std::io::Error::other)?;
    out.write_all(&len.to_le_bytes())?;
    out.write_all(&frame)?;
    out.flush()
}

/// Reads one frame; None at a clean end of input.
fn read_frame(r: &mut impl Read) -> std::io::Result<Option<Vec<u8>>> {
    let mut len = [0u8; 4];
    match r.read_exact(&mut len) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(None),
        Err(e) => return Err(e),
    }
    let mut buf = vec![0u8; u32::from_le_bytes(len) as usize];
    r.read_exact(&mut buf)?;
    Ok(Some(buf))
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
            .args(cfg.settings.to_args())
            .stdin(Stdio::piped())
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
                while let Ok(Some(frame)) = read_frame(&mut r) {
                    if tx.send(frame).is_err() {
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
    /// A pool; the settings must have been validated.
    pub fn new(cfg: WorkerConfig) -> Self {
        WorkerPool {
            cfg,
            idle: Mutex::new(Vec::new()),
        }
    }

    /// Scans one file in a worker, passing the parts of a large container
    /// (mbox messages) to `on_part` as the worker sends them. Never fails:
    /// problems become outcomes. The time limit counts from the worker's
    /// last answer, so a long mbox that makes progress is not cut off.
    pub fn scan(
        &self,
        file: FileRef,
        known_hash: Option<[u8; 32]>,
        on_part: &mut dyn FnMut(Outcome),
    ) -> Outcome {
        let worker = self.idle.lock().unwrap_or_else(|e| e.into_inner()).pop();
        let mut worker = match worker {
            Some(w) => w,
            None => match Worker::spawn(&self.cfg) {
                Ok(w) => w,
                Err(e) => {
                    return Outcome::failed(
                        file,
                        format!("could not start an extraction worker: {e}"),
                    )
                }
            },
        };
        let job = Job {
            file: file.clone(),
            known_hash,
        };
        if write_frame(&mut worker.stdin, &job).is_err() {
            let status = worker.kill();
            return died(file, status);
        }
        // The worker enforces the time limit between units itself; this
        // deadline catches a parser that never returns.
        let deadline = Duration::from_secs(self.cfg.settings.timeout_secs) + Duration::from_secs(5);
        loop {
            match worker.frames.recv_timeout(deadline) {
                Ok(frame) => match postcard::from_bytes::<Outcome>(&frame) {
                    Ok(o @ Outcome::Part { .. }) => on_part(with_path(o, &file)),
                    Ok(o) => {
                        self.idle
                            .lock()
                            .unwrap_or_else(|e| e.into_inner())
                            .push(worker);
                        return with_path(o, &file);
                    }
                    Err(e) => {
                        worker.kill();
                        return Outcome::failed(file, format!("bad answer from worker: {e}"));
                    }
                },
                Err(RecvTimeoutError::Timeout) => {
                    worker.kill();
                    tracing::warn!("an extraction worker overran its time limit; killed");
                    return Outcome::unreadable(
                        file,
                        UnreadableReason::Timeout,
                        None,
                        "extraction did not finish in time; worker stopped",
                    );
                }
                Err(RecvTimeoutError::Disconnected) => {
                    let status = worker.kill();
                    return died(file, status);
                }
            }
        }
    }
}

/// The worker names the file by the path it was given; the parent's own
/// `FileRef` is the one that counts (its display form, for one).
fn with_path(mut o: Outcome, file: &FileRef) -> Outcome {
    let f = o.file_mut();
    f.path = file.path.clone();
    f.display = file.display.clone();
    o
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
fn died(file: FileRef, status: Option<std::process::ExitStatus>) -> Outcome {
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
    tracing::warn!(?signal, "an extraction worker died");
    match signal {
        // A failed allocation aborts (SIGABRT); the kernel may also kill on memory.
        Some(6) | Some(9) => Outcome::unreadable(
            file,
            UnreadableReason::TooLarge,
            None,
            "extraction needed more memory than a worker may use",
        ),
        Some(24) => Outcome::unreadable(
            file,
            UnreadableReason::Timeout,
            None,
            "extraction used too much CPU time",
        ),
        _ => Outcome::unreadable(
            file,
            UnreadableReason::Corrupt,
            None,
            "the extraction worker failed on this file",
        ),
    }
}

/// The worker's side: limit itself, read the key, then answer jobs until
/// stdin closes.
pub fn worker_main(settings: &ScanSettings) -> anyhow::Result<()> {
    limit_memory(settings.worker_memory_bytes.0);
    let mut input = BufReader::new(std::io::stdin().lock());
    let mut key_line = String::new();
    input.read_line(&mut key_line)?;
    let mut key = [0u8; 32];
    hex::decode_to_slice(key_line.trim(), &mut key)?;
    let keys = KeySet::new(key);
    let engine = Engine::load(
        settings.detectors_dir.as_deref(),
        keys.fingerprinter().clone(),
    )?;
    let dispatcher = Dispatcher::default();
    let limits = settings.limits();
    let sensitive = settings.sensitive_keywords();
    let scanner = FileScanner {
        engine: &engine,
        dispatcher: &dispatcher,
        limits: &limits,
        keys: &keys,
        internal: &settings.internal_domains,
        sensitive: &sensitive,
    };
    let stdout = std::io::stdout();
    while let Some(frame) = read_frame(&mut input)? {
        let job: Job = postcard::from_bytes(&frame)?;
        let mut failed = None;
        let outcome = scanner.scan(job.file, job.known_hash.as_ref(), &mut |part| {
            if failed.is_none() {
                failed = write_frame(&mut stdout.lock(), &part).err();
            }
        });
        if let Some(e) = failed {
            return Err(e.into());
        }
        write_frame(&mut stdout.lock(), &outcome)?;
    }
    Ok(())
}
/// Caps this process's address space (Unix). Without it a hostile file can
/// exhaust the machine's memory before the kernel intervenes. `bytes` is
/// what extraction may use: the address space the worker already has (its
/// code, libraries and start-up data, which grow with every crate linked
/// in and are five times larger in a debug build) is added to it, so that
/// the setting means the same whatever the build.
fn limit_memory(bytes: u64) {
    #[cfg(unix)]
    if bytes > 0 {
        let bytes = bytes.saturating_add(address_space_now().unwrap_or(0));
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

/// This process's address space now (Linux: `/proc/self/statm`).
#[cfg(unix)]
fn address_space_now() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = statm.split_whitespace().next()?.parse().ok()?;
    // SAFETY: sysconf only reads a configuration value.
    let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    Some(pages.saturating_mul(u64::try_from(page).ok()?))
}
