//! The per-install secret key for finding fingerprints.
//!
//! Kept in a file readable by its owner only (mode 0600 in a 0700
//! directory), created on first use with 32 random bytes. A fingerprint is
//! HMAC-SHA256 under this key, so it cannot be reversed by trying all 10¹²
//! My Numbers without the key.

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// Where the key lives unless `--key-file` or `MAMORI_KEY_FILE` says otherwise:
/// `$MAMORI_STATE_DIR/fingerprint.key`, else the platform's state directory
/// (`$XDG_STATE_HOME/mamori`, `~/.local/state/mamori`, `%ProgramData%\mamori`).
pub fn default_key_path() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("MAMORI_KEY_FILE") {
        return Some(PathBuf::from(p));
    }
    state_dir().map(|d| d.join("fingerprint.key"))
}

/// The directory for mamori's own state.
pub fn state_dir() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("MAMORI_STATE_DIR") {
        return Some(PathBuf::from(p));
    }
    if cfg!(windows) {
        return std::env::var_os("ProgramData").map(|p| PathBuf::from(p).join("mamori"));
    }
    if let Some(p) = std::env::var_os("XDG_STATE_HOME") {
        return Some(PathBuf::from(p).join("mamori"));
    }
    std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/state/mamori"))
}

/// Reads the key at `path`, creating it (owner-only) if it does not exist.
/// An existing file that is not a key is an error: it is never overwritten.
pub fn load_or_create(path: &Path) -> io::Result<[u8; 32]> {
    match fs::read_to_string(path) {
        Ok(s) => parse(&s).ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!(
                    "{} is not a mamori key file (64 hex digits)",
                    path.display()
                ),
            )
        }),
        Err(e) if e.kind() == io::ErrorKind::NotFound => create(path),
        Err(e) => Err(e),
    }
}

fn parse(s: &str) -> Option<[u8; 32]> {
    let bytes = hex::decode(s.trim()).ok()?;
    bytes.try_into().ok()
}

fn create(path: &Path) -> io::Result<[u8; 32]> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        create_private_dir(dir)?;
    }
    let mut key = [0u8; 32];
    getrandom::getrandom(&mut key).map_err(|e| io::Error::other(e.to_string()))?;
    let mut opts = fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    match opts.open(path) {
        Ok(mut f) => {
            f.write_all(hex::encode(key).as_bytes())?;
            f.write_all(b"\n")?;
            f.sync_all()?;
            Ok(key)
        }
        // Another process created it first: use theirs.
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => load_or_create(path),
        Err(e) => Err(e),
    }
}

fn create_private_dir(dir: &Path) -> io::Result<()> {
    let mut b = fs::DirBuilder::new();
    b.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        b.mode(0o700);
    }
    b.create(dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_is_created_once_and_private() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("sub/fingerprint.key");
        let k1 = load_or_create(&p).unwrap();
        let k2 = load_or_create(&p).unwrap();
        assert_eq!(k1, k2);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(
                fs::metadata(&p).unwrap().permissions().mode() & 0o777,
                0o600
            );
            assert_eq!(
                fs::metadata(p.parent().unwrap())
                    .unwrap()
                    .permissions()
                    .mode()
                    & 0o777,
                0o700
            );
        }
    }

    #[test]
    fn a_foreign_file_is_never_overwritten() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("key");
        fs::write(&p, "not a key").unwrap();
        assert!(load_or_create(&p).is_err());
        assert_eq!(fs::read_to_string(&p).unwrap(), "not a key");
    }
}
