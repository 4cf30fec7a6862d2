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
    use jiff::civil::date;

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
            ("request_form.odt", date(2013, 12, 23)),
            ("request_form.fodt", date(2013, 12, 23)),
            ("request_form.html", date(2013, 12, 23)),
            // Date: Tue, 02 Apr 2024 23:30:00 +0000 is the 3rd in Japan.
            ("request_form.mht", date(2024, 4, 3)),
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
