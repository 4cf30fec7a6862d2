//! `mamori run`: the service. Keeps the store current as files are added,
//! changed, moved and deleted under the configured roots.
//!
//! Threads, one job each, each body a named function below:
//! - **writer** ([`writer`]): owns the only writing store connection; every
//!   outcome is one transaction, so a kill at any moment loses only files
//!   in flight;
//! - **reconcile** ([`reconcile`]): walks every root at start and every
//!   `reconcile_interval_secs` (the source of truth: events are a shortcut,
//!   and network shares raise none); unchanged files (size, mtime, detector
//!   set) are not opened; files gone are marked deleted, unless their root
//!   is unavailable (a missing share is not a deletion);
//! - **watch** ([`watch`]): file-system events (notify) for `watch =
//!   "events"` roots, debounced; a file is queued once its size and mtime
//!   are stable;
//! - **scan workers** ([`scan_worker`]): take event jobs before reconcile
//!   jobs (two bounded queues) and scan in extraction worker processes.
//!
//! If any thread dies (a panic, or the writer failing: disk full, database
//! locked or read-only, I/O error), the service logs it at ERROR and stops
//! at once with an error, so that systemd restarts it and monitoring
//! notices; it never goes on scanning with nothing stored.
//!
//! SIGTERM/SIGINT: stop taking work, finish files in flight, close the
//! open runs as `interrupted`. SIGHUP: reload detectors and scan settings
//! after validating them; on error the running ones stay (roots and the
//! database need a restart).

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc::{
    channel, sync_channel, Receiver, RecvTimeoutError, Sender, SyncSender, TrySendError,
};
use std::sync::{Arc, Mutex, RwLock};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use anyhow::Context;

use crate::config::{Config, WatchMode};
use crate::outcome::{FileRef, Outcome};
use crate::records::apply::{self as records, RecordsContext};
use crate::scanner::{Isolation, Scanner};
use crate::store::{RootCheck, RunCounts, Store, WriterLock};
use crate::walk::{walk_below, WalkItem};

/// Shutdown and reload requests (from signals, or Windows' service manager).
#[derive(Clone, Default)]
pub struct Control {
    pub shutdown: Arc<AtomicBool>,
    pub reload: Arc<AtomicBool>,
}

/// How the service runs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Mode {
    /// Until stopped: reconcile walks, file events, workers.
    #[default]
    Resident,
    /// One reconcile walk of every root, then exit (scheduled use, tests).
    Once,
}

/// Messages to the writer.
enum ToWriter {
    Outcome(Box<Outcome>, i64, Arc<str>),
    /// The service's state for `mamori status` (jobs waiting).
    Queue(usize),
    Deleted(PathBuf, i64),
    BeginRun(Vec<PathBuf>, String, Sender<i64>),
    FinishRun(i64, Vec<RootCheck>),
    /// Re-evaluate every file's records verdict (rules reloaded, a new day).
    RefreshRecords(Arc<RecordsContext>),
    /// Review decisions made at the central database (see [`central_sync`]).
    CentralDecisions(Vec<crate::store::outbox::CentralDecision>),
    /// A service event for the log (`service_reloaded`, `reload_refused`).
    Log(&'static str, String),
}

/// One file to scan.
struct Job {
    path: PathBuf,
    size: u64,
    mtime_ns: i64,
    run: i64,
    reconcile: bool,
    /// The stored content hash (the walk's second check).
    known_hash: Option<[u8; 32]>,
}

/// Paths whose events are settling: when to look again, and their last
/// seen (size, mtime).
type Pending = HashMap<PathBuf, (Instant, Option<(u64, i64)>)>;

/// What the threads share.
struct Shared {
    cfg: Config,
    roots: Vec<PathBuf>,
    stop: Arc<AtomicBool>,
    scanner: RwLock<Arc<Scanner>>,
    /// The records rules (replaced on reload).
    records: RwLock<Arc<RecordsContext>>,
    /// Paths queued or in flight (a path is never scanned twice at once).
    queued: Mutex<HashSet<PathBuf>>,
    /// Reconcile jobs not yet done (the deletion sweep waits for them).
    reconcile_pending: AtomicUsize,
    /// Why the service must stop, when a thread failed.
    failure: Mutex<Option<String>>,
    /// The writer has committed its last change (the central sync ships
    /// what is left after it).
    writer_done: AtomicBool,
}

impl Shared {
    fn stopping(&self) -> bool {
        self.stop.load(Ordering::Relaxed)
    }

