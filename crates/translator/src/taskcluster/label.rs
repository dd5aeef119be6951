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
    let unknown_shape = || {
        Error::new(ErrorKind::UnknownLabelShape {
            label: label.to_string(),
        })
    };
    let shape = label_shape(label).ok_or_else(unknown_shape)?;
    let (family, variants) = split_platform(shape.platform)?;
    let mut buildtype: BuildType = shape.buildtype.parse()?;
    if buildtype == BuildType::Opt && variants.iter().any(|v| v == "pgo") {
        buildtype = BuildType::Pgo;
    }
    Ok(TaskLabel {
        prefix: shape.prefix.to_string(),
        platform: shape.platform.to_string(),
        family,
        variants,
        buildtype,
        test: shape.test.map(str::to_string),
    })
}

/// The parts of a label, as slices of it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct LabelShape<'a> {
    prefix: &'a str,
    platform: &'a str,
    buildtype: &'a str,
    test: Option<&'a str>,
}

/// Words a platform starts with.
const PLATFORM_STARTS: [&str; 6] = ["linux", "windows", "win", "macosx", "osx", "android"];

/// Splits `<prefix>-<platform>/<buildtype>[-<test>]` by hand, as the regex
/// `^(?P<prefix>[A-Za-z0-9_.]+(?:-[A-Za-z0-9_.]+)*?)-(?P<platform>(?:linux|windows|win|macosx|osx|android)[A-Za-z0-9_.-]*)/(?P<buildtype>[a-z]+)(?:-(?P<test>.+))?$`
/// did: a backtracking regex cost a quarter of a message's translation.
/// The lazy prefix makes the first `-` that starts a platform word the
/// split, even inside a longer platform (`test-linux-foo-linux64/opt` has
/// the platform `linux-foo-linux64`).
fn label_shape(label: &str) -> Option<LabelShape<'_>> {
    let is_word_byte = |b: u8| b.is_ascii_alphanumeric() || b == b'_' || b == b'.';
    // Neither prefix nor platform may hold a `/`: the first one ends them.
    let (head, tail) = label.split_once('/')?;
    if !head.bytes().all(|b| is_word_byte(b) || b == b'-') {
        return None;
    }
    let buildtype_len = tail.bytes().take_while(u8::is_ascii_lowercase).count();
    if buildtype_len == 0 {
        return None;
    }
    let (buildtype, rest) = tail.split_at(buildtype_len);
    let test = match rest.strip_prefix('-') {
        // `.` stops at a line feed and `$` is the end of the text.
        Some(test) if !test.is_empty() && !test.contains('\n') => Some(test),
        Some(_) => return None,
        None if rest.is_empty() => None,
        None => return None,
    };
    // The prefix's tokens are not empty: it neither starts with a `-` nor
    // has two in a row before the split.
    let bytes = head.as_bytes();
    for (i, &b) in bytes.iter().enumerate() {
        if b != b'-' {
            continue;
        }
        if i == 0 || bytes[i - 1] == b'-' {
            return None;
        }
        let platform = &head[i + 1..];
        if PLATFORM_STARTS.iter().any(|w| platform.starts_with(w)) {
            return Some(LabelShape {
                prefix: &head[..i],
                platform,
                buildtype,
                test,
            });
        }
    }
    None
}

