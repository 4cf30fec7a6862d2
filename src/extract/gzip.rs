//! gzip files (`.gz`, `.tgz`, `.tar.gz`), decompressed with flate2 (all
//! members of a multi-member file). A tar inside is read as tar (members by
//! their tar paths, `tar.rs`); anything else goes back through the
//! dispatcher as one member named by the gzip header's file name, or the
//! file's name without `.gz`.
//!
//! gzip declares no trustworthy size (ISIZE is the size modulo 4 GiB), so
//! what is decompressed is capped: at most 1,000 times the compressed size
//! (at least 1 MiB; past it the file is refused as a bomb, `too_large`)
//! and at most what is left of the file's byte budget, which is charged.

use std::io::Read;

use flate2::read::MultiGzDecoder;

use super::zip::{read_bounded, MAX_RATIO};
use super::{ExtractContext, ExtractError, Extractor, Format, UnreadableReason};

/// Reads gzip files.
pub struct Gzip;

/// The name of what a gzip file holds: `a.tar` for `a.tgz`, `b.csv` for `b.csv.gz`.
fn inner_name(name: &str) -> String {
    let lower = name.to_ascii_lowercase();
    if lower.ends_with(".tgz") {
        return format!("{}.tar", &name[..name.len() - 4]);
    }
    for ext in [".gz", ".gzip", ".z"] {
        if lower.ends_with(ext) && name.len() > ext.len() {
            return name[..name.len() - ext.len()].to_string();
        }
    }
    format!("{name}.out")
}

impl Extractor for Gzip {
    fn formats(&self) -> &'static [Format] {
        &[Format::Gzip]
    }

    fn extract(
        &self,
        name: &str,
        _format: Format,
        data: &[u8],
        cx: &mut ExtractContext<'_>,
    ) -> Result<(), ExtractError> {
        let mut decoder = MultiGzDecoder::new(data);
        let cap = (data.len() as u64)
            .saturating_mul(MAX_RATIO)
            .max(1024 * 1024);
        let content = read_bounded(&mut (&mut decoder).take(cap + 1), 0, cx).map_err(|e| {
            if e.reason == UnreadableReason::Corrupt {
                ExtractError::new(UnreadableReason::Corrupt, format!("gzip {}", e.detail))
            } else {
                e
            }
        })?;
        // The header is known once reading has started.
        let stored_name = decoder
            .header()
            .and_then(|h| h.filename())
            .map(|f| super::zip::decode_names(&[f.to_vec()]).remove(0))
            .filter(|f| !f.is_empty() && !f.contains('/'));
        if content.len() as u64 > cap {
            return Err(ExtractError::new(
                UnreadableReason::TooLarge,
                format!("inflates over {MAX_RATIO}x (gzip bomb?)"),
            ));
        }
        let file_name = name.rsplit('/').next().unwrap_or(name);
        let inner = stored_name.unwrap_or_else(|| inner_name(file_name));
        if Format::sniff(&inner, &content) == Format::Tar {
            return super::tar::read_tar(&content, cx);
        }
        cx.budget.charge_member()?;
        cx.member(&inner, &content)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inner_names() {
        assert_eq!(inner_name("meibo.csv.gz"), "meibo.csv");
        assert_eq!(inner_name("backup.TGZ"), "backup.tar");
        assert_eq!(inner_name("x"), "x.out");
    }
}
