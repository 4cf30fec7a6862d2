//! The retention queue: files whose retention period ended — 廃棄候補
//! (disposal), 移管候補 (transfer to the archives) and expired files kept
//! by a legal hold — from the stored records verdicts, with an XLSX or CSV
//! export for the 文書主管課 (a 行政文書ファイル管理簿 extract).

use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use maud::html;
use serde::Deserialize;

use super::app::{Shared, WebError};
use super::auth::Ctx;
use super::export::{self, Table};
use super::layout::{self, num, Lang, Nav, Tr};
use crate::store::web::{self as db, RetentionRow};

#[derive(Debug, Default, Deserialize)]
pub(crate) struct Params {
    #[serde(default)]
    root: String,
    /// `dispose`, `transfer`, `held` or empty (all).
    #[serde(default)]
    queue: String,
    /// The first row shown (text: a bad number is the first page).
    #[serde(default)]
    from: String,
}

/// Rows on one page: a city's queue can hold tens of thousands of files
/// (33,425 in the 1,000,000-finding bench store made an 11 MB page); the
/// exports hold every row.
const PAGE: usize = 500;

/// The rows of the page starting at `from` (asked; clamped) among `len`:
/// (start, end, previous page's start, next page's start).
fn window(len: usize, from: &str, page: usize) -> (usize, usize, Option<usize>, Option<usize>) {
    let start = from.parse::<usize>().unwrap_or(0).min(len);
    let end = (start + page).min(len);
    let previous = (start > 0).then(|| start.saturating_sub(page));
    let next = (end < len).then_some(end);
    (start, end, previous, next)
}

/// Which queue a file is in.
fn queue_of(r: &RetentionRow) -> &'static str {
    let flags: Vec<&str> = r.record.flags.split(',').collect();
    if flags.contains(&"disposal_candidate") {
        "dispose"
    } else if flags.contains(&"transfer_candidate") {
        "transfer"
    } else {
        "held"
    }
}

fn queue_label(l: Lang, q: &str) -> &'static str {
    match q {
        "dispose" => l.t("廃棄候補", "to dispose"),
        "transfer" => l.t("移管候補", "to transfer"),
        _ => l.t("保存延長中（法的保留）", "held (legal hold)"),
    }
}

/// The queue as the user may see it, with the page's filters.
async fn rows(app: &Shared, ctx: &Ctx, p: &Params) -> Result<Vec<RetentionRow>, WebError> {
    if !p.root.is_empty() && !ctx.root_labels(app).contains(&p.root) {
        return Err(WebError::Forbidden);
    }
    if !["", "dispose", "transfer", "held"].contains(&p.queue.as_str()) {
        return Err(WebError::BadRequest("queue?".into()));
    }
    let scope = match app.root_shown(&p.root) {
        Some(shown) if !p.root.is_empty() => vec![shown],
        _ => ctx.scope.clone(),
    };
    let mut rows = app.read(move |_, c| c.retention_queue(&scope)).await?;
    if !p.queue.is_empty() {
        rows.retain(|r| queue_of(r) == p.queue);
    }
    Ok(rows)
}

