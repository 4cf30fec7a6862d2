//! The creation date a document records about itself, for records rules
//! (the second source of a document date, after a year in the path):
//! OOXML `docProps/core.xml` `dcterms:created`, ODF `meta.xml`
//! `meta:creation-date`, OLE `SummaryInformation` (legacy .xls), PDF
//! `/Info /CreationDate` with the XMP `xmp:CreateDate` as a fallback, a
//! mail's `Date`, and an Outlook message's submit, delivery or creation time.
//!
//! Each extractor calls one `report_*` helper here; the parsing lives in
//! one place. Metadata is best effort: a missing or malformed date is no
//! date, never an error of the document, and parts are read with a small
//! bound (a core.xml is a kilobyte). Dates with a time zone become the
//! civil date in Japan; dates without one (ODF, most PDF writers on a
//! Japanese desktop) are the writer's local time and are taken as written.
//! Dates outside 1980–2100 are the zero values of their formats (FILETIME
//! 1601, the Unix epoch, Excel's 1900) rather than creation dates, and are
//! ignored.

use std::io::{Cursor, Read};
use std::sync::LazyLock;

use jiff::civil::{Date, DateTime};
use jiff::tz::{Offset, TimeZone};
use jiff::Timestamp;

use super::xml::{self, Ev};
use super::{DocumentMeta, ExtractContext, MemberPath, UnitSink};

/// Metadata parts larger than this are read only this far.
const MAX_PART: u64 = 1024 * 1024;
/// Creation dates outside these years are taken for placeholders.
const PLAUSIBLE_YEARS: std::ops::RangeInclusive<i16> = 1980..=2100;

/// Japan's time zone (`Asia/Tokyo`, from the system's tz database or the
/// copy bundled into jiff; +09:00 if neither has it). The records module
/// has the same for "today": neither may depend on the other.
fn japan() -> TimeZone {
    static TZ: LazyLock<TimeZone> = LazyLock::new(|| {
        TimeZone::get("Asia/Tokyo").unwrap_or_else(|_| TimeZone::fixed(jiff::tz::offset(9)))
    });
    TZ.clone()
}

fn plausible(d: Date) -> Option<Date> {
    PLAUSIBLE_YEARS.contains(&d.year()).then_some(d)
}

fn in_japan(t: Timestamp) -> Option<Date> {
    plausible(t.to_zoned(japan()).date())
}

/// A W3CDTF / ISO 8601 date or date-time (`2021-11-25T00:57:00Z`,
/// `2024-09-18T18:26:16.538672868`, `2023-06-10`): with an offset, the
/// date in Japan at that instant; without one, the date as written.
pub fn w3cdtf_date(s: &str) -> Option<Date> {
    let s = s.trim();
    if let Ok(t) = s.parse::<Timestamp>() {
        return in_japan(t);
    }
    if let Ok(dt) = s.parse::<DateTime>() {
        return plausible(dt.date());
    }
    // A date alone, not a year or a month (imprecise W3CDTF forms).
    if s.len() == 10 {
        return s.parse::<Date>().ok().and_then(plausible);
    }
    // `2016-09-14 08:47:00` (HTML `<meta name="date">`): the date written.
    if s.len() > 10 && s.as_bytes().get(10) == Some(&b' ') {
        return s.get(..10)?.parse::<Date>().ok().and_then(plausible);
    }
    None
}

