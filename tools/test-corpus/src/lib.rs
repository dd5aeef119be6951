//! What every crate's tests and benches share without a broker
//! (`publish = false`): the shared corpus, skip-or-fail under CI, unique
//! names, temporary directories, and waiting for a condition.
//!
//! - Skip or fail: [`in_ci`], [`require`]. Under `CI=true` a missing
//!   corpus or tool fails the test; elsewhere the test prints a loud
//!   `*** SKIP ...` and returns early.
//! - The shared corpus (`../shared/corpus` beside the checkout):
//!   [`corpus_dir`], [`CORPUS`], [`files_under`], [`read_json`].
//! - Names and places: [`unique`], [`TempDir`], [`find_program`],
//!   [`have_program`].
//! - Waiting for a condition with a deadline, never sleeping then
//!   asserting: [`wait_for`], [`wait_until`].
//!
//! Its neighbour `pulse-test-support` re-exports all of it and adds the
//! local broker; crates below the wire crate (translator, filter,
//! dispatch, synthetic) use this one alone.
//!
//! ```
//! use std::time::Duration;
//!
//! let name = pulse_test_corpus::unique("doc");
//! assert!(name.starts_with("doc-") && name.len() == "doc-".len() + 16);
//! assert_ne!(name, pulse_test_corpus::unique("doc"));
//! let mut polls = 0;
//! assert!(pulse_test_corpus::wait_for(Duration::from_secs(5), || {
//!     polls += 1;
//!     polls == 3
//! }));
//! ```
#![deny(missing_docs)]

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::Value;

/// The shared corpus: `../shared/corpus` beside the checkout (this crate is
/// two levels below the workspace root, as every crate is).
pub const CORPUS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/corpus");

/// Whether this run is CI (`CI=true`), where nothing may be skipped.
pub fn in_ci() -> bool {
    std::env::var("CI").as_deref() == Ok("true")
}

/// `Ok(())` if `what` is available; otherwise fails under CI and, elsewhere,
/// prints a loud SKIP and returns `Err(())` so the test can return early.
#[allow(clippy::result_unit_err)]
pub fn require(available: bool, what: &str) -> Result<(), ()> {
    if available {
        return Ok(());
    }
    if in_ci() {
        panic!("CI=true but {what} is not available: the test needs it");
    }
    eprintln!("\n*** SKIP: {what} is not available; test not run (CI=true fails instead) ***\n");
    Err(())
}

/// A name no other test (or run) uses: `<prefix>-<16 hex digits>`.
pub fn unique(prefix: &str) -> String {
    format!("{prefix}-{:016x}", random_u64())
}

/// 64 random bits, from the standard library's per-process hash keys and a
/// counter: unique names need no random-number crate.
fn random_u64() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    hasher.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos()),
    );
    hasher.finish()
}

/// Polls `condition` every 20 ms until it holds; false after `timeout`.
pub fn wait_for(timeout: Duration, mut condition: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    loop {
        if condition() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Polls `condition` until it holds, failing the test ("timed out waiting
/// for `what`") after `timeout`.
pub fn wait_until(timeout: Duration, what: &str, condition: impl FnMut() -> bool) {
    assert!(wait_for(timeout, condition), "timed out waiting for {what}");
}

/// `relative` inside the shared corpus (`""` for the corpus itself), or
/// `None` after a loud SKIP when it is missing; under `CI=true` a missing
/// corpus fails the test.
pub fn corpus_dir(relative: &str) -> Option<PathBuf> {
    let mut dir = PathBuf::from(CORPUS);
    if !relative.is_empty() {
        dir.push(relative);
    }
    require(
        dir.is_dir(),
        &format!("the shared corpus at {}", dir.display()),
    )
    .ok()
    .map(|()| dir)
}

/// Every file under `dir`, sorted.
pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let entries = std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
        for entry in entries {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

/// A JSON file, parsed; panics naming the file.
pub fn read_json(path: &Path) -> Value {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_slice(&bytes).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Whether `program` can be found on `PATH` (or is an existing path).
pub fn have_program(program: &str) -> bool {
    find_program(program).is_some()
}

/// `program` on `PATH` (or as given, when it holds a `/` and exists).
pub fn find_program(program: &str) -> Option<PathBuf> {
    if program.contains('/') {
        return Path::new(program).exists().then(|| PathBuf::from(program));
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(program))
        .find(|candidate| candidate.is_file())
}

/// A directory under the system temp dir, removed (with its contents) on drop.
#[derive(Debug)]
pub struct TempDir {
    path: PathBuf,
}

impl TempDir {
    /// Creates a fresh directory named after `prefix`.
    pub fn new(prefix: &str) -> TempDir {
        let path = std::env::temp_dir().join(unique(prefix));
        std::fs::create_dir_all(&path)
            .unwrap_or_else(|e| panic!("creating {}: {e}", path.display()));
        TempDir { path }
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// A path inside the directory.
    pub fn join(&self, name: &str) -> PathBuf {
        self.path.join(name)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}
