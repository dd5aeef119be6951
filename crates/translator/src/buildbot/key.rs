//! What the reference translator read from a raw message's routing key:
//! whether it is a unit test or a build, its OS, test and build tags, and
//! a guess of the platform when the properties name none.
//!
//! The reference matched regular expressions; these functions match the
//! same keys by hand, and the tests below check them against those
//! expressions on many made-up keys.

use crate::tables;

/// The reference's guess of a platform from a routing key: the greatest
/// platform name in it, else the first OS name in it.
pub(super) fn guess_platform(key: &str) -> Option<&'static str> {
    let platform = tables::PLATFORMS
        .iter()
        .map(|(name, _)| *name)
        .filter(|name| key.contains(name))
        .max();
    platform.or_else(|| {
        tables::PLATFORMS
            .iter()
            .flat_map(|(_, oses)| oses.iter())
            .copied()
            .find(|os| key.contains(os))
    })
}

pub(super) struct UnittestMatch<'k> {
    pub(super) os: &'k str,
    pub(super) test: &'k str,
    pub(super) finished: bool,
}

/// The reference's unittest key pattern,
/// `build.<tree>[-|_]<os>[-debug…][-|_](test|unittest|pgo)-<test>.<n>.<event>`.
pub(super) fn match_unittest<'k>(key: &'k str, tree: &str) -> Option<UnittestMatch<'k>> {
    // The pattern's parts after `<tree>[-|_]`, tried in the order its
    // lazy groups and alternatives were: the shortest OS first, with the
    // build type suffix before without it. At most one alternative of each
    // list can match at a given place.
    const BUILDTYPE_SUFFIXES: [&str; 5] = ["-debug", "-o-debug", "-pgo", "_pgo", "_test"];
    const KINDS: [&str; 3] = ["test", "unittest", "pgo"];
    let rest = key.strip_prefix("build.")?.strip_prefix(tree)?;
    let after_separator = rest.strip_prefix(['-', '|', '_'])?;
    for (os_end, byte) in after_separator.bytes().enumerate() {
        if !matches!(byte, b'-' | b'_' | b'|') {
            if byte == b'\n' {
                // The OS is `.*?`, which stops at a line end.
                return None;
            }
            // Every part after the OS starts with one of these.
            continue;
        }
        let after_os = &after_separator[os_end..];
        let with_buildtype = BUILDTYPE_SUFFIXES
            .iter()
            .find_map(|suffix| after_os.strip_prefix(suffix));
        for after_buildtype in with_buildtype.into_iter().chain([after_os]) {
            let Some(test) = after_buildtype
                .strip_prefix(['-', '|', '_'])
                .and_then(|text| KINDS.iter().find_map(|kind| text.strip_prefix(kind)))
                .and_then(|text| text.strip_prefix('-'))
            else {
                continue;
            };
            if let Some((test_end, finished)) = shortest_before_event(test) {
                return Some(UnittestMatch {
                    os: &after_separator[..os_end],
                    test: &test[..test_end],
                    finished,
                });
            }
        }
    }
    None
}

/// `\.[0-9]+\.(log_uploaded|finished)` at the start of `text`: whether
/// the event is `finished`.
fn event_at(text: &str) -> Option<bool> {
    let after_dot = text.strip_prefix('.')?;
    let digits = after_dot.bytes().take_while(u8::is_ascii_digit).count();
    if digits == 0 {
        return None;
    }
    let event = after_dot[digits..].strip_prefix('.')?;
    if event.starts_with("log_uploaded") {
        Some(false)
    } else if event.starts_with("finished") {
        Some(true)
    } else {
        None
    }
}

/// `(.*?)\.[0-9]+\.(log_uploaded|finished)` at the start of `text`: the
/// end of the shortest group, and whether the event is `finished`.
fn shortest_before_event(text: &str) -> Option<(usize, bool)> {
    for (at, byte) in text.bytes().enumerate() {
        if byte == b'.' {
            if let Some(finished) = event_at(&text[at..]) {
                return Some((at, finished));
            }
        } else if byte == b'\n' {
            return None;
        }
    }
    None
}

