//! `mamori report weekly` and `mamori report retention`: the reports a
//! manager reads and a records officer hands on, written from the store
//! alone (no rescan). The library gathers ([`WeeklyReport::gather`],
//! [`retention_candidates`]) and renders (`report::{html, xlsx, csv}`);
//! this wires them to files, and keeps the scheduled report folder to its
//! configured number of weeks.

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
    match args.action {
        ReportAction::Weekly {
            config,
            week,
            as_of,
            lang,
            out,
        } => weekly(&config, week, as_of, lang, out),
        ReportAction::Retention {
            config,
            as_of,
            lang,
            out,
        } => retention(&config, as_of, lang, &out),
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
    let week = week.unwrap_or_else(|| Week::of(mamori::time::today_jst()).previous());
    let rlang = super::records::records_lang(lang);
    let scheduled = out.is_none();
    let dir = out.unwrap_or_else(|| cfg.report.directory.join(week.label()));
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", display(&dir)))?;

    let conn = store.connection();
    let t0 = std::time::Instant::now();
    let step =
        |what: &str| tracing::debug!("report: {what} at {:.2} s", t0.elapsed().as_secs_f64());
    // Flags as of the week's Sunday, or today for the week under way.
    let as_of = as_of.unwrap_or_else(|| week.end.min(mamori::time::today_jst()));
    let report = WeeklyReport::gather(conn, store.keys(), &ctx, week, Some(as_of), rlang)?;

    let html = mamori::report::html::render(&report, rlang)?;
    std::fs::write(dir.join("report.html"), html)
        .with_context(|| format!("writing {}", display(&dir.join("report.html"))))?;

    step("gathered, report.html written");
    let xlsx = dir.join("report.xlsx");
    mamori::report::xlsx::write_weekly(&report, rlang, &xlsx)
        .with_context(|| format!("writing {}", display(&xlsx)))?;

    step("report.xlsx written");
    let csv = dir.join("findings.csv");
    let mut w = create(&csv)?;
    let rows =
        mamori::report::csv::write_findings(conn, &ctx, &report, &week.end_bound(), rlang, &mut w)
            .with_context(|| format!("writing {}", display(&csv)))?;
    w.flush()?;

    step("findings.csv written");
    let json = dir.join("report.json");
    let mut w = create(&json)?;
    serde_json::to_writer(&mut w, &report)?;
    w.flush()?;

    step("report.json written");
    let removed = if scheduled {
        prune(&cfg.report.directory, cfg.report.keep_weeks)?
    } else {
        Vec::new()
    };
    match lang {
        Lang::Ja => println!(
            "{} の週次報告を {} に書き出しました: report.html, report.xlsx, findings.csv（{} 件）, report.json",
            report.week,
            display(&dir),
            rows
        ),
        Lang::En => println!(
            "weekly report {} written to {}: report.html, report.xlsx, findings.csv ({} findings), report.json",
            report.week,
            display(&dir),
            rows
        ),
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
    let ext = out
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    match ext.as_deref() {
        Some("xlsx") => mamori::report::xlsx::write_retention(&items, as_of, rlang, out)
            .with_context(|| format!("writing {}", display(out)))?,
        Some("csv") => {
            let mut w = create(out)?;
            mamori::report::csv::write_retention(&items, rlang, &mut w)
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
