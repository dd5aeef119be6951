//! [`Options`]: how every translator of this crate stamps and links its
//! records.

use crate::Clock;

/// The Firefox CI deployment's root URL, the default for Taskcluster log
/// URLs.
pub const DEFAULT_ROOT_URL: &str = "https://firefox-ci-tc.services.mozilla.com";

/// How messages are translated: [`Options::default`], changed with the
/// `with_` methods. One set for every exchange, so a caller of
/// [`translate`](crate::translate) need not know which translator runs.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Options {
    /// Now, for the records' `timestamp`; injectable so tests are
    /// repeatable.
    pub clock: Clock,
    /// The Taskcluster deployment's root URL, without a trailing slash; log
    /// URLs of Taskcluster records start with it. By default Firefox CI's,
    /// [`DEFAULT_ROOT_URL`].
    pub root_url: String,
}

impl Options {
    /// With records stamped by `clock`.
    #[must_use]
    pub fn with_clock(mut self, clock: Clock) -> Options {
        self.clock = clock;
        self
    }

    /// With Taskcluster log URLs under `root_url` (no trailing slash).
    #[must_use]
    pub fn with_root_url(mut self, root_url: impl Into<String>) -> Options {
        self.root_url = root_url.into();
        self
    }
}

impl Default for Options {
    fn default() -> Self {
        Options {
            clock: Clock::System,
            root_url: DEFAULT_ROOT_URL.to_string(),
        }
    }
}
