//! Buildbot's long buildernames, read into their parts.
//!
//! A long buildername describes the machine, then names the tree, the
//! build type and the kind of job:
//! `Rev3 WINNT 6.1 mozilla-central debug test mochitest-3`,
//! `Windows 8 64-bit mozilla-inbound pgo talos tp5o`,
//! `Linux x86-64 mozilla-inbound leak test build`. Release jobs and l10n
//! repacks have their own shapes (`release-mozilla-beta-win32_repack_2/10`,
//! `Firefox mozilla-aurora linux l10n nightly-1`).
//!
//! [`parse`] never guesses: a part it cannot read is `None`. The machine
//! descriptions it knows are [`crate::tables::BUILDER_MACHINES`].

use std::sync::OnceLock;

use regex::Regex;
use serde::{Deserialize, Serialize};

use crate::record::BuildType;
use crate::tables;

/// What kind of job a builder runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// A build (including nightlies and release builds).
    Build,
    /// A unit test run.
    Test,
    /// A talos (performance) run.
    Talos,
    /// An l10n repack.
    Repack,
    /// Another job on a known machine, e.g. a valgrind run.
    Other,
}

/// The parts of a buildername; `None` where the name does not say.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Builder {
    /// The tree, e.g. `mozilla-central`.
    pub tree: Option<String>,
    /// The generic platform, e.g. `linux64`.
    pub platform: Option<String>,
    /// The OS tests ran on, e.g. `win7`; only for tests and talos.
    pub os: Option<String>,
    /// opt, debug or pgo.
    pub buildtype: Option<BuildType>,
    /// The kind of job.
    pub kind: Option<Kind>,
    /// The test or talos suite, e.g. `mochitest-1`.
    pub test: Option<String>,
}

/// Reads a buildername. Unknown parts are `None`; this never fails.
pub fn parse(name: &str) -> Builder {
    parse_release(name)
        .or_else(|| parse_l10n(name))
        .or_else(|| parse_b2g_build(name))
        .or_else(|| parse_long(name))
        .unwrap_or_default()
}

struct Patterns {
    test: Regex,
    talos: Regex,
    build: Regex,
    other: Regex,
    release: Regex,
    l10n: Regex,
    b2g_build: Regex,
}

fn patterns() -> &'static Patterns {
    static PATTERNS: OnceLock<Patterns> = OnceLock::new();
    PATTERNS.get_or_init(|| {
        let platforms = alternatives(tables::PLATFORMS.iter().map(|(name, _)| *name));
        let b2g_platforms = alternatives(tables::B2G_BUILD_PLATFORMS.iter().copied());
        let regex = |pattern: &str| Regex::new(pattern).expect("valid buildername pattern");
        Patterns {
            test: regex(r"^(.+?) (\S+) (opt|debug|pgo) test (\S+)$"),
            talos: regex(r"^(.+?) (\S+) (?:(opt|debug|pgo) )?talos (\S+)$"),
            build: regex(r"^(.+?) (\S+) (leak test build|pgo-build|build|nightly)$"),
            other: regex(r"^(.+?) (\S+) (\S+)$"),
            release: regex(&format!(
                r"^(release-\S+?)-({platforms})_(build|repack)(?:_\d+(?:/\d+)?)?$"
            )),
            l10n: regex(r"^\S+ (\S+) (\S+) l10n \S+$"),
            b2g_build: regex(&format!(
                r"^b2g_(\S+?)_({b2g_platforms})(-debug)?(?: build|_dep|_nightly)$"
            )),
        }
    })
}

/// A regex alternation of literal names, longest first so that
/// `linux64-asan` is tried before `linux64` and `linux`.
fn alternatives<'a>(names: impl Iterator<Item = &'a str>) -> String {
    let mut names: Vec<&str> = names.collect();
    names.sort_by_key(|name| std::cmp::Reverse(name.len()));
    names
        .iter()
        .map(|name| regex::escape(name))
        .collect::<Vec<_>>()
        .join("|")
}

fn parse_release(name: &str) -> Option<Builder> {
    let captures = patterns().release.captures(name)?;
    Some(Builder {
        tree: Some(captures[1].to_owned()),
        platform: Some(captures[2].to_owned()),
        os: None,
        buildtype: Some(BuildType::Opt),
        kind: Some(if &captures[3] == "repack" {
            Kind::Repack
        } else {
            Kind::Build
        }),
        test: None,
    })
}

fn parse_l10n(name: &str) -> Option<Builder> {
    let captures = patterns().l10n.captures(name)?;
    Some(Builder {
        tree: Some(captures[1].to_owned()),
        platform: tables::is_known_platform(&captures[2]).then(|| captures[2].to_owned()),
        os: None,
        buildtype: Some(BuildType::Opt),
        kind: Some(Kind::Repack),
        test: None,
    })
}

fn parse_b2g_build(name: &str) -> Option<Builder> {
    let captures = patterns().b2g_build.captures(name)?;
    Some(Builder {
        tree: Some(captures[1].to_owned()),
        platform: Some(captures[2].to_owned()),
        os: None,
        buildtype: Some(if captures.get(3).is_some() {
            BuildType::Debug
        } else {
            BuildType::Opt
        }),
        kind: Some(Kind::Build),
        test: None,
    })
}

