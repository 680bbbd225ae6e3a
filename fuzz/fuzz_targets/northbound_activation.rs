//! The northbound validation of `POST /v1/activations`: the body parsed as JSON the way
//! the API does (`serde_json::from_slice`), then `parse_activation` with its `sim`,
//! `msisdn` (including a port-in's members) and `channel` checks; what it accepts goes on
//! through the pure checks that follow it in the handler: the `subscriber` document rules,
//! the channel reference, and for a port-in each market's portability, credential format
//! and schedule (a fixed "now", so runs repeat). Nothing may panic; a refusal carries one
//! of the documented codes; an accepted request holds what the validation promises; a
//! subscriber that parses seals to JSON that parses to the same subscriber; a port-in
//! schedule locks no later than its cutover, which is after submission and no later than
//! the promised completion.

#![no_main]

use gateway::api::dto::{ActivationRequest, MsisdnRequest, parse_activation};
use gateway::compliance::{ChannelRef, Market, Subscriber};
use gateway::porting::{CredentialInput, Day, MarketPorting, schedule};
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

/// 2026-12-01T09:30:00Z, a Tuesday.
const NOW_MS: u64 = 1_796_117_400_000;

/// The codes `parse_activation` documents (see its tests and the OpenAPI document).
const CODES: [&str; 7] = [
    "invalid_type",
    "missing_field",
    "unknown_field",
    "invalid_value",
    "invalid_iccid",
    "invalid_msisdn",
    "invalid_eid",
];

const CHANNEL_FIELDS: [&str; 7] = [
    "kind",
    "store_id",
    "terminal_id",
    "staff_id",
    "platform",
    "order_ref",
    "imei",
];

/// What `parse_activation` promises about a request it accepts.
fn accepted(req: &ActivationRequest) {
    assert!((1..=64).contains(&req.product.len()));
    if let MsisdnRequest::Reservation(id) = &req.msisdn {
        assert!(id.starts_with("nres_") && id.len() <= 64);
    }
    if let Some(channel) = &req.channel {
        let m = channel.as_object().expect("channel is an object");
        for (k, v) in m {
            assert!(CHANNEL_FIELDS.contains(&k.as_str()), "{k}");
            let s = v.as_str().unwrap_or_default();
            assert!(v.is_string() || v.is_null());
            assert!(s.len() <= 128);
            if k == "imei" {
                assert!((14..=16).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit()));
            }
        }
        let field = |k: &str| m.get(k).and_then(Value::as_str);
        let _ = ChannelRef::from_request(
            field("kind"),
            field("store_id"),
            field("staff_id"),
            field("terminal_id"),
        );
    }
    if let Some(subscriber) = &req.subscriber {
        assert!(subscriber.is_object());
        if let Ok(s) = Subscriber::from_json(subscriber) {
            let sealed: Value =
                serde_json::from_slice(&s.to_sealed_json()).expect("sealed form is JSON");
            assert_eq!(Subscriber::from_json(&sealed).as_ref(), Ok(&s));
        }
    }
    if let MsisdnRequest::PortIn(p) = &req.msisdn {
        assert!(!p.donor.is_empty() && p.donor.len() <= 64);
        assert!(p.donor.bytes().all(|b| b.is_ascii_graphic()));
        let input = CredentialInput {
            code: p.credential.as_deref(),
            account_number: p.account_number.as_deref(),
            pin: p.pin.as_deref(),
        };
        let day = p.requested_date.as_deref().map(|d| {
            assert_eq!(d.len(), 10);
            // As the handler reads it once the shape is checked.
            let y = d.get(0..4)?.parse().ok()?;
            let m = d.get(5..7)?.parse().ok()?;
            let dd = d.get(8..10)?.parse().ok()?;
            Day::from_ymd(y, m, dd)
        });
        for market in Market::ALL {
            let rules = MarketPorting::defaults(market);
            let _ = rules.check_portable(&p.number);
            let _ = rules.parse_credential(&input, &p.number);
            let requested = match day {
                None => None,
                Some(None) => continue,
                Some(Some(d)) => Some(d),
            };
            if let Ok(s) = schedule::schedule(&rules, NOW_MS, requested) {
                assert!(NOW_MS < s.cutover_at, "{market:?}");
                assert!(s.lock_at <= s.cutover_at, "{market:?}");
                assert!(s.cutover_at <= s.complete_by, "{market:?}");
            }
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(body) = serde_json::from_slice::<Value>(data) else {
        return;
    };
    match parse_activation(&body) {
        Ok(req) => accepted(&req),
        Err(e) => assert!(CODES.contains(&e.code()), "undocumented code {}", e.code()),
    }
});
