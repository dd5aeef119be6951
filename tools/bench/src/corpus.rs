//! The shared corpus of real Pulse messages, and message templates that
//! carry a sequence number so a callback can tell which message it got.

use std::path::Path;

use pulse_filter::Filter;
use pulse_translator::buildbot::translate;
use pulse_translator::Options;
use pulse_translator::{normalized, Record};
use serde_json::Value;

/// The corpus beside the workspace (`/work/shared/corpus`).
pub use pulse_test_corpus::CORPUS;

const RAW_SETS: [&str; 2] = ["buildbot-raw", "buildbot-unittest-2013"];

/// A message whose key carries a sequence number:
/// `build.<builder>.<seq>.<event>`, in place of the build number.
#[derive(Clone, Debug)]
pub struct Template {
    /// The routing key to publish with (`None`: the tagged key itself).
    publish_key: Option<String>,
    key_prefix: String,
    key_suffix: String,
    body_prefix: Vec<u8>,
    body_suffix: Vec<u8>,
}

impl Template {
    /// The key tagged with `seq`.
    pub fn key(&self, seq: u64) -> String {
        format!("{}{seq}{}", self.key_prefix, self.key_suffix)
    }

    /// The routing key to publish message `seq` with.
    pub fn routing_key(&self, seq: u64) -> String {
        self.publish_key.clone().unwrap_or_else(|| self.key(seq))
    }

    /// The body of message `seq`.
    pub fn body(&self, seq: u64) -> Vec<u8> {
        let key = self.key(seq);
        let mut body =
            Vec::with_capacity(self.body_prefix.len() + key.len() + self.body_suffix.len());
        body.extend_from_slice(&self.body_prefix);
        body.extend_from_slice(key.as_bytes());
        body.extend_from_slice(&self.body_suffix);
        body
    }

    /// The body size with a typical sequence number.
    pub fn size(&self) -> usize {
        self.body(1_000_000_000_000).len()
    }
}

/// The sequence number a template put in a record's key.
pub fn seq_of(key: &str) -> Option<u64> {
    key.rsplit('.').nth(1)?.parse().ok()
}

/// Splits `build.<builder>.<n>.<event>` around `<n>`.
fn split_key(key: &str) -> Option<(String, String)> {
    let mut parts = key.rsplitn(3, '.');
    let event = parts.next()?;
    let number = parts.next()?;
    let builder = parts.next()?;
    (number.bytes().all(|b| b.is_ascii_digit()) && !number.is_empty())
        .then(|| (format!("{builder}."), format!(".{event}")))
}

/// Everything the benchmarks read from the corpus.
pub struct Corpus {
    /// Every raw buildbot message, byte for byte as stored.
    pub raw_bodies: Vec<Vec<u8>>,
    /// Every normalized message the reference published: routing key and
    /// compact JSON payload.
    pub normalized: Vec<(String, Vec<u8>)>,
    /// Every buildername in those payloads.
    pub buildernames: Vec<String>,
    /// Raw messages that translate to exactly one record the filter keeps.
    pub raw_templates: Vec<Template>,
    /// Normalized payloads (< 2 KB) the filter keeps.
    pub small_templates: Vec<Template>,
}

