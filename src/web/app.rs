//! The server: its state (configuration, key, records rules, the database
//! pools: the local SQLite store, and the central PostgreSQL database
//! under `--central`), the router, the middleware every response passes (language,
//! security headers), the error page, and `serve` (bind, TLS, background
//! upkeep, graceful stop).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use rusqlite::Connection;

use super::layout::{self, Lang};
use super::source::{CentralReader, Reader, SiteReader};
use crate::config::Config;
use crate::keys::KeySet;
use crate::records::apply::RecordsContext;
use crate::store::{Store, StoreError};

/// How `mamori serve` runs.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    pub config: Config,
    /// Where to listen (port 0: any free port, said on start).
    pub listen: SocketAddr,
    /// Serve plain HTTP on a non-loopback address (never advisable).
    pub insecure_http: bool,
    /// Read and decide at the central database over every site; the local
    /// store (`[store] database`, created if missing) then holds only the
    /// screen's accounts, sessions and audit events.
    pub central: Option<crate::central::connect::Target>,
}

/// Why the server cannot start.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error(
        "{0} is not a loopback address: configure TLS ([web] tls_certificate and tls_key) \
         or, knowingly, pass --insecure-http (passwords and findings would cross the network in clear)"
    )]
    NeedsTls(SocketAddr),
    #[error("{}: no such database (run the service or `mamori run --once` first)", .0.display())]
    NoDatabase(PathBuf),
    #[error("fingerprint key {path}: {error}")]
    Key {
        path: PathBuf,
        error: std::io::Error,
    },
    #[error("TLS: {0}")]
    Tls(String),
    #[error("listening on {addr}: {error}")]
    Bind {
        addr: SocketAddr,
        error: std::io::Error,
    },
    #[error("records rules: {0}")]
    Rules(String),
    #[error(transparent)]
    Central(#[from] crate::central::CentralError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("server: {0}")]
    Io(#[from] std::io::Error),
}

/// A root as pages show it: its label and the display path files are
/// recorded under.
#[derive(Debug, Clone)]
pub(crate) struct RootView {
    pub label: String,
    pub shown: String,
}

/// The database: read-only connections for pages, one writer for
/// decisions, sessions and audit events.
pub(crate) struct Db {
    path: PathBuf,
    readers: Mutex<Vec<Connection>>,
    writer: Mutex<Store>,
}

/// Readers kept open between requests (more are opened under load and
/// closed after).
const POOL_KEEP: usize = 8;

/// PostgreSQL connections kept between requests: more than SQLite readers,
/// because opening one costs a server process (20 officers at once opened
/// and closed twelve per second with 8 kept).
const CENTRAL_POOL_KEEP: usize = 24;

impl Db {
    fn take_reader(&self) -> Result<Connection, StoreError> {
        let pooled = self.readers.lock().unwrap_or_else(|e| e.into_inner()).pop();
        match pooled {
            Some(c) => Ok(c),
            None => Store::open_read_only(&self.path),
        }
    }

    fn give_back(&self, conn: Connection) {
        let mut pool = self.readers.lock().unwrap_or_else(|e| e.into_inner());
        if pool.len() < POOL_KEEP {
            pool.push(conn);
        }
    }
}

/// The central database: its connection settings and a small pool of
/// connections (the synchronous client, used on tokio's blocking threads
/// as the SQLite connections are).
pub(crate) struct CentralDb {
    target: crate::central::connect::Target,
    /// Kept connections, with when each was last given back.
    clients: Mutex<Vec<(postgres::Client, std::time::Instant)>>,
}

/// A kept connection idle longer than this is checked before use (a
/// restarted PostgreSQL leaves every kept connection dead, which the client
/// only notices when it is used: the request would fail).
const CENTRAL_IDLE_CHECK: Duration = Duration::from_secs(5);

impl CentralDb {
    fn take(&self) -> Result<postgres::Client, WebError> {
        loop {
            let pooled = self.clients.lock().unwrap_or_else(|e| e.into_inner()).pop();
            match pooled {
                None => return Ok(self.target.connect()?),
                Some((mut c, at)) => {
                    let alive = !c.is_closed()
                        && (at.elapsed() < CENTRAL_IDLE_CHECK
                            || c.is_valid(Duration::from_secs(2)).is_ok());
                    if alive {
                        return Ok(c);
                    }
                }
            }
        }
    }

    /// A connection that failed mid-request is dropped, not pooled.
    fn give_back(&self, client: postgres::Client) {
        let mut pool = self.clients.lock().unwrap_or_else(|e| e.into_inner());
        if pool.len() < CENTRAL_POOL_KEEP && !client.is_closed() {
            pool.push((client, std::time::Instant::now()));
        }
    }
}

impl Drop for CentralDb {
    /// The synchronous client owns a tokio runtime of its own, which may
    /// not be dropped inside the server's (at shutdown it aborted the
    /// process): the pool is closed on a plain thread.
    fn drop(&mut self) {
        let clients = std::mem::take(self.clients.get_mut().unwrap_or_else(|e| e.into_inner()));
        if !clients.is_empty() {
            let _ = std::thread::spawn(move || drop(clients)).join();
        }
    }
}

/// Everything a request may need.
pub(crate) struct App {
    /// The local store: findings on a site; accounts, sessions and audit
    /// events always.
    pub db: Db,
    /// Findings, verdicts and decisions at the centre (`--central`).
    pub central: Option<CentralDb>,
    pub keys: KeySet,
    pub records: RecordsContext,
    /// The roots pages offer: the configuration's on a site; at the
    /// centre, its sites and their roots, read again every minute (a site
    /// added later appears without a restart).
    roots: std::sync::RwLock<Arc<Vec<RootView>>>,
    pub web: super::WebConfig,
    /// Where `mamori report weekly` writes the weekly reports
    /// (`[report] directory`: `<dir>/<YYYY-Www>/report.html` …), listed by
    /// the archive page.
    pub reports_directory: PathBuf,
    /// Served over TLS: cookies are `Secure`.
    pub tls: bool,
    /// The dashboard's trend, per scope, kept a few minutes (it reads
    /// every finding once).
    pub trend_cache: Mutex<Vec<KeptTrend>>,
    /// The dashboard's counts, per scope, kept a minute (the same reason).
    pub overview_cache: Mutex<Vec<KeptCounts>>,
    /// Held while the counts or the trend are computed: one at a time.
    pub overview_build: Mutex<()>,
    /// Counts up at every decision: counts computed across one are not kept.
    pub overview_generation: std::sync::atomic::AtomicU64,
}

pub(crate) type Shared = Arc<App>;

/// A trend kept for a scope (its root display paths) since an instant.
pub(crate) type KeptTrend = (
    Vec<String>,
    std::time::Instant,
    Arc<super::dashboard::Trend>,
);

/// Counts kept for a scope since an instant.
pub(crate) type KeptCounts = (
    Vec<String>,
    std::time::Instant,
    Arc<super::dashboard::Counts>,
);

impl App {
    /// Runs `f` with a reader of the findings (the site's store, or the
    /// centre under `--central`) on a pooled connection, on a blocking
    /// thread.
    pub async fn read<T, F>(self: &Arc<Self>, f: F) -> Result<T, WebError>
    where
        T: Send + 'static,
        F: FnOnce(&App, &mut dyn Reader) -> Result<T, WebError> + Send + 'static,
    {
        let app = self.clone();
        tokio::task::spawn_blocking(move || match &app.central {
            Some(central) => {
                let mut client = central.take()?;
                let out = f(&app, &mut CentralReader(&mut client));
                central.give_back(client);
                out
            }
            None => {
                let conn = app.db.take_reader()?;
                let out = f(
                    &app,
                    &mut SiteReader {
                        conn: &conn,
                        keys: &app.keys,
                        records: &app.records,
                    },
                );
                app.db.give_back(conn);
                out
            }
        })
        .await
        .map_err(|_| WebError::Internal("a database task failed".into()))?
    }

    /// Runs `f` on a pooled read-only connection of the local store (the
    /// accounts, sessions and audit events), on a blocking thread.
    pub async fn accounts<T, F>(self: &Arc<Self>, f: F) -> Result<T, WebError>
    where
        T: Send + 'static,
        F: FnOnce(&App, &Connection) -> Result<T, WebError> + Send + 'static,
    {
        let app = self.clone();
        tokio::task::spawn_blocking(move || {
            let conn = app.db.take_reader()?;
            let out = f(&app, &conn);
            app.db.give_back(conn);
            out
        })
        .await
        .map_err(|_| WebError::Internal("a database task failed".into()))?
    }

    /// The file id an audit event of the screen names: the store's own on
    /// a site; none at the centre, whose ids are not the local store's (the
    /// event's text names the centre's file).
    pub fn audit_file(&self, id: i64) -> Option<i64> {
        self.central.is_none().then_some(id)
    }

    /// Records a decision by `user` on findings (the site's ids, or the
    /// centre's), re-evaluates the files' records flags on a site (the
    /// centre's owning sites do it when they take the decision at their
    /// next sync), writes the audit event and forgets the kept counts.
    /// `ids`: the findings, or the filter whose findings (read when the
    /// decision is written) are decided. Returns how many findings took
    /// the state.
    pub async fn decide(
        self: &Arc<Self>,
        ids: DecideOn,
        decision: crate::review::Decision,
        note: String,
        user: String,
        file: Option<i64>,
        what: String,
    ) -> Result<usize, WebError> {
        let app = self.clone();
        let n = tokio::task::spawn_blocking(move || -> Result<usize, WebError> {
            let (n, count) = match &app.central {
                Some(central) => {
                    let mut client = central.take()?;
                    let out = (|| {
                        let ids = match ids {
                            DecideOn::Ids(ids) => ids,
                            DecideOn::Filter(f) => {
                                crate::central::query::finding_ids(&mut client, &f)?
                            }
                        };
                        if ids.is_empty() {
                            return Ok((0, 0));
                        }
                        let n = crate::central::query::decide(
                            &mut client,
                            &ids,
                            decision,
                            &note,
                            &user,
                        )
                        .map_err(|e| match e {
                            crate::central::CentralError::Invalid(m) => WebError::BadRequest(m),
                            other => WebError::Central(other),
                        })?;
                        Ok::<_, WebError>((n, ids.len()))
                    })();
                    central.give_back(client);
                    out?
                }
                None => {
                    let mut store = app.db.writer.lock().unwrap_or_else(|e| e.into_inner());
                    let ids = match ids {
                        DecideOn::Ids(ids) => ids,
                        DecideOn::Filter(f) => {
                            crate::store::review::finding_ids(store.connection(), &f)?
                        }
                    };
                    if ids.is_empty() {
                        return Ok(0);
                    }
                    let n = store
                        .decide(&ids, decision, &note, &user)
                        .map_err(|e| match e {
                            crate::store::review::DecisionError::Store(s) => WebError::Store(s),
                            other => WebError::BadRequest(other.to_string()),
                        })?;
                    let files = crate::store::web::files_of_findings(store.connection(), &ids)?;
                    crate::records::apply::refresh(
                        &mut store,
                        &app.records,
                        crate::time::today_jst(),
                        Some(&files),
                    )?;
                    (n, ids.len())
                }
            };
            if count == 0 {
                return Ok(0);
            }
            let store = app.db.writer.lock().unwrap_or_else(|e| e.into_inner());
            let at_centre = match (&app.central, file) {
                (Some(_), Some(f)) => format!(" (the centre's file #{f})"),
                (Some(_), None) => " (at the centre)".into(),
                (None, _) => String::new(),
            };
            crate::store::web::audit(
                store.connection(),
                "web_decision",
                Some(&user),
                file.and_then(|f| app.audit_file(f)),
                &format!(
                    "{} on {count} finding(s): {what}{at_centre}",
                    decision.as_str()
                ),
            )?;
            Ok(n)
        })
        .await
        .map_err(|_| WebError::Internal("a database task failed".into()))??;
        super::dashboard::forget_trends(self);
        Ok(n)
    }

    /// Runs `f` with the writer, on a blocking thread.
    pub async fn write<T, F>(self: &Arc<Self>, f: F) -> Result<T, WebError>
    where
        T: Send + 'static,
        F: FnOnce(&App, &mut Store) -> Result<T, WebError> + Send + 'static,
    {
        let app = self.clone();
        tokio::task::spawn_blocking(move || {
            let mut store = app.db.writer.lock().unwrap_or_else(|e| e.into_inner());
            f(&app, &mut store)
        })
        .await
        .map_err(|_| WebError::Internal("a database task failed".into()))?
    }

    /// The roots as they are now.
    pub fn roots(&self) -> Arc<Vec<RootView>> {
        self.roots.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    fn set_roots(&self, roots: Vec<RootView>) {
        *self.roots.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(roots);
    }

    /// The label of a root's display path (the path itself when it is not
    /// a configured root).
    pub fn root_label(&self, shown: Option<&str>) -> String {
        let Some(shown) = shown else {
            return String::new();
        };
        self.roots()
            .iter()
            .find(|r| r.shown == shown)
            .map(|r| r.label.clone())
            .unwrap_or_else(|| shown.to_string())
    }

    /// A display path as lists show it: the root's label and the path
    /// below it (or no label and the whole path, outside every root).
    pub fn short_path<'a>(&self, path: &'a str) -> (Option<String>, &'a str) {
        for r in self.roots().iter() {
            if let Some(rest) = path
                .strip_prefix(r.shown.as_str())
                .and_then(|x| x.strip_prefix(std::path::MAIN_SEPARATOR))
            {
                return (Some(r.label.clone()), rest);
            }
        }
        (None, path)
    }

    /// The display path of a root label.
    pub fn root_shown(&self, label: &str) -> Option<String> {
        self.roots()
            .iter()
            .find(|r| r.label == label)
            .map(|r| r.shown.clone())
    }
}

/// What a decision is on.
pub(crate) enum DecideOn {
    Ids(Vec<i64>),
    /// Every finding the filter matches when the decision is written.
    Filter(crate::review::FindingFilter),
}

/// What went wrong with a request, as the user sees it.
#[derive(Debug, thiserror::Error)]
pub(crate) enum WebError {
    #[error("not found")]
    NotFound,
    #[error("forbidden")]
    Forbidden,
    #[error("the form's security token is missing or wrong")]
    Csrf,
    #[error("{0}")]
    BadRequest(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Central(#[from] crate::central::CentralError),
    #[error("{0}")]
    Internal(String),
}

impl From<rusqlite::Error> for WebError {
    fn from(e: rusqlite::Error) -> Self {
        WebError::Store(StoreError::Sql(e))
    }
}

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        let (status, ja, en) = match &self {
            WebError::NotFound => (
                StatusCode::NOT_FOUND,
                "ページまたはファイルが見つかりません（または閲覧権限がありません）。".to_string(),
                "Not found (or not yours to see).".to_string(),
            ),
            WebError::Forbidden => (
                StatusCode::FORBIDDEN,
                "この操作の権限がありません。".to_string(),
                "You may not do this.".to_string(),
            ),
            WebError::Csrf => (
                StatusCode::FORBIDDEN,
                "フォームの確認用トークンがないか、正しくありません。ページを開き直してから、もう一度操作してください。".to_string(),
                "The form's security token is missing or wrong. Reload the page and try again.".to_string(),
            ),
            WebError::BadRequest(m) => (StatusCode::BAD_REQUEST, m.clone(), m.clone()),
            WebError::Store(_) | WebError::Central(_) => {
                // Store errors carry no document text (and the centre's no
                // password); say it once in the log.
                tracing::error!("review screen: {self}");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "データベースのエラーです。しばらくしてから、もう一度お試しください。".to_string(),
                    "A database error. Please try again shortly.".to_string(),
                )
            }
            WebError::Internal(m) => {
                tracing::error!("review screen: {m}");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "サーバーのエラーです。".to_string(),
                    "A server error.".to_string(),
                )
            }
        };
        (status, layout::error_page(status, &ja, &en)).into_response()
    }
}

