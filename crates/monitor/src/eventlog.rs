//! Files a monitor writes besides the `log` output: the event log (the
//! seed's `logger` file: translation errors and callback panics)
//! and the dead-letter file (messages that could not be translated).

use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::Path;
use std::sync::Mutex;

use serde::Serialize;

use crate::Error;
use pulse_translator::Message;

/// An append-only file of lines, shared by the pump thread and the workers.
pub(crate) struct LineFile {
    file: Mutex<BufWriter<File>>,
}

impl LineFile {
    pub(crate) fn open(path: &Path) -> Result<LineFile, Error> {
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(|e| Error::io(path, e))?;
        Ok(LineFile {
            file: Mutex::new(BufWriter::new(file)),
        })
    }

    /// Writes one line and flushes it, so a crash loses no line; a failing
    /// disk is reported through `log` rather than stopping the monitor.
    pub(crate) fn write_line(&self, line: &str) {
        let mut file = self.file.lock().unwrap_or_else(|e| e.into_inner());
        if let Err(e) = writeln!(file, "{line}").and_then(|()| file.flush()) {
            log::error!("cannot write to the monitor's log file: {e}");
        }
    }

    /// A timestamped event line.
    pub(crate) fn event(&self, level: &str, text: &str) {
        let now = chrono::Utc::now().format("%Y-%m-%d %H:%M:%S");
        self.write_line(&format!("{now} - {level}: {text}"));
    }
}

/// One line of the dead-letter file: the message as recorded, and why it
/// was rejected. `pulse-monitor replay` reads these files back.
#[derive(Serialize)]
struct DeadLetter<'a> {
    #[serde(flatten)]
    message: &'a Message,
    error: &'a str,
}

pub(crate) fn dead_letter_line(message: &Message, error: &str) -> String {
    let letter = DeadLetter { message, error };
    serde_json::to_string(&letter).expect("a recorded message always serializes")
}
