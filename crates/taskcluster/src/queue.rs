//! [`Queue`]: the blocking client of the Taskcluster queue.
//!
//! One [`ureq::Agent`] per client (its connection pool is shared by every
//! thread that holds the client), a channel of permits as the semaphore that
//! bounds requests in flight, and two LRU maps as the cache. Every request
//! goes through [`Queue::get`]: a permit, one attempt, and on a 5xx or a
//! broken connection a capped exponential backoff before the next.

use std::collections::HashSet;
use std::io::Read;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use crossbeam_channel::{Receiver, Sender};
use hashlink::LruCache;
use percent_encoding::{utf8_percent_encode, AsciiSet, CONTROLS};
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::errorsummary::{self, Limits, Summary};
use crate::{Artifact, BuildUrls, Error, ErrorKind, Task, TaskGroupMember};

/// Firefox CI's Taskcluster, the default root URL.
pub const FIREFOX_CI_ROOT_URL: &str = "https://firefox-ci-tc.services.mozilla.com";
/// The community Taskcluster (other Mozilla projects).
pub const COMMUNITY_ROOT_URL: &str = "https://community-tc.services.mozilla.com";
/// How long one request may take by default, connecting and reading the
/// body included.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);
/// How many task definitions, and how many artifact lists, a client keeps
/// by default.
pub const DEFAULT_CACHE_CAPACITY: usize = 4096;
/// How many times a request that met a 5xx or a broken connection is tried
/// again by default.
pub const DEFAULT_RETRIES: u32 = 2;
/// How many requests one client has in flight at most by default.
pub const DEFAULT_CONCURRENCY: usize = 4;
/// The largest API answer (JSON) read by default: a page of 1000 task group
/// members with their definitions is a few MiB.
pub const DEFAULT_MAX_JSON_BYTES: u64 = 16 << 20;
/// The largest artifact downloaded by default (after decompression).
pub const DEFAULT_MAX_ARTIFACT_BYTES: u64 = 64 << 20;
/// Most pages read for one paged call; a queue that keeps handing out new
/// continuation tokens past this is answered with [`ErrorKind::Paging`].
pub const MAX_PAGES: usize = 1000;

const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// Artifact names keep their `/` (the queue's URLs spell them as paths);
/// everything that is not safe in a path segment is escaped.
const SEGMENT: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'<')
    .add(b'>')
    .add(b'?')
    .add(b'`')
    .add(b'{')
    .add(b'}');

/// Query values (continuation tokens are opaque).
const QUERY: &AsciiSet = &SEGMENT.add(b'&').add(b'=').add(b'+').add(b'/');

/// When to try a failed request again: `retries` more times, waiting
/// `base`, `2 × base`, `4 × base`… but never more than `cap` between two.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retry {
    /// How many more attempts after the first (0: none).
    pub retries: u32,
    /// The wait before the first retry.
    pub base: Duration,
    /// The longest wait between two attempts.
    pub cap: Duration,
}

impl Default for Retry {
    /// 2 retries, after 50 ms and 100 ms, waits capped at 2 s. Short on
    /// purpose: the monitor fetches on its own thread, and a queue that is
    /// down should cost each message little.
    fn default() -> Retry {
        Retry {
            retries: DEFAULT_RETRIES,
            base: Duration::from_millis(50),
            cap: Duration::from_secs(2),
        }
    }
}

impl Retry {
    /// The wait before retry number `retry` (1 for the first).
    pub fn delay(&self, retry: u32) -> Duration {
        let factor = 1u32
            .checked_shl(retry.saturating_sub(1))
            .unwrap_or(u32::MAX);
        self.base.saturating_mul(factor).min(self.cap)
    }
}

/// A client of the Taskcluster queue at one root URL. Shared by reference
/// (or in an `Arc`) between threads; every call takes `&self` and blocks.
///
/// ```no_run
/// use pulse_taskcluster::Queue;
///
/// let queue = Queue::new(pulse_taskcluster::FIREFOX_CI_ROOT_URL)?;
/// let task = queue.task("Cd8bq3YfS6ifUeBcwnmuPg")?;
/// let artifacts = queue.resolved_run_artifacts("Cd8bq3YfS6ifUeBcwnmuPg", 0)?;
/// println!("{:?}: {} artifacts", task.name(), artifacts.len());
/// # Ok::<(), pulse_taskcluster::Error>(())
/// ```
pub struct Queue {
    root_url: String,
    tls: Arc<ureq::native_tls::TlsConnector>,
    agent: ureq::Agent,
    timeout: Duration,
    retry: Retry,
    permits: Permits,
    max_json_bytes: u64,
    max_artifact_bytes: u64,
    capacity: usize,
    cache: Mutex<Cache>,
}

