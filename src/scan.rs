//! `mamori scan`: walk once, scan files in parallel (rayon, one file per
//! task), and hand every outcome to one writer thread (ripgrep's single
//! printer). A per-file problem is an outcome, never an abort.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::sync_channel;
use std::time::Instant;

use rayon::prelude::*;

use crate::detect::Engine;
use crate::extract::{Dispatcher, Limits};
use crate::finding::Confidence;
use crate::output::{OutcomeSink, ScanStats};
use crate::pipeline::{scan_file_streaming, FileOutcome};
use crate::walk::{walk, WalkItem, WalkOptions};

/// Whether a file (path, size, modification time in ns) is unchanged since
/// the store last saw it.
pub type UnchangedCheck<'a> = dyn Fn(&std::path::Path, u64, i64) -> bool + Sync + 'a;

/// What one scan needs.
pub struct ScanJob<'a> {
    pub roots: &'a [PathBuf],
    pub walk: &'a WalkOptions,
    pub engine: &'a Engine,
    pub dispatcher: &'a Dispatcher,
    pub limits: &'a Limits,
    pub min_confidence: Confidence,
    /// Worker threads; 0 = one per core, at most 8.
    pub threads: usize,
    /// Extract in worker processes (None: in this process).
    pub workers: Option<&'a crate::isolate::WorkerPool>,
    /// The office's own mail domains.
    pub internal_domains: &'a [String],
    /// With a store and `--incremental`: whether a file (path, size, mtime)
    /// is unchanged since last stored, so it need not be opened.
    pub unchanged: Option<&'a UnchangedCheck<'a>>,
}

/// What a scan reports back besides the outcomes.
#[derive(Debug, Default)]
pub struct ScanReport {
    pub stats: ScanStats,
    /// PATH arguments that do not exist.
    pub missing: Vec<PathBuf>,
}

/// Called by the writer thread after each outcome (progress display).
pub type Progress<'a> = &'a (dyn Fn(&ScanStats) + Sync);

/// Runs the scan, feeding `sink` from a single thread.
pub fn run(
    job: &ScanJob<'_>,
    sink: &mut (dyn OutcomeSink + Send),
    progress: Progress<'_>,
) -> std::io::Result<ScanReport> {
    let started = Instant::now();
    let threads = if job.threads == 0 {
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(2)
            .min(8)
    } else {
        job.threads
    };
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .thread_name(|i| format!("mamori-scan-{i}"))
        .build()
        .map_err(std::io::Error::other)?;
    let (tx, rx) = sync_channel::<FileOutcome>(256);
    let (missing_tx, missing_rx) = std::sync::mpsc::channel::<PathBuf>();
    let stop = AtomicBool::new(false);
    let min = job.min_confidence;

    std::thread::scope(|scope| {
        let writer = scope.spawn(|| -> std::io::Result<ScanStats> {
            let mut stats = ScanStats::default();
            for outcome in rx {
                stats.add(&outcome, min);
                if let Err(e) = sink.accept(&outcome) {
                    stop.store(true, Ordering::Relaxed);
                    return Err(e);
                }
                progress(&stats);
            }
            stats.elapsed = started.elapsed();
            sink.finish(&stats)?;
            Ok(stats)
        });
        pool.install(|| {
            walk(job.roots, job.walk).par_bridge().for_each(|item| {
                if stop.load(Ordering::Relaxed) {
                    return;
                }
                let outcome = match item {
                    WalkItem::File {
                        path,
                        size,
                        mtime_ns,
                    } if job.unchanged.is_some_and(|f| f(&path, size, mtime_ns)) => FileOutcome {
                        path,
                        size,
                        modified_ns: mtime_ns,
                        unchanged: true,
                        ..FileOutcome::default()
                    },
                    WalkItem::File { path, size, .. } => match job.workers {
                        Some(pool) => pool.scan_streaming(&path, size, None, &mut |part| {
                            let _ = tx.send(part);
                        }),
                        None => scan_file_streaming(
                            &path,
                            size,
                            job.engine,
                            job.dispatcher,
                            job.limits,
                            job.internal_domains,
                            None,
                            &mut |part| {
                                let _ = tx.send(part);
                            },
                        ),
                    },
                    WalkItem::Unreadable {
                        path,
                        reason,
                        detail,
                    } => FileOutcome::unreadable(&path, 0, reason, detail),
                    WalkItem::Missing { path } => {
                        let _ = missing_tx.send(path);
                        return;
                    }
                };
                if tx.send(outcome).is_err() {
                    stop.store(true, Ordering::Relaxed);
                }
            });
        });
        drop(tx);
        drop(missing_tx);
        let stats = writer.join().expect("writer thread does not panic")?;
        Ok(ScanReport {
            stats,
            missing: missing_rx.into_iter().collect(),
        })
    })
}
