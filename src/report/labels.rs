//! The words of the reports in either language: the names the store keeps
//! (`my_number`, `retention_expired`, `open`, `encrypted` …) as a manager
//! reads them, and the fixed texts (headings, column names, explanations)
//! of the HTML and XLSX renderers, so that both say the same thing.
//! A name the store holds that this binary does not know is shown as it is.

use crate::finding::{Confidence, Kind};
use crate::outcome::UnreadableReason;
use crate::records::rules::Action;
use crate::records::{Flag, Lang};
use crate::review::ReviewState;

pub fn kind(name: &str, lang: Lang) -> String {
    match name.parse::<Kind>() {
        Ok(k) => match lang {
            Lang::Ja => k.label_ja(),
            Lang::En => k.label_en(),
        }
        .to_string(),
        Err(_) => name.to_string(),
    }
}

pub fn flag(name: &str, lang: Lang) -> String {
    match name.parse::<Flag>() {
        Ok(f) => f.label(lang).to_string(),
        Err(_) => name.to_string(),
    }
}

pub fn state(name: &str, lang: Lang) -> String {
    match name.parse::<ReviewState>() {
        Ok(s) => match lang {
            Lang::Ja => s.label_ja(),
            Lang::En => s.label_en(),
        }
        .to_string(),
        Err(_) => name.to_string(),
    }
}

pub fn confidence(name: &str, lang: Lang) -> String {
    match (name.parse::<Confidence>(), lang) {
        (Ok(c), Lang::Ja) => c.label_ja().to_string(),
        _ => name.to_string(),
    }
}

pub fn unreadable(name: &str, lang: Lang) -> String {
    match UnreadableReason::ALL.iter().find(|r| r.as_str() == name) {
        Some(r) => match lang {
            Lang::Ja => r.label_ja(),
            Lang::En => r.label_en(),
        }
        .to_string(),
        None => name.to_string(),
    }
}

/// 措置 as stored (`dispose`, `transfer`).
pub fn action(name: &str, lang: Lang) -> String {
    let a = match name {
        "dispose" => Action::Dispose,
        "transfer" => Action::Transfer,
        _ => return name.to_string(),
    };
    match lang {
        Lang::Ja => a.label_ja().to_string(),
        Lang::En => a.as_str().to_string(),
    }
}

/// A finding's stored location (`line 6 column 5`, `page 2`, `Sheet1!B3`,
/// as `crate::text::Location` writes it) in the report's language: the
/// common forms become `6 行 5 列`, `2 ページ` …; anything else (sheet
/// cells, named parts) is shown as stored.
pub fn location(stored: &str, lang: Lang) -> String {
    if lang == Lang::En {
        return stored.to_string();
    }
    let (text, ocr) = match stored.strip_suffix(" (OCR)") {
        Some(t) => (t, "（OCR）"),
        None => (stored, ""),
    };
    let num = |s: &str| s.parse::<u64>().ok();
    let words: Vec<&str> = text.split(' ').collect();
    let ja = match words.as_slice() {
        ["line", l, "column", c] => num(l).zip(num(c)).map(|(l, c)| format!("{l} 行 {c} 列")),
        ["line", l] => num(l).map(|l| format!("{l} 行目")),
        ["page", p] => num(p).map(|p| format!("{p} ページ")),
        ["paragraph", p] => num(p).map(|p| format!("第 {p} 段落")),
        ["comment", n] => num(n).map(|n| format!("コメント {n}")),
        ["text", "box", n] => num(n).map(|n| format!("テキストボックス {n}")),
        ["body"] => Some("本文".to_string()),
        ["subject"] => Some("件名".to_string()),
        ["header"] => Some("ヘッダー".to_string()),
        ["file", "name"] => Some("ファイル名".to_string()),
        ["image"] => Some("画像".to_string()),
        _ => None,
    };
    match ja {
        Some(j) => format!("{j}{ocr}"),
        None => stored.to_string(),
    }
}

/// A stored timestamp (RFC 3339 UTC) as a date and time in Japan
/// (`2026-11-24 17:05`); the text itself when it is not one.
pub fn time_jst(stored: &str) -> String {
    match stored.parse::<jiff::Timestamp>() {
        Ok(t) => t
            .to_zoned(crate::time::jst())
            .strftime("%Y-%m-%d %H:%M")
            .to_string(),
        Err(_) => stored.to_string(),
    }
}

/// [`time_jst`] for many timestamps (a CSV of a million findings): Japan is
/// UTC+9 whole hours all year, so only the date and hour change, and they
/// are converted once per hour met.
#[derive(Debug, Default)]
pub struct JstClock {
    hours: std::collections::HashMap<String, String>,
}

