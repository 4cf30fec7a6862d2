//! `mamori review`: records officers list findings, look at a file,
//! decide, and read the trail — from the command line.

use std::io::{self, Write};
use std::process::ExitCode;

use anyhow::{Context, Result};

use mamori::cli::{FindingFilterArgs, MinConfidence, OutputFormat, ReviewAction, ReviewArgs};
use mamori::config::Config;
use mamori::finding::{Confidence, Kind};
use mamori::keys::KeySet;
use mamori::output::Lang;
use mamori::paths::escape_control;
use mamori::review::{FindingFilter, FindingRow, ReviewState};
use mamori::store::{review as q, Store};

/// The store of a configuration, opened for writing (decisions), with its
/// key, after bringing the records flags up to date.
pub fn open(config: &std::path::Path) -> Result<(Config, Store)> {
    let cfg = Config::load(config)?;
    let key = mamori::keys::load_or_create(&cfg.key_file())
        .with_context(|| format!("fingerprint key {}", cfg.key_file().display()))?;
    if !cfg.store.database.exists() {
        anyhow::bail!(
            "{}: no such database (run the service or `mamori run --once` first)",
            mamori::paths::display(&cfg.store.database)
        );
    }
    let mut store = Store::open(&cfg.store.database, &KeySet::new(key))?;
    super::records::refresh_if_stale(&cfg, &mut store)?;
    Ok((cfg, store))
}

/// The store filter of the command-line filter.
pub fn filter(cfg: &Config, args: &FindingFilterArgs) -> Result<FindingFilter> {
    let root = match &args.root {
        None => None,
        Some(r) => Some(
            cfg.roots
                .iter()
                .find(|x| &x.label == r || x.path.as_os_str() == r.as_str())
                .map(|x| mamori::paths::display(&x.path).into_owned())
                .ok_or_else(|| {
                    anyhow::anyhow!("no root labelled or at {r:?} in the configuration")
                })?,
        ),
    };
    if let Some(flag) = &args.flag {
        flag.parse::<mamori::records::Flag>()
            .map_err(anyhow::Error::msg)?;
    }
    Ok(FindingFilter {
        flag: args.flag.clone(),
        kind: args.kind,
        root,
        status: args.status,
        min_confidence: args.min_confidence.map(|c| match c {
            MinConfidence::Low => Confidence::Low,
            MinConfidence::Medium => Confidence::Medium,
            MinConfidence::High => Confidence::High,
        }),
        ..FindingFilter::default()
    })
}

/// The configuration a command needs when it reads a site's store.
fn config_of(config: Option<std::path::PathBuf>) -> Result<std::path::PathBuf> {
    config.ok_or_else(|| anyhow::anyhow!("--config FILE (or --central URL) is needed"))
}

