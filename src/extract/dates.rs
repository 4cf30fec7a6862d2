//! Creation dates that documents record about themselves (ODF
//! `meta:creation-date`, HTML `<meta name="date">`, a saved page's `Date`
//! header), turned into the civil date in Japan time that records rules
//! need ([`super::DocumentMeta`]).
//!
//! Japan time is UTC+9 without daylight saving since 1951, so a fixed
//! offset gives the same date as the `Asia/Tokyo` zone without needing a
//! time-zone database (Windows has none that jiff can read by default).

use jiff::civil::{Date, DateTime};
use jiff::tz::{self, TimeZone};
use jiff::Timestamp;

/// Japan Standard Time.
fn jst() -> TimeZone {
    TimeZone::fixed(tz::offset(9))
}

/// The date of an ISO 8601 / RFC 3339 date or date-time: an instant with an
/// offset (`2016-09-14T08:47:00Z`) is converted to Japan time; a local
/// date-time without one (LibreOffice writes `2024-01-05T10:20:30.123`)
/// keeps its own date; a bare date is taken as it is.
pub fn iso_date_jst(s: &str) -> Option<Date> {
    let s = s.trim();
    if s.is_empty() || s.len() > 64 {
        return None;
    }
    if let Ok(ts) = s.parse::<Timestamp>() {
        return Some(ts.to_zoned(jst()).date());
    }
    if let Ok(dt) = s.parse::<DateTime>() {
        return Some(dt.date());
    }
    if let Ok(d) = s.parse::<Date>() {
        return Some(d);
    }
    // `2016-09-14 08:47:00` and other near-ISO forms: the date part.
    s.get(..10).and_then(|d| d.parse::<Date>().ok())
}

/// The date of an instant given as seconds since the Unix epoch, in Japan time.
pub fn unix_date_jst(seconds: i64) -> Option<Date> {
    Timestamp::from_second(seconds)
        .ok()
        .map(|ts| ts.to_zoned(jst()).date())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instants_move_to_japan_time_local_times_stay() {
        // 20:00 UTC on the 13th is the 14th in Japan.
        assert_eq!(
            iso_date_jst("2016-09-13T20:00:00Z"),
            Some(jiff::civil::date(2016, 9, 14))
        );
        assert_eq!(
            iso_date_jst("2016-09-13T20:00:00+09:00"),
            Some(jiff::civil::date(2016, 9, 13))
        );
        assert_eq!(
            iso_date_jst("2024-01-05T23:20:30.123456789"),
            Some(jiff::civil::date(2024, 1, 5))
        );
        assert_eq!(
            iso_date_jst("2024-01-05"),
            Some(jiff::civil::date(2024, 1, 5))
        );
        assert_eq!(iso_date_jst("yesterday"), None);
        assert_eq!(
            unix_date_jst(1_700_000_000),
            Some(jiff::civil::date(2023, 11, 15))
        );
    }
}
