//! Reconciliation in the OpenAPI document: `POST /v1/reconciliations` and its `Reconciliation`
//! report (the shape `simgw reconcile --json` writes).

use crate::reconcile::DifferenceKind;
use serde_json::{Value, json};

fn schema(name: &str) -> Value {
    json!({"$ref": format!("#/components/schemas/{name}")})
}

fn problem(description: &str) -> Value {
    json!({"description": description,
           "content": {"application/problem+json": {"schema": schema("Problem")}}})
}

/// Adds the reconciliation path and schemas to `doc`.
pub(super) fn add(doc: &mut Value) {
    let kinds: Vec<&str> = DifferenceKind::ALL.iter().map(|k| k.as_str()).collect();
    let count = json!({"type": "integer", "minimum": 0});
    doc["paths"]["/v1/reconciliations"] = json!({"post": {
        "operationId": "createReconciliation",
        "summary": "Compares your tenant's lines, SIMs and numbers with the HLR (and, where the SM-DP+ offers a status query, its eSIM profile states) now, and answers every difference. Reads only: repairs are made offline (`simgw reconcile --repair --apply`). Operator keys only; one reconciliation at a time per gateway. No request body.",
        "responses": {
            "201": {"description": "The report. `clean` is true only with no difference and nothing unchecked.",
                    "content": {"application/json": {"schema": schema("Reconciliation")}}},
            "401": problem("`unauthorized`."),
            "403": {"$ref": "#/components/responses/ForbiddenForRole"},
            "409": problem("`reconciliation_running`: another reconciliation is running on this gateway; retry when it has answered."),
            "503": problem("`store_unavailable`.")}}});
    let s = &mut doc["components"]["schemas"];
    s["Reconciliation"] = json!({
        "type": "object",
        "required": ["id", "created_at", "tenant", "hlr", "profile_status", "clean", "differences", "by_kind", "checked", "unchecked", "details"],
        "properties": {
            "id": {"type": "string", "pattern": "^rec_[a-z2-7]{26}$"},
            "created_at": {"type": "string", "format": "date-time"},
            "tenant": {"type": ["string", "null"], "description": "The tenant compared (null: every tenant, the command line)."},
            "hlr": {"type": "string", "description": "The HLR dialect read, e.g. `cai3g`, `osmo-ctrl`."},
            "profile_status": {"type": ["string", "null"], "description": "Where eSIM profile states came from; null when the SM-DP+ offers no status query (SGP.22 v2 ES2+ has none): eSIM profiles are then not compared."},
            "clean": {"type": "boolean"},
            "differences": count,
            "by_kind": {"type": "object", "description": "Differences per kind, every kind present.",
                        "properties": kinds.iter().map(|k| (k.to_string(), count.clone())).collect::<serde_json::Map<_, _>>()},
            "checked": {"type": "object", "required": ["lines", "esim_profiles", "imsis_probed"], "properties": {
                "lines": count, "esim_profiles": count,
                "imsis_probed": {"type": "integer", "minimum": 0, "description": "Unassigned IMSIs of the inventory queried on the HLR (orphan search)."}}},
            "unchecked": {"type": "array", "items": {"type": "object", "required": ["tenant", "reason"], "properties": {
                "tenant": {"type": "string"}, "subscription": {"type": "string"}, "imsi": {"type": "string"},
                "reason": {"type": "string", "description": "An order in flight on the line, or the peer's failure."}}}},
            "details": {"type": "array", "items": schema("Difference")}}});
    s["Difference"] = json!({
        "type": "object", "required": ["kind", "tenant"],
        "properties": {
            "kind": {"type": "string", "enum": kinds},
            "tenant": {"type": "string"},
            "subscription": {"type": "string"},
            "imsi": {"type": "string", "pattern": "^[0-9]{6,15}$"},
            "iccid": {"type": "string", "pattern": "^[0-9]{18,20}$"},
            "msisdn": {"type": "string", "pattern": "^[0-9]{6,15}$"},
            "expected": {"type": "string"},
            "found": {"type": "string"},
            "holders": {"type": "array", "items": {"type": "string"}, "description": "`double_assignment`: the lines (`sub_…`) and orders (`act_…`) holding the card or number."},
            "repair": {"type": "string", "enum": ["reprovision", "remove_orphan"], "description": "The safe fix `simgw reconcile --repair` proposes, if any."}}});
}
