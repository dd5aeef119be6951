//! One test per translation rule, on the hand-written fixtures in
//! `fixtures/buildbot/`, each changed just enough to exercise the rule.

use chrono::{TimeZone, Utc};
use pulse_translator::buildbot;
use pulse_translator::Clock;
use pulse_translator::Options;
use pulse_translator::{BuildType, Error, ErrorKind, NormalizedMessage, Record, Status};
use serde_json::{json, Value};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../fixtures/buildbot");

fn fixture(name: &str) -> Value {
    let path = format!("{FIXTURES}/{name}.json");
    serde_json::from_slice(&std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))).unwrap()
}

fn options() -> Options {
    Options::default().with_clock(Clock::Fixed(
        Utc.with_ymd_and_hms(2015, 8, 13, 12, 0, 0).unwrap(),
    ))
}

fn translate(message: &Value) -> Result<Vec<NormalizedMessage>, Error> {
    buildbot::translate(&serde_json::to_vec(message).unwrap(), &options())
}

fn translate_one(message: &Value) -> NormalizedMessage {
    let mut messages = translate(message).unwrap();
    assert_eq!(messages.len(), 1, "{messages:?}");
    messages.remove(0)
}

fn payload(message: &NormalizedMessage) -> Value {
    serde_json::to_value(&message.payload).unwrap()
}

fn error(message: &Value) -> Error {
    translate(message).expect_err("an error")
}

fn properties(message: &mut Value) -> &mut Vec<Value> {
    message["payload"]["build"]["properties"]
        .as_array_mut()
        .unwrap()
}

/// Sets a property, replacing it where it is or adding it at the end.
fn set(mut message: Value, name: &str, value: Value) -> Value {
    let props = properties(&mut message);
    match props.iter_mut().find(|p| p[0] == name) {
        Some(property) => property[1] = value,
        None => props.push(json!([name, value, "Test"])),
    }
    message
}

fn remove(mut message: Value, name: &str) -> Value {
    properties(&mut message).retain(|p| p[0] != name);
    message
}

fn with_key(mut message: Value, key: &str) -> Value {
    message["_meta"]["routing_key"] = json!(key);
    message
}

#[test]
fn a_build_translates_to_one_build_message() {
    let message = translate_one(&fixture("build"));
    assert_eq!(
        message.routing_key,
        "build.mozilla-beta.linux64.opt.nightly.mozilla-beta-linux64-nightly"
    );
    assert_eq!(
        payload(&message),
        json!({
            "key": "build.mozilla-beta-linux64-nightly.7.log_uploaded",
            "tree": "mozilla-beta",
            "platform": "linux64",
            "buildtype": "opt",
            "product": "firefox",
            "revision": "d137dc39bc2d",
            "builddate": 1_439_426_405,
            "buildername": "Linux x86-64 mozilla-beta nightly",
            "buildid": "20150813004005",
            "job_number": 7,
            "build_number": null,
            "previous_buildid": null,
            "status": 0,
            "locale": "en-US",
            "locales": null,
            "buildurl": "http://ftp.example.org/nightly/firefox%2041.0.en-US.linux-x86_64.tar.bz2",
            "testsurl": "http://ftp.example.org/nightly/firefox-41.0.en-US.linux-x86_64.tests.zip",
            "test_packages_url": null,
            "symbols_url": "http://ftp.example.org/nightly/firefox-41.0.en-US.linux-x86_64.crashreporter-symbols.zip",
            "logurl": "http://ftp.example.org/logs/mozilla-beta-linux64-nightly-bm1-build7.txt.gz",
            "release": "production",
            "slave": "bld-linux64-spot-1",
            "repack": null,
            "version": null,
            "timestamp": "2015-08-13T12:00:00Z",
            "tags": ["nightly"],
        })
    );
}

