//! Buildids (`20150813004005`) read as dates.

use chrono::{NaiveDate, NaiveDateTime};

use crate::ErrorKind;

/// The buildid read as a UTC date in seconds since the epoch; a buildid
/// that is no date, read as an integer.
pub(super) fn buildid_to_date(buildid: &str) -> Result<i64, ErrorKind> {
    let digits = buildid.bytes().all(|b| b.is_ascii_digit());
    if digits && buildid.len() == 14 {
        // The usual case, without a strftime parse; anything chrono's parse
        // might read differently (a leap second) takes the general path.
        let number = |range: std::ops::Range<usize>| {
            buildid.as_bytes()[range]
                .iter()
                .fold(0, |n, digit| n * 10 + u32::from(digit - b'0'))
        };
        let (hour, minute, second) = (number(8..10), number(10..12), number(12..14));
        if second < 60 {
            let year = i32::try_from(number(0..4)).unwrap_or(i32::MAX);
            if let Some(date) = NaiveDate::from_ymd_opt(year, number(4..6), number(6..8))
                .and_then(|date| date.and_hms_opt(hour, minute, second))
            {
                return Ok(date.and_utc().timestamp());
            }
        }
    }
    let date = match buildid.len() {
        14 if digits => NaiveDateTime::parse_from_str(buildid, "%Y%m%d%H%M%S").ok(),
        8 if digits => NaiveDate::parse_from_str(buildid, "%Y%m%d")
            .ok()
            .and_then(|d| d.and_hms_opt(0, 0, 0)),
        _ => None,
    };
    match date {
        Some(date) => Ok(date.and_utc().timestamp()),
        None => buildid.trim().parse().map_err(|_| ErrorKind::BadBuildId {
            buildid: buildid.to_owned(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buildids_read_as_utc() {
        assert_eq!(buildid_to_date("20150813004005"), Ok(1_439_426_405));
        assert_eq!(buildid_to_date("20130411"), Ok(1_365_638_400));
        assert_eq!(buildid_to_date("1234"), Ok(1234));
        assert_eq!(buildid_to_date("20131341000000"), Ok(20_131_341_000_000));
        assert!(matches!(
            buildid_to_date("soon"),
            Err(ErrorKind::BadBuildId { .. })
        ));
    }
}
