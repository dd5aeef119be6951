//! Table-driven tests of every filter rule, the rule combinations the
//! seed documents, and agreement between `matches` and `explain`.

use pulse_filter::{Error, ErrorKind, Filter, FilterSpec, Rule};
use pulse_translator::{BuildRecord, JobInfo, Record, TestRecord};

/// A job with the fields filters look at; the rest are left `None`.
fn job(tree: &str, platform: &str, buildtype: &str, product: Option<&str>) -> JobInfo {
    serde_json::from_value(serde_json::json!({
        "key": format!("build.{tree}-{platform}-{buildtype}.1.finished"),
        "tree": tree,
        "platform": platform,
        "buildtype": buildtype,
        "product": product,
    }))
    .expect("a minimal job deserializes")
}

fn build(
    tree: &str,
    platform: &str,
    buildtype: &str,
    product: Option<&str>,
    tags: &[&str],
) -> Record {
    Record::Build(BuildRecord {
        job: job(tree, platform, buildtype, product),
        tags: tags.iter().map(|tag| tag.to_string()).collect(),
    })
}

fn test(
    tree: &str,
    platform: &str,
    buildtype: &str,
    product: Option<&str>,
    name: &str,
    talos: bool,
) -> Record {
    Record::Test(TestRecord {
        job: job(tree, platform, buildtype, product),
        os: "fedora64".into(),
        test: name.into(),
        talos,
    })
}

/// A mozilla-central linux64 opt firefox build with the given tags.
fn mc_build(tags: &[&str]) -> Record {
    build("mozilla-central", "linux64", "opt", Some("firefox"), tags)
}

/// A mozilla-central linux64 opt firefox unit test (or talos run).
fn mc_test(name: &str, talos: bool) -> Record {
    test(
        "mozilla-central",
        "linux64",
        "opt",
        Some("firefox"),
        name,
        talos,
    )
}

struct Case {
    name: &'static str,
    filter: Filter,
    record: Record,
    /// `None` when the record must match, else the rule that rejects it.
    rejected_by: Option<Rule>,
}

fn case(name: &'static str, filter: Filter, record: Record, rejected_by: Option<Rule>) -> Case {
    Case {
        name,
        filter,
        record,
        rejected_by,
    }
}

