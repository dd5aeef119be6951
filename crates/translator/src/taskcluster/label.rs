//! Task labels (`test-linux1804-64-qr/debug-mochitest-browser-chrome-e10s-3`)
//! and Taskcluster platforms (`linux1804-64-qr`), read into the generic
//! vocabulary of the buildbot era.

use std::sync::OnceLock;

use regex::Regex;

use crate::{BuildType, Error, ErrorKind};

/// A task label read as `<prefix>-<platform>/<buildtype>[-<test>]`.
///
/// The prefix is the task kind plus any qualifiers before the platform
/// (`test`, `build`, `partials-ach`, `test-vismet`); the first token that
/// starts a known platform (`linux`, `win`, `windows`, `macosx`, `osx`,
/// `android`) ends it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct TaskLabel {
    /// Everything before the platform, e.g. `test` or `partials-ach`.
    pub(super) prefix: String,
    /// The Taskcluster platform, e.g. `linux1804-64-qr`: the record's `os`.
    pub(super) platform: String,
    /// The generic platform, e.g. `linux64`.
    pub(super) family: &'static str,
    /// The platform's tokens after the generic part, numbers left out,
    /// e.g. `["shippable", "qr"]` for `linux64-shippable-qr`.
    pub(super) variants: Vec<String>,
    /// The build type. `opt` on a `-pgo` platform reads as pgo, as
    /// Treeherder's option collection did for such labels; `shippable`
    /// stays opt, which is what `extra.treeherder.collection` says.
    pub(super) buildtype: BuildType,
    /// What follows the build type, e.g. `mochitest-browser-chrome-e10s-3`.
    pub(super) test: Option<String>,
}

impl TaskLabel {
    /// The prefix tokens after the kind: for `partials-ach` with kind
    /// `partials`, `ach`.
    pub(super) fn qualifier(&self, kind: &str) -> Option<&str> {
        let rest = self.prefix.strip_prefix(kind)?.strip_prefix('-')?;
        (!rest.is_empty()).then_some(rest)
    }
}

/// Reads a task label; see [`TaskLabel`] for the shape.
pub(super) fn parse_label(label: &str) -> Result<TaskLabel, Error> {
    static SHAPE: OnceLock<Regex> = OnceLock::new();
    let shape = SHAPE.get_or_init(|| {
        Regex::new(
            r"^(?P<prefix>[A-Za-z0-9_.]+(?:-[A-Za-z0-9_.]+)*?)-(?P<platform>(?:linux|windows|win|macosx|osx|android)[A-Za-z0-9_.-]*)/(?P<buildtype>[a-z]+)(?:-(?P<test>.+))?$",
        )
        .expect("label regex is valid")
    });
    let unknown_shape = || {
        Error::new(ErrorKind::UnknownLabelShape {
            label: label.to_string(),
        })
    };
    let caps = shape.captures(label).ok_or_else(unknown_shape)?;
    let platform = &caps["platform"];
    let (family, variants) = split_platform(platform)?;
    let mut buildtype: BuildType = caps["buildtype"].parse()?;
    if buildtype == BuildType::Opt && variants.iter().any(|v| v == "pgo") {
        buildtype = BuildType::Pgo;
    }
    Ok(TaskLabel {
        prefix: caps["prefix"].to_string(),
        platform: platform.to_string(),
        family,
        variants,
        buildtype,
        test: caps.name("test").map(|t| t.as_str().to_string()),
    })
}

/// The generic platform of a Taskcluster or Treeherder platform, e.g.
/// `linux64` for `linux1804-64-qr`; `None` outside the vocabulary.
///
/// | Taskcluster platform | generic |
/// |---|---|
/// | `linux`, `linux32` | `linux` |
/// | `linux64*`, `linux1804-64*`, `linux2204-64*` … | `linux64` |
/// | `linux64-aarch64*` | `linux64-aarch64` |
/// | `win32*`, `windows7-32*`, `windows10-32*` … | `win32` |
/// | `win64*`, `windows10-64*`, `windows11-64*` … | `win64` |
/// | `win64-aarch64*`, `windows10-aarch64*` | `win64-aarch64` |
/// | `macosx64*`, `macosx1014-64*`, `osx-10-10*` … | `macosx64` |
/// | `macosx64-aarch64*`, `macosx1100-aarch64*` … | `macosx64-aarch64` |
/// | `android*` (emulators, hardware, any API level) | `android` |
///
/// Build variants (`-asan`, `-shippable`, `-qr`, `-ccov`…) do not change the
/// generic platform, unlike buildbot's `linux64-asan`: they are build tags.
pub fn platform_family(platform: &str) -> Option<&'static str> {
    split_platform(platform).ok().map(|(family, _)| family)
}