#[test]
fn buildtype_comes_from_the_routing_key() {
    // debug and pgo are no tags: the build type already says them; a
    // plain build has the empty tag.
    let cases = [
        (
            "build.mozilla-beta-linux64-debug.7.log_uploaded",
            BuildType::Debug,
            json!([]),
        ),
        (
            "build.mozilla-beta-linux64-pgo.7.log_uploaded",
            BuildType::Pgo,
            json!([]),
        ),
        (
            "build.mozilla-beta-linux64.7.log_uploaded",
            BuildType::Opt,
            json!([""]),
        ),
    ];
    for (key, buildtype, tags) in cases {
        let message = translate_one(&with_key(fixture("build"), key));
        assert_eq!(message.payload.job().unwrap().buildtype, buildtype, "{key}");
        assert_eq!(payload(&message)["tags"], tags, "{key}");
    }
}

#[test]
fn tags_drop_digits_and_add_release_and_xulrunner() {
    let message = translate_one(&with_key(
        fixture("build"),
        "build.mozilla-beta-linux64-l10n_5.7.log_uploaded",
    ));
    assert_eq!(payload(&message)["tags"], json!(["l10n"]));
    // The locale follows the l10n tag in the routing key.
    assert_eq!(
        message.routing_key,
        "build.mozilla-beta.linux64.opt.l10n.en-US.mozilla-beta-linux64-l10n_5"
    );

    let release = translate_one(&with_key(
        fixture("build"),
        "build.release-mozilla-beta-linux64_build.1.log_uploaded",
    ));
    assert_eq!(payload(&release)["tags"], json!(["build", "release"]));

    let xulrunner = translate_one(&with_key(
        fixture("build"),
        "build.mozilla-beta-xulrunner-linux64-nightly.7.log_uploaded",
    ));
    assert_eq!(payload(&xulrunner)["product"], "xulrunner");
    assert_eq!(payload(&xulrunner)["tags"], json!(["nightly"]));
}

#[test]
fn an_unknown_tag_is_a_bad_tag_error() {
    let error = error(&with_key(
        fixture("build"),
        "build.mozilla-beta-linux64-frobnicate.7.log_uploaded",
    ));
    assert_eq!(
        error.kind(),
        &ErrorKind::BadTag {
            tag: "frobnicate".into(),
            platform: "linux64".into(),
            product: Some("firefox".into())
        }
    );
    assert_eq!(error.reference_class(), Some("BadTagError"));
    assert_eq!(
        error.routing_key(),
        Some("build.mozilla-beta-linux64-frobnicate.7.log_uploaded")
    );
    assert!(error.to_string().contains("\"frobnicate\""), "{error}");
}

#[test]
fn platform_falls_back_to_stage_platform_then_to_the_key() {
    let message = translate_one(&set(fixture("build"), "platform", json!("linux64-debug")));
    assert_eq!(message.payload.job().unwrap().platform, "linux64");
    let message = translate_one(&remove(fixture("build"), "platform"));
    assert_eq!(message.payload.job().unwrap().platform, "linux64");
    let message = translate_one(&remove(
        remove(fixture("build"), "platform"),
        "stage_platform",
    ));
    assert_eq!(message.payload.job().unwrap().platform, "linux64");
    let no_platform = with_key(
        remove(remove(fixture("build"), "platform"), "stage_platform"),
        "build.mozilla-beta-solaris.7.log_uploaded",
    );
    let error = error(&no_platform);
    assert_eq!(error.reference_class(), Some("BadPulseMessageError"));
}

#[test]
fn unknown_and_ignored_platforms() {
    let solaris = with_key(
        set(fixture("build"), "platform", json!("solaris")),
        "build.mozilla-beta-solaris.7.log_uploaded",
    );
    assert_eq!(
        error(&solaris).kind(),
        &ErrorKind::BadPlatform {
            platform: Some("solaris".into())
        }
    );
    let dolphin = with_key(
        set(fixture("build"), "platform", json!("dolphin")),
        "build.mozilla-beta-dolphin.7.log_uploaded",
    );
    assert_eq!(translate(&dolphin).unwrap(), vec![]);
}

#[test]
fn a_key_that_fits_no_pattern_is_an_unknown_message_type() {
    let error = error(&with_key(
        fixture("build"),
        "build.mozilla-central-linux64.7.log_uploaded",
    ));
    assert_eq!(error.reference_class(), Some("BadPulseMessageError"));
    assert!(
        error.to_string().contains("unknown message type"),
        "{error}"
    );
}

