//! The service's commands: `run` (resident, or `--once`), `status` (what
//! the store knows), and `service` (Windows' service manager).

use std::io::{self, Write};
use std::process::ExitCode;

use anyhow::Result;

use mamori::cli::{RunArgs, ServiceArgs, StatusArgs};
use mamori::paths::escape_control;

pub fn run(args: RunArgs) -> Result<ExitCode> {
    let control = mamori::daemon::Control::default();
    for sig in [signal_hook::consts::SIGTERM, signal_hook::consts::SIGINT] {
        signal_hook::flag::register(sig, control.shutdown.clone())?;
    }
    #[cfg(unix)]
    signal_hook::flag::register(signal_hook::consts::SIGHUP, control.reload.clone())?;
    let mode = if args.once {
        mamori::daemon::Mode::Once
    } else {
        mamori::daemon::Mode::Resident
    };
    match mamori::daemon::run(&args.config, control, mode) {
        Ok(()) => Ok(ExitCode::SUCCESS),
        Err(e) => {
            eprintln!("mamori: {e:#}");
            Ok(ExitCode::from(1))
        }
    }
}

pub fn status(args: StatusArgs) -> Result<ExitCode> {
    if let Some(t) = super::central::target(&args.central)? {
        return super::central::status(&t);
    }
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
    if !db.exists() {
        anyhow::bail!("{}: no such database", mamori::paths::display(&db));
    }
    let conn = mamori::store::Store::open_read_only(&db)?;
    let s = mamori::store::Store::status(&conn)?;
    let mut out = io::stdout().lock();
    writeln!(out, "database: {}", mamori::paths::display(&db))?;
    if let Some(cfg) = &cfg {
        writeln!(out, "roots:")?;
        for r in &cfg.roots {
            let n = mamori::store::Store::files_under(&conn, &r.path)?;
            let watch = match r.watch {
                mamori::config::WatchMode::Events => "events + reconcile",
                mamori::config::WatchMode::Poll => "reconcile only",
            };
            writeln!(
                out,
                "    {} ({}, {watch}): {n} files  {}",
                escape_control(&r.label),
                mamori::paths::display(&r.path),
                match r.kind {
                    mamori::config::RootKind::Share => "share",
                    mamori::config::RootKind::MailExport => "mail export",
                }
            )?;
        }
    }
    let central = mamori::store::outbox::central_status(&conn)?;
    if let Some(c) = cfg.as_ref().and_then(|c| c.central.as_ref()) {
        let shown = mamori::central::connect::Target::shown_of(&c.url)
            .unwrap_or_else(|e| format!("(invalid: {e})"));
        writeln!(out, "central: site {} → {shown}", escape_control(&c.site))?;
    }
    if central.enabled || central.outbox_length > 0 {
        writeln!(
            out,
            "central sync: {} change(s) waiting in the outbox{}; last successful sync {}",
            central.outbox_length,
            if central.snapshot_pending {
                " (first snapshot not finished)"
            } else {
                ""
            },
            central.last_sync.as_deref().unwrap_or("never")
        )?;
        if let Some(e) = &central.last_error {
            writeln!(
                out,
                "WARNING: the last central sync failed: {}",
                escape_control(e)
            )?;
        }
    }
    print_store_status(&mut out, &s)?;
    Ok(ExitCode::SUCCESS)
}

/// What a store (or the centre) knows, as `mamori status` prints it.
pub fn print_store_status(out: &mut impl Write, s: &mamori::store::Status) -> io::Result<()> {
    for (root, problem, since) in &s.unavailable_roots {
        writeln!(
            out,
            "WARNING: root {} unavailable since {since}: {}; deletions under it are not recorded",
            escape_control(root),
            escape_control(problem)
        )?;
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
        writeln!(out, "    {:<24} {n:>7}  {label}", escape_control(k))?;
    }
    writeln!(
        out,
        "outbound leak candidates: {} finding(s) in {} file(s)",
        s.outbound_findings, s.outbound_files
    )?;
    writeln!(out, "resolved findings (kept): {}", s.resolved)?;
    writeln!(out, "unreadable files by reason:")?;
    for (r, n) in &s.unreadable_by_reason {
        writeln!(out, "    {:<24} {n:>7}", escape_control(r))?;
    }
    if !s.unsupported_by_format.is_empty() {
        writeln!(out, "not checked (unsupported formats):")?;
        for (f, n) in &s.unsupported_by_format {
            writeln!(out, "    {:<24} {n:>7}", escape_control(f))?;
        }
    }
    writeln!(out, "recent events:")?;
    for (at, kind, detail) in &s.recent_events {
        writeln!(out, "    {at}  {kind:<18} {}", escape_control(detail))?;
    }
    Ok(())
}

#[cfg(windows)]
pub fn windows_service(args: ServiceArgs) -> Result<ExitCode> {
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
pub fn windows_service(_args: ServiceArgs) -> Result<ExitCode> {
    anyhow::bail!(
        "`mamori service` is for Windows; on Linux use the systemd unit in service/mamori.service"
    )
}
