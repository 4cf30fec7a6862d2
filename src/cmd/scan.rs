//! `mamori scan PATH...`: one scan, printed as a summary or as the findings
//! contract (JSONL), optionally recorded in a findings database.

use std::io::{self, IsTerminal};
use std::process::ExitCode;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};

use anyhow::{Context, Result};

use mamori::cli::{MinConfidence, OutputFormat, ScanArgs};
use mamori::finding::Confidence;
use mamori::outcome::{OutcomeSink, ScanStats};
use mamori::output::{JsonlSink, SummarySink};
use mamori::scanner::{Isolation, Scanner};
use mamori::store::{Store, StoreSink, WriterLock};

pub fn run(args: ScanArgs) -> Result<ExitCode> {
    for p in &args.paths {
        if let Ok(m) = std::fs::metadata(p) {
            if !m.is_file() && !m.is_dir() {
                eprintln!(
                    "mamori: {}: {} is not read (only regular files and directories are scanned)",
                    mamori::paths::display(p),
                    mamori::pipeline::file_type_name(&m.file_type())
                );
            }
        }
    }
    let key = super::fingerprint_key(args.key_file.as_deref())?;
    let isolation = if args.no_isolation {
        Isolation::InProcess
    } else {
        Isolation::Workers
    };
    let scanner = Scanner::build(args.settings.clone(), key, isolation)?;
    let min = match args.min_confidence {
        MinConfidence::Low => Confidence::Low,
        MinConfidence::Medium => Confidence::Medium,
        MinConfidence::High => Confidence::High,
    };
    let out = io::BufWriter::with_capacity(64 * 1024, io::stdout());
    let records = match &args.config {
        Some(path) => Some(mamori::config::Config::load(path)?.records_context()?),
        None => None,
    };
    let printer: Box<dyn OutcomeSink + Send> = match args.format {
        OutputFormat::Jsonl => {
            let sink = JsonlSink::new(out, min);
            Box::new(match records {
                Some(ctx) => sink.with_records(ctx, args.paths.clone()),
                None => sink,
            })
        }
        OutputFormat::Summary => Box::new(SummarySink::new(out, min, args.lang)),
    };
    // SIGTERM/SIGINT: take no more files, record the run as interrupted.
    let stop = Arc::new(AtomicBool::new(false));
    for sig in [signal_hook::consts::SIGTERM, signal_hook::consts::SIGINT] {
        signal_hook::flag::register(sig, stop.clone())?;
    }
    // With a database, the one writer thread records each outcome, then prints it.
    let mut _lock = None;
    let (mut sink, reader): (
        Box<dyn OutcomeSink + Send>,
        Option<Mutex<rusqlite::Connection>>,
    ) = match &args.db {
        Some(db) => {
            _lock = Some(WriterLock::acquire(db)?);
            let store = Store::open(db, &scanner.keys)
                .with_context(|| format!("opening {}", db.display()))?;
            let reader = if args.incremental {
                Some(Mutex::new(Store::open_read_only(db)?))
            } else {
                None
            };
            let sink = StoreSink::new(
                store,
                &args.paths,
                scanner.set_version(),
                printer,
                stop.clone(),
            )?;
            (Box::new(sink), reader)
        }
        None => (printer, None),
    };
    let set_version = scanner.set_version().to_string();
    let unchanged = |path: &std::path::Path, size: u64, mtime: i64| {
        reader.as_ref().map_or((false, None), |r| {
            let conn = r.lock().unwrap_or_else(|e| e.into_inner());
            mamori::store::stored_state(&conn, &scanner.keys, path, size, mtime, &set_version)
        })
    };
    let bar = (!args.no_progress && io::stderr().is_terminal()).then(|| {
        let b = indicatif::ProgressBar::new_spinner();
        b.set_draw_target(indicatif::ProgressDrawTarget::stderr_with_hz(8));
        b
    });
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
    let job = mamori::scan::ScanJob {
        roots: &args.paths,
        scanner: &scanner,
        min_confidence: min,
        unchanged: if args.incremental {
            Some(&unchanged)
        } else {
            None
        },
        stop: &stop,
    };
    let report = mamori::scan::run(&job, sink.as_mut(), &progress);
    if let Some(b) = &bar {
        b.finish_and_clear();
    }
    let report = report.context("writing results")?;
    for p in &report.missing {
        eprintln!(
            "mamori: {}: no such file or directory",
            mamori::paths::display(p)
        );
    }
    if report.interrupted {
        eprintln!("mamori: interrupted: not every file was scanned");
        return Ok(ExitCode::from(130));
    }
    if !report.missing.is_empty() {
        return Ok(ExitCode::from(2));
    }
    if report.stats.failed > 0 {
        eprintln!(
            "mamori: {} file(s) were not scanned because mamori itself failed on them",
            report.stats.failed
        );
        return Ok(ExitCode::from(1));
    }
    Ok(ExitCode::SUCCESS)
}
