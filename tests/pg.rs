//! A throwaway PostgreSQL cluster per test: `initdb` and `pg_ctl` (Debian's
//! server binaries under /usr/lib/postgresql/N/bin) into a temporary
//! directory, on a free port on 127.0.0.1, stopped and removed when the
//! value is dropped. PostgreSQL refuses to run as root: as root (CI), the
//! cluster runs as `nobody` through `runuser`. `.ci/run` installs
//! `postgresql` when it is missing, so CI never skips; elsewhere a test
//! without the binaries says so and returns.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The cluster's superuser (trust on 127.0.0.1).
pub const ADMIN: &str = "mamori_admin";
/// A role that must give a password (scram-sha-256).
pub const PASSWORD_ROLE: &str = "mamori_pw";

pub struct Pg {
    dir: tempfile::TempDir,
    bin: PathBuf,
    pub port: u16,
    running: bool,
    as_nobody: bool,
}

/// Debian's server binaries, newest version first.
fn bin_dir() -> Option<PathBuf> {
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
        .filter(|b| b.join("initdb").exists() && b.join("pg_ctl").exists())
        .collect();
    versions.sort();
    versions.pop()
}

fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

/// TLS material for the server: certificate chain and key (PEM).
pub struct ServerTls {
    pub cert_pem: String,
    pub key_pem: String,
}

impl Pg {
    /// A new cluster, started; None (with a message) without the binaries.
    pub fn start() -> Option<Pg> {
        Pg::start_with(None)
    }

