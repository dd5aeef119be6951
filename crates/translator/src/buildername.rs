//! Buildbot's buildernames, read into their parts.
//!
//! Most buildernames are long: they describe the machine, then name the
//! tree, the build type and the kind of job:
//! `Rev3 WINNT 6.1 mozilla-central debug test mochitest-3`,
//! `Windows 8 64-bit mozilla-inbound pgo talos tp5o`,
//! `Linux x86-64 mozilla-inbound leak test build`; Thunderbird's carry a
//! `TB ` prefix. Builds may name variants between the tree and the ending
//! (`debug asan build`, `leak test spidermonkey_tier_1-rootanalysis build`),
//! and some test machines a variant before the tree
//! (`Windows 7 32-bit stylo-disabled mozilla-inbound …`).
//!
//! Other builders have shapes of their own: release jobs
//! (`release-mozilla-beta-win32_repack_2/10`,
//! `release-mozilla-beta-firefox_bncr_sub`), l10n repacks
//! (`Firefox mozilla-aurora linux l10n nightly-1`), B2G builds
//! (`b2g_mozilla-inbound_emulator-jb-debug_dep`), jetpack tests
//! (`jetpack-fx-team-snowleopard-debug`) and the B2G desktop runtimes
//! (`graphene_cedar_linux64 build`).
//!
//! [`parse`] never guesses: a part it cannot read is `None`. Its vocabulary,
//! the machine descriptions it knows among it, is the crate's `tables`
//! module (`BUILDER_MACHINES` in `src/tables.rs`). The names and their
//! meanings follow
//! buildbot's configuration (mozilla-releng/build-buildbot-configs and
//! build-buildbotcustom) and Treeherder's buildbot ETL rules.

mod shapes;

use serde::{Deserialize, Serialize};

use crate::tables;
use crate::BuildType;

/// What kind of job a builder runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BuildernameKind {
    /// A build (including nightlies, release and B2G device builds).
    Build,
    /// A unit test run.
    Test,
    /// A talos (performance) run.
    Talos,
    /// An l10n or partner repack.
    Repack,
    /// Another job: a release step such as a bouncer submission or an
    /// update verify, or a job of no known shape on a known machine.
    Other,
}

/// The parts of a buildername; `None` where the name does not say.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ParsedBuildername {
    /// The tree, e.g. `mozilla-central`.
    pub tree: Option<String>,
    /// The generic platform, e.g. `linux64`.
    pub platform: Option<String>,
    /// The OS tests ran on, e.g. `win7`; only for tests and talos.
    pub os: Option<String>,
    /// opt, debug or pgo.
    pub buildtype: Option<BuildType>,
    /// The kind of job.
    pub kind: Option<BuildernameKind>,
    /// The test or talos suite, e.g. `mochitest-1`.
    pub test: Option<String>,
}

/// Reads a buildername. Unknown parts are `None`; this never fails.
pub fn parse(name: &str) -> ParsedBuildername {
    let name = name.trim();
    shapes::release(name)
        .or_else(|| shapes::l10n(name))
        .or_else(|| shapes::b2g_build(name))
        .or_else(|| shapes::jetpack(name))
        .or_else(|| shapes::runtime_build(name))
        // Thunderbird's builders are Firefox's with a prefix.
        .or_else(|| parse_long(name.strip_prefix("TB ").unwrap_or(name)))
        .unwrap_or_default()
}

/// What the words after the tree of a long buildername say.
struct Job<'a> {
    /// The machine and the tree, e.g. `Rev3 WINNT 6.1 mozilla-central`.
    head: &'a str,
    kind: BuildernameKind,
    buildtype: Option<BuildType>,
    test: Option<&'a str>,
    /// From a variant such as `asan`: see [`tables::VariantEffect`].
    platform_suffix: Option<&'static str>,
}