/// Task definitions and artifact lists of resolved runs: neither changes
/// once it exists, so nothing expires but to make room.
struct Cache {
    tasks: LruCache<String, Arc<Task>>,
    artifacts: LruCache<(String, u32), Arc<Vec<Artifact>>>,
}

impl Cache {
    fn new(capacity: usize) -> Cache {
        Cache {
            tasks: LruCache::new(capacity),
            artifacts: LruCache::new(capacity),
        }
    }
}

impl std::fmt::Debug for Queue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Queue")
            .field("root_url", &self.root_url)
            .field("timeout", &self.timeout)
            .field("retry", &self.retry)
            .field("concurrency", &self.permits.count)
            .field("max_json_bytes", &self.max_json_bytes)
            .field("max_artifact_bytes", &self.max_artifact_bytes)
            .field("capacity", &self.capacity)
            .finish_non_exhaustive()
    }
}

impl Queue {
    /// A client of the queue at `root_url` (e.g. [`FIREFOX_CI_ROOT_URL`];
    /// a trailing slash is ignored) with the defaults: 10 s timeout, 2
    /// retries, 4 requests in flight, 16 MiB JSON and 64 MiB artifacts, 4096
    /// definitions and artifact lists cached.
    ///
    /// Fails only when the system's TLS library cannot be set up.
    pub fn new(root_url: impl Into<String>) -> Result<Queue, Error> {
        let root_url = root_url.into().trim_end_matches('/').to_string();
        let tls = ureq::native_tls::TlsConnector::new().map_err(|e| {
            Error::new(ErrorKind::Tls {
                reason: e.to_string(),
            })
        })?;
        let tls = Arc::new(tls);
        Ok(Queue {
            agent: agent(&tls, DEFAULT_TIMEOUT, DEFAULT_CONCURRENCY),
            tls,
            root_url,
            timeout: DEFAULT_TIMEOUT,
            retry: Retry::default(),
            permits: Permits::new(DEFAULT_CONCURRENCY),
            max_json_bytes: DEFAULT_MAX_JSON_BYTES,
            max_artifact_bytes: DEFAULT_MAX_ARTIFACT_BYTES,
            capacity: DEFAULT_CACHE_CAPACITY,
            cache: Mutex::new(Cache::new(DEFAULT_CACHE_CAPACITY)),
        })
    }

    /// A client of Firefox CI's queue ([`FIREFOX_CI_ROOT_URL`]).
    pub fn firefox_ci() -> Result<Queue, Error> {
        Queue::new(FIREFOX_CI_ROOT_URL)
    }

    /// How long one request may take, connecting and reading the body
    /// included (default 10 s). A request that times out is not retried.
    #[must_use]
    pub fn timeout(mut self, timeout: Duration) -> Queue {
        self.timeout = timeout;
        self.agent = agent(&self.tls, timeout, self.permits.count);
        self
    }

    /// When to retry (default [`Retry::default`]).
    #[must_use]
    pub fn retry(mut self, retry: Retry) -> Queue {
        self.retry = retry;
        self
    }

    /// How many requests may be in flight at once (default 4; at least 1).
    /// Callers past that wait for a place.
    #[must_use]
    pub fn concurrency(mut self, requests: usize) -> Queue {
        self.permits = Permits::new(requests.max(1));
        self.agent = agent(&self.tls, self.timeout, self.permits.count);
        self
    }

    /// The largest API answer read, in bytes (default 16 MiB).
    #[must_use]
    pub fn max_json_bytes(mut self, bytes: u64) -> Queue {
        self.max_json_bytes = bytes;
        self
    }

    /// The largest artifact downloaded, in bytes after decompression
    /// (default 64 MiB).
    #[must_use]
    pub fn max_artifact_bytes(mut self, bytes: u64) -> Queue {
        self.max_artifact_bytes = bytes;
        self
    }

    /// How many definitions, and how many artifact lists, to keep (default
    /// 4096 each); 0 keeps none.
    #[must_use]
    pub fn cache_capacity(mut self, capacity: usize) -> Queue {
        self.capacity = capacity;
        self.cache = Mutex::new(Cache::new(capacity));
        self
    }

    /// The root URL, without a trailing slash.
    pub fn root_url(&self) -> &str {
        &self.root_url
    }

