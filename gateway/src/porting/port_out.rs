//! Port-out (we are the donor), as pure functions: the credential we issue for a line
//! (PAC, RIO, 授权码, US transfer PIN) and the decision on the hub's request for one of
//! our numbers (§1.6 port-out `Validating`). Randomness and the keyed MAC are inputs, so
//! every row is unit-tested.
//!
//! Only a keyed MAC of what we issued is stored (`store::IssuedCredential`): the MAC
//! covers the number and the credential in its normalised form (the form
//! `credential::parse_credential` gives), so what the customer types at the recipient,
//! in any case or spacing, is checked against it without ever keeping it in clear.

use super::MarketPorting;
use super::credential::{Credential, CredentialInput, CredentialKind};
use super::rio;
use super::schedule::{PortOutRefusal, check_port_out};
use crate::order::SuspensionReason;
use sim_profiles::Msisdn;
use zeroize::Zeroizing;

/// Why we refuse a port-out request: the reason code our answer carries (the hub's
/// catalogue, `docs/porting-hub.md`, plus `timeout`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PortOutReject {
    /// No credential we issued for this line matches.
    CredentialInvalid,
    /// The credential matched but has expired.
    CredentialExpired,
    /// A RIO whose key belongs to another number.
    CredentialMsisdnMismatch,
    /// The US account number or transfer PIN does not match.
    AccountMismatch,
    /// The number may not be ported (an MVNO block, or no port-out in the market).
    NumberNotPortable,
    /// The line is not ours, has ended, or is suspended as lost or stolen.
    LineNotActive,
    /// The China 120-day rule.
    ContractLock,
    /// Another order is changing the line (another port among them).
    PendingOrder,
    /// The request reached us after its answer deadline.
    Timeout,
}

impl PortOutReject {
    /// The reason code on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::CredentialInvalid => "credential_invalid",
            Self::CredentialExpired => "credential_expired",
            Self::CredentialMsisdnMismatch => "credential_msisdn_mismatch",
            Self::AccountMismatch => "account_mismatch",
            Self::NumberNotPortable => "number_not_portable",
            Self::LineNotActive => "line_not_active",
            Self::ContractLock => "contract_lock",
            Self::PendingOrder => "pending_port_exists",
            Self::Timeout => "timeout",
        }
    }
}

/// What the line looks like when the request is decided.
#[derive(Clone, Copy, Debug)]
pub struct LineFacts<'a> {
    /// The line has ended.
    pub terminated: bool,
    /// Its suspension reasons.
    pub reasons: &'a [SuspensionReason],
    /// The MAC and expiry of the credential we last issued for it.
    pub issued: Option<(&'a str, Option<u64>)>,
    /// When its number last moved to us by a port.
    pub last_port_at_ms: Option<u64>,
}

/// Decides a port-out request for `number` received at `now_ms`, answerable until
/// `respond_by_ms`. `presented` is the credential the recipient sent, as given;
/// `mac` computes the keyed MAC of a normalised credential message
/// ([`credential_message`]).
pub fn decide(
    market: &MarketPorting,
    number: &Msisdn,
    line: LineFacts<'_>,
    presented: &CredentialInput<'_>,
    mac: impl Fn(&[u8]) -> String,
    (now_ms, respond_by_ms): (u64, u64),
) -> Result<(), PortOutReject> {
    if now_ms >= respond_by_ms {
        return Err(PortOutReject::Timeout);
    }
    if market.check_portable(number).is_err() {
        return Err(PortOutReject::NumberNotPortable);
    }
    match check_port_out(market, now_ms, line.last_port_at_ms) {
        Ok(()) => {}
        Err(PortOutRefusal::NotOffered { .. }) => return Err(PortOutReject::NumberNotPortable),
        Err(PortOutRefusal::TooSoonAfterLastPort { .. }) => {
            return Err(PortOutReject::ContractLock);
        }
    }
    if line.terminated || line.reasons.contains(&SuspensionReason::LostOrStolen) {
        return Err(PortOutReject::LineNotActive);
    }
    let kind = market.rules().credential;
    let credential = match market.parse_credential(presented, number) {
        Ok(c) => c,
        Err(super::CredentialError::RioKeyMismatch) => {
            return Err(PortOutReject::CredentialMsisdnMismatch);
        }
        Err(_) => return Err(mismatch(kind)),
    };
    let Some((issued_mac, expires)) = line.issued else {
        return Err(mismatch(kind));
    };
    let given = mac(&credential_message(number, &credential));
    if !constant_time_eq(given.as_bytes(), issued_mac.as_bytes()) {
        return Err(mismatch(kind));
    }
    if expires.is_some_and(|e| now_ms >= e) {
        return Err(PortOutReject::CredentialExpired);
    }
    Ok(())
}

