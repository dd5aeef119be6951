//! The vocabulary of platforms, operating systems and build tags.
//!
//! This is data, kept in one place so that a new platform or tag is a
//! one-line change. The buildbot tables follow the reference translator's
//! `messageparams.py`; order matters where the docs say so. The buildername
//! tables, from [`BUILDER_MACHINES`] on, follow buildbot's configuration
//! (mozilla-releng/build-buildbot-configs) and Treeherder's buildbot ETL
//! rules.

/// The build types, in the order the reference strips them from
/// `stage_platform`.
pub(crate) const BUILDTYPES: [&str; 3] = ["opt", "debug", "pgo"];

/// Each generic platform with the operating systems its tests run on.
///
/// The order is the reference's: the platform guess falls back to the
/// first OS found in a routing key, scanning in this order.
pub(crate) const PLATFORMS: &[(&str, &[&str])] = &[
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
pub(crate) const IGNORED_PLATFORMS: &[&str] = &[
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
pub(crate) const TAGS: &[&str] = &[
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
pub(crate) const REDUNDANT_TAGS: &[&str] = &["debug", "pgo", "opt", "repack"];

/// How an OS read from a test routing key becomes the OS of the record.
#[derive(Clone, Copy, Debug)]
pub(crate) enum OsConversion {
    /// Always this OS.
    Fixed(&'static str),
    /// Read from the OS X or WINNT version in the buildername
    /// ([`OS_BY_BUILDERNAME`]), `unknown` if none matches.
    FromBuildername,
}

/// OS names in routing keys that are not the OS the tests ran on.
pub(crate) const OS_CONVERSIONS: &[(&str, OsConversion)] = &[
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
pub(crate) const OS_BY_BUILDERNAME: &[(&str, &str)] = &[
    (r"OS\s*X\s*10.5", "leopard"),
    (r"OS\s*X\s*10.6", "snowleopard"),
    (r"OS\s*X\s*10.7", "lion"),
    (r"OS\s*X\s*10.8", "mountainlion"),
    (r"WINNT\s*5.2", "xp"),
];

/// The machine descriptions that start long buildernames
/// (`Rev3 WINNT 6.1 mozilla-central debug test mochitest-3`), with the
/// platform, the OS tests on it run on (`None` for build machines, and for
/// test machines whose name two slave classes shared), and the build type
/// the description itself implies.
///
/// The names and slave classes are buildbot's (`mozilla-tests/config.py`,
/// `mobile_config.py` and the `base_name`s of `mozilla/config.py` in
/// mozilla-releng/build-buildbot-configs); a platform variant that names a
/// machine of its own (`Ubuntu HW 12.04 x64 stylo`,
/// `Windows 7 32-bit stylo-disabled`) is listed whole. The generic platform
/// is the reference translator's where it has one for the variant (`linux64-asan`,
/// `linux64-mulet`), else the base platform: a DevEdition or Stylo test ran
/// a plain linux64 build.
pub(crate) const BUILDER_MACHINES: &[BuilderMachine] = &[
    // Linux builds
    machine("Linux", "linux", None),
    machine("Linux x86-64", "linux64", None),
    machine("Linux x86-64 Mulet", "linux64-mulet", None),
    machine("Linux Mulet x86-64", "linux64-mulet", None),
    machine("Linux x86-64 add-on-devel", "linux64", None),
    machine("Linux x86-64 Code Coverage", "linux64", None),
    // Treeherder's ETL tests spell it with an underscore.
    machine("Linux x86_64 Code Coverage", "linux64", None),
    machine("Linux QT", "linuxqt", None),
    machine("Linux RPM", "linux-rpm", None),
    machine("Linux RPM x86-64", "linux64-rpm", None),
    // Linux tests
    machine("Rev3 Fedora 12", "linux", Some("fedora")),
    machine("Rev3 Fedora 12x64", "linux64", Some("fedora64")),
    machine("Ubuntu 12.04", "linux", Some("ubuntu32")),
    machine("Ubuntu 12.04 x64", "linux64", Some("ubuntu64")),
    machine("Ubuntu VM 12.04", "linux", Some("ubuntu32_vm")),
    machine("Ubuntu HW 12.04", "linux", Some("ubuntu32_hw")),
    machine("Ubuntu VM 12.04 x64", "linux64", Some("ubuntu64_vm")),
    machine(
        "Ubuntu VM large 12.04 x64",
        "linux64",
        Some("ubuntu64_vm_lnx_large"),
    ),
    machine("Ubuntu HW 12.04 x64", "linux64", Some("ubuntu64_hw")),
    machine(
        "Ubuntu HW 12.04 x64 devedition",
        "linux64",
        Some("ubuntu64_hw_devedition"),
    ),
    machine(
        "Ubuntu HW 12.04 x64 DevEdition",
        "linux64",
        Some("ubuntu64_hw_devedition"),
    ),
    machine("Ubuntu HW 12.04 x64 qr", "linux64", Some("ubuntu64_hw_qr")),
    machine(
        "Ubuntu HW 12.04 x64 stylo",
        "linux64",
        Some("ubuntu64_hw_stylo"),
    ),
    machine(
        "Ubuntu HW 12.04 Stylo x64",
        "linux64",
        Some("ubuntu64_hw_stylo"),
    ),
    machine(
        "Ubuntu HW 12.04 x64 stylo-sequential",
        "linux64",
        Some("ubuntu64_hw_styloseq"),
    ),
    machine(
        "Ubuntu HW 12.04 x64 stylo sequential",
        "linux64",
        Some("ubuntu64_hw_styloseq"),
    ),
    machine(
        "Ubuntu ASAN VM 12.04 x64",
        "linux64-asan",
        Some("ubuntu64-asan_vm"),
    ),
    machine(
        "Ubuntu ASAN VM large 12.04 x64",
        "linux64-asan",
        Some("ubuntu64-asan_vm_lnx_large"),
    ),
    machine("Ubuntu TSAN VM 12.04 x64", "linux64", Some("ubuntu64_vm")),
    machine(
        "Ubuntu TSAN VM large 12.04 x64",
        "linux64",
        Some("ubuntu64_vm_lnx_large"),
    ),
    machine(
        "Ubuntu Code Coverage VM 12.04 x64",
        "linux64",
        Some("ubuntu64_vm"),
    ),
    machine(
        "Ubuntu Code Coverage VM large 12.04 x64",
        "linux64",
        Some("ubuntu64_vm_lnx_large"),
    ),
    machine(
        "Ubuntu VM 12.04 x64 Mulet",
        "linux64-mulet",
        Some("ubuntu64_vm-mulet"),
    ),
    // Windows builds
    machine("WINNT 5.2", "win32", Some("xp")),
    machine("WINNT 5.2 add-on-devel", "win32", None),
    machine("WINNT 6.1 x86-64", "win64", None),
    machine("WINNT 6.1 x86-64 add-on-devel", "win64", None),
    machine("Win32 Mulet", "win32-mulet", None),
    // Windows tests
    machine("Rev3 WINNT 5.1", "win32", Some("xp")),
    machine("Rev3 WINNT 6.1", "win32", Some("win7")),
    machine("WINNT 6.2", "win32", Some("win8")),
    machine("Windows XP 32-bit", "win32", Some("xp-ix")),
    machine("Windows 7 32-bit", "win32", Some("win7-ix")),
    machine(
        "Windows 7 32-bit DevEdition",
        "win32",
        Some("win7_ix_devedition"),
    ),
    machine(
        "Windows 7 32-bit stylo-disabled",
        "win32",
        Some("win7_ix_stylo_disabled"),
    ),
    machine(
        "Windows 7 32-bit stylo disabled",
        "win32",
        Some("win7_ix_stylo_disabled"),
    ),
    machine("Windows 7 VM 32-bit", "win32", Some("win7_vm")),
    machine(
        "Windows 7 VM 32-bit DevEdition",
        "win32",
        Some("win7_vm_devedition"),
    ),
    machine("Windows 7 VM-GFX 32-bit", "win32", Some("win7_vm_gfx")),
    machine(
        "Windows 7 VM-GFX 32-bit DevEdition",
        "win32",
        Some("win7_vm_gfx_devedition"),
    ),
    // No slave class of this name is left in buildbot-configs.
    machine("Windows 10 32-bit", "win32", None),
    machine("Windows 8 64-bit", "win64", Some("win8_64")),
    machine(
        "Windows 8 64-bit DevEdition",
        "win64",
        Some("win8_64_devedition"),
    ),
    machine("win8_64", "win64", Some("win8_64")),
    machine("win64_vm", "win64", Some("win64_vm")),
    machine("Windows 10 64-bit", "win64", Some("win10_64")),
    machine(
        "Windows 10 64-bit DevEdition",
        "win64",
        Some("win10_64_devedition"),
    ),
    machine(
        "Windows 10 64-bit stylo-disabled",
        "win64",
        Some("win10_64_stylo_disabled"),
    ),
    machine(
        "Windows 10 64-bit stylo disabled",
        "win64",
        Some("win10_64_stylo_disabled"),
    ),
    machine("Windows 10 64-bit asan", "win64", Some("win10_64_asan")),
    machine(
        "Windows 10 64-bit Code Coverage",
        "win64",
        Some("win10_64_ccov"),
    ),
    machine("Windows 10 VM 64-bit", "win64", Some("win10_vm")),
    machine("Windows 10 VM-GFX 64-bit", "win64", Some("win10_vm_gfx")),
    // OS X builds
    machine("OS X 10.7", "macosx64", Some("lion")),
    machine("OS X 10.7 64-bit", "macosx64", Some("lion")),
    // The base_name has two spaces: `OS X 10.7  add-on-devel %(branch)s`.
    machine("OS X 10.7  add-on-devel", "macosx64", None),
    machine("OS X Mulet", "macosx64-mulet", None),
    // OS X tests
    machine("OS X 10.6", "macosx64", Some("snowleopard")),
    machine("Rev4 MacOSX Leopard 10.5.8", "macosx", Some("leopard")),
    machine(
        "Rev4 MacOSX Snow Leopard 10.6",
        "macosx64",
        Some("snowleopard"),
    ),
    machine(
        "Rev4 MacOSX Mulet Snow Leopard 10.6",
        "macosx64-mulet",
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
    machine(
        "Rev7 MacOSX Yosemite 10.10.5 DevEdition",
        "macosx64",
        Some("yosemite_r7_devedition"),
    ),
    // Android builds
    machine("Android", "android", None),
    debug_machine("Android Debug", "android"),
    machine("Android 2.2", "android", None),
    debug_machine("Android 2.2 Debug", "android"),
    machine("Android 2.3", "android", None),
    debug_machine("Android 2.3 Debug", "android"),
    machine("Android Armv6", "android-armv6", None),
    machine("Android 2.2 Armv6", "android-armv6", None),
    machine("Android 2.3 Armv6", "android-armv6", None),
    machine("Android no-ionmonkey", "android-noion", None),
    machine("Android 2.2 no-ionmonkey", "android-noion", None),
    machine("Android XUL", "android-xul", None),
    machine("Android armv7 API 9", "android-api-9", None),
    machine("Android armv7 API 10+", "android-api-10", None),
    machine("Android armv7 API 11+", "android-api-11", None),
    machine("Android armv7 API 15+", "android-api-15", None),
    machine("Android armv7 API 16+", "android-api-16", None),
    machine("Android X86", "android-x86", None),
    machine("Android 4.2 x86", "android-x86", None),
    // Android tests. The emulators of one name ran on a `_mobile` and a
    // `_large` slave class, so their names do not say the OS.
    machine("Android Tegra 250", "android", Some("tegra_android")),
    machine("Android 2.2 Tegra", "android", Some("tegra_android")),
    machine(
        "Android Armv6 Tegra 250",
        "android-armv6",
        Some("tegra_android-armv6"),
    ),
    machine(
        "Android 2.2 Armv6 Tegra",
        "android-armv6",
        Some("tegra_android-armv6"),
    ),
    machine(
        "Android no-ionmonkey Tegra 250",
        "android-noion",
        Some("tegra_android-noion"),
    ),
    machine(
        "Android 2.2 no-ionmonkey Tegra",
        "android-noion",
        Some("tegra_android-noion"),
    ),
    machine(
        "Android XUL Tegra 250",
        "android-xul",
        Some("tegra_android-xul"),
    ),
    machine("Android 4.0 Panda", "android", Some("panda_android")),
    machine(
        "Android 4.0 armv7 API 10+",
        "android-api-10",
        Some("panda_android"),
    ),
    // buildbot-configs later kept this name for the pandas testing
    // android-api-15 builds; the name says API 11.
    machine(
        "Android 4.0 armv7 API 11+",
        "android-api-11",
        Some("panda_android"),
    ),
    machine(
        "Android 4.0 armv7 API 15+",
        "android-api-15",
        Some("panda_android"),
    ),
    machine(
        "Android 2.3 Emulator",
        "android-api-9",
        Some("ubuntu64_vm_mobile"),
    ),
    machine("Android 2.3 Armv6 Emulator", "android-armv6", None),
    machine("Android 2.3 Emulator Armv6", "android-armv6", None),
    machine("Android 4.3 Emulator", "android-api-11", None),
    machine("Android 4.3 armv7 API 11+", "android-api-11", None),
    machine("Android 4.3 armv7 API 15+", "android-api-15", None),
    // Named in Treeherder's ETL tests only; no slave class is known.
    machine("Android 4.4 armv7 API 11+", "android-api-11", None),
    machine("Android 4.4 armv7 API 15+", "android-api-15", None),
    machine(
        "Android 4.2 x86 Emulator",
        "android-x86",
        Some("android-x86"),
    ),
    machine("Android x86 Emulator", "android-x86", Some("android-x86")),
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

/// The last words of a build's name, after the tree and any
/// [`BUILD_VARIANTS`] (`Linux x86-64 mozilla-inbound debug asan build`),
/// with the build type the words themselves say. Each ends a builder that
/// builds: `periodic` is Thunderbird's periodic build, `valgrind` a build
/// run under valgrind.
pub(crate) const BUILD_ENDINGS: &[(&str, Option<&str>)] = &[
    ("build", None),
    ("pgo-build", Some("pgo")),
    ("nightly", None),
    ("non-unified", None),
    ("nonunified", None),
    ("periodic", None),
    ("valgrind", None),
];

/// What a variant between a build's tree and its ending changes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum VariantEffect {
    /// Nothing the parts say: the variant is not reported.
    Nothing,
    /// The build is a debug build (`leak test`, `debug`).
    Debug,
    /// The platform gains this suffix where the reference translator's
    /// platforms have the result (`linux64` + `-asan`), else stays the base
    /// platform.
    PlatformSuffix(&'static str),
}

/// The variants buildbot wrote between a build's tree and its ending, as
/// [`BUILDER_MACHINES`]' `base_name`s and Treeherder's ETL tests show them:
/// `Linux x86-64 mozilla-inbound leak test spidermonkey_tier_1-rootanalysis
/// build`. Matched whole words, ignoring ASCII case (`Debug ASan`); a name
/// ending in `_` matches any word it starts (`spidermonkey_info-warnaserr`).
pub(crate) const BUILD_VARIANTS: &[(&str, VariantEffect)] = &[
    ("leak test", VariantEffect::Debug),
    ("debug", VariantEffect::Debug),
    ("asan", VariantEffect::PlatformSuffix("-asan")),
    ("static analysis", VariantEffect::PlatformSuffix("-st-an")),
    ("tsan", VariantEffect::Nothing),
    ("add-on-devel", VariantEffect::Nothing),
    ("devedition", VariantEffect::Nothing),
    ("xulrunner", VariantEffect::Nothing),
    ("spidermonkey_", VariantEffect::Nothing),
];

/// Platforms and devices of B2G build names,
/// `b2g_<tree>_<platform>[_eng][-debug]` and an ending such as `_dep`:
/// the platform keys of buildbot-configs'
/// `mozilla/b2g_config.py`, without their `_eng` and `-debug` variants.
pub(crate) const B2G_BUILD_PLATFORMS: &[&str] = &[
    "ics_armv7a_gecko",
    "gb_armv7a_gecko",
    "macosx64_gecko",
    "linux32_gecko",
    "linux64_gecko",
    "win32_gecko",
    "emulator-ics",
    "emulator-kk",
    "emulator-jb",
    "emulator-l",
    "emulator",
    "buri-limited-memory",
    "dolphin-512",
    "dolphin",
    "flame-kk",
    "flame",
    "hamachi",
    "helix",
    "inari",
    "leo",
    "nexus-4",
    "nexus-5-l",
    "otoro",
    "panda",
    "tarako",
    "unagi",
    "wasabi",
];

/// How B2G build names end: all of them build.
pub(crate) const B2G_BUILD_ENDINGS: &[&str] =
    &[" build", "_dep", "_nightly", "_periodic", "_nonunified"];

/// The test machines of jetpack builders, `jetpack-<tree>-<os>-<buildtype>`,
/// with their platform: the OS patterns of Treeherder's buildbot ETL rules
/// (`treeherder/etl/buildbot.py` before 2016) and the slave classes they
/// stood for.
pub(crate) const JETPACK_OSES: &[(&str, &str)] = &[
    ("fedora", "linux"),
    ("fedora64", "linux64"),
    ("ubuntu32", "linux"),
    ("ubuntu32_vm", "linux"),
    ("ubuntu64", "linux64"),
    ("ubuntu64_vm", "linux64"),
    ("ubuntu64-asan_vm", "linux64-asan"),
    ("leopard", "macosx"),
    ("snowleopard", "macosx64"),
    ("lion", "macosx64"),
    ("mountainlion", "macosx64"),
    ("yosemite", "macosx64"),
    ("xp", "win32"),
    ("xp-ix", "win32"),
    ("win7", "win32"),
    ("win7-ix", "win32"),
    ("win8", "win32"),
    ("w764", "win64"),
    ("win8_64", "win64"),
];

/// Products named in release builders, `release-<tree>-<product>_<step>`
/// (the `productName`s of buildbot-configs' release configs).
pub(crate) const RELEASE_PRODUCTS: &[&str] = &["firefox", "fennec", "thunderbird"];

/// Platforms named in release builders, `release-<tree>-<platform>_<step>`
/// (the `enUSPlatforms` of buildbot-configs' release configs).
pub(crate) const RELEASE_PLATFORMS: &[&str] = &[
    "linux",
    "linux64",
    "macosx",
    "macosx64",
    "win32",
    "win64",
    "android",
    "android-armv6",
    "android-api-9",
    "android-api-11",
    "android-api-15",
    "android-x86",
    "android-xul",
];

/// A machine description in a long buildername.
#[derive(Clone, Copy, Debug)]
pub(crate) struct BuilderMachine {
    /// The words that start the buildername, e.g. `Rev3 WINNT 6.1`.
    pub(crate) name: &'static str,
    /// The generic platform.
    pub(crate) platform: &'static str,
    /// The OS tests run on; `None` for machines that only build.
    pub(crate) os: Option<&'static str>,
    /// The build type the description implies (`Android 2.2 Debug`).
    pub(crate) buildtype: Option<&'static str>,
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

const fn debug_machine(name: &'static str, platform: &'static str) -> BuilderMachine {
    BuilderMachine {
        name,
        platform,
        os: None,
        buildtype: Some("debug"),
    }
}

/// The operating systems the platform's tests run on, or `None` for a
/// platform outside the vocabulary.
pub(crate) fn platform_oses(platform: &str) -> Option<&'static [&'static str]> {
    PLATFORMS
        .iter()
        .find(|(name, _)| *name == platform)
        .map(|(_, oses)| *oses)
}

/// True for a platform in the vocabulary.
pub(crate) fn is_known_platform(platform: &str) -> bool {
    platform_oses(platform).is_some()
}

/// True for a platform whose messages are dropped.
pub(crate) fn is_ignored_platform(platform: &str) -> bool {
    IGNORED_PLATFORMS.contains(&platform)
}

/// True for a known build tag.
pub(crate) fn is_known_tag(tag: &str) -> bool {
    TAGS.contains(&tag)
}

/// The conversion for an OS read from a routing key, if it needs one.
pub(crate) fn os_conversion(os: &str) -> Option<OsConversion> {
    OS_CONVERSIONS
        .iter()
        .find(|(name, _)| *name == os)
        .map(|(_, conversion)| *conversion)
}

/// The machine a long buildername starts with, looked up exactly.
pub(crate) fn builder_machine(name: &str) -> Option<&'static BuilderMachine> {
    BUILDER_MACHINES.iter().find(|machine| machine.name == name)
}
