//! The document date for retention: where it comes from and how it is read
//! from folder and file names.
//!
//! Precedence (issue 10): a year in the path (the nearest to the file
//! wins: its own name, then its folder, then that folder's parent …), then
//! the date the document records about itself (its metadata, read by the
//! extractors), then the file's modification time. A 行政文書ファイル is
//! filed by fiscal year, so a folder named `令和3年度` says more about the
//! documents in it than a creation date copied from a template.
//!
//! Years recognised in a name (full-width digits and letters too, and the
//! era ligatures ㍻ ㋿ ㍼):
//! - fiscal years (年度): `令和3年度`, `令和元年度`, `平成30年度`, `昭和63年度`,
//!   `R3年度`, `H30年度`, `S63年度`, `2021年度`, `FY2021`, `FY21`, and the
//!   bare abbreviations of folder names `R3`, `R03`, `H30`, `S63`, `令3`;
//! - calendar years (年分, as in tax returns): `令和6年分`, `R6年分`, `2024年分`.
//!
//! A fiscal year dates the document to its last day (FY2021 from 04-01 →
//! 2022-03-31), a calendar year to 31 December: the latest day the
//! document can have, so that retention is never cut short. When one name
//! holds several years, the latest is taken for the same reason.
//!
//! Not read: a year alone (`令和3年`, `2021年`: calendar or fiscal is
//! anybody's guess) and full dates (`R3.4.1`, `令和3年4月1日`), which fall
//! through to the document's metadata. Abbreviations need boundaries: the
//! `R3` of `PR3000` and the `H30` of `SH300` are not years, nor is the
//! `令3` of `政令3号`. Four-digit years outside 1950–2100 are ignored.

use std::sync::LazyLock;

use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::Timestamp;
use regex::Regex;
use serde::{Deserialize, Serialize};
use unicode_normalization::UnicodeNormalization;

use super::retention::FiscalYearStart;

/// Years outside this range are not taken from names.
const PLAUSIBLE_YEARS: std::ops::RangeInclusive<i16> = 1950..=2100;

/// Where a document date came from (stored as `date_source`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DateSource {
    /// A fiscal or calendar year in a folder or file name.
    Path,
    /// The date the document records about itself (Office core
    /// properties, ODF meta, PDF `/CreationDate` or XMP, a mail's `Date`).
    Metadata,
    /// The file's modification time (the least trusted: copies reset it).
    Mtime,
}

impl DateSource {
    pub fn as_str(self) -> &'static str {
        match self {
            DateSource::Path => "path",
            DateSource::Metadata => "metadata",
            DateSource::Mtime => "mtime",
        }
    }

    pub fn label_ja(self) -> &'static str {
        match self {
            DateSource::Path => "フォルダ名・ファイル名の年度",
            DateSource::Metadata => "文書のプロパティ（作成日時）",
            DateSource::Mtime => "ファイルの更新日時",
        }
    }

    pub fn label_en(self) -> &'static str {
        match self {
            DateSource::Path => "the year in a folder or file name",
            DateSource::Metadata => "the document's own metadata (creation date)",
            DateSource::Mtime => "the file's modification time",
        }
    }
}

impl std::str::FromStr for DateSource {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "path" => Ok(DateSource::Path),
            "metadata" => Ok(DateSource::Metadata),
            "mtime" => Ok(DateSource::Mtime),
            _ => Err(format!(
                "unknown date source {s:?} (path, metadata or mtime)"
            )),
        }
    }
}

/// Whether a year in a name is a fiscal year (年度) or a calendar year (年分).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum YearKind {
    Fiscal,
    Calendar,
}

/// A year found in one folder or file name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NameYear {
    /// The Gregorian year (the calendar year a fiscal year starts in).
    pub year: i16,
    pub kind: YearKind,
    /// The text that said so, as written in the name (`令和３年度`).
    pub matched: String,
}

impl NameYear {
    /// The last day of the year: the date the document is given.
    pub fn last_day(&self, fiscal: FiscalYearStart) -> Option<Date> {
        match self.kind {
            YearKind::Fiscal => fiscal.last_day(self.year),
            YearKind::Calendar => Date::new(self.year, 12, 31).ok(),
        }
    }
}

