//! `ops.*`: the unauthenticated operations endpoints.

use super::CREATED;
use crate::suite::ctx::{Auth, Ctx};

/// `GET /healthz` answers 200.
pub(crate) async fn healthz(ctx: &Ctx) -> Result<(), String> {
    ctx.get("/healthz", Auth::Missing).await?.expect_status(200)
}

/// `GET /readyz` answers 200 (a gateway under test has finished starting).
pub(crate) async fn readyz(ctx: &Ctx) -> Result<(), String> {
    ctx.get("/readyz", Auth::Missing).await?.expect_status(200)
}

/// `GET /metrics` (on the metrics listener sandbox.json names) is Prometheus text with
/// the order counters.
pub(crate) async fn metrics(ctx: &Ctx) -> Result<(), String> {
    let r = ctx.get_metrics().await?;
    r.expect_status(200)?;
    let mime = r.mime();
    if mime != "text/plain" {
        return Err(format!(
            "GET /metrics: expected Prometheus text (text/plain), got `{mime}`"
        ));
    }
    if !r.text().contains("simgw_orders_total") {
        return Err("GET /metrics: no simgw_orders_total series".into());
    }
    // The input cases rely on this series to prove refusals change nothing.
    ctx.metric(CREATED).await.map(|_| ())
}

/// `GET /openapi.json` is an OpenAPI 3.1.0 document describing `POST /v1/activations`.
pub(crate) async fn openapi(ctx: &Ctx) -> Result<(), String> {
    let spec = ctx
        .get("/openapi.json", Auth::Missing)
        .await?
        .expect_json(200)?;
    if spec["openapi"] != "3.1.0" {
        return Err(format!(
            "GET /openapi.json: `openapi` should be \"3.1.0\", got {}",
            spec["openapi"]
        ));
    }
    if !spec["paths"]["/v1/activations"]["post"].is_object() {
        return Err("GET /openapi.json: no `paths./v1/activations.post` operation".into());
    }
    Ok(())
}
