//! A panicking callback is logged at error level with its job's key.
//! (Its own test binary: it installs the process-wide logger.)

use std::sync::Mutex;

use log::{Level, Log, Metadata, Record};
use pulse_dispatch::{Config, Job, Pool};

struct Capture(Mutex<Vec<(Level, String)>>);

impl Log for Capture {
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }

    fn log(&self, record: &Record<'_>) {
        let line = record.args().to_string();
        self.0.lock().unwrap().push((record.level(), line));
    }

    fn flush(&self) {}
}

static CAPTURE: Capture = Capture(Mutex::new(Vec::new()));

#[test]
fn a_panicking_callback_is_logged_with_its_key() {
    log::set_logger(&CAPTURE).unwrap();
    log::set_max_level(log::LevelFilter::Trace);

    let pool = Pool::new(Config::default().with_workers(2).with_queue_bound(4)).unwrap();
    pool.submit(Job::new("unittest.mozilla-central.linux64.reftest", || {
        panic!("callback broke: {}", 42)
    }));
    pool.submit(Job::new("build.try.win32", || panic!("static message")));
    pool.submit(Job::new("fine", || {}));
    assert_eq!(pool.shutdown().stats.panicked, 2);

    let mut errors: Vec<String> = CAPTURE
        .0
        .lock()
        .unwrap()
        .iter()
        .filter(|(level, _)| *level == Level::Error)
        .map(|(_, line)| line.clone())
        .collect();
    errors.sort();
    assert_eq!(
        errors,
        [
            r#"callback job "build.try.win32" panicked: static message"#,
            r#"callback job "unittest.mozilla-central.linux64.reftest" panicked: callback broke: 42"#,
        ]
    );
}
