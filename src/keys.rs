//! The per-install secret key, and the keys derived from it.
//!
//! Kept in a file readable by its owner only (mode 0600 in a 0700
//! directory), created on first use with 32 random bytes. A fingerprint is
//! HMAC-SHA256 under this key, so it cannot be reversed by trying all 10¹²
//! My Numbers without the key. The same secret keys the hash of a file's
//! content (a plain SHA-256 of a file holding one My Number could be
//! brute-forced from the database) and of a path, and encrypts the real
//! path of a file whose name holds an identifier (see [`KeySet`]).
//!
//! A key file is read only when it is a regular file of the owner's alone
//! (mode 0600 on Unix) and at most a few bytes long: a key path pointing
//! at /dev/zero or a FIFO must not hang or exhaust the service.

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

/// A key file holds 64 hex digits and a newline; anything much longer is not one.
const MAX_KEY_FILE_BYTES: u64 = 256;

/// Reads the key at `path`, creating it (owner-only) if it does not exist.
/// An existing file that is not a key is an error: it is never overwritten.
pub fn load_or_create(path: &Path) -> io::Result<[u8; 32]> {
    match fs::metadata(path) {
        Ok(m) => {
            check_key_file(path, &m)?;
            read_key(path)
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => create(path),
        Err(e) => Err(e),
    }
}

/// Checks an existing key file without creating one (`mamori validate`):
/// Ok when it is missing (it will be created) or usable.
pub fn check_existing(path: &Path) -> io::Result<()> {
    match fs::metadata(path) {
        Ok(m) => {
            check_key_file(path, &m)?;
            read_key(path).map(|_| ())
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e),
    }
}

/// Refuses a key "file" that is a FIFO, a device or a directory, and one
/// that others may read or write.
fn check_key_file(path: &Path, m: &fs::Metadata) -> io::Result<()> {
    let invalid = |msg: String| io::Error::new(io::ErrorKind::InvalidInput, msg);
    if !m.is_file() {
        return Err(invalid(format!(
            "{} is not a regular file (a key file must be one)",
            path.display()
        )));
    }
    if m.len() > MAX_KEY_FILE_BYTES {
        return Err(invalid(format!(
            "{} is {} bytes long: not a mamori key file (64 hex digits)",
            path.display(),
            m.len()
        )));
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = m.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            return Err(invalid(format!(
                "{} has mode {mode:03o}: the key must be readable by its owner only (chmod 600 {})",
                path.display(),
                path.display()
            )));
        }
    }
    Ok(())
}

fn read_key(path: &Path) -> io::Result<[u8; 32]> {
    use std::io::Read;
    let mut text = String::new();
    fs::File::open(path)?
        .take(MAX_KEY_FILE_BYTES + 1)
        .read_to_string(&mut text)?;
    parse(&text).ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!(
                "{} is not a mamori key file (64 hex digits)",
                path.display()
            ),
        )
    })
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

/// The keys derived from the install's secret. Each use has its own key
/// (HMAC of the secret with a label), so that no two uses can be played
/// against each other; fingerprints use the secret itself, as they always
/// have, so that stores written before keep matching.
#[derive(Clone)]
pub struct KeySet {
    fingerprinter: crate::finding::Fingerprinter,
    content: Hmac<Sha256>,
    path: Hmac<Sha256>,
    cipher: chacha20poly1305::ChaCha20Poly1305,
}

type Hmac<D> = hmac::Hmac<D>;
use hmac::Mac;
use sha2::Sha256;

impl std::fmt::Debug for KeySet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("KeySet { <secret> }")
    }
}

fn derive(secret: &[u8; 32], label: &str) -> [u8; 32] {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret).expect("any key length");
    mac.update(b"mamori v1 ");
    mac.update(label.as_bytes());
    mac.finalize().into_bytes().into()
}

impl KeySet {
    pub fn new(secret: [u8; 32]) -> Self {
        use chacha20poly1305::KeyInit;
        let hmac = |label| {
            <Hmac<Sha256> as Mac>::new_from_slice(&derive(&secret, label)).expect("any key length")
        };
        KeySet {
            fingerprinter: crate::finding::Fingerprinter::new(secret),
            content: hmac("content hash"),
            path: hmac("path key"),
            cipher: chacha20poly1305::ChaCha20Poly1305::new(
                &derive(&secret, "path encryption").into(),
            ),
        }
    }

