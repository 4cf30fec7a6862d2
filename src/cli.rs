//! Command-line interface (clap derive). Each option is documented here
//! once; `--help` is generated from these comments.

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

use crate::output::Lang;
use crate::settings::ScanSettings;

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
    /// Review findings: list them, show a file, decide, see the trail.
    Review(ReviewArgs),
    /// What the records rules say about each stored file (retention,
    /// My Number areas, holds, breach hints): from the store, no rescan.
    Records(RecordsArgs),
    /// Every records flag of one file, and why.
    Explain(ExplainArgs),
    /// The review screen: records officers review and decide in a browser.
    Serve(ServeArgs),
    /// Accounts of the review screen: add, passwd, disable, enable, list.
    User(UserArgs),
    /// Reports from the store (no rescan): the weekly report (HTML, XLSX,
    /// CSV, JSON) and the retention list for 文書主管課.
    Report(ReportArgs),
    /// Windows only: install, uninstall or run (from the service manager) the service.
    Service(ServiceArgs),
    /// One view across file servers: set up the central PostgreSQL, ship a
    /// site's changes now, re-send a site, list values found on several sites.
    Central(CentralArgs),
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

    #[command(flatten)]
    pub settings: ScanSettings,

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

    /// A service configuration whose records rules (retention, My Number
    /// areas, holds) add each file's records flags to the JSONL `flags`.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
}

/// A calendar day, `YYYY-MM-DD`.
pub fn parse_date(s: &str) -> Result<jiff::civil::Date, String> {
    s.trim()
        .parse::<jiff::civil::Date>()
        .map_err(|e| format!("{s:?} is not a date (YYYY-MM-DD): {e}"))
}

#[derive(Debug, clap::Args)]
pub struct RecordsArgs {
    /// The service configuration (its database and records rules).
    #[arg(long, value_name = "FILE", required_unless_present = "central")]
    pub config: Option<PathBuf>,
    #[command(flatten)]
    pub central: CentralTargetArgs,
    /// Evaluate as of this day instead of today (Japan time).
    #[arg(long, value_name = "YYYY-MM-DD", value_parser = parse_date)]
    pub as_of: Option<jiff::civil::Date>,
    /// Only files carrying this flag (repeatable: any of them).
    #[arg(long, value_name = "FLAG")]
    pub flag: Vec<String>,
    /// Only files under this root (its label, or its path).
    #[arg(long, value_name = "ROOT")]
    pub root: Option<String>,
    /// Output format: a summary per file, or one JSON object per file.
    #[arg(long, value_enum, default_value = "summary")]
    pub format: OutputFormat,
    /// Language of the summary: ja or en. Also MAMORI_LANG.
    #[arg(long, value_enum, env = "MAMORI_LANG", default_value = "ja")]
    pub lang: Lang,
}

#[derive(Debug, clap::Args)]
pub struct ExplainArgs {
    /// The file (its real path, or the path as mamori shows it).
    #[arg(value_name = "PATH")]
    pub path: String,
    #[arg(long, value_name = "FILE")]
    pub config: PathBuf,
    #[arg(long, value_name = "YYYY-MM-DD", value_parser = parse_date)]
    pub as_of: Option<jiff::civil::Date>,
    #[arg(long, value_enum, env = "MAMORI_LANG", default_value = "ja")]
    pub lang: Lang,
}

#[derive(Debug, clap::Args)]
pub struct ReviewArgs {
    #[command(subcommand)]
    pub action: ReviewAction,
}

/// Which findings (for `review list` and `review mark`).
#[derive(Debug, Clone, Default, clap::Args)]
pub struct FindingFilterArgs {
    /// Findings in files carrying this records flag (e.g. my_number_outside_area).
    #[arg(long, value_name = "FLAG")]
    pub flag: Option<String>,
    /// Findings of this kind (e.g. my_number).
    #[arg(long, value_name = "KIND")]
    pub kind: Option<crate::finding::Kind>,
    /// Findings under this root (its label in the configuration, or its path).
    #[arg(long, value_name = "ROOT")]
    pub root: Option<String>,
    /// Findings in this review state (default: every unresolved finding
    /// that is not a false positive).
    #[arg(long, value_enum, value_name = "STATE")]
    pub status: Option<crate::review::ReviewState>,
    /// Findings at or above this confidence.
    #[arg(long, value_enum)]
    pub min_confidence: Option<MinConfidence>,
}

