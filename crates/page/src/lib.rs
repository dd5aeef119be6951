//! A live page of what a monitor sees: the latest pushes per tree, each
//! push's failed tasks, and the latest build per tree, platform and build
//! type, served over HTTP with a JSON API and kept current in the browser
//! by server-sent events.
//!
//! A [`Page`] is fed by a running monitor (`pulse-build-monitor`):
//! [`Page::attach`] gives a `MonitorBuilder` the `on_push` and `on_build`
//! callbacks that feed it, and [`Page::follow`] starts a [`Follower`]
//! thread that copies the pushes that changed
//! ([`Monitor::pushes_changed_since`]: the counts move between push
//! events) and the connection state into it. Programs that have records
//! of their own call [`Page::push_event`], [`Page::update_pushes`],
//! [`Page::build`] and [`Page::set_connected`] themselves.
//! [`Page::serve`] starts a [`PageServer`] on an address (loopback only,
//! unless [`PageOptions::allow_remote`] says otherwise):
//!
//! | path | answers |
//! |---|---|
//! | `/` | the page: trees, pushes, failures, builds (`#/push/TREE/REVISION` for one push) |
//! | `/api/pushes`, `/api/pushes/TREE` | the pushes shown ([`pulse_push::PushSummary`] as JSON), newest first |
//! | `/api/pushes/TREE/REVISION` | one push; a revision prefix of 12 characters or more will do |
//! | `/api/builds`, `/api/builds/TREE` | the latest builds ([`Builds`]: tree → platform → build type → [`LatestBuild`]) |
//! | `/api/status` | whether the monitor is connected, how much is shown, the open pages |
//! | `/events` | server-sent events: `snapshot` (everything), `push`, `build`, `status` |
//!
//! The page is one static HTML file, its script and its style, bundled
//! into the binary (`include_str!`): no build step, nothing fetched from
//! elsewhere. It builds its DOM with `textContent` only (failure messages
//! contain HTML and script text) and is served with a content security
//! policy that allows its own script and nothing else.
//!
//! A change reaches an open page at once; the changes that follow within
//! 0.2 s are gathered into its next write, so a page costs at most five
//! wake-ups a second however busy the monitor is.
//!
//! Each open page has one bounded queue; broadcasting never waits, so a
//! page that stops reading skips what it missed and catches up with a
//! fresh snapshot, and is dropped after [`PageOptions::stalled_after`]: it
//! blocks neither the other pages nor the monitor. When the monitor's
//! connection comes back, every page gets a fresh snapshot.
//!
//! Modules: `board` (what is shown, and the events that announce
//! changes), `hub` (the open pages' queues), `server` (HTTP on
//! `tiny_http`, the streams), `assets` (the bundled page), `error`.
//! Neighbours: `pulse-push` makes the push summaries, `pulse-translator`
//! the build records; the `pulse-monitor serve` command is this crate on a
//! monitor.
//!
//! ```
//! use pulse_page::{Page, PageOptions};
//! use std::io::{Read, Write};
//!
//! let page = Page::new(PageOptions::default());
//! let server = page.serve("127.0.0.1:0".parse()?)?;
//! let mut stream = std::net::TcpStream::connect(server.address())?;
//! stream.write_all(b"GET /api/status HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")?;
//! let mut answer = String::new();
//! stream.read_to_string(&mut answer)?;
//! assert!(answer.starts_with("HTTP/1.1 200"));
//! assert!(answer.ends_with(r#"{"connected":null,"pushes":0,"builds":0,"pages":0}"#));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![deny(missing_docs)]

mod assets;
mod board;
mod error;
mod hub;
mod server;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

use pulse_build_monitor::{Monitor, MonitorBuilder};
use pulse_push::{PushEvent, PushSummary};
use pulse_translator::BuildRecord;

pub use board::{Builds, LatestBuild};
pub use error::{Error, ErrorKind};
pub use hub::HubStats;
pub use server::PageServer;

use crate::board::Board;
use crate::hub::Hub;

