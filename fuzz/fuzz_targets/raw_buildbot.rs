//! Arbitrary bytes as a raw buildbot message body: `buildbot::translate`
//! must return messages or a typed error, never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pulse_translator::buildbot::{translate, translate_with_key};
use pulse_translator::Options;

fuzz_target!(|body: &[u8]| {
    let options = Options::default();
    let _ = translate(body, &options);
    // The delivery key only matters for bodies without `_meta.routing_key`.
    let _ = translate_with_key("build.fuzz-builder.1.log_uploaded", body, &options);
});
