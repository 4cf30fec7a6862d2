//! Logging in and out, sessions, and the CSRF check.
//!
//! A session is a random 256-bit token in an HttpOnly, SameSite=Strict
//! cookie (Secure under TLS); the store keeps its SHA-256 only. It ends
//! after `session_idle_secs` without a request or `session_absolute_secs`
//! after login. Each session has its own random CSRF token, put in every
//! form; a state-changing request without it, or with another, is refused
//! (403) before its form is even read ([`Checked`]). The login form has a
//! token of its own, paired with a short-lived cookie, since there is no
//! session yet.
//!
//! Login limits: `login_max_failures` failures in a row lock the account
//! for `login_lockout_secs` after the last one (a correct password is
//! refused meanwhile); `login_address_max_failures` failures from one
//! address in that window refuse the address (429). Every attempt is an
//! event with the account's name when the name was an account's (a name
//! that is not is never recorded: a mistyped field could hold anything).

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Query, Request, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use axum_extra::extract::cookie::CookieJar;
use maud::html;
use serde::de::DeserializeOwned;
use serde::Deserialize;
use sha2::{Digest, Sha256};

use super::accounts::{self, Role};
use super::app::{Shared, WebError};
use super::layout::{self, Lang, Tr};
use crate::store::web as db;
use crate::store::web::UserRow;

/// The session cookie.
pub(crate) const SESSION_COOKIE: &str = "mamori_session";
/// The login form's own token cookie.
const LOGIN_COOKIE: &str = "mamori_login";

/// Seconds since the epoch.
pub(crate) fn unix_now() -> i64 {
    jiff::Timestamp::now().as_second()
}

/// `n` random bytes as hex.
pub(crate) fn random_hex(n: usize) -> Result<String, WebError> {
    let mut b = vec![0u8; n];
    getrandom::getrandom(&mut b).map_err(|_| WebError::Internal("no random bytes".into()))?;
    Ok(hex::encode(b))
}

