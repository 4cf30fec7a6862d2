//! Named validators that detector files refer to (`validator = "…"`).
//!
//! Each takes the matched value after the detector's `strip` characters were
//! removed and returns a three-way [`Validation`] (presidio's True/False/None):
//! `Invalid` drops the match, `NotApplicable` leaves the decision to context.
//! Validators are pure: no I/O, no logging, no values in error text.

use std::collections::HashSet;
use std::sync::OnceLock;

pub use crate::finding::Validation;

/// A validator function, looked up by name from detector files.
pub type Validator = fn(&str) -> Validation;

/// Every validator a detector file may name. Keep sorted.
pub const VALIDATORS: &[(&str, Validator)] = &[
    ("corporate_number_check_digit", corporate_number_check_digit),
    ("credit_card", credit_card),
    ("date", date),
    ("drivers_license_check_digit", drivers_license_check_digit),
    ("email_syntax", email_syntax),
    ("japanese_name", japanese_name),
    ("jp_phone", jp_phone),
    ("luhn", luhn_validator),
    ("my_number_check_digit", my_number_check_digit),
    ("resident_code_check_digit", resident_code_check_digit),
];

/// Whether a validator checks a check digit, so that a failing value is
/// not of the kind (column evidence drops a column of failing values).
pub fn is_check_digit(name: &str) -> bool {
    matches!(
        name,
        "my_number_check_digit" | "corporate_number_check_digit" | "credit_card" | "luhn"
    )
}

/// Looks a validator up by name.
pub fn by_name(name: &str) -> Option<Validator> {
    VALIDATORS.iter().find(|(n, _)| *n == name).map(|(_, f)| *f)
}

/// The digits of an all-ASCII-digit value (at most 32: longer values are
/// no identifier), without allocating: validators run at every candidate.
fn ascii_digits(s: &str) -> Option<Digits> {
    if s.is_empty() || s.len() > 32 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let mut d = Digits {
        buf: [0; 32],
        len: s.len(),
    };
    for (slot, b) in d.buf.iter_mut().zip(s.bytes()) {
        *slot = u32::from(b - b'0');
    }
    Some(d)
}

/// Up to 32 decimal digits.
struct Digits {
    buf: [u32; 32],
    len: usize,
}

impl std::ops::Deref for Digits {
    type Target = [u32];
    fn deref(&self) -> &[u32] {
        &self.buf[..self.len]
    }
}

/// 個人番号: mod-11 check digit, weights 6,5,4,3,2,7,6,5,4,3,2 left to right
/// (総務省令第85号 第5条). `000000000000` passes the arithmetic but is no number.
pub fn my_number_check_digit(s: &str) -> Validation {
    let Some(d) = ascii_digits(s) else {
        return Validation::Invalid;
    };
    if d.len() != 12 || d.iter().all(|&x| x == d[0]) {
        return Validation::Invalid;
    }
    const W: [u32; 11] = [6, 5, 4, 3, 2, 7, 6, 5, 4, 3, 2];
    let sum: u32 = d[..11].iter().zip(W).map(|(a, b)| a * b).sum();
    let r = sum % 11;
    let check = if r <= 1 { 0 } else { 11 - r };
    if check == d[11] {
        Validation::Valid
    } else {
        Validation::Invalid
    }
}

/// 法人番号: leading check digit = 9 − (Σ Pn·Qn mod 9), Qn = 1 for odd n and 2
/// for even n counting from the right of the 12-digit base (財務省令第70号 第2条).
pub fn corporate_number_check_digit(s: &str) -> Validation {
    let Some(d) = ascii_digits(s) else {
        return Validation::Invalid;
    };
    if d.len() != 13 || d[0] == 0 {
        return Validation::Invalid;
    }
    let sum: u32 = d[1..]
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &p)| p * if i % 2 == 0 { 1 } else { 2 })
        .sum();
    if 9 - sum % 9 == d[0] {
        Validation::Valid
    } else {
        Validation::Invalid
    }
}

/// 住民票コード: the published formula could not be verified (identifiers.md §3),
/// so this is a booster only: a pass is `Valid`, a fail is `NotApplicable`,
/// never `Invalid`.
pub fn resident_code_check_digit(s: &str) -> Validation {
    let Some(d) = ascii_digits(s) else {
        return Validation::Invalid;
    };
    if d.len() != 11 {
        return Validation::Invalid;
    }
    // weights from the right of the 10 leading digits: 2,3,4,5,6,7,2,3,4,5
    const W: [u32; 10] = [2, 3, 4, 5, 6, 7, 2, 3, 4, 5];
    let sum: u32 = d[..10].iter().rev().zip(W).map(|(a, b)| a * b).sum();
    let r = sum % 11;
    let check = if r <= 1 { 0 } else { 11 - r };
    if check == d[10] {
        Validation::Valid
    } else {
        Validation::NotApplicable
    }
}

