//! `inventory.*`: a SIM belongs to at most one live order.

use super::{CREATED, no_order_created};
use crate::suite::ctx::{Auth, Ctx};

/// A SIM already in an order (reserved, then active): 409 `sim_not_available`.
pub(crate) async fn sim_not_available(ctx: &Ctx) -> Result<(), String> {
    let c = ctx.activate_next().await?;
    let again = || async {
        let before = ctx.metric(CREATED).await?;
        ctx.post_activation(
            Auth::Tenant,
            Some(&ctx.idempotency_key()),
            ctx.body(&c.iccid).to_string(),
        )
        .await?
        .expect_problem(409, "sim_not_available")?;
        no_order_created(ctx, before).await
    };
    let while_in_flight = again().await;
    let settled = ctx.settle(&c.id).await;
    while_in_flight.map_err(|e| format!("while the first order is in flight: {e}"))?;
    // Only an active SIM must stay unavailable; a failed order returns its SIM.
    if settled.as_deref() == Some("active") {
        again()
            .await
            .map_err(|e| format!("once the first order is active: {e}"))?;
    }
    Ok(())
}
