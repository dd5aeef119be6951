//! Where a build is: from a build run's artifact list, the URLs of what it
//! produced ([`build_urls`]); from a test task's definition, the build it
//! ran against ([`tested_build`]). No I/O: the caller fetches the list or
//! the definition with [`crate::Queue`].
//!
//! Names follow what Firefox CI's builds upload under `public/build/`: the
//! package is `target.<ext>` for the platform (`tar.xz`/`tar.bz2` on Linux,
//! `dmg` on macOS, `zip` and `installer.exe` on Windows, `apk` on Android),
//! beside `target.test_packages.json`, `target.common.tests.tar.*` and
//! `target.crashreporter-symbols.zip`. A fact that cannot be found stays
//! `None`: a build that uploads no package (a static analysis or a
//! toolchain) has no installer, and a test task whose definition names its
//! build nowhere has no tested build.

use serde::Deserialize;

use crate::queue::artifact_url;
use crate::{Artifact, Task};

/// Installer and package names, most wanted first: where a build uploads
/// both, Windows tests install the `zip`, so it comes before the
/// `installer.exe`.
const PACKAGES: &[&str] = &[
    "public/build/target.tar.xz",
    "public/build/target.tar.bz2",
    "public/build/target.tar.gz",
    "public/build/target.dmg",
    "public/build/target.zip",
    "public/build/target.installer.exe",
    "public/build/target.apk",
];
const TEST_PACKAGES: &str = "public/build/target.test_packages.json";
const COMMON_TESTS: &str = "public/build/target.common.tests.";
const SYMBOLS: &str = "public/build/target.crashreporter-symbols.zip";

/// The URLs of what a build run produced, each
/// `<root>/api/queue/v1/task/<taskId>/runs/<runId>/artifacts/<name>`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct BuildUrls {
    /// The installer or package (the seed's `buildurl`).
    pub installer: Option<String>,
    /// `target.test_packages.json`: which test archives go with the build
    /// (the seed's `test_packages_url`).
    pub test_packages: Option<String>,
    /// `target.common.tests.tar.*` (the seed's `testsurl`).
    pub tests: Option<String>,
    /// `target.crashreporter-symbols.zip` (the seed's `symbols_url`).
    pub symbols: Option<String>,
}

/// What a build run produced, from its artifact list (see the module docs
/// for the names looked for).
///
/// ```
/// use pulse_taskcluster::{build_urls, Artifact};
///
/// let list = [
///     Artifact::named("public/logs/live_backing.log"),
///     Artifact::named("public/build/target.tar.xz"),
///     Artifact::named("public/build/target.test_packages.json"),
/// ];
/// let urls = build_urls("https://tc.example", "Cd8bq3YfS6ifUeBcwnmuPg", 0, &list);
/// assert_eq!(
///     urls.installer.as_deref(),
///     Some("https://tc.example/api/queue/v1/task/Cd8bq3YfS6ifUeBcwnmuPg/runs/0/artifacts/public/build/target.tar.xz")
/// );
/// assert_eq!(urls.symbols, None);
/// ```
pub fn build_urls(root_url: &str, task_id: &str, run_id: u32, artifacts: &[Artifact]) -> BuildUrls {
    let url = |name: &str| artifact_url(root_url, task_id, run_id, name);
    let has = |name: &str| artifacts.iter().any(|a| a.name == name);
    let installer = PACKAGES
        .iter()
        .find(|name| has(name))
        .map(|name| url(name))
        .or_else(|| {
            // Android builds name their apk after the product
            // (geckoview_example.apk…).
            artifacts
                .iter()
                .find(|a| a.name.starts_with("public/build/") && a.name.ends_with(".apk"))
                .map(|a| url(&a.name))
        });
    BuildUrls {
        installer,
        test_packages: has(TEST_PACKAGES).then(|| url(TEST_PACKAGES)),
        tests: artifacts
            .iter()
            .find(|a| a.name.starts_with(COMMON_TESTS))
            .map(|a| url(&a.name)),
        symbols: has(SYMBOLS).then(|| url(SYMBOLS)),
    }
}

/// Where a test task's build was found in its definition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum FoundIn {
    /// `payload.env.GECKO_INSTALLER_URL`, what mozharness installs.
    InstallerUrl,
    /// An installer among `payload.env.MOZ_FETCHES`.
    MozFetches,
    /// The one dependency that is neither the decision task, the docker
    /// image nor a fetch: the build's task id, without its installer.
    Dependencies,
}

/// The build a test task ran against.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct TestedBuild {
    /// The installer's URL (the latest run's artifact: a test definition
    /// names no run).
    pub installer: Option<String>,
    /// The build task.
    pub build_task_id: Option<String>,
    /// Where it was found; `None` when it was not.
    pub found_in: Option<FoundIn>,
}

