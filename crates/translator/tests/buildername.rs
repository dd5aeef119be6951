//! Long buildernames of every platform, as found in the corpus's
//! `buildername` properties, read into their parts.

use std::collections::BTreeMap;

use pulse_translator::buildername::{parse, Builder, Kind};
use pulse_translator::BuildType::{self, Debug, Opt, Pgo};

fn builder(
    tree: &str,
    platform: &str,
    os: Option<&str>,
    buildtype: BuildType,
    kind: Kind,
    test: Option<&str>,
) -> Builder {
    Builder {
        tree: Some(tree.into()),
        platform: Some(platform.into()),
        os: os.map(Into::into),
        buildtype: Some(buildtype),
        kind: Some(kind),
        test: test.map(Into::into),
    }
}

#[test]
fn real_buildernames() {
    use Kind::*;
    let cases = [
        // linux
        (
            "Linux mozilla-central build",
            builder("mozilla-central", "linux", None, Opt, Build, None),
        ),
        (
            "Linux mozilla-central leak test build",
            builder("mozilla-central", "linux", None, Debug, Build, None),
        ),
        (
            "Linux mozilla-inbound pgo-build",
            builder("mozilla-inbound", "linux", None, Pgo, Build, None),
        ),
        (
            "Linux mozilla-aurora nightly",
            builder("mozilla-aurora", "linux", None, Opt, Build, None),
        ),
        (
            "Rev3 Fedora 12 try debug test mochitest-other",
            builder(
                "try",
                "linux",
                Some("fedora"),
                Debug,
                Test,
                Some("mochitest-other"),
            ),
        ),
        (
            "Rev3 Fedora 12 try talos dromaeojs",
            builder(
                "try",
                "linux",
                Some("fedora"),
                Opt,
                Talos,
                Some("dromaeojs"),
            ),
        ),
        // linux64
        (
            "Linux x86-64 mozilla-central build",
            builder("mozilla-central", "linux64", None, Opt, Build, None),
        ),
        (
            "Linux x86-64 jamun leak test build",
            builder("jamun", "linux64", None, Debug, Build, None),
        ),
        (
            "Linux x86-64 mozilla-inbound pgo-build",
            builder("mozilla-inbound", "linux64", None, Pgo, Build, None),
        ),
        (
            "Linux x86-64 ux nightly",
            builder("ux", "linux64", None, Opt, Build, None),
        ),
        (
            "Ubuntu VM 12.04 x64 try debug test jsreftest",
            builder(
                "try",
                "linux64",
                Some("ubuntu64_vm"),
                Debug,
                Test,
                Some("jsreftest"),
            ),
        ),
        // win32
        (
            "WINNT 5.2 mozilla-central build",
            builder("mozilla-central", "win32", None, Opt, Build, None),
        ),
        (
            "WINNT 5.2 mozilla-inbound leak test build",
            builder("mozilla-inbound", "win32", None, Debug, Build, None),
        ),
        (
            "WINNT 5.2 mozilla-central pgo-build",
            builder("mozilla-central", "win32", None, Pgo, Build, None),
        ),
        (
            "Rev3 WINNT 5.1 mozilla-beta pgo test xpcshell",
            builder(
                "mozilla-beta",
                "win32",
                Some("xp"),
                Pgo,
                Test,
                Some("xpcshell"),
            ),
        ),
        (
            "Rev3 WINNT 6.1 mozilla-inbound opt test mochitest-5",
            builder(
                "mozilla-inbound",
                "win32",
                Some("win7"),
                Opt,
                Test,
                Some("mochitest-5"),
            ),
        ),
        (
            "Rev3 WINNT 6.1 mozilla-inbound talos chromez",
            builder(
                "mozilla-inbound",
                "win32",
                Some("win7"),
                Opt,
                Talos,
                Some("chromez"),
            ),
        ),
        (
            "WINNT 6.2 mozilla-inbound debug test mochitest-other",
            builder(
                "mozilla-inbound",
                "win32",
                Some("win8"),
                Debug,
                Test,
                Some("mochitest-other"),
            ),
        ),
        (
            "WINNT 6.2 mozilla-inbound talos tp5o",
            builder(
                "mozilla-inbound",
                "win32",
                Some("win8"),
                Opt,
                Talos,
                Some("tp5o"),
            ),
        ),
        // win64
        (
            "WINNT 6.1 x86-64 mozilla-aurora build",
            builder("mozilla-aurora", "win64", None, Opt, Build, None),
        ),
        (
            "WINNT 6.1 x86-64 mozilla-central leak test build",
            builder("mozilla-central", "win64", None, Debug, Build, None),
        ),
        (
            "WINNT 6.1 x86-64 mozilla-inbound pgo-build",
            builder("mozilla-inbound", "win64", None, Pgo, Build, None),
        ),
        (
            "Windows 8 64-bit mozilla-inbound pgo talos tp5o",
            builder(
                "mozilla-inbound",
                "win64",
                Some("win8_64"),
                Pgo,
                Talos,
                Some("tp5o"),
            ),
        ),
        // macosx64
        (
            "OS X 10.7 mozilla-central nightly",
            builder("mozilla-central", "macosx64", None, Opt, Build, None),
        ),
        (
            "OS X 10.7 64-bit mozilla-inbound leak test build",
            builder("mozilla-inbound", "macosx64", None, Debug, Build, None),
        ),
        (
            "OS X 10.6 comm-release debug test mochitests-4/5",
            builder(
                "comm-release",
                "macosx64",
                Some("snowleopard"),
                Debug,
                Test,
                Some("mochitests-4"),
            ),
        ),
        (
            "Rev4 MacOSX Snow Leopard 10.6 try debug test marionette",
            builder(
                "try",
                "macosx64",
                Some("snowleopard"),
                Debug,
                Test,
                Some("marionette"),
            ),
        ),
        (
            "Rev4 MacOSX Lion 10.7 fx-team talos svgr",
            builder(
                "fx-team",
                "macosx64",
                Some("lion"),
                Opt,
                Talos,
                Some("svgr"),
            ),
        ),
        (
            "Rev5 MacOSX Mountain Lion 10.8 try opt test jsreftest",
            builder(
                "try",
                "macosx64",
                Some("mountainlion"),
                Opt,
                Test,
                Some("jsreftest"),
            ),
        ),
        // android
        (
            "Android Tegra 250 try opt test mochitest-1",
            builder(
                "try",
                "android",
                Some("tegra_android"),
                Opt,
                Test,
                Some("mochitest-1"),
            ),
        ),
        (
            "Android 2.2 Debug mozilla-central build",
            builder("mozilla-central", "android", None, Debug, Build, None),
        ),
        (
            "Android armv7 API 11+ mozilla-inbound build",
            builder("mozilla-inbound", "android-api-11", None, Opt, Build, None),
        ),
        // b2g and emulators
        (
            "b2g_try_ics_armv7a_gecko-debug build",
            builder("try", "ics_armv7a_gecko", None, Debug, Build, None),
        ),
        (
            "b2g_mozilla-inbound_emulator_dep",
            builder("mozilla-inbound", "emulator", None, Opt, Build, None),
        ),
        (
            "b2g_mozilla-central_emulator-kk_nightly",
            builder("mozilla-central", "emulator-kk", None, Opt, Build, None),
        ),
        (
            "b2g_ics_armv7a_gecko_emulator mozilla-inbound opt test reftest-10",
            builder(
                "mozilla-inbound",
                "ics_armv7a_gecko",
                None,
                Opt,
                Test,
                Some("reftest-10"),
            ),
        ),
        (
            "b2g_emulator_vm mozilla-central opt test mochitest-1",
            builder(
                "mozilla-central",
                "emulator",
                Some("ubuntu64_vm-b2g-emulator"),
                Opt,
                Test,
                Some("mochitest-1"),
            ),
        ),
        // release jobs and repacks
        (
            "release-mozilla-release-linux64_build",
            builder("release-mozilla-release", "linux64", None, Opt, Build, None),
        ),
        (
            "release-mozilla-beta-macosx64_repack_2/10",
            builder("release-mozilla-beta", "macosx64", None, Opt, Repack, None),
        ),
        (
            "release-mozilla-release-linux_repack_1/6",
            builder("release-mozilla-release", "linux", None, Opt, Repack, None),
        ),
        (
            "Firefox mozilla-aurora win64 l10n nightly-1",
            builder("mozilla-aurora", "win64", None, Opt, Repack, None),
        ),
        (
            "Firefox mozilla-central linux l10n dep",
            builder("mozilla-central", "linux", None, Opt, Repack, None),
        ),
    ];
    for (name, expected) in cases {
        assert_eq!(parse(name), expected, "{name}");
    }
}

