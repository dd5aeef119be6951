//! The tasks of one full push, as Firefox's taskgraph defines them.
//!
//! Every label, kind, tag and worker pool here follows the in-tree
//! configuration of Firefox (`taskcluster/kinds/*/kind.yml`,
//! `taskcluster/test_configs/test-platforms.yml`, `test-sets.yml`,
//! `variants.yml`, `taskcluster/config.yml` and the transforms under
//! `taskcluster/gecko_taskgraph/transforms/`); the crate documentation says
//! which numbers are read from there and which are approximations.
//!
//! The catalog is the push before optimization: a backstop push, where
//! every task that can run on the tree runs. [`select`] then keeps about as
//! many tasks as asked for, the way the optimizer does: builds and their
//! neighbours stay, tests are thinned.

use crate::rng::Rng;
use crate::JobKind;

/// Which kind of work a task is, for its rates and durations.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Family {
    Decision,
    Build,
    Test,
    Lint,
    Signing,
    Support,
    Action,
}

/// The pool a worker comes from: how long tasks wait for it, how its
/// workers are named, and which exceptions it has.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Pool {
    /// Preemptible cloud instances on GCP (Linux builds and tests).
    Gcp,
    /// Spot virtual machines on Azure (Windows tests).
    Azure,
    /// Machines in Mozilla's data centres (`releng-hardware`): Mac minis,
    /// Linux and Windows performance machines.
    Hardware,
    /// Android phones at Bitbar (`proj-autophone`).
    Bitbar,
    /// Scriptworkers on Kubernetes (signing).
    Scriptworker,
    /// Mac signing scriptworkers.
    MacScriptworker,
}

/// A worker pool as `taskcluster/config.yml`'s `workers.aliases` resolves it.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Worker {
    /// `None`: `gecko-<level>`.
    pub(crate) provisioner: Option<&'static str>,
    pub(crate) worker_type: &'static str,
    pub(crate) implementation: &'static str,
    pub(crate) os: &'static str,
    /// Whether the alias sets the `worker-implementation` and `os` tags:
    /// tasks that name their implementation themselves (docker-image,
    /// signing) skip the transform that adds them.
    pub(crate) tagged: bool,
    pub(crate) pool: Pool,
}

impl Worker {
    pub(crate) fn provisioner(&self, level: u8) -> String {
        match self.provisioner {
            Some(p) => p.to_string(),
            None => format!("gecko-{level}"),
        }
    }
}

const fn alias(
    provisioner: Option<&'static str>,
    worker_type: &'static str,
    implementation: &'static str,
    os: &'static str,
    pool: Pool,
) -> Worker {
    Worker {
        provisioner,
        worker_type,
        implementation,
        os,
        tagged: true,
        pool,
    }
}

pub(crate) const DECISION: Worker = Worker {
    provisioner: None,
    worker_type: "decision",
    implementation: "docker-worker",
    os: "linux",
    tagged: false,
    pool: Pool::Gcp,
};
const B_LINUX: Worker = alias(None, "b-linux-gcp", "docker-worker", "linux", Pool::Gcp);
const B_LINUX_XL: Worker = alias(
    None,
    "b-linux-xlarge-gcp",
    "docker-worker",
    "linux",
    Pool::Gcp,
);
const IMAGES: Worker = Worker {
    provisioner: None,
    worker_type: "images-gcp",
    implementation: "docker-worker",
    os: "linux",
    tagged: false,
    pool: Pool::Gcp,
};
const T_LINUX: Worker = alias(
    Some("gecko-t"),
    "t-linux-docker",
    "docker-worker",
    "linux",
    Pool::Gcp,
);
const T_LINUX_AMD: Worker = alias(
    Some("gecko-t"),
    "t-linux-docker-amd",
    "docker-worker",
    "linux",
    Pool::Gcp,
);
const T_LINUX_KVM: Worker = alias(
    Some("gecko-t"),
    "t-linux-docker-kvm",
    "docker-worker",
    "linux",
    Pool::Gcp,
);
const T_LINUX_TALOS: Worker = alias(
    Some("releng-hardware"),
    "gecko-t-linux-talos-1804",
    "generic-worker",
    "linux",
    Pool::Hardware,
);
const T_LINUX_TALOS_2404: Worker = alias(
    Some("releng-hardware"),
    "gecko-t-linux-talos-2404",
    "generic-worker",
    "linux",
    Pool::Hardware,
);
const T_WIN_HW: Worker = alias(
    Some("releng-hardware"),
    "win11-64-24h2-hw",
    "generic-worker",
    "windows",
    Pool::Hardware,
);
const T_WIN: Worker = alias(
    Some("gecko-t"),
    "win11-64-25h2",
    "generic-worker",
    "windows",
    Pool::Azure,
);
const T_WIN_GPU: Worker = alias(
    Some("gecko-t"),
    "win11-64-25h2-gpu",
    "generic-worker",
    "windows",
    Pool::Azure,
);
const T_WIN_24H2: Worker = alias(
    Some("gecko-t"),
    "win11-64-24h2",
    "generic-worker",
    "windows",
    Pool::Azure,
);
const T_WIN_SOURCE: Worker = alias(
    Some("gecko-t"),
    "win11-64-25h2-source",
    "generic-worker",
    "windows",
    Pool::Azure,
);
const T_WIN_A64: Worker = alias(
    Some("gecko-t"),
    "win11-a64-25h2",
    "generic-worker",
    "windows",
    Pool::Azure,
);
const T_MAC: Worker = alias(
    Some("releng-hardware"),
    "gecko-t-osx-1500-m4",
    "generic-worker",
    "macosx",
    Pool::Hardware,
);
const T_MAC_1400: Worker = alias(
    Some("releng-hardware"),
    "gecko-t-osx-1400-r8",
    "generic-worker",
    "macosx",
    Pool::Hardware,
);
const T_WIN10: Worker = alias(
    Some("gecko-t"),
    "win10-64-2009",
    "generic-worker",
    "windows",
    Pool::Azure,
);
const T_WIN10_GPU: Worker = alias(
    Some("gecko-t"),
    "win10-64-2009-gpu",
    "generic-worker",
    "windows",
    Pool::Azure,
);
const T_MAC_VMS: Worker = alias(
    Some("releng-hardware"),
    "gecko-t-osx-1500-m-vms",
    "generic-worker",
    "macosx",
    Pool::Hardware,
);
const T_MAC_1015: Worker = alias(
    Some("releng-hardware"),
    "gecko-t-osx-1015-r8",
    "generic-worker",
    "macosx",
    Pool::Hardware,
);
const T_BITBAR: Worker = alias(
    Some("proj-autophone"),
    "gecko-t-bitbar-gw-perf-a55",
    "generic-worker",
    "linux-bitbar",
    Pool::Bitbar,
);
const SIGNING_STAGING: Worker = Worker {
    provisioner: Some("scriptworker-k8s"),
    worker_type: "gecko-t-signing",
    implementation: "scriptworker-signing",
    os: "linux",
    tagged: false,
    pool: Pool::Scriptworker,
};
const SIGNING_PRODUCTION: Worker = Worker {
    worker_type: "gecko-3-signing",
    ..SIGNING_STAGING
};
const MAC_SIGNING_STAGING: Worker = Worker {
    provisioner: Some("scriptworker-prov-v1"),
    worker_type: "dep-gecko-signing-mac14m2",
    implementation: "iscript",
    os: "macosx",
    tagged: false,
    pool: Pool::MacScriptworker,
};
const MAC_SIGNING_PRODUCTION: Worker = Worker {
    worker_type: "gecko-signing-mac14m2",
    ..MAC_SIGNING_STAGING
};
pub(crate) const ACTION: Worker = Worker {
    worker_type: "decision",
    ..DECISION
};

/// What else a task publishes its results under.
#[derive(Clone, Debug)]
pub(crate) enum Index {
    None,
    /// `index.gecko.v2.<project>…firefox.<job-name>` (`V2_ROUTE_TEMPLATES`
    /// or, for shippable builds, `V2_SHIPPABLE_TEMPLATES`), plus the trunk
    /// route on autoland and mozilla-central.
    Build {
        job_name: String,
        shippable: bool,
    },
    /// `index.gecko.cache.level-<level>.<type>.<name>…` (taskgraph's
    /// `cached_tasks`): docker images, toolchains, fetches.
    Cached {
        cache_type: &'static str,
        name: String,
    },
}