#[test]
fn ignored_messages_produce_nothing() {
    for key in [
        "build.mozilla-beta-linux64-nightly.7.finished",
        "build.release-mozilla-beta-firefox_source.0.log_uploaded",
        "build.release-mozilla-beta-firefox_reset_schedulers.12.log_uploaded",
        "build.release-mozilla-beta-fennec_tag.40.log_uploaded",
        "build.release-mozilla-beta-bouncer_submitter.46.log_uploaded",
        "build.release-mozilla-beta-final_verification.1.log_uploaded",
        "build.mozilla-beta-linux64-fuzzer.1.log_uploaded",
        "build.jetpack-mozilla-beta-win7-debug.18.log_uploaded",
    ] {
        assert_eq!(
            translate(&with_key(fixture("build"), key)).unwrap(),
            vec![],
            "{key}"
        );
    }
    let finished_test = with_key(
        fixture("unittest"),
        "build.mozilla-central_win7-debug_test-mochitest-3.0.finished",
    );
    assert_eq!(translate(&finished_test).unwrap(), vec![]);
}

#[test]
fn a_build_without_build_url_is_an_error_unless_a_repack() {
    let error = error(&remove(fixture("build"), "packageUrl"));
    assert_eq!(error.kind(), &ErrorKind::NoBuildUrl);
    assert_eq!(error.reference_class(), Some("NoBuildUrlError"));
    // The last of packageUrl, build_url and fileURL wins.
    let message = translate_one(&set(fixture("build"), "fileURL", json!("http://x/y.zip")));
    assert_eq!(
        message.payload.job().unwrap().buildurl.as_deref(),
        Some("http://x/y.zip")
    );
}

#[test]
fn a_build_without_log_url_is_still_translated() {
    let message = translate_one(&remove(fixture("build"), "log_url"));
    assert_eq!(message.payload.job().unwrap().logurl, None);
}

#[test]
fn a_missing_branch_is_a_bad_pulse_message() {
    for message in [
        remove(fixture("build"), "branch"),
        set(fixture("build"), "branch", json!("")),
    ] {
        let error = error(&message);
        assert_eq!(
            error.kind(),
            &ErrorKind::BadPulseMessage {
                reason: "no 'branch' property".into()
            }
        );
    }
}

#[test]
fn optional_fields_appear_only_when_present() {
    let message = translate_one(&set(
        set(
            fixture("build"),
            "completeMarUrl",
            json!("http://x/complete.mar"),
        ),
        "blobber_files",
        json!("{\"log.txt\": \"http://x/log.txt\"}"),
    ));
    let payload = payload(&message);
    assert_eq!(payload["completemarurl"], "http://x/complete.mar");
    assert_eq!(
        payload["blobber_files"],
        json!({"log.txt": "http://x/log.txt"})
    );
    assert!(payload.get("completemarhash").is_none());
    // A malformed blobber_files is left out, as the reference did.
    let message = translate_one(&set(fixture("build"), "blobber_files", json!("{not json")));
    assert!(payload_of(&message).get("blobber_files").is_none());
}

fn payload_of(message: &NormalizedMessage) -> Value {
    payload(message)
}