fn token_hash(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

/// Equal without telling how much of it was (tokens).
fn same(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// A cookie's value.
pub(crate) fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    CookieJar::from_headers(headers)
        .get(name)
        .map(|c| c.value().to_string())
}

/// A `Set-Cookie` value: HttpOnly, SameSite=Strict, Secure under TLS.
/// (Values are hex tokens or empty: nothing to quote.)
fn set_cookie(name: &str, value: &str, tls: bool, max_age: Option<i64>) -> HeaderValue {
    let mut c = format!("{name}={value}; Path=/; HttpOnly; SameSite=Strict");
    if tls {
        c.push_str("; Secure");
    }
    if let Some(s) = max_age {
        c.push_str(&format!("; Max-Age={s}"));
    }
    HeaderValue::from_str(&c).unwrap_or(HeaderValue::from_static(""))
}

/// The logged-in user of a request, with what they may see and do.
#[derive(Debug, Clone)]
pub(crate) struct Ctx {
    pub user: UserRow,
    pub role: Role,
    pub csrf: String,
    pub lang: Lang,
    /// Display paths of the roots the user may see; empty: all.
    pub scope: Vec<String>,
    /// The path and query of the request (for the language switch).
    pub here: String,
    /// The screen reads the central database (every site).
    pub central: bool,
}

impl Ctx {
    pub fn may_decide(&self) -> bool {
        self.role.may_decide()
    }

    pub fn require_decide(&self) -> Result<(), WebError> {
        if self.may_decide() {
            Ok(())
        } else {
            Err(WebError::Forbidden)
        }
    }

    pub fn require_admin(&self) -> Result<(), WebError> {
        if self.role.may_admin() {
            Ok(())
        } else {
            Err(WebError::Forbidden)
        }
    }

    /// This page in another language.
    pub fn with_lang(&self, code: &str) -> String {
        let (path, q) = self.here.split_once('?').unwrap_or((&self.here, ""));
        let mut pairs: Vec<(String, String)> = serde_urlencoded::from_str(q).unwrap_or_default();
        pairs.retain(|(k, _)| k != "lang");
        pairs.push(("lang".into(), code.into()));
        format!(
            "{path}?{}",
            serde_urlencoded::to_string(&pairs).unwrap_or_default()
        )
    }

    /// The root labels the user may filter by.
    pub fn root_labels(&self, app: &super::app::App) -> Vec<String> {
        app.roots()
            .iter()
            .filter(|r| self.user.roots.is_empty() || self.user.roots.contains(&r.label))
            .map(|r| r.label.clone())
            .collect()
    }
}

/// The display paths a user with these root labels may see: empty for
/// every root; a path no file has when none of the labels is configured
/// any longer (never "all" by accident).
fn scope_of(app: &super::app::App, labels: &[String]) -> Vec<String> {
    if labels.is_empty() {
        return Vec::new();
    }
    let shown: Vec<String> = labels.iter().filter_map(|l| app.root_shown(l)).collect();
    if shown.is_empty() {
        vec!["\u{0}no root".to_string()]
    } else {
        shown
    }
}

/// Where a request without a (live) session goes: the login page for a
/// page, 403 for anything else (a form posted after the session ended).
fn no_session(parts: &Parts, expired: bool) -> Response {
    if parts.method == Method::GET || parts.method == Method::HEAD {
        let here = parts
            .uri
            .path_and_query()
            .map(|p| p.as_str())
            .unwrap_or("/");
        let q = layout::query(&[("next", here), ("expired", if expired { "1" } else { "" })]);
        Redirect::to(&format!("/login{q}")).into_response()
    } else {
        (
            StatusCode::FORBIDDEN,
            layout::error_page(
                StatusCode::FORBIDDEN,
                "ログインしていないか、セッションの有効期限が切れました。もう一度ログインしてください。",
                "You are not logged in, or your session expired. Please log in again.",
            ),
        )
            .into_response()
    }
}

impl FromRequestParts<Shared> for Ctx {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, app: &Shared) -> Result<Self, Response> {
        let lang = parts.extensions.get::<Lang>().copied().unwrap_or_default();
        let Some(token) = cookie(&parts.headers, SESSION_COOKIE) else {
            return Err(no_session(parts, false));
        };
        let hash = token_hash(&token);
        let session = app
            .accounts(move |_, c| Ok(db::session(c, &hash)?))
            .await
            .map_err(IntoResponse::into_response)?;
        let Some(session) = session else {
            return Err(no_session(parts, false));
        };
        let now = unix_now();
        let idle = now - session.last_seen_at >= app.web.session_idle_secs as i64;
        let old = now - session.created_at >= app.web.session_absolute_secs as i64;
        if idle || old {
            let name = session.user.name.clone();
            let why = if idle { "idle" } else { "absolute" };
            app.write(move |_, s| {
                db::delete_session(s.connection(), &hash)?;
                db::audit(
                    s.connection(),
                    "web_session_expired",
                    Some(&name),
                    None,
                    &format!("{why} timeout"),
                )?;
                Ok(())
            })
            .await
            .map_err(IntoResponse::into_response)?;
            return Err(no_session(parts, true));
        }
        // Activity is written at most every minute (or a quarter of the
        // idle timeout, when shorter): a page view is not a write.
        let every = (app.web.session_idle_secs as i64 / 4).clamp(1, 60);
        if now - session.last_seen_at >= every {
            app.write(move |_, s| Ok(db::touch_session(s.connection(), &hash, now)?))
                .await
                .map_err(IntoResponse::into_response)?;
        }
        let role = session
            .user
            .role
            .parse::<Role>()
            .map_err(|e| WebError::Internal(e).into_response())?;
        let scope = scope_of(app, &session.user.roots);
        Ok(Ctx {
            here: parts
                .uri
                .path_and_query()
                .map(|p| p.as_str().to_string())
                .unwrap_or_else(|| "/".into()),
            user: session.user,
            role,
            csrf: session.csrf,
            lang,
            scope,
            central: app.central.is_some(),
        })
    }
}

