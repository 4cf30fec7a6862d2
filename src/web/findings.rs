//! The findings list (filters: root, kind, confidence, flag, status,
//! first-seen date; keyset paging, so that the last page of a million
//! findings costs what the first does) and decisions on a filtered set,
//! which show how many findings they cover and ask to confirm that number
//! first (a set that changed in between is shown again, not decided).

use axum::extract::{Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use maud::{html, Markup};
use serde::Deserialize;

use super::app::{App, DecideOn, Shared, WebError};
use super::auth::{Checked, Ctx};
use super::layout::{self, num, Lang, Nav, Tr};
use crate::finding::{Confidence, Kind};
use crate::records::Flag;
use crate::review::{Decision, FindingFilter, ReviewState};
use crate::store::web as db;

/// Findings per page.
const PAGE: usize = 100;
/// The list counts at most this many findings (a million would be counted
/// on every page otherwise).
const COUNT_CAP: i64 = 10_000;
/// The largest set one decision may cover (one transaction).
pub(crate) const MAX_SET: i64 = 50_000;

/// The filters, as the list's URL and the set decision's form carry them.
#[derive(Debug, Clone, Default, Deserialize)]
pub(crate) struct FilterParams {
    #[serde(default)]
    pub root: String,
    #[serde(default)]
    pub kind: String,
    #[serde(default)]
    pub confidence: String,
    #[serde(default)]
    pub flag: String,
    #[serde(default)]
    pub status: String,
    #[serde(default)]
    pub since: String,
}

impl FilterParams {
    /// The store filter, within the user's roots; a value that is not one
    /// of the choices is refused.
    pub fn to_filter(&self, app: &App, ctx: &Ctx) -> Result<FindingFilter, WebError> {
        let bad = |what: &str| WebError::BadRequest(format!("{what}?"));
        let mut f = FindingFilter {
            allowed_roots: ctx.scope.clone(),
            ..FindingFilter::default()
        };
        if !self.root.is_empty() {
            if !ctx.root_labels(app).contains(&self.root) {
                return Err(WebError::Forbidden);
            }
            f.root = app.root_shown(&self.root);
        }
        if !self.kind.is_empty() {
            f.kind = Some(self.kind.parse::<Kind>().map_err(|_| bad("kind"))?);
        }
        if !self.confidence.is_empty() {
            f.min_confidence = Some(
                self.confidence
                    .parse::<Confidence>()
                    .map_err(|_| bad("confidence"))?,
            );
        }
        if !self.flag.is_empty() {
            self.flag.parse::<Flag>().map_err(|_| bad("flag"))?;
            f.flag = Some(self.flag.clone());
        }
        if !self.status.is_empty() {
            f.status = Some(
                self.status
                    .parse::<ReviewState>()
                    .map_err(|_| bad("status"))?,
            );
        }
        if !self.since.is_empty() {
            let d = self
                .since
                .parse::<jiff::civil::Date>()
                .map_err(|_| bad("since"))?;
            // First seen on or after that day in Japan.
            f.since = Some(crate::report::day_start_utc(d));
        }
        Ok(f)
    }

    pub fn pairs(&self) -> Vec<(&'static str, &str)> {
        vec![
            ("root", &self.root),
            ("kind", &self.kind),
            ("confidence", &self.confidence),
            ("flag", &self.flag),
            ("status", &self.status),
            ("since", &self.since),
        ]
    }

    pub fn hidden(&self) -> Markup {
        html! {
            @for (k, v) in self.pairs() {
                @if !v.is_empty() { input type="hidden" name=(k) value=(v); }
            }
        }
    }

    /// The filters in words (for the confirmation and the audit event).
    pub fn describe(&self, l: Lang) -> String {
        let mut parts = Vec::new();
        if !self.root.is_empty() {
            parts.push(format!("{}: {}", l.t("ルート", "root"), self.root));
        }
        if !self.kind.is_empty() {
            parts.push(format!(
                "{}: {}",
                l.t("種類", "kind"),
                layout::kind_label(l, &self.kind)
            ));
        }
        if !self.confidence.is_empty() {
            parts.push(format!(
                "{}: {}{}",
                l.t("確度", "confidence"),
                layout::confidence_label(l, &self.confidence),
                l.t("以上", " or higher")
            ));
        }
        if !self.flag.is_empty() {
            parts.push(format!(
                "{}: {}",
                l.t("フラグ", "flag"),
                layout::flag_label(l, &self.flag)
            ));
        }
        if !self.status.is_empty() {
            parts.push(format!(
                "{}: {}",
                l.t("状態", "state"),
                layout::state_label(l, &self.status)
            ));
        }
        if !self.since.is_empty() {
            parts.push(format!(
                "{}: {}{}",
                l.t("初回検出", "first seen"),
                self.since,
                l.t("以降", " or later")
            ));
        }
        if parts.is_empty() {
            l.t(
                "条件なし（未解決の全件）",
                "no filter (every unresolved finding)",
            )
            .to_string()
        } else {
            parts.join(l.t("、", ", "))
        }
    }
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct ListParams {
    #[serde(flatten)]
    filter: FilterParams,
    // Numbers as text: serde's `flatten` hands the form's values over as
    // strings, which a number field would refuse.
    after: Option<String>,
    before: Option<String>,
    /// After a set decision: how many, and which.
    done: Option<String>,
    decision: Option<String>,
}

fn number(s: &Option<String>) -> Option<i64> {
    s.as_deref().and_then(|v| v.parse().ok())
}

struct ListData {
    rows: Vec<crate::review::FindingRow>,
    count: i64,
    previous: Option<i64>,
    after: i64,
}

pub(crate) async fn list(
    State(app): State<Shared>,
    ctx: Ctx,
    Query(p): Query<ListParams>,
) -> Result<Response, WebError> {
    let filter = p.filter.to_filter(&app, &ctx)?;
    let (after_param, before_param) = (number(&p.after), number(&p.before));
    let data = {
        let filter = filter.clone();
        app.read(move |_, c| {
            let after = match (after_param, before_param) {
                (_, Some(b)) => c.page_before(&filter, b, PAGE)?.unwrap_or(0),
                (Some(a), None) => a.max(0),
                (None, None) => 0,
            };
            let rows = c.list_findings(&filter, after, PAGE)?;
            let previous = match rows.first() {
                Some(first) if after > 0 => Some(first.id),
                _ => None,
            };
            Ok(ListData {
                count: c.count_findings_capped(&filter, COUNT_CAP + 1)?,
                rows,
                previous,
                after,
            })
        })
        .await?
    };
    {
        let (name, what) = (ctx.user.name.clone(), p.filter.describe(Lang::En));
        let page = data.after;
        app.write(move |_, s| {
            Ok(db::audit(
                s.connection(),
                "web_list",
                Some(&name),
                None,
                &format!("findings list ({what}), after id {page}"),
            )?)
        })
        .await?;
    }
    let l = ctx.lang;
    let base = p.filter.pairs();
    let link = |extra: (&'static str, String)| {
        let mut pairs: Vec<(&str, &str)> = base.clone();
        pairs.push((extra.0, &extra.1));
        format!("/findings{}", layout::query(&pairs))
    };
    let count_text = if data.count > COUNT_CAP {
        match l {
            Lang::Ja => format!("{} 件以上", num(COUNT_CAP)),
            Lang::En => format!("more than {}", num(COUNT_CAP)),
        }
    } else {
        match l {
            Lang::Ja => format!("{} 件", num(data.count)),
            Lang::En => format!("{} finding(s)", num(data.count)),
        }
    };
    // Above and below the table; keyset paging has no page numbers, so the
    // range of finding numbers on screen says where one is.
    let pager = html! {
        div.pager {
            @if data.after > 0 { a href=(format!("/findings{}", layout::query(&base))) { (l.t("« 最初", "« First")) } }
            @if let Some(first) = data.previous { a href=(link(("before", first.to_string()))) rel="prev" { (l.t("‹ 前へ", "‹ Previous")) } }
            @if let (Some(first), Some(last)) = (data.rows.first(), data.rows.last()) {
                span.muted { (match l {
                    Lang::Ja => format!("この画面: #{} 〜 #{}（{} 件）", first.id, last.id, data.rows.len()),
                    Lang::En => format!("On this page: #{} to #{} ({})", first.id, last.id, data.rows.len()),
                }) }
            }
            @if data.rows.len() == PAGE {
                @if let Some(last) = data.rows.last() { a href=(link(("after", last.id.to_string()))) rel="next" { (l.t("次へ ›", "Next ›")) } }
            }
        }
    };
    let body = html! {
        @if let (Some(n), Some(d)) = (number(&p.done), p.decision.as_deref().and_then(|d| d.parse::<Decision>().ok())) {
            (layout::notice("ok", &match l {
                Lang::Ja => format!("{} 件を「{}」として記録しました。", num(n), layout::decision_label(l, d)),
                Lang::En => format!("{} finding(s) recorded as {}.", num(n), layout::decision_label(l, d)),
            }))
        }
        (filter_form(&app, &ctx, &p.filter))
        p #count { (l.t("該当: ", "Matching: ")) strong { (count_text) } }
        (pager)
        (findings_table(&app, l, &data.rows, true, None))
        (pager)
        @if ctx.may_decide() && !data.rows.is_empty() {
            h2 { (l.t("この条件の検出すべてに記録する", "Record a decision on every finding matching these filters")) }
            form.decide method="post" action="/findings/decide" {
                input type="hidden" name="csrf" value=(ctx.csrf);
                (p.filter.hidden())
                (decision_select(l, "decision"))
                input.wide type="text" name="note" placeholder=(l.t("メモ（保有継続・法的保留では根拠が必須）", "Note (the legal basis: required for retained and hold)"));
                button.secondary type="submit" { (l.t("件数を確認…", "Check the count…")) }
            }
        }
    };
    Ok(layout::page(
        &ctx,
        Nav::Findings,
        l.t("検出一覧", "Findings"),
        body,
    ))
}

fn filter_form(app: &App, ctx: &Ctx, f: &FilterParams) -> Markup {
    let l = ctx.lang;
    let any = || (String::new(), l.t("すべて", "all").to_string());
    let roots: Vec<(String, String)> = std::iter::once(any())
        .chain(ctx.root_labels(app).into_iter().map(|r| (r.clone(), r)))
        .collect();
    let kinds: Vec<(String, String)> = std::iter::once(any())
        .chain(
            Kind::ALL
                .iter()
                .map(|k| (k.as_str().to_string(), layout::kind_label(l, k.as_str()))),
        )
        .collect();
    let confidences: Vec<(String, String)> = std::iter::once(any())
        .chain(["medium", "high"].iter().map(|c| {
            (
                c.to_string(),
                format!(
                    "{}{}",
                    layout::confidence_label(l, c),
                    l.t("以上", " or higher")
                ),
            )
        }))
        .collect();
    let flags: Vec<(String, String)> = std::iter::once(any())
        .chain(
            Flag::ALL
                .iter()
                .map(|f| (f.as_str().to_string(), f.label(l).to_string())),
        )
        .collect();
    let states: Vec<(String, String)> = std::iter::once((
        String::new(),
        l.t("未解決（誤検出以外）", "unresolved (not false positive)")
            .to_string(),
    ))
    .chain(
        ReviewState::ALL
            .iter()
            .map(|s| (s.as_str().to_string(), layout::state_label(l, s.as_str()))),
    )
    .collect();
    html! {
        form.filters method="get" action="/findings" {
            label { (l.t("ルート（課）", "Root")) select name="root" { (layout::options(&roots, &f.root)) } }
            label { (l.t("種類", "Kind")) select name="kind" { (layout::options(&kinds, &f.kind)) } }
            label { (l.t("確度", "Confidence")) select name="confidence" { (layout::options(&confidences, &f.confidence)) } }
            label { (l.t("フラグ", "Flag")) select name="flag" { (layout::options(&flags, &f.flag)) } }
            label { (l.t("状態", "State")) select name="status" { (layout::options(&states, &f.status)) } }
            label { (l.t("初回検出日（以降）", "First seen on or after")) input type="date" name="since" value=(f.since); }
            button type="submit" { (l.t("絞り込む", "Filter")) }
            a href="/findings" { (l.t("条件をクリア", "Clear")) }
        }
    }
}

/// The decision choices, none chosen (a decision is never made by a
/// default left in place).
pub(crate) fn decision_select(l: Lang, name: &str) -> Markup {
    html! {
        select name=(name) aria-label=(l.t("判断", "Decision")) required {
            option value="" { (l.t("— 判断を選択 —", "— choose —")) }
            @for d in Decision::ALL {
                option value=(d.as_str()) { (layout::decision_label(l, d)) }
            }
        }
    }
}

/// Findings as a table; `with_path`: the file column (the list);
/// `decide`: a decision form per finding, with this CSRF token.
pub(crate) fn findings_table(
    app: &App,
    l: Lang,
    rows: &[crate::review::FindingRow],
    with_path: bool,
    decide: Option<&str>,
) -> Markup {
    html! {
        table.findings {
            thead { tr {
                th.n { "#" }
                @if with_path { th { (l.t("ファイル", "File")) } }
                th { (l.t("種類", "Kind")) }
                th { (l.t("確度", "Conf.")) }
                th { (l.t("値（伏字）", "Value (masked)")) }
                th { (l.t("場所", "Location")) }
                th { (l.t("状態", "State")) }
                @if with_path { th { (l.t("フラグ", "Flags")) } }
                th { (l.t("初回検出", "First seen")) }
                @if decide.is_some() { th { (l.t("判断を記録", "Record a decision")) } }
            } }
            tbody {
                @for r in rows {
                    tr {
                        td.n { (r.id) }
                        @if with_path {
                            td.path { (layout::file_link(app, r.file_id, &r.path)) }
                        }
                        td.nowrap { (layout::kind_label(l, &r.kind)) }
                        td.nowrap { (layout::confidence_label(l, &r.confidence)) }
                        td.masked { (r.masked) }
                        td.loc {
                            @if let Some(m) = &r.member { span.muted { (m) } br; }
                            (layout::location_label(l, &r.location))
                        }
                        td class=(format!("nowrap state-{}", r.state)) {
                            (layout::state_label(l, &r.state))
                            @if r.resolved.is_some() { br; span.muted { (l.t("解決済み", "resolved")) } }
                        }
                        @if with_path { td { (layout::flag_tags(l, &r.flags)) } }
                        td.nowrap { (layout::time(&r.first_seen)) }
                        @if let Some(csrf) = decide {
                            td {
                                form.decide method="post" action=(format!("/finding/{}/decide", r.id)) {
                                    input type="hidden" name="csrf" value=(csrf);
                                    (decision_select(l, "decision"))
                                    input type="text" name="note" placeholder=(l.t("メモ", "Note")) aria-label=(l.t("メモ", "Note"));
                                    button type="submit" { (l.t("記録", "Record")) }
                                }
                            }
                        }
                    }
                }
                @if rows.is_empty() {
                    tr { td colspan="9" .muted { (l.t("該当する検出はありません。", "No findings match.")) } }
                }
            }
        }
    }
}

#[derive(Debug, Deserialize)]
pub(crate) struct SetForm {
    #[serde(flatten)]
    filter: FilterParams,
    decision: String,
    #[serde(default)]
    note: String,
    /// The count the user confirmed (text: see [`ListParams`]).
    confirm: Option<String>,
}

pub(crate) async fn decide_set(
    State(app): State<Shared>,
    Checked(ctx, form): Checked<SetForm>,
) -> Result<Response, WebError> {
    ctx.require_decide()?;
    let decision = form
        .decision
        .parse::<Decision>()
        .map_err(|_| WebError::BadRequest("decision?".into()))?;
    let filter = form.filter.to_filter(&app, &ctx)?;
    let count = {
        let filter = filter.clone();
        app.read(move |_, c| c.count_findings(&filter)).await?
    };
    let note_missing = decision.needs_note() && form.note.trim().is_empty();
    if number(&form.confirm) != Some(count) || note_missing || count == 0 || count > MAX_SET {
        return Ok(confirm_page(&ctx, &form, decision, count, note_missing));
    }
    let what = form.filter.describe(Lang::En);
    let n = app
        .decide(
            DecideOn::Filter(filter),
            decision,
            form.note.clone(),
            ctx.user.name.clone(),
            None,
            format!("set ({what})"),
        )
        .await?;
    let mut pairs = form.filter.pairs();
    let (done, d) = (n.to_string(), decision.as_str().to_string());
    pairs.push(("done", &done));
    pairs.push(("decision", &d));
    Ok(Redirect::to(&format!("/findings{}", layout::query(&pairs))).into_response())
}

fn confirm_page(
    ctx: &Ctx,
    form: &SetForm,
    decision: Decision,
    count: i64,
    note_missing: bool,
) -> Response {
    let l = ctx.lang;
    let label = layout::decision_label(l, decision);
    let back = format!("/findings{}", layout::query(&form.filter.pairs()));
    let body = html! {
        dl.meta {
            dt { (l.t("条件", "Filters")) } dd { (form.filter.describe(l)) }
            dt { (l.t("判断", "Decision")) } dd { strong { (label) } }
            dt { (l.t("メモ", "Note")) } dd { (if form.note.is_empty() { "—" } else { &form.note }) }
            dt { (l.t("対象件数", "Findings covered")) } dd { strong #confirm-count { (num(count)) } }
        }
        @if let Some(before) = number(&form.confirm).filter(|c| *c != count) {
            (layout::notice("warn", &match l {
                Lang::Ja => format!("確認の間に件数が変わりました（{} 件 → {} 件）。内容を確かめて、もう一度記録してください。", num(before), num(count)),
                Lang::En => format!("The number changed in the meantime ({} → {}). Check and confirm again.", num(before), num(count)),
            }))
        }
        @if note_missing {
            (layout::notice("warn", l.t("「保有継続」と「法的保留」には、根拠をメモに書いてください。", "Retained and hold need a note saying on what basis.")))
        }
        @if count == 0 {
            (layout::notice("info", l.t("条件に合う検出はありません。", "No findings match.")))
            p { a href=(back) { (l.t("一覧へ戻る", "Back to the list")) } }
        } @else if count > MAX_SET {
            (layout::notice("warn", &match l {
                Lang::Ja => format!("一度に記録できるのは {} 件までです。条件を絞ってください。", num(MAX_SET)),
                Lang::En => format!("At most {} findings per decision: narrow the filters.", num(MAX_SET)),
            }))
            p { a href=(back) { (l.t("一覧へ戻る", "Back to the list")) } }
        } @else {
            form.stack method="post" action="/findings/decide" {
                input type="hidden" name="csrf" value=(ctx.csrf);
                (form.filter.hidden())
                input type="hidden" name="decision" value=(decision.as_str());
                input type="hidden" name="confirm" value=(count);
                label { (l.t("メモ", "Note")) input type="text" name="note" value=(form.note); }
                p {
                    (match l {
                        Lang::Ja => format!("{} 件の検出を「{}」として記録します。よろしいですか。", num(count), label),
                        Lang::En => format!("Record {} finding(s) as {}?", num(count), label),
                    })
                }
                div {
                    button type="submit" { (l.t("記録する", "Record")) }
                    " "
                    a href=(back) { (l.t("やめる", "Cancel")) }
                }
            }
        }
    };
    layout::page(
        ctx,
        Nav::Findings,
        l.t("まとめて記録の確認", "Confirm a decision on a set"),
        body,
    )
}