/// One task of the full graph.
#[derive(Clone, Debug)]
pub(crate) struct Spec {
    pub(crate) kind: &'static str,
    pub(crate) label: String,
    pub(crate) job_kind: JobKind,
    /// The platform in the label, e.g. `linux2404-64`.
    pub(crate) platform: Option<String>,
    pub(crate) build_type: Option<String>,
    pub(crate) worker: Worker,
    pub(crate) family: Family,
    /// How long a run takes, in minutes.
    pub(crate) minutes: (i64, i64),
    /// The index of the task this one waits for in the catalog (its
    /// primary dependency); `None`: the decision task.
    pub(crate) depends_on: Option<usize>,
    /// Tags besides those every taskgraph task has.
    pub(crate) extra_tags: Vec<(&'static str, String)>,
    pub(crate) index: Index,
    /// The `retrigger` attribute (the `retrigger` tag).
    pub(crate) retrigger: bool,
}

/// The tree's settings that change the graph.
#[derive(Clone, Debug)]
pub(crate) struct Tree {
    pub(crate) project: String,
    /// 3 on integration and release trees, 1 on try.
    pub(crate) level: u8,
    /// `release-level` production (mozilla-central and release trees) or staging.
    pub(crate) production: bool,
    /// autoland and mozilla-central have the trunk index.
    pub(crate) trunk: bool,
    /// `task-priority` in `taskcluster/config.yml`.
    pub(crate) priority: &'static str,
}

impl Tree {
    pub(crate) fn new(project: &str) -> Tree {
        let production = project == "mozilla-central"
            || project == "mozilla-beta"
            || project == "mozilla-release"
            || project.starts_with("mozilla-esr");
        let priority = match project {
            "mozilla-release" => "highest",
            p if p.starts_with("mozilla-esr") => "very-high",
            "mozilla-beta" => "high",
            "mozilla-central" => "medium",
            "autoland" | "mozilla-inbound" => "low",
            _ => "very-low",
        };
        Tree {
            project: project.to_string(),
            level: if project == "try" { 1 } else { 3 },
            production,
            trunk: project == "autoland" || project == "mozilla-central",
            priority,
        }
    }
}

/// A build platform of the `build` kind and what hangs off it.
struct BuildPlatform {
    /// e.g. `linux64-shippable`.
    platform: &'static str,
    build_type: &'static str,
    /// Minutes a build takes.
    minutes: (i64, i64),
    xlarge: bool,
    /// build-signing (`enable-build-signing`, shippable).
    signing: bool,
    /// build-mac-signing.
    mac_signing: bool,
    /// A `repackage` task (mac DMGs, Windows installers).
    repackage: bool,
    /// repackage-signing of the installer.
    repackage_signing: bool,
    /// upload-symbols (shippable builds).
    symbols: bool,
    /// Profile-guided: instrumented-build → generate-profile → build.
    pgo: bool,
}

const fn bp(
    platform: &'static str,
    build_type: &'static str,
    minutes: (i64, i64),
) -> BuildPlatform {
    BuildPlatform {
        platform,
        build_type,
        minutes,
        xlarge: false,
        signing: false,
        mac_signing: false,
        repackage: false,
        repackage_signing: false,
        symbols: false,
        pgo: false,
    }
}

/// The build platforms of a push (`taskcluster/kinds/build/*.yml`; the
/// build platforms named in `test-platforms.yml`).
fn build_platforms() -> Vec<BuildPlatform> {
    let shippable = |mut b: BuildPlatform| {
        b.symbols = true;
        b
    };
    vec![
        bp("linux64", "opt", (25, 45)),
        bp("linux64", "debug", (30, 50)),
        BuildPlatform {
            signing: true,
            pgo: true,
            ..shippable(bp("linux64-shippable", "opt", (35, 60)))
        },
        BuildPlatform {
            xlarge: true,
            ..bp("linux64-asan", "opt", (35, 60))
        },
        BuildPlatform {
            xlarge: true,
            ..bp("linux64-asan", "debug", (35, 60))
        },
        BuildPlatform {
            xlarge: true,
            ..bp("linux64-tsan", "opt", (35, 60))
        },
        bp("linux64-fuzzing", "debug", (30, 50)),
        bp("linux64-aarch64", "opt", (30, 50)),
        BuildPlatform {
            signing: true,
            ..shippable(bp("linux64-aarch64-shippable", "opt", (35, 60)))
        },
        BuildPlatform {
            signing: true,
            ..bp("win64", "opt", (30, 50))
        },
        BuildPlatform {
            signing: true,
            ..bp("win64", "debug", (35, 55))
        },
        BuildPlatform {
            signing: true,
            repackage: true,
            repackage_signing: true,
            pgo: true,
            ..shippable(bp("win64-shippable", "opt", (40, 70)))
        },
        BuildPlatform {
            xlarge: true,
            ..bp("win64-asan", "opt", (40, 65))
        },
        BuildPlatform {
            signing: true,
            ..bp("win64-aarch64", "opt", (30, 50))
        },
        BuildPlatform {
            signing: true,
            ..bp("win64-aarch64", "debug", (30, 50))
        },
        BuildPlatform {
            signing: true,
            repackage: true,
            repackage_signing: true,
            ..shippable(bp("win64-aarch64-shippable", "opt", (40, 65)))
        },
        BuildPlatform {
            signing: true,
            ..bp("win32", "opt", (30, 50))
        },
        BuildPlatform {
            signing: true,
            ..bp("win32", "debug", (30, 50))
        },
        BuildPlatform {
            signing: true,
            repackage: true,
            repackage_signing: true,
            pgo: true,
            ..shippable(bp("win32-shippable", "opt", (40, 70)))
        },
        bp("win64-mingwclang", "opt", (30, 50)),
        bp("win64-mingwclang", "debug", (30, 50)),
        bp("win32-mingwclang", "opt", (30, 50)),
        bp("win32-mingwclang", "debug", (30, 50)),
        BuildPlatform {
            mac_signing: true,
            repackage: true,
            ..bp("macosx64", "opt", (30, 50))
        },
        BuildPlatform {
            mac_signing: true,
            repackage: true,
            ..bp("macosx64", "debug", (30, 50))
        },
        BuildPlatform {
            mac_signing: true,
            repackage: true,
            pgo: true,
            ..shippable(bp("macosx64-shippable", "opt", (50, 80)))
        },
        BuildPlatform {
            mac_signing: true,
            repackage: true,
            ..bp("macosx64-aarch64", "opt", (30, 50))
        },
        BuildPlatform {
            mac_signing: true,
            repackage: true,
            ..bp("macosx64-aarch64", "debug", (30, 50))
        },
        bp("android-x86_64", "opt", (25, 45)),
        bp("android-x86_64", "debug", (25, 45)),
        shippable(bp("android-x86_64-shippable", "opt", (30, 55))),
        bp("android-aarch64", "opt", (25, 45)),
        bp("android-aarch64", "debug", (25, 45)),
        BuildPlatform {
            pgo: true,
            ..shippable(bp("android-aarch64-shippable", "opt", (30, 55)))
        },
        bp("android-arm", "opt", (25, 45)),
        bp("android-arm", "debug", (25, 45)),
        BuildPlatform {
            pgo: true,
            ..shippable(bp("android-arm-shippable", "opt", (30, 55)))
        },
    ]
}

/// A test platform of `test-platforms.yml` and the suites it runs.
struct TestPlatform {
    /// e.g. `linux2404-64/opt`.
    name: &'static str,
    /// The `build-platform` it tests, e.g. `linux64/opt`.
    build: &'static str,
    suites: Vec<Suite>,
}

/// A suite on one test platform: its kind, name and variants
/// (`""` for the suite without variant).
struct Suite {
    kind: &'static str,
    name: &'static str,
    variants: Vec<&'static str>,
}

fn suite(kind: &'static str, name: &'static str) -> Suite {
    Suite {
        kind,
        name,
        variants: vec![""],
    }
}

fn suite_v(kind: &'static str, name: &'static str, variants: &[&'static str]) -> Suite {
    Suite {
        kind,
        name,
        variants: variants.to_vec(),
    }
}

const M: &str = "mochitest";
const R: &str = "reftest";
const W: &str = "web-platform-tests";
const T: &str = "test";
const BT: &str = "browsertime";

/// `web-platform-tests` in `test-sets.yml`, with the variants of
/// `kinds/web-platform-tests/kind.yml` for `platform`.
fn wpt_set(platform: &str) -> Vec<Suite> {
    let reftest: &[&str] = match platform {
        "linux2404-64/debug" => &["", "swr", "s"],
        p if p.ends_with("/debug") && p.starts_with("windows") => &["", "swr"],
        _ => &[""],
    };
    let mut suites = vec![
        suite_v(W, "web-platform-tests", &["", "pb"]),
        suite_v(W, "web-platform-tests-reftest", reftest),
    ];
    suites.extend(
        [
            "web-platform-tests-crashtest",
            "web-platform-tests-print-reftest",
            "web-platform-tests-wdspec",
            "web-platform-tests-canvas",
            "web-platform-tests-webcodecs",
            "web-platform-tests-eme",
            "web-platform-tests-aam",
        ]
        .into_iter()
        .map(|s| suite(W, s)),
    );
    suites
}

/// `webgpu` in `test-sets.yml` (its `-long` and `-backlog` parts run on
/// mozilla-central only).
fn webgpu_set() -> Vec<Suite> {
    vec![
        suite(M, "mochitest-webgpu"),
        suite(W, "web-platform-tests-webgpu"),
    ]
}

/// `talos-profiling` in `test-sets.yml`.
fn talos_profiling_set() -> Vec<Suite> {
    [
        "talos-bcv-profiling",
        "talos-chrome-profiling",
        "talos-dromaeojs-profiling",
        "talos-g1-profiling",
        "talos-g3-profiling",
        "talos-g4-profiling",
        "talos-g5-profiling",
        "talos-motionmark-profiling",
        "talos-other-profiling",
        "talos-sessionrestore-many-windows-profiling",
        "talos-perf-reftest-profiling",
        "talos-perf-reftest-singletons-profiling",
        "talos-svgr-profiling",
        "talos-tp5o-profiling",
        "talos-tabswitch-profiling",
        "talos-realworld-webextensions-profiling",
        "talos-webgl-profiling",
    ]
    .into_iter()
    .map(|s| suite(T, s))
    .collect()
}

/// `talos` in `test-sets.yml`.
fn talos_set() -> Vec<Suite> {
    [
        "talos-bcv",
        "talos-chrome",
        "talos-damp-inspector",
        "talos-damp-webconsole",
        "talos-damp-other",
        "talos-dromaeojs",
        "talos-g1",
        "talos-g3",
        "talos-g4",
        "talos-g5",
        "talos-other",
        "talos-sessionrestore-many-windows",
        "talos-svgr",
        "talos-tp5o",
        "talos-perf-reftest",
        "talos-perf-reftest-singletons",
        "talos-tabswitch",
        "talos-realworld-webextensions",
        "talos-webgl",
        "talos-pdfpaint",
    ]
    .into_iter()
    .map(|s| suite(T, s))
    .collect()
}

/// `awsy` in `test-sets.yml`.
fn awsy_set() -> Vec<Suite> {
    ["awsy", "awsy-base", "awsy-dmd", "awsy-base-dmd", "awsy-tp6"]
        .into_iter()
        .map(|s| suite(T, s))
        .collect()
}

/// Browsertime tasks are one per test, app and page; a sample of the
/// `browsertime` set's pages and benchmarks.
fn browsertime_set() -> Vec<Suite> {
    [
        "browsertime-tp6-firefox-amazon",
        "browsertime-tp6-firefox-bing-search",
        "browsertime-tp6-firefox-cnn",
        "browsertime-tp6-firefox-espn",
        "browsertime-tp6-firefox-expedia",
        "browsertime-tp6-firefox-google-docs",
        "browsertime-tp6-firefox-imdb",
        "browsertime-tp6-firefox-instagram",
        "browsertime-tp6-firefox-reddit",
        "browsertime-tp6-firefox-wikipedia",
        "browsertime-tp6-firefox-youtube",
        "browsertime-tp6-essential-firefox-amazon",
        "browsertime-tp6-essential-firefox-google-slides",
        "browsertime-tp7-firefox-nytimes",
        "browsertime-benchmark-firefox-speedometer3",
        "browsertime-benchmark-firefox-motionmark-1-3",
        "browsertime-benchmark-firefox-jetstream3",
        "browsertime-benchmark-wasm-firefox-wasm-godot",
        "browsertime-youtube-playback-firefox-h264-sfr",
        "browsertime-responsiveness-firefox-cnn-nav",
    ]
    .into_iter()
    .map(|s| suite(BT, s))
    .collect()
}

/// `linux-tests` in `test-sets.yml`, with the variants `kinds/*/kind.yml`
/// run on integration trees for `platform`.
fn linux_tests(platform: &str) -> Vec<Suite> {
    let debug = platform.ends_with("/debug");
    let plain_opt = platform == "linux2404-64/opt" || platform == "linux2404-64-shippable/opt";
    let asan = platform.contains("asan");
    let sanitizer = asan || platform.contains("tsan");
    let mut bc = vec!["swr"];
    if plain_opt {
        bc.push("swr-a11y-checks");
    }
    if !sanitizer {
        bc.push("vt");
    }
    if platform == "linux2404-64/opt" || platform == "linux2404-64/debug" {
        bc.push("standalone");
    }
    let mut devtools = vec![""];
    if plain_opt {
        devtools.push("a11y-checks");
    }
    if debug {
        devtools.push("http3");
    }
    let mut chrome = vec!["1proc"];
    if platform == "linux2404-64/debug" {
        chrome.push("swr-1proc");
    }
    let mut a11y = vec!["1proc"];
    if platform == "linux2404-64/debug" {
        a11y.push("swr-1proc");
    }
    let mut plain = if sanitizer {
        vec![""]
    } else {
        vec!["", "xorig"]
    };
    if platform == "linux2404-64/debug" {
        plain.extend(["http2", "http3"]);
    }
    let crash = if debug || sanitizer {
        vec!["", "swr"]
    } else {
        vec![""]
    };
    let mut reftest = if asan {
        vec!["swr"]
    } else {
        vec!["", "swr", "nogpu"]
    };
    if platform == "linux2404-64/debug" {
        reftest.push("s");
    }
    let xpcshell = if plain_opt {
        vec!["", "condprof"]
    } else {
        vec![""]
    };
    vec![
        suite(T, "cppunittest"),
        suite_v(R, "crashtest", &crash),
        suite(T, "firefox-ui-functional"),
        suite(T, "gtest"),
        suite(R, "jsreftest"),
        suite(T, "marionette-integration"),
        suite(T, "marionette-unittest"),
        suite_v(M, "mochitest-a11y", &a11y),
        suite(M, "mochitest-browser-a11y"),
        suite_v(M, "mochitest-browser-chrome", &bc),
        suite(M, "mochitest-browser-media"),
        suite(M, "mochitest-browser-translations"),
        suite_v(M, "mochitest-chrome", &chrome),
        suite(M, "mochitest-chrome-gpu"),
        suite_v(M, "mochitest-devtools-chrome", &devtools),
        suite(M, "mochitest-media"),
        suite_v(M, "mochitest-plain", &plain),
        suite(M, "mochitest-plain-gpu"),
        suite(M, "mochitest-remote"),
        suite(M, "mochitest-webgl1-core"),
        suite(M, "mochitest-webgl1-ext"),
        suite(M, "mochitest-webgl2-core"),
        suite(M, "mochitest-webgl2-ext"),
        suite_v(R, "reftest", &reftest),
        suite(T, "telemetry-tests-client"),
        suite(T, "test-verify"),
        suite_v(T, "xpcshell", &xpcshell),
    ]
}

/// `windows11-25h2-tests` in `test-sets.yml`.
fn windows11_tests(platform: &str) -> Vec<Suite> {
    let asan = platform.contains("asan");
    let mut bc = vec!["", "msix"];
    if !asan {
        bc.push("vt");
    }
    if platform == "windows11-64-25h2/opt" || platform == "windows11-64-25h2/debug" {
        bc.push("standalone");
    }
    let mut suites = vec![
        suite(T, "cppunittest"),
        suite(T, "gtest"),
        suite(T, "marionette-integration"),
        suite(T, "marionette-unittest"),
        suite_v(M, "mochitest-a11y", &["1proc"]),
        suite(M, "mochitest-browser-a11y"),
        suite_v(M, "mochitest-browser-chrome", &bc),
        suite_v(M, "mochitest-browser-media", &["", "wmfme"]),
        suite(M, "mochitest-browser-translations"),
        suite_v(M, "mochitest-chrome", &["1proc"]),
        suite(M, "mochitest-chrome-gpu"),
        suite(M, "mochitest-devtools-chrome"),
        suite(M, "mochitest-media"),
        suite(M, "mochitest-plain"),
        suite(M, "mochitest-plain-gpu"),
        suite(M, "mochitest-remote"),
        suite(M, "mochitest-webgl1-core"),
        suite(M, "mochitest-webgl1-ext"),
        suite(M, "mochitest-webgl2-core"),
        suite(M, "mochitest-webgl2-ext"),
        suite(T, "telemetry-tests-client"),
        suite(T, "test-verify"),
    ];
    if !asan {
        // "No XPCShell on ASAN yet" (kinds/test/xpcshell.yml).
        let xpcshell: &[&str] = if platform.ends_with("/opt") {
            &["", "condprof"]
        } else {
            &[""]
        };
        suites.push(suite_v(T, "xpcshell", xpcshell));
    }
    suites
}

/// `windows32-tests` in `test-sets.yml`.
fn windows32_tests() -> Vec<Suite> {
    vec![
        suite(T, "cppunittest"),
        suite(R, "crashtest"),
        suite(T, "gtest"),
        suite(T, "firefox-ui-functional"),
        suite(R, "jsreftest"),
        suite(T, "marionette-integration"),
        suite(T, "marionette-unittest"),
        suite_v(M, "mochitest-a11y", &["1proc"]),
        suite(M, "mochitest-browser-a11y"),
        suite(M, "mochitest-browser-chrome"),
        suite(M, "mochitest-browser-media"),
        suite_v(M, "mochitest-chrome", &["1proc"]),
        suite(M, "mochitest-media"),
        suite(R, "reftest"),
        suite(T, "test-verify"),
        suite(T, "xpcshell"),
        suite(W, "web-platform-tests"),
        suite(W, "web-platform-tests-crashtest"),
    ]
}

/// `macosx1500-aarch64-tests` in `test-sets.yml`.
fn mac_aarch64_tests(platform: &str) -> Vec<Suite> {
    let debug = platform.ends_with("/debug");
    let mut suites = vec![
        suite(T, "cppunittest"),
        suite(T, "firefox-ui-functional"),
        suite(R, "jsreftest"),
        suite(T, "marionette-integration"),
        suite(T, "marionette-unittest"),
        suite_v(R, "crashtest", if debug { &["", "swr"] } else { &[""] }),
        suite(T, "jittest"),
        suite_v(M, "mochitest-a11y", &["1proc"]),
        suite(M, "mochitest-browser-a11y"),
        suite(M, "mochitest-browser-media"),
        suite(M, "mochitest-browser-translations"),
        suite_v(M, "mochitest-chrome", &["1proc"]),
        suite(M, "mochitest-chrome-gpu"),
        suite(M, "mochitest-devtools-chrome"),
        suite(M, "mochitest-media"),
        suite_v(M, "mochitest-plain", &["", "xorig"]),
        suite(M, "mochitest-plain-gpu"),
        suite(M, "mochitest-remote"),
        suite(M, "mochitest-webgl1-core"),
        suite(M, "mochitest-webgl1-ext"),
        suite(M, "mochitest-webgl2-core"),
        suite(M, "mochitest-webgl2-ext"),
        suite_v(
            R,
            "reftest",
            if debug {
                &["", "swr", "nogpu"]
            } else {
                &["", "nogpu"]
            },
        ),
        suite(T, "telemetry-tests-client"),
        suite(T, "test-verify"),
        suite(T, "xpcshell"),
    ];
    suites.extend(
        wpt_set(platform)
            .into_iter()
            .filter(|s| s.name != "web-platform-tests-aam"),
    );
    suites
}

/// `android14-x86_64-tests` in `test-sets.yml`.
fn android_em_tests(platform: &str) -> Vec<Suite> {
    let nofis: &[&str] = &["", "nofis"];
    let mut suites = vec![
        suite(T, "cppunittest"),
        suite_v(R, "crashtest", &["nofis"]),
        suite(T, "geckoview-junit"),
        suite(T, "gtest"),
        suite(M, "mochitest-media"),
        suite_v(M, "mochitest-plain", nofis),
        suite(M, "mochitest-plain-gpu"),
        suite_v(R, "reftest", &["nofis"]),
        suite(T, "test-verify"),
        suite_v(T, "xpcshell", nofis),
        suite(W, "web-platform-tests-crashtest"),
        suite(W, "web-platform-tests-reftest"),
        suite(W, "web-platform-tests-wdspec"),
        suite(W, "web-platform-tests-webcodecs"),
        suite(W, "web-platform-tests-eme"),
    ];
    if platform.ends_with("/debug") {
        suites.push(suite_v(M, "mochitest-plain", &["aab-nofis"]));
    }
    suites.push(suite_v(W, "web-platform-tests", &["nofis"]));
    suites
}

/// The test platforms of `test-platforms.yml` that run on a push to an
/// integration tree, with their test sets.
fn test_platforms() -> Vec<TestPlatform> {
    let mut platforms = Vec::new();
    for (name, build) in [
        ("linux2404-64/opt", "linux64/opt"),
        ("linux2404-64/debug", "linux64/debug"),
        ("linux2404-64-shippable/opt", "linux64-shippable/opt"),
        ("linux2404-64-asan/opt", "linux64-asan/opt"),
        ("linux2404-64-tsan/opt", "linux64-tsan/opt"),
    ] {
        let mut suites = linux_tests(name);
        suites.extend(wpt_set(name));
        if !name.contains("san") {
            suites.extend(webgpu_set());
        }
        if name == "linux2404-64/opt" || name == "linux2404-64/debug" {
            suites.push(suite(W, "web-platform-tests-backlog"));
            suites.push(suite(W, "web-platform-tests-reftest-backlog"));
        }
        if name == "linux2404-64/opt" {
            suites.extend(talos_set());
        }
        if name == "linux2404-64-shippable/opt" {
            suites.extend(awsy_set());
            suites.extend(talos_set());
            suites.extend(talos_profiling_set());
            suites.extend(browsertime_set());
        }
        platforms.push(TestPlatform {
            name,
            build,
            suites,
        });
    }
    platforms.push(TestPlatform {
        name: "linux1804-64-qr/opt",
        build: "linux64/opt",
        suites: talos_set(),
    });
    let mut talos = talos_set();
    talos.extend(talos_profiling_set());
    platforms.push(TestPlatform {
        name: "linux1804-64-shippable-qr/opt",
        build: "linux64-shippable/opt",
        suites: talos,
    });
    for (name, build) in [
        ("windows11-64-25h2/opt", "win64/opt"),
        ("windows11-64-25h2/debug", "win64/debug"),
        ("windows11-64-25h2-shippable/opt", "win64-shippable/opt"),
        ("windows11-64-25h2-asan/opt", "win64-asan/opt"),
    ] {
        let mut suites = windows11_tests(name);
        if !name.contains("asan") {
            suites.extend(wpt_set(name));
        }
        if name == "windows11-64-25h2/opt" || name == "windows11-64-25h2/debug" {
            suites.extend(webgpu_set());
        }
        if name.ends_with("/opt") && !name.contains("asan") {
            suites.extend(awsy_set());
            suites.push(suite(T, "talos-xperf"));
        }
        platforms.push(TestPlatform {
            name,
            build,
            suites,
        });
    }
    for (name, build) in [
        ("windows11-64-24h2/opt", "win64/opt"),
        ("windows11-64-24h2/debug", "win64/debug"),
        ("windows11-64-24h2-shippable/opt", "win64-shippable/opt"),
        ("windows11-64-24h2-asan/opt", "win64-asan/opt"),
    ] {
        let swr: &[&str] = if name.contains("asan") {
            &["", "swr"]
        } else {
            &[""]
        };
        let mut suites = vec![
            suite_v(R, "crashtest", swr),
            suite(R, "jsreftest"),
            suite_v(R, "reftest", swr),
        ];
        if name == "windows11-64-24h2/opt" || name == "windows11-64-24h2-shippable/opt" {
            // `windows-talos`, `windows-talos-webgl`, `browsertime`.
            suites.extend(talos_set().into_iter().filter(|s| s.name != "talos-g3"));
            suites.extend(browsertime_set());
        }
        if name == "windows11-64-24h2-shippable/opt" {
            suites.extend(talos_profiling_set());
        }
        platforms.push(TestPlatform {
            name,
            build,
            suites,
        });
    }
    for (name, build) in [
        ("windows11-32-25h2/opt", "win32/opt"),
        ("windows11-32-25h2/debug", "win32/debug"),
        ("windows11-32-25h2-shippable/opt", "win32-shippable/opt"),
    ] {
        platforms.push(TestPlatform {
            name,
            build,
            suites: windows32_tests(),
        });
    }
    for (name, build) in [
        ("windows11-aarch64-25h2/opt", "win64-aarch64/opt"),
        ("windows11-aarch64-25h2/debug", "win64-aarch64/debug"),
        (
            "windows11-aarch64-25h2-shippable/opt",
            "win64-aarch64-shippable/opt",
        ),
    ] {
        platforms.push(TestPlatform {
            name,
            build,
            suites: vec![suite(T, "cppunittest")],
        });
    }
    for (name, build) in [
        ("macosx1500-aarch64/opt", "macosx64-aarch64/opt"),
        ("macosx1500-aarch64/debug", "macosx64-aarch64/debug"),
        ("macosx1500-aarch64-shippable/opt", "macosx64-shippable/opt"),
    ] {
        let mut suites = mac_aarch64_tests(name);
        if name == "macosx1500-aarch64-shippable/opt" {
            suites.push(suite_v(M, "mochitest-browser-chrome", &["", "vt"]));
            suites.push(suite(W, "web-platform-tests-backlog"));
        }
        platforms.push(TestPlatform {
            name,
            build,
            suites,
        });
    }
    for (name, build) in [
        ("macosx1470-64/opt", "macosx64/opt"),
        ("macosx1470-64/debug", "macosx64/debug"),
        ("macosx1470-64-shippable/opt", "macosx64-shippable/opt"),
    ] {
        let mut suites = vec![suite(T, "cppunittest"), suite(T, "gtest")];
        suites.extend(webgpu_set());
        if name == "macosx1470-64-shippable/opt" {
            suites.extend(awsy_set());
            suites.extend(talos_set().into_iter().filter(|s| s.name != "talos-g3"));
            suites.extend(talos_profiling_set());
            suites.extend(browsertime_set().into_iter().take(10));
        }
        platforms.push(TestPlatform {
            name,
            build,
            suites,
        });
    }
    for (name, build) in [
        ("windows10-64-2009-qr/opt", "win64/opt"),
        ("windows10-64-2009-qr/debug", "win64/debug"),
        ("windows10-64-2009-shippable-qr/opt", "win64-shippable/opt"),
    ] {
        // `windows10-2009-tests`.
        platforms.push(TestPlatform {
            name,
            build,
            suites: vec![
                suite(T, "cppunittest"),
                suite(T, "gtest"),
                suite_v(M, "mochitest-chrome", &["1proc"]),
                suite(M, "mochitest-chrome-gpu"),
                suite(M, "mochitest-plain"),
                suite(M, "mochitest-plain-gpu"),
                suite(T, "xpcshell"),
            ],
        });
    }
    for (name, build) in [
        (
            "windows11-64-25h2-mingwclang/debug",
            "win64-mingwclang/debug",
        ),
        ("windows11-64-25h2-mingwclang/opt", "win64-mingwclang/opt"),
        (
            "windows11-32-25h2-mingwclang/debug",
            "win32-mingwclang/debug",
        ),
        ("windows11-32-25h2-mingwclang/opt", "win32-mingwclang/opt"),
    ] {
        // `mingwclang-tests-debug`, `mingwclang-win32-tests-debug`,
        // `mingwclang-tests-opt`.
        let mut suites = vec![
            suite(T, "cppunittest"),
            suite(M, "mochitest-chrome-gpu"),
            suite(M, "mochitest-plain-gpu"),
        ];
        if name.ends_with("/debug") {
            suites.extend([
                suite(T, "firefox-ui-functional"),
                suite_v(M, "mochitest-a11y", &["1proc"]),
                suite(M, "mochitest-webgl1-core"),
                suite(M, "mochitest-webgl1-ext"),
                suite(M, "mochitest-webgl2-core"),
                suite(M, "mochitest-webgl2-ext"),
                suite(T, "telemetry-tests-client"),
            ]);
            if name.starts_with("windows11-64") {
                suites.push(suite(R, "reftest"));
            }
        }
        platforms.push(TestPlatform {
            name,
            build,
            suites,
        });
    }
    for (name, build) in [
        ("macosx1500-aarch64-vms/opt", "macosx64-aarch64/opt"),
        ("macosx1500-aarch64-vms/debug", "macosx64-aarch64/debug"),
        (
            "macosx1500-aarch64-vms-shippable/opt",
            "macosx64-shippable/opt",
        ),
    ] {
        // `macosx1500-aarch64-vms-tests`, less what the kinds keep off
        // `macosx1500-aarch64-vms/debug`.
        let debug = name.ends_with("/debug");
        let mut suites = vec![
            suite(T, "cppunittest"),
            suite(R, "crashtest"),
            suite(T, "jittest"),
            suite(T, "marionette-integration"),
            suite(T, "telemetry-tests-client"),
            suite(T, "xpcshell"),
        ];
        if !debug {
            suites.extend([
                suite(R, "jsreftest"),
                suite(T, "marionette-unittest"),
                suite_v(M, "mochitest-chrome", &["1proc"]),
                suite(M, "mochitest-plain"),
                suite(M, "mochitest-remote"),
            ]);
        }
        platforms.push(TestPlatform {
            name,
            build,
            suites,
        });
    }
    for (name, build) in [
        ("macosx1015-64-qr/opt", "macosx64/opt"),
        ("macosx1015-64-qr/debug", "macosx64/debug"),
        ("macosx1015-64-shippable-qr/opt", "macosx64-shippable/opt"),
    ] {
        // `macosx1015-64-qr-tests`.
        platforms.push(TestPlatform {
            name,
            build,
            suites: vec![
                suite(T, "cppunittest"),
                suite(R, "crashtest"),
                suite(T, "jittest"),
                suite_v(M, "mochitest-browser-chrome", &["", "vt"]),
                suite(M, "mochitest-media"),
                suite(M, "mochitest-webgl1-core"),
                suite(M, "mochitest-webgl1-ext"),
                suite(M, "mochitest-webgl2-core"),
                suite(M, "mochitest-webgl2-ext"),
                suite(T, "xpcshell"),
            ],
        });
    }
    for (name, build) in [
        ("android-em-14-x86_64/opt", "android-x86_64/opt"),
        ("android-em-14-x86_64/debug", "android-x86_64/debug"),
        (
            "android-em-14-x86_64-shippable/opt",
            "android-x86_64-shippable/opt",
        ),
    ] {
        platforms.push(TestPlatform {
            name,
            build,
            suites: android_em_tests(name),
        });
    }
    for (name, build) in [
        ("android-hw-a55-14-0-aarch64/opt", "android-aarch64/opt"),
        ("android-hw-a55-14-0-aarch64/debug", "android-aarch64/debug"),
    ] {
        // `android-hw-aarch64` and the jittest sets.
        platforms.push(TestPlatform {
            name,
            build,
            suites: vec![
                suite(T, "jittest"),
                suite_v(R, "crashtest-qr", &["nofis"]),
                suite_v(R, "reftest-qr", &["nofis"]),
                suite(M, "mochitest-media"),
                suite(M, "mochitest-webgl1-core"),
                suite(M, "mochitest-webgl1-ext"),
                suite(M, "mochitest-webgl2-core"),
            ],
        });
    }
    platforms.push(TestPlatform {
        name: "android-hw-a55-14-0-aarch64-shippable/opt",
        build: "android-aarch64-shippable/opt",
        suites: vec![
            suite(T, "jittest"),
            suite_v(R, "crashtest-qr", &["nofis"]),
            suite_v(R, "reftest-qr", &["nofis"]),
            suite(M, "mochitest-media"),
            suite(M, "mochitest-webgl1-core"),
            suite(M, "mochitest-webgl1-ext"),
            suite(M, "mochitest-webgl2-core"),
            suite(BT, "browsertime-benchmark-speedometer3-mobile-geckoview"),
            suite(BT, "browsertime-benchmark-speedometer3-mobile-fenix"),
            suite(BT, "browsertime-tp6m-essential-geckoview-amazon"),
            suite(BT, "browsertime-tp6m-essential-fenix-amazon"),
            suite(BT, "browsertime-tp6m-essential-fenix-google"),
            suite(BT, "browsertime-tp6m-essential-fenix-youtube"),
        ],
    });
    platforms
}

/// The number of chunks of `suite` (with `variant`) on `platform`: the
/// `chunks` and `default-chunks` tables of the kinds' yml where they were
/// read, else 1 or a documented approximation.
fn chunks(suite: &str, variant: &str, platform: &str) -> u32 {
    let p = platform;
    let debug = p.ends_with("/debug");
    let linux = p.starts_with("linux");
    let windows = p.starts_with("windows");
    let mac = p.starts_with("macosx");
    let android = p.starts_with("android");
    let asan = p.contains("-asan");
    let tsan = p.contains("-tsan");
    match suite {
        "mochitest-plain" if variant == "standalone" => 20,
        "mochitest-plain" => match () {
            _ if android && debug => 10,
            _ if linux && debug => 16,
            _ if tsan => 20,
            _ if asan => 10,
            _ if linux => 8,
            _ if windows && debug => 8,
            _ => 5,
        },
        "mochitest-browser-chrome" => match variant {
            "msix" if debug => 16,
            "msix" => 7,
            "standalone" if windows && debug => 60,
            "standalone" => 40,
            _ => match () {
                _ if linux && debug => 16,
                _ if linux && asan => 20,
                _ if tsan => 32,
                _ if windows && asan => 20,
                _ if mac && !debug => 10,
                _ if p.starts_with("windows11") && !debug => 10,
                _ if debug => 12,
                _ => 8,
            },
        },
        "mochitest-chrome" if variant == "standalone" => 10,
        "mochitest-chrome" if tsan => 6,
        "mochitest-chrome" => 3,
        "mochitest-devtools-chrome" => match variant {
            "standalone" if windows && debug => 32,
            "standalone" if linux && debug => 20,
            "standalone" => 16,
            _ => match () {
                _ if linux && debug => 14,
                _ if mac && debug => 8,
                _ if windows && debug => 8,
                _ if asan => 8,
                _ if tsan => 16,
                _ => 5,
            },
        },
        "mochitest-browser-a11y" if asan || tsan => 2,
        "xpcshell" => match () {
            _ if asan => 4,
            _ if tsan => 10,
            _ if p.starts_with("android-em-14") && debug => 16,
            _ if p.starts_with("android-em-14") => 8,
            _ if mac => 2,
            _ if p.starts_with("linux2404-64") && !debug => 2,
            _ => 4,
        },
        "web-platform-tests" if variant == "pb" => chunks(suite, "", platform).div_ceil(3),
        "web-platform-tests" => match () {
            _ if android && debug => 32,
            _ if android => 24,
            _ if tsan => 32,
            _ if linux && asan => 22,
            _ if linux && debug => 16,
            _ if mac && debug => 18,
            _ if windows && p.contains("-32") && !debug => 12,
            _ if windows && debug => 16,
            _ => 10,
        },
        "web-platform-tests-reftest" => match () {
            _ if android && debug => 16,
            _ if android => 8,
            _ if tsan => 16,
            _ if p.starts_with("linux2404-64") => 6,
            _ if mac && debug => 6,
            _ if mac => 3,
            _ if windows && debug => 5,
            _ => 4,
        },
        "web-platform-tests-webgpu" => 14,
        "web-platform-tests-backlog" | "web-platform-tests-reftest-backlog" => 2,
        "reftest" => match () {
            _ if android => 6,
            _ if p.starts_with("linux2404-64/opt") || p.starts_with("linux2404-64-shippable") => 5,
            _ if tsan => 16,
            _ if mac && p.contains("shippable") => 3,
            _ if mac && debug => 6,
            _ if windows && p.contains("-32") && debug => 6,
            _ if windows && debug => 4,
            _ if windows && asan => 4,
            _ if windows => 3,
            _ => 8,
        },
        "reftest-qr" => 2,
        "crashtest" if tsan => 4,
        "jsreftest" => match () {
            _ if windows && asan => 6,
            _ if windows && debug => 4,
            _ if windows => 2,
            _ if p == "linux2404-64/opt" => 4,
            _ if linux && debug => 5,
            _ if tsan => 8,
            _ if mac && !debug => 2,
            _ => 3,
        },
        // Approximations: these suites' chunks were not read.
        "web-platform-tests-wdspec" | "web-platform-tests-canvas" => 2,
        "mochitest-media" => 2,
        "geckoview-junit" => 3,
        "jittest" if debug => 3,
        _ => 1,
    }
}

/// Labels of Android tests carry the mobile app (`get_mobile_project`).
fn test_name(platform: &str, suite: &str, variant: &str, chunk: u32, total: u32) -> String {
    let mut name = String::from(suite);
    if platform.starts_with("android")
        && !suite.starts_with("browsertime")
        && !suite.contains("geckoview")
    {
        name = format!("geckoview-{name}");
    }
    if !variant.is_empty() {
        name.push('-');
        name.push_str(variant);
    }
    if total > 1 {
        name.push_str(&format!("-{chunk}"));
    }
    name
}

/// The `test-variant` tag for a label suffix (`variants.yml`).
fn variant_name(suffix: &str) -> Option<&'static str> {
    Some(match suffix {
        "" => return None,
        "swr" => "webrender-sw",
        "swr-a11y-checks" => "webrender-sw+a11y-checks",
        "swr-1proc" => "webrender-sw+1proc",
        "a11y-checks" => "a11y-checks",
        "1proc" => "1proc",
        "xorig" => "xorigin",
        "condprof" => "conditioned_profile",
        "standalone" => "standalone",
        "http3" => "http3",
        "msix" => "msix",
        "wmfme" => "wmf-media-engine",
        "nofis" => "no-fission",
        "aab-nofis" => "aab+no-fission",
        "vt" => "vertical-tabs",
        "nogpu" => "no-gpu-process",
        "s" => "draw-snapshot",
        "http2" => "http2",
        "pb" => "privatebrowsing",
        _ => return None,
    })
}

fn test_worker(platform: &str, kind: &str, suite: &str) -> Worker {
    match () {
        _ if platform.starts_with("linux1804") => T_LINUX_TALOS,
        _ if platform.starts_with("linux") && suite.starts_with("talos") => T_LINUX_TALOS_2404,
        _ if platform.starts_with("windows") && suite.starts_with("talos") => T_WIN_HW,
        _ if platform.starts_with("android-hw") => T_BITBAR,
        _ if platform.starts_with("android-em") => T_LINUX_KVM,
        _ if platform.starts_with("linux") => T_LINUX,
        _ if platform.starts_with("macosx1470") => T_MAC_1400,
        _ if platform.starts_with("macosx1015") => T_MAC_1015,
        _ if platform.contains("-vms") => T_MAC_VMS,
        _ if platform.starts_with("macosx") => T_MAC,
        _ if platform.starts_with("windows11-aarch64") => T_WIN_A64,
        _ if platform.starts_with("windows10") && suite.contains("gpu") => T_WIN10_GPU,
        _ if platform.starts_with("windows10") => T_WIN10,
        _ if kind == R || suite.contains("gpu") || suite.contains("webgl") => T_WIN_GPU,
        _ if platform.starts_with("windows11-64-24h2") => T_WIN_24H2,
        _ => T_WIN,
    }
}

fn test_minutes(kind: &str, suite: &str, platform: &str) -> (i64, i64) {
    let slow = platform.ends_with("/debug") || platform.contains("san/");
    let (lo, hi) = match kind {
        "browsertime" => (15, 50),
        _ if suite.starts_with("talos") || suite.starts_with("awsy") => (10, 30),
        "web-platform-tests" => (20, 50),
        "reftest" => (10, 30),
        _ if suite.starts_with("mochitest") => (12, 40),
        _ if suite.starts_with("xpcshell") => (10, 30),
        _ => (5, 20),
    };
    if slow {
        (lo + 5, hi + 20)
    } else {
        (lo, hi)
    }
}

fn split_label(label: &str) -> (String, String) {
    let (platform, build_type) = label.split_once('/').unwrap_or((label, "opt"));
    (platform.to_string(), build_type.to_string())
}

fn build_index_name(platform: &str, build_type: &str) -> (String, bool) {
    match platform.strip_suffix("-shippable") {
        Some(base) => (format!("{base}-{build_type}"), true),
        None => (format!("{platform}-{build_type}"), false),
    }
}

/// The full graph of a push to `tree`: the decision task first, then each
/// task after the task it waits for. Each kind family adds its tasks in
/// turn; a task names what it waits for by its position in the graph.
pub(crate) fn full_graph(tree: &Tree) -> Vec<Spec> {
    let signers = Signers::for_tree(tree);
    let mut specs = vec![decision_task()];
    push_cached_tasks(&mut specs);
    let build_index = push_builds(&mut specs, &signers);
    push_msix_signing(&mut specs, &build_index, &signers);
    push_artifact_builds(&mut specs);
    push_spidermonkey(&mut specs);
    push_lints(&mut specs);
    push_python_tests(&mut specs);
    push_tests(&mut specs, &build_index);
    specs
}

/// Where each build (`<platform>/<build type>`) is in the graph.
type BuildIndex = std::collections::BTreeMap<String, usize>;

/// The signing workers of a tree: production trees sign with the
/// production keys, the others with the staging ones.
struct Signers {
    signing: Worker,
    mac_signing: Worker,
}

impl Signers {
    fn for_tree(tree: &Tree) -> Signers {
        if tree.production {
            Signers {
                signing: SIGNING_PRODUCTION,
                mac_signing: MAC_SIGNING_PRODUCTION,
            }
        } else {
            Signers {
                signing: SIGNING_STAGING,
                mac_signing: MAC_SIGNING_STAGING,
            }
        }
    }
}

/// A task of no platform, not indexed, not retriggered: the fields every
/// family sets, the rest left for the family to override.
fn plain(
    kind: &'static str,
    label: String,
    job_kind: JobKind,
    worker: Worker,
    family: Family,
    minutes: (i64, i64),
    depends_on: Option<usize>,
) -> Spec {
    Spec {
        kind,
        label,
        job_kind,
        platform: None,
        build_type: None,
        worker,
        family,
        minutes,
        depends_on,
        extra_tags: Vec::new(),
        index: Index::None,
        retrigger: false,
    }
}

/// The decision task: created by the hook, not by the taskgraph.
fn decision_task() -> Spec {
    plain(
        "decision-task",
        "Gecko Decision Task".to_string(),
        JobKind::Other,
        DECISION,
        Family::Decision,
        (8, 15),
        None,
    )
}

/// The docker images a push rebuilds.
const DOCKER_IMAGES: [&str; 4] = [
    "ubuntu2404-test",
    "debian12-amd64-build",
    "lint",
    "decision",
];

/// The toolchains a push rebuilds.
const TOOLCHAINS: [&str; 8] = [
    "linux64-clang",
    "linux64-rust",
    "linux64-cbindgen",
    "linux64-node",
    "linux64-minidump-stackwalk",
    "linux64-fix-stacks",
    "macosx64-aarch64-fix-stacks",
    "win32-minidump-stackwalk",
];

/// The fetches a push runs again.
const FETCHES: [&str; 3] = ["win64-ffmpeg-7.1", "upx-3.95-win", "ort.jsep.wasm"];

/// docker-image, toolchain, fetch: cached by digest and only run when
/// their inputs change, so a push runs a few of them.
fn push_cached_tasks(specs: &mut Vec<Spec>) {
    let cached = |cache_type: &'static str, name: &str, spec: Spec| Spec {
        index: Index::Cached {
            cache_type,
            name: name.to_string(),
        },
        ..spec
    };
    for name in DOCKER_IMAGES {
        specs.push(cached(
            "docker-images.v2",
            name,
            plain(
                "docker-image",
                format!("docker-image-{name}"),
                JobKind::Other,
                IMAGES,
                Family::Support,
                (4, 15),
                None,
            ),
        ));
    }
    for name in TOOLCHAINS {
        specs.push(cached(
            "toolchains.v3",
            name,
            plain(
                "toolchain",
                format!("toolchain-{name}"),
                JobKind::Build,
                B_LINUX,
                Family::Support,
                (5, 30),
                None,
            ),
        ));
    }
    for name in FETCHES {
        specs.push(cached(
            "content.v1",
            name,
            plain(
                "fetch",
                format!("fetch-{name}"),
                JobKind::Build,
                B_LINUX,
                Family::Support,
                (1, 5),
                None,
            ),
        ));
    }
}