/// Sets the language from `?lang=` (remembered in a cookie) or the cookie.
async fn language(State(app): State<Shared>, mut req: Request, next: Next) -> Response {
    let asked = req
        .uri()
        .query()
        .and_then(|q| {
            serde_urlencoded::from_str::<Vec<(String, String)>>(q)
                .ok()?
                .into_iter()
                .find(|(k, _)| k == "lang")
                .map(|(_, v)| v)
        })
        .and_then(|v| v.parse::<Lang>().ok());
    let remembered = super::auth::cookie(req.headers(), layout::LANG_COOKIE)
        .and_then(|v| v.parse::<Lang>().ok());
    let lang = asked.or(remembered).unwrap_or_default();
    req.extensions_mut().insert(lang);
    let mut resp = next.run(req).await;
    if let Some(l) = asked {
        let cookie = format!(
            "{}={}; Path=/; Max-Age=31536000; SameSite=Strict{}",
            layout::LANG_COOKIE,
            layout::lang_code(l),
            if app.tls { "; Secure" } else { "" }
        );
        if let Ok(v) = HeaderValue::from_str(&cookie) {
            resp.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    resp
}

/// Headers on every response: no caching of pages holding personal data,
/// no framing, no sniffing, no referrer, and a content security policy
/// that allows nothing but the page's own stylesheet and forms.
async fn security_headers(req: Request, next: Next) -> Response {
    let mut resp = next.run(req).await;
    let h = resp.headers_mut();
    let set = |h: &mut axum::http::HeaderMap, name: header::HeaderName, value: &'static str| {
        if !h.contains_key(&name) {
            h.insert(name, HeaderValue::from_static(value));
        }
    };
    set(
        h,
        header::CONTENT_SECURITY_POLICY,
        "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    );
    set(h, header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(h, header::X_FRAME_OPTIONS, "DENY");
    set(h, header::REFERRER_POLICY, "no-referrer");
    set(h, header::CACHE_CONTROL, "no-store");
    resp
}

fn router(app: Shared) -> Router {
    Router::new()
        .route("/", get(super::dashboard::page))
        .route(
            "/login",
            get(super::auth::login_form).post(super::auth::login),
        )
        .route("/logout", post(super::auth::logout))
        .route("/account", get(super::users::account_page))
        .route("/account/password", post(super::users::change_own_password))
        .route("/findings", get(super::findings::list))
        .route("/findings/decide", post(super::findings::decide_set))
        .route("/file/{id}", get(super::file::page))
        .route("/file/{id}/decide", post(super::file::decide_file))
        .route("/finding/{id}/decide", post(super::file::decide_finding))
        .route("/retention", get(super::retention::page))
        .route("/retention/export.xlsx", get(super::retention::export_xlsx))
        .route("/retention/export.csv", get(super::retention::export_csv))
        .route("/mail", get(super::mail::page))
        .route("/unreadable", get(super::unreadable::page))
        .route("/reports", get(super::reports::page))
        .route("/shared", get(super::shared::page))
        .route("/reports/{week}/{name}", get(super::reports::download))
        .route("/users", get(super::users::page).post(super::users::add))
        .route("/users/{id}/update", post(super::users::update))
        .route("/users/{id}/password", post(super::users::reset_password))
        .route("/users/{id}/disable", post(super::users::disable))
        .route("/users/{id}/enable", post(super::users::enable))
        .route("/static/mamori.css", get(layout::stylesheet))
        .fallback(|| async { WebError::NotFound })
        .layer(middleware::from_fn_with_state(app.clone(), language))
        .layer(middleware::from_fn(security_headers))
        .with_state(app)
}

/// Opens the store and builds the state.
fn build(options: &ServeOptions) -> Result<Shared, ServeError> {
    let cfg = &options.config;
    let key_file = cfg.key_file();
    let key = crate::keys::load_or_create(&key_file).map_err(|error| ServeError::Key {
        path: key_file.clone(),
        error,
    })?;
    let keys = KeySet::new(key);
    if options.central.is_none() && !cfg.store.database.exists() {
        return Err(ServeError::NoDatabase(cfg.store.database.clone()));
    }
    // Migrates (accounts need schema 4) and checks the key; at the centre,
    // creates the accounts' store on first use.
    let writer = Store::open(&cfg.store.database, &keys)?;
    let records = cfg
        .records_context()
        .map_err(|e| ServeError::Rules(e.to_string()))?;
    let (roots, central) = match &options.central {
        None => (
            cfg.roots
                .iter()
                .map(|r| RootView {
                    label: r.label.clone(),
                    shown: crate::paths::display(&r.path).into_owned(),
                })
                .collect(),
            None,
        ),
        Some(target) => {
            // At the centre a root is named `SITE` or `SITE:LABEL`: its
            // label and the name the centre's rows give it are one.
            let mut client = target.connect()?;
            crate::central::schema::check(&mut client)?;
            let roots = central_roots(&mut client)?;
            (
                roots,
                Some(CentralDb {
                    target: target.clone(),
                    clients: Mutex::new(vec![(client, std::time::Instant::now())]),
                }),
            )
        }
    };
    Ok(Arc::new(App {
        db: Db {
            path: cfg.store.database.clone(),
            readers: Mutex::new(Vec::new()),
            writer: Mutex::new(writer),
        },
        central,
        keys,
        records,
        roots: std::sync::RwLock::new(Arc::new(roots)),
        web: cfg.web.clone(),
        reports_directory: cfg.report.directory.clone(),
        tls: cfg.web.tls().is_some(),
        trend_cache: Mutex::new(Vec::new()),
        overview_cache: Mutex::new(Vec::new()),
        overview_build: Mutex::new(()),
        overview_generation: std::sync::atomic::AtomicU64::new(0),
    }))
}

/// The rustls configuration of the certificate and key files (ring).
fn tls_config(cert: &Path, key: &Path) -> Result<rustls::ServerConfig, ServeError> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert)
        .and_then(|it| it.collect::<Result<_, _>>())
        .map_err(|e| ServeError::Tls(format!("{}: {e}", cert.display())))?;
    if certs.is_empty() {
        return Err(ServeError::Tls(format!(
            "{}: no certificate in it",
            cert.display()
        )));
    }
    let key = PrivateKeyDer::from_pem_file(key)
        .map_err(|e| ServeError::Tls(format!("{}: {e}", key.display())))?;
    let mut config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|e| ServeError::Tls(e.to_string()))?
    .with_no_client_auth()
    .with_single_cert(certs, key)
    .map_err(|e| ServeError::Tls(e.to_string()))?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(config)
}

