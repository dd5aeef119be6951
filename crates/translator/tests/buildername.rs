//! Buildernames of every platform and shape read into their parts: the
//! corpus's, and real names of the families buildbot used over the years.

use std::collections::BTreeMap;

use pulse_translator::buildername::{parse, BuildernameKind, ParsedBuildername};
use pulse_translator::BuildType::{self, Debug, Opt, Pgo};

fn parsed(
    tree: &str,
    platform: &str,
    os: Option<&str>,
    buildtype: BuildType,
    kind: BuildernameKind,
    test: Option<&str>,
) -> ParsedBuildername {
    ParsedBuildername {
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
    use BuildernameKind::*;
    let cases = [
        // linux
        (
            "Linux mozilla-central build",
            parsed("mozilla-central", "linux", None, Opt, Build, None),
        ),
        (
            "Linux mozilla-central leak test build",
            parsed("mozilla-central", "linux", None, Debug, Build, None),
        ),
        (
            "Linux mozilla-inbound pgo-build",
            parsed("mozilla-inbound", "linux", None, Pgo, Build, None),
        ),
        (
            "Linux mozilla-aurora nightly",
            parsed("mozilla-aurora", "linux", None, Opt, Build, None),
        ),
        (
            "Rev3 Fedora 12 try debug test mochitest-other",
            parsed(
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
            parsed(
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
            parsed("mozilla-central", "linux64", None, Opt, Build, None),
        ),
        (
            "Linux x86-64 jamun leak test build",
            parsed("jamun", "linux64", None, Debug, Build, None),
        ),
        (
            "Linux x86-64 mozilla-inbound pgo-build",
            parsed("mozilla-inbound", "linux64", None, Pgo, Build, None),
        ),
        (
            "Linux x86-64 ux nightly",
            parsed("ux", "linux64", None, Opt, Build, None),
        ),
        (
            "Ubuntu VM 12.04 x64 try debug test jsreftest",
            parsed(
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
            parsed("mozilla-central", "win32", None, Opt, Build, None),
        ),
        (
            "WINNT 5.2 mozilla-inbound leak test build",
            parsed("mozilla-inbound", "win32", None, Debug, Build, None),
        ),
        (
            "WINNT 5.2 mozilla-central pgo-build",
            parsed("mozilla-central", "win32", None, Pgo, Build, None),
        ),
        (
            "Rev3 WINNT 5.1 mozilla-beta pgo test xpcshell",
            parsed(
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
            parsed(
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
            parsed(
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
            parsed(
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
            parsed(
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
            parsed("mozilla-aurora", "win64", None, Opt, Build, None),
        ),
        (
            "WINNT 6.1 x86-64 mozilla-central leak test build",
            parsed("mozilla-central", "win64", None, Debug, Build, None),
        ),
        (
            "WINNT 6.1 x86-64 mozilla-inbound pgo-build",
            parsed("mozilla-inbound", "win64", None, Pgo, Build, None),
        ),
        (
            "Windows 8 64-bit mozilla-inbound pgo talos tp5o",
            parsed(
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
            parsed("mozilla-central", "macosx64", None, Opt, Build, None),
        ),
        (
            "OS X 10.7 64-bit mozilla-inbound leak test build",
            parsed("mozilla-inbound", "macosx64", None, Debug, Build, None),
        ),
        (
            "OS X 10.6 comm-release debug test mochitests-4/5",
            parsed(
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
            parsed(
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
            parsed(
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
            parsed(
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
            parsed(
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
            parsed("mozilla-central", "android", None, Debug, Build, None),
        ),
        (
            "Android armv7 API 11+ mozilla-inbound build",
            parsed("mozilla-inbound", "android-api-11", None, Opt, Build, None),
        ),
        // b2g and emulators
        (
            "b2g_try_ics_armv7a_gecko-debug build",
            parsed("try", "ics_armv7a_gecko", None, Debug, Build, None),
        ),
        (
            "b2g_mozilla-inbound_emulator_dep",
            parsed("mozilla-inbound", "emulator", None, Opt, Build, None),
        ),
        (
            "b2g_mozilla-central_emulator-kk_nightly",
            parsed("mozilla-central", "emulator-kk", None, Opt, Build, None),
        ),
        (
            "b2g_ics_armv7a_gecko_emulator mozilla-inbound opt test reftest-10",
            parsed(
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
            parsed(
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
            parsed("release-mozilla-release", "linux64", None, Opt, Build, None),
        ),
        (
            "release-mozilla-beta-macosx64_repack_2/10",
            parsed("release-mozilla-beta", "macosx64", None, Opt, Repack, None),
        ),
        (
            "release-mozilla-release-linux_repack_1/6",
            parsed("release-mozilla-release", "linux", None, Opt, Repack, None),
        ),
        (
            "Firefox mozilla-aurora win64 l10n nightly-1",
            parsed("mozilla-aurora", "win64", None, Opt, Repack, None),
        ),
        (
            "Firefox mozilla-central linux l10n dep",
            parsed("mozilla-central", "linux", None, Opt, Repack, None),
        ),
    ];
    for (name, expected) in cases {
        assert_eq!(parse(name), expected, "{name}");
    }
}

/// The parts as one line, `-` for `None`:
/// `tree platform os buildtype kind test`.
fn parts(parsed: &ParsedBuildername) -> String {
    let kind = parsed.kind.map(|kind| match kind {
        BuildernameKind::Build => "build",
        BuildernameKind::Test => "test",
        BuildernameKind::Talos => "talos",
        BuildernameKind::Repack => "repack",
        BuildernameKind::Other => "other",
    });
    [
        parsed.tree.as_deref(),
        parsed.platform.as_deref(),
        parsed.os.as_deref(),
        parsed.buildtype.map(BuildType::as_str),
        kind,
        parsed.test.as_deref(),
    ]
    .map(|part| part.unwrap_or("-"))
    .join(" ")
}

fn check(cases: &[(&str, &str)]) {
    let wrong: Vec<String> = cases
        .iter()
        .filter(|(name, want)| parts(&parse(name)) != *want)
        .map(|(name, want)| format!("{name:?}\n  want {want}\n  got  {}", parts(&parse(name))))
        .collect();
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

// The names below are real: from Treeherder's buildbot ETL tests
// (mozilla/treeherder, tests/etl/test_buildbot.py, at 14bf8c4c8 and its
// earlier versions; "TH" below), Treeherder's sample data
// (tests/sample_data/builds-pending.json and job_data.txt, at 1c9d2e089;
// "TH sample"), buildbot's SETA lists (mozilla-releng/build-buildbot-configs,
// mozilla-tests/*-seta.json at 4b84c056a; "SETA"), and the comments and
// tests of buildbot-configs and build-buildbotcustom where they name one.

#[test]
fn android() {
    check(&[
        // TH
        (
            "Android 2.2 Armv6 mozilla-inbound build",
            "mozilla-inbound android-armv6 - opt build -",
        ),
        (
            "Android 2.2 Armv6 Tegra mozilla-inbound opt test jsreftest-1",
            "mozilla-inbound android-armv6 tegra_android-armv6 opt test jsreftest-1",
        ),
        (
            "Android 2.2 Tegra mozilla-inbound opt test mochitest-6",
            "mozilla-inbound android tegra_android opt test mochitest-6",
        ),
        (
            "Android 2.2 Debug mozilla-inbound build",
            "mozilla-inbound android - debug build -",
        ),
        (
            "Android 2.2 mozilla-inbound build",
            "mozilla-inbound android - opt build -",
        ),
        (
            "Android 4.2 x86 mozilla-inbound build",
            "mozilla-inbound android-x86 - opt build -",
        ),
        (
            "Android 4.0 Panda build-system debug test mochitest-gl",
            "build-system android panda_android debug test mochitest-gl",
        ),
        (
            "Android 2.3 Emulator try opt test mochitest-gl-1",
            "try android-api-9 ubuntu64_vm_mobile opt test mochitest-gl-1",
        ),
        // A debug build: `debug` sits between the tree and `build`.
        (
            "Android armv7 API 9 cedar debug build",
            "cedar android-api-9 - debug build -",
        ),
        (
            "Android armv7 API 9 cedar opt test plain-reftest-8",
            "cedar android-api-9 - opt test plain-reftest-8",
        ),
        (
            "Android armv7 API 10+ cedar non-unified",
            "cedar android-api-10 - opt build -",
        ),
        (
            "Android armv7 API 11+ cedar non-unified",
            "cedar android-api-11 - opt build -",
        ),
        (
            "Android armv7 API 15+ cedar non-unified",
            "cedar android-api-15 - opt build -",
        ),
        (
            "Android 4.0 armv7 API 10+ cedar talos remote-trobocheck2",
            "cedar android-api-10 panda_android opt talos remote-trobocheck2",
        ),
        (
            "Android 4.0 armv7 API 11+ cedar talos remote-trobocheck2",
            "cedar android-api-11 panda_android opt talos remote-trobocheck2",
        ),
        (
            "Android 4.0 armv7 API 15+ cedar talos remote-trobocheck2",
            "cedar android-api-15 panda_android opt talos remote-trobocheck2",
        ),
        (
            "Android 4.3 armv7 API 11+ mozilla-central debug test crashtest",
            "mozilla-central android-api-11 - debug test crashtest",
        ),
        (
            "Android 4.4 armv7 API 11+ fx-team debug test plain-reftest-3",
            "fx-team android-api-11 - debug test plain-reftest-3",
        ),
        (
            "Android 4.3 armv7 API 15+ mozilla-inbound opt test cppunit",
            "mozilla-inbound android-api-15 - opt test cppunit",
        ),
        (
            "Android 4.4 armv7 API 15+ mozilla-central opt test mochitest-8",
            "mozilla-central android-api-15 - opt test mochitest-8",
        ),
        // SETA
        (
            "Android 4.3 armv7 API 15+ mozilla-inbound opt test mochitest-9",
            "mozilla-inbound android-api-15 - opt test mochitest-9",
        ),
    ]);
}

#[test]
fn windows() {
    check(&[
        // TH
        (
            "Windows 10 32-bit larch opt test mochitest-browser-chrome-3",
            "larch win32 - opt test mochitest-browser-chrome-3",
        ),
        (
            "Windows 10 64-bit date debug test mochitest-e10s-browser-chrome-3",
            "date win64 win10_64 debug test mochitest-e10s-browser-chrome-3",
        ),
        (
            "Windows 10 64-bit stylo-disabled mozilla-inbound debug test reftest-e10s-1",
            "mozilla-inbound win64 win10_64_stylo_disabled debug test reftest-e10s-1",
        ),
        (
            "Windows 7 32-bit stylo-disabled mozilla-inbound debug test mochitest-clipboard-e10s",
            "mozilla-inbound win32 win7_ix_stylo_disabled debug test mochitest-clipboard-e10s",
        ),
        (
            "Windows 7 VM-GFX 32-bit try debug test mochitest-media",
            "try win32 win7_vm_gfx debug test mochitest-media",
        ),
        (
            "Windows 7 VM 32-bit try debug test mochitest-4",
            "try win32 win7_vm debug test mochitest-4",
        ),
        (
            "Windows 7 32-bit mozilla-inbound pgo talos tp6-e10s",
            "mozilla-inbound win32 win7-ix pgo talos tp6-e10s",
        ),
        (
            "Windows 8 64-bit graphics opt test reftest-qr-e10s",
            "graphics win64 win8_64 opt test reftest-qr-e10s",
        ),
        (
            "WINNT 5.2 mozilla-beta devedition build",
            "mozilla-beta win32 - opt build -",
        ),
        (
            "WINNT 6.1 x86-64 date leak test build",
            "date win64 - debug build -",
        ),
        ("Win32 Mulet cedar build", "cedar win32-mulet - opt build -"),
        // TH sample
        (
            "win64_vm try opt test mochitest-other",
            "try win64 win64_vm opt test mochitest-other",
        ),
        // SETA
        (
            "Windows 7 VM-GFX 32-bit mozilla-inbound opt test reftest-no-accel",
            "mozilla-inbound win32 win7_vm_gfx opt test reftest-no-accel",
        ),
        (
            "Windows 7 VM 32-bit mozilla-inbound opt test mochitest-2",
            "mozilla-inbound win32 win7_vm opt test mochitest-2",
        ),
    ]);
}

#[test]
fn linux() {
    check(&[
        // TH
        (
            "Ubuntu 12.04 mozilla-inbound pgo talos speedometer-e10s",
            "mozilla-inbound linux ubuntu32 pgo talos speedometer-e10s",
        ),
        (
            "Ubuntu HW 12.04 x64 stylo mozilla-central talos g3-stylo-e10s",
            "mozilla-central linux64 ubuntu64_hw_stylo opt talos g3-stylo-e10s",
        ),
        (
            "Ubuntu HW 12.04 x64 stylo-sequential mozilla-central talos g3-e10s",
            "mozilla-central linux64 ubuntu64_hw_styloseq opt talos g3-e10s",
        ),
        (
            "Ubuntu HW 12.04 x64 devedition mozilla-beta talos g3-e10s",
            "mozilla-beta linux64 ubuntu64_hw_devedition opt talos g3-e10s",
        ),
        (
            "Ubuntu HW 12.04 x64 qr try talos dromaeojs-e10s",
            "try linux64 ubuntu64_hw_qr opt talos dromaeojs-e10s",
        ),
        (
            "Ubuntu Code Coverage VM 12.04 x64 cedar opt test web-platform-tests-2",
            "cedar linux64 ubuntu64_vm opt test web-platform-tests-2",
        ),
        (
            "Linux x86_64 Code Coverage cedar build",
            "cedar linux64 - opt build -",
        ),
        (
            "Linux x86-64 mozilla-inbound asan build",
            "mozilla-inbound linux64-asan - opt build -",
        ),
        (
            "Linux x86-64 mozilla-inbound debug asan build",
            "mozilla-inbound linux64-asan - debug build -",
        ),
        ("Linux x86-64 try tsan build", "try linux64 - opt build -"),
        (
            "Linux x86-64 mozilla-beta add-on-devel build",
            "mozilla-beta linux64 - opt build -",
        ),
        (
            "Linux x86-64 mozilla-inbound debug static analysis build",
            "mozilla-inbound linux64-st-an - debug build -",
        ),
        (
            "Linux mozilla-inbound leak test spidermonkey_info-warnaserrdebug build",
            "mozilla-inbound linux - debug build -",
        ),
        (
            "Linux x86-64 mozilla-inbound spidermonkey_info-warnaserr build",
            "mozilla-inbound linux64 - opt build -",
        ),
        (
            "Linux x86-64 mozilla-inbound leak test spidermonkey_tier_1-arm64-sim build",
            "mozilla-inbound linux64 - debug build -",
        ),
        (
            "Linux x86-64 mozilla-inbound leak test non-unified",
            "mozilla-inbound linux64 - debug build -",
        ),
        (
            "Linux x86-64 mozilla-inbound non-unified",
            "mozilla-inbound linux64 - opt build -",
        ),
        (
            "Linux x86-64 b2g-inbound valgrind",
            "b2g-inbound linux64 - opt build -",
        ),
        (
            "Linux x86-64 Mulet cedar build",
            "cedar linux64-mulet - opt build -",
        ),
        // SETA
        (
            "Ubuntu VM large 12.04 x64 mozilla-inbound opt test gtest",
            "mozilla-inbound linux64 ubuntu64_vm_lnx_large opt test gtest",
        ),
    ]);
}

#[test]
fn mac_thunderbird_and_runtimes() {
    check(&[
        // TH
        (
            "OS X Mulet cedar non-unified",
            "cedar macosx64-mulet - opt build -",
        ),
        (
            "graphene_cedar_linux64 build",
            "cedar linux64 - opt build -",
        ),
        ("horizon_cedar_linux64 build", "cedar linux64 - opt build -"),
        (
            "jetpack-fx-team-snowleopard-debug",
            "fx-team macosx64 snowleopard debug test jetpack",
        ),
        (
            "jetpack-fx-team-ubuntu64-asan_vm-opt",
            "fx-team linux64-asan ubuntu64-asan_vm opt test jetpack",
        ),
        // build-buildbotcustom, test/test_try_parser.py
        (
            "TB Rev3 Fedora 12 try-comm-central opt test mozmill",
            "try-comm-central linux fedora opt test mozmill",
        ),
        // build-buildbotcustom, misc.py comments
        (
            "TB Linux comm-central leak test build",
            "comm-central linux - debug build -",
        ),
        (
            "TB Linux comm-aurora nightly",
            "comm-aurora linux - opt build -",
        ),
        // build-buildbot-configs, mozilla/thunderbird_config.py comments
        (
            "TB Linux x86-64 comm-central periodic",
            "comm-central linux64 - opt build -",
        ),
    ]);
}

#[test]
fn b2g_builds() {
    check(&[
        // TH
        (
            "b2g_mozilla-inbound_emulator-jb-debug_dep",
            "mozilla-inbound emulator-jb - debug build -",
        ),
        (
            "b2g_mozilla-inbound_linux32_gecko build",
            "mozilla-inbound linux32_gecko - opt build -",
        ),
        (
            "b2g_mozilla-inbound_unagi_dep",
            "mozilla-inbound unagi - opt build -",
        ),
        (
            "b2g_mozilla-b2g18_leo_eng_nightly",
            "mozilla-b2g18 leo - opt build -",
        ),
        (
            "b2g_mozilla-b2g26_v1_2_hamachi_nightly",
            "mozilla-b2g26_v1_2 hamachi - opt build -",
        ),
        (
            "b2g_mozilla-b2g34_v2_1s_dolphin-512_eng_nightly",
            "mozilla-b2g34_v2_1s dolphin-512 - opt build -",
        ),
        (
            "b2g_mozilla-inbound_wasabi_dep",
            "mozilla-inbound wasabi - opt build -",
        ),
        // TH sample
        (
            "b2g_fx-team_emulator-kk-debug_nonunified",
            "fx-team emulator-kk - debug build -",
        ),
        (
            "b2g_mozilla-release_hamachi_eng_dep",
            "mozilla-release hamachi - opt build -",
        ),
        (
            "b2g_mozilla-release_nexus-4_dep",
            "mozilla-release nexus-4 - opt build -",
        ),
    ]);
}

#[test]
fn release_builders() {
    check(&[
        // TH
        (
            "release-mozilla-beta_firefox_macosx64_l10n_repack",
            "release-mozilla-beta macosx64 - opt repack -",
        ),
        (
            "release-mozilla-beta-firefox-linux64_partner_repacks",
            "release-mozilla-beta linux64 - opt repack -",
        ),
        (
            "release-mozilla-beta_firefox_win64_update_verify",
            "release-mozilla-beta win64 - - other -",
        ),
        (
            "release-mozilla-beta-firefox_updates",
            "release-mozilla-beta - - - other -",
        ),
        (
            "release-mozilla-beta_firefox_bncr_sub",
            "release-mozilla-beta - - - other -",
        ),
        (
            "release-mozilla-beta-firefox_chcksms",
            "release-mozilla-beta - - - other -",
        ),
        (
            "release-mozilla-beta-firefox_uptake_monitoring",
            "release-mozilla-beta - - - other -",
        ),
        (
            "release-mozilla-beta-firefox_bouncer_aliases",
            "release-mozilla-beta - - - other -",
        ),
        (
            "release-mozilla-beta-firefox_version_bump",
            "release-mozilla-beta - - - other -",
        ),
        ("Firefox try macosx64 l10n", "try macosx64 - opt repack -"),
        // TH sample
        (
            "release-mozilla-release-win32_repack_10/10",
            "release-mozilla-release win32 - opt repack -",
        ),
    ]);
}

#[test]
fn unknown_parts_stay_null() {
    check(&[
        // A job of no known shape on a known machine (build-buildbotcustom,
        // misc.py): only the machine and the tree are read.
        (
            "Linux x86-64 mozilla-central periodic file update",
            "mozilla-central linux64 - - other -",
        ),
        // An unknown machine (`Android R7`, a base_name of
        // build-buildbot-configs): the job's words still say the tree.
        (
            "Android R7 mozilla-central build",
            "mozilla-central - - opt build -",
        ),
        // Made-up shapes with a part outside the tables. An unknown B2G
        // device leaves the tree, before the last `_`; an unknown jetpack OS
        // leaves the tree unknown too, as both may hold `-`.
        (
            "b2g_mozilla-central_newdevice_nightly",
            "mozilla-central - - opt build -",
        ),
        ("jetpack-fx-team-newos-opt", "- - - opt test jetpack"),
        ("release-mozilla-beta", "- - - - - -"),
        ("", "- - - - - -"),
    ]);
}

/// Every buildername of the corpus agrees with what the reference
/// translator made of its message, wherever the parse says something.
#[test]
fn agrees_with_the_reference_on_the_corpus() {
    let Some(corpus) = pulse_test_corpus::corpus_dir("") else {
        return;
    };
    let corpus = corpus.display();
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
            let parsed = parse(name);
            assert_eq!(parsed.tree.as_deref(), payload["tree"].as_str(), "{name}");
            assert_eq!(
                parsed.platform.as_deref(),
                payload["platform"].as_str(),
                "{name}"
            );
            assert_eq!(
                parsed.buildtype.map(|b| b.as_str()),
                payload["buildtype"].as_str(),
                "{name}"
            );
            let kind = parsed.kind.unwrap();
            if let Some(test) = payload["test"].as_str() {
                let want = if payload["talos"] == true {
                    BuildernameKind::Talos
                } else {
                    BuildernameKind::Test
                };
                assert_eq!(kind, want, "{name}");
                assert_eq!(parsed.test.as_deref(), Some(test), "{name}");
                assert_eq!(parsed.os.as_deref(), payload["os"].as_str(), "{name}");
            } else {
                let want = if payload["repack"] == true {
                    BuildernameKind::Repack
                } else {
                    BuildernameKind::Build
                };
                assert_eq!(kind, want, "{name}");
            }
            checked.insert(name.to_owned(), kind);
        }
    }
    assert!(checked.len() > 100, "{}", checked.len());
}
