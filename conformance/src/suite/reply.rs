//! One gateway answer and the contract checks applied to it (status, media type, and the
//! RFC 9457 problem shape of the README's API section).

use adapters::http::HttpResponse;
use serde_json::Value;

/// Longest body excerpt quoted in a failure reason: enough to see a problem's `code` and
/// `detail`, short enough to keep one report line readable.
const EXCERPT_CHARS: usize = 300;

/// An HTTP answer, labelled with the request it answers (for failure reasons).
#[derive(Debug, Clone)]
pub(crate) struct Reply {
    /// E.g. `POST /v1/activations`.
    pub what: String,
    /// The response itself.
    pub response: HttpResponse,
}

impl Reply {
    /// The status code.
    pub fn status(&self) -> u16 {
        self.response.status
    }

    /// A header value, if present and visible ASCII.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.response
            .headers
            .get(name)
            .and_then(|v| v.to_str().ok())
    }

    /// The media type without parameters, lower case (`application/json`).
    pub fn mime(&self) -> String {
        self.header("content-type")
            .and_then(|ct| ct.split(';').next())
            .unwrap_or_default()
            .trim()
            .to_ascii_lowercase()
    }

    /// The body as (lossy) text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.response.body).into_owned()
    }

    /// The start of the body, for failure reasons.
    pub fn excerpt(&self) -> String {
        let text = self.text();
        let mut out: String = text.chars().take(EXCERPT_CHARS).collect();
        if text.chars().count() > EXCERPT_CHARS {
            out.push('…');
        }
        out
    }

    /// Fails unless the status is `want`.
    pub fn expect_status(&self, want: u16) -> Result<(), String> {
        if self.status() == want {
            Ok(())
        } else {
            Err(format!(
                "{}: expected HTTP {want}, got {}: {}",
                self.what,
                self.status(),
                self.excerpt()
            ))
        }
    }

    /// The body parsed as JSON.
    pub fn json(&self) -> Result<Value, String> {
        serde_json::from_slice(&self.response.body)
            .map_err(|e| format!("{}: body is not JSON ({e}): {}", self.what, self.excerpt()))
    }

    /// Checks the status and a JSON media type, and returns the parsed body.
    pub fn expect_json(&self, status: u16) -> Result<Value, String> {
        self.expect_status(status)?;
        let mime = self.mime();
        if mime != "application/json" && !mime.ends_with("+json") {
            return Err(format!(
                "{}: expected a JSON content type, got `{mime}`",
                self.what
            ));
        }
        self.json()
    }

    /// Checks an RFC 9457 problem: the status, `application/problem+json`, and the fields
    /// `type`, `title`, `detail` (non-empty strings), `status` (equal to the HTTP status)
    /// and `code` (equal to `code`); `field`, when present, must be a string.
    pub fn expect_problem(&self, status: u16, code: &str) -> Result<Value, String> {
        let what = &self.what;
        if self.status() != status {
            return Err(format!(
                "{what}: expected HTTP {status} `{code}`, got {}: {}",
                self.status(),
                self.excerpt()
            ));
        }
        let mime = self.mime();
        if mime != "application/problem+json" {
            return Err(format!(
                "{what}: expected content type application/problem+json, got `{mime}`"
            ));
        }
        let p = self.json()?;
        if p["code"] != code {
            return Err(format!(
                "{what}: expected problem code `{code}`, got {}: {}",
                p["code"],
                self.excerpt()
            ));
        }
        for key in ["type", "title", "detail"] {
            if p[key].as_str().is_none_or(|s| s.trim().is_empty()) {
                return Err(format!(
                    "{what}: problem `{key}` must be a non-empty string, got {}",
                    p[key]
                ));
            }
        }
        if p["status"].as_u64() != Some(u64::from(status)) {
            return Err(format!(
                "{what}: problem `status` must be {status}, got {}",
                p["status"]
            ));
        }
        if !(p["field"].is_null() || p["field"].is_string()) {
            return Err(format!(
                "{what}: problem `field` must be a string, got {}",
                p["field"]
            ));
        }
        Ok(p)
    }
}

/// Fails unless the problem names `field` as the field at fault.
pub(crate) fn expect_field(problem: &Value, field: &str) -> Result<(), String> {
    if problem["field"] == field {
        Ok(())
    } else {
        Err(format!(
            "problem `{}` should name field `{field}`, got {}",
            problem["code"].as_str().unwrap_or("?"),
            problem["field"]
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;
    use http::header::{CONTENT_TYPE, HeaderMap, HeaderValue};

    fn reply(status: u16, ct: &'static str, body: &str) -> Reply {
        let mut headers = HeaderMap::new();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static(ct));
        Reply {
            what: "POST /v1/activations".into(),
            response: HttpResponse {
                status,
                headers,
                body: Bytes::from(body.to_owned()),
            },
        }
    }

    const PROBLEM: &str = r#"{"type":"urn:simgw:problem:invalid_iccid","title":"Invalid request field","status":400,"detail":"fix it","code":"invalid_iccid","field":"sim.iccid"}"#;

    #[test]
    fn accepts_a_complete_problem() {
        let r = reply(400, "application/problem+json", PROBLEM);
        let p = r.expect_problem(400, "invalid_iccid").expect("conforming");
        assert!(expect_field(&p, "sim.iccid").is_ok());
        assert!(expect_field(&p, "product").is_err());
    }

    #[test]
    fn names_what_is_wrong_with_a_problem() {
        let cases = [
            (
                reply(422, "application/problem+json", PROBLEM),
                "expected HTTP 400",
            ),
            (
                reply(400, "application/json", PROBLEM),
                "application/problem+json",
            ),
            (
                reply(
                    400,
                    "application/problem+json",
                    &PROBLEM.replace("\"fix it\"", "\"\""),
                ),
                "`detail`",
            ),
            (
                reply(
                    400,
                    "application/problem+json",
                    &PROBLEM.replace(":400", ":\"400\""),
                ),
                "`status`",
            ),
            (reply(400, "application/problem+json", "{"), "not JSON"),
        ];
        for (r, want) in cases {
            let err = r
                .expect_problem(400, "invalid_iccid")
                .expect_err("must fail");
            assert!(err.contains(want), "{err} should mention {want}");
        }
        let err = reply(400, "application/problem+json", PROBLEM)
            .expect_problem(400, "unknown_field")
            .expect_err("other code");
        assert!(err.contains("unknown_field"), "{err}");
    }

    #[test]
    fn json_media_types_and_excerpts() {
        let r = reply(200, "application/json; charset=utf-8", "{}");
        assert!(r.expect_json(200).is_ok());
        assert!(reply(200, "text/plain", "{}").expect_json(200).is_err());
        let long = reply(500, "text/plain", &"x".repeat(1000));
        assert_eq!(long.excerpt().chars().count(), EXCERPT_CHARS + 1);
    }
}