fn mismatch(kind: CredentialKind) -> PortOutReject {
    match kind {
        CredentialKind::UsAccountPin => PortOutReject::AccountMismatch,
        _ => PortOutReject::CredentialInvalid,
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The bytes the keyed MAC of an issued credential covers: a domain label, the number,
/// and the normalised credential (US: account number and PIN).
pub fn credential_message(number: &Msisdn, c: &Credential) -> Zeroizing<Vec<u8>> {
    let mut out = Zeroizing::new(Vec::with_capacity(64));
    out.extend_from_slice(b"simgw/port-out-credential\0");
    out.extend_from_slice(number.as_str().as_bytes());
    out.push(0);
    match c {
        Credential::UsAccountPin { account, pin } => {
            out.extend_from_slice(account.expose().as_bytes());
            out.push(0);
            out.extend_from_slice(pin.expose().as_bytes());
        }
        Credential::CnAuthCode(s)
        | Credential::UkPac(s)
        | Credential::FrRio(s)
        | Credential::NationalCode(s) => out.extend_from_slice(s.expose().as_bytes()),
    }
    out
}

/// A credential we issue: what the customer is shown, once.
#[derive(Clone, PartialEq, Eq)]
pub struct Issued {
    /// The code (PAC, RIO, 授权码, national code); `None` in the US.
    pub code: Option<Zeroizing<String>>,
    /// The US account number.
    pub account_number: Option<String>,
    /// The US transfer PIN.
    pub pin: Option<Zeroizing<String>>,
}

impl std::fmt::Debug for Issued {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Issued(***)")
    }
}

impl Issued {
    /// The credential as the recipient will present it.
    pub fn input(&self) -> CredentialInput<'_> {
        CredentialInput {
            code: self.code.as_deref().map(String::as_str),
            account_number: self.account_number.as_deref(),
            pin: self.pin.as_deref().map(String::as_str),
        }
    }
}

const LETTERS: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ";
const DIGITS: &[u8] = b"0123456789";
const ALNUM: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";

fn draw(alphabet: &[u8], n: usize, random: &mut impl FnMut() -> u32, out: &mut String) {
    for _ in 0..n {
        let i = usize::try_from(random()).unwrap_or(0) % alphabet.len();
        out.push(char::from(alphabet[i]));
    }
}

/// Issues a credential of the market's kind for `number` (`account` names the line for
/// a US account number; `operator` is our two-character RIO operator code). `None` when
/// the number cannot carry the market's credential (a RIO for a non-French number).
pub fn issue(
    market: &MarketPorting,
    number: &Msisdn,
    account: &str,
    operator: [u8; 2],
    random: &mut impl FnMut() -> u32,
) -> Option<Issued> {
    let mut code = Zeroizing::new(String::with_capacity(16));
    match market.rules().credential {
        CredentialKind::UkPac => {
            draw(LETTERS, 3, random, &mut code);
            draw(DIGITS, 6, random, &mut code);
        }
        CredentialKind::CnAuthCode => draw(ALNUM, 8, random, &mut code),
        CredentialKind::NationalCode => draw(ALNUM, 12, random, &mut code),
        CredentialKind::FrRio => {
            let national = rio::national_number(number.as_str())?;
            code.push(char::from(operator[0]));
            code.push(char::from(operator[1]));
            code.push('P');
            draw(ALNUM, 6, random, &mut code);
            let key = rio::control_key(code.as_bytes(), &national)?;
            code.extend(key.iter().map(|&b| char::from(b)));
        }
        CredentialKind::UsAccountPin => {
            let mut pin = Zeroizing::new(String::with_capacity(6));
            draw(DIGITS, 6, random, &mut pin);
            let account: String = account
                .chars()
                .filter(char::is_ascii_alphanumeric)
                .map(|c| c.to_ascii_uppercase())
                .take(30)
                .collect();
            return Some(Issued {
                code: None,
                account_number: Some(account),
                pin: Some(pin),
            });
        }
    }
    Some(Issued {
        code: Some(code),
        account_number: None,
        pin: None,
    })
}

/// When a credential issued at `now_ms` expires (`None`: it does not).
pub fn expires_at(market: &MarketPorting, now_ms: u64) -> Option<u64> {
    super::schedule::credential_expires_at(market, now_ms)
}

#[cfg(test)]
#[path = "port_out_tests.rs"]
mod tests;
