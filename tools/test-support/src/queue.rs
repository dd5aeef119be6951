//! [`DefinitionServer`]: a local stand-in for the Taskcluster queue.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

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

/// What [`QueueServer`] answers at one path.
#[derive(Debug, Clone)]
pub enum Reply {
    /// 200 with a JSON body.
    Json(serde_json::Value),
    /// 200 with these bytes, as `application/octet-stream`.
    Bytes(Vec<u8>),
    /// 200 with these bytes gzipped, `Content-Encoding: gzip`, as the
    /// queue's storage serves logs.
    Gzip(Vec<u8>),
    /// 303 to this path on the same server, as the queue redirects an
    /// artifact to where it is stored.
    Redirect(String),
    /// This status with a Taskcluster-style JSON error body.
    Status(u16),
    /// `status` for the first `times` requests, then `then`.
    FailFirst {
        /// How many requests fail.
        times: usize,
        /// With which status.
        status: u16,
        /// What the later ones get.
        then: Box<Reply>,
    },
    /// Reads the request and never answers (the connection stays open
    /// until the test process ends).
    Hang,
}

/// A Taskcluster queue (or artifact store) on 127.0.0.1 that answers each
/// path (with its query, as requested: `…/artifacts?continuationToken=t1`)
/// with its [`Reply`], 404 for others, and counts the requests per path.
/// It serves until the test process ends.
pub struct QueueServer {
    /// `http://127.0.0.1:<port>`: the root URL to hand the client.
    pub root_url: String,
    requests: Arc<Mutex<BTreeMap<String, usize>>>,
}

impl QueueServer {
    /// Starts serving `routes` (path and query to reply) on a free port.
    pub fn start<P: Into<String>>(routes: impl IntoIterator<Item = (P, Reply)>) -> QueueServer {
        let routes: HashMap<String, Reply> =
            routes.into_iter().map(|(p, r)| (p.into(), r)).collect();
        let server = Server::http("127.0.0.1:0").unwrap();
        let root_url = format!("http://{}", server.server_addr());
        let requests = Arc::new(Mutex::new(BTreeMap::new()));
        let counted = Arc::clone(&requests);
        let root = root_url.clone();
        std::thread::spawn(move || {
            // Requests that hang are kept here, unanswered: tiny_http
            // answers 500 for a request dropped without a response.
            let mut parked = Vec::new();
            for request in server.incoming_requests() {
                let path = request.url().to_string();
                let seen = {
                    let mut requests = counted.lock().unwrap();
                    let n = requests.entry(path.clone()).or_default();
                    *n += 1;
                    *n
                };
                match routes.get(&path) {
                    Some(reply) => {
                        if let Some(request) = answer(request, reply, seen, &root) {
                            parked.push(request);
                        }
                    }
                    None => {
                        let _ = request.respond(error_response(404));
                    }
                }
            }
        });
        QueueServer { root_url, requests }
    }

    /// The queue's API for a generated push ([`pulse_synthetic::Push::queue_api`]):
    /// artifact lists, test definitions, errorsummaries; each of `overrides`
    /// (path and reply) answers instead of what the push would.
    pub fn serving_push<P: Into<String>>(
        push: &pulse_synthetic::Push,
        overrides: impl IntoIterator<Item = (P, Reply)>,
    ) -> QueueServer {
        let mut routes: HashMap<String, Reply> = push
            .queue_api()
            .into_iter()
            .map(|(path, answer)| {
                let reply = match answer {
                    pulse_synthetic::ApiAnswer::Json(value) => Reply::Json(value),
                    pulse_synthetic::ApiAnswer::Bytes(bytes) => Reply::Bytes(bytes),
                };
                (path, reply)
            })
            .collect();
        routes.extend(overrides.into_iter().map(|(p, r)| (p.into(), r)));
        QueueServer::start(routes)
    }

    /// Requests so far, by path and query.
    pub fn requests(&self) -> BTreeMap<String, usize> {
        self.requests.lock().unwrap().clone()
    }

    /// Requests so far to one path and query.
    pub fn requests_to(&self, path: &str) -> usize {
        self.requests().get(path).copied().unwrap_or(0)
    }
}

/// Answers `request`, the `seen`th to its path; gives it back when it is to
/// hang.
fn answer(request: Request, reply: &Reply, seen: usize, root: &str) -> Option<Request> {
    let response = match reply {
        Reply::Json(value) => Response::from_data(value.to_string())
            .with_header(header("Content-Type", "application/json")),
        Reply::Bytes(bytes) => Response::from_data(bytes.clone())
            .with_header(header("Content-Type", "application/octet-stream")),
        Reply::Gzip(bytes) => {
            use std::io::Write;
            let mut encoder =
                flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
            encoder.write_all(bytes).unwrap();
            Response::from_data(encoder.finish().unwrap())
                .with_header(header("Content-Type", "text/plain"))
                .with_header(header("Content-Encoding", "gzip"))
        }
        Reply::Redirect(path) => Response::from_data(Vec::new())
            .with_status_code(303)
            .with_header(header("Location", &format!("{root}{path}"))),
        Reply::Status(status) => error_response(*status),
        Reply::FailFirst {
            times,
            status,
            then,
        } => {
            if seen <= *times {
                error_response(*status)
            } else {
                return answer(request, then, seen - times, root);
            }
        }
        Reply::Hang => return Some(request),
    };
    let _ = request.respond(response);
    None
}

fn error_response(status: u16) -> Response<std::io::Cursor<Vec<u8>>> {
    let body =
        format!("{{\"code\": \"Status{status}\", \"message\": \"answered {status} by the test\"}}");
    Response::from_data(body)
        .with_status_code(status)
        .with_header(header("Content-Type", "application/json"))
}

fn header(name: &str, value: &str) -> Header {
    Header::from_bytes(name, value).unwrap()
}