/// Runs the review screen until SIGTERM or Ctrl-C. `on_listening` is told
/// the address and scheme once the socket is bound.
pub fn serve(
    options: ServeOptions,
    on_listening: impl FnOnce(SocketAddr, &'static str),
) -> Result<(), ServeError> {
    let tls = options.config.web.tls();
    if !options.listen.ip().is_loopback() && tls.is_none() && !options.insecure_http {
        return Err(ServeError::NeedsTls(options.listen));
    }
    let tls = match tls {
        Some((cert, key)) => Some(tls_config(cert, key)?),
        None => None,
    };
    if !options.listen.ip().is_loopback() && tls.is_none() {
        tracing::warn!(
            "serving plain HTTP on {} (--insecure-http): passwords, session cookies and findings cross the network unencrypted",
            options.listen
        );
    }
    let app = build(&options)?;
    let listener =
        std::net::TcpListener::bind(options.listen).map_err(|error| ServeError::Bind {
            addr: options.listen,
            error,
        })?;
    let local = listener.local_addr()?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("mamori-web")
        .build()?;
    runtime.block_on(async move {
        {
            // At the centre the sites keep their own verdicts current.
            let (path, keys, records, web) = (
                app.db.path.clone(),
                app.keys.clone(),
                app.central.is_none().then(|| app.records.clone()),
                app.web.clone(),
            );
            std::thread::Builder::new()
                .name("mamori-web-upkeep".into())
                .spawn(move || upkeep(path, keys, records, web))?;
            if app.central.is_some() {
                let app = Arc::downgrade(&app);
                std::thread::Builder::new()
                    .name("mamori-web-roots".into())
                    .spawn(move || refresh_central_roots(app))?;
            }
        }
        let service = router(app).into_make_service_with_connect_info::<SocketAddr>();
        match tls {
            None => {
                listener.set_nonblocking(true)?;
                let listener = tokio::net::TcpListener::from_std(listener)?;
                on_listening(local, "http");
                tracing::info!("review screen on http://{local}/");
                axum::serve(listener, service)
                    .with_graceful_shutdown(stop_signal())
                    .await?;
            }
            Some(config) => {
                let config = axum_server::tls_rustls::RustlsConfig::from_config(Arc::new(config));
                let handle = axum_server::Handle::new();
                let stopper = handle.clone();
                tokio::spawn(async move {
                    stop_signal().await;
                    stopper.graceful_shutdown(Some(Duration::from_secs(10)));
                });
                let server = axum_server::from_tcp_rustls(listener, config)?.handle(handle);
                on_listening(local, "https");
                tracing::info!("review screen on https://{local}/");
                server.serve(service).await?;
            }
        }
        Ok::<(), ServeError>(())
    })?;
    tracing::info!("review screen stopped");
    Ok(())
}

/// Resolves on SIGTERM or SIGINT (Ctrl-C on Windows).
async fn stop_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = term.recv() => {}
                    _ = tokio::signal::ctrl_c() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// The centre's sites and roots as the pages offer them (`SITE`,
/// `SITE:LABEL`: at the centre a root's label and shown name are one).
fn central_roots(
    client: &mut postgres::Client,
) -> Result<Vec<RootView>, crate::central::CentralError> {
    Ok(crate::central::web::root_names(client)?
        .into_iter()
        .map(|name| RootView {
            label: name.clone(),
            shown: name,
        })
        .collect())
}

/// Reads the centre's sites and roots again every minute, on its own
/// thread with its own connection (opened again after a failure), until
/// the server is gone.
fn refresh_central_roots(app: std::sync::Weak<App>) {
    let mut client: Option<postgres::Client> = None;
    let every = std::env::var("MAMORI_WEB_ROOTS_REFRESH_SECS")
        .ok()
        .and_then(|s| s.parse::<u64>().ok())
        .filter(|&s| s > 0)
        .map_or(ROOTS_REFRESH, Duration::from_secs);
    loop {
        std::thread::sleep(every);
        let Some(app) = app.upgrade() else { return };
        let Some(central) = &app.central else { return };
        if client.as_ref().is_none_or(|c| c.is_closed()) {
            client = central
                .target
                .connect()
                .map_err(|e| tracing::warn!("review screen: reading the centre's roots: {e}"))
                .ok();
        }
        if let Some(c) = client.as_mut() {
            match central_roots(c) {
                Ok(roots) => app.set_roots(roots),
                Err(e) => tracing::warn!("review screen: reading the centre's roots: {e}"),
            }
        }
    }
}

/// How often the centre's roots are read again (`MAMORI_WEB_ROOTS_REFRESH_SECS`
/// says otherwise).
const ROOTS_REFRESH: Duration = Duration::from_secs(60);

/// Background upkeep, on its own thread with its own writer connection
/// (a full records evaluation can take a while on a large store and must
/// not hold the pages' writer): expired sessions are removed every minute,
/// and the records verdicts are brought up to the day every ten minutes
/// (as `mamori review` does on start; a no-op when they are current) when
/// `records` is given (a site's store).
fn upkeep(path: PathBuf, keys: KeySet, records: Option<RecordsContext>, web: super::WebConfig) {
    let mut store = None;
    for n in 0u64.. {
        if store.is_none() {
            store = Store::open(&path, &keys)
                .map_err(|e| tracing::warn!("review screen upkeep: {e}"))
                .ok();
        }
        if let Some(store) = store.as_mut() {
            let now = super::auth::unix_now();
            let result = crate::store::web::delete_expired_sessions(
                store.connection(),
                now - web.session_idle_secs as i64,
                now - web.session_absolute_secs as i64,
            )
            .and_then(|_| match &records {
                Some(records) if n % 10 == 0 => {
                    crate::records::apply::refresh_if_stale(
                        store,
                        records,
                        crate::time::today_jst(),
                    )?;
                    Ok(())
                }
                _ => Ok(()),
            });
            if let Err(e) = result {
                tracing::warn!("review screen upkeep: {e}");
            }
        }
        std::thread::sleep(Duration::from_secs(60));
    }
}
