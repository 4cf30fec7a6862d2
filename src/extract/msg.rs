//! Outlook `.msg` (MS-OXMSG: a CFB/OLE compound file), read with the cfb
//! crate and an own property reader: msg_parser was measured to return
//! empty strings for ANSI (PT_STRING8) Japanese properties and to fail on
//! CFB version 4 files.
//!
//! Read: subject, plain-text body (or the HTML body as text), sender and
//! recipient addresses (for the outbound check, by domain; parties outside
//! the office's domains are reported as `header From`/`To`/`Cc` units, see
//! `mail::report_parties`), attachments
//! (back through the dispatcher: `attachments/NAME`) and embedded messages
//! (`attachments/NAME` read as a message of its own). 8-bit strings are
//! decoded with the message's code page (PR_MESSAGE_CODEPAGE or
//! PR_INTERNET_CPID; CP932 when neither is set). A body kept only as
//! compressed RTF (PR_RTF_COMPRESSED, LZFu or uncompressed "MELA") is
//! decompressed and read with the RTF reader; one that fails its checks
//! is reported `corrupt` while the rest of the message is still read. The
//! submit (else delivery, else creation) time is the message's date.

use std::io::{Cursor, Read};
use std::path::{Path, PathBuf};

use encoding_rs::Encoding;

use super::mail::{signature_of, strip_signature, MailMeta};
use super::{ExtractContext, ExtractError, Extractor, Format, MemberPath, UnreadableReason};
use crate::text::{Location, TextUnit};

/// Reads Outlook messages.
pub struct Msg;

type Cfb<'a> = cfb::CompoundFile<Cursor<&'a [u8]>>;

fn corrupt(e: impl std::fmt::Display) -> ExtractError {
    ExtractError::new(UnreadableReason::Corrupt, format!("msg: {e}"))
}

/// Reads a stream, at most `limit` bytes.
fn stream(cf: &mut Cfb<'_>, path: &Path, limit: u64) -> Option<Vec<u8>> {
    let mut s = cf.open_stream(path).ok()?;
    let mut buf = Vec::new();
    (&mut s).take(limit).read_to_end(&mut buf).ok()?;
    Some(buf)
}

/// The code page's encoding (Windows code page numbers).
fn codepage(cp: u32) -> &'static Encoding {
    match cp {
        932 => encoding_rs::SHIFT_JIS,
        50220..=50222 => encoding_rs::ISO_2022_JP,
        51932 | 20932 => encoding_rs::EUC_JP,
        65001 => encoding_rs::UTF_8,
        936 | 54936 => encoding_rs::GBK,
        950 => encoding_rs::BIG5,
        949 | 51949 => encoding_rs::EUC_KR,
        1250 => encoding_rs::WINDOWS_1250,
        1251 => encoding_rs::WINDOWS_1251,
        1252 | 20127 | 28591 => encoding_rs::WINDOWS_1252,
        _ => encoding_rs::SHIFT_JIS,
    }
}

/// A message (or embedded message) storage within the file.
struct Storage<'c, 'a> {
    cf: &'c mut Cfb<'a>,
    dir: PathBuf,
    encoding: &'static Encoding,
    limit: u64,
}

impl Storage<'_, '_> {
    fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    /// A string property, Unicode (001F) or 8-bit (001E).
    fn string(&mut self, dir: &Path, id: u16) -> Option<String> {
        let uni = dir.join(format!("__substg1.0_{id:04X}001F"));
        if let Some(b) = stream(self.cf, &uni, self.limit) {
            let units: Vec<u16> = b
                .chunks(2)
                .map(|c| u16::from_le_bytes([c[0], *c.get(1).unwrap_or(&0)]))
                .collect();
            return Some(
                String::from_utf16_lossy(&units)
                    .trim_end_matches('\0')
                    .to_string(),
            );
        }
        let ansi = dir.join(format!("__substg1.0_{id:04X}001E"));
        stream(self.cf, &ansi, self.limit).map(|b| {
            self.encoding
                .decode_without_bom_handling(&b)
                .0
                .trim_end_matches('\0')
                .to_string()
        })
    }

    fn binary(&mut self, dir: &Path, id: u16) -> Option<Vec<u8>> {
        stream(
            self.cf,
            &dir.join(format!("__substg1.0_{id:04X}0102")),
            self.limit,
        )
    }

