//! Outbound mail: messages sent from the office to outside domains that
//! carry personal data (the outbound check's `outbound_leak_candidate`),
//! one row per message, newest finding ids last (keyset paging).

use axum::extract::{Query, State};
use axum::response::Response;
use maud::html;
use serde::Deserialize;

use super::app::{Shared, WebError};
use super::auth::Ctx;
use super::layout::{self, num, Nav, Tr};

const PAGE: usize = 100;

#[derive(Debug, Default, Deserialize)]
pub(crate) struct Params {
    after: Option<String>,
}

pub(crate) async fn page(
    State(app): State<Shared>,
    ctx: Ctx,
    Query(p): Query<Params>,
) -> Result<Response, WebError> {
    let after: i64 = p.after.as_deref().and_then(|a| a.parse().ok()).unwrap_or(0);
    let scope = ctx.scope.clone();
    let rows = app
        .read(move |_, c| c.outbound_messages(&scope, after, PAGE))
        .await?;
    let l = ctx.lang;
    let body = html! {
        p.muted { (l.t(
            "庁内から外部のドメインへ送られたメールのうち、個人情報を含むもの（未解決・誤検出を除く）です。宛先はドメインのみ表示します。",
            "Messages sent from the office to outside domains that carry personal data (unresolved, false positives excluded). Recipients are shown by domain only."
        )) }
        table {
            thead { tr {
                th { (l.t("ファイル", "File")) }
                th { (l.t("メッセージ", "Message")) }
                th { (l.t("宛先ドメイン", "Recipient domains")) }
                th { (l.t("種類", "Kinds")) }
                th.n { (l.t("件数", "Findings")) }
                th { (l.t("初回検出", "First seen")) }
            } }
            tbody {
                @for r in &rows {
                    tr {
                        td.path { (layout::file_link(&app, r.file_id, &r.path)) }
                        td { (r.member.as_deref().unwrap_or("—")) }
                        td { (r.recipient_domains.replace(',', ", ")) }
                        td { (r.kinds.split(',').map(|k| layout::kind_label(l, k)).collect::<Vec<_>>().join(l.t("、", ", "))) }
                        td.n { (num(r.findings)) }
                        td { (layout::time(&r.first_seen)) }
                    }
                }
                @if rows.is_empty() { tr { td colspan="6" .muted { (l.t("該当するメールはありません。", "No such messages.")) } } }
            }
        }
        div.pager {
            @if after > 0 { a href="/mail" { (l.t("« 最初", "« First")) } }
            @if rows.len() == PAGE {
                @if let Some(last) = rows.last() { a href=(format!("/mail?after={}", last.key)) rel="next" { (l.t("次へ ›", "Next ›")) } }
            }
        }
    };
    Ok(layout::page(
        &ctx,
        Nav::Mail,
        l.t("外部送信メール", "Outbound mail"),
        body,
    ))
}