/// How a [`Page`] keeps and serves what it shows.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct PageOptions {
    /// How many pushes of each tree are shown (the newest); default 20.
    pub pushes_per_tree: usize,
    /// How many events wait for one page before it skips (and catches up
    /// with a snapshot); default 256.
    pub queue_capacity: usize,
    /// A page whose queue stayed full this long is dropped (its browser
    /// reconnects if it is still there); default 30 s.
    pub stalled_after: Duration,
    /// How many pages may have an event stream open at once; more are
    /// answered 503. Default 1024.
    pub max_streams: usize,
    /// Serve on addresses other than loopback ones. Off by default: the
    /// page has no authentication.
    pub allow_remote: bool,
    /// How often a [`Follower`] copies the monitor's pushes; default
    /// 500 ms.
    pub refresh: Duration,
    /// How often an idle event stream sends a comment, so that closed
    /// pages are noticed and proxies keep the stream; default 15 s.
    pub keepalive: Duration,
}

impl Default for PageOptions {
    fn default() -> PageOptions {
        PageOptions {
            pushes_per_tree: 20,
            queue_capacity: 256,
            stalled_after: Duration::from_secs(30),
            max_streams: 1024,
            allow_remote: false,
            refresh: Duration::from_millis(500),
            keepalive: Duration::from_secs(15),
        }
    }
}

impl PageOptions {
    /// Shows this many pushes of each tree.
    #[must_use]
    pub fn with_pushes_per_tree(mut self, pushes: usize) -> PageOptions {
        self.pushes_per_tree = pushes;
        self
    }

    /// Lets this many events wait for one page.
    #[must_use]
    pub fn with_queue_capacity(mut self, frames: usize) -> PageOptions {
        self.queue_capacity = frames;
        self
    }

    /// Drops a page that read nothing for this long.
    #[must_use]
    pub fn with_stalled_after(mut self, stalled_after: Duration) -> PageOptions {
        self.stalled_after = stalled_after;
        self
    }

    /// At most this many open event streams.
    #[must_use]
    pub fn with_max_streams(mut self, streams: usize) -> PageOptions {
        self.max_streams = streams;
        self
    }

    /// Allows (or not) serving on addresses other machines can reach.
    #[must_use]
    pub fn with_allow_remote(mut self, allow: bool) -> PageOptions {
        self.allow_remote = allow;
        self
    }

    /// Copies the monitor's pushes this often.
    #[must_use]
    pub fn with_refresh(mut self, refresh: Duration) -> PageOptions {
        self.refresh = refresh;
        self
    }

    /// Sends a keep-alive comment on idle streams this often.
    #[must_use]
    pub fn with_keepalive(mut self, keepalive: Duration) -> PageOptions {
        self.keepalive = keepalive;
        self
    }
}

/// What the page shows and who is watching; shared by the feeders and the
/// servers.
pub(crate) struct Shared {
    board: Mutex<Board>,
    hub: Hub,
    options: PageOptions,
}

impl Shared {
    fn board(&self) -> MutexGuard<'_, Board> {
        self.board.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Changes the board and broadcasts what the change says, under the
    /// board's lock, so every page sees the changes in the board's order.
    /// Broadcasting never waits, so holding the lock is short.
    fn change(&self, change: impl FnOnce(&mut Board) -> Vec<board::Frame>) {
        let mut board = self.board();
        for frame in change(&mut board) {
            self.hub.broadcast(&frame);
        }
    }
}

/// The live page: what it shows, fed by a monitor (or by hand), and
/// served by [`Page::serve`]. Clones share everything.
#[derive(Clone)]
pub struct Page {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for Page {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Page")
            .field("status", &self.shared.board().status())
            .field("pages", &self.shared.hub.stats())
            .finish()
    }
}

impl Default for Page {
    fn default() -> Page {
        Page::new(PageOptions::default())
    }
}

impl Page {
    /// An empty page.
    pub fn new(options: PageOptions) -> Page {
        Page {
            shared: Arc::new(Shared {
                board: Mutex::new(Board::new(options.pushes_per_tree)),
                hub: Hub::new(options.queue_capacity, options.stalled_after),
                options,
            }),
        }
    }

    /// Takes in a push event (what `on_push` receives) and tells the open
    /// pages.
    pub fn push_event(&self, event: &PushEvent) {
        self.shared
            .change(|board| board.push_event(event).into_iter().collect());
    }

