//! A file's page: what mamori knows about the file, its records flags
//! with the rules' reasons (the lines `mamori explain` prints), its masked
//! findings with their locations, its trail (decisions and events, views
//! included), and the decision forms: on one finding, or on every
//! unresolved finding of the file (with their number confirmed). Each view
//! is an event with the user: who looked at whose data is itself a record.

use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use maud::html;
use serde::Deserialize;

use super::app::DecideOn;
use super::app::{Shared, WebError};
use super::auth::{Checked, Ctx};
use super::findings::{decision_select, findings_table};
use super::layout::{self, num, Lang, Nav, Tr};
use crate::review::{Decision, FindingFilter, FindingRow, TrailEntry};
use crate::store::web::{self as db, FileInfo};

/// Findings shown on one page (a file with more says so).
const MAX_FINDINGS: usize = 2000;
/// Trail lines shown (the latest).
const MAX_TRAIL: usize = 300;

#[derive(Debug, Default, Deserialize)]
pub(crate) struct PageParams {
    done: Option<String>,
    decision: Option<String>,
    error: Option<String>,
}

struct FileData {
    info: FileInfo,
    findings: Vec<FindingRow>,
    reasons: Vec<String>,
    flags: Vec<String>,
    trail: Vec<TrailEntry>,
    unresolved: i64,
}

