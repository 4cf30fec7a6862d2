//! The connection to the centre: a `postgres://user@host:port/db` URL
//! without a password; the password from a file readable by its owner only
//! or from `MAMORI_CENTRAL_PASSWORD`; TLS with rustls against the centre's
//! CA, the server's name checked against its certificate (libpq's
//! `sslmode=verify-full`). Without a CA file the centre must be on this
//! machine (loopback or a Unix socket): a password and masked values are
//! never sent in the clear over a network.
//!
//! The password is only ever handed to the PostgreSQL client; the URL shown
//! in logs and `mamori status` is rebuilt from its parts without it.

use std::net::IpAddr;
use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use postgres::config::{Host, SslMode};

use super::CentralError;

/// A password file holds one line; anything much longer is not one.
const MAX_PASSWORD_FILE_BYTES: u64 = 4096;
/// CA bundles are small; a path to something huge is a mistake.
const MAX_CA_FILE_BYTES: u64 = 1 << 20;

/// Where and how to connect.
#[derive(Clone)]
pub struct Target {
    config: postgres::Config,
    tls: Option<tokio_postgres_rustls::MakeRustlsConnect>,
    shown: String,
}

impl std::fmt::Debug for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Target({})", self.shown)
    }
}

fn parse(url: &str) -> Result<postgres::Config, CentralError> {
    // The parser's own message may quote parts of the URL: not repeated.
    postgres::Config::from_str(url).map_err(|_| {
        CentralError::Url("not a PostgreSQL URL (postgres://user@host:port/database)".into())
    })
}

fn loopback(config: &postgres::Config) -> bool {
    let hosts_local = config.get_hosts().iter().all(|h| match h {
        Host::Tcp(name) => {
            name.eq_ignore_ascii_case("localhost")
                || name.parse::<IpAddr>().is_ok_and(|a| a.is_loopback())
        }
        #[cfg(unix)]
        Host::Unix(_) => true,
    });
    hosts_local && config.get_hostaddrs().iter().all(|a| a.is_loopback())
}

impl Target {
    /// Checks a URL without connecting: it parses, holds no password, names
    /// a database, and (without TLS) a centre on this machine.
    pub fn check_url(url: &str, tls: bool) -> Result<(), CentralError> {
        let config = parse(url)?;
        if config.get_password().is_some() {
            return Err(CentralError::Url(
                "the URL holds a password: put it in password_file (mode 0600) or MAMORI_CENTRAL_PASSWORD".into(),
            ));
        }
        if config.get_hosts().is_empty() {
            return Err(CentralError::Url("the URL names no host".into()));
        }
        if config.get_user().is_none() {
            return Err(CentralError::Url("the URL names no user".into()));
        }
        if !tls && !loopback(&config) {
            return Err(CentralError::Url(
                "the centre is on another machine: set ca_file (TLS with the server's name checked)".into(),
            ));
        }
        Ok(())
    }

    /// A URL as `mamori status` shows it: rebuilt from its parts, so that
    /// it never shows a password even if one was put in it.
    pub fn shown_of(url: &str) -> Result<String, CentralError> {
        Ok(shown_url(&parse(url)?))
    }

    /// The target of a URL, with the password from `password_file` or else
    /// `MAMORI_CENTRAL_PASSWORD`, and TLS when `ca_file` is given.
    pub fn new(
        url: &str,
        password_file: Option<&Path>,
        ca_file: Option<&Path>,
    ) -> Result<Target, CentralError> {
        Target::check_url(url, ca_file.is_some())?;
        let mut config = parse(url)?;
        let password = match password_file {
            Some(p) => Some(read_password_file(p)?),
            None => std::env::var("MAMORI_CENTRAL_PASSWORD")
                .ok()
                .filter(|p| !p.is_empty()),
        };
        if let Some(p) = password {
            config.password(p);
        }
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(Duration::from_secs(10));
        }
        config.application_name("mamori");
        let tls = match ca_file {
            Some(ca) => {
                config.ssl_mode(SslMode::Require);
                Some(tls_connector(ca)?)
            }
            None => {
                config.ssl_mode(SslMode::Disable);
                None
            }
        };
        let shown = shown_url(&config);
        Ok(Target { config, tls, shown })
    }

    /// The target of a site's `[central]` section.
    pub fn from_config(c: &crate::config::CentralConfig) -> Result<Target, CentralError> {
        Target::new(&c.url, c.password_file.as_deref(), c.ca_file.as_deref())
    }

    /// Connects (at most the connect timeout per host).
    pub fn connect(&self) -> Result<postgres::Client, CentralError> {
        Ok(match &self.tls {
            Some(tls) => self.config.connect(tls.clone())?,
            None => self.config.connect(postgres::NoTls)?,
        })
    }

    /// The URL without the password (`postgres://user@host:port/db`), for
    /// logs and `mamori status`.
    pub fn shown(&self) -> &str {
        &self.shown
    }

    /// Whether the connection uses TLS.
    pub fn tls(&self) -> bool {
        self.tls.is_some()
    }
}