/// 運転免許証番号: the check digit is unofficial and reverse-engineered
/// (identifiers.md §6): booster only, like the resident code.
pub fn drivers_license_check_digit(s: &str) -> Validation {
    let Some(d) = ascii_digits(s) else {
        return Validation::Invalid;
    };
    // The first two digits are a 公安委員会 code: 10 (函館) to 97 (沖縄).
    if d.len() != 12 || !(10..=97).contains(&(d[0] * 10 + d[1])) {
        return Validation::Invalid;
    }
    const W: [u32; 10] = [5, 4, 3, 2, 7, 6, 5, 4, 3, 2];
    let sum: u32 = d[..10].iter().zip(W).map(|(a, b)| a * b).sum();
    let check = (11 - sum % 11) % 10;
    if check == d[10] {
        Validation::Valid
    } else {
        Validation::NotApplicable
    }
}

/// The Luhn check over a digit string.
pub fn luhn(s: &str) -> bool {
    let Some(d) = ascii_digits(s) else {
        return false;
    };
    let total: u32 = d
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &x)| {
            if i % 2 == 1 {
                let y = x * 2;
                if y > 9 {
                    y - 9
                } else {
                    y
                }
            } else {
                x
            }
        })
        .sum();
    total.is_multiple_of(10)
}

fn luhn_validator(s: &str) -> Validation {
    if luhn(s) {
        Validation::Valid
    } else {
        Validation::Invalid
    }
}

/// Card numbers: Luhn plus an issuer prefix whose length fits.
pub fn credit_card(s: &str) -> Validation {
    let Some(d) = ascii_digits(s) else {
        return Validation::Invalid;
    };
    if d.iter().all(|&x| x == d[0]) || !luhn(s) {
        return Validation::Invalid;
    }
    let n = d.len();
    let p2: u32 = s[..2].parse().unwrap_or(0);
    let p3: u32 = s[..3].parse().unwrap_or(0);
    let p4: u32 = s[..4].parse().unwrap_or(0);
    let issuer_ok = match n {
        13 => d[0] == 4,                                         // old Visa
        14 => p2 == 36 || p2 == 38 || (300..=305).contains(&p3), // Diners
        15 => p2 == 34 || p2 == 37,                              // Amex
        16 => {
            d[0] == 4                                                             // Visa
                || (51..=55).contains(&p2) || (2221..=2720).contains(&p4)         // Mastercard
                || (3528..=3589).contains(&p4)                                    // JCB
                || p4 == 6011 || p2 == 65                                         // Discover
                || p2 == 62 // UnionPay
        }
        _ => false,
    };
    if issuer_ok {
        Validation::Valid
    } else {
        Validation::Invalid
    }
}

/// Japanese phone numbers by the numbering plan (identifiers.md §12.1).
/// Free-dial and navi-dial numbers are not personal: `Invalid`.
pub fn jp_phone(s: &str) -> Validation {
    // The digits, in a buffer on the stack (phone numbers are short).
    let mut buf = [0u8; 16];
    let mut n = 0;
    for b in s.bytes().filter(u8::is_ascii_digit) {
        if n == buf.len() {
            return Validation::Invalid;
        }
        buf[n] = b;
        n += 1;
    }
    let digits = &buf[..n];
    let international =
        s.trim_start().starts_with('+') || (digits.starts_with(b"81") && !digits.starts_with(b"0"));
    let mut local = [0u8; 17];
    let d: &[u8] = if international {
        match digits.strip_prefix(b"81") {
            Some(rest) => {
                local[0] = b'0';
                local[1..=rest.len()].copy_from_slice(rest);
                &local[..=rest.len()]
            }
            None => return Validation::Invalid,
        }
    } else {
        digits
    };
    if d.len() < 10 || d[0] != b'0' || d[1] == b'0' {
        return Validation::Invalid;
    }
    for service in [&b"0120"[..], b"0800", b"0570", b"0180", b"0990"] {
        if d.starts_with(service) {
            return Validation::Invalid;
        }
    }
    if d[2] == b'0' {
        // 0A0: mobile (060/070/080/090), IP (050), M2M (020): 11 digits.
        if d.len() == 11 && matches!(d[1], b'2' | b'5' | b'6' | b'7' | b'8' | b'9') {
            Validation::Valid
        } else {
            Validation::Invalid
        }
    } else if d.len() == 10 {
        Validation::Valid
    } else {
        Validation::Invalid
    }
}

