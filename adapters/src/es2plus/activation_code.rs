//! The Activation Code (§4.1, Table 8): `1$<smdpAddress>$<matchingId>[$[<oid>][$1]]`,
//! at most 255 characters. QR content is `LPA:` followed by the code.

use super::error::Es2Error;
use super::types::{Fqdn, MatchingId};
use std::fmt;
use std::str::FromStr;

/// The longest Activation Code, in characters.
pub const MAX_ACTIVATION_CODE_CHARS: usize = 255;

/// A validated Activation Code.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ActivationCode {
    smdp: Fqdn,
    matching_id: MatchingId,
    oid: Option<String>,
    cc_required: bool,
}

/// True if `s` is a dotted decimal OID such as `1.3.6.1.4.1.99999.1`.
fn is_oid(s: &str) -> bool {
    !s.is_empty()
        && s.split('.')
            .all(|arc| !arc.is_empty() && arc.bytes().all(|b| b.is_ascii_digit()))
}

impl ActivationCode {
    /// An Activation Code without OID or Confirmation Code flag.
    pub fn new(smdp: &str, matching_id: &str) -> Result<Self, Es2Error> {
        let smdp = Fqdn::new(smdp).map_err(|_| Es2Error::InvalidValue {
            field: "activationCode.smdpAddress",
        })?;
        let matching_id = MatchingId::new(matching_id).map_err(|_| Es2Error::InvalidValue {
            field: "activationCode.matchingId",
        })?;
        Self::checked(Self {
            smdp,
            matching_id,
            oid: None,
            cc_required: false,
        })
    }

    /// Adds the SM-DP+ OID (omit it unless required: some scanners reject it).
    pub fn with_oid(mut self, oid: &str) -> Result<Self, Es2Error> {
        if !is_oid(oid) {
            return Err(Es2Error::InvalidValue {
                field: "activationCode.smdpOid",
            });
        }
        self.oid = Some(oid.to_owned());
        Self::checked(self)
    }

    /// Sets or clears the Confirmation-Code-required flag.
    pub fn with_cc_required(mut self, required: bool) -> Result<Self, Es2Error> {
        self.cc_required = required;
        Self::checked(self)
    }

    /// The SM-DP+ address.
    pub fn smdp_address(&self) -> &Fqdn {
        &self.smdp
    }

    /// The MatchingID (the AC token); may be empty.
    pub fn matching_id(&self) -> &MatchingId {
        &self.matching_id
    }

    /// The SM-DP+ OID, if present.
    pub fn oid(&self) -> Option<&str> {
        self.oid.as_deref()
    }

    /// Whether the device must prompt for a Confirmation Code.
    pub fn cc_required(&self) -> bool {
        self.cc_required
    }

    /// The QR-code content: `LPA:` followed by the code.
    pub fn to_qr_string(&self) -> String {
        format!("LPA:{self}")
    }

    /// Rejects codes longer than [`MAX_ACTIVATION_CODE_CHARS`].
    fn checked(self) -> Result<Self, Es2Error> {
        if self.to_string().len() > MAX_ACTIVATION_CODE_CHARS {
            Err(Es2Error::InvalidValue {
                field: "activationCode",
            })
        } else {
            Ok(self)
        }
    }
}

impl fmt::Display for ActivationCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "1${}${}", self.smdp, self.matching_id)?;
        match (&self.oid, self.cc_required) {
            (None, false) => Ok(()),
            (None, true) => f.write_str("$$1"),
            (Some(oid), false) => write!(f, "${oid}"),
            (Some(oid), true) => write!(f, "${oid}$1"),
        }
    }
}

/// Parses an Activation Code, with or without the `LPA:` prefix. Fields after the CC flag
/// are ignored (older devices do the same); the format field must be `1`.
impl FromStr for ActivationCode {
    type Err = Es2Error;
    fn from_str(input: &str) -> Result<Self, Es2Error> {
        let s = input.strip_prefix("LPA:").unwrap_or(input);
        if s.len() > MAX_ACTIVATION_CODE_CHARS {
            return Err(Es2Error::InvalidValue {
                field: "activationCode",
            });
        }
        let mut fields = s.split('$');
        if fields.next() != Some("1") {
            return Err(Es2Error::InvalidValue {
                field: "activationCode.format",
            });
        }
        let smdp = fields.next().ok_or(Es2Error::Missing {
            field: "activationCode.smdpAddress",
        })?;
        let token = fields.next().ok_or(Es2Error::Missing {
            field: "activationCode.matchingId",
        })?;
        let mut ac = Self::new(smdp, token)?;
        match fields.next() {
            None | Some("") => {}
            Some(oid) => ac = ac.with_oid(oid)?,
        }
        match fields.next() {
            None | Some("") => {}
            Some("1") => ac.cc_required = true,
            Some(_) => {
                return Err(Es2Error::InvalidValue {
                    field: "activationCode.ccFlag",
                });
            }
        }
        Ok(ac)
    }
}
