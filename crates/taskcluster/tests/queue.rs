//! The client against a local queue (`pulse_test_support::QueueServer`):
//! every promise of `Queue` with the answer that tests it: pages, gzip,
//! redirects, 404, 500 then 200, a hang, garbage, an oversize body.

use std::sync::mpsc;
use std::time::Duration;

use pulse_taskcluster::{ErrorKind, Queue, Retry};
use pulse_test_support::{wait_for, QueueServer, Reply};
use serde_json::json;

const TASK: &str = "Cd8bq3YfS6ifUeBcwnmuPg";
const GROUP: &str = "Ff4OpY5JSjWnuDZxdd0BYA";

fn task_path(id: &str) -> String {
    format!("/api/queue/v1/task/{id}")
}

fn list_path(run: u32) -> String {
    format!("/api/queue/v1/task/{TASK}/runs/{run}/artifacts")
}

fn artifact_path(name: &str) -> String {
    format!("{}/{name}", list_path(0))
}

/// Quick retries, so the tests of retries are quick too.
fn queue(server: &QueueServer) -> Queue {
    Queue::new(&server.root_url).unwrap().retry(Retry {
        retries: 2,
        base: Duration::from_millis(1),
        cap: Duration::from_millis(5),
    })
}

fn artifact(name: &str) -> serde_json::Value {
    json!({"storageType": "s3", "name": name, "expires": "2030-01-01T00:00:00.000Z", "contentType": "text/plain"})
}

#[test]
fn task_definitions_are_fetched_once() {
    let definition = json!({"taskGroupId": GROUP, "metadata": {"name": "build-linux64/opt"}});
    let server = QueueServer::start([(task_path(TASK), Reply::Json(definition.clone()))]);
    let queue = queue(&server).cache_capacity(10);
    let task = queue.task(TASK).unwrap();
    assert_eq!(task.json(), &definition);
    assert_eq!(task.name(), Some("build-linux64/opt"));
    assert_eq!(task.task_group_id(), Some(GROUP));
    queue.task(TASK).unwrap();
    assert_eq!(
        server.requests_to(&task_path(TASK)),
        1,
        "the second from the cache"
    );
    assert_eq!(queue.cached(), 1);
}

#[test]
fn the_oldest_definitions_make_room() {
    let ids: Vec<String> = (0..3).map(|n| format!("A{n:021}")).collect();
    let server = QueueServer::start(ids.iter().map(|id| (task_path(id), Reply::Json(json!({})))));
    let queue = queue(&server).cache_capacity(2);
    for id in &ids {
        queue.task(id).unwrap();
    }
    queue.task(&ids[2]).unwrap();
    queue.task(&ids[0]).unwrap();
    assert_eq!(server.requests_to(&task_path(&ids[2])), 1, "kept");
    assert_eq!(
        server.requests_to(&task_path(&ids[0])),
        2,
        "evicted, fetched again"
    );

    let none = Queue::new(&server.root_url).unwrap().cache_capacity(0);
    none.task(&ids[1]).unwrap();
    none.task(&ids[1]).unwrap();
    assert_eq!(
        (none.cached(), server.requests_to(&task_path(&ids[1]))),
        (0, 3)
    );
}

#[test]
fn an_artifact_list_over_two_pages() {
    // The token has characters that must be escaped in a query.
    let server = QueueServer::start([
        (
            list_path(1),
            Reply::Json(
                json!({"artifacts": [artifact("public/logs/live_backing.log")], "continuationToken": "page 2/+="}),
            ),
        ),
        (
            format!("{}?continuationToken=page%202%2F%2B%3D", list_path(1)),
            Reply::Json(
                json!({"artifacts": [artifact("public/build/target.tar.xz"), {"name": "public/build/target.json"}]}),
            ),
        ),
    ]);
    let queue = queue(&server);
    let names = |list: &[pulse_taskcluster::Artifact]| -> Vec<String> {
        list.iter().map(|a| a.name.clone()).collect()
    };
    let list = queue.artifacts(TASK, 1).unwrap();
    assert_eq!(
        names(&list),
        [
            "public/logs/live_backing.log",
            "public/build/target.tar.xz",
            "public/build/target.json"
        ]
    );
    assert_eq!(list[1].content_type, "text/plain");
    assert_eq!(
        list[2].storage_type, "",
        "fields the queue left out are empty"
    );

    // A resolved run's list is cached; a running run's never is.
    let resolved = queue.resolved_run_artifacts(TASK, 1).unwrap();
    assert_eq!(names(&resolved), names(&list));
    queue.resolved_run_artifacts(TASK, 1).unwrap();
    queue.artifacts(TASK, 1).unwrap();
    assert_eq!(server.requests_to(&list_path(1)), 3);
    assert_eq!(queue.cached_artifact_lists(), 1);
}

