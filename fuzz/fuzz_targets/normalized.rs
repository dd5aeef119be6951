//! Input: `<routing key>\n<body>`. `normalized::parse` must not panic; when
//! it accepts a payload, `routing_key` must not panic either, and the record
//! must read back from its own routing key and serialization unchanged.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pulse_translator::normalized::{parse, routing_key};

fuzz_target!(|input: &[u8]| {
    let (key, body) = match input.iter().position(|&b| b == b'\n') {
        Some(at) => (&input[..at], &input[at + 1..]),
        None => (input, &b""[..]),
    };
    let Ok(key) = std::str::from_utf8(key) else {
        return;
    };
    let Ok(record) = parse(key, body) else {
        return;
    };
    let key = routing_key(&record).expect("a parsed payload is a build or test, which has a key");
    let json = serde_json::to_vec(&record).expect("a record always serializes");
    match parse(&key, &json) {
        Ok(again) => assert_eq!(again, record, "round trip under {key:?} changed the record"),
        Err(e) => panic!("round trip under {key:?} failed: {e}"),
    }
});
