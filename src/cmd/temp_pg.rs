//! A throwaway PostgreSQL cluster for `mamori bench --central` (the
//! integration tests have their own in `tests/pg.rs`): `initdb` and `pg_ctl`
//! from Debian's server binaries (/usr/lib/postgresql/N/bin, newest first)
//! into a directory of the bench's, on a free port on 127.0.0.1, stopped
//! when the value is dropped. PostgreSQL refuses to run as root: as root,
//! the cluster runs as `nobody` through `runuser`. Unlike the tests' cluster,
//! fsync stays on: the figures are those of a centre that keeps its data.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use anyhow::{bail, Context, Result};

/// The cluster's superuser (trust on 127.0.0.1 only).
const ADMIN: &str = "mamori_bench";

pub struct TempCluster {
    dir: PathBuf,
    bin: PathBuf,
    port: u16,
    as_nobody: bool,
    running: bool,
}

/// Debian's server binaries, newest version first.
fn bin_dir() -> Option<PathBuf> {
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
        .filter(|b| b.join("initdb").exists() && b.join("pg_ctl").exists())
        .collect();
    // Sorted by version number, not as text (15 after 9).
    versions.sort_by_key(|b| {
        b.parent()
            .and_then(|v| v.file_name())
            .and_then(|v| v.to_str())
            .and_then(|v| v.split('.').next())
            .and_then(|v| v.parse::<u32>().ok())
            .unwrap_or(0)
    });
    versions.pop()
}

impl TempCluster {
    /// A new cluster in `dir` (created), started.
    pub fn start(dir: &Path) -> Result<TempCluster> {
        let Some(bin) = bin_dir() else {
            bail!(
                "no PostgreSQL server binaries under /usr/lib/postgresql (apt-get install postgresql), \
                 or give --central URL of an empty database"
            );
        };
        std::fs::create_dir_all(dir)?;
        // SAFETY: geteuid has no preconditions.
        let as_nobody = unsafe { libc::geteuid() } == 0;
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let mut c = TempCluster {
            dir: dir.to_path_buf(),
            bin,
            port,
            as_nobody,
            running: false,
        };
        if as_nobody {
            chown_nobody(dir)?;
            // nobody must be able to pass through the bench's directory
            // (created under the caller's umask, which may be 077).
            if let Some(parent) = dir.parent() {
                use std::os::unix::fs::PermissionsExt;
                let mode = std::fs::metadata(parent)?.permissions().mode();
                std::fs::set_permissions(parent, std::fs::Permissions::from_mode(mode | 0o011))?;
            }
        }
        let data = c.data();
        let out = c.run(
            "initdb",
            &[
                "-D",
                &data.to_string_lossy(),
                "-U",
                ADMIN,
                "--auth=trust",
                "-E",
                "UTF8",
                "--locale=C",
            ],
        )?;
        if !out.status.success() {
            bail!("initdb: {}", String::from_utf8_lossy(&out.stderr));
        }
        let conf = format!(
            "\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '{}'\nmax_connections = 20\n",
            dir.display()
        );
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(data.join("postgresql.conf"))?;
        std::io::Write::write_all(&mut f, conf.as_bytes())?;
        let log = dir.join("server.log");
        let out = c.run(
            "pg_ctl",
            &[
                "-D",
                &data.to_string_lossy(),
                "-l",
                &log.to_string_lossy(),
                "-w",
                "-t",
                "60",
                "-o",
                &format!("-p {port}"),
                "start",
            ],
        )?;
        if !out.status.success() {
            bail!(
                "pg_ctl start: {}\n{}",
                String::from_utf8_lossy(&out.stderr),
                std::fs::read_to_string(&log).unwrap_or_default()
            );
        }
        c.running = true;
        Ok(c)
    }

    fn data(&self) -> PathBuf {
        self.dir.join("data")
    }

    /// The server's version, as its binaries' directory names it.
    pub fn version(&self) -> String {
        self.bin
            .parent()
            .and_then(|v| v.file_name())
            .map(|v| v.to_string_lossy().into_owned())
            .unwrap_or_default()
    }

    /// Runs a server binary (as nobody when we are root).
    fn run(&self, tool: &str, args: &[&str]) -> Result<Output> {
        let exe = self.bin.join(tool);
        let mut cmd = if self.as_nobody {
            let mut c = Command::new("runuser");
            c.args(["-u", "nobody", "--"]).arg(&exe);
            c
        } else {
            Command::new(&exe)
        };
        cmd.args(args)
            .current_dir(&self.dir)
            .output()
            .with_context(|| format!("running {}", exe.display()))
    }

    /// Creates a database; its URL (the superuser, trusted on 127.0.0.1).
    pub fn create_db(&self, name: &str) -> Result<String> {
        let admin = format!("postgres://{ADMIN}@127.0.0.1:{}/postgres", self.port);
        let mut client = mamori::central::connect::Target::new(&admin, None, None)?.connect()?;
        client.batch_execute(&format!("CREATE DATABASE {name}"))?;
        Ok(format!("postgres://{ADMIN}@127.0.0.1:{}/{name}", self.port))
    }
}

impl Drop for TempCluster {
    fn drop(&mut self) {
        if self.running {
            let data = self.data();
            let _ = self.run(
                "pg_ctl",
                &["-D", &data.to_string_lossy(), "-m", "fast", "-w", "stop"],
            );
        }
    }
}

fn chown_nobody(p: &Path) -> Result<()> {
    use std::os::unix::ffi::OsStrExt;
    let c = std::ffi::CString::new(p.as_os_str().as_bytes())?;
    // SAFETY: getpwnam with a static C string; the entry is read at once.
    let (uid, gid) = unsafe {
        let pw = libc::getpwnam(c"nobody".as_ptr());
        if pw.is_null() {
            bail!("no user nobody to run PostgreSQL as");
        }
        ((*pw).pw_uid, (*pw).pw_gid)
    };
    // SAFETY: chown with a valid C string.
    if unsafe { libc::chown(c.as_ptr(), uid, gid) } != 0 {
        bail!("chown {}: {}", p.display(), std::io::Error::last_os_error());
    }
    Ok(())
}
