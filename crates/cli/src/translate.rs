//! `translate` and `buildername`: the translator alone, no broker.

use std::io::{BufRead, Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use pulse_translator::buildbot;
use pulse_translator::buildername;
use pulse_translator::Options;
use serde_json::Value;

use crate::args::TranslateArgs;
use crate::error::CliError;

/// One input: a file or stdin, for messages about it.
struct Input {
    name: String,
    text: Vec<u8>,
}

/// `pulse-monitor translate`: exit 0 when every message translated, 1 when
/// any did not (each failure is one line on stderr; the rest go on).
pub fn translate(args: TranslateArgs) -> Result<ExitCode, CliError> {
    let inputs = read_inputs(&args.paths)?;
    let options = Options::default();
    let mut stdout = std::io::stdout().lock();
    let mut failures = 0usize;
    for input in &inputs {
        for (place, document) in documents(input) {
            let document = match document {
                Ok(document) => document,
                Err(reason) => {
                    status!("error: {place}: not JSON: {reason}");
                    failures += 1;
                    continue;
                }
            };
            let (key, body) = message_parts(&document);
            let result = match &key {
                Some(key) => buildbot::translate_with_key(key, &body, &options),
                None => buildbot::translate(&body, &options),
            };
            match result {
                Ok(messages) => {
                    if messages.is_empty() {
                        log::info!(
                            "{place}: a message the translator ignores, as the reference did"
                        );
                    }
                    for message in messages {
                        let line = serde_json::to_string(&message)
                            .expect("a normalized message always serializes");
                        if writeln!(stdout, "{line}").is_err() {
                            return Ok(ExitCode::from(crate::error::EXIT_FAILURE));
                        }
                    }
                }
                Err(e) => {
                    failures += 1;
                    let key = e
                        .routing_key()
                        .map(str::to_string)
                        .or_else(|| key.clone())
                        .or_else(|| meta_routing_key(&document))
                        .unwrap_or_else(|| "(no routing key)".to_string());
                    status!(
                        "error: {place}: routing key {key:?}: {}: {}",
                        kind_name(&e),
                        e.kind()
                    );
                }
            }
        }
    }
    Ok(if failures == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(crate::error::EXIT_FAILURE)
    })
}

fn read_inputs(paths: &[PathBuf]) -> Result<Vec<Input>, CliError> {
    if paths.is_empty() {
        let mut text = Vec::new();
        std::io::stdin()
            .read_to_end(&mut text)
            .map_err(|e| CliError::failure(format!("cannot read stdin: {e}")))?;
        return Ok(vec![Input {
            name: "stdin".to_string(),
            text,
        }]);
    }
    paths
        .iter()
        .map(|path| {
            std::fs::read(path)
                .map(|text| Input {
                    name: path.display().to_string(),
                    text,
                })
                .map_err(|e| CliError::failure(format!("cannot read {}: {e}", path.display())))
        })
        .collect()
}

/// The documents of an input: the whole of it when it is one JSON
/// document (pretty-printed files), else one per non-blank line, so one
/// bad line does not hide the others.
fn documents(input: &Input) -> Vec<(String, Result<Value, String>)> {
    if let Ok(document) = serde_json::from_slice::<Value>(&input.text) {
        return vec![(input.name.clone(), Ok(document))];
    }
    input
        .text
        .split(|&b| b == b'\n')
        .enumerate()
        .filter(|(_, line)| !line.iter().all(u8::is_ascii_whitespace))
        .map(|(index, line)| {
            let place = format!("{} line {}", input.name, index + 1);
            (
                place,
                serde_json::from_slice(line).map_err(|e| e.to_string()),
            )
        })
        .collect()
}

/// A recorded message (`{"exchange", "routing_key", "body"}`, as `record`
/// writes) gives its routing key and body; anything else is a raw body.
fn message_parts(document: &Value) -> (Option<String>, Vec<u8>) {
    let recorded = document.get("exchange").is_some() && document.get("body").is_some();
    match (
        recorded,
        document.get("routing_key").and_then(Value::as_str),
    ) {
        (true, Some(key)) => (
            Some(key.to_string()),
            serde_json::to_vec(&document["body"]).expect("JSON always serializes"),
        ),
        _ => (
            None,
            serde_json::to_vec(document).expect("JSON always serializes"),
        ),
    }
}

fn meta_routing_key(document: &Value) -> Option<String> {
    document
        .pointer("/_meta/routing_key")
        .and_then(Value::as_str)
        .map(str::to_string)
}

/// The reference translator's exception class where it had one
/// (`NoBuildUrlError`), else the error kind's name (`NotJson`).
fn kind_name(e: &pulse_translator::Error) -> String {
    if let Some(class) = e.reference_class() {
        return class.to_string();
    }
    let debug = format!("{:?}", e.kind());
    debug
        .split(|c: char| !c.is_alphanumeric() && c != '_')
        .next()
        .unwrap_or("Error")
        .to_string()
}

/// One line of `buildername`'s output: the name, then its parts.
#[derive(serde::Serialize)]
struct Parsed<'a> {
    buildername: &'a str,
    #[serde(flatten)]
    parts: buildername::ParsedBuildername,
}

/// `pulse-monitor buildername`: one JSON object per stdin line.
pub fn buildername() -> Result<ExitCode, CliError> {
    let stdin = std::io::stdin().lock();
    let mut stdout = std::io::stdout().lock();
    for line in stdin.lines() {
        let line = line.map_err(|e| CliError::failure(format!("cannot read stdin: {e}")))?;
        let name = line.trim();
        if name.is_empty() {
            continue;
        }
        let parsed = Parsed {
            buildername: name,
            parts: buildername::parse(name),
        };
        let line = serde_json::to_string(&parsed).expect("a builder always serializes");
        if writeln!(stdout, "{line}").is_err() {
            break;
        }
    }
    Ok(ExitCode::SUCCESS)
}
