//! Ericsson CAI3G 1.2 (EMA / Dynamic Activation): a sans-IO [`codec`] plus the async
//! client that drives it over HTTP.

pub mod codec;
