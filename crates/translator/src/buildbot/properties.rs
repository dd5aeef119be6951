//! The build properties the translator reads (`payload.build.properties`,
//! buildbot's `[name, value, source]` triples): their names, and their
//! values converted as the reference translator converted them.

use std::borrow::Cow;

use super::buildid::buildid_to_date;
use super::quote::quote_url;
use super::scalar::Scalar;
use crate::tables;
use crate::ErrorKind;

/// The properties the translator reads, each named once here; all others
/// are skipped unread.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum PropertyName {
    /// `buildnumber`: buildbot's number for this run of the builder, the
    /// record's `job_number`.
    JobNumber,
    Revision,
    Product,
    Version,
    Branch,
    Buildid,
    /// `build_number`: a release candidate's build number, the record's
    /// `build_number`.
    ReleaseBuildNumber,
    PreviousBuildid,
    Platform,
    Locale,
    Locales,
    PackageUrl,
    BuildUrl,
    FileUrl,
    LogUrl,
    EnRevision,
    ScriptRepoRevision,
    SymbolsUrl,
    TestsUrl,
    TestPackagesUrl,
    Buildername,
    Slavename,
    BlobberFiles,
    StagePlatform,
    CompleteMarUrl,
    CompleteMarHash,
}

impl PropertyName {
    /// Every property, for the lookup table.
    const ALL: [PropertyName; 26] = [
        PropertyName::JobNumber,
        PropertyName::Revision,
        PropertyName::Product,
        PropertyName::Version,
        PropertyName::Branch,
        PropertyName::Buildid,
        PropertyName::ReleaseBuildNumber,
        PropertyName::PreviousBuildid,
        PropertyName::Platform,
        PropertyName::Locale,
        PropertyName::Locales,
        PropertyName::PackageUrl,
        PropertyName::BuildUrl,
        PropertyName::FileUrl,
        PropertyName::LogUrl,
        PropertyName::EnRevision,
        PropertyName::ScriptRepoRevision,
        PropertyName::SymbolsUrl,
        PropertyName::TestsUrl,
        PropertyName::TestPackagesUrl,
        PropertyName::Buildername,
        PropertyName::Slavename,
        PropertyName::BlobberFiles,
        PropertyName::StagePlatform,
        PropertyName::CompleteMarUrl,
        PropertyName::CompleteMarHash,
    ];

    /// The property a name stands for, if the translator reads it.
    ///
    /// Most names in a message are of properties nobody reads, so a name
    /// is hashed (length, first and last byte) to the one candidate it
    /// could be, rather than compared with each.
    pub(super) fn parse(name: &[u8]) -> Option<PropertyName> {
        const fn slot(name: &[u8]) -> usize {
            (name.len() + name[0] as usize + 10 * name[name.len() - 1] as usize) % 64
        }
        const TABLE: [Option<(PropertyName, &[u8])>; 64] = {
            let mut table = [None; 64];
            let mut i = 0;
            while i < PropertyName::ALL.len() {
                let property = PropertyName::ALL[i];
                let slot = slot(property.as_str().as_bytes());
                assert!(table[slot].is_none(), "two property names share a slot");
                table[slot] = Some((property, property.as_str().as_bytes()));
                i += 1;
            }
            table
        };
        if name.is_empty() {
            return None;
        }
        match TABLE[slot(name)] {
            Some((property, known)) if known == name => Some(property),
            _ => None,
        }
    }

    /// The name as it appears in the message, for error messages.
    pub(super) const fn as_str(self) -> &'static str {
        match self {
            PropertyName::JobNumber => "buildnumber",
            PropertyName::Revision => "revision",
            PropertyName::Product => "product",
            PropertyName::Version => "version",
            PropertyName::Branch => "branch",
            PropertyName::Buildid => "buildid",
            PropertyName::ReleaseBuildNumber => "build_number",
            PropertyName::PreviousBuildid => "previous_buildid",
            PropertyName::Platform => "platform",
            PropertyName::Locale => "locale",
            PropertyName::Locales => "locales",
            PropertyName::PackageUrl => "packageUrl",
            PropertyName::BuildUrl => "build_url",
            PropertyName::FileUrl => "fileURL",
            PropertyName::LogUrl => "log_url",
            PropertyName::EnRevision => "en_revision",
            PropertyName::ScriptRepoRevision => "script_repo_revision",
            PropertyName::SymbolsUrl => "symbolsUrl",
            PropertyName::TestsUrl => "testsUrl",
            PropertyName::TestPackagesUrl => "testPackagesUrl",
            PropertyName::Buildername => "buildername",
            PropertyName::Slavename => "slavename",
            PropertyName::BlobberFiles => "blobber_files",
            PropertyName::StagePlatform => "stage_platform",
            PropertyName::CompleteMarUrl => "completeMarUrl",
            PropertyName::CompleteMarHash => "completeMarHash",
        }
    }
}