#[test]
fn a_nightly_repack_fans_out_per_locale_in_order() {
    let messages = translate(&fixture("nightly_repack")).unwrap();
    let summary: Vec<(String, Status)> = messages
        .iter()
        .map(|m| {
            (
                m.payload.job().unwrap().locale.clone().unwrap(),
                m.payload.job().unwrap().status.unwrap(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            ("de".into(), Status::Success),
            ("ar".into(), Status::Failure),
            ("da".into(), Status::Success),
            ("fr".into(), Status::Failure)
        ]
    );
    assert_eq!(
        messages[0].routing_key,
        "build.mozilla-central.linux64.opt.l10n.de.nightly.mozilla-central-linux64-l10n-nightly-1"
    );
    let first = payload(&messages[0]);
    assert!(
        first.get("locales").is_none(),
        "nightly repacks have no locales field"
    );
    assert_eq!(first["repack"], true);
    assert_eq!(first["tags"], json!(["l10n", "nightly"]));
}

#[test]
fn nightly_repack_locales_must_be_a_json_object() {
    let error = error(&set(fixture("nightly_repack"), "locales", json!("de,fr")));
    assert_eq!(
        error.kind(),
        &ErrorKind::BadLocalesJson {
            locales: "de,fr".into()
        }
    );
    assert_eq!(error.reference_class(), None);
}

#[test]
fn a_release_repack_fans_out_over_comma_separated_locales() {
    let messages = translate(&fixture("release_repack")).unwrap();
    let locales: Vec<_> = messages
        .iter()
        .map(|m| m.payload.job().unwrap().locale.clone().unwrap())
        .collect();
    assert_eq!(locales, ["bn-BD", "de", "fr"]);
    for message in &messages {
        assert_eq!(
            message.routing_key,
            "build.release-mozilla-beta.win32.opt.release-mozilla-beta-win32_repack_2"
        );
        let payload = payload(message);
        assert_eq!(payload["locales"], "bn-BD,de,fr");
        assert_eq!(payload["repack"], true);
        assert_eq!(payload["tags"], json!([]));
        // Not looked up on the network: the message's own (missing) revision.
        assert_eq!(payload["revision"], Value::Null);
        assert_eq!(payload["builddate"], Value::Null);
    }
}

#[test]
fn release_repack_locales_must_be_present_and_non_empty() {
    let error = error(&set(fixture("release_repack"), "locales", json!("de,,fr")));
    assert_eq!(
        error.kind(),
        &ErrorKind::BadLocales {
            locales: "de,,fr".into()
        }
    );
    assert_eq!(error.reference_class(), Some("BadLocalesError"));
    let error = error_of(&remove(fixture("release_repack"), "locales"));
    assert_eq!(error.reference_class(), Some("BadPulseMessageError"));
}

fn error_of(message: &Value) -> Error {
    error(message)
}

#[test]
fn a_unittest_translates_to_one_test_message() {
    let message = translate_one(&fixture("unittest"));
    assert_eq!(
        message.routing_key,
        "unittest.mozilla-central.win32.win7.debug.mochitest-3.firefox.mozilla-central_win7-debug_test-mochitest-3"
    );
    let Record::Test(test) = &message.payload else {
        panic!("not a test: {message:?}")
    };
    assert_eq!(
        (test.os.as_str(), test.test.as_str(), test.talos),
        ("win7", "mochitest-3", false)
    );
    let payload = payload(&message);
    assert_eq!(payload["status"], 1);
    assert_eq!(payload["locales"], Value::Null);
    assert!(payload.get("tags").is_none());
}

#[test]
fn a_unittest_needs_a_log_url() {
    let error = error(&remove(fixture("unittest"), "log_url"));
    assert_eq!(error.kind(), &ErrorKind::NoLogUrl);
    assert_eq!(error.reference_class(), Some("NoLogUrlError"));
}

#[test]
fn a_unittest_os_must_belong_to_its_platform() {
    let error = error(&with_key(
        fixture("unittest"),
        "build.mozilla-central_fedora-b2g_test-reftest-2.0.log_uploaded",
    ));
    assert_eq!(error.reference_class(), Some("BadOSError"));
    assert!(error.to_string().contains("\"fedora-b2g\""), "{error}");
    let error = error_of(&set(
        fixture("unittest"),
        "stage_platform",
        json!("solaris"),
    ));
    assert_eq!(
        error.kind(),
        &ErrorKind::BadPlatform {
            platform: Some("solaris".into())
        }
    );
}

#[test]
fn a_unittest_without_product_is_routed_as_unknown() {
    let message = translate_one(&remove(fixture("unittest"), "product"));
    assert!(
        message.routing_key.contains(".mochitest-3.unknown."),
        "{}",
        message.routing_key
    );
}

#[test]
fn talos_and_the_os_from_the_buildername() {
    let message = translate_one(&fixture("talos"));
    assert_eq!(
        message.routing_key,
        "talos.mozilla-inbound.macosx64.lion.opt.tp5o.firefox.mozilla-inbound_macosx64_test-tp5o"
    );
    let windows = with_key(
        set(
            set(
                fixture("talos"),
                "buildername",
                json!("WINNT 5.2 mozilla-inbound talos tp5o"),
            ),
            "stage_platform",
            json!("win32"),
        ),
        "build.mozilla-inbound_win32_test-tp5o.3.log_uploaded",
    );
    let Record::Test(test) = translate_one(&windows).payload else {
        panic!("not a test")
    };
    assert_eq!(test.os, "xp");
    let unknown = set(
        fixture("talos"),
        "buildername",
        json!("Rev4 MacOSX Lion 10.7 mozilla-inbound talos tp5o"),
    );
    let error = error(&unknown);
    assert!(
        matches!(error.kind(), ErrorKind::BadOs { os, .. } if os == "unknown"),
        "{error}"
    );
}

#[test]
fn emulator_build_urls_are_guessed_except_on_try() {
    let message = translate_one(&fixture("emulator"));
    assert_eq!(
        message.routing_key,
        "build.mozilla-inbound.emulator.opt.mozilla-inbound-emulator"
    );
    assert_eq!(
        message.payload.job().unwrap().buildurl.as_deref(),
        Some("https://pvtbuilds.mozilla.org/pub/mozilla.org/b2g/tinderbox-builds/mozilla-inbound-emulator/20141001120000/emulator.tar.gz")
    );
    let on_try = with_key(
        set(fixture("emulator"), "branch", json!("try")),
        "build.try-emulator.12.log_uploaded",
    );
    assert_eq!(error(&on_try).kind(), &ErrorKind::NoBuildUrl);
}

#[test]
fn the_routing_key_of_the_delivery_is_a_fallback() {
    let mut message = fixture("build");
    message.as_object_mut().unwrap().remove("_meta");
    let body = serde_json::to_vec(&message).unwrap();
    let error = buildbot::translate(&body, &options()).unwrap_err();
    assert_eq!(error.kind(), &ErrorKind::MissingField { field: "_meta" });
    let messages = buildbot::translate_with_key(
        "build.mozilla-beta-linux64-nightly.7.log_uploaded",
        &body,
        &options(),
    )
    .unwrap();
    assert_eq!(messages.len(), 1);
    // The body's own key wins.
    let body = serde_json::to_vec(&fixture("build")).unwrap();
    let messages =
        buildbot::translate_with_key("build.other.1.log_uploaded", &body, &options()).unwrap();
    assert_eq!(
        messages[0].payload.job().unwrap().key,
        "build.mozilla-beta-linux64-nightly.7.log_uploaded"
    );
}

#[test]
fn malformed_input_is_a_typed_error() {
    let key = "build.mozilla-beta-linux64-nightly.7.log_uploaded";
    let cases: Vec<(Vec<u8>, ErrorKind)> = vec![
        (b"{\"_meta\": ".to_vec(), ErrorKind::NotJson { reason: String::new() }),
        (b"[1, 2]".to_vec(), ErrorKind::NotAnObject { field: "body" }),
        (br#"{"_meta": {"routing_key": 5}}"#.to_vec(), ErrorKind::NotAnObject { field: "" }),
        (format!(r#"{{"_meta": {{"routing_key": "{key}"}}}}"#).into_bytes(), ErrorKind::MissingField { field: "payload" }),
        (
            format!(r#"{{"_meta": {{"routing_key": "{key}"}}, "payload": {{"build": []}}}}"#).into_bytes(),
            ErrorKind::NotAnObject { field: "payload.build" },
        ),
        (
            format!(r#"{{"_meta": {{"routing_key": "{key}"}}, "payload": {{"build": {{"results": 0}}}}}}"#).into_bytes(),
            ErrorKind::MissingField { field: "payload.build.properties" },
        ),
    ];
    for (body, want) in cases {
        let error = buildbot::translate(&body, &options()).unwrap_err();
        let same = match (&want, error.kind()) {
            (ErrorKind::NotJson { .. }, ErrorKind::NotJson { .. }) => true,
            (ErrorKind::NotAnObject { field: "" }, ErrorKind::WrongFieldType { field, .. }) => {
                field == "_meta.routing_key"
            }
            (want, got) => want == got,
        };
        assert!(same, "{}: {error:?}", String::from_utf8_lossy(&body));
        assert_eq!(error.reference_class(), None);
        let text = error.to_string();
        assert_eq!(
            text.chars()
                .find(|c| c.is_alphabetic())
                .map(char::is_lowercase),
            Some(true),
            "{text}"
        );
    }

    let error = error(&set(fixture("build"), "buildnumber", json!("7")));
    assert_eq!(
        error.kind(),
        &ErrorKind::WrongFieldType {
            field: "property buildnumber".into(),
            expected: "an integer or null",
            found: "a string"
        }
    );
    assert_eq!(error.routing_key(), Some(key));
    let mut message = fixture("build");
    properties(&mut message).push(json!([]));
    assert!(matches!(
        error_of(&message).kind(),
        ErrorKind::WrongFieldType { .. }
    ));
    let error = error_of(&set(fixture("build"), "buildid", json!("tomorrow")));
    assert_eq!(
        error.kind(),
        &ErrorKind::BadBuildId {
            buildid: "tomorrow".into()
        }
    );
}

#[test]
fn the_timestamp_comes_from_the_clock() {
    let body = serde_json::to_vec(&fixture("build")).unwrap();
    let messages = buildbot::translate(&body, &Options::default()).unwrap();
    let stamp = payload(&messages[0])["timestamp"].clone();
    assert!(
        chrono::NaiveDateTime::parse_from_str(stamp.as_str().unwrap(), "%Y-%m-%dT%H:%M:%SZ")
            .is_ok(),
        "{stamp}"
    );
    let messages = buildbot::translate(&body, &options()).unwrap();
    assert_eq!(payload(&messages[0])["timestamp"], "2015-08-13T12:00:00Z");
    assert_eq!(
        messages[0].payload.job().unwrap().timestamp,
        Some(Utc.with_ymd_and_hms(2015, 8, 13, 12, 0, 0).unwrap())
    );
}

#[test]
fn names_and_keys_with_escapes_or_odd_bytes_read_as_plain_ones() {
    let plain = serde_json::to_string(&fixture("build")).unwrap();
    let translated = |body: &str| buildbot::translate(body.as_bytes(), &options());
    let expected = translated(&plain).unwrap();
    assert!(plain.contains(r#""buildnumber""#) && plain.contains(r#""payload""#));
    let same = [
        // An escaped name of a used property, and an escaped key.
        plain.replace(r#""buildnumber""#, r#""build\u006eumber""#),
        plain.replace(r#""payload""#, r#""p\u0061yload""#),
        // Names and keys outside printable ASCII that nothing reads.
        plain.replacen('{', r#"{"_mé\nta\u0001": 1, "#, 1),
        plain.replacen(r#""properties":["#, r#""properties":[["é\t", 1, "x"], "#, 1),
    ];
    for body in same {
        assert_ne!(body, plain);
        assert_eq!(translated(&body).unwrap(), expected, "{body}");
    }

    // A name that is no string is reported at its place.
    let body = plain.replacen(r#""properties":["#, r#""properties":[[5, 1, "x"], "#, 1);
    assert_eq!(
        translated(&body).unwrap_err().kind(),
        &ErrorKind::WrongFieldType {
            field: "payload.build.properties[0]".into(),
            expected: "a [name, value, source] array",
            found: "an array without a string name"
        }
    );
    // A lone surrogate is no string: the body is not JSON.
    let body = plain.replacen(
        r#""properties":["#,
        r#""properties":[["\ud800", 1, "x"], "#,
        1,
    );
    assert!(matches!(
        translated(&body).unwrap_err().kind(),
        ErrorKind::NotJson { .. }
    ));
}
