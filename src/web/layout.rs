//! The page shell (header, navigation, language switch, logout form), the
//! words pages share in Japanese and English, formats (times in Japan
//! time, numbers), the stylesheet and the error page. Everything goes
//! through maud, which escapes every value it is given: a file named
//! `<script>…</script>.xlsx` is shown as text.

use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use maud::{html, Markup, DOCTYPE};

pub(crate) use crate::records::Lang;

use super::auth::Ctx;

/// The cookie remembering the language chosen.
pub(crate) const LANG_COOKIE: &str = "mamori_lang";

pub(crate) fn lang_code(lang: Lang) -> &'static str {
    match lang {
        Lang::Ja => "ja",
        Lang::En => "en",
    }
}

/// Japanese or English.
pub(crate) trait Tr {
    fn t<'a>(self, ja: &'a str, en: &'a str) -> &'a str;
}

impl Tr for Lang {
    fn t<'a>(self, ja: &'a str, en: &'a str) -> &'a str {
        match self {
            Lang::Ja => ja,
            Lang::En => en,
        }
    }
}

/// The sections of the navigation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Nav {
    Dashboard,
    Findings,
    Retention,
    Mail,
    Unreadable,
    Reports,
    Shared,
    Users,
    Account,
}

fn nav_items(ctx: &Ctx) -> Vec<(Nav, &'static str, &'static str, &'static str)> {
    let mut items = vec![
        (Nav::Dashboard, "/", "概要", "Overview"),
        (Nav::Findings, "/findings", "検出一覧", "Findings"),
        (
            Nav::Retention,
            "/retention",
            "保存期間満了",
            "Retention queue",
        ),
        (Nav::Mail, "/mail", "外部送信メール", "Outbound mail"),
        (
            Nav::Unreadable,
            "/unreadable",
            "読めないファイル",
            "Unreadable files",
        ),
        (Nav::Reports, "/reports", "週次レポート", "Weekly reports"),
    ];
    if ctx.central {
        items.push((
            Nav::Shared,
            "/shared",
            "複数拠点の個人番号",
            "On several sites",
        ));
    }
    if ctx.role.may_admin() {
        items.push((Nav::Users, "/users", "ユーザー管理", "Users"));
    }
    items
}

/// A full page for a logged-in user.
pub(crate) fn page(ctx: &Ctx, current: Nav, title: &str, body: Markup) -> Response {
    let l = ctx.lang;
    let other = match l {
        Lang::Ja => ("en", "English"),
        Lang::En => ("ja", "日本語"),
    };
    let markup = html! {
        (DOCTYPE)
        html lang=(lang_code(l)) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " — mamori" }
                link rel="stylesheet" href="/static/mamori.css";
            }
            body {
                header.top {
                    a.brand href="/" { "mamori " span.brand-ja { "守り" } }
                    nav {
                        @for (nav, href, ja, en) in nav_items(ctx) {
                            a href=(href) class=[(nav == current).then_some("current")] { (l.t(ja, en)) }
                        }
                    }
                    div.who {
                        a href=(ctx.with_lang(other.0)) hreflang=(other.0) { (other.1) }
                        " "
                        a href="/account" class=[(current == Nav::Account).then_some("current")] {
                            (ctx.user.name) " (" (role_label(l, ctx.role)) ")"
                        }
                        form.inline method="post" action="/logout" {
                            input type="hidden" name="csrf" value=(ctx.csrf);
                            button.link type="submit" { (l.t("ログアウト", "Log out")) }
                        }
                    }
                }
                @if !ctx.user.roots.is_empty() {
                    p.scope {
                        (l.t("表示範囲: ", "You see: "))
                        (ctx.user.roots.join("、"))
                    }
                }
                main {
                    h1 { (title) }
                    (body)
                }
            }
        }
    };
    Html(markup.into_string()).into_response()
}

/// A page without navigation (login, errors).
pub(crate) fn bare(lang: Lang, title: &str, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang=(lang_code(lang)) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " — mamori" }
                link rel="stylesheet" href="/static/mamori.css";
            }
            body.bare {
                main.narrow {
                    p.brand { "mamori " span.brand-ja { "守り" } }
                    h1 { (title) }
                    (body)
                }
            }
        }
    }
}

/// The error page (both languages: it is shown before anything is known).
pub(crate) fn error_page(status: StatusCode, ja: &str, en: &str) -> Html<String> {
    let title = format!(
        "{} {}",
        status.as_u16(),
        status.canonical_reason().unwrap_or("")
    );
    Html(
        bare(
            Lang::Ja,
            &title,
            html! {
                p { (ja) }
                @if ja != en { p lang="en" { (en) } }
                p { a href="/" { "概要へ戻る / Back to the overview" } }
            },
        )
        .into_string(),
    )
}

