//! Files mamori could not read, by reason (encrypted, corrupt, image only,
//! too large, unsupported, timeout, permission denied): they may hold
//! personal data nobody has checked.

use axum::extract::{Query, State};
use axum::response::Response;
use maud::html;
use serde::Deserialize;

use super::app::{Shared, WebError};
use super::auth::Ctx;
use super::layout::{self, num, Nav, Tr};

const PAGE: usize = 200;
const REASONS: [&str; 7] = [
    "encrypted",
    "corrupt",
    "image_only",
    "too_large",
    "unsupported",
    "timeout",
    "permission_denied",
];

#[derive(Debug, Default, Deserialize)]
pub(crate) struct Params {
    #[serde(default)]
    reason: String,
    after: Option<String>,
}

pub(crate) async fn page(
    State(app): State<Shared>,
    ctx: Ctx,
    Query(p): Query<Params>,
) -> Result<Response, WebError> {
    if !p.reason.is_empty() && !REASONS.contains(&p.reason.as_str()) {
        return Err(WebError::BadRequest("reason?".into()));
    }
    let after: i64 = p.after.as_deref().and_then(|a| a.parse().ok()).unwrap_or(0);
    let scope = ctx.scope.clone();
    let reason = p.reason.clone();
    let (counts, rows) = app
        .read(move |_, c| {
            let r = (!reason.is_empty()).then_some(reason.as_str());
            Ok((
                c.unreadable_by_reason(&scope)?,
                c.unreadable_files(&scope, r, after, PAGE)?,
            ))
        })
        .await?;
    let l = ctx.lang;
    let total: i64 = counts.values().sum();
    let body = html! {
        p.muted { (l.t(
            "読み取れなかったファイルです。中に個人情報があっても確認できていません。暗号化されたファイルは作成した課に確認してください。",
            "Files mamori could not read: they may hold personal data nobody has checked. Ask the owning section about encrypted files."
        )) }
        table {
            thead { tr { th { (l.t("理由", "Reason")) } th.n { (l.t("ファイル数", "Files")) } } }
            tbody {
                tr class=[(p.reason.is_empty()).then_some("current")] {
                    td { a href="/unreadable" { (l.t("すべて", "all")) } }
                    td.n { (num(total)) }
                }
                @for (reason, n) in &counts {
                    tr {
                        td { a href=(format!("/unreadable{}", layout::query(&[("reason", reason)]))) { (layout::reason_label(l, reason)) } }
                        td.n { (num(*n)) }
                    }
                }
            }
        }
        h2 { (if p.reason.is_empty() { l.t("すべての理由", "All reasons").to_string() } else { layout::reason_label(l, &p.reason) }) }
        table {
            thead { tr {
                th { (l.t("ファイル", "File")) }
                th { (l.t("理由", "Reason")) }
                th { (l.t("形式", "Format")) }
                th { (l.t("最終スキャン", "Last scanned")) }
            } }
            tbody {
                @for r in &rows {
                    tr {
                        td.path { (layout::file_link(&app, r.file_id, &r.path)) }
                        td { (layout::reason_label(l, &r.reason)) }
                        td { (r.format.as_deref().unwrap_or("—")) }
                        td { (r.last_scanned.as_deref().map(layout::time).unwrap_or_default()) }
                    }
                }
                @if rows.is_empty() { tr { td colspan="4" .muted { (l.t("該当するファイルはありません。", "No files.")) } } }
            }
        }
        div.pager {
            @if after > 0 { a href=(format!("/unreadable{}", layout::query(&[("reason", &p.reason)]))) { (l.t("« 最初", "« First")) } }
            @if rows.len() == PAGE {
                @if let Some(last) = rows.last() {
                    a href=(format!("/unreadable{}", layout::query(&[("reason", &p.reason), ("after", &last.file_id.to_string())]))) rel="next" { (l.t("次へ ›", "Next ›")) }
                }
            }
        }
    };
    Ok(layout::page(
        &ctx,
        Nav::Unreadable,
        l.t("読めないファイル", "Unreadable files"),
        body,
    ))
}
