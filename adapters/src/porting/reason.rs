//! The two code catalogues of the protocol: why a port is refused ([`RejectReason`], in
//! a hub's `rejected` message and in our answer to a port-out request) and why the hub
//! refused a request ([`HubErrorCode`], in a problem body). Both keep an unknown code as
//! `Other` rather than fail: a hub may add codes, and a port must still be recorded.

use super::error::PortingCodecError;
use super::values::Code;

macro_rules! catalogue {
    ($(#[$doc:meta])* $name:ident { $($(#[$vdoc:meta])* $variant:ident = $wire:literal,)* }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        pub enum $name {
            $($(#[$vdoc])* $variant,)*
            /// A code this version does not know, kept as sent.
            Other(Code),
        }

        impl $name {
            /// Every known code.
            pub const KNOWN: &[Self] = &[$(Self::$variant,)*];

            /// The wire name.
            pub fn as_str(&self) -> &str {
                match self {
                    $(Self::$variant => $wire,)*
                    Self::Other(c) => c.as_str(),
                }
            }

            /// The known code with this name, else `Other`.
            pub fn from_code(code: Code) -> Self {
                match code.as_str() {
                    $($wire => Self::$variant,)*
                    _ => Self::Other(code),
                }
            }

            /// Parses a wire code (any well-formed [`Code`]); `field` names it in the
            /// error.
            pub fn parse(s: &str, field: &'static str) -> Result<Self, PortingCodecError> {
                Code::parse(s, field).map(Self::from_code)
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

catalogue!(
    /// Why a port was refused, by the hub, the donor, or (answering a port-out request)
    /// by us.
    RejectReason {
        /// The porting code is wrong or unknown.
        CredentialInvalid = "credential_invalid",
        /// The porting code has expired (CN 1 hour, UK 30 days).
        CredentialExpired = "credential_expired",
        /// The porting code was issued for another number.
        CredentialMsisdnMismatch = "credential_msisdn_mismatch",
        /// The number cannot be ported (a range that does not port, e.g. a CN MVNO block).
        NumberNotPortable = "number_not_portable",
        /// The account number or PIN does not match the donor's records (US).
        AccountMismatch = "account_mismatch",
        /// Another port of this number is open.
        PendingPortExists = "pending_port_exists",
        /// A contract lock-in, a port-out lock or the 120-day rule (CN) stops the port.
        ContractLock = "contract_lock",
        /// The line is not active at the donor (ceased, lost, barred).
        LineNotActive = "line_not_active",
    }
);

catalogue!(
    /// Why the hub refused a request (the `code` of its problem body).
    HubErrorCode {
        /// The body is not a valid request (`field` names the member).
        InvalidRequest = "invalid_request",
        /// The same `request_id` came with a different body.
        RequestIdReused = "request_id_reused",
        /// No port with this `port_ref` (or not one of ours).
        UnknownPort = "unknown_port",
        /// No message with this `message_id` for this port.
        UnknownMessage = "unknown_message",
        /// The port is locked (or done): it can no longer be cancelled or rescheduled.
        PortLocked = "port_locked",
        /// The port is not in a state that takes this request (e.g. an answer to a
        /// port-out request that was already answered or whose `respond_by` passed).
        InvalidState = "invalid_state",
        /// The requested date is not one the hub can schedule (past, not a working day,
        /// too soon).
        DateNotAvailable = "date_not_available",
        /// Our client certificate is not allowed to act for this operator.
        Forbidden = "forbidden",
    }
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_and_unknown_codes() {
        for r in RejectReason::KNOWN {
            assert_eq!(RejectReason::parse(r.as_str(), "reason").as_ref(), Ok(r));
        }
        assert_eq!(RejectReason::KNOWN.len(), 8);
        let other = RejectReason::parse("donor_system_error", "reason").expect("other");
        assert!(matches!(&other, RejectReason::Other(c) if c.as_str() == "donor_system_error"));
        assert_eq!(other.to_string(), "donor_system_error");
        assert_eq!(
            RejectReason::parse("Not portable!", "reason"),
            Err(PortingCodecError::InvalidValue { field: "reason" })
        );
        for c in HubErrorCode::KNOWN {
            assert_eq!(HubErrorCode::parse(c.as_str(), "code").as_ref(), Ok(c));
        }
    }
}
