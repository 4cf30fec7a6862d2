//! Command-line interface (clap derive). Each option is documented here
//! once; `--help` is generated from these comments.

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

use crate::output::Lang;

#[derive(Debug, Parser)]
#[command(
    name = "mamori",
    version,
    about = "守り: finds personal information and My Number (個人番号) in document stores",
    long_about = None
)]
pub struct Cli {
    /// Log level for messages on stderr (error, warn, info, debug, trace).
    /// Also MAMORI_LOG, e.g. MAMORI_LOG=debug.
    #[arg(long, global = true, value_name = "LEVEL")]
    pub log_level: Option<String>,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Scan files and directories for personal information.
    Scan(ScanArgs),
    /// Check detector definitions (and run their examples), and a configuration.
    Validate(ValidateArgs),
    /// List the detectors in use.
    Detectors(DetectorArgs),
    /// Show the text mamori reads from a file, unit by unit with locations
    /// (identifiers masked unless --reveal).
    Extract(ExtractArgs),
    /// Run the service: keep the findings store current for the configured roots.
    Run(RunArgs),
    /// Show what the findings store knows.
    Status(StatusArgs),
    /// Windows only: install, uninstall or run (from the service manager) the service.
    Service(ServiceArgs),
    /// Measure detection throughput on generated Japanese text.
    Bench(BenchArgs),
    /// Internal: an extraction worker process.
    #[command(name = "__worker", hide = true)]
    Worker(WorkerArgs),
}

/// How `extract` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExtractFormat {
    /// Each text unit under a line naming its member and location.
    Units,
    /// Plain text in reading order.
    Text,
}

#[derive(Debug, clap::Args)]
pub struct ExtractArgs {
    /// The file to read.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value = "units")]
    pub format: ExtractFormat,
    /// Print identifiers as they are in the file instead of masked. Use only
    /// where you may read the file itself.
    #[arg(long)]
    pub reveal: bool,
    #[command(flatten)]
    pub detector_args: DetectorArgs,
}

/// Output formats of `scan`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// Readable summary per file.
    Summary,
    /// The findings contract: one JSON object per line on stdout.
    Jsonl,
}

/// Minimum confidence to report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum MinConfidence {
    Low,
    Medium,
    High,
}

#[derive(Debug, clap::Args)]
pub struct DetectorArgs {
    /// Directory of extra detector files (*.toml). A file whose id matches a
    /// bundled detector replaces it. Also MAMORI_DETECTORS.
    #[arg(long, value_name = "DIR", env = "MAMORI_DETECTORS")]
    pub detectors: Option<PathBuf>,
}

#[derive(Debug, clap::Args)]
pub struct ValidateArgs {
    #[command(flatten)]
    pub detector_args: DetectorArgs,
    /// Also check this service configuration (and its detectors directory).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
}

#[derive(Debug, clap::Args)]
pub struct ScanArgs {
    /// Files and directories to scan.
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,

    /// Output format.
    #[arg(long, value_enum, default_value = "summary")]
    pub format: OutputFormat,

    /// Report findings at or above this confidence.
    #[arg(long, value_enum, default_value = "low")]
    pub min_confidence: MinConfidence,

    /// Scan only files matching this glob (repeatable). A glob without '/'
    /// matches the file name, e.g. '*.csv'.
    #[arg(long, value_name = "GLOB")]
    pub include: Vec<String>,

    /// Skip files and directories matching this glob (repeatable).
    #[arg(long, value_name = "GLOB")]
    pub exclude: Vec<String>,

    /// Do not skip Office lock and temporary files (~$*, .~lock.*#, *.tmp, Thumbs.db).
    #[arg(long)]
    pub no_default_excludes: bool,

    /// Files larger than this are reported unreadable / too_large
    /// (bytes, or with K, M, G suffix).
    #[arg(long, value_name = "SIZE", default_value = "256M", value_parser = parse_size)]
    pub max_file_size: u64,

    /// Time limit for one file in seconds (reported as timeout).
    #[arg(long, value_name = "SECS", default_value_t = 120)]
    pub timeout_secs: u64,

    /// Worker threads (0 = one per core, at most 8).
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub threads: usize,

    #[command(flatten)]
    pub detector_args: DetectorArgs,

    /// File holding the secret key for fingerprints (created, owner-only,
    /// if missing). Default: MAMORI_KEY_FILE, else the state directory.
    #[arg(long, value_name = "FILE")]
    pub key_file: Option<PathBuf>,

