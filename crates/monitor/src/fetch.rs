//! Task definitions fetched from the Taskcluster queue, for messages that do
//! not say enough to translate (feature `fetch`).
//!
//! Messages from before 2019 carry no `task.tags`, and their routing key
//! names no push; messages of kinds the tags cannot place (partials,
//! signing…) need the definition's `extra.treeherder.jobKind`. The monitor
//! first translates from the message alone and only when that fails with an
//! error a definition can mend (no `tc-treeherder` route, no label, or a
//! kind, label or platform only `extra.treeherder` can place) asks the
//! [`TaskDefinitionFetcher`] for `<root_url>/api/queue/v1/task/<taskId>`.
//!
//! Requests are blocking and made on the monitor's pump thread, so a slow
//! queue slows the monitor down (never more than the timeout per message)
//! rather than reordering messages. Definitions never change once a task is
//! created, so they are cached: a task's pending, running and completed
//! messages cost one request. Failures are not cached; the message counts
//! as a translation error and goes to the dead-letter file, to be replayed.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use pulse_translator::taskcluster::{self, TaskDefinition};
use pulse_translator::Message;
use pulse_translator::Options;
use pulse_translator::{ErrorKind as TranslateErrorKind, Record};
use serde::Deserialize;

use crate::{Error, ErrorKind};

/// How many definitions a fetcher keeps by default.
pub const DEFAULT_CACHE_CAPACITY: usize = 4096;
/// How long a request may take by default, connecting included.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// Fetches task definitions from a Taskcluster queue and keeps the most
/// recent ones. Shared by reference; every method takes `&self`.
///
/// ```no_run
/// use pulse_build_monitor::{Monitor, Source, TaskDefinitionFetcher};
///
/// let fetcher = TaskDefinitionFetcher::new("https://firefox-ci-tc.services.mozilla.com")?
///     .cache_capacity(10_000);
/// let monitor = Monitor::builder()
///     .source(Source::Taskcluster { progress: false })
///     .task_definitions(fetcher)
///     .on_test(|test| println!("{} {}", test.job.tree, test.test))
///     .start()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct TaskDefinitionFetcher {
    root_url: String,
    tls: Arc<ureq::native_tls::TlsConnector>,
    agent: ureq::Agent,
    timeout: Duration,
    capacity: usize,
    cache: Mutex<Cache>,
}

/// Oldest-first eviction: a task's messages arrive close together, so
/// first-in-first-out keeps what is still needed without tracking use.
#[derive(Default)]
struct Cache {
    definitions: HashMap<String, Arc<TaskDefinition>>,
    order: VecDeque<String>,
}

impl std::fmt::Debug for TaskDefinitionFetcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TaskDefinitionFetcher")
            .field("root_url", &self.root_url)
            .field("timeout", &self.timeout)
            .field("capacity", &self.capacity)
            .field("cached", &self.cached())
            .finish_non_exhaustive()
    }
}

impl TaskDefinitionFetcher {
    /// A fetcher for the queue at `root_url` (e.g.
    /// `https://firefox-ci-tc.services.mozilla.com`; a trailing slash is
    /// ignored), with a 10 s timeout and room for 4096 definitions.
    ///
    /// Fails only when the system's TLS library cannot be set up.
    pub fn new(root_url: impl Into<String>) -> Result<TaskDefinitionFetcher, Error> {
        let root_url = root_url.into().trim_end_matches('/').to_string();
        let tls = ureq::native_tls::TlsConnector::new().map_err(|e| {
            Error::new(ErrorKind::TaskDefinition {
                url: root_url.clone(),
                status: None,
                reason: format!("cannot set up tls: {e}"),
            })
        })?;
        let tls = Arc::new(tls);
        Ok(TaskDefinitionFetcher {
            agent: agent(&tls, DEFAULT_TIMEOUT),
            tls,
            root_url,
            timeout: DEFAULT_TIMEOUT,
            capacity: DEFAULT_CACHE_CAPACITY,
            cache: Mutex::default(),
        })
    }