/// Builds and the tasks that take their output; returns where each build
/// is.
fn push_builds(specs: &mut Vec<Spec>, signers: &Signers) -> BuildIndex {
    let mut build_index = BuildIndex::new();
    for b in build_platforms() {
        let build = push_build_platform(specs, &b, signers);
        build_index.insert(format!("{}/{}", b.platform, b.build_type), build);
    }
    build_index
}

/// One build platform's tasks: the profile-guided steps before its build,
/// the build, then signing, repackaging and symbols after it. Returns
/// where the build is.
fn push_build_platform(specs: &mut Vec<Spec>, b: &BuildPlatform, signers: &Signers) -> usize {
    let tasks = PlatformTasks {
        b,
        name: format!("{}/{}", b.platform, b.build_type),
    };
    let profile = b.pgo.then(|| push_profile_steps(specs, &tasks));
    let build = push_build(specs, &tasks, profile);
    push_after_build(specs, &tasks, build, signers);
    build
}

/// The tasks of one build platform, each labelled
/// `<kind>-<platform>/<build type>` and of the build job kind.
struct PlatformTasks<'b> {
    b: &'b BuildPlatform,
    /// `<platform>/<build type>`.
    name: String,
}

impl PlatformTasks<'_> {
    fn spec(
        &self,
        kind: &'static str,
        worker: Worker,
        family: Family,
        minutes: (i64, i64),
        depends_on: Option<usize>,
    ) -> Spec {
        Spec {
            platform: Some(self.b.platform.to_string()),
            build_type: Some(self.b.build_type.to_string()),
            ..plain(
                kind,
                format!("{kind}-{}", self.name),
                JobKind::Build,
                worker,
                family,
                minutes,
                depends_on,
            )
        }
    }
}

