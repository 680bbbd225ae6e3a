//! The sans-IO CAI3G 1.2 codec: pure functions from values to SOAP envelopes and back.
//! No IO, no async, no clocks; every decoder is total (errors, never panics) and capped
//! at [`MAX_MESSAGE_BYTES`].

mod envelope;
mod error;
mod fault;
mod mo;
pub mod ns;
mod request;
mod response;
mod types;
mod xml;

pub use error::CodecError;
pub use request::{decode_request, encode_request};
pub use response::{decode_response, encode_response};
pub use types::{
    AucSubscription, Cai3gFault, GetResult, Header, HlrSubscription, KiWire, MoBody, MoId, MoKind,
    Operation, Password, Request, Response,
};
pub use xml::MAX_MESSAGE_BYTES;
