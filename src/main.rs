//! The `mamori` binary: parse the command line, run a subcommand, map
//! errors to exit codes. Exit 0: the command completed (findings are data,
//! not errors). Exit 2: it could not run (bad options, broken detector
//! files, a PATH that does not exist). Exit 1: `validate` found problems.

use std::io::{self, IsTerminal, Write};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, Result};
use clap::Parser;

use mamori::cli::{
    BenchArgs, Cli, Command, DetectorArgs, ExtractArgs, ExtractFormat, MinConfidence, OutputFormat,
    RunArgs, ScanArgs, StatusArgs, ValidateArgs,
};
use mamori::detect::Engine;
use mamori::extract::{Dispatcher, Limits};
use mamori::finding::{Confidence, Fingerprinter};
use mamori::output::{JsonlSink, OutcomeSink, ScanStats, SummarySink};
use mamori::walk::WalkOptions;

fn main() -> ExitCode {
    quiet_panics();
    let cli = Cli::parse();
    // The service logs at its configured level unless told otherwise.
    let config_level = match &cli.command {
        Command::Run(a) if cli.log_level.is_none() && std::env::var_os("MAMORI_LOG").is_none() => {
            mamori::config::Config::load(&a.config)
                .ok()
                .map(|c| c.service.log_level)
        }
        _ => None,
    };
    init_logging(cli.log_level.as_deref().or(config_level.as_deref()));
    let result = match cli.command {
        Command::Scan(args) => scan(args),
        Command::Validate(args) => validate(args),
        Command::Detectors(args) => list_detectors(args),
        Command::Extract(args) => extract(args),
        Command::Run(args) => run_service(args),
        Command::Status(args) => status(args),
        Command::Service(args) => windows_service_command(args),
        Command::Bench(args) => bench(args),
        Command::Worker(args) => mamori::isolate::worker_main(
            args.detectors.as_deref(),
            Limits {
                max_file_size: args.max_file_size,
                timeout: Duration::from_secs(args.timeout_secs),
                ..Limits::default()
            },
            args.memory_bytes,
            &args.internal_domains,
        )
        .map(|_| ExitCode::SUCCESS),
    };
    match result {
        Ok(code) => code,
        Err(err) => {
            if is_broken_pipe(&err) {
                return ExitCode::SUCCESS;
            }
            eprintln!("mamori: {err:#}");
            ExitCode::from(2)
        }
    }
}

/// A panic inside a third-party parser is contained (the file is reported
/// corrupt), but the default hook would print its message, which may quote
/// document text. Print where it happened only, unless MAMORI_DEBUG_PANICS
/// is set by a developer.
fn quiet_panics() {
    if std::env::var_os("MAMORI_DEBUG_PANICS").is_some() {
        return;
    }
    std::panic::set_hook(Box::new(|info| {
        let at = info
            .location()
            .map(|l| format!("{}:{}", l.file(), l.line()))
            .unwrap_or_default();
        eprintln!("mamori: internal error at {at} (message withheld: it may quote document text)");
    }));
}

fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|e| {
        e.downcast_ref::<io::Error>()
            .is_some_and(|e| e.kind() == io::ErrorKind::BrokenPipe)
    })
}

fn init_logging(level: Option<&str>) {
    let filter = match level {
        Some(l) => tracing_subscriber::EnvFilter::new(l),
        None => tracing_subscriber::EnvFilter::try_from_env("MAMORI_LOG")
            // lopdf warns about every odd object it meets: only its errors.
            .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn,lopdf=error")),
    };
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(io::stderr)
        .with_target(false)
        .init();
}

/// Loads the fingerprint key; without a usable key file, an ephemeral key
/// (fingerprints then differ between runs, which is said on stderr).
fn fingerprint_key(key_file: Option<&std::path::Path>) -> [u8; 32] {
    let path = key_file
        .map(|p| p.to_path_buf())
        .or_else(mamori::keys::default_key_path);
    match path.as_deref().map(mamori::keys::load_or_create) {
        Some(Ok(key)) => key,
        Some(Err(e)) => {
            tracing::warn!(
                "fingerprint key {}: {e}; using a one-off key (fingerprints will not match other runs)",
                path.unwrap().display()
            );
            random_key()
        }
        None => {
            tracing::warn!("no state directory for the fingerprint key; using a one-off key");
            random_key()
        }
    }
}