    /// How many task definitions are cached now.
    pub fn cached(&self) -> usize {
        self.lock().tasks.len()
    }

    /// How many artifact lists are cached now.
    pub fn cached_artifact_lists(&self) -> usize {
        self.lock().artifacts.len()
    }

    /// The definition of `task_id` (`GET task/<taskId>`), from the cache or
    /// the queue. Failures are not cached.
    pub fn task(&self, task_id: &str) -> Result<Arc<Task>, Error> {
        check_slug("task id", task_id)?;
        if let Some(found) = self.lock().tasks.get(task_id) {
            return Ok(Arc::clone(found));
        }
        let url = format!("{}/api/queue/v1/task/{task_id}", self.root_url);
        let json: Value = self.get_json(&url)?;
        if !json.is_object() {
            return Err(bad_body(&url, "a task definition is a json object"));
        }
        let task = Arc::new(Task::new(json));
        if self.capacity > 0 {
            self.lock()
                .tasks
                .insert(task_id.to_string(), Arc::clone(&task));
        }
        Ok(task)
    }

    /// The artifacts of a run as the queue lists them now, every page
    /// (`GET task/<taskId>/runs/<runId>/artifacts`), never from the cache: a
    /// run that is still going gains artifacts.
    pub fn artifacts(&self, task_id: &str, run_id: u32) -> Result<Vec<Artifact>, Error> {
        check_slug("task id", task_id)?;
        let url = format!(
            "{}/api/queue/v1/task/{task_id}/runs/{run_id}/artifacts",
            self.root_url
        );
        let mut all = Vec::new();
        for page in self.pages(url, "artifacts") {
            all.extend(page?);
        }
        Ok(all)
    }

    /// The artifacts of a run that has ended (completed, failed or
    /// exception: the list no longer changes), cached. Ask for a running
    /// run with [`Queue::artifacts`] instead, or the cache keeps a list that
    /// misses what the run uploads later.
    pub fn resolved_run_artifacts(
        &self,
        task_id: &str,
        run_id: u32,
    ) -> Result<Arc<Vec<Artifact>>, Error> {
        let key = (task_id.to_string(), run_id);
        if let Some(found) = self.lock().artifacts.get(&key) {
            return Ok(Arc::clone(found));
        }
        let list = Arc::new(self.artifacts(task_id, run_id)?);
        if self.capacity > 0 {
            self.lock().artifacts.insert(key, Arc::clone(&list));
        }
        Ok(list)
    }

    /// The content of a run's artifact (`GET
    /// task/<taskId>/runs/<runId>/artifacts/<name>`), following the queue's
    /// redirect to where it is stored and decompressing
    /// `Content-Encoding: gzip`; at most [`Queue::max_artifact_bytes`].
    pub fn artifact(&self, task_id: &str, run_id: u32, name: &str) -> Result<Vec<u8>, Error> {
        check_slug("task id", task_id)?;
        check_artifact_name(name)?;
        let url = artifact_url(&self.root_url, task_id, run_id, name);
        self.get(&url, self.max_artifact_bytes)
    }

    /// The content at any http(s) URL, as [`Queue::artifact`] reads it:
    /// for URLs a task definition names (`GECKO_INSTALLER_URL`…).
    pub fn download(&self, url: &str) -> Result<Vec<u8>, Error> {
        self.get(url, self.max_artifact_bytes)
    }

    /// The URLs of what a resolved build run produced:
    /// [`Queue::resolved_run_artifacts`] read by [`crate::build_urls()`].
    pub fn build_urls(&self, task_id: &str, run_id: u32) -> Result<BuildUrls, Error> {
        let list = self.resolved_run_artifacts(task_id, run_id)?;
        Ok(crate::build_urls(&self.root_url, task_id, run_id, &list))
    }

    /// What failed in a resolved test run: each of its errorsummary
    /// artifacts ([`errorsummary::is_errorsummary`]) downloaded, read within
    /// `limits` and merged. A run that uploaded none gives an empty summary
    /// whose [`Summary::unusable`] says so; the first artifact that cannot
    /// be had gives its error.
    pub fn failure_summary(
        &self,
        task_id: &str,
        run_id: u32,
        limits: &Limits,
    ) -> Result<Summary, Error> {
        let list = self.resolved_run_artifacts(task_id, run_id)?;
        let mut summary = Summary::default();
        for artifact in list
            .iter()
            .filter(|a| errorsummary::is_errorsummary(&a.name))
        {
            let body = self.artifact(task_id, run_id, &artifact.name)?;
            summary.merge(errorsummary::read(&body, limits), limits);
        }
        Ok(summary)
    }

