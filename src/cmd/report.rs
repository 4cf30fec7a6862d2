//! `mamori report weekly` and `mamori report retention`: the reports a
//! manager reads and a records officer hands on, written from the store
//! alone (no rescan). The library gathers ([`WeeklyReport::gather`],
//! [`retention_candidates`]) and renders (`report::{html, xlsx, csv}`);
//! this wires them to files, and keeps the scheduled report folder to its
//! configured number of weeks. With `--central URL` both read the central
//! database instead (`central::query::weekly_report`,
//! `retention_candidates`): the same files over every site, the weekly
//! report with its section on My Numbers held on several sites.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};

use mamori::cli::{ReportAction, ReportArgs};
use mamori::config::Config;
use mamori::keys::KeySet;
use mamori::output::Lang;
use mamori::paths::display;
use mamori::report::{retention_candidates, Week, WeeklyReport};
use mamori::store::Store;

pub fn run(args: ReportArgs) -> Result<ExitCode> {
    let need = |config: Option<PathBuf>| {
        config.ok_or_else(|| anyhow::anyhow!("--config FILE (or --central URL) is needed"))
    };
    match args.action {
        ReportAction::Weekly {
            config,
            central,
            week,
            as_of,
            lang,
            out,
        } => match super::central::target(&central)? {
            Some(t) => weekly_central(&t, config.as_deref(), week, as_of, lang, out),
            None => weekly(&need(config)?, week, as_of, lang, out),
        },
        ReportAction::Retention {
            config,
            central,
            as_of,
            lang,
            out,
        } => match super::central::target(&central)? {
            Some(t) => retention_central(&t, as_of, lang, &out),
            None => retention(&need(config)?, as_of, lang, &out),
        },
    }
}

/// The configuration and its store (migrated, key checked). Reports only
/// read it: flags are evaluated in memory for the report's day.
fn open(config: &Path) -> Result<(Config, Store)> {
    let cfg = Config::load(config)?;
    if !cfg.store.database.exists() {
        anyhow::bail!(
            "{}: no such database (run the service or `mamori run --once` first)",
            display(&cfg.store.database)
        );
    }
    let key = mamori::keys::load_or_create(&cfg.key_file())
        .with_context(|| format!("fingerprint key {}", display(&cfg.key_file())))?;
    let store = Store::open(&cfg.store.database, &KeySet::new(key))?;
    Ok((cfg, store))
}

fn create(path: &Path) -> Result<BufWriter<File>> {
    Ok(BufWriter::new(
        File::create(path).with_context(|| format!("creating {}", display(path)))?,
    ))
}

fn weekly(
    config: &Path,
    week: Option<Week>,
    as_of: Option<jiff::civil::Date>,
    lang: Lang,
    out: Option<PathBuf>,
) -> Result<ExitCode> {
    let (cfg, store) = open(config)?;
    let ctx = cfg.records_context()?;
    // The last complete week: the one before this week (Japan time).
    let week = week.unwrap_or_else(default_week);
    let rlang = super::records::records_lang(lang);
    let scheduled = out.is_none();
    let dir = out.unwrap_or_else(|| cfg.report.directory.join(week.label()));

    let conn = store.connection();
    // Flags as of the week's Sunday, or today for the week under way.
    let as_of = as_of.unwrap_or_else(|| week.end.min(mamori::time::today_jst()));
    let report = WeeklyReport::gather(conn, store.keys(), &ctx, week, Some(as_of), rlang)?;
    let rows = write_weekly(&report, rlang, &dir, |w| {
        mamori::report::csv::write_findings(conn, &ctx, &report, &week.end_bound(), rlang, w)
    })?;
    finish_weekly(
        &report,
        &dir,
        rows,
        lang,
        scheduled.then_some((&cfg.report.directory, cfg.report.keep_weeks)),
    )
}

/// The last complete week: the one before this week (Japan time).
fn default_week() -> Week {
    Week::of(mamori::time::today_jst()).previous()
}

