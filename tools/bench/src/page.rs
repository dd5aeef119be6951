//! What the live page costs, and what everything on costs: three child
//! processes read copies of one generated push's stream at a steady rate.
//! Two are the monitor with everything on (push tracking with an SQLite
//! state, record details from a local Taskcluster queue, the live page
//! fed by it); the first has 100 open live pages (server-sent event
//! streams this process reads), the second none. The third is a bare
//! consumer. The CPU each child used, per 100,000 messages, gives two
//! rows: the page's clients against none, and everything on against the
//! bare consumer.

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use pulse_test_support::{QueueServer, Reply};

use crate::broker::BoxError;
use crate::processes::{args, ChildReport, Children};
use crate::report::{thousands, Row, Target};
use crate::tc_messages::{self, TcStream};
use crate::Context;

/// See the module's overview: `clients` live pages on the first child.
pub fn cpu(ctx: &Context, seconds: u64, rate: u64, clients: usize) -> Result<Vec<Row>, BoxError> {
    let stream = TcStream::unique((seconds * rate) as usize);
    let count = stream.messages.len() as u64;
    let queue_api = QueueServer::serving_push(&stream.push, Vec::<(String, Reply)>::new());
    let user = &ctx.broker.user;
    let watched_label = format!("{}-page-watched", ctx.run);
    let unwatched_label = format!("{}-page-unwatched", ctx.run);
    let bare_queue = format!("queue/{user}/{}-page-bare", ctx.run);
    let queues = [
        pulse_wire::queue_name(user, Some(&watched_label)),
        pulse_wire::queue_name(user, Some(&unwatched_label)),
        bare_queue.clone(),
    ];
    let state_dir = std::env::temp_dir().join(format!("pulse-bench-{}-page", ctx.run));
    std::fs::create_dir_all(&state_dir)?;
    let mut publisher = pulse_wire::Publisher::connect(&ctx.broker)?;
    for queue in &queues {
        tc_messages::declare_queue(&ctx.ledger, &mut publisher, queue, &stream.pattern())?;
    }
    let _ = publisher.close();

    let count_arg = count.to_string();
    let everything_on = |label: &str, state: &str| {
        let state = state_dir.join(state).to_string_lossy().into_owned();
        args(&[
            "--label",
            label,
            "--revision",
            &stream.revision,
            "--count",
            &count_arg,
            "--stop-at-count",
            "--push-state",
            &state,
            "--page",
            "--details-root",
            &queue_api.root_url,
        ])
    };
    let child_args = vec![
        everything_on(&watched_label, "watched.sqlite"),
        everything_on(&unwatched_label, "unwatched.sqlite"),
        args(&["--bare-queue", &bare_queue, "--count", &count_arg]),
    ];
    let measured = (|| {
        let mut children = Children::spawn(ctx, &child_args)?;
        children.wait_ready(Duration::from_secs(60))?;
        let page = children.page(0).ok_or("the watched child serves no page")?;
        let live = LiveClients::open(page, clients)?;
        live.wait_until_live(page, Duration::from_secs(30))?;
        let (took, worst_lag) = stream.publish_paced(&ctx.broker, rate)?;
        let reports = children.finish(None, Duration::from_secs(120))?;
        let saw = live.close();
        Ok::<_, BoxError>((reports, saw, took, worst_lag))
    })();
    for queue in &queues {
        ctx.ledger.delete_queue(queue);
    }
    let _ = std::fs::remove_dir_all(&state_dir);
    let (reports, saw, took, worst_lag) = measured?;
    let (watched, unwatched, bare) = (&reports[0], &reports[1], &reports[2]);
    watched.check("the monitor with live pages", count)?;
    unwatched.check("the monitor without", count)?;
    bare.check("the bare consumer process", count)?;
    let quiet = saw.iter().filter(|s| s.pushes == 0).count();
    if quiet > 0 {
        return Err(format!("{quiet} of {clients} live pages saw no push event: {saw:?}").into());
    }
    let fetched = queue_api.requests().values().sum::<usize>();
    if fetched == 0 {
        return Err("no record details were fetched from the local queue".into());
    }

    let per_100k = |r: &ChildReport| r.cpu_seconds / count as f64 * 100_000.0;
    let share = |r: &ChildReport| r.cpu_seconds / r.wall_seconds * 100.0;
    let events: u64 = saw.iter().map(|s| s.pushes).sum();
    let builds: u64 = saw.iter().map(|s| s.builds).sum();
    let bytes: u64 = saw.iter().map(|s| s.bytes).sum();
    eprintln!(
        "  page: watched {:.2} s, unwatched {:.2} s, bare {:.2} s CPU for {count} msgs; {clients} pages read {events} push and {builds} build events, {} KB",
        watched.cpu_seconds,
        unwatched.cpu_seconds,
        bare.cpu_seconds,
        bytes / 1000
    );
    let at_rate = format!("at {} msg/s", thousands(rate as f64));
    Ok(vec![
        Row::compare(
            format!("CPU per 100,000 Taskcluster msgs {at_rate}, page with {clients} live clients"),
            per_100k(watched),
            per_100k(unwatched),
            |s| format!("{s:.2} s"),
        )
        .note(format!(
            "{count} msgs of a generated push ({} B average) for {seconds} s ({:.1} s actual, publisher at most {:.1} ms behind schedule); two monitor processes with everything on (push tracking with an SQLite state, record details from a local Taskcluster queue serving the push, {fetched} requests, the live page fed by it) read copies of the same stream at the same time; {clients} server-sent event streams open on the first the whole time ({events} push and {builds} build events, {} KB read, every page saw pushes), none on the second (the baseline); CPU time of each child process from consuming to its last message: {:.2} s ({:.1}% of a core) and {:.2} s ({:.1}%)",
            stream.average_size(),
            took.as_secs_f64(),
            worst_lag.as_secs_f64() * 1e3,
            bytes / 1000,
            watched.cpu_seconds,
            share(watched),
            unwatched.cpu_seconds,
            share(unwatched),
        )),
        Row::compare(
            format!("CPU per 100,000 Taskcluster msgs {at_rate}, everything on"),
            per_100k(watched),
            per_100k(bare),
            |s| format!("{s:.2} s"),
        )
        .target(Target::RatioAtMost(1.5))
        .note(format!(
            "the monitor with push tracking (SQLite), details, the page and {clients} live clients, as above; baseline: a bare consumer process reading a third copy at the same time, {:.2} s ({:.1}% of a core)",
            bare.cpu_seconds,
            share(bare),
        )),
    ])
}

