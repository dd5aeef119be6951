//! [`DefinitionServer`] and [`QueueServer`]: local stand-ins for the
//! Taskcluster queue.

use std::collections::{BTreeMap, HashMap};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};

use pulse_local_queue::LocalQueue;
pub use pulse_local_queue::Reply;

use tiny_http::{Header, Request, Response, Server};

/// A Taskcluster queue on 127.0.0.1 that serves task definitions by task
/// id (`GET /api/queue/v1/task/<taskId>`, 404 for others) and counts the
/// requests for each. It serves until the test process ends.
pub struct DefinitionServer {
    /// `http://127.0.0.1:<port>`: the root URL to hand the fetcher.
    pub root_url: String,
    requests: Arc<Mutex<BTreeMap<String, usize>>>,
}

impl DefinitionServer {
    /// Starts serving `definitions` (task id to JSON body) on a free port.
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