/// A state-changing request: the user, and the form, read only after its
/// CSRF token matched the session's.
pub(crate) struct Checked<T>(pub Ctx, pub T);

#[derive(Deserialize)]
struct CsrfField {
    csrf: Option<String>,
}

impl<T: DeserializeOwned + Send> FromRequest<Shared> for Checked<T> {
    type Rejection = Response;

    async fn from_request(req: Request, app: &Shared) -> Result<Self, Response> {
        let (mut parts, body) = req.into_parts();
        let ctx = Ctx::from_request_parts(&mut parts, app).await?;
        let bytes = axum::body::to_bytes(body, 1 << 20)
            .await
            .map_err(|_| WebError::BadRequest("the form is too large".into()).into_response())?;
        let token = serde_urlencoded::from_bytes::<CsrfField>(&bytes)
            .ok()
            .and_then(|f| f.csrf);
        if !token.is_some_and(|t| same(&t, &ctx.csrf)) {
            tracing::warn!(user = %ctx.user.name, path = %parts.uri.path(), "refused: CSRF token missing or wrong");
            return Err(WebError::Csrf.into_response());
        }
        let form = serde_urlencoded::from_bytes::<T>(&bytes).map_err(|_| {
            WebError::BadRequest(
                ctx.lang
                    .t(
                        "フォームの内容が正しくありません。",
                        "The form is not valid.",
                    )
                    .into(),
            )
            .into_response()
        })?;
        Ok(Checked(ctx, form))
    }
}

#[derive(Deserialize, Default)]
pub(crate) struct LoginQuery {
    next: Option<String>,
    expired: Option<String>,
}

/// Only a path on this site (`/…`, not `//host`) is followed after login.
fn local_next(next: Option<&str>) -> String {
    match next {
        Some(n)
            if n.starts_with('/')
                && !n.starts_with("//")
                && !n.starts_with("/\\")
                && !n.chars().any(char::is_control) =>
        {
            n.to_string()
        }
        _ => "/".to_string(),
    }
}

fn login_page(
    lang: Lang,
    status: StatusCode,
    message: Option<(&str, String)>,
    next: &str,
    tls: bool,
) -> Response {
    let Ok(token) = random_hex(16) else {
        return WebError::Internal("no random bytes".into()).into_response();
    };
    let l = lang;
    let body = html! {
        @if let Some((kind, text)) = &message { (layout::notice(kind, text)) }
        form.stack method="post" action="/login" {
            input type="hidden" name="login_token" value=(token);
            input type="hidden" name="next" value=(next);
            label { (l.t("ユーザー名", "User name"))
                input type="text" name="name" autocomplete="username" required autofocus; }
            label { (l.t("パスワード", "Password"))
                input type="password" name="password" autocomplete="current-password" required; }
            button type="submit" { (l.t("ログイン", "Log in")) }
        }
        p.muted {
            a href=(format!("/login{}", layout::query(&[("lang", if l == Lang::Ja { "en" } else { "ja" }), ("next", next)]))) {
                (l.t("English", "日本語"))
            }
        }
    };
    let page = layout::bare(l, l.t("ログイン", "Log in"), body);
    let mut resp = (status, axum::response::Html(page.into_string())).into_response();
    resp.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(LOGIN_COOKIE, &token, tls, Some(3600)),
    );
    resp
}

pub(crate) async fn login_form(
    State(app): State<Shared>,
    axum::Extension(lang): axum::Extension<Lang>,
    Query(q): Query<LoginQuery>,
) -> Response {
    let message = q.expired.is_some().then(|| {
        (
            "info",
            lang.t(
                "セッションの有効期限が切れました。もう一度ログインしてください。",
                "Your session expired. Please log in again.",
            )
            .to_string(),
        )
    });
    login_page(
        lang,
        StatusCode::OK,
        message,
        &local_next(q.next.as_deref()),
        app.tls,
    )
}

