//! Against the real RabbitMQ at 127.0.0.1:5672 (guest/guest).

mod common;

use pulse_test_support::BrokerCleanup;

use common::{broker_or_skip, publisher, receive, unique, wait_until};
use pulse_test_support::close_connection_named;
use pulse_wire::{
    ConnectionSettings, ConsumeOptions, Consumer, ErrorKind, ExchangeDeclaration, Message,
    Password, QueueSpec, Topology,
};
use std::collections::BTreeSet;
use std::time::{Duration, Instant};

const WAIT: Duration = Duration::from_secs(20);

fn options(prefetch: u16) -> ConsumeOptions {
    ConsumeOptions::default()
        .with_prefetch(prefetch)
        .with_stop_timeout(Duration::from_millis(500))
}

/// A durable queue bound with `#` to a fresh topic exchange, both cleaned up.
fn fresh_topology(cleanup: &mut BrokerCleanup) -> (String, Topology) {
    let exchange = cleanup.exchange(&unique("exchange"));
    let queue = cleanup.queue(&unique("queue"));
    let topology = Topology::new(QueueSpec::durable(&queue))
        .bind(&exchange, "#")
        .exchange_declaration(ExchangeDeclaration::Declare);
    (exchange, topology)
}

#[test]
fn published_messages_arrive_with_keys_cc_and_bodies() {
    let Some(settings) = broker_or_skip() else {
        return;
    };
    let mut cleanup = BrokerCleanup::new(&settings);
    let (exchange, topology) = fresh_topology(&mut cleanup);
    let handle = Consumer::start(settings.clone(), topology, options(50)).unwrap();
    assert!(handle.stats().connected);

    let messages: Vec<Message> = (0..300)
        .map(|i| Message {
            exchange: exchange.clone(),
            routing_key: format!("build.tree-{}.{i}", i % 3),
            body: format!("{{\"n\": {i}}}").into_bytes(),
            cc: if i % 2 == 0 {
                vec![format!("route.index.{i}"), "route.even".to_string()]
            } else {
                Vec::new()
            },
        })
        .collect();
    let mut publisher = publisher(&settings);
    // One by one with a confirm each, then in a batch.
    for m in &messages[..50] {
        let cc = (!m.cc.is_empty()).then_some(m.cc.as_slice());
        publisher
            .publish(&m.exchange, &m.routing_key, &m.body, cc)
            .unwrap();
    }
    assert_eq!(publisher.publish_batch(&messages[50..]).unwrap(), 250);

    // Prefetch 50 < 300: acking as we go is what lets the rest come.
    let mut seen = BTreeSet::new();
    for _ in 0..messages.len() {
        let delivery = handle.deliveries().recv_timeout(WAIT).unwrap();
        let body = String::from_utf8(delivery.body.clone()).unwrap();
        let i: usize = body
            .trim_start_matches("{\"n\": ")
            .trim_end_matches('}')
            .parse()
            .unwrap();
        let expected = &messages[i];
        assert_eq!(delivery.exchange, exchange);
        assert_eq!(delivery.routing_key, expected.routing_key);
        assert_eq!(delivery.body, expected.body);
        assert_eq!(delivery.cc, expected.cc);
        assert!(!delivery.redelivered);
        assert!(seen.insert(i), "message {i} delivered twice");
        delivery.ack();
    }
    wait_until(WAIT, "all acks", || handle.stats().acked == 300);
    let stats = handle.stop();
    assert_eq!(stats.received, 300);
    assert_eq!(stats.rejected, 0);
    assert!(!handle.is_alive());
    assert!(
        handle.deliveries().recv().is_err(),
        "deliveries end after stop"
    );
    assert_eq!(publisher.queue_depth(cleanup.queue_name()).unwrap(), 0);
}