/// `report weekly --central URL`: the report over every site. It goes to
/// `--out`, or to the `[report] directory` of `--config` (pruned as on a
/// site).
fn weekly_central(
    t: &mamori::central::connect::Target,
    config: Option<&Path>,
    week: Option<Week>,
    as_of: Option<jiff::civil::Date>,
    lang: Lang,
    out: Option<PathBuf>,
) -> Result<ExitCode> {
    let week = week.unwrap_or_else(default_week);
    let rlang = super::records::records_lang(lang);
    let (dir, keep) = match (out, config) {
        (Some(out), _) => (out, None),
        (None, Some(config)) => {
            let cfg = Config::load(config)?;
            (
                cfg.report.directory.join(week.label()),
                Some((cfg.report.directory, cfg.report.keep_weeks)),
            )
        }
        (None, None) => anyhow::bail!(
            "--out DIR is needed with --central (or --config FILE for its [report] directory)"
        ),
    };
    let mut c = super::central::connect(t)?;
    let as_of = as_of.unwrap_or_else(|| week.end.min(mamori::time::today_jst()));
    let report = mamori::central::query::weekly_report(&mut c, week, Some(as_of), rlang)?;
    let rows = write_weekly(&report, rlang, &dir, |w| {
        mamori::report::csv::write_central_findings(&mut c, &report, &week.end_bound(), rlang, w)
    })?;
    finish_weekly(
        &report,
        &dir,
        rows,
        lang,
        keep.as_ref().map(|(d, n)| (d, *n)),
    )
}

/// Writes report.html, report.xlsx, findings.csv (by `csv`) and
/// report.json into `dir` (created if missing); returns the CSV's rows.
fn write_weekly(
    report: &WeeklyReport,
    rlang: mamori::records::Lang,
    dir: &Path,
    csv: impl FnOnce(&mut BufWriter<File>) -> Result<u64, mamori::report::csv::CsvError>,
) -> Result<u64> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", display(dir)))?;
    let t0 = std::time::Instant::now();
    let step =
        |what: &str| tracing::debug!("report: {what} at {:.2} s", t0.elapsed().as_secs_f64());
    let html = mamori::report::html::render(report, rlang)?;
    std::fs::write(dir.join("report.html"), html)
        .with_context(|| format!("writing {}", display(&dir.join("report.html"))))?;

    step("report.html written");
    let xlsx = dir.join("report.xlsx");
    mamori::report::xlsx::write_weekly(report, rlang, &xlsx)
        .with_context(|| format!("writing {}", display(&xlsx)))?;

    step("report.xlsx written");
    let path = dir.join("findings.csv");
    let mut w = create(&path)?;
    let rows = csv(&mut w).with_context(|| format!("writing {}", display(&path)))?;
    w.flush()?;

    step("findings.csv written");
    let json = dir.join("report.json");
    let mut w = create(&json)?;
    serde_json::to_writer(&mut w, report)?;
    w.flush()?;
    step("report.json written");
    Ok(rows)
}

