//! Identity verification (real-name registration): the gateway asks the tenant's
//! verification service whether a name, an ID document and the real-person evidence
//! belong together before any southbound step. The wire protocol (JSON over HTTPS,
//! `POST /v1/verifications`) is ours and documented in `docs/identity-verifier.md`, so a
//! reseller can put a small shim in front of its vendor.
//!
//! As elsewhere in this crate, the codec is sans-IO (`request_codec`, `response_codec`:
//! pure, total decoders capped at [`MAX_BODY_BYTES`]) and `client` is the thin HTTPS
//! driver behind the [`IdentityVerifier`] trait. The name and ID number live in [`pii`]
//! types that print as `***`; they leave only inside the request body, never in an error,
//! a log line or a `Debug`.
//!
//! The ID document model is here, for the whole workspace (the gateway's compliance core
//! and the conformance simulator use it too): [`IdType`] with its wire names, the pure
//! number rules in [`id_format`] (normalisation, per-type shape and check character,
//! birth date, masking), and [`IdNumber`] / [`PersonName`].

mod client;
mod error;
pub mod id_format;
mod id_type;
mod json;
pub mod pii;
mod request;
mod request_codec;
mod response_codec;
mod values;
mod verdict;

pub use crate::hlr::BoxFuture;
pub use client::{ClientAuth, ClientIdentity, IdentityClient, IdentityClientConfig};
pub use error::{IdentityCodecError, IdentityConfigError, IdentityError, Unavailable};
pub use id_format::IdFormatError;
pub use id_type::IdType;
pub use json::MAX_BODY_BYTES;
pub use pii::{IdNumber, PersonName};
pub use request::{
    Capture, ChannelContext, Evidence, FaceMatch, Requirements, VerificationRequest,
};
pub use request_codec::{decode_request, encode_request};
pub use response_codec::{decode_response, encode_response};
pub use values::{CivilDate, Code, Nationality, Score, Token};
pub use verdict::{RejectCode, Verdict, VerificationResponse};

/// The one path of the protocol, relative to the service's base URL.
pub const VERIFICATIONS_PATH: &str = "/v1/verifications";

/// One identity verification service, as the gateway's order engine sees it; implemented
/// by [`IdentityClient`] and by test doubles.
///
/// Contract: `verify` may be repeated with the same request (same `request_id`) after an
/// error whose [`IdentityError::retryable`] is true; the service answers a repeat with its
/// first decision and does not check twice.
pub trait IdentityVerifier: Send + Sync + 'static {
    /// Verifies one identity: `Ok` is the decision (pass, reject, flag); `Err` means no
    /// decision was learned.
    fn verify<'a>(
        &'a self,
        req: &'a VerificationRequest,
    ) -> BoxFuture<'a, Result<VerificationResponse, IdentityError>>;
}