/// The generic platform of a Taskcluster or Treeherder platform, e.g.
/// `linux64` for `linux1804-64-qr`; `None` outside the vocabulary.
///
/// The families are tried in order, their heads in order; a platform is the
/// first head matched, then nothing or `-` and its variants. `N` is a digit,
/// `N+` one or more, `[…]` optional:
///
/// | Taskcluster platform starts with | generic | e.g. |
/// |---|---|---|
/// | `android` | `android` | `android-em-7.0-x86_64`, `android-hw-p2-8-0-android-aarch64`, `android-api-16` |
/// | `linux64-aarch64`, `linuxNNNN-64-aarch64` | `linux64-aarch64` | `linux64-aarch64`, `linux2204-64-aarch64` |
/// | `linux64`, `linuxNNNN-64` | `linux64` | `linux64-shippable-qr`, `linux1804-64-qr`, `linux2204-64-wayland` |
/// | `linux`, `linux32`, `linuxNNNN-32` | `linux` | `linux`, `linux32`, `linux1804-32` |
/// | `win64-aarch64`, `windowsN+[-64]-aarch64` | `win64-aarch64` | `win64-aarch64-shippable`, `windows10-aarch64`, `windows11-64-aarch64` |
/// | `win64`, `windowsN+-64` | `win64` | `win64`, `windows10-64-qr`, `windows11-64-2009-shippable-qr` |
/// | `win32`, `windowsN+-32` | `win32` | `win32-pgo`, `windows7-32-shippable` |
/// | `macosx64-aarch64`, `macosxN+[-64]-aarch64` | `macosx64-aarch64` | `macosx64-aarch64`, `macosx1100-aarch64`, `macosx1400-64-aarch64` |
/// | `macosx64`, `macosxN+[-64]`, `osx-N+-N+` | `macosx64` | `macosx64-shippable`, `macosx1014-64-shippable`, `osx-10-10` |
///
/// Build variants (`-asan`, `-shippable`, `-qr`, `-ccov`…) do not change the
/// generic platform, unlike buildbot's `linux64-asan`: they are build tags.
/// The table is the grammar's (`PLATFORMS` in this file), written out: a
/// test checks this one and README's against it.
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
    let found = if platform.is_ascii() {
        ascii_platform_family(platform)
    } else {
        regex_platform_family(platform)
    };
    let (family, rest) = found.ok_or_else(|| {
        Error::new(ErrorKind::UnknownTaskPlatform {
            platform: platform.to_string(),
        })
    })?;
    Ok((family, rest.map(split_variants).unwrap_or_default()))
}

/// A piece of a platform head: a literal, `\d{n}`, `\d+` or an optional
/// literal.
#[derive(Clone, Copy, Debug)]
enum Piece {
    Lit(&'static str),
    Digits(usize),
    SomeDigits,
    MaybeLit(&'static str),
}

use Piece::{Digits, Lit, MaybeLit, SomeDigits};

/// A generic platform and the Taskcluster platform heads that read as it.
#[derive(Debug)]
struct Family {
    /// The generic platform, as buildbot named it.
    generic: &'static str,
    /// The heads, tried in order.
    heads: &'static [&'static [Piece]],
    /// Real platforms of the family, for the docs; a test reads each as
    /// this family. Only the tests read it: the docs are checked copies.
    #[cfg_attr(not(test), allow(dead_code))]
    examples: &'static [&'static str],
}

/// The one Taskcluster platform grammar: families tried in order (a more
/// specific family, `linux64-aarch64`, before the one whose head is its
/// prefix, `linux64`). The hand matcher, the regexes for non-ASCII text
/// and the doc tables (of [`platform_family`] and README's "Taskcluster
/// platforms") all come from it.
const PLATFORMS: &[Family] = &[
    Family {
        generic: "android",
        heads: &[&[Lit("android")]],
        examples: &[
            "android-em-7.0-x86_64",
            "android-hw-p2-8-0-android-aarch64",
            "android-api-16",
        ],
    },
    Family {
        generic: "linux64-aarch64",
        heads: &[
            &[Lit("linux64-aarch64")],
            &[Lit("linux"), Digits(4), Lit("-64-aarch64")],
        ],
        examples: &["linux64-aarch64", "linux2204-64-aarch64"],
    },
    Family {
        generic: "linux64",
        heads: &[&[Lit("linux64")], &[Lit("linux"), Digits(4), Lit("-64")]],
        examples: &[
            "linux64-shippable-qr",
            "linux1804-64-qr",
            "linux2204-64-wayland",
        ],
    },
    Family {
        generic: "linux",
        heads: &[
            &[Lit("linux")],
            &[Lit("linux32")],
            &[Lit("linux"), Digits(4), Lit("-32")],
        ],
        examples: &["linux", "linux32", "linux1804-32"],
    },
    Family {
        generic: "win64-aarch64",
        heads: &[
            &[Lit("win64-aarch64")],
            &[Lit("windows"), SomeDigits, MaybeLit("-64"), Lit("-aarch64")],
        ],
        examples: &[
            "win64-aarch64-shippable",
            "windows10-aarch64",
            "windows11-64-aarch64",
        ],
    },
    Family {
        generic: "win64",
        heads: &[&[Lit("win64")], &[Lit("windows"), SomeDigits, Lit("-64")]],
        examples: &["win64", "windows10-64-qr", "windows11-64-2009-shippable-qr"],
    },
    Family {
        generic: "win32",
        heads: &[&[Lit("win32")], &[Lit("windows"), SomeDigits, Lit("-32")]],
        examples: &["win32-pgo", "windows7-32-shippable"],
    },
    Family {
        generic: "macosx64-aarch64",
        heads: &[
            &[Lit("macosx64-aarch64")],
            &[Lit("macosx"), SomeDigits, MaybeLit("-64"), Lit("-aarch64")],
        ],
        examples: &[
            "macosx64-aarch64",
            "macosx1100-aarch64",
            "macosx1400-64-aarch64",
        ],
    },
    Family {
        generic: "macosx64",
        heads: &[
            &[Lit("macosx64")],
            &[Lit("macosx"), SomeDigits, MaybeLit("-64")],
            &[Lit("osx-"), SomeDigits, Lit("-"), SomeDigits],
        ],
        examples: &["macosx64-shippable", "macosx1014-64-shippable", "osx-10-10"],
    },
];

