//! `POST /v1/subscriptions/{msisdn}/handset`: the host operator's network reports the
//! handset a line is used in (an EIR check, or the IMEI on its usage records). The
//! gateway keeps a keyed MAC of the IMEI's 14 digits and its model's TAC, never the IMEI;
//! another handset than the last reported, or an IMEI on the enterprise's blocklist,
//! hits the tenant's `imei_change` or `blocked_imei` rule, which flags the line for its
//! second real-person verification like a risk hit at activation. A report of the same
//! handset again writes nothing, so the feed may repeat itself.

use super::AppState;
use super::auth::Permission;
use super::dto::{no_unknown, object, required};
use super::lifecycle_dto::render_subscription;
use super::problem::ApiError;
use super::request::{PathParam, json_response};
use crate::compliance::audit::Actor as AuditActor;
use crate::compliance::handset::Imei;
use crate::store::{Handset, HandsetOutcome, NewHandset};
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde_json::{Value, json};
use std::sync::Arc;

/// `POST /v1/subscriptions/{msisdn}/handset` `{"imei": "…"}`: `200` with the line after
/// the report and `report` (`recorded`: whether it changed the line; `changed`: another
/// handset than the last reported; `rules`: the risk rules it hit).
pub async fn report(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    msisdn: PathParam,
    body: Body,
) -> Result<Response, ApiError> {
    let (caller, msisdn, value) = super::verification::line_request(
        &state,
        &headers,
        msisdn,
        body,
        Permission::ReportHandset,
    )
    .await?;
    let imei = parse_handset(&value)?;
    let h = NewHandset {
        tenant: caller.tenant,
        msisdn,
        mac: mac(&state.keys, &imei),
        tac: imei.tac().to_owned(),
        blocklist: imei.blocklist_forms(),
        audit_actor: AuditActor {
            key_id: caller.key_prefix,
            channel: "network".to_owned(),
            ..AuditActor::default()
        },
        now_ms: state.clock.now_ms(),
    };
    match state.store.record_handset(h).await? {
        HandsetOutcome::Recorded {
            subscription,
            written,
            changed,
            rules,
        } => {
            let mut body = render_subscription(&subscription);
            let rules: Vec<&str> = rules.iter().map(|r| r.as_str()).collect();
            body["report"] = json!({"recorded": written, "changed": changed, "rules": rules});
            Ok(json_response(StatusCode::OK, &body))
        }
        HandsetOutcome::Rejected(r) => Err(ApiError::lifecycle_rejection(r)),
    }
}

/// The keyed MAC a line keeps of a handset: of the IMEI's 14 digits, so every form of
/// one handset's IMEI gives the same.
pub(super) fn mac(keys: &crate::crypto::Keyring, imei: &Imei) -> String {
    keys.fingerprint(format!("imei:{}", imei.body()).as_bytes())
}

/// The handset of a sale's `channel.imei`, as the line it opens keeps it.
pub(super) fn of_sale(keys: &crate::crypto::Keyring, imei: &str, now_ms: u64) -> Option<Handset> {
    let imei = Imei::parse(imei)?;
    Some(Handset {
        mac: mac(keys, &imei),
        tac: imei.tac().to_owned(),
        blocked: false,
        seen_at_ms: now_ms,
    })
}

/// Validates the body: `imei`, 14 to 16 digits (the network's 15 with a check digit of
/// 0 included).
fn parse_handset(body: &Value) -> Result<Imei, ApiError> {
    let root = object(body, "")
        .map_err(|_| ApiError::invalid("invalid_type", "", "the body must be a JSON object"))?;
    no_unknown(root, "", &["imei"])?;
    Imei::parse(required(root, "imei", "")?).ok_or_else(|| {
        ApiError::invalid(
            "invalid_value",
            "imei",
            "`imei` must be the handset's IMEI: 14 to 16 digits (IMEI, IMEI with check digit, or IMEISV)",
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies() {
        let ok = parse_handset(&json!({"imei": "490154203237518"})).expect("imei");
        assert_eq!(ok.tac(), "49015420");
        for (bad, code) in [
            (json!([]), "invalid_type"),
            (json!({}), "missing_field"),
            (json!({"imei": 490154203237518_u64}), "invalid_type"),
            (json!({"imei": "49015420323"}), "invalid_value"),
            (
                json!({"imei": "490154203237518", "imsi": "1"}),
                "unknown_field",
            ),
        ] {
            let e = parse_handset(&bad).expect_err("refused");
            assert_eq!(e.code(), code, "{bad}");
        }
    }
}
