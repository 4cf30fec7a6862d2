//! TNEF (MS-OXTNEF): the `winmail.dat` / `application/ms-tnef` attachment
//! in which Outlook and Exchange send rich-text mail. Recognised by its
//! signature 0x223E9F78, also inside mail attachments.
//!
//! Own reader: the tnef crate (0.1) stops at the first attribute id it does
//! not know and does not read MAPI property lists, where Outlook keeps the
//! body (compressed RTF) and the attachments' long file names.
//!
//! Read: the subject (attSubject or PR_SUBJECT), the body (attBody or
//! PR_BODY; else the HTML body as text; else the compressed RTF body,
//! through the RTF reader), the send date (for retention), and every
//! attachment (attAttachData, or PR_ATTACH_DATA_OBJ; an attached message is
//! a TNEF stream of its own) back through the dispatcher as
//! `attachments/NAME`, named by PR_ATTACH_LONG_FILENAME, else attAttachTitle.
//! 8-bit strings are decoded with attOemCodepage (CP932 when absent).

use encoding_rs::Encoding;

use super::rtf;
use super::{DocumentMeta, ExtractContext, ExtractError, Extractor, Format, UnreadableReason};
use crate::text::{Location, TextUnit};

/// Reads TNEF streams (winmail.dat).
pub struct Tnef;

/// The signature, little-endian, at the start of every TNEF stream.
pub const SIGNATURE: [u8; 4] = [0x78, 0x9F, 0x3E, 0x22];

fn corrupt(detail: impl Into<String>) -> ExtractError {
    ExtractError::new(UnreadableReason::Corrupt, detail)
}

fn u16_at(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(
        b.get(at..at.checked_add(2)?)?.try_into().ok()?,
    ))
}

fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(
        b.get(at..at.checked_add(4)?)?.try_into().ok()?,
    ))
}

/// Attribute ids (the low word; the high word is the attribute's type).
mod att {
    pub const SUBJECT: u32 = 0x8004;
    pub const DATE_SENT: u32 = 0x8005;
    pub const BODY: u32 = 0x800C;
    pub const ATTACH_DATA: u32 = 0x800F;
    pub const ATTACH_TITLE: u32 = 0x8010;
    pub const ATTACH_REND_DATA: u32 = 0x9002;
    pub const MSG_PROPS: u32 = 0x9003;
    pub const ATTACHMENT: u32 = 0x9005;
    pub const OEM_CODEPAGE: u32 = 0x9007;
}

/// MAPI property ids read here.
mod pr {
    pub const SUBJECT: u16 = 0x0037;
    pub const CLIENT_SUBMIT_TIME: u16 = 0x0039;
    pub const BODY: u16 = 0x1000;
    pub const RTF_COMPRESSED: u16 = 0x1009;
    pub const BODY_HTML: u16 = 0x1013;
    pub const DISPLAY_NAME: u16 = 0x3001;
    pub const ATTACH_DATA_OBJ: u16 = 0x3701;
    pub const ATTACH_FILENAME: u16 = 0x3704;
    pub const ATTACH_LONG_FILENAME: u16 = 0x3707;
}

/// One MAPI property value: its type and raw bytes (strings and binaries
/// without their length prefix and padding).
#[derive(Debug, Clone)]
struct Prop<'a> {
    id: u16,
    kind: u16,
    value: &'a [u8],
}

