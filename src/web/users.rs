//! User admin (admins only): add accounts, change a role and root
//! restriction, set a new password, disable or enable; the latest events
//! of people (logins, views, decisions, exports); the screen's settings.
//! And for everyone, their own account page (change the password).
//!
//! Guards: nobody disables or demotes themselves, and the last enabled
//! admin stays one. A change of role, roots or password ends the user's
//! sessions (they carried the old rights).

use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use maud::{html, Markup};
use serde::Deserialize;

use super::accounts::{self, Role};
use super::app::{App, Shared, WebError};
use super::auth::{Checked, Ctx};
use super::layout::{self, Lang, Nav, Tr};
use crate::store::web::{self as db, AccountError, UserRow};

#[derive(Debug, Default, Deserialize)]
pub(crate) struct Params {
    msg: Option<String>,
}

fn message(l: Lang, code: &str) -> Option<(&'static str, &'static str)> {
    Some(match code {
        "added" => ("ok", l.t("ユーザーを追加しました。", "User added.")),
        "updated" => (
            "ok",
            l.t(
                "権限を変更しました（そのユーザーは再ログインが必要です）。",
                "Updated (the user must log in again).",
            ),
        ),
        "password" => (
            "ok",
            l.t(
                "パスワードを設定しました（そのユーザーは再ログインが必要です）。",
                "Password set (the user must log in again).",
            ),
        ),
        "disabled" => ("ok", l.t("無効にしました。", "Disabled.")),
        "enabled" => ("ok", l.t("有効にしました。", "Enabled.")),
        "exists" => (
            "warn",
            l.t(
                "その名前のユーザーはすでにいます。",
                "A user of that name exists.",
            ),
        ),
        "name" => (
            "warn",
            l.t(
                "ユーザー名は 64 文字以内の英数字・かな漢字と . _ - のみです。",
                "A user name is up to 64 letters, digits, '.', '_' or '-'.",
            ),
        ),
        "short" => (
            "warn",
            l.t(
                "パスワードは 10 文字以上にしてください。",
                "A password needs at least 10 characters.",
            ),
        ),
        "mismatch" => (
            "warn",
            l.t(
                "確認用のパスワードが一致しません。",
                "The passwords do not match.",
            ),
        ),
        "current" => (
            "warn",
            l.t(
                "現在のパスワードが違います。",
                "The current password is wrong.",
            ),
        ),
        "self" => (
            "warn",
            l.t(
                "自分自身を無効にしたり、権限を下げたりはできません。",
                "You cannot disable or demote yourself.",
            ),
        ),
        "last_admin" => (
            "warn",
            l.t(
                "有効な管理者が一人もいなくなる変更はできません。",
                "That would leave no enabled admin.",
            ),
        ),
        "root" => (
            "warn",
            l.t("設定にないルートです。", "Not a configured root."),
        ),
        _ => return None,
    })
}

fn to(path: &str, msg: &str) -> Response {
    Redirect::to(&format!("{path}?msg={msg}")).into_response()
}

fn roots_checkboxes(app: &App, l: Lang, checked: &[String]) -> Markup {
    html! {
        fieldset {
            legend { (l.t("表示範囲（チェックなし = すべてのルート）", "Roots (none checked = every root)")) }
            @for r in app.roots().iter() {
                label { input type="checkbox" name="root" value=(r.label) checked[checked.contains(&r.label)]; " " (r.label) } " "
            }
        }
    }
}

fn role_select(l: Lang, current: Role) -> Markup {
    html! {
        select name="role" aria-label=(l.t("権限", "Role")) {
            @for r in Role::ALL {
                option value=(r.as_str()) selected[r == current] { (layout::role_label(l, r)) }
            }
        }
    }
}

