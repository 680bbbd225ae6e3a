//! The kinds of order a soak sends, each a [`SoakKind`]: its weight in the default mix,
//! the request it sends (and for which line), the statuses it may end in, and what its
//! outcome does to the line. The driver knows none of them by name: a new kind (a
//! lifecycle operation, porting, compliance) is one file and one line in [`registry`].
//! Kinds are pure: they build requests and read answers; the driver does the IO.

mod activation;
mod cn_sale;
mod lifecycle;
mod port_in;

use super::mix::{fraction, salt};
use super::target::{Sim, Tenant};
use crate::sandbox::SandboxFile;
use http::Method;
use serde_json::Value;
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

/// A line the soak opened and may send follow-up orders for (the sandbox tenant's).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Line {
    /// Its number (the path of every lifecycle operation).
    pub(crate) msisdn: String,
    /// Its card.
    pub(crate) iccid: String,
    /// Whether the card is an eSIM profile.
    pub(crate) esim: bool,
    /// Whether the soak suspended it (reason `non_payment`) and has not resumed it.
    pub(crate) suspended: bool,
}

/// A call to a simulator's admin API that a kind asks for (before its order, or after
/// it ended): the customer's download, a donor's answer.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct AdminCall {
    /// Which simulator.
    pub(crate) sim: Sim,
    /// The method.
    pub(crate) method: Method,
    /// The path under `/sim/`.
    pub(crate) path: String,
    /// The JSON body, if any.
    pub(crate) body: Option<Value>,
    /// How to tell that the call took effect when it was sent again (its first answer lost
    /// to a restart) and the simulator refused the repeat; `None` when a repeat is
    /// harmless.
    pub(crate) effect: Option<Effect>,
}

/// An SM-DP+ profile state that shows a customer action took effect.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Effect {
    /// The profile.
    pub(crate) iccid: String,
    /// The states it is in once the action took effect (as `GET /sim/state` names them).
    pub(crate) states: &'static [&'static str],
}

/// One order to send.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Request {
    /// Whose key sends it.
    pub(crate) tenant: Tenant,
    /// The API path (`/v1/…`).
    pub(crate) path: String,
    /// The JSON body.
    pub(crate) body: Value,
    /// Simulator calls to make before it is sent.
    pub(crate) setup: Vec<AdminCall>,
}

/// What an ended order leaves behind.
#[derive(Debug, Default, PartialEq)]
pub(crate) struct Settled {
    /// The line as it is now (`None`: no line, or it ended).
    pub(crate) line: Option<Line>,
    /// Simulator calls to make now (a customer downloading the new profile).
    pub(crate) after: Vec<AdminCall>,
    /// Whether, once every `after` call is answered, the order should come to show its
    /// eSIM profile installed ([`shows_installed`]): the line goes back to the pool only
    /// then, so no follow-up order races the SM-DP+'s notifications.
    pub(crate) installs: bool,
}

/// Cards the soak may still use, taken once each (a card of a failed order is not reused,
/// so no order depends on how another one ended).
#[derive(Debug, Default)]
pub(crate) struct Stock {
    physical: Mutex<VecDeque<String>>,
    uk: Mutex<VecDeque<String>>,
    cn: Mutex<VecDeque<String>>,
}

impl Stock {
    /// The cards `info` lists as available.
    pub(crate) fn new(info: &SandboxFile) -> Self {
        let market = |m: &str| {
            let cards = info.markets.get(m).map(|m| m.physical_iccids.clone());
            Mutex::new(cards.unwrap_or_default().into())
        };
        Self {
            physical: Mutex::new(info.physical_iccids.iter().cloned().collect()),
            uk: market("uk"),
            cn: market("cn"),
        }
    }

    fn take(queue: &Mutex<VecDeque<String>>) -> Option<String> {
        match queue.lock() {
            Ok(mut q) => q.pop_front(),
            Err(poisoned) => poisoned.into_inner().pop_front(),
        }
    }

    /// A sandbox-tenant physical card.
    pub(crate) fn physical(&self) -> Option<String> {
        Self::take(&self.physical)
    }

    /// A UK-tenant physical card.
    pub(crate) fn uk(&self) -> Option<String> {
        Self::take(&self.uk)
    }

    /// A China-tenant physical card.
    pub(crate) fn cn(&self) -> Option<String> {
        Self::take(&self.cn)
    }
}