    fn scanner(&self) -> Arc<Scanner> {
        self.scanner
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Records a thread's failure and stops the service.
    fn fail(&self, what: String) {
        tracing::error!("{what}; the service stops (exit code 1) so that it can be restarted");
        let mut f = self.failure.lock().unwrap_or_else(|e| e.into_inner());
        if f.is_none() {
            *f = Some(what);
        }
        self.stop.store(true, Ordering::SeqCst);
    }

    fn records(&self) -> Arc<RecordsContext> {
        self.records
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    fn failure(&self) -> Option<String> {
        self.failure
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}

/// Runs the service until `control.shutdown` is set (or, with
/// [`Mode::Once`], until one walk is done). Returns an error when a thread
/// failed: the caller exits non-zero.
pub fn run(config_path: &Path, control: Control, mode: Mode) -> anyhow::Result<()> {
    let cfg = Config::load(config_path)?;
    cfg.require_roots().map_err(anyhow::Error::msg)?;
    cfg.check_database_dir().map_err(anyhow::Error::msg)?;
    for problem in cfg.check_machine() {
        tracing::warn!("{problem}");
    }
    let _lock = WriterLock::acquire(&cfg.store.database)?;
    let key = crate::keys::load_or_create(&cfg.key_file())
        .with_context(|| format!("fingerprint key {}", cfg.key_file().display()))?;
    let scanner = Scanner::build(cfg.scan.clone(), key, Isolation::Workers)?;
    let store = Store::open(&cfg.store.database, &scanner.keys)
        .with_context(|| format!("opening {}", cfg.store.database.display()))?;
    // Changes are queued for a central database only while one is configured.
    crate::store::outbox::set_enabled(store.connection(), cfg.central.is_some())?;
    let keys = scanner.keys.clone();
    store.close_interrupted_runs()?;
    store.log("service_started", &crate::paths::display(config_path))?;
    let reader = Store::open_read_only(&cfg.store.database)?;
    let roots: Vec<PathBuf> = cfg.roots.iter().map(|r| r.path.clone()).collect();
    let records_ctx = Arc::new(cfg.records_context()?);
    let shared = Arc::new(Shared {
        roots: roots.clone(),
        stop: control.shutdown.clone(),
        scanner: RwLock::new(Arc::new(scanner)),
        records: RwLock::new(records_ctx),
        queued: Mutex::new(HashSet::new()),
        reconcile_pending: AtomicUsize::new(0),
        failure: Mutex::new(None),
        writer_done: AtomicBool::new(false),
        cfg,
    });

    let (to_writer, writer_rx) = sync_channel::<ToWriter>(256);
    let (hi_tx, hi_rx) = sync_channel::<Job>(shared.cfg.service.queue_capacity);
    let (lo_tx, lo_rx) = sync_channel::<Job>(shared.cfg.service.queue_capacity);
    let queues = Arc::new((Mutex::new(hi_rx), Mutex::new(lo_rx)));
    // File events, and files to look at again (changed while read).
    let (ev_tx, ev_rx) = channel::<notify::Result<notify::Event>>();

    // The run that event-driven scans are recorded under.
    let event_run = match mode {
        Mode::Resident => Some(store.begin_run(&roots, shared.scanner().set_version())?),
        Mode::Once => None,
    };
    let mut threads: Vec<(&'static str, JoinHandle<()>)> = Vec::new();
    let spawn = |name: &'static str,
                 f: Box<dyn FnOnce() + Send>|
     -> anyhow::Result<(&'static str, JoinHandle<()>)> {
        Ok((
            name,
            std::thread::Builder::new()
                .name(format!("mamori-{name}"))
                .spawn(f)?,
        ))
    };
    {
        let shared = shared.clone();
        threads.push(spawn(
            "writer",
            Box::new(move || {
                if let Err(e) = writer(store, writer_rx, &shared, event_run) {
                    shared.fail(format!("the store writer failed: {e:#}"));
                }
            }),
        )?);
    }
    for _ in 0..shared.scanner().settings.threads() {
        let (shared, queues, to_writer, ev_tx) = (
            shared.clone(),
            queues.clone(),
            to_writer.clone(),
            ev_tx.clone(),
        );
        threads.push(spawn(
            "scan",
            Box::new(move || scan_worker(&shared, &queues.0, &queues.1, &to_writer, &ev_tx)),
        )?);
    }
    {
        let (shared, to_writer) = (shared.clone(), to_writer.clone());
        threads.push(spawn(
            "reconcile",
            Box::new(move || {
                if let Err(e) = reconcile(&shared, &to_writer, &lo_tx, &reader, mode) {
                    if !shared.stopping() {
                        shared.fail(format!("the reconcile walk failed: {e:#}"));
                    }
                }
            }),
        )?);
    }
    if let Some(run) = event_run {
        let (shared, to_writer) = (shared.clone(), to_writer.clone());
        let ev_tx = ev_tx.clone();
        threads.push(spawn(
            "watch",
            Box::new(move || {
                if let Err(e) = watch(&shared, ev_tx, ev_rx, &to_writer, &hi_tx, run) {
                    shared.fail(format!("the file watcher failed: {e:#}"));
                }
            }),
        )?);
    }
    drop(ev_tx);
    if shared.cfg.central.is_some() {
        let (shared, to_writer) = (shared.clone(), to_writer.clone());
        let sync = central_sync_for(&shared, keys)?;
        threads.push(spawn(
            "central",
            Box::new(move || central_sync(&shared, sync, to_writer, mode)),
        )?);
    }

    supervise(&shared, &control, config_path, &to_writer, &threads);
    drop(to_writer);
    if let Some(failure) = shared.failure() {
        // Threads may be blocked on the failed part: do not wait for them.
        anyhow::bail!("{failure}");
    }
    tracing::info!("shutting down: finishing files in flight");
    for (name, t) in threads {
        if t.join().is_err() {
            anyhow::bail!("the {name} thread failed while stopping");
        }
    }
    if let Some(failure) = shared.failure() {
        anyhow::bail!("{failure}");
    }
    Ok(())
}

/// The main thread's loop: reload on SIGHUP, report the queue length, and
/// notice a thread that ended while the service was not stopping.
fn supervise(
    shared: &Shared,
    control: &Control,
    config_path: &Path,
    to_writer: &SyncSender<ToWriter>,
    threads: &[(&'static str, JoinHandle<()>)],
) {
    let mut last_queue = None;
    let mut tick = 0u32;
    let mut today = crate::time::today_jst();
    while !shared.stopping() {
        tick += 1;
        if let Some((name, _)) = threads.iter().find(|(_, t)| t.is_finished()) {
            // A thread ends on its own only when it failed (it said why),
            // panicked, or (one walk done) asked the service to stop.
            if !shared.stopping() {
                shared.fail(format!("the {name} thread ended unexpectedly"));
            }
            return;
        }
        if tick.is_multiple_of(20) {
            let n = shared
                .queued
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .len();
            if last_queue != Some(n) {
                let _ = to_writer.try_send(ToWriter::Queue(n));
                last_queue = Some(n);
            }
        }
        if control.reload.swap(false, Ordering::SeqCst) {
            match reload(shared, config_path) {
                Ok(()) => {
                    // The rules may have changed: every verdict again, no rescan.
                    let _ = to_writer.send(ToWriter::RefreshRecords(shared.records()));
                    let _ = to_writer.send(ToWriter::Log("service_reloaded", String::new()));
                }
                Err(e) => {
                    let _ = to_writer.send(ToWriter::Log("reload_refused", e));
                }
            }
        }
        if tick.is_multiple_of(600) && crate::time::today_jst() != today {
            // Dates pass: retention periods end, holds expire.
            today = crate::time::today_jst();
            let _ = to_writer.send(ToWriter::RefreshRecords(shared.records()));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// SIGHUP: a new scanner and records rules from the changed
/// configuration, if it is valid; else why not.
fn reload(shared: &Shared, config_path: &Path) -> Result<(), String> {
    let result = Config::load(config_path)
        .map_err(anyhow::Error::from)
        .and_then(|c| {
            c.require_roots().map_err(anyhow::Error::msg)?;
            let key = crate::keys::load_or_create(&c.key_file())?;
            let records = c.records_context()?;
            Ok((
                Scanner::build(c.scan.clone(), key, Isolation::Workers)?,
                records,
            ))
        });
    match result {
        Ok((scanner, records)) => {
            *shared.scanner.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(scanner);
            *shared.records.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(records);
            tracing::info!("configuration, detectors and records rules reloaded");
            Ok(())
        }
        Err(e) => {
            tracing::error!("reload refused, keeping the running configuration: {e:#}");
            Err(crate::paths::escape_control(&format!("{e:#}")).into_owned())
        }
    }
}

/// The writer: the only writing connection. Counts each run's files and
/// findings; at the end closes the runs still open as `interrupted`.
fn writer(
    mut store: Store,
    rx: Receiver<ToWriter>,
    shared: &Shared,
    event_run: Option<i64>,
) -> anyhow::Result<()> {
    let mut open_runs: HashMap<i64, RunCounts> = HashMap::new();
    if let Some(run) = event_run {
        open_runs.insert(run, RunCounts::default());
    }
    records::refresh_if_stale(&mut store, &shared.records(), crate::time::today_jst())?;
    // Files scanned since their verdicts were last computed: evaluated in
    // batches, when the queue is quiet or the batch is large.
    let mut due: Vec<i64> = Vec::new();
    loop {
        let msg = match rx.recv_timeout(Duration::from_millis(200)) {
            Ok(m) => m,
            Err(RecvTimeoutError::Timeout) => {
                refresh_due(&mut store, shared, &mut due)?;
                continue;
            }
            Err(RecvTimeoutError::Disconnected) => break,
        };
        if due.len() >= 256 {
            refresh_due(&mut store, shared, &mut due)?;
        }
        match msg {
            ToWriter::RefreshRecords(ctx) => {
                due.clear();
                let n = records::refresh(&mut store, &ctx, crate::time::today_jst(), None)?;
                tracing::info!(files = n, "records flags recomputed");
            }
            ToWriter::Outcome(o, run, set) => {
                let root = shared
                    .roots
                    .iter()
                    .find(|r| o.file().path.starts_with(r))
                    .cloned();
                if let Some(id) = store.record(run, root.as_deref(), &o, &set)? {
                    due.push(id);
                }
                let c = open_runs.entry(run).or_default();
                if let Some(content) = o.content() {
                    c.findings += content.findings.len() as u64;
                    c.unreadable += content.unreadable.len() as u64;
                }
                if o.is_last() {
                    c.files += 1;
                }
            }
            ToWriter::Queue(n) => store.set_meta("queue_length", &n.to_string())?,
            ToWriter::Log(kind, detail) => store.log(kind, &detail)?,
            ToWriter::Deleted(p, run) => {
                store.mark_deleted(run, &p)?;
            }
            ToWriter::BeginRun(roots, set, reply) => {
                let run = store.begin_run(&roots, &set)?;
                open_runs.insert(run, RunCounts::default());
                let _ = reply.send(run);
            }
            ToWriter::FinishRun(run, checks) => {
                let counts = open_runs.remove(&run).unwrap_or_default();
                store.finish_run(run, &checks, counts)?;
            }
            ToWriter::CentralDecisions(decisions) => {
                due.extend(store.record_central_decisions(&decisions)?);
            }
        }
    }
    refresh_due(&mut store, shared, &mut due)?;
    for (run, counts) in open_runs {
        store.end_run(run, "interrupted", counts)?;
    }
    store.log("service_stopped", "")?;
    shared.writer_done.store(true, Ordering::SeqCst);
    Ok(())
}

/// The central sync of the configured `[central]` section.
fn central_sync_for(
    shared: &Arc<Shared>,
    keys: crate::keys::KeySet,
) -> anyhow::Result<crate::central::sync::SiteSync> {
    let records_of = shared.clone();
    let sync = crate::central::sync::SiteSync::new(
        &shared.cfg,
        keys,
        Box::new(move || records_of.records()),
    )?;
    tracing::info!(
        centre = %sync.target().shown(),
        site = %sync.site(),
        "changes are shipped to the central database"
    );
    Ok(sync)
}

/// The central sync thread: ships the outbox every `sync_interval_secs`
/// (backing off while the centre is unreachable; the service goes on),
/// hands decisions made at the centre to the writer, and on shutdown ships
/// what the writer committed last. It never stops the service.
fn central_sync(
    shared: &Shared,
    mut sync: crate::central::sync::SiteSync,
    to_writer: SyncSender<ToWriter>,
    mode: Mode,
) {
    let interval = Duration::from_secs(
        shared
            .cfg
            .central
            .as_ref()
            .map_or(10, |c| c.sync_interval_secs),
    );
    sync.run_until(interval, &|| shared.stopping(), &mut |decisions| {
        to_writer
            .send(ToWriter::CentralDecisions(decisions))
            .is_ok()
    });
    drop(to_writer); // the writer ends once every sender is gone
                     // `run --once` ships everything before it exits; a stopping service
                     // ships for a few seconds, and the rest on its next start.
    let deadline = match mode {
        Mode::Once => None,
        Mode::Resident => Some(Instant::now() + Duration::from_secs(10)),
    };
    sync.flush(&|| shared.writer_done.load(Ordering::SeqCst), deadline);
}

/// The records verdicts of the files scanned since the last batch.
fn refresh_due(store: &mut Store, shared: &Shared, due: &mut Vec<i64>) -> anyhow::Result<()> {
    if due.is_empty() {
        return Ok(());
    }
    due.sort_unstable();
    due.dedup();
    records::refresh(
        store,
        &shared.records(),
        crate::time::today_jst(),
        Some(due),
    )?;
    due.clear();
    Ok(())
}

/// A scan worker: event jobs first, then reconcile jobs; scans in worker
/// processes; a file that changed while it was read is looked at again.
fn scan_worker(
    shared: &Shared,
    hi: &Mutex<Receiver<Job>>,
    lo: &Mutex<Receiver<Job>>,
    to_writer: &SyncSender<ToWriter>,
    again: &Sender<notify::Result<notify::Event>>,
) {
    loop {
        // On shutdown, finish the file in hand but take no more.
        if shared.stopping() {
            return;
        }
        let job = hi
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .try_recv()
            .ok()
            .or_else(|| {
                lo.lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .recv_timeout(Duration::from_millis(100))
                    .ok()
            });
        let Some(job) = job else { continue };
        let scanner = shared.scanner();
        let set: Arc<str> = Arc::from(scanner.set_version());
        let run = job.run;
        let file = FileRef::new(job.path.clone(), job.size, job.mtime_ns);
        let mut writer_gone = false;
        let outcome = scanner.scan_file(&shared.roots, file, job.known_hash, &mut |part| {
            writer_gone |= to_writer
                .send(ToWriter::Outcome(Box::new(part), run, set.clone()))
                .is_err();
        });
        let changed = matches!(&outcome, Outcome::Done { end, .. } if end.changed_during_scan);
        shared
            .queued
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&job.path);
        if writer_gone
            || to_writer
                .send(ToWriter::Outcome(Box::new(outcome), run, set))
                .is_err()
        {
            return; // the writer failed: the supervisor stops the service
        }
        if job.reconcile {
            shared.reconcile_pending.fetch_sub(1, Ordering::SeqCst);
        }
        if changed {
            // Look again once it has settled (as if an event came).
            let ev = notify::Event::new(notify::EventKind::Modify(notify::event::ModifyKind::Any))
                .add_path(job.path);
            let _ = again.send(Ok(ev));
        }
    }
}

/// The reconcile walk: every root now and every interval (once, in
/// [`Mode::Once`]).
fn reconcile(
    shared: &Shared,
    to_writer: &SyncSender<ToWriter>,
    lo: &SyncSender<Job>,
    reader: &rusqlite::Connection,
    mode: Mode,
) -> anyhow::Result<()> {
    let interval = Duration::from_secs(shared.cfg.service.reconcile_interval_secs);
    while !shared.stopping() {
        let scanner = shared.scanner();
        let set = scanner.set_version().to_string();
        let (reply, run_rx) = channel();
        to_writer.send(ToWriter::BeginRun(shared.roots.clone(), set.clone(), reply))?;
        let run = run_rx.recv()?;
        tracing::info!(run, "reconcile walk started");
        let mut checks = Vec::new();
        for root in &shared.roots {
            let mut check = RootCheck::inspect(root);
            if check.problem.is_none() {
                check.files = walk_root(shared, &scanner, root, run, &set, reader, to_writer, lo)?;
            } else {
                tracing::warn!(
                    root = %crate::paths::display(root),
                    "root unavailable: {}",
                    check.problem.as_deref().unwrap_or_default()
                );
            }
            checks.push(check);
            if shared.stopping() {
                return Ok(());
            }
        }
        // Wait for this walk's files before sweeping deletions.
        while shared.reconcile_pending.load(Ordering::SeqCst) > 0 && !shared.stopping() {
            std::thread::sleep(Duration::from_millis(50));
        }
        if shared.stopping() {
            return Ok(());
        }
        let files: u64 = checks.iter().map(|c| c.files).sum();
        to_writer.send(ToWriter::FinishRun(run, checks))?;
        tracing::info!(run, files, "reconcile walk finished");
        if mode == Mode::Once {
            shared.stop.store(true, Ordering::SeqCst);
            return Ok(());
        }
        let until = Instant::now() + interval;
        while Instant::now() < until && !shared.stopping() {
            std::thread::sleep(Duration::from_millis(100));
        }
    }
    Ok(())
}

/// Walks one root: unchanged files are touched, the others queued (a full
/// queue holds the walk back: bounded memory). Returns the files seen.
#[allow(clippy::too_many_arguments)]
fn walk_root(
    shared: &Shared,
    scanner: &Scanner,
    root: &Path,
    run: i64,
    set: &str,
    reader: &rusqlite::Connection,
    to_writer: &SyncSender<ToWriter>,
    lo: &SyncSender<Job>,
) -> anyhow::Result<u64> {
    let mut files = 0u64;
    for item in walk_below(root, root.to_path_buf(), &scanner.walk) {
        if shared.stopping() {
            break;
        }
        let (path, size, mtime_ns) = match item {
            WalkItem::File {
                path,
                size,
                mtime_ns,
            } => (path, size, mtime_ns),
            WalkItem::Unreadable {
                path,
                reason,
                detail,
            } => {
                files += 1;
                let mut o = Outcome::unreadable(FileRef::new(path, 0, 0), reason, None, detail);
                scanner.finish_outcome(&shared.roots, &mut o);
                to_writer.send(ToWriter::Outcome(Box::new(o), run, Arc::from(set)))?;
                continue;
            }
            WalkItem::Missing { .. } => continue,
        };
        files += 1;
        // First check: size, mtime and detector set as stored.
        // Second (in the worker): the content hash.
        let (unchanged, known_hash) =
            crate::store::stored_state(reader, &scanner.keys, &path, size, mtime_ns, set);
        let newly_queued = !unchanged
            && shared
                .queued
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .insert(path.clone());
        if !newly_queued {
            // Unchanged, or already queued by an event: make this run see it.
            let o = Outcome::Unchanged {
                file: FileRef::new(path, size, mtime_ns),
                by_hash: false,
            };
            to_writer.send(ToWriter::Outcome(Box::new(o), run, Arc::from(set)))?;
            continue;
        }
        shared.reconcile_pending.fetch_add(1, Ordering::SeqCst);
        let mut job = Job {
            path,
            size,
            mtime_ns,
            run,
            reconcile: true,
            known_hash,
        };
        loop {
            match lo.try_send(job) {
                Ok(()) => break,
                Err(TrySendError::Full(j)) if !shared.stopping() => {
                    job = j;
                    std::thread::sleep(Duration::from_millis(10));
                }
                Err(_) => break,
            }
        }
    }
    Ok(files)
}

/// File events for `watch = "events"` roots (and files to look at again),
/// debounced until size and mtime are stable.
fn watch(
    shared: &Shared,
    ev_tx: Sender<notify::Result<notify::Event>>,
    events: Receiver<notify::Result<notify::Event>>,
    to_writer: &SyncSender<ToWriter>,
    hi: &SyncSender<Job>,
    run: i64,
) -> anyhow::Result<()> {
    let watched: Vec<PathBuf> = shared
        .cfg
        .roots
        .iter()
        .filter(|r| r.watch == WatchMode::Events)
        .map(|r| r.path.clone())
        .collect();
    let mut watcher = notify::recommended_watcher(ev_tx)?;
    for r in &watched {
        use notify::Watcher;
        if let Err(e) = watcher.watch(r, notify::RecursiveMode::Recursive) {
            tracing::warn!(
                root = %crate::paths::display(r),
                "cannot watch: {e}; the reconcile walk still covers it"
            );
        }
    }
    let debounce = Duration::from_millis(shared.cfg.service.debounce_ms);
    let stable = Duration::from_millis(shared.cfg.service.stable_ms);
    // path → (when to look again, last seen (size, mtime))
    let mut pending: Pending = HashMap::new();
    while !shared.stopping() {
        match events.recv_timeout(Duration::from_millis(50)) {
            Ok(Ok(ev)) => {
                if matches!(ev.kind, notify::EventKind::Access(_)) {
                    continue;
                }
                for p in ev.paths {
                    if shared.roots.iter().any(|r| p.starts_with(r)) {
                        pending.insert(p, (Instant::now() + debounce, None));
                    }
                }
            }
            Ok(Err(e)) => {
                tracing::warn!("file events: {e}; the reconcile walk still covers the roots")
            }
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => return Ok(()),
        }
        let now = Instant::now();
        let due: Vec<PathBuf> = pending
            .iter()
            .filter(|(_, (t, _))| *t <= now)
            .map(|(p, _)| p.clone())
            .collect();
        for p in due {
            let Some((_, last)) = pending.remove(&p) else {
                continue;
            };
            look_at(
                shared,
                &mut pending,
                p,
                last,
                now,
                stable,
                debounce,
                to_writer,
                hi,
                run,
            )?;
        }
    }
    Ok(())
}

/// A path whose events have settled: a deletion (of a file or a whole
/// directory), a file to queue once stable, or a directory to look into.
#[allow(clippy::too_many_arguments)]
fn look_at(
    shared: &Shared,
    pending: &mut Pending,
    p: PathBuf,
    last: Option<(u64, i64)>,
    now: Instant,
    stable: Duration,
    debounce: Duration,
    to_writer: &SyncSender<ToWriter>,
    hi: &SyncSender<Job>,
    run: i64,
) -> anyhow::Result<()> {
    let Some(root) = shared.roots.iter().find(|r| p.starts_with(r)) else {
        return Ok(());
    };
    let scanner = shared.scanner();
    let rel = p.strip_prefix(root).unwrap_or(&p);
    match std::fs::symlink_metadata(&p) {
        Err(_) => {
            // Gone: the file, or every file under a directory moved away.
            // A missing root itself is not a deletion (an unmount).
            if &p != root && root.exists() {
                to_writer.send(ToWriter::Deleted(p, run))?;
            }
        }
        Ok(m) if m.is_file() => {
            if !scanner.walk.admits(rel) {
                return Ok(());
            }
            let cur = (m.len(), m.modified().map(crate::time::nanos).unwrap_or(0));
            if last != Some(cur) {
                // Still being written (or first look): look again later.
                pending.insert(p, (now + stable, Some(cur)));
            } else if shared
                .queued
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .insert(p.clone())
            {
                let job = Job {
                    path: p.clone(),
                    size: cur.0,
                    mtime_ns: cur.1,
                    run,
                    reconcile: false,
                    known_hash: None,
                };
                // A full event queue drops the event: the reconcile walk
                // will see the file.
                if hi.try_send(job).is_err() {
                    shared
                        .queued
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .remove(&p);
                }
            }
        }
        Ok(m) if m.is_dir() => {
            // A directory created (or moved in): files put into it before its
            // watch was added raise no event of their own (an inotify race),
            // so look inside, under the same rules as the walk.
            for item in walk_below(root, p, &scanner.walk) {
                if let WalkItem::File { path, .. } = item {
                    pending.entry(path).or_insert((now + debounce, None));
                }
            }
        }
        Ok(_) => {}
    }
    Ok(())
}
