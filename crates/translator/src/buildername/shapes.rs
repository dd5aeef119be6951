//! The builders with shapes of their own, apart from the long
//! `<machine> <tree> <job>` names: release jobs, l10n repacks, B2G builds,
//! jetpack tests and the B2G desktop runtimes. Each reads its shape or
//! says `None`, for [`super::parse`] to try the next.

use super::{BuildernameKind, ParsedBuildername};
use crate::tables;
use crate::BuildType;

/// `release-<tree>-[<product>_|<product>-][<platform>_]<step>`, e.g.
/// `release-mozilla-beta-win32_repack_2/10`,
/// `release-mozilla-beta_firefox_win64_update_verify`,
/// `release-mozilla-beta-firefox_bncr_sub`. The tree keeps its `release-`
/// prefix, as the reference translator's payloads do.
pub(super) fn release(name: &str) -> Option<ParsedBuildername> {
    let rest = name.strip_prefix("release-")?;
    if rest.contains(' ') {
        return None;
    }
    let (tree, step) = release_tree(rest)?;
    let step = strip_one_of(step, tables::RELEASE_PRODUCTS).unwrap_or(step);
    let (platform, step) = match step.split_once('_') {
        Some((platform, after)) if tables::RELEASE_PLATFORMS.contains(&platform) => {
            (Some(platform), after)
        }
        _ => (None, step),
    };
    if step.is_empty() {
        return None;
    }
    let kind = if step.contains("repack") {
        BuildernameKind::Repack
    } else if step == "build" {
        BuildernameKind::Build
    } else {
        BuildernameKind::Other
    };
    Some(ParsedBuildername {
        tree: Some(name[..tree.len() + "release-".len()].to_owned()),
        platform: platform.map(str::to_owned),
        os: None,
        buildtype: matches!(kind, BuildernameKind::Build | BuildernameKind::Repack)
            .then_some(BuildType::Opt),
        kind: Some(kind),
        test: None,
    })
}

/// Splits `mozilla-beta-firefox_updates` into the tree and what follows
/// its separator. Tree names hold `-` themselves, so the tree ends before
/// the first product or release platform; failing those, it is a
/// `mozilla-*` or `comm-*` pair of words, or one word (`date`, `jamun`).
fn release_tree(rest: &str) -> Option<(&str, &str)> {
    let separators = || {
        rest.char_indices()
            .filter(|(_, c)| *c == '-' || *c == '_')
            .map(|(at, _)| at)
    };
    let named = separators().find(|&at| {
        let after = &rest[at + 1..];
        strip_one_of(after, tables::RELEASE_PRODUCTS).is_some()
            || after
                .split_once('_')
                .is_some_and(|(platform, _)| tables::RELEASE_PLATFORMS.contains(&platform))
    });
    let at = named.or_else(|| {
        let words = if rest.starts_with("mozilla-") || rest.starts_with("comm-") {
            2
        } else {
            1
        };
        separators().nth(words - 1)
    })?;
    Some((&rest[..at], &rest[at + 1..])).filter(|(tree, _)| !tree.is_empty())
}

/// `text` after one of `words` and a `-` or `_`.
fn strip_one_of<'a>(text: &'a str, words: &[&str]) -> Option<&'a str> {
    words.iter().find_map(|word| {
        text.strip_prefix(word)?
            .strip_prefix(|c| c == '-' || c == '_')
    })
}

/// `<Product> <tree> <platform> l10n [<job>]`, e.g.
/// `Firefox mozilla-aurora win64 l10n nightly-1`, `Firefox try macosx64 l10n`.
pub(super) fn l10n(name: &str) -> Option<ParsedBuildername> {
    let mut words = name.split(' ');
    let (_product, tree, platform) = (words.next()?, words.next()?, words.next()?);
    let (l10n, _job) = (words.next()?, words.next());
    if l10n != "l10n" || words.next().is_some() || tree.is_empty() {
        return None;
    }
    Some(ParsedBuildername {
        tree: Some(tree.to_owned()),
        platform: tables::is_known_platform(platform).then(|| platform.to_owned()),
        os: None,
        buildtype: Some(BuildType::Opt),
        kind: Some(BuildernameKind::Repack),
        test: None,
    })
}