pub(super) struct BuildMatch<'k> {
    pub(super) prefix: Option<&'static str>,
    pub(super) xulrunner: bool,
    pub(super) tags: &'k str,
    pub(super) finished: bool,
}

/// The reference's build key pattern,
/// `build.[release-|jetpack-|b2g_]<tree>[-|_][xulrunner[-|_]]<platform>[-|_]<tags>.<n>.<event>`,
/// trying the optional parts present first, as its regular expression did.
pub(super) fn match_build<'k>(key: &'k str, tree: &str, platform: &str) -> Option<BuildMatch<'k>> {
    fn separator(text: &str) -> Option<&str> {
        text.strip_prefix(['-', '|', '_'])
    }
    let rest = key.strip_prefix("build.")?;
    let prefix = ["release-", "jetpack-", "b2g_"]
        .into_iter()
        .find(|prefix| rest.starts_with(prefix));
    let prefixes = prefix.map(Some).into_iter().chain([None]);
    for prefix in prefixes {
        let after_prefix = &rest[prefix.map_or(0, str::len)..];
        let Some(after_tree) = after_prefix.strip_prefix(tree).and_then(separator) else {
            continue;
        };
        let with_xulrunner = after_tree.strip_prefix("xulrunner").and_then(separator);
        for (xulrunner, before_platform) in [(true, with_xulrunner), (false, Some(after_tree))] {
            let Some(after_platform) = before_platform.and_then(|text| text.strip_prefix(platform))
            else {
                continue;
            };
            // `[-|_]?(.*?)\.[0-9]+\.(log_uploaded|finished)`.
            let tags = separator(after_platform)
                .into_iter()
                .chain([after_platform]);
            for tags in tags {
                if let Some((end, finished)) = shortest_before_event(tags) {
                    return Some(BuildMatch {
                        prefix,
                        xulrunner,
                        tags: &tags[..end],
                        finished,
                    });
                }
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use regex::Regex;

    use super::*;

    #[test]
    fn guesses_platform_from_key() {
        assert_eq!(
            guess_platform("build.mozilla-central-linux64-asan.1.finished"),
            Some("linux64-asan")
        );
        assert_eq!(guess_platform("build.try-win64.1.finished"), Some("win64"));
        assert_eq!(
            guess_platform("build.try-fedora.1.finished"),
            Some("fedora")
        );
        assert_eq!(guess_platform("build.try-solaris.1.finished"), None);
    }

    #[test]
    fn matches_build_keys_like_the_reference() {
        let m = match_build(
            "build.release-mozilla-beta-win32_repack_2.16.log_uploaded",
            "release-mozilla-beta",
            "win32",
        )
        .unwrap();
        assert_eq!(
            (m.prefix, m.xulrunner, m.tags, m.finished),
            (None, false, "repack_2", false)
        );
        let m = match_build(
            "build.release-mozilla-beta-xulrunner_linux_build.3.finished",
            "mozilla-beta",
            "linux",
        )
        .unwrap();
        assert_eq!(
            (m.prefix, m.xulrunner, m.tags, m.finished),
            (Some("release-"), true, "build", true)
        );
        let m = match_build(
            "build.mozilla-central-linux.98.log_uploaded",
            "mozilla-central",
            "linux",
        )
        .unwrap();
        assert_eq!(m.tags, "");
        assert!(match_build(
            "build.mozilla-central-linux.98.log_uploaded",
            "mozilla-central",
            "win32"
        )
        .is_none());
    }

    /// Keys made of the pieces the patterns care about, in many orders.
    fn tricky_keys() -> Vec<String> {
        // Each slot of a key the patterns accept, with near misses.
        let slots: [&[&str]; 9] = [
            &["-", "_", "|", "", "x"],
            &["linux", "win-7", "a.b", "é", "", "\n", "-x-"],
            &["-debug", "-o-debug", "-pgo", "_pgo", "_test", "", "-o"],
            &["-", "_", "|", "", "."],
            &["test", "unittest", "pgo", "", "tes"],
            &["-", "", "_"],
            &["mochitest", "a.1", "b-2.x", "", "\n", "é"],
            &[".12.", ".7.", ".", "..", ".x.", "1."],
            &["log_uploaded", "finished", "finish", ".log_uploaded", ""],
        ];
        let mut keys = Vec::new();
        let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
        for _ in 0..20_000 {
            let mut key = String::from("build.tree");
            for options in slots {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                key.push_str(options[(state % options.len() as u64) as usize]);
            }
            keys.push(key);
        }
        keys.extend(
            [
                "build.tree-linux-debug-test-mochitest.12.log_uploaded",
                "build.tree_xp_test_pgo-xpcshell.0.finished",
                "build.tree-a-o-debug_unittest-b.c.1.finished.2.log_uploaded",
                "build.tree-linux\n-test-x.1.finished",
                "build.tree-linux-test-x\n.1.finished",
                "build.tree-linux-test-.1.finished",
                "build.tree-linux_repack_2.16.log_uploaded",
                "build.tree-linux-.1.log_uploadedx",
                "build.tree-linux.1.finished",
                "build.tree-linux|x.1..2.finished",
            ]
            .map(String::from),
        );
        keys
    }

    #[test]
    fn unittest_matching_agrees_with_the_reference_pattern() {
        let pattern = Regex::new(
            r"^[-|_](.*?)(?:-debug|-o-debug|-pgo|_pgo|_test)?[-|_](?:test|unittest|pgo)-(.*?)\.[0-9]+\.(log_uploaded|finished)",
        )
        .unwrap();
        let mut matched = 0;
        for key in tricky_keys() {
            let expected = pattern
                .captures(key.strip_prefix("build.tree").unwrap())
                .map(|c| (c[1].to_owned(), c[2].to_owned(), &c[3] == "finished"));
            let found = match_unittest(&key, "tree")
                .map(|m| (m.os.to_owned(), m.test.to_owned(), m.finished));
            assert_eq!(found, expected, "{key:?}");
            matched += usize::from(found.is_some());
        }
        assert!(
            matched > 100,
            "only {matched} keys matched: the test proves little"
        );
    }

    #[test]
    fn build_matching_agrees_with_the_reference_pattern() {
        let pattern = Regex::new(r"^[-|_]?(.*?)\.[0-9]+\.(log_uploaded|finished)").unwrap();
        let mut matched = 0;
        for key in tricky_keys() {
            let after_platform = key
                .strip_prefix("build.tree")
                .and_then(|rest| rest.strip_prefix(['-', '|', '_']))
                .and_then(|rest| rest.strip_prefix("linux"));
            let expected = after_platform
                .and_then(|rest| pattern.captures(rest))
                .map(|c| (c[1].to_owned(), &c[2] == "finished"));
            let found = match_build(&key, "tree", "linux")
                .filter(|m| m.prefix.is_none() && !m.xulrunner)
                .map(|m| (m.tags.to_owned(), m.finished));
            assert_eq!(found, expected, "{key:?}");
            matched += usize::from(found.is_some());
        }
        assert!(
            matched > 100,
            "only {matched} keys matched: the test proves little"
        );
    }

    #[test]
    fn matches_unittest_keys_like_the_reference() {
        let m = match_unittest(
            "build.mozilla-beta_xp_test_pgo-xpcshell.0.log_uploaded",
            "mozilla-beta",
        )
        .unwrap();
        assert_eq!((m.os, m.test), ("xp", "xpcshell"));
        let m = match_unittest(
            "build.comm-release-macosx64-debug-unittest-mochitests-4.89.finished",
            "comm-release",
        )
        .unwrap();
        assert_eq!(
            (m.os, m.test, m.finished),
            ("macosx64", "mochitests-4", true)
        );
        assert!(match_unittest(
            "build.mozilla-central-linux.98.log_uploaded",
            "mozilla-central"
        )
        .is_none());
    }
}
