//! The one builder: from the scan settings and the key, the objects every
//! command scans with (detection engine, extractors, limits, walk filters,
//! worker processes) and the one way to scan a file with them. `scan`,
//! `run`, `bench` and the worker all start here.

use std::path::{Path, PathBuf};

use anyhow::Context;

use crate::detect::Engine;
use crate::extract::{Dispatcher, Limits};
use crate::isolate::{WorkerConfig, WorkerPool};
use crate::keys::KeySet;
use crate::outcome::{FileRef, Outcome};
use crate::pipeline::{AfterDetection, FileScanner};
use crate::settings::ScanSettings;
use crate::walk::WalkOptions;

/// Where files are extracted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Isolation {
    /// In worker processes with memory limits (the default).
    Workers,
    /// In this process: faster to start, but a hostile file can take the
    /// whole scan down.
    InProcess,
}

/// Everything a scan needs, built once.
pub struct Scanner {
    pub settings: ScanSettings,
    pub engine: Engine,
    pub keys: KeySet,
    pub dispatcher: Dispatcher,
    pub limits: Limits,
    pub walk: WalkOptions,
    sensitive: crate::records::keywords::SensitiveKeywords,
    pool: Option<WorkerPool>,
}

impl Scanner {
    /// Validates the settings, loads the detectors (their examples must
    /// pass) and starts nothing yet: workers start on first use.
    pub fn build(
        settings: ScanSettings,
        key: [u8; 32],
        isolation: Isolation,
    ) -> anyhow::Result<Scanner> {
        settings.validate()?;
        let keys = KeySet::new(key);
        let engine = Engine::load(
            settings.detectors_dir.as_deref(),
            keys.fingerprinter().clone(),
        )
        .context("loading detectors")?;
        let failures: Vec<String> = engine
            .detectors()
            .iter()
            .flat_map(|d| engine.check_examples(d))
            .collect();
        if !failures.is_empty() {
            anyhow::bail!("detector examples fail: {}", failures.join("; "));
        }
        let pool = match isolation {
            Isolation::InProcess => None,
            Isolation::Workers => Some(WorkerPool::new(WorkerConfig {
                exe: std::env::current_exe()
                    .context("locating the mamori executable for workers")?,
                settings: settings.clone(),
                key,
            })),
        };
        Ok(Scanner {
            walk: settings.walk_options()?,
            sensitive: settings.sensitive_keywords(),
            limits: settings.limits(),
            dispatcher: Dispatcher::default(),
            settings,
            engine,
            keys,
            pool,
        })
    }

    /// A digest of the detector definitions (stored with each file).
    pub fn set_version(&self) -> &str {
        self.engine.set_version()
    }

    /// Scans one file (in a worker, or here), then runs the steps after
    /// detection on each of its outcomes. Parts of a large container go to
    /// `emit` as they come; the file's last outcome is returned. Never
    /// fails and never panics: problems are outcomes.
    pub fn scan_file(
        &self,
        roots: &[PathBuf],
        file: FileRef,
        known_hash: Option<[u8; 32]>,
        emit: &mut dyn FnMut(Outcome),
    ) -> Outcome {
        let after = AfterDetection {
            engine: &self.engine,
            roots,
            internal_domains: &self.settings.internal_domains,
        };
        let mut emit_after = |mut part: Outcome| {
            after.apply(&mut part);
            emit(part)
        };
        let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| match &self.pool {
            Some(pool) => pool.scan(file.clone(), known_hash, &mut emit_after),
            None => FileScanner {
                engine: &self.engine,
                dispatcher: &self.dispatcher,
                limits: &self.limits,
                keys: &self.keys,
                internal: &self.settings.internal_domains,
                sensitive: &self.sensitive,
            }
            .scan(file.clone(), known_hash.as_ref(), &mut emit_after),
        }));
        let mut last = caught.unwrap_or_else(|_| {
            tracing::error!(
                "scanning a file failed inside mamori; the file is reported not scanned"
            );
            Outcome::failed(
                file,
                "mamori failed on this file (internal error); not scanned",
            )
        });
        after.apply(&mut last);
        last
    }

    /// Applies the steps after detection to an outcome made elsewhere (the
    /// walk's unreadable entries, unchanged files).
    pub fn finish_outcome(&self, roots: &[PathBuf], outcome: &mut Outcome) {
        AfterDetection {
            engine: &self.engine,
            roots,
            internal_domains: &self.settings.internal_domains,
        }
        .apply(outcome);
    }

    /// The path as shown in logs and messages (escaped, names masked).
    pub fn shown(&self, roots: &[PathBuf], path: &Path) -> String {
        crate::names::display_path(&self.engine, roots, path).0
    }
}