/// `b2g_<tree>_<platform>[_eng][-debug]` and an ending:
/// `b2g_mozilla-inbound_emulator-jb-debug_dep`,
/// `b2g_mozilla-b2g34_v2_1s_dolphin-512_eng_nightly`,
/// `b2g_try_ics_armv7a_gecko-debug build`. Trees hold `_`
/// (`mozilla-b2g26_v1_2`), so the platform is read from the end; an
/// unknown device still leaves the tree, before the last `_`.
pub(super) fn b2g_build(name: &str) -> Option<ParsedBuildername> {
    let rest = name.strip_prefix("b2g_")?;
    let rest = tables::B2G_BUILD_ENDINGS
        .iter()
        .find_map(|ending| rest.strip_suffix(ending))?;
    if rest.contains(' ') {
        return None;
    }
    let (rest, debug) = match rest.strip_suffix("-debug") {
        Some(rest) => (rest, true),
        None => (rest, false),
    };
    // An engineering build is an opt build with more tools in the image.
    let rest = rest.strip_suffix("_eng").unwrap_or(rest);
    let known = tables::B2G_BUILD_PLATFORMS.iter().find_map(|platform| {
        let tree = rest.strip_suffix(platform)?.strip_suffix('_')?;
        Some((tree, Some(*platform)))
    });
    let (tree, platform) = match known {
        Some(found) => found,
        None => (rest.rsplit_once('_')?.0, None),
    };
    if tree.is_empty() {
        return None;
    }
    Some(ParsedBuildername {
        tree: Some(tree.to_owned()),
        platform: platform.map(str::to_owned),
        os: None,
        buildtype: Some(if debug {
            BuildType::Debug
        } else {
            BuildType::Opt
        }),
        kind: Some(BuildernameKind::Build),
        test: None,
    })
}

/// `jetpack-<tree>-<os>-<buildtype>`, e.g. `jetpack-fx-team-snowleopard-debug`:
/// the jetpack tests of a tree on one test machine. Both the tree and the
/// OS may hold `-`, so an unknown OS leaves the tree unknown too.
pub(super) fn jetpack(name: &str) -> Option<ParsedBuildername> {
    let rest = name.strip_prefix("jetpack-")?;
    let (rest, buildtype) = rest.rsplit_once('-')?;
    let buildtype = match buildtype {
        "opt" => BuildType::Opt,
        "debug" => BuildType::Debug,
        _ => return None,
    };
    let found = tables::JETPACK_OSES.iter().find_map(|(os, platform)| {
        let tree = rest.strip_suffix(os)?.strip_suffix('-')?;
        (!tree.is_empty()).then_some((tree, *os, *platform))
    });
    Some(ParsedBuildername {
        tree: found.map(|(tree, _, _)| tree.to_owned()),
        platform: found.map(|(_, _, platform)| platform.to_owned()),
        os: found.map(|(_, os, _)| os.to_owned()),
        buildtype: Some(buildtype),
        kind: Some(BuildernameKind::Test),
        test: Some("jetpack".to_owned()),
    })
}

/// `graphene_<tree>_<platform>[-debug] build` and the same for `horizon_`:
/// the B2G desktop runtimes, built for a desktop platform.
pub(super) fn runtime_build(name: &str) -> Option<ParsedBuildername> {
    let rest = name
        .strip_prefix("graphene_")
        .or_else(|| name.strip_prefix("horizon_"))?
        .strip_suffix(" build")?;
    let (rest, debug) = match rest.strip_suffix("-debug") {
        Some(rest) => (rest, true),
        None => (rest, false),
    };
    let (tree, platform) = rest.rsplit_once('_')?;
    if tree.is_empty() || tree.contains(' ') || !tables::is_known_platform(platform) {
        return None;
    }
    Some(ParsedBuildername {
        tree: Some(tree.to_owned()),
        platform: Some(platform.to_owned()),
        os: None,
        buildtype: Some(if debug {
            BuildType::Debug
        } else {
            BuildType::Opt
        }),
        kind: Some(BuildernameKind::Build),
        test: None,
    })
}