fn check(cases: Vec<Case>) {
    let mut failures = Vec::new();
    for case in &cases {
        let explained = case.filter.explain(&case.record).map_err(|why| why.rule());
        let expected = case.rejected_by.map_or(Ok(()), Err);
        if explained != expected {
            failures.push(format!(
                "{}: expected {expected:?}, got {explained:?}",
                case.name
            ));
        }
        assert_eq!(
            case.filter.matches(&case.record),
            explained.is_ok(),
            "{}: matches disagrees with explain",
            case.name
        );
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

fn builder() -> pulse_filter::FilterBuilder {
    Filter::builder()
}

#[test]
fn trees() {
    let default = Filter::default();
    let two = builder().trees(["mozilla-central", "try"]).build().unwrap();
    let any = builder().any_tree().build().unwrap();
    check(vec![
        case(
            "default keeps mozilla-central builds",
            default.clone(),
            mc_build(&[]),
            None,
        ),
        case(
            "default keeps mozilla-central tests",
            default.clone(),
            mc_test("reftest", false),
            None,
        ),
        case(
            "default drops try builds",
            default.clone(),
            build("try", "linux64", "opt", Some("firefox"), &[]),
            Some(Rule::Trees),
        ),
        case(
            "default drops try tests",
            default,
            test("try", "linux64", "opt", Some("firefox"), "reftest", false),
            Some(Rule::Trees),
        ),
        case(
            "list keeps listed tree",
            two.clone(),
            build("try", "linux", "debug", None, &[]),
            None,
        ),
        case(
            "list drops other tree",
            two,
            build("mozilla-beta", "linux", "debug", None, &[]),
            Some(Rule::Trees),
        ),
        case(
            "any tree keeps try",
            any.clone(),
            build("try", "win32", "pgo", None, &[]),
            None,
        ),
        case(
            "any tree keeps beta tests",
            any,
            test("mozilla-beta", "win32", "pgo", None, "xpcshell", false),
            None,
        ),
    ]);
}

#[test]
fn platforms() {
    let linux = builder().platforms(["linux", "linux64"]).build().unwrap();
    check(vec![
        case(
            "unset keeps any platform",
            Filter::default(),
            build("mozilla-central", "android", "opt", None, &[]),
            None,
        ),
        case("listed platform kept", linux.clone(), mc_build(&[]), None),
        case(
            "other platform dropped from builds",
            linux.clone(),
            build("mozilla-central", "win32", "opt", None, &[]),
            Some(Rule::Platforms),
        ),
        case(
            "other platform dropped from tests",
            linux.clone(),
            test("mozilla-central", "macosx64", "opt", None, "reftest", false),
            Some(Rule::Platforms),
        ),
        case(
            "platforms compare whole names",
            linux,
            build("mozilla-central", "linux64-rpm", "opt", None, &[]),
            Some(Rule::Platforms),
        ),
    ]);
}

#[test]
fn products() {
    let firefox = builder().products(["firefox"]).build().unwrap();
    let none = builder().products(["none"]).build().unwrap();
    let both = builder().products(["firefox", "none"]).build().unwrap();
    let missing = build("mozilla-central", "linux", "opt", None, &[]);
    let mobile = build("mozilla-central", "android", "opt", Some("mobile"), &[]);
    check(vec![
        case(
            "unset keeps a missing product",
            Filter::default(),
            missing.clone(),
            None,
        ),
        case(
            "unset keeps any product",
            Filter::default(),
            mobile.clone(),
            None,
        ),
        case("listed product kept", firefox.clone(), mc_build(&[]), None),
        case(
            "other product dropped",
            firefox.clone(),
            mobile.clone(),
            Some(Rule::Products),
        ),
        case(
            "missing product dropped without none",
            firefox,
            missing.clone(),
            Some(Rule::Products),
        ),
        case(
            "none keeps a missing product",
            none.clone(),
            missing.clone(),
            None,
        ),
        case(
            "none drops a named product",
            none,
            mc_build(&[]),
            Some(Rule::Products),
        ),
        case("firefox+none keeps missing", both.clone(), missing, None),
        case(
            "firefox+none keeps firefox tests",
            both.clone(),
            mc_test("reftest", false),
            None,
        ),
        case(
            "firefox+none drops mobile",
            both,
            mobile,
            Some(Rule::Products),
        ),
    ]);
}

#[test]
fn buildtypes() {
    let debug = builder().buildtypes(["debug"]).build().unwrap();
    let opt_pgo = builder().buildtypes(["opt", "pgo"]).build().unwrap();
    check(vec![
        case(
            "unset keeps pgo",
            Filter::default(),
            build("mozilla-central", "win32", "pgo", None, &[]),
            None,
        ),
        case(
            "debug kept",
            debug.clone(),
            build("mozilla-central", "linux", "debug", None, &[]),
            None,
        ),
        case(
            "opt dropped",
            debug.clone(),
            mc_build(&[]),
            Some(Rule::BuildTypes),
        ),
        case(
            "opt test dropped",
            debug,
            mc_test("reftest", false),
            Some(Rule::BuildTypes),
        ),
        case(
            "pgo kept by opt+pgo",
            opt_pgo.clone(),
            build("mozilla-central", "win32", "pgo", None, &[]),
            None,
        ),
        case(
            "debug dropped by opt+pgo",
            opt_pgo,
            test(
                "mozilla-central",
                "win32",
                "debug",
                None,
                "crashtest",
                false,
            ),
            Some(Rule::BuildTypes),
        ),
    ]);
}

#[test]
fn tests_and_talos() {
    let reftest = builder().tests(["reftest"]).build().unwrap();
    let talos = builder().talos(true).build().unwrap();
    let tp5_with_talos = builder().tests(["tp5"]).talos(true).build().unwrap();
    let tp5_without_talos = builder().tests(["tp5"]).build().unwrap();
    check(vec![
        case(
            "unset keeps any unit test",
            Filter::default(),
            mc_test("mochitest-1", false),
            None,
        ),
        case(
            "talos off by default",
            Filter::default(),
            mc_test("tp5", true),
            Some(Rule::Talos),
        ),
        case(
            "talos off still keeps builds",
            Filter::default(),
            mc_build(&["nightly"]),
            None,
        ),
        case(
            "talos on keeps talos",
            talos.clone(),
            mc_test("tp5", true),
            None,
        ),
        case(
            "talos on keeps unit tests",
            talos,
            mc_test("reftest", false),
            None,
        ),
        case(
            "listed test kept",
            reftest.clone(),
            mc_test("reftest", false),
            None,
        ),
        case(
            "other test dropped",
            reftest.clone(),
            mc_test("crashtest", false),
            Some(Rule::Tests),
        ),
        case("tests do not apply to builds", reftest, mc_build(&[]), None),
        case(
            "tests filter talos runs too",
            tp5_with_talos.clone(),
            mc_test("tp5", true),
            None,
        ),
        case(
            "talos tests list drops unit tests",
            tp5_with_talos.clone(),
            mc_test("reftest", false),
            Some(Rule::Tests),
        ),
        case(
            "talos tests list drops other talos",
            tp5_with_talos,
            mc_test("dromaeo", true),
            Some(Rule::Tests),
        ),
        case(
            "listing a talos test does not enable talos",
            tp5_without_talos,
            mc_test("tp5", true),
            Some(Rule::Talos),
        ),
    ]);
}

#[test]
fn flat_buildtags_need_every_tag() {
    let nightly_l10n = builder().buildtags(["nightly", "l10n"]).build().unwrap();
    check(vec![
        case(
            "unset keeps untagged builds",
            Filter::default(),
            mc_build(&[]),
            None,
        ),
        case(
            "all tags present",
            nightly_l10n.clone(),
            mc_build(&["l10n", "nightly"]),
            None,
        ),
        case(
            "extra tags are fine",
            nightly_l10n.clone(),
            mc_build(&["l10n", "nightly", "repack"]),
            None,
        ),
        case(
            "one tag missing",
            nightly_l10n.clone(),
            mc_build(&["nightly"]),
            Some(Rule::BuildTags),
        ),
        case(
            "untagged build",
            nightly_l10n.clone(),
            mc_build(&[]),
            Some(Rule::BuildTags),
        ),
        case(
            "buildtags do not apply to tests",
            nightly_l10n,
            mc_test("reftest", false),
            None,
        ),
    ]);
}

#[test]
fn nested_buildtags_need_one_full_group() {
    let groups = builder()
        .buildtag_groups([vec!["nightly", "l10n"], vec!["release"]])
        .build()
        .unwrap();
    check(vec![
        case(
            "first group full",
            groups.clone(),
            mc_build(&["nightly", "l10n"]),
            None,
        ),
        case(
            "second group full",
            groups.clone(),
            mc_build(&["release", "pgo"]),
            None,
        ),
        case(
            "both groups full",
            groups.clone(),
            mc_build(&["release", "nightly", "l10n"]),
            None,
        ),
        case(
            "first group partial",
            groups.clone(),
            mc_build(&["nightly"]),
            Some(Rule::BuildTags),
        ),
        case(
            "parts of two groups",
            groups.clone(),
            mc_build(&["l10n", "pgo"]),
            Some(Rule::BuildTags),
        ),
        case("no tags", groups, mc_build(&[]), Some(Rule::BuildTags)),
    ]);
}

/// The seed compared the size of a group's intersection with the
/// record's tags against the length of the *outer* list. These cases are
/// the ones where that differs from what its documentation promises.
#[test]
fn nested_buildtags_follow_the_documentation_not_the_seeds_lengths() {
    // Outer length 2, matching group has length 1: the seed needed two
    // common tags and dropped this build.
    let short_group = builder()
        .buildtag_groups([vec!["nightly"], vec!["l10n", "release", "repack"]])
        .build()
        .unwrap();
    // Outer length 1, group has length 2: the seed kept a build that
    // carries only one of the two tags.
    let long_group = builder()
        .buildtag_groups([vec!["nightly", "l10n"]])
        .build()
        .unwrap();
    check(vec![
        case(
            "a full one-tag group in a two-group list",
            short_group.clone(),
            mc_build(&["nightly"]),
            None,
        ),
        case(
            "two tags from the long group are not enough",
            short_group,
            mc_build(&["l10n", "release"]),
            Some(Rule::BuildTags),
        ),
        case(
            "half of a two-tag group in a one-group list",
            long_group.clone(),
            mc_build(&["nightly"]),
            Some(Rule::BuildTags),
        ),
        case(
            "the whole two-tag group",
            long_group,
            mc_build(&["nightly", "l10n"]),
            None,
        ),
    ]);
}

/// The combinations the seed's documentation describes.
#[test]
fn combined_rules() {
    // "call me when a debug linux64 mochitest finishes on mozilla-central"
    let debug_linux64_mochitest = builder()
        .platforms(["linux64"])
        .buildtypes(["debug"])
        .tests(["mochitest-1"])
        .build()
        .unwrap();
    let wanted = test(
        "mozilla-central",
        "linux64",
        "debug",
        Some("firefox"),
        "mochitest-1",
        false,
    );
    // The mobile product filter that replaced the old `mobile` argument.
    let mobile_nightlies = builder()
        .trees(["mozilla-central", "mozilla-aurora"])
        .products(["mobile"])
        .buildtags(["nightly"])
        .build()
        .unwrap();
    check(vec![
        case(
            "all rules met",
            debug_linux64_mochitest.clone(),
            wanted,
            None,
        ),
        case(
            "debug linux64 build passes: tests do not apply",
            debug_linux64_mochitest.clone(),
            build("mozilla-central", "linux64", "debug", Some("firefox"), &[]),
            None,
        ),
        case(
            "wrong tree is reported before everything else",
            debug_linux64_mochitest.clone(),
            test("try", "win32", "opt", Some("mobile"), "reftest", true),
            Some(Rule::Trees),
        ),
        case(
            "platform before build type",
            debug_linux64_mochitest.clone(),
            test(
                "mozilla-central",
                "linux",
                "opt",
                Some("firefox"),
                "mochitest-1",
                false,
            ),
            Some(Rule::Platforms),
        ),
        case(
            "build type before test",
            debug_linux64_mochitest.clone(),
            test(
                "mozilla-central",
                "linux64",
                "opt",
                Some("firefox"),
                "reftest",
                false,
            ),
            Some(Rule::BuildTypes),
        ),
        case(
            "test name",
            debug_linux64_mochitest,
            test(
                "mozilla-central",
                "linux64",
                "debug",
                Some("firefox"),
                "reftest",
                false,
            ),
            Some(Rule::Tests),
        ),
        case(
            "mobile nightly on aurora",
            mobile_nightlies.clone(),
            build(
                "mozilla-aurora",
                "android",
                "opt",
                Some("mobile"),
                &["nightly"],
            ),
            None,
        ),
        case(
            "firefox nightly on aurora",
            mobile_nightlies.clone(),
            build(
                "mozilla-aurora",
                "linux",
                "opt",
                Some("firefox"),
                &["nightly"],
            ),
            Some(Rule::Products),
        ),
        case(
            "mobile dep build",
            mobile_nightlies.clone(),
            build("mozilla-central", "android", "opt", Some("mobile"), &[]),
            Some(Rule::BuildTags),
        ),
        case(
            "mobile tests pass: buildtags do not apply",
            mobile_nightlies,
            test(
                "mozilla-central",
                "android",
                "opt",
                Some("mobile"),
                "robocop-1",
                false,
            ),
            None,
        ),
    ]);
}

#[test]
fn rejections_read_well() {
    let filter = builder()
        .trees(["mozilla-central", "mozilla-aurora"])
        .platforms(["linux"])
        .products(["firefox", "none"])
        .buildtypes(["debug", "opt"])
        .tests(["reftest"])
        .buildtag_groups([vec!["nightly", "l10n"], vec!["release"]])
        .build()
        .unwrap();
    let table = [
        (
            build("try", "linux", "opt", None, &[]),
            r#"tree "try" is not one of mozilla-aurora, mozilla-central"#,
            "try",
        ),
        (
            build("mozilla-central", "win32", "opt", None, &[]),
            r#"platform "win32" is not one of linux"#,
            "win32",
        ),
        (
            build("mozilla-central", "linux", "opt", Some("mobile"), &[]),
            r#"product "mobile" is not one of firefox, none"#,
            "mobile",
        ),
        (
            build("mozilla-central", "linux", "pgo", None, &[]),
            r#"build type "pgo" is not one of debug, opt"#,
            "pgo",
        ),
        (
            test("mozilla-central", "linux", "opt", None, "crashtest", false),
            r#"test "crashtest" is not one of reftest"#,
            "crashtest",
        ),
        (
            test("mozilla-central", "linux", "opt", None, "tp5", true),
            r#"test "tp5" is a talos run and talos is off"#,
            "tp5",
        ),
        (
            build("mozilla-central", "linux", "opt", None, &["nightly", "pgo"]),
            r#"build tags "nightly,pgo" do not include any required group: nightly+l10n, release"#,
            "nightly,pgo",
        ),
    ];
    for (record, message, value) in table {
        let why = filter.explain(&record).unwrap_err();
        assert_eq!(why.to_string(), message);
        assert_eq!(why.value(), value);
    }
    let missing = builder().products(["firefox"]).build().unwrap();
    let why = missing
        .explain(&build("mozilla-central", "linux", "opt", None, &[]))
        .unwrap_err();
    assert_eq!(why.to_string(), r#"product "none" is not one of firefox"#);
    assert_eq!(why.allowed(), ["firefox"]);
}

#[test]
fn invalid_rules_are_typed_errors() {
    fn spec(json: &str) -> Result<Filter, Error> {
        Filter::from_spec(&FilterSpec::from_json_str(json)?)
    }
    let table: Vec<(&str, Result<Filter, Error>, ErrorKind, &str)> =
        vec![
        (
            "empty trees",
            builder().trees(Vec::<String>::new()).build(),
            ErrorKind::EmptyList { field: "trees" },
            "empty list for trees: leave trees unset to match everything",
        ),
        (
            "empty platform",
            builder().platforms(["linux", ""]).build(),
            ErrorKind::EmptyValue { field: "platforms" },
            r#"empty string "" in platforms"#,
        ),
        (
            "empty product from a flag",
            {
                let mut spec = FilterSpec::default();
                spec.add_products_str("firefox,");
                Filter::from_spec(&spec)
            },
            ErrorKind::EmptyValue { field: "products" },
            r#"empty string "" in products"#,
        ),
        (
            "unknown build type",
            builder().buildtypes(["debug", "dbg"]).build(),
            ErrorKind::UnknownBuildType { buildtype: "dbg".into() },
            r#"unknown build type "dbg" in buildtypes: expected opt, debug or pgo"#,
        ),
        (
            "build types are lowercase",
            spec(r#"{"buildtypes": ["Debug"]}"#),
            ErrorKind::UnknownBuildType { buildtype: "Debug".into() },
            r#"unknown build type "Debug" in buildtypes: expected opt, debug or pgo"#,
        ),
        (
            "empty tests",
            spec(r#"{"tests": []}"#),
            ErrorKind::EmptyList { field: "tests" },
            "empty list for tests: leave tests unset to match everything",
        ),
        (
            "empty flat buildtags",
            builder().buildtags(Vec::<String>::new()).build(),
            ErrorKind::EmptyList { field: "buildtags" },
            "empty list for buildtags: leave buildtags unset to match everything",
        ),
        (
            "empty inner tag group",
            spec(r#"{"buildtags": [["nightly"], []]}"#),
            ErrorKind::EmptyTagGroup { index: 1 },
            "empty build tag group [] at position 1 in buildtags: a group needs at least one tag",
        ),
        (
            "empty group from a flag",
            {
                let mut spec = FilterSpec::default();
                spec.add_buildtag_groups_str("nightly+l10n,,release");
                Filter::from_spec(&spec)
            },
            ErrorKind::EmptyTagGroup { index: 1 },
            "empty build tag group [] at position 1 in buildtags: a group needs at least one tag",
        ),
        (
            "empty tag inside a group",
            {
                let mut spec = FilterSpec::default();
                spec.add_buildtag_groups_str("nightly+");
                Filter::from_spec(&spec)
            },
            ErrorKind::EmptyValue { field: "buildtags" },
            r#"empty string "" in buildtags"#,
        ),
        (
            "any tree with trees",
            spec(r#"{"any_tree": true, "trees": ["try"]}"#),
            ErrorKind::AnyTreeWithTrees { trees: vec!["try".into()] },
            r#"any_tree conflicts with trees ["try"]: give one or the other"#,
        ),
    ];
    for (name, result, kind, message) in table {
        let err = result.expect_err(name);
        assert_eq!(err.kind(), &kind, "{name}");
        assert_eq!(err.to_string(), message, "{name}");
    }
}

#[test]
fn json_file_errors_name_the_file_and_the_position() {
    let err = FilterSpec::from_json_file("/nonexistent/filter.json").unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::Io { .. }), "{err}");
    assert!(
        err.to_string()
            .starts_with(r#"cannot read filter file "/nonexistent/filter.json""#),
        "{err}"
    );

    let err = FilterSpec::from_json_str(r#"{"talos": "yes"}"#).unwrap_err();
    assert!(err.to_string().contains("line 1 column"), "{err}");
}

#[test]
fn spec_from_flags_builds_the_same_filter_as_the_builder() {
    let mut spec = FilterSpec::default();
    spec.add_trees_str("mozilla-central,try");
    spec.add_platforms_str("linux64");
    spec.add_products_str("firefox, none");
    spec.add_buildtypes_str("debug");
    spec.add_buildtypes_str("opt");
    spec.add_tests_str("reftest");
    spec.add_buildtag_groups_str("nightly+l10n,release");
    spec.talos = true;
    let from_flags = Filter::from_spec(&spec).unwrap();
    let built = builder()
        .trees(["try", "mozilla-central"])
        .platforms(["linux64"])
        .products(["none", "firefox"])
        .buildtypes(["opt", "debug"])
        .tests(["reftest"])
        .buildtag_groups([vec!["nightly", "l10n"], vec!["release"]])
        .talos(true)
        .build()
        .unwrap();
    assert_eq!(from_flags, built);
}

#[test]
fn to_spec_round_trips() {
    let filters = [
        Filter::default(),
        builder().any_tree().build().unwrap(),
        builder()
            .trees(["try"])
            .products(["none"])
            .buildtypes(["pgo", "opt"])
            .buildtags(["nightly"])
            .talos(true)
            .build()
            .unwrap(),
    ];
    for filter in filters {
        let spec = filter.to_spec();
        let json = spec.to_json_string();
        let again = Filter::from_spec(&FilterSpec::from_json_str(&json).unwrap()).unwrap();
        assert_eq!(again, filter, "{json}");
    }
    assert_eq!(Filter::default().to_spec(), FilterSpec::default());
}

/// Every combination of a few values per field, under filters that set
/// every rule: `matches` and `explain` agree, and a rejection's value is
/// the record's own.
#[test]
fn matches_agrees_with_explain_over_many_records() {
    let trees = ["mozilla-central", "try", "mozilla-aurora"];
    let platforms = ["linux", "linux64", "win32"];
    let buildtypes = ["opt", "debug", "pgo"];
    let products = [None, Some("firefox"), Some("mobile")];
    let tag_sets: [&[&str]; 5] = [
        &[],
        &["nightly"],
        &["nightly", "l10n"],
        &["release"],
        &["l10n", "release", "pgo"],
    ];
    let tests = [
        ("reftest", false),
        ("mochitest-1", false),
        ("tp5", true),
        ("dromaeo", true),
    ];

    let mut records = Vec::new();
    for tree in trees {
        for platform in platforms {
            for buildtype in buildtypes {
                for product in products {
                    for tags in tag_sets {
                        records.push(build(tree, platform, buildtype, product, tags));
                    }
                    for (name, talos) in tests {
                        records.push(test(tree, platform, buildtype, product, name, talos));
                    }
                }
            }
        }
    }
    let filters = [
        Filter::default(),
        builder().any_tree().talos(true).build().unwrap(),
        builder()
            .trees(["try", "mozilla-aurora"])
            .platforms(["linux64", "win32"])
            .products(["firefox", "none"])
            .buildtypes(["debug", "pgo"])
            .tests(["tp5", "reftest"])
            .buildtag_groups([vec!["nightly", "l10n"], vec!["release"]])
            .talos(true)
            .build()
            .unwrap(),
        builder()
            .any_tree()
            .buildtags(["l10n", "release"])
            .tests(["dromaeo"])
            .build()
            .unwrap(),
    ];
    let (mut kept, mut dropped) = (0, 0);
    for filter in &filters {
        for record in &records {
            let explained = filter.explain(record);
            assert_eq!(filter.matches(record), explained.is_ok(), "{record:?}");
            match explained {
                Ok(()) => kept += 1,
                Err(why) => {
                    dropped += 1;
                    let job = record.job().expect("the corpus holds builds and tests");
                    let expected_value = match (why.rule(), record) {
                        (Rule::Trees, _) => job.tree.clone(),
                        (Rule::Platforms, _) => job.platform.clone(),
                        (Rule::Products, _) => job.product.clone().unwrap_or_else(|| "none".into()),
                        (Rule::BuildTypes, _) => job.buildtype.to_string(),
                        (Rule::Tests | Rule::Talos, Record::Test(test)) => test.test.clone(),
                        (Rule::BuildTags, Record::Build(build)) => build.tags.join(","),
                        (rule, _) => {
                            panic!("rule {rule} rejected the wrong kind of record: {record:?}")
                        }
                    };
                    assert_eq!(why.value(), expected_value);
                }
            }
        }
    }
    // Both outcomes occur under every filter mix, so the loop above checked something.
    assert!(
        kept > 100 && dropped > 100,
        "kept {kept}, dropped {dropped}"
    );
}

#[test]
fn taskcluster_records_are_filtered_like_buildbot_ones() {
    let mut record = test(
        "autoland",
        "linux64",
        "opt",
        Some("firefox"),
        "mochitest-1",
        false,
    );
    let job = record.job_mut().unwrap();
    job.task_id = Some("bmfRQgNBSHqzp3U9D8xUNg".into());
    job.run_id = Some(0);
    let filter = builder()
        .trees(["autoland"])
        .tests(["mochitest-1"])
        .build()
        .unwrap();
    assert!(filter.matches(&record));
    let why = Filter::default().explain(&record).unwrap_err();
    assert_eq!(
        why.to_string(),
        r#"tree "autoland" is not one of mozilla-central"#
    );
}

/// A Taskcluster test record: the task id says which era it comes from.
fn tc_test(tree: &str, platform: &str, buildtype: &str, name: &str) -> Record {
    let mut record = test(tree, platform, buildtype, Some("firefox"), name, false);
    let job = record.job_mut().unwrap();
    job.task_id = Some("fxnfF4hJRbq2uSO5DEAK1A".into());
    job.run_id = Some(0);
    if let Record::Test(test) = &mut record {
        test.os = "linux1804-64-qr".into();
    }
    record
}

#[test]
fn tests_keep_names_and_suites_alike_in_both_eras() {
    let tests = |names: &[&str]| builder().any_tree().tests(names.to_vec()).build().unwrap();
    let bc = tests(&["mochitest-browser-chrome"]);
    let mochitest = tests(&["mochitest"]);
    let chunk3 = tests(&["mochitest-3"]);
    let bc_chunk3 = tests(&["mochitest-browser-chrome-3"]);
    let reftest = tests(&["reftest"]);
    let one_proc = tests(&["mochitest-browser-chrome-1proc"]);
    let e10s = tests(&["e10s"]);
    let mc = |name| mc_test(name, false);
    let tc = |name| tc_test("autoland", "linux64", "debug", name);
    check(vec![
        // Buildbot: exact names match as in the seed.
        case("bb: chunk listed", chunk3.clone(), mc("mochitest-3"), None),
        case(
            "bb: other chunk",
            chunk3.clone(),
            mc("mochitest-2"),
            Some(Rule::Tests),
        ),
        case("bb: unchunked name", reftest.clone(), mc("reftest"), None),
        case(
            "bb: other suite",
            reftest.clone(),
            mc("crashtest"),
            Some(Rule::Tests),
        ),
        case(
            "bb: unchunked suite name",
            bc.clone(),
            mc("mochitest-browser-chrome"),
            None,
        ),
        // Buildbot: a suite keeps its chunks and e10s runs.
        case(
            "bb: suite keeps chunk",
            mochitest.clone(),
            mc("mochitest-1"),
            None,
        ),
        case(
            "bb: suite keeps e10s chunk",
            bc.clone(),
            mc("mochitest-e10s-browser-chrome-2"),
            None,
        ),
        case(
            "bb: suite is not a prefix",
            mochitest.clone(),
            mc("mochitest-other"),
            Some(Rule::Tests),
        ),
        case(
            "bb: suite is not a prefix of a longer suite",
            mochitest.clone(),
            mc("mochitest-browser-chrome-1"),
            Some(Rule::Tests),
        ),
        case(
            "bb: a typo is no suite",
            mochitest.clone(),
            mc("mochitests-4"),
            Some(Rule::Tests),
        ),
        // Taskcluster: the same names mean the same suites.
        case(
            "tc: suite keeps chunk with e10s",
            bc.clone(),
            tc("mochitest-browser-chrome-e10s-3"),
            None,
        ),
        case(
            "tc: suite keeps unchunked e10s",
            bc.clone(),
            tc("mochitest-browser-chrome-e10s"),
            None,
        ),
        case(
            "tc: suite keeps chunk without e10s",
            bc.clone(),
            tc("mochitest-browser-chrome-1"),
            None,
        ),
        case(
            "tc: 1proc is another suite",
            bc.clone(),
            tc("mochitest-browser-chrome-1proc-2"),
            Some(Rule::Tests),
        ),
        case(
            "tc: listed 1proc suite",
            one_proc,
            tc("mochitest-browser-chrome-1proc-2"),
            None,
        ),
        case(
            "tc: other suite",
            bc.clone(),
            tc("mochitest-devtools-chrome-e10s-3"),
            Some(Rule::Tests),
        ),
        case(
            "tc: plain suite",
            mochitest.clone(),
            tc("mochitest-e10s-1"),
            None,
        ),
        case(
            "tc: plain suite is not a longer one",
            mochitest,
            tc("mochitest-media-e10s-1"),
            Some(Rule::Tests),
        ),
        case(
            "tc: chunk name keeps the exact name",
            bc_chunk3.clone(),
            tc("mochitest-browser-chrome-3"),
            None,
        ),
        case(
            "tc: chunk name is not a suite of its e10s run",
            bc_chunk3,
            tc("mochitest-browser-chrome-e10s-3"),
            Some(Rule::Tests),
        ),
        case(
            "tc: chunk name keeps no other chunk",
            chunk3,
            tc("mochitest-e10s-2"),
            Some(Rule::Tests),
        ),
        case("tc: unchunked name", reftest, tc("reftest-e10s"), None),
        case(
            "tc: e10s alone names itself",
            e10s.clone(),
            tc("e10s"),
            None,
        ),
        case(
            "tc: e10s alone is no suite of others",
            e10s,
            tc("mochitest-e10s"),
            Some(Rule::Tests),
        ),
    ]);
}

#[test]
fn the_issue_filter_means_the_same_in_both_eras() {
    // `--tree autoland --platform linux64 --buildtype debug --test mochitest-browser-chrome`
    let filter = builder()
        .trees(["autoland"])
        .platforms(["linux64"])
        .buildtypes(["debug"])
        .tests(["mochitest-browser-chrome"])
        .build()
        .unwrap();
    let bb = |name: &str| test("autoland", "linux64", "debug", Some("firefox"), name, false);
    let tc = |platform: &str, buildtype: &str, name: &str| {
        tc_test("autoland", platform, buildtype, name)
    };
    check(vec![
        case(
            "bb chunk",
            filter.clone(),
            bb("mochitest-browser-chrome-2"),
            None,
        ),
        case(
            "bb unchunked",
            filter.clone(),
            bb("mochitest-browser-chrome"),
            None,
        ),
        case(
            "tc chunk",
            filter.clone(),
            tc("linux64", "debug", "mochitest-browser-chrome-e10s-3"),
            None,
        ),
        case(
            "tc opt",
            filter.clone(),
            tc("linux64", "opt", "mochitest-browser-chrome-e10s-3"),
            Some(Rule::BuildTypes),
        ),
        case(
            "tc win64",
            filter.clone(),
            tc("win64", "debug", "mochitest-browser-chrome-e10s-3"),
            Some(Rule::Platforms),
        ),
        case(
            "tc other suite",
            filter,
            tc("linux64", "debug", "mochitest-chrome-e10s-3"),
            Some(Rule::Tests),
        ),
    ]);
}
