use super::*;
use crate::compliance::markets::Market;
use crate::porting::DAY_MS;
use proptest::prelude::*;

fn n(s: &str) -> Msisdn {
    s.parse().expect("msisdn")
}

/// A keyed MAC stand-in: distinct inputs give distinct outputs.
fn mac(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn counter() -> impl FnMut() -> u32 {
    let mut i = 7u32;
    move || {
        i = i.wrapping_mul(1_103_515_245).wrapping_add(12_345);
        i >> 8
    }
}

/// The number of each market's worked example.
fn number(m: Market) -> Msisdn {
    n(match m {
        Market::Cn => "8613812345678",
        Market::Uk => "447700900123",
        Market::Us => "12025550123",
        Market::EuFr => "33612345678",
        Market::EuGeneric => "4915112345678",
    })
}

/// Issues for `m` and returns (market, number, the stored MAC, the credential).
fn issued(m: Market) -> (MarketPorting, Msisdn, String, Issued) {
    let market = MarketPorting::defaults(m);
    let number = number(m);
    let c = issue(&market, &number, "sub_abc123", *b"SG", &mut counter()).expect("issued");
    let parsed = market
        .parse_credential(&c.input(), &number)
        .expect("parses");
    let stored = mac(&credential_message(&number, &parsed));
    (market, number, stored, c)
}

fn line(issued: Option<(&str, Option<u64>)>) -> LineFacts<'_> {
    LineFacts {
        terminated: false,
        reasons: &[],
        issued,
        last_port_at_ms: None,
    }
}

const NOW: u64 = 1_780_000_000_000;
const BY: u64 = NOW + 3_600_000;

#[test]
fn what_we_issue_is_accepted_in_every_market() {
    for m in Market::ALL {
        let (market, number, stored, c) = issued(m);
        let got = decide(
            &market,
            &number,
            line(Some((&stored, None))),
            &c.input(),
            mac,
            (NOW, BY),
        );
        assert_eq!(got, Ok(()), "{m:?}");
    }
}

#[test]
fn a_credential_presented_in_other_case_and_spacing_still_matches() {
    let (market, number, stored, c) = issued(Market::Uk);
    let code = c.code.as_deref().expect("pac").to_ascii_lowercase();
    let spaced = format!("{} {}", &code[..3], &code[3..]);
    let input = CredentialInput {
        code: Some(&spaced),
        ..Default::default()
    };
    assert_eq!(
        decide(
            &market,
            &number,
            line(Some((&stored, None))),
            &input,
            mac,
            (NOW, BY)
        ),
        Ok(())
    );
}

#[test]
fn each_refusal_has_its_reason() {
    let (uk, number, stored, c) = issued(Market::Uk);
    let ok = Some((stored.as_str(), None));
    let wrong = CredentialInput {
        code: Some("ABC123456"),
        ..Default::default()
    };
    let d = |l: LineFacts<'_>, input: &CredentialInput<'_>, t: (u64, u64)| {
        decide(&uk, &number, l, input, mac, t)
    };
    assert_eq!(
        d(line(ok), &wrong, (NOW, BY)),
        Err(PortOutReject::CredentialInvalid)
    );
    assert_eq!(
        d(line(None), &c.input(), (NOW, BY)),
        Err(PortOutReject::CredentialInvalid)
    );
    let malformed = CredentialInput {
        code: Some("not a pac"),
        ..Default::default()
    };
    assert_eq!(
        d(line(ok), &malformed, (NOW, BY)),
        Err(PortOutReject::CredentialInvalid)
    );
    let expired = Some((stored.as_str(), Some(NOW)));
    assert_eq!(
        d(line(expired), &c.input(), (NOW, BY)),
        Err(PortOutReject::CredentialExpired)
    );
    let lost = LineFacts {
        reasons: &[SuspensionReason::NonPayment, SuspensionReason::LostOrStolen],
        ..line(ok)
    };
    assert_eq!(
        d(lost, &c.input(), (NOW, BY)),
        Err(PortOutReject::LineNotActive)
    );
    let unpaid = LineFacts {
        reasons: &[SuspensionReason::NonPayment],
        ..line(ok)
    };
    assert_eq!(
        d(unpaid, &c.input(), (NOW, BY)),
        Ok(()),
        "a suspended line may leave"
    );
    let ended = LineFacts {
        terminated: true,
        ..line(ok)
    };
    assert_eq!(
        d(ended, &c.input(), (NOW, BY)),
        Err(PortOutReject::LineNotActive)
    );
    assert_eq!(
        d(line(ok), &c.input(), (BY, BY)),
        Err(PortOutReject::Timeout)
    );
}

