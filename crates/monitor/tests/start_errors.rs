//! Errors `start()` returns instead of a monitor.

mod common;

use common::{broker_or_skip, unique};
use pulse_build_monitor::{ErrorKind, Message, Monitor};
use pulse_wire::Password;

#[test]
fn a_monitor_with_nothing_to_call_does_not_start() {
    let message = Message::new("exchange/build/", "build.x.1.log_uploaded", b"{}".to_vec());
    let err = Monitor::builder()
        .messages(vec![message])
        .start()
        .err()
        .expect("no callback is an error");
    assert!(matches!(err.kind(), ErrorKind::NoCallback), "{err:?}");
    assert!(err.to_string().contains("no callback"), "{err}");
}

#[test]
fn bad_credentials_are_refused_at_start_and_not_recoverable() {
    let Some(mut settings) = broker_or_skip() else {
        return;
    };
    let password = "wrong-pw-3Kd9";
    settings.password = Password::new(password);
    // If start() treated this as recoverable it would return a monitor
    // retrying in the background; an error proves it gave up at once.
    let err = Monitor::builder()
        .broker(settings)
        .label(unique("monitor-test-badcreds"))
        .declare_exchanges(true)
        .on_message(|_| {})
        .start()
        .err()
        .expect("bad credentials are an error");
    let ErrorKind::Wire(wire) = err.kind() else {
        panic!("not a wire error: {err:?}");
    };
    assert_eq!(wire.kind(), pulse_wire::ErrorKind::AccessRefused, "{wire}");
    assert!(!wire.is_recoverable());
    assert!(!err.to_string().contains(password), "{err}");
    assert!(!format!("{err:?}").contains(password));
}

#[test]
fn an_unwritable_log_file_is_an_io_error_naming_it() {
    let path = std::env::temp_dir()
        .join(unique("monitor-test-missing-dir"))
        .join("log.txt");
    let err = Monitor::builder()
        .on_message(|_| {})
        .log_file(&path)
        .messages(Vec::new())
        .start()
        .err()
        .expect("a log file in a missing directory is an error");
    assert!(
        matches!(err.kind(), ErrorKind::Io { path: p, .. } if p == &path),
        "{err:?}"
    );
    assert!(
        err.to_string().contains(&path.display().to_string()),
        "{err}"
    );
}

#[test]
fn a_delivery_limit_on_a_classic_queue_is_refused_before_connecting() {
    // Nothing listens on port 1: the refusal must come first.
    let settings =
        pulse_build_monitor::ConnectionSettings::from_url("amqp://guest:guest@127.0.0.1:1/")
            .unwrap();
    let err = Monitor::builder()
        .on_build(|_| {})
        .broker(settings.clone())
        .delivery_limit(3)
        .start()
        .err()
        .expect("a classic queue cannot have a delivery limit");
    match err.kind() {
        ErrorKind::Wire(wire) => {
            assert_eq!(wire.kind(), pulse_wire::ErrorKind::InvalidConfig, "{err}");
            assert!(err.to_string().contains("needs a quorum queue"), "{err}");
        }
        other => panic!("{other:?}"),
    }
    // The same with a quorum queue is a valid configuration: it only
    // fails (later, recoverably) because nothing listens there.
    let monitor = Monitor::builder()
        .on_build(|_| {})
        .broker(settings)
        .queue_type(pulse_build_monitor::QueueType::Quorum)
        .delivery_limit(3)
        .start()
        .expect("valid: the broker is merely down");
    assert_eq!(monitor.stats().connected, Some(false));
    monitor.stop_timeout(std::time::Duration::from_secs(5));
}
