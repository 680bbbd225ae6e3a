//! Submit a port-in (`POST /v1/port-ins`): we are the recipient and ask the hub to move
//! a number from its donor to us. The hub answers with its port reference; the outcome
//! (accepted, rejected, scheduled, …) comes later as hub messages.

use super::error::PortingCodecError;
use super::json::{self, req_ref, req_str};
use super::secret::{self, Account, Credential, WireAccount};
use super::values::{Market, Ref, UtcTime};
use serde::Serialize;
use sim_profiles::Msisdn;

/// A port-in submission. `Debug` shows neither the credential nor the account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubmitPortIn {
    /// Our id for this submission; a repeat with the same id gets the hub's first answer.
    pub request_id: Ref,
    /// Our order id, echoed in every hub message about this port (so a message that
    /// arrives before the receipt can still be matched to the order).
    pub reference: Ref,
    /// The porting regime.
    pub market: Market,
    /// The number to port in.
    pub number: Msisdn,
    /// The losing provider's operator id at the hub.
    pub donor: Ref,
    /// Our operator id at the hub (the gaining provider).
    pub recipient: Ref,
    /// The subscriber's porting code (CN, UK, FR, most of the EU).
    pub credential: Option<Credential>,
    /// The donor account (US).
    pub account: Option<Account>,
    /// The date and time asked for; `None`: the earliest the hub can schedule.
    pub requested_at: Option<UtcTime>,
}

/// Encodes a submission. The body holds the credential: send it, never log it.
pub fn encode_submit_port_in(req: &SubmitPortIn) -> Vec<u8> {
    let requested_at = req.requested_at.map(|t| t.to_string());
    json::to_bytes(&Wire {
        request_id: req.request_id.as_str(),
        reference: req.reference.as_str(),
        market: req.market.as_str(),
        number: req.number.as_str(),
        donor: req.donor.as_str(),
        recipient: req.recipient.as_str(),
        credential: req.credential.as_ref().map(Credential::expose),
        account: req.account.as_ref().map(WireAccount::from),
        requested_at: requested_at.as_deref(),
    })
}

/// Decodes a submission (the hub's side). Unknown members are ignored; everything known
/// is checked for type and shape. Which of `credential` and `account` a market needs is
/// the hub's check (it rejects with `credential_invalid` or `account_mismatch`).
pub fn decode_submit_port_in(body: &[u8]) -> Result<SubmitPortIn, PortingCodecError> {
    let obj = json::parse_object(body)?;
    Ok(SubmitPortIn {
        request_id: req_ref(&obj, "request_id")?,
        reference: req_ref(&obj, "reference")?,
        market: Market::from_wire(req_str(&obj, "market", "market")?)
            .ok_or(PortingCodecError::InvalidValue { field: "market" })?,
        number: json::req_msisdn(&obj, "number")?,
        donor: req_ref(&obj, "donor")?,
        recipient: req_ref(&obj, "recipient")?,
        credential: secret::opt_credential(&obj)?,
        account: secret::opt_account(&obj)?,
        requested_at: json::opt_time(&obj, "requested_at")?,
    })
}

#[derive(Serialize)]
struct Wire<'a> {
    request_id: &'a str,
    reference: &'a str,
    market: &'static str,
    number: &'a str,
    donor: &'a str,
    recipient: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    credential: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    account: Option<WireAccount<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    requested_at: Option<&'a str>,
}
