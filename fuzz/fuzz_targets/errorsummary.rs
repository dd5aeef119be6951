//! Input: an errorsummary artifact's bytes. `errorsummary::read` must not
//! panic, must keep its caps (failures, groups, field lengths), and every
//! failure must render as a line.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pulse_taskcluster::errorsummary::{read, Limits};

fuzz_target!(|bytes: &[u8]| {
    let limits = Limits::default().with_max_failures(20).with_max_field_chars(50);
    let summary = read(bytes, &limits);
    assert!(summary.failures.len() <= 20);
    assert!(summary.failing_groups.len() <= 20);
    for failure in &summary.failures {
        for field in [&failure.test, &failure.subtest, &failure.message].into_iter().flatten() {
            assert!(field.chars().count() <= 51, "{field:?}");
        }
        let _ = failure.line();
    }
    let _ = summary.unusable();
});
