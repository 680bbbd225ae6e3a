//! The `200` answer of `POST /v1/verifications`: encoded by the simulator (or a
//! reseller's shim), decoded by the client with strict checks. Decoding is total.

use super::error::IdentityCodecError;
use super::json::{self, opt_str, req_str};
use super::values::{Code, Token};
use super::verdict::{RejectCode, Verdict, VerificationResponse};
use serde::Serialize;

/// Encodes an answer.
pub fn encode_response(resp: &VerificationResponse) -> Vec<u8> {
    let code = match &resp.verdict {
        Verdict::Pass => None,
        Verdict::Reject(c) => Some(c.as_str()),
        Verdict::Flag(c) => Some(c.as_str()),
    };
    json::to_bytes(&WireResponse {
        request_id: resp.request_id.as_str(),
        outcome: resp.verdict.outcome(),
        code,
        verification_id: resp.verification_id.as_ref().map(Token::as_str),
    })
}

/// Decodes an answer: `outcome` is `pass` (no `code`), `reject` (`code` one of the five
/// [`RejectCode`]s) or `flag` (`code` a snake_case reason). Unknown members are ignored;
/// an unknown outcome or reject code is an error, never guessed at.
pub fn decode_response(body: &[u8]) -> Result<VerificationResponse, IdentityCodecError> {
    let obj = json::parse_object(body)?;
    let request_id = Token::parse(req_str(&obj, "request_id", "request_id")?, "request_id")?;
    let code = opt_str(&obj, "code", "code")?;
    let invalid_code = IdentityCodecError::InvalidValue { field: "code" };
    let verdict = match req_str(&obj, "outcome", "outcome")? {
        "pass" if code.is_none() => Verdict::Pass,
        "pass" => return Err(invalid_code),
        "reject" => Verdict::Reject(
            RejectCode::from_wire(code.ok_or(IdentityCodecError::Missing { field: "code" })?)
                .ok_or(invalid_code)?,
        ),
        "flag" => Verdict::Flag(Code::parse(
            code.ok_or(IdentityCodecError::Missing { field: "code" })?,
            "code",
        )?),
        _ => {
            return Err(IdentityCodecError::InvalidValue { field: "outcome" });
        }
    };
    let verification_id = opt_str(&obj, "verification_id", "verification_id")?
        .map(|s| Token::parse(s, "verification_id"))
        .transpose()?;
    Ok(VerificationResponse {
        request_id,
        verdict,
        verification_id,
    })
}

#[derive(Serialize)]
struct WireResponse<'a> {
    request_id: &'a str,
    outcome: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    code: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    verification_id: Option<&'a str>,
}
