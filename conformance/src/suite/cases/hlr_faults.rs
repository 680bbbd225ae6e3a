//! `resilience.*` and `compensation.*`: southbound faults injected through the HLR
//! simulator's admin API. Each case undoes its injection, even when it fails.

use crate::hlr_sim::admin::{Faults, WireAction, WireFault, WireKind, WireOp, WireRule};
use crate::suite::cases::activation::str_field;
use crate::suite::ctx::Ctx;
use crate::suite::simulator::SimAdmin;

/// The first two AUC creates answer "temporarily overloaded" (so the retry path always
/// runs), and 30% of HLR requests after them too: the gateway retries and the order still
/// reaches `active`.
pub(crate) async fn transient_faults(ctx: &Ctx) -> Result<(), String> {
    let sim = ctx.sim()?;
    sim.push_rule(&WireRule {
        op: Some(WireOp::Create),
        kind: Some(WireKind::GsmAuc),
        action: WireAction::Fault(WireFault::Busy),
        times: 2,
    })
    .await?;
    sim.put_faults(&Faults {
        busy: 0.3,
        ..Faults::default()
    })
    .await?;
    let result = async {
        let c = ctx.activate_next().await?;
        ctx.wait_active(&c.id).await.map(|_| ())
    }
    .await;
    // Always reset: later cases and later runs expect a healthy HLR.
    let reset = sim
        .put_faults(&Faults::default())
        .await
        .map_err(|e| format!("resetting the simulator's faults: {e}"));
    let cleared = sim
        .clear_rules()
        .await
        .map_err(|e| format!("clearing the simulator's rules: {e}"));
    result.and(reset).and(cleared)
}

/// The HLR create is refused permanently: the order ends `failed` with `hlr_rejected`,
/// no subscriber remains on the HLR, and the SIM can be activated again.
pub(crate) async fn permanent_fault(ctx: &Ctx) -> Result<(), String> {
    let sim = ctx.sim()?;
    sim.push_rule(&WireRule {
        op: Some(WireOp::Create),
        kind: Some(WireKind::GsmHlr),
        action: WireAction::Fault(WireFault::External),
        times: 1,
    })
    .await?;
    let result = compensated(ctx, sim).await;
    if result.is_err() {
        // The rule may not have fired; left pending it would refuse a later create.
        if let Err(e) = sim.clear_rules().await {
            return result.map_err(|r| format!("{r}; clearing the simulator's rules: {e}"));
        }
    }
    result
}

async fn compensated(ctx: &Ctx, sim: &SimAdmin) -> Result<(), String> {
    let c = ctx.activate_next().await?;
    let imsi = str_field(&c.order, "imsi")?.to_owned();
    let done = ctx.wait_terminal(&c.id).await?;
    let code = done["error"]["code"].as_str().unwrap_or_default();
    if done["status"] != "failed" || code != "hlr_rejected" {
        return Err(format!(
            "order {} should end `failed` with error.code `hlr_rejected`, got `{}` with {}",
            c.id,
            done["status"].as_str().unwrap_or("?"),
            done["error"]
        ));
    }
    if done["error"]["detail"]
        .as_str()
        .is_none_or(|d| d.trim().is_empty())
    {
        return Err(format!("failed order {} has no error.detail", c.id));
    }
    if let Some(orphan) = sim.subscriber(&imsi).await? {
        return Err(format!(
            "compensation left subscriber {imsi} on the HLR: {orphan:?}"
        ));
    }
    let again = ctx
        .activate_iccid(&c.iccid)
        .await
        .map_err(|e| format!("the SIM was not returned to the pool: {e}"))?;
    ctx.wait_active(&again.id)
        .await
        .map(|_| ())
        .map_err(|e| format!("re-activating the returned SIM: {e}"))
}