/// Profile-guided optimization: an instrumented build, then a run of it on
/// the platform's test machines that records the profile. Returns where
/// the profile is.
fn push_profile_steps(specs: &mut Vec<Spec>, tasks: &PlatformTasks<'_>) -> usize {
    specs.push(Spec {
        retrigger: true,
        ..tasks.spec("instrumented-build", B_LINUX, Family::Build, (25, 45), None)
    });
    let instrumented = specs.len() - 1;
    let platform = tasks.b.platform;
    let profile_worker = if platform.starts_with("win") {
        T_WIN
    } else if platform.starts_with("macosx") {
        T_MAC
    } else if platform.starts_with("android") {
        T_LINUX_KVM
    } else {
        T_LINUX
    };
    specs.push(tasks.spec(
        "generate-profile",
        profile_worker,
        Family::Build,
        (10, 20),
        Some(instrumented),
    ));
    specs.len() - 1
}

/// The build itself, indexed under its platform; returns where it is.
fn push_build(specs: &mut Vec<Spec>, tasks: &PlatformTasks<'_>, profile: Option<usize>) -> usize {
    let b = tasks.b;
    let (job_name, shippable) = build_index_name(b.platform, b.build_type);
    specs.push(Spec {
        index: Index::Build {
            job_name,
            shippable,
        },
        retrigger: true,
        ..tasks.spec(
            "build",
            if b.xlarge { B_LINUX_XL } else { B_LINUX },
            Family::Build,
            b.minutes,
            profile,
        )
    });
    specs.len() - 1
}

