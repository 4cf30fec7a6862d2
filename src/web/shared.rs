//! My Numbers on several sites (`mamori serve --central` only): the same
//! person's number (the same keyed fingerprint, under the organisation's
//! one key) held open on two file servers or more, masked, with every
//! place the user may see. A copy of a payroll list on a branch's share
//! shows here as one value in two places. On a site's store the page does
//! not exist (it knows one site). A user restricted to some roots sees the
//! places within them only, and not on how many sites the value is (as the
//! weekly reports, organisation-wide figures are not theirs to see): that
//! their copy is also held elsewhere is what they need to act on.

use axum::extract::State;
use axum::response::Response;
use maud::html;

use super::app::{Shared, WebError};
use super::auth::Ctx;
use super::layout::{self, num, Lang, Nav, Tr};

/// Values listed (the most widely held first).
const MAX_VALUES: usize = 500;

pub(crate) async fn page(State(app): State<Shared>, ctx: Ctx) -> Result<Response, WebError> {
    let scope = ctx.scope.clone();
    let Some(mut values) = app.read(move |_, c| c.shared_values(&scope)).await? else {
        return Err(WebError::NotFound);
    };
    let total = values.len();
    values.truncate(MAX_VALUES);
    {
        let (name, n) = (ctx.user.name.clone(), values.len());
        app.write(move |_, s| {
            Ok(crate::store::web::audit(
                s.connection(),
                "web_view_shared",
                Some(&name),
                None,
                &format!("viewed {n} My Number(s) on several sites"),
            )?)
        })
        .await?;
    }
    let l = ctx.lang;
    let everywhere = ctx.scope.is_empty();
    let body = html! {
        p.muted { (l.t(
            "同じ個人番号（組織共通の鍵による同じ指紋）が、二つ以上の拠点のファイルサーバーに未解決のまま保存されています。番号は伏せ字で表示します。保存が認められた場所か、各拠点の特定個人情報保護評価書と照らして確認してください。",
            "The same My Number (the same keyed fingerprint under the organisation's one key) is held, unresolved, on the file servers of two sites or more. Numbers are shown masked. Check each place against the sites' areas where My Number may be kept."
        )) }
        p #shared-count { (match l {
            Lang::Ja => format!("{} 件の番号", num(total as i64)),
            Lang::En => format!("{} number(s)", num(total as i64)),
        }) }
        @if !everywhere {
            (layout::notice("info", l.t(
                "表示範囲内の場所だけを表示しています。同じ番号が表示範囲外の拠点にもあります。",
                "Only the places within your roots are shown; each number is also held on another site."
            )))
        }
        @if total > values.len() {
            (layout::notice("info", &match l {
                Lang::Ja => format!("拠点数の多い順に {} 件を表示しています。", num(values.len() as i64)),
                Lang::En => format!("The {} held on most sites are shown.", num(values.len() as i64)),
            }))
        }
        table.shared {
            thead { tr {
                th { (l.t("番号（伏せ字）", "Number (masked)")) }
                @if everywhere { th.n { (l.t("拠点数", "Sites")) } }
                th { (l.t("拠点", "Site")) }
                th { (l.t("ファイル", "File")) }
                th { (l.t("場所", "Where")) }
                th { (l.t("状態", "State")) }
            } }
            tbody {
                @for v in &values {
                    @for (i, loc) in v.locations.iter().enumerate() {
                        tr {
                            @if i == 0 {
                                td.mono rowspan=(v.locations.len()) { (v.masked) }
                                @if everywhere { td.n rowspan=(v.locations.len()) { (num(v.sites as i64)) } }
                            }
                            td.nowrap { (loc.site) }
                            td.path { (layout::file_link(&app, loc.file_id, &loc.path)) }
                            td { (loc.member.as_deref().map(|m| format!("{m} ")).unwrap_or_default()) (loc.location) }
                            td.nowrap { (layout::state_label(l, &loc.state)) }
                        }
                    }
                }
                @if values.is_empty() {
                    tr { td colspan="6" .muted { (l.t("複数の拠点にある個人番号はありません。", "No My Number is held on several sites.")) } }
                }
            }
        }
    };
    Ok(layout::page(
        &ctx,
        Nav::Shared,
        l.t("複数拠点の個人番号", "My Numbers on several sites"),
        body,
    ))
}