#[derive(Debug, Subcommand)]
pub enum ReviewAction {
    /// List findings (newest decisions and flags included).
    List {
        #[arg(long, value_name = "FILE", required_unless_present = "central")]
        config: Option<PathBuf>,
        #[command(flatten)]
        central: CentralTargetArgs,
        #[command(flatten)]
        filter: FindingFilterArgs,
        /// Output format.
        #[arg(long, value_enum, default_value = "summary")]
        format: OutputFormat,
        /// At most this many findings (0 = all).
        #[arg(long, default_value_t = 200)]
        limit: usize,
        /// Language of the summary: ja or en. Also MAMORI_LANG.
        #[arg(long, value_enum, env = "MAMORI_LANG", default_value = "ja")]
        lang: Lang,
    },
    /// One file: its findings, records flags with their reasons, and trail.
    Show {
        /// The file (its real path, or the path as mamori shows it).
        #[arg(value_name = "PATH")]
        path: String,
        #[arg(long, value_name = "FILE", required_unless_present = "central")]
        config: Option<PathBuf>,
        #[command(flatten)]
        central: CentralTargetArgs,
        #[arg(long, value_enum, env = "MAMORI_LANG", default_value = "ja")]
        lang: Lang,
    },
    /// Record a decision on one finding, one file, or every finding a filter selects.
    Mark {
        #[arg(long, value_name = "FILE", required_unless_present = "central")]
        config: Option<PathBuf>,
        #[command(flatten)]
        central: CentralTargetArgs,
        /// One finding (its id from `review list`).
        #[arg(long, value_name = "ID", conflicts_with = "file")]
        finding: Option<i64>,
        /// Every finding of one file (with --kind: of that kind).
        #[arg(long, value_name = "PATH")]
        file: Option<String>,
        #[command(flatten)]
        filter: FindingFilterArgs,
        #[arg(long, value_enum)]
        decision: crate::review::Decision,
        /// Why (required for retained and hold: the legal basis).
        #[arg(long, default_value = "")]
        note: String,
        /// Who decides (recorded in the trail).
        #[arg(long, value_name = "NAME")]
        reviewer: String,
        /// Apply a decision to a filtered set without asking (it prints how
        /// many findings it would change and stops otherwise).
        #[arg(long)]
        yes: bool,
    },
    /// The trail of one file: decisions and events, oldest first.
    History {
        #[arg(value_name = "PATH")]
        path: String,
        #[arg(long, value_name = "FILE", required_unless_present = "central")]
        config: Option<PathBuf>,
        #[command(flatten)]
        central: CentralTargetArgs,
    },
}

/// An ISO week, `2026-W48`.
pub fn parse_week(s: &str) -> Result<crate::report::Week, String> {
    crate::report::Week::parse(s)
}

#[derive(Debug, clap::Args)]
pub struct ReportArgs {
    #[command(subcommand)]
    pub action: ReportAction,
}

#[derive(Debug, Subcommand)]
pub enum ReportAction {
    /// The weekly report: report.html (for managers), report.xlsx (lists),
    /// findings.csv (every open finding) and report.json.
    Weekly {
        /// The service configuration (its database, roots and records rules).
        /// With --central: only its `[report]` directory, when --out is not given.
        #[arg(long, value_name = "FILE", required_unless_present = "central")]
        config: Option<PathBuf>,
        // --central URL: the report over every site, from the central
        // database (files as SITE:PATH), with the My Numbers held on
        // several sites.
        #[command(flatten)]
        central: CentralTargetArgs,
        /// The ISO week (Monday to Sunday, Japan time). Default: the last
        /// complete week.
        #[arg(long, value_name = "YYYY-Www", value_parser = parse_week)]
        week: Option<crate::report::Week>,
        /// Evaluate records flags as of this day. Default: the week's Sunday
        /// (today for the week under way).
        #[arg(long, value_name = "YYYY-MM-DD", value_parser = parse_date)]
        as_of: Option<jiff::civil::Date>,
        /// Language of the report: ja or en. Also MAMORI_LANG.
        #[arg(long, value_enum, env = "MAMORI_LANG", default_value = "ja")]
        lang: Lang,
        /// The directory to write into (created if missing). Default: the
        /// configuration's `[report] directory`/<week>, keeping
        /// `[report] keep_weeks` week folders there.
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
    },
    /// The files whose retention ended (廃棄候補, 移管候補, and those on hold)
    /// with the columns of a 行政文書ファイル管理簿.
    Retention {
        #[arg(long, value_name = "FILE", required_unless_present = "central")]
        config: Option<PathBuf>,
        // --central URL: the list over every site, from the central
        // database (each site's latest verdicts).
        #[command(flatten)]
        central: CentralTargetArgs,
        /// Evaluate as of this day. Default: today (Japan time).
        #[arg(long, value_name = "YYYY-MM-DD", value_parser = parse_date)]
        as_of: Option<jiff::civil::Date>,
        #[arg(long, value_enum, env = "MAMORI_LANG", default_value = "ja")]
        lang: Lang,
        /// The file to write: .xlsx or .csv.
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
    },
}