/// Build variants whose own name has a hyphen: one tag each, not two
/// (`build-win64-shippable-no-eme/opt` is `shippable` and `no-eme`).
const HYPHENATED_VARIANTS: [&str; 3] = ["no-eme", "base-toolchains", "asan-reporter"];

/// The platform's tokens after the generic part, numbers left out,
/// hyphenated variants kept whole.
fn split_variants(rest: &str) -> Vec<String> {
    let tokens: Vec<&str> = rest
        .split('-')
        .filter(|t| !t.is_empty() && !t.bytes().all(|b| b.is_ascii_digit()))
        .collect();
    let mut variants = Vec::with_capacity(tokens.len());
    let mut i = 0;
    while i < tokens.len() {
        let joined = tokens.get(i + 1).and_then(|next| {
            HYPHENATED_VARIANTS
                .iter()
                .find(|v| v.split_once('-') == Some((tokens[i], next)))
        });
        match joined {
            Some(variant) => {
                variants.push(variant.to_string());
                i += 2;
            }
            None => {
                variants.push(tokens[i].to_string());
                i += 1;
            }
        }
    }
    variants
}

fn split_platform(platform: &str) -> Result<(&'static str, Vec<String>), Error> {
    static FAMILIES: OnceLock<Vec<(Regex, &'static str)>> = OnceLock::new();
    let families = FAMILIES.get_or_init(|| {
        [
            (r"android", "android"),
            (r"(?:linux64|linux\d{4}-64)-aarch64", "linux64-aarch64"),
            (r"linux64|linux\d{4}-64", "linux64"),
            (r"linux|linux32|linux\d{4}-32", "linux"),
            (r"win64-aarch64|windows\d+(?:-64)?-aarch64", "win64-aarch64"),
            (r"win64|windows\d+-64", "win64"),
            (r"win32|windows\d+-32", "win32"),
            (
                r"(?:macosx64|macosx\d+(?:-64)?)-aarch64",
                "macosx64-aarch64",
            ),
            (r"macosx64|macosx\d+(?:-64)?|osx-\d+-\d+", "macosx64"),
        ]
        .into_iter()
        .map(|(head, family)| {
            let regex = Regex::new(&format!("^(?:{head})(?:-(?P<rest>.*))?$"))
                .expect("platform regex is valid");
            (regex, family)
        })
        .collect()
    });
    for (regex, family) in families {
        if let Some(caps) = regex.captures(platform) {
            let variants = caps
                .name("rest")
                .map(|rest| split_variants(rest.as_str()))
                .unwrap_or_default();
            return Ok((family, variants));
        }
    }
    Err(Error::new(ErrorKind::UnknownTaskPlatform {
        platform: platform.to_string(),
    }))
}

/// The suite a test name belongs to, for matching `--test` filters: the
/// trailing chunk number and the `e10s` token are dropped, every other
/// variant (`1proc`, `spi`, `fis`, `no-accel`, `headless`…) is kept.
///
/// Records keep the full name in `test`, as buildbot did (`mochitest-3`):
/// the chunk tells which run it was. e10s has been the default for years,
/// so `mochitest-browser-chrome-e10s-3` and buildbot's
/// `mochitest-browser-chrome-3` both belong to `mochitest-browser-chrome`,
/// while `mochitest-browser-chrome-1proc` (no e10s) stays apart. Numbers
/// inside a name (`raptor-tp6-9-firefox-cold-e10s`, a page set) stay.
///
/// ```
/// use pulse_translator::taskcluster::test_suite;
/// assert_eq!(test_suite("mochitest-browser-chrome-e10s-3"), "mochitest-browser-chrome");
/// assert_eq!(test_suite("reftest-1proc-1"), "reftest-1proc");
/// assert_eq!(test_suite("raptor-tp6-9-firefox-cold-e10s"), "raptor-tp6-9-firefox-cold");
/// assert_eq!(test_suite("mochitest-3"), "mochitest");
/// ```
pub fn test_suite(test: &str) -> String {
    test_suite_tokens(test).collect::<Vec<_>>().join("-")
}

/// The `-`-separated tokens of [`test_suite`], without allocating: for
/// matching many records against a few suite names. The suite is not a
/// suffix strip of the name (`mochitest-e10s-browser-chrome-1`), so it
/// cannot be a slice of it.
///
/// ```
/// use pulse_translator::taskcluster::test_suite_tokens;
/// assert!(test_suite_tokens("mochitest-e10s-browser-chrome-1").eq("mochitest-browser-chrome".split('-')));
/// ```
pub fn test_suite_tokens(test: &str) -> impl Iterator<Item = &str> + Clone {
    let unchunked = match test.rsplit_once('-') {
        Some((head, chunk)) if chunk.bytes().all(|b| b.is_ascii_digit()) => head,
        _ => test,
    };
    // A lone `e10s` is a name, not a variant of one.
    let several = unchunked.contains('-');
    unchunked
        .split('-')
        .filter(move |token| !(several && *token == "e10s"))
}

/// True for performance suites: talos, raptor and browsertime (awsy, the
/// memory suite, is not one, as it was not a talos job under buildbot).
pub(super) fn is_performance_test(test: &str) -> bool {
    matches!(
        test.split('-').next(),
        Some("talos" | "raptor" | "browsertime")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(label: &str) -> (String, &'static str, BuildType, Option<String>, Vec<String>) {
        let l = parse_label(label).unwrap_or_else(|e| panic!("{label}: {e}"));
        (l.platform, l.family, l.buildtype, l.test, l.variants)
    }

    #[test]
    fn real_labels_read_into_platform_buildtype_and_test() {
        use BuildType::*;
        // Labels from the corpus (tagged-2020, treeherder-2019) and the brief.
        let cases: &[(&str, &str, &str, BuildType, Option<&str>)] = &[
            ("test-linux32/debug-reftest-1proc-1", "linux32", "linux", Debug, Some("reftest-1proc-1")),
            ("build-win64/pgo", "win64", "win64", Pgo, None),
            ("build-linux64/debug", "linux64", "linux64", Debug, None),
            ("build-linux64-shippable/opt", "linux64-shippable", "linux64", Opt, None),
            ("test-macosx1014-64-shippable/opt-raptor-tp6-7-firefox-e10s", "macosx1014-64-shippable", "macosx64", Opt, Some("raptor-tp6-7-firefox-e10s")),
            ("test-linux1804-64-qr/debug-mochitest-browser-chrome-e10s-3", "linux1804-64-qr", "linux64", Debug, Some("mochitest-browser-chrome-e10s-3")),
            ("test-windows10-64/debug-xpcshell-e10s-1", "windows10-64", "win64", Debug, Some("xpcshell-e10s-1")),
            ("test-windows10-64-qr/opt-awsy-tp6-e10s", "windows10-64-qr", "win64", Opt, Some("awsy-tp6-e10s")),
            ("test-windows7-32-shippable/opt-talos-xperf-e10s", "windows7-32-shippable", "win32", Opt, Some("talos-xperf-e10s")),
            ("test-windows7-32/debug-crashtest-e10s", "windows7-32", "win32", Debug, Some("crashtest-e10s")),
            ("test-windows10-64-shippable/opt-browsertime-tp6-profiling-firefox-cold-amazon-e10s", "windows10-64-shippable", "win64", Opt, Some("browsertime-tp6-profiling-firefox-cold-amazon-e10s")),
            ("test-android-hw-p2-8-0-android-aarch64/pgo-raptor-speedometer-geckoview-cpu-memory-e10s", "android-hw-p2-8-0-android-aarch64", "android", Pgo, Some("raptor-speedometer-geckoview-cpu-memory-e10s")),
            ("test-android-hw-p2-8-0-arm7-api-16/opt-raptor-tp6m-1-geckoview-e10s", "android-hw-p2-8-0-arm7-api-16", "android", Opt, Some("raptor-tp6m-1-geckoview-e10s")),
            ("test-android-em-7.0-x86_64/debug-mochitest-e10s-1", "android-em-7.0-x86_64", "android", Debug, Some("mochitest-e10s-1")),
            ("test-android-em-4.3-arm7-api-16/debug-geckoview-junit-e10s-2", "android-em-4.3-arm7-api-16", "android", Debug, Some("geckoview-junit-e10s-2")),
            ("test-vismet-android-hw-p2-8-0-android-aarch64/pgo-browsertime-tp6m-fenix-cold-youtube", "android-hw-p2-8-0-android-aarch64", "android", Pgo, Some("browsertime-tp6m-fenix-cold-youtube")),
            ("test-linux64-shippable-qr/opt-gtest-1proc", "linux64-shippable-qr", "linux64", Opt, Some("gtest-1proc")),
            ("test-linux64-asan/opt-mochitest-browser-chrome-e10s-16", "linux64-asan", "linux64", Opt, Some("mochitest-browser-chrome-e10s-16")),
            ("test-linux64-qr/debug-web-platform-tests-reftests-e10s-3", "linux64-qr", "linux64", Debug, Some("web-platform-tests-reftests-e10s-3")),
            ("test-macosx1010-64/debug-mochitest-media-spi-e10s-1", "macosx1010-64", "macosx64", Debug, Some("mochitest-media-spi-e10s-1")),
            ("test-macosx1014-64/debug-mochitest-e10s-1", "macosx1014-64", "macosx64", Debug, Some("mochitest-e10s-1")),
            ("partials-ach-linux64-shippable/opt", "linux64-shippable", "linux64", Opt, None),
            ("partials-signing-ach-linux64-shippable/opt", "linux64-shippable", "linux64", Opt, None),
            ("build-android-api-16/debug", "android-api-16", "android", Debug, None),
            ("build-win64-aarch64-shippable/opt", "win64-aarch64-shippable", "win64-aarch64", Opt, None),
            ("build-macosx64-shippable/opt", "macosx64-shippable", "macosx64", Opt, None),
            ("build-win32-pgo/opt", "win32-pgo", "win32", Pgo, None),
            ("test-osx-10-10/opt-mochitest-1", "osx-10-10", "macosx64", Opt, Some("mochitest-1")),
            ("test-windows10-aarch64/opt-mochitest-media-e10s", "windows10-aarch64", "win64-aarch64", Opt, Some("mochitest-media-e10s")),
            ("test-linux2204-64-wayland/opt-mochitest-browser-chrome-1", "linux2204-64-wayland", "linux64", Opt, Some("mochitest-browser-chrome-1")),
            ("test-windows11-64-2009-shippable-qr/opt-talos-g4-e10s", "windows11-64-2009-shippable-qr", "win64", Opt, Some("talos-g4-e10s")),
        ];
        for (label, platform, family, buildtype, test) in cases {
            let (p, f, b, t, _) = parsed(label);
            assert_eq!(
                (p.as_str(), f, b, t.as_deref()),
                (*platform, *family, *buildtype, *test),
                "{label}"
            );
        }
        assert_eq!(cases.len(), 31);
    }

    #[test]
    fn variants_are_the_platform_tokens_after_the_generic_part() {
        assert_eq!(
            parsed("build-linux64-asan-fuzzing/opt").4,
            ["asan", "fuzzing"]
        );
        assert_eq!(parsed("build-linux64-shippable/opt").4, ["shippable"]);
        assert_eq!(parsed("test-linux1804-64-qr/debug-x").4, ["qr"]);
        assert_eq!(
            parsed("test-windows11-64-2009-shippable-qr/opt-x").4,
            ["shippable", "qr"]
        );
        assert!(parsed("build-win64/pgo").4.is_empty());
        assert_eq!(
            parsed("build-win64-shippable-no-eme/opt").4,
            ["shippable", "no-eme"],
            "a hyphenated variant stays one tag"
        );
        assert_eq!(
            parsed("build-linux64-asan-reporter-shippable/opt").4,
            ["asan-reporter", "shippable"]
        );
        assert_eq!(
            parsed("toolchain-linux64-base-toolchains/opt").4,
            ["base-toolchains"]
        );
    }

    #[test]
    fn qualifiers_between_kind_and_platform() {
        let l = parse_label("partials-signing-ach-linux64-shippable/opt").unwrap();
        assert_eq!(l.prefix, "partials-signing-ach");
        assert_eq!(l.qualifier("partials-signing"), Some("ach"));
        assert_eq!(
            parse_label("test-linux64/opt-x").unwrap().qualifier("test"),
            None
        );
    }

    #[test]
    fn labels_of_other_shapes_are_typed_errors() {
        for label in [
            "complete-pr-2",
            "Action: Retrigger",
            "Cron task for https://hg.mozilla.org/releases/mozilla-beta",
            "toolchain-linux64-clang-9",
            "source-test-mozlint-eslint",
            "",
            "/",
            "test-/opt",
            "linux64/opt-mochitest",
        ] {
            let err = parse_label(label).unwrap_err();
            assert!(
                matches!(err.kind(), ErrorKind::UnknownLabelShape { label: l } if l == label),
                "{label:?}: {err}"
            );
        }
        let err = parse_label("test-linux64/asan-mochitest").unwrap_err();
        assert!(
            matches!(err.kind(), ErrorKind::BadBuildType { .. }),
            "{err}"
        );
        let err = parse_label("build-linux128/opt").unwrap_err();
        assert_eq!(
            err.kind(),
            &ErrorKind::UnknownTaskPlatform {
                platform: "linux128".into()
            }
        );
        let err = parse_label("build-macosx/opt").unwrap_err();
        assert!(
            matches!(err.kind(), ErrorKind::UnknownTaskPlatform { .. }),
            "{err}"
        );
    }

    #[test]
    fn treeherder_machine_platforms_have_families() {
        for (platform, family) in [
            ("linux64-qr", "linux64"),
            ("linux64-shippable-qr", "linux64"),
            ("android-em-7-0-x86_64", "android"),
            ("android-em-4-3-armv7-api16", "android"),
            ("windows7-32-shippable", "win32"),
            ("macosx1014-64-shippable", "macosx64"),
        ] {
            assert_eq!(platform_family(platform), Some(family), "{platform}");
        }
        assert_eq!(platform_family("gecko-decision"), None);
        assert_eq!(platform_family("lint"), None);
    }

    #[test]
    fn test_suites_drop_chunks_and_e10s_only() {
        for (test, suite) in [
            (
                "mochitest-browser-chrome-e10s-3",
                "mochitest-browser-chrome",
            ),
            ("mochitest-browser-chrome-3", "mochitest-browser-chrome"),
            ("mochitest-browser-chrome", "mochitest-browser-chrome"),
            (
                "mochitest-e10s-browser-chrome-1",
                "mochitest-browser-chrome",
            ),
            (
                "mochitest-browser-chrome-1proc-2",
                "mochitest-browser-chrome-1proc",
            ),
            ("mochitest-media-spi-e10s-2", "mochitest-media-spi"),
            ("talos-xperf-e10s", "talos-xperf"),
            ("xpcshell-condprof-5", "xpcshell-condprof"),
            ("gtest-1proc", "gtest-1proc"),
            ("e10s", "e10s"),
            ("3", "3"),
            ("e10s-3", "e10s"),
            ("mochitest-e10s", "mochitest"),
            ("e10s-e10s", ""),
            ("mochitest-", "mochitest"),
            ("", ""),
        ] {
            assert_eq!(test_suite(test), suite, "{test}");
        }
    }

    #[test]
    fn performance_tests_are_talos_raptor_and_browsertime() {
        assert!(is_performance_test("talos-xperf-e10s"));
        assert!(is_performance_test("raptor-tp6-9-firefox-cold-e10s"));
        assert!(is_performance_test("browsertime-tp6m-fenix-cold-youtube"));
        assert!(!is_performance_test("awsy-tp6-e10s"));
        assert!(!is_performance_test("mochitest-browser-chrome-e10s-3"));
    }
}
