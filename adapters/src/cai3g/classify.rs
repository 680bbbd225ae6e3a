//! Pure mapping from what one exchange produced to a normalised [`HlrError`].

use super::codec::{Cai3gFault, CodecError};
use super::config::CodeTable;
use crate::hlr::{FaultClass, HlrError};
use crate::http::HttpError;

/// How one CAI3G exchange failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Failure {
    /// No complete HTTP answer.
    Http(HttpError),
    /// An answer that is not the expected CAI3G response or fault.
    Decode {
        /// The HTTP status it came with.
        status: u16,
        /// Why it did not decode.
        error: CodecError,
    },
    /// A SOAP fault.
    Fault(Cai3gFault),
}

/// Classifies a fault: the first code in extraction order that a table lists decides;
/// otherwise a SOAP `Client` fault is a validation error and anything else is external.
pub fn classify_fault(fault: &Cai3gFault, codes: &CodeTable) -> FaultClass {
    if let Some(class) = fault
        .code_chain()
        .into_iter()
        .find_map(|c| codes.class_of(c))
    {
        return class;
    }
    // SOAP 1.1 allows dotted refinements such as `Client.Authentication`.
    if fault.soap_faultcode == "Client" || fault.soap_faultcode.starts_with("Client.") {
        FaultClass::Validation
    } else {
        FaultClass::External
    }
}

/// True if this failure means the session must be replaced (and the call replayed once).
pub(crate) fn is_session_fault(failure: &Failure, codes: &CodeTable) -> bool {
    matches!(failure, Failure::Fault(f) if classify_fault(f, codes) == FaultClass::Session)
}