pub fn run(args: ReviewArgs) -> Result<ExitCode> {
    let central = match &args.action {
        ReviewAction::List { central, .. }
        | ReviewAction::Show { central, .. }
        | ReviewAction::Mark { central, .. }
        | ReviewAction::History { central, .. } => super::central::target(central)?,
    };
    if let Some(t) = central {
        return super::central::review(&t, args.action);
    }
    match args.action {
        ReviewAction::List {
            config,
            filter: f,
            format,
            limit,
            lang,
            ..
        } => {
            let (cfg, store) = open(&config_of(config)?)?;
            let filter = filter(&cfg, &f)?;
            let conn = store.connection();
            let total = q::count_findings(conn, &filter)?;
            print_list(total, format, limit, lang, |after, n| {
                Ok(q::list_findings(conn, &filter, after, n)?)
            })?;
            Ok(ExitCode::SUCCESS)
        }
        ReviewAction::Show {
            path, config, lang, ..
        } => {
            let (cfg, store) = open(&config_of(config)?)?;
            let conn = store.connection();
            let id = file_of(&store, &path)?;
            let mut out = io::stdout().lock();
            let filter = FindingFilter {
                file_id: Some(id),
                ..FindingFilter::default()
            };
            let rows = q::list_findings(conn, &filter, 0, 100_000)?;
            let shown: String =
                conn.query_row("SELECT path FROM files WHERE id = ?1", [id], |r| r.get(0))?;
            writeln!(out, "{}", escape_control(&shown))?;
            print_rows(&mut out, &rows, lang)?;
            for line in super::records::explain_file(&cfg, &store, id, None, lang)? {
                writeln!(out, "  {}", escape_control(&line))?;
            }
            for t in q::trail(conn, id)? {
                writeln!(
                    out,
                    "  {}  {:<18} {}{}",
                    t.at,
                    t.what,
                    t.reviewer
                        .map(|r| format!("{} ", escape_control(&r)))
                        .unwrap_or_default(),
                    escape_control(&t.detail)
                )?;
            }
            Ok(ExitCode::SUCCESS)
        }
        ReviewAction::History { path, config, .. } => {
            let (_, store) = open(&config_of(config)?)?;
            let id = file_of(&store, &path)?;
            let mut out = io::stdout().lock();
            for t in q::trail(store.connection(), id)? {
                writeln!(
                    out,
                    "{}  {:<18} {}{}",
                    t.at,
                    t.what,
                    t.reviewer
                        .map(|r| format!("{} ", escape_control(&r)))
                        .unwrap_or_default(),
                    escape_control(&t.detail)
                )?;
            }
            Ok(ExitCode::SUCCESS)
        }
        ReviewAction::Mark {
            config,
            finding,
            file,
            filter: f,
            decision,
            note,
            reviewer,
            yes,
            ..
        } => {
            if decision.needs_note() && note.trim().is_empty() {
                anyhow::bail!(
                    "a {} decision needs --note saying why (the legal basis)",
                    decision.as_str()
                );
            }
            let (cfg, mut store) = open(&config_of(config)?)?;
            let mut filter = filter(&cfg, &f)?;
            let single =
                finding.is_some() || (file.is_some() && f.flag.is_none() && f.root.is_none());
            if let Some(id) = finding {
                filter = FindingFilter {
                    finding_id: Some(id),
                    ..FindingFilter::default()
                };
            }
            if let Some(path) = &file {
                filter.file_id = Some(file_of(&store, path)?);
            }
            let named = finding.is_some()
                || file.is_some()
                || f.flag.is_some()
                || f.kind.is_some()
                || f.root.is_some()
                || f.status.is_some();
            if !named {
                anyhow::bail!(
                    "say which findings: --finding ID, --file PATH, or a filter (--flag, --kind, --root, --status)"
                );
            }
            let ids = q::finding_ids(store.connection(), &filter)?;
            if ids.is_empty() {
                anyhow::bail!("no finding matches");
            }
            if !single && !yes {
                println!(
                    "{} finding(s) would be marked {}: run again with --yes to record it",
                    ids.len(),
                    decision.as_str()
                );
                return Ok(ExitCode::from(1));
            }
            let n = store.decide(&ids, decision, &note, &reviewer)?;
            super::records::refresh_files(&cfg, &mut store, &ids)?;
            println!(
                "{} finding(s) marked {} ({} with the same value in the same file)",
                ids.len(),
                decision.as_str(),
                n
            );
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn file_of(store: &Store, path: &str) -> Result<i64> {
    q::file_id(store.connection(), store.keys(), path)?
        .ok_or_else(|| anyhow::anyhow!("{}: not in the findings store", escape_control(path)))
}

/// Prints the findings `page(after, n)` reads (keyset pages of at most
/// 5,000 by id), at most `limit` (0: all), as each page arrives: a million
/// open findings stream in constant memory (gathered first, `--limit 0`
/// held 714 MB). The summary format ends with how many of `total` it showed.
pub fn print_list(
    total: i64,
    format: OutputFormat,
    limit: usize,
    lang: Lang,
    mut page: impl FnMut(i64, usize) -> Result<Vec<FindingRow>>,
) -> Result<()> {
    let limit = if limit == 0 { usize::MAX } else { limit };
    let mut out = io::BufWriter::new(io::stdout().lock());
    let (mut shown, mut after) = (0usize, 0i64);
    while shown < limit {
        let rows = page(after, (limit - shown).min(5000))?;
        let Some(last) = rows.last() else { break };
        after = last.id;
        shown += rows.len();
        match format {
            OutputFormat::Jsonl => {
                for r in &rows {
                    serde_json::to_writer(&mut out, r)?;
                    writeln!(out)?;
                }
            }
            OutputFormat::Summary => print_rows(&mut out, &rows, lang)?,
        }
    }
    if format == OutputFormat::Summary {
        match lang {
            Lang::Ja => writeln!(out, "{total} 件中 {shown} 件を表示")?,
            Lang::En => writeln!(out, "{shown} of {total} finding(s) shown")?,
        }
    }
    out.flush()?;
    Ok(())
}

pub fn print_rows(out: &mut impl Write, rows: &[FindingRow], lang: Lang) -> io::Result<()> {
    for r in rows {
        let state = r.state.parse::<ReviewState>().ok();
        let kind = r.kind.parse::<Kind>().ok();
        let (state, kind) = match lang {
            Lang::Ja => (
                state.map(|s| s.label_ja()).unwrap_or(&r.state).to_string(),
                kind.map(|k| k.label_ja()).unwrap_or(&r.kind).to_string(),
            ),
            Lang::En => (
                state.map(|s| s.label_en()).unwrap_or(&r.state).to_string(),
                r.kind.clone(),
            ),
        };
        let member = r
            .member
            .as_ref()
            .map(|m| format!(" [{}]", escape_control(m)))
            .unwrap_or_default();
        let flags = if r.flags.is_empty() {
            String::new()
        } else {
            format!("  <{}>", r.flags.join(", "))
        };
        writeln!(
            out,
            "#{:<8} {:<10} {:<14} {:<6} {:<20} {}{} ({}){}",
            r.id,
            state,
            kind,
            r.confidence,
            r.masked,
            escape_control(&r.path),
            member,
            r.location,
            flags
        )?;
    }
    Ok(())
}