fn shown_url(config: &postgres::Config) -> String {
    let user = config.get_user().unwrap_or("");
    let hosts: Vec<String> = config
        .get_hosts()
        .iter()
        .enumerate()
        .map(|(i, h)| {
            let host = match h {
                Host::Tcp(n) => n.clone(),
                #[cfg(unix)]
                Host::Unix(p) => p.display().to_string(),
            };
            let port = config
                .get_ports()
                .get(i)
                .or(config.get_ports().first())
                .copied()
                .unwrap_or(5432);
            format!("{host}:{port}")
        })
        .collect();
    format!(
        "postgres://{user}@{}/{}",
        hosts.join(","),
        config.get_dbname().unwrap_or("")
    )
}

/// Reads a password file: a regular file of its owner's alone, short.
fn read_password_file(path: &Path) -> Result<String, CentralError> {
    use std::io::Read;
    let err = |problem: String| CentralError::PasswordFile {
        path: crate::paths::display(path).into_owned(),
        problem,
    };
    let m = std::fs::metadata(path).map_err(|e| err(e.to_string()))?;
    if !m.is_file() {
        return Err(err("not a regular file".into()));
    }
    if m.len() > MAX_PASSWORD_FILE_BYTES {
        return Err(err(format!("{} bytes long: not a password file", m.len())));
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = m.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            return Err(err(format!(
                "mode {mode:03o}: it must be readable by its owner only (chmod 600)"
            )));
        }
    }
    let mut text = String::new();
    std::fs::File::open(path)
        .and_then(|f| f.take(MAX_PASSWORD_FILE_BYTES).read_to_string(&mut text))
        .map_err(|e| err(e.to_string()))?;
    let password = text.trim_end_matches(['\n', '\r']).to_string();
    if password.is_empty() {
        return Err(err("empty".into()));
    }
    Ok(password)
}

/// A rustls connector trusting only the CA certificates in `ca_file`.
fn tls_connector(ca_file: &Path) -> Result<tokio_postgres_rustls::MakeRustlsConnect, CentralError> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::CertificateDer;
    use std::io::Read;
    let err = |problem: String| CentralError::CaFile {
        path: crate::paths::display(ca_file).into_owned(),
        problem,
    };
    let m = std::fs::metadata(ca_file).map_err(|e| err(e.to_string()))?;
    if !m.is_file() || m.len() > MAX_CA_FILE_BYTES {
        return Err(err("not a PEM certificate file".into()));
    }
    let mut pem = Vec::new();
    std::fs::File::open(ca_file)
        .and_then(|f| f.take(MAX_CA_FILE_BYTES).read_to_end(&mut pem))
        .map_err(|e| err(e.to_string()))?;
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(&pem) {
        let cert = cert.map_err(|e| err(format!("not PEM: {e}")))?;
        roots
            .add(cert)
            .map_err(|e| err(format!("not a usable CA certificate: {e}")))?;
    }
    if roots.is_empty() {
        return Err(err("holds no certificate".into()));
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| CentralError::Tls(e.to_string()))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(tokio_postgres_rustls::MakeRustlsConnect::new(config))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_with_passwords_or_remote_without_tls_are_refused() {
        assert!(Target::check_url("postgres://m@127.0.0.1:5432/c", false).is_ok());
        assert!(Target::check_url("postgres://m@localhost/c", false).is_ok());
        let e = Target::check_url("postgres://m:s3cret@127.0.0.1/c", false).unwrap_err();
        assert!(!e.to_string().contains("s3cret"), "{e}");
        assert!(Target::check_url("postgres://m@db.city.example/c", false).is_err());
        assert!(Target::check_url("postgres://m@db.city.example/c", true).is_ok());
        let e = Target::check_url("postgres://m:s3cret@[bad/c", true).unwrap_err();
        assert!(!e.to_string().contains("s3cret"), "{e}");
        assert!(
            Target::check_url("postgres://127.0.0.1/c", false).is_err(),
            "no user"
        );
    }

    #[test]
    fn the_shown_url_has_no_password() {
        std::env::set_var("MAMORI_CENTRAL_PASSWORD", "pw-in-env");
        let t = Target::new("postgres://mamori@127.0.0.1:5433/central", None, None).unwrap();
        assert_eq!(t.shown(), "postgres://mamori@127.0.0.1:5433/central");
        assert!(!format!("{t:?}").contains("pw-in-env"));
        std::env::remove_var("MAMORI_CENTRAL_PASSWORD");
    }

    #[cfg(unix)]
    #[test]
    fn password_files_must_be_private_regular_files() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("pw");
        std::fs::write(&p, "hunter2\n").unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o644)).unwrap();
        let e = read_password_file(&p).unwrap_err().to_string();
        assert!(e.contains("chmod 600") && !e.contains("hunter2"), "{e}");
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600)).unwrap();
        assert_eq!(read_password_file(&p).unwrap(), "hunter2");
        assert!(read_password_file(Path::new("/dev/zero")).is_err());
        assert!(read_password_file(dir.path()).is_err());
        std::fs::write(&p, vec![b'x'; 5000]).unwrap();
        assert!(read_password_file(&p).is_err());
    }
}