/// E-mail address syntax (after NFKC): a sane local part and a dotted domain
/// with an alphabetic top-level label.
pub fn email_syntax(s: &str) -> Validation {
    let Some((local, domain)) = s.rsplit_once('@') else {
        return Validation::Invalid;
    };
    let local_ok = !local.is_empty()
        && local.len() <= 64
        && !local.starts_with('.')
        && !local.ends_with('.')
        && !local.contains("..");
    let labels: Vec<&str> = domain.split('.').collect();
    let domain_ok = labels.len() >= 2
        && labels
            .iter()
            .all(|l| !l.is_empty() && !l.starts_with('-') && !l.ends_with('-'))
        && labels
            .last()
            .is_some_and(|t| t.len() >= 2 && t.chars().all(|c| c.is_ascii_alphabetic()));
    if local_ok && domain_ok {
        Validation::Valid
    } else {
        Validation::Invalid
    }
}

/// Dates, 西暦 and 和暦: `Invalid` for an impossible date (2月30日) or one in
/// the future, `NotApplicable` for a date outside its era (forms printed
/// before an era change carry such dates), `Valid` otherwise.
pub fn date(s: &str) -> Validation {
    match parse_date(s) {
        Some(ParsedDate {
            year,
            month,
            day,
            in_era,
        }) => {
            if !is_real_date(year, month, day) || (year, month, day) > today() {
                Validation::Invalid
            } else if !in_era {
                Validation::NotApplicable
            } else {
                Validation::Valid
            }
        }
        None => Validation::Invalid,
    }
}

/// A date parsed from 西暦 or 和暦 text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParsedDate {
    pub year: i32,
    pub month: u32,
    pub day: u32,
    /// False when a 和暦 date lies outside its era (e.g. 昭和64年1月8日).
    pub in_era: bool,
}

struct Era {
    names: &'static [&'static str],
    offset: i32,
    first: (i32, u32, u32),
    last: (i32, u32, u32),
}

const ERAS: [Era; 5] = [
    Era {
        names: &["明治", "M", "m"],
        offset: 1867,
        first: (1868, 1, 25),
        last: (1912, 7, 29),
    },
    Era {
        names: &["大正", "T", "t"],
        offset: 1911,
        first: (1912, 7, 30),
        last: (1926, 12, 24),
    },
    Era {
        names: &["昭和", "S", "s"],
        offset: 1925,
        first: (1926, 12, 25),
        last: (1989, 1, 7),
    },
    Era {
        names: &["平成", "H", "h"],
        offset: 1988,
        first: (1989, 1, 8),
        last: (2019, 4, 30),
    },
    Era {
        names: &["令和", "R", "r"],
        offset: 2018,
        first: (2019, 5, 1),
        last: (9999, 12, 31),
    },
];

/// Parses `昭和50年1月1日`, `S50.1.1`, `昭和五十年一月一日`, `平成元年1月8日`,
/// `1975年1月1日`, `1975/01/01`, `1975-1-1`, `19750101`.
pub fn parse_date(s: &str) -> Option<ParsedDate> {
    let s = s.trim();
    // YYYYMMDD, as system extracts write dates.
    if s.len() == 8 && s.bytes().all(|b| b.is_ascii_digit()) {
        let n = |r: std::ops::Range<usize>| s.get(r).and_then(|x| x.parse::<u32>().ok());
        let (y, month, day) = (n(0..4)?, n(4..6)?, n(6..8)?);
        if !(1868..=2999).contains(&y) {
            return None;
        }
        return Some(ParsedDate {
            year: y as i32,
            month,
            day,
            in_era: true,
        });
    }
    let (era, rest) = match ERAS.iter().find_map(|e| {
        e.names
            .iter()
            .find(|n| s.starts_with(**n))
            .map(|n| (e, &s[n.len()..]))
    }) {
        Some((e, r)) => (Some(e), r.trim_start()),
        None => (None, s),
    };
    let nums = split_numbers(rest)?;
    if nums.len() != 3 {
        return None;
    }
    let (y, month, day) = (nums[0], nums[1], nums[2]);
    match era {
        Some(e) => {
            if y == 0 || y > 99 {
                return None;
            }
            let year = e.offset + y as i32;
            let ymd = (year, month, day);
            Some(ParsedDate {
                year,
                month,
                day,
                in_era: ymd >= e.first && ymd <= e.last,
            })
        }
        None => {
            if !(1868..=2999).contains(&y) {
                return None;
            }
            Some(ParsedDate {
                year: y as i32,
                month,
                day,
                in_era: true,
            })
        }
    }
}

