//! The scan settings, defined once: the same struct is the `[scan]` table
//! of `mamori.toml` (serde), the scan options of `mamori scan` (clap), the
//! worker process's arguments, and what `mamori bench` uses. One
//! `Default`, one place for bounds.

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use serde::Deserialize;

/// At most this many scan threads or worker processes: more only thrash
/// (100,000 threads were tried: the machine spent ten minutes creating
/// them, then the process aborted).
pub const MAX_WORKERS: usize = 256;
/// The longest time limit for one file (a day).
pub const MAX_TIMEOUT_SECS: u64 = 86_400;

/// A number of bytes, written `1048576`, `500K`, `256M` or `2G` (binary units).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct ByteSize(pub u64);

impl fmt::Display for ByteSize {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.0;
        for (unit, shift) in [("G", 30), ("M", 20), ("K", 10)] {
            if n != 0 && n.is_multiple_of(1 << shift) {
                return write!(f, "{}{unit}", n >> shift);
            }
        }
        write!(f, "{n}")
    }
}

impl FromStr for ByteSize {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let s = s.trim();
        let (num, mult) = match s.chars().last() {
            Some('K' | 'k') => (&s[..s.len() - 1], 1u64 << 10),
            Some('M' | 'm') => (&s[..s.len() - 1], 1 << 20),
            Some('G' | 'g') => (&s[..s.len() - 1], 1 << 30),
            _ => (s, 1),
        };
        num.trim()
            .parse::<u64>()
            .ok()
            .and_then(|n| n.checked_mul(mult))
            .map(ByteSize)
            .ok_or_else(|| format!("{s:?} is not a size (e.g. 1048576, 500K, 256M, 1G)"))
    }
}

impl<'de> Deserialize<'de> for ByteSize {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            N(u64),
            S(String),
        }
        match Raw::deserialize(d)? {
            Raw::N(n) => Ok(ByteSize(n)),
            Raw::S(s) => s.parse().map_err(serde::de::Error::custom),
        }
    }
}

/// How files are scanned. Every field has its default in [`ScanSettings::default`].
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, clap::Args)]
#[serde(deny_unknown_fields, default)]
pub struct ScanSettings {
    /// Scan threads, each with an extraction worker process (0 = one per
    /// core, at most 8; at most 256).
    #[arg(long = "threads", visible_alias = "workers", value_name = "N", default_value_t = ScanSettings::default().workers)]
    pub workers: usize,

    /// Memory (address space) each extraction worker may use; a file that
    /// needs more is reported too_large (bytes or K/M/G; 0 = no limit;
    /// at least 64M, which a worker needs to start).
    #[arg(long = "worker-memory", value_name = "SIZE", default_value_t = ScanSettings::default().worker_memory_bytes)]
    pub worker_memory_bytes: ByteSize,

    /// Files larger than this are reported unreadable / too_large (bytes,
    /// or with K, M, G suffix). mbox exports are streamed message by
    /// message instead: the limit applies to each message.
    #[arg(long = "max-file-size", value_name = "SIZE", default_value_t = ScanSettings::default().max_file_size_bytes)]
    pub max_file_size_bytes: ByteSize,

    /// Time limit for one file in seconds (reported as timeout; for an
    /// mbox: for one message). 1 to 86400.
    #[arg(long, value_name = "SECS", default_value_t = ScanSettings::default().timeout_secs)]
    pub timeout_secs: u64,

    /// Directory of extra detector files (*.toml). A file whose id matches a
    /// bundled detector replaces it. Also MAMORI_DETECTORS.
    #[arg(long = "detectors", value_name = "DIR", env = "MAMORI_DETECTORS")]
    pub detectors_dir: Option<PathBuf>,

    /// The office's own mail domain (repeatable; subdomains included). A
    /// message from it to any other domain that carries personal data is
    /// flagged as an outbound leak candidate; its staff signatures are not
    /// findings.
    #[arg(long = "internal-domain", value_name = "DOMAIN")]
    pub internal_domains: Vec<String>,