/// What a kind may read to build and settle one order.
pub(crate) struct Ctx<'a> {
    /// The run's seed.
    pub(crate) seed: u64,
    /// The order's index in the run.
    pub(crate) index: u64,
    /// The run's serial, added to the index where a value must be new on the deployment
    /// (a port-in's number, a resident ID): 0 in process (a fresh sandbox), drawn at
    /// random against a target, which may have served earlier runs.
    pub(crate) serial: u64,
    /// Cards left.
    pub(crate) stock: &'a Stock,
    /// The sandbox (product, market tenants).
    pub(crate) info: &'a SandboxFile,
    /// Fraction of port-in numbers the donor rejects.
    pub(crate) rejected_ports: f64,
    /// Fraction of new eSIM lines whose customer downloads and installs the profile.
    pub(crate) downloads: f64,
}

impl Ctx<'_> {
    /// A seeded coin for this order: true with probability `p`.
    pub(crate) fn chance(&self, p: f64) -> bool {
        fraction(self.seed, self.index, salt::CHOICE) < p
    }

    /// The order's index offset by the run's serial: a value no earlier run used.
    pub(crate) fn unique(&self) -> u64 {
        self.serial.wrapping_add(self.index)
    }
}

/// One kind of order.
pub(crate) trait SoakKind: Send + Sync {
    /// Its name (`--mix`, the report).
    fn name(&self) -> &'static str;
    /// Its weight in the default mix (0: only when `--mix` names it).
    fn weight(&self) -> u32;
    /// Whether it works on an existing line, and which (`None`: it opens its own).
    fn takes(&self) -> Option<fn(&Line) -> bool> {
        None
    }
    /// The order to send (on `line` when [`SoakKind::takes`] says so); `None` when the
    /// stock it needs is used up.
    fn request(&self, ctx: &Ctx<'_>, line: Option<&Line>) -> Option<Request>;
    /// The public statuses it may end in.
    fn terminal(&self) -> &'static [&'static str];
    /// What the ended `order` (its JSON) leaves of `line`, and what to do next.
    fn settle(&self, ctx: &Ctx<'_>, line: Option<Line>, order: &Value) -> Settled;
    /// Whether it waits on the porting hub's clock (the driver moves it while such
    /// orders are open).
    fn waits_for_hub(&self) -> bool {
        false
    }
    /// What `info` lacks that it needs to run (members of `sandbox.json`); empty when
    /// nothing (a target's file is checked before the run).
    fn lacks(&self, _info: &SandboxFile) -> Vec<&'static str> {
        Vec::new()
    }
}

/// Every kind, in a fixed order (the mix's weights follow it).
pub(crate) fn registry() -> Vec<Arc<dyn SoakKind>> {
    vec![
        Arc::new(activation::Physical),
        Arc::new(activation::Esim),
        Arc::new(lifecycle::Suspend),
        Arc::new(lifecycle::Resume),
        Arc::new(lifecycle::Terminate),
        Arc::new(lifecycle::SimSwap),
        Arc::new(lifecycle::NumberChange),
        Arc::new(port_in::PortIn),
        Arc::new(cn_sale::CnSale),
    ]
}

/// The order's public status.
pub(crate) fn status(order: &Value) -> &str {
    order["status"].as_str().unwrap_or("")
}

/// Whether an activation (its JSON) shows its eSIM profile installed as the SM-DP+'s
/// notifications report it: state `installed`, with a download (point 3) and an install
/// (point 4) that succeeded among the points received.
pub(crate) fn shows_installed(order: &Value) -> bool {
    let esim = &order["esim"];
    let points = esim["progress"].as_array().map(Vec::as_slice);
    let succeeded = |point: u64| {
        points.unwrap_or_default().iter().any(|p| {
            p["point"].as_u64() == Some(point)
                && p["status"]
                    .as_str()
                    .is_some_and(|s| s.starts_with("Executed-"))
        })
    };
    esim["state"] == "installed" && succeeded(3) && succeeded(4)
}

/// An activation's eSIM state and the points received (`point:status`), for a report.
pub(crate) fn esim_progress(order: &Value) -> String {
    let esim = &order["esim"];
    let points: Vec<String> = esim["progress"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .map(|p| format!("{}:{}", p["point"], p["status"].as_str().unwrap_or("?")))
        .collect();
    format!(
        "{} [{}]",
        esim["state"].as_str().unwrap_or("no state"),
        points.join(" ")
    )
}

#[cfg(test)]
mod tests;