/// Splits `50年1月1日`, `50.1.1`, `元年1月8日`, `五十年一月一日` into numbers.
fn split_numbers(s: &str) -> Option<Vec<u32>> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let flush = |cur: &mut String, out: &mut Vec<u32>| -> Option<()> {
        if !cur.is_empty() {
            out.push(parse_number(cur)?);
            cur.clear();
        }
        Some(())
    };
    for c in s.chars() {
        if c.is_ascii_digit() || "〇一二三四五六七八九十元".contains(c) {
            cur.push(c);
        } else if matches!(c, '年' | '月' | '日' | '.' | '/' | '-' | ' ' | '生') {
            flush(&mut cur, &mut out)?;
        } else {
            return None;
        }
    }
    flush(&mut cur, &mut out)?;
    Some(out)
}

/// Parses Arabic digits, `元` (1) and kanji numerals up to 99 (`五十`, `三十一`, `二〇`).
fn parse_number(s: &str) -> Option<u32> {
    if s == "元" {
        return Some(1);
    }
    if s.bytes().all(|b| b.is_ascii_digit()) {
        return s.parse().ok().filter(|&n: &u32| n < 10000);
    }
    let digit = |c: char| {
        "〇一二三四五六七八九"
            .chars()
            .position(|k| k == c)
            .map(|p| p as u32)
    };
    if let Some((tens, ones)) = s.split_once('十') {
        let t = if tens.is_empty() {
            1
        } else {
            digit(single(tens)?)?
        };
        let o = if ones.is_empty() {
            0
        } else {
            digit(single(ones)?)?
        };
        return Some(t * 10 + o);
    }
    let mut n = 0;
    for c in s.chars() {
        n = n * 10 + digit(c)?;
    }
    Some(n)
}

fn single(s: &str) -> Option<char> {
    let mut it = s.chars();
    let c = it.next()?;
    it.next().is_none().then_some(c)
}

fn is_real_date(y: i32, m: u32, d: u32) -> bool {
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let days = match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    d >= 1 && d <= days
}

/// Today's date in Japan as (year, month, day), looked up at most once a
/// minute (every birth-date candidate asks).
fn today() -> (i32, u32, u32) {
    type Ymd = (i32, u32, u32);
    static CACHE: std::sync::Mutex<Option<(std::time::Instant, Ymd)>> = std::sync::Mutex::new(None);
    let mut c = CACHE.lock().unwrap_or_else(|e| e.into_inner());
    if let Some((at, d)) = *c {
        if at.elapsed() < std::time::Duration::from_secs(60) {
            return d;
        }
    }
    let d = crate::time::today_jst();
    let d = (i32::from(d.year()), d.month() as u32, d.day() as u32);
    *c = Some((std::time::Instant::now(), d));
    d
}

/// The name lexicon: surnames, given names and their readings from IPADIC
/// (`data/`, made by `data/make_names.py`; licence in `data/IPADIC-COPYING`).
struct NameLexicon {
    surnames: HashSet<&'static str>,
    /// Surnames that are also ordinary words (大家, 神): alone they are no name.
    common: HashSet<&'static str>,
    given: HashSet<&'static str>,
    /// Katakana readings of surnames and of given names.
    surname_readings: HashSet<&'static str>,
    given_readings: HashSet<&'static str>,
}

fn lexicon() -> &'static NameLexicon {
    static LEX: OnceLock<NameLexicon> = OnceLock::new();
    LEX.get_or_init(|| {
        let lines = |text: &'static str| {
            text.lines()
                .filter(|l| !l.is_empty() && !l.starts_with('#'))
                .map(|l| l.split_once('\t').unwrap_or((l, "")))
        };
        let mut lex = NameLexicon {
            surnames: HashSet::new(),
            common: HashSet::new(),
            given: HashSet::new(),
            surname_readings: HashSet::new(),
            given_readings: HashSet::new(),
        };
        for (name, flag) in lines(include_str!("data/surnames.txt")) {
            lex.surnames.insert(name);
            if flag == "common" {
                lex.common.insert(name);
            }
        }
        lex.given
            .extend(lines(include_str!("data/given_names.txt")).map(|(n, _)| n));
        for (reading, kind) in lines(include_str!("data/name_readings.txt")) {
            if kind == "s" {
                lex.surname_readings.insert(reading);
            } else {
                lex.given_readings.insert(reading);
            }
        }
        lex
    })
}

