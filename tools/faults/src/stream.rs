//! [`Stream`]: a publisher thread that sends numbered messages at a steady
//! pace, and keeps going across broker restarts.

use std::ops::Range;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use pulse_build_monitor::exchanges::BUILD as EXCHANGE_BUILD;
use pulse_wire::{ConnectionSettings, Message, Publisher};

use crate::build_message;

/// Publishes [`build_message`]s for a range of ids to `exchange/build/`
/// (declared first), `batch` at a time with `pause` between batches, each
/// batch confirmed by the broker. A failed batch (the broker went away) is
/// sent again on a new connection, so every id is confirmed at least once;
/// the publisher gives up after 120 s without progress.
#[derive(Debug)]
pub struct Stream {
    thread: Option<JoinHandle<Result<(), String>>>,
    confirmed: Arc<AtomicU64>,
    retries: Arc<AtomicU64>,
}

impl Stream {
    /// Starts publishing on a thread of its own.
    pub fn start(
        settings: ConnectionSettings,
        ids: Range<u64>,
        batch: usize,
        pause: Duration,
    ) -> Stream {
        let confirmed = Arc::new(AtomicU64::new(0));
        let retries = Arc::new(AtomicU64::new(0));
        let (counter, retry_counter) = (Arc::clone(&confirmed), Arc::clone(&retries));
        let thread = std::thread::spawn(move || {
            let ids: Vec<u64> = ids.collect();
            let mut publisher: Option<Publisher> = None;
            let mut last_progress = Instant::now();
            for chunk in ids.chunks(batch.max(1)) {
                let messages: Vec<Message> = chunk
                    .iter()
                    .map(|&id| {
                        let (routing_key, body) = build_message(id);
                        Message {
                            exchange: EXCHANGE_BUILD.to_string(),
                            routing_key,
                            body,
                            cc: Vec::new(),
                        }
                    })
                    .collect();
                loop {
                    if publisher.is_none() {
                        publisher = Publisher::connect(&settings)
                            .and_then(|mut p| {
                                // A broker going away must not stall us long.
                                p.set_confirm_timeout(Duration::from_secs(5));
                                p.declare_exchange(EXCHANGE_BUILD).map(|()| p)
                            })
                            .ok();
                    }
                    let result = match publisher.as_mut() {
                        Some(p) => p.publish_batch(&messages).map_err(|e| e.to_string()),
                        None => Err("cannot connect".to_string()),
                    };
                    match result {
                        Ok(_) => break,
                        Err(e) => {
                            if last_progress.elapsed() > Duration::from_secs(120) {
                                return Err(format!("publishing stalled: {e}"));
                            }
                            publisher = None;
                            retry_counter.fetch_add(1, Ordering::Relaxed);
                            std::thread::sleep(Duration::from_millis(200));
                        }
                    }
                }
                last_progress = Instant::now();
                counter.fetch_add(chunk.len() as u64, Ordering::Relaxed);
                std::thread::sleep(pause);
            }
            if let Some(publisher) = publisher {
                let _ = publisher.close();
            }
            Ok(())
        });
        Stream {
            thread: Some(thread),
            confirmed,
            retries,
        }
    }

    /// Ids confirmed by the broker so far.
    pub fn confirmed(&self) -> u64 {
        self.confirmed.load(Ordering::Relaxed)
    }

    /// Batches sent again after a failure (each may duplicate messages).
    pub fn retries(&self) -> u64 {
        self.retries.load(Ordering::Relaxed)
    }

    /// Whether every id has been confirmed (or publishing failed).
    pub fn is_finished(&self) -> bool {
        self.thread.as_ref().is_none_or(|t| t.is_finished())
    }

    /// Waits for the last confirm; panics if publishing failed.
    pub fn join(mut self) -> u64 {
        if let Some(thread) = self.thread.take() {
            match thread.join() {
                Ok(Ok(())) => {}
                Ok(Err(e)) => panic!("{e}"),
                Err(_) => panic!("the publishing thread panicked"),
            }
        }
        self.confirmed()
    }
}
