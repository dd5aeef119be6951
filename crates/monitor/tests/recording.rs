//! Recorded messages (recordings and dead letters) read back as the
//! messages they were, whatever the body.

use pulse_build_monitor::Message;

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
        let message = Message::new("exchange/build/", "build.x.1.log_uploaded", body.to_vec());
        let line = serde_json::to_string(&message).unwrap();
        assert!(!line.contains('\n'));
        let back = serde_json::from_str::<Message>(&line).unwrap();
        // Byte for byte: a JSON body is written as the JSON text it is.
        assert_eq!(back, message, "line {line}");
    }
}