    /// Substorages whose names start with `prefix` (recipients, attachments).
    fn children(&self, prefix: &str) -> Vec<PathBuf> {
        let mut v: Vec<PathBuf> = self
            .cf
            .read_storage(&self.dir)
            .map(|it| {
                it.filter(|e| e.is_storage() && e.name().starts_with(prefix))
                    .map(|e| e.path().to_path_buf())
                    .collect()
            })
            .unwrap_or_default();
        v.sort();
        v
    }
}

/// The code page from a `__properties_version1.0` stream (32-byte header
/// at the top level, 24 in an embedded message; 16-byte entries).
fn props_codepage(props: &[u8], header: usize) -> Option<u32> {
    let mut cpid = None;
    for e in props.get(header..)?.chunks_exact(16) {
        let tag = u32::from_le_bytes([e[0], e[1], e[2], e[3]]);
        let value = u32::from_le_bytes([e[8], e[9], e[10], e[11]]);
        match tag {
            0x3FFD_0003 => return Some(value), // PR_MESSAGE_CODEPAGE
            0x3FDE_0003 => cpid = Some(value), // PR_INTERNET_CPID
            _ => {}
        }
    }
    cpid
}

/// PR_RECIPIENT_TYPE from a recipient's property stream (8-byte header,
/// 16-byte entries).
fn recipient_type(props: &[u8]) -> Option<u32> {
    props.get(8..)?.chunks_exact(16).find_map(|e| {
        let tag = u32::from_le_bytes([e[0], e[1], e[2], e[3]]);
        (tag == 0x0C15_0003).then(|| u32::from_le_bytes([e[8], e[9], e[10], e[11]]))
    })
}

fn domain_of(address: &str) -> Option<String> {
    address
        .rsplit_once('@')
        .map(|(_, d)| d.trim().trim_end_matches('>').to_ascii_lowercase())
        .filter(|d| !d.is_empty())
}

impl Extractor for Msg {
    fn formats(&self) -> &'static [Format] {
        &[Format::Msg]
    }

    fn extract(
        &self,
        _name: &str,
        _format: Format,
        data: &[u8],
        cx: &mut ExtractContext<'_>,
    ) -> Result<(), ExtractError> {
        cx.budget.charge_bytes(data.len() as u64)?;
        let mut cf = cfb::CompoundFile::open(Cursor::new(data)).map_err(corrupt)?;
        let member = cx.member.clone();
        read_message(&mut cf, PathBuf::from("/"), 32, &member, cx)
    }
}