/// The properties the translator reads, as the reference's `builddata`,
/// filled while the body is parsed and borrowed from it where possible.
///
/// The first bad property, in document order, is kept in `error` and
/// stops the reading of further values, as the reference stopped there.
#[derive(Debug, Default)]
pub(super) struct Properties<'a> {
    pub(super) job_number: Option<i64>,
    pub(super) revision: Option<Cow<'a, str>>,
    pub(super) product: Option<Cow<'a, str>>,
    pub(super) version: Option<Cow<'a, str>>,
    pub(super) tree: Option<Cow<'a, str>>,
    pub(super) buildid: Option<Cow<'a, str>>,
    pub(super) builddate: Option<i64>,
    pub(super) build_number: Option<i64>,
    pub(super) previous_buildid: Option<Cow<'a, str>>,
    pub(super) platform: Option<Cow<'a, str>>,
    pub(super) locale: Option<Cow<'a, str>>,
    pub(super) locales: Option<Cow<'a, str>>,
    pub(super) buildurl: Option<Cow<'a, str>>,
    pub(super) logurl: Option<Cow<'a, str>>,
    pub(super) release: Option<Cow<'a, str>>,
    pub(super) symbols_url: Option<Cow<'a, str>>,
    pub(super) testsurl: Option<Cow<'a, str>>,
    pub(super) test_packages_url: Option<Cow<'a, str>>,
    pub(super) buildername: Option<Cow<'a, str>>,
    pub(super) slave: Option<Cow<'a, str>>,
    pub(super) blobber_files: Option<serde_json::Value>,
    pub(super) stage_platform: Option<Cow<'a, str>>,
    pub(super) completemarurl: Option<Cow<'a, str>>,
    pub(super) completemarhash: Option<Cow<'a, str>>,
    pub(super) error: Option<ErrorKind>,
}

impl<'a> Properties<'a> {
    /// False once a bad property was seen: the rest are only skipped.
    pub(super) fn wants_values(&self) -> bool {
        self.error.is_none()
    }

    /// Records that the property at `index` is no `[name, value, source]`
    /// array (the type found).
    pub(super) fn malformed(&mut self, index: usize, found: &'static str) {
        if self.error.is_none() {
            self.error = Some(ErrorKind::WrongFieldType {
                field: format!("payload.build.properties[{index}]"),
                expected: "a [name, value, source] array",
                found,
            });
        }
    }

    /// Reads the value of one property the translator uses.
    pub(super) fn read(&mut self, name: PropertyName, value: Scalar<'a>) {
        if self.error.is_none() {
            if let Err(error) = self.read_value(name, value) {
                self.error = Some(error);
            }
        }
    }

    fn read_value(&mut self, name: PropertyName, value: Scalar<'a>) -> Result<(), ErrorKind> {
        use PropertyName as P;
        match name {
            P::JobNumber => self.job_number = int_or_null(name, value)?,
            P::Revision => self.revision = string_or_null(name, value)?,
            P::Product => self.product = Some(lowercase(string(name, value)?)),
            P::Version => self.version = string_or_null(name, value)?,
            P::Branch => {
                self.tree = string_or_null(name, value)?.map(|branch| match branch.rfind('/') {
                    Some(slash) => slice(branch, slash + 1..),
                    None => branch,
                })
            }
            P::Buildid => {
                let buildid = string(name, value)?;
                self.builddate = Some(buildid_to_date(&buildid)?);
                self.buildid = Some(buildid);
            }
            P::ReleaseBuildNumber => self.build_number = int_or_null(name, value)?,
            P::PreviousBuildid => self.previous_buildid = string_or_null(name, value)?,
            P::Platform => {
                self.platform =
                    string_or_null(name, value)?.map(|platform| match platform.find("-debug") {
                        Some(at) => slice(platform, ..at),
                        None => platform,
                    })
            }
            P::Locale => self.locale = string_or_null(name, value)?,
            P::Locales => self.locales = string_or_null(name, value)?,
            P::PackageUrl | P::BuildUrl | P::FileUrl => self.buildurl = url(name, value)?,
            P::LogUrl => self.logurl = url(name, value)?,
            P::EnRevision | P::ScriptRepoRevision => self.release = string_or_null(name, value)?,
            P::SymbolsUrl => self.symbols_url = url(name, value)?,
            P::TestsUrl => self.testsurl = url(name, value)?,
            P::TestPackagesUrl => self.test_packages_url = url(name, value)?,
            P::Buildername => self.buildername = string_or_null(name, value)?,
            P::Slavename => self.slave = string_or_null(name, value)?,
            P::BlobberFiles => {
                if let Ok(files) = serde_json::from_str(&string(name, value)?) {
                    self.blobber_files = Some(files);
                }
            }
            P::StagePlatform => {
                let stage_platform = string(name, value)?;
                let end = strip_buildtypes(&stage_platform).len();
                self.stage_platform = Some(slice(stage_platform, ..end));
            }
            P::CompleteMarUrl => self.completemarurl = string_or_null(name, value)?,
            P::CompleteMarHash => self.completemarhash = string_or_null(name, value)?,
        }
        Ok(())
    }
}

