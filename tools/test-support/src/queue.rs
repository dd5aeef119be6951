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
