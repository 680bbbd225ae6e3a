//! The admin API's JSON shapes that are not the simulator's own types. Secrets come in
//! (a port-out request's credential or account) but never go out.

use crate::porting_sim::clock::{ClockMode, utc};
use crate::porting_sim::donor::WireBehaviour;
use crate::porting_sim::hub::PortOutCommand;
use adapters::porting::{Account, AccountNumber, AccountPin, Credential, Market, Ref, UtcTime};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// `GET /sim/clock`, and the answer to moving it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClockView {
    /// The hub's time.
    pub now: String,
    /// How it moves.
    pub mode: ClockMode,
    /// Messages the move made due (absent for `GET`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub emitted: Option<usize>,
}

impl ClockView {
    pub(crate) fn new(now: u64, mode: ClockMode, emitted: Option<usize>) -> Self {
        Self {
            now: utc(now).to_string(),
            mode,
            emitted,
        }
    }
}

/// `PUT /sim/clock`: a new time (never earlier), a new mode, or both.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClockSet {
    /// RFC 3339 UTC.
    #[serde(default)]
    pub now: Option<String>,
    /// `driven` or `real_time`.
    #[serde(default)]
    pub mode: Option<ClockMode>,
}

/// `POST /sim/clock/advance`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Advance {
    /// Milliseconds to move forward.
    pub ms: u64,
}

/// `GET /sim/donors`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DonorList {
    /// The behaviour of numbers not listed.
    pub default: WireBehaviour,
    /// By number (E.164 digits).
    pub numbers: BTreeMap<String, WireBehaviour>,
}

/// `GET`/`PUT /sim/receiver`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReceiverUrl {
    /// The receiver's callback base URL (`/v1/hub-messages` is appended), or `null`.
    pub url: Option<String>,
}

/// `POST /sim/port-outs`: the hub asks the receiver for one of its numbers. `Debug`
/// shows neither the credential nor the account.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PortOutBody {
    /// `cn`, `uk`, `us`, `eu-fr` or `eu-generic`.
    pub market: String,
    /// E.164.
    pub number: String,
    /// The gaining provider (default `SIM-RECIPIENT`).
    #[serde(default)]
    pub recipient: Option<String>,
    /// The receiver's operator id (default: the configured one).
    #[serde(default)]
    pub donor: Option<String>,
    /// The subscriber's porting code.
    #[serde(default)]
    pub credential: Option<String>,
    /// The account the recipient names (US).
    #[serde(default)]
    pub account: Option<AccountBody>,
    /// When the recipient wants the port (default: the earliest).
    #[serde(default)]
    pub requested_at: Option<String>,
    /// The answer's deadline (default: one hour from the hub's time).
    #[serde(default)]
    pub respond_by: Option<String>,
}

/// A US account. `Debug` prints `***`.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccountBody {
    /// Account number.
    pub number: String,
    /// PIN.
    pub pin: String,
}

impl std::fmt::Debug for PortOutBody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PortOutBody")
            .field("market", &self.market)
            .field("number", &self.number)
            .field("recipient", &self.recipient)
            .field("donor", &self.donor)
            .field("credential", &self.credential.as_ref().map(|_| "***"))
            .field("account", &self.account)
            .field("requested_at", &self.requested_at)
            .field("respond_by", &self.respond_by)
            .finish()
    }
}

impl std::fmt::Debug for AccountBody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AccountBody(***)")
    }
}

/// The answer to `POST /sim/port-outs`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Created {
    /// The new port.
    pub port_ref: String,
}

impl TryFrom<PortOutBody> for PortOutCommand {
    type Error = String;

    /// Errors name the member, never the value.
    fn try_from(b: PortOutBody) -> Result<Self, String> {
        let e = |e: adapters::porting::PortingCodecError| e.to_string();
        let time = |s: Option<String>, f| {
            s.map(|s| UtcTime::parse(&s, f).map(UtcTime::unix_ms))
                .transpose()
                .map_err(e)
        };
        let account = b
            .account
            .map(|a| -> Result<Account, String> {
                Ok(Account {
                    number: AccountNumber::parse(&a.number, "account.number").map_err(e)?,
                    pin: AccountPin::parse(&a.pin, "account.pin").map_err(e)?,
                })
            })
            .transpose()?;
        Ok(Self {
            market: Market::from_wire(&b.market).ok_or("market: unknown")?,
            number: b.number.parse().map_err(|_| "number: not E.164")?,
            recipient: b
                .recipient
                .map(|r| Ref::parse(&r, "recipient"))
                .transpose()
                .map_err(e)?,
            donor: b
                .donor
                .map(|r| Ref::parse(&r, "donor"))
                .transpose()
                .map_err(e)?,
            credential: b
                .credential
                .map(|c| Credential::parse(&c, "credential"))
                .transpose()
                .map_err(e)?,
            account,
            requested_at: time(b.requested_at, "requested_at")?,
            respond_by: time(b.respond_by, "respond_by")?,
        })
    }
}
