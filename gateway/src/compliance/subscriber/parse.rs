//! Hand-written parsing of the `subscriber` members: each problem names the JSON path at
//! fault and never echoes a value.

use super::{Capture, Evidence, FaceMatch, MAX_REF_CHARS};
use crate::compliance::refusal::Refusal;
use serde_json::{Map, Value};

/// Normalises an issuing-state code to ISO 3166-1 alpha-3 upper case (as in passports'
/// machine-readable zone, where Germany is the single letter `D`).
pub(super) fn normalise_country(raw: &str) -> Option<String> {
    let up = raw.to_ascii_uppercase();
    match up.len() {
        1 if up == "D" => Some("DEU".to_owned()),
        3 if up.bytes().all(|c| c.is_ascii_uppercase()) => Some(up),
        _ => None,
    }
}

pub(super) fn missing(field: &str) -> Refusal {
    Refusal::subscriber_invalid(field, format!("`{field}` is required"))
}

pub(super) fn object<'a>(v: &'a Value, path: &str) -> Result<&'a Map<String, Value>, Refusal> {
    v.as_object()
        .ok_or_else(|| Refusal::subscriber_invalid(path, format!("`{path}` must be a JSON object")))
}

/// A string member as sent (`None` when absent or null), type-checked only.
pub(super) fn raw_string<'a>(
    m: &'a Map<String, Value>,
    key: &str,
    path: &str,
) -> Result<Option<&'a str>, Refusal> {
    match m.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => {
            let field = format!("{path}.{key}");
            Err(Refusal::subscriber_invalid(
                &field,
                format!("`{field}` must be a string"),
            ))
        }
    }
}

/// A trimmed, non-empty string member of at most `max` characters with no control
/// characters (`None` when absent or null).
pub(super) fn text<'a>(
    m: &'a Map<String, Value>,
    key: &str,
    path: &str,
    max: usize,
) -> Result<Option<&'a str>, Refusal> {
    let Some(s) = raw_string(m, key, path)? else {
        return Ok(None);
    };
    let s = s.trim();
    let field = format!("{path}.{key}");
    if s.is_empty() {
        return Err(Refusal::subscriber_invalid(
            &field,
            format!("`{field}` must not be empty"),
        ));
    }
    if s.chars().count() > max || s.chars().any(char::is_control) {
        return Err(Refusal::subscriber_invalid(
            &field,
            format!("`{field}` must be at most {max} characters, with no control characters"),
        ));
    }
    Ok(Some(s))
}

pub(super) fn capture(v: Option<&Value>) -> Result<Capture, Refusal> {
    const P: &str = "subscriber.capture";
    let Some(v) = v.filter(|v| !v.is_null()) else {
        // Nothing said: the number was typed.
        return Ok(Capture::Manual);
    };
    let m = object(v, P)?;
    match text(m, "method", P, 32)? {
        Some("card_reader") => Ok(Capture::CardReader {
            reader_serial: text(m, "reader_serial", P, MAX_REF_CHARS)?
                .ok_or_else(|| missing("subscriber.capture.reader_serial"))?
                .to_owned(),
            payload_ref: text(m, "payload_ref", P, MAX_REF_CHARS)?.map(str::to_owned),
        }),
        Some("manual") => Ok(Capture::Manual),
        Some(_) => {
            let mut r = Refusal::subscriber_invalid(
                "subscriber.capture.method",
                "`subscriber.capture.method` must be `card_reader` or `manual`".to_owned(),
            );
            r.extras.allowed = vec!["card_reader", "manual"];
            Err(r)
        }
        None => Err(missing("subscriber.capture.method")),
    }
}

pub(super) fn evidence(v: Option<&Value>) -> Result<Evidence, Refusal> {
    const P: &str = "subscriber.evidence";
    let Some(v) = v.filter(|v| !v.is_null()) else {
        return Ok(Evidence::default());
    };
    let m = object(v, P)?;
    let face_match = match m.get("face_match").filter(|v| !v.is_null()) {
        None => None,
        Some(f) => {
            const F: &str = "subscriber.evidence.face_match";
            let f = object(f, F)?;
            let transaction_id = text(f, "transaction_id", F, MAX_REF_CHARS)?
                .ok_or_else(|| missing("subscriber.evidence.face_match.transaction_id"))?
                .to_owned();
            let score = f
                .get("score")
                .and_then(Value::as_f64)
                .filter(|s| (0.0..=1.0).contains(s))
                .ok_or_else(|| {
                    Refusal::subscriber_invalid(
                        "subscriber.evidence.face_match.score",
                        "`subscriber.evidence.face_match.score` must be a number from 0.0 to 1.0"
                            .to_owned(),
                    )
                })?;
            let liveness = f.get("liveness").and_then(Value::as_bool).ok_or_else(|| {
                Refusal::subscriber_invalid(
                    "subscriber.evidence.face_match.liveness",
                    "`subscriber.evidence.face_match.liveness` must be true or false".to_owned(),
                )
            })?;
            Some(FaceMatch {
                transaction_id,
                score,
                liveness,
            })
        }
    };
    let id_of = |key: &str| -> Result<Option<String>, Refusal> {
        match m.get(key).filter(|v| !v.is_null()) {
            None => Ok(None),
            Some(x) => {
                let path = format!("{P}.{key}");
                let o = object(x, &path)?;
                Ok(Some(
                    text(o, "id", &path, MAX_REF_CHARS)?
                        .ok_or_else(|| missing(&format!("{path}.id")))?
                        .to_owned(),
                ))
            }
        }
    };
    Ok(Evidence {
        face_match,
        video_id: id_of("video")?,
        risk_notice_id: id_of("risk_notice")?,
    })
}