fn is_han(c: char) -> bool {
    matches!(c as u32, 0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xF900..=0xFAFF | 0x20000..=0x3FFFF)
        || matches!(c, '々' | 'ヶ' | '〆')
}

fn is_hiragana(c: char) -> bool {
    ('\u{3041}'..='\u{3096}').contains(&c) || c == 'ー'
}

fn is_katakana(c: char) -> bool {
    ('\u{30A1}'..='\u{30FA}').contains(&c) || c == 'ー'
}

/// Katakana for hiragana (readings are kept in katakana).
fn to_katakana(s: &str) -> String {
    s.chars()
        .map(|c| {
            if ('\u{3041}'..='\u{3096}').contains(&c) {
                char::from_u32(c as u32 + 0x60).unwrap_or(c)
            } else {
                c
            }
        })
        .collect()
}

/// Endings of words that name an office, a shop or a role, not a person
/// (総務課, 山田商店, 佐藤課長).
const NOT_NAME_ENDINGS: &[char] = &[
    '課', '係', '部', '室', '局', '所', '社', '会', '店', '屋', '院', '園', '館', '庁', '署', '校',
    '団', '組', '班', '長', '員', '者', '様', '殿', '氏', '方', '等', '達', '宛', '用', '欄', '書',
    '表', '票',
    // businesses named after their owner: 山田工業, 佐藤建設, 田中電機
    '業', '設', '機', '工', '産', '商', '販', '電', '鉄', '輸', '薬', '製', '材', '興', '建', '協',
    '舗', '亭', '荘', '寮',
];

/// Words that mark an organisation anywhere in the value.
const ORGANISATION_WORDS: &[&str] = &[
    "株式会社",
    "有限会社",
    "合同会社",
    "法人",
    "協会",
    "組合",
    "事務所",
    "委員会",
    "センター",
    "市役所",
    "役場",
    "御中",
];

/// Whether `given` can be a given name: a known one (kanji or kana), or the
/// shape of one (1–3 kanji, 2–4 kana with an optional kanji: ゆり子).
fn plausible_given(given: &str) -> bool {
    let lex = lexicon();
    if given.is_empty() {
        return false;
    }
    if lex.given.contains(given) || lex.given_readings.contains(to_katakana(given).as_str()) {
        return true;
    }
    let chars: Vec<char> = given.chars().collect();
    let n = chars.len();
    if chars.iter().all(|&c| is_han(c)) {
        return (1..=3).contains(&n) && !NOT_NAME_ENDINGS.contains(&chars[n - 1]);
    }
    let (kana, last_han) = match chars.split_last() {
        Some((&l, rest)) if is_han(l) => (rest, true),
        _ => (&chars[..], false),
    };
    let kana_ok = kana.iter().all(|&c| is_hiragana(c)) || kana.iter().all(|&c| is_katakana(c));
    kana_ok && (2..=5).contains(&kana.len()) && (!last_han || kana.len() <= 3)
}

/// The known surname a name starts with (kanji, or the katakana reading of
/// one) and the rest of the name. Without a space between them, the longest
/// surname that leaves a plausible given name is taken.
fn name_evidence(t: &str) -> Option<(&'static str, String)> {
    let lex = lexicon();
    let known = |part: &str| -> Option<&'static str> {
        if let Some(s) = lex.surnames.get(part) {
            return Some(s);
        }
        lex.surname_readings
            .get(to_katakana(part).as_str())
            .copied()
    };
    if let Some((first, rest)) = t.split_once(' ') {
        return known(first).map(|s| (s, rest.trim().to_string()));
    }
    let chars: Vec<(usize, char)> = t.char_indices().collect();
    let mut fallback: Option<(&'static str, String)> = None;
    for take in (1..=6.min(chars.len())).rev() {
        let end = chars.get(take).map(|&(i, _)| i).unwrap_or(t.len());
        let head = &t[..end];
        // Kanji surnames have at most four characters, readings six.
        if take > 4 && !head.chars().all(|c| is_katakana(c) || is_hiragana(c)) {
            continue;
        }
        if let Some(s) = known(head) {
            let rest = &t[end..];
            if rest.is_empty() || plausible_given(rest) {
                return Some((s, rest.to_string()));
            }
            fallback.get_or_insert((s, rest.to_string()));
        }
    }
    fallback
}

