//! Port-ins (`port_in`): a UK store sale that brings a number from donor `EE` with a PAC,
//! through the porting hub simulator. The line runs on a temporary number until the
//! cutover, the next working day on the hub's clock, which the driver moves while such
//! orders are open. A share of the numbers is rejected by the donor (the hub's permanent
//! fault). Its lines stay out of the follow-up pool: they belong to another tenant.

use super::{AdminCall, Ctx, Line, Request, Settled, SoakKind};
use crate::sandbox::SandboxFile;
use crate::soak::target::{Sim, Tenant};
use http::Method;
use serde_json::{Value, json};

/// A UK mobile number outside the sandbox tenants' blocks, one per order index (offset
/// by the run's serial).
fn number(index: u64) -> String {
    format!("447911{:06}", index % 1_000_000)
}

/// A port-in of a UK number (`port_in`).
pub(crate) struct PortIn;

impl SoakKind for PortIn {
    fn name(&self) -> &'static str {
        "port_in"
    }

    fn weight(&self) -> u32 {
        4
    }

    fn request(&self, ctx: &Ctx<'_>, _line: Option<&Line>) -> Option<Request> {
        let market = ctx.info.markets.get("uk")?;
        let iccid = ctx.stock.uk()?;
        let number = number(ctx.unique());
        let setup = match ctx.chance(ctx.rejected_ports) {
            true => vec![AdminCall {
                sim: Sim::Hub,
                method: Method::PUT,
                path: format!("donors/{number}"),
                body: Some(json!({"outcome": "reject", "reason": "credential_msisdn_mismatch"})),
                effect: None,
            }],
            false => Vec::new(),
        };
        let s = &market.store;
        Some(Request {
            tenant: Tenant::Uk,
            path: "/v1/activations".into(),
            body: json!({
                "sim": {"type": "physical", "iccid": iccid},
                "product": market.product,
                "channel": {"kind": "store", "store_id": s.store_id, "terminal_id": s.terminal_id, "staff_id": s.staff_id},
                "msisdn": {"mode": "port_in", "number": number, "donor": "EE", "credential": "ABC123456"},
            }),
            setup,
        })
    }

    fn terminal(&self) -> &'static [&'static str] {
        &[
            "active",
            "failed",
            "port_rejected",
            "port_cancelled",
            "port_expired",
        ]
    }

    fn settle(&self, _ctx: &Ctx<'_>, _line: Option<Line>, _order: &Value) -> Settled {
        Settled::default()
    }

    fn waits_for_hub(&self) -> bool {
        true
    }

    fn lacks(&self, info: &SandboxFile) -> Vec<&'static str> {
        let mut lacks = Vec::new();
        if !info.markets.contains_key("uk") {
            lacks.push("markets.uk");
        }
        // The hub's clock must move for a port to reach its cutover.
        if info.porting_simulator.is_none() {
            lacks.push("porting_simulator");
        }
        lacks
    }
}
