//! What the Taskcluster monitor tests share: the corpus, the local broker,
//! expectations written by hand, and a local queue serving task definitions.
#![allow(dead_code)]

use std::collections::{BTreeMap, HashMap};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use pulse_build_monitor::{BuildType, ConnectionSettings, Record};
use serde_json::Value;
use tiny_http::{Header, Request, Response, Server};

const CORPUS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/corpus/taskcluster"
);

fn in_ci() -> bool {
    std::env::var("CI").as_deref() == Ok("true")
}

/// A corpus folder, or `None` after a loud skip; under `CI=true` a missing
/// corpus fails the test.
pub fn corpus_dir(name: &str) -> Option<PathBuf> {
    let dir = Path::new(CORPUS).join(name);
    if dir.is_dir() {
        return Some(dir);
    }
    assert!(!in_ci(), "CI=true but corpus {} is missing", dir.display());
    eprintln!(
        "\n*** SKIP: corpus {} is missing; test not run (CI=true fails instead) ***\n",
        dir.display()
    );
    None
}

/// The local broker, or `None` after a loud skip; under `CI=true` an
/// unreachable broker fails the test.
pub fn broker_or_skip(name: &str) -> Option<ConnectionSettings> {
    let addr: SocketAddr = "127.0.0.1:5672".parse().unwrap();
    match TcpStream::connect_timeout(&addr, Duration::from_secs(2)) {
        Ok(_) => {
            let mut settings =
                ConnectionSettings::from_url("amqp://guest:guest@127.0.0.1:5672/").unwrap();
            settings.connection_name = name.to_string();
            Some(settings)
        }
        Err(e) => {
            assert!(!in_ci(), "CI=true but no RabbitMQ at {addr}: {e}");
            eprintln!("\n*** SKIP: no RabbitMQ at {addr} ({e}); broker test not run ***\n");
            None
        }
    }
}

pub fn read_json(path: &Path) -> Value {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_slice(&bytes).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The generic platform of each Treeherder machine platform in the corpus,
/// written out by hand so the expectation does not come from the code
/// under test.
pub fn generic_family(treeherder_platform: &str) -> &'static str {
    match treeherder_platform {
        "linux32" => "linux",
        "linux64" | "linux64-qr" | "linux64-shippable" | "linux64-shippable-qr" => "linux64",
        "windows7-32" | "windows7-32-shippable" => "win32",
        "windows10-64" | "windows10-64-qr" | "windows10-64-shippable" => "win64",
        "macosx1010-64" | "macosx1014-64" | "macosx1014-64-shippable" => "macosx64",
        "android-em-4-3-armv7-api16"
        | "android-em-7-0-x86_64"
        | "android-hw-p2-8-0-android-aarch64" => "android",
        other => panic!("add Treeherder platform {other:?} to the test's table"),
    }
}

/// The build type an option collection names: its one key. `asan`
/// builds in the corpus are opt builds (their labels say `/opt`), as
/// buildbot's `linux64-asan` ones were.
pub fn collection_buildtype(collection: &Value) -> BuildType {
    let keys: Vec<&str> = collection
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    match keys.as_slice() {
        ["opt"] | ["asan"] => BuildType::Opt,
        ["debug"] => BuildType::Debug,
        ["pgo"] => BuildType::Pgo,
        other => panic!("add option collection {other:?} to the test's table"),
    }
}

/// The record type, in Treeherder's job-kind words.
pub fn kind_of(record: &Record) -> &'static str {
    match record {
        Record::Build(_) => "build",
        Record::Test(_) => "test",
        Record::Task(task) => task.job_kind.as_str(),
    }
}

/// Project and revision of the first `tc-treeherder.v2.<project>.<revision>[.<push>]` route.
pub fn treeherder_route(routes: &[String]) -> Option<(String, String)> {
    routes.iter().find_map(|route| {
        let route = route.strip_prefix("route.").unwrap_or(route);
        let parts: Vec<&str> = route.split('.').collect();
        match parts.as_slice() {
            ["tc-treeherder", "v2", project, revision, ..] => {
                Some((project.to_string(), revision.to_string()))
            }
            _ => None,
        }
    })
}

/// The lines of a dead-letter file, as (routing key, error).
pub fn dead_letters(path: &Path) -> Vec<(String, String)> {
    let Ok(text) = std::fs::read_to_string(path) else {
        return Vec::new();
    };
    text.lines()
        .map(|line| {
            let letter: Value = serde_json::from_str(line).unwrap();
            (
                letter["routing_key"].as_str().unwrap().to_string(),
                letter["error"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// A Taskcluster queue on 127.0.0.1 that serves task definitions by task
/// id (`GET /api/queue/v1/task/<taskId>`, 404 for others) and counts the
/// requests for each.
pub struct DefinitionServer {
    pub root_url: String,
    requests: Arc<Mutex<BTreeMap<String, usize>>>,
}

impl DefinitionServer {
    pub fn start(definitions: HashMap<String, Vec<u8>>) -> DefinitionServer {
        let server = Server::http("127.0.0.1:0").unwrap();
        let root_url = format!("http://{}", server.server_addr());
        let requests = Arc::new(Mutex::new(BTreeMap::new()));
        let counted = Arc::clone(&requests);
        std::thread::spawn(move || {
            for request in server.incoming_requests() {
                serve(request, &definitions, &counted);
            }
        });
        DefinitionServer { root_url, requests }
    }

    /// Requests so far, by task id.
    pub fn requests(&self) -> BTreeMap<String, usize> {
        self.requests.lock().unwrap().clone()
    }
}

fn serve(
    request: Request,
    definitions: &HashMap<String, Vec<u8>>,
    requests: &Mutex<BTreeMap<String, usize>>,
) {
    let task_id = request
        .url()
        .strip_prefix("/api/queue/v1/task/")
        .unwrap_or_default()
        .to_string();
    let found = definitions.get(&task_id);
    *requests.lock().unwrap().entry(task_id).or_default() += 1;
    let (status, body): (u16, &[u8]) = match found {
        Some(body) => (200, body),
        None => (404, b"{\"code\": \"ResourceNotFound\"}"),
    };
    let json = Header::from_bytes("Content-Type", "application/json").unwrap();
    let _ = request.respond(
        Response::from_data(body)
            .with_status_code(status)
            .with_header(json),
    );
}