pub(crate) fn role_label(l: Lang, role: super::accounts::Role) -> &'static str {
    match l {
        Lang::Ja => role.label_ja(),
        Lang::En => role.label_en(),
    }
}

pub(crate) fn kind_label(l: Lang, kind: &str) -> String {
    match (l, kind.parse::<crate::finding::Kind>()) {
        (Lang::Ja, Ok(k)) => k.label_ja().to_string(),
        (Lang::En, Ok(k)) => k.as_str().replace('_', " "),
        (_, Err(_)) => kind.to_string(),
    }
}

pub(crate) fn state_label(l: Lang, state: &str) -> String {
    match state.parse::<crate::review::ReviewState>() {
        Ok(s) => l.t(s.label_ja(), s.label_en()).to_string(),
        Err(_) => state.to_string(),
    }
}

pub(crate) fn decision_label(l: Lang, d: crate::review::Decision) -> &'static str {
    let s = d.state();
    l.t(s.label_ja(), s.label_en())
}

pub(crate) fn flag_label(l: Lang, flag: &str) -> String {
    match flag.parse::<crate::records::Flag>() {
        Ok(f) => f.label(l).to_string(),
        Err(_) => flag.to_string(),
    }
}

/// What a records flag means to a records officer and what they do about
/// it, in one sentence: the file page shows it above the rules' reasons
/// (which name the configuration's rules and are written for whoever
/// maintains them).
pub(crate) fn flag_guidance(l: Lang, flag: &str) -> Option<&'static str> {
    use crate::records::Flag;
    let (ja, en) = match flag.parse::<Flag>().ok()? {
        Flag::RetentionExpired => (
            "保存期間が満了しています。満了時の措置（廃棄・移管）を文書主管課と進めてください。",
            "The retention period has ended: take the action at expiry (disposal or transfer) with the records section.",
        ),
        Flag::DisposalCandidate => (
            "満了時の措置が「廃棄」のファイルです。「保存期間満了」の一覧から文書主管課へ知らせてください（mamori はファイルを削除しません）。",
            "Its action at expiry is disposal: report it to the records section from the retention queue (mamori never deletes files).",
        ),
        Flag::TransferCandidate => (
            "満了時の措置が「移管」（公文書館等へ）のファイルです。「保存期間満了」の一覧から文書主管課へ知らせてください。",
            "Its action at expiry is transfer to the archives: report it to the records section from the retention queue.",
        ),
        Flag::RetentionUnknown => (
            "個人情報を含みますが、保存期間が分かりません（当てはまる保存期間の規則がないか、文書の日付が分かりません）。文書分類を確かめ、システム管理者に規則の追加を依頼してください。",
            "It holds personal data but its retention is unknown (no retention rule matches, or its date is unknown): check its class and ask the administrator for a rule.",
        ),
        Flag::MyNumberOutsideArea => (
            "個人番号が、特定個人情報の保管場所として登録された場所の外にあります。保管場所へ移すか、不要なら削除してください。",
            "My Number is outside the places registered for it: move the file into one, or delete it if it is not needed.",
        ),
        Flag::MyNumberRetentionExceeded => (
            "保存期間を過ぎた個人番号です。できるだけ速やかに削除または廃棄してください。",
            "My Number kept past its retention: delete or dispose of it as soon as possible.",
        ),
        Flag::LegalHold => (
            "開示請求・訴訟などのため保存期間が延長されています。延長の間は廃棄・移管しないでください。",
            "The retention is extended (a disclosure request, litigation …): do not dispose of or transfer it meanwhile.",
        ),
        Flag::OutboundLeakCandidate => (
            "庁外へ送られたメールに個人情報が含まれています。送信が適切だったか、送信した課に確認してください。",
            "A message sent outside holds personal data: check with the sending section that it was proper.",
        ),
        Flag::PersonalDataInMailExport => (
            "メールの保存データに個人情報が含まれています。保存の要否と保存場所を確かめてください。",
            "A mail export holds personal data: check that it needs keeping, and where.",
        ),
        Flag::BreachReportHint => (
            "漏えいしていた場合、個人情報保護委員会への報告と本人への通知が必要になる内容です。個人情報保護の担当と確認してください。",
            "Were it leaked, a report to the Personal Information Protection Commission and notice to the persons would be due: check with the privacy officer.",
        ),
    };
    Some(l.t(ja, en))
}

