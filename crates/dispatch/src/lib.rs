//! A fixed thread pool that runs callbacks fed by one bounded channel
#![deny(missing_docs)]
