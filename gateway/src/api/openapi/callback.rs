//! The OpenAPI document of the ES2+ callback listener (`[esim] callback_listen`): what the
//! SM-DP+ calls, HandleDownloadProgressInfo. It is its own document because it is served
//! on its own listener, behind mutual TLS; the API port answers these paths 404.

use super::ids::{EID, ES2_DATETIME, ICCID_IN, POINT_ID_STRING};
use adapters::es2plus::path::HANDLE_DOWNLOAD_PROGRESS_INFO;
use serde_json::{Value, json};

/// The callback listener's OpenAPI document, served there at `GET /openapi.json`.
pub fn spec() -> Value {
    let problem = json!({"$ref": "#/components/schemas/Problem"});
    let admin_protocol = json!({"X-Admin-Protocol": {"description": "Every answer carries it (SGP.22 §6.5.1): `gsma/rsp/v<version>`.",
        "schema": {"type": "string", "pattern": "^gsma/rsp/v[0-9]+\\.[0-9]+\\.[0-9]+$"}}});
    let status = json!({"type": "object", "required": ["status"], "properties": {
        "status": {"type": "string", "description": "`Executed-Success`, `Executed-WithWarning`, `Failed` or `Expired`; another string is recorded as an unknown status."},
        "statusCodeData": {"type": ["object", "null"], "required": ["subjectCode", "reasonCode"], "properties": {
            "subjectCode": {"type": "string"}, "reasonCode": {"type": "string"},
            "subjectIdentifier": {"type": ["string", "null"]}, "message": {"type": ["string", "null"]}}}}});
    let datetime = "An ES2+ DATETIME: RFC 3339, with a fraction of a second or not, in `Z` or a `±hh:mm` offset (the day is not checked against its month).";
    let mut doc = json!({
        "openapi": "3.1.0",
        "info": {
            "title": "simgw ES2+ callback listener",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "The listener the SM-DP+ notifies the gateway on (SGP.22 v2.2 ES2+), at `[esim] callback_listen`, with mutual TLS: only a client certificate of `[esim] callback_client_ca_file` (pinned by `callback_client_sha256` when given) is admitted. This document is served on that listener at `/openapi.json`; the northbound API port does not serve these paths (404 there), and its own `/openapi.json` describes the API."
        },
        "security": [{"smdp": []}],
        "paths": {
            HANDLE_DOWNLOAD_PROGRESS_INFO: {"post": {
                "operationId": "handleDownloadProgressInfo",
                "summary": "ES2+ HandleDownloadProgressInfo (SGP.22 §5.3.5): a download or install progress point of a profile the gateway ordered. Lenient in form (`timeStamp` for `timestamp`, a string `notificationPointId`, an `F`-padded ICCID, unknown members, vendor points); the raw body is recorded durably before the 204. A profile that is not an order of a tenant this SM-DP+ serves changes nothing, and still gets 204. An optional member that is `null` is taken as absent.",
                "requestBody": {"required": true, "content": {"application/json": {"schema": {
                    "type": "object",
                    "required": ["header", "iccid", "notificationPointId", "notificationPointStatus"],
                    "anyOf": [{"required": ["timestamp"], "properties": {"timestamp": {"type": "string"}}},
                              {"required": ["timeStamp"], "properties": {"timestamp": {"type": "null"}, "timeStamp": {"type": "string", "pattern": ES2_DATETIME}}}],
                    "properties": {
                        "header": {"type": "object", "required": ["functionRequesterIdentifier", "functionCallIdentifier"], "properties": {
                            "functionRequesterIdentifier": {"type": "string"}, "functionCallIdentifier": {"type": "string"}}},
                        "eid": {"description": "The EID, when the SM-DP+ knows it. Never refused: a value that is not an EID is recorded as a malformed EID (SGP.22's own example EID is one).",
                                "anyOf": [{"type": "string", "pattern": EID, "description": "The form of an EID: 32 digits, whose value mod 97 is 1 (with a wrong check, recorded as malformed too)."},
                                          {"description": "Anything else (another string, a number, an object): recorded as a malformed EID."}]},
                        "iccid": {"type": "string", "pattern": ICCID_IN, "description": "The profile: 19 digits, `F`-padded to 20 or not, or 20 digits; the last digit is the Luhn check digit of the others (a wrong one is refused)."},
                        "profileType": {"description": "A string; any other value is ignored."},
                        "timestamp": {"type": ["string", "null"], "pattern": ES2_DATETIME, "description": format!("When the point was reached. {datetime} `timeStamp` is read instead when this is absent or null (one of them is required).")},
                        "timeStamp": {"description": format!("The spelling some SM-DP+s send for `timestamp`: read (a string, as `timestamp`: {datetime}) only when `timestamp` is absent or null, ignored otherwise.")},
                        "notificationPointId": {"description": "The point (SGP.22 §3.1.3): 1 to 4, or a reserved (0, 5–99) or vendor (≥ 100) one; an integer or its decimal string, at most 4294967295.",
                                                "oneOf": [{"type": "integer", "minimum": 0, "maximum": 4294967295_u64}, {"type": "string", "pattern": POINT_ID_STRING}]},
                        "notificationPointStatus": status,
                        "resultData": {"type": ["string", "null"], "description": "Base64 of the installation result (DER); a value that is not base64 is kept as received."}}}}}},
                "responses": {
                    "204": {"description": "Recorded durably.", "headers": admin_protocol},
                    "400": {"description": "`invalid_notification`: not a HandleDownloadProgressInfo, or larger than 64 KiB; nothing was recorded.",
                            "headers": admin_protocol, "content": {"application/problem+json": {"schema": problem}}},
                    "503": {"description": "Not recorded (the store failed); the SM-DP+ sends it again after `Retry-After` seconds.",
                            "headers": {"Retry-After": {"schema": {"type": "integer", "minimum": 1}},
                                        "X-Admin-Protocol": admin_protocol["X-Admin-Protocol"]}}}
            }},
            "/openapi.json": {"get": {
                "operationId": "callbackOpenapi",
                "summary": "This document.",
                "responses": {"200": {"description": "This document.", "content": {"application/json": {"schema": {"type": "object", "required": ["openapi", "paths"]}}}}}
            }}
        },
        "components": {
            "securitySchemes": {"smdp": {"type": "mutualTLS", "description": "The SM-DP+'s client certificate."}},
            "schemas": {"Problem": super::problem_schema()}
        }
    });
    super::examples::add_callback(&mut doc, HANDLE_DOWNLOAD_PROGRESS_INFO);
    doc
}
