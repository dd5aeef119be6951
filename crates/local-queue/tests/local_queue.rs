//! A local queue answers a generated push as the real queue would, counts
//! what it was asked, says which address it could not take, and stops
//! serving when dropped.

use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use pulse_local_queue::{ErrorKind, LocalQueue, Reply};
use pulse_synthetic::{JobKind, Push};
use pulse_taskcluster::Queue;
use pulse_test_corpus::wait_until;

fn any_port() -> SocketAddr {
    "127.0.0.1:0".parse().unwrap()
}

#[test]
fn a_local_queue_answers_the_push_and_overrides_until_dropped() {
    let push = Push::builder().tree("autoland").tasks(300).seed(7).build();
    let test = push
        .tasks
        .iter()
        .find(|t| t.job_kind == JobKind::Test)
        .expect("a test task");
    let failing = format!("/api/queue/v1/task/{}/runs/0/artifacts", test.task_id);
    let local =
        LocalQueue::serve_push_with(&push, [(failing.clone(), Reply::Status(500))], any_port())
            .unwrap();
    let queue = Queue::new(local.root_url()).unwrap();

    let definition = queue.task(&test.task_id).unwrap();
    assert_eq!(definition.task_group_id(), Some(push.task_group_id()));
    assert_eq!(
        local.requests_to(&format!("/api/queue/v1/task/{}", test.task_id)),
        1
    );
    // The override answers instead of the push (retried, as a 5xx is).
    let error = queue.artifacts(&test.task_id, 0).unwrap_err();
    assert!(error.to_string().contains("500"), "{error}");
    assert!(local.requests_to(&failing) > 1);

    let address = local.root_url().trim_start_matches("http://").to_string();
    drop(local);
    // tiny_http lets go of its listener on its own thread, just after.
    wait_until(
        Duration::from_secs(10),
        "the dropped queue's port closed",
        || TcpStream::connect(&address).is_err(),
    );
}

#[test]
fn an_address_in_use_is_a_bind_error_that_names_it() {
    let first = LocalQueue::serve(Vec::<(String, Reply)>::new(), any_port()).unwrap();
    let taken: SocketAddr = first
        .root_url()
        .trim_start_matches("http://")
        .parse()
        .unwrap();
    let error = LocalQueue::serve(Vec::<(String, Reply)>::new(), taken)
        .err()
        .expect("the address is taken");
    assert!(
        matches!(error.kind(), ErrorKind::Bind { address, .. } if *address == taken),
        "{error:?}"
    );
    assert!(error.to_string().contains(&taken.to_string()), "{error}");
}
