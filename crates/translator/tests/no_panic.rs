//! Truncated, mutated and arbitrary inputs never make a parser panic.

use pulse_translator::{buildbot, buildername, normalized};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../fixtures/buildbot");

/// xorshift64*: deterministic and good enough to scatter mutations.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

fn seeds() -> Vec<Vec<u8>> {
    let mut seeds: Vec<Vec<u8>> = std::fs::read_dir(FIXTURES)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|e| e == "json"))
        .map(|path| std::fs::read(path).unwrap())
        .collect();
    seeds.sort();
    assert!(seeds.len() >= 6, "fixtures missing");
    seeds
}

/// Bytes that matter to JSON and to the translator's patterns.
const INTERESTING: &[u8] = b"{}[]\",:.-_0123456789 nulltruefalse\\\xff\xc3/|";

fn mutate(rng: &mut Rng, input: &[u8]) -> Vec<u8> {
    let mut bytes = input.to_vec();
    for _ in 0..1 + rng.below(4) {
        if bytes.is_empty() {
            break;
        }
        let at = rng.below(bytes.len());
        match rng.below(4) {
            0 => bytes[at] = INTERESTING[rng.below(INTERESTING.len())],
            1 => bytes[at] = rng.next() as u8,
            2 => {
                bytes.remove(at);
            }
            _ => bytes.insert(at, INTERESTING[rng.below(INTERESTING.len())]),
        }
    }
    bytes
}

fn exercise(bytes: &[u8], key: &str) {
    let _ = buildbot::translate(bytes, &pulse_translator::Options::default());
    let _ = buildbot::translate_with_key(key, bytes, &pulse_translator::Options::default());
    let _ = normalized::parse(key, bytes);
    let text = String::from_utf8_lossy(bytes);
    let _ = buildername::parse(&text);
    let _ = normalized::parse(&text, bytes);
}

#[test]
fn truncated_inputs() {
    let mut count = 0;
    for seed in seeds() {
        for end in 0..seed.len() {
            exercise(&seed[..end], "build.mozilla-central-linux.1.log_uploaded");
            count += 1;
        }
    }
    assert!(count > 3000, "{count}");
}

#[test]
fn mutated_inputs() {
    let seeds = seeds();
    let keys = [
        "build.mozilla-central-linux.1.log_uploaded",
        "unittest.try.linux.fedora.opt.reftest.firefox.try_fedora_test-reftest",
        "talos..",
        "build",
        "",
    ];
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for round in 0..6000 {
        let seed = &seeds[round % seeds.len()];
        let mutated = mutate(&mut rng, seed);
        exercise(&mutated, keys[round % keys.len()]);
    }
}

#[test]
fn mutated_routing_keys_and_properties() {
    // Valid JSON whose routing key and property values are scrambled: this
    // reaches the key patterns and the fan-outs, not only the JSON parser.
    let mut rng = Rng(42);
    let words = [
        "build",
        "release-",
        "mozilla-central",
        "linux64",
        "-",
        "_",
        ".",
        "12",
        "log_uploaded",
        "finished",
        "test",
        "unittest",
        "pgo",
        "debug",
        "repack",
        "l10n",
        "xulrunner",
        "emulator",
        "jetpack",
        "é",
        "",
        "win32",
        "_test",
    ];
    let values = [
        "\"\"",
        "null",
        "0",
        "-1",
        "1e400",
        "[]",
        "{}",
        "\"x,,y\"",
        "\"{\\\"de\\\": 0}\"",
        "\"releases/\"",
        "true",
    ];
    let names = [
        "branch",
        "platform",
        "stage_platform",
        "locales",
        "buildid",
        "buildername",
        "log_url",
        "product",
    ];
    for _ in 0..4000 {
        let key: String = (0..rng.below(10))
            .map(|_| words[rng.below(words.len())])
            .collect();
        let props: Vec<String> = (0..rng.below(6))
            .map(|_| {
                format!(
                    "[\"{}\", {}, \"x\"]",
                    names[rng.below(names.len())],
                    values[rng.below(values.len())]
                )
            })
            .collect();
        let body = format!(
            r#"{{"_meta": {{"routing_key": {key:?}}}, "payload": {{"build": {{"results": 0, "properties": [{}]}}}}}}"#,
            props.join(",")
        );
        exercise(body.as_bytes(), &key);
    }
}

#[test]
fn arbitrary_bytes() {
    let mut rng = Rng(7);
    for _ in 0..4000 {
        let bytes: Vec<u8> = (0..rng.below(200)).map(|_| rng.next() as u8).collect();
        exercise(&bytes, "build.x.1.log_uploaded");
        let text: String = bytes
            .iter()
            .map(|b| char::from(b" abcdeflnotu-_.0123456789/"[*b as usize % 26]))
            .collect();
        let _ = buildername::parse(&text);
    }
}