    /// Language of the summary: ja (日本語) or en. Also MAMORI_LANG.
    #[arg(long, value_enum, env = "MAMORI_LANG", default_value = "ja")]
    pub lang: Lang,

    /// Never draw the progress bar (it is drawn only when stderr is a terminal).
    #[arg(long)]
    pub no_progress: bool,

    /// Also record the scan in this findings database (SQLite; created,
    /// owner-only, if missing): files, findings with their history, runs.
    #[arg(long, value_name = "FILE")]
    pub db: Option<PathBuf>,

    /// With --db: do not open files whose size and modification time are
    /// as stored (and detectors unchanged); their stored findings stay open.
    #[arg(long, requires = "db")]
    pub incremental: bool,

    /// Extract in this process instead of in worker processes. Faster to
    /// start, but a hostile file can then take the whole scan down.
    #[arg(long)]
    pub no_isolation: bool,

    /// The office's own mail domain (repeatable; subdomains included). A
    /// message from it to any other domain that carries personal data is
    /// flagged as an outbound leak candidate; its staff signatures are not
    /// findings.
    #[arg(long = "internal-domain", value_name = "DOMAIN")]
    pub internal_domains: Vec<String>,

    /// Memory (address space) each extraction worker may use; a file that
    /// needs more is reported too_large (bytes or K/M/G; 0 = no limit;
    /// at least 64M, which a worker needs to start).
    #[arg(long, value_name = "SIZE", default_value = "2G", value_parser = parse_size)]
    pub worker_memory: u64,
}

#[derive(Debug, clap::Args)]
pub struct StatusArgs {
    /// The findings database.
    #[arg(long, value_name = "FILE", required_unless_present = "config")]
    pub db: Option<PathBuf>,
    /// Or the service configuration (its database).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
}

#[derive(Debug, clap::Args)]
pub struct ServiceArgs {
    #[arg(value_enum)]
    pub action: ServiceAction,
    /// The service configuration (install, run).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ServiceAction {
    Install,
    Uninstall,
    Run,
}

#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// The service configuration (see service/mamori.toml.example).
    #[arg(long, value_name = "FILE")]
    pub config: PathBuf,
}

/// The extraction worker (internal: started by `scan` itself).
#[derive(Debug, clap::Args)]
pub struct WorkerArgs {
    #[arg(long)]
    pub detectors: Option<PathBuf>,
    #[arg(long)]
    pub max_file_size: u64,
    #[arg(long)]
    pub timeout_secs: u64,
    #[arg(long)]
    pub memory_bytes: u64,
    #[arg(long = "internal-domain")]
    pub internal_domains: Vec<String>,
}

#[derive(Debug, clap::Args)]
pub struct BenchArgs {
    /// Megabytes of generated text per corpus.
    #[arg(long, default_value_t = 4)]
    pub size_mb: usize,
    /// Repetitions; the best run is reported.
    #[arg(long, default_value_t = 3)]
    pub iterations: usize,
    /// Only this corpus: `prose` or `dense` (for profiling one of them).
    #[arg(long, value_name = "CORPUS")]
    pub only: Option<String>,
    /// Also time each detector pattern alone on the dense corpus.
    #[arg(long)]
    pub patterns: bool,
    /// Instead: scan the documents in DIR (see bench/make_corpus.py) and
    /// report MB/s per format and for the whole scan, next to pdftotext
    /// and unzip -p on the same files.
    #[arg(long, value_name = "DIR")]
    pub corpus: Option<PathBuf>,
    /// Instead: create N small files, time the first scan into a store and a
    /// no-change rescan, and the service's latency from a file dropped into
    /// a watched folder to its findings stored.
    #[arg(long, value_name = "N")]
    pub service: Option<usize>,
    #[command(flatten)]
    pub detector_args: DetectorArgs,
}

/// Parses `1024`, `500K`, `256M`, `1G` (binary units).
pub fn parse_size(s: &str) -> Result<u64, String> {
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
        .ok_or_else(|| format!("{s:?} is not a size (e.g. 1048576, 500K, 256M, 1G)"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(parse_size("1024"), Ok(1024));
        assert_eq!(parse_size("500K"), Ok(500 * 1024));
        assert_eq!(parse_size("256M"), Ok(256 << 20));
        assert_eq!(parse_size("1g"), Ok(1 << 30));
        assert!(parse_size("lots").is_err());
    }

    #[test]
    fn cli_definition_is_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}