pub(crate) async fn page(
    State(app): State<Shared>,
    ctx: Ctx,
    Query(p): Query<Params>,
) -> Result<Response, WebError> {
    ctx.require_admin()?;
    let (users, events) = app
        .accounts(|_, c| Ok((db::users(c)?, db::audit_events(c, 100)?)))
        .await?;
    let l = ctx.lang;
    let w = &app.web;
    let body = html! {
        @if let Some((kind, text)) = p.msg.as_deref().and_then(|m| message(l, m)) { (layout::notice(kind, text)) }
        table #users {
            thead { tr {
                th { (l.t("ユーザー", "User")) }
                th { (l.t("権限と表示範囲", "Role and roots")) }
                th { (l.t("パスワード", "Password")) }
                th { (l.t("状態", "State")) }
            } }
            tbody {
                @for u in &users {
                    @let role = u.role.parse::<Role>().unwrap_or(Role::Viewer);
                    tr {
                        td { strong { (u.name) } br; span.muted { (l.t("作成 ", "created ")) (layout::time(&u.created_at)) } }
                        td {
                            form.stack method="post" action=(format!("/users/{}/update", u.id)) {
                                input type="hidden" name="csrf" value=(ctx.csrf);
                                (role_select(l, role))
                                (roots_checkboxes(&app, l, &u.roots))
                                button.secondary type="submit" { (l.t("変更", "Change")) }
                            }
                        }
                        td {
                            form.stack method="post" action=(format!("/users/{}/password", u.id)) {
                                input type="hidden" name="csrf" value=(ctx.csrf);
                                input type="password" name="password" autocomplete="new-password" placeholder=(l.t("新しいパスワード", "New password")) aria-label=(l.t("新しいパスワード", "New password"));
                                button.secondary type="submit" { (l.t("設定", "Set")) }
                            }
                            span.muted { (l.t("変更 ", "changed ")) (layout::time(&u.password_changed_at)) }
                        }
                        td {
                            @if u.disabled {
                                span.tag.alert { (l.t("無効", "disabled")) } " "
                                form.inline method="post" action=(format!("/users/{}/enable", u.id)) {
                                    input type="hidden" name="csrf" value=(ctx.csrf);
                                    button.secondary type="submit" { (l.t("有効にする", "Enable")) }
                                }
                            } @else {
                                span.tag { (l.t("有効", "enabled")) } " "
                                form.inline method="post" action=(format!("/users/{}/disable", u.id)) {
                                    input type="hidden" name="csrf" value=(ctx.csrf);
                                    button.danger type="submit" { (l.t("無効にする", "Disable")) }
                                }
                            }
                        }
                    }
                }
            }
        }
        h2 { (l.t("ユーザーを追加", "Add a user")) }
        form.stack.short method="post" action="/users" {
            input type="hidden" name="csrf" value=(ctx.csrf);
            label { (l.t("ユーザー名", "User name")) input type="text" name="name" required; }
            label { (l.t("権限", "Role")) (role_select(l, Role::Viewer)) }
            (roots_checkboxes(&app, l, &[]))
            label { (l.t("初期パスワード（10 文字以上）", "Initial password (10 characters or more)")) input type="password" name="password" autocomplete="new-password" required; }
            div { button type="submit" { (l.t("追加", "Add")) } }
        }
        h2 { (l.t("最近の操作（ログイン・閲覧・判断・出力）", "Recent activity (logins, views, decisions, exports)")) }
        table {
            thead { tr { th { (l.t("日時", "When")) } th { (l.t("操作", "What")) } th { (l.t("ユーザー", "User")) } th { (l.t("詳細", "Detail")) } } }
            tbody {
                @for e in &events {
                    tr {
                        td { (layout::time(&e.at)) }
                        td.nowrap { (layout::event_label(l, &e.kind)) }
                        td { (e.actor.as_deref().unwrap_or("—")) }
                        td {
                            @if let Some(f) = e.file_id { a href=(format!("/file/{f}")) { (l.t("ファイル", "file")) " #" (f) } " " }
                            (e.detail)
                        }
                    }
                }
            }
        }
        h2 { (l.t("設定（mamori.toml の [web]、変更には再起動が必要）", "Settings ([web] in mamori.toml; a change needs a restart)")) }
        dl.meta {
            dt { "TLS" } dd { (if app.tls { l.t("有効", "on") } else { l.t("なし（ループバックのみ推奨）", "off (loopback only, advisably)") }) }
            dt { (l.t("無操作で終了", "Idle timeout")) } dd { (w.session_idle_secs) " s" }
            dt { (l.t("最長セッション", "Absolute timeout")) } dd { (w.session_absolute_secs) " s" }
            dt { (l.t("ロックまでの失敗回数", "Failures before lockout")) } dd { (w.login_max_failures) }
            dt { (l.t("ロック時間", "Lockout")) } dd { (w.login_lockout_secs) " s" }
            dt { (l.t("ルート", "Roots")) } dd { @for r in app.roots().iter() { (r.label) " (" (r.shown) ") " } }
        }
    };
    Ok(layout::page(
        &ctx,
        Nav::Users,
        l.t("ユーザー管理", "Users"),
        body,
    ))
}

/// A form of repeated fields (the root checkboxes).
type Fields = Vec<(String, String)>;

fn field<'a>(f: &'a Fields, name: &str) -> &'a str {
    f.iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
        .unwrap_or("")
}

/// The checked roots, each a configured label.
fn roots_of(app: &App, f: &Fields) -> Option<Vec<String>> {
    let roots: Vec<String> = f
        .iter()
        .filter(|(k, _)| k == "root")
        .map(|(_, v)| v.clone())
        .collect();
    roots
        .iter()
        .all(|r| app.root_shown(r).is_some())
        .then_some(roots)
}