pub(crate) async fn page(
    State(app): State<Shared>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Query(p): Query<PageParams>,
) -> Result<Response, WebError> {
    let (scope, lang) = (ctx.scope.clone(), ctx.lang);
    let data = app
        .read(move |_, c| {
            let Some(info) = c.file_info(id, &scope)? else {
                return Ok(None);
            };
            let (reasons, flags) = c.file_verdict(id, lang)?;
            let unresolved = c.count_findings(&FindingFilter {
                file_id: Some(id),
                allowed_roots: scope.clone(),
                ..FindingFilter::default()
            })?;
            Ok(Some(FileData {
                findings: c.file_findings(id, MAX_FINDINGS)?,
                // The screen's own decision events repeat the decisions
                // listed (they are in the event log and the admin page).
                trail: c
                    .trail(id)?
                    .into_iter()
                    .filter(|t| t.what != "web_decision")
                    .collect(),
                info,
                reasons,
                flags,
                unresolved,
            }))
        })
        .await?;
    let Some(d) = data else {
        return Err(WebError::NotFound);
    };
    {
        let name = ctx.user.name.clone();
        let n = d.findings.len();
        let detail = match app.audit_file(id) {
            Some(_) => format!("viewed the file's {n} finding(s)"),
            None => format!("viewed the file's {n} finding(s) (the centre's file #{id})"),
        };
        app.write(move |app, s| {
            Ok(db::audit(
                s.connection(),
                "web_view_file",
                Some(&name),
                app.audit_file(id),
                &detail,
            )?)
        })
        .await?;
    }
    let l = ctx.lang;
    let info = &d.info;
    let rec = info.record.as_ref();
    let trail_from = d.trail.len().saturating_sub(MAX_TRAIL);
    let body = html! {
        @if let (Some(n), Some(dec)) = (p.done.as_deref(), p.decision.as_deref().and_then(|x| x.parse::<Decision>().ok())) {
            (layout::notice("ok", &match l {
                Lang::Ja => format!("{n} 件を「{}」として記録しました。", layout::decision_label(l, dec)),
                Lang::En => format!("{n} finding(s) recorded as {}.", layout::decision_label(l, dec)),
            }))
        }
        @match p.error.as_deref() {
            Some("note") => (layout::notice("warn", l.t("「保有継続」と「法的保留」には、根拠をメモに書いてください。", "Retained and hold need a note saying on what basis."))),
            Some("changed") => (layout::notice("warn", l.t("確認の間に件数が変わりました。表示を確かめて、もう一度記録してください。", "The number of findings changed in the meantime. Check and record again."))),
            _ => {}
        }
        dl.meta {
            dt { (l.t("パス", "Path")) } dd.path #file-path { (info.path) }
            dt { (l.t("ルート（課）", "Root")) } dd { (app.root_label(info.root.as_deref())) }
            dt { (l.t("形式", "Format")) } dd { (info.format.as_deref().unwrap_or("—")) }
            dt { (l.t("サイズ", "Size")) } dd { (num(info.size)) " " (l.t("バイト", "bytes")) }
            dt { (l.t("初回検出", "First seen")) } dd { (layout::time(&info.first_seen)) }
            dt { (l.t("最終スキャン", "Last scanned")) } dd { (info.last_scanned.as_deref().map(layout::time).unwrap_or_else(|| "—".into())) }
            @if let Some(del) = &info.deleted {
                dt { (l.t("削除", "Deleted")) } dd { (layout::time(del)) }
            }
            @if let Some(r) = &info.unreadable_reason {
                dt { (l.t("読めない理由", "Unreadable")) } dd { (layout::reason_label(l, r)) }
            }
        }
        h2 { (l.t("記録管理のフラグと理由", "Records flags and why")) }
        @if d.flags.is_empty() && d.reasons.is_empty() {
            p.muted { (l.t("フラグはありません。", "No flags.")) }
        } @else {
            p { (layout::flag_tags(l, &d.flags)) }
            ul.guide #guide {
                @for f in &d.flags {
                    @if let Some(g) = layout::flag_guidance(l, f) {
                        li { strong { (layout::flag_label(l, f)) } (l.t("：", ": ")) (g) }
                    }
                }
            }
            @if ctx.central {
                p.caption { (l.t("判定の根拠（拠点の設定ファイルの規則により、拠点が最後に評価した結果。[[retention]] などは規則の項目名です）", "Why (as the site last evaluated it with its configuration's rules; [[retention]] and the like name them)")) }
            } @else {
                p.caption { (l.t("判定の根拠（設定ファイルの規則による。[[retention]] などは規則の項目名です）", "Why (from the configuration's rules; [[retention]] and the like name them)")) }
            }
            ul.reasons #reasons { @for r in &d.reasons { li { (r) } } }
        }
        @if let Some(r) = rec {
            @if r.retention_class.is_some() || r.retention_end.is_some() {
                dl.meta {
                    @if let Some(c) = &r.retention_class { dt { (l.t("文書分類", "Class")) } dd { (c) } }
                    @if let Some(x) = &r.retention { dt { (l.t("保存期間", "Retention")) } dd { (x) } }
                    @if let Some(x) = &r.retention_start { dt { (l.t("起算日", "Starts")) } dd { (x) } }
                    @if let Some(x) = &r.retention_end { dt { (l.t("満了日", "Ends")) } dd { (x) } }
                    @if let Some(x) = &r.action { dt { (l.t("満了時の措置", "At expiry")) } dd { (layout::action_label(l, x)) } }
                    @if let Some(x) = &r.hold_until { dt { (l.t("保存延長（法的保留）", "Held until")) } dd { (x) " " (r.hold_reason.as_deref().unwrap_or("")) } }
                }
            }
        }
        h2 { (l.t("検出", "Findings")) " (" (num(d.findings.len() as i64)) ")" }
        @if d.findings.len() == MAX_FINDINGS {
            (layout::notice("info", &match l {
                Lang::Ja => format!("先頭の {} 件を表示しています。", num(MAX_FINDINGS as i64)),
                Lang::En => format!("The first {} findings are shown.", num(MAX_FINDINGS as i64)),
            }))
        }
        (findings_table(&app, l, &d.findings, false, ctx.may_decide().then_some(ctx.csrf.as_str())))
        @if ctx.may_decide() && !d.findings.is_empty() {
            @if d.unresolved > 0 {
                form.decide method="post" action=(format!("/file/{}/decide", info.id)) {
                    input type="hidden" name="csrf" value=(ctx.csrf);
                    input type="hidden" name="confirm" value=(d.unresolved);
                    span { (match l {
                        Lang::Ja => format!("このファイルの未解決の検出 {} 件すべてを", num(d.unresolved)),
                        Lang::En => format!("All {} unresolved finding(s) of this file as", num(d.unresolved)),
                    }) }
                    (decision_select(l, "decision"))
                    input type="text" name="note" placeholder=(l.t("メモ", "Note"));
                    button.secondary type="submit" { (match l {
                        Lang::Ja => format!("{} 件に記録", num(d.unresolved)),
                        Lang::En => format!("Record on {}", num(d.unresolved)),
                    }) }
                }
            }
        }
        h2 { (l.t("履歴", "Trail")) }
        @if trail_from > 0 {
            p.muted { (match l {
                Lang::Ja => format!("新しい {} 件を表示しています（全 {} 件）。", MAX_TRAIL, d.trail.len()),
                Lang::En => format!("The latest {} of {} entries.", MAX_TRAIL, d.trail.len()),
            }) }
        }
        table.trail {
            thead { tr { th { (l.t("日時", "When")) } th { (l.t("内容", "What")) } th { (l.t("担当", "Who")) } th { (l.t("詳細", "Detail")) } } }
            tbody {
                @for t in &d.trail[trail_from..] {
                    tr {
                        td.nowrap { (layout::time(&t.at)) }
                        td.nowrap { (layout::event_label(l, &t.what)) }
                        td {
                            @match t.reviewer.as_deref() {
                                Some(who) => (who),
                                // Scans and rescans: the service, not a person.
                                None => span.muted { (l.t("mamori（自動）", "mamori (automatic)")) },
                            }
                        }
                        td { (trail_detail(l, &t.what, &t.detail)) }
                    }
                }
            }
        }
        p { a href="/findings" { (l.t("« 検出一覧へ", "« Back to the findings")) } }
    };
    Ok(layout::page(
        &ctx,
        Nav::Findings,
        layout::file_name(&d.info.path),
        body,
    ))
}

