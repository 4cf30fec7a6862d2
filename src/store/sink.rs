//! Writing scan outcomes to the store from the scan's single writer thread,
//! while passing them on to the printed output (`mamori scan --db`).

use std::path::{Path, PathBuf};

use super::{RootCheck, RunCounts, Store};
use crate::outcome::{Outcome, OutcomeSink, ScanStats, SinkError};

/// Records every outcome of one run, then prints it through `inner`.
pub struct StoreSink {
    store: Store,
    run: i64,
    roots: Vec<PathBuf>,
    detector_set: String,
    inner: Box<dyn OutcomeSink + Send>,
    /// The roots as inspected before the walk; files counted as recorded.
    checks: Vec<RootCheck>,
    /// Set when the scan was stopped (SIGTERM/SIGINT): the run is closed
    /// `interrupted`, without a deletion sweep.
    interrupted: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

fn store_error(e: super::StoreError) -> SinkError {
    SinkError::Store(Box::new(e))
}

impl StoreSink {
    /// Starts a run over `roots` in `store`.
    pub fn new(
        store: Store,
        roots: &[PathBuf],
        detector_set: &str,
        inner: Box<dyn OutcomeSink + Send>,
        interrupted: std::sync::Arc<std::sync::atomic::AtomicBool>,
    ) -> Result<Self, super::StoreError> {
        let run = store.begin_run(roots, detector_set)?;
        Ok(StoreSink {
            store,
            run,
            roots: roots.to_vec(),
            detector_set: detector_set.to_string(),
            inner,
            checks: roots.iter().map(|r| RootCheck::inspect(r)).collect(),
            interrupted,
        })
    }

    fn root_of(&self, path: &Path) -> Option<usize> {
        self.roots
            .iter()
            .enumerate()
            .filter(|(_, r)| path.starts_with(r))
            .max_by_key(|(_, r)| r.as_os_str().len())
            .map(|(i, _)| i)
    }
}

impl OutcomeSink for StoreSink {
    fn accept(&mut self, o: &Outcome) -> Result<(), SinkError> {
        let root = self.root_of(&o.file().path);
        if o.is_last() {
            if let Some(i) = root {
                self.checks[i].files += 1;
            }
        }
        let root = root.map(|i| self.roots[i].clone());
        self.store
            .record(self.run, root.as_deref(), o, &self.detector_set)
            .map_err(store_error)?;
        self.inner.accept(o)
    }

    fn finish(&mut self, stats: &ScanStats) -> Result<(), SinkError> {
        let counts = RunCounts {
            files: stats.files,
            findings: stats.findings,
            unreadable: stats.unreadable,
        };
        if self.interrupted.load(std::sync::atomic::Ordering::Relaxed) {
            self.store
                .end_run(self.run, "interrupted", counts)
                .map_err(store_error)?;
        } else {
            self.store
                .finish_run(self.run, &self.checks, counts)
                .map_err(store_error)?;
        }
        self.inner.finish(stats)
    }
}
