//! Masking text for display: what detectors find, plus every long digit
//! run and every e-mail address, whether a detector matched it or not.
//!
//! `mamori extract` shows document text and the names step shows file
//! names: the forms detectors miss (a My Number split by underscores, an
//! account number without its keyword) are exactly the ones that would
//! otherwise print in full, so display masking is wider than detection.

use std::ops::Range;

use crate::detect::Engine;
use crate::finding::Finding;
use crate::text::TextUnit;

/// How much is masked besides detector findings.
#[derive(Debug, Clone, Copy)]
pub struct RedactPolicy {
    /// Runs of at least this many digits (with any separators between
    /// them: spaces, dots, underscores, hyphens, line breaks) are masked.
    pub min_digit_run: usize,
    /// Keep an 8-digit run that is a plausible date (YYYYMMDD): common in
    /// file names (`20241105_議事録.docx`) and not an identifier.
    pub keep_dates: bool,
}

/// For document text (`mamori extract`).
pub const TEXT: RedactPolicy = RedactPolicy {
    min_digit_run: 8,
    keep_dates: false,
};

/// For file, folder and member names.
pub const NAMES: RedactPolicy = RedactPolicy {
    min_digit_run: 8,
    keep_dates: true,
};

fn digit_value(c: char) -> Option<u32> {
    match c {
        '0'..='9' => Some(c as u32 - '0' as u32),
        '０'..='９' => Some(c as u32 - '０' as u32),
        _ => None,
    }
}

fn is_separator(c: char) -> bool {
    matches!(
        c,
        ' ' | '\u{3000}'
            | '.'
            | '_'
            | '-'
            | '\n'
            | '\r'
            | '\t'
            | '－'
            | '‐'
            | '−'
            | '．'
            | '＿'
            | '・'
            | '/'
            | ','
    )
}

/// Byte ranges of digit runs to mask in `text`.
fn digit_runs(text: &str, policy: RedactPolicy) -> Vec<Range<usize>> {
    let mut out = Vec::new();
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let mut i = 0;
    while i < chars.len() {
        if digit_value(chars[i].1).is_none() {
            i += 1;
            continue;
        }
        // Extend over digits and single separators between digits.
        let start = i;
        let mut digits = Vec::new();
        let mut last_digit = i;
        let mut j = i;
        while j < chars.len() {
            if let Some(d) = digit_value(chars[j].1) {
                digits.push(d);
                last_digit = j;
                j += 1;
            } else if is_separator(chars[j].1)
                && chars
                    .get(j + 1)
                    .is_some_and(|(_, c)| digit_value(*c).is_some())
            {
                j += 1;
            } else {
                break;
            }
        }
        let end_byte = chars[last_digit].0 + chars[last_digit].1.len_utf8();
        let is_date = digits.len() == 8 && {
            let n = |a: usize, b: usize| digits[a..b].iter().fold(0u32, |v, d| v * 10 + d);
            let (y, m, d) = (n(0, 4), n(4, 6), n(6, 8));
            (1900..=2100).contains(&y) && (1..=12).contains(&m) && (1..=31).contains(&d)
        };
        if digits.len() >= policy.min_digit_run && !(policy.keep_dates && is_date) {
            out.push(chars[start].0..end_byte);
        }
        i = last_digit + 1;
    }
    out
}

/// Byte ranges of e-mail addresses' local parts (`taro.yamada` in
/// `taro.yamada@example.jp`): the domain stays readable.
fn email_locals(text: &str) -> Vec<Range<usize>> {
    let b = text.as_bytes();
    let local = |c: u8| c.is_ascii_alphanumeric() || b"._%+-!#$&'*/=?^`{|}~".contains(&c);
    let mut out = Vec::new();
    for (at, _) in text.match_indices('@') {
        let mut s = at;
        while s > 0 && local(b[s - 1]) {
            s -= 1;
        }
        let domain_ok = b.get(at + 1..).is_some_and(|d| {
            d.iter()
                .take_while(|c| c.is_ascii_alphanumeric() || **c == b'.' || **c == b'-')
                .any(|c| *c == b'.')
        });
        if s < at && domain_ok {
            out.push(s..at);
        }
    }
    out
}