/// The build a test task ran against, from its definition, looked for as
/// mozharness finds its installer: `GECKO_INSTALLER_URL`, else an installer
/// among `MOZ_FETCHES` (`[{"artifact": …, "task": …}]`, a JSON string),
/// else the task's one dependency that can only be the build.
///
/// ```
/// use pulse_taskcluster::{tested_build, FoundIn, Task};
///
/// let task = Task::new(serde_json::json!({"payload": {"env": {"MOZ_FETCHES":
///     r#"[{"artifact": "public/build/target.tar.xz", "extract": false, "task": "Cd8bq3YfS6ifUeBcwnmuPg"}]"#}}}));
/// let build = tested_build("https://tc.example", &task);
/// assert_eq!(build.build_task_id.as_deref(), Some("Cd8bq3YfS6ifUeBcwnmuPg"));
/// assert_eq!(build.found_in, Some(FoundIn::MozFetches));
/// ```
pub fn tested_build(root_url: &str, task: &Task) -> TestedBuild {
    if let Some(url) = task.env("GECKO_INSTALLER_URL").filter(|u| !u.is_empty()) {
        return TestedBuild {
            installer: Some(url.to_string()),
            build_task_id: task_id_in_url(url).map(str::to_string),
            found_in: Some(FoundIn::InstallerUrl),
        };
    }
    let fetches = moz_fetches(task);
    if let Some(fetch) = fetches
        .iter()
        .filter_map(|f| installer_rank(&f.artifact).map(|rank| (rank, f)))
        .min_by_key(|(rank, _)| *rank)
        .map(|(_, f)| f)
    {
        let name = if fetch.artifact.starts_with("public/") {
            fetch.artifact.clone()
        } else {
            // Fetches may name a public artifact without its prefix.
            format!("public/build/{}", fetch.artifact)
        };
        return TestedBuild {
            installer: Some(format!(
                "{}/api/queue/v1/task/{}/artifacts/{}",
                root_url.trim_end_matches('/'),
                fetch.task,
                name
            )),
            build_task_id: Some(fetch.task.clone()),
            found_in: Some(FoundIn::MozFetches),
        };
    }
    let others: Vec<&str> = task
        .dependencies()
        .into_iter()
        .filter(|id| Some(*id) != task.task_group_id())
        .filter(|id| Some(*id) != task.image_task_id())
        .filter(|id| !fetches.iter().any(|f| f.task == *id))
        .collect();
    if let [build] = others[..] {
        return TestedBuild {
            installer: None,
            build_task_id: Some(build.to_string()),
            found_in: Some(FoundIn::Dependencies),
        };
    }
    TestedBuild::default()
}

#[derive(Deserialize)]
struct Fetch {
    artifact: String,
    task: String,
}

/// `MOZ_FETCHES`, when it is the JSON list it should be; anything else
/// reads as no fetches.
fn moz_fetches(task: &Task) -> Vec<Fetch> {
    task.env("MOZ_FETCHES")
        .and_then(|json| serde_json::from_str::<Vec<serde_json::Value>>(json).ok())
        .unwrap_or_default()
        .into_iter()
        .filter_map(|entry| serde_json::from_value(entry).ok())
        .collect()
}

/// How wanted an artifact is as the installer (lower is better), by its
/// file name; `None` for anything else.
fn installer_rank(artifact: &str) -> Option<usize> {
    let file = artifact.rsplit('/').next().unwrap_or(artifact);
    PACKAGES
        .iter()
        .position(|name| name.rsplit('/').next() == Some(file))
        .or_else(|| file.ends_with(".apk").then_some(PACKAGES.len()))
}

