//! `replay::stream` reads recordings as it goes: a message is handed out
//! before the rest of the file is read, bodies are the recorded JSON text
//! as it was (parsed once, by the translator), and a bad line is skipped
//! with its line number while the lines after it are read.

use pulse_build_monitor::replay;

fn recording(lines: usize, bad_line: usize) -> (std::path::PathBuf, Vec<String>) {
    let path = std::env::temp_dir().join(format!(
        "replay-stream-{}-{}.jsonl",
        std::process::id(),
        pulse_wire::random_label()
    ));
    let mut text = String::new();
    let mut bodies = Vec::new();
    for n in 1..=lines {
        if n == bad_line {
            text.push_str("{\"exchange\": \"exchange/build/\", \"routing_key\": 7}\n");
            continue;
        }
        // Spaces and key order a re-serialization would change.
        let body = format!(r#"{{"z": {n},  "a": [1, 2.50, "x"]}}"#);
        text.push_str(&format!(
            r#"{{"exchange":"exchange/build/","routing_key":"build.b.{n}.finished","body":{body}}}"#
        ));
        text.push('\n');
        bodies.push(body);
    }
    std::fs::write(&path, text).unwrap();
    (path, bodies)
}

#[test]
fn recordings_are_read_as_they_are_asked_for() {
    let (path, bodies) = recording(20_000, 7_777);
    let mut messages = replay::stream(&[&path]).unwrap();
    let (read, total) = (messages.bytes_read(), messages.total_bytes());
    let skipped = messages.skipped();

    let first = messages.next().unwrap();
    assert_eq!(first.routing_key, "build.b.1.finished");
    let after_first = read.load(std::sync::atomic::Ordering::Relaxed);
    assert!(
        after_first * 100 < total,
        "read {after_first} of {total} bytes for one message"
    );

    let rest: Vec<_> = messages.collect();
    assert_eq!(rest.len() + 1, bodies.len());
    assert_eq!(read.load(std::sync::atomic::Ordering::Relaxed), total);
    let all_bodies: Vec<String> = std::iter::once(first)
        .chain(rest)
        .map(|m| String::from_utf8(m.body).unwrap())
        .collect();
    assert_eq!(all_bodies, bodies, "bodies exactly as recorded");

    let skipped = skipped.take();
    assert_eq!(skipped.len(), 1, "{skipped:?}");
    let error = skipped[0].to_string();
    assert!(error.contains("line 7777"), "{error}");
    assert!(error.contains(&path.display().to_string()), "{error}");
    std::fs::remove_file(&path).unwrap();
}

#[test]
fn load_paths_still_fails_on_the_first_bad_line() {
    let (path, _) = recording(10, 4);
    let error = replay::load_paths(&[&path]).unwrap_err();
    assert!(error.to_string().contains("line 4"), "{error}");
    std::fs::remove_file(&path).unwrap();
}
