//! Number porting through a porting hub: the southbound side of port-in and port-out.
//! The gateway sends requests to the hub (submit a port-in, cancel, reschedule, answer a
//! port-out request, acknowledge a message) and the hub reports every port event back
//! on the gateway's callback listener. The wire protocol (JSON over HTTPS, mutual TLS
//! both ways) is simgw's own and documented in `docs/porting-hub.md`, so an operator can
//! map it onto its national clearinghouse.
//!
//! As elsewhere in this crate, the codec is sans-IO: one file per request (encode for
//! the client, decode for the hub and the simulator), the hub's answers in `receipt`,
//! its messages in `callback` (one or a batch per delivery: `delivery`), all total decoders capped at [`MAX_BODY_BYTES`] whose
//! errors name the member, never the value. [`freshness`] orders messages that arrive
//! out of order. `client` is the thin HTTPS driver behind the [`PortingHub`] trait.
//! Porting codes, account numbers and PINs live in [`secret`] types that print as `***`.

mod acknowledge;
mod answer;
mod callback;
mod cancel;
mod client;
mod delivery;
mod error;
mod json;
mod number_return;
mod reason;
mod receipt;
mod reschedule;
pub mod secret;
mod sequence;
mod submit;
mod values;

pub use crate::hlr::BoxFuture;
pub use crate::identity::ClientIdentity;
pub use acknowledge::{Acknowledge, decode_acknowledge, encode_acknowledge};
pub use answer::{AnswerPortOut, PortOutDecision, decode_answer_port_out, encode_answer_port_out};
pub use callback::{HubEvent, HubMessage, PortOutRequest, decode_callback, encode_callback};
pub use cancel::{CancelPort, decode_cancel, encode_cancel};
pub use client::{PortingHubClient, PortingHubClientConfig};
pub use delivery::{DeliveryError, MAX_BATCH, batch_len, decode_delivery, encode_batch};
pub use error::{PortingCodecError, PortingConfigError, PortingError, Unavailable};
pub use json::MAX_BODY_BYTES;
pub use number_return::{ReturnNumber, decode_return_number, encode_return_number};
pub use reason::{HubErrorCode, RejectReason};
pub use receipt::{
    HubProblem, Receipt, decode_problem, decode_receipt, encode_problem, encode_receipt,
};
pub use reschedule::{ReschedulePort, decode_reschedule, encode_reschedule};
pub use secret::{Account, AccountNumber, AccountPin, Credential};
pub use sequence::{Freshness, freshness};
pub use submit::{SubmitPortIn, decode_submit_port_in, encode_submit_port_in};
pub use values::{Actor, Code, Market, Ref, UtcTime};

/// The request paths, relative to the hub's base URL, and the callback path, relative to
/// the gateway's callback base URL.
pub mod path {
    /// Submit a port-in.
    pub const PORT_INS: &str = "/v1/port-ins";
    /// Cancel a port.
    pub const CANCELLATIONS: &str = "/v1/cancellations";
    /// Reschedule a port.
    pub const RESCHEDULES: &str = "/v1/reschedules";
    /// Answer a port-out request.
    pub const PORT_OUT_ANSWERS: &str = "/v1/port-out-answers";
    /// Acknowledge a hub message.
    pub const ACKNOWLEDGEMENTS: &str = "/v1/acknowledgements";
    /// Return a ported-in number to its range holder.
    pub const NUMBER_RETURNS: &str = "/v1/number-returns";
    /// Hub → gateway: one hub message, or a batch of them (answered `204` once recorded).
    pub const HUB_MESSAGES: &str = "/v1/hub-messages";
}

/// One porting hub, as the gateway's port engine sees it; implemented by
/// [`PortingHubClient`] and by test doubles.
///
/// Contract: every request carries the caller's `request_id`. After an error whose
/// [`PortingError::retryable`] is true, the caller repeats the same request (same id,
/// same content); the hub answers a request it has already recorded with its first
/// answer, so nothing happens twice. Each `Ok` is only a [`Receipt`]: the outcome of the
/// request arrives later as [`HubMessage`]s on the callback listener.
pub trait PortingHub: Send + Sync + 'static {
    /// Submits a port-in; the receipt carries the hub's new port reference.
    fn submit_port_in<'a>(
        &'a self,
        req: &'a SubmitPortIn,
    ) -> BoxFuture<'a, Result<Receipt, PortingError>>;

    /// Cancels a port (ours, or in concurrence with a `cancel_request`) before it locks.
    fn cancel<'a>(&'a self, req: &'a CancelPort) -> BoxFuture<'a, Result<Receipt, PortingError>>;

    /// Asks for a new due date and time before the port locks.
    fn reschedule<'a>(
        &'a self,
        req: &'a ReschedulePort,
    ) -> BoxFuture<'a, Result<Receipt, PortingError>>;

    /// Accepts or rejects a port-out request.
    fn answer_port_out<'a>(
        &'a self,
        req: &'a AnswerPortOut,
    ) -> BoxFuture<'a, Result<Receipt, PortingError>>;

    /// Tells the hub a message has been applied (required for `cutover`).
    fn acknowledge<'a>(
        &'a self,
        req: &'a Acknowledge,
    ) -> BoxFuture<'a, Result<Receipt, PortingError>>;

    /// Gives a ported-in number back to its range holder once its line has ended.
    fn return_number<'a>(
        &'a self,
        req: &'a ReturnNumber,
    ) -> BoxFuture<'a, Result<Receipt, PortingError>>;
}