/// Maps a failure to the error the engine sees. A fault on Login is an authentication
/// error (the host did not open a session, whatever code it used, session codes such as
/// 3014/1004 included), or transient if the host says it is busy. Both are retryable: a
/// Login fault is never the subscriber's, so it must not fail an order for good; the
/// session slot spaces Logins so a refused password is not retried into a lockout.
pub(crate) fn to_hlr_error(
    operation: &'static str,
    failure: &Failure,
    codes: &CodeTable,
    is_login: bool,
) -> HlrError {
    match failure {
        Failure::Fault(f) => {
            let class = match classify_fault(f, codes) {
                FaultClass::Transient => FaultClass::Transient,
                _ if is_login => FaultClass::Authentication,
                class => class,
            };
            let err = HlrError::new(class, operation, f.best_message());
            match f.code_chain().first() {
                Some(code) => err.with_code(*code),
                None => err,
            }
        }
        Failure::Http(e) => {
            let class = match e {
                HttpError::Timeout => FaultClass::Timeout,
                HttpError::BodyTooLarge { .. } => FaultClass::Protocol,
                // Unreachable after config validation, and never worth a retry.
                HttpError::InvalidUrl | HttpError::InvalidHeader { .. } | HttpError::Config(_) => {
                    FaultClass::Validation
                }
                HttpError::Connect(_) | HttpError::Tls(_) | HttpError::Io(_) => {
                    FaultClass::Connection
                }
            };
            HlrError::new(class, operation, e.to_string())
        }
        Failure::Decode { status, error } => {
            let class = match status {
                // A proxy or a struggling host answered instead of the CAI3G service.
                500..=599 => FaultClass::Transient,
                401 | 403 => FaultClass::Authentication,
                _ => FaultClass::Protocol,
            };
            HlrError::new(
                class,
                operation,
                format!("unexpected answer (HTTP {status}): {error}"),
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fault(soap: &str, cai3g: Option<&str>, pg: Option<&str>, resp: Option<&str>) -> Cai3gFault {
        Cai3gFault {
            soap_faultcode: soap.into(),
            faultstring: "fs".into(),
            cai3g_code: cai3g.map(Into::into),
            pg_code: pg.map(Into::into),
            resp_code: resp.map(Into::into),
            ..Cai3gFault::default()
        }
    }

    #[test]
    fn simulator_fault_catalogue_classifies_as_agreed() {
        let codes = CodeTable::default();
        let cases = [
            (
                fault("Server", Some("4006"), None, Some("301")),
                FaultClass::AlreadyExists,
            ),
            (
                fault("Server", Some("4006"), None, Some("13020")),
                FaultClass::NotFound,
            ),
            (
                fault("Server", Some("4005"), None, None),
                FaultClass::Transient,
            ),
            (
                fault("Client", Some("4001"), None, None),
                FaultClass::Validation,
            ),
            (
                fault("Server", Some("4006"), None, Some("13001")),
                FaultClass::External,
            ),
            (
                fault("Client", Some("1001"), Some("1010"), None),
                FaultClass::Session,
            ),
            (
                fault("Client", Some("3014"), Some("1004"), None),
                FaultClass::Session,
            ),
            (fault("Client", None, None, None), FaultClass::Validation),
            (
                fault("Client.Auth", None, None, None),
                FaultClass::Validation,
            ),
            (fault("Server", None, None, None), FaultClass::External),
        ];
        for (f, class) in cases {
            assert_eq!(classify_fault(&f, &codes), class, "{f:?}");
        }
    }

    #[test]
    fn the_first_listed_code_in_extraction_order_wins() {
        let codes = CodeTable::default();
        // respCode 13020 (not found) comes before the CAI3G 4005 (transient).
        let f = fault("Server", Some("4005"), None, Some("13020"));
        assert_eq!(classify_fault(&f, &codes), FaultClass::NotFound);
        // An unlisted PG code is skipped, the listed CAI3G code decides.
        let f = fault("Server", Some("4005"), Some("777"), None);
        assert_eq!(classify_fault(&f, &codes), FaultClass::Transient);
        let custom = CodeTable {
            partial_success: vec!["3037".into()],
            ..CodeTable::default()
        };
        let f = fault("Server", Some("4006"), None, Some("3037"));
        assert_eq!(classify_fault(&f, &custom), FaultClass::PartialSuccess);
    }

    #[test]
    fn every_fault_on_login_is_retryable() {
        let codes = CodeTable::default();
        let login = |f: Cai3gFault| to_hlr_error("CAI3G Login", &Failure::Fault(f), &codes, true);
        // A refused password and a session fault: the host opened no session.
        for (f, code) in [
            (fault("Client", Some("3014"), Some("1004"), None), "1004"),
            (fault("Client", Some("1001"), Some("1010"), None), "1010"),
            (fault("Server", Some("4006"), None, Some("13001")), "13001"),
            (fault("Client", None, None, None), "Client"),
        ] {
            let e = login(f);
            assert_eq!(e.class, FaultClass::Authentication, "{code}");
            assert!(e.retryable(), "{code}");
            assert_eq!(e.code.as_deref(), Some(code));
        }
        // A busy host says so.
        let busy = login(fault("Server", Some("4005"), None, None));
        assert_eq!(busy.class, FaultClass::Transient);
        assert!(busy.retryable());
        // The same session fault on a provisioning call keeps its own class.
        let f = Failure::Fault(fault("Client", Some("1001"), Some("1010"), None));
        assert_eq!(
            to_hlr_error("GsmAuc Create", &f, &codes, false).class,
            FaultClass::Session
        );
    }

    #[test]
    fn transport_and_decode_failures_classify_by_cause() {
        let codes = CodeTable::default();
        let class = |f: Failure| to_hlr_error("GsmHlr Get", &f, &codes, false).class;
        assert_eq!(
            class(Failure::Http(HttpError::Timeout)),
            FaultClass::Timeout
        );
        assert_eq!(
            class(Failure::Http(HttpError::Connect("refused".into()))),
            FaultClass::Connection
        );
        assert_eq!(
            class(Failure::Http(HttpError::Io("reset".into()))),
            FaultClass::Connection
        );
        assert_eq!(
            class(Failure::Http(HttpError::Tls("bad cert".into()))),
            FaultClass::Connection
        );
        let status = |s| Failure::Decode {
            status: s,
            error: CodecError::HttpStatus { status: s },
        };
        assert_eq!(class(status(502)), FaultClass::Transient);
        assert_eq!(class(status(503)), FaultClass::Transient);
        assert_eq!(class(status(401)), FaultClass::Authentication);
        assert_eq!(class(status(404)), FaultClass::Protocol);
        let garbage = Failure::Decode {
            status: 200,
            error: CodecError::NotUtf8,
        };
        assert_eq!(class(garbage), FaultClass::Protocol);
    }

    #[test]
    fn error_carries_the_most_specific_code_and_message() {
        let f = Cai3gFault {
            resp_description: Some("SUBSCRIPTION NOT FOUND".into()),
            ..fault("Server", Some("4006"), None, Some("13020"))
        };
        let e = to_hlr_error(
            "GsmAuc Delete",
            &Failure::Fault(f),
            &CodeTable::default(),
            false,
        );
        assert_eq!(e.code.as_deref(), Some("13020"));
        assert_eq!(e.message, "SUBSCRIPTION NOT FOUND");
        assert_eq!(e.operation, "GsmAuc Delete");
    }
}
