//! Which Treeherder job kind each Firefox task kind is shown as: the one
//! table that decides whether a task becomes a build, a test or a
//! [`TaskRecord`](crate::TaskRecord).
//!
//! Firefox's taskgraph sets `extra.treeherder.jobKind` per kind (in a
//! kind's `kind.yml` under `treeherder: kind:`, or in its transforms), and
//! Treeherder shows the task as that kind; a task without one is `other`.
//! Messages carry `tags.kind` but not the definition's `jobKind`, so this
//! table stands in for it; a task definition, when given, always wins.
//!
//! | job kind | task kinds |
//! |---|---|
//! | build | `build`, `artifact-build`, the `build-*` and `instrumented-build*` kinds, `spidermonkey`, `toolchain`, `fetch`, `hazard`, `valgrind`, `searchfox`, `l10n`, `shippable-l10n`, the `repackage*`, `*signing*` and `beetmover*` kinds, `partials`, `upload-symbols`, `upload-generated-sources`, `generate-profile` |
//! | test | `test` and the kinds Firefox splits tests into (`mochitest`, `reftest`, `web-platform-tests`, `browsertime`), `source-test`, `perftest`; and any kind not listed whose label is a test label (`test-<platform>/…`) |
//! | other | `decision-task`, `action-callback`, `docker-image`, `packages`, `visual-metrics-dep`, and every other kind not listed |
//!
//! Sources: `taskcluster/kinds/*/kind.yml` and the transforms of
//! gecko_taskgraph (`toolchain`, `fetch`: build; `source-test`: test;
//! `docker-image`: other; the kinds loaded by the test loader, whose
//! labels are `test-<platform>/<type>-<suite>`: test), and the corpus's
//! 2020 task definitions (`partials`, `partials-signing`: build;
//! `visual-metrics-dep`: other, although its label starts with `test-`).

use crate::JobKind;

/// Task kinds named exactly.
const EXACT: &[(&str, JobKind)] = &[
    ("build", JobKind::Build),
    ("artifact-build", JobKind::Build),
    ("spidermonkey", JobKind::Build),
    ("toolchain", JobKind::Build),
    ("fetch", JobKind::Build),
    ("hazard", JobKind::Build),
    ("valgrind", JobKind::Build),
    ("searchfox", JobKind::Build),
    ("l10n", JobKind::Build),
    ("shippable-l10n", JobKind::Build),
    ("partials", JobKind::Build),
    ("upload-symbols", JobKind::Build),
    ("upload-generated-sources", JobKind::Build),
    ("generate-profile", JobKind::Build),
    ("test", JobKind::Test),
    ("mochitest", JobKind::Test),
    ("reftest", JobKind::Test),
    ("web-platform-tests", JobKind::Test),
    ("browsertime", JobKind::Test),
    ("source-test", JobKind::Test),
    ("perftest", JobKind::Test),
    ("decision-task", JobKind::Other),
    ("action-callback", JobKind::Other),
    ("docker-image", JobKind::Other),
    ("packages", JobKind::Other),
    ("visual-metrics-dep", JobKind::Other),
];

/// Families of kinds, by how their names start or what they contain.
const PREFIXES: &[(&str, JobKind)] = &[
    ("build-", JobKind::Build),
    ("instrumented-build", JobKind::Build),
    ("repackage", JobKind::Build),
    ("beetmover", JobKind::Build),
];

/// The job kind Treeherder shows a task of this kind and label as. A kind
/// the table does not know is a test when its label is a test label (the
/// test loader's `test-<platform>/…`, for test kinds Firefox adds), else
/// [`JobKind::Other`], as Treeherder shows tasks without a `jobKind`.
///
/// ```
/// use pulse_translator::taskcluster::job_kind;
/// use pulse_translator::JobKind;
///
/// assert_eq!(job_kind("source-test", "source-test-mozlint-eslint"), JobKind::Test);
/// assert_eq!(job_kind("mochitest", "test-linux2404-64/opt-mochitest-plain-3"), JobKind::Test);
/// assert_eq!(job_kind("build-signing", "build-signing-linux64/opt"), JobKind::Build);
/// assert_eq!(job_kind("docker-image", "docker-image-ubuntu2404-test"), JobKind::Other);
/// assert_eq!(job_kind("new-tests", "test-linux2404-64/opt-new-1"), JobKind::Test);
/// ```
pub fn job_kind(task_kind: &str, label: &str) -> JobKind {
    match table_job_kind(task_kind) {
        Some(kind) => kind,
        None if label.starts_with("test-") && label.contains('/') => JobKind::Test,
        None => JobKind::Other,
    }
}

/// What the table says of a kind, `None` when it does not list it.
fn table_job_kind(task_kind: &str) -> Option<JobKind> {
    if let Some((_, kind)) = EXACT.iter().find(|(name, _)| *name == task_kind) {
        return Some(*kind);
    }
    if let Some((_, kind)) = PREFIXES
        .iter()
        .find(|(prefix, _)| task_kind.starts_with(prefix))
    {
        return Some(*kind);
    }
    task_kind.contains("signing").then_some(JobKind::Build)
}

/// Reads `extra.treeherder.jobKind`; anything but build and test is other,
/// as Treeherder reads it.
pub(crate) fn parse_job_kind(name: &str) -> JobKind {
    match name {
        "build" => JobKind::Build,
        "test" => JobKind::Test,
        _ => JobKind::Other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_of_a_real_push() {
        for (kind, expected) in [
            ("build", JobKind::Build),
            ("build-signing", JobKind::Build),
            ("build-fat-aar", JobKind::Build),
            ("partials-signing", JobKind::Build),
            ("mar-signing-l10n", JobKind::Build),
            ("repackage-signing-msi", JobKind::Build),
            ("beetmover-repackage", JobKind::Build),
            ("test", JobKind::Test),
            ("source-test", JobKind::Test),
            ("decision-task", JobKind::Other),
            ("action-callback", JobKind::Other),
            ("docker-image", JobKind::Other),
            ("visual-metrics-dep", JobKind::Other),
            ("a-kind-nobody-made-yet", JobKind::Other),
            ("mochitest", JobKind::Test),
            ("web-platform-tests", JobKind::Test),
        ] {
            assert_eq!(job_kind(kind, &format!("{kind}-x")), expected, "{kind}");
        }
        assert_eq!(
            job_kind(
                "visual-metrics-dep",
                "test-vismet-android-hw-a55-14-0-aarch64/opt-x"
            ),
            JobKind::Other,
            "listed kinds win over the label"
        );
    }
}