impl JstClock {
    pub fn time(&mut self, stored: &str) -> String {
        // 2026-11-30T18:44:16.433Z: the hour is [..13], the minutes [13..16].
        let (Some(hour), Some(minutes)) = (stored.get(..13), stored.get(13..16)) else {
            return time_jst(stored);
        };
        if stored.as_bytes().get(10) != Some(&b'T') || !stored.ends_with('Z') {
            return time_jst(stored);
        }
        if let Some(p) = self.hours.get(hour) {
            return format!("{p}{minutes}");
        }
        let converted = time_jst(&format!("{hour}:00:00.000Z"));
        match converted.strip_suffix(":00").filter(|p| p.len() == 13) {
            Some(p) => {
                let out = format!("{p}{minutes}");
                self.hours.insert(hour.to_string(), p.to_string());
                out
            }
            None => time_jst(stored),
        }
    }
}

/// A stored timestamp as a civil date-time in Japan (for Excel dates).
pub fn datetime_jst(stored: &str) -> Option<jiff::civil::DateTime> {
    stored
        .parse::<jiff::Timestamp>()
        .ok()
        .map(|t| t.to_zoned(crate::time::jst()).datetime())
}

/// A count with thousands separators (`12,345`).
pub fn number(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 + 1);
    if n < 0 {
        out.push('-');
    }
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A change against last week: `+3`, `−2`, `±0`.
pub fn delta(now: i64, before: i64) -> String {
    let d = now - before;
    match d.cmp(&0) {
        std::cmp::Ordering::Greater => format!("+{}", number(d)),
        std::cmp::Ordering::Less => format!("−{}", number(-d)),
        std::cmp::Ordering::Equal => "±0".to_string(),
    }
}

/// Picks the text of the report's language.
pub fn t(lang: Lang, ja: &'static str, en: &'static str) -> &'static str {
    match lang {
        Lang::Ja => ja,
        Lang::En => en,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_become_words() {
        assert_eq!(kind("my_number", Lang::Ja), "個人番号（マイナンバー）");
        assert_eq!(kind("my_number", Lang::En), "My Number");
        assert_eq!(kind("who_knows", Lang::Ja), "who_knows");
        assert_eq!(flag("retention_expired", Lang::Ja), "保存期間満了");
        assert_eq!(state("false_positive", Lang::Ja), "誤検出");
        assert_eq!(unreadable("encrypted", Lang::Ja), "暗号化");
        assert_eq!(action("transfer", Lang::Ja), "移管");
        assert_eq!(confidence("high", Lang::Ja), "高");
    }

    #[test]
    fn numbers_times_and_deltas() {
        assert_eq!(number(0), "0");
        assert_eq!(number(999), "999");
        assert_eq!(number(1_000), "1,000");
        assert_eq!(number(1_234_567), "1,234,567");
        assert_eq!(number(-4_500), "-4,500");
        assert_eq!(delta(10, 7), "+3");
        assert_eq!(delta(7, 10), "−3");
        assert_eq!(delta(5, 5), "±0");
        // 15:00 UTC is midnight in Japan.
        assert_eq!(time_jst("2026-11-22T15:00:00.000Z"), "2026-11-23 00:00");
        assert_eq!(time_jst("not a time"), "not a time");
    }

    #[test]
    fn locations_in_japanese() {
        assert_eq!(location("line 6 column 5", Lang::Ja), "6 行 5 列");
        assert_eq!(location("line 12", Lang::Ja), "12 行目");
        assert_eq!(location("page 3", Lang::Ja), "3 ページ");
        assert_eq!(location("page 3 (OCR)", Lang::Ja), "3 ページ（OCR）");
        assert_eq!(location("paragraph 4", Lang::Ja), "第 4 段落");
        assert_eq!(location("file name", Lang::Ja), "ファイル名");
        assert_eq!(location("名簿!B3", Lang::Ja), "名簿!B3");
        assert_eq!(location("line x column 5", Lang::Ja), "line x column 5");
        assert_eq!(location("line 6 column 5", Lang::En), "line 6 column 5");
    }

    #[test]
    fn the_clock_agrees_with_time_jst() {
        let mut c = JstClock::default();
        for t in [
            "2026-11-22T15:00:00.000Z",
            "2026-11-22T15:59:59.999Z",
            "2026-12-31T14:59:00.000Z",
            "2026-12-31T15:01:00.000Z",
            "2028-02-28T15:30:00.000Z",
            "2026-11-22T15:07:00.000Z",
            "not a time",
            "2026-11-22",
        ] {
            assert_eq!(c.time(t), time_jst(t), "{t}");
            assert_eq!(c.time(t), time_jst(t), "{t}, memoised");
        }
        assert_eq!(c.time("2026-12-31T15:01:00.000Z"), "2027-01-01 00:01");
    }
}
