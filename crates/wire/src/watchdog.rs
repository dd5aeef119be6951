//! The stall watchdog: a consumer that is connected but silent.
//!
//! Heartbeats notice a dead link: amiquip ends the connection after two
//! heartbeat intervals without a frame from the broker. They cannot notice
//! a link that carries heartbeats but no deliveries (the broker lost our
//! consumer without telling us, a stuck channel), and they notice nothing
//! at all when heartbeats are off. So the connection thread asks the
//! broker about the queue (a passive declare on a channel of its own, on a
//! [`Probe`] thread) at every depth check and whenever no delivery came for
//! the stall timeout, and reconnects when:
//!
//! - the queue holds messages, the prefetch window has room, and no
//!   delivery came for the stall timeout: twice in a row, a short
//!   confirmation apart, so a message published just before the check does
//!   not count;
//! - the broker lists no consumer on the queue: ours vanished without a
//!   cancel (twice in a row too);
//! - the broker does not answer within half the stall timeout: the link is
//!   silent.
//!
//! The stall timeout defaults to the heartbeat ([`ConsumeOptions::stall_timeout`](crate::ConsumeOptions::stall_timeout)),
//! so a silent link is noticed within 1.5 heartbeats by the watchdog and
//! within 2 by the heartbeat check, whichever comes first.

use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use amiquip::Channel;
use crossbeam_channel::{Receiver, Sender};

use crate::error::{Error, Result};

/// What the broker said about the queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct QueueState {
    /// Messages ready for delivery (not those delivered and unacknowledged).
    pub(crate) messages: u32,
    /// Consumers the broker lists on the queue.
    pub(crate) consumers: u32,
}

/// A thread that owns a channel of its own and answers "how is the queue?"
/// with a passive declare. A missing queue (404) closes its channel: it
/// then answers with that error and ends.
pub(crate) struct Probe {
    requests: Option<Sender<()>>,
    answers: Receiver<Result<QueueState>>,
    _thread: JoinHandle<()>,
}

impl Probe {
    pub(crate) fn start(channel: Channel, queue: String) -> Result<Probe> {
        let (requests_tx, requests_rx) = crossbeam_channel::bounded::<()>(1);
        let (answers_tx, answers_rx) = crossbeam_channel::bounded(1);
        let thread = std::thread::Builder::new()
            .name(format!("pulse-wire probe {queue}"))
            .spawn(move || {
                for () in requests_rx.iter() {
                    let answer = channel
                        .queue_declare_passive(queue.as_str())
                        .map(|q| QueueState {
                            messages: q.declared_message_count().unwrap_or(0),
                            consumers: q.declared_consumer_count().unwrap_or(0),
                        })
                        .map_err(|e| Error::amqp(format_args!("checking queue `{queue}`"), e));
                    let failed = answer.is_err();
                    if answers_tx.send(answer).is_err() || failed {
                        break;
                    }
                }
                // Dropping the channel closes it: quick on a live
                // connection, and on a dead one (the socket is shut down
                // before the session lets go of us).
            })
            .map_err(|e| Error::io("spawning the queue probe", e))?;
        Ok(Probe {
            requests: Some(requests_tx),
            answers: answers_rx,
            _thread: thread,
        })
    }

    /// Asks once; the answer arrives on [`answers`](Self::answers).
    pub(crate) fn ask(&self) {
        if let Some(requests) = &self.requests {
            let _ = requests.try_send(());
        }
    }

    pub(crate) fn answers(&self) -> &Receiver<Result<QueueState>> {
        &self.answers
    }
}

impl Drop for Probe {
    /// Ends the thread once it is done with the current question; never
    /// waits for it (on a silent link that could take long).
    fn drop(&mut self) {
        self.requests = None;
    }
}

/// What an answer means.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Verdict {
    Fine,
    /// Looks stalled; asked again after the confirmation delay.
    Suspect,
    Stalled(String),
}

/// The watchdog's reasoning, apart from any I/O.
#[derive(Debug)]
pub(crate) struct Watchdog {
    stall_timeout: Duration,
    last_delivery: Instant,
    last_answer: Instant,
    asked_at: Option<Instant>,
    suspect_at: Option<Instant>,
}

impl Watchdog {
    pub(crate) fn new(now: Instant, stall_timeout: Duration) -> Watchdog {
        Watchdog {
            stall_timeout,
            last_delivery: now,
            last_answer: now,
            asked_at: None,
            suspect_at: None,
        }
    }

    /// How long the broker has to answer.
    pub(crate) fn answer_timeout(&self) -> Duration {
        self.stall_timeout / 2
    }

    /// How long after a suspicious answer the broker is asked again.
    fn confirm_after(&self) -> Duration {
        (self.stall_timeout / 4).min(Duration::from_secs(5))
    }

    pub(crate) fn delivered(&mut self, now: Instant) {
        self.last_delivery = now;
        self.suspect_at = None;
    }

    /// When the next question is due: the next depth check, a stall
    /// timeout of silence (deliveries and answers both count as sound), or
    /// the confirmation of a suspicion.
    fn next_question(&self, next_depth_check: Instant) -> Instant {
        let quiet_since = self.last_delivery.max(self.last_answer);
        let mut due = next_depth_check.min(quiet_since + self.stall_timeout);
        if let Some(suspect_at) = self.suspect_at {
            due = due.min(suspect_at + self.confirm_after());
        }
        due
    }

    /// Whether to ask now; records the question if so.
    pub(crate) fn should_ask(&mut self, now: Instant, next_depth_check: Instant) -> bool {
        if self.asked_at.is_none() && now >= self.next_question(next_depth_check) {
            self.asked_at = Some(now);
            return true;
        }
        false
    }