#[test]
fn unacked_messages_go_to_the_next_consumer() {
    let Some(settings) = broker_or_skip() else {
        return;
    };
    let mut cleanup = BrokerCleanup::new(&settings);
    let (exchange, topology) = fresh_topology(&mut cleanup);
    let first = Consumer::start(settings.clone(), topology.clone(), options(20)).unwrap();
    let mut publisher = publisher(&settings);
    for i in 0..10 {
        publisher
            .publish(
                &exchange,
                &format!("k.{i}"),
                format!("{i}").as_bytes(),
                None,
            )
            .unwrap();
    }
    let mut held = Vec::new();
    for delivery in receive(first.deliveries(), 10, WAIT) {
        let i: u32 = String::from_utf8_lossy(&delivery.body).parse().unwrap();
        if i < 4 {
            delivery.ack();
        } else {
            held.push((i, delivery.acker));
        }
    }
    wait_until(WAIT, "4 acks", || first.stats().acked == 4);
    // Work "crashes": the consumer goes away before acknowledging the rest.
    first.stop();

    let second = Consumer::start(settings.clone(), topology, options(20)).unwrap();
    let mut again: Vec<u32> = receive(second.deliveries(), 6, WAIT)
        .into_iter()
        .map(|d| {
            assert!(d.redelivered);
            let i = String::from_utf8_lossy(&d.body).parse().unwrap();
            d.ack();
            i
        })
        .collect();
    again.sort_unstable();
    assert_eq!(again, [4, 5, 6, 7, 8, 9]);
    assert!(second
        .deliveries()
        .recv_timeout(Duration::from_millis(300))
        .is_err());
    wait_until(WAIT, "6 acks", || second.stats().acked == 6);
    // Decisions on the first consumer's deliveries have nowhere to go.
    for (_, acker) in held {
        acker.ack();
    }
    assert_eq!(first.stats().acked, 4);
    second.stop();
    assert_eq!(publisher.queue_depth(cleanup.queue_name()).unwrap(), 0);
}

#[test]
fn rejected_and_dropped_deliveries_come_back() {
    let Some(settings) = broker_or_skip() else {
        return;
    };
    let mut cleanup = BrokerCleanup::new(&settings);
    let (exchange, topology) = fresh_topology(&mut cleanup);
    let handle = Consumer::start(settings.clone(), topology, options(10)).unwrap();
    let mut publisher = publisher(&settings);
    for body in ["requeue", "drop", "discard"] {
        publisher
            .publish(&exchange, "k", body.as_bytes(), None)
            .unwrap();
    }
    for delivery in receive(handle.deliveries(), 3, WAIT) {
        match delivery.body.as_slice() {
            b"requeue" => delivery.reject(true),
            b"drop" => drop(delivery),
            b"discard" => delivery.reject(false),
            other => panic!("unexpected {other:?}"),
        }
    }
    let mut back: Vec<Vec<u8>> = receive(handle.deliveries(), 2, WAIT)
        .into_iter()
        .map(|d| {
            assert!(d.redelivered);
            let body = d.body.clone();
            d.ack();
            body
        })
        .collect();
    back.sort();
    assert_eq!(back, [b"drop".to_vec(), b"requeue".to_vec()]);
    wait_until(WAIT, "2 acks", || handle.stats().acked == 2);
    let stats = handle.stop();
    assert_eq!((stats.received, stats.rejected), (5, 3));
    assert_eq!(publisher.queue_depth(cleanup.queue_name()).unwrap(), 0);
}

#[test]
fn out_of_order_acks_never_ack_an_undecided_message() {
    let Some(settings) = broker_or_skip() else {
        return;
    };
    let mut cleanup = BrokerCleanup::new(&settings);
    let (exchange, topology) = fresh_topology(&mut cleanup);
    let handle = Consumer::start(settings.clone(), topology, options(100)).unwrap();
    let mut publisher = publisher(&settings);
    let batch: Vec<_> = (0..60)
        .map(|i| Message {
            exchange: exchange.clone(),
            routing_key: "k".into(),
            body: format!("{i}").into_bytes(),
            cc: Vec::new(),
        })
        .collect();
    publisher.publish_batch(&batch).unwrap();
    let mut deliveries = receive(handle.deliveries(), 60, WAIT);
    // Hold the first and one in the middle; ack the rest from the back, in
    // one burst so the connection thread sees many decisions at once.
    let first = deliveries.remove(0);
    let middle = deliveries.remove(29);
    for delivery in deliveries.into_iter().rev() {
        delivery.ack();
    }
    wait_until(WAIT, "58 acks", || handle.stats().acked == 58);
    // Both held messages are still unacknowledged on the broker, so closing
    // requeues them and nothing else. The broker requeues on its own time:
    // wait for the two, failing at once on a third.
    let stats = handle.stop();
    assert_eq!(stats.acked, 58);
    wait_until(WAIT, "the two held messages back on the queue", || {
        let depth = publisher.queue_depth(cleanup.queue_name()).unwrap();
        assert!(
            depth <= 2,
            "{depth} messages requeued: an acked one came back"
        );
        depth == 2
    });
    drop((first, middle));
}

