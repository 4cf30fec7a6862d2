//! `mamori records` (the records state of every stored file) and
//! `mamori explain PATH` (one file's flags and why). Both read the store
//! and the configuration's rules; neither rescans.

use std::collections::BTreeMap;
use std::io::{self, Write};
use std::process::ExitCode;

use anyhow::Result;
use jiff::civil::Date;
use serde::Serialize;

use mamori::cli::{ExplainArgs, OutputFormat, RecordsArgs};
use mamori::config::Config;
use mamori::output::Lang;
use mamori::paths::escape_control;
use mamori::records::apply::{self, FileVerdict};
use mamori::store::Store;

pub fn records_lang(lang: Lang) -> mamori::records::Lang {
    match lang {
        Lang::Ja => mamori::records::Lang::Ja,
        Lang::En => mamori::records::Lang::En,
    }
}

/// Brings the stored verdicts up to today and the current rules.
pub fn refresh_if_stale(cfg: &Config, store: &mut Store) -> Result<()> {
    let ctx = cfg.records_context()?;
    apply::refresh_if_stale(store, &ctx, mamori::time::today_jst())?;
    Ok(())
}

/// Re-evaluates the files of these findings (after a decision).
pub fn refresh_files(cfg: &Config, store: &mut Store, finding_ids: &[i64]) -> Result<()> {
    let ctx = cfg.records_context()?;
    let mut files: Vec<i64> = Vec::new();
    for chunk in finding_ids.chunks(500) {
        let list = chunk
            .iter()
            .map(i64::to_string)
            .collect::<Vec<_>>()
            .join(",");
        let mut st = store.connection().prepare(&format!(
            "SELECT DISTINCT file_id FROM findings WHERE id IN ({list})"
        ))?;
        for id in st.query_map([], |r| r.get::<_, i64>(0))? {
            files.push(id?);
        }
    }
    files.sort_unstable();
    files.dedup();
    apply::refresh(store, &ctx, mamori::time::today_jst(), Some(&files))?;
    Ok(())
}

/// The reasons behind one file's flags, one line each.
pub fn explain_file(
    cfg: &Config,
    store: &Store,
    file_id: i64,
    as_of: Option<Date>,
    lang: Lang,
) -> Result<Vec<String>> {
    let ctx = cfg.records_context()?;
    let as_of = as_of.unwrap_or_else(mamori::time::today_jst);
    let v = apply::evaluate_files(
        store.connection(),
        store.keys(),
        &ctx,
        as_of,
        Some(&[file_id]),
    )?;
    Ok(v.first()
        .map(|v| v.evaluation.explain(records_lang(lang)))
        .unwrap_or_default())
}

/// One file as `records --format jsonl` prints it.
#[derive(Serialize)]
struct RecordLine<'a> {
    path: &'a str,
    root: &'a str,
    document_date: Option<String>,
    date_source: Option<&'static str>,
    retention_class: Option<&'a str>,
    retention: Option<String>,
    retention_start: Option<String>,
    retention_end: Option<String>,
    action: Option<&'static str>,
    hold_until: Option<String>,
    flags: Vec<&'static str>,
    finding_counts: BTreeMap<&'static str, u32>,
}

fn line(v: &FileVerdict) -> RecordLine<'_> {
    let e = &v.evaluation;
    RecordLine {
        path: &v.path,
        root: &v.root,
        document_date: e.document_date.as_ref().map(|d| d.date.to_string()),
        date_source: e.document_date.as_ref().map(|d| d.source.as_str()),
        retention_class: e.retention_class.as_deref(),
        retention: e.retention.map(|r| r.to_string()),
        retention_start: e.retention_start.map(|d| d.to_string()),
        retention_end: e.retention_end.map(|d| d.to_string()),
        action: e.action.map(|a| a.as_str()),
        hold_until: e.hold.as_ref().map(|h| h.until.to_string()),
        flags: e.flag_names(),
        finding_counts: v
            .facts
            .finding_counts
            .iter()
            .map(|(k, n)| (k.as_str(), *n))
            .collect(),
    }
}

