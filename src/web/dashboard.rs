//! The overview (dashboard): open findings by kind, by review state, by
//! records flag and by root (課), unreadable files, and the 12-week trend
//! drawn as inline SVG by the server. The counts and the trend each read
//! every open finding (seconds for a million), so both are kept per scope:
//! the counts for a minute, the trend for a few; a decision recorded here
//! drops them, and one request at a time computes them while the others
//! wait for its result (twenty officers opening the overview at nine cost
//! one computation, not twenty).

use std::collections::BTreeMap;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::State;
use axum::response::Response;
use maud::{html, Markup};

use super::app::{App, Shared, WebError};
use super::auth::Ctx;
use super::layout::{self, num, Lang, Nav, Tr};
use super::source::Reader;
use crate::records::Flag;
use crate::report::{Week, TREND_WEEKS};
use crate::store::web::TrendCount;

/// The weeks of the trend, oldest first, with open findings at each end.
#[derive(Debug, Clone)]
pub(crate) struct Trend {
    pub weeks: Vec<Week>,
    pub counts: Vec<TrendCount>,
}

const TREND_KEEP: Duration = Duration::from_secs(300);

fn trend(app: &App, c: &mut dyn Reader, scope: &[String]) -> Result<Arc<Trend>, WebError> {
    {
        let cache = app.trend_cache.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((_, _, t)) = cache
            .iter()
            .find(|(s, at, _)| s == scope && at.elapsed() < TREND_KEEP)
        {
            return Ok(t.clone());
        }
    }
    let mut weeks = Vec::with_capacity(TREND_WEEKS);
    let mut w = Week::of(crate::time::today_jst());
    for _ in 0..TREND_WEEKS {
        weeks.push(w);
        w = w.previous();
    }
    weeks.reverse();
    let bounds: Vec<String> = weeks.iter().map(Week::end_bound).collect();
    let t = Arc::new(Trend {
        counts: c.open_at(scope, &bounds)?,
        weeks,
    });
    let mut cache = app.trend_cache.lock().unwrap_or_else(|e| e.into_inner());
    cache.retain(|(s, at, _)| s != scope && at.elapsed() < TREND_KEEP);
    cache.push((scope.to_vec(), Instant::now(), t.clone()));
    Ok(t)
}

/// Forgets the kept trends and counts (a decision changed what counts).
pub(crate) fn forget_trends(app: &App) {
    app.overview_generation.fetch_add(1, Ordering::SeqCst);
    app.trend_cache
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .clear();
    app.overview_cache
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .clear();
}

/// The overview's counts for a scope, as of `at`.
#[derive(Debug)]
pub(crate) struct Counts {
    by_kind: BTreeMap<String, i64>,
    by_state: BTreeMap<String, i64>,
    by_root: BTreeMap<String, i64>,
    by_flag: BTreeMap<String, (i64, i64)>,
    unreadable: BTreeMap<String, i64>,
    /// Files with My Number to act on (outside the areas or kept too long).
    urgent_files: i64,
    at: String,
}

/// The flags of My Number files to act on (the overview's card).
const URGENT: [&str; 2] = ["my_number_outside_area", "my_number_retention_exceeded"];

const COUNTS_KEEP: Duration = Duration::from_secs(60);

fn kept_counts(app: &App, scope: &[String]) -> Option<Arc<Counts>> {
    let cache = app.overview_cache.lock().unwrap_or_else(|e| e.into_inner());
    cache
        .iter()
        .find(|(s, at, _)| s == scope && at.elapsed() < COUNTS_KEEP)
        .map(|(_, _, c)| c.clone())
}

fn counts(app: &App, c: &mut dyn Reader, scope: &[String]) -> Result<Arc<Counts>, WebError> {
    if let Some(kept) = kept_counts(app, scope) {
        return Ok(kept);
    }
    // One computation at a time: who waited here finds it done.
    let _one = app.overview_build.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(kept) = kept_counts(app, scope) {
        return Ok(kept);
    }
    let generation = app.overview_generation.load(Ordering::SeqCst);
    let flags: Vec<&str> = Flag::ALL.iter().map(|f| f.as_str()).collect();
    let counts = Arc::new(Counts {
        by_kind: c.open_by_kind(scope)?,
        by_state: c.open_by_state(scope)?,
        by_root: c.open_by_root(scope)?,
        by_flag: c.by_flag(scope, &flags)?,
        unreadable: c.unreadable_by_reason(scope)?,
        urgent_files: c.files_with_any_flag(scope, &URGENT)?,
        at: crate::time::now(),
    });
    let mut cache = app.overview_cache.lock().unwrap_or_else(|e| e.into_inner());
    if app.overview_generation.load(Ordering::SeqCst) == generation {
        cache.retain(|(s, at, _)| s != scope && at.elapsed() < COUNTS_KEEP);
        cache.push((scope.to_vec(), Instant::now(), counts.clone()));
    }
    Ok(counts)
}

