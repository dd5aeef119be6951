//! Just enough of a raw buildbot message, read without building a tree.
//!
//! The visitors below read `_meta.routing_key`, `payload.build.results` and
//! the properties the translator uses, and skip everything else (the
//! `steps` array is most of a 20 KB body) with [`IgnoredAny`]. A part of
//! the wrong JSON type is recorded as [`Slot::Wrong`] rather than failing
//! the parse, so the translator can say exactly which part was wrong.

use std::borrow::Cow;
use std::fmt;

use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;

use super::properties::{Properties, PropertyName};
use super::scalar::Scalar;

/// A part of the message that should be an object or an array.
#[derive(Debug, Default)]
pub(super) enum Slot<T> {
    #[default]
    Missing,
    /// Present with the wrong JSON type (the type found).
    Wrong(&'static str),
    Present(T),
}

/// How names and keys are read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Reading {
    /// As raw bytes, without UTF-8 validation: only printable ASCII is
    /// accepted, anything else fails the parse so that it is read again
    /// [`Reading::Exact`]ly.
    Fast,
    /// As strings, any JSON type accepted.
    Exact,
}

/// The visitor methods of a `Slot` reader for every JSON scalar: each is
/// the wrong type for a slot that wants an object or an array.
macro_rules! scalars_are_the_wrong_type {
    () => {
        fn visit_unit<E>(self) -> Result<Self::Value, E> {
            Ok(Slot::Wrong("null"))
        }
        fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
            Ok(Slot::Wrong("a boolean"))
        }
        fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
            Ok(Slot::Wrong("a number"))
        }
        fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
            Ok(Slot::Wrong("a number"))
        }
        fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
            Ok(Slot::Wrong("a number"))
        }
        fn visit_str<E>(self, _: &str) -> Result<Self::Value, E> {
            Ok(Slot::Wrong("a string"))
        }
    };
}

/// Reads a `T` from a JSON object, or records the type found instead.
struct ObjectOf<T>(Reading, std::marker::PhantomData<T>);

trait FromObject<'de>: Sized {
    fn from_object<A: MapAccess<'de>>(map: A, reading: Reading) -> Result<Self, A::Error>;
}

impl<'de, T: FromObject<'de>> Visitor<'de> for ObjectOf<T> {
    type Value = Slot<T>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a json object")
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        T::from_object(map, self.0).map(Slot::Present)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Slot::Wrong("an array"))
    }
    scalars_are_the_wrong_type!();
}

impl<'de, T: FromObject<'de>> DeserializeSeed<'de> for ObjectOf<T> {
    type Value = Slot<T>;
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

fn object<'de, T: FromObject<'de>>(reading: Reading) -> ObjectOf<T> {
    ObjectOf(reading, std::marker::PhantomData)
}

/// The top level of a raw buildbot message's body (`_meta` and `payload`):
/// what the translator reads of it, not the monitor's `RawMessage`.
#[derive(Debug, Default)]
pub(super) struct BuildbotBody<'a> {
    pub(super) meta: Slot<Meta<'a>>,
    pub(super) payload: Slot<Payload<'a>>,
}

/// `_meta`.
#[derive(Debug, Default)]
pub(super) struct Meta<'a> {
    pub(super) routing_key: Option<Scalar<'a>>,
}

/// `payload`.
#[derive(Debug, Default)]
pub(super) struct Payload<'a> {
    pub(super) build: Slot<Build<'a>>,
}

/// `payload.build`.
#[derive(Debug, Default)]
pub(super) struct Build<'a> {
    pub(super) results: Option<Scalar<'a>>,
    /// Boxed: the fields are many, and the message passes up by value.
    pub(super) properties: Slot<Box<Properties<'a>>>,
}

/// The first element of a property triple.
enum NameElement {
    /// A string: the property, if the translator reads it.
    Name(Option<PropertyName>),
    NotString,
}

/// True for bytes a fast reading accepts as a name or key.
fn is_printable_ascii(bytes: &[u8]) -> bool {
    // Without an early exit, so that it runs many bytes at a time.
    bytes.iter().fold(true, |printable, &b| {
        printable & (b.wrapping_sub(0x20) < 0x5f)
    })
}

fn needs_exact_reading<E: serde::de::Error>() -> E {
    E::custom("a name that needs the exact reading")
}

struct NameSeed(Reading);