/// The family of an ASCII platform and what follows its head after a `-`,
/// matched by hand: regexes cost a tenth of a message's translation.
fn ascii_platform_family(platform: &str) -> Option<(&'static str, Option<&str>)> {
    for family in PLATFORMS {
        for head in family.heads {
            let mut rest = None;
            if match_pieces(platform, head, &mut |tail| {
                // `(?:-(?P<rest>.*))?$`, and `.` stops at a line feed.
                if tail.is_empty() {
                    true
                } else if let Some(after) = tail.strip_prefix('-') {
                    let ok = !after.contains('\n');
                    if ok {
                        rest = Some(after);
                    }
                    ok
                } else {
                    false
                }
            }) {
                return Some((family.generic, rest));
            }
        }
    }
    None
}

/// Matches `pieces` at the start of `text`, then asks `accept` about the
/// rest; backtracks over digit counts and optional literals as a regex
/// would, greedy first.
fn match_pieces<'t>(
    text: &'t str,
    pieces: &[Piece],
    accept: &mut dyn FnMut(&'t str) -> bool,
) -> bool {
    let Some((piece, more)) = pieces.split_first() else {
        return accept(text);
    };
    let digits = || text.bytes().take_while(u8::is_ascii_digit).count();
    match *piece {
        Lit(lit) => text
            .strip_prefix(lit)
            .is_some_and(|after| match_pieces(after, more, accept)),
        Digits(n) => digits() >= n && match_pieces(&text[n..], more, accept),
        SomeDigits => (1..=digits())
            .rev()
            .any(|n| match_pieces(&text[n..], more, accept)),
        MaybeLit(lit) => {
            text.strip_prefix(lit)
                .is_some_and(|after| match_pieces(after, more, accept))
                || match_pieces(text, more, accept)
        }
    }
}

/// A family's heads as one regex, `^(?:head|head…)(?:-(?P<rest>.*))?$`.
fn family_regex(family: &Family) -> String {
    let heads: Vec<String> = family
        .heads
        .iter()
        .map(|head| {
            head.iter()
                .map(|piece| match *piece {
                    Lit(lit) => regex::escape(lit),
                    Digits(n) => format!(r"\d{{{n}}}"),
                    SomeDigits => r"\d+".to_string(),
                    MaybeLit(lit) => format!("(?:{})?", regex::escape(lit)),
                })
                .collect()
        })
        .collect();
    format!("^(?:{})(?:-(?P<rest>.*))?$", heads.join("|"))
}