async fn hash(password: String) -> Result<Result<String, &'static str>, WebError> {
    tokio::task::spawn_blocking(move || {
        // Too short (or, absurdly, too long for a login form).
        accounts::hash_password(&password).map_err(|_| "short")
    })
    .await
    .map_err(|_| WebError::Internal("hashing".into()))
}

fn account_error(e: AccountError) -> Result<&'static str, WebError> {
    match e {
        AccountError::Exists(_) => Ok("exists"),
        AccountError::NoSuchUser(_) => Err(WebError::NotFound),
        AccountError::Store(s) => Err(WebError::Store(s)),
    }
}

pub(crate) async fn add(
    State(app): State<Shared>,
    Checked(ctx, f): Checked<Fields>,
) -> Result<Response, WebError> {
    ctx.require_admin()?;
    let name = field(&f, "name").trim().to_string();
    if accounts::check_name(&name).is_err() {
        return Ok(to("/users", "name"));
    }
    let role = field(&f, "role")
        .parse::<Role>()
        .map_err(WebError::BadRequest)?;
    let Some(roots) = roots_of(&app, &f) else {
        return Ok(to("/users", "root"));
    };
    let hashed = match hash(field(&f, "password").to_string()).await? {
        Ok(h) => h,
        Err(code) => return Ok(to("/users", code)),
    };
    let admin = ctx.user.name.clone();
    let code = app
        .write(move |_, s| {
            let c = s.connection();
            match db::create_user(c, &name, role.as_str(), &hashed, &roots) {
                Ok(_) => {
                    db::audit(
                        c,
                        "web_user_admin",
                        Some(&admin),
                        None,
                        &format!("added user {name} ({role}; roots: {})", roots.join(", ")),
                    )?;
                    Ok("added")
                }
                Err(e) => account_error(e),
            }
        })
        .await?;
    Ok(to("/users", code))
}

async fn target(app: &Shared, id: i64) -> Result<UserRow, WebError> {
    app.accounts(move |_, c| db::user_by_id(c, id)?.ok_or(WebError::NotFound))
        .await
}

pub(crate) async fn update(
    State(app): State<Shared>,
    Path(id): Path<i64>,
    Checked(ctx, f): Checked<Fields>,
) -> Result<Response, WebError> {
    ctx.require_admin()?;
    let user = target(&app, id).await?;
    let role = field(&f, "role")
        .parse::<Role>()
        .map_err(WebError::BadRequest)?;
    let Some(roots) = roots_of(&app, &f) else {
        return Ok(to("/users", "root"));
    };
    if user.id == ctx.user.id && role != ctx.role {
        return Ok(to("/users", "self"));
    }
    let admin = ctx.user.name.clone();
    let code = app
        .write(move |_, s| {
            let c = s.connection();
            if user.role == "admin"
                && role != Role::Admin
                && !user.disabled
                && db::enabled_admins(c)? <= 1
            {
                return Ok("last_admin");
            }
            match db::set_role_and_roots(c, &user.name, role.as_str(), &roots) {
                Ok(()) => {
                    db::audit(
                        c,
                        "web_user_admin",
                        Some(&admin),
                        None,
                        &format!("set {} to {role}; roots: {}", user.name, roots.join(", ")),
                    )?;
                    Ok("updated")
                }
                Err(e) => account_error(e),
            }
        })
        .await?;
    Ok(to("/users", code))
}

#[derive(Debug, Deserialize)]
pub(crate) struct PasswordForm {
    #[serde(default)]
    password: String,
}

pub(crate) async fn reset_password(
    State(app): State<Shared>,
    Path(id): Path<i64>,
    Checked(ctx, f): Checked<PasswordForm>,
) -> Result<Response, WebError> {
    ctx.require_admin()?;
    let user = target(&app, id).await?;
    let hashed = match hash(f.password).await? {
        Ok(h) => h,
        Err(code) => return Ok(to("/users", code)),
    };
    let admin = ctx.user.name.clone();
    let code = app
        .write(move |_, s| {
            let c = s.connection();
            match db::set_password(c, &user.name, &hashed) {
                Ok(()) => {
                    db::audit(
                        c,
                        "web_user_admin",
                        Some(&admin),
                        None,
                        &format!("set a new password for {}", user.name),
                    )?;
                    Ok("password")
                }
                Err(e) => account_error(e),
            }
        })
        .await?;
    Ok(to("/users", code))
}