/// A document date read from a path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathDate {
    pub date: Date,
    pub year: NameYear,
    /// The folder or file name that held the year.
    pub component: String,
    /// 0 for the file's own name, 1 for its folder, 2 for that folder's parent …
    pub depth: usize,
}

/// The document date used for retention, and where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocumentDate {
    pub date: Date,
    pub source: DateSource,
    /// For [`DateSource::Path`]: the year found and the name it was in.
    pub path: Option<PathDate>,
}

impl DocumentDate {
    /// What the date was read from, in a few words (`令和3年度` for a path;
    /// empty otherwise): the evidence shown next to `date_source`.
    pub fn evidence(&self) -> &str {
        self.path.as_ref().map_or("", |p| p.year.matched.as_str())
    }
}

/// The document date by the precedence path → metadata → mtime.
/// `rel_path` is relative to its root, `/`-separated; `metadata` is the
/// creation date the extractor reported; `mtime` the modification date
/// (see [`date_in_japan`]).
pub fn document_date(
    rel_path: &str,
    fiscal: FiscalYearStart,
    metadata: Option<Date>,
    mtime: Option<Date>,
) -> Option<DocumentDate> {
    if let Some(p) = date_from_path(rel_path, fiscal) {
        return Some(DocumentDate {
            date: p.date,
            source: DateSource::Path,
            path: Some(p),
        });
    }
    metadata
        .map(|date| DocumentDate {
            date,
            source: DateSource::Metadata,
            path: None,
        })
        .or_else(|| {
            mtime.map(|date| DocumentDate {
                date,
                source: DateSource::Mtime,
                path: None,
            })
        })
}

/// The year nearest to the file in `rel_path` (its own name first), as a
/// date (the last day of that year).
pub fn date_from_path(rel_path: &str, fiscal: FiscalYearStart) -> Option<PathDate> {
    rel_path
        .split(['/', '\\'])
        .filter(|c| !c.is_empty())
        .rev()
        .enumerate()
        .find_map(|(depth, component)| {
            let year = year_in_name(component, fiscal)?;
            Some(PathDate {
                date: year.last_day(fiscal)?,
                year,
                component: component.to_string(),
                depth,
            })
        })
}

/// The latest fiscal or calendar year written in one folder or file name.
/// `fiscal` decides which of two years ends later (a fiscal year ends in
/// the next calendar year when it does not start on 1 January).
pub fn year_in_name(name: &str, fiscal: FiscalYearStart) -> Option<NameYear> {
    let n = Normalized::new(name);
    let mut found: Vec<NameYear> = Vec::new();
    for pattern in PATTERNS.iter() {
        for caps in pattern.regex.captures_iter(&n.text) {
            let Some(whole) = caps.get(0) else { continue };
            let before = n.text[..whole.start()].chars().next_back();
            let after_text = &n.text[whole.end()..];
            let number = caps.name("n").map_or("", |m| m.as_str());
            let suffix = caps.name("suffix").map(|m| m.as_str());
            let Some(year) = (pattern.year)(caps.name("era").map_or("", |m| m.as_str()), number)
            else {
                continue;
            };
            if !(pattern.accepts)(before, suffix, after_text) || !PLAUSIBLE_YEARS.contains(&year) {
                continue;
            }
            let kind = match suffix {
                Some(s) if s.ends_with('分') => YearKind::Calendar,
                _ => YearKind::Fiscal,
            };
            found.push(NameYear {
                year,
                kind,
                matched: n.original(name, whole.start(), whole.end()).to_string(),
            });
        }
    }
    found.into_iter().max_by_key(|y| y.last_day(fiscal))
}

/// A name with full-width letters and digits and the era ligatures made
/// ASCII and kanji (NFKC, character by character), remembering where each
/// character came from so that the matched text can be quoted as written.
struct Normalized {
    text: String,
    /// For each byte offset of `text` at a character start: the original
    /// character's byte range.
    origin: Vec<(usize, usize, usize)>,
}

