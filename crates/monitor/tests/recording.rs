//! Recorded messages (recordings and dead letters) read back as the
//! messages they were, whatever the body.

use pulse_build_monitor::{RawMessage, RecordedMessage};

#[test]
fn every_kind_of_body_survives_a_json_line() {
    let bodies: [&[u8]; 7] = [
        br#"{"payload": {"build": {}}}"#,
        b"[1, 2]",
        b"\"text\"",
        b"null",
        b"not json",
        b"\xff\xfe",
        b"",
    ];
    for body in bodies {
        let message = RawMessage::new("exchange/build/", "build.x.1.log_uploaded", body.to_vec());
        let line = serde_json::to_string(&RecordedMessage::from(&message)).unwrap();
        assert!(!line.contains('\n'));
        let back = RawMessage::from(serde_json::from_str::<RecordedMessage>(&line).unwrap());
        let same = match serde_json::from_slice::<serde_json::Value>(body) {
            // JSON bodies are kept as JSON: equal as JSON, not byte for byte.
            Ok(json) => serde_json::from_slice::<serde_json::Value>(&back.body).ok() == Some(json),
            Err(_) => back.body == body,
        };
        assert!(
            same,
            "{:?} came back as {:?} (line {line})",
            String::from_utf8_lossy(body),
            String::from_utf8_lossy(&back.body)
        );
    }
}
