//! Lifecycle orders on lines the soak opened: suspend and resume (reason `non_payment`),
//! terminate, SIM swap (to a physical card or an eSIM profile) and number change (from
//! the pool). Each ends `completed` (the line changed) or `failed` (the line is as it
//! was), which is what the soak's line pool then believes.

use super::{Ctx, Line, Request, Settled, SoakKind, status};
use crate::soak::target::Tenant;
use serde_json::{Value, json};

/// Statuses a lifecycle order ends in.
const ENDS: &[&str] = &["completed", "failed"];

fn on(line: &Line, operation: &str, body: Value) -> Request {
    Request {
        tenant: Tenant::Sandbox,
        path: format!("/v1/subscriptions/{}/{operation}", line.msisdn),
        body,
        setup: Vec::new(),
    }
}

/// The line after `order`: changed by `change` when it completed, as it was otherwise.
fn after(line: Option<Line>, order: &Value, change: impl FnOnce(&mut Line)) -> Settled {
    let line = line.map(|mut l| {
        if status(order) == "completed" {
            change(&mut l);
        }
        l
    });
    Settled {
        line,
        ..Settled::default()
    }
}

/// `suspend` with reason `non_payment`, on a line not suspended.
pub(crate) struct Suspend;

impl SoakKind for Suspend {
    fn name(&self) -> &'static str {
        "suspend"
    }
    fn weight(&self) -> u32 {
        12
    }
    fn takes(&self) -> Option<fn(&Line) -> bool> {
        Some(|l| !l.suspended)
    }
    fn request(&self, _ctx: &Ctx<'_>, line: Option<&Line>) -> Option<Request> {
        Some(on(line?, "suspend", json!({"reason": "non_payment"})))
    }
    fn terminal(&self) -> &'static [&'static str] {
        ENDS
    }
    fn settle(&self, _ctx: &Ctx<'_>, line: Option<Line>, order: &Value) -> Settled {
        after(line, order, |l| l.suspended = true)
    }
}

/// `resume` of `non_payment`, on a line the soak suspended.
pub(crate) struct Resume;

impl SoakKind for Resume {
    fn name(&self) -> &'static str {
        "resume"
    }
    fn weight(&self) -> u32 {
        8
    }
    fn takes(&self) -> Option<fn(&Line) -> bool> {
        Some(|l| l.suspended)
    }
    fn request(&self, _ctx: &Ctx<'_>, line: Option<&Line>) -> Option<Request> {
        Some(on(line?, "resume", json!({"reason": "non_payment"})))
    }
    fn terminal(&self) -> &'static [&'static str] {
        ENDS
    }
    fn settle(&self, _ctx: &Ctx<'_>, line: Option<Line>, order: &Value) -> Settled {
        after(line, order, |l| l.suspended = false)
    }
}

/// `terminate`, on any line: a completed one ends the line.
pub(crate) struct Terminate;

impl SoakKind for Terminate {
    fn name(&self) -> &'static str {
        "terminate"
    }
    fn weight(&self) -> u32 {
        5
    }
    fn takes(&self) -> Option<fn(&Line) -> bool> {
        Some(|_| true)
    }
    fn request(&self, _ctx: &Ctx<'_>, line: Option<&Line>) -> Option<Request> {
        Some(on(line?, "terminate", json!({})))
    }
    fn terminal(&self) -> &'static [&'static str] {
        ENDS
    }
    fn settle(&self, _ctx: &Ctx<'_>, line: Option<Line>, order: &Value) -> Settled {
        let ended = status(order) == "completed";
        Settled {
            line: line.filter(|_| !ended),
            ..Settled::default()
        }
    }
}

/// `sim-swap` to a physical card from the stock or (a third of them, and whenever the
/// stock is used up) to an eSIM profile.
pub(crate) struct SimSwap;

impl SoakKind for SimSwap {
    fn name(&self) -> &'static str {
        "sim_swap"
    }
    fn weight(&self) -> u32 {
        8
    }
    fn takes(&self) -> Option<fn(&Line) -> bool> {
        Some(|_| true)
    }
    fn request(&self, ctx: &Ctx<'_>, line: Option<&Line>) -> Option<Request> {
        let card = match ctx.chance(1.0 / 3.0) {
            true => None,
            false => ctx.stock.physical(),
        };
        let sim = match card {
            Some(iccid) => json!({"type": "physical", "iccid": iccid}),
            None => json!({"type": "esim"}),
        };
        Some(on(line?, "sim-swap", json!({ "sim": sim })))
    }
    fn terminal(&self) -> &'static [&'static str] {
        ENDS
    }
    fn settle(&self, _ctx: &Ctx<'_>, line: Option<Line>, order: &Value) -> Settled {
        let new = &order["new_sim"];
        let (iccid, esim) = (new["iccid"].as_str(), new["type"] == "esim");
        after(line, order, |l| {
            if let Some(i) = iccid {
                l.iccid = i.to_owned();
                l.esim = esim;
            }
        })
    }
}

/// `number-change` to a number the gateway picks from the pool.
pub(crate) struct NumberChange;

impl SoakKind for NumberChange {
    fn name(&self) -> &'static str {
        "number_change"
    }
    fn weight(&self) -> u32 {
        8
    }
    fn takes(&self) -> Option<fn(&Line) -> bool> {
        Some(|_| true)
    }
    fn request(&self, _ctx: &Ctx<'_>, line: Option<&Line>) -> Option<Request> {
        Some(on(
            line?,
            "number-change",
            json!({"msisdn": {"mode": "auto"}}),
        ))
    }
    fn terminal(&self) -> &'static [&'static str] {
        ENDS
    }
    fn settle(&self, _ctx: &Ctx<'_>, line: Option<Line>, order: &Value) -> Settled {
        let new = order["new_msisdn"].as_str().map(str::to_owned);
        after(line, order, |l| {
            if let Some(m) = new {
                l.msisdn = m;
            }
        })
    }
}
