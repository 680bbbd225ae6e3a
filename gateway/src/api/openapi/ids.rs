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
/// An ES2+ DATETIME as the callback listener parses it (`adapters::es2plus::Timestamp`):
/// RFC 3339, `T` or `t`, optional fraction, `Z`, `z` or a `±hh:mm` offset; the day is not
/// checked against its month.
pub(super) const ES2_DATETIME: &str = r"^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])[Tt]([01][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)(\.[0-9]+)?([Zz]|[+-]([01][0-9]|2[0-3]):[0-5][0-9])$";
/// A `notificationPointId` sent as a string (`adapters::es2plus::decode_notification`):
/// decimal digits, leading zeros allowed, worth at most 4294967295 (a `u32`).
pub(super) const POINT_ID_STRING: &str = r"^0*([0-9]{1,9}|[1-3][0-9]{9}|4[01][0-9]{8}|42[0-8][0-9]{7}|429[0-3][0-9]{6}|4294[0-8][0-9]{5}|42949[0-5][0-9]{4}|429496[0-6][0-9]{3}|4294967[01][0-9]{2}|42949672[0-8][0-9]|429496729[0-5])$";
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

    /// The receiver's answer to a notification whose `notificationPointId` is the string `id`
    /// (everything else valid).
    fn point_id_accepted(id: &str) -> bool {
        let body = serde_json::json!({
            "header": {"functionRequesterIdentifier": "s", "functionCallIdentifier": "n"},
            "iccid": "8988211000000530082", "timestamp": "2026-01-01T00:00:00Z",
            "notificationPointId": id, "notificationPointStatus": {"status": "Failed"}});
        adapters::es2plus::decode_notification(body.to_string().as_bytes()).is_ok()
    }

    fn datetime_agrees(s: &str) {
        let parsed = adapters::es2plus::Timestamp::new(s).is_ok();
        assert_eq!(
            re(ES2_DATETIME).is_match(s),
            parsed,
            "{s:?} parses: {parsed}"
        );
    }

    #[test]
    fn the_callback_patterns_agree_with_the_receiver_on_edge_cases() {
        for s in [
            "",
            "2026-01-01T00:00:00Z",
            "2026-12-31t23:59:60.123456+14:00",
            "2026-02-31T00:00:00.5z",
            "2026-00-01T00:00:00Z",
            "2026-01-32T00:00:00Z",
            "2026-01-01T24:00:00Z",
            "2026-01-01T00:60:00Z",
            "2026-01-01T00:00:61Z",
            "2026-01-01T00:00:00+24:00",
            "2026-01-01T00:00:00+00:60",
            "2026-01-01T00:00:00.Z",
            "2026-01-01T00:00:00",
            "2026-01-01 00:00:00Z",
            "2026-01-01T00:00:00Zx",
            "2026-01-01T00:00:00Z\n",
            "26-01-01T00:00:00Z",
        ] {
            datetime_agrees(s);
        }
        for (s, ok) in [
            ("", false),
            ("0", true),
            ("4", true),
            ("0004", true),
            ("999999999", true),
            ("4294967295", true),
            ("00000000004294967295", true),
            ("4294967296", false),
            ("4294967300", false),
            ("9999999999", false),
            ("+4", false),
            ("-0", false),
            (" 4", false),
            ("4\n", false),
        ] {
            assert_eq!(point_id_accepted(s), ok, "{s:?}");
            assert_eq!(re(POINT_ID_STRING).is_match(s), ok, "{s:?}");
        }
    }

    proptest! {
        #[test]
        fn datetime_pattern_agrees(s in "[0-9]{3,5}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]{0,3})?([Zz]|[+-][0-9]{2}:[0-9]{2}|)") {
            datetime_agrees(&s);
        }

        #[test]
        fn datetime_pattern_admits_each_datetime(s in "[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])[Tt]([01][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)(\\.[0-9]{1,9})?([Zz]|[+-]([01][0-9]|2[0-3]):[0-5][0-9])") {
            datetime_agrees(&s);
        }

        #[test]
        fn point_id_pattern_agrees(s in "(0{0,12}|[+ -]?)[0-9]{1,11}") {
            prop_assert_eq!(re(POINT_ID_STRING).is_match(&s), point_id_accepted(&s), "{:?}", s);
        }

        #[test]
        fn point_id_pattern_agrees_near_the_limit(n in 4_200_000_000_u64..4_400_000_000) {
            let s = n.to_string();
            prop_assert_eq!(re(POINT_ID_STRING).is_match(&s), u32::try_from(n).is_ok());
            prop_assert_eq!(point_id_accepted(&s), u32::try_from(n).is_ok());
        }

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
