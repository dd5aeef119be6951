//! Publish and consume rates against the local RabbitMQ; prints a table.
//! Run with `cargo bench -p pulse-wire`. Skips (loudly) without a broker.

use pulse_wire::{
    random_label, ConnectionSettings, ConsumeOptions, Consumer, ExchangeDeclaration, Message,
    Publisher, QueueSpec, Topology,
};
use std::time::{Duration, Instant};

const BODY: [u8; 300] = [b'x'; 300];

fn main() {
    let Ok(mut settings) = ConnectionSettings::from_url("amqp://guest:guest@127.0.0.1:5672/")
    else {
        unreachable!("constant url parses")
    };
    settings.connection_name = format!("pulse-wire-bench/{}", random_label());
    let mut publisher = match Publisher::connect(&settings) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("*** SKIP: no broker at 127.0.0.1:5672: {e}");
            return;
        }
    };
    let exchange = format!("exchange/bench-wire/{}", random_label());
    println!("| case | messages | seconds | msg/s |");
    println!("|---|---:|---:|---:|");

    let queue = format!("queue/bench-wire/{}", random_label());
    let topology = Topology::new(QueueSpec::durable(&queue))
        .bind(&exchange, "#")
        .exchange_declaration(ExchangeDeclaration::Declare);
    publisher.declare(&topology).expect("declare");

    for (persistent, n) in [(true, 500), (false, 2_000)] {
        publisher.set_persistent(persistent);
        let started = Instant::now();
        for _ in 0..n {
            publisher
                .publish(&exchange, "k", &BODY, None)
                .expect("publish");
        }
        let case = format!("publish, confirm each, persistent {persistent}");
        row(&case, n, started.elapsed());
    }
    publisher.set_persistent(true);

    let n = 50_000;
    let batch: Vec<Message> = (0..1000)
        .map(|_| Message {
            exchange: exchange.clone(),
            routing_key: "k".into(),
            body: BODY.to_vec(),
            cc: Vec::new(),
        })
        .collect();
    let started = Instant::now();
    for _ in 0..n / batch.len() {
        publisher.publish_batch(&batch).expect("publish batch");
    }
    row("publish_batch of 1000, persistent", n, started.elapsed());

    for prefetch in [1u16, 500] {
        let total = publisher.queue_depth(&queue).expect("depth") as usize;
        let take = if prefetch == 1 {
            total.min(10_000)
        } else {
            total
        };
        let options = ConsumeOptions::default().with_prefetch(prefetch);
        let handle = Consumer::start(settings.clone(), topology.clone(), options).expect("start");
        let started = Instant::now();
        for _ in 0..take {
            let delivery = handle
                .deliveries()
                .recv_timeout(Duration::from_secs(30))
                .expect("delivery");
            delivery.ack();
        }
        let elapsed = started.elapsed();
        handle.stop();
        row(
            &format!("consume + ack each, prefetch {prefetch}"),
            take,
            elapsed,
        );
    }
    let _ = publisher.delete_queue(&queue);
    let _ = publisher.delete_exchange(&exchange);
}

fn row(case: &str, n: usize, elapsed: Duration) {
    let secs = elapsed.as_secs_f64();
    println!("| {case} | {n} | {secs:.2} | {:.0} |", n as f64 / secs);
}
