//! The `mamori` binary: parse the command line, run a subcommand, map
//! errors to exit codes. Exit 0: the command completed (findings are data,
//! not errors). Exit 1: it completed but something needs attention (`scan`:
//! files mamori itself failed on were not scanned; `validate`: problems;
//! `run`: the service stopped on a failure). Exit 2: it could not run (bad
//! options, broken detector files, a PATH that does not exist). Exit 130:
//! `scan` was stopped by a signal before it finished.

mod cmd;

use std::io;
use std::process::ExitCode;

use clap::Parser;

use mamori::cli::{Cli, Command};

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
        Command::Serve(a)
            if cli.log_level.is_none() && std::env::var_os("MAMORI_LOG").is_none() =>
        {
            mamori::config::Config::load(&a.config)
                .ok()
                .map(|c| c.service.log_level)
        }
        _ => None,
    };
    init_logging(cli.log_level.as_deref().or(config_level.as_deref()));
    let result = match cli.command {
        Command::Scan(args) => cmd::scan::run(args),
        Command::Validate(args) => cmd::inspect::validate(args),
        Command::Detectors(args) => cmd::inspect::list_detectors(args),
        Command::Extract(args) => cmd::inspect::extract(args),
        Command::Run(args) => cmd::service::run(args),
        Command::Status(args) => cmd::service::status(args),
        Command::Review(args) => cmd::review::run(args),
        Command::Records(args) => cmd::records::list(args),
        Command::Explain(args) => cmd::records::explain(args),
        Command::Serve(args) => cmd::serve::run(args),
        Command::User(args) => cmd::user::run(args),
        Command::Report(args) => cmd::report::run(args),
        Command::Service(args) => cmd::service::windows_service(args),
        Command::Bench(args) => cmd::bench::command(args),
        Command::Central(args) => cmd::central::run(args),
        Command::Worker(args) => {
            mamori::isolate::worker_main(&args.settings).map(|_| ExitCode::SUCCESS)
        }
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
            || e.downcast_ref::<mamori::outcome::SinkError>().is_some_and(|e| {
                matches!(e, mamori::outcome::SinkError::Io(io) if io.kind() == io::ErrorKind::BrokenPipe)
            })
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