fn random_key() -> [u8; 32] {
    let mut k = [0u8; 32];
    getrandom::getrandom(&mut k).expect("the OS provides random bytes");
    k
}

fn load_engine(args: &DetectorArgs, fp: Fingerprinter) -> Result<Engine> {
    Engine::load(args.detectors.as_deref(), fp).context("loading detectors")
}

fn scan(args: ScanArgs) -> Result<ExitCode> {
    let key = fingerprint_key(args.key_file.as_deref());
    let engine = load_engine(&args.detector_args, Fingerprinter::new(key))?;
    let walk = WalkOptions::new(&args.include, &args.exclude, !args.no_default_excludes)
        .context("--include/--exclude")?;
    let limits = Limits {
        max_file_size: args.max_file_size,
        timeout: Duration::from_secs(args.timeout_secs),
        ..Limits::default()
    };
    let min = match args.min_confidence {
        MinConfidence::Low => Confidence::Low,
        MinConfidence::Medium => Confidence::Medium,
        MinConfidence::High => Confidence::High,
    };
    let dispatcher = Dispatcher::default();
    let out = io::BufWriter::with_capacity(64 * 1024, io::stdout());
    let printer: Box<dyn OutcomeSink + Send> = match args.format {
        OutputFormat::Jsonl => {
            Box::new(JsonlSink::new(out, min).with_internal_domains(args.internal_domains.clone()))
        }
        OutputFormat::Summary => Box::new(
            SummarySink::new(out, min, args.lang)
                .with_internal_domains(args.internal_domains.clone()),
        ),
    };
    // With a database, the one writer thread records each outcome, then prints it.
    let (mut sink, reader): (
        Box<dyn OutcomeSink + Send>,
        Option<std::sync::Mutex<rusqlite::Connection>>,
    ) = match &args.db {
        Some(db) => {
            let store = mamori::store::Store::open(db)
                .with_context(|| format!("opening {}", db.display()))?;
            store.check_key(&Fingerprinter::new(key).key_check())?;
            let reader = if args.incremental {
                Some(std::sync::Mutex::new(mamori::store::Store::open_read_only(
                    db,
                )?))
            } else {
                None
            };
            (
                Box::new(mamori::store::StoreSink::new(
                    store,
                    &args.paths,
                    engine.set_version(),
                    printer,
                )?),
                reader,
            )
        }
        None => (printer, None),
    };
    let set_version = engine.set_version().to_string();
    let unchanged = |path: &std::path::Path, size: u64, mtime: i64| -> bool {
        reader.as_ref().is_some_and(|r| {
            let conn = r.lock().expect("reader lock");
            mamori::store::stored_state(&conn, path, size, mtime, &set_version).0
        })
    };
    let bar = if !args.no_progress && io::stderr().is_terminal() {
        let b = indicatif::ProgressBar::new_spinner();
        b.set_draw_target(indicatif::ProgressDrawTarget::stderr_with_hz(8));
        Some(b)
    } else {
        None
    };
    let progress = |s: &ScanStats| {
        if let Some(b) = &bar {
            b.set_message(format!(
                "{} files, {:.1} MB, {} findings",
                s.files,
                s.bytes as f64 / 1e6,
                s.findings
            ));
            b.tick();
        }
    };
    let pool = if args.no_isolation {
        None
    } else {
        Some(mamori::isolate::WorkerPool::new(
            mamori::isolate::WorkerConfig {
                exe: std::env::current_exe()
                    .context("locating the mamori executable for workers")?,
                detectors: args.detector_args.detectors.clone(),
                limits: limits.clone(),
                memory_bytes: args.worker_memory,
                key,
                internal_domains: args.internal_domains.clone(),
            },
        ))
    };
    let job = mamori::scan::ScanJob {
        roots: &args.paths,
        walk: &walk,
        engine: &engine,
        dispatcher: &dispatcher,
        limits: &limits,
        min_confidence: min,
        threads: args.threads,
        workers: pool.as_ref(),
        internal_domains: &args.internal_domains,
        unchanged: if args.incremental {
            Some(&unchanged)
        } else {
            None
        },
    };
    let report = mamori::scan::run(&job, sink.as_mut(), &progress);
    if let Some(b) = &bar {
        b.finish_and_clear();
    }
    let report = report.context("writing results")?;
    for p in &report.missing {
        eprintln!("mamori: {}: no such file or directory", p.display());
    }
    Ok(if report.missing.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(2)
    })
}

