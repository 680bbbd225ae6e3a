//! The catalogue of faults the fake answers, shaped as an EDA host sends them (reference
//! notes §1.10): a CAI3G `faultcode`, a reason, a role, and vendor details.
//! Texts are fixed here and never echo request content.

use super::codec::Cai3gFault;
use super::faults::FaultKind;
use super::store::StoreError;

/// UserProvisioningFault respCode for "already exists" (AUC and HLR create).
pub(crate) const RESP_ALREADY_EXISTS: &str = "301";
/// UserProvisioningFault respCode for an absent object.
pub(crate) const RESP_NOT_FOUND: &str = "13020";
/// UserProvisioningFault respCode for an HLR create without AUC data.
pub(crate) const RESP_AUC_MISSING: &str = "13004";
/// UserProvisioningFault respCode for "service not defined".
pub(crate) const RESP_SERVICE_NOT_DEFINED: &str = "13001";

fn base(soap: &str, faultstring: &str, code: &str, reason: &str, role: &str) -> Cai3gFault {
    Cai3gFault {
        soap_faultcode: soap.to_owned(),
        faultstring: faultstring.to_owned(),
        cai3g_code: Some(code.to_owned()),
        reason: Some(reason.to_owned()),
        role: Some(role.to_owned()),
        pg_code: None,
        pg_message: None,
        resp_code: None,
        resp_description: None,
    }
}

/// Login with unknown credentials: 3014 with PGFault 1004.
pub(crate) fn login_refused() -> Cai3gFault {
    Cai3gFault {
        pg_code: Some("1004".to_owned()),
        pg_message: Some("Authentication failed.".to_owned()),
        ..base("Client", "Login failed", "3014", "Login failed.", "MF")
    }
}

/// Missing, unknown or expired `SessionId`: 1001 with PGFault 1010.
pub(crate) fn invalid_session() -> Cai3gFault {
    Cai3gFault {
        pg_code: Some("1010".to_owned()),
        pg_message: Some("Invalid sessionId.".to_owned()),
        ..base(
            "Client",
            "Invalid sessionId.",
            "1001",
            "Invalid sessionId.",
            "MF",
        )
    }
}

/// The host is overloaded: 4005, SOAP Server.
pub(crate) fn busy() -> Cai3gFault {
    base(
        "Server",
        "Temporarily overloaded",
        "4005",
        "Temporarily overloaded",
        "MF",
    )
}

/// The network element refused the request: 4006 with a UserProvisioningFault.
pub(crate) fn external(resp_code: &str, description: &str) -> Cai3gFault {
    Cai3gFault {
        resp_code: Some(resp_code.to_owned()),
        resp_description: Some(description.to_owned()),
        ..base("Server", "External Error", "4006", "External Error", "NEF")
    }
}

/// The request was not understood or is not acceptable: SOAP Client, 4001.
pub(crate) fn invalid_request(reason: &str) -> Cai3gFault {
    base("Client", "Invalid request", "4001", reason, "MF")
}

/// The fault for an injected [`FaultKind`].
pub(crate) fn injected(kind: FaultKind) -> Cai3gFault {
    match kind {
        FaultKind::Busy => busy(),
        FaultKind::Session => invalid_session(),
        FaultKind::External => external(RESP_SERVICE_NOT_DEFINED, "SERVICE NOT DEFINED"),
        FaultKind::Invalid => invalid_request("Invalid request."),
    }
}

/// The fault for a refused state change.
pub(crate) fn for_store_error(e: StoreError) -> Cai3gFault {
    match e {
        StoreError::AlreadyExists => external(RESP_ALREADY_EXISTS, "SUBSCRIPTION ALREADY EXISTS"),
        StoreError::MsisdnInUse => external(
            RESP_ALREADY_EXISTS,
            "MSISDN ALREADY DEFINED FOR ANOTHER SUBSCRIPTION",
        ),
        StoreError::NotFound => external(RESP_NOT_FOUND, "SUBSCRIPTION NOT FOUND"),
        StoreError::AucMissing => external(RESP_AUC_MISSING, "AUC DATA MISSING"),
        StoreError::MissingKey => invalid_request("MOId lacks the key for this object."),
        StoreError::KeyChange => invalid_request("A Set cannot change the IMSI."),
        StoreError::Incomplete => {
            invalid_request("A Create carries the whole subscription (profileId and all).")
        }
    }
}