impl<'de> DeserializeSeed<'de> for NameSeed {
    type Value = NameElement;
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        struct NameVisitor;
        impl<'de> Visitor<'de> for NameVisitor {
            type Value = NameElement;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("any json value")
            }
            fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
                Ok(NameElement::Name(PropertyName::parse(v.as_bytes())))
            }
            fn visit_bytes<E: serde::de::Error>(self, v: &[u8]) -> Result<Self::Value, E> {
                // A name found is printable ASCII: only the others need the check.
                match PropertyName::parse(v) {
                    Some(property) => Ok(NameElement::Name(Some(property))),
                    None if is_printable_ascii(v) => Ok(NameElement::Name(None)),
                    None => Err(needs_exact_reading()),
                }
            }
            fn visit_unit<E>(self) -> Result<Self::Value, E> {
                Ok(NameElement::NotString)
            }
            fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
                Ok(NameElement::NotString)
            }
            fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
                Ok(NameElement::NotString)
            }
            fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
                Ok(NameElement::NotString)
            }
            fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
                Ok(NameElement::NotString)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(NameElement::NotString)
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(NameElement::NotString)
            }
        }
        match self.0 {
            Reading::Fast => deserializer.deserialize_bytes(NameVisitor),
            Reading::Exact => deserializer.deserialize_any(NameVisitor),
        }
    }
}

/// An object key, borrowed from the body unless it has escapes.
enum Key<'a> {
    Borrowed(&'a [u8]),
    Owned(String),
}

impl Key<'_> {
    fn as_bytes(&self) -> &[u8] {
        match self {
            Key::Borrowed(key) => key,
            Key::Owned(key) => key.as_bytes(),
        }
    }
}

struct KeySeed(Reading);

impl<'de> DeserializeSeed<'de> for KeySeed {
    type Value = Key<'de>;
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        struct KeyVisitor;
        impl<'de> Visitor<'de> for KeyVisitor {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object key")
            }
            fn visit_borrowed_bytes<E: serde::de::Error>(
                self,
                v: &'de [u8],
            ) -> Result<Self::Value, E> {
                if !is_printable_ascii(v) {
                    return Err(needs_exact_reading());
                }
                Ok(Key::Borrowed(v))
            }
            fn visit_bytes<E: serde::de::Error>(self, _: &[u8]) -> Result<Self::Value, E> {
                // Escapes: rare enough to read the message again.
                Err(needs_exact_reading())
            }
        }
        match self.0 {
            Reading::Fast => deserializer.deserialize_bytes(KeyVisitor),
            Reading::Exact => match Scalar::deserialize(deserializer)? {
                Scalar::Str(Cow::Borrowed(key)) => Ok(Key::Borrowed(key.as_bytes())),
                Scalar::Str(Cow::Owned(key)) => Ok(Key::Owned(key)),
                // JSON keys are always strings.
                _ => Ok(Key::Borrowed(b"")),
            },
        }
    }
}

impl<'de> FromObject<'de> for BuildbotBody<'de> {
    fn from_object<A: MapAccess<'de>>(mut map: A, reading: Reading) -> Result<Self, A::Error> {
        let mut message = BuildbotBody::default();
        while let Some(key) = map.next_key_seed(KeySeed(reading))? {
            match key.as_bytes() {
                b"_meta" => message.meta = map.next_value_seed(object(reading))?,
                b"payload" => message.payload = map.next_value_seed(object(reading))?,
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(message)
    }
}

impl<'de> FromObject<'de> for Meta<'de> {
    fn from_object<A: MapAccess<'de>>(mut map: A, reading: Reading) -> Result<Self, A::Error> {
        let mut meta = Meta::default();
        while let Some(key) = map.next_key_seed(KeySeed(reading))? {
            if key.as_bytes() == b"routing_key" {
                meta.routing_key = Some(map.next_value()?);
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(meta)
    }
}

impl<'de> FromObject<'de> for Payload<'de> {
    fn from_object<A: MapAccess<'de>>(mut map: A, reading: Reading) -> Result<Self, A::Error> {
        let mut payload = Payload::default();
        while let Some(key) = map.next_key_seed(KeySeed(reading))? {
            if key.as_bytes() == b"build" {
                payload.build = map.next_value_seed(object(reading))?;
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(payload)
    }
}

impl<'de> FromObject<'de> for Build<'de> {
    fn from_object<A: MapAccess<'de>>(mut map: A, reading: Reading) -> Result<Self, A::Error> {
        let mut build = Build::default();
        while let Some(key) = map.next_key_seed(KeySeed(reading))? {
            match key.as_bytes() {
                b"results" => build.results = Some(map.next_value()?),
                b"properties" => build.properties = map.next_value_seed(PropertiesSeed(reading))?,
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(build)
    }
}

/// Reads the properties array straight into [`Properties`], or records
/// the type found instead.
struct PropertiesSeed(Reading);