/// Words that follow a name label or precede 様/殿 but are no name: other
/// form labels (a blank form reads `氏名　　住所`), titles and collective nouns.
const NOT_NAMES: &[&str] = &[
    "一覧",
    "名簿",
    "数",
    "様式",
    "用",
    "向け",
    "全員",
    "以外",
    "本人確認",
    "氏名",
    "名前",
    "申請者",
    "請求者",
    "申出人",
    "届出人",
    "代表者",
    "世帯主",
    "相談者",
    "受給者",
    "住所",
    "所在地",
    "電話",
    "生年月日",
    "年齢",
    "性別",
    "職業",
    "連絡先",
    "記入",
    "署名",
    "押印",
    "印",
    "フリガナ",
    "ふりがな",
    "及び",
    "又は",
    "等",
    "欄",
    "については",
    "を",
    "の",
    "皆",
    "各位",
    "お客",
    "担当",
    "関係",
    "市長",
    "区長",
    "町長",
    "村長",
    "知事",
    "議長",
    "課長",
    "部長",
    "係長",
    "所長",
    "校長",
    "会長",
    "社長",
    "理事長",
    "委員長",
    "局長",
    "院長",
    "園長",
    "館長",
    "代表",
    "御中",
    "貴殿",
    "殿",
    "様",
    "宛",
    "本人",
    "個人",
    "法人",
    "番号",
    "名称",
    "日",
    "年",
    "月",
    "同上",
    "続柄",
    "住民",
    "旅券",
    "免許",
    "保険",
    "被保険者",
    "口座",
    "年金",
    "基礎年金",
    "郵便",
    "備考",
    "区分",
    "地区",
    "国籍",
    "本籍",
    "筆頭者",
    "勤務先",
    "所属",
    "不明",
    "未定",
    "なし",
    "無し",
];