pub(crate) async fn page(
    State(app): State<Shared>,
    ctx: Ctx,
    Query(p): Query<Params>,
) -> Result<Response, WebError> {
    let rows = rows(&app, &ctx, &p).await?;
    let l = ctx.lang;
    let roots: Vec<(String, String)> =
        std::iter::once((String::new(), l.t("すべて", "all").to_string()))
            .chain(ctx.root_labels(&app).into_iter().map(|r| (r.clone(), r)))
            .collect();
    let queues: Vec<(String, String)> = ["", "dispose", "transfer", "held"]
        .iter()
        .map(|q| {
            (
                q.to_string(),
                if q.is_empty() {
                    l.t("すべて", "all").to_string()
                } else {
                    queue_label(l, q).to_string()
                },
            )
        })
        .collect();
    let filters = [("root", p.root.as_str()), ("queue", p.queue.as_str())];
    let (from, end, previous, next) = window(rows.len(), &p.from, PAGE);
    let shown = &rows[from..end];
    let page_link = |start: usize| {
        let start = start.to_string();
        let mut pairs = filters.to_vec();
        pairs.push(("from", start.as_str()));
        format!("/retention{}", layout::query(&pairs))
    };
    let pager = html! {
        @if previous.is_some() || next.is_some() {
            div.pager {
                @if let Some(start) = previous { a href=(page_link(start)) rel="prev" { (l.t("‹ 前へ", "‹ Previous")) } }
                span.muted { (match l {
                    Lang::Ja => format!("{} 〜 {} 件目を表示（全件は Excel・CSV で出力できます）", num(from as i64 + 1), num(end as i64)),
                    Lang::En => format!("{}–{} shown (the exports hold every file)", num(from as i64 + 1), num(end as i64)),
                }) }
                @if let Some(start) = next { a href=(page_link(start)) rel="next" { (l.t("次へ ›", "Next ›")) } }
            }
        }
    };
    let body = html! {
        p.muted { (l.t(
            "保存期間が満了したファイルです（記録管理ルールによる判定。毎日更新）。mamori はファイルを削除・移動しません。",
            "Files whose retention period ended (from the records rules, re-evaluated daily). mamori never deletes or moves files."
        )) }
        form.filters method="get" action="/retention" {
            label { (l.t("ルート（課）", "Root")) select name="root" { (layout::options(&roots, &p.root)) } }
            label { (l.t("区分", "Queue")) select name="queue" { (layout::options(&queues, &p.queue)) } }
            button type="submit" { (l.t("絞り込む", "Filter")) }
        }
        p {
            strong #retention-count { (num(rows.len() as i64)) } (l.t(" ファイル", " file(s)"))
            " · "
            a href=(format!("/retention/export.xlsx{}", layout::query(&filters))) { (l.t("Excel（XLSX）で出力", "Export XLSX")) }
            " · "
            a href=(format!("/retention/export.csv{}", layout::query(&filters))) { (l.t("CSV で出力", "Export CSV")) }
        }
        (pager)
        table {
            thead { tr {
                th { (l.t("区分", "Queue")) }
                th { (l.t("ファイル", "File")) }
                th { (l.t("文書分類", "Class")) }
                th { (l.t("保存期間", "Retention")) }
                th { (l.t("満了日", "Ended")) }
                th { (l.t("保存延長", "Held until")) }
                th.n { (l.t("未解決の検出", "Unresolved")) }
                th.n { (l.t("うち個人番号", "My Number")) }
            } }
            tbody {
                @for r in shown {
                    tr {
                        td { (queue_label(l, queue_of(r))) }
                        td.path { (layout::file_link(&app, r.file_id, &r.path)) }
                        td { (r.record.retention_class.as_deref().unwrap_or("—")) }
                        td { (r.record.retention.as_deref().unwrap_or("—")) }
                        td { (r.record.retention_end.as_deref().unwrap_or("—")) }
                        td { (r.record.hold_until.as_deref().unwrap_or("")) }
                        td.n { (num(r.open_findings)) }
                        td.n { (num(r.my_numbers)) }
                    }
                }
                @if rows.is_empty() { tr { td colspan="8" .muted { (l.t("該当するファイルはありません。", "No files.")) } } }
            }
        }
        (pager)
    };
    Ok(layout::page(
        &ctx,
        Nav::Retention,
        l.t(
            "保存期間満了（廃棄候補・移管候補）",
            "Retention queue (dispose / transfer)",
        ),
        body,
    ))
}