impl<'de> Visitor<'de> for PropertiesSeed {
    type Value = Slot<Box<Properties<'de>>>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array of properties")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut properties = Box::<Properties<'de>>::default();
        let mut index = 0;
        while seq
            .next_element_seed(PropertySeed {
                properties: &mut properties,
                index,
                reading: self.0,
            })?
            .is_some()
        {
            index += 1;
        }
        Ok(Slot::Present(properties))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(Slot::Wrong("an object"))
    }
    scalars_are_the_wrong_type!();
}

impl<'de> DeserializeSeed<'de> for PropertiesSeed {
    type Value = Slot<Box<Properties<'de>>>;
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

/// One `[name, value, source]` triple, handed to [`Properties`] as it is
/// read: the value only for the properties the translator reads.
struct PropertySeed<'p, 'de> {
    properties: &'p mut Properties<'de>,
    index: usize,
    reading: Reading,
}

impl<'de> Visitor<'de> for PropertySeed<'_, 'de> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a [name, value, source] property")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        match seq.next_element_seed(NameSeed(self.reading))? {
            Some(NameElement::Name(Some(name))) if self.properties.wants_values() => {
                match seq.next_element::<Scalar<'de>>()? {
                    Some(value) => self.properties.read(name, value),
                    None => self
                        .properties
                        .malformed(self.index, "an array without a value"),
                }
            }
            Some(NameElement::Name(_)) => {
                if seq.next_element::<IgnoredAny>()?.is_none() {
                    self.properties
                        .malformed(self.index, "an array without a value");
                }
            }
            Some(NameElement::NotString) => self
                .properties
                .malformed(self.index, "an array without a string name"),
            None => self.properties.malformed(self.index, "an empty array"),
        }
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(())
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        self.properties.malformed(self.index, "an object");
        Ok(())
    }
    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        self.properties.malformed(self.index, "null");
        Ok(())
    }
    fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
        self.properties.malformed(self.index, "a boolean");
        Ok(())
    }
    fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
        self.properties.malformed(self.index, "a number");
        Ok(())
    }
    fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
        self.properties.malformed(self.index, "a number");
        Ok(())
    }
    fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
        self.properties.malformed(self.index, "a number");
        Ok(())
    }
    fn visit_str<E>(self, _: &str) -> Result<Self::Value, E> {
        self.properties.malformed(self.index, "a string");
        Ok(())
    }
}

impl<'de> DeserializeSeed<'de> for PropertySeed<'_, 'de> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

/// Reads a whole body: `Err` only for bytes that are not one JSON value.
pub(super) fn read(body: &[u8]) -> Result<Slot<BuildbotBody<'_>>, serde_json::Error> {
    // Names and keys read as bytes save a UTF-8 check each; a message the
    // fast reading does not take, valid or not, is read again exactly, so
    // the result is always the exact reading's.
    read_as(body, Reading::Fast).or_else(|_| read_as(body, Reading::Exact))
}

fn read_as(body: &[u8], reading: Reading) -> Result<Slot<BuildbotBody<'_>>, serde_json::Error> {
    let mut deserializer = serde_json::Deserializer::from_slice(body);
    let message = object::<BuildbotBody<'_>>(reading).deserialize(&mut deserializer)?;
    deserializer.end()?;
    Ok(message)
}

/// The entries of a nightly repack's `locales` object, in document order;
/// a repeated locale keeps its first place and takes its last value, as a
/// Python dict does.
pub(super) fn read_locale_results(locales: &str) -> Option<Vec<(String, Scalar<'_>)>> {
    let mut deserializer = serde_json::Deserializer::from_str(locales);
    let entries = object::<LocaleResults<'_>>(Reading::Exact)
        .deserialize(&mut deserializer)
        .ok()?;
    deserializer.end().ok()?;
    match entries {
        Slot::Present(LocaleResults(entries)) => Some(entries),
        Slot::Missing | Slot::Wrong(_) => None,
    }
}

struct LocaleResults<'a>(Vec<(String, Scalar<'a>)>);

impl<'de> FromObject<'de> for LocaleResults<'de> {
    fn from_object<A: MapAccess<'de>>(mut map: A, _reading: Reading) -> Result<Self, A::Error> {
        let mut entries: Vec<(String, Scalar<'de>)> = Vec::new();
        while let Some((locale, result)) = map.next_entry::<String, Scalar<'de>>()? {
            match entries.iter_mut().find(|(seen, _)| *seen == locale) {
                Some(entry) => entry.1 = result,
                None => entries.push((locale, result)),
            }
        }
        Ok(LocaleResults(entries))
    }
}