/// A trail line's detail in the page's language where its form is known:
/// a decision (`false_positive my_number ****6428: note`), a view.
fn trail_detail(l: Lang, what: &str, detail: &str) -> String {
    match what {
        "decision" => {
            let mut parts = detail.splitn(3, ' ');
            match (parts.next(), parts.next(), parts.next()) {
                (Some(state), Some(kind), rest)
                    if state.parse::<crate::review::ReviewState>().is_ok() =>
                {
                    format!(
                        "{} · {} {}",
                        layout::state_label(l, state),
                        layout::kind_label(l, kind),
                        rest.unwrap_or("")
                    )
                }
                _ => detail.to_string(),
            }
        }
        "web_view_file" => l.t("検出を表示", "viewed the findings").to_string(),
        _ => detail.to_string(),
    }
}

#[derive(Debug, Deserialize)]
pub(crate) struct DecisionForm {
    decision: String,
    #[serde(default)]
    note: String,
    /// For a whole file: the number the user saw.
    confirm: Option<String>,
}

fn parse_decision(form: &DecisionForm) -> Result<Decision, WebError> {
    form.decision
        .parse::<Decision>()
        .map_err(|_| WebError::BadRequest("decision?".into()))
}

fn back(file: i64, pairs: &[(&str, &str)]) -> Response {
    Redirect::to(&format!("/file/{file}{}", layout::query(pairs))).into_response()
}

/// A decision on one finding.
pub(crate) async fn decide_finding(
    State(app): State<Shared>,
    Path(id): Path<i64>,
    Checked(ctx, form): Checked<DecisionForm>,
) -> Result<Response, WebError> {
    ctx.require_decide()?;
    let decision = parse_decision(&form)?;
    let scope = ctx.scope.clone();
    let file = app
        .read(move |_, c| {
            let visible = c.count_findings(&FindingFilter {
                finding_id: Some(id),
                allowed_roots: scope,
                ..FindingFilter::default()
            })? == 1;
            Ok(if visible {
                c.files_of_findings(&[id])?.first().copied()
            } else {
                None
            })
        })
        .await?;
    let Some(file) = file else {
        return Err(WebError::NotFound);
    };
    if decision.needs_note() && form.note.trim().is_empty() {
        return Ok(back(file, &[("error", "note")]));
    }
    app.decide(
        DecideOn::Ids(vec![id]),
        decision,
        form.note.clone(),
        ctx.user.name.clone(),
        Some(file),
        format!("finding #{id}"),
    )
    .await?;
    Ok(back(
        file,
        &[("done", "1"), ("decision", decision.as_str())],
    ))
}

/// A decision on every unresolved finding of a file (their number confirmed).
pub(crate) async fn decide_file(
    State(app): State<Shared>,
    Path(id): Path<i64>,
    Checked(ctx, form): Checked<DecisionForm>,
) -> Result<Response, WebError> {
    ctx.require_decide()?;
    let decision = parse_decision(&form)?;
    let filter = FindingFilter {
        file_id: Some(id),
        allowed_roots: ctx.scope.clone(),
        ..FindingFilter::default()
    };
    let scope = ctx.scope.clone();
    let ids = {
        let filter = filter.clone();
        app.read(move |_, c| {
            if c.file_info(id, &scope)?.is_none() {
                return Ok(None);
            }
            Ok(Some(c.finding_ids(&filter)?))
        })
        .await?
    };
    let Some(ids) = ids else {
        return Err(WebError::NotFound);
    };
    let confirmed = form
        .confirm
        .as_deref()
        .and_then(|c| c.parse::<usize>().ok());
    if confirmed != Some(ids.len()) {
        return Ok(back(id, &[("error", "changed")]));
    }
    if decision.needs_note() && form.note.trim().is_empty() {
        return Ok(back(id, &[("error", "note")]));
    }
    let n = ids.len().to_string();
    app.decide(
        DecideOn::Ids(ids),
        decision,
        form.note.clone(),
        ctx.user.name.clone(),
        Some(id),
        "whole file".into(),
    )
    .await?;
    Ok(back(id, &[("done", &n), ("decision", decision.as_str())]))
}