    /// Fingerprints of finding values.
    pub fn fingerprinter(&self) -> &crate::finding::Fingerprinter {
        &self.fingerprinter
    }

    /// An incremental keyed hash of a file's content.
    pub fn content_hasher(&self) -> ContentHasher {
        ContentHasher(self.content.clone())
    }

    /// The keyed hash of a path's bytes: how the store finds a file's row
    /// without keeping a name that holds an identifier readable.
    pub fn path_key(&self, path: &Path) -> [u8; 32] {
        let mut mac = self.path.clone();
        mac.update(&crate::paths::to_bytes(path));
        mac.finalize().into_bytes().into()
    }

    /// The path's bytes encrypted (ChaCha20-Poly1305, random nonce first).
    pub fn seal_path(&self, path: &Path) -> Vec<u8> {
        use chacha20poly1305::aead::Aead;
        let mut nonce = [0u8; 12];
        getrandom::getrandom(&mut nonce).expect("the OS provides random bytes");
        let sealed = self
            .cipher
            .encrypt(&nonce.into(), crate::paths::to_bytes(path).as_ref())
            .expect("encryption of a short message does not fail");
        let mut out = nonce.to_vec();
        out.extend(sealed);
        out
    }

    /// The path that [`KeySet::seal_path`] sealed; None if it was sealed
    /// under another key or damaged.
    pub fn open_path(&self, sealed: &[u8]) -> Option<std::path::PathBuf> {
        use chacha20poly1305::aead::Aead;
        if sealed.len() < 12 {
            return None;
        }
        let (nonce, body) = sealed.split_at(12);
        let nonce: [u8; 12] = nonce.try_into().ok()?;
        let bytes = self.cipher.decrypt(&nonce.into(), body).ok()?;
        Some(crate::paths::from_bytes(bytes))
    }
}

/// An incremental keyed hash of a file's bytes.
pub struct ContentHasher(Hmac<Sha256>);

impl ContentHasher {
    pub fn update(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }
    pub fn finish(self) -> [u8; 32] {
        self.0.finalize().into_bytes().into()
    }
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
    fn derived_keys_differ_and_paths_round_trip() {
        let k = KeySet::new([7; 32]);
        let p = Path::new("/srv/職員課/500080636086.csv");
        assert_eq!(k.path_key(p), KeySet::new([7; 32]).path_key(p));
        assert_ne!(k.path_key(p), KeySet::new([8; 32]).path_key(p));
        let sealed = k.seal_path(p);
        assert!(!sealed.windows(12).any(|w| w == b"500080636086"));
        assert_eq!(k.open_path(&sealed).as_deref(), Some(p));
        assert_eq!(KeySet::new([8; 32]).open_path(&sealed), None);
        // The content hash is keyed: not the plain SHA-256 of the bytes.
        let mut h = k.content_hasher();
        h.update(b"123456789018");
        let keyed = h.finish();
        let plain: [u8; 32] =
            sha2::Digest::finalize(<Sha256 as sha2::Digest>::new_with_prefix(b"123456789018"))
                .into();
        assert_ne!(keyed, plain);
    }

    #[cfg(unix)]
    #[test]
    fn key_files_that_are_not_private_regular_files_are_refused() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("key");
        let k = load_or_create(&p).unwrap();
        fs::set_permissions(&p, fs::Permissions::from_mode(0o644)).unwrap();
        let e = load_or_create(&p).unwrap_err();
        assert!(e.to_string().contains("chmod 600"), "{e}");
        fs::set_permissions(&p, fs::Permissions::from_mode(0o600)).unwrap();
        assert_eq!(load_or_create(&p).unwrap(), k);
        // A device or a FIFO is refused at once (neither read nor waited on).
        assert!(load_or_create(Path::new("/dev/zero")).is_err());
        let fifo = dir.path().join("fifo");
        let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
        // SAFETY: mkfifo with a valid C string.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        assert!(load_or_create(&fifo).is_err());
        assert!(load_or_create(dir.path()).is_err(), "a directory");
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
