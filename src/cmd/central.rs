//! `mamori central` (migrate, sync, resync, shared) and the central side of
//! `review`, `records` and `status` (`--central URL`): the same output as on
//! a site's store, across every site (files as `SITE:PATH`).

use std::collections::BTreeMap;
use std::io::{self, Write};
use std::process::ExitCode;

use anyhow::{Context, Result};
use serde::Serialize;

use mamori::central::connect::Target;
use mamori::central::query as q;
use mamori::central::sync::{CycleOptions, SiteSync};
use mamori::cli::{
    CentralAction, CentralArgs, CentralTargetArgs, FindingFilterArgs, MinConfidence, OutputFormat,
    RecordsArgs, ReviewAction,
};
use mamori::config::Config;
use mamori::finding::Confidence;
use mamori::keys::KeySet;
use mamori::output::Lang;
use mamori::paths::escape_control;
use mamori::review::FindingFilter;
use mamori::store::{Store, WriterLock};

/// The centre named on the command line, if any.
pub fn target(args: &CentralTargetArgs) -> Result<Option<Target>> {
    match &args.url {
        None => Ok(None),
        Some(url) => Ok(Some(Target::new(
            url,
            args.password_file.as_deref(),
            args.ca_file.as_deref(),
        )?)),
    }
}

/// Connects to the centre and checks its schema is this binary's (what
/// `report weekly --central` and `serve --central` connect with).
pub fn connect(t: &Target) -> Result<postgres::Client> {
    let mut c = t
        .connect()
        .with_context(|| format!("connecting to {}", t.shown()))?;
    mamori::central::schema::check(&mut c)?;
    Ok(c)
}

