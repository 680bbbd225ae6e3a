//! The admin API, served under `/sim/` on the simulator's own TLS listener (no verifier
//! credential needed: it is a loopback test surface). JSON.
//!
//! | Request | Body in | Answer |
//! |---|---|---|
//! | `GET /sim/stats` | | 200 [`IdentityCounts`](super::IdentityCounts) |
//! | `GET /sim/rules` | | 200 array of rules (ID numbers shown as `***`) |
//! | `POST /sim/rules` | a rule or an array of rules | 204, or 400 naming the member |
//! | `DELETE /sim/rules` | | 204 |
//!
//! A rule: `{"action": "reject", "code": "identity_mismatch"}`, `{"action": "flag",
//! "code": "<snake_case>"}`, `{"action": "hang"}`, `{"action": "status", "status": 503}`,
//! `{"action": "malformed"}` or `{"action": "delay", "ms": 250}`; optionally `"id_number"`
//! (only requests for that number) and `"times"` (default 1; 4294967295 is for good).
//! Errors name the member, never the value.

use super::faults::{Action, Rule};
use super::simulator::Simulator;
use crate::common::http_util::{self, Abort, HttpResponse, bad_request, json, not_routed};
use adapters::identity::{Code, IdNumber, RejectCode};
use http::{Method, Request, StatusCode};
use hyper::body::Incoming;
use serde_json::{Map, Value};
use std::time::Duration;

/// Every admin path starts with this.
pub(crate) const PREFIX: &str = "/sim/";

/// Serves one admin request.
pub(crate) async fn handle(sim: &Simulator, req: Request<Incoming>) -> Result<HttpResponse, Abort> {
    let method = req.method().clone();
    Ok(match (req.uri().path(), method) {
        ("/sim/stats", Method::GET) => json(StatusCode::OK, &*sim.counts()),
        ("/sim/stats", _) => not_routed(Some("GET")),
        ("/sim/rules", Method::GET) => {
            let rules: Vec<Value> = sim.rules().rules().iter().map(to_wire).collect();
            json(StatusCode::OK, &rules)
        }
        ("/sim/rules", Method::POST) => {
            let body = match http_util::read_body(req).await {
                Ok(b) => b,
                Err(http_util::BodyError::TooLarge) => return Ok(http_util::too_large()),
                Err(http_util::BodyError::Broken) => return Err(Abort),
            };
            match parse_rules(&body) {
                Ok(rules) => {
                    let mut script = sim.rules();
                    for r in rules {
                        script.push(r);
                    }
                    http_util::empty(StatusCode::NO_CONTENT)
                }
                Err(what) => bad_request(what),
            }
        }
        ("/sim/rules", Method::DELETE) => {
            sim.rules().clear();
            http_util::empty(StatusCode::NO_CONTENT)
        }
        ("/sim/rules", _) => not_routed(Some("GET, POST, DELETE")),
        _ => not_routed(None),
    })
}

/// One rule or an array of them; the error names the member at fault.
fn parse_rules(body: &[u8]) -> Result<Vec<Rule>, String> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Array(items)) => items.iter().map(parse_rule).collect(),
        Ok(item) => parse_rule(&item).map(|r| vec![r]),
        Err(_) => Err("body is not JSON".into()),
    }
}

fn parse_rule(v: &Value) -> Result<Rule, String> {
    let Value::Object(o) = v else {
        return Err("a rule is a JSON object".into());
    };
    let text = |name: &str| match o.get(name) {
        Some(Value::String(s)) => Ok(s.as_str()),
        _ => Err(format!("{name}: missing or not a string")),
    };
    let number = |name: &str| {
        o.get(name)
            .and_then(Value::as_u64)
            .ok_or_else(|| format!("{name}: missing or not a whole number"))
    };
    let action = match text("action")? {
        "reject" => {
            Action::Reject(RejectCode::from_wire(text("code")?).ok_or("code: not a reject code")?)
        }
        "flag" => Action::Flag(Code::parse(text("code")?, "code").map_err(|e| e.to_string())?),
        "hang" => Action::Hang,
        "status" => match number("status")? {
            s @ 100..=599 => Action::Status(u16::try_from(s).map_err(|_| "status: out of range")?),
            _ => return Err("status: not an HTTP status".into()),
        },
        "malformed" => Action::Malformed,
        "delay" => Action::Delay(Duration::from_millis(number("ms")?)),
        _ => return Err("action: unknown".into()),
    };
    let id_number = match o.get("id_number") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(IdNumber::parse(s).map_err(|e| e.to_string())?),
        Some(_) => return Err("id_number: not a string".into()),
    };
    let times = match o.get("times") {
        None => 1,
        Some(_) => u32::try_from(number("times")?).map_err(|_| "times: out of range")?,
    };
    Ok(Rule {
        action,
        id_number,
        times,
    })
}

/// The wire form of a pending rule, its ID number masked.
fn to_wire(r: &Rule) -> Value {
    let mut o = Map::new();
    let (action, extra) = match &r.action {
        Action::Reject(c) => ("reject", Some(("code", Value::from(c.as_str())))),
        Action::Flag(c) => ("flag", Some(("code", Value::from(c.as_str())))),
        Action::Hang => ("hang", None),
        Action::Status(s) => ("status", Some(("status", Value::from(*s)))),
        Action::Malformed => ("malformed", None),
        Action::Delay(d) => (
            "delay",
            Some((
                "ms",
                Value::from(u64::try_from(d.as_millis()).unwrap_or(u64::MAX)),
            )),
        ),
    };
    o.insert("action".into(), action.into());
    if let Some((k, v)) = extra {
        o.insert(k.into(), v);
    }
    if r.id_number.is_some() {
        o.insert("id_number".into(), "***".into());
    }
    o.insert("times".into(), r.times.into());
    Value::Object(o)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_parse_and_errors_name_the_member_only() {
        let rules = parse_rules(
            br#"[{"action":"reject","code":"id_expired","id_number":"11010519491231002x","times":2},
                {"action":"status","status":503},{"action":"delay","ms":20},{"action":"hang"}]"#,
        )
        .expect("rules");
        assert_eq!(rules.len(), 4);
        assert_eq!(rules[0].action, Action::Reject(RejectCode::IdExpired));
        assert_eq!(rules[0].times, 2);
        assert_eq!(rules[1], Rule::once(Action::Status(503)));
        let wire = to_wire(&rules[0]);
        assert_eq!(wire["id_number"], "***");
        assert_eq!(wire["code"], "id_expired");
        for (body, expected) in [
            (
                r#"{"action":"reject","code":"nope"}"#,
                "code: not a reject code",
            ),
            (
                r#"{"action":"reject","id_number":"1101-0519"}"#,
                "code: missing or not a string",
            ),
            (
                r#"{"action":"hang","id_number":"1101-0519"}"#,
                "subject.id_number: invalid value",
            ),
            (
                r#"{"action":"status","status":700}"#,
                "status: not an HTTP status",
            ),
            (r#"{"action":"explode"}"#, "action: unknown"),
            (
                r#"{"action":"hang","times":-1}"#,
                "times: missing or not a whole number",
            ),
            ("[1]", "a rule is a JSON object"),
        ] {
            assert_eq!(
                parse_rules(body.as_bytes()).err().as_deref(),
                Some(expected),
                "{body}"
            );
        }
    }
}