/// A PDF date string (ISO 32000 §7.9.4: `D:YYYYMMDDHHmmSSOHH'mm'`, every
/// part after the year optional), as the bytes of the string object
/// (UTF-16BE with a BOM happens too). A date without its day is too vague
/// for retention and gives `None`. Without an offset the time is the
/// writer's local time (PDF 2.0: its relation to UT is unknown).
pub fn pdf_date(raw: &[u8]) -> Option<Date> {
    let text: String = match raw.strip_prefix(&[0xFE, 0xFF]) {
        Some(be) => {
            let units: Vec<u16> = be
                .chunks_exact(2)
                .map(|c| u16::from_be_bytes([c[0], c[1]]))
                .collect();
            String::from_utf16_lossy(&units)
        }
        None => raw.iter().map(|&b| char::from(b)).collect(),
    };
    let s = text.trim().trim_end_matches('\0');
    let s = s.strip_prefix("D:").unwrap_or(s);
    let digits = s.bytes().take_while(u8::is_ascii_digit).count();
    if digits < 8 {
        return None;
    }
    let field = |from: usize, len: usize, default: i8| -> Option<i8> {
        if from + len > digits {
            return Some(default);
        }
        s.get(from..from + len)?.parse().ok()
    };
    let year: i16 = s.get(0..4)?.parse().ok()?;
    let dt = DateTime::new(
        year,
        field(4, 2, 1)?,
        field(6, 2, 1)?,
        field(8, 2, 0)?,
        field(10, 2, 0)?,
        // A leap second is still the same day.
        field(12, 2, 0)?.min(59),
        0,
    )
    .ok()?;
    let zone = s.get(digits.min(14)..)?;
    let offset = match zone.chars().next() {
        Some('Z') | Some('z') => Some(Offset::UTC),
        Some(sign @ ('+' | '-')) => {
            let nums: Vec<i32> = zone[1..]
                .split(|c: char| !c.is_ascii_digit())
                .filter(|p| !p.is_empty())
                .take(2)
                .filter_map(|p| p.parse().ok())
                .collect();
            let (h, m) = (
                nums.first().copied().unwrap_or(0),
                nums.get(1).copied().unwrap_or(0),
            );
            if h > 23 || m > 59 {
                return None;
            }
            let seconds = (h * 3600 + m * 60) * if sign == '-' { -1 } else { 1 };
            Offset::from_seconds(seconds).ok()
        }
        _ => None,
    };
    match offset {
        Some(o) => in_japan(o.to_timestamp(dt).ok()?),
        None => plausible(dt.date()),
    }
}

/// A Windows FILETIME (100 ns since 1601-01-01 UTC) as the date in Japan.
pub fn filetime_date(filetime: u64) -> Option<Date> {
    // 100 ns ticks between 1601-01-01 and 1970-01-01.
    const UNIX_EPOCH: i128 = 116_444_736_000_000_000;
    let ns = (i128::from(filetime) - UNIX_EPOCH) * 100;
    in_japan(Timestamp::from_nanosecond(ns).ok()?)
}

/// A mail's `Date` header as mail-parser read it, as the date in Japan.
pub fn mail_date(d: &mail_parser::DateTime) -> Option<Date> {
    let dt = DateTime::new(
        i16::try_from(d.year).ok()?,
        i8::try_from(d.month).ok()?,
        i8::try_from(d.day).ok()?,
        i8::try_from(d.hour).ok()?,
        i8::try_from(d.minute).ok()?,
        i8::try_from(d.second.min(59)).ok()?,
        0,
    )
    .ok()?;
    let seconds = (i32::from(d.tz_hour) * 3600 + i32::from(d.tz_minute) * 60)
        * if d.tz_before_gmt { -1 } else { 1 };
    let offset = Offset::from_seconds(seconds).ok()?;
    in_japan(offset.to_timestamp(dt).ok()?)
}