/// A MAPI property list (MS-OXTNEF 2.1.3.5), as far as it parses.
fn mapi_props(b: &[u8]) -> Vec<Prop<'_>> {
    let mut out = Vec::new();
    let Some(count) = u32_at(b, 0) else {
        return out;
    };
    let mut at = 4usize;
    let pad4 = |n: usize| n.saturating_add(3) & !3;
    for _ in 0..count.min(100_000) {
        let (Some(kind), Some(id)) = (u16_at(b, at), u16_at(b, at + 2)) else {
            break;
        };
        at += 4;
        if id >= 0x8000 {
            // A named property: GUID, kind, then an id or a name.
            at += 16;
            match u32_at(b, at) {
                Some(0) => at += 8,
                Some(1) => {
                    let Some(len) = u32_at(b, at + 4) else { break };
                    at = at.saturating_add(8).saturating_add(pad4(len as usize));
                }
                _ => break,
            }
        }
        let multi = kind & 0x1000 != 0;
        let base = kind & !0x1000;
        let fixed = match base {
            0x0002 | 0x0003 | 0x0004 | 0x000A | 0x000B | 0x0001 => Some(4),
            0x0005 | 0x0006 | 0x0007 | 0x0014 | 0x0040 => Some(8),
            0x0048 => Some(16),
            0x001E | 0x001F | 0x0102 | 0x000D => None,
            _ => break, // unknown type: the rest cannot be parsed
        };
        let values = if multi || fixed.is_none() {
            let Some(n) = u32_at(b, at) else { break };
            at += 4;
            n
        } else {
            1
        };
        let mut ok = true;
        for _ in 0..values.min(100_000) {
            let (start, len, next) = match fixed {
                Some(n) => (at, n, at.saturating_add(n)),
                None => {
                    let Some(len) = u32_at(b, at) else {
                        ok = false;
                        break;
                    };
                    let start = at + 4;
                    (
                        start,
                        len as usize,
                        start.saturating_add(pad4(len as usize)),
                    )
                }
            };
            let Some(value) = b.get(start..start.saturating_add(len)) else {
                ok = false;
                break;
            };
            out.push(Prop {
                id,
                kind: base,
                value,
            });
            at = next;
        }
        if !ok {
            break;
        }
    }
    out
}

fn find<'a, 'p>(props: &'p [Prop<'a>], id: u16) -> Option<&'p Prop<'a>> {
    props.iter().find(|p| p.id == id)
}

/// A string property (Unicode or 8-bit), without trailing NULs.
fn prop_string(p: &Prop<'_>, enc: &'static Encoding) -> Option<String> {
    let s = match p.kind {
        0x001F => {
            let units: Vec<u16> = p
                .value
                .chunks_exact(2)
                .map(|c| u16::from_le_bytes([c[0], c[1]]))
                .collect();
            String::from_utf16_lossy(&units)
        }
        0x001E => enc.decode_without_bom_handling(p.value).0.into_owned(),
        _ => return None,
    };
    Some(s.trim_end_matches('\0').to_string())
}

fn string8(b: &[u8], enc: &'static Encoding) -> String {
    enc.decode_without_bom_handling(b)
        .0
        .trim_end_matches('\0')
        .to_string()
}

#[derive(Debug, Default)]
struct Attachment<'a> {
    title: Option<&'a [u8]>,
    data: Option<&'a [u8]>,
    props: Vec<Prop<'a>>,
}

/// One attribute of a TNEF stream: (level, id, data).
type Attribute<'a> = (u8, u32, &'a [u8]);

/// The attributes of a TNEF stream, and whether it ends in the middle of one.
fn attributes(data: &[u8]) -> Result<(Vec<Attribute<'_>>, bool), ExtractError> {
    if !data.starts_with(&SIGNATURE) {
        return Err(corrupt("tnef: no TNEF signature"));
    }
    let mut out = Vec::new();
    let mut at = 6usize;
    let mut truncated = false;
    while at < data.len() {
        let (Some(&level), Some(id), Some(len)) =
            (data.get(at), u32_at(data, at + 1), u32_at(data, at + 5))
        else {
            // Mail gateways leave a line end (or NULs) after the last
            // attribute; anything else is a cut-off header.
            truncated = !data[at..].iter().all(|b| matches!(b, b'\r' | b'\n' | 0));
            break;
        };
        let start = at + 9;
        let Some(value) = data.get(start..start.saturating_add(len as usize)) else {
            // A truncated attribute: what came before is kept.
            truncated = true;
            break;
        };
        out.push((level, id, value));
        at = start + value.len() + 2; // the checksum follows
    }
    if out.is_empty() {
        return Err(corrupt("tnef: no attributes"));
    }
    Ok((out, truncated))
}

