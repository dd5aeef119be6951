//! The vocabulary of platforms, operating systems and build tags.
//!
//! This is data, kept in one place so that a new platform or tag is a
//! one-line change. The buildbot tables follow the reference translator's
//! `messageparams.py`; order matters where the docs say so.

/// The build types, in the order the reference strips them from
/// `stage_platform`.
pub const BUILDTYPES: [&str; 3] = ["opt", "debug", "pgo"];

/// Each generic platform with the operating systems its tests run on.
///
/// The order is the reference's: the platform guess falls back to the
/// first OS found in a routing key, scanning in this order.
pub const PLATFORMS: &[(&str, &[&str])] = &[
    ("emulator", &["emulator", "ubuntu64_vm-b2g-emulator"]),
    ("emulator-kk", &["emulator-kk"]),
    ("emulator-jb", &["emulator-jb"]),
    (
        "linux64-asan",
        &[
            "linux64-asan",
            "ubuntu64-asan_vm",
            "ubuntu64-asan_vm_lnx_large",
        ],
    ),
    ("linux32_gecko", &["linux32_gecko", "ubuntu32_vm-b2gdt"]),
    ("linux64_gecko", &["linux64_gecko", "ubuntu64_vm-b2gdt"]),
    ("linux64-rpm", &["fedora64"]),
    (
        "linux64",
        &[
            "fedora64",
            "ubuntu64",
            "ubuntu64_hw",
            "ubuntu64_vm",
            "ubuntu64_vm_lnx_large",
        ],
    ),
    ("linux64-mulet", &["linux64-mulet", "ubuntu64_vm-mulet"]),
    ("linuxqt", &["fedora"]),
    ("linux-rpm", &["fedora"]),
    (
        "linux",
        &["fedora", "linux", "ubuntu32", "ubuntu32_vm", "ubuntu32_hw"],
    ),
    (
        "win32",
        &[
            "xp",
            "xp_ix",
            "win7",
            "win8",
            "win7-ix",
            "xp-ix",
            "win7_ix",
            "win7_vm",
            "win7_vm_gfx",
        ],
    ),
    ("win32_gecko", &["win32_gecko"]),
    ("win32-mulet", &["win32-mulet"]),
    ("win64", &["w764", "win8_64"]),
    (
        "macosx64",
        &[
            "macosx64",
            "snowleopard",
            "leopard",
            "lion",
            "mountainlion",
            "yosemite",
        ],
    ),
    ("macosx64_gecko", &["macosx64_gecko", "mountainlion-b2gdt"]),
    ("macosx64-mulet", &["macosx64-mulet"]),
    ("macosx", &["macosx", "leopard"]),
    (
        "android-armv6",
        &["ubuntu64_vm_armv6_mobile", "ubuntu64_vm_armv6_large"],
    ),
    ("android-x86", &["android-x86", "ubuntu64_hw"]),
    (
        "android",
        &["panda_android", "ubuntu64_vm_mobile", "ubuntu64_vm_large"],
    ),
    (
        "android-api-9",
        &["ubuntu64_vm_mobile", "ubuntu64_vm_large"],
    ),
    ("android-api-10", &["panda_android"]),
    (
        "android-api-11",
        &[
            "panda_android",
            "ubuntu64_vm_armv7_large",
            "ubuntu64_vm_armv7_mobile",
        ],
    ),
    ("ics_armv7a_gecko", &["ubuntu64-b2g"]),
];

/// Platforms whose messages are dropped without error.
pub const IGNORED_PLATFORMS: &[&str] = &[
    "dolphin",
    "dolphin_eng",
    "dolphin-512",
    "emulator-l",
    "flame-kk",
    "flame-kk_eng",
    "linux64-b2g-haz",
    "linux64-st-an",
    "macosx64-st-an",
    "nexus-4",
    "nexus-4_eng",
    "nexus-5-l",
    "nexus-5-l_eng",
];

/// The build tags a build may carry. The empty tag is what a plain build
/// (`build.mozilla-central-linux.98.log_uploaded`) yields.
pub const TAGS: &[&str] = &[
    "",
    "build",
    "dep",
    "dtrace",
    "l10n",
    "nightly",
    "nomethodjit",
    "notracejit",
    "release",
    "shark",
    "spidermonkey",
    "valgrind",
    "warnaserr",
    "warnaserrdebug",
    "xulrunner",
    "arm",
    "compacting",
    "plain",
    "plaindebug",
    "rootanalysis",
    "sim",
];