#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// The service configuration (its database, roots, records rules, [web]).
    #[arg(long, value_name = "FILE")]
    pub config: PathBuf,
    /// Address and port to listen on (default: [web] listen, else
    /// 127.0.0.1:8470). Any address but loopback needs TLS in [web].
    #[arg(long, value_name = "ADDR:PORT")]
    pub listen: Option<std::net::SocketAddr>,
    /// Allow plain HTTP on a non-loopback address. Passwords, session
    /// cookies and findings then cross the network unencrypted: only for a
    /// TLS-terminating proxy on the same machine, never otherwise.
    #[arg(long)]
    pub insecure_http: bool,
    // --central URL: every site's findings, verdicts and decisions from the
    // central database; the configuration's store then keeps only the
    // screen's accounts, sessions and audit events.
    #[command(flatten)]
    pub central: CentralTargetArgs,
}

#[derive(Debug, clap::Args)]
pub struct UserArgs {
    #[command(subcommand)]
    pub action: UserAction,
}

#[derive(Debug, Subcommand)]
pub enum UserAction {
    /// Add an account (the password is read from stdin, or asked for twice
    /// on a terminal).
    Add {
        /// The user name (letters, digits, '.', '_', '-').
        #[arg(value_name = "NAME")]
        name: String,
        /// viewer: read; reviewer: also decide; admin: also manage users.
        #[arg(long, value_enum)]
        role: crate::web::accounts::Role,
        /// Restrict the user to this root (its label; repeatable). Without
        /// it the user sees every root. For `serve --central`: `SITE` or
        /// `SITE:LABEL`, checked against the centre given by --central.
        #[arg(long = "root", value_name = "LABEL")]
        roots: Vec<String>,
        #[arg(long, value_name = "FILE")]
        config: PathBuf,
        // --central URL: the account is for `serve --central`; its roots
        // are the centre's.
        #[command(flatten)]
        central: CentralTargetArgs,
    },
    /// Set a new password (read as for add); the user's sessions end.
    Passwd {
        #[arg(value_name = "NAME")]
        name: String,
        #[arg(long, value_name = "FILE")]
        config: PathBuf,
    },
    /// Disable an account; its sessions end.
    Disable {
        #[arg(value_name = "NAME")]
        name: String,
        #[arg(long, value_name = "FILE")]
        config: PathBuf,
    },
    /// Enable a disabled account.
    Enable {
        #[arg(value_name = "NAME")]
        name: String,
        #[arg(long, value_name = "FILE")]
        config: PathBuf,
    },
    /// List the accounts.
    List {
        #[arg(long, value_name = "FILE")]
        config: PathBuf,
    },
}

#[derive(Debug, clap::Args)]
pub struct StatusArgs {
    /// The findings database.
    #[arg(long, value_name = "FILE", required_unless_present_any = ["config", "central"])]
    pub db: Option<PathBuf>,
    /// Or the service configuration (its database).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    #[command(flatten)]
    pub central: CentralTargetArgs,
}