impl Extractor for Tnef {
    fn formats(&self) -> &'static [Format] {
        &[Format::Tnef]
    }

    fn extract(
        &self,
        _name: &str,
        _format: Format,
        data: &[u8],
        cx: &mut ExtractContext<'_>,
    ) -> Result<(), ExtractError> {
        cx.budget.charge_bytes(data.len() as u64)?;
        let (attrs, truncated) = attributes(data)?;
        let mut enc: &'static Encoding = encoding_rs::SHIFT_JIS;
        for (_, id, v) in &attrs {
            if id & 0xFFFF == att::OEM_CODEPAGE {
                if let Some(e) = u32_at(v, 0)
                    .and_then(|cp| i32::try_from(cp).ok())
                    .and_then(rtf::encoding_for_codepage)
                {
                    enc = e;
                }
            }
        }
        let mut subject = None;
        let mut body = None;
        let mut date_sent = None;
        let mut message_props = Vec::new();
        let mut attachments: Vec<Attachment<'_>> = Vec::new();
        for (level, id, v) in attrs {
            match (level, id & 0xFFFF) {
                (1, att::SUBJECT) => subject = Some(string8(v, enc)),
                (1, att::BODY) => body = Some(string8(v, enc)),
                (1, att::DATE_SENT) => date_sent = dtr_date(v),
                (1, att::MSG_PROPS) => message_props = mapi_props(v),
                (2, att::ATTACH_REND_DATA) => attachments.push(Attachment::default()),
                (2, kind) => {
                    if attachments.is_empty() {
                        attachments.push(Attachment::default());
                    }
                    let Some(a) = attachments.last_mut() else {
                        continue;
                    };
                    match kind {
                        att::ATTACH_TITLE => a.title = Some(v),
                        att::ATTACH_DATA => a.data = Some(v),
                        att::ATTACHMENT => a.props = mapi_props(v),
                        _ => {}
                    }
                }
                _ => {}
            }
        }
        let created = find(&message_props, pr::CLIENT_SUBMIT_TIME)
            .filter(|p| p.kind == 0x0040)
            .and_then(|p| p.value.try_into().ok().map(u64::from_le_bytes))
            .and_then(super::docmeta::filetime_date)
            .or(date_sent);
        if created.is_some() {
            cx.metadata(DocumentMeta { created });
        }
        let subject = subject
            .filter(|s| !s.trim().is_empty())
            .or_else(|| find(&message_props, pr::SUBJECT).and_then(|p| prop_string(p, enc)));
        if let Some(s) = subject.filter(|s| !s.trim().is_empty()) {
            cx.unit(TextUnit::fixed(s, Location::Named("subject".into())))?;
        }
        let body = body
            .filter(|b| !b.trim().is_empty())
            .or_else(|| find(&message_props, pr::BODY).and_then(|p| prop_string(p, enc)))
            .filter(|b| !b.trim().is_empty());
        let body = match body {
            Some(b) => Some(b),
            None => match find(&message_props, pr::BODY_HTML) {
                Some(p) => {
                    let html = prop_string(p, enc)
                        .unwrap_or_else(|| enc.decode_without_bom_handling(p.value).0.into_owned());
                    Some(mail_parser::decoders::html::html_to_text(&html))
                }
                None => match find(&message_props, pr::RTF_COMPRESSED) {
                    Some(p) => match rtf::decompress(p.value).and_then(|r| rtf::body_text(&r)) {
                        Ok(t) => Some(t),
                        Err(e) => {
                            cx.unreadable_member("body", Format::Rtf, e);
                            None
                        }
                    },
                    None => None,
                },
            },
        };
        if let Some(b) = body.filter(|b| !b.trim().is_empty()) {
            cx.unit(TextUnit::fixed(b, Location::Named("body".into())))?;
        }
        for (i, a) in attachments.iter().enumerate() {
            cx.budget.check_time()?;
            let obj = find(&a.props, pr::ATTACH_DATA_OBJ);
            let data = match (a.data, obj) {
                (Some(d), _) => d,
                // An embedded object: a 16-byte interface id, then the data
                // (for an attached message, a TNEF stream of its own).
                (None, Some(p)) if p.kind == 0x000D => p.value.get(16..).unwrap_or_default(),
                (None, Some(p)) => p.value,
                (None, None) => continue,
            };
            cx.budget.charge_member()?;
            let name = [
                pr::ATTACH_LONG_FILENAME,
                pr::ATTACH_FILENAME,
                pr::DISPLAY_NAME,
            ]
            .iter()
            .find_map(|&id| find(&a.props, id).and_then(|p| prop_string(p, enc)))
            .filter(|n| !n.trim().is_empty())
            .or_else(|| a.title.map(|t| string8(t, enc)))
            .filter(|n| !n.trim().is_empty())
            .map(|n| n.replace('/', "_"))
            .unwrap_or_else(|| format!("attachment-{}", i + 1));
            cx.member(&format!("attachments/{name}"), data)?;
        }
        if truncated {
            // What was read is scanned; the file is still reported.
            return Err(corrupt("tnef: the stream ends inside an attribute"));
        }
        Ok(())
    }
}