/// `<machine> <tree> <job…>`, where the machine must be a known one for
/// the platform and OS to be read.
fn parse_long(name: &str) -> Option<Builder> {
    let patterns = patterns();
    let (machine, tree, buildtype, kind, test) = if let Some(c) = patterns.test.captures(name) {
        (
            c.get(1)?,
            c.get(2)?,
            c.get(3).map(|m| m.as_str()),
            Kind::Test,
            c.get(4),
        )
    } else if let Some(c) = patterns.talos.captures(name) {
        (
            c.get(1)?,
            c.get(2)?,
            Some(c.get(3).map_or("opt", |m| m.as_str())),
            Kind::Talos,
            c.get(4),
        )
    } else if let Some(c) = patterns.build.captures(name) {
        let buildtype = match &c[3] {
            "leak test build" => "debug",
            "pgo-build" => "pgo",
            _ => "opt",
        };
        (c.get(1)?, c.get(2)?, Some(buildtype), Kind::Build, None)
    } else {
        // An unknown job: only worth reading on a known machine.
        let c = patterns.other.captures(name)?;
        tables::builder_machine(c.get(1)?.as_str())?;
        (c.get(1)?, c.get(2)?, None, Kind::Other, None)
    };
    let machine = tables::builder_machine(machine.as_str());
    let buildtype = machine
        .and_then(|m| m.buildtype)
        .or(buildtype)
        .and_then(|b| b.parse().ok());
    let runs_tests = matches!(kind, Kind::Test | Kind::Talos);
    Some(Builder {
        tree: Some(tree.as_str().to_owned()),
        platform: machine.map(|m| m.platform.to_owned()),
        os: machine
            .and_then(|m| m.os)
            .filter(|_| runs_tests)
            .map(str::to_owned),
        buildtype,
        kind: Some(kind),
        // `mochitests-4/5` is chunk 4 of 5: the suite is `mochitests-4`.
        test: test.map(|m| m.as_str().split('/').next().unwrap_or_default().to_owned()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn builder(
        tree: &str,
        platform: Option<&str>,
        os: Option<&str>,
        buildtype: Option<BuildType>,
        kind: Kind,
        test: Option<&str>,
    ) -> Builder {
        Builder {
            tree: Some(tree.into()),
            platform: platform.map(Into::into),
            os: os.map(Into::into),
            buildtype,
            kind: Some(kind),
            test: test.map(Into::into),
        }
    }

    #[test]
    fn the_brief_examples() {
        use BuildType::*;
        let cases = [
            (
                "Ubuntu VM 12.04 x64 mozilla-central debug test mochitest-1",
                builder(
                    "mozilla-central",
                    Some("linux64"),
                    Some("ubuntu64_vm"),
                    Some(Debug),
                    Kind::Test,
                    Some("mochitest-1"),
                ),
            ),
            (
                "Rev3 WINNT 6.1 mozilla-central debug test mochitest-3",
                builder(
                    "mozilla-central",
                    Some("win32"),
                    Some("win7"),
                    Some(Debug),
                    Kind::Test,
                    Some("mochitest-3"),
                ),
            ),
            (
                "Android Tegra 250 try opt test mochitest-1",
                builder(
                    "try",
                    Some("android"),
                    Some("tegra_android"),
                    Some(Opt),
                    Kind::Test,
                    Some("mochitest-1"),
                ),
            ),
            (
                "Windows 8 64-bit mozilla-inbound pgo talos tp5o",
                builder(
                    "mozilla-inbound",
                    Some("win64"),
                    Some("win8_64"),
                    Some(Pgo),
                    Kind::Talos,
                    Some("tp5o"),
                ),
            ),
            (
                "Linux x86-64 mozilla-inbound leak test build",
                builder(
                    "mozilla-inbound",
                    Some("linux64"),
                    None,
                    Some(Debug),
                    Kind::Build,
                    None,
                ),
            ),
            (
                "release-mozilla-beta-win32_repack_2/10",
                builder(
                    "release-mozilla-beta",
                    Some("win32"),
                    None,
                    Some(Opt),
                    Kind::Repack,
                    None,
                ),
            ),
        ];
        for (name, expected) in cases {
            assert_eq!(parse(name), expected, "{name}");
        }
    }

    #[test]
    fn unknown_names_are_all_none() {
        assert_eq!(parse(""), Builder::default());
        assert_eq!(parse("something else entirely"), Builder::default());
        // A test on an unknown machine: the position says the tree, the
        // machine says nothing.
        let panda = parse("b2g_panda ash opt test gaia-ui-test");
        assert_eq!(panda.platform, None);
        assert_eq!(panda.tree.as_deref(), Some("ash"));
        assert_eq!(panda.kind, Some(Kind::Test));
    }

    #[test]
    fn serializes_with_nulls() {
        let json = serde_json::to_value(parse("Rev3 Fedora 12 try talos dromaeojs")).unwrap();
        assert_eq!(
            json,
            serde_json::json!({
                "tree": "try", "platform": "linux", "os": "fedora",
                "buildtype": "opt", "kind": "talos", "test": "dromaeojs"
            })
        );
        let json = serde_json::to_value(parse("nonsense")).unwrap();
        assert_eq!(
            json,
            serde_json::json!({
                "tree": null, "platform": null, "os": null,
                "buildtype": null, "kind": null, "test": null
            })
        );
    }
}
