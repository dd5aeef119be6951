//! [`CapturedLog`]: keeps `log` records in memory for assertions.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, OnceLock};

/// A `log::Log` that keeps every record (`target`, level and text) and
/// also prints warnings and errors to stderr. One per test binary:
/// [`CapturedLog::install`] sets it as the global logger the first time
/// and returns the same one afterwards.
#[derive(Debug, Default)]
pub struct CapturedLog {
    records: Mutex<Vec<(String, log::Level, String)>>,
}

static CAPTURED: OnceLock<&'static CapturedLog> = OnceLock::new();
static EVERYTHING: AtomicBool = AtomicBool::new(false);

impl CapturedLog {
    /// Installs the capturing logger (at `Debug`) once per process.
    ///
    /// Panics if another logger was installed first.
    pub fn install() -> &'static CapturedLog {
        CAPTURED.get_or_init(|| {
            let logger: &'static CapturedLog = Box::leak(Box::default());
            log::set_logger(logger).expect("no other logger in the fault tests");
            log::set_max_level(log::LevelFilter::Debug);
            logger
        })
    }

    /// Like [`install`](Self::install), but keeps every record down to
    /// `Trace`, amiquip's included: for the credential tests.
    pub fn install_everything() -> &'static CapturedLog {
        EVERYTHING.store(true, Ordering::Relaxed);
        let logger = CapturedLog::install();
        log::set_max_level(log::LevelFilter::Trace);
        logger
    }

    /// Every record kept so far, as `LEVEL target: text`.
    pub fn all(&self) -> Vec<String> {
        self.matching(log::Level::Trace, "")
    }

    /// The text of every record at `level` or more severe that contains
    /// `needle`.
    pub fn matching(&self, level: log::Level, needle: &str) -> Vec<String> {
        self.records
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .filter(|(_, l, text)| *l <= level && text.contains(needle))
            .map(|(target, l, text)| format!("{l} {target}: {text}"))
            .collect()
    }
}

impl log::Log for CapturedLog {
    fn enabled(&self, metadata: &log::Metadata<'_>) -> bool {
        if EVERYTHING.load(Ordering::Relaxed) {
            return true;
        }
        // amiquip's frame-level tracing would only slow the fault tests.
        metadata.level() <= log::Level::Debug && !metadata.target().starts_with("amiquip")
    }

    fn log(&self, record: &log::Record<'_>) {
        if !self.enabled(record.metadata()) {
            return;
        }
        let text = record.args().to_string();
        if record.level() <= log::Level::Warn {
            eprintln!("[{} {}] {text}", record.level(), record.target());
        }
        self.records
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push((record.target().to_string(), record.level(), text));
    }

    fn flush(&self) {}
}