impl Corpus {
    /// Loads the corpus, checking that each template still translates to
    /// one record under its tagged key that `filter` keeps.
    pub fn load(filter: &Filter) -> Result<Corpus, String> {
        let root = Path::new(CORPUS);
        let mut raw_bodies = Vec::new();
        let mut raw_templates = Vec::new();
        let mut normalized = Vec::new();
        let mut buildernames = Vec::new();
        let mut small_templates = Vec::new();
        for set in RAW_SETS {
            let dir = root.join(set);
            if !dir.is_dir() {
                return Err(format!("no corpus at {}", dir.display()));
            }
            let files = pulse_test_corpus::files_under(&dir);
            for file in &files {
                let body =
                    std::fs::read(file).map_err(|e| format!("reading {}: {e}", file.display()))?;
                if let Some(template) = raw_template(&body, filter) {
                    raw_templates.push(template);
                }
                raw_bodies.push(body);
            }

            let expected = pulse_test_corpus::read_json(&root.join(format!("{set}.expected.json")));
            let entries = expected
                .as_object()
                .ok_or("expected.json is not an object")?;
            for entry in entries.values() {
                for message in entry["normalized"].as_array().into_iter().flatten() {
                    let key = message["routing_key"].as_str().unwrap_or_default();
                    let payload = &message["payload"];
                    let body = serde_json::to_vec(payload).map_err(|e| e.to_string())?;
                    if let Some(name) = payload["buildername"].as_str() {
                        buildernames.push(name.to_owned());
                    }
                    if let Some(template) = small_template(key, payload, filter) {
                        small_templates.push(template);
                    }
                    normalized.push((key.to_owned(), body));
                }
            }
        }
        if raw_templates.is_empty() || small_templates.is_empty() {
            return Err("no corpus message survived the template checks".into());
        }
        Ok(Corpus {
            raw_bodies,
            normalized,
            buildernames,
            raw_templates,
            small_templates,
        })
    }
}

/// A template from a raw message: its `_meta.routing_key` appears once,
/// quoted, in the body; the rest of the body stays byte for byte.
fn raw_template(body: &[u8], filter: &Filter) -> Option<Template> {
    let value: Value = serde_json::from_slice(body).ok()?;
    let key = value["_meta"]["routing_key"].as_str()?;
    let (key_prefix, key_suffix) = split_key(key)?;
    let quoted = format!("\"{key}\"");
    let at = find_once(body, quoted.as_bytes())?;
    let template = Template {
        publish_key: None,
        key_prefix,
        key_suffix,
        body_prefix: body[..at + 1].to_vec(),
        body_suffix: body[at + quoted.len() - 1..].to_vec(),
    };
    let seq = 123_456_789;
    match translate(&template.body(seq), &Options::default())
        .ok()?
        .as_slice()
    {
        [one] if one.payload.key() == template.key(seq) && filter.matches(&one.payload) => {
            Some(template)
        }
        _ => None,
    }
}

/// A template from a normalized payload: its `key` field is tagged.
fn small_template(routing_key: &str, payload: &Value, filter: &Filter) -> Option<Template> {
    let (key_prefix, key_suffix) = split_key(payload["key"].as_str()?)?;
    const MARK: &str = "@PULSE-BENCH-SEQ@";
    let mut marked = payload.clone();
    marked["key"] = Value::String(format!("{key_prefix}{MARK}{key_suffix}"));
    let text = serde_json::to_vec(&marked).ok()?;
    let at = find_once(&text, MARK.as_bytes())?;
    let template = Template {
        publish_key: Some(routing_key.to_owned()),
        body_prefix: text[..at - key_prefix.len()].to_vec(),
        body_suffix: text[at + MARK.len() + key_suffix.len()..].to_vec(),
        key_prefix,
        key_suffix,
    };
    let seq = 123_456_789;
    let record: Record = normalized::parse(routing_key, &template.body(seq)).ok()?;
    (record.key() == template.key(seq) && filter.matches(&record) && template.size() < 2048)
        .then_some(template)
}

fn find_once(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    let mut found = haystack
        .windows(needle.len())
        .enumerate()
        .filter(|(_, w)| *w == needle)
        .map(|(at, _)| at);
    let first = found.next()?;
    found.next().is_none().then_some(first)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_split_around_the_number() {
        assert_eq!(
            split_key("build.mozilla-central-linux64.105.log_uploaded"),
            Some((
                "build.mozilla-central-linux64.".into(),
                ".log_uploaded".into()
            ))
        );
        assert_eq!(split_key("build.x.nightly.finished"), None);
        assert_eq!(seq_of("build.a-b.42.log_uploaded"), Some(42));
        assert_eq!(seq_of("build.a-b.x.log_uploaded"), None);
    }
}