#[test]
fn consumer_reconnects_after_its_connection_is_closed() {
    let Some(settings) = broker_or_skip() else {
        return;
    };
    let mut cleanup = BrokerCleanup::new(&settings);
    let (exchange, topology) = fresh_topology(&mut cleanup);
    let consumer_settings = settings.clone();
    let handle = Consumer::start(consumer_settings.clone(), topology, options(20)).unwrap();

    const TOTAL: u32 = 400;
    let publisher_settings = settings.clone();
    let publishing = std::thread::spawn(move || {
        let mut publisher = publisher(&publisher_settings);
        for i in 0..TOTAL {
            publisher
                .publish(&exchange, "stream", i.to_string().as_bytes(), None)
                .unwrap();
            if i % 20 == 0 {
                std::thread::sleep(Duration::from_millis(10));
            }
        }
    });

    let mut seen = BTreeSet::new();
    let mut closed = false;
    let deadline = Instant::now() + Duration::from_secs(60);
    while seen.len() < TOTAL as usize {
        let delivery = handle
            .deliveries()
            .recv_deadline(deadline)
            .unwrap_or_else(|e| panic!("{} of {TOTAL} seen: {e}", seen.len()));
        seen.insert(
            String::from_utf8_lossy(&delivery.body)
                .parse::<u32>()
                .unwrap(),
        );
        delivery.ack();
        if !closed && seen.len() >= 50 {
            // Exact match: the publisher's name extends the consumer's.
            close_connection_named(
                &consumer_settings.connection_name,
                "pulse-wire reconnect test",
            );
            closed = true;
        }
    }
    publishing.join().unwrap();
    wait_until(WAIT, "reconnected", || handle.stats().connected);
    let stats = handle.stop();
    assert!(stats.reconnects >= 1, "{stats:?}");
    assert!(stats.received >= u64::from(TOTAL), "{stats:?}");
    assert_eq!(seen.len(), TOTAL as usize);
}

#[test]
fn bad_credentials_fail_fast_without_the_password() {
    let Some(mut settings) = broker_or_skip() else {
        return;
    };
    settings.password = Password::new("wrong-pw-7Hq2");
    let started = Instant::now();
    let topology = Topology::new(QueueSpec::transient(unique("queue")));
    let err = Consumer::start(settings.clone(), topology, options(1)).unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(10));
    assert_eq!(err.kind(), ErrorKind::AccessRefused, "{err}");
    assert!(!err.is_recoverable());
    let shown = format!("{err} {err:?}");
    assert!(!shown.contains("wrong-pw-7Hq2"), "{shown}");
    assert!(err.to_string().contains("guest:***@127.0.0.1"), "{err}");

    let err = pulse_wire::Publisher::connect(&settings).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::AccessRefused);
}

#[test]
fn unknown_vhost_is_access_refused() {
    let Some(mut settings) = broker_or_skip() else {
        return;
    };
    settings.vhost = "no-such-vhost".into();
    let err = pulse_wire::Publisher::connect(&settings).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::AccessRefused, "{err}");
    assert!(!err.is_recoverable());
}