impl Normalized {
    fn new(name: &str) -> Self {
        let mut text = String::with_capacity(name.len());
        let mut origin = Vec::with_capacity(name.len());
        for (start, c) in name.char_indices() {
            let end = start + c.len_utf8();
            if c.is_ascii() {
                origin.push((text.len(), start, end));
                text.push(c);
            } else {
                for d in std::iter::once(c).nfkc() {
                    origin.push((text.len(), start, end));
                    text.push(d);
                }
            }
        }
        Normalized { text, origin }
    }

    /// The original text of the normalised byte range `start..end`.
    fn original<'a>(&self, name: &'a str, start: usize, end: usize) -> &'a str {
        let from = self
            .origin
            .iter()
            .find(|(n, _, _)| *n >= start)
            .map_or(name.len(), |o| o.1);
        let to = self
            .origin
            .iter()
            .rev()
            .find(|(n, _, _)| *n < end)
            .map_or(from, |o| o.2);
        name.get(from..to.max(from)).unwrap_or("")
    }
}

/// One way of writing a year.
struct Pattern {
    regex: Regex,
    /// The Gregorian year from the era (or prefix) and the number.
    year: fn(&str, &str) -> Option<i16>,
    /// Whether the match stands on its own: the character before it, the
    /// 年度/年分 suffix if any, the text after it.
    accepts: fn(Option<char>, Option<&str>, &str) -> bool,
}

static PATTERNS: LazyLock<Vec<Pattern>> = LazyLock::new(|| {
    let re = |s: &str| Regex::new(s).unwrap_or_else(|e| unreachable!("pattern {s}: {e}"));
    vec![
        // 令和3年度, 平成30年分, 昭和63年度 (the era name spelled out).
        Pattern {
            regex: re(r"(?P<era>令和|平成|昭和) ?(?P<n>元|[0-9]{1,2}) ?年(?P<suffix>度|分)?"),
            year: era_year,
            accepts: |_, suffix, _| suffix.is_some(),
        },
        // 令3, 平30年度: the era's first character.
        Pattern {
            regex: re(r"(?P<era>令|平|昭)(?P<n>元|[0-9]{1,2})(?P<suffix> ?年(?:度|分)?)?"),
            year: era_year,
            accepts: |before, suffix, after| {
                !before.is_some_and(is_ideograph) && stands_alone(suffix, after, true)
            },
        },
        // R3, R03, H30年度, S63: the era's initial.
        Pattern {
            regex: re(r"(?P<era>[RrHhSs])(?P<n>元|[0-9]{1,2})(?P<suffix>年(?:度|分)?)?"),
            year: era_year,
            accepts: |before, suffix, after| {
                !before.is_some_and(|c| c.is_ascii_alphanumeric())
                    && stands_alone(suffix, after, false)
            },
        },
        // 2021年度, 2024年分.
        Pattern {
            regex: re(r"(?P<n>[0-9]{4}) ?年(?P<suffix>度|分)"),
            year: |_, n| n.parse().ok(),
            accepts: |before, _, _| !before.is_some_and(|c| c.is_ascii_digit()),
        },
        // FY2021, FY21, FY 2021.
        Pattern {
            regex: re(r"[Ff][Yy][ ._-]?(?P<n>[0-9]{4}|[0-9]{2})"),
            year: |_, n| {
                let v: i16 = n.parse().ok()?;
                Some(match n.len() {
                    2 if v < 50 => 2000 + v,
                    2 => 1900 + v,
                    _ => v,
                })
            },
            accepts: |before, _, after| {
                !before.is_some_and(|c| c.is_ascii_alphanumeric())
                    && !after.starts_with(|c: char| c.is_ascii_digit())
            },
        },
    ]
});