async fn set_disabled(
    app: Shared,
    ctx: Ctx,
    id: i64,
    disabled: bool,
) -> Result<Response, WebError> {
    ctx.require_admin()?;
    let user = target(&app, id).await?;
    if disabled && user.id == ctx.user.id {
        return Ok(to("/users", "self"));
    }
    let admin = ctx.user.name.clone();
    let code = app
        .write(move |_, s| {
            let c = s.connection();
            if disabled && user.role == "admin" && !user.disabled && db::enabled_admins(c)? <= 1 {
                return Ok("last_admin");
            }
            match db::set_disabled(c, &user.name, disabled) {
                Ok(()) => {
                    let what = if disabled { "disabled" } else { "enabled" };
                    db::audit(
                        c,
                        "web_user_admin",
                        Some(&admin),
                        None,
                        &format!("{what} {}", user.name),
                    )?;
                    Ok(what)
                }
                Err(e) => account_error(e),
            }
        })
        .await?;
    Ok(to("/users", code))
}

#[derive(Debug, Deserialize)]
pub(crate) struct NoFields {}

pub(crate) async fn disable(
    State(app): State<Shared>,
    Path(id): Path<i64>,
    Checked(ctx, NoFields {}): Checked<NoFields>,
) -> Result<Response, WebError> {
    set_disabled(app, ctx, id, true).await
}

pub(crate) async fn enable(
    State(app): State<Shared>,
    Path(id): Path<i64>,
    Checked(ctx, NoFields {}): Checked<NoFields>,
) -> Result<Response, WebError> {
    set_disabled(app, ctx, id, false).await
}

/// The user's own account: who they are, what they may see, a new password.
pub(crate) async fn account_page(ctx: Ctx, Query(p): Query<Params>) -> Result<Response, WebError> {
    let l = ctx.lang;
    let body = html! {
        @if let Some((kind, text)) = p.msg.as_deref().and_then(|m| message(l, m)) { (layout::notice(kind, text)) }
        dl.meta {
            dt { (l.t("ユーザー", "User")) } dd { (ctx.user.name) }
            dt { (l.t("権限", "Role")) } dd { (layout::role_label(l, ctx.role)) }
            dt { (l.t("表示範囲", "Roots")) } dd { (if ctx.user.roots.is_empty() { l.t("すべて", "all").to_string() } else { ctx.user.roots.join("、") }) }
            dt { (l.t("パスワード変更", "Password changed")) } dd { (layout::time(&ctx.user.password_changed_at)) }
        }
        h2 { (l.t("パスワードを変更", "Change your password")) }
        form.stack.short method="post" action="/account/password" {
            input type="hidden" name="csrf" value=(ctx.csrf);
            label { (l.t("現在のパスワード", "Current password")) input type="password" name="current" autocomplete="current-password" required; }
            label { (l.t("新しいパスワード（10 文字以上）", "New password (10 characters or more)")) input type="password" name="password" autocomplete="new-password" required; }
            label { (l.t("新しいパスワード（確認）", "New password (again)")) input type="password" name="again" autocomplete="new-password" required; }
            div { button type="submit" { (l.t("変更（再ログインが必要です）", "Change (you will log in again)")) } }
        }
    };
    Ok(layout::page(
        &ctx,
        Nav::Account,
        l.t("アカウント", "Account"),
        body,
    ))
}

#[derive(Debug, Deserialize)]
pub(crate) struct OwnPasswordForm {
    #[serde(default)]
    current: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    again: String,
}

pub(crate) async fn change_own_password(
    State(app): State<Shared>,
    Checked(ctx, f): Checked<OwnPasswordForm>,
) -> Result<Response, WebError> {
    if f.password != f.again {
        return Ok(to("/account", "mismatch"));
    }
    let name = ctx.user.name.clone();
    let stored = app
        .accounts(move |_, c| Ok(db::user_by_name(c, &name)?.map(|(_, h)| h)))
        .await?
        .ok_or(WebError::NotFound)?;
    let current = f.current;
    let ok = tokio::task::spawn_blocking(move || accounts::verify_password(&current, &stored))
        .await
        .unwrap_or(false);
    if !ok {
        return Ok(to("/account", "current"));
    }
    let hashed = match hash(f.password).await? {
        Ok(h) => h,
        Err(code) => return Ok(to("/account", code)),
    };
    let name = ctx.user.name.clone();
    app.write(move |_, s| {
        let c = s.connection();
        db::set_password(c, &name, &hashed).map_err(|e| match e {
            AccountError::Store(s) => WebError::Store(s),
            _ => WebError::NotFound,
        })?;
        db::audit(
            c,
            "web_user_admin",
            Some(&name),
            None,
            "changed their own password",
        )?;
        Ok(())
    })
    .await?;
    Ok(Redirect::to("/login").into_response())
}
