//! The clock the translators stamp records with.

use chrono::{DateTime, Utc};

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
}