/// The text of the first element whose local name is `local` and whose
/// prefix is one of `prefixes` (or the value of such an attribute of any
/// element: XMP writes properties both ways).
fn xml_value(xml_text: &str, prefixes: &[&str], local: &str) -> Option<String> {
    let wanted = |q: &str| prefixes.iter().any(|p| q == format!("{p}:{local}"));
    let mut inside = false;
    let mut value = String::new();
    let mut found: Option<String> = None;
    // Malformed XML after the value does no harm: what was found is kept.
    let _ = xml::walk(xml_text, |ev| {
        if found.is_some() {
            return Ok(());
        }
        match ev {
            Ev::Open(e) => {
                if wanted(&xml::qname(&e)) {
                    inside = true;
                    value.clear();
                } else if let Some(v) = prefixes
                    .iter()
                    .find_map(|p| xml::attr(&e, &format!("{p}:{local}")))
                {
                    found = Some(v);
                }
            }
            Ev::Text(t) if inside => value.push_str(&t),
            Ev::Close(q) if inside && wanted(&q) => {
                inside = false;
                found = Some(std::mem::take(&mut value));
            }
            _ => {}
        }
        Ok(())
    });
    found
}

/// `dcterms:created` of an OOXML core properties part.
pub fn ooxml_core_created(xml_text: &str) -> Option<Date> {
    w3cdtf_date(&xml_value(xml_text, &["dcterms"], "created")?)
}

/// `meta:creation-date` of an ODF `meta.xml`.
pub fn odf_meta_created(xml_text: &str) -> Option<Date> {
    w3cdtf_date(&xml_value(xml_text, &["meta"], "creation-date")?)
}

/// `xmp:CreateDate` of an XMP packet (`xap:` in XMP before 2004).
pub fn xmp_create_date(xml_text: &str) -> Option<Date> {
    w3cdtf_date(&xml_value(xml_text, &["xmp", "xap"], "CreateDate")?)
}

/// The creation time of an OLE property set stream (`\x05SummaryInformation`,
/// MS-OLEPS): property 0x0C (PIDSI_CREATE_DTM), a VT_FILETIME.
pub fn ole_summary_created(stream: &[u8]) -> Option<Date> {
    let u32_at = |o: usize| -> Option<u32> {
        Some(u32::from_le_bytes(stream.get(o..o + 4)?.try_into().ok()?))
    };
    // Header: byte order, version, system, CLSID, number of sets (28 bytes);
    // then the first set's FMTID (16) and offset (4).
    if stream.get(0..2)? != [0xFE, 0xFF] || u32_at(24)? == 0 {
        return None;
    }
    let set = usize::try_from(u32_at(44)?).ok()?;
    let count = usize::try_from(u32_at(set.checked_add(4)?)?).ok()?;
    for i in 0..count.min(1024) {
        let entry = set.checked_add(8 + i * 8)?;
        if u32_at(entry)? == 0x0C {
            let value = set.checked_add(usize::try_from(u32_at(entry + 4)?).ok()?)?;
            if u32_at(value)? & 0xFFFF != 0x40 {
                return None; // not VT_FILETIME
            }
            let lo = u64::from(u32_at(value + 4)?);
            let hi = u64::from(u32_at(value + 8)?);
            return filetime_date(hi << 32 | lo);
        }
    }
    None
}

/// The time an Outlook message was sent (PR_CLIENT_SUBMIT_TIME), else
/// delivered (PR_MESSAGE_DELIVERY_TIME), else created (PR_CREATION_TIME),
/// from its `__properties_version1.0` stream (`header` bytes, then 16-byte
/// entries: tag, flags, 8-byte value).
pub fn msg_created(props: &[u8], header: usize) -> Option<Date> {
    const ORDER: [u32; 3] = [0x0039_0040, 0x0E06_0040, 0x3007_0040];
    let mut best: Option<(usize, u64)> = None;
    for e in props.get(header..)?.chunks_exact(16) {
        let tag = u32::from_le_bytes([e[0], e[1], e[2], e[3]]);
        if let Some(rank) = ORDER.iter().position(|t| *t == tag) {
            let mut v = [0u8; 8];
            v.copy_from_slice(&e[8..16]);
            if best.is_none_or(|(r, _)| rank < r) {
                best = Some((rank, u64::from_le_bytes(v)));
            }
        }
    }
    filetime_date(best?.1)
}