/// Tags left out of a build's tags because other fields already say them.
pub const REDUNDANT_TAGS: &[&str] = &["debug", "pgo", "opt", "repack"];

/// How an OS read from a test routing key becomes the OS of the record.
#[derive(Clone, Copy, Debug)]
pub enum OsConversion {
    /// Always this OS.
    Fixed(&'static str),
    /// Read from the OS X or WINNT version in the buildername
    /// ([`OS_BY_BUILDERNAME`]), `unknown` if none matches.
    FromBuildername,
}

/// OS names in routing keys that are not the OS the tests ran on.
pub const OS_CONVERSIONS: &[(&str, OsConversion)] = &[
    ("leopard-o", OsConversion::Fixed("leopard")),
    ("yosemite_r7", OsConversion::Fixed("yosemite")),
    ("tegra_android-o", OsConversion::Fixed("tegra_android")),
    ("macosx", OsConversion::FromBuildername),
    ("macosx64", OsConversion::FromBuildername),
    ("win32", OsConversion::FromBuildername),
];

/// Case-insensitive patterns searched for in the buildername, first match
/// wins, for [`OsConversion::FromBuildername`]. As in the reference, the
/// `.` of the version matches any character.
pub const OS_BY_BUILDERNAME: &[(&str, &str)] = &[
    (r"OS\s*X\s*10.5", "leopard"),
    (r"OS\s*X\s*10.6", "snowleopard"),
    (r"OS\s*X\s*10.7", "lion"),
    (r"OS\s*X\s*10.8", "mountainlion"),
    (r"WINNT\s*5.2", "xp"),
];

/// The machine descriptions that start long buildernames
/// (`Rev3 WINNT 6.1 mozilla-central debug test mochitest-3`), with the
/// platform, the OS tests on it run on (`None` for build machines), and
/// the build type the description itself implies.
pub const BUILDER_MACHINES: &[BuilderMachine] = &[
    // Linux
    machine("Linux", "linux", None),
    machine("Linux x86-64", "linux64", None),
    machine("Linux x86-64 Mulet", "linux64-mulet", None),
    machine("Rev3 Fedora 12", "linux", Some("fedora")),
    machine("Rev3 Fedora 12x64", "linux64", Some("fedora64")),
    machine("Ubuntu VM 12.04", "linux", Some("ubuntu32_vm")),
    machine("Ubuntu HW 12.04", "linux", Some("ubuntu32_hw")),
    machine("Ubuntu VM 12.04 x64", "linux64", Some("ubuntu64_vm")),
    machine("Ubuntu HW 12.04 x64", "linux64", Some("ubuntu64_hw")),
    machine(
        "Ubuntu ASAN VM 12.04 x64",
        "linux64-asan",
        Some("ubuntu64-asan_vm"),
    ),
    machine(
        "Ubuntu VM 12.04 x64 Mulet",
        "linux64-mulet",
        Some("ubuntu64_vm-mulet"),
    ),
    // Windows
    machine("WINNT 5.2", "win32", Some("xp")),
    machine("WINNT 6.1 x86-64", "win64", None),
    machine("Rev3 WINNT 5.1", "win32", Some("xp")),
    machine("Rev3 WINNT 6.1", "win32", Some("win7")),
    machine("WINNT 6.2", "win32", Some("win8")),
    machine("Windows XP 32-bit", "win32", Some("xp-ix")),
    machine("Windows 7 32-bit", "win32", Some("win7-ix")),
    machine("Windows 8 64-bit", "win64", Some("win8_64")),
    // OS X
    machine("OS X 10.6", "macosx64", Some("snowleopard")),
    machine("OS X 10.7", "macosx64", Some("lion")),
    machine("OS X 10.7 64-bit", "macosx64", Some("lion")),
    machine("Rev4 MacOSX Leopard 10.5.8", "macosx", Some("leopard")),
    machine(
        "Rev4 MacOSX Snow Leopard 10.6",
        "macosx64",
        Some("snowleopard"),
    ),
    machine("Rev4 MacOSX Lion 10.7", "macosx64", Some("lion")),
    machine(
        "Rev5 MacOSX Mountain Lion 10.8",
        "macosx64",
        Some("mountainlion"),
    ),
    machine("Rev5 MacOSX Yosemite 10.10", "macosx64", Some("yosemite")),
    machine("Rev7 MacOSX Yosemite 10.10.5", "macosx64", Some("yosemite")),
    // Android
    machine("Android", "android", None),
    machine("Android 2.2", "android", None),
    BuilderMachine {
        name: "Android 2.2 Debug",
        platform: "android",
        os: None,
        buildtype: Some("debug"),
    },
    machine("Android armv7 API 9", "android-api-9", None),
    machine("Android armv7 API 11+", "android-api-11", None),
    machine("Android X86", "android-x86", None),
    machine("Android Tegra 250", "android", Some("tegra_android")),
    machine("Android 2.2 Tegra", "android", Some("tegra_android")),
    machine("Android 4.0 Panda", "android", Some("panda_android")),
    machine(
        "Android 2.3 Emulator",
        "android-api-9",
        Some("ubuntu64_vm_mobile"),
    ),
    machine(
        "Android 4.2 x86 Emulator",
        "android-x86",
        Some("android-x86"),
    ),
    // B2G
    machine("b2g_ics_armv7a_gecko_emulator", "ics_armv7a_gecko", None),
    machine(
        "b2g_emulator_vm",
        "emulator",
        Some("ubuntu64_vm-b2g-emulator"),
    ),
    machine("b2g_emulator-kk_vm", "emulator-kk", Some("emulator-kk")),
    machine("b2g_emulator-jb_vm", "emulator-jb", Some("emulator-jb")),
    machine(
        "b2g_ubuntu64_vm",
        "linux64_gecko",
        Some("ubuntu64_vm-b2gdt"),
    ),
    machine(
        "b2g_ubuntu32_vm",
        "linux32_gecko",
        Some("ubuntu32_vm-b2gdt"),
    ),
];

/// Platforms of B2G build names, `b2g_<tree>_<platform>[-debug] build`,
/// longest first so that `emulator-kk` wins over `emulator`.
pub const B2G_BUILD_PLATFORMS: &[&str] = &[
    "ics_armv7a_gecko",
    "macosx64_gecko",
    "linux32_gecko",
    "linux64_gecko",
    "win32_gecko",
    "emulator-kk",
    "emulator-jb",
    "emulator",
];

/// A machine description in a long buildername.
#[derive(Clone, Copy, Debug)]
pub struct BuilderMachine {
    /// The words that start the buildername, e.g. `Rev3 WINNT 6.1`.
    pub name: &'static str,
    /// The generic platform.
    pub platform: &'static str,
    /// The OS tests run on; `None` for machines that only build.
    pub os: Option<&'static str>,
    /// The build type the description implies (`Android 2.2 Debug`).
    pub buildtype: Option<&'static str>,
}

const fn machine(
    name: &'static str,
    platform: &'static str,
    os: Option<&'static str>,
) -> BuilderMachine {
    BuilderMachine {
        name,
        platform,
        os,
        buildtype: None,
    }
}

/// The operating systems the platform's tests run on, or `None` for a
/// platform outside the vocabulary.
pub fn platform_oses(platform: &str) -> Option<&'static [&'static str]> {
    PLATFORMS
        .iter()
        .find(|(name, _)| *name == platform)
        .map(|(_, oses)| *oses)
}

/// True for a platform in the vocabulary.
pub fn is_known_platform(platform: &str) -> bool {
    platform_oses(platform).is_some()
}

/// True for a platform whose messages are dropped.
pub fn is_ignored_platform(platform: &str) -> bool {
    IGNORED_PLATFORMS.contains(&platform)
}

/// True for a known build tag.
pub fn is_known_tag(tag: &str) -> bool {
    TAGS.contains(&tag)
}

/// The conversion for an OS read from a routing key, if it needs one.
pub fn os_conversion(os: &str) -> Option<OsConversion> {
    OS_CONVERSIONS
        .iter()
        .find(|(name, _)| *name == os)
        .map(|(_, conversion)| *conversion)
}

/// The machine a long buildername starts with, looked up exactly.
pub fn builder_machine(name: &str) -> Option<&'static BuilderMachine> {
    BUILDER_MACHINES.iter().find(|machine| machine.name == name)
}
