//! OsmoHLR over its CTRL interface (IPA-framed GET/SET), the open-source integration peer.
//!
//! Code map: [`codec`] is the sans-IO framing and grammar; `client` is one persistent,
//! pipelined TCP connection; `classify` maps OsmoHLR's error texts to
//! [`crate::hlr::FaultClass`]; `info` parses `info-all` and holds the pure comparisons;
//! `hlr` implements [`crate::hlr::HlrProvisioner`] on top.

mod classify;
mod client;
pub mod codec;
mod config;
mod hlr;
mod info;

pub use classify::classify;
pub use client::{CtrlClient, CtrlError};
pub use config::OsmoConfig;
pub use hlr::OsmoHlr;
// The `info-all` parser reads text from the HLR: public so the fuzz targets reach it.
pub use info::{Aud3g, InfoError, SubscriberInfo, parse_info};
