//! [`DefinitionServer`] and [`QueueServer`]: local stand-ins for the
//! Taskcluster queue.

use std::collections::{BTreeMap, HashMap};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use pulse_local_queue::LocalQueue;
pub use pulse_local_queue::Reply;

/// Where the queue answers a task's definition.
const TASK_PATH: &str = "/api/queue/v1/task/";

/// A [`LocalQueue`] on 127.0.0.1 that serves task definitions by task id
/// (`GET /api/queue/v1/task/<taskId>`, 404 for others) and counts the
/// requests for each, as long as the test holds it.
pub struct DefinitionServer {
    /// `http://127.0.0.1:<port>`: the root URL to hand the fetcher.
    pub root_url: String,
    local: LocalQueue,
}

impl DefinitionServer {
    /// Starts serving `definitions` (task id to JSON body) on a free port.
    pub fn start(definitions: HashMap<String, Vec<u8>>) -> DefinitionServer {
        let routes = definitions
            .into_iter()
            .map(|(task_id, body)| (format!("{TASK_PATH}{task_id}"), Reply::Bytes(body)));
        let local = LocalQueue::serve(routes, ANY_LOCAL_PORT).expect("a local queue on 127.0.0.1");
        DefinitionServer {
            root_url: local.root_url().to_owned(),
            local,
        }
    }

    /// Requests so far, by task id (other paths as asked).
    pub fn requests(&self) -> BTreeMap<String, usize> {
        self.local
            .requests()
            .into_iter()
            .map(|(path, count)| match path.strip_prefix(TASK_PATH) {
                Some(task_id) => (task_id.to_string(), count),
                None => (path, count),
            })
            .collect()
    }
}

/// A [`LocalQueue`] on 127.0.0.1 for a test: it starts or the test fails,
/// and serves as long as the test holds it.
pub struct QueueServer {
    /// `http://127.0.0.1:<port>`: the root URL to hand the client.
    pub root_url: String,
    local: LocalQueue,
}

impl QueueServer {
    /// Starts serving `routes` (path and query to reply) on a free port.
    pub fn start<P: Into<String>>(routes: impl IntoIterator<Item = (P, Reply)>) -> QueueServer {
        QueueServer::from(LocalQueue::serve(routes, ANY_LOCAL_PORT))
    }

    /// The queue's API for a generated push ([`pulse_synthetic::Push::queue_api`]):
    /// artifact lists, test definitions, errorsummaries; each of `overrides`
    /// (path and reply) answers instead of what the push would.
    pub fn serving_push<P: Into<String>>(
        push: &pulse_synthetic::Push,
        overrides: impl IntoIterator<Item = (P, Reply)>,
    ) -> QueueServer {
        QueueServer::from(LocalQueue::serve_push_with(push, overrides, ANY_LOCAL_PORT))
    }

    fn from(started: Result<LocalQueue, pulse_local_queue::Error>) -> QueueServer {
        let local = started.expect("a local queue on 127.0.0.1");
        QueueServer {
            root_url: local.root_url().to_owned(),
            local,
        }
    }

    /// Requests so far, by path and query.
    pub fn requests(&self) -> BTreeMap<String, usize> {
        self.local.requests()
    }

    /// Requests so far to one path and query.
    pub fn requests_to(&self, path: &str) -> usize {
        self.local.requests_to(path)
    }
}

const ANY_LOCAL_PORT: SocketAddr = SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 0);