    /// How long one request may take, connecting included (default 10 s).
    #[must_use]
    pub fn timeout(mut self, timeout: Duration) -> TaskDefinitionFetcher {
        self.timeout = timeout;
        self.agent = agent(&self.tls, timeout);
        self
    }

    /// How many definitions to keep (default 4096); 0 keeps none.
    #[must_use]
    pub fn cache_capacity(mut self, capacity: usize) -> TaskDefinitionFetcher {
        self.capacity = capacity;
        self
    }

    /// The queue's root URL, without a trailing slash.
    pub fn root_url(&self) -> &str {
        &self.root_url
    }

    /// How many definitions are cached now.
    pub fn cached(&self) -> usize {
        self.lock().definitions.len()
    }

    /// The definition of `task_id`, from the cache or the queue.
    ///
    /// Fails with [`ErrorKind::TaskDefinition`] for a task id that is not a
    /// Taskcluster slug (it would not make a safe URL), a request that
    /// fails or times out, a status other than 200 (`status` says which:
    /// 404 for a task the queue does not know or has expired), or a body
    /// that is not a task definition.
    pub fn definition(&self, task_id: &str) -> Result<Arc<TaskDefinition>, Error> {
        if let Some(found) = self.lock().definitions.get(task_id) {
            return Ok(Arc::clone(found));
        }
        let url = format!("{}/api/queue/v1/task/{task_id}", self.root_url);
        let failed = |status: Option<u16>, reason: String| {
            Error::new(ErrorKind::TaskDefinition {
                url: url.clone(),
                status,
                reason,
            })
        };
        if !is_slug(task_id) {
            return Err(failed(None, format!("{task_id:?} is not a task id")));
        }
        let response = self.agent.get(&url).call().map_err(|e| match e {
            ureq::Error::Status(status, _) => {
                failed(Some(status), format!("the queue answered {status}"))
            }
            ureq::Error::Transport(transport) => failed(None, transport.to_string()),
        })?;
        let status = Some(response.status());
        let body = response
            .into_string()
            .map_err(|e| failed(status, format!("cannot read the body: {e}")))?;
        let definition = TaskDefinition::from_json(body.as_bytes())
            .map_err(|e| failed(status, e.to_string()))?;
        let definition = Arc::new(definition);
        self.remember(task_id, Arc::clone(&definition));
        Ok(definition)
    }