/// What takes the build's output, as the platform asks: signing, mac
/// signing, the installer repackaged (after mac signing on macOS) and
/// signed, the symbols uploaded.
fn push_after_build(
    specs: &mut Vec<Spec>,
    tasks: &PlatformTasks<'_>,
    build: usize,
    signers: &Signers,
) {
    let b = tasks.b;
    if b.signing {
        specs.push(tasks.spec(
            "build-signing",
            signers.signing,
            Family::Signing,
            (1, 6),
            Some(build),
        ));
    }
    let mut repackage_dep = build;
    if b.mac_signing {
        specs.push(tasks.spec(
            "build-mac-signing",
            signers.mac_signing,
            Family::Signing,
            (3, 12),
            Some(build),
        ));
        repackage_dep = specs.len() - 1;
    }
    if b.repackage {
        specs.push(tasks.spec(
            "repackage",
            B_LINUX,
            Family::Support,
            (2, 8),
            Some(repackage_dep),
        ));
        if b.repackage_signing {
            let repackage = specs.len() - 1;
            specs.push(tasks.spec(
                "repackage-signing",
                signers.signing,
                Family::Signing,
                (1, 6),
                Some(repackage),
            ));
        }
    }
    if b.symbols {
        specs.push(tasks.spec(
            "upload-symbols",
            B_LINUX,
            Family::Support,
            (3, 10),
            Some(build),
        ));
    }
}