    /// When the connection thread must look again.
    pub(crate) fn wake_at(&self, next_depth_check: Instant) -> Instant {
        match self.asked_at {
            Some(asked_at) => asked_at + self.answer_timeout(),
            None => self.next_question(next_depth_check),
        }
    }

    /// Why the link is silent, if the broker has not answered in time.
    pub(crate) fn overdue(&self, now: Instant) -> Option<String> {
        let asked_at = self.asked_at?;
        (now >= asked_at + self.answer_timeout()).then(|| {
            format!(
                "the broker did not answer a queue check within {:?}: the link is silent",
                self.answer_timeout()
            )
        })
    }

    /// Weighs an answer; `room` says whether the prefetch window could take
    /// another delivery.
    pub(crate) fn answered(&mut self, now: Instant, state: QueueState, room: bool) -> Verdict {
        self.asked_at = None;
        self.last_answer = now;
        let silence = now.saturating_duration_since(self.last_delivery);
        let problem = if state.consumers == 0 {
            Some("the broker lists no consumer on the queue: ours vanished without a cancel".into())
        } else if state.messages > 0 && room && silence >= self.stall_timeout {
            Some(format!(
                "no delivery for {:.1} s while the queue holds {} messages",
                silence.as_secs_f64(),
                state.messages
            ))
        } else {
            None
        };
        match (problem, self.suspect_at) {
            (None, _) => {
                self.suspect_at = None;
                Verdict::Fine
            }
            (Some(reason), Some(_)) => Verdict::Stalled(reason),
            (Some(_), None) => {
                self.suspect_at = Some(now);
                Verdict::Suspect
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const STALL: Duration = Duration::from_secs(8);

    fn state(messages: u32, consumers: u32) -> QueueState {
        QueueState {
            messages,
            consumers,
        }
    }

    #[test]
    fn asks_at_depth_checks_and_after_a_stall_timeout_of_silence() {
        let t0 = Instant::now();
        let far = t0 + Duration::from_secs(3600);
        let mut dog = Watchdog::new(t0, STALL);
        assert!(
            dog.should_ask(t0, t0),
            "the first depth check is due at once"
        );
        assert!(!dog.should_ask(t0, t0), "one question at a time");
        assert_eq!(dog.answered(t0, state(0, 1), true), Verdict::Fine);
        assert!(!dog.should_ask(t0 + STALL / 2, far));
        dog.delivered(t0 + STALL / 2);
        assert!(!dog.should_ask(t0 + STALL, far), "a delivery is activity");
        assert_eq!(dog.wake_at(far), t0 + STALL / 2 + STALL);
        assert!(dog.should_ask(t0 + STALL / 2 + STALL, far));
    }

    #[test]
    fn a_quiet_empty_queue_is_fine() {
        let t0 = Instant::now();
        let mut dog = Watchdog::new(t0, STALL);
        let later = t0 + 10 * STALL;
        assert!(dog.should_ask(later, later));
        assert_eq!(dog.answered(later, state(0, 1), true), Verdict::Fine);
        assert!(
            !dog.should_ask(later, later + STALL),
            "answers count as sound"
        );
    }

    #[test]
    fn waiting_messages_and_no_delivery_stall_once_confirmed() {
        let t0 = Instant::now();
        let far = t0 + Duration::from_secs(3600);
        let mut dog = Watchdog::new(t0, STALL);
        let t1 = t0 + STALL;
        assert!(dog.should_ask(t1, far));
        assert_eq!(dog.answered(t1, state(5, 1), true), Verdict::Suspect);
        let confirm = t1 + STALL / 4;
        assert_eq!(dog.wake_at(far), confirm);
        assert!(dog.should_ask(confirm, far));
        match dog.answered(confirm, state(5, 1), true) {
            Verdict::Stalled(reason) => assert!(reason.contains("holds 5 messages"), "{reason}"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_full_prefetch_window_or_a_delivery_clears_the_suspicion() {
        let t0 = Instant::now();
        let mut dog = Watchdog::new(t0, STALL);
        let t1 = t0 + STALL;
        dog.should_ask(t1, t1);
        assert_eq!(
            dog.answered(t1, state(5, 1), false),
            Verdict::Fine,
            "no room: slow callbacks"
        );
        dog.should_ask(t1, t1);
        assert_eq!(dog.answered(t1, state(5, 1), true), Verdict::Suspect);
        dog.delivered(t1 + Duration::from_millis(1));
        let t2 = t1 + STALL / 4;
        dog.should_ask(t2, t2);
        assert_eq!(dog.answered(t2, state(5, 1), true), Verdict::Fine);
    }

    #[test]
    fn a_vanished_consumer_stalls_even_on_an_empty_queue() {
        let t0 = Instant::now();
        let mut dog = Watchdog::new(t0, STALL);
        dog.should_ask(t0, t0);
        assert_eq!(dog.answered(t0, state(0, 0), true), Verdict::Suspect);
        dog.should_ask(t0, t0);
        assert!(
            matches!(dog.answered(t0, state(0, 0), true), Verdict::Stalled(r) if r.contains("no consumer"))
        );
    }

    #[test]
    fn an_unanswered_question_is_a_silent_link() {
        let t0 = Instant::now();
        let mut dog = Watchdog::new(t0, STALL);
        assert!(dog.should_ask(t0, t0));
        assert_eq!(dog.wake_at(t0), t0 + STALL / 2);
        assert_eq!(dog.overdue(t0 + STALL / 2 - Duration::from_millis(1)), None);
        let reason = dog.overdue(t0 + STALL / 2).expect("overdue");
        assert!(reason.contains("did not answer"), "{reason}");
    }
}