pub(crate) async fn page(State(app): State<Shared>, ctx: Ctx) -> Result<Response, WebError> {
    let scope = ctx.scope.clone();
    let (o, trend) = app
        .read(move |app, c| {
            let counts = counts(app, c, &scope)?;
            let trend = {
                let _one = app.overview_build.lock().unwrap_or_else(|e| e.into_inner());
                self::trend(app, c, &scope)?
            };
            Ok((counts, trend))
        })
        .await?;
    let l = ctx.lang;
    let total: i64 = o.by_kind.values().sum();
    let undecided = o.by_state.get("open").copied().unwrap_or(0)
        + o.by_state.get("regressed").copied().unwrap_or(0);
    let my_number = o.by_kind.get("my_number").copied().unwrap_or(0);
    let urgent_files = o.urgent_files;
    let unreadable: i64 = o.unreadable.values().sum();
    let max_kind = o.by_kind.values().copied().max().unwrap_or(1).max(1);
    let mut kinds: Vec<(&String, &i64)> = o.by_kind.iter().collect();
    kinds.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
    let body = html! {
        div.cards {
            (card(&num(total), l.t("未解決の検出（誤検出を除く）", "Unresolved findings (false positives excluded)"), "/findings", "total-open"))
            (card(&num(undecided), l.t("うち未対応・再検出", "of which undecided (or back after remediation)"), "/findings?status=open", "undecided"))
            (card(&num(my_number), l.t("うち個人番号", "of which My Number"), "/findings?kind=my_number", "my-number"))
            (card(&num(urgent_files), l.t("個人番号の要対応ファイル", "Files with My Number to act on"), "/findings?flag=my_number_outside_area", "urgent"))
            (card(&num(unreadable), l.t("読めないファイル", "Unreadable files"), "/unreadable", "unreadable"))
        }
        div.grid {
            section {
                h2 { (l.t("種類別（未解決）", "By kind (unresolved)")) }
                table {
                    thead { tr { th { (l.t("種類", "Kind")) } th.n { (l.t("件数", "Findings")) } th {} } }
                    tbody {
                        @for (kind, n) in &kinds {
                            tr {
                                td.nowrap { a href=(format!("/findings{}", layout::query(&[("kind", kind)]))) { (layout::kind_label(l, kind)) } }
                                td.n { (num(**n)) }
                                td.barcell { (layout::bar(**n * 140 / max_kind)) }
                            }
                        }
                        @if kinds.is_empty() { tr { td colspan="3" .muted { (l.t("未解決の検出はありません。", "No unresolved findings.")) } } }
                    }
                }
            }
            section {
                h2 { (l.t("記録管理のフラグ別", "By records flag")) }
                table {
                    thead { tr { th { (l.t("フラグ", "Flag")) } th.n { (l.t("ファイル", "Files")) } th.n { (l.t("検出", "Findings")) } } }
                    tbody {
                        @for flag in Flag::ALL {
                            @let (files, findings) = o.by_flag.get(flag.as_str()).copied().unwrap_or((0, 0));
                            tr {
                                td { a href=(format!("/findings{}", layout::query(&[("flag", flag.as_str())]))) { (flag.label(l)) } }
                                td.n { (num(files)) }
                                td.n { (num(findings)) }
                            }
                        }
                    }
                }
            }
            section {
                @if ctx.central {
                    h2 { (l.t("拠点・課（ルート）別", "By site and root")) }
                } @else {
                    h2 { (l.t("課（ルート）別", "By root (section)")) }
                }
                table {
                    thead { tr { th { (l.t("ルート", "Root")) } th.n { (l.t("件数", "Findings")) } } }
                    tbody {
                        @for (root, n) in &o.by_root {
                            @let label = app.root_label(Some(root));
                            tr {
                                td {
                                    @if app.root_shown(&label).is_some() {
                                        a href=(format!("/findings{}", layout::query(&[("root", &label)]))) { (label) }
                                    } @else { (label) }
                                }
                                td.n { (num(*n)) }
                            }
                        }
                        @if o.by_root.is_empty() { tr { td colspan="2" .muted { "—" } } }
                    }
                }
            }
            section {
                h2 { (l.t("対応状況別（未解決）", "By review state (unresolved)")) }
                table {
                    thead { tr { th { (l.t("状態", "State")) } th.n { (l.t("件数", "Findings")) } } }
                    tbody {
                        @for (state, n) in &o.by_state {
                            tr {
                                td { a href=(format!("/findings{}", layout::query(&[("status", state)]))) { (layout::state_label(l, state)) } }
                                td.n { (num(*n)) }
                            }
                        }
                    }
                }
            }
        }
        h2 { (l.t("12週間の推移（各週末時点の未解決件数）", "12-week trend (unresolved at each week's end)")) }
        (trend_svg(l, &trend))
        p.muted { (l.t("週次レポートと同じ定義です（誤検出を除く）。推移は数分ごと、件数は 1 分ごとと判断の記録のたびに集計します。", "Same definition as the weekly report (false positives excluded). The trend is counted every few minutes, the figures every minute and after every decision.")) " " (l.t("集計時刻: ", "Counted at ")) (layout::time(&o.at)) }
    };
    Ok(layout::page(
        &ctx,
        Nav::Dashboard,
        l.t("概要", "Overview"),
        body,
    ))
}

