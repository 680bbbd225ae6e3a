//! The credential a port-in needs, per market, parsed once into a typed value ("parse,
//! don't validate"). Credentials are secrets: every value prints `***` in `Debug`, is
//! zeroised on drop and has no `Display` or `Serialize`; errors name the field and the
//! expected format (what the API shows a store clerk), never the value.
//!
//! | Market | Credential | Shape | Source |
//! |---|---|---|---|
//! | cn | 授权码 from the SMS reply to `SQXZ#…` | 4–16 letters or digits | §1.1; the shape is not published (n/f): our choice |
//! | uk | PAC | 3 letters + 6 digits (a STAC, 6 digits + 3 letters, is refused: it switches without the number) | §1.2 (Transatel docs) |
//! | us | account number + PIN | 1–30 and 4–15 letters or digits | §1.3, §1.5; lengths our choice |
//! | eu-fr | RIO | 12 characters with a control key over the number (`rio.rs`) | §1.4 |
//! | eu-generic | national code | 1–35 letters or digits | §1.5 "national"; shape our choice |
//!
//! Input is normalised first: full-width forms (typed on Chinese keyboards) become ASCII,
//! spaces and hyphens are dropped, letters are upper-cased.

use super::rio;
use sim_profiles::Msisdn;
use zeroize::Zeroizing;

/// Longest raw input accepted for one field, in characters (before normalisation).
const MAX_RAW_CHARS: usize = 64;

/// Which credential a market's port-in needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CredentialKind {
    /// China's 授权码 (authorisation code).
    CnAuthCode,
    /// UK Porting Authorisation Code.
    UkPac,
    /// US account number and PIN (no code).
    UsAccountPin,
    /// France's RIO.
    FrRio,
    /// Another EU state's national porting code.
    NationalCode,
}

impl CredentialKind {
    /// Stable name (`cn_auth_code`, `uk_pac`, `us_account_pin`, `fr_rio`, `national_code`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::CnAuthCode => "cn_auth_code",
            Self::UkPac => "uk_pac",
            Self::UsAccountPin => "us_account_pin",
            Self::FrRio => "fr_rio",
            Self::NationalCode => "national_code",
        }
    }
}

/// A secret value: `***` in `Debug`, zeroised on drop.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(Zeroizing<String>);

impl Secret {
    /// The value itself: only to send it to the hub or donor.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("***")
    }
}

/// A parsed credential.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Credential {
    /// China's 授权码.
    CnAuthCode(Secret),
    /// A UK PAC.
    UkPac(Secret),
    /// A US account number and PIN.
    UsAccountPin {
        /// The account number at the donor.
        account: Secret,
        /// The port-out PIN.
        pin: Secret,
    },
    /// A French RIO whose key matched the number (unless the check is off).
    FrRio(Secret),
    /// A national code.
    NationalCode(Secret),
}

impl Credential {
    /// Its kind.
    pub fn kind(&self) -> CredentialKind {
        match self {
            Self::CnAuthCode(_) => CredentialKind::CnAuthCode,
            Self::UkPac(_) => CredentialKind::UkPac,
            Self::UsAccountPin { .. } => CredentialKind::UsAccountPin,
            Self::FrRio(_) => CredentialKind::FrRio,
            Self::NationalCode(_) => CredentialKind::NationalCode,
        }
    }
}

/// The credential fields of a port-in request, as sent.
#[derive(Clone, Copy, Default)]
pub struct CredentialInput<'a> {
    /// The code (授权码, PAC, RIO, national code).
    pub code: Option<&'a str>,
    /// The US account number.
    pub account_number: Option<&'a str>,
    /// The US PIN.
    pub pin: Option<&'a str>,
}

impl std::fmt::Debug for CredentialInput<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mask = |v: Option<&str>| v.map(|_| "***");
        f.debug_struct("CredentialInput")
            .field("code", &mask(self.code))
            .field("account_number", &mask(self.account_number))
            .field("pin", &mask(self.pin))
            .finish()
    }
}

