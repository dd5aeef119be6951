//! Filter rules of pulsebuildmonitor over translated build and test records
#![deny(missing_docs)]