/// Reads a small part of a zip package, or nothing.
fn small_member(
    archive: &mut zip::ZipArchive<Cursor<&[u8]>>,
    name: &str,
    cx: &mut ExtractContext<'_>,
) -> Option<Vec<u8>> {
    let mut entry = archive.by_name(name).ok()?;
    let mut buf = Vec::new();
    (&mut entry).take(MAX_PART).read_to_end(&mut buf).ok()?;
    cx.budget.charge_bytes(buf.len() as u64).ok()?;
    Some(buf)
}

/// The creation date of an OOXML package (`docProps/core.xml`, or the part
/// the package relationships name as core properties) or an ODF package
/// (`meta.xml`).
fn package_created(
    archive: &mut zip::ZipArchive<Cursor<&[u8]>>,
    cx: &mut ExtractContext<'_>,
) -> Option<Date> {
    if let Some(meta) = small_member(archive, "meta.xml", cx) {
        return odf_meta_created(&xml::part_text(&meta));
    }
    let core = small_member(archive, "_rels/.rels", cx)
        .and_then(|rels| {
            let rels = xml::part_text(&rels).into_owned();
            let mut target = None;
            let _ = xml::walk(&rels, |ev| {
                if let Ev::Open(e) = ev {
                    let core = xml::attr(&e, "Type")
                        .is_some_and(|t| t.ends_with("/metadata/core-properties"));
                    if core && target.is_none() {
                        target = xml::attr(&e, "Target");
                    }
                }
                Ok(())
            });
            target
        })
        .map(|t| t.trim_start_matches('/').to_string())
        .unwrap_or_else(|| "docProps/core.xml".to_string());
    ooxml_core_created(&xml::part_text(&small_member(archive, &core, cx)?))
}

fn report(created: Option<Date>, cx: &mut ExtractContext<'_>) {
    if created.is_some() {
        cx.metadata(DocumentMeta { created });
    }
}

/// Reports `created` for `member`, if there is a date (for extractors
/// that hold the sink rather than a context: mail messages).
pub fn report_to(units: &mut dyn UnitSink, member: &MemberPath, created: Option<Date>) {
    if created.is_some() {
        units.metadata(member, DocumentMeta { created });
    }
}

/// Reports the sent (else delivered, else created) time of the Outlook
/// message stored at `dir` of `cf` (see [`msg_created`]).
pub fn report_msg_created(
    cf: &mut cfb::CompoundFile<Cursor<&[u8]>>,
    dir: &std::path::Path,
    header: usize,
    member: &MemberPath,
    units: &mut dyn UnitSink,
) {
    let created = cf
        .open_stream(dir.join("__properties_version1.0"))
        .ok()
        .and_then(|mut s| {
            let mut buf = Vec::new();
            (&mut s).take(MAX_PART).read_to_end(&mut buf).ok()?;
            msg_created(&buf, header)
        });
    report_to(units, member, created);
}

/// Reports the creation date of an open OOXML or ODF package.
pub fn report_package_created(
    archive: &mut zip::ZipArchive<Cursor<&[u8]>>,
    cx: &mut ExtractContext<'_>,
) {
    let created = package_created(archive, cx);
    report(created, cx);
}

/// Reports the creation date of an OOXML or ODF package held in `data`.
pub fn report_zip_created(data: &[u8], cx: &mut ExtractContext<'_>) {
    if let Ok(mut archive) = zip::ZipArchive::new(Cursor::new(data)) {
        report_package_created(&mut archive, cx);
    }
}

/// Reports the creation date of an OLE compound document (its
/// `SummaryInformation` property set).
pub fn report_ole_created(data: &[u8], cx: &mut ExtractContext<'_>) {
    let created = cfb::CompoundFile::open(Cursor::new(data))
        .ok()
        .and_then(|mut cf| {
            let mut s = cf.open_stream("/\u{5}SummaryInformation").ok()?;
            let mut buf = Vec::new();
            (&mut s).take(MAX_PART).read_to_end(&mut buf).ok()?;
            ole_summary_created(&buf)
        });
    report(created, cx);
}