/// Why a credential was refused. Never carries the value.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CredentialError {
    /// A required field is absent.
    #[error("`{field}` is required: {expected}")]
    Missing {
        /// The field.
        field: &'static str,
        /// What it must hold.
        expected: &'static str,
    },
    /// A field does not have the expected format.
    #[error("`{field}` is not valid: expected {expected}")]
    Malformed {
        /// The field.
        field: &'static str,
        /// What it must hold.
        expected: &'static str,
    },
    /// A field this market's credential does not use.
    #[error("`{field}` is not used for {market} ports: send only {uses}")]
    NotUsed {
        /// The field.
        field: &'static str,
        /// The market's name.
        market: &'static str,
        /// The fields it uses.
        uses: &'static str,
    },
    /// A UK STAC was given for a port.
    #[error(
        "`code` is a STAC (6 digits then 3 letters), which switches without keeping the number: ask for a PAC (text PAC to 65075)"
    )]
    StacNotPac,
    /// The RIO cannot belong to this number.
    #[error(
        "`code`: the RIO's last 3 characters (its key) do not match the number being ported: check both were copied correctly (the RIO comes from 3179 on that line)"
    )]
    RioKeyMismatch,
    /// A RIO was given for a number that is not a French mobile number.
    #[error("`code`: a RIO ports a French number (+33 and 9 digits)")]
    RioNumberNotFrench,
}

const CN_EXPECTED: &str =
    "the 授权码 (authorisation code) from the reply to SMS SQXZ: 4 to 16 letters or digits";
const PAC_EXPECTED: &str =
    "a PAC: 3 letters then 6 digits, e.g. ABC123456 (the customer texts PAC to 65075)";
const ACCOUNT_EXPECTED: &str =
    "the account number at the current provider: 1 to 30 letters or digits";
const PIN_EXPECTED: &str = "the port-out PIN from the current provider: 4 to 15 letters or digits";
const RIO_EXPECTED: &str = "a mobile RIO: 12 characters, the operator code (2), E or P, a 6-character reference and a 3-character key (the customer calls 3179)";
const NATIONAL_EXPECTED: &str =
    "the porting code from the current provider: 1 to 35 letters or digits";

/// Parses the credential of `kind` for porting `msisdn`. `check_rio_key` turns the RIO's
/// key check on (the default; see `rio.rs` for why it can be turned off).
pub fn parse_credential(
    kind: CredentialKind,
    input: &CredentialInput<'_>,
    msisdn: &Msisdn,
    check_rio_key: bool,
) -> Result<Credential, CredentialError> {
    match kind {
        CredentialKind::UsAccountPin => {
            refuse_field(input.code, "code", "us", "`account_number` and `pin`")?;
            let account = field(input.account_number, "account_number", ACCOUNT_EXPECTED)?;
            let pin = field(input.pin, "pin", PIN_EXPECTED)?;
            Ok(Credential::UsAccountPin {
                account: alnum(account, 1..=30, "account_number", ACCOUNT_EXPECTED)?,
                pin: alnum(pin, 4..=15, "pin", PIN_EXPECTED)?,
            })
        }
        _ => {
            let market = match kind {
                CredentialKind::CnAuthCode => "cn",
                CredentialKind::UkPac => "uk",
                CredentialKind::FrRio => "eu-fr",
                _ => "eu-generic",
            };
            refuse_field(input.account_number, "account_number", market, "`code`")?;
            refuse_field(input.pin, "pin", market, "`code`")?;
            code(kind, input.code, msisdn, check_rio_key)
        }
    }
}

