//! The secrets of a port: the subscriber's porting credential (UK PAC or STAC, French RIO,
//! Chinese 授权码) and, in the US, the account number and PIN the donor checks. Whoever
//! holds one can take the number away, so each prints as `***`, is zeroised on drop and
//! has no `Display` or `Serialize`: the only way out is `expose`, for the wire.

use super::error::PortingCodecError;
use super::json::{self, Object};
use zeroize::Zeroizing;

/// Longest secret accepted, in bytes.
pub const MAX_SECRET_BYTES: usize = 64;

/// Checks a secret's shape: 1 to 64 printable ASCII characters without spaces. The
/// market's own format (PAC `AAA999999`, RIO 12 characters) is the donor's check.
fn parse_secret(s: &str, field: &'static str) -> Result<Zeroizing<String>, PortingCodecError> {
    let ok =
        !s.is_empty() && s.len() <= MAX_SECRET_BYTES && s.bytes().all(|b| b.is_ascii_graphic());
    if !ok {
        return Err(PortingCodecError::InvalidValue { field });
    }
    Ok(Zeroizing::new(s.to_owned()))
}

macro_rules! secret {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq)]
        pub struct $name(Zeroizing<String>);

        impl $name {
            /// Parses the value; the error names `field`, never the value.
            pub fn parse(s: &str, field: &'static str) -> Result<Self, PortingCodecError> {
                parse_secret(s, field).map(Self)
            }

            /// The value itself. Call it only to put it on the wire or to compare it.
            pub fn expose(&self) -> &str {
                &self.0
            }
        }

        impl std::fmt::Debug for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(concat!(stringify!($name), "(***)"))
            }
        }
    };
}

secret!(
    /// The subscriber's porting authorisation: a UK PAC or STAC, a French RIO, a Chinese
    /// authorisation code, or a national equivalent.
    Credential
);
secret!(
    /// The subscriber's account number at the donor (US).
    AccountNumber
);
secret!(
    /// The PIN or passcode of the subscriber's account at the donor (US).
    AccountPin
);

/// The donor account a US port names: number and PIN.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    /// The account number.
    pub number: AccountNumber,
    /// The account PIN.
    pub pin: AccountPin,
}

/// The wire form of [`Account`] (`{"number": …, "pin": …}`), in a submit and in a
/// port-out request alike.
#[derive(serde::Serialize)]
pub(crate) struct WireAccount<'a> {
    number: &'a str,
    pin: &'a str,
}

impl<'a> From<&'a Account> for WireAccount<'a> {
    fn from(a: &'a Account) -> Self {
        Self {
            number: a.number.expose(),
            pin: a.pin.expose(),
        }
    }
}

/// The optional `account` member.
pub(crate) fn opt_account(obj: &Object) -> Result<Option<Account>, PortingCodecError> {
    let Some(a) = json::opt_obj(obj, "account", "account")? else {
        return Ok(None);
    };
    Ok(Some(Account {
        number: AccountNumber::parse(
            json::req_str(a, "number", "account.number")?,
            "account.number",
        )?,
        pin: AccountPin::parse(json::req_str(a, "pin", "account.pin")?, "account.pin")?,
    }))
}

/// The optional `credential` member.
pub(crate) fn opt_credential(obj: &Object) -> Result<Option<Credential>, PortingCodecError> {
    json::opt_str(obj, "credential", "credential")?
        .map(|s| Credential::parse(s, "credential"))
        .transpose()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_shaped_and_never_printed() {
        let pac = Credential::parse("ABC123456", "credential").expect("pac");
        assert_eq!(pac.expose(), "ABC123456");
        let account = Account {
            number: AccountNumber::parse("9876543210", "account.number").expect("number"),
            pin: AccountPin::parse("4321", "account.pin").expect("pin"),
        };
        let shown = format!("{pac:?} {account:?} {account:#?}");
        for secret in ["ABC123456", "9876543210", "4321"] {
            assert!(!shown.contains(secret), "{shown}");
        }
        assert!(shown.contains("Credential(***)") && shown.contains("AccountPin(***)"));
        for bad in ["", "AB 123", "码", &"1".repeat(65)] {
            let err = Credential::parse(bad, "credential").expect_err(bad);
            assert_eq!(err.to_string(), "credential: invalid value");
        }
    }
}