/// The MSIX package signing of the win64 builds.
fn push_msix_signing(specs: &mut Vec<Spec>, build_index: &BuildIndex, signers: &Signers) {
    for build_type in ["opt", "debug"] {
        let label = format!("win64/{build_type}");
        let build = build_index[&label];
        specs.push(Spec {
            platform: Some("win64".to_string()),
            build_type: Some(build_type.to_string()),
            ..plain(
                "repackage-signing-msix",
                format!("repackage-signing-msix-{label}"),
                JobKind::Build,
                signers.signing,
                Family::Signing,
                (2, 8),
                Some(build),
            )
        });
    }
}

/// The platforms of the artifact builds, each built opt and debug.
const ARTIFACT_BUILDS: [&str; 3] = ["linux64-artifact", "win64-artifact", "macosx64-artifact"];

/// Artifact builds: they download a build's compiled parts, so they wait
/// for no task of the push.
fn push_artifact_builds(specs: &mut Vec<Spec>) {
    for platform in ARTIFACT_BUILDS {
        for build_type in ["opt", "debug"] {
            specs.push(Spec {
                platform: Some(platform.to_string()),
                build_type: Some(build_type.to_string()),
                ..plain(
                    "artifact-build",
                    format!("artifact-build-{platform}/{build_type}"),
                    JobKind::Build,
                    B_LINUX,
                    Family::Build,
                    (8, 15),
                    None,
                )
            });
        }
    }
}

