//! The patterns of identifiers in the documents, each exactly what the server accepts or
//! renders, less the check digit a pattern cannot express (an ICCID's Luhn digit, an EID's
//! MOD 97-10). The tests hold each pattern to its parser in `sim_profiles` (or `request.rs`).

/// A number as the server parses it (`sim_profiles::Msisdn`): E.164, 7 to 15 digits, no
/// leading 0; a leading `+` is accepted on input.
pub(super) const MSISDN_IN: &str = r"^\+?[1-9][0-9]{6,14}$";
/// A number as the server renders it: never with `+`.
pub(super) const MSISDN_OUT: &str = r"^[1-9][0-9]{6,14}$";
/// An ICCID as the server parses it (`sim_profiles::Iccid`): 19 digits, optionally
/// `F`-padded to 20, or 20 digits; the last digit is the Luhn digit.
pub(super) const ICCID_IN: &str = r"^([0-9]{19}[Ff]?|[0-9]{20})$";
/// An ICCID as the server renders it: without padding.
pub(super) const ICCID_OUT: &str = r"^[0-9]{19,20}$";
/// An IMSI (`sim_profiles::Imsi`): 6 to 15 digits.
pub(super) const IMSI: &str = r"^[0-9]{6,15}$";
/// An EID (`sim_profiles::Eid`): 32 digits whose value mod 97 is 1.
pub(super) const EID: &str = r"^[0-9]{32}$";
/// The `Idempotency-Key` header (`request::idempotency_key`): 1 to 255 visible ASCII
/// characters.
pub(super) const IDEMPOTENCY_KEY: &str = r"^[\x21-\x7E]{1,255}$";

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use regex_automata::dfa::regex::Regex;
    use sim_profiles::{Eid, Iccid, IdentError, Imsi, Msisdn};

    fn re(p: &str) -> Regex {
        Regex::new(p).expect("pattern")
    }

    /// A pattern agrees with its parser: what parses matches, and what matches parses
    /// unless only the check digit is wrong.
    fn agree<T: std::str::FromStr<Err = IdentError>>(pattern: &str, s: &str) {
        let matched = re(pattern).is_match(s);
        match s.parse::<T>() {
            Ok(_) => assert!(matched, "{s:?} parses but does not match {pattern}"),
            Err(IdentError::Luhn | IdentError::Mod97) => {
                assert!(matched, "{s:?}: only its check digit is wrong")
            }
            Err(e) => assert!(!matched, "{s:?} matches {pattern} but is refused: {e}"),
        }
    }

    #[test]
    fn patterns_agree_with_the_parsers_on_edge_cases() {
        for s in [
            "",
            "8988211000000530082",
            "8988211000000530082F",
            "8988211000000530082f",
            "89882110000005300820",
            "89882110000005300820F",
            "898821100000053008",
            "8988211000000530082FF",
            "+8988211000000530082",
        ] {
            agree::<Iccid>(ICCID_IN, s);
        }
        for s in [
            "",
            "+491700000001",
            "491700000001",
            "0491700000",
            "+",
            "123456",
            "1234567",
            "1234567890123456",
        ] {
            agree::<Msisdn>(MSISDN_IN, s);
        }
        for s in ["", "12345", "123456", "001010000000001", "0010100000000011"] {
            agree::<Imsi>(IMSI, s);
        }
        for s in [
            "",
            "89049032123451234512345678901235",
            "8904903212345123451234567890123",
        ] {
            agree::<Eid>(EID, s);
        }
        let idem = re(IDEMPOTENCY_KEY);
        for (s, ok) in [
            ("", false),
            ("a", true),
            ("a b", false),
            ("é", false),
            (&*"k".repeat(255), true),
            (&*"k".repeat(256), false),
        ] {
            assert_eq!(idem.is_match(s), ok, "{s:?}");
            let mut h = axum::http::HeaderMap::new();
            if let Ok(v) = axum::http::HeaderValue::from_str(s) {
                h.insert("idempotency-key", v);
                assert_eq!(
                    crate::api::request::idempotency_key(&h).is_ok(),
                    ok,
                    "{s:?}"
                );
            }
        }
    }

    proptest! {
        #[test]
        fn iccid_pattern_agrees(s in "[0-9Ff+ ]{0,3}[0-9]{15,21}[0-9Ff]{0,2}") {
            agree::<Iccid>(ICCID_IN, &s);
        }

        #[test]
        fn msisdn_pattern_agrees(s in "\\+?[0-9a]{0,17}") {
            agree::<Msisdn>(MSISDN_IN, &s);
        }

        #[test]
        fn imsi_pattern_agrees(s in "[0-9 ]{0,17}") {
            agree::<Imsi>(IMSI, &s);
        }

        #[test]
        fn eid_pattern_agrees(s in "[0-9x]{30,34}") {
            agree::<Eid>(EID, &s);
        }

        #[test]
        fn rendered_forms_match_the_output_patterns(payload in "[0-9]{18,19}", n in "[1-9][0-9]{6,14}") {
            let iccid = Iccid::from_payload(&payload).expect("iccid");
            prop_assert!(re(ICCID_OUT).is_match(&iccid.to_string()));
            let m: Msisdn = format!("+{n}").parse().expect("msisdn");
            prop_assert!(re(MSISDN_OUT).is_match(m.as_str()));
        }
    }
}