#[test]
fn missing_exchange_with_passive_declaration_is_not_found() {
    let Some(settings) = broker_or_skip() else {
        return;
    };
    let mut cleanup = BrokerCleanup::new(&settings);
    let queue = cleanup.queue(&unique("queue"));
    let topology = Topology::new(QueueSpec::durable(queue)).bind(unique("exchange"), "#");
    let err = Consumer::start(settings, topology, options(1)).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound, "{err}");
    assert_eq!(err.amqp_code(), Some(404));
}

#[test]
fn refused_first_connection_keeps_retrying_until_stopped() {
    // Port 1 on loopback refuses at once; no broker needed.
    let settings = ConnectionSettings::from_url("amqp://guest:guest@127.0.0.1:1/").unwrap();
    let topology = Topology::new(QueueSpec::transient(unique("queue")));
    let mut opts = options(1);
    opts.reconnect.initial = Duration::from_millis(10);
    opts.reconnect.cap = Duration::from_millis(40);
    let handle = Consumer::start(settings, topology, opts).unwrap();
    wait_until(WAIT, "several attempts", || {
        handle.stats().connect_failures >= 3
    });
    assert!(handle.is_alive());
    assert!(!handle.stats().connected);
    let started = Instant::now();
    handle.stop();
    assert!(started.elapsed() < Duration::from_secs(2));
    assert!(!handle.is_alive());
}

#[test]
fn queue_depth_is_reported_and_housekeeping_works() {
    let Some(settings) = broker_or_skip() else {
        return;
    };
    let mut cleanup = BrokerCleanup::new(&settings);
    let (exchange, topology) = fresh_topology(&mut cleanup);
    let queue = topology.queue.name.clone();
    let mut publisher = publisher(&settings);
    publisher.declare(&topology).unwrap();
    for _ in 0..5 {
        publisher.publish(&exchange, "k", b"x", None).unwrap();
    }
    assert_eq!(publisher.queue_depth(&queue).unwrap(), 5);

    let mut opts = options(1);
    opts.depth_warning_threshold = 2;
    let handle = Consumer::start(settings.clone(), topology, opts).unwrap();
    // prefetch 1 and no acks: 4 or 5 messages stay ready.
    wait_until(WAIT, "a depth reading", || {
        handle.stats().queue_depth.is_some()
    });
    let depth = handle.stats().queue_depth.unwrap();
    assert!((4..=5).contains(&depth), "depth {depth}");
    handle.stop();
    // The unacknowledged one goes back when the consumer closes; the broker
    // requeues it on its own time.
    wait_until(WAIT, "all five ready again", || {
        publisher.queue_depth(&queue).unwrap() == 5
    });

    assert_eq!(publisher.purge_queue(&queue).unwrap(), 5);
    assert_eq!(publisher.queue_depth(&queue).unwrap(), 0);
    publisher.delete_queue(&queue).unwrap();
    let err = publisher.queue_depth(&queue).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
    // The publisher survives a failed operation.
    publisher.publish(&exchange, "k", b"x", None).unwrap();
}

#[test]
fn publishing_to_a_missing_exchange_fails_and_the_publisher_recovers() {
    let Some(settings) = broker_or_skip() else {
        return;
    };
    let mut cleanup = BrokerCleanup::new(&settings);
    let exchange = cleanup.exchange(&unique("exchange"));
    let mut publisher = publisher(&settings);
    let err = publisher
        .publish(&unique("exchange"), "k", b"x", None)
        .unwrap_err();
    assert!(
        matches!(err.kind(), ErrorKind::NotFound | ErrorKind::Closed),
        "{err}"
    );
    publisher.declare_exchange(&exchange).unwrap();
    publisher.publish(&exchange, "k", b"x", None).unwrap();
    publisher.close().unwrap();
}

#[test]
fn tls_never_falls_back_to_plain_amqp() {
    let Some(mut settings) = broker_or_skip() else {
        return;
    };
    // The plain AMQP port cannot speak TLS: asking for TLS there must fail,
    // not quietly open an unencrypted connection.
    settings.tls = true;
    let err = pulse_wire::Publisher::connect(&settings).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Tls, "{err}");
    assert!(!err.is_recoverable());
    assert!(err.to_string().contains("amqps://guest:***@"), "{err}");
}