    /// Takes in pushes as they stand now (what [`Monitor::pushes`] or
    /// [`Monitor::pushes_changed_since`] answers) and tells the open pages
    /// of those that changed. A summary older than the one shown is
    /// ignored.
    pub fn update_pushes<'a>(&self, pushes: impl IntoIterator<Item = &'a PushSummary>) {
        self.shared.change(|board| {
            pushes
                .into_iter()
                .filter_map(|push| board.update(push))
                .collect()
        });
    }

    /// Takes in a finished build (what `on_build` receives): the latest of
    /// its tree, platform and build type by build date.
    pub fn build(&self, build: &BuildRecord) {
        self.shared
            .change(|board| board.build(build).into_iter().collect());
    }

    /// Whether the monitor's broker connection is up (`None`: no broker,
    /// a replay). When it comes back up, every page gets a fresh snapshot.
    pub fn set_connected(&self, connected: Option<bool>) {
        self.shared.change(|board| {
            let was = board.connected();
            if !board.set_connected(connected) {
                return Vec::new();
            }
            let mut frames = vec![board.status_frame()];
            if was == Some(false) && connected == Some(true) {
                frames.push(board.snapshot_frame());
            }
            frames
        });
    }

    /// The pushes shown, newest first.
    pub fn pushes(&self) -> Vec<PushSummary> {
        self.shared
            .board()
            .sorted(None)
            .into_iter()
            .cloned()
            .collect()
    }

    /// The latest builds.
    pub fn builds(&self) -> Builds {
        self.shared.board().builds().clone()
    }

    /// The open pages, and those that skipped or were dropped.
    pub fn stream_stats(&self) -> HubStats {
        self.shared.hub.stats()
    }

    /// Serves the page at `address` (port 0: a free port; see
    /// [`PageServer::address`]) until the server is dropped. Only loopback
    /// addresses, unless [`PageOptions::allow_remote`].
    pub fn serve(&self, address: std::net::SocketAddr) -> Result<PageServer, Error> {
        PageServer::start(Arc::clone(&self.shared), address)
    }

    /// `builder` with the `on_push` and `on_build` callbacks that feed this
    /// page (replacing any set before; call [`Page::push_event`] and
    /// [`Page::build`] from callbacks of your own to do more). `on_push`
    /// turns push tracking on; `push_tracking` still says where the state
    /// lives.
    pub fn attach(&self, builder: MonitorBuilder) -> MonitorBuilder {
        let (pushes, builds) = (self.clone(), self.clone());
        builder
            .on_push(move |event| pushes.push_event(&event))
            .on_build(move |build| builds.build(&build))
    }

    /// Starts a thread that copies `monitor`'s pushes as they change
    /// ([`Monitor::pushes_changed_since`]) and connection state
    /// ([`Stats::connected`](pulse_build_monitor::Stats::connected)) into
    /// the page every [`PageOptions::refresh`], until the [`Follower`] is
    /// dropped.
    pub fn follow(&self, monitor: Arc<Monitor>) -> Result<Follower, Error> {
        let stop = Arc::new(AtomicBool::new(false));
        let (page, stopped) = (self.clone(), Arc::clone(&stop));
        let refresh = self.shared.options.refresh;
        let thread = std::thread::Builder::new()
            .name("pulse-page-follow".into())
            .spawn(move || {
                // Only what changed since the last look: a week of pushes
                // is tracked, a page shows a few of each tree.
                let mut version = 0;
                while !stopped.load(Ordering::Acquire) {
                    let (changed, now) = monitor.pushes_changed_since(version);
                    version = now;
                    page.update_pushes(&changed);
                    page.set_connected(monitor.stats().connected);
                    std::thread::park_timeout(refresh);
                }
            })
            .map_err(|e| Error::new(ErrorKind::Spawn(e)))?;
        Ok(Follower {
            stop,
            thread: Some(thread),
        })
    }
}

/// The thread [`Page::follow`] started; dropping it stops it.
#[derive(Debug)]
pub struct Follower {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Drop for Follower {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Release);
        if let Some(thread) = self.thread.take() {
            thread.thread().unpark();
            let _ = thread.join();
        }
    }
}