/// The object itself, or the object it refers to.
fn direct<'a>(doc: &'a lopdf::Document, o: &'a lopdf::Object) -> Option<&'a lopdf::Object> {
    match o {
        lopdf::Object::Reference(id) => doc.get_object(*id).ok(),
        other => Some(other),
    }
}

/// Reports the creation date of a PDF: `/Info /CreationDate`, else the
/// catalog's XMP `xmp:CreateDate`.
pub fn report_pdf_created(doc: &lopdf::Document, cx: &mut ExtractContext<'_>) {
    let info = doc
        .trailer
        .get(b"Info")
        .ok()
        .and_then(|o| direct(doc, o))
        .and_then(|o| o.as_dict().ok())
        .and_then(|d| d.get(b"CreationDate").ok())
        .and_then(|o| direct(doc, o))
        .and_then(|o| o.as_str().ok())
        .and_then(pdf_date);
    let created = info.or_else(|| {
        let id = doc
            .catalog()
            .ok()?
            .get(b"Metadata")
            .ok()?
            .as_reference()
            .ok()?;
        let stream = doc.get_object(id).ok()?.as_stream().ok()?;
        let xmp = stream
            .get_plain_content_with_limit(MAX_PART as usize)
            .ok()?;
        xmp_create_date(&String::from_utf8_lossy(&xmp))
    });
    report(created, cx);
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    #[test]
    fn w3cdtf() {
        assert_eq!(
            w3cdtf_date("2021-11-25T00:57:00Z"),
            Some(date(2021, 11, 25))
        );
        // 17:26 UTC is 02:26 the next day in Japan.
        assert_eq!(w3cdtf_date("2008-08-09T17:26:00Z"), Some(date(2008, 8, 10)));
        assert_eq!(w3cdtf_date("2021-03-31T15:30:00Z"), Some(date(2021, 4, 1)));
        assert_eq!(w3cdtf_date("2021-03-31T14:59:59Z"), Some(date(2021, 3, 31)));
        assert_eq!(
            w3cdtf_date("2020-03-31T18:02:55+09:00"),
            Some(date(2020, 3, 31))
        );
        assert_eq!(
            w3cdtf_date("2012-04-17T10:34:35-07:00"),
            Some(date(2012, 4, 18))
        );
        assert_eq!(
            w3cdtf_date("2024-09-18T18:26:16.538672868"),
            Some(date(2024, 9, 18))
        );
        assert_eq!(w3cdtf_date(" 2023-06-10 "), Some(date(2023, 6, 10)));
        for bad in [
            "",
            "2023",
            "2023-06",
            "1601-01-01T00:00:00Z",
            "1970-01-01T00:00:00Z",
            "yesterday",
            "2023-02-30T00:00:00Z",
        ] {
            assert_eq!(w3cdtf_date(bad), None, "{bad}");
        }
    }

    #[test]
    fn pdf_dates() {
        assert_eq!(
            pdf_date(b"D:20200331180255+09'00'"),
            Some(date(2020, 3, 31))
        );
        assert_eq!(
            pdf_date(b"D:20111202172139-06'00'"),
            Some(date(2011, 12, 3))
        );
        assert_eq!(pdf_date(b"D:20220904103240Z00'00'"), Some(date(2022, 9, 4)));
        assert_eq!(pdf_date(b"D:20220904203240Z"), Some(date(2022, 9, 5)));
        assert_eq!(pdf_date(b"D:20210107113443+03'34'"), Some(date(2021, 1, 7)));
        assert_eq!(pdf_date(b"D:20210107233443+09'00"), Some(date(2021, 1, 7)));
        // No offset: local time as written.
        assert_eq!(pdf_date(b"D:20130729015932"), Some(date(2013, 7, 29)));
        assert_eq!(pdf_date(b"D:20130116"), Some(date(2013, 1, 16)));
        assert_eq!(pdf_date(b"20130116"), Some(date(2013, 1, 16)));
        let utf16: Vec<u8> = [0xFE, 0xFF]
            .into_iter()
            .chain("D:20190401".encode_utf16().flat_map(|u| u.to_be_bytes()))
            .collect();
        assert_eq!(pdf_date(&utf16), Some(date(2019, 4, 1)));
        for bad in [
            &b""[..],
            b"D:",
            b"D:2023",
            b"D:202306",
            b"D:20231301",
            b"D:20230231",
            b"D:20230101+25'00'",
            b"D:00000101",
            b"\xFE\xFF\x00",
        ] {
            assert_eq!(pdf_date(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn filetimes() {
        // 2021-03-31T15:30:00Z.
        let ft = (1_617_204_600u64 + 11_644_473_600) * 10_000_000;
        assert_eq!(filetime_date(ft), Some(date(2021, 4, 1)));
        assert_eq!(filetime_date(0), None);
        assert_eq!(filetime_date(u64::MAX), None);
    }

    #[test]
    fn xml_parts() {
        let core = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><dc:creator>x</dc:creator><dcterms:created xsi:type="dcterms:W3CDTF">2021-03-31T15:30:00Z</dcterms:created><dcterms:modified xsi:type="dcterms:W3CDTF">2024-01-01T00:00:00Z</dcterms:modified></cp:coreProperties>"#;
        assert_eq!(ooxml_core_created(core), Some(date(2021, 4, 1)));
        assert_eq!(ooxml_core_created("<cp:coreProperties/>"), None);
        assert_eq!(ooxml_core_created("<a><dcterms:created>garbage"), None);
        let meta = "<office:document-meta><office:meta><meta:creation-date>2024-09-18T18:26:16.538672868</meta:creation-date></office:meta></office:document-meta>";
        assert_eq!(odf_meta_created(meta), Some(date(2024, 9, 18)));
        let element = "<x:xmpmeta><rdf:RDF><rdf:Description><xmp:CreateDate>2020-03-31T18:02:55+09:00</xmp:CreateDate></rdf:Description></rdf:RDF></x:xmpmeta>";
        assert_eq!(xmp_create_date(element), Some(date(2020, 3, 31)));
        let attribute = r#"<rdf:Description xap:CreateDate="2003-05-01T23:00:00-05:00"/>"#;
        assert_eq!(xmp_create_date(attribute), Some(date(2003, 5, 2)));
    }

    #[test]
    fn msg_property_stream() {
        let mut props = vec![0u8; 32];
        let mut entry = |tag: u32, value: u64| {
            props.extend_from_slice(&tag.to_le_bytes());
            props.extend_from_slice(&6u32.to_le_bytes());
            props.extend_from_slice(&value.to_le_bytes());
        };
        let ft = |unix: u64| (unix + 11_644_473_600) * 10_000_000;
        entry(0x3007_0040, ft(1_600_000_000)); // created 2020-09-13
        entry(0x0039_0040, ft(1_617_204_600)); // submitted 2021-04-01 JST
        assert_eq!(msg_created(&props, 32), Some(date(2021, 4, 1)));
        assert_eq!(msg_created(&props[..48], 32), Some(date(2020, 9, 13)));
        assert_eq!(msg_created(&props[..32], 32), None);
        assert_eq!(msg_created(&props[..10], 32), None);
    }

    #[test]
    fn ole_property_set() {
        // Header, one set at offset 48 with one property (0x0C) at +16.
        let mut s = vec![0xFE, 0xFF, 0, 0];
        s.extend_from_slice(&[0; 20]);
        s.extend_from_slice(&1u32.to_le_bytes());
        s.extend_from_slice(&[0; 16]);
        s.extend_from_slice(&48u32.to_le_bytes());
        s.extend_from_slice(&36u32.to_le_bytes()); // set size
        s.extend_from_slice(&1u32.to_le_bytes()); // one property
        s.extend_from_slice(&0x0Cu32.to_le_bytes());
        s.extend_from_slice(&16u32.to_le_bytes());
        s.extend_from_slice(&0x40u32.to_le_bytes());
        s.extend_from_slice(&((1_617_204_600u64 + 11_644_473_600) * 10_000_000).to_le_bytes());
        assert_eq!(ole_summary_created(&s), Some(date(2021, 4, 1)));
        // Truncated anywhere: no date, no panic.
        for n in 0..s.len() {
            assert_eq!(ole_summary_created(&s[..n]), None);
        }
        let mut wrong_type = s.clone();
        wrong_type[64] = 0x1E;
        assert_eq!(ole_summary_created(&wrong_type), None);
    }

    /// Arbitrary bytes never panic any parser here (a xorshift stream of
    /// inputs, biased towards the characters the formats use).
    #[test]
    fn arbitrary_input_is_no_date_not_a_panic() {
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        const ALPHABET: &[u8] =
            b"D:0123456789+-Z'TzT:. <>/=\"\xFE\xFF\x00\x05\x40\x0Cxmpdcterms:created";
        for _ in 0..20_000 {
            let len = (next() % 48) as usize;
            let bytes: Vec<u8> = (0..len)
                .map(|_| {
                    let r = next();
                    if r % 4 == 0 {
                        r as u8
                    } else {
                        ALPHABET[(r >> 8) as usize % ALPHABET.len()]
                    }
                })
                .collect();
            let text = String::from_utf8_lossy(&bytes);
            let _ = pdf_date(&bytes);
            let _ = w3cdtf_date(&text);
            let _ = ooxml_core_created(&text);
            let _ = xmp_create_date(&text);
            let _ = msg_created(&bytes, (next() % 40) as usize);
            let _ = ole_summary_created(&bytes);
            let _ = filetime_date(next());
        }
    }

    /// Records the metadata extractors report.
    struct Meta(Vec<(String, Option<Date>)>);
    impl crate::extract::UnitSink for Meta {
        fn unit(
            &mut self,
            _: &crate::extract::MemberPath,
            _: crate::text::TextUnit<'_>,
        ) -> Result<(), crate::extract::ExtractError> {
            Ok(())
        }
        fn unreadable(
            &mut self,
            _: &crate::extract::MemberPath,
            _: crate::extract::Format,
            _: crate::extract::ExtractError,
        ) {
        }
        fn metadata(&mut self, m: &crate::extract::MemberPath, meta: crate::extract::DocumentMeta) {
            self.0
                .push((m.to_contract().unwrap_or_default(), meta.created));
        }
    }

    #[test]
    fn odf_html_and_mht_report_their_creation_date() {
        use crate::extract::{Dispatcher, Limits, MemberPath, ScanBudget};
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/modern/");
        for (file, want) in [
            // LibreOffice keeps python-docx's template date (no zone: as written).
            ("request_form.odt", jiff::civil::date(2013, 12, 23)),
            ("request_form.fodt", jiff::civil::date(2013, 12, 23)),
            ("request_form.html", jiff::civil::date(2013, 12, 23)),
            // Date: Tue, 02 Apr 2024 23:30:00 +0000 is the 3rd in Japan.
            ("request_form.mht", jiff::civil::date(2024, 4, 3)),
        ] {
            let data = std::fs::read(format!("{dir}{file}")).unwrap();
            let mut sink = Meta(Vec::new());
            let mut budget = ScanBudget::new(&Limits::default());
            Dispatcher::default()
                .extract(file, &data, MemberPath::root(), &mut budget, &mut sink)
                .unwrap();
            assert_eq!(sink.0, vec![(String::new(), Some(want))], "{file}");
        }
    }

    #[test]
    fn near_iso_dates_of_html_meta() {
        assert_eq!(
            w3cdtf_date("2016-09-14 08:47:00"),
            Some(jiff::civil::date(2016, 9, 14))
        );
    }
}