/// What a handler saw: each batch's thread and keys.
#[derive(Default)]
struct Seen {
    batches: Vec<(String, Vec<String>)>,
}

#[test]
fn a_handler_gets_every_delivery_in_order_on_the_connection_thread() {
    let Some(settings) = broker_or_skip() else {
        return;
    };
    let mut cleanup = BrokerCleanup::new(&settings);
    let (exchange, topology) = fresh_topology(&mut cleanup);
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Seen::default()));
    let sink = std::sync::Arc::clone(&seen);
    let handle = Consumer::start_with(settings.clone(), topology, options(50), move |batch| {
        let thread = std::thread::current().name().unwrap_or("").to_string();
        let keys = batch.iter().map(|d| d.routing_key.clone()).collect();
        sink.lock().unwrap().batches.push((thread, keys));
        batch.into_iter().for_each(pulse_wire::Delivery::ack);
    })
    .unwrap();
    let messages: Vec<Message> = (0..300)
        .map(|i| Message::new(exchange.as_str(), format!("k.{i:03}"), b"{}".to_vec()))
        .collect();
    publisher(&settings).publish_batch(&messages).unwrap();
    wait_until(WAIT, "300 acks", || handle.stats().acked == 300);

    let seen = seen.lock().unwrap();
    let keys: Vec<&String> = seen.batches.iter().flat_map(|(_, keys)| keys).collect();
    let expected: Vec<String> = messages.iter().map(|m| m.routing_key.clone()).collect();
    assert_eq!(
        keys,
        expected.iter().collect::<Vec<_>>(),
        "all, once, in order"
    );
    for (thread, keys) in &seen.batches {
        assert!(thread.starts_with("pulse-wire"), "ran on {thread:?}");
        assert!(
            !keys.is_empty() && keys.len() <= 16,
            "batch of {}",
            keys.len()
        );
    }
    assert!(
        handle.deliveries().try_recv().is_err(),
        "nothing on the channel"
    );
    handle.stop();
    assert!(handle.deliveries().recv().is_err(), "closed once stopped");
}

#[test]
fn released_deliveries_neither_hold_up_stop_nor_get_acknowledged_with_others() {
    let Some(settings) = broker_or_skip() else {
        return;
    };
    let mut cleanup = BrokerCleanup::new(&settings);
    let (exchange, topology) = fresh_topology(&mut cleanup);
    // A stop that waited for the released message would take a minute.
    let patient = options(50).with_stop_timeout(Duration::from_secs(60));
    let first = Consumer::start_with(settings.clone(), topology.clone(), patient, |batch| {
        for delivery in batch {
            // Message 3 is released; acks of 0–2 and 4–9 around it must not
            // take it along in an ack_multiple.
            if delivery.routing_key == "k.3" {
                delivery.acker.release();
            } else {
                delivery.ack();
            }
        }
    })
    .unwrap();
    let messages: Vec<Message> = (0..10)
        .map(|i| Message::new(exchange.as_str(), format!("k.{i}"), b"{}".to_vec()))
        .collect();
    publisher(&settings).publish_batch(&messages).unwrap();
    wait_until(WAIT, "9 acks", || first.stats().acked == 9);
    let (stopped_tx, stopped_rx) = crossbeam_channel::bounded(1);
    std::thread::scope(|scope| {
        scope.spawn(|| {
            first.stop();
            let _ = stopped_tx.send(());
        });
        assert!(
            stopped_rx.recv_timeout(WAIT).is_ok(),
            "stop waited for a released message"
        );
    });

    let second = Consumer::start(settings.clone(), topology, options(50)).unwrap();
    let back = receive(second.deliveries(), 1, WAIT);
    assert_eq!(back[0].routing_key, "k.3");
    assert!(back[0].redelivered);
    assert!(second
        .deliveries()
        .recv_timeout(Duration::from_millis(300))
        .is_err());
    back.into_iter().for_each(pulse_wire::Delivery::ack);
    wait_until(WAIT, "the ack", || second.stats().acked == 1);
}