#[test]
fn a_gzip_artifact_behind_a_redirect_is_read_decoded() {
    let log =
        b"{\"action\": \"crash\", \"test\": \"a.js\", \"signature\": \"abort\"}\n".repeat(100);
    let name = "public/test_info/xpcshell_errorsummary.log";
    let server = QueueServer::start([
        (
            artifact_path(name),
            Reply::Redirect("/storage/xpcshell_errorsummary.log".into()),
        ),
        (
            "/storage/xpcshell_errorsummary.log".to_string(),
            Reply::Gzip(log.clone()),
        ),
    ]);
    let queue = queue(&server);
    assert_eq!(queue.artifact(TASK, 0, name).unwrap(), log);
    let direct = format!("{}/storage/xpcshell_errorsummary.log", server.root_url);
    assert_eq!(queue.download(&direct).unwrap(), log);
}

#[test]
fn not_found_is_not_retried() {
    let server = QueueServer::start([(artifact_path("public/gone.log"), Reply::Status(404))]);
    let error = queue(&server)
        .artifact(TASK, 0, "public/gone.log")
        .unwrap_err();
    assert!(error.is_not_found(), "{error}");
    let url = format!("{}{}", server.root_url, artifact_path("public/gone.log"));
    assert_eq!(
        error.kind(),
        &ErrorKind::Status {
            url: url.clone(),
            status: 404,
            attempts: 1
        }
    );
    assert_eq!(
        error.to_string(),
        format!("cannot fetch {url:?}: the server answered 404")
    );
    assert_eq!(server.requests_to(&artifact_path("public/gone.log")), 1);

    // Any 4xx: a 403 or a 429 is not asked again either.
    let server = QueueServer::start([(task_path(TASK), Reply::Status(429))]);
    assert_eq!(queue(&server).task(TASK).unwrap_err().status(), Some(429));
    assert_eq!(server.requests_to(&task_path(TASK)), 1);
}

#[test]
fn a_500_then_200_is_retried() {
    let server = QueueServer::start([(
        task_path(TASK),
        Reply::FailFirst {
            times: 1,
            status: 500,
            then: Box::new(Reply::Json(json!({"ok": true}))),
        },
    )]);
    let queue = queue(&server);
    assert_eq!(queue.task(TASK).unwrap().json()["ok"], true);
    assert_eq!(server.requests_to(&task_path(TASK)), 2);
}

#[test]
fn a_5xx_that_lasts_gives_up_after_the_retries() {
    let server = QueueServer::start([(task_path(TASK), Reply::Status(503))]);
    let error = queue(&server).task(TASK).unwrap_err();
    assert_eq!(error.status(), Some(503));
    assert!(
        matches!(error.kind(), ErrorKind::Status { attempts: 3, .. }),
        "{error:?}"
    );
    assert!(
        error
            .to_string()
            .ends_with("the server answered 503 (3 attempts)"),
        "{error}"
    );
    assert_eq!(server.requests_to(&task_path(TASK)), 3);
    assert_eq!(queue(&server).cached(), 0, "failures are not cached");

    let no_retries = queue(&server).retry(Retry {
        retries: 0,
        ..Retry::default()
    });
    assert!(matches!(
        no_retries.task(TASK).unwrap_err().kind(),
        ErrorKind::Status { attempts: 1, .. }
    ));
}