fn validate(args: ValidateArgs) -> Result<ExitCode> {
    let mut detectors = args.detector_args;
    if let Some(path) = &args.config {
        let cfg = mamori::config::Config::load(path)?;
        println!(
            "ok      configuration {} ({} roots)",
            path.display(),
            cfg.roots.len()
        );
        if detectors.detectors.is_none() {
            detectors.detectors = cfg.scan.detectors_dir.clone();
        }
    }
    let engine = load_engine(&detectors, Fingerprinter::new(random_key()))?;
    let mut failures = 0;
    let mut out = io::stdout().lock();
    for det in engine.detectors() {
        let f = engine.check_examples(det);
        if f.is_empty() {
            writeln!(
                out,
                "ok      {:<28} {} examples ({})",
                det.id,
                det.examples.len(),
                det.source
            )?;
        } else {
            failures += f.len();
            for line in f {
                writeln!(out, "FAILED  {line}")?;
            }
        }
    }
    writeln!(
        out,
        "{} detectors, detector set {}: {}",
        engine.detectors().len(),
        engine.set_version(),
        if failures == 0 {
            "all examples pass".to_string()
        } else {
            format!("{failures} example failures")
        }
    )?;
    Ok(if failures == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn list_detectors(args: DetectorArgs) -> Result<ExitCode> {
    let engine = load_engine(&args, Fingerprinter::new(random_key()))?;
    let mut out = io::stdout().lock();
    writeln!(
        out,
        "{:<26} {:<24} {:>3}  {:<30} source",
        "id", "kind", "ver", "validator"
    )?;
    for d in engine.detectors() {
        writeln!(
            out,
            "{:<26} {:<24} {:>3}  {:<30} {}",
            d.id,
            d.kind.as_str(),
            d.version,
            d.validator_name().unwrap_or("-"),
            d.source
        )?;
        writeln!(out, "    {}", d.description)?;
        writeln!(out, "    patterns: {}", d.pattern_names().join(" | "))?;
    }
    writeln!(out, "detector set {}", engine.set_version())?;
    Ok(ExitCode::SUCCESS)
}

fn extract(args: ExtractArgs) -> Result<ExitCode> {
    let engine = load_engine(&args.detector_args, Fingerprinter::new(random_key()))?;
    let x = mamori::view::extract_file(&args.file, &engine, &Limits::default(), args.reveal)
        .with_context(|| format!("reading {}", args.file.display()))?;
    let mut out = io::BufWriter::new(io::stdout().lock());
    match args.format {
        ExtractFormat::Units => mamori::view::print_units(&x, &mut out)?,
        ExtractFormat::Text => mamori::view::print_text(&x, &mut out)?,
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

#[cfg(windows)]
fn windows_service_command(args: mamori::cli::ServiceArgs) -> Result<ExitCode> {
    use mamori::cli::ServiceAction;
    let config = || {
        args.config
            .clone()
            .ok_or_else(|| anyhow::anyhow!("--config is needed"))
    };
    match args.action {
        ServiceAction::Install => mamori::service_windows::install(&config()?)?,
        ServiceAction::Uninstall => mamori::service_windows::uninstall()?,
        ServiceAction::Run => mamori::service_windows::run(&config()?)?,
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(not(windows))]
fn windows_service_command(_args: mamori::cli::ServiceArgs) -> Result<ExitCode> {
    anyhow::bail!(
        "`mamori service` is for Windows; on Linux use the systemd unit in service/mamori.service"
    )
}

fn run_service(args: RunArgs) -> Result<ExitCode> {
    let control = mamori::daemon::Control::default();
    for sig in [signal_hook::consts::SIGTERM, signal_hook::consts::SIGINT] {
        signal_hook::flag::register(sig, control.shutdown.clone())?;
    }
    signal_hook::flag::register(signal_hook::consts::SIGHUP, control.reload.clone())?;
    mamori::daemon::run(&args.config, control)?;
    Ok(ExitCode::SUCCESS)
}

fn status(args: StatusArgs) -> Result<ExitCode> {
    let cfg = args
        .config
        .as_deref()
        .map(mamori::config::Config::load)
        .transpose()?;
    let db = match (&args.db, &cfg) {
        (Some(db), _) => db.clone(),
        (None, Some(c)) => c.store.database.clone(),
        (None, None) => anyhow::bail!("--db or --config is needed"),
    };
    let args = (db,);
    if !args.0.exists() {
        anyhow::bail!("{}: no such database", args.0.display());
    }
    let conn = mamori::store::Store::open_read_only(&args.0)?;
    let s = mamori::store::Store::status(&conn)?;
    let mut out = io::stdout().lock();
    writeln!(out, "database: {}", args.0.display())?;
    if let Some(cfg) = &cfg {
        writeln!(out, "roots:")?;
        for r in &cfg.roots {
            let like = format!("{}/%", r.path.to_string_lossy().trim_end_matches('/'));
            let n: i64 = conn
                .query_row(
                    "SELECT count(*) FROM files WHERE deleted_at IS NULL AND path LIKE ?1",
                    [like],
                    |x| x.get(0),
                )
                .unwrap_or(0);
            let watch = match r.watch {
                mamori::config::WatchMode::Events => "events + reconcile",
                mamori::config::WatchMode::Poll => "reconcile only",
            };
            writeln!(
                out,
                "    {} ({}, {watch}): {n} files  {}",
                r.label,
                r.path.display(),
                match r.kind {
                    mamori::config::RootKind::Share => "share",
                    mamori::config::RootKind::MailExport => "mail export",
                }
            )?;
        }
    }
    writeln!(
        out,
        "files tracked: {} ({} deleted, history kept)",
        s.files, s.deleted
    )?;
    match &s.last_run {
        Some((id, started, finished, state)) => writeln!(
            out,
            "last scan run: #{id} {state}, started {started}{}",
            finished
                .as_ref()
                .map(|f| format!(", finished {f}"))
                .unwrap_or_default()
        )?,
        None => writeln!(out, "last scan run: none")?,
    }
    if let Some(q) = &s.queue_length {
        writeln!(out, "service queue: {q} file(s) waiting (as last reported)")?;
    }
    writeln!(out, "open findings by kind:")?;
    for (k, n) in &s.open_by_kind {
        let label = k
            .parse::<mamori::finding::Kind>()
            .map(|k| k.label_ja())
            .unwrap_or("");
        writeln!(out, "    {k:<24} {n:>7}  {label}")?;
    }
    writeln!(out, "resolved findings (kept): {}", s.resolved)?;
    writeln!(out, "unreadable files by reason:")?;
    for (r, n) in &s.unreadable_by_reason {
        writeln!(out, "    {r:<24} {n:>7}")?;
    }
    writeln!(out, "recent events:")?;
    for (at, kind, detail) in &s.recent_events {
        writeln!(out, "    {at}  {kind:<18} {detail}")?;
    }
    Ok(ExitCode::SUCCESS)
}

fn bench_corpus(
    engine: &Engine,
    dir: &std::path::Path,
    args: &BenchArgs,
    key: [u8; 32],
) -> Result<ExitCode> {
    let pool = mamori::isolate::WorkerPool::new(mamori::isolate::WorkerConfig {
        exe: std::env::current_exe()?,
        detectors: args.detector_args.detectors.clone(),
        limits: Limits::default(),
        memory_bytes: 2 << 30,
        key,
        internal_domains: Vec::new(),
    });
    let b = mamori::bench::corpus(engine, dir, &pool)
        .with_context(|| format!("benchmarking {}", dir.display()))?;
    let mut out = io::stdout().lock();
    let mb = |bytes: u64| bytes as f64 / 1e6;
    writeln!(
        out,
        "mamori bench --corpus {}: {} files, {:.1} MB",
        dir.display(),
        b.files,
        mb(b.bytes)
    )?;
    writeln!(
        out,
        "{:<22} {:>6} {:>9} {:>9} {:>14}",
        "format", "files", "MB", "seconds", "MB/s 1 thread"
    )?;
    for (f, n, bytes, secs) in &b.per_format {
        writeln!(
            out,
            "{f:<22} {n:>6} {:>9.1} {secs:>9.2} {:>14.1}",
            mb(*bytes),
            mb(*bytes) / secs
        )?;
    }
    writeln!(
        out,
        "whole scan, {} threads, in-process:      {:>7.2} s  {:>7.1} MB/s",
        b.threads,
        b.whole_in_process,
        mb(b.bytes) / b.whole_in_process
    )?;
    writeln!(
        out,
        "whole scan, {} threads, worker processes: {:>7.2} s  {:>7.1} MB/s",
        b.threads,
        b.whole_isolated,
        mb(b.bytes) / b.whole_isolated
    )?;
    if let Some((n, bytes, secs)) = b.pdftotext {
        writeln!(
            out,
            "pdftotext alone on the {n} PDFs ({:.1} MB):       {secs:>7.2} s",
            mb(bytes)
        )?;
    }
    if let Some((n, bytes, secs)) = b.unzip {
        writeln!(
            out,
            "unzip -p alone on the {n} zip-based files ({:.1} MB): {secs:>7.2} s",
            mb(bytes)
        )?;
    }
    if let Some(secs) = b.external_both {
        writeln!(
            out,
            "pdftotext + unzip -p, {} threads: {secs:.2} s; mamori's whole scan takes {:.2}x that (target: within 2x)",
            b.threads,
            b.whole_isolated / secs
        )?;
    }
    Ok(ExitCode::SUCCESS)
}

fn bench(args: BenchArgs) -> Result<ExitCode> {
    let key = random_key();
    let engine = load_engine(&args.detector_args, Fingerprinter::new(key))?;
    if let Some(dir) = &args.corpus {
        return bench_corpus(&engine, dir, &args, key);
    }
    if let Some(n) = args.service {
        let b = mamori::bench::service(&engine, n, 40, &std::env::current_exe()?, key)?;
        let pct = |q: f64| {
            b.latencies
                .get(((b.latencies.len() as f64 - 1.0) * q).round() as usize)
                .copied()
                .unwrap_or(0.0)
        };
        let mut out = io::stdout().lock();
        writeln!(out, "mamori bench --service {n}")?;
        writeln!(
            out,
            "first scan into the store:        {:>8.2} s ({:.0} files/s)",
            b.first_scan,
            n as f64 / b.first_scan
        )?;
        writeln!(
            out,
            "no-change rescan (--incremental): {:>8.2} s (target <= 10 s for 100,000 files)",
            b.no_change_rescan
        )?;
        writeln!(
            out,
            "file dropped -> findings stored ({} files): p50 {:.2} s, p95 {:.2} s, max {:.2} s (target p95 <= 2 s)",
            b.latencies.len(),
            pct(0.5),
            pct(0.95),
            pct(1.0)
        )?;
        writeln!(
            out,
            "peak RSS: this process {} MB, largest worker {} MB",
            b.rss_self_kb / 1024,
            b.rss_worker_kb / 1024
        )?;
        return Ok(ExitCode::SUCCESS);
    }
    let results = mamori::bench::run(&engine, args.size_mb, args.iterations, args.only.as_deref());
    let mut out = io::stdout().lock();
    writeln!(
        out,
        "mamori bench: detection on generated Japanese text, 4 KB units, best of {} runs",
        args.iterations
    )?;
    writeln!(
        out,
        "{:<24} {:>8} {:>10} {:>14} {:>12} {:>16} {:>9}",
        "corpus", "MB", "findings", "MB/s 1 thread", "MB/CPU-s", "MB/s all cores", "threads"
    )?;
    for r in &results {
        writeln!(
            out,
            "{:<24} {:>8.1} {:>10} {:>14.1} {:>12} {:>16.1} {:>9}",
            r.name,
            r.bytes as f64 / 1e6,
            r.findings,
            r.mb_per_s_one(),
            r.mb_per_cpu_s()
                .map(|x| format!("{x:.1}"))
                .unwrap_or_else(|| "-".into()),
            r.mb_per_s_all(),
            r.threads
        )?;
    }
    writeln!(
        out,
        "targets: >= 100 MB/s per core without identifiers, >= 50 MB/s with dense identifiers"
    )?;
    if args.patterns {
        writeln!(
            out,
            "\nshare of units that trigger each detector\n{:>8} {:>8}  detector",
            "prose", "dense"
        )?;
        for (det, prose, dense) in mamori::bench::trigger_shares(&engine, args.size_mb) {
            writeln!(out, "{prose:>8.2} {dense:>8.2}  {det}")?;
        }
        writeln!(
            out,
            "\none pass of each pattern alone (ms of CPU per MB, most expensive on dense text first)\n{:>8} {:>8} {:>8}  detector / pattern",
            "dense", "prose", "matches"
        )?;
        for c in mamori::bench::pattern_costs(&engine, args.size_mb) {
            writeln!(
                out,
                "{:>8.2} {:>8.2} {:>8}  {:<24} {}",
                c.dense_ms_per_mb, c.prose_ms_per_mb, c.dense_matches, c.detector, c.pattern
            )?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
