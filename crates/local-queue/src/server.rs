//! [`LocalQueue`]: the HTTP server, its routes and its request counts.

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;

use pulse_synthetic::Push;
use tiny_http::{Request, Server};

use crate::reply::{answer, error_response, Reply};
use crate::{Error, ErrorKind};

/// A Taskcluster queue on this machine answering each path (with its
/// query, as requested: `…/artifacts?continuationToken=t1`) with its
/// [`Reply`], 404 for others, and counting the requests per path. It
/// serves until dropped.
pub struct LocalQueue {
    root_url: String,
    server: Arc<Server>,
    requests: Arc<Mutex<BTreeMap<String, usize>>>,
    thread: Option<JoinHandle<()>>,
}

impl LocalQueue {
    /// Serves `routes` (path and query, to reply) at `address` (port 0:
    /// a free one).
    pub fn serve<P: Into<String>>(
        routes: impl IntoIterator<Item = (P, Reply)>,
        address: SocketAddr,
    ) -> Result<LocalQueue, Error> {
        let routes: HashMap<String, Reply> =
            routes.into_iter().map(|(p, r)| (p.into(), r)).collect();
        let server = Server::http(address).map_err(|e| {
            Error::new(ErrorKind::Bind {
                address,
                reason: e.to_string(),
            })
        })?;
        let server = Arc::new(server);
        let root_url = format!("http://{}", server.server_addr());
        let requests = Arc::new(Mutex::new(BTreeMap::new()));
        let thread = {
            let (server, requests, root) =
                (Arc::clone(&server), Arc::clone(&requests), root_url.clone());
            std::thread::Builder::new()
                .name("pulse-local-queue".into())
                .spawn(move || answer_all(&server, &routes, &requests, &root))
                .map_err(|e| {
                    Error::new(ErrorKind::Bind {
                        address,
                        reason: format!("no thread to serve it: {e}"),
                    })
                })?
        };
        Ok(LocalQueue {
            root_url,
            server,
            requests,
            thread: Some(thread),
        })
    }

    /// Serves what the queue's API answers about `push`
    /// ([`Push::queue_api`]) at `address`; each of `overrides` (path and
    /// reply) answers instead of what the push would.
    pub fn serve_push(push: &Push, address: SocketAddr) -> Result<LocalQueue, Error> {
        LocalQueue::serve_push_with(push, Vec::<(String, Reply)>::new(), address)
    }

    /// [`LocalQueue::serve_push`], with `overrides` (path and reply)
    /// answering instead of what the push would.
    pub fn serve_push_with<P: Into<String>>(
        push: &Push,
        overrides: impl IntoIterator<Item = (P, Reply)>,
        address: SocketAddr,
    ) -> Result<LocalQueue, Error> {
        let mut routes: HashMap<String, Reply> = push
            .queue_api()
            .into_iter()
            .map(|(path, answer)| (path, Reply::from(answer)))
            .collect();
        routes.extend(overrides.into_iter().map(|(p, r)| (p.into(), r)));
        LocalQueue::serve(routes, address)
    }

    /// `http://<address>:<port>`: the root URL to hand a queue client.
    pub fn root_url(&self) -> &str {
        &self.root_url
    }

    /// Requests so far, by path and query.
    pub fn requests(&self) -> BTreeMap<String, usize> {
        self.requests
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Requests so far to one path and query.
    pub fn requests_to(&self, path: &str) -> usize {
        self.requests
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(path)
            .copied()
            .unwrap_or(0)
    }
}

impl Drop for LocalQueue {
    fn drop(&mut self) {
        self.server.unblock();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Answers every request until the server is unblocked.
fn answer_all(
    server: &Server,
    routes: &HashMap<String, Reply>,
    requests: &Mutex<BTreeMap<String, usize>>,
    root: &str,
) {
    // Requests that hang are kept here, unanswered, until the end:
    // tiny_http answers 500 for a request dropped without a response.
    let mut parked: Vec<Request> = Vec::new();
    for request in server.incoming_requests() {
        let path = request.url().to_string();
        let seen = {
            let mut requests = requests.lock().unwrap_or_else(PoisonError::into_inner);
            let count = requests.entry(path.clone()).or_default();
            *count += 1;
            *count
        };
        match routes.get(&path) {
            Some(reply) => parked.extend(answer(request, reply, seen, root)),
            None => {
                if let Err(e) = request.respond(error_response(404)) {
                    log::debug!("a local queue's 404 was not read: {e}");
                }
            }
        }
    }
}