    /// The tasks of a group, page by page (`GET
    /// task-group/<taskGroupId>/list`): each item is one page's members, or
    /// the error that ended the paging. A page may be empty and still be
    /// followed by others.
    pub fn task_group_pages<'q>(
        &'q self,
        task_group_id: &str,
    ) -> Result<Pages<'q, TaskGroupMember>, Error> {
        check_slug("task group id", task_group_id)?;
        let url = format!(
            "{}/api/queue/v1/task-group/{task_group_id}/list",
            self.root_url
        );
        Ok(self.pages(url, "tasks"))
    }

    /// Every task of a group (all pages of [`Queue::task_group_pages`]).
    pub fn list_task_group(&self, task_group_id: &str) -> Result<Vec<TaskGroupMember>, Error> {
        let mut all = Vec::new();
        for page in self.task_group_pages(task_group_id)? {
            all.extend(page?);
        }
        Ok(all)
    }

    fn pages<T: DeserializeOwned>(&self, url: String, key: &'static str) -> Pages<'_, T> {
        Pages {
            queue: self,
            first_url: url,
            key,
            next: Some(None),
            seen: HashSet::new(),
            pages: 0,
            _items: std::marker::PhantomData,
        }
    }

    fn get_json<T: DeserializeOwned>(&self, url: &str) -> Result<T, Error> {
        let body = self.get(url, self.max_json_bytes)?;
        serde_json::from_slice(&body).map_err(|e| bad_body(url, &e.to_string()))
    }

    /// One GET with the retries: a permit per attempt (none held while
    /// waiting to retry, so a failing server does not starve the others).
    fn get(&self, url: &str, limit: u64) -> Result<Vec<u8>, Error> {
        let mut attempts = 0;
        loop {
            attempts += 1;
            let outcome = {
                let _permit = self.permits.acquire();
                self.attempt(url, limit)
            };
            let failure = match outcome {
                Ok(body) => return Ok(body),
                Err(failure) => failure,
            };
            if failure.retryable && attempts <= self.retry.retries {
                let wait = self.retry.delay(attempts);
                log::debug!("{url}: {}; retrying in {wait:?}", failure.describe());
                std::thread::sleep(wait);
                continue;
            }
            return Err(failure.into_error(url, attempts, self.timeout));
        }
    }

    fn attempt(&self, url: &str, limit: u64) -> Result<Vec<u8>, Failure> {
        let response = match self.agent.get(url).call() {
            Ok(response) => response,
            Err(ureq::Error::Status(status, _)) => {
                return Err(Failure {
                    what: What::Status(status),
                    retryable: status >= 500,
                })
            }
            Err(ureq::Error::Transport(transport)) => return Err(Failure::transport(&transport)),
        };
        let declared = response
            .header("Content-Length")
            .and_then(|n| n.parse::<u64>().ok());
        if declared.is_some_and(|n| n > limit) {
            return Err(Failure::fatal(What::TooLarge(limit)));
        }
        let mut body = Vec::new();
        response
            .into_reader()
            .take(limit.saturating_add(1))
            .read_to_end(&mut body)
            .map_err(|e| Failure::read(&e))?;
        if body.len() as u64 > limit {
            return Err(Failure::fatal(What::TooLarge(limit)));
        }
        Ok(body)
    }

    fn lock(&self) -> MutexGuard<'_, Cache> {
        self.cache.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The pages of a paged call ([`Queue::task_group_pages`]): it follows
/// `continuationToken` until a page has none, and stops with
/// [`ErrorKind::Paging`] on a token seen before or after [`MAX_PAGES`].
pub struct Pages<'q, T> {
    queue: &'q Queue,
    first_url: String,
    key: &'static str,
    /// `Some(None)`: the first page is next; `Some(Some(token))`: the page
    /// after `token`; `None`: done.
    next: Option<Option<String>>,
    seen: HashSet<String>,
    pages: usize,
    _items: std::marker::PhantomData<fn() -> T>,
}

impl<T> std::fmt::Debug for Pages<'_, T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pages")
            .field("url", &self.first_url)
            .field("pages", &self.pages)
            .finish_non_exhaustive()
    }
}

