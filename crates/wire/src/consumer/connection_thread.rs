//! The connection thread's state: what it connects to and declares, where
//! it puts deliveries, where decisions come back, and its counters. The
//! thread's outer loop (`connection`) and each connection's event loop
//! (`session`) are methods on it, in their own files.

use crossbeam_channel::{Receiver, Sender};

use super::delivery::Decision;
use super::stats::SharedStats;
use super::{ConsumeOptions, SharedGenerations, Sink};
use crate::settings::ConnectionSettings;
use crate::topology::Topology;

/// State owned by the connection thread.
pub(super) struct ConnectionThread {
    pub(super) settings: ConnectionSettings,
    pub(super) topology: Topology,
    pub(super) options: ConsumeOptions,
    pub(super) sink: Sink,
    pub(super) decisions_tx: Sender<Decision>,
    pub(super) decisions_rx: Receiver<Decision>,
    pub(super) control_rx: Receiver<()>,
    pub(super) stats: SharedStats,
    /// Counts successful connections; tags deliveries and their decisions.
    pub(super) generation: u64,
    pub(super) generations: SharedGenerations,
}

impl ConnectionThread {
    pub(super) fn new(
        settings: ConnectionSettings,
        topology: Topology,
        options: ConsumeOptions,
        sink: Sink,
        control_rx: Receiver<()>,
        stats: SharedStats,
    ) -> ConnectionThread {
        let (decisions_tx, decisions_rx) = crossbeam_channel::unbounded();
        ConnectionThread {
            settings,
            topology,
            options,
            sink,
            decisions_tx,
            decisions_rx,
            control_rx,
            stats,
            generation: 0,
            generations: SharedGenerations::default(),
        }
    }
}