/// The queue as a table for export (display paths, no finding values).
fn table(app: &Shared, l: Lang, rows: &[RetentionRow]) -> Table {
    let headers = [
        l.t("区分", "queue"),
        l.t("課（ルート）", "root"),
        l.t("ファイル", "file"),
        l.t("文書分類", "class"),
        l.t("保存期間", "retention"),
        l.t("文書の日付", "document date"),
        l.t("起算日", "retention start"),
        l.t("満了日", "retention end"),
        l.t("満了時の措置", "action at expiry"),
        l.t("保存延長期限", "held until"),
        l.t("延長の理由", "hold reason"),
        l.t("未解決の検出", "unresolved findings"),
        l.t("うち個人番号", "of which My Number"),
    ];
    let opt = |s: &Option<String>| s.clone().unwrap_or_default();
    Table {
        headers: headers.iter().map(|h| h.to_string()).collect(),
        rows: rows
            .iter()
            .map(|r| {
                vec![
                    queue_label(l, queue_of(r)).to_string(),
                    app.root_label(r.root.as_deref()),
                    r.path.clone(),
                    opt(&r.record.retention_class),
                    opt(&r.record.retention),
                    opt(&r.record.document_date),
                    opt(&r.record.retention_start),
                    opt(&r.record.retention_end),
                    r.record
                        .action
                        .as_deref()
                        .map(|a| layout::action_label(l, a))
                        .unwrap_or_default(),
                    opt(&r.record.hold_until),
                    opt(&r.record.hold_reason),
                    r.open_findings.to_string(),
                    r.my_numbers.to_string(),
                ]
            })
            .collect(),
    }
}

async fn export(app: Shared, ctx: Ctx, p: Params, xlsx: bool) -> Result<Response, WebError> {
    let rows = rows(&app, &ctx, &p).await?;
    let t = table(&app, ctx.lang, &rows);
    let (bytes, mime, ext) = if xlsx {
        (
            export::xlsx(&t, ctx.lang.t("保存期間満了", "Retention queue"))?,
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "xlsx",
        )
    } else {
        (export::csv(&t)?, "text/csv; charset=utf-8", "csv")
    };
    {
        let (name, n) = (ctx.user.name.clone(), rows.len());
        let what = format!(
            "retention queue {ext} ({n} file(s); root {:?}, queue {:?})",
            p.root, p.queue
        );
        app.write(move |_, s| {
            Ok(db::audit(
                s.connection(),
                "web_export",
                Some(&name),
                None,
                &what,
            )?)
        })
        .await?;
    }
    let file = format!("retention-{}.{ext}", crate::time::today_jst());
    Ok((
        [
            (header::CONTENT_TYPE, mime.to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{file}\""),
            ),
        ],
        bytes,
    )
        .into_response())
}

pub(crate) async fn export_xlsx(
    State(app): State<Shared>,
    ctx: Ctx,
    Query(p): Query<Params>,
) -> Result<Response, WebError> {
    export(app, ctx, p, true).await
}

pub(crate) async fn export_csv(
    State(app): State<Shared>,
    ctx: Ctx,
    Query(p): Query<Params>,
) -> Result<Response, WebError> {
    export(app, ctx, p, false).await
}

#[cfg(test)]
mod tests {
    use super::window;

    #[test]
    fn pages_of_the_queue() {
        // 1,234 rows in pages of 500: 0–500, 500–1,000, 1,000–1,234.
        assert_eq!(window(1234, "", 500), (0, 500, None, Some(500)));
        assert_eq!(window(1234, "500", 500), (500, 1000, Some(0), Some(1000)));
        assert_eq!(window(1234, "1000", 500), (1000, 1234, Some(500), None));
        // A start inside a page goes back to 0, not below.
        assert_eq!(window(1234, "200", 500), (200, 700, Some(0), Some(700)));
        // Nonsense and starts past the end: the first page, the empty end.
        assert_eq!(window(1234, "x", 500), (0, 500, None, Some(500)));
        assert_eq!(window(1234, "99999", 500), (1234, 1234, Some(734), None));
        assert_eq!(window(3, "", 500), (0, 3, None, None));
        assert_eq!(window(0, "", 500), (0, 0, None, None));
    }
}
