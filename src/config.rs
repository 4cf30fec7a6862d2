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
    /// How files are scanned (the same settings as `mamori scan`'s options).
    #[serde(default)]
    pub scan: crate::settings::ScanSettings,
    #[serde(default)]
    pub service: ServiceConfig,
    /// The shares and mail exports to watch.
    #[serde(rename = "root", default)]
    pub roots: Vec<RootConfig>,
    /// Records rules (`[records]`, `[[retention]]`, `[[my_number_area]]`,
    /// `[[legal_hold]]`): see `crate::records`.
    #[serde(default)]
    pub records: crate::records::rules::RecordsSettings,
    #[serde(default)]
    pub retention: Vec<crate::records::rules::RetentionRule>,
    #[serde(default)]
    pub my_number_area: Vec<crate::records::rules::MyNumberArea>,
    #[serde(default)]
    pub legal_hold: Vec<crate::records::rules::LegalHold>,
    /// The city's central PostgreSQL (`[central]`): this site's changes are
    /// shipped there; see `crate::central`.
    #[serde(default)]
    pub central: Option<CentralConfig>,
    /// The review screen (`mamori serve`): TLS, sessions, login limits.
    #[serde(default)]
    pub web: crate::web::WebConfig,
    /// Where scheduled weekly reports go (`mamori report weekly` without `--out`).
    #[serde(default)]
    pub report: ReportConfig,
}

/// `[report]`: the weekly report written on schedule.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReportConfig {
    /// Each week's report goes to `<directory>/<week>/` (e.g. `2026-W48`).
    #[serde(default = "default_report_directory")]
    pub directory: PathBuf,
    /// Week folders kept; older ones are removed after a new report is written.
    #[serde(default = "default_keep_weeks")]
    pub keep_weeks: usize,
}

impl Default for ReportConfig {
    fn default() -> Self {
        ReportConfig {
            directory: default_report_directory(),
            keep_weeks: default_keep_weeks(),
        }
    }
}

fn default_report_directory() -> PathBuf {
    PathBuf::from("/var/lib/mamori/reports")
}
fn default_keep_weeks() -> usize {
    12
}