fn card(value: &str, label: &str, href: &str, id: &str) -> Markup {
    html! {
        a.card href=(href) id=(id) {
            span.big { (value) }
            span.label { (label) }
        }
    }
}

/// The trend as a line chart: all unresolved findings and My Number.
fn trend_svg(l: Lang, t: &Trend) -> Markup {
    let (w, h) = (760.0_f64, 260.0_f64);
    let (left, right, top, bottom) = (64.0, 24.0, 40.0, 40.0);
    let n = t.counts.len().max(1);
    let max = t
        .counts
        .iter()
        .map(|c| c.open.max(c.my_number))
        .max()
        .unwrap_or(0)
        .max(1) as f64;
    let step = if n > 1 {
        (w - left - right) / (n - 1) as f64
    } else {
        0.0
    };
    let x = |i: usize| left + step * i as f64;
    let y = |v: i64| top + (h - top - bottom) * (1.0 - v as f64 / max);
    let line = |pick: fn(&TrendCount) -> i64| -> String {
        t.counts
            .iter()
            .enumerate()
            .map(|(i, c)| format!("{:.1},{:.1}", x(i), y(pick(c))))
            .collect::<Vec<_>>()
            .join(" ")
    };
    let open_label = l.t("未解決（全種類）", "Unresolved (all kinds)");
    let mine_label = l.t("うち個人番号", "of which My Number");
    html! {
        svg.trend xmlns="http://www.w3.org/2000/svg" width=(w) height=(h) viewBox=(format!("0 0 {w} {h}")) role="img" aria-label=(open_label) {
            // Grid: zero, half and the maximum.
            @for frac in [0.0_f64, 0.5, 1.0] {
                @let v = (max * frac).round() as i64;
                line x1=(left) x2=(w - right) y1=(y(v)) y2=(y(v)) stroke="#d8dce4" stroke-width="1" {}
                text x=(left - 6.0) y=(y(v) + 4.0) text-anchor="end" font-size="11" fill="#5b6475" { (num(v)) }
            }
            @for (i, week) in t.weeks.iter().enumerate() {
                // The week's last day (a Sunday): officers count in dates,
                // not ISO week numbers (those are in each point's title).
                text x=(x(i)) y=(h - bottom + 16.0) text-anchor="middle" font-size="11" fill="#5b6475" { (format!("{}/{}", week.end.month(), week.end.day())) }
            }
            text x=(left) y=(h - 6.0) font-size="11" fill="#5b6475" {
                (t.weeks.first().map(|w| w.start.to_string()).unwrap_or_default())
                " – "
                (t.weeks.last().map(|w| w.end.to_string()).unwrap_or_default())
                (l.t("（各点は週の最終日〔日曜〕の時点）", " (each point: the week's last day, a Sunday)"))
            }
            polyline points=(line(|c| c.open)) fill="none" stroke="#1f5fa8" stroke-width="2.5" {}
            polyline points=(line(|c| c.my_number)) fill="none" stroke="#a4461b" stroke-width="2" stroke-dasharray="5 3" {}
            @for (i, c) in t.counts.iter().enumerate() {
                circle cx=(x(i)) cy=(y(c.open)) r="3.5" fill="#1f5fa8" {
                    title { (t.weeks.get(i).map(|w| w.label()).unwrap_or_default()) ": " (num(c.open)) }
                }
                circle cx=(x(i)) cy=(y(c.my_number)) r="3" fill="#a4461b" {
                    title { (t.weeks.get(i).map(|w| w.label()).unwrap_or_default()) " " (mine_label) ": " (num(c.my_number)) }
                }
            }
            // Legend, above the plot (never over a point).
            line x1=(left) x2=(left + 24.0) y1="16" y2="16" stroke="#1f5fa8" stroke-width="2.5" {}
            text x=(left + 30.0) y="20" font-size="12" fill="#1d2330" { (open_label) }
            line x1=(left + 230.0) x2=(left + 254.0) y1="16" y2="16" stroke="#a4461b" stroke-width="2" stroke-dasharray="5 3" {}
            text x=(left + 260.0) y="20" font-size="12" fill="#1d2330" { (mine_label) }
        }
    }
}