/// An event of the store's log in words (`web_view_file` → 閲覧): the
/// file page's trail and the administrator's list of recent activity.
pub(crate) fn event_label(l: Lang, kind: &str) -> String {
    let (ja, en) = match kind {
        "decision" => ("判断", "decision"),
        "file_added" => ("ファイル追加", "file added"),
        "file_deleted" => ("ファイル削除", "file deleted"),
        "file_moved" => ("移動・名前変更", "moved or renamed"),
        "findings_resolved" => ("検出の解消", "findings resolved"),
        "unreadable" => ("読み取り不可", "unreadable"),
        "content_unchanged" => ("内容変更なし", "content unchanged"),
        "changed_during_scan" => ("スキャン中に変更", "changed while read"),
        "scan_failed" => ("スキャン失敗", "scan failed"),
        "web_view_file" => ("閲覧", "viewed"),
        "web_decision" => ("判断（画面）", "decision (screen)"),
        "web_login" => ("ログイン", "login"),
        "web_logout" => ("ログアウト", "logout"),
        "web_session_expired" => ("セッション終了（時間切れ）", "session expired"),
        "web_list" => ("一覧の表示", "list viewed"),
        "web_export" => ("出力", "export"),
        "web_report_download" => ("レポートの表示", "report opened"),
        "web_user_admin" => ("ユーザー管理", "user administration"),
        other => (other, other),
    };
    l.t(ja, en).to_string()
}

pub(crate) fn confidence_label(l: Lang, c: &str) -> String {
    match (l, c.parse::<crate::finding::Confidence>()) {
        (Lang::Ja, Ok(c)) => c.label_ja().to_string(),
        _ => c.to_string(),
    }
}

/// Why a file could not be read, in words.
pub(crate) fn reason_label(l: Lang, reason: &str) -> String {
    let (ja, en) = match reason {
        "encrypted" => ("暗号化・パスワード付き", "encrypted"),
        "corrupt" => ("破損", "corrupt"),
        "image_only" => ("画像のみ（文字なし）", "image only (no text)"),
        "too_large" => ("大きすぎる", "too large"),
        "unsupported" => ("未対応の形式", "unsupported format"),
        "timeout" => ("時間切れ", "timed out"),
        "permission_denied" => ("アクセス権なし", "permission denied"),
        other => (other, other),
    };
    l.t(ja, en).to_string()
}

pub(crate) fn action_label(l: Lang, action: &str) -> String {
    match action {
        "dispose" => l.t("廃棄", "dispose").to_string(),
        "transfer" => l.t("移管", "transfer").to_string(),
        other => other.to_string(),
    }
}

/// A finding's location in the page's language (`line 3 column 2` → `3行2列`).
/// Locations are written by the extractors in one fixed form
/// (`text::Location`'s Display); anything else is shown as it is.
pub(crate) fn location_label(l: Lang, loc: &str) -> String {
    if l == Lang::En {
        return loc.to_string();
    }
    let words: Vec<&str> = loc.split(' ').collect();
    let n = |s: &str| s.parse::<u32>().ok();
    match words.as_slice() {
        ["line", a, "column", b] if n(a).is_some() && n(b).is_some() => format!("{a}行{b}列"),
        ["line", a] if n(a).is_some() => format!("{a}行目"),
        ["page", a] if n(a).is_some() => format!("{a}ページ"),
        ["paragraph", a] if n(a).is_some() => format!("{a}段落目"),
        ["slide", a] if n(a).is_some() => format!("スライド{a}"),
        ["comment", a] if n(a).is_some() => format!("コメント{a}"),
        ["body"] => "本文".to_string(),
        ["subject"] => "件名".to_string(),
        _ => loc.to_string(),
    }
}

/// A stored RFC 3339 time in Japan time, to the minute.
pub(crate) fn time(stored: &str) -> String {
    stored
        .parse::<jiff::Timestamp>()
        .map(|t| {
            t.to_zoned(crate::time::jst())
                .strftime("%Y-%m-%d %H:%M")
                .to_string()
        })
        .unwrap_or_else(|_| stored.to_string())
}

/// 1234567 → 1,234,567.
pub(crate) fn num(n: i64) -> String {
    let s = n.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if n < 0 {
        format!("-{out}")
    } else {
        out
    }
}