#[test]
fn a_queue_that_is_down_is_retried_then_a_transport_error() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let root = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let queue = Queue::new(&root).unwrap().retry(Retry {
        retries: 1,
        base: Duration::from_millis(1),
        cap: Duration::from_millis(1),
    });
    let error = queue.task(TASK).unwrap_err();
    match error.kind() {
        ErrorKind::Transport { url, attempts, .. } => {
            assert_eq!(url, &format!("{root}/api/queue/v1/task/{TASK}"));
            assert_eq!(*attempts, 2);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_hang_ends_at_the_timeout_and_is_not_retried() {
    let server = QueueServer::start([(task_path(TASK), Reply::Hang)]);
    let timeout = Duration::from_millis(300);
    let queue = queue(&server).timeout(timeout);
    let error = queue.task(TASK).unwrap_err();
    assert_eq!(
        error.kind(),
        &ErrorKind::Timeout {
            url: format!("{}{}", server.root_url, task_path(TASK)),
            after: timeout
        }
    );
    assert!(
        error.to_string().contains("no answer within 300ms"),
        "{error}"
    );
    assert_eq!(server.requests_to(&task_path(TASK)), 1);
}

#[test]
fn garbage_is_a_bad_body() {
    let server = QueueServer::start([
        (task_path(TASK), Reply::Bytes(b"<html>oops</html>".to_vec())),
        (
            task_path("A000000000000000000000"),
            Reply::Json(json!([1, 2])),
        ),
        (
            list_path(0),
            Reply::Json(json!({"artifacts": [{"nom": "x"}]})),
        ),
        (list_path(1), Reply::Json(json!({"tasks": []}))),
    ]);
    let queue = queue(&server);
    let bad = |error: pulse_taskcluster::Error| match error.kind() {
        ErrorKind::BadBody { url, reason } => {
            assert!(url.starts_with(&server.root_url), "{url}");
            reason.clone()
        }
        other => panic!("{other:?}"),
    };
    assert!(bad(queue.task(TASK).unwrap_err()).contains("expected value"));
    assert!(bad(queue.task("A000000000000000000000").unwrap_err()).contains("json object"));
    assert!(bad(queue.artifacts(TASK, 0).unwrap_err()).contains("missing field `name`"));
    assert_eq!(
        bad(queue.artifacts(TASK, 1).unwrap_err()),
        "the answer has no \"artifacts\" list"
    );
    assert_eq!(queue.cached(), 0);
}

#[test]
fn oversize_bodies_are_refused() {
    let big = vec![b'x'; 100_000];
    let server = QueueServer::start([
        (artifact_path("public/big.bin"), Reply::Bytes(big.clone())),
        // Small on the wire, large decoded: the cap counts what is read.
        (artifact_path("public/bomb.log"), Reply::Gzip(big.clone())),
        (
            task_path(TASK),
            Reply::Json(json!({"padding": "y".repeat(5000)})),
        ),
    ]);
    let queue = queue(&server)
        .max_artifact_bytes(50_000)
        .max_json_bytes(1000);
    for name in ["public/big.bin", "public/bomb.log"] {
        let error = queue.artifact(TASK, 0, name).unwrap_err();
        assert!(
            matches!(error.kind(), ErrorKind::TooLarge { limit: 50_000, .. }),
            "{name}: {error:?}"
        );
        assert!(error.to_string().contains("over 50000 bytes"), "{error}");
        assert_eq!(server.requests_to(&artifact_path(name)), 1, "not retried");
    }
    assert!(matches!(
        queue.task(TASK).unwrap_err().kind(),
        ErrorKind::TooLarge { limit: 1000, .. }
    ));
    let roomy = queue.max_artifact_bytes(100_000);
    assert_eq!(
        roomy.artifact(TASK, 0, "public/bomb.log").unwrap(),
        big,
        "at the cap is fine"
    );
}

fn member(id: &str) -> serde_json::Value {
    json!({
        "status": {"taskId": id, "taskGroupId": GROUP, "state": "completed", "provisionerId": "p",
                   "runs": [{"runId": 0, "state": "failed", "reasonCreated": "scheduled", "reasonResolved": "failed", "scheduled": "2024-01-01T00:00:00Z"},
                            {"runId": 1, "state": "completed", "reasonCreated": "retry", "scheduled": "2024-01-01T00:10:00Z"}]},
        "task": {"taskGroupId": GROUP, "metadata": {"name": format!("test-{id}")}},
    })
}

#[test]
fn a_task_group_over_pages_an_empty_one_among_them() {
    let path = format!("/api/queue/v1/task-group/{GROUP}/list");
    let server = QueueServer::start([
        (
            path.clone(),
            Reply::Json(
                json!({"taskGroupId": GROUP, "tasks": [member("a"), member("b")], "continuationToken": "t1"}),
            ),
        ),
        (
            format!("{path}?continuationToken=t1"),
            Reply::Json(json!({"taskGroupId": GROUP, "tasks": [], "continuationToken": "t2"})),
        ),
        (
            format!("{path}?continuationToken=t2"),
            Reply::Json(json!({"taskGroupId": GROUP, "tasks": [member("c")]})),
        ),
    ]);
    let queue = queue(&server);
    let pages: Vec<usize> = queue
        .task_group_pages(GROUP)
        .unwrap()
        .map(|page| page.unwrap().len())
        .collect();
    assert_eq!(pages, [2, 0, 1]);
    let members = queue.list_task_group(GROUP).unwrap();
    let ids: Vec<&str> = members.iter().map(|m| m.status.task_id.as_str()).collect();
    assert_eq!(ids, ["a", "b", "c"]);
    let runs = &members[0].status.runs;
    assert_eq!(
        (runs[0].reason_resolved.as_deref(), runs[0].is_resolved()),
        (Some("failed"), true)
    );
    assert_eq!(members[2].task.name(), Some("test-c"));
}

#[test]
fn a_token_that_comes_back_ends_the_paging() {
    let path = format!("/api/queue/v1/task-group/{GROUP}/list");
    let server = QueueServer::start([
        (
            path.clone(),
            Reply::Json(json!({"tasks": [member("a")], "continuationToken": "again"})),
        ),
        (
            format!("{path}?continuationToken=again"),
            Reply::Json(json!({"tasks": [member("b")], "continuationToken": "again"})),
        ),
    ]);
    let error = queue(&server).list_task_group(GROUP).unwrap_err();
    assert_eq!(
        error.kind(),
        &ErrorKind::Paging {
            url: format!("{}{path}", server.root_url),
            reason: "continuation token \"again\" came twice".into()
        }
    );
    assert_eq!(server.requests_to(&path), 1);
}

#[test]
fn ids_that_would_not_make_safe_urls_never_reach_the_queue() {
    let server = QueueServer::start(Vec::<(String, Reply)>::new());
    let queue = queue(&server);
    assert_eq!(
        queue.task("../../secrets").unwrap_err().to_string(),
        "\"../../secrets\" is not a task id"
    );
    assert!(matches!(
        queue.list_task_group("nope").unwrap_err().kind(),
        ErrorKind::BadId {
            what: "task group id",
            ..
        }
    ));
    assert!(matches!(
        queue.artifact(TASK, 0, "public/../x").unwrap_err().kind(),
        ErrorKind::BadId {
            what: "artifact name",
            ..
        }
    ));
    assert!(server.requests().is_empty());
}

#[test]
fn one_place_means_one_request_at_a_time() {
    // With one place, a request that hangs holds it for its timeout (3 s):
    // a second request does not reach the server while it does, and does
    // once it has timed out. Unbounded, the second would arrive at once.
    let fast_id = "B000000000000000000000";
    let server = QueueServer::start([
        (task_path(TASK), Reply::Hang),
        (task_path(fast_id), Reply::Json(json!({}))),
    ]);
    let queue = std::sync::Arc::new(
        queue(&server)
            .concurrency(1)
            .timeout(Duration::from_secs(3)),
    );
    let hanging = queue.clone();
    std::thread::spawn(move || hanging.task(TASK).map(|_| ()));
    assert!(wait_for(Duration::from_secs(5), || server
        .requests_to(&task_path(TASK))
        == 1));
    let (done, finished) = mpsc::channel();
    let fast = queue.clone();
    std::thread::spawn(move || done.send(fast.task(fast_id).is_ok()).unwrap());
    assert!(
        !wait_for(Duration::from_secs(1), || server
            .requests_to(&task_path(fast_id))
            > 0),
        "the second request got through while the first held the only place"
    );
    assert_eq!(finished.recv_timeout(Duration::from_secs(10)), Ok(true));
    assert_eq!(server.requests_to(&task_path(fast_id)), 1);
}

#[test]
fn build_urls_of_a_resolved_build_run() {
    let server = QueueServer::start([(
        list_path(0),
        Reply::Json(json!({"artifacts": [
            artifact("public/build/target.dmg"),
            artifact("public/build/target.crashreporter-symbols.zip"),
        ]})),
    )]);
    let queue = queue(&server);
    let urls = queue.build_urls(TASK, 0).unwrap();
    let url = |name: &str| Some(format!("{}{}", server.root_url, artifact_path(name)));
    assert_eq!(urls.installer, url("public/build/target.dmg"));
    assert_eq!(
        urls.symbols,
        url("public/build/target.crashreporter-symbols.zip")
    );
    assert_eq!((urls.tests, urls.test_packages), (None, None));
}

#[test]
fn the_failure_summary_of_a_run_reads_each_errorsummary() {
    let crash = br#"{"action": "crash", "test": "a.js", "signature": "abort", "group": "a.toml"}"#;
    let fail = br#"{"action": "test_result", "test": "b.js", "status": "FAIL", "expected": "PASS", "group": "b.toml"}
{"action": "group_result", "group": "b.toml", "status": "ERROR"}"#;
    let (one, two) = (
        "public/test_info/xpcshell-1_errorsummary.log",
        "public/test_info/xpcshell-2_errorsummary.log",
    );
    let server = QueueServer::start([
        (
            list_path(0),
            Reply::Json(json!({"artifacts": [
                artifact("public/logs/live_backing.log"), artifact(one), artifact(two),
            ]})),
        ),
        (artifact_path(one), Reply::Redirect("/storage/1".into())),
        ("/storage/1".to_string(), Reply::Gzip(crash.to_vec())),
        (artifact_path(two), Reply::Bytes(fail.to_vec())),
        (
            list_path(1),
            Reply::Json(json!({"artifacts": [artifact("public/logs/live_backing.log")]})),
        ),
        (
            list_path(2),
            Reply::Json(json!({"artifacts": [artifact(one)]})),
        ),
    ]);
    let queue = queue(&server);
    let limits = pulse_taskcluster::errorsummary::Limits::default();
    let summary = queue.failure_summary(TASK, 0, &limits).unwrap();
    let lines: Vec<String> = summary.failures.iter().map(|f| f.line()).collect();
    assert_eq!(
        lines,
        [
            "PROCESS-CRASH | abort | a.js",
            "TEST-UNEXPECTED-FAIL | b.js - expected PASS"
        ]
    );
    assert_eq!(summary.failing_groups, ["b.toml"]);
    assert_eq!((summary.files, summary.unusable()), (2, None));
    assert_eq!(
        server.requests_to(&artifact_path("public/logs/live_backing.log")),
        0,
        "only errorsummaries are read"
    );

    let none = queue.failure_summary(TASK, 1, &limits).unwrap();
    assert_eq!(
        none.unusable().as_deref(),
        Some("the run uploaded no errorsummary")
    );

    // Listed, but gone from the store: the error names the artifact's URL.
    let gone = queue.failure_summary(TASK, 2, &limits).unwrap_err();
    assert!(gone.is_not_found(), "{gone}");
    assert!(gone
        .url()
        .unwrap()
        .ends_with("/runs/2/artifacts/public/test_info/xpcshell-1_errorsummary.log"));
}

/// A queue answering every request with two bytes on a connection it
/// keeps open (HTTP/1.1 keep-alive), after a short pause so requests
/// overlap; counts the connections it accepted.
fn keep_alive_server() -> (String, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    use std::io::{BufRead, BufReader, Write};
    use std::sync::atomic::{AtomicUsize, Ordering};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let root = format!("http://{}", listener.local_addr().unwrap());
    let accepted = std::sync::Arc::new(AtomicUsize::new(0));
    let counted = accepted.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { return };
            counted.fetch_add(1, Ordering::SeqCst);
            std::thread::spawn(move || {
                let mut writer = stream.try_clone().unwrap();
                let mut reader = BufReader::new(stream);
                loop {
                    // A request: lines up to the empty one (GETs have no body).
                    let mut line = String::new();
                    loop {
                        line.clear();
                        match reader.read_line(&mut line) {
                            Ok(0) | Err(_) => return,
                            Ok(_) if line == "\r\n" => break,
                            Ok(_) => {}
                        }
                    }
                    std::thread::sleep(Duration::from_millis(2));
                    let answer = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Type: text/plain\r\n\r\nok";
                    if writer.write_all(answer).is_err() {
                        return;
                    }
                }
            });
        }
    });
    (root, accepted)
}

#[test]
fn requests_in_flight_at_once_reuse_their_connections() {
    let (root, accepted) = keep_alive_server();
    let queue = std::sync::Arc::new(Queue::new(&root).unwrap().concurrency(4));
    let workers: Vec<_> = (0..4)
        .map(|worker| {
            let queue = queue.clone();
            std::thread::spawn(move || {
                for n in 0..25 {
                    let name = format!("public/{worker}-{n}.txt");
                    assert_eq!(queue.artifact(TASK, 0, &name).unwrap(), b"ok");
                }
            })
        })
        .collect();
    for worker in workers {
        worker.join().unwrap();
    }
    // One connection for each place at most: a new connection per request
    // (a TLS handshake each, against the real queue) is what this prevents.
    let connections = accepted.load(std::sync::atomic::Ordering::SeqCst);
    assert!(
        connections <= 4,
        "{connections} connections for 100 requests, 4 at a time"
    );
}
