//! `mamori.toml`: the service's configuration. Unknown keys are errors;
//! names carry their units (`_secs`, `_ms`, `_bytes`); every option has a
//! default, documented in `service/mamori.toml.example`.

use std::path::{Path, PathBuf};

use serde::Deserialize;

/// The whole file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Where mamori keeps its database and fingerprint key.
    pub store: StoreConfig,
    #[serde(default)]
    pub scan: ScanConfig,
    #[serde(default)]
    pub service: ServiceConfig,
    /// The shares and mail exports to watch.
    #[serde(rename = "root", default)]
    pub roots: Vec<RootConfig>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StoreConfig {
    /// The SQLite database (created owner-only).
    pub database: PathBuf,
    /// The fingerprint key file (created owner-only). Default: `fingerprint.key`
    /// beside the database.
    pub key_file: Option<PathBuf>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScanConfig {
    /// Extraction workers (0 = one per core, at most 8).
    #[serde(default)]
    pub workers: usize,
    /// Memory each worker may use.
    #[serde(default = "default_worker_memory")]
    pub worker_memory_bytes: u64,
    #[serde(default = "default_max_file_size")]
    pub max_file_size_bytes: u64,
    #[serde(default = "default_timeout")]
    pub timeout_secs: u64,
    /// Extra detector definitions.
    pub detectors_dir: Option<PathBuf>,
    /// The office's own mail domains.
    #[serde(default)]
    pub internal_domains: Vec<String>,
    /// Globs skipped under every root (Office lock and temp files are
    /// skipped unless `default_excludes = false`).
    #[serde(default)]
    pub exclude: Vec<String>,
    #[serde(default = "yes")]
    pub default_excludes: bool,
}

impl Default for ScanConfig {
    fn default() -> Self {
        ScanConfig {
            workers: 0,
            worker_memory_bytes: default_worker_memory(),
            max_file_size_bytes: default_max_file_size(),
            timeout_secs: default_timeout(),
            detectors_dir: None,
            internal_domains: Vec::new(),
            exclude: Vec::new(),
            default_excludes: true,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceConfig {
    /// A full walk of every root this often (the source of truth: events
    /// are only a shortcut).
    #[serde(default = "default_reconcile")]
    pub reconcile_interval_secs: u64,
    /// After a file event, wait this long for more events on the path.
    #[serde(default = "default_debounce")]
    pub debounce_ms: u64,
    /// A file is scanned once its size and mtime have not changed for this long.
    #[serde(default = "default_stable")]
    pub stable_ms: u64,
    /// Jobs waiting for a worker, at most (the walk waits beyond).
    #[serde(default = "default_queue")]
    pub queue_capacity: usize,
    /// error, warn, info, debug or trace.
    #[serde(default = "default_log_level")]
    pub log_level: String,
}

impl Default for ServiceConfig {
    fn default() -> Self {
        ServiceConfig {
            reconcile_interval_secs: default_reconcile(),
            debounce_ms: default_debounce(),
            stable_ms: default_stable(),
            queue_capacity: default_queue(),
            log_level: default_log_level(),
        }
    }
}

/// A share or mail export to watch.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RootConfig {
    pub path: PathBuf,
    /// The 課 or share name shown in reports.
    pub label: String,
    #[serde(default)]
    pub kind: RootKind,
    /// `events` (file-system events plus reconcile) or `poll` (reconcile
    /// only: network shares, where other clients' changes raise no events).
    #[serde(default)]
    pub watch: WatchMode,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RootKind {
    #[default]
    Share,
    MailExport,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WatchMode {
    #[default]
    Events,
    Poll,
}

fn yes() -> bool {
    true
}
fn default_worker_memory() -> u64 {
    2 << 30
}
fn default_max_file_size() -> u64 {
    256 << 20
}
fn default_timeout() -> u64 {
    120
}
fn default_reconcile() -> u64 {
    3600
}
fn default_debounce() -> u64 {
    500
}
fn default_stable() -> u64 {
    500
}
fn default_queue() -> usize {
    1024
}
fn default_log_level() -> String {
    "info".into()
}

/// Why a configuration cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("reading {path}: {error}")]
    Read {
        path: PathBuf,
        error: std::io::Error,
    },
    #[error("{path}: {error}")]
    Parse {
        path: PathBuf,
        error: toml::de::Error,
    },
    #[error("{path}: {message}")]
    Invalid { path: PathBuf, message: String },
}

impl Config {
    /// Reads and checks a configuration file.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|error| ConfigError::Read {
            path: path.to_path_buf(),
            error,
        })?;
        let cfg: Config = toml::from_str(&text).map_err(|error| ConfigError::Parse {
            path: path.to_path_buf(),
            error,
        })?;
        let invalid = |message: String| ConfigError::Invalid {
            path: path.to_path_buf(),
            message,
        };
        if cfg.roots.is_empty() {
            return Err(invalid("no [[root]] to watch".into()));
        }
        for (i, r) in cfg.roots.iter().enumerate() {
            if !r.path.is_absolute() {
                return Err(invalid(format!(
                    "root {} ({}): path must be absolute",
                    i + 1,
                    r.path.display()
                )));
            }
            if r.label.trim().is_empty() {
                return Err(invalid(format!("root {}: label is empty", i + 1)));
            }
        }
        if !["error", "warn", "info", "debug", "trace"].contains(&cfg.service.log_level.as_str()) {
            return Err(invalid(format!(
                "log_level {:?} is not error, warn, info, debug or trace",
                cfg.service.log_level
            )));
        }
        if cfg.service.reconcile_interval_secs == 0 {
            return Err(invalid("reconcile_interval_secs must be at least 1".into()));
        }
        crate::walk::WalkOptions::new(&[], &cfg.scan.exclude, cfg.scan.default_excludes)
            .map_err(|e| invalid(format!("exclude: {e}")))?;
        Ok(cfg)
    }

    /// The fingerprint key file.
    pub fn key_file(&self) -> PathBuf {
        self.store.key_file.clone().unwrap_or_else(|| {
            self.store
                .database
                .parent()
                .unwrap_or(Path::new("."))
                .join("fingerprint.key")
        })
    }

    /// The extraction limits.
    pub fn limits(&self) -> crate::extract::Limits {
        crate::extract::Limits {
            max_file_size: self.scan.max_file_size_bytes,
            timeout: std::time::Duration::from_secs(self.scan.timeout_secs),
            ..crate::extract::Limits::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(text: &str) -> Result<Config, ConfigError> {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("mamori.toml");
        std::fs::write(&p, text).unwrap();
        Config::load(&p)
    }

    #[test]
    fn the_shipped_example_loads() {
        let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("service/mamori.toml.example");
        let c = Config::load(&p).unwrap();
        assert!(!c.roots.is_empty());
        assert_eq!(c.service.reconcile_interval_secs, 3600);
    }

    #[test]
    fn unknown_keys_and_bad_values_are_errors() {
        let base = "[store]\ndatabase = \"/var/lib/mamori/mamori.db\"\n[[root]]\npath = \"/srv/a\"\nlabel = \"総務課\"\n";
        assert!(load(base).is_ok());
        assert!(load(&format!("{base}colour = 1\n")).is_err());
        assert!(load(&base.replace("[store]", "[store]\nflavour = 1")).is_err());
        assert!(load(&base.replace("/srv/a", "relative")).is_err());
        assert!(load(&format!("{base}watch = \"sometimes\"\n")).is_err());
        assert!(load("[store]\ndatabase = \"/x.db\"\n").is_err(), "no roots");
    }
}
