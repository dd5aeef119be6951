//! HTTP: [`PageServer`] answers the page, its assets and the JSON API on a
//! few worker threads (`tiny_http`), and gives each event stream a thread
//! of its own that writes what its queue holds.

use std::io::Write;
use std::net::{SocketAddr, TcpListener};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use crossbeam_channel::RecvTimeoutError;
use serde::Serialize;
use tiny_http::{Header, Method, Request, Response, Server};

use crate::assets;
use crate::hub::Subscription;
use crate::{Error, ErrorKind, Shared};

/// Threads answering ordinary requests (streams have their own).
const WORKERS: usize = 4;

/// How often a worker looks whether the server is stopping.
const POLL: Duration = Duration::from_millis(200);

/// The shortest time between two writes to one page's stream. A change is
/// written at once; what follows within this time is gathered and written
/// together. Each write wakes the page's thread, so with a hundred pages
/// open at 1,000 msg/s writing every change cost more CPU than the rest
/// of the monitor (the bench's page row); a fifth of a second is still
/// live to a person.
const STREAM_INTERVAL: Duration = Duration::from_millis(200);

/// Each server's pages are told apart in the shared hub.
static NEXT_SERVER: AtomicU64 = AtomicU64::new(1);

/// A running server of a [`Page`](crate::Page); dropping it stops it and
/// ends its event streams.
pub struct PageServer {
    address: SocketAddr,
    id: u64,
    shared: Arc<Shared>,
    stopping: Arc<AtomicBool>,
    workers: Vec<JoinHandle<()>>,
}

impl std::fmt::Debug for PageServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PageServer")
            .field("address", &self.address)
            .finish_non_exhaustive()
    }
}

impl PageServer {
    pub(crate) fn start(shared: Arc<Shared>, address: SocketAddr) -> Result<PageServer, Error> {
        if !address.ip().is_loopback() && !shared.options.allow_remote {
            return Err(Error::new(ErrorKind::NotLoopback(address)));
        }
        let listener =
            TcpListener::bind(address).map_err(|e| Error::new(ErrorKind::Bind(address, e)))?;
        let bound = listener
            .local_addr()
            .map_err(|e| Error::new(ErrorKind::Bind(address, e)))?;
        let server = Server::from_listener(listener, None).map_err(|e| {
            Error::new(ErrorKind::Bind(
                address,
                std::io::Error::other(e.to_string()),
            ))
        })?;
        let server = Arc::new(server);
        let id = NEXT_SERVER.fetch_add(1, Ordering::Relaxed);
        let stopping = Arc::new(AtomicBool::new(false));
        let mut workers = Vec::with_capacity(WORKERS);
        for n in 0..WORKERS {
            let (server, shared, stop) = (
                Arc::clone(&server),
                Arc::clone(&shared),
                Arc::clone(&stopping),
            );
            let worker = std::thread::Builder::new()
                .name(format!("pulse-page-http-{n}"))
                .spawn(move || {
                    while !stop.load(Ordering::Acquire) {
                        match server.recv_timeout(POLL) {
                            Ok(Some(request)) => answer(request, &shared, id),
                            Ok(None) => {}
                            Err(e) => log::debug!("page server: {e}"),
                        }
                    }
                })
                .map_err(|e| Error::new(ErrorKind::Spawn(e)));
            match worker {
                Ok(worker) => workers.push(worker),
                Err(e) => {
                    stopping.store(true, Ordering::Release);
                    return Err(e);
                }
            }
        }
        log::info!("serving the page at http://{bound}/");
        Ok(PageServer {
            address: bound,
            id,
            shared,
            stopping,
            workers,
        })
    }

    /// The address served: the port actually bound when port 0 was asked.
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// `http://ADDRESS/`.
    pub fn url(&self) -> String {
        format!("http://{}/", self.address)
    }
}

impl Drop for PageServer {
    fn drop(&mut self) {
        self.stopping.store(true, Ordering::Release);
        self.shared.hub.close_server(self.id);
        for worker in self.workers.drain(..) {
            let _ = worker.join();
        }
    }
}

fn header(name: &str, value: &str) -> Header {
    Header::from_bytes(name, value).expect("a valid header")
}

/// Headers every answer carries: no sniffing a type other than ours, no
/// framing by other sites.
fn common_headers() -> [Header; 2] {
    [
        header("X-Content-Type-Options", "nosniff"),
        header("X-Frame-Options", "DENY"),
    ]
}

fn respond(request: Request, status: u16, content_type: &str, body: String, extra: &[Header]) {
    let mut response = Response::from_string(body)
        .with_status_code(status)
        .with_header(header("Content-Type", content_type));
    for h in common_headers().into_iter().chain(extra.iter().cloned()) {
        response.add_header(h);
    }
    if let Err(e) = request.respond(response) {
        log::debug!("page server: answering failed: {e}");
    }
}

fn json(request: Request, status: u16, value: &impl Serialize) {
    let body = serde_json::to_string(value).expect("page data always serializes");
    respond(
        request,
        status,
        "application/json",
        body,
        &[header("Cache-Control", "no-store")],
    );
}

fn not_found(request: Request, what: String) {
    json(request, 404, &serde_json::json!({ "error": what }));
}