fn read_message(
    cf: &mut Cfb<'_>,
    dir: PathBuf,
    header: usize,
    member: &MemberPath,
    cx: &mut ExtractContext<'_>,
) -> Result<(), ExtractError> {
    cx.budget.check_depth(member)?;
    let limit = cx.budget.bytes_left().min(256 * 1024 * 1024);
    let props = stream(cf, &dir.join("__properties_version1.0"), 1 << 20);
    let cp = props
        .as_deref()
        .and_then(|p| props_codepage(p, header))
        .unwrap_or(932);
    let mut st = Storage {
        cf,
        dir: dir.clone(),
        encoding: codepage(cp),
        limit,
    };
    // Addressing, by domain: sender (SMTP address first), recipients.
    let sender = st
        .string(&dir, 0x5D01)
        .or_else(|| st.string(&dir, 0x0C1F))
        .or_else(|| st.string(&dir, 0x0065));
    let mut recipient_domains = Vec::new();
    // Issue 13: (header, display name, address) of each party.
    let mut parties: Vec<(&'static str, Option<String>, String)> = Vec::new();
    if let Some(a) = &sender {
        let name = st.string(&dir, 0x0C1A).or_else(|| st.string(&dir, 0x0042));
        parties.push(("From", name, a.clone()));
    }
    for r in st.children("__recip_version1.0_") {
        if let Some(a) = st.string(&r, 0x39FE).or_else(|| st.string(&r, 0x3003)) {
            recipient_domains.extend(domain_of(&a));
            // PR_RECIPIENT_TYPE: 1 To, 2 Cc, 3 Bcc (not a header of the message).
            let kind = stream(st.cf, &r.join("__properties_version1.0"), 1 << 16)
                .and_then(|p| recipient_type(&p));
            let header = match kind {
                Some(2) => "Cc",
                Some(3) => continue,
                _ => "To",
            };
            parties.push((header, st.string(&r, 0x3001), a));
        }
    }
    recipient_domains.sort();
    recipient_domains.dedup();
    let meta = MailMeta {
        sender_domain: sender.as_deref().and_then(domain_of),
        recipient_domains,
    };
    let internal_sender = meta
        .sender_domain
        .as_deref()
        .is_some_and(|d| cx.units.internal_domain(d));
    cx.units.mail(member, meta);
    super::docmeta::report_msg_created(st.cf, &dir, header, member, cx.units);
    super::mail::report_parties(
        parties
            .iter()
            .map(|(header, name, address)| super::mail::Party {
                header,
                name: name.as_deref(),
                address,
            }),
        member,
        cx.units,
    )?;
    if let Some(subject) = st.string(&dir, 0x0037).filter(|s| !s.trim().is_empty()) {
        cx.units.unit(
            member,
            TextUnit::fixed(subject, Location::Named("subject".into())),
        )?;
    }
    let body = match st.string(&dir, 0x1000).filter(|b| !b.trim().is_empty()) {
        Some(b) => Some(b),
        None => match st.binary(&dir, 0x1013) {
            Some(h) => {
                let html = st.encoding.decode_without_bom_handling(&h).0.into_owned();
                Some(mail_parser::decoders::html::html_to_text(&html))
            }
            // Only compressed RTF (Outlook's rich-text mail).
            None => match st.binary(&dir, 0x1009) {
                Some(packed) => {
                    cx.budget.charge_bytes(packed.len() as u64)?;
                    match super::rtf::decompress(&packed).and_then(|r| super::rtf::body_text(&r)) {
                        Ok(t) => Some(t),
                        Err(e) => {
                            cx.units.unreadable(member, Format::Msg, e);
                            None
                        }
                    }
                }
                None => None,
            },
        },
    };
    if let Some(body) = body {
        let (main, signature) = (strip_signature(&body), signature_of(&body));
        if !main.trim().is_empty() {
            cx.units.unit(
                member,
                TextUnit::fixed(main, Location::Named("body".into())),
            )?;
        }
        // Staff signatures are organisational; anyone else's is theirs.
        super::mail::report_signature(signature.filter(|_| !internal_sender), member, cx.units)?;
    }
    for (i, a) in st.children("__attach_version1.0_").into_iter().enumerate() {
        cx.budget.check_time()?;
        cx.budget.charge_member()?;
        let name = st
            .string(&a, 0x3707)
            .or_else(|| st.string(&a, 0x3704))
            .or_else(|| st.string(&a, 0x3001))
            .filter(|n| !n.trim().is_empty())
            .map(|n| n.replace('/', "_"))
            .unwrap_or_else(|| format!("attachment-{}", i + 1));
        let path = member.child("attachments").child(name.clone());
        let embedded = a.join("__substg1.0_3701000D");
        if st.cf.is_storage(&embedded) {
            // An attached message (e.g. a forwarded mail).
            if let Err(e) = read_message(st.cf, embedded, 24, &path, cx) {
                if e.reason == UnreadableReason::Timeout {
                    return Err(e);
                }
                cx.units.unreadable(&path, Format::Msg, e);
            }
            continue;
        }
        let Some(data) = st.binary(&a, 0x3701) else {
            continue;
        };
        cx.budget.charge_bytes(data.len() as u64)?;
        let file_name = name.rsplit('/').next().unwrap_or(&name).to_string();
        match cx
            .dispatcher
            .extract(&file_name, &data, path.clone(), cx.budget, cx.units)
        {
            Ok(_) => {}
            Err((_, e)) if e.reason == UnreadableReason::Timeout => return Err(e),
            Err((format, e)) => cx.units.unreadable(&path, format, e),
        }
    }
    let _ = st.path("");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_pages() {
        assert_eq!(codepage(932), encoding_rs::SHIFT_JIS);
        assert_eq!(codepage(50220), encoding_rs::ISO_2022_JP);
        assert_eq!(codepage(950), encoding_rs::BIG5);
    }

    #[test]
    fn property_stream_code_page() {
        let mut p = vec![0u8; 32];
        let mut entry = Vec::new();
        entry.extend_from_slice(&0x3FFD_0003u32.to_le_bytes());
        entry.extend_from_slice(&[0; 4]);
        entry.extend_from_slice(&932u32.to_le_bytes());
        entry.extend_from_slice(&[0; 4]);
        p.extend_from_slice(&entry);
        assert_eq!(props_codepage(&p, 32), Some(932));
        assert_eq!(props_codepage(&p[..32], 32), None);
    }
}