/// `<machine> <tree> <job…>`, read from the end: the job's words say
/// where the tree is, and the machine must then be a known one for the
/// platform and OS to be read. A job of no known shape is read only after
/// a known machine, as kind `other`.
fn parse_long(name: &str) -> Option<ParsedBuildername> {
    let Some(job) = read_test(name)
        .or_else(|| read_talos(name))
        .or_else(|| read_build(name))
    else {
        return parse_other(name);
    };
    let (machine, tree) = split_last(job.head)?;
    let machine = tables::builder_machine(machine);
    let platform = machine.map(|m| match job.platform_suffix {
        Some(suffix) => variant_platform(m.platform, suffix),
        None => m.platform.to_owned(),
    });
    let runs_tests = matches!(job.kind, BuildernameKind::Test | BuildernameKind::Talos);
    Some(ParsedBuildername {
        tree: Some(tree.to_owned()),
        platform,
        os: machine
            .and_then(|m| m.os)
            .filter(|_| runs_tests)
            .map(str::to_owned),
        buildtype: machine_buildtype(machine).or(job.buildtype),
        kind: Some(job.kind),
        // `mochitests-4/5` is chunk 4 of 5: the suite is `mochitests-4`.
        test: job
            .test
            .map(|test| test.split('/').next().unwrap_or(test).to_owned()),
    })
}

/// `… <tree> <opt|debug|pgo> test <suite>`.
fn read_test(name: &str) -> Option<Job<'_>> {
    let (rest, suite) = split_last(name)?;
    let rest = strip_last_word(rest, "test")?;
    let (head, buildtype) = split_last(rest)?;
    Some(Job {
        head,
        kind: BuildernameKind::Test,
        buildtype: Some(read_buildtype(buildtype)?),
        test: Some(suite),
        platform_suffix: None,
    })
}

/// `… <tree> [opt|debug|pgo] talos <suite>`; without a build type, opt.
fn read_talos(name: &str) -> Option<Job<'_>> {
    let (rest, suite) = split_last(name)?;
    let rest = strip_last_word(rest, "talos")?;
    let (head, buildtype) = match split_last(rest) {
        Some((head, word)) => match read_buildtype(word) {
            Some(buildtype) => (head, buildtype),
            None => (rest, BuildType::Opt),
        },
        None => (rest, BuildType::Opt),
    };
    Some(Job {
        head,
        kind: BuildernameKind::Talos,
        buildtype: Some(buildtype),
        test: Some(suite),
        platform_suffix: None,
    })
}

/// `… <tree> [variant…] <ending>`: `Linux x86-64 mozilla-inbound build`,
/// `Linux mozilla-inbound leak test spidermonkey_info-warnaserrdebug build`.
fn read_build(name: &str) -> Option<Job<'_>> {
    let (mut head, ending) = split_last(name)?;
    let (_, ending_buildtype) = tables::BUILD_ENDINGS
        .iter()
        .find(|(word, _)| *word == ending)?;
    let mut debug = false;
    let mut platform_suffix = None;
    while let Some((rest, effect)) = tables::BUILD_VARIANTS
        .iter()
        .find_map(|(words, effect)| Some((strip_variant(head, words)?, *effect)))
    {
        head = rest;
        match effect {
            tables::VariantEffect::Nothing => {}
            tables::VariantEffect::Debug => debug = true,
            tables::VariantEffect::PlatformSuffix(suffix) => platform_suffix = Some(suffix),
        }
    }
    let buildtype = match ending_buildtype {
        Some(buildtype) => read_buildtype(buildtype),
        None if debug => Some(BuildType::Debug),
        None => Some(BuildType::Opt),
    };
    Some(Job {
        head,
        kind: BuildernameKind::Build,
        buildtype,
        test: None,
        platform_suffix,
    })
}

/// `<known machine> <tree> <anything>`: the longest known machine the
/// name starts with, then the tree.
fn parse_other(name: &str) -> Option<ParsedBuildername> {
    let machine = tables::BUILDER_MACHINES
        .iter()
        .filter(|m| {
            name.strip_prefix(m.name)
                .is_some_and(|rest| rest.starts_with(' '))
        })
        .max_by_key(|m| m.name.len())?;
    let (tree, job) = name[machine.name.len()..].trim_start().split_once(' ')?;
    if job.trim().is_empty() {
        return None;
    }
    Some(ParsedBuildername {
        tree: Some(tree.to_owned()),
        platform: Some(machine.platform.to_owned()),
        os: None,
        buildtype: machine_buildtype(Some(machine)),
        kind: Some(BuildernameKind::Other),
        test: None,
    })
}

