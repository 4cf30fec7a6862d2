//! The review screen (`mamori serve`): records officers review findings in
//! a browser, on the office network, several at once, each with their own
//! account and role.
//!
//! axum on tokio; server-rendered HTML (maud, which escapes everything it
//! is given), no JavaScript. SQLite is read through a small pool of
//! read-only connections (WAL readers never block the service's writer)
//! and written through one mutex-guarded `Store`, both on tokio's blocking
//! threads. Handlers call `store::web` and `store::review`: no SQL here.
//!
//! Security model (issue 12): loopback by default, TLS (rustls) required
//! for any other address unless `--insecure-http`; argon2id passwords;
//! random 256-bit session tokens stored hashed, in HttpOnly SameSite=Strict
//! cookies (Secure under TLS) with idle and absolute timeouts; a CSRF token
//! on every state-changing request; login rate limits and lockout; every
//! login, view of a file's findings, decision and export is an event with
//! its user. Pages show masked values and display paths only, so no full
//! identifier reaches a page, a URL, a log or an export.
//!
//! One file per page group: `dashboard`, `findings` (the list and set
//! decisions), `file` (a file's page and its decisions), `retention` (the
//! queue and its export), `mail` (outbound mail), `unreadable`, `reports`
//! (the weekly archive), `shared` (My Numbers on several sites, at the
//! centre), `users` (admin); `auth` (login, sessions, CSRF), `app` (state,
//! pools, server), `layout` (page shell, words, formats), `source` (what
//! pages read: a site's store or the central database, `--central`).

pub mod accounts;
mod app;
mod auth;
mod dashboard;
mod export;
mod file;
mod findings;
mod layout;
mod mail;
mod reports;
mod retention;
mod shared;
mod source;
mod unreadable;
mod users;

use std::path::PathBuf;

use serde::Deserialize;

pub use app::{serve, ServeError, ServeOptions};

/// `[web]` in `mamori.toml`.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct WebConfig {
    /// Where `mamori serve` listens unless `--listen` says otherwise.
    #[serde(default = "default_listen")]
    pub listen: String,
    /// PEM certificate chain and private key: HTTPS. Required for any
    /// address other than loopback (unless `--insecure-http`).
    pub tls_certificate: Option<PathBuf>,
    pub tls_key: Option<PathBuf>,
    /// A session ends after this long without a request.
    #[serde(default = "default_idle")]
    pub session_idle_secs: u64,
    /// A session ends this long after login, active or not.
    #[serde(default = "default_absolute")]
    pub session_absolute_secs: u64,
    /// Failed logins in a row (within `login_lockout_secs`) that lock an account.
    #[serde(default = "default_failures")]
    pub login_max_failures: u32,
    /// How long an account stays locked after its last failed login.
    #[serde(default = "default_lockout")]
    pub login_lockout_secs: u64,
    /// Failed logins from one address (any names) within
    /// `login_lockout_secs` after which it is refused (429).
    #[serde(default = "default_address_failures")]
    pub login_address_max_failures: u32,
}

impl Default for WebConfig {
    fn default() -> Self {
        WebConfig {
            listen: default_listen(),
            tls_certificate: None,
            tls_key: None,
            session_idle_secs: default_idle(),
            session_absolute_secs: default_absolute(),
            login_max_failures: default_failures(),
            login_lockout_secs: default_lockout(),
            login_address_max_failures: default_address_failures(),
        }
    }
}

fn default_listen() -> String {
    "127.0.0.1:8470".into()
}
fn default_idle() -> u64 {
    30 * 60
}
fn default_absolute() -> u64 {
    12 * 60 * 60
}
fn default_failures() -> u32 {
    5
}
fn default_lockout() -> u64 {
    15 * 60
}
fn default_address_failures() -> u32 {
    30
}

impl WebConfig {
    /// Checks the values (called by `Config::load`).
    pub fn validate(&self) -> Result<(), String> {
        self.listen
            .parse::<std::net::SocketAddr>()
            .map_err(|_| format!("listen {:?} is not an address:port", self.listen))?;
        if self.tls_certificate.is_some() != self.tls_key.is_some() {
            return Err("tls_certificate and tls_key go together".into());
        }
        if self.session_idle_secs == 0 || self.session_absolute_secs == 0 {
            return Err("session timeouts must be at least 1 second".into());
        }
        if self.session_idle_secs > self.session_absolute_secs {
            return Err("session_idle_secs is longer than session_absolute_secs".into());
        }
        if self.session_absolute_secs > 7 * 24 * 3600 {
            return Err("session_absolute_secs is at most a week".into());
        }
        if self.login_max_failures == 0 || self.login_address_max_failures == 0 {
            return Err("login failure limits must be at least 1".into());
        }
        if self.login_lockout_secs == 0 || self.login_lockout_secs > 24 * 3600 {
            return Err("login_lockout_secs is 1 second to a day".into());
        }
        Ok(())
    }

    pub fn tls(&self) -> Option<(&std::path::Path, &std::path::Path)> {
        Some((self.tls_certificate.as_deref()?, self.tls_key.as_deref()?))
    }
}