/// Whether `t` starts with one of `NOT_NAMES` (a set lookup per prefix
/// length: names are checked by the thousand in a resident list).
fn starts_with_not_name(t: &str) -> bool {
    static SET: OnceLock<(HashSet<&'static str>, usize)> = OnceLock::new();
    let (set, longest) = SET.get_or_init(|| {
        let longest = NOT_NAMES
            .iter()
            .map(|w| w.chars().count())
            .max()
            .unwrap_or(0);
        (NOT_NAMES.iter().copied().collect(), longest)
    });
    t.char_indices()
        .map(|(i, c)| i + c.len_utf8())
        .take(*longest)
        .any(|end| set.contains(&t[..end]))
}

/// Person names (氏名). `Invalid` for what is no name: other form labels
/// and titles (`NOT_NAMES`), organisations (株式会社…, …課, …店), a single
/// character. `Valid` when the name starts with a surname of the lexicon
/// and the rest can be a given name (佐々木 あすか, 山口 七夏, ゆり子), or
/// is a katakana name whose surname reading is known (ヤマダ タロウ), or is
/// a surname alone that is not also an ordinary word (大家, 神). Otherwise
/// `NotApplicable`: a label may still vouch for it.
pub fn japanese_name(s: &str) -> Validation {
    let t = s.trim();
    if t.is_empty() || starts_with_not_name(t) || ORGANISATION_WORDS.iter().any(|w| t.contains(w)) {
        return Validation::Invalid;
    }
    if t.chars().filter(|c| !c.is_whitespace()).count() < 2 {
        return Validation::Invalid;
    }
    let Some((surname, rest)) = name_evidence(t) else {
        // A whole word that ends like an office or a role is no name.
        if t.chars()
            .next_back()
            .is_some_and(|c| NOT_NAME_ENDINGS.contains(&c))
        {
            return Validation::Invalid;
        }
        return Validation::NotApplicable;
    };
    if rest.is_empty() {
        if lexicon().common.contains(surname) {
            return Validation::NotApplicable;
        }
        return Validation::Valid;
    }
    if rest
        .chars()
        .next_back()
        .is_some_and(|c| NOT_NAME_ENDINGS.contains(&c))
        || starts_with_not_name(&rest)
    {
        return Validation::Invalid;
    }
    // A surname that is also an ordinary word (財, 神) run together with
    // what follows is a word more often than a name (財政): it needs a
    // known given name and three characters at least.
    if lexicon().common.contains(surname)
        && !t.contains(' ')
        && (!lexicon().given.contains(rest.as_str()) || t.chars().count() < 3)
    {
        return Validation::NotApplicable;
    }
    if plausible_given(&rest) {
        Validation::Valid
    } else {
        Validation::NotApplicable
    }
}

#[cfg(test)]
mod tests {
    use super::Validation::*;
    use super::*;

    #[test]
    fn my_number_vectors() {
        for v in [
            "258231856428",
            "063619562099",
            "614748492532",
            "636834851670",
            "123456789018",
            "023456789013",
            "983205673214",
            "895980423139",
            "548836529885",
        ] {
            assert_eq!(my_number_check_digit(v), Valid, "{v}");
        }
        for v in [
            "258231856429",
            "063619562090",
            "614748492533",
            "258321856428",
            "123456789019",
            "828731078542",
            "000000000000",
            "12345678901",
            "12345678901x",
        ] {
            assert_eq!(my_number_check_digit(v), Invalid, "{v}");
        }
    }

    #[test]
    fn my_number_random_pass_rate_is_one_in_ten() {
        // Deterministic LCG; exactly one last digit fits each prefix.
        let mut x: u64 = 20240401;
        let mut pass = 0;
        let n = 20_000;
        for _ in 0..n {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let s = format!("{:012}", (x >> 20) % 1_000_000_000_000);
            if my_number_check_digit(&s) == Valid {
                pass += 1;
            }
        }
        let rate = pass as f64 / n as f64;
        assert!((0.09..0.11).contains(&rate), "rate {rate}");
    }

    #[test]
    fn corporate_number_vectors() {
        for v in [
            "7000012050002",
            "1000011000005",
            "1000012010003",
            "8000020130001",
            "3000020141003",
            "2000020261009",
            "3000020231002",
            "1000020230006",
            "1180301018771",
        ] {
            assert_eq!(corporate_number_check_digit(v), Valid, "{v}");
        }
        for v in [
            "8000012050002",
            "2010001163281",
            "4901234567894",
            "0000012050002",
        ] {
            assert_eq!(corporate_number_check_digit(v), Invalid, "{v}");
        }
    }

    #[test]
    fn luhn_and_cards() {
        assert!(luhn("4111111111111111"));
        assert!(!luhn("4111111111111112"));
        assert!(luhn("33120015"));
        assert_eq!(credit_card("4111111111111111"), Valid);
        assert_eq!(credit_card("3530111333300000"), Valid);
        assert_eq!(credit_card("378282246310005"), Valid);
        assert_eq!(credit_card("4111111111111112"), Invalid);
        // Luhn-valid but no issuer starts with 1.
        assert_eq!(credit_card("1111111111111117"), Invalid);
    }

    #[test]
    fn drivers_licence_codes() {
        assert_eq!(drivers_license_check_digit("301234567810"), Valid);
        assert_eq!(drivers_license_check_digit("301234567890"), NotApplicable);
        assert_eq!(drivers_license_check_digit("001234567810"), Invalid);
    }

    #[test]
    fn resident_code_is_booster_only() {
        assert_eq!(resident_code_check_digit("24727059608"), Valid);
        assert_eq!(resident_code_check_digit("24727059609"), NotApplicable);
        assert_eq!(resident_code_check_digit("2472705960"), Invalid);
    }

    #[test]
    fn phones_by_numbering_plan() {
        assert_eq!(jp_phone("03-1234-5678"), Valid);
        assert_eq!(jp_phone("0312345678"), Valid);
        assert_eq!(jp_phone("090-1234-5678"), Valid);
        assert_eq!(jp_phone("050-1234-5678"), Valid);
        assert_eq!(jp_phone("+81 90-1234-5678"), Valid);
        assert_eq!(jp_phone("090-1234-567"), Invalid);
        assert_eq!(jp_phone("0120-123-456"), Invalid);
        assert_eq!(jp_phone("0800-123-4567"), Invalid);
        assert_eq!(jp_phone("0570-123-456"), Invalid);
        assert_eq!(jp_phone("1234567890"), Invalid);
        assert_eq!(jp_phone("03-1234-56789"), Invalid);
    }

    #[test]
    fn emails() {
        assert_eq!(email_syntax("taro.yamada@example.co.jp"), Valid);
        assert_eq!(email_syntax(".taro@example.jp"), Invalid);
        assert_eq!(email_syntax("taro@localhost"), Invalid);
        assert_eq!(email_syntax("taro@example.123"), Invalid);
    }

    #[test]
    fn wareki_dates() {
        let p = |s| parse_date(s).map(|d| (d.year, d.month, d.day));
        assert_eq!(p("昭和50年1月1日"), Some((1975, 1, 1)));
        assert_eq!(p("S50.1.1"), Some((1975, 1, 1)));
        assert_eq!(p("昭和五十年一月一日"), Some((1975, 1, 1)));
        assert_eq!(p("H1.1.8"), Some((1989, 1, 8)));
        assert_eq!(p("平成元年1月8日"), Some((1989, 1, 8)));
        assert_eq!(p("R2.3.4"), Some((2020, 3, 4)));
        assert_eq!(p("1975年1月1日"), Some((1975, 1, 1)));
        assert_eq!(p("1975/01/01"), Some((1975, 1, 1)));
        assert_eq!(p("19750101"), Some((1975, 1, 1)));
        assert_eq!(date("19751301"), Invalid);
        assert_eq!(p("平成三十一年四月三十日"), Some((2019, 4, 30)));
        assert_eq!(date("昭和64年1月7日"), Valid);
        assert_eq!(date("昭和64年1月8日"), NotApplicable);
        assert_eq!(date("平成31年4月30日"), Valid);
        assert_eq!(date("平成31年5月1日"), NotApplicable);
        assert_eq!(date("令和2年2月30日"), Invalid);
        assert_eq!(date("2000年2月29日"), Valid);
        assert_eq!(date("1900年2月29日"), Invalid);
        assert_eq!(date("2999年1月1日"), Invalid); // in the future
        assert_eq!(date("昭和50年13月1日"), Invalid);
    }

    #[test]
    fn names_boost_and_deny() {
        assert_eq!(japanese_name("山田太郎"), Valid);
        assert_eq!(japanese_name("佐々木 花子"), Valid);
        assert_eq!(japanese_name("佐々木 あすか"), Valid);
        assert_eq!(japanese_name("山口 七夏"), Valid);
        assert_eq!(japanese_name("山口七夏"), Valid);
        assert_eq!(japanese_name("渡邉 はる香"), Valid);
        assert_eq!(japanese_name("ヤマダ タロウ"), Valid);
        assert_eq!(japanese_name("田中"), Valid);
        // A surname that is also an ordinary word is no evidence alone.
        assert_eq!(japanese_name("大家"), NotApplicable);
        assert_eq!(japanese_name("利用者"), Invalid);
        assert_eq!(japanese_name("住所"), Invalid);
        assert_eq!(japanese_name("市長"), Invalid);
        assert_eq!(japanese_name("一覧"), Invalid);
        assert_eq!(japanese_name("簿"), Invalid);
        assert_eq!(japanese_name("総務課"), Invalid);
        assert_eq!(japanese_name("山田商店"), Invalid);
        assert_eq!(japanese_name("山田工業"), Invalid);
        assert_eq!(japanese_name("佐藤建設"), Invalid);
        assert_eq!(japanese_name("佐藤課長"), Invalid);
        assert_eq!(japanese_name("株式会社山田"), Invalid);
        assert_eq!(japanese_name("確認する"), NotApplicable);
        assert_eq!(japanese_name("財政"), NotApplicable);
    }

    #[test]
    fn name_lexicon_is_loaded() {
        let lex = lexicon();
        assert!(lex.surnames.len() > 10_000, "{}", lex.surnames.len());
        assert!(lex.given.len() > 10_000);
        assert!(lex.surnames.contains("佐々木") && lex.given.contains("明日香"));
        assert!(lex.surname_readings.contains("ヤマダ") && lex.given_readings.contains("アスカ"));
    }

    #[test]
    fn every_validator_is_found_by_name() {
        for (name, _) in VALIDATORS {
            assert!(by_name(name).is_some());
        }
        assert!(by_name("nope").is_none());
        let mut names: Vec<_> = VALIDATORS.iter().map(|(n, _)| *n).collect();
        let sorted = {
            let mut s = names.clone();
            s.sort();
            s
        };
        assert_eq!(names, sorted, "keep VALIDATORS sorted");
        names.dedup();
        assert_eq!(names.len(), VALIDATORS.len());
    }
}