fn machine_buildtype(machine: Option<&tables::BuilderMachine>) -> Option<BuildType> {
    read_buildtype(machine?.buildtype?)
}

fn read_buildtype(word: &str) -> Option<BuildType> {
    match word {
        "opt" => Some(BuildType::Opt),
        "debug" => Some(BuildType::Debug),
        "pgo" => Some(BuildType::Pgo),
        _ => None,
    }
}

/// The reference translator's platform for a variant, e.g.
/// `linux64-asan`, or the base platform where it has no name for it.
fn variant_platform(base: &str, suffix: &str) -> String {
    let platform = format!("{base}{suffix}");
    if tables::is_known_platform(&platform) || tables::is_ignored_platform(&platform) {
        platform
    } else {
        base.to_owned()
    }
}

/// The text before the last word, and the last word; `None` unless both
/// are there.
fn split_last(text: &str) -> Option<(&str, &str)> {
    let (rest, word) = text.rsplit_once(' ')?;
    let rest = rest.trim_end();
    (!rest.is_empty() && !word.is_empty()).then_some((rest, word))
}

/// `text` without its last word, if that word is `word`.
fn strip_last_word<'a>(text: &'a str, word: &str) -> Option<&'a str> {
    let rest = text.strip_suffix(word)?.strip_suffix(' ')?.trim_end();
    (!rest.is_empty()).then_some(rest)
}

/// `text` without a [`tables::BUILD_VARIANTS`] entry at its end, compared
/// ignoring ASCII case; an entry ending in `_` matches a last word it
/// starts.
fn strip_variant<'a>(text: &'a str, variant: &str) -> Option<&'a str> {
    let rest = if variant.ends_with('_') {
        let (rest, word) = split_last(text)?;
        word.get(..variant.len())?
            .eq_ignore_ascii_case(variant)
            .then_some(rest)?
    } else {
        let at = text.len().checked_sub(variant.len())?;
        if !text.get(at..)?.eq_ignore_ascii_case(variant) {
            return None;
        }
        text[..at].strip_suffix(' ')?.trim_end()
    };
    (!rest.is_empty()).then_some(rest)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn builder(
        tree: &str,
        platform: Option<&str>,
        os: Option<&str>,
        buildtype: Option<BuildType>,
        kind: BuildernameKind,
        test: Option<&str>,
    ) -> ParsedBuildername {
        ParsedBuildername {
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
                    BuildernameKind::Test,
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
                    BuildernameKind::Test,
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
                    BuildernameKind::Test,
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
                    BuildernameKind::Talos,
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
                    BuildernameKind::Build,
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
                    BuildernameKind::Repack,
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
        assert_eq!(parse(""), ParsedBuildername::default());
        assert_eq!(
            parse("something else entirely"),
            ParsedBuildername::default()
        );
        // A test on an unknown machine: the position says the tree, the
        // machine says nothing.
        let panda = parse("b2g_panda ash opt test gaia-ui-test");
        assert_eq!(panda.platform, None);
        assert_eq!(panda.tree.as_deref(), Some("ash"));
        assert_eq!(panda.kind, Some(BuildernameKind::Test));
    }

    #[test]
    fn words_are_cut_on_character_boundaries() {
        // Multi-byte characters where a variant, a suffix or a separator
        // would be looked for.
        for name in [
            "Linux x86-64 mozilla-central ésan build",
            "Linux x86-64 mozilla-central spidermonkeé build",
            "Linux x86-64 mozilla-central ü build",
            "release-mozilla-béta-ü_repack",
            "b2g_é_ü_dep",
            "jetpack-é-ü-opt",
            "graphene_é_ü build",
            "TB é",
            "é ü l10n",
        ] {
            let _ = parse(name);
        }
        assert_eq!(
            parse("Linux x86-64 mozilla-central ésan build")
                .tree
                .as_deref(),
            Some("ésan")
        );
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
