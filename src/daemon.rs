//! `mamori run`: the service. Keeps the store current as files are added,
//! changed, moved and deleted under the configured roots.
//!
//! Threads, one job each:
//! - **writer**: owns the only writing store connection; every outcome is
//!   one transaction, so a kill at any moment loses only files in flight;
//! - **reconcile**: walks every root at start and every
//!   `reconcile_interval_secs` (the source of truth: events are a
//!   shortcut, and network shares raise none); unchanged files (size,
//!   mtime, detector set) are not opened; files gone are marked deleted;
//! - **watch**: file-system events (notify) for `watch = "events"` roots,
//!   debounced; a file is queued once its size and mtime are stable;
//! - **scan workers**: take event jobs before reconcile jobs (two bounded
//!   queues) and scan in extraction worker processes.
//!
//! SIGTERM/SIGINT: stop taking work, finish files in flight, close the runs.
//! SIGHUP: reload detectors and scan settings after validating them; on
//! error the running ones stay (roots and the database need a restart).

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc::{channel, sync_channel, Receiver, RecvTimeoutError, Sender, SyncSender};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use anyhow::Context;

use crate::config::{Config, WatchMode};
use crate::detect::Engine;
use crate::finding::Fingerprinter;
use crate::isolate::{WorkerConfig, WorkerPool};
use crate::pipeline::FileOutcome;
use crate::store::Store;
use crate::walk::{walk, WalkItem, WalkOptions};

/// Shutdown and reload requests (from signals, or Windows' service manager).
#[derive(Clone, Default)]
pub struct Control {
    pub shutdown: Arc<AtomicBool>,
    pub reload: Arc<AtomicBool>,
}

/// What the scan side needs; swapped as a whole on reload.
struct Scanner {
    pool: WorkerPool,
    set_version: String,
}

enum ToWriter {
    Outcome(FileOutcome, i64),
    Touch(PathBuf, i64),
    /// The service's state for `mamori status` (jobs waiting).
    Queue(usize),
    Deleted(PathBuf, i64),
    BeginRun(Vec<PathBuf>, String, Sender<i64>),
    FinishRun(i64, Vec<PathBuf>, u64),
}

struct Job {
    path: PathBuf,
    size: u64,
    run: i64,
    reconcile: bool,
    /// The stored content hash (the walk's second check).
    known_hash: Option<[u8; 32]>,
}

fn build_scanner(cfg: &Config, key: [u8; 32], exe: &Path) -> anyhow::Result<Scanner> {
    let engine = Engine::load(cfg.scan.detectors_dir.as_deref(), Fingerprinter::new(key))
        .context("loading detectors")?;
    let failures: Vec<String> = engine
        .detectors()
        .iter()
        .flat_map(|d| engine.check_examples(d))
        .collect();
    if !failures.is_empty() {
        anyhow::bail!("detector examples fail: {}", failures.join("; "));
    }
    let set_version = engine.set_version().to_string();
    let pool = WorkerPool::new(WorkerConfig {
        exe: exe.to_path_buf(),
        detectors: cfg.scan.detectors_dir.clone(),
        limits: cfg.limits(),
        memory_bytes: cfg.scan.worker_memory_bytes,
        key,
        internal_domains: cfg.scan.internal_domains.clone(),
    });
    Ok(Scanner { pool, set_version })
}