#[derive(Deserialize)]
pub(crate) struct LoginForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    password: String,
    login_token: Option<String>,
    next: Option<String>,
}

/// What the database says about a login before the password is checked.
enum Gate {
    AddressBlocked,
    Locked(UserRow),
    Check(Option<(UserRow, String)>),
}

pub(crate) async fn login(
    State(app): State<Shared>,
    axum::Extension(lang): axum::Extension<Lang>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(form): Form<LoginForm>,
) -> Response {
    let expected = cookie(&headers, LOGIN_COOKIE);
    let ok_token = matches!((&expected, &form.login_token), (Some(a), Some(b)) if same(a, b));
    if !ok_token {
        return WebError::Csrf.into_response();
    }
    match login_checked(&app, lang, peer, form).await {
        Ok(r) | Err(r) => r,
    }
}

async fn login_checked(
    app: &Shared,
    lang: Lang,
    peer: SocketAddr,
    form: LoginForm,
) -> Result<Response, Response> {
    let address = peer.ip().to_string();
    let next = local_next(form.next.as_deref());
    let now = unix_now();
    let window = now - app.web.login_lockout_secs as i64;
    let err = |e: WebError| e.into_response();
    let name = form.name.trim().to_string();
    let gate = {
        let (address, name) = (address.clone(), name.clone());
        app.accounts(move |app, c| {
            if db::address_failures(c, &address, window)?
                >= i64::from(app.web.login_address_max_failures)
            {
                return Ok(Gate::AddressBlocked);
            }
            let user = if accounts::check_name(&name).is_ok() {
                db::user_by_name(c, &name)?
            } else {
                None
            };
            if let Some((u, _)) = &user {
                let (failures, _) = db::recent_failures(c, u.id, window)?;
                if failures >= i64::from(app.web.login_max_failures) {
                    return Ok(Gate::Locked(u.clone()));
                }
            }
            Ok(Gate::Check(user))
        })
        .await
        .map_err(err)?
    };
    let user = match gate {
        Gate::AddressBlocked => {
            let a = address.clone();
            app.write(move |_, s| {
                Ok(db::audit(
                    s.connection(),
                    "web_login",
                    None,
                    None,
                    &format!("refused: too many failed logins from {a}"),
                )?)
            })
            .await
            .map_err(err)?;
            return Err(login_page(
                lang,
                StatusCode::TOO_MANY_REQUESTS,
                Some((
                    "warn",
                    lang.t(
                        "ログインの失敗が多すぎます。しばらくしてから、もう一度お試しください。",
                        "Too many failed logins from this computer. Please try again later.",
                    )
                    .into(),
                )),
                &next,
                app.tls,
            ));
        }
        Gate::Locked(u) => {
            let a = address.clone();
            app.write(move |_, s| {
                Ok(db::audit(
                    s.connection(),
                    "web_login",
                    Some(&u.name),
                    None,
                    &format!("refused: account locked (from {a})"),
                )?)
            })
            .await
            .map_err(err)?;
            return Err(locked_page(app, lang, &next));
        }
        Gate::Check(user) => user,
    };
    // argon2 on a blocking thread, holding no lock.
    let password = form.password;
    let stored = user.as_ref().map(|(_, h)| h.clone());
    let matches = tokio::task::spawn_blocking(move || match &stored {
        Some(hash) => accounts::verify_password(&password, hash),
        None => accounts::verify_password(&password, accounts::decoy_hash()),
    })
    .await
    .unwrap_or(false);
    let user = user.map(|(u, _)| u);
    let success = matches && user.as_ref().is_some_and(|u| !u.disabled);
    if !success {
        let locked_now = {
            let a = address.clone();
            let user = user.clone();
            app.write(move |app, s| {
                let c = s.connection();
                db::record_login_attempt(c, user.as_ref().map(|u| u.id), &a, false, now)?;
                let why = match &user {
                    None => "unknown user name",
                    Some(u) if u.disabled => "account disabled",
                    Some(_) => "wrong password",
                };
                db::audit(
                    c,
                    "web_login",
                    user.as_ref().map(|u| u.name.as_str()),
                    None,
                    &format!("failure: {why} (from {a})"),
                )?;
                Ok(match &user {
                    Some(u) => {
                        db::recent_failures(c, u.id, window)?.0
                            >= i64::from(app.web.login_max_failures)
                    }
                    None => false,
                })
            })
            .await
            .map_err(err)?
        };
        if locked_now {
            return Err(locked_page(app, lang, &next));
        }
        return Err(login_page(
            lang,
            StatusCode::UNAUTHORIZED,
            Some((
                "warn",
                lang.t(
                    "ユーザー名またはパスワードが違います。",
                    "Wrong user name or password.",
                )
                .into(),
            )),
            &next,
            app.tls,
        ));
    }
    let Some(user) = user else {
        return Err(err(WebError::Internal("login without a user".into())));
    };
    let token = random_hex(32).map_err(err)?;
    let csrf = random_hex(32).map_err(err)?;
    let hash = token_hash(&token);
    {
        let a = address.clone();
        app.write(move |_, s| {
            let c = s.connection();
            db::record_login_attempt(c, Some(user.id), &a, true, now)?;
            db::create_session(c, &hash, user.id, &csrf, now, &a)?;
            db::audit(
                c,
                "web_login",
                Some(&user.name),
                None,
                &format!("success (from {a})"),
            )?;
            Ok(())
        })
        .await
        .map_err(err)?;
    }
    let mut resp = Redirect::to(&next).into_response();
    let h = resp.headers_mut();
    h.append(
        header::SET_COOKIE,
        set_cookie(SESSION_COOKIE, &token, app.tls, None),
    );
    h.append(
        header::SET_COOKIE,
        set_cookie(LOGIN_COOKIE, "", app.tls, Some(0)),
    );
    Ok(resp)
}