pub fn run(args: CentralArgs) -> Result<ExitCode> {
    match args.action {
        CentralAction::Migrate {
            url,
            ca_file,
            password_file,
        } => {
            let t = Target::new(&url, password_file.as_deref(), ca_file.as_deref())?;
            let mut c = t
                .connect()
                .with_context(|| format!("connecting to {}", t.shown()))?;
            let (from, to) = mamori::central::schema::migrate(&mut c)?;
            if from == to {
                println!("{}: central schema version {to}, up to date", t.shown());
            } else {
                println!(
                    "{}: central schema migrated from version {from} to {to}",
                    t.shown()
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        CentralAction::Sync { config } => sync(&config, false),
        CentralAction::Resync { config } => sync(&config, true),
        CentralAction::Shared {
            central,
            kind,
            min_sites,
            format,
        } => {
            let t = target(&central)?.ok_or_else(|| anyhow::anyhow!("--central URL is needed"))?;
            let mut c = connect(&t)?;
            let kinds = if kind.is_empty() {
                vec![mamori::finding::Kind::MyNumber]
            } else {
                kind
            };
            let values = q::shared_values(&mut c, &kinds, min_sites)?;
            let mut out = io::BufWriter::new(io::stdout().lock());
            match format {
                OutputFormat::Jsonl => {
                    for v in &values {
                        serde_json::to_writer(&mut out, v)?;
                        writeln!(out)?;
                    }
                }
                OutputFormat::Summary => {
                    for v in &values {
                        writeln!(out, "{} {} on {} site(s):", v.kind, v.masked, v.sites)?;
                        for l in &v.locations {
                            writeln!(
                                out,
                                "    #{:<8} {:<10} {}{} ({})",
                                l.finding_id,
                                l.state,
                                escape_control(&l.path),
                                l.member
                                    .as_ref()
                                    .map(|m| format!(" [{}]", escape_control(m)))
                                    .unwrap_or_default(),
                                l.location
                            )?;
                        }
                    }
                    writeln!(
                        out,
                        "{} value(s) on {}+ sites",
                        values.len(),
                        min_sites.max(2)
                    )?;
                }
            }
            out.flush()?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// `central sync` and `central resync`: one cycle from this process, when
/// the service is not running (it syncs by itself).
fn sync(config: &std::path::Path, resync: bool) -> Result<ExitCode> {
    let cfg = Config::load(config)?;
    if cfg.central.is_none() {
        anyhow::bail!("{}: no [central] section", mamori::paths::display(config));
    }
    let key = mamori::keys::load_or_create(&cfg.key_file())
        .with_context(|| format!("fingerprint key {}", cfg.key_file().display()))?;
    let keys = KeySet::new(key);
    let ctx = std::sync::Arc::new(cfg.records_context()?);
    let ctx_of = ctx.clone();
    let mut sync = SiteSync::new(&cfg, keys.clone(), Box::new(move || ctx_of.clone()))?;
    if !cfg.store.database.exists() {
        anyhow::bail!(
            "{}: no such database (run the service or `mamori run --once` first)",
            mamori::paths::display(&cfg.store.database)
        );
    }
    if resync {
        let generation = sync.request_resync()?;
        println!(
            "site {} will be shipped again from scratch (generation {generation})",
            escape_control(sync.site())
        );
    }
    let lock = match WriterLock::acquire(&cfg.store.database) {
        Ok(l) => l,
        Err(mamori::store::StoreError::Locked { pid, .. }) => {
            println!("the service (pid {pid}) is running: it ships on its next sync");
            return Ok(ExitCode::SUCCESS);
        }
        Err(e) => return Err(e.into()),
    };
    let mut store = Store::open(&cfg.store.database, &keys)?;
    mamori::store::outbox::set_enabled(store.connection(), true)?;
    let mut apply = |decisions: Vec<mamori::store::outbox::CentralDecision>| -> bool {
        let files = match store.record_central_decisions(&decisions) {
            Ok(f) => f,
            Err(e) => {
                tracing::error!("recording central decisions: {e}");
                return false;
            }
        };
        if let Err(e) = mamori::records::apply::refresh(
            &mut store,
            &ctx,
            mamori::time::today_jst(),
            Some(&files),
        ) {
            tracing::error!("records verdicts after central decisions: {e}");
        }
        true
    };
    let report = sync.cycle(CycleOptions {
        keep_going: &|| true,
        apply: Some(&mut apply),
    })?;
    drop(lock);
    println!(
        "{} → {}: {} row(s) shipped{}, {} decision(s) from the centre recorded, {} change(s) left",
        escape_control(sync.site()),
        sync.target().shown(),
        report.shipped + report.snapshot_rows,
        if report.snapshot_rows > 0 {
            " (full snapshot)"
        } else {
            ""
        },
        report.decisions,
        report.outbox_left
    );
    Ok(ExitCode::SUCCESS)
}

/// The command-line filter at the centre (roots as `SITE` or `SITE:ROOT`).
fn filter(c: &mut postgres::Client, args: &FindingFilterArgs) -> Result<FindingFilter> {
    if let Some(flag) = &args.flag {
        flag.parse::<mamori::records::Flag>()
            .map_err(anyhow::Error::msg)?;
    }
    let root = match &args.root {
        None => None,
        Some(r) => Some(q::resolve_root(c, r)?),
    };
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

fn file_of(c: &mut postgres::Client, path: &str) -> Result<i64> {
    q::file_id(c, path)?
        .ok_or_else(|| anyhow::anyhow!("{}: not in the central database", escape_control(path)))
}

fn print_trail(
    out: &mut impl Write,
    trail: &[mamori::review::TrailEntry],
    indent: &str,
) -> io::Result<()> {
    for t in trail {
        writeln!(
            out,
            "{indent}{}  {:<18} {}{}",
            t.at,
            t.what,
            t.reviewer
                .as_ref()
                .map(|r| format!("{} ", escape_control(r)))
                .unwrap_or_default(),
            escape_control(&t.detail)
        )?;
    }
    Ok(())
}

fn records_lang(lang: Lang) -> mamori::records::Lang {
    match lang {
        Lang::Ja => mamori::records::Lang::Ja,
        Lang::En => mamori::records::Lang::En,
    }
}

/// `mamori review … --central URL`.
pub fn review(t: &Target, action: ReviewAction) -> Result<ExitCode> {
    let mut c = connect(t)?;
    match action {
        ReviewAction::List {
            filter: f,
            format,
            limit,
            lang,
            ..
        } => {
            let filter = filter(&mut c, &f)?;
            let total = q::count_findings(&mut c, &filter)?;
            super::review::print_list(total, format, limit, lang, |after, n| {
                Ok(q::list_findings(&mut c, &filter, after, n)?)
            })?;
            Ok(ExitCode::SUCCESS)
        }
        ReviewAction::Show { path, lang, .. } => {
            let id = file_of(&mut c, &path)?;
            let rows = q::list_findings(
                &mut c,
                &FindingFilter {
                    file_id: Some(id),
                    ..FindingFilter::default()
                },
                0,
                100_000,
            )?;
            let mut out = io::stdout().lock();
            writeln!(
                out,
                "{}",
                escape_control(&q::file_name(&mut c, id)?.unwrap_or_default())
            )?;
            super::review::print_rows(&mut out, &rows, lang)?;
            for line in q::file_reasons(&mut c, id, records_lang(lang))? {
                writeln!(out, "  {}", escape_control(&line))?;
            }
            print_trail(&mut out, &q::trail(&mut c, id)?, "  ")?;
            Ok(ExitCode::SUCCESS)
        }
        ReviewAction::History { path, .. } => {
            let id = file_of(&mut c, &path)?;
            print_trail(&mut io::stdout().lock(), &q::trail(&mut c, id)?, "")?;
            Ok(ExitCode::SUCCESS)
        }
        ReviewAction::Mark {
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
            let mut filter = filter(&mut c, &f)?;
            let single =
                finding.is_some() || (file.is_some() && f.flag.is_none() && f.root.is_none());
            if let Some(id) = finding {
                filter = FindingFilter {
                    finding_id: Some(id),
                    ..FindingFilter::default()
                };
            }
            if let Some(path) = &file {
                filter.file_id = Some(file_of(&mut c, path)?);
            }
            let named = finding.is_some()
                || file.is_some()
                || f.flag.is_some()
                || f.kind.is_some()
                || f.root.is_some()
                || f.status.is_some();
            if !named {
                anyhow::bail!(
                    "say which findings: --finding ID, --file SITE:PATH, or a filter (--flag, --kind, --root, --status)"
                );
            }
            let ids = q::finding_ids(&mut c, &filter)?;
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
            let n = q::decide(&mut c, &ids, decision, &note, &reviewer)?;
            println!(
                "{} finding(s) marked {} ({} with the same value in the same file); their sites record it on their next sync",
                ids.len(),
                decision.as_str(),
                n
            );
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// One file as `records --format jsonl` prints it (a site's fields, and
/// the day its site evaluated it).
#[derive(Serialize)]
struct RecordLine<'a> {
    path: &'a str,
    root: &'a str,
    document_date: Option<&'a str>,
    date_source: Option<&'a str>,
    retention_class: Option<&'a str>,
    retention: Option<&'a str>,
    retention_start: Option<&'a str>,
    retention_end: Option<&'a str>,
    action: Option<&'a str>,
    hold_until: Option<&'a str>,
    flags: &'a [String],
    finding_counts: &'a BTreeMap<String, u32>,
    as_of: Option<&'a str>,
}

/// `mamori records --central URL`.
pub fn records(t: &Target, args: &RecordsArgs) -> Result<ExitCode> {
    if args.as_of.is_some() {
        anyhow::bail!(
            "--as-of needs a site's store: the centre has each site's latest verdicts, as the site computed them"
        );
    }
    for f in &args.flag {
        f.parse::<mamori::records::Flag>()
            .map_err(anyhow::Error::msg)?;
    }
    let mut c = connect(t)?;
    let root = match &args.root {
        None => None,
        Some(r) => Some(q::resolve_root(&mut c, r)?),
    };
    let verdicts = q::verdicts(&mut c, root.as_deref())?;
    let shown: Vec<&q::CentralVerdict> = verdicts
        .iter()
        .filter(|v| args.flag.is_empty() || v.flags.iter().any(|n| args.flag.contains(n)))
        .collect();
    let lang = records_lang(args.lang);
    let label = |name: &str| -> String {
        name.parse::<mamori::records::Flag>()
            .map(|f| f.label(lang).to_string())
            .unwrap_or_else(|_| name.to_string())
    };
    let mut out = io::BufWriter::new(io::stdout().lock());
    match args.format {
        OutputFormat::Jsonl => {
            for v in &shown {
                let line = RecordLine {
                    path: &v.path,
                    root: &v.root,
                    document_date: v.document_date.as_deref(),
                    date_source: v.date_source.as_deref(),
                    retention_class: v.retention_class.as_deref(),
                    retention: v.retention.as_deref(),
                    retention_start: v.retention_start.as_deref(),
                    retention_end: v.retention_end.as_deref(),
                    action: v.action.as_deref(),
                    hold_until: v.hold_until.as_deref(),
                    flags: &v.flags,
                    finding_counts: &v.finding_counts,
                    as_of: v.as_of.as_deref(),
                };
                serde_json::to_writer(&mut out, &line)?;
                writeln!(out)?;
            }
        }
        OutputFormat::Summary => {
            for v in &shown {
                if v.flags.is_empty() && !v.holds_personal_data() {
                    continue;
                }
                writeln!(out, "{}", escape_control(&v.path))?;
                let labels: Vec<String> = v.flags.iter().map(|f| label(f)).collect();
                if !labels.is_empty() {
                    writeln!(out, "    [{}]", labels.join("・"))?;
                }
                for l in v.reasons(lang) {
                    writeln!(out, "    {}", escape_control(l))?;
                }
            }
            let mut by_flag: BTreeMap<String, usize> = BTreeMap::new();
            for v in &shown {
                for f in &v.flags {
                    *by_flag.entry(label(f)).or_default() += 1;
                }
            }
            match args.lang {
                Lang::Ja => writeln!(out, "{} ファイル（各拠点の最新の判定）", shown.len())?,
                Lang::En => writeln!(out, "{} files (each site's latest verdicts)", shown.len())?,
            }
            for (f, n) in by_flag {
                writeln!(out, "    {f}: {n}")?;
            }
        }
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

/// `mamori status --central URL`: every site, then what the centre knows
/// in the shape of a site's status.
pub fn status(t: &Target) -> Result<ExitCode> {
    let mut c = connect(t)?;
    let sites = q::sites(&mut c)?;
    let s = q::status(&mut c)?;
    let mut out = io::stdout().lock();
    writeln!(out, "central database: {}", t.shown())?;
    writeln!(out, "sites:")?;
    for site in &sites {
        writeln!(
            out,
            "    {}: {} files, {} open findings; last sync {}{}{}{}",
            escape_control(&site.name),
            site.files,
            site.open_findings,
            site.last_sync_at.as_deref().unwrap_or("never"),
            site.outbox_length
                .map(|n| format!(", {n} change(s) still queued then"))
                .unwrap_or_default(),
            if site.snapshot_complete {
                ""
            } else {
                ", first snapshot under way"
            },
            if site.pending_decisions > 0 {
                format!(
                    ", {} central decision(s) not yet recorded",
                    site.pending_decisions
                )
            } else {
                String::new()
            }
        )?;
    }
    super::service::print_store_status(&mut out, &s)?;
    Ok(ExitCode::SUCCESS)
}
