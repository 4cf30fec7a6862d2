//! `mamori scan`: walk once, scan files in parallel (rayon, one file per
//! task), and hand every outcome to one writer thread (ripgrep's single
//! printer). A per-file problem is an outcome, never an abort; a sink that
//! fails (output closed, store not writable) stops the scan.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::sync_channel;
use std::time::Instant;

use rayon::prelude::*;

use crate::finding::Confidence;
use crate::outcome::{FileRef, Outcome, OutcomeSink, ScanStats, SinkError};
use crate::scanner::Scanner;
use crate::walk::{walk, WalkItem};

/// Whether a file (path, size, modification time in ns) is unchanged since
/// the store last saw it, with the stored content hash for the second check.
pub type UnchangedCheck<'a> = dyn Fn(&Path, u64, i64) -> (bool, Option<[u8; 32]>) + Sync + 'a;

/// What one scan needs.
pub struct ScanJob<'a> {
    pub roots: &'a [PathBuf],
    pub scanner: &'a Scanner,
    pub min_confidence: Confidence,
    /// With a store and `--incremental`: whether a file is unchanged since
    /// last stored, so it need not be opened.
    pub unchanged: Option<&'a UnchangedCheck<'a>>,
    /// Set by SIGTERM/SIGINT: take no more files, finish, report.
    pub stop: &'a AtomicBool,
}

/// What a scan reports back besides the outcomes.
#[derive(Debug, Default)]
pub struct ScanReport {
    pub stats: ScanStats,
    /// PATH arguments that do not exist.
    pub missing: Vec<PathBuf>,
    /// The scan was stopped before every file was seen.
    pub interrupted: bool,
}

/// Called by the writer thread after each outcome (progress display).
pub type Progress<'a> = &'a (dyn Fn(&ScanStats) + Sync);

/// Runs the scan, feeding `sink` from a single thread.
pub fn run(
    job: &ScanJob<'_>,
    sink: &mut (dyn OutcomeSink + Send),
    progress: Progress<'_>,
) -> Result<ScanReport, SinkError> {
    let started = Instant::now();
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(job.scanner.settings.threads())
        .thread_name(|i| format!("mamori-scan-{i}"))
        .build()
        .map_err(std::io::Error::other)?;
    let (tx, rx) = sync_channel::<Outcome>(256);
    let (missing_tx, missing_rx) = std::sync::mpsc::channel::<PathBuf>();
    // The writer failed: stop walking.
    let sink_failed = AtomicBool::new(false);
    let min = job.min_confidence;
    let scanner = job.scanner;

    std::thread::scope(|scope| {
        let writer = scope.spawn(|| -> Result<ScanStats, SinkError> {
            let mut stats = ScanStats::default();
            for outcome in rx {
                stats.add(&outcome, min);
                if let Err(e) = sink.accept(&outcome) {
                    sink_failed.store(true, Ordering::Relaxed);
                    return Err(e);
                }
                progress(&stats);
            }
            stats.elapsed = started.elapsed();
            sink.finish(&stats)?;
            Ok(stats)
        });
        pool.install(|| {
            walk(job.roots, &scanner.walk)
                .par_bridge()
                .for_each(|item| {
                    if sink_failed.load(Ordering::Relaxed) || job.stop.load(Ordering::Relaxed) {
                        return;
                    }
                    let outcome = match item {
                        WalkItem::File {
                            path,
                            size,
                            mtime_ns,
                        } => {
                            let (unchanged, known_hash) = job
                                .unchanged
                                .map(|f| f(&path, size, mtime_ns))
                                .unwrap_or((false, None));
                            let file = FileRef::new(path, size, mtime_ns);
                            if unchanged {
                                let mut o = Outcome::Unchanged {
                                    file,
                                    by_hash: false,
                                };
                                scanner.finish_outcome(job.roots, &mut o);
                                o
                            } else {
                                scanner.scan_file(job.roots, file, known_hash, &mut |part| {
                                    let _ = tx.send(part);
                                })
                            }
                        }
                        WalkItem::Unreadable {
                            path,
                            reason,
                            detail,
                        } => {
                            let mut o =
                                Outcome::unreadable(FileRef::new(path, 0, 0), reason, None, detail);
                            scanner.finish_outcome(job.roots, &mut o);
                            o
                        }
                        WalkItem::Missing { path } => {
                            let _ = missing_tx.send(path);
                            return;
                        }
                    };
                    if tx.send(outcome).is_err() {
                        sink_failed.store(true, Ordering::Relaxed);
                    }
                });
        });
        drop(tx);
        drop(missing_tx);
        let stats = match writer.join() {
            Ok(r) => r?,
            Err(_) => {
                return Err(SinkError::Io(std::io::Error::other(
                    "the output thread failed",
                )))
            }
        };
        Ok(ScanReport {
            stats,
            missing: missing_rx.into_iter().collect(),
            interrupted: job.stop.load(Ordering::Relaxed),
        })
    })
}