    pub fn start_with(tls: Option<&ServerTls>) -> Option<Pg> {
        let Some(bin) = bin_dir() else {
            assert!(
                std::env::var_os("CI").is_none(),
                "CI installs postgresql (.ci/run)"
            );
            eprintln!(
                "SKIPPED: no PostgreSQL server binaries under /usr/lib/postgresql (apt-get install postgresql)"
            );
            return None;
        };
        // SAFETY: geteuid has no preconditions.
        let as_nobody = unsafe { libc::geteuid() } == 0;
        let dir = tempfile::Builder::new()
            .prefix("mamori-pg")
            .tempdir()
            .unwrap();
        let mut pg = Pg {
            dir,
            bin,
            port: free_port(),
            running: false,
            as_nobody,
        };
        if as_nobody {
            chown_nobody(pg.dir.path());
        }
        let data = pg.data();
        let out = pg.run(
            "initdb",
            &[
                "-D",
                data.to_str().unwrap(),
                "-U",
                ADMIN,
                "--auth=trust",
                "--no-sync",
                "-E",
                "UTF8",
                "--locale=C",
            ],
        );
        assert!(
            out.status.success(),
            "initdb: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        // The password role needs a password; everything else is trusted.
        let hba = data.join("pg_hba.conf");
        let old = std::fs::read_to_string(&hba).unwrap();
        std::fs::write(
            &hba,
            format!(
                "host all {PASSWORD_ROLE} 127.0.0.1/32 scram-sha-256\nhostssl all all 127.0.0.1/32 trust\n{old}"
            ),
        )
        .unwrap();
        let mut conf = format!(
            "\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '{}'\nfsync = off\nmax_connections = 50\n",
            pg.dir.path().display()
        );
        if let Some(tls) = tls {
            std::fs::write(data.join("server.crt"), &tls.cert_pem).unwrap();
            std::fs::write(data.join("server.key"), &tls.key_pem).unwrap();
            for f in ["server.crt", "server.key"] {
                set_mode(&data.join(f), 0o600);
                if as_nobody {
                    chown_nobody(&data.join(f));
                }
            }
            conf.push_str("ssl = on\nssl_cert_file = 'server.crt'\nssl_key_file = 'server.key'\n");
        }
        let mut c = std::fs::OpenOptions::new()
            .append(true)
            .open(data.join("postgresql.conf"))
            .unwrap();
        std::io::Write::write_all(&mut c, conf.as_bytes()).unwrap();
        pg.start_again();
        pg.sql(
            "postgres",
            &format!("CREATE ROLE {PASSWORD_ROLE} LOGIN PASSWORD 'Sekret-pw-4711'"),
        );
        Some(pg)
    }

    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// Runs a server binary (as nobody when we are root).
    fn run(&self, tool: &str, args: &[&str]) -> Output {
        let exe = self.bin.join(tool);
        let mut cmd = if self.as_nobody {
            let mut c = Command::new("runuser");
            c.args(["-u", "nobody", "--"]).arg(&exe);
            c
        } else {
            Command::new(&exe)
        };
        cmd.args(args)
            .current_dir(self.dir.path())
            .output()
            .unwrap()
    }

    /// Starts the server (again, after [`Pg::stop`]), on the same port.
    pub fn start_again(&mut self) {
        let data = self.data();
        let log = self.dir.path().join("server.log");
        let out = self.run(
            "pg_ctl",
            &[
                "-D",
                data.to_str().unwrap(),
                "-l",
                log.to_str().unwrap(),
                "-w",
                "-t",
                "60",
                "-o",
                &format!("-p {}", self.port),
                "start",
            ],
        );
        assert!(
            out.status.success(),
            "pg_ctl start: {}\n{}",
            String::from_utf8_lossy(&out.stderr),
            std::fs::read_to_string(&log).unwrap_or_default()
        );
        self.running = true;
    }

    /// Stops the server at once (`immediate`: as a crash would).
    pub fn stop(&mut self) {
        let data = self.data();
        let out = self.run(
            "pg_ctl",
            &[
                "-D",
                data.to_str().unwrap(),
                "-m",
                "immediate",
                "-w",
                "stop",
            ],
        );
        assert!(
            out.status.success(),
            "pg_ctl stop: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        self.running = false;
    }

    /// `postgres://USER@127.0.0.1:PORT/DB`.
    pub fn url(&self, user: &str, db: &str) -> String {
        format!("postgres://{user}@127.0.0.1:{}/{db}", self.port)
    }

    /// Creates a database owned by the admin.
    pub fn create_db(&self, name: &str) -> String {
        self.sql("postgres", &format!("CREATE DATABASE {name}"));
        self.url(ADMIN, name)
    }

    /// Runs SQL through psql as the admin; its output (unaligned, tuples only).
    pub fn sql(&self, db: &str, sql: &str) -> String {
        let psql = self.bin.join("psql");
        let exe = if psql.exists() {
            psql
        } else {
            PathBuf::from("psql")
        };
        let out = Command::new(exe)
            .args([
                "-h",
                "127.0.0.1",
                "-p",
                &self.port.to_string(),
                "-U",
                ADMIN,
                "-d",
                db,
            ])
            .args(["-v", "ON_ERROR_STOP=1", "-X", "-q", "-A", "-t", "-c", sql])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "psql {sql}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    /// One integer from SQL.
    pub fn count(&self, db: &str, sql: &str) -> i64 {
        self.sql(db, sql).trim().parse().unwrap()
    }

    /// `pg_dump` of a database, as text.
    pub fn dump(&self, db: &str) -> String {
        let dump = self.bin.join("pg_dump");
        let exe = if dump.exists() {
            dump
        } else {
            PathBuf::from("pg_dump")
        };
        let out = Command::new(exe)
            .args([
                "-h",
                "127.0.0.1",
                "-p",
                &self.port.to_string(),
                "-U",
                ADMIN,
                db,
            ])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "pg_dump: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    /// The server's log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("server.log")).unwrap_or_default()
    }
}

impl Drop for Pg {
    fn drop(&mut self) {
        if self.running {
            let data = self.data();
            let _ = self.run(
                "pg_ctl",
                &[
                    "-D",
                    data.to_str().unwrap(),
                    "-m",
                    "immediate",
                    "-w",
                    "stop",
                ],
            );
        }
    }
}

fn chown_nobody(p: &Path) {
    let c = std::ffi::CString::new(p.to_str().unwrap()).unwrap();
    // SAFETY: chown with a valid C string; 65534 is nobody on Debian, but ask.
    let uid = unsafe {
        let pw = libc::getpwnam(c"nobody".as_ptr());
        assert!(!pw.is_null(), "no user nobody");
        ((*pw).pw_uid, (*pw).pw_gid)
    };
    // SAFETY: as above.
    let rc = unsafe { libc::chown(c.as_ptr(), uid.0, uid.1) };
    assert_eq!(rc, 0, "chown {}", p.display());
}

fn set_mode(p: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).unwrap();
}
