//! Time helpers shared by every stage: timestamps for the store and logs
//! (RFC 3339, UTC), file modification times as nanoseconds, and "today"
//! in Japan time for date rules. Calendar arithmetic is jiff's.

use std::time::{SystemTime, UNIX_EPOCH};

use jiff::civil::Date;
use jiff::tz::{self, TimeZone};
use jiff::Timestamp;

/// Japan Standard Time. Japan has no daylight saving time, so a fixed
/// offset is exact and needs no time-zone database on the machine.
pub fn jst() -> TimeZone {
    TimeZone::fixed(tz::offset(9))
}

/// Now as RFC 3339 UTC with milliseconds (`2026-11-24T08:05:00.123Z`).
pub fn now() -> String {
    format_time(SystemTime::now())
}

/// A time as RFC 3339 UTC with milliseconds.
pub fn format_time(t: SystemTime) -> String {
    let ts = Timestamp::try_from(t).unwrap_or(Timestamp::UNIX_EPOCH);
    ts.strftime("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

/// Nanoseconds since the epoch (file modification times); 0 before it.
pub fn nanos(t: SystemTime) -> i64 {
    t.duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// Today's date in Japan.
pub fn today_jst() -> Date {
    Timestamp::now().to_zoned(jst()).date()
}

/// The civil date in Japan of a time given as nanoseconds since the epoch.
pub fn date_jst_of_nanos(ns: i64) -> Date {
    Timestamp::from_nanosecond(ns as i128)
        .unwrap_or(Timestamp::UNIX_EPOCH)
        .to_zoned(jst())
        .date()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_format_as_rfc3339() {
        let t = UNIX_EPOCH + std::time::Duration::from_millis(1_732_435_200_123);
        assert_eq!(format_time(t), "2024-11-24T08:00:00.123Z");
        assert_eq!(format_time(UNIX_EPOCH), "1970-01-01T00:00:00.000Z");
    }

    #[test]
    fn japan_dates_turn_at_15_utc() {
        // 2024-03-31T15:00:00Z is 2024-04-01 00:00 in Japan.
        let ns = 1_711_897_200i64 * 1_000_000_000;
        assert_eq!(date_jst_of_nanos(ns), jiff::civil::date(2024, 4, 1));
        assert_eq!(date_jst_of_nanos(ns - 1), jiff::civil::date(2024, 3, 31));
    }
}
