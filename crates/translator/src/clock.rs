//! The clock the translators stamp records with.

use chrono::{DateTime, SubsecRound, Utc};

/// Where the translators read the time they stamp on each record
/// (`timestamp`, when the message was translated).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Clock {
    /// The system clock.
    #[default]
    System,
    /// Always this time: for tests and replays.
    Fixed(DateTime<Utc>),
}

impl Clock {
    /// The current time by this clock.
    pub fn now(&self) -> DateTime<Utc> {
        match self {
            Clock::System => Utc::now(),
            Clock::Fixed(time) => *time,
        }
    }

    /// The time to stamp on a record: now by this clock, to the second,
    /// as the record's JSON says it.
    pub(crate) fn timestamp(&self) -> DateTime<Utc> {
        self.now().trunc_subsecs(0)
    }
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Timelike};

    use super::*;

    #[test]
    fn records_are_stamped_to_the_second() {
        let time = Utc.with_ymd_and_hms(2015, 8, 13, 12, 0, 7).unwrap()
            + chrono::Duration::nanoseconds(987_654_321);
        let stamp = Clock::Fixed(time).timestamp();
        assert_eq!(stamp.nanosecond(), 0);
        assert_eq!(stamp.second(), 7, "cut, not rounded");
    }
}
