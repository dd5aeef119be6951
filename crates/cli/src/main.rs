//! The pulse-monitor command.
fn main() {}