/// Prunes the scheduled folder (`scheduled`: the directory and the weeks
/// kept) and says what was written.
fn finish_weekly(
    report: &WeeklyReport,
    dir: &Path,
    rows: u64,
    lang: Lang,
    scheduled: Option<(&PathBuf, usize)>,
) -> Result<ExitCode> {
    let removed = match scheduled {
        Some((directory, keep)) => prune(directory, keep)?,
        None => Vec::new(),
    };
    match lang {
        Lang::Ja => println!(
            "{} の週次報告を {} に書き出しました: report.html, report.xlsx, findings.csv（{} 件）, report.json",
            report.week,
            display(dir),
            rows
        ),
        Lang::En => println!(
            "weekly report {} written to {}: report.html, report.xlsx, findings.csv ({} findings), report.json",
            report.week,
            display(dir),
            rows
        ),
    }
    if let Some(shared) = &report.shared_values {
        match lang {
            Lang::Ja => println!("複数の拠点にある同じ個人番号: {} 件", shared.len()),
            Lang::En => println!("My Numbers held on several sites: {}", shared.len()),
        }
    }
    for r in removed {
        match lang {
            Lang::Ja => println!("古い報告を削除しました: {}", display(&r)),
            Lang::En => println!("removed an old report: {}", display(&r)),
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Removes the oldest week folders (named like `2026-W48`) of `dir` beyond
/// `keep`; anything else in the directory is left alone. Returns what it removed.
fn prune(dir: &Path, keep: usize) -> Result<Vec<PathBuf>> {
    let mut weeks: Vec<((i16, i8), PathBuf)> = Vec::new();
    for entry in std::fs::read_dir(dir).with_context(|| format!("listing {}", display(dir)))? {
        let entry = entry?;
        let Some(name) = entry.file_name().to_str().map(str::to_string) else {
            continue;
        };
        // A real directory (not a link to one) whose name is a week's label.
        let is_dir = entry.file_type().is_ok_and(|t| t.is_dir());
        match Week::parse(&name) {
            Ok(w) if is_dir && w.label() == name => weeks.push(((w.year, w.number), entry.path())),
            _ => {}
        }
    }
    weeks.sort();
    let excess = weeks.len().saturating_sub(keep);
    let mut removed = Vec::new();
    for (_, path) in weeks.into_iter().take(excess) {
        std::fs::remove_dir_all(&path).with_context(|| format!("removing {}", display(&path)))?;
        removed.push(path);
    }
    Ok(removed)
}

fn retention(
    config: &Path,
    as_of: Option<jiff::civil::Date>,
    lang: Lang,
    out: &Path,
) -> Result<ExitCode> {
    let (cfg, store) = open(config)?;
    let ctx = cfg.records_context()?;
    let as_of = as_of.unwrap_or_else(mamori::time::today_jst);
    let rlang = super::records::records_lang(lang);
    let items = retention_candidates(store.connection(), store.keys(), &ctx, as_of, rlang)?;
    write_retention(&items, as_of, lang, out)
}

/// `report retention --central URL`: every site's files whose retention
/// ended, as each site last evaluated them (today's verdicts: the centre
/// cannot evaluate as of another day).
fn retention_central(
    t: &mamori::central::connect::Target,
    as_of: Option<jiff::civil::Date>,
    lang: Lang,
    out: &Path,
) -> Result<ExitCode> {
    if as_of.is_some() {
        anyhow::bail!(
            "--as-of needs a site's store: the centre has each site's latest verdicts, as the site computed them"
        );
    }
    let mut c = super::central::connect(t)?;
    let rlang = super::records::records_lang(lang);
    let items = mamori::central::query::retention_candidates(&mut c, rlang)?;
    write_retention(&items, mamori::time::today_jst(), lang, out)
}

/// Writes the retention list as .xlsx or .csv (by `out`'s extension).
fn write_retention(
    items: &[mamori::report::FileItem],
    as_of: jiff::civil::Date,
    lang: Lang,
    out: &Path,
) -> Result<ExitCode> {
    let rlang = super::records::records_lang(lang);
    let ext = out
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    match ext.as_deref() {
        Some("xlsx") => mamori::report::xlsx::write_retention(items, as_of, rlang, out)
            .with_context(|| format!("writing {}", display(out)))?,
        Some("csv") => {
            let mut w = create(out)?;
            mamori::report::csv::write_retention(items, rlang, &mut w)
                .with_context(|| format!("writing {}", display(out)))?;
            w.flush()?;
        }
        _ => anyhow::bail!(
            "{}: the retention list is written as .xlsx or .csv",
            display(out)
        ),
    }
    match lang {
        Lang::Ja => println!(
            "保存期間満了のファイル {} 件（{} 時点）を {} に書き出しました",
            items.len(),
            as_of,
            display(out)
        ),
        Lang::En => println!(
            "{} file(s) past their retention (as of {}) written to {}",
            items.len(),
            as_of,
            display(out)
        ),
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prune_keeps_the_newest_weeks_and_nothing_else_is_touched() {
        let dir = tempfile::tempdir().unwrap();
        for w in ["2025-W52", "2026-W01", "2026-W02", "2026-W10"] {
            std::fs::create_dir(dir.path().join(w)).unwrap();
        }
        std::fs::create_dir(dir.path().join("notes")).unwrap();
        std::fs::write(dir.path().join("2026-W03"), "a file, not a week folder").unwrap();
        let removed = prune(dir.path(), 2).unwrap();
        let names: Vec<String> = removed
            .iter()
            .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, ["2025-W52", "2026-W01"]);
        assert!(dir.path().join("2026-W02").is_dir());
        assert!(dir.path().join("2026-W10").is_dir());
        assert!(dir.path().join("notes").is_dir());
        assert!(dir.path().join("2026-W03").is_file());
    }
}