fn code(
    kind: CredentialKind,
    raw: Option<&str>,
    msisdn: &Msisdn,
    check_rio_key: bool,
) -> Result<Credential, CredentialError> {
    match kind {
        CredentialKind::CnAuthCode => {
            let raw = field(raw, "code", CN_EXPECTED)?;
            alnum(raw, 4..=16, "code", CN_EXPECTED).map(Credential::CnAuthCode)
        }
        CredentialKind::UkPac => {
            let raw = field(raw, "code", PAC_EXPECTED)?;
            let v = normalise(raw, false).ok_or(malformed("code", PAC_EXPECTED))?;
            let b = v.as_bytes();
            let shape = |letters: std::ops::Range<usize>, digits: std::ops::Range<usize>| {
                b.len() == 9
                    && b[letters].iter().all(u8::is_ascii_uppercase)
                    && b[digits].iter().all(u8::is_ascii_digit)
            };
            if shape(0..3, 3..9) {
                Ok(Credential::UkPac(Secret(v)))
            } else if shape(6..9, 0..6) {
                Err(CredentialError::StacNotPac)
            } else {
                Err(malformed("code", PAC_EXPECTED))
            }
        }
        CredentialKind::FrRio => {
            let raw = field(raw, "code", RIO_EXPECTED)?;
            let v = normalise(raw, true).ok_or(malformed("code", RIO_EXPECTED))?;
            if !rio::is_mobile_shape(v.as_bytes()) {
                return Err(malformed("code", RIO_EXPECTED));
            }
            let national =
                rio::national_number(msisdn.as_str()).ok_or(CredentialError::RioNumberNotFrench)?;
            if check_rio_key && !rio::key_matches(v.as_bytes(), &national) {
                return Err(CredentialError::RioKeyMismatch);
            }
            Ok(Credential::FrRio(Secret(v)))
        }
        CredentialKind::NationalCode | CredentialKind::UsAccountPin => {
            let raw = field(raw, "code", NATIONAL_EXPECTED)?;
            alnum(raw, 1..=35, "code", NATIONAL_EXPECTED).map(Credential::NationalCode)
        }
    }
}

fn malformed(field: &'static str, expected: &'static str) -> CredentialError {
    CredentialError::Malformed { field, expected }
}

fn field<'a>(
    v: Option<&'a str>,
    field: &'static str,
    expected: &'static str,
) -> Result<&'a str, CredentialError> {
    v.ok_or(CredentialError::Missing { field, expected })
}

fn refuse_field(
    v: Option<&str>,
    field: &'static str,
    market: &'static str,
    uses: &'static str,
) -> Result<(), CredentialError> {
    match v {
        Some(_) => Err(CredentialError::NotUsed {
            field,
            market,
            uses,
        }),
        None => Ok(()),
    }
}

/// Letters and digits only, of a length in `len`.
fn alnum(
    raw: &str,
    len: std::ops::RangeInclusive<usize>,
    field: &'static str,
    expected: &'static str,
) -> Result<Secret, CredentialError> {
    match normalise(raw, false) {
        Some(v) if len.contains(&v.len()) => Ok(Secret(v)),
        _ => Err(malformed(field, expected)),
    }
}

