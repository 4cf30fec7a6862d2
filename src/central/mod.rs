//! One view across a city's file servers: each site's store is shipped to
//! a central PostgreSQL, and the records office reads and decides there.
//!
//! The site keeps working on its own SQLite store whether or not the centre
//! can be reached; the centre is a copy, kept current by each site's sync:
//! - [`connect`]: the connection (password from a file or the environment,
//!   never in the URL, logs or errors; TLS with rustls, server name checked);
//! - [`schema`]: the central schema's numbered migrations
//!   (`mamori central migrate`);
//! - [`outbox`]: rows of a site applied to the centre by idempotent upserts
//!   keyed by site and the site's row ids;
//! - [`sync`]: the site's sync (snapshot, outbox batches, decisions made
//!   centrally flowing back, backoff), run by the service's sync thread or
//!   `mamori central sync|resync`;
//! - [`query`]: the read side for reports, review and records, with the
//!   shapes of the local store's queries;
//! - [`web`]: the review screen's questions (`mamori serve --central`), in
//!   the shapes of `store::web`.
//!
//! The store's side (the outbox table and its triggers) is `store::outbox`.
//! Nothing here reads documents: only what the store holds (masked values,
//! keyed fingerprints, shown paths) reaches the centre.

pub mod connect;
pub mod outbox;
pub mod query;
pub mod schema;
pub mod sync;
pub mod web;

use thiserror::Error;

use crate::store::StoreError;

/// What can go wrong between a site and the centre.
#[derive(Debug, Error)]
pub enum CentralError {
    /// PostgreSQL's own errors never hold the password (it is sent, not
    /// shown); with their causes (a refused certificate, a refused
    /// connection), which the client's own message leaves out.
    #[error("central database: {}", with_causes(.0))]
    Postgres(postgres::Error),
    #[error("central URL: {0}")]
    Url(String),
    #[error("password file {path}: {problem}")]
    PasswordFile { path: String, problem: String },
    #[error("CA file {path}: {problem}")]
    CaFile { path: String, problem: String },
    #[error("TLS: {0}")]
    Tls(String),
    #[error("local store: {0}")]
    Store(#[from] StoreError),
    #[error(
        "the central database has schema version {found}; this mamori knows {known}: \
         run `mamori central migrate --url …` with this version (or upgrade mamori)"
    )]
    Schema { found: i64, known: i64 },
    #[error(
        "this site's fingerprint key differs from the organisation's (the key the centre was \
         first filled with): its fingerprints would never match the other sites'. Install the \
         organisation's fingerprint.key on this server (see README, One view across file servers)"
    )]
    OtherKey,
    #[error(
        "site {0:?} is already shipped by another store: give this server its own `site`, or run \
         `mamori central resync` on the server that now owns the name (it replaces the old rows)"
    )]
    SiteTaken(String),
    #[error("site {0:?} is not known to the centre")]
    NoSite(String),
    #[error("{0}")]
    Invalid(String),
}

impl From<postgres::Error> for CentralError {
    fn from(e: postgres::Error) -> Self {
        CentralError::Postgres(e)
    }
}

/// An error and its causes, `: `-separated.
fn with_causes(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        let text = c.to_string();
        if !s.contains(&text) {
            s.push_str(": ");
            s.push_str(&text);
        }
        cause = c.source();
    }
    s
}

impl From<rusqlite::Error> for CentralError {
    fn from(e: rusqlite::Error) -> Self {
        CentralError::Store(StoreError::Sql(e))
    }
}
