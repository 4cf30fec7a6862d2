//! Looking at what mamori uses and reads: `validate` (detector files and a
//! configuration), `detectors` (the list), `extract FILE` (its text).

use std::io::{self, Write};
use std::process::ExitCode;

use anyhow::{Context, Result};

use mamori::cli::{DetectorArgs, ExtractArgs, ExtractFormat, ValidateArgs};
use mamori::detect::Engine;
use mamori::finding::Fingerprinter;

fn load_engine(args: &DetectorArgs) -> Result<Engine> {
    Engine::load(
        args.detectors.as_deref(),
        Fingerprinter::new(super::random_key()),
    )
    .context("loading detectors")
}

pub fn validate(args: ValidateArgs) -> Result<ExitCode> {
    let mut detectors = args.detector_args;
    let mut failures = 0;
    let mut out = io::stdout().lock();
    if let Some(path) = &args.config {
        let cfg = mamori::config::Config::load(path)?;
        writeln!(
            out,
            "ok      configuration {} ({} roots)",
            mamori::paths::display(path),
            cfg.roots.len()
        )?;
        if cfg.roots.is_empty() {
            writeln!(
                out,
                "note    no [[root]]: enough for `mamori serve --central`; `mamori run` needs one"
            )?;
        }
        for problem in cfg.check_machine() {
            failures += 1;
            writeln!(out, "FAILED  {}", mamori::paths::escape_control(&problem))?;
        }
        if let Err(e) = mamori::keys::check_existing(&cfg.key_file()) {
            failures += 1;
            writeln!(out, "FAILED  {e}")?;
        }
        if detectors.detectors.is_none() {
            detectors.detectors = cfg.scan.detectors_dir.clone();
        }
    }
    let engine = load_engine(&detectors)?;
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
            format!("{failures} problem(s)")
        }
    )?;
    Ok(if failures == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

pub fn list_detectors(args: DetectorArgs) -> Result<ExitCode> {
    let engine = load_engine(&args)?;
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

pub fn extract(args: ExtractArgs) -> Result<ExitCode> {
    let engine = load_engine(&args.detector_args)?;
    let x = mamori::view::extract_file(
        &args.file,
        &engine,
        &mamori::extract::Limits::default(),
        args.reveal,
    )
    .with_context(|| format!("reading {}", mamori::paths::display(&args.file)))?;
    let mut out = io::BufWriter::new(io::stdout().lock());
    match args.format {
        ExtractFormat::Units => mamori::view::print_units(&x, &mut out)?,
        ExtractFormat::Text => mamori::view::print_text(&x, &mut out)?,
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}
