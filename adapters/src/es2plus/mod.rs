//! The sans-IO ES2+ codec (GSMA SGP.22 v2.2, Operator ⇄ SM-DP+): pure functions from typed
//! values to JSON bodies and back, for both the gateway's client and the SM-DP+ simulator.
//! No IO, no async, no clocks; every decoder is total (typed errors, never panics), capped
//! at [`MAX_MESSAGE_BYTES`], ignores unknown members, and never echoes values in errors.
//!
//! The one exception is [`Es2Client`] (module `client`): the thin async HTTPS driver
//! that sends these bodies to an SM-DP+ and classifies what comes back.

mod activation_code;
mod call_error;
mod cancel_order;
mod client;
mod confirm_order;
mod download_order;
mod error;
mod header;
mod iccid_form;
mod json;
mod notification;
mod profile_status;
mod release_profile;
mod response;
pub mod status;
mod types;

pub use activation_code::{ActivationCode, MAX_ACTIVATION_CODE_CHARS};
pub use call_error::{AmbiguousCause, Es2CallError, Es2TransportError};
pub use cancel_order::{
    CancelOrderRequest, decode_cancel_order_request, encode_cancel_order, encode_cancel_order_with,
};
pub use client::{BoxFuture, Es2Client, Es2ClientConfig, SmdpClient};
pub use confirm_order::{
    ConfirmOrderRequest, ConfirmOrderResponse, decode_confirm_order_request, encode_confirm_order,
    encode_confirm_order_with,
};
pub use download_order::{
    DownloadOrderRequest, DownloadOrderResponse, ProfileSelector, decode_download_order_request,
    encode_download_order, encode_download_order_with,
};
pub use error::Es2Error;
pub use header::{
    ADMIN_PROTOCOL_HEADER, ADMIN_PROTOCOL_VERSION, ExecutionStatus, FunctionExecutionStatus,
    RequestHeader, StatusCodeData, is_json_media_type, is_supported_admin_protocol,
};
pub use iccid_form::IccidForm;
pub use json::MAX_MESSAGE_BYTES;
pub use notification::{
    DownloadProgressInfo, NotificationPoint, NotifiedEid, ResultData, ResultDataKind,
    decode_notification, encode_notification,
};
pub use profile_status::{ProfileState, ProfileStatus, ProfileStatusError};
pub use release_profile::{
    ReleaseProfileRequest, decode_release_profile_request, encode_release_profile,
    encode_release_profile_with,
};
pub use response::{
    HeaderOnly, Response, ResponseBody, decode_response, encode_failure, encode_response,
};
pub use types::{ConfirmationCode, FinalProfileStatus, Fqdn, MatchingId, Timestamp};

/// The fixed request paths of Table 57, relative to the SM-DP+'s (or Operator's) base URL.
pub mod path {
    /// `ES2+.DownloadOrder`.
    pub const DOWNLOAD_ORDER: &str = "/gsma/rsp2/es2plus/downloadOrder";
    /// `ES2+.ConfirmOrder`.
    pub const CONFIRM_ORDER: &str = "/gsma/rsp2/es2plus/confirmOrder";
    /// `ES2+.CancelOrder`.
    pub const CANCEL_ORDER: &str = "/gsma/rsp2/es2plus/cancelOrder";
    /// `ES2+.ReleaseProfile`.
    pub const RELEASE_PROFILE: &str = "/gsma/rsp2/es2plus/releaseProfile";
    /// `ES2+.HandleDownloadProgressInfo` (SM-DP+ → Operator; answered with 204).
    pub const HANDLE_DOWNLOAD_PROGRESS_INFO: &str = "/gsma/rsp2/es2plus/handleDownloadProgressInfo";
}