fn locked_page(app: &Shared, lang: Lang, next: &str) -> Response {
    let minutes = app.web.login_lockout_secs.div_ceil(60);
    login_page(
        lang,
        StatusCode::FORBIDDEN,
        Some((
            "warn",
            match lang {
                Lang::Ja => format!(
                    "ログインの失敗が続いたため、このアカウントはロックされています。{minutes} 分ほど待ってから、もう一度お試しください（急ぐ場合は管理者へ）。"
                ),
                Lang::En => format!(
                    "This account is locked after repeated failed logins. Try again in about {minutes} minute(s), or ask an administrator."
                ),
            },
        )),
        next,
        app.tls,
    )
}

#[derive(Deserialize)]
pub(crate) struct Empty {}

pub(crate) async fn logout(
    State(app): State<Shared>,
    headers: HeaderMap,
    Checked(ctx, Empty {}): Checked<Empty>,
) -> Result<Response, WebError> {
    if let Some(token) = cookie(&headers, SESSION_COOKIE) {
        let hash = token_hash(&token);
        let name = ctx.user.name.clone();
        app.write(move |_, s| {
            db::delete_session(s.connection(), &hash)?;
            db::audit(s.connection(), "web_logout", Some(&name), None, "")?;
            Ok(())
        })
        .await?;
    }
    let mut resp = Redirect::to("/login").into_response();
    resp.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(SESSION_COOKIE, "", app.tls, Some(0)),
    );
    Ok(resp)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_local_paths_are_followed_after_login() {
        assert_eq!(
            local_next(Some("/findings?kind=my_number")),
            "/findings?kind=my_number"
        );
        for bad in [
            "//evil.example/",
            "https://evil.example/",
            "/\\evil",
            "javascript:x",
            "",
        ] {
            assert_eq!(local_next(Some(bad)), "/", "{bad}");
        }
        assert_eq!(local_next(None), "/");
    }

    #[test]
    fn tokens_compare_whole() {
        assert!(same("abc", "abc"));
        assert!(!same("abc", "abd"));
        assert!(!same("abc", "abcd"));
    }
}