/// `unit`'s text with findings masked (as their `masked` values) and,
/// following `policy`, long digit runs and e-mail local parts replaced by
/// `*`; with the findings (any confidence).
pub fn redact(
    engine: &Engine,
    unit: &TextUnit<'_>,
    policy: RedactPolicy,
) -> (String, Vec<Finding>) {
    let text: &str = &unit.text;
    let mut findings = Vec::new();
    engine.scan_unit(unit, &mut findings);
    // Replacements: (range, replacement); findings first, they read better.
    let mut reps: Vec<(Range<usize>, String)> = findings
        .iter()
        .filter(|f| text.is_char_boundary(f.span.start) && text.is_char_boundary(f.span.end))
        .map(|f| (f.span.clone(), f.masked.clone()))
        .collect();
    let stars = |r: &Range<usize>| -> String {
        text[r.clone()]
            .chars()
            .map(|c| {
                if digit_value(c).is_some() || !is_separator(c) {
                    '*'
                } else {
                    c
                }
            })
            .collect()
    };
    for r in digit_runs(text, policy)
        .into_iter()
        .chain(email_locals(text))
    {
        reps.push((r.clone(), stars(&r)));
    }
    // Apply from the end; where ranges overlap, cover their union with stars
    // so that no digit of either survives.
    reps.sort_by_key(|(r, _)| (r.start, std::cmp::Reverse(r.end)));
    let mut merged: Vec<(Range<usize>, String)> = Vec::new();
    for (r, s) in reps {
        match merged.last_mut() {
            Some((last, rep)) if r.start < last.end => {
                if r.end > last.end {
                    *last = last.start..r.end;
                    *rep = stars(last);
                }
            }
            _ => merged.push((r, s)),
        }
    }
    let mut out = text.to_string();
    for (r, s) in merged.into_iter().rev() {
        out.replace_range(r, &s);
    }
    (out, findings)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::Fingerprinter;
    use crate::text::Location;

    fn engine() -> Engine {
        Engine::load(None, Fingerprinter::new([0; 32])).unwrap()
    }

    fn red(text: &str, policy: RedactPolicy) -> String {
        redact(
            &engine(),
            &TextUnit::fixed(text, Location::Named("t".into())),
            policy,
        )
        .0
    }

    #[test]
    fn long_digit_runs_with_any_separators_are_masked() {
        for t in [
            "番号は 1234_5678_9018 です",
            "1234.5678.9018",
            "1234 5678\n9018",
            "口座 12345678",
        ] {
            let out = red(t, TEXT);
            assert!(!out.contains("5678"), "{t:?} -> {out:?}");
        }
        assert_eq!(red("内線 1234", TEXT), "内線 1234", "short runs stay");
        assert!(
            red("２０２４年１２３４５６７８", TEXT).contains('*'),
            "full-width digits"
        );
    }

    #[test]
    fn mail_addresses_keep_only_the_domain() {
        let out = red("連絡先 taro.yamada@example.jp まで", TEXT);
        assert!(!out.contains("aro.yamada"), "{out}");
        assert!(out.contains('@') && out.ends_with(".jp まで"), "{out}");
        // One the detectors do not take (no dot in the domain part they
        // accept) still has its local part hidden.
        let out = red("宛先: yamada_t+city@mail.example.lg.jp", TEXT);
        assert!(!out.contains("yamada"), "{out}");
    }

    #[test]
    fn names_keep_dates_but_not_numbers() {
        assert_eq!(red("20241105_議事録.docx", NAMES), "20241105_議事録.docx");
        let out = red("500080636086.csv", NAMES);
        assert!(!out.contains("0636"), "{out}");
        assert!(out.ends_with(".csv"), "{out}");
    }
}