#[test]
fn us_ports_check_account_and_pin() {
    let (us, number, stored, c) = issued(Market::Us);
    let ok = Some((stored.as_str(), None));
    let account = c.account_number.clone().expect("account");
    let wrong_pin = CredentialInput {
        account_number: Some(&account),
        pin: Some("000000"),
        ..Default::default()
    };
    let got = decide(&us, &number, line(ok), &wrong_pin, mac, (NOW, BY));
    assert_eq!(got, Err(PortOutReject::AccountMismatch));
    let pin = c.pin.as_deref().expect("pin");
    let wrong_account = CredentialInput {
        account_number: Some("OTHER1"),
        pin: Some(pin),
        ..Default::default()
    };
    let got = decide(&us, &number, line(ok), &wrong_account, mac, (NOW, BY));
    assert_eq!(got, Err(PortOutReject::AccountMismatch));
}

#[test]
fn china_keeps_the_120_day_rule_and_its_mvno_blocks() {
    let (cn, number, stored, c) = issued(Market::Cn);
    let ok = Some((stored.as_str(), None));
    let recent = LineFacts {
        last_port_at_ms: Some(NOW - 119 * DAY_MS),
        ..line(ok)
    };
    let got = decide(&cn, &number, recent, &c.input(), mac, (NOW, BY));
    assert_eq!(got, Err(PortOutReject::ContractLock));
    let old = LineFacts {
        last_port_at_ms: Some(NOW - 120 * DAY_MS),
        ..line(ok)
    };
    assert_eq!(
        decide(&cn, &number, old, &c.input(), mac, (NOW, BY)),
        Ok(())
    );
    let mvno = n("8617012345678");
    let got = decide(&cn, &mvno, line(ok), &c.input(), mac, (NOW, BY));
    assert_eq!(got, Err(PortOutReject::NumberNotPortable));
}

#[test]
fn a_rio_is_bound_to_its_number() {
    let (fr, _, stored, c) = issued(Market::EuFr);
    let other = n("33698765432");
    let got = decide(
        &fr,
        &other,
        line(Some((&stored, None))),
        &c.input(),
        mac,
        (NOW, BY),
    );
    assert_eq!(got, Err(PortOutReject::CredentialMsisdnMismatch));
    let not_french = MarketPorting::defaults(Market::EuFr);
    assert!(issue(&not_french, &n("447700900123"), "s", *b"SG", &mut counter()).is_none());
}

#[test]
fn debug_never_shows_the_credential() {
    let (_, _, _, c) = issued(Market::Uk);
    assert_eq!(format!("{c:?}"), "Issued(***)");
}

proptest! {
    /// Whatever the random draw, what we issue parses in its market's format and is
    /// accepted, and the same draw for another number is not.
    #[test]
    fn issued_credentials_parse_and_match_only_their_number(seed in any::<u32>(), tail in 0u32..1_000_000) {
        for m in Market::ALL {
            let market = MarketPorting::defaults(m);
            let base = number(m);
            let digits = base.as_str();
            let mine = n(&format!("{}{:06}", &digits[..digits.len() - 6], tail));
            let other = n(&format!("{}{:06}", &digits[..digits.len() - 6], (tail + 1) % 1_000_000));
            let mut s = seed;
            let mut random = move || { s = s.wrapping_mul(747_796_405).wrapping_add(2_891_336_453); s >> 7 };
            let c = issue(&market, &mine, "sub_x", *b"SG", &mut random).expect("issued");
            let parsed = market.parse_credential(&c.input(), &mine).expect("parses");
            let stored = mac(&credential_message(&mine, &parsed));
            let facts = line(Some((&stored, None)));
            prop_assert_eq!(decide(&market, &mine, facts, &c.input(), mac, (NOW, BY)), Ok(()));
            prop_assert!(decide(&market, &other, facts, &c.input(), mac, (NOW, BY)).is_err());
        }
    }
}