/// Runs the service until `control.shutdown` is set.
pub fn run(config_path: &Path, control: Control) -> anyhow::Result<()> {
    let cfg = Config::load(config_path)?;
    let key = crate::keys::load_or_create(&cfg.key_file())
        .with_context(|| format!("fingerprint key {}", cfg.key_file().display()))?;
    let exe = std::env::current_exe().context("locating the mamori executable")?;
    let store = Store::open(&cfg.store.database)
        .with_context(|| format!("opening {}", cfg.store.database.display()))?;
    store.check_key(&Fingerprinter::new(key).key_check())?;
    store.close_interrupted_runs()?;
    store.log("service_started", &config_path.display().to_string())?;
    let reader = Mutex::new(Store::open_read_only(&cfg.store.database)?);
    let scanner = Arc::new(RwLock::new(Arc::new(build_scanner(&cfg, key, &exe)?)));
    let roots: Vec<PathBuf> = cfg.roots.iter().map(|r| r.path.clone()).collect();
    let walk_opts = WalkOptions::new(&[], &cfg.scan.exclude, cfg.scan.default_excludes)?;

    let (to_writer, writer_rx) = sync_channel::<ToWriter>(256);
    let (hi_tx, hi_rx) = sync_channel::<Job>(cfg.service.queue_capacity);
    let (lo_tx, lo_rx) = sync_channel::<Job>(cfg.service.queue_capacity);
    let (hi_rx, lo_rx) = (Mutex::new(hi_rx), Mutex::new(lo_rx));
    let queued: Mutex<HashSet<PathBuf>> = Mutex::new(HashSet::new());
    let reconcile_pending = AtomicUsize::new(0);
    let stop = &control.shutdown;

    // The run that event-driven scans are recorded under.
    let event_run = store.begin_run(&roots, &scanner.read().expect("lock").set_version)?;
    let workers = if cfg.scan.workers == 0 {
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(2)
            .min(8)
    } else {
        cfg.scan.workers
    };

    std::thread::scope(|s| -> anyhow::Result<()> {
        // Writer: the only writing connection.
        let roots_for_writer = roots.clone();
        let writer = s.spawn(move || -> anyhow::Result<()> {
            let mut store = store;
            for msg in writer_rx {
                match msg {
                    ToWriter::Outcome(o, run) => {
                        let set = scanner_set(&o);
                        let root = roots_for_writer
                            .iter()
                            .find(|r| o.path.starts_with(r))
                            .cloned();
                        if o.unchanged {
                            store.touch_changed_mtime(run, &o)?;
                        } else {
                            store.record(run, root.as_deref(), &o, &set)?;
                        }
                    }
                    ToWriter::Queue(n) => store.set_meta("queue_length", &n.to_string())?,
                    ToWriter::Touch(p, run) => store.touch(run, &p)?,
                    ToWriter::Deleted(p, run) => {
                        store.mark_deleted(run, &p)?;
                    }
                    ToWriter::BeginRun(roots, set, reply) => {
                        let _ = reply.send(store.begin_run(&roots, &set)?);
                    }
                    ToWriter::FinishRun(run, roots, files) => {
                        store.finish_run(run, &roots, files, 0, 0)?;
                    }
                }
            }
            store.end_run(event_run, "stopped")?;
            store.log("service_stopped", "")?;
            Ok(())
        });

        // Scan workers: event jobs first.
        let mut handles = Vec::new();
        for _ in 0..workers {
            let (hi_rx, lo_rx, queued, scanner, to_writer, pending) = (
                &hi_rx,
                &lo_rx,
                &queued,
                &scanner,
                to_writer.clone(),
                &reconcile_pending,
            );
            handles.push(s.spawn(move || loop {
                // On shutdown, finish the file in hand but take no more.
                if stop.load(Ordering::Relaxed) {
                    return;
                }
                let job = hi_rx.lock().expect("lock").try_recv().ok().or_else(|| {
                    lo_rx
                        .lock()
                        .expect("lock")
                        .recv_timeout(Duration::from_millis(100))
                        .ok()
                });
                let Some(job) = job else {
                    if stop.load(Ordering::Relaxed) {
                        return;
                    }
                    continue;
                };
                let sc = scanner.read().expect("lock").clone();
                let run = job.run;
                let outcome =
                    sc.pool
                        .scan_streaming(&job.path, job.size, job.known_hash, &mut |part| {
                            let _ = to_writer
                                .send(ToWriter::Outcome(part.with_set(&sc.set_version), run));
                        });
                queued.lock().expect("lock").remove(&job.path);
                let _ = to_writer.send(ToWriter::Outcome(outcome.with_set(&sc.set_version), run));
                if job.reconcile {
                    pending.fetch_sub(1, Ordering::SeqCst);
                }
            }));
        }

        // Reconcile: walk every root now and every interval.
        let reconcile = {
            let (to_writer, queued, scanner, roots, walk_opts, reader, pending) = (
                to_writer.clone(),
                &queued,
                &scanner,
                &roots,
                &walk_opts,
                &reader,
                &reconcile_pending,
            );
            let interval = Duration::from_secs(cfg.service.reconcile_interval_secs);
            s.spawn(move || -> anyhow::Result<()> {
                while !stop.load(Ordering::Relaxed) {
                    let set = scanner.read().expect("lock").set_version.clone();
                    let (reply, run_rx) = channel();
                    to_writer.send(ToWriter::BeginRun(roots.clone(), set.clone(), reply))?;
                    let run = run_rx.recv()?;
                    tracing::info!(run, "reconcile walk started");
                    let mut files = 0u64;
                    for item in walk(roots, walk_opts) {
                        if stop.load(Ordering::Relaxed) {
                            break;
                        }
                        let WalkItem::File {
                            path,
                            size,
                            mtime_ns,
                        } = item
                        else {
                            continue;
                        };
                        files += 1;
                        // First check: size, mtime and detector set as stored.
                        // Second (in the worker): the content hash.
                        let (unchanged, known_hash) = {
                            let conn = reader.lock().expect("lock");
                            crate::store::stored_state(&conn, &path, size, mtime_ns, &set)
                        };
                        if unchanged {
                            to_writer.send(ToWriter::Touch(path, run))?;
                        } else if queued.lock().expect("lock").insert(path.clone()) {
                            pending.fetch_add(1, Ordering::SeqCst);
                            // A full queue holds the walk back (bounded memory);
                            // a shutdown lets it go.
                            let mut job = Job {
                                path,
                                size,
                                run,
                                reconcile: true,
                                known_hash,
                            };
                            loop {
                                match lo_tx.try_send(job) {
                                    Ok(()) => break,
                                    Err(std::sync::mpsc::TrySendError::Full(j))
                                        if !stop.load(Ordering::Relaxed) =>
                                    {
                                        job = j;
                                        std::thread::sleep(Duration::from_millis(10));
                                    }
                                    Err(_) => break,
                                }
                            }
                        } else {
                            // Already queued by an event: make this run see it.
                            to_writer.send(ToWriter::Touch(path, run))?;
                        }
                    }
                    // Wait for this walk's files before sweeping deletions.
                    while pending.load(Ordering::SeqCst) > 0 && !stop.load(Ordering::Relaxed) {
                        std::thread::sleep(Duration::from_millis(50));
                    }
                    if stop.load(Ordering::Relaxed) {
                        break;
                    }
                    to_writer.send(ToWriter::FinishRun(run, roots.clone(), files))?;
                    tracing::info!(run, files, "reconcile walk finished");
                    let until = Instant::now() + interval;
                    while Instant::now() < until && !stop.load(Ordering::Relaxed) {
                        std::thread::sleep(Duration::from_millis(100));
                    }
                }
                Ok(())
            })
        };

        // Watch: file-system events, debounced until size and mtime are stable.
        let watched: Vec<PathBuf> = cfg
            .roots
            .iter()
            .filter(|r| r.watch == WatchMode::Events)
            .map(|r| r.path.clone())
            .collect();
        let watcher = {
            let (to_writer, queued) = (to_writer.clone(), &queued);
            let (debounce, stable) = (
                Duration::from_millis(cfg.service.debounce_ms),
                Duration::from_millis(cfg.service.stable_ms),
            );
            let walk_opts = &walk_opts;
            s.spawn(move || -> anyhow::Result<()> {
                if watched.is_empty() {
                    return Ok(());
                }
                let (ev_tx, ev_rx) = channel::<notify::Result<notify::Event>>();
                let mut w = notify::recommended_watcher(ev_tx)?;
                for r in &watched {
                    use notify::Watcher;
                    if let Err(e) = w.watch(r, notify::RecursiveMode::Recursive) {
                        tracing::warn!(
                            "cannot watch {}: {e}; the reconcile walk still covers it",
                            r.display()
                        );
                    }
                }
                watch_loop(
                    ev_rx, &to_writer, &hi_tx, queued, event_run, debounce, stable, walk_opts,
                    &watched, stop,
                );
                Ok(())
            })
        };

        // Signals: shutdown and reload; the queue length for `mamori status`.
        let mut last_queue = None;
        let mut tick = 0u32;
        while !stop.load(Ordering::Relaxed) {
            tick += 1;
            if tick % 20 == 0 {
                let n = queued.lock().expect("lock").len();
                if last_queue != Some(n) {
                    let _ = to_writer.send(ToWriter::Queue(n));
                    last_queue = Some(n);
                }
            }
            if control.reload.swap(false, Ordering::SeqCst) {
                match Config::load(config_path)
                    .map_err(anyhow::Error::from)
                    .and_then(|c| build_scanner(&c, key, &exe))
                {
                    Ok(new) => {
                        *scanner.write().expect("lock") = Arc::new(new);
                        tracing::info!("configuration and detectors reloaded");
                    }
                    Err(e) => {
                        tracing::error!("reload refused, keeping the running configuration: {e:#}")
                    }
                }
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        tracing::info!("shutting down: finishing files in flight");
        let _ = reconcile.join();
        let _ = watcher.join();
        for h in handles {
            let _ = h.join();
        }
        drop(to_writer);
        writer.join().expect("writer thread")?;
        Ok(())
    })
}

fn scanner_set(o: &FileOutcome) -> String {
    o.detector_set.clone().unwrap_or_default()
}

impl FileOutcome {
    fn with_set(mut self, set: &str) -> FileOutcome {
        self.detector_set = Some(set.to_string());
        self
    }
}

#[allow(clippy::too_many_arguments)]
fn watch_loop(
    events: Receiver<notify::Result<notify::Event>>,
    to_writer: &SyncSender<ToWriter>,
    hi: &SyncSender<Job>,
    queued: &Mutex<HashSet<PathBuf>>,
    run: i64,
    debounce: Duration,
    stable: Duration,
    walk_opts: &WalkOptions,
    roots: &[PathBuf],
    stop: &AtomicBool,
) {
    // path → (when to look again, last seen (size, mtime))
    let mut pending: HashMap<PathBuf, (Instant, Option<(u64, i64)>)> = HashMap::new();
    while !stop.load(Ordering::Relaxed) {
        match events.recv_timeout(Duration::from_millis(50)) {
            Ok(Ok(ev)) => {
                use notify::EventKind;
                if matches!(ev.kind, EventKind::Access(_)) {
                    continue;
                }
                for p in ev.paths {
                    let rel_ok = roots
                        .iter()
                        .find(|r| p.starts_with(r))
                        .is_some_and(|r| !walk_opts.excludes(p.strip_prefix(r).unwrap_or(&p)));
                    if rel_ok {
                        pending
                            .entry(p)
                            .or_insert((Instant::now() + debounce, None))
                            .0 = Instant::now() + debounce;
                    }
                }
            }
            Ok(Err(e)) => {
                tracing::warn!("file events: {e}; the reconcile walk still covers the roots")
            }
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => return,
        }
        let now = Instant::now();
        let due: Vec<PathBuf> = pending
            .iter()
            .filter(|(_, (t, _))| *t <= now)
            .map(|(p, _)| p.clone())
            .collect();
        for p in due {
            let (_, last) = pending.remove(&p).expect("present");
            match std::fs::symlink_metadata(&p) {
                Err(_) => {
                    let _ = to_writer.send(ToWriter::Deleted(p, run));
                }
                Ok(m) if m.is_file() => {
                    let cur = (m.len(), m.modified().map(crate::time::nanos).unwrap_or(0));
                    if last != Some(cur) {
                        // Still being written (or first look): look again later.
                        pending.insert(p, (now + stable, Some(cur)));
                    } else if queued.lock().expect("lock").insert(p.clone()) {
                        // A full event queue drops the event: the reconcile walk
                        // will see the file.
                        if hi
                            .try_send(Job {
                                path: p.clone(),
                                size: cur.0,
                                run,
                                reconcile: false,
                                known_hash: None,
                            })
                            .is_err()
                        {
                            queued.lock().expect("lock").remove(&p);
                        }
                    }
                }
                Ok(m) if m.is_dir() => {
                    // A directory created (or moved in): files put into it before
                    // its watch was added raise no event of their own (an inotify
                    // race), so look inside.
                    for e in walkdir::WalkDir::new(&p)
                        .follow_links(false)
                        .into_iter()
                        .flatten()
                    {
                        if e.file_type().is_file() {
                            pending
                                .entry(e.into_path())
                                .or_insert((now + debounce, None));
                        }
                    }
                }
                Ok(_) => {}
            }
        }
    }
}