/// A query string of the non-empty pairs (`?a=1&b=x`), or "" when none.
pub(crate) fn query(pairs: &[(&str, &str)]) -> String {
    let kept: Vec<(&str, &str)> = pairs
        .iter()
        .copied()
        .filter(|(_, v)| !v.is_empty())
        .collect();
    if kept.is_empty() {
        return String::new();
    }
    format!(
        "?{}",
        serde_urlencoded::to_string(&kept).unwrap_or_default()
    )
}

/// A link to a file's page, its path shown below its root (the whole
/// path in the tooltip), and the root's label.
pub(crate) fn file_link(app: &super::app::App, file_id: i64, path: &str) -> Markup {
    let (root, rest) = app.short_path(path);
    html! {
        a href=(format!("/file/{file_id}")) title=(path) { (rest) }
        @if let Some(r) = root { " " span.root { (r) } }
    }
}

/// The last part of a display path (a file's name).
pub(crate) fn file_name(path: &str) -> &str {
    path.rsplit(['/', '\\']).next().unwrap_or(path)
}

/// A horizontal bar `width` pixels long (SVG: the content security policy
/// allows no inline styles).
pub(crate) fn bar(width: i64) -> Markup {
    let w = width.clamp(1, 400);
    html! {
        svg.bar xmlns="http://www.w3.org/2000/svg" width=(w) height="10" aria-hidden="true" {
            rect width=(w) height="10" fill="#1f5fa8" {}
        }
    }
}

/// `<option>`s of a select, with `current` selected.
pub(crate) fn options(items: &[(String, String)], current: &str) -> Markup {
    html! {
        @for (value, label) in items {
            option value=(value) selected[value == current] { (label) }
        }
    }
}

/// A message box (after a decision, or a refusal).
pub(crate) fn notice(kind: &str, text: &str) -> Markup {
    html! { p class={ "notice " (kind) } { (text) } }
}

pub(crate) async fn stylesheet() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        STYLE,
    )
        .into_response()
}