/// Routes one request.
fn answer(request: Request, shared: &Arc<Shared>, server: u64) {
    if !matches!(request.method(), Method::Get | Method::Head) {
        let allow = header("Allow", "GET, HEAD");
        let body = serde_json::json!({ "error": "only GET and HEAD are served" }).to_string();
        return respond(request, 405, "application/json", body, &[allow]);
    }
    let path = request.url().split(['?', '#']).next().unwrap_or("/");
    let segments: Vec<String> = path
        .split('/')
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect();
    let segments: Vec<&str> = segments.iter().map(String::as_str).collect();
    match segments.as_slice() {
        [] | ["index.html"] => respond(
            request,
            200,
            "text/html; charset=utf-8",
            assets::INDEX_HTML.to_string(),
            &[header("Content-Security-Policy", assets::CSP)],
        ),
        ["app.js"] => respond(
            request,
            200,
            "text/javascript; charset=utf-8",
            assets::APP_JS.to_string(),
            &[],
        ),
        ["style.css"] => respond(
            request,
            200,
            "text/css; charset=utf-8",
            assets::STYLE_CSS.to_string(),
            &[],
        ),
        ["events"] => stream(request, shared, server),
        ["api", "status"] => {
            let mut status = shared.board().status();
            status.pages = Some(shared.hub.stats().open);
            json(request, 200, &status);
        }
        ["api", "pushes"] => {
            let board = shared.board();
            let pushes = board.sorted(None);
            let body = serde_json::to_string(&pushes).expect("pushes serialize");
            drop(board);
            respond(request, 200, "application/json", body, &[no_store()]);
        }
        ["api", "pushes", tree] => {
            let board = shared.board();
            let body = serde_json::to_string(&board.sorted(Some(tree))).expect("pushes serialize");
            drop(board);
            respond(request, 200, "application/json", body, &[no_store()]);
        }
        ["api", "pushes", tree, revision] => {
            let board = shared.board();
            match board.find(tree, revision) {
                Some(push) => {
                    let body = serde_json::to_string(push).expect("a push serializes");
                    drop(board);
                    respond(request, 200, "application/json", body, &[no_store()]);
                }
                None => {
                    drop(board);
                    not_found(
                        request,
                        format!("no push \"{revision}\" on \"{tree}\" is shown"),
                    );
                }
            }
        }
        ["api", "builds"] => {
            let body = serde_json::to_string(shared.board().builds()).expect("builds serialize");
            respond(request, 200, "application/json", body, &[no_store()]);
        }
        ["api", "builds", tree] => {
            let board = shared.board();
            match board.builds().get(*tree) {
                Some(builds) => {
                    let body = serde_json::to_string(builds).expect("builds serialize");
                    drop(board);
                    respond(request, 200, "application/json", body, &[no_store()]);
                }
                None => {
                    drop(board);
                    not_found(request, format!("no build of \"{tree}\" is shown"));
                }
            }
        }
        _ => {
            let what = format!("nothing at \"{path}\"");
            not_found(request, what);
        }
    }
}

fn no_store() -> Header {
    header("Cache-Control", "no-store")
}

/// `/events`: a thread of its own writes the page's queue to it: a
/// snapshot first, then each change, a comment when idle.
fn stream(request: Request, shared: &Arc<Shared>, server: u64) {
    let subscription = {
        // Snapshot and subscription under one lock: no change falls
        // between them.
        let board = shared.board();
        shared
            .hub
            .subscribe(server, board.snapshot_frame(), shared.options.max_streams)
    };
    let Some(subscription) = subscription else {
        let body = serde_json::json!({ "error": "too many open pages" }).to_string();
        return respond(
            request,
            503,
            "application/json",
            body,
            &[header("Retry-After", "10")],
        );
    };
    let shared = Arc::clone(shared);
    let id = subscription.id;
    let spawned = std::thread::Builder::new()
        .name(format!("pulse-page-stream-{id}"))
        .spawn(move || {
            let writer = request.into_writer();
            if let Err(e) = write_stream(writer, &subscription, &shared) {
                log::debug!("page stream {id} ended: {e}");
            }
            shared.hub.unsubscribe(subscription.id);
        });
    if let Err(e) = spawned {
        log::warn!("cannot start a page stream: {e}");
    }
}

fn write_stream(
    mut writer: Box<dyn Write + Send>,
    subscription: &Subscription,
    shared: &Shared,
) -> std::io::Result<()> {
    // The response is written by hand: tiny_http's chunked writer would
    // hold events back until its buffer fills.
    writer.write_all(
        b"HTTP/1.1 200 OK\r\n\
          Content-Type: text/event-stream; charset=utf-8\r\n\
          Cache-Control: no-store\r\n\
          X-Content-Type-Options: nosniff\r\n\
          Connection: close\r\n\r\n\
          retry: 2000\n\n",
    )?;
    writer.flush()?;
    let keepalive = shared.options.keepalive;
    loop {
        let first = match subscription.frames.recv_timeout(keepalive) {
            Ok(frame) => Some(frame),
            Err(RecvTimeoutError::Timeout) => None,
            Err(RecvTimeoutError::Disconnected) => return Ok(()),
        };
        if subscription.resync.swap(false, Ordering::AcqRel) {
            // Something was skipped: what is queued is stale, a snapshot
            // says it all.
            while subscription.frames.try_recv().is_ok() {}
            let snapshot = shared.board().snapshot_frame();
            writer.write_all(snapshot.as_bytes())?;
        } else if let Some(frame) = first {
            writer.write_all(frame.as_bytes())?;
            while let Ok(frame) = subscription.frames.try_recv() {
                writer.write_all(frame.as_bytes())?;
            }
        } else {
            writer.write_all(b": keepalive\n\n")?;
        }
        writer.flush()?;
        std::thread::sleep(STREAM_INTERVAL);
    }
}