/// Whether an abbreviated era year (`R3`, `令3`) is a year and not part of
/// something else: not followed by more digits or letters (`R3000`,
/// `H30cm`), not a year alone (`R3年4月`), not the start of a date
/// (`R3.4.1`) or of a numbered item (`令3号`).
fn stands_alone(suffix: Option<&str>, after: &str, kanji: bool) -> bool {
    match suffix.map(str::trim) {
        Some("年度") | Some("年分") => true,
        Some(_) => false,
        None => {
            let mut rest = after.chars();
            match rest.next() {
                None => true,
                Some(c) if c.is_ascii_alphanumeric() => false,
                Some('.') | Some(',') => !rest.next().is_some_and(|d| d.is_ascii_digit()),
                Some(c) if kanji => !"号条項月日".contains(c),
                Some(_) => true,
            }
        }
    }
}

/// The Gregorian year of an era year (`令和`/`令`/`R` 3 → 2021; 元 = 1).
fn era_year(era: &str, n: &str) -> Option<i16> {
    let n: i16 = if n == "元" { 1 } else { n.parse().ok()? };
    let (first, last) = match era {
        "令和" | "令" | "R" | "r" => (2019, 99),
        "平成" | "平" | "H" | "h" => (1989, 31),
        "昭和" | "昭" | "S" | "s" => (1926, 64),
        _ => return None,
    };
    (1..=last).contains(&n).then(|| first + n - 1)
}

/// CJK ideographs (and 々): a kanji abbreviation right after one is part of
/// a word (`政令3号`, `水平3`).
fn is_ideograph(c: char) -> bool {
    matches!(c as u32,
        0x3005 | 0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xF900..=0xFAFF | 0x20000..=0x3FFFF)
}

/// Japan's time zone: the IANA `Asia/Tokyo` from jiff's time zone database
/// (the system's, or the copy bundled into mamori when the host has none,
/// as on Windows or a minimal container), else the fixed +09:00 that Japan
/// has kept since 1951.
pub fn japan_time_zone() -> TimeZone {
    static TZ: LazyLock<TimeZone> = LazyLock::new(|| {
        TimeZone::get("Asia/Tokyo").unwrap_or_else(|_| TimeZone::fixed(jiff::tz::offset(9)))
    });
    TZ.clone()
}

/// The civil date in Japan at `t`.
pub fn date_in_japan(t: Timestamp) -> Date {
    t.to_zoned(japan_time_zone()).date()
}

/// Today's date in Japan: the `as_of` of a scheduled recomputation.
pub fn today_in_japan() -> Date {
    date_in_japan(Timestamp::now())
}