impl<T: DeserializeOwned> Iterator for Pages<'_, T> {
    type Item = Result<Vec<T>, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        let token = self.next.take()?;
        let url = match &token {
            None => self.first_url.clone(),
            Some(token) => format!(
                "{}?continuationToken={}",
                self.first_url,
                utf8_percent_encode(token, QUERY)
            ),
        };
        self.pages += 1;
        let page = match self.queue.get_json::<Value>(&url) {
            Ok(page) => page,
            Err(e) => return Some(Err(e)),
        };
        let items = match page.get(self.key) {
            Some(items @ Value::Array(_)) => {
                match serde_json::from_value::<Vec<T>>(items.clone()) {
                    Ok(items) => items,
                    Err(e) => return Some(Err(bad_body(&url, &e.to_string()))),
                }
            }
            _ => {
                let reason = format!("the answer has no {:?} list", self.key);
                return Some(Err(bad_body(&url, &reason)));
            }
        };
        match page.get("continuationToken").and_then(Value::as_str) {
            None => {}
            Some(next) if !self.seen.insert(next.to_string()) => {
                return Some(Err(
                    self.paging(format!("continuation token {next:?} came twice"))
                ))
            }
            Some(_) if self.pages >= MAX_PAGES => {
                return Some(Err(self.paging(format!("more than {MAX_PAGES} pages"))))
            }
            Some(next) => self.next = Some(Some(next.to_string())),
        }
        Some(Ok(items))
    }
}

impl<T> Pages<'_, T> {
    fn paging(&self, reason: String) -> Error {
        Error::new(ErrorKind::Paging {
            url: self.first_url.clone(),
            reason,
        })
    }
}

/// `<root>/api/queue/v1/task/<taskId>/runs/<runId>/artifacts/<name>`, the
/// name's `/` kept and anything unsafe in a path escaped.
pub fn artifact_url(root_url: &str, task_id: &str, run_id: u32, name: &str) -> String {
    format!(
        "{}/api/queue/v1/task/{task_id}/runs/{run_id}/artifacts/{}",
        root_url.trim_end_matches('/'),
        utf8_percent_encode(name, SEGMENT)
    )
}

/// What one attempt met, before it is known whether another follows.
struct Failure {
    what: What,
    retryable: bool,
}

enum What {
    Status(u16),
    Timeout,
    Transport(String),
    TooLarge(u64),
    BadBody(String),
}

impl Failure {
    fn fatal(what: What) -> Failure {
        Failure {
            what,
            retryable: false,
        }
    }

    /// Refused, reset or broken connections are worth another try; a
    /// timeout is not (the caller's time is spent), nor a bad URL, a
    /// malformed answer or too many redirects.
    fn transport(transport: &ureq::Transport) -> Failure {
        if is_timeout(transport) {
            return Failure::fatal(What::Timeout);
        }
        let retryable = matches!(
            transport.kind(),
            ureq::ErrorKind::ConnectionFailed | ureq::ErrorKind::Io
        );
        Failure {
            what: What::Transport(transport.to_string()),
            retryable,
        }
    }

    fn read(error: &std::io::Error) -> Failure {
        use std::io::ErrorKind as Io;
        match error.kind() {
            Io::TimedOut | Io::WouldBlock => Failure::fatal(What::Timeout),
            // A gzip body that does not decode.
            Io::InvalidData | Io::InvalidInput => {
                Failure::fatal(What::BadBody(format!("cannot decode the body: {error}")))
            }
            _ => Failure {
                what: What::Transport(format!("cannot read the body: {error}")),
                retryable: true,
            },
        }
    }

    fn describe(&self) -> String {
        match &self.what {
            What::Status(status) => format!("the server answered {status}"),
            What::Timeout => "timed out".to_string(),
            What::Transport(reason) | What::BadBody(reason) => reason.clone(),
            What::TooLarge(limit) => format!("over {limit} bytes"),
        }
    }

    fn into_error(self, url: &str, attempts: u32, timeout: Duration) -> Error {
        let url = url.to_string();
        Error::new(match self.what {
            What::Status(status) => ErrorKind::Status {
                url,
                status,
                attempts,
            },
            What::Timeout => ErrorKind::Timeout {
                url,
                after: timeout,
            },
            What::Transport(reason) => ErrorKind::Transport {
                url,
                reason,
                attempts,
            },
            What::TooLarge(limit) => ErrorKind::TooLarge { url, limit },
            What::BadBody(reason) => ErrorKind::BadBody { url, reason },
        })
    }
}