/// Spidermonkey builds and their build types (`try.ridealong-builds` in
/// taskcluster/config.yml names them).
const SPIDERMONKEY: [(&str, &str); 16] = [
    ("sm-plain-linux64", "debug"),
    ("sm-plain-linux64", "opt"),
    ("sm-nojit-linux64", "opt"),
    ("sm-nonunified-linux64", "debug"),
    ("sm-arm-sim-linux32", "debug"),
    ("sm-arm64-sim-linux64", "debug"),
    ("sm-compacting-linux64", "debug"),
    ("sm-concurrent-linux64", "debug"),
    ("sm-rootanalysis-linux64", "debug"),
    ("sm-package-linux64", "opt"),
    ("sm-tsan-linux64", "opt"),
    ("sm-asan-linux64", "opt"),
    ("sm-msan-linux64", "opt"),
    ("sm-fuzzing-linux64", "opt"),
    ("sm-plain-win32", "debug"),
    ("sm-compacting-win32", "debug"),
];

/// The hazard analysis builds (all debug).
const HAZARD: [&str; 2] = ["linux64-haz", "linux64-shell-haz"];

/// Spidermonkey and hazard analysis builds.
fn push_spidermonkey(specs: &mut Vec<Spec>) {
    for (name, build_type) in SPIDERMONKEY {
        let platform = name.rsplit('-').next().unwrap_or(name);
        specs.push(Spec {
            platform: Some(platform.to_string()),
            build_type: Some(build_type.to_string()),
            retrigger: true,
            ..plain(
                "spidermonkey",
                format!("spidermonkey-{name}/{build_type}"),
                JobKind::Build,
                B_LINUX,
                Family::Build,
                (15, 45),
                None,
            )
        });
    }
    for name in HAZARD {
        specs.push(Spec {
            platform: Some("linux64".to_string()),
            build_type: Some("debug".to_string()),
            retrigger: true,
            ..plain(
                "hazard",
                format!("hazard-{name}/debug"),
                JobKind::Build,
                B_LINUX,
                Family::Build,
                (60, 120),
                None,
            )
        });
    }
}

/// The lints of source-test (`kinds/source-test/mozlint.yml`).
const LINTS: [&str; 19] = [
    "codespell",
    "rejected-words",
    "dot-mozilla-reference",
    "eslint",
    "stylelint",
    "typescript",
    "license",
    "lintpref",
    "node-licenses",
    "node-package-names",
    "mingw-cap",
    "updatebot",
    "mscom-init",
    "py-ruff-format",
    "py-ruff",
    "python-sites",
    "test-manifest",
    "review-context-toml",
    "wptlint-gecko",
];

/// The lints, one task each, on Linux.
fn push_lints(specs: &mut Vec<Spec>) {
    for name in LINTS {
        specs.push(plain(
            "source-test",
            format!("source-test-mozlint-{name}"),
            JobKind::Test,
            T_LINUX_AMD,
            Family::Lint,
            (2, 12),
            None,
        ));
    }
}