/// The family by regexes made from the grammar, for platforms with
/// non-ASCII characters, where `\d` is any Unicode decimal digit, as it
/// was when regexes read every platform.
fn regex_platform_family(platform: &str) -> Option<(&'static str, Option<&str>)> {
    static FAMILIES: OnceLock<Vec<(Regex, &'static str)>> = OnceLock::new();
    let families = FAMILIES.get_or_init(|| {
        PLATFORMS
            .iter()
            .map(|family| {
                let regex = Regex::new(&family_regex(family)).expect("platform regex is valid");
                (regex, family.generic)
            })
            .collect()
    });
    families.iter().find_map(|(regex, family)| {
        let caps = regex.captures(platform)?;
        Some((*family, caps.name("rest").map(|rest| rest.as_str())))
    })
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

    /// The rule `label_shape` replaced, kept to check it against.
    fn regex_label_shape(label: &str) -> Option<LabelShape<'_>> {
        static SHAPE: OnceLock<Regex> = OnceLock::new();
        let shape = SHAPE.get_or_init(|| {
            Regex::new(
                r"^(?P<prefix>[A-Za-z0-9_.]+(?:-[A-Za-z0-9_.]+)*?)-(?P<platform>(?:linux|windows|win|macosx|osx|android)[A-Za-z0-9_.-]*)/(?P<buildtype>[a-z]+)(?:-(?P<test>.+))?$",
            )
            .expect("label regex is valid")
        });
        let caps = shape.captures(label)?;
        Some(LabelShape {
            prefix: caps.name("prefix")?.as_str(),
            platform: caps.name("platform")?.as_str(),
            buildtype: caps.name("buildtype")?.as_str(),
            test: caps.name("test").map(|t| t.as_str()),
        })
    }

    /// True when `text` is a label, to count what the checks covered.
    fn assert_agrees(text: &str) -> bool {
        let shape = label_shape(text);
        assert_eq!(shape, regex_label_shape(text), "{text:?}");
        assert_eq!(
            ascii_platform_family(text).is_some() || !text.is_ascii(),
            regex_platform_family(text).is_some() || !text.is_ascii(),
            "{text:?}"
        );
        if text.is_ascii() {
            assert_eq!(
                ascii_platform_family(text),
                regex_platform_family(text),
                "{text:?}"
            );
        }
        shape.is_some()
    }

    /// Every string of the Taskcluster corpus (labels, platforms, names,
    /// routes…), as label and as platform.
    #[test]
    fn hand_parsers_agree_with_the_regexes_on_the_corpus() {
        let Some(dir) = pulse_test_corpus::corpus_dir("taskcluster") else {
            return;
        };
        let sets = std::fs::read_dir(&dir).unwrap();
        fn strings(value: &serde_json::Value, out: &mut Vec<String>) {
            match value {
                serde_json::Value::String(s) => out.push(s.clone()),
                serde_json::Value::Array(items) => items.iter().for_each(|v| strings(v, out)),
                serde_json::Value::Object(map) => map.iter().for_each(|(k, v)| {
                    out.push(k.clone());
                    strings(v, out);
                }),
                _ => {}
            }
        }
        let mut texts = Vec::new();
        for set in sets {
            let set = set.unwrap().path();
            for file in std::fs::read_dir(&set).into_iter().flatten() {
                let file = file.unwrap().path();
                if file.extension().is_some_and(|e| e == "json") {
                    let value: serde_json::Value =
                        serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
                    strings(&value, &mut texts);
                }
            }
        }
        let labels = texts.iter().filter(|t| label_shape(t).is_some()).count();
        assert!(labels >= 20, "only {labels} labels in the corpus");
        for text in &texts {
            assert_agrees(text);
            if let Some(shape) = label_shape(text) {
                assert_agrees(shape.platform);
            }
        }
    }

    /// Labels and platforms glued from the pieces the rules care about.
    #[test]
    fn hand_parsers_agree_with_the_regexes_on_generated_labels() {
        const PIECES: &[&str] = &[
            "test",
            "build",
            "-",
            "-",
            "-",
            "/",
            "/",
            "linux",
            "linux64",
            "linux32",
            "1804",
            "2204",
            "12345",
            "win",
            "win32",
            "win64",
            "windows",
            "10",
            "7",
            "11",
            "macosx",
            "macosx64",
            "1014",
            "osx",
            "android",
            "-64",
            "-32",
            "-aarch64",
            "aarch64",
            "opt",
            "debug",
            "pgo",
            "asan",
            "shippable",
            "qr",
            "no-eme",
            "0",
            "x86_64",
            "api-16",
            "7.0",
            "--",
            "\n",
            "é",
            "\u{661}\u{662}",
            "Opt",
            "_",
            ".",
            "e10s",
            "3",
            "",
        ];
        // xorshift: the same labels every run.
        let mut state = 0x9e37_79b9_7f4a_7c15_u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let mut glue = |most: u64| -> String {
            (0..next() % (most + 1))
                .map(|_| PIECES[(next() % PIECES.len() as u64) as usize])
                .collect()
        };
        let mut labels = 0;
        for _ in 0..100_000 {
            assert_agrees(&glue(9));
            let label = format!("{}-{}/{}", glue(3), glue(4), glue(3));
            labels += usize::from(assert_agrees(&label));
        }
        assert!(labels >= 1000, "only {labels} random labels");
        let mut labels = 0;
        for platform_head in [
            "linux",
            "linux32",
            "linux64",
            "linux1804-64",
            "linux1804-32",
            "linux64-aarch64",
            "linux2204-64-aarch64",
            "win32",
            "win64",
            "win64-aarch64",
            "windows10-64",
            "windows7-32",
            "windows10-aarch64",
            "windows11-64-aarch64",
            "macosx64",
            "macosx1014",
            "macosx1014-64",
            "macosx1100-aarch64",
            "macosx64-aarch64",
            "macosx1400-64-aarch64",
            "osx-10-10",
            "android",
            "android-em-7.0-x86_64",
        ] {
            for tail in [
                "",
                "-",
                "-shippable-qr",
                "-64",
                "-645",
                "-asan-reporter",
                "x",
                "-\n",
            ] {
                for buildtype in ["opt", "debug", "", "Opt"] {
                    for test in ["", "-", "-mochitest-3", "-a/b", "-\n", "-é"] {
                        for prefix in ["test-", "partials-ach-", "test-linux-", "-", "a--"] {
                            let label = format!("{prefix}{platform_head}{tail}/{buildtype}{test}");
                            labels += usize::from(assert_agrees(&label));
                        }
                    }
                }
                assert_agrees(&format!("{platform_head}{tail}"));
            }
        }
        assert!(labels >= 1000, "only {labels} built labels");
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

    /// The doc tables' notation for a head: `N` a digit, `N+` one or
    /// more, `[…]` optional.
    fn head_pattern(head: &[Piece]) -> String {
        head.iter()
            .map(|piece| match *piece {
                Lit(lit) => lit.to_string(),
                Digits(n) => "N".repeat(n),
                SomeDigits => "N+".to_string(),
                MaybeLit(lit) => format!("[{lit}]"),
            })
            .collect()
    }

    /// The platform table as the docs write it, from [`PLATFORMS`].
    fn platform_table() -> String {
        let quoted = |items: Vec<String>| {
            items
                .iter()
                .map(|item| format!("`{item}`"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let mut table =
            String::from("| Taskcluster platform starts with | generic | e.g. |\n|---|---|---|\n");
        for family in PLATFORMS {
            let heads = family.heads.iter().map(|head| head_pattern(head)).collect();
            let examples = family.examples.iter().map(|e| e.to_string()).collect();
            table += &format!(
                "| {} | `{}` | {} |\n",
                quoted(heads),
                family.generic,
                quoted(examples)
            );
        }
        table
    }

    /// The tables in `platform_family`'s docs and in README say what the
    /// grammar does; a family or head changed without them fails here.
    #[test]
    fn doc_tables_are_the_grammar() {
        let table = platform_table();
        let as_doc: String = table.lines().map(|line| format!("/// {line}\n")).collect();
        assert!(
            include_str!("label.rs").contains(&as_doc),
            "platform_family's doc table differs from PLATFORMS; it should read:\n{as_doc}"
        );
        let readme_path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../README.md");
        let readme = std::fs::read_to_string(readme_path)
            .unwrap_or_else(|e| panic!("cannot read {readme_path}: {e}"));
        assert!(
            readme.contains(&table),
            "README's Taskcluster platform table differs from PLATFORMS; it should read:\n{table}"
        );
    }

    #[test]
    fn doc_examples_read_as_their_family() {
        for family in PLATFORMS {
            for example in family.examples {
                assert_eq!(platform_family(example), Some(family.generic), "{example}");
                assert_eq!(
                    regex_platform_family(example).map(|(generic, _)| generic),
                    Some(family.generic),
                    "{example}"
                );
            }
        }
    }

    /// A label's platform is found by the words in `PLATFORM_STARTS`: a
    /// head starting otherwise could never be read from a label.
    #[test]
    fn every_head_starts_with_a_platform_word() {
        for family in PLATFORMS {
            for head in family.heads {
                let Some(Lit(first)) = head.first() else {
                    panic!("{}: a head starts with a literal", family.generic);
                };
                assert!(
                    PLATFORM_STARTS.iter().any(|word| first.starts_with(word)),
                    "{}: {first}",
                    family.generic
                );
            }
        }
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
