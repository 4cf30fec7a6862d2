//! 7z archives, read with sevenz-rust2 (LZMA, LZMA2, PPMd, BZip2, Deflate,
//! BCJ filters): every member goes back through the dispatcher under the
//! file's budget, as zip members do (`zip.rs`).
//!
//! 7z compresses members together in blocks ("solid" archives): a block
//! is decoded from its start, so a block whose declared size is over 1,000
//! times its packed size is refused as a bomb before it is decoded, the
//! decoder's dictionary is limited to 256 MiB, and members are read
//! through the byte budget (what is actually decoded is charged). Members
//! of a block encrypted with AES (7z's password protection; their names
//! stay readable) are reported `encrypted` one by one; an archive whose
//! header is encrypted too is `encrypted` as a whole. Names are UTF-16 in
//! the format, so no guessing is needed. A block that fails to decode
//! (damage, an unsupported method) reports its members not yet read.

use std::io::Cursor;

use sevenz_rust2::{Archive, BlockDecoder, EncoderMethod, Error as SzError, Password};

use super::zip::{looks_like_bomb, member_done, read_bounded};
use super::{ExtractContext, ExtractError, Extractor, Format, UnreadableReason};

/// Reads 7z archives.
pub struct SevenZ;

/// Largest decoder dictionary or model, in KiB (7-Zip's "ultra" uses 64 MiB).
const MEMORY_LIMIT_KB: usize = 256 * 1024;

fn error_of(e: &SzError) -> ExtractError {
    match e {
        SzError::PasswordRequired | SzError::MaybeBadPassword(_) => {
            ExtractError::new(UnreadableReason::Encrypted, "password-protected 7z archive")
        }
        SzError::MaxMemLimited { .. } => ExtractError::new(
            UnreadableReason::TooLarge,
            "7z decoder needs more memory than allowed",
        ),
        // An AES coder met before the block list (an encrypted header).
        SzError::UnsupportedCompressionMethod(m) if m.contains("AES") => ExtractError::new(
            UnreadableReason::Encrypted,
            "password-protected 7z archive (names encrypted too)",
        ),
        SzError::UnsupportedCompressionMethod(m) => ExtractError::new(
            UnreadableReason::Unsupported,
            format!("7z method {m} is not supported"),
        ),
        other => ExtractError::new(UnreadableReason::Corrupt, format!("7z: {other}")),
    }
}

impl Extractor for SevenZ {
    fn formats(&self) -> &'static [Format] {
        &[Format::SevenZ]
    }

    fn extract(
        &self,
        _name: &str,
        _format: Format,
        data: &[u8],
        cx: &mut ExtractContext<'_>,
    ) -> Result<(), ExtractError> {
        let mut source = Cursor::new(data);
        let password = Password::empty();
        let archive = Archive::read_with_memory_limit(&mut source, &password, MEMORY_LIMIT_KB)
            .map_err(|e| error_of(&e))?;
        for (b, block) in archive.blocks.iter().enumerate() {
            cx.budget.check_time()?;
            let decoder = BlockDecoder::new_with_memory_limit(
                1,
                MEMORY_LIMIT_KB,
                b,
                &archive,
                &password,
                &mut source,
            );
            // (name, has data) of the block's members, in order.
            let members: Vec<(String, bool)> = decoder
                .entries()
                .iter()
                .map(|e| (e.name().to_string(), !e.is_directory() && e.has_stream()))
                .collect();
            let refuse = |cx: &mut ExtractContext<'_>,
                          from: usize,
                          error: &ExtractError|
             -> Result<(), ExtractError> {
                for (name, has_data) in members.iter().skip(from) {
                    if *has_data {
                        cx.budget.charge_member()?;
                        cx.unreadable_member(name, Format::sniff(name, &[]), error.clone());
                    }
                }
                Ok(())
            };
            let encrypted = block
                .coders
                .iter()
                .any(|c| c.encoder_method_id() == EncoderMethod::ID_AES256_SHA256);
            if encrypted {
                refuse(
                    cx,
                    0,
                    &ExtractError::new(UnreadableReason::Encrypted, "password-protected 7z member"),
                )?;
                continue;
            }
            let packed = archive
                .stream_map
                .block_first_pack_stream_index()
                .get(b)
                .and_then(|&i| archive.pack_sizes().get(i))
                .copied()
                .unwrap_or(0);
            let unpacked = block.get_unpack_size();
            if looks_like_bomb(unpacked, packed) {
                refuse(
                    cx,
                    0,
                    &ExtractError::new(
                        UnreadableReason::TooLarge,
                        format!("7z block inflates {}x (bomb?)", unpacked / packed.max(1)),
                    ),
                )?;
                continue;
            }
            let mut next = 0usize;
            let mut done = 0usize;
            let mut stop: Option<ExtractError> = None;
            let result = decoder.for_each_entries(&mut |entry, reader| {
                let index = next;
                next += 1;
                let Some((name, true)) = members.get(index) else {
                    return Ok(true);
                };
                if let Err(e) = cx.budget.charge_member() {
                    stop = Some(e);
                    return Ok(false);
                }
                let read = read_bounded(reader, entry.size(), cx);
                done = index + 1;
                match member_done(cx, name, read) {
                    Ok(()) => Ok(true),
                    Err(e) => {
                        stop = Some(e);
                        Ok(false)
                    }
                }
            });
            if let Some(e) = stop {
                return Err(e);
            }
            if let Err(e) = result {
                // The members not handed on when decoding failed.
                refuse(cx, done, &error_of(&e))?;
            }
        }
        Ok(())
    }
}
