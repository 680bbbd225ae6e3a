//! The control API tests drive the reader with (see the module doc): placing a card and
//! setting the face match's answer. Bodies are JSON; errors are `400 {"code":
//! "invalid_request", "detail"}`, the detail naming the member, never its value.

use super::card::Card;
use super::config::{FaceMatchSetting, valid_score};
use super::simulator::{Simulator, read_capped};
use crate::common::http_util::{self, Abort, HttpResponse};
use http::{Request, StatusCode};
use hyper::body::Incoming;
use serde_json::{Value, json};

/// `PUT /control/card`: the body is the card to place (see [`Card::from_json`]).
pub(crate) async fn put_card(
    sim: &Simulator,
    req: Request<Incoming>,
) -> Result<HttpResponse, Abort> {
    let body = match read_capped(req).await? {
        Ok(b) => b,
        Err(resp) => return Ok(resp),
    };
    let placed = parse(&body).and_then(|v| Card::from_json(&v, sim.reader_serial()));
    Ok(match placed {
        Ok(card) => {
            sim.set_card(Some(card));
            http_util::empty(StatusCode::NO_CONTENT)
        }
        Err(detail) => invalid(&detail),
    })
}

/// `PUT /control/face-match`: `{"score"?, "liveness"?}`; a member left out keeps its
/// default (0.93, live).
pub(crate) async fn put_face_match(
    sim: &Simulator,
    req: Request<Incoming>,
) -> Result<HttpResponse, Abort> {
    let body = match read_capped(req).await? {
        Ok(b) => b,
        Err(resp) => return Ok(resp),
    };
    Ok(match parse(&body).and_then(|v| face_match(&v)) {
        Ok(setting) => {
            sim.set_face_match(setting);
            http_util::empty(StatusCode::NO_CONTENT)
        }
        Err(detail) => invalid(&detail),
    })
}

fn parse(body: &[u8]) -> Result<Value, String> {
    serde_json::from_slice(body).map_err(|_| "the body is not JSON".to_owned())
}

fn face_match(v: &Value) -> Result<FaceMatchSetting, String> {
    let Value::Object(o) = v else {
        return Err("the body is a JSON object".into());
    };
    let mut s = FaceMatchSetting::default();
    match o.get("score") {
        None => {}
        Some(Value::Number(n)) if n.as_f64().is_some_and(valid_score) => {
            s.score = n.as_f64().unwrap_or(s.score);
        }
        Some(_) => return Err("score: not a number within 0.0..=1.0".into()),
    }
    match o.get("liveness") {
        None => {}
        Some(Value::Bool(b)) => s.liveness = *b,
        Some(_) => return Err("liveness: not a boolean".into()),
    }
    Ok(s)
}

fn invalid(detail: &str) -> HttpResponse {
    http_util::json(
        StatusCode::BAD_REQUEST,
        &json!({"code": "invalid_request", "detail": detail}),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn face_match_settings() {
        let ok = |v: Value| face_match(&v).expect("accepted");
        assert_eq!(ok(json!({})), FaceMatchSetting::default());
        let s = ok(json!({"score": 0.5, "liveness": false}));
        assert_eq!((s.score, s.liveness), (0.5, false));
        for bad in [
            json!([]),
            json!({"score": 1.5}),
            json!({"score": "0.9"}),
            json!({"liveness": 1}),
        ] {
            assert!(face_match(&bad).is_err(), "{bad}");
        }
    }
}