#[test]
fn jobs_of_other_kinds_on_known_machines() {
    // A valgrind run is a build run under valgrind.
    let valgrind = parse("Linux x86-64 mozilla-central valgrind");
    assert_eq!(valgrind.kind, Some(Kind::Build));
    assert_eq!(valgrind.buildtype, Some(Opt));
    let update = parse("Linux x86-64 mozilla-central periodic file update");
    assert_eq!(update.kind, Some(Kind::Other));
    assert_eq!(update.platform.as_deref(), Some("linux64"));
    assert_eq!(update.buildtype, None);
    assert_eq!(update.test, None);
}

/// Every buildername of the corpus agrees with what the reference
/// translator made of its message, wherever the parse says something.
#[test]
fn agrees_with_the_reference_on_the_corpus() {
    let corpus = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/corpus");
    if !std::path::Path::new(corpus).is_dir() {
        assert_ne!(
            std::env::var("CI").as_deref(),
            Ok("true"),
            "the shared corpus is missing at {corpus}"
        );
        eprintln!("!!! SKIPPED: the shared corpus is missing at {corpus} !!!");
        return;
    }
    let mut checked = BTreeMap::new();
    for set in ["buildbot-raw", "buildbot-unittest-2013"] {
        let expected: BTreeMap<String, serde_json::Value> = serde_json::from_slice(
            &std::fs::read(format!("{corpus}/{set}.expected.json")).unwrap(),
        )
        .unwrap();
        for message in expected
            .values()
            .flat_map(|e| e["normalized"].as_array().unwrap())
        {
            let payload = &message["payload"];
            let name = payload["buildername"].as_str().unwrap();
            let builder = parse(name);
            assert_eq!(builder.tree.as_deref(), payload["tree"].as_str(), "{name}");
            assert_eq!(
                builder.platform.as_deref(),
                payload["platform"].as_str(),
                "{name}"
            );
            assert_eq!(
                builder.buildtype.map(|b| b.as_str()),
                payload["buildtype"].as_str(),
                "{name}"
            );
            let kind = builder.kind.unwrap();
            if let Some(test) = payload["test"].as_str() {
                let want = if payload["talos"] == true {
                    Kind::Talos
                } else {
                    Kind::Test
                };
                assert_eq!(kind, want, "{name}");
                assert_eq!(builder.test.as_deref(), Some(test), "{name}");
                assert_eq!(builder.os.as_deref(), payload["os"].as_str(), "{name}");
            } else {
                let want = if payload["repack"] == true {
                    Kind::Repack
                } else {
                    Kind::Build
                };
                assert_eq!(kind, want, "{name}");
            }
            checked.insert(name.to_owned(), kind);
        }
    }
    assert!(checked.len() > 100, "{}", checked.len());
}
