//! The private PostgreSQL server the tests start (`conformance::pg_peer`, shared with
//! `simgw bench --store postgres`).
#![allow(unused_imports)]

pub use conformance::pg_peer::*;