    /// Scan only files matching this glob (repeatable). A glob without '/'
    /// matches the file name, e.g. '*.csv'.
    #[arg(long, value_name = "GLOB")]
    pub include: Vec<String>,

    /// Skip files and directories matching this glob (repeatable).
    #[arg(long, value_name = "GLOB")]
    pub exclude: Vec<String>,

    /// Do not skip Office lock and temporary files (~$*, .~lock.*#, *.tmp, Thumbs.db).
    #[arg(long = "no-default-excludes", action = clap::ArgAction::SetFalse)]
    pub default_excludes: bool,

    /// 要配慮個人情報 keywords looked for next to findings (from the
    /// configuration's `[records] sensitive_keywords`; empty: the defaults).
    #[arg(long = "sensitive-keyword", value_name = "WORD", hide = true)]
    #[serde(skip)]
    pub sensitive_keywords: Vec<String>,
}

impl Default for ScanSettings {
    fn default() -> Self {
        ScanSettings {
            workers: 0,
            worker_memory_bytes: ByteSize(2 << 30),
            max_file_size_bytes: ByteSize(256 << 20),
            timeout_secs: 120,
            detectors_dir: None,
            internal_domains: Vec::new(),
            include: Vec::new(),
            exclude: Vec::new(),
            default_excludes: true,
            sensitive_keywords: Vec::new(),
        }
    }
}

/// Settings out of bounds.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("{0}")]
pub struct SettingsError(pub String);

impl ScanSettings {
    /// Checks the bounds; every command calls this before it starts.
    pub fn validate(&self) -> Result<(), SettingsError> {
        let bad = |m: String| Err(SettingsError(m));
        if self.workers > MAX_WORKERS {
            return bad(format!(
                "{} scan threads/workers is too many (at most {MAX_WORKERS}; 0 = one per core)",
                self.workers
            ));
        }
        if self.timeout_secs == 0 || self.timeout_secs > MAX_TIMEOUT_SECS {
            return bad(format!(
                "timeout of {} seconds is out of range (1 to {MAX_TIMEOUT_SECS})",
                self.timeout_secs
            ));
        }
        if self.max_file_size_bytes.0 == 0 {
            return bad("the file size limit must be at least 1 byte".into());
        }
        let mem = self.worker_memory_bytes.0;
        if mem != 0 && mem < crate::isolate::MIN_WORKER_MEMORY {
            return bad(format!(
                "worker memory {} is too small for a worker to start (at least {}, or 0 for no limit)",
                self.worker_memory_bytes,
                ByteSize(crate::isolate::MIN_WORKER_MEMORY)
            ));
        }
        for d in &self.internal_domains {
            let d = d.trim().trim_start_matches('@');
            if d.is_empty() || d.contains(char::is_whitespace) || !d.contains('.') {
                return bad(format!(
                    "{d:?} is not a mail domain (e.g. city.example.lg.jp)"
                ));
            }
        }
        self.walk_options()
            .map_err(|e| SettingsError(format!("include/exclude: {e}")))?;
        Ok(())
    }

    /// Scan threads to run: the setting, or one per core (at most 8).
    pub fn threads(&self) -> usize {
        if self.workers == 0 {
            std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(2)
                .min(8)
        } else {
            self.workers
        }
    }

    /// The per-file extraction limits.
    pub fn limits(&self) -> crate::extract::Limits {
        crate::extract::Limits {
            max_file_size: self.max_file_size_bytes.0,
            timeout: Duration::from_secs(self.timeout_secs),
            ..crate::extract::Limits::default()
        }
    }

    /// The walk's include and exclude globs.
    pub fn walk_options(&self) -> Result<crate::walk::WalkOptions, globset::Error> {
        crate::walk::WalkOptions::new(&self.include, &self.exclude, self.default_excludes)
    }

