//! Input: `<exchange>\n<routing key>\n<CC routes, space-separated>\n<body>`
//! (missing lines are empty). `taskcluster::translate` must return a record
//! or a typed error, never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pulse_translator::taskcluster::{translate};
use pulse_translator::Options;
use pulse_translator::Message;

fuzz_target!(|input: &[u8]| {
    let mut lines = input.splitn(4, |&b| b == b'\n');
    let mut next_str = || std::str::from_utf8(lines.next().unwrap_or_default()).ok();
    let (Some(exchange), Some(routing_key), Some(cc)) = (next_str(), next_str(), next_str()) else {
        return;
    };
    let body = lines.next().unwrap_or_default();
    let cc: Vec<String> = cc.split_whitespace().map(str::to_owned).collect();
    let message = Message::new(exchange, routing_key, body).with_cc(cc);
    let _ = translate(&message, &Options::default());
});
