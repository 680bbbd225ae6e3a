//! Operations endpoints: liveness and readiness on the API, Prometheus metrics on the
//! metrics listener.

use super::AppState;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;

/// Liveness: the process answers.
pub async fn healthz() -> Response {
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/json")],
        r#"{"status":"ok"}"#,
    )
        .into_response()
}

/// Readiness: start-up (order resumption) finished and the store answers reads. A full
/// backlog keeps `200` (reads and order lookups are still served; only new activations get
/// `503 backlog_full`) and says so in `accepting_orders`. Only totals appear here: this
/// endpoint is open, so nothing names a tenant.
pub async fn readyz(State(state): State<Arc<AppState>>) -> Response {
    let store_ok = state.store.meta("schema_version").await.is_ok();
    let ready = state.ready.load(Relaxed) && store_ok;
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let backlog = state.metrics.backlog.snapshot();
    let limit = state.config.admission.max_backlog;
    let body = serde_json::json!({
        "status": if ready { "ready" } else { "not_ready" },
        "store": if store_ok { "ok" } else { "unavailable" },
        "orders_inflight": state.engine.running(),
        "backlog": backlog.overall,
        "backlog_limit": limit,
        "accepting_orders": ready && backlog.overall < limit,
        "completion_rate_per_s": backlog.completion_rate,
        "projected_wait_seconds": backlog.projected_wait_s(),
    });
    let mut r = (status, body.to_string()).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    r
}

/// Prometheus text format: process metrics, then per-tenant inventory gauges read from the
/// store's counters (point reads, no scans).
pub async fn metrics(State(state): State<Arc<AppState>>) -> Response {
    let mut text = state.metrics.render();
    if let Ok(tenants) = state.store.tenant_ids().await {
        text.push_str(
            "# HELP simgw_inventory Inventory by tenant and kind.\n# TYPE simgw_inventory gauge\n",
        );
        let mut low = String::from(
            "# HELP simgw_inventory_low_stock 1 when a tenant's available SIMs (pool sims) or a number pool's free ordinary numbers are below its threshold.\n# TYPE simgw_inventory_low_stock gauge\n",
        );
        for t in tenants {
            let Ok(c) = state.store.inventory_counts(&t).await else {
                continue;
            };
            for (kind, v) in [
                ("sims_available", c.sims_available),
                ("sims_reserved", c.sims_reserved),
                ("sims_active", c.sims_active),
                ("numbers_available", c.numbers_available),
                ("numbers_golden", c.numbers_golden),
                ("numbers_held", c.numbers_held),
                ("numbers_quarantined", c.numbers_quarantined),
            ] {
                text.push_str(&format!(
                    "simgw_inventory{{tenant=\"{t}\",kind=\"{kind}\"}} {v}\n"
                ));
            }
            // Low stock: SIMs against the tenant threshold (pool `sims`), and each number
            // pool against its own threshold or the tenant's.
            let Ok(Some(tenant)) = state.store.tenant(&t).await else {
                continue;
            };
            let Ok(breakdown) = state.store.inventory_breakdown(&t).await else {
                continue;
            };
            if let Some(threshold) = tenant.low_stock_threshold {
                low.push_str(&format!(
                    "simgw_inventory_low_stock{{tenant=\"{t}\",pool=\"sims\"}} {}\n",
                    u8::from(c.sims_available < threshold)
                ));
            }
            for (pool, counts) in &breakdown.pools {
                let free = counts.get("numbers_available").copied().unwrap_or(0);
                text.push_str(&format!("simgw_inventory_pool{{tenant=\"{t}\",pool=\"{pool}\",kind=\"numbers_available\"}} {free}\n"));
                if let Some(threshold) = tenant
                    .pool_low_stock
                    .get(pool)
                    .copied()
                    .or(tenant.low_stock_threshold)
                {
                    low.push_str(&format!(
                        "simgw_inventory_low_stock{{tenant=\"{t}\",pool=\"{pool}\"}} {}\n",
                        u8::from(free < threshold)
                    ));
                }
            }
        }
        text.push_str(&low);
    }
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        text,
    )
        .into_response()
}