    fn remember(&self, task_id: &str, definition: Arc<TaskDefinition>) {
        if self.capacity == 0 {
            return;
        }
        let mut cache = self.lock();
        if cache
            .definitions
            .insert(task_id.to_string(), definition)
            .is_some()
        {
            return; // another thread fetched it meanwhile
        }
        cache.order.push_back(task_id.to_string());
        while cache.order.len() > self.capacity {
            if let Some(oldest) = cache.order.pop_front() {
                cache.definitions.remove(&oldest);
            }
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Cache> {
        self.cache.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

fn agent(tls: &Arc<ureq::native_tls::TlsConnector>, timeout: Duration) -> ureq::Agent {
    ureq::AgentBuilder::new()
        .tls_connector(Arc::clone(tls))
        .timeout_connect(CONNECT_TIMEOUT.min(timeout))
        .timeout(timeout)
        .user_agent(concat!("pulse-build-monitor/", env!("CARGO_PKG_VERSION")))
        .build()
}

/// Taskcluster task ids are 22-character URL-safe base64 slugs.
fn is_slug(task_id: &str) -> bool {
    task_id.len() == 22
        && task_id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Whether a task definition may mend this translation error: the message
/// names no push or no label, or a label or platform that only the
/// definition's `extra.treeherder` can place. Malformed messages, unknown
/// exchanges and malformed routes cannot be mended.
pub(crate) fn needs_definition(error: &pulse_translator::Error) -> bool {
    can_mend(error.kind())
}

fn can_mend(kind: &TranslateErrorKind) -> bool {
    matches!(
        kind,
        TranslateErrorKind::MissingTreeherderRoute { .. }
            | TranslateErrorKind::MissingTaskLabel { .. }
            | TranslateErrorKind::UnknownLabelShape { .. }
            | TranslateErrorKind::UnknownTaskPlatform { .. }
    )
}

/// Translates `task` with its fetched definition, after translating it
/// alone failed with `error`. When the definition cannot be had, the
/// message fails with `error`, and the reason is logged.
pub(crate) fn translate_with_fetched(
    fetcher: &TaskDefinitionFetcher,
    task: &Message,
    error: pulse_translator::Error,
    options: &Options,
) -> Result<Record, pulse_translator::Error> {
    #[derive(Deserialize)]
    struct Body {
        status: Status,
    }
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Status {
        task_id: String,
    }
    let Ok(body) = serde_json::from_slice::<Body>(&task.body) else {
        return Err(error);
    };
    match fetcher.definition(&body.status.task_id) {
        Ok(definition) => taskcluster::translate_with_definition(task, &definition, options),
        Err(fetch_error) => {
            log::warn!("{fetch_error}; so: {error}");
            Err(error)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// A queue on 127.0.0.1 that knows tasks whose id starts with `A`
    /// (answering 404 for others and 500 for `E…`), and counts requests.
    fn queue() -> (String, Arc<AtomicUsize>) {
        let server = tiny_http::Server::http("127.0.0.1:0").unwrap();
        let root = format!("http://{}", server.server_addr());
        let requests = Arc::new(AtomicUsize::new(0));
        let counted = Arc::clone(&requests);
        std::thread::spawn(move || {
            for request in server.incoming_requests() {
                counted.fetch_add(1, Ordering::SeqCst);
                let id = request.url().rsplit('/').next().unwrap_or_default();
                let (status, body) = match id.as_bytes().first() {
                    Some(b'A') => (200, served(id)),
                    Some(b'B') => (200, "not json".to_string()),
                    Some(b'E') => (500, String::new()),
                    _ => (404, String::new()),
                };
                let response = tiny_http::Response::from_string(body).with_status_code(status);
                let _ = request.respond(response);
            }
        });
        (root, requests)
    }

    /// The definition the queue serves for a task whose id starts with `A`.
    fn served(id: &str) -> String {
        format!(r#"{{"metadata": {{"name": "{id}"}}, "routes": ["r"]}}"#)
    }

    fn id(first: char, n: usize) -> String {
        format!("{first}{n:021}")
    }

    #[test]
    fn definitions_are_fetched_once_and_the_oldest_evicted() {
        let (root, requests) = queue();
        let fetcher = TaskDefinitionFetcher::new(format!("{root}/"))
            .unwrap()
            .cache_capacity(2);
        assert_eq!(fetcher.root_url(), root);
        let (a, b, c) = (id('A', 1), id('A', 2), id('A', 3));
        let first = fetcher.definition(&a).unwrap();
        // The served body, read: its name told apart from another task's.
        let read = |id: &str| TaskDefinition::from_json(served(id).as_bytes()).unwrap();
        assert_eq!(*first, read(&a));
        assert_ne!(*first, read(&b));
        fetcher.definition(&a).unwrap();
        assert_eq!(
            requests.load(Ordering::SeqCst),
            1,
            "the second came from the cache"
        );
        fetcher.definition(&b).unwrap();
        fetcher.definition(&c).unwrap(); // evicts a
        assert_eq!((fetcher.cached(), requests.load(Ordering::SeqCst)), (2, 3));
        fetcher.definition(&c).unwrap();
        fetcher.definition(&a).unwrap();
        assert_eq!(
            requests.load(Ordering::SeqCst),
            4,
            "a was evicted, c was not"
        );
    }

    #[test]
    fn no_capacity_caches_nothing() {
        let (root, requests) = queue();
        let fetcher = TaskDefinitionFetcher::new(root).unwrap().cache_capacity(0);
        fetcher.definition(&id('A', 1)).unwrap();
        fetcher.definition(&id('A', 1)).unwrap();
        assert_eq!((fetcher.cached(), requests.load(Ordering::SeqCst)), (0, 2));
    }

    fn failure(fetcher: &TaskDefinitionFetcher, task_id: &str) -> (Option<u16>, String) {
        let err = fetcher.definition(task_id).unwrap_err();
        match err.kind() {
            ErrorKind::TaskDefinition {
                url,
                status,
                reason,
            } => {
                assert!(
                    url.ends_with(&format!("/api/queue/v1/task/{task_id}")),
                    "{url}"
                );
                assert!(err.to_string().contains(url.as_str()), "{err}");
                (*status, reason.clone())
            }
            other => panic!("{task_id}: {other:?}"),
        }
    }

    #[test]
    fn failures_are_typed_and_not_cached() {
        let (root, requests) = queue();
        let fetcher = TaskDefinitionFetcher::new(root).unwrap();
        assert_eq!(failure(&fetcher, &id('N', 1)).0, Some(404));
        assert_eq!(failure(&fetcher, &id('E', 1)).0, Some(500));
        let (status, reason) = failure(&fetcher, &id('B', 1));
        assert_eq!(status, Some(200));
        assert!(reason.contains("task definition"), "{reason}");
        assert_eq!(failure(&fetcher, &id('N', 1)).0, Some(404));
        assert_eq!(requests.load(Ordering::SeqCst), 4);
        assert_eq!(fetcher.cached(), 0);
        for bad in ["../../secrets", "short", "A0000000000000000000/1", ""] {
            let (status, reason) = failure(&fetcher, bad);
            assert_eq!(status, None);
            assert!(reason.contains("is not a task id"), "{reason}");
        }
        assert_eq!(
            requests.load(Ordering::SeqCst),
            4,
            "bad ids never reach the queue"
        );
    }

    #[test]
    fn a_queue_that_does_not_answer_times_out() {
        // Accepts connections but never answers.
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let root = format!("http://{}", listener.local_addr().unwrap());
        let fetcher = TaskDefinitionFetcher::new(root)
            .unwrap()
            .timeout(Duration::from_millis(200));
        let (status, reason) = failure(&fetcher, &id('A', 1));
        assert_eq!(status, None);
        assert!(reason.to_lowercase().contains("timed out"), "{reason}");
        drop(listener);
    }

    #[test]
    fn a_queue_that_is_down_is_a_transport_error() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let root = format!("http://{}", listener.local_addr().unwrap());
        drop(listener);
        let fetcher = TaskDefinitionFetcher::new(root).unwrap();
        assert_eq!(failure(&fetcher, &id('A', 1)).0, None);
    }

    #[test]
    fn only_errors_a_definition_can_mend_ask_for_one() {
        let mendable = [
            TranslateErrorKind::MissingTreeherderRoute {
                task_id: "x".into(),
            },
            TranslateErrorKind::MissingTaskLabel {
                task_id: "x".into(),
            },
            TranslateErrorKind::UnknownLabelShape { label: "x".into() },
            TranslateErrorKind::UnknownTaskPlatform {
                platform: "x".into(),
            },
        ];
        for kind in mendable {
            assert!(can_mend(&kind), "{kind:?}");
        }
        let hopeless = [
            TranslateErrorKind::MalformedTaskMessage { reason: "x".into() },
            TranslateErrorKind::MissingTaskField { field: "status" },
            TranslateErrorKind::UnknownTaskExchange {
                exchange: "x".into(),
            },
            TranslateErrorKind::BadTreeherderRoute { route: "x".into() },
            TranslateErrorKind::NoLogUrl,
        ];
        for kind in hopeless {
            assert!(!can_mend(&kind), "{kind:?}");
        }
    }
}