fn is_timeout(transport: &ureq::Transport) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> =
        std::error::Error::source(transport);
    while let Some(error) = source {
        if let Some(io) = error.downcast_ref::<std::io::Error>() {
            if matches!(
                io.kind(),
                std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock
            ) {
                return true;
            }
        }
        source = error.source();
    }
    false
}

fn bad_body(url: &str, reason: &str) -> Error {
    Error::new(ErrorKind::BadBody {
        url: url.to_string(),
        reason: reason.to_string(),
    })
}

/// Taskcluster ids are 22-character URL-safe base64 slugs; anything else
/// would not make a safe URL.
fn check_slug(what: &'static str, id: &str) -> Result<(), Error> {
    let slug = id.len() == 22
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if slug {
        Ok(())
    } else {
        Err(Error::new(ErrorKind::BadId {
            what,
            value: id.to_string(),
        }))
    }
}

/// An artifact name is a relative path: no empty, `.` or `..` segment, no
/// control characters.
fn check_artifact_name(name: &str) -> Result<(), Error> {
    let ok = !name.is_empty()
        && !name.chars().any(char::is_control)
        && name
            .split('/')
            .all(|segment| !matches!(segment, "" | "." | ".."));
    if ok {
        Ok(())
    } else {
        Err(Error::new(ErrorKind::BadId {
            what: "artifact name",
            value: name.to_string(),
        }))
    }
}

/// The HTTP agent: it keeps a connection for each request that may be in
/// flight (ureq keeps one a host by default, so the others made a new
/// connection, and a TLS handshake, per request).
fn agent(
    tls: &Arc<ureq::native_tls::TlsConnector>,
    timeout: Duration,
    connections: usize,
) -> ureq::Agent {
    ureq::AgentBuilder::new()
        .max_idle_connections_per_host(connections)
        .tls_connector(Arc::clone(tls))
        .timeout_connect(CONNECT_TIMEOUT.min(timeout))
        .timeout(timeout)
        .user_agent(concat!("pulse-taskcluster/", env!("CARGO_PKG_VERSION")))
        .build()
}

/// A counting semaphore: a channel holding one token per request allowed
/// in flight. Taking a token waits while none is left; the guard puts it
/// back, also when the request panics.
struct Permits {
    give: Sender<()>,
    take: Receiver<()>,
    count: usize,
}

struct Permit<'p> {
    give: &'p Sender<()>,
}

impl Permits {
    fn new(count: usize) -> Permits {
        let (give, take) = crossbeam_channel::bounded(count);
        for _ in 0..count {
            give.send(()).expect("the channel has room for every token");
        }
        Permits { give, take, count }
    }

    fn acquire(&self) -> Permit<'_> {
        // Both ends live in `self`, so the channel cannot disconnect.
        let _ = self.take.recv();
        Permit { give: &self.give }
    }
}

impl Drop for Permit<'_> {
    fn drop(&mut self) {
        let _ = self.give.send(());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let retry = Retry {
            retries: 10,
            base: Duration::from_millis(100),
            cap: Duration::from_millis(500),
        };
        let waits: Vec<u128> = (1..=5).map(|n| retry.delay(n).as_millis()).collect();
        assert_eq!(waits, [100, 200, 400, 500, 500]);
        assert_eq!(retry.delay(200), Duration::from_millis(500), "no overflow");
    }

    #[test]
    fn ids_and_names_that_would_not_make_safe_urls_are_refused() {
        assert!(check_slug("task id", "Cd8bq3YfS6ifUeBcwnmuPg").is_ok());
        for bad in ["../../secrets", "short", "A0000000000000000000/1", ""] {
            let error = check_slug("task id", bad).unwrap_err();
            assert_eq!(error.to_string(), format!("{bad:?} is not a task id"));
            assert_eq!(error.url(), None);
        }
        assert!(check_artifact_name("public/build/target.tar.xz").is_ok());
        for bad in ["", "/etc/passwd", "public/../secret", "a//b", "a\nb"] {
            assert!(check_artifact_name(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn artifact_urls_keep_slashes_and_escape_the_rest() {
        assert_eq!(
            artifact_url("https://tc.example/", "T", 1, "public/a b#c.log"),
            "https://tc.example/api/queue/v1/task/T/runs/1/artifacts/public/a%20b%23c.log"
        );
    }

    #[test]
    fn permits_bound_what_is_in_flight() {
        let permits = Permits::new(2);
        let a = permits.acquire();
        let _b = permits.acquire();
        assert!(permits.take.try_recv().is_err(), "no third place");
        drop(a);
        assert!(permits.take.try_recv().is_ok(), "a place came back");
    }
}
