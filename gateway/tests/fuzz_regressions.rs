//! Inputs `fuzz/` found that broke a property of the northbound validation, kept as plain
//! tests (the fuzz crate is not built by CI). Each input is also a seed of its target's
//! corpus under `fuzz/corpus/`.

use gateway::api::dto::parse_activation;
use gateway::compliance::Subscriber;
use serde_json::Value;

/// `northbound_activation` (the input as found, byte for byte): the face-match score
/// 0.938…8 (100 digits) reads as 0.9388888888888889, which serde_json printed in the
/// sealed record and then, without `float_roundtrip`, read back as 0.9388888888888888:
/// a sealed subscriber reopened (a lawful export) was not the subscriber sealed.
#[test]
fn a_sealed_subscriber_reopens_with_the_same_face_match_score() {
    let body = include_bytes!("fixtures/fuzz/northbound_activation-score_roundtrip.json");
    let value: Value = serde_json::from_slice(body).expect("JSON");
    let req = parse_activation(&value).expect("accepted");
    let subscriber = Subscriber::from_json(req.subscriber.as_ref().expect("subscriber"))
        .expect("valid subscriber");
    let sealed: Value = serde_json::from_slice(&subscriber.to_sealed_json()).expect("JSON");
    assert_eq!(Subscriber::from_json(&sealed), Ok(subscriber));
}
