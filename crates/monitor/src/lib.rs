//! Monitor Mozilla CI builds and tests on Pulse: one call starts it
#![deny(missing_docs)]
