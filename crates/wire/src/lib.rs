//! AMQP wire client for Pulse over amiquip: connection, queue, bindings, acks, reconnect
#![deny(missing_docs)]
