//! Treeherder's own errorsummary samples, vendored byte for byte in
//! `samples/treeherder/` (its README says from where), so the errorsummary
//! reader and the local queue are tried on real files.

use std::path::PathBuf;

/// The samples' file names, as in Treeherder's `tests/sample_data/logs/`.
/// A test that walks [`treeherder_samples_dir`] compares it with this list,
/// so a sample that goes missing (or one added unexamined) fails it.
pub const TREEHERDER_SAMPLES: [&str; 14] = [
    "mochitest-browser-chrome_2_errorsummary.log",
    "mochitest-browser-chrome_cf1_errorsummary.log",
    "mochitest-browser-chrome_cf1_pass_errorsummary.log",
    "mochitest-browser-chrome_cf2_errorsummary.log",
    "mochitest-browser-chrome_cf2_pass_errorsummary.log",
    "mochitest-browser-chrome_cf3_errorsummary.log",
    "mochitest-browser-chrome_cf3_pass_errorsummary.log",
    "mochitest-browser-chrome_errorsummary.log",
    "mochitest-browser-chrome_infra_errorsummary.log",
    "mochitest-browser-chrome_pass_errorsummary.log",
    "plain-chunked_errorsummary.log",
    "plain-chunked_errorsummary_10_lines.log",
    "plain-chunked_errorsummary_astral.log",
    "xpcshell-errorsummary-with-colon.log",
];

/// Where the samples are (`tools/test-support/samples/treeherder`).
pub fn treeherder_samples_dir() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/samples/treeherder"))
}

/// One sample's bytes, by file name; panics, naming the path, when it
/// cannot be read (the samples are part of the checkout).
pub fn treeherder_sample(name: &str) -> Vec<u8> {
    let path = treeherder_samples_dir().join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}