/// attDateSent (a DTR: year, month, day, hour, minute, second, weekday),
/// the sender's local date.
fn dtr_date(v: &[u8]) -> Option<jiff::civil::Date> {
    let y = i16::try_from(u16_at(v, 0)?).ok()?;
    let m = i8::try_from(u16_at(v, 2)?).ok()?;
    let d = i8::try_from(u16_at(v, 4)?).ok()?;
    jiff::civil::Date::new(y, m, d).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attr(level: u8, id: u32, data: &[u8]) -> Vec<u8> {
        let mut v = vec![level];
        v.extend_from_slice(&id.to_le_bytes());
        v.extend_from_slice(&(data.len() as u32).to_le_bytes());
        v.extend_from_slice(data);
        let sum = data.iter().fold(0u16, |s, &b| s.wrapping_add(u16::from(b)));
        v.extend_from_slice(&sum.to_le_bytes());
        v
    }

    #[test]
    fn attributes_and_property_lists() {
        let mut t = SIGNATURE.to_vec();
        t.extend_from_slice(&[0, 0]);
        t.extend(attr(1, 0x0001_8004, b"subject\0"));
        // A property list with a Unicode string and a long.
        let name: Vec<u8> = "名簿.csv\0"
            .encode_utf16()
            .flat_map(|u| u.to_le_bytes())
            .collect();
        let mut props = 2u32.to_le_bytes().to_vec();
        props.extend_from_slice(&0x001Fu16.to_le_bytes());
        props.extend_from_slice(&0x3707u16.to_le_bytes());
        props.extend_from_slice(&1u32.to_le_bytes());
        props.extend_from_slice(&(name.len() as u32).to_le_bytes());
        props.extend_from_slice(&name);
        while !props.len().is_multiple_of(4) {
            props.push(0);
        }
        props.extend_from_slice(&0x0003u16.to_le_bytes());
        props.extend_from_slice(&0x3705u16.to_le_bytes());
        props.extend_from_slice(&1u32.to_le_bytes());
        t.extend(attr(2, 0x0006_9005, &props));
        let (attrs, truncated) = attributes(&t).unwrap();
        assert_eq!(attrs.len(), 2);
        assert!(!truncated);
        assert!(attributes(&t[..t.len() - 3]).unwrap().1);
        let p = mapi_props(attrs[1].2);
        assert_eq!(p.len(), 2);
        assert_eq!(
            prop_string(&p[0], encoding_rs::SHIFT_JIS).as_deref(),
            Some("名簿.csv")
        );
        // Truncated anywhere: no panic.
        for cut in 0..t.len() {
            let _ = attributes(&t[..cut])
                .map(|(a, _)| a.iter().map(|(_, _, v)| mapi_props(v).len()).sum::<usize>());
        }
        assert!(attributes(b"not tnef").is_err());
    }
}