pub fn list(args: RecordsArgs) -> Result<ExitCode> {
    let (cfg, mut store) = super::review::open(&args.config)?;
    let ctx = cfg.records_context()?;
    for f in &args.flag {
        f.parse::<mamori::records::Flag>()
            .map_err(anyhow::Error::msg)?;
    }
    let root = match &args.root {
        None => None,
        Some(r) => Some(
            cfg.roots
                .iter()
                .find(|x| &x.label == r || x.path.as_os_str() == r.as_str())
                .map(|x| x.label.clone())
                .ok_or_else(|| {
                    anyhow::anyhow!("no root labelled or at {r:?} in the configuration")
                })?,
        ),
    };
    let today = mamori::time::today_jst();
    let as_of = args.as_of.unwrap_or(today);
    if as_of == today {
        apply::refresh_if_stale(&mut store, &ctx, today)?;
    }
    let verdicts = apply::evaluate_files(store.connection(), store.keys(), &ctx, as_of, None)?;
    let shown: Vec<&FileVerdict> = verdicts
        .iter()
        .filter(|v| root.as_ref().is_none_or(|r| &v.root == r))
        .filter(|v| {
            args.flag.is_empty()
                || v.evaluation
                    .flag_names()
                    .iter()
                    .any(|n| args.flag.iter().any(|f| f == n))
        })
        .collect();
    let mut out = io::BufWriter::new(io::stdout().lock());
    match args.format {
        OutputFormat::Jsonl => {
            for v in &shown {
                serde_json::to_writer(&mut out, &line(v))?;
                writeln!(out)?;
            }
        }
        OutputFormat::Summary => {
            let lang = records_lang(args.lang);
            for v in &shown {
                let e = &v.evaluation;
                if e.flags.is_empty() && !v.facts.holds_personal_data() {
                    continue; // nothing to say about a clean file in a summary
                }
                writeln!(out, "{}", escape_control(&v.path))?;
                let labels: Vec<&str> = e.flags.iter().map(|f| f.label(lang)).collect();
                if !labels.is_empty() {
                    writeln!(out, "    [{}]", labels.join("・"))?;
                }
                for l in e.explain(lang) {
                    writeln!(out, "    {}", escape_control(&l))?;
                }
            }
            let mut by_flag: BTreeMap<&str, usize> = BTreeMap::new();
            for v in &shown {
                for f in &v.evaluation.flags {
                    *by_flag.entry(f.label(lang)).or_default() += 1;
                }
            }
            match args.lang {
                Lang::Ja => writeln!(out, "{} ファイル（{} 時点）", shown.len(), as_of)?,
                Lang::En => writeln!(out, "{} files (as of {as_of})", shown.len())?,
            }
            for (f, n) in by_flag {
                writeln!(out, "    {f}: {n}")?;
            }
        }
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

pub fn explain(args: ExplainArgs) -> Result<ExitCode> {
    let (cfg, store) = super::review::open(&args.config)?;
    let id = mamori::store::review::file_id(store.connection(), store.keys(), &args.path)?
        .ok_or_else(|| {
            anyhow::anyhow!("{}: not in the findings store", escape_control(&args.path))
        })?;
    let ctx = cfg.records_context()?;
    let as_of = args.as_of.unwrap_or_else(mamori::time::today_jst);
    let v = apply::evaluate_files(store.connection(), store.keys(), &ctx, as_of, Some(&[id]))?;
    let Some(v) = v.first() else {
        anyhow::bail!("{}: the file is deleted", escape_control(&args.path));
    };
    let lang = records_lang(args.lang);
    let mut out = io::stdout().lock();
    writeln!(out, "{}", escape_control(&v.path))?;
    let labels: Vec<&str> = v.evaluation.flags.iter().map(|f| f.label(lang)).collect();
    match args.lang {
        Lang::Ja => writeln!(
            out,
            "フラグ（{as_of} 時点）: {}",
            if labels.is_empty() {
                "なし".to_string()
            } else {
                labels.join("・")
            }
        )?,
        Lang::En => writeln!(
            out,
            "flags (as of {as_of}): {}",
            if labels.is_empty() {
                "none".to_string()
            } else {
                labels.join(", ")
            }
        )?,
    }
    for l in v.evaluation.explain(lang) {
        writeln!(out, "  - {}", escape_control(&l))?;
    }
    Ok(ExitCode::SUCCESS)
}
