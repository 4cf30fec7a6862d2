//! Writing scan outcomes to the store from the scan's single writer thread,
//! while passing them on to the printed output.

use std::path::{Path, PathBuf};

use super::Store;
use crate::output::{OutcomeSink, ScanStats};
use crate::pipeline::FileOutcome;

/// Records every outcome of one run, then prints it through `inner`.
pub struct StoreSink {
    store: Store,
    run: i64,
    roots: Vec<PathBuf>,
    detector_set: String,
    inner: Box<dyn OutcomeSink + Send>,
}

impl StoreSink {
    /// Starts a run over `roots` in `store`.
    pub fn new(
        store: Store,
        roots: &[PathBuf],
        detector_set: &str,
        inner: Box<dyn OutcomeSink + Send>,
    ) -> Result<Self, super::StoreError> {
        let run = store.begin_run(roots, detector_set)?;
        Ok(StoreSink {
            store,
            run,
            roots: roots.to_vec(),
            detector_set: detector_set.to_string(),
            inner,
        })
    }

    fn root_of(&self, path: &Path) -> Option<&Path> {
        self.roots
            .iter()
            .find(|r| path.starts_with(r))
            .map(PathBuf::as_path)
    }
}

impl OutcomeSink for StoreSink {
    fn accept(&mut self, o: &FileOutcome) -> std::io::Result<()> {
        let result = if o.unchanged {
            self.store.touch(self.run, &o.path)
        } else {
            let root = self.root_of(&o.path).map(Path::to_path_buf);
            self.store
                .record(self.run, root.as_deref(), o, &self.detector_set)
        };
        result.map_err(std::io::Error::other)?;
        self.inner.accept(o)
    }

    fn finish(&mut self, stats: &ScanStats) -> std::io::Result<()> {
        self.store
            .finish_run(
                self.run,
                &self.roots,
                stats.files,
                stats.findings,
                stats.unreadable,
            )
            .map_err(std::io::Error::other)?;
        self.inner.finish(stats)
    }
}
