//! Maps CTRL failures and OsmoHLR's error texts (1.5.0) to [`FaultClass`].

use super::client::CtrlError;
use crate::hlr::{FaultClass, HlrError};

/// Longest server reason kept as the error code.
const MAX_CODE_LEN: usize = 64;

/// The [`HlrError`] for a failed CTRL call of `operation`.
pub fn classify(operation: &'static str, err: CtrlError) -> HlrError {
    let (class, message) = match &err {
        CtrlError::Connect { .. } | CtrlError::Closed(_) => {
            (FaultClass::Connection, err.to_string())
        }
        CtrlError::Timeout(_) => (FaultClass::Timeout, err.to_string()),
        CtrlError::Unexpected(_) | CtrlError::Codec(_) => (FaultClass::Protocol, err.to_string()),
        CtrlError::Refused(reason) => {
            let (class, message) = classify_reason(reason);
            let code: String = reason.chars().take(MAX_CODE_LEN).collect();
            return HlrError::new(class, operation, message).with_code(code);
        }
    };
    HlrError::new(class, operation, message)
}

/// OsmoHLR's fixed error texts. They never echo the request's value.
fn classify_reason(reason: &str) -> (FaultClass, &'static str) {
    match reason {
        "No such subscriber." | "Subscriber doesn't exist." => {
            (FaultClass::NotFound, "no subscriber with this IMSI")
        }
        "Subscriber already exists." => (FaultClass::AlreadyExists, "IMSI already exists"),
        "Update MSISDN failed" => (
            FaultClass::Conflict,
            "MSISDN update refused: the MSISDN is already on another IMSI (MSISDNs are unique)",
        ),
        r if r.starts_with("Invalid ") => (FaultClass::Validation, "value rejected by OsmoHLR"),
        _ => (FaultClass::External, "request refused by OsmoHLR"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_observed_texts() {
        let cases = [
            ("No such subscriber.", FaultClass::NotFound),
            ("Subscriber doesn't exist.", FaultClass::NotFound),
            ("Subscriber already exists.", FaultClass::AlreadyExists),
            ("Update MSISDN failed", FaultClass::Conflict),
            ("Invalid IMSI value.", FaultClass::Validation),
            ("Invalid KI.", FaultClass::Validation),
            ("Invalid OP/OPC.", FaultClass::Validation),
            ("Command not found", FaultClass::External),
        ];
        for (reason, class) in cases {
            let e = classify("CTRL test", CtrlError::Refused(reason.into()));
            assert_eq!(e.class, class, "{reason}");
            assert_eq!(e.code.as_deref(), Some(reason));
        }
        let e = classify(
            "CTRL test",
            CtrlError::Timeout(std::time::Duration::from_secs(1)),
        );
        assert_eq!(e.class, FaultClass::Timeout);
        let e = classify("CTRL test", CtrlError::Closed("closed by peer"));
        assert_eq!(e.class, FaultClass::Connection);
    }
}