/// The task id in `…/task/<taskId>/…`.
fn task_id_in_url(url: &str) -> Option<&str> {
    let (_, rest) = url.split_once("/task/")?;
    let id = rest.split('/').next()?;
    (!id.is_empty()).then_some(id)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const ROOT: &str = "https://tc.example";
    const BUILD: &str = "BuildTask0000000000000";
    const GROUP: &str = "Decision00000000000000";

    fn list(names: &[&str]) -> Vec<Artifact> {
        names.iter().map(|n| Artifact::named(*n)).collect()
    }

    fn url(name: &str) -> Option<String> {
        Some(format!(
            "{ROOT}/api/queue/v1/task/{BUILD}/runs/2/artifacts/{name}"
        ))
    }

    #[test]
    fn a_linux_build_has_every_url() {
        let urls = build_urls(
            ROOT,
            BUILD,
            2,
            &list(&[
                "public/build/target.common.tests.tar.gz",
                "public/build/target.crashreporter-symbols.zip",
                "public/build/target.crashreporter-symbols-full.tar.zst",
                "public/build/target.json",
                "public/build/target.tar.xz",
                "public/build/target.test_packages.json",
                "public/logs/live_backing.log",
            ]),
        );
        assert_eq!(
            urls,
            BuildUrls {
                installer: url("public/build/target.tar.xz"),
                test_packages: url("public/build/target.test_packages.json"),
                tests: url("public/build/target.common.tests.tar.gz"),
                symbols: url("public/build/target.crashreporter-symbols.zip"),
            }
        );
    }

    #[test]
    fn each_platform_gets_its_package() {
        let cases: &[(&[&str], &str)] = &[
            (
                &["public/build/target.tar.bz2"],
                "public/build/target.tar.bz2",
            ),
            (
                &["public/build/target.dmg", "public/build/target.zip"],
                "public/build/target.dmg",
            ),
            (
                &[
                    "public/build/target.installer.exe",
                    "public/build/target.zip",
                ],
                "public/build/target.zip",
            ),
            (
                &["public/build/target.installer.exe"],
                "public/build/target.installer.exe",
            ),
            (&["public/build/target.apk"], "public/build/target.apk"),
            (
                &[
                    "public/build/geckoview-androidTest.apk",
                    "public/build/target.aar",
                ],
                "public/build/geckoview-androidTest.apk",
            ),
        ];
        for (names, want) in cases {
            let urls = build_urls(ROOT, BUILD, 2, &list(names));
            assert_eq!(urls.installer, url(want), "{names:?}");
        }
    }

    #[test]
    fn what_a_build_does_not_upload_stays_none() {
        let urls = build_urls(
            ROOT,
            BUILD,
            2,
            &list(&[
                "public/logs/live_backing.log",
                "public/build/target.jsshell.zip",
                "public/build/target.crashreporter-symbols-full.tar.zst",
                "private/build/target.tar.xz",
            ]),
        );
        assert_eq!(urls, BuildUrls::default());
        assert_eq!(build_urls(ROOT, BUILD, 0, &[]), BuildUrls::default());
    }

    fn task(env: serde_json::Value, dependencies: &[&str]) -> Task {
        Task::new(json!({
            "taskGroupId": GROUP,
            "dependencies": dependencies,
            "payload": {"env": env, "image": {"type": "task-image", "taskId": "Image000000000000000000"}},
        }))
    }

    #[test]
    fn the_installer_url_wins() {
        let installer =
            format!("{ROOT}/api/queue/v1/task/{BUILD}/artifacts/public/build/target.tar.xz");
        let fetches =
            r#"[{"artifact": "public/build/target.zip", "task": "Other00000000000000000"}]"#;
        let found = tested_build(
            ROOT,
            &task(
                json!({"GECKO_INSTALLER_URL": installer, "MOZ_FETCHES": fetches}),
                &[],
            ),
        );
        assert_eq!(
            found,
            TestedBuild {
                installer: Some(installer.clone()),
                build_task_id: Some(BUILD.to_string()),
                found_in: Some(FoundIn::InstallerUrl),
            }
        );
    }

    #[test]
    fn moz_fetches_name_the_installer_among_toolchains() {
        let fetches = json!([
            {"artifact": "public/build/minidump-stackwalk.tar.zst", "extract": true, "task": "Toolchain0000000000000"},
            {"artifact": "public/build/target.common.tests.tar.gz", "extract": false, "task": BUILD},
            {"artifact": "public/build/target.tar.xz", "extract": false, "task": BUILD},
        ])
        .to_string();
        let found = tested_build(ROOT, &task(json!({"MOZ_FETCHES": fetches}), &[]));
        assert_eq!(
            found.installer.as_deref(),
            Some(
                format!("{ROOT}/api/queue/v1/task/{BUILD}/artifacts/public/build/target.tar.xz")
                    .as_str()
            )
        );
        assert_eq!(found.build_task_id.as_deref(), Some(BUILD));
        assert_eq!(found.found_in, Some(FoundIn::MozFetches));
    }

    #[test]
    fn the_one_dependency_left_is_the_build() {
        let fetches =
            r#"[{"artifact": "public/build/node.tar.zst", "task": "Toolchain0000000000000"}]"#;
        let deps = [
            GROUP,
            "Image000000000000000000",
            "Toolchain0000000000000",
            BUILD,
        ];
        let found = tested_build(ROOT, &task(json!({"MOZ_FETCHES": fetches}), &deps));
        assert_eq!(
            found,
            TestedBuild {
                installer: None,
                build_task_id: Some(BUILD.to_string()),
                found_in: Some(FoundIn::Dependencies),
            }
        );
    }

    #[test]
    fn a_build_named_nowhere_stays_none() {
        // Two candidates: which is the build cannot be told.
        let two = tested_build(ROOT, &task(json!({}), &[BUILD, "Signing000000000000000"]));
        assert_eq!(two, TestedBuild::default());
        // Garbled MOZ_FETCHES and an empty installer URL count as absent.
        let garbled = task(
            json!({"MOZ_FETCHES": "[{not json", "GECKO_INSTALLER_URL": ""}),
            &[],
        );
        assert_eq!(tested_build(ROOT, &garbled), TestedBuild::default());
        assert_eq!(
            tested_build(ROOT, &Task::new(json!({}))),
            TestedBuild::default()
        );
    }
}