/// The stylesheet: plain, legible, printable; Japanese system fonts.
const STYLE: &str = r#"
:root { --ink:#1d2330; --muted:#5b6475; --line:#d8dce4; --bg:#f6f7f9; --accent:#1f5fa8; --warn:#a4461b; --ok:#2e7d32; }
* { box-sizing: border-box; }
body { margin:0; font-family: "Noto Sans CJK JP","Noto Sans JP","Hiragino Kaku Gothic ProN","Yu Gothic UI","Meiryo",sans-serif;
  color:var(--ink); background:var(--bg); font-size:15px; line-height:1.55; }
a { color:var(--accent); }
header.top { display:flex; flex-wrap:wrap; align-items:center; gap:.4rem 1.4rem; padding:.55rem 1.2rem; background:#fff; border-bottom:1px solid var(--line); }
.brand { font-weight:700; font-size:1.15rem; color:var(--ink); text-decoration:none; }
.brand-ja { color:var(--muted); font-weight:400; }
header nav { display:flex; flex-wrap:wrap; gap:.2rem .9rem; flex:1; }
header nav a { text-decoration:none; padding:.2rem .1rem; border-bottom:2px solid transparent; }
header nav a.current { border-bottom-color:var(--accent); font-weight:700; color:var(--ink); }
.who { display:flex; gap:.8rem; align-items:center; font-size:.92rem; }
.who a.current { font-weight:700; }
p.scope { margin:0; padding:.35rem 1.2rem; background:#fff7e0; border-bottom:1px solid #ecd9a4; font-size:.9rem; }
main { padding:1rem 1.2rem 3rem; max-width:1400px; }
main.narrow { max-width:28rem; margin:4rem auto; background:#fff; padding:1.5rem 2rem; border:1px solid var(--line); border-radius:6px; }
h1 { font-size:1.35rem; margin:.3rem 0 1rem; }
h2 { font-size:1.1rem; margin:1.6rem 0 .6rem; }
table { border-collapse:collapse; background:#fff; width:100%; margin:.3rem 0 1rem; }
th, td { border:1px solid var(--line); padding:.3rem .5rem; text-align:left; vertical-align:top; }
th { background:#eef1f5; font-weight:600; white-space:nowrap; }
td.n, th.n { text-align:right; font-variant-numeric:tabular-nums; white-space:nowrap; }
tbody tr:nth-child(even) { background:#fafbfc; }
td.path { word-break:break-all; min-width:16rem; }
code, .masked { font-family:"Noto Sans Mono CJK JP",ui-monospace,monospace; font-size:.92em; }
.cards { display:flex; flex-wrap:wrap; gap:.8rem; margin-bottom:1rem; }
.card { background:#fff; border:1px solid var(--line); border-radius:6px; padding:.7rem 1rem; min-width:11rem; }
.card .big { font-size:1.7rem; font-weight:700; display:block; }
.card .label { color:var(--muted); font-size:.9rem; }
.grid { display:grid; grid-template-columns:repeat(auto-fit, minmax(24rem, 1fr)); gap:0 1.5rem; }
a.card { text-decoration:none; color:inherit; }
a.card:hover { border-color:var(--accent); }
svg.bar { vertical-align:middle; margin-right:.4rem; }
form.filters { display:flex; flex-wrap:wrap; gap:.5rem 1rem; align-items:flex-end; background:#fff; border:1px solid var(--line); padding:.7rem 1rem; border-radius:6px; margin-bottom:.8rem; }
form.filters label { display:flex; flex-direction:column; font-size:.85rem; color:var(--muted); }
select, input[type=text], input[type=password], input[type=date] { font:inherit; padding:.25rem .4rem; border:1px solid #b9c0cc; border-radius:4px; background:#fff; }
button { font:inherit; padding:.3rem .9rem; border:1px solid var(--accent); background:var(--accent); color:#fff; border-radius:4px; cursor:pointer; }
button.secondary { background:#fff; color:var(--accent); }
button.danger { background:var(--warn); border-color:var(--warn); }
button.link { background:none; border:none; color:var(--accent); padding:0; text-decoration:underline; }
form.inline { display:inline; margin:0; }
form.decide { display:flex; flex-wrap:wrap; gap:.3rem; align-items:center; }
form.decide input[type=text] { width:11rem; }
form.decide input.wide { width:24rem; }
td.masked { white-space:nowrap; }
.stack { display:flex; flex-direction:column; gap:.6rem; }
.stack label { display:flex; flex-direction:column; gap:.15rem; }
.notice { padding:.55rem .8rem; border-radius:4px; border:1px solid; }
.notice.ok { background:#edf7ee; border-color:#a9d3ad; }
.notice.warn { background:#fff3ed; border-color:#f0b99e; }
.notice.info { background:#eef4fb; border-color:#b3cbe6; }
.tag { display:inline-block; padding:0 .4rem; margin:0 .2rem .1rem 0; border-radius:3px; background:#eef1f5; border:1px solid var(--line); font-size:.85rem; white-space:nowrap; }
.tag.alert { background:#fdeae3; border-color:#f0b99e; }
.state-open, .state-regressed { color:var(--warn); font-weight:600; }
.state-false_positive, .state-remediated { color:var(--muted); }
.muted { color:var(--muted); }
.nowrap { white-space:nowrap; }
span.root { color:var(--muted); font-size:.85rem; white-space:nowrap; }
span.root::before { content:"（"; } span.root::after { content:"）"; }
td.barcell { width:35%; }
.pager { display:flex; gap:1rem; align-items:center; margin:.5rem 0; }
dl.meta { display:grid; grid-template-columns:max-content 1fr; gap:.2rem 1rem; background:#fff; border:1px solid var(--line); padding:.7rem 1rem; border-radius:6px; }
dl.meta dt { color:var(--muted); } dl.meta dd { margin:0; word-break:break-all; }
ul.reasons { background:#fff; border:1px solid var(--line); border-radius:6px; padding:.6rem 1rem .6rem 2rem; }
svg.trend { background:#fff; border:1px solid var(--line); border-radius:6px; max-width:100%; height:auto; }
fieldset { border:1px solid var(--line); border-radius:6px; background:#fff; }
.stack fieldset label, fieldset label { display:inline-flex; flex-direction:row; align-items:center; gap:.3rem; margin:0 1rem .2rem 0; white-space:nowrap; }
form.stack.short { max-width:34rem; }
td.loc { min-width:5.5rem; }
ul.guide { padding-left:1.4rem; margin:.4rem 0 .8rem; }
ul.guide li { margin:.2rem 0; }
p.caption { margin:.8rem 0 .2rem; font-size:.9rem; color:var(--muted); }
@media print { header.top, form, .pager { display:none; } body { background:#fff; } }
"#;

/// Renders a list of flags as tags (alert colour for those that call for action).
pub(crate) fn flag_tags(l: Lang, flags: &[String]) -> Markup {
    html! {
        @for f in flags {
            @let alert = matches!(f.as_str(), "my_number_outside_area" | "my_number_retention_exceeded" | "outbound_leak_candidate" | "breach_report_hint");
            span class=(if alert { "tag alert" } else { "tag" }) title=(f) { (flag_label(l, f)) }
        }
    }
}