/// A file's modification time (nanoseconds since the Unix epoch, as the
/// walk records it) as a date in Japan; `None` out of range.
pub fn mtime_date(mtime_ns: i64) -> Option<Date> {
    Timestamp::from_nanosecond(i128::from(mtime_ns))
        .ok()
        .map(date_in_japan)
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    const APRIL: FiscalYearStart = FiscalYearStart::APRIL_1;

    fn year(name: &str) -> Option<(i16, YearKind, String)> {
        year_in_name(name, APRIL).map(|y| (y.year, y.kind, y.matched))
    }

    fn fiscal(name: &str) -> Option<i16> {
        match year_in_name(name, APRIL) {
            Some(y) if y.kind == YearKind::Fiscal => Some(y.year),
            _ => None,
        }
    }

    #[test]
    fn era_fiscal_years() {
        assert_eq!(fiscal("令和3年度"), Some(2021));
        assert_eq!(fiscal("令和元年度"), Some(2019));
        assert_eq!(fiscal("平成31年度"), Some(2019));
        assert_eq!(fiscal("平成30年度 予算"), Some(2018));
        assert_eq!(fiscal("昭和63年度"), Some(1988));
        assert_eq!(fiscal("令和 5 年度"), Some(2023));
        assert_eq!(fiscal("R3年度"), Some(2021));
        assert_eq!(fiscal("H30年度"), Some(2018));
        assert_eq!(fiscal("S63年度"), Some(1988));
        assert_eq!(fiscal("R03"), Some(2021));
        assert_eq!(fiscal("R3"), Some(2021));
        assert_eq!(fiscal("r3_議事録"), Some(2021));
        assert_eq!(fiscal("予算R3"), Some(2021));
        assert_eq!(fiscal("H30"), Some(2018));
        assert_eq!(fiscal("S63"), Some(1988));
        assert_eq!(fiscal("令3"), Some(2021));
        assert_eq!(fiscal("令3 議会"), Some(2021));
        assert_eq!(fiscal("R元年度"), Some(2019));
        assert_eq!(fiscal("R10"), Some(2028));
        assert_eq!(fiscal("給与台帳_R3.xlsx"), Some(2021));
    }

    #[test]
    fn full_width_and_ligatures_are_quoted_as_written() {
        assert_eq!(
            year("令和３年度"),
            Some((2021, YearKind::Fiscal, "令和３年度".into()))
        );
        assert_eq!(
            year("Ｒ３年度の申請"),
            Some((2021, YearKind::Fiscal, "Ｒ３年度".into()))
        );
        assert_eq!(
            year("２０２１年度"),
            Some((2021, YearKind::Fiscal, "２０２１年度".into()))
        );
        assert_eq!(
            year("㍻30年度"),
            Some((2018, YearKind::Fiscal, "㍻30年度".into()))
        );
        assert_eq!(
            year("㋿2年度"),
            Some((2020, YearKind::Fiscal, "㋿2年度".into()))
        );
        assert_eq!(
            year("ＦＹ２０２２"),
            Some((2022, YearKind::Fiscal, "ＦＹ２０２２".into()))
        );
    }

    #[test]
    fn western_years() {
        assert_eq!(fiscal("2021年度"), Some(2021));
        assert_eq!(fiscal("FY2021"), Some(2021));
        assert_eq!(fiscal("fy21 report"), Some(2021));
        assert_eq!(fiscal("FY 2020"), Some(2020));
        assert_eq!(fiscal("FY99"), Some(1999));
        assert_eq!(fiscal("1949年度"), None);
        assert_eq!(fiscal("2101年度"), None);
        assert_eq!(fiscal("12021年度"), None);
        assert_eq!(fiscal("FY20211"), None);
        assert_eq!(fiscal("AFY2021"), None);
    }

    #[test]
    fn calendar_years() {
        assert_eq!(
            year("令和6年分 源泉徴収票"),
            Some((2024, YearKind::Calendar, "令和6年分".into()))
        );
        assert_eq!(year("R6年分").map(|y| y.1), Some(YearKind::Calendar));
        assert_eq!(
            year("2024年分").map(|y| (y.0, y.1)),
            Some((2024, YearKind::Calendar))
        );
        let y = year_in_name("令和6年分", APRIL).unwrap();
        assert_eq!(y.last_day(APRIL), Some(date(2024, 12, 31)));
    }

    #[test]
    fn no_false_years() {
        for name in [
            "PR3000.pdf",
            "SH300",
            "R3000",
            "H30cm",
            "政令3号",
            "命令3",
            "水平3",
            "令3号",
            "令和3年",
            "令和3年4月1日",
            "R3年4月",
            "R3.4.1 会議",
            "2021年",
            "2021.xlsx",
            "S10",
            "H32",
            "R100",
            "A-H30B",
            "報告書.docx",
            "",
        ] {
            assert_eq!(year(name), None, "{name}");
        }
    }

    #[test]
    fn latest_year_of_a_name_wins() {
        assert_eq!(fiscal("令和3年度_令和4年度"), Some(2022));
        assert_eq!(fiscal("H30-R2"), Some(2020));
        // A calendar year 2024 ends before fiscal 2024 (2025-03-31).
        assert_eq!(
            year("令和6年分・令和6年度").map(|y| y.1),
            Some(YearKind::Fiscal)
        );
        // With a fiscal year on the calendar, both end on 31 December;
        // either way the date is the same.
        let jan: FiscalYearStart = "01-01".parse().unwrap();
        let y = year_in_name("令和6年分・2023年度", jan).unwrap();
        assert_eq!(y.last_day(jan), Some(date(2024, 12, 31)));
    }

    #[test]
    fn nearest_component_wins() {
        let p = date_from_path("総務課/令和3年度/情報公開/R5_請求書.pdf", APRIL).unwrap();
        assert_eq!(p.date, date(2024, 3, 31));
        assert_eq!(p.component, "R5_請求書.pdf");
        assert_eq!(p.depth, 0);
        let p = date_from_path("総務課/令和3年度/情報公開/請求書.pdf", APRIL).unwrap();
        assert_eq!(p.date, date(2022, 3, 31));
        assert_eq!(p.component, "令和3年度");
        assert_eq!(p.year.matched, "令和3年度");
        assert_eq!(p.depth, 2);
        let p = date_from_path(r"税務課\H30年度\a.xlsx", APRIL).unwrap();
        assert_eq!(p.date, date(2019, 3, 31));
        assert_eq!(date_from_path("総務課/情報公開/請求書.pdf", APRIL), None);
    }

    #[test]
    fn fiscal_years_end_by_the_configured_start() {
        let jan: FiscalYearStart = "01-01".parse().unwrap();
        assert_eq!(
            date_from_path("FY2021/a.pdf", APRIL).unwrap().date,
            date(2022, 3, 31)
        );
        assert_eq!(
            date_from_path("FY2021/a.pdf", jan).unwrap().date,
            date(2021, 12, 31)
        );
    }

    #[test]
    fn precedence_path_metadata_mtime() {
        let meta = Some(date(2020, 5, 1));
        let mtime = Some(date(2025, 1, 7));
        let d = document_date("令和3年度/a.docx", APRIL, meta, mtime).unwrap();
        assert_eq!((d.date, d.source), (date(2022, 3, 31), DateSource::Path));
        assert_eq!(d.evidence(), "令和3年度");
        let d = document_date("a.docx", APRIL, meta, mtime).unwrap();
        assert_eq!((d.date, d.source), (date(2020, 5, 1), DateSource::Metadata));
        assert_eq!(d.evidence(), "");
        let d = document_date("a.docx", APRIL, None, mtime).unwrap();
        assert_eq!((d.date, d.source), (date(2025, 1, 7), DateSource::Mtime));
        assert_eq!(document_date("a.docx", APRIL, None, None), None);
    }

    #[test]
    fn japan_dates() {
        // The bundled database has Asia/Tokyo even where the host has none.
        assert!(jiff::tz::TimeZoneDatabase::bundled()
            .get("Asia/Tokyo")
            .is_ok());
        let tz = japan_time_zone();
        assert_eq!(tz.iana_name(), Some("Asia/Tokyo"));
        // 2021-03-31T15:30:00Z is already 1 April in Japan.
        let t: Timestamp = "2021-03-31T15:30:00Z".parse().unwrap();
        assert_eq!(date_in_japan(t), date(2021, 4, 1));
        assert_eq!(
            mtime_date(1_617_204_600_000_000_000),
            Some(date(2021, 4, 1))
        );
        assert!(mtime_date(i64::MIN).is_some());
        for s in ["path", "metadata", "mtime"] {
            assert_eq!(s.parse::<DateSource>().unwrap().as_str(), s);
        }
    }

    /// Arbitrary names never panic, and whatever is found is quoted from
    /// the name itself (a xorshift stream over the characters that matter).
    #[test]
    fn arbitrary_names() {
        let alphabet: Vec<char> =
            "令和平成昭元年度分RrHhSsFfYy0123456789０１２３㍻㋿． ._-/政号あ\u{301}"
                .chars()
                .collect();
        let mut x: u64 = 0x2545_F491_4F6C_DD1D;
        for _ in 0..20_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let len = (x % 16) as usize;
            let name: String = (0..len)
                .map(|i| alphabet[((x >> (i * 4)) as usize + i) % alphabet.len()])
                .collect();
            if let Some(y) = year_in_name(&name, APRIL) {
                assert!(name.contains(&y.matched), "{name:?} {y:?}");
                assert!(PLAUSIBLE_YEARS.contains(&y.year));
            }
            let _ = date_from_path(&name, APRIL);
        }
    }
}
