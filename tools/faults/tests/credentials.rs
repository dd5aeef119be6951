//! Credentials never reach any output: not stdout, stderr or the log file
//! of a `RUST_LOG=trace` run through connect, a forced reconnect and a bad
//! password, and not the `Debug` or `Display` of any settings type.
//!
//! amiquip logs the AMQP `Start-Ok` frame, password included, at `debug`
//! under `pulse_wire::HANDSHAKE_LOG_TARGET`; programs must cap that target.

use std::path::Path;
use std::time::Duration;

use pulse_build_monitor::{ConnectionSettings, ConsumeOptions};
use pulse_faults::{read_ids, CapturedLog, MonitorProcess, Stream};
use pulse_test_support::{wait_for, TempDir, Vhost};
use pulse_wire::{Password, Publisher};

fn forms(password: &str) -> Vec<String> {
    let encoded: String = password
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    vec![password.to_string(), encoded]
}

fn assert_secret_free(what: &str, text: &str, secrets: &[String]) {
    for secret in secrets {
        assert!(
            !text.contains(secret.as_str()),
            "{what} shows the password: {text}"
        );
    }
}

#[test]
fn debug_and_display_of_settings_types_redact_the_password() {
    let password = "Pw-Dbg-7f3e9c-not-shown";
    let secrets = forms(password);
    let settings = ConnectionSettings::from_url(&format!(
        "amqps://someone:{}@example.org:5671/?connection_name=x",
        secrets[1]
    ))
    .unwrap();
    assert_eq!(settings.password.expose(), password);
    let texts = [
        format!("{settings:?}"),
        format!("{settings:#?}"),
        settings.to_string(),
        format!("{:?}", settings.password),
        settings.password.to_string(),
        format!("{:?}", Password::new(password)),
        format!("{:?}", ConsumeOptions::default()),
    ];
    for text in &texts {
        assert_secret_free("settings output", text, &secrets);
    }
    // Errors built from a URL holding the password.
    for url in [
        format!("amqps://someone:{password}@example.org:99999/"),
        format!("amqps://someone:{password}@example.org/?colour=blue"),
    ] {
        let error = ConnectionSettings::from_url(&url).unwrap_err();
        assert_secret_free("error", &format!("{error} {error:?}"), &secrets);
    }
}

#[test]
fn the_handshake_log_target_is_where_amiquip_logs_the_password() {
    let Some(mut vhost) = Vhost::create("faults") else {
        return;
    };
    let log = CapturedLog::install_everything();
    let user = pulse_test_support::unique("faults-handshake");
    let password = "Pw-Hs-51d2aa-in-start-ok";
    vhost.add_user(&user, password);
    let mut settings = vhost.settings("handshake");
    settings.user = user;
    settings.password = Password::new(password);
    Publisher::connect(&settings).unwrap().close().unwrap();

    let leaking: Vec<String> = log
        .all()
        .into_iter()
        .filter(|record| record.contains(password))
        .collect();
    // If amiquip stops logging it, this constant (and its caps) can go.
    assert!(
        !leaking.is_empty(),
        "amiquip no longer logs the credentials; revisit HANDSHAKE_LOG_TARGET"
    );
    let target = format!(" {}:", pulse_wire::HANDSHAKE_LOG_TARGET);
    for record in &leaking {
        assert!(
            record.contains(&target),
            "password logged elsewhere: {record}"
        );
    }
}

#[test]
fn a_trace_run_of_the_binary_writes_no_password() {
    let Some(mut vhost) = Vhost::create("faults") else {
        return;
    };
    let user = pulse_test_support::unique("faults-user");
    let password = "Pw-Run-9b41c7#secret";
    let wrong = "Pw-Wrong-0d55e1#secret";
    vhost.add_user(&user, password);
    let files = TempDir::new("faults-credentials");
    let ids = files.join("ids");
    let log_file = files.join("monitor.log");
    let encoded = |p: &str| forms(p)[1].clone();
    let url = |p: &str| {
        format!(
            "amqp://{user}:{}@127.0.0.1:5672/{}",
            encoded(p),
            vhost.name()
        )
    };
    let connection_name = pulse_test_support::unique("credentials-monitor");
    let run = |p: &str| {
        MonitorProcess::spawn(
            Path::new(env!("CARGO_BIN_EXE_fault-monitor")),
            &[
                "--label",
                "credentials",
                "--ids",
                ids.to_str().unwrap(),
                "--log-file",
                log_file.to_str().unwrap(),
                "--connection-name",
                &connection_name,
            ],
            &[("PULSE_URL", url(p).as_str()), ("RUST_LOG", "trace")],
        )
    };

    // Connect, handle messages, lose the connection, reconnect, stop.
    let mut process = run(password);
    assert!(
        process.wait_for_output("consuming", Duration::from_secs(30)),
        "{}{}",
        process.stdout(),
        process.stderr()
    );
    let mut publisher_settings = vhost.settings("credentials-publisher");
    publisher_settings.user = user.clone();
    publisher_settings.password = Password::new(password);
    Stream::start(publisher_settings.clone(), 0..50, 50, Duration::ZERO).join();
    assert!(wait_for(Duration::from_secs(20), || read_ids(&ids).len() >= 50));
    let closed = vhost
        .ctl()
        .close_connections_named(&connection_name, "pulse-faults credentials");
    assert_eq!(closed, 1);
    Stream::start(publisher_settings.clone(), 50..100, 50, Duration::ZERO).join();
    // One poison message, so the monitor's log file gets a line too.
    let mut publisher = Publisher::connect(&publisher_settings).unwrap();
    publisher
        .publish(
            pulse_build_monitor::exchanges::BUILD,
            "build.poison.1.log_uploaded",
            b"not json",
            None,
        )
        .unwrap();
    assert!(
        wait_for(Duration::from_secs(30), || read_ids(&ids).len() >= 100),
        "no messages after the reconnect"
    );
    assert!(wait_for(Duration::from_secs(10), || {
        std::fs::read_to_string(&log_file).is_ok_and(|l| l.contains("build.poison.1"))
    }));
    let good = process.stop(Duration::from_secs(30));
    assert!(good.status.is_some_and(|s| s.success()), "{good:?}");
    assert!(good.stdout.contains("reconnects=1"), "{}", good.stdout);

    // A wrong password: refused at once, exit code 2.
    let bad = run(wrong).stop(Duration::from_secs(30));
    assert_eq!(bad.status.and_then(|s| s.code()), Some(2), "{bad:?}");
    assert!(bad.stderr.contains("fault-monitor:"), "{}", bad.stderr);

    let log = std::fs::read_to_string(&log_file).unwrap_or_default();
    let trace_lines = good.stderr.lines().filter(|l| l.contains("TRACE")).count();
    println!(
        "FAULT-RESULT fault=credentials stderr_lines={} trace_lines={trace_lines} \
         log_file_bytes={} password_found=0",
        good.stderr.lines().count() + bad.stderr.lines().count(),
        log.len()
    );
    assert!(trace_lines > 0, "RUST_LOG=trace was not in effect");
    assert!(!log.is_empty(), "nothing in the log file");
    assert!(
        good.stderr.contains("lost connection"),
        "no reconnect logged"
    );
    let mut secrets = forms(password);
    secrets.extend(forms(wrong));
    for (what, text) in [
        ("stdout", &good.stdout),
        ("stderr", &good.stderr),
        ("stdout (wrong password)", &bad.stdout),
        ("stderr (wrong password)", &bad.stderr),
        ("log file", &log),
    ] {
        assert_secret_free(what, text, &secrets);
    }
}
