//! The request body of `POST /v1/verifications`: encoded by the client, decoded by the
//! simulator (and by a reseller's shim in front of its vendor). Decoding is total: any
//! bytes give a request or an error naming the member at fault.

use super::error::IdentityCodecError;
use super::id_type::IdType;
use super::json::{self, Object, opt_obj, opt_str, req_bool, req_f64, req_obj, req_str};
use super::pii::{IdNumber, PersonName};
use super::request::{
    Capture, ChannelContext, Evidence, FaceMatch, Requirements, VerificationRequest,
};
use super::values::{CivilDate, Nationality, Score, Token};
use serde::Serialize;

/// Encodes a request. The body holds the name and ID number: send it, never log it.
pub fn encode_request(req: &VerificationRequest) -> Vec<u8> {
    let id_expiry = req.id_expiry.map(|d| d.to_string());
    let capture = match &req.capture {
        Capture::CardReader {
            reader_serial,
            payload_ref,
        } => WireCapture {
            method: "card_reader",
            reader_serial: Some(reader_serial.as_str()),
            payload_ref: payload_ref.as_ref().map(Token::as_str),
        },
        Capture::Manual => WireCapture {
            method: "manual",
            reader_serial: None,
            payload_ref: None,
        },
    };
    let evidence = req.evidence.as_ref().map(|e| match e {
        Evidence::FaceMatch(f) => WireEvidence {
            face_match: Some(WireFace {
                transaction_id: f.transaction_id.as_str(),
                score: f.score.get(),
                liveness: f.liveness,
            }),
            video: None,
        },
        Evidence::Video { id } => WireEvidence {
            face_match: None,
            video: Some(WireVideo { id: id.as_str() }),
        },
    });
    let c = &req.channel;
    let wire = WireRequest {
        request_id: req.request_id.as_str(),
        subject: WireSubject {
            name: req.name.expose(),
            id_type: req.id_type.as_str(),
            id_number: req.id_number.expose(),
            nationality: req.nationality.as_ref().map(Nationality::as_str),
            id_expiry: id_expiry.as_deref(),
        },
        capture,
        evidence,
        channel: WireChannel {
            tenant: c.tenant.as_ref().map(Token::as_str),
            store: c.store.as_ref().map(Token::as_str),
            clerk: c.clerk.as_ref().map(Token::as_str),
            device: c.device.as_ref().map(Token::as_str),
        },
        requirements: WireRequirements {
            evidence_required: req.requirements.evidence_required,
            manual_capture_allowed: req.requirements.manual_capture_allowed,
        },
    };
    json::to_bytes(&wire)
}

/// Decodes a request body. Unknown members are ignored (a later version may add some);
/// everything known is checked for type and shape.
pub fn decode_request(body: &[u8]) -> Result<VerificationRequest, IdentityCodecError> {
    let obj = json::parse_object(body)?;
    let request_id = Token::parse(req_str(&obj, "request_id", "request_id")?, "request_id")?;
    let subject = req_obj(&obj, "subject", "subject")?;
    let name = PersonName::parse(req_str(subject, "name", "subject.name")?)?;
    let id_type = IdType::from_wire(req_str(subject, "id_type", "subject.id_type")?).ok_or(
        IdentityCodecError::InvalidValue {
            field: "subject.id_type",
        },
    )?;
    let id_number = IdNumber::parse(req_str(subject, "id_number", "subject.id_number")?)?;
    let nationality = opt_str(subject, "nationality", "subject.nationality")?
        .map(Nationality::parse)
        .transpose()?;
    let id_expiry = opt_str(subject, "id_expiry", "subject.id_expiry")?
        .map(|s| CivilDate::parse(s, "subject.id_expiry"))
        .transpose()?;
    let capture = decode_capture(req_obj(&obj, "capture", "capture")?)?;
    let evidence = opt_obj(&obj, "evidence", "evidence")?
        .map(decode_evidence)
        .transpose()?;
    let channel = opt_obj(&obj, "channel", "channel")?
        .map(decode_channel)
        .transpose()?
        .unwrap_or_default();
    let r = req_obj(&obj, "requirements", "requirements")?;
    let requirements = Requirements {
        evidence_required: req_bool(r, "evidence_required", "requirements.evidence_required")?,
        manual_capture_allowed: req_bool(
            r,
            "manual_capture_allowed",
            "requirements.manual_capture_allowed",
        )?,
    };
    Ok(VerificationRequest {
        request_id,
        name,
        id_type,
        id_number,
        nationality,
        id_expiry,
        capture,
        evidence,
        channel,
        requirements,
    })
}