    /// These settings as `mamori __worker` arguments (the worker parses
    /// them with the same definition).
    pub fn to_args(&self) -> Vec<std::ffi::OsString> {
        let mut a: Vec<std::ffi::OsString> = vec![
            "--threads".into(),
            self.workers.to_string().into(),
            "--worker-memory".into(),
            self.worker_memory_bytes.0.to_string().into(),
            "--max-file-size".into(),
            self.max_file_size_bytes.0.to_string().into(),
            "--timeout-secs".into(),
            self.timeout_secs.to_string().into(),
        ];
        if let Some(d) = &self.detectors_dir {
            a.push("--detectors".into());
            a.push(d.clone().into_os_string());
        }
        for d in &self.internal_domains {
            a.push("--internal-domain".into());
            a.push(d.into());
        }
        if !self.default_excludes {
            a.push("--no-default-excludes".into());
        }
        for g in &self.include {
            a.push("--include".into());
            a.push(g.into());
        }
        for g in &self.exclude {
            a.push("--exclude".into());
            a.push(g.into());
        }
        for w in &self.sensitive_keywords {
            a.push("--sensitive-keyword".into());
            a.push(w.into());
        }
        a
    }

    /// The 要配慮 keywords, compiled (the defaults when none are set).
    pub fn sensitive_keywords(&self) -> crate::records::keywords::SensitiveKeywords {
        let words: Vec<String> = if self.sensitive_keywords.is_empty() {
            crate::records::rules::DEFAULT_SENSITIVE_KEYWORDS
                .iter()
                .map(|s| s.to_string())
                .collect()
        } else {
            self.sensitive_keywords.clone()
        };
        crate::records::keywords::SensitiveKeywords::new(&words).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        s: ScanSettings,
    }

    #[test]
    fn sizes() {
        assert_eq!("1024".parse(), Ok(ByteSize(1024)));
        assert_eq!("500K".parse(), Ok(ByteSize(500 * 1024)));
        assert_eq!("256M".parse(), Ok(ByteSize(256 << 20)));
        assert_eq!("1g".parse(), Ok(ByteSize(1 << 30)));
        assert!("lots".parse::<ByteSize>().is_err());
        assert_eq!(ByteSize(2 << 30).to_string(), "2G");
        assert_eq!(ByteSize(1000).to_string(), "1000");
    }

    #[test]
    fn one_default_for_command_line_config_and_worker() {
        let from_cli = Cli::try_parse_from(["x"]).unwrap().s;
        let from_toml: ScanSettings = toml::from_str("").unwrap();
        assert_eq!(from_cli, ScanSettings::default());
        assert_eq!(from_toml, ScanSettings::default());
        let s = ScanSettings {
            workers: 3,
            timeout_secs: 7,
            internal_domains: vec!["city.example.lg.jp".into()],
            exclude: vec!["backup/**".into()],
            default_excludes: false,
            sensitive_keywords: vec!["病歴".into()],
            ..ScanSettings::default()
        };
        let mut argv = vec![std::ffi::OsString::from("x")];
        argv.extend(s.to_args());
        assert_eq!(
            Cli::try_parse_from(argv).unwrap().s,
            s,
            "the worker gets the same settings"
        );
        let t: ScanSettings =
            toml::from_str("worker_memory_bytes = \"512M\"\nmax_file_size_bytes = 1048576")
                .unwrap();
        assert_eq!(t.worker_memory_bytes, ByteSize(512 << 20));
        assert!(toml::from_str::<ScanSettings>("colour = 1").is_err());
    }

    #[test]
    fn bounds() {
        let ok = ScanSettings::default();
        assert!(ok.validate().is_ok());
        for bad in [
            ScanSettings {
                workers: 100_000,
                ..ok.clone()
            },
            ScanSettings {
                timeout_secs: 0,
                ..ok.clone()
            },
            ScanSettings {
                max_file_size_bytes: ByteSize(0),
                ..ok.clone()
            },
            ScanSettings {
                worker_memory_bytes: ByteSize(1 << 20),
                ..ok.clone()
            },
            ScanSettings {
                exclude: vec!["[".into()],
                ..ok.clone()
            },
            ScanSettings {
                internal_domains: vec!["".into()],
                ..ok.clone()
            },
        ] {
            assert!(bad.validate().is_err(), "{bad:?}");
        }
    }
}