/// Where the central PostgreSQL is, for the commands that can read it
/// instead of a site's store. The password comes from
/// `--central-password-file` or `MAMORI_CENTRAL_PASSWORD`, never the URL.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct CentralTargetArgs {
    /// Read (and decide) at the central database across every site instead
    /// of a site's store: postgres://user@host:port/database.
    #[arg(long = "central", id = "central", value_name = "URL")]
    pub url: Option<String>,
    /// The central server's CA certificate (PEM): TLS with the server's name
    /// checked. Needed unless the centre is on this machine.
    #[arg(
        long = "central-ca",
        value_name = "FILE",
        env = "MAMORI_CENTRAL_CA",
        requires = "central"
    )]
    pub ca_file: Option<PathBuf>,
    /// A file holding the password (mode 0600); else MAMORI_CENTRAL_PASSWORD.
    #[arg(
        long = "central-password-file",
        value_name = "FILE",
        env = "MAMORI_CENTRAL_PASSWORD_FILE",
        requires = "central"
    )]
    pub password_file: Option<PathBuf>,
}

#[derive(Debug, clap::Args)]
pub struct CentralArgs {
    #[command(subcommand)]
    pub action: CentralAction,
}

#[derive(Debug, Subcommand)]
pub enum CentralAction {
    /// Create or upgrade the central schema (run as the database's owner).
    Migrate {
        /// postgres://user@host:port/database (no password in it).
        #[arg(long, value_name = "URL")]
        url: String,
        /// The server's CA certificate (PEM): TLS, server name checked.
        #[arg(long, value_name = "FILE")]
        ca_file: Option<PathBuf>,
        /// A file holding the password (mode 0600); else MAMORI_CENTRAL_PASSWORD.
        #[arg(long, value_name = "FILE")]
        password_file: Option<PathBuf>,
    },
    /// Ship this site's changes now (the service does it by itself; for a
    /// site run by `mamori run --once`, or to see that it works).
    Sync {
        #[arg(long, value_name = "FILE")]
        config: PathBuf,
    },
    /// Ship this site again from scratch: the centre ends up with exactly the
    /// site's rows (also after the site's store was rebuilt). The running
    /// service does it on its next sync; otherwise this command does.
    Resync {
        #[arg(long, value_name = "FILE")]
        config: PathBuf,
    },
    /// Values (same keyed fingerprint) found on several sites, masked, with
    /// every place they are.
    Shared {
        #[command(flatten)]
        central: CentralTargetArgs,
        /// Only values of this kind (repeatable; default my_number).
        #[arg(long, value_name = "KIND")]
        kind: Vec<crate::finding::Kind>,
        /// On at least this many sites.
        #[arg(long, default_value_t = 2)]
        min_sites: usize,
        #[arg(long, value_enum, default_value = "summary")]
        format: OutputFormat,
    },
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
    /// Walk every root once, store findings, and exit (for scheduled use
    /// without a resident service).
    #[arg(long)]
    pub once: bool,
}

/// The extraction worker (internal: started by `scan` itself, with the
/// scan's settings).
#[derive(Debug, clap::Args)]
pub struct WorkerArgs {
    #[command(flatten)]
    pub settings: ScanSettings,
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
    /// Instead: figures of the central sync: the first sync of
    /// --central-findings findings, the lag from a file change to its row
    /// at the centre, and the outbox's growth while the centre is down.
    /// Without URL it starts its own throwaway PostgreSQL (Debian's server
    /// binaries under /usr/lib/postgresql); with URL it uses that database
    /// (an empty one: it is migrated and filled).
    #[arg(long, value_name = "URL", num_args = 0..=1)]
    pub central: Option<Option<String>>,
    /// With --central: findings in the generated store.
    #[arg(long, default_value_t = 1_000_000, requires = "central")]
    pub central_findings: usize,
    /// With --central: file changes made while the centre is down, taken as
    /// one hour of a busy server's changes (2/3 new files, 1/4 edits, 1/12
    /// deletions).
    #[arg(long, default_value_t = 1_200, requires = "central")]
    pub central_changes: usize,
    /// Instead: build a findings store of N findings in N/10 generated
    /// files (with decisions, resolved findings, records rules) in
    /// --report-dir, for timing `report weekly` and `review list` on it.
    #[arg(long, value_name = "N", requires = "report_dir")]
    pub report_store: Option<usize>,
    /// An empty directory for --report-store (its mamori.toml and state/).
    #[arg(long, value_name = "DIR")]
    pub report_dir: Option<PathBuf>,
    #[command(flatten)]
    pub detector_args: DetectorArgs,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cli_definition_is_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}
