//! The subcommands, one room each: `scan`; the service (`run`, `status`,
//! `service`); looking at detectors and files (`validate`, `detectors`,
//! `extract`); `bench`. They parse nothing (clap did) and build nothing by
//! hand (the library's `Scanner` does): they wire and print.

pub mod bench;
mod bench_central;
pub mod bench_report;
pub mod central;
pub mod inspect;
pub mod records;
pub mod report;
pub mod review;
pub mod scan;
pub mod serve;
pub mod service;
#[cfg(unix)]
mod temp_pg;
pub mod user;

/// Loads the fingerprint key; without a usable key file, an ephemeral key
/// (fingerprints then differ between runs, which is said on stderr).
pub fn fingerprint_key(key_file: Option<&std::path::Path>) -> anyhow::Result<[u8; 32]> {
    let path = key_file
        .map(|p| p.to_path_buf())
        .or_else(mamori::keys::default_key_path);
    match path.as_deref().map(mamori::keys::load_or_create) {
        Some(Ok(key)) => Ok(key),
        // An explicit key that cannot be used is an error, not a shrug.
        Some(Err(e)) if key_file.is_some() => Err(anyhow::anyhow!("key file: {e}")),
        Some(Err(e)) => {
            tracing::warn!(
                "fingerprint key: {e}; using a one-off key (fingerprints will not match other runs)"
            );
            Ok(random_key())
        }
        None => {
            tracing::warn!("no state directory for the fingerprint key; using a one-off key");
            Ok(random_key())
        }
    }
}

pub fn random_key() -> [u8; 32] {
    let mut k = [0u8; 32];
    getrandom::getrandom(&mut k).expect("the OS provides random bytes");
    k
}