/// A part of a string, borrowed when the string is.
fn slice<'a>(
    text: Cow<'a, str>,
    range: impl std::slice::SliceIndex<str, Output = str>,
) -> Cow<'a, str> {
    match text {
        Cow::Borrowed(text) => Cow::Borrowed(&text[range]),
        Cow::Owned(text) => Cow::Owned(text[range].to_owned()),
    }
}

fn lowercase(text: Cow<'_, str>) -> Cow<'_, str> {
    if text
        .bytes()
        .any(|b| !b.is_ascii() || b.is_ascii_uppercase())
    {
        Cow::Owned(text.to_lowercase())
    } else {
        text
    }
}

pub(super) fn owned(text: Option<Cow<'_, str>>) -> Option<String> {
    text.map(Cow::into_owned)
}

fn wrong_type(name: PropertyName, expected: &'static str, value: &Scalar<'_>) -> ErrorKind {
    ErrorKind::WrongFieldType {
        field: format!("property {}", name.as_str()),
        expected,
        found: value.json_type(),
    }
}

fn string(name: PropertyName, value: Scalar<'_>) -> Result<Cow<'_, str>, ErrorKind> {
    match value {
        Scalar::Str(text) => Ok(text),
        other => Err(wrong_type(name, "a string", &other)),
    }
}

fn string_or_null(
    name: PropertyName,
    value: Scalar<'_>,
) -> Result<Option<Cow<'_, str>>, ErrorKind> {
    match value {
        Scalar::Str(text) => Ok(Some(text)),
        Scalar::Null => Ok(None),
        other => Err(wrong_type(name, "a string or null", &other)),
    }
}

fn int_or_null(name: PropertyName, value: Scalar<'_>) -> Result<Option<i64>, ErrorKind> {
    match value {
        Scalar::Int(number) => Ok(Some(number)),
        Scalar::Null => Ok(None),
        other => Err(wrong_type(name, "an integer or null", &other)),
    }
}

fn url(name: PropertyName, value: Scalar<'_>) -> Result<Option<Cow<'_, str>>, ErrorKind> {
    match value {
        Scalar::Str(text) => {
            // Keeps `text` (borrowed or not) when quoting changes nothing.
            let changed = match quote_url(&text) {
                Cow::Owned(changed) => Some(changed),
                Cow::Borrowed(_) => None,
            };
            Ok(Some(changed.map_or(text, Cow::Owned)))
        }
        Scalar::Null => Ok(None),
        other => Err(wrong_type(name, "a string or null", &other)),
    }
}

/// Cuts `stage_platform` before each build type it names, as the
/// reference did, including its slice of `[0:-1]` when the build type
/// starts the string.
fn strip_buildtypes(mut stage_platform: &str) -> &str {
    for buildtype in tables::BUILDTYPES {
        if let Some(at) = stage_platform.find(buildtype) {
            // Python slices characters: drop the one before the build type,
            // or, for `[0:-1]`, the last one.
            let before = if at == 0 {
                stage_platform
            } else {
                &stage_platform[..at]
            };
            let end = before.char_indices().last().map_or(0, |(last, _)| last);
            stage_platform = &stage_platform[..end];
        }
    }
    stage_platform
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_property_name_and_only_it_is_recognized() {
        for property in PropertyName::ALL {
            let name = property.as_str();
            assert_eq!(PropertyName::parse(name.as_bytes()), Some(property));
            assert_eq!(PropertyName::parse(&name.as_bytes()[1..]), None);
            assert_eq!(PropertyName::parse(format!("{name}x").as_bytes()), None);
        }
        for unused in ["", "a", "builddir", "basedir", "Buildid", "product "] {
            assert_eq!(PropertyName::parse(unused.as_bytes()), None, "{unused}");
        }
    }

    #[test]
    fn strips_buildtypes_from_stage_platform() {
        assert_eq!(strip_buildtypes("win32-pgo"), "win32");
        assert_eq!(strip_buildtypes("linux64-debug"), "linux64");
        assert_eq!(strip_buildtypes("macosx64"), "macosx64");
        // The reference's slice [0:find - 1] drops the last character when
        // the build type starts the string.
        assert_eq!(strip_buildtypes("optimus"), "optimu");
    }
}
