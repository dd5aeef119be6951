//! Arbitrary UTF-8 as a buildbot buildername: `buildername::parse` never
//! fails, so it must not panic either.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pulse_translator::buildername::parse;

fuzz_target!(|name: &str| {
    let _ = parse(name);
});
