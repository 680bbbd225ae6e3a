//! Activations that open a line of the sandbox tenant: a physical card from the seeded
//! stock, or an eSIM profile the gateway draws from its own; a share of the new eSIM
//! lines is then downloaded and installed by the simulated customer, which makes the
//! SM-DP+ send its notifications (duplicated and reordered under the standard profile).

use super::{AdminCall, Ctx, Effect, Line, Request, Settled, SoakKind, status};
use crate::sandbox::SandboxFile;
use crate::soak::target::{Sim, Tenant};
use http::Method;
use serde_json::{Value, json};

/// Statuses an activation ends in.
const ENDS: &[&str] = &["active", "failed"];

/// The line an active activation opened.
fn opened(order: &Value, esim: bool) -> Option<Line> {
    if status(order) != "active" {
        return None;
    }
    Some(Line {
        msisdn: order["msisdn"].as_str()?.to_owned(),
        iccid: order["iccid"].as_str()?.to_owned(),
        esim,
        suspended: false,
    })
}

/// The customer downloads and installs profile `iccid` (ES9+ through the simulator). A
/// download sent again is answered (the profile stays downloaded); an install sent again
/// is refused once the first took effect, which the profile's state then shows.
pub(super) fn download(iccid: &str) -> Vec<AdminCall> {
    vec![
        AdminCall {
            sim: Sim::Smdp,
            method: Method::POST,
            path: format!("profiles/{iccid}/download"),
            body: None,
            effect: Some(Effect {
                iccid: iccid.to_owned(),
                states: &["Downloaded", "Installed"],
            }),
        },
        AdminCall {
            sim: Sim::Smdp,
            method: Method::POST,
            path: format!("profiles/{iccid}/install"),
            body: Some(json!("success")),
            effect: Some(Effect {
                iccid: iccid.to_owned(),
                states: &["Installed"],
            }),
        },
    ]
}

/// A physical activation (`physical`).
pub(crate) struct Physical;

impl SoakKind for Physical {
    fn name(&self) -> &'static str {
        "physical"
    }

    fn weight(&self) -> u32 {
        30
    }

    fn request(&self, ctx: &Ctx<'_>, _line: Option<&Line>) -> Option<Request> {
        let iccid = ctx.stock.physical()?;
        Some(Request {
            tenant: Tenant::Sandbox,
            path: "/v1/activations".into(),
            body: json!({"sim": {"type": "physical", "iccid": iccid}, "product": ctx.info.product}),
            setup: Vec::new(),
        })
    }

    fn terminal(&self) -> &'static [&'static str] {
        ENDS
    }

    fn settle(&self, _ctx: &Ctx<'_>, _line: Option<Line>, order: &Value) -> Settled {
        Settled {
            line: opened(order, false),
            ..Settled::default()
        }
    }
}

/// An eSIM activation (`esim`).
pub(crate) struct Esim;

impl SoakKind for Esim {
    fn name(&self) -> &'static str {
        "esim"
    }

    fn weight(&self) -> u32 {
        25
    }

    fn request(&self, ctx: &Ctx<'_>, _line: Option<&Line>) -> Option<Request> {
        Some(Request {
            tenant: Tenant::Sandbox,
            path: "/v1/activations".into(),
            body: json!({"sim": {"type": "esim"}, "product": ctx.info.product}),
            setup: Vec::new(),
        })
    }

    fn terminal(&self) -> &'static [&'static str] {
        ENDS
    }

    fn settle(&self, ctx: &Ctx<'_>, _line: Option<Line>, order: &Value) -> Settled {
        let line = opened(order, true);
        let after = match &line {
            Some(l) if ctx.chance(ctx.downloads) => download(&l.iccid),
            _ => Vec::new(),
        };
        Settled {
            installs: !after.is_empty(),
            line,
            after,
        }
    }

    fn lacks(&self, info: &SandboxFile) -> Vec<&'static str> {
        // The simulated customer downloads through the SM-DP+ simulator's admin API.
        let mut lacks = Vec::new();
        if info.smdp_simulator.is_none() {
            lacks.push("smdp_simulator");
        }
        if info.smdp_client.is_none() {
            lacks.push("smdp_client");
        }
        lacks
    }
}