/// What one live page read.
#[derive(Debug, Default)]
struct Saw {
    bytes: u64,
    pushes: u64,
    builds: u64,
}

#[derive(Default)]
struct Counters {
    bytes: AtomicU64,
    snapshots: AtomicU64,
    pushes: AtomicU64,
    builds: AtomicU64,
}

/// Open `/events` streams, each read by a thread of its own as a browser
/// would: everything, as it comes.
struct LiveClients {
    streams: Vec<TcpStream>,
    counters: Vec<Arc<Counters>>,
    readers: Vec<JoinHandle<()>>,
}

impl LiveClients {
    fn open(page: SocketAddr, clients: usize) -> Result<LiveClients, BoxError> {
        let mut live = LiveClients {
            streams: Vec::new(),
            counters: Vec::new(),
            readers: Vec::new(),
        };
        for _ in 0..clients {
            let mut stream = TcpStream::connect(page)?;
            stream.write_all(
                b"GET /events HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n",
            )?;
            let counters = Arc::new(Counters::default());
            let (reader, seen) = (stream.try_clone()?, Arc::clone(&counters));
            live.readers
                .push(std::thread::spawn(move || read_events(reader, &seen)));
            live.streams.push(stream);
            live.counters.push(counters);
        }
        Ok(live)
    }

    /// Waits until every client has its first snapshot and the page counts
    /// them all open.
    fn wait_until_live(&self, page: SocketAddr, timeout: Duration) -> Result<(), BoxError> {
        let deadline = Instant::now() + timeout;
        let want = format!("\"pages\":{}", self.streams.len());
        loop {
            let snapshots = self
                .counters
                .iter()
                .all(|c| c.snapshots.load(Ordering::Relaxed) > 0);
            let status = get(page, "/api/status")?;
            if snapshots && status.contains(&want) {
                return Ok(());
            }
            if Instant::now() > deadline {
                let with_snapshot = self
                    .counters
                    .iter()
                    .filter(|c| c.snapshots.load(Ordering::Relaxed) > 0)
                    .count();
                let status = status.rsplit("\r\n").next().unwrap_or_default();
                return Err(format!(
                    "the page's clients are not all live after {timeout:?}: {with_snapshot} of {} have their snapshot; the page says {status}",
                    self.streams.len()
                )
                .into());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Closes every stream; what each read.
    fn close(self) -> Vec<Saw> {
        for stream in &self.streams {
            let _ = stream.shutdown(Shutdown::Both);
        }
        for reader in self.readers {
            let _ = reader.join();
        }
        self.counters
            .iter()
            .map(|c| Saw {
                bytes: c.bytes.load(Ordering::Relaxed),
                pushes: c.pushes.load(Ordering::Relaxed),
                builds: c.builds.load(Ordering::Relaxed),
            })
            .collect()
    }
}

/// Reads a stream to its end, counting the events it names. A name split
/// between two reads is found in the tail kept from the first; a match is
/// counted when it ends in the new bytes, so never twice.
fn read_events(mut stream: TcpStream, counters: &Counters) {
    const NAMES_LONGEST: usize = b"event: snapshot\n".len();
    let mut buffer = vec![0u8; 16 << 10];
    let mut text: Vec<u8> = Vec::new();
    while let Ok(n) = stream.read(&mut buffer) {
        if n == 0 {
            break;
        }
        counters.bytes.fetch_add(n as u64, Ordering::Relaxed);
        let old = text.len();
        text.extend_from_slice(&buffer[..n]);
        for (name, counter) in [
            (&b"event: snapshot\n"[..], &counters.snapshots),
            (&b"event: push\n"[..], &counters.pushes),
            (&b"event: build\n"[..], &counters.builds),
        ] {
            let found = text
                .windows(name.len())
                .enumerate()
                .filter(|(at, w)| *w == name && at + name.len() > old)
                .count();
            counter.fetch_add(found as u64, Ordering::Relaxed);
        }
        let keep = text.len().min(NAMES_LONGEST - 1);
        text.drain(..text.len() - keep);
    }
}

/// The body of a GET on the page.
fn get(page: SocketAddr, path: &str) -> Result<String, BoxError> {
    let mut stream = TcpStream::connect(page)?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    )?;
    let mut answer = String::new();
    stream.read_to_string(&mut answer)?;
    Ok(answer)
}