/// Full-width forms to ASCII, spaces and hyphens dropped, letters upper-cased; `None` if
/// anything else is left (`+` only where `plus` allows it) or the input is too long.
fn normalise(raw: &str, plus: bool) -> Option<Zeroizing<String>> {
    if raw.chars().count() > MAX_RAW_CHARS {
        return None;
    }
    let mut out = Zeroizing::new(String::with_capacity(raw.len()));
    for c in raw.chars() {
        let c = match c {
            '\u{FF01}'..='\u{FF5E}' => char::from_u32(u32::from(c) - 0xFEE0)?,
            '\u{3000}' => ' ',
            c => c,
        };
        match c {
            ' ' | '-' | '\t' => {}
            '0'..='9' | 'A'..='Z' => out.push(c),
            'a'..='z' => out.push(c.to_ascii_uppercase()),
            '+' if plus => out.push(c),
            _ => return None,
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn n(s: &str) -> Msisdn {
        s.parse().expect("msisdn")
    }

    fn code_only(code: &str) -> CredentialInput<'_> {
        CredentialInput {
            code: Some(code),
            ..Default::default()
        }
    }

    /// Parses `code` for `kind` and `number`: the exposed value, or the error's message.
    fn check(
        kind: CredentialKind,
        input: CredentialInput<'_>,
        number: &str,
        want: Result<&str, &str>,
    ) {
        let got = parse_credential(kind, &input, &n(number), true);
        let got = got
            .map(|c| match c {
                Credential::CnAuthCode(s)
                | Credential::UkPac(s)
                | Credential::FrRio(s)
                | Credential::NationalCode(s) => s.expose().to_owned(),
                Credential::UsAccountPin { account, pin } => {
                    format!("{}/{}", account.expose(), pin.expose())
                }
            })
            .map_err(|e| e.to_string());
        assert_eq!(
            got,
            want.map(str::to_owned).map_err(str::to_owned),
            "{kind:?} {input:?}"
        );
    }

    const CN: &str = "8613812345678";
    const UK: &str = "447700900123";
    const FR: &str = "33611223344";

    #[test]
    fn china() {
        let k = CredentialKind::CnAuthCode;
        let bad = "`code` is not valid: expected the 授权码 (authorisation code) from the reply to SMS SQXZ: 4 to 16 letters or digits";
        check(k, code_only("A1B2C3"), CN, Ok("A1B2C3"));
        // Full-width digits and letters from a Chinese keyboard, lower case, spaces.
        check(k, code_only("１２３ ４ａｂ"), CN, Ok("1234AB"));
        check(k, code_only("123"), CN, Err(bad));
        check(k, code_only(&"1".repeat(17)), CN, Err(bad));
        check(k, code_only("12#34"), CN, Err(bad));
        check(
            k,
            CredentialInput::default(),
            CN,
            Err(
                "`code` is required: the 授权码 (authorisation code) from the reply to SMS SQXZ: 4 to 16 letters or digits",
            ),
        );
        check(
            k,
            CredentialInput {
                pin: Some("1234"),
                ..code_only("123456")
            },
            CN,
            Err("`pin` is not used for cn ports: send only `code`"),
        );
    }

    #[test]
    fn uk() {
        let k = CredentialKind::UkPac;
        let bad = "`code` is not valid: expected a PAC: 3 letters then 6 digits, e.g. ABC123456 (the customer texts PAC to 65075)";
        check(k, code_only("ABC123456"), UK, Ok("ABC123456"));
        check(k, code_only("abc 123-456"), UK, Ok("ABC123456"));
        check(
            k,
            code_only("123456ABC"),
            UK,
            Err(
                "`code` is a STAC (6 digits then 3 letters), which switches without keeping the number: ask for a PAC (text PAC to 65075)",
            ),
        );
        for wrong in [
            "AB1234567",
            "ABC12345",
            "ABC1234567",
            "ABCD23456",
            "ÀBC123456",
            "",
        ] {
            check(k, code_only(wrong), UK, Err(bad));
        }
    }

    #[test]
    fn us() {
        let k = CredentialKind::UsAccountPin;
        let both = |a, p| CredentialInput {
            account_number: Some(a),
            pin: Some(p),
            code: None,
        };
        check(
            k,
            both("12345-678", "4321"),
            "12025550123",
            Ok("12345678/4321"),
        );
        check(
            k,
            both("12345678", "123"),
            "12025550123",
            Err(
                "`pin` is not valid: expected the port-out PIN from the current provider: 4 to 15 letters or digits",
            ),
        );
        check(
            k,
            both("", "1234"),
            "12025550123",
            Err(
                "`account_number` is not valid: expected the account number at the current provider: 1 to 30 letters or digits",
            ),
        );
        check(
            k,
            CredentialInput {
                pin: None,
                ..both("1", "x")
            },
            "12025550123",
            Err(
                "`pin` is required: the port-out PIN from the current provider: 4 to 15 letters or digits",
            ),
        );
        check(
            k,
            CredentialInput {
                code: Some("ABC123456"),
                ..both("1", "1234")
            },
            "12025550123",
            Err("`code` is not used for us ports: send only `account_number` and `pin`"),
        );
    }

    #[test]
    fn france() {
        let k = CredentialKind::FrRio;
        let bad = "`code` is not valid: expected a mobile RIO: 12 characters, the operator code (2), E or P, a 6-character reference and a 3-character key (the customer calls 3179)";
        // The key of 01P123456 for 06 11 22 33 44 is "+95" (rio.rs).
        check(k, code_only("01P123456+95"), FR, Ok("01P123456+95"));
        check(k, code_only("01 p 123456 +95"), FR, Ok("01P123456+95"));
        check(
            k,
            code_only("01P123456+96"),
            FR,
            Err(
                "`code`: the RIO's last 3 characters (its key) do not match the number being ported: check both were copied correctly (the RIO comes from 3179 on that line)",
            ),
        );
        check(
            k,
            code_only("01P123456+95"),
            "33611223345",
            Err(
                "`code`: the RIO's last 3 characters (its key) do not match the number being ported: check both were copied correctly (the RIO comes from 3179 on that line)",
            ),
        );
        check(
            k,
            code_only("01P123456+95"),
            UK,
            Err("`code`: a RIO ports a French number (+33 and 9 digits)"),
        );
        // A fixed-line RIO (line type F–Z) and wrong lengths.
        for wrong in [
            "01F123456+95",
            "01P12345+95",
            "01P123456+955",
            "01P1234#6+95",
        ] {
            check(k, code_only(wrong), FR, Err(bad));
        }
        // With the key check off, only the shape counts.
        let off = parse_credential(k, &code_only("01P123456+96"), &n(FR), false);
        assert!(matches!(off, Ok(Credential::FrRio(_))));
    }

    #[test]
    fn generic_eu() {
        let k = CredentialKind::NationalCode;
        check(k, code_only("x1-y2"), "4915123456789", Ok("X1Y2"));
        check(
            k,
            code_only(&"1".repeat(36)),
            "4915123456789",
            Err(
                "`code` is not valid: expected the porting code from the current provider: 1 to 35 letters or digits",
            ),
        );
    }

    #[test]
    fn debug_never_shows_a_value() {
        let input = CredentialInput {
            code: Some("ABC123456"),
            account_number: Some("ACCT99"),
            pin: Some("4321"),
        };
        let shown = format!("{input:?}");
        assert!(!shown.contains("ABC") && !shown.contains("ACCT") && !shown.contains("4321"));
        let pac = parse_credential(CredentialKind::UkPac, &code_only("ABC123456"), &n(UK), true)
            .expect("pac");
        assert_eq!(format!("{pac:?}"), "UkPac(***)");
        assert_eq!(pac.kind(), CredentialKind::UkPac);
        let us = parse_credential(
            CredentialKind::UsAccountPin,
            &CredentialInput {
                code: None,
                ..input
            },
            &n("12025550123"),
            true,
        )
        .expect("us");
        assert_eq!(format!("{us:?}"), "UsAccountPin { account: ***, pin: *** }");
    }

    proptest! {
        #[test]
        fn errors_never_echo_the_input(raw in "\\PC{6,40}", k in 0usize..5) {
            let kinds = [
                CredentialKind::CnAuthCode,
                CredentialKind::UkPac,
                CredentialKind::UsAccountPin,
                CredentialKind::FrRio,
                CredentialKind::NationalCode,
            ];
            let all = CredentialInput { code: Some(&raw), account_number: Some(&raw), pin: Some(&raw) };
            let us = CredentialInput { code: None, ..all };
            for input in [code_only(&raw), all, us] {
                if let Err(e) = parse_credential(kinds[k], &input, &n(FR), true) {
                    prop_assert!(!e.to_string().contains(&raw), "{e}");
                }
            }
        }
    }
}