fn decode_capture(obj: &Object) -> Result<Capture, IdentityCodecError> {
    match req_str(obj, "method", "capture.method")? {
        "card_reader" => Ok(Capture::CardReader {
            reader_serial: Token::parse(
                req_str(obj, "reader_serial", "capture.reader_serial")?,
                "capture.reader_serial",
            )?,
            payload_ref: opt_token(obj, "payload_ref", "capture.payload_ref")?,
        }),
        "manual" => Ok(Capture::Manual),
        _ => Err(IdentityCodecError::InvalidValue {
            field: "capture.method",
        }),
    }
}

/// Exactly one of `face_match` and `video`.
fn decode_evidence(obj: &Object) -> Result<Evidence, IdentityCodecError> {
    let face = opt_obj(obj, "face_match", "evidence.face_match")?;
    let video = opt_obj(obj, "video", "evidence.video")?;
    match (face, video) {
        (Some(f), None) => {
            let score = req_f64(f, "score", "evidence.face_match.score")?;
            Ok(Evidence::FaceMatch(FaceMatch {
                transaction_id: Token::parse(
                    req_str(f, "transaction_id", "evidence.face_match.transaction_id")?,
                    "evidence.face_match.transaction_id",
                )?,
                score: Score::new(score).ok_or(IdentityCodecError::InvalidValue {
                    field: "evidence.face_match.score",
                })?,
                liveness: req_bool(f, "liveness", "evidence.face_match.liveness")?,
            }))
        }
        (None, Some(v)) => Ok(Evidence::Video {
            id: Token::parse(req_str(v, "id", "evidence.video.id")?, "evidence.video.id")?,
        }),
        _ => Err(IdentityCodecError::InvalidValue { field: "evidence" }),
    }
}

fn decode_channel(obj: &Object) -> Result<ChannelContext, IdentityCodecError> {
    Ok(ChannelContext {
        tenant: opt_token(obj, "tenant", "channel.tenant")?,
        store: opt_token(obj, "store", "channel.store")?,
        clerk: opt_token(obj, "clerk", "channel.clerk")?,
        device: opt_token(obj, "device", "channel.device")?,
    })
}

fn opt_token(
    obj: &Object,
    name: &str,
    path: &'static str,
) -> Result<Option<Token>, IdentityCodecError> {
    opt_str(obj, name, path)?
        .map(|s| Token::parse(s, path))
        .transpose()
}

#[derive(Serialize)]
struct WireRequest<'a> {
    request_id: &'a str,
    subject: WireSubject<'a>,
    capture: WireCapture<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    evidence: Option<WireEvidence<'a>>,
    channel: WireChannel<'a>,
    requirements: WireRequirements,
}

#[derive(Serialize)]
struct WireSubject<'a> {
    name: &'a str,
    id_type: &'static str,
    id_number: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    nationality: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    id_expiry: Option<&'a str>,
}

#[derive(Serialize)]
struct WireCapture<'a> {
    method: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    reader_serial: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    payload_ref: Option<&'a str>,
}

#[derive(Serialize)]
struct WireEvidence<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    face_match: Option<WireFace<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    video: Option<WireVideo<'a>>,
}

#[derive(Serialize)]
struct WireFace<'a> {
    transaction_id: &'a str,
    score: f64,
    liveness: bool,
}

#[derive(Serialize)]
struct WireVideo<'a> {
    id: &'a str,
}

#[derive(Serialize)]
struct WireChannel<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    tenant: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    store: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    clerk: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    device: Option<&'a str>,
}

#[derive(Serialize)]
struct WireRequirements {
    evidence_required: bool,
    manual_capture_allowed: bool,
}