/// `[central]`: where this site ships its changes. The password is never
/// here: it is read from `password_file` or `MAMORI_CENTRAL_PASSWORD`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CentralConfig {
    /// `postgres://user@host:port/database`, without a password.
    pub url: String,
    /// This file server's name in the central view (本庁舎, 支所 …).
    pub site: String,
    /// A file holding the password (a regular file, mode 0600).
    pub password_file: Option<PathBuf>,
    /// The CA certificate(s) of the centre's server (PEM): TLS is then
    /// required and the server's name is checked (`sslmode=verify-full`).
    /// Needed unless the centre is on this machine.
    pub ca_file: Option<PathBuf>,
    /// Ship changes this often.
    #[serde(default = "default_sync_interval")]
    pub sync_interval_secs: u64,
    /// Rows per central transaction.
    #[serde(default = "default_sync_batch")]
    pub batch_size: usize,
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
fn default_sync_interval() -> u64 {
    10
}
fn default_sync_batch() -> usize {
    2000
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
        error: Box<toml::de::Error>,
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
            error: Box::new(error),
        })?;
        let invalid = |message: String| ConfigError::Invalid {
            path: path.to_path_buf(),
            message,
        };
        // No root is allowed here: the records office's configuration for
        // `serve --central` has none (the sites' roots are the centre's);
        // the service refuses it (`require_roots`).
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
        if cfg.service.queue_capacity == 0 || cfg.service.queue_capacity > 1_000_000 {
            return Err(invalid(format!(
                "queue_capacity {} is out of range (1 to 1000000)",
                cfg.service.queue_capacity
            )));
        }
        if cfg.service.debounce_ms > 3_600_000 || cfg.service.stable_ms > 3_600_000 {
            return Err(invalid(
                "debounce_ms and stable_ms must be at most an hour".into(),
            ));
        }
        if cfg.report.keep_weeks == 0 {
            return Err(invalid("[report] keep_weeks must be at least 1".into()));
        }
        cfg.scan
            .validate()
            .map_err(|e| invalid(format!("[scan] {e}")))?;
        cfg.check_roots().map_err(invalid)?;
        if let Some(c) = &cfg.central {
            c.check().map_err(|e| invalid(format!("[central] {e}")))?;
        }
        cfg.records_context().map_err(|e| invalid(e.to_string()))?;
        cfg.web
            .validate()
            .map_err(|e| invalid(format!("[web] {e}")))?;
        // The scan looks for the configured 要配慮 keywords next to findings.
        let mut cfg = cfg;
        cfg.scan.sensitive_keywords = cfg.records.sensitive_keywords.clone();
        Ok(cfg)
    }

    /// The records sections as one value.
    pub fn records_config(&self) -> crate::records::RecordsConfig {
        crate::records::RecordsConfig {
            records: self.records.clone(),
            retention: self.retention.clone(),
            my_number_area: self.my_number_area.clone(),
            legal_hold: self.legal_hold.clone(),
        }
    }

    /// The records rules compiled, with the roots they apply under.
    pub fn records_context(
        &self,
    ) -> Result<crate::records::apply::RecordsContext, crate::records::RulesError> {
        crate::records::apply::RecordsContext::new(
            &self.records_config(),
            self.roots
                .iter()
                .map(|r| crate::records::apply::RootInfo {
                    path: r.path.clone(),
                    label: r.label.clone(),
                    mail_export: r.kind == RootKind::MailExport,
                })
                .collect(),
        )
    }

    /// Roots must be distinct and not nested (a file would belong to two),
    /// and must not contain the database or the key (mamori would scan its
    /// own store, and its writes would keep waking the watcher).
    fn check_roots(&self) -> Result<(), String> {
        let key = self.key_file();
        for (i, a) in self.roots.iter().enumerate() {
            for b in &self.roots[i + 1..] {
                if a.path == b.path {
                    return Err(format!("root {} is listed twice", a.path.display()));
                }
                if a.path.starts_with(&b.path) || b.path.starts_with(&a.path) {
                    return Err(format!(
                        "roots {} and {} are nested: a file would belong to both",
                        a.path.display(),
                        b.path.display()
                    ));
                }
            }
            for (what, p) in [("database", &self.store.database), ("key file", &key)] {
                if p.starts_with(&a.path) {
                    return Err(format!(
                        "the {what} {} is inside root {}: keep mamori's state outside the shares",
                        p.display(),
                        a.path.display()
                    ));
                }
            }
        }
        Ok(())
    }

    /// What can only be checked on the machine itself: the database's
    /// directory is writable, and every root exists and is a directory.
    /// `validate` reports all of them; the service refuses to start on the
    /// first, and only warns on a missing root (a share may be mounted later;
    /// nothing is marked deleted under it meanwhile).
    pub fn check_machine(&self) -> Vec<String> {
        let mut problems = Vec::new();
        if let Err(e) = self.check_database_dir() {
            problems.push(e);
        }
        for r in &self.roots {
            match std::fs::metadata(&r.path) {
                Ok(m) if m.is_dir() => {}
                Ok(_) => problems.push(format!("root {} is not a directory", r.path.display())),
                Err(e) => problems.push(format!("root {}: {e}", r.path.display())),
            }
        }
        problems
    }

    /// Whether the database's directory exists (or can be made) and is
    /// writable: SQLite needs to create its WAL files beside the database.
    pub fn check_database_dir(&self) -> Result<(), String> {
        let dir = self
            .store
            .database
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        if let Err(e) = std::fs::create_dir_all(dir) {
            return Err(format!("database directory {}: {e}", dir.display()));
        }
        let probe = dir.join(format!(".mamori-write-test-{}", std::process::id()));
        match std::fs::File::create(&probe) {
            Ok(_) => {
                let _ = std::fs::remove_file(&probe);
                Ok(())
            }
            Err(e) => Err(format!(
                "database directory {} is not writable: {e}",
                dir.display()
            )),
        }
    }

    /// The fingerprint key file.
    /// The service (`mamori run`) watches roots: a configuration without
    /// one is refused there.
    pub fn require_roots(&self) -> Result<(), String> {
        if self.roots.is_empty() {
            return Err("no [[root]] to watch (a configuration without roots serves only `mamori serve --central`)".into());
        }
        Ok(())
    }

    pub fn key_file(&self) -> PathBuf {
        self.store.key_file.clone().unwrap_or_else(|| {
            self.store
                .database
                .parent()
                .unwrap_or(Path::new("."))
                .join("fingerprint.key")
        })
    }
}

impl CentralConfig {
    /// The values' bounds, and a URL that parses, holds no password and
    /// uses TLS off this machine.
    pub fn check(&self) -> Result<(), String> {
        if self.site.trim().is_empty() {
            return Err("site is empty".into());
        }
        if self.site.chars().count() > 100 || self.site.contains(':') {
            return Err("site must be at most 100 characters, without ':'".into());
        }
        if self.sync_interval_secs == 0 || self.sync_interval_secs > 86_400 {
            return Err("sync_interval_secs must be 1 to 86400".into());
        }
        if self.batch_size == 0 || self.batch_size > 100_000 {
            return Err("batch_size must be 1 to 100000".into());
        }
        crate::central::connect::Target::check_url(&self.url, self.ca_file.is_some())
            .map_err(|e| e.to_string())
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
        // Without roots: loads (the centre's screen), refused by the service.
        let rootless = load("[store]\ndatabase = \"/x.db\"\n").unwrap();
        assert!(rootless.require_roots().is_err(), "no roots");
        assert!(load(base).unwrap().require_roots().is_ok());
    }

    #[test]
    fn settings_out_of_bounds_and_overlapping_roots_are_errors() {
        let base = "[store]\ndatabase = \"/var/lib/mamori/mamori.db\"\n[[root]]\npath = \"/srv/a\"\nlabel = \"総務課\"\n";
        for bad in [
            base.replace("[store]", "[scan]\nworkers = 100000\n[store]"),
            base.replace("[store]", "[scan]\ntimeout_secs = 0\n[store]"),
            base.replace("[store]", "[service]\nqueue_capacity = 0\n[store]"),
            format!("{base}[[root]]\npath = \"/srv/a\"\nlabel = \"x\"\n"),
            format!("{base}[[root]]\npath = \"/srv/a/sub\"\nlabel = \"x\"\n"),
            format!("{base}[[root]]\npath = \"/var/lib\"\nlabel = \"x\"\n"),
        ] {
            assert!(load(&bad).is_err(), "{bad}");
        }
    }
}