/// The python unit tests of source-test (`python.yml`) and their
/// platforms; none: one task, on Linux.
const PYTHON_TESTS: [(&str, &[&str]); 11] = [
    ("firefox-ci", &[]),
    ("mozharness", &[]),
    ("taskgraph-tests", &[]),
    ("mozrelease", &[]),
    (
        "fog",
        &["linux2404-64/opt", "macosx1470-64/opt", "windows11-64/opt"],
    ),
    (
        "mach",
        &["linux2404-64/opt", "macosx1470-64/opt", "windows11-64/opt"],
    ),
    (
        "mozbase",
        &["linux2404-64/opt", "macosx1470-64/opt", "windows11-64/opt"],
    ),
    (
        "mozlint",
        &["linux2404-64/opt", "macosx1470-64/opt", "windows11-64/opt"],
    ),
    ("mozterm", &["linux2404-64/opt", "windows11-64/opt"]),
    ("tryselect", &["linux2404-64/opt", "windows11-64/opt"]),
    (
        "mozperftest",
        &["linux2404-64/opt", "macosx1470-64/opt", "windows11-64/opt"],
    ),
];

/// The python unit tests, those with a platform list once per platform.
fn push_python_tests(specs: &mut Vec<Spec>) {
    for (name, platforms) in PYTHON_TESTS {
        if platforms.is_empty() {
            specs.push(plain(
                "source-test",
                format!("source-test-python-{name}"),
                JobKind::Test,
                T_LINUX_AMD,
                Family::Lint,
                (3, 15),
                None,
            ));
        }
        for platform in platforms {
            let worker = if platform.starts_with("macosx") {
                T_MAC_1400
            } else if platform.starts_with("windows") {
                T_WIN_SOURCE
            } else {
                T_LINUX_AMD
            };
            let (p, bt) = split_label(platform);
            specs.push(Spec {
                platform: Some(p),
                build_type: Some(bt),
                ..plain(
                    "source-test",
                    format!("source-test-python-{name}-{platform}"),
                    JobKind::Test,
                    worker,
                    Family::Lint,
                    (3, 15),
                    None,
                )
            });
        }
    }
}

/// Tests: one task per platform, suite, variant and chunk, each after its
/// build; a test platform whose build is not in the graph has none.
fn push_tests(specs: &mut Vec<Spec>, build_index: &BuildIndex) {
    for tp in test_platforms() {
        let Some(&build) = build_index.get(tp.build) else {
            continue;
        };
        let (platform, build_type) = split_label(tp.name);
        for s in &tp.suites {
            for variant in &s.variants {
                let total = chunks(s.name, variant, tp.name);
                for chunk in 1..=total {
                    let name = test_name(tp.name, s.name, variant, chunk, total);
                    let mut extra_tags = vec![
                        ("test-suite", s.name.to_string()),
                        ("test-platform", tp.name.to_string()),
                    ];
                    if let Some(v) = variant_name(variant) {
                        extra_tags.push(("test-variant", v.to_string()));
                    }
                    specs.push(Spec {
                        kind: s.kind,
                        label: format!("test-{}-{name}", tp.name),
                        job_kind: JobKind::Test,
                        platform: Some(platform.clone()),
                        build_type: Some(build_type.clone()),
                        worker: test_worker(tp.name, s.kind, s.name),
                        family: Family::Test,
                        minutes: test_minutes(s.kind, s.name, tp.name),
                        depends_on: Some(build),
                        extra_tags,
                        index: Index::None,
                        retrigger: true,
                    });
                }
            }
        }
    }
}

/// About `n` tasks of `full`, chosen the way an optimized push runs them:
/// the decision task, builds and the tasks around them stay (thinned
/// evenly only when `n` leaves no room for tests), tests are sampled, each
/// test kind in its share of the full graph, among the tests whose build
/// stayed. Returns indexes into `full`, in its order.
pub(crate) fn select(full: &[Spec], n: usize, rng: &mut Rng) -> Vec<usize> {
    let n = n.max(1);
    let (tests, others): (Vec<usize>, Vec<usize>) =
        (1..full.len()).partition(|&i| full[i].family == Family::Test);
    let mut keep = vec![false; full.len()];
    keep[0] = true;
    let budget = n.saturating_sub(1);

    // Non-test tasks: all of them when they take at most a quarter of the
    // push, else an even share of each kind.
    let other_budget = if others.len() * 4 <= budget {
        others.len()
    } else {
        budget / 4
    };
    for i in sample_by_kind(full, &others, other_budget, rng) {
        keep[i] = true;
    }
    // A kept task keeps what it waits for.
    for i in (1..full.len()).rev() {
        if keep[i] {
            let mut dep = full[i].depends_on;
            while let Some(d) = dep {
                keep[d] = true;
                dep = full[d].depends_on;
            }
        }
    }
    let kept_others = keep.iter().filter(|&&k| k).count();
    let test_budget = n.saturating_sub(kept_others);
    let candidates: Vec<usize> = tests
        .into_iter()
        .filter(|&i| full[i].depends_on.is_some_and(|d| keep[d]))
        .collect();
    for i in sample_by_kind(full, &candidates, test_budget, rng) {
        keep[i] = true;
    }
    (0..full.len()).filter(|&i| keep[i]).collect()
}

/// `budget` of `indexes`, each kind getting its share (at least one while
/// the budget lasts), chosen at random within the kind.
fn sample_by_kind(full: &[Spec], indexes: &[usize], budget: usize, rng: &mut Rng) -> Vec<usize> {
    if budget >= indexes.len() {
        return indexes.to_vec();
    }
    let mut kinds: Vec<&str> = Vec::new();
    for &i in indexes {
        if !kinds.contains(&full[i].kind) {
            kinds.push(full[i].kind);
        }
    }
    let total = indexes.len();
    let mut chosen = Vec::new();
    let mut left = budget;
    for (k, kind) in kinds.iter().enumerate() {
        let mut of_kind: Vec<usize> = indexes
            .iter()
            .copied()
            .filter(|&i| full[i].kind == *kind)
            .collect();
        let share = if k + 1 == kinds.len() {
            left
        } else {
            ((of_kind.len() * budget + total / 2) / total).max(usize::from(left > 0))
        };
        let share = share.min(left).min(of_kind.len());
        rng.shuffle(&mut of_kind);
        chosen.extend_from_slice(&of_kind[..share]);
        left -= share;
    }
    chosen.sort_unstable();
    chosen
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_full_graph_has_the_facts_of_the_config() {
        let full = full_graph(&Tree::new("autoland"));
        let labels: Vec<&str> = full.iter().map(|s| s.label.as_str()).collect();
        for label in [
            "Gecko Decision Task",
            "build-linux64/opt",
            "build-linux64-asan/opt",
            "build-win64-shippable/opt",
            "build-signing-linux64-shippable/opt",
            "build-signing-win64/opt",
            "repackage-macosx64-aarch64/debug",
            "repackage-signing-msix-win64/debug",
            "upload-symbols-win64-shippable/opt",
            "spidermonkey-sm-plain-linux64/debug",
            "hazard-linux64-haz/debug",
            "source-test-mozlint-eslint",
            "source-test-python-mozbase-linux2404-64/opt",
            "toolchain-linux64-clang",
            "fetch-win64-ffmpeg-7.1",
            "docker-image-debian12-amd64-build",
            "test-linux2404-64/debug-mochitest-browser-chrome-swr-16",
            "test-linux2404-64/opt-mochitest-plain-xorig-8",
            "test-windows11-64-25h2/opt-xpcshell-condprof-4",
            "test-windows11-64-24h2/debug-reftest-4",
            "test-android-em-14-x86_64/debug-geckoview-mochitest-plain-10",
            "test-linux1804-64-shippable-qr/opt-talos-g4",
            "test-macosx1500-aarch64/opt-web-platform-tests-10",
        ] {
            assert!(labels.contains(&label), "{label} is missing");
        }
        let mut seen = std::collections::BTreeSet::new();
        for spec in &full {
            assert!(seen.insert(&spec.label), "{} twice", spec.label);
            if let Some(dep) = spec.depends_on {
                assert!(dep < seen.len(), "{} waits for a later task", spec.label);
            }
        }
    }

    #[test]
    fn the_counts_the_crate_documentation_gives() {
        assert_eq!(test_platforms().len(), 46);
        assert_eq!(build_platforms().len(), 37);
        let full = full_graph(&Tree::new("autoland"));
        assert!((3000..=3100).contains(&full.len()), "{}", full.len());
    }

    #[test]
    fn selection_keeps_builds_and_thins_tests() {
        let full = full_graph(&Tree::new("autoland"));
        let mut rng = Rng::new(5);
        let picked = select(&full, 3000, &mut rng);
        assert!((2900..=3100).contains(&picked.len()), "{}", picked.len());
        let builds = picked.iter().filter(|&&i| full[i].kind == "build").count();
        let all_builds = full.iter().filter(|s| s.kind == "build").count();
        assert_eq!(builds, all_builds);
        for &i in &picked {
            if let Some(d) = full[i].depends_on {
                assert!(
                    picked.binary_search(&d).is_ok(),
                    "{} without its dependency",
                    full[i].label
                );
            }
        }
        let small = select(&full, 40, &mut rng);
        assert!((30..=60).contains(&small.len()), "{}", small.len());
        let everything = select(&full, 1_000_000, &mut rng);
        assert_eq!(everything.len(), full.len());
    }
}
