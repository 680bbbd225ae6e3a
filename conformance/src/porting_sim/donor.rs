//! How the simulated donor answers a port-in, per number (set through the admin API):
//! accept (the default), reject with a catalogue reason, or dispute it (a US conflict,
//! resolved or cancelled by the hub when the conflict window ends); each after an
//! optional delay on the simulator's clock.

use adapters::porting::{Code, Ref, RejectReason};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// What the hub does when a conflict's window ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Resolution {
    /// The dispute is settled: a new `scheduled` (from the resolution time).
    #[default]
    Resolve,
    /// The port is `cancelled` by the hub.
    Cancel,
}

/// The donor's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// `accepted`, then `scheduled`.
    Accept,
    /// `rejected` with this reason.
    Reject(RejectReason),
    /// `accepted`, `scheduled`, then `conflict` with this cause; settled after the
    /// conflict window as `resolution` says.
    Conflict {
        /// The clearinghouse's cause code (NPAC `50`: LSR not received).
        cause: Code,
        /// What happens when the window ends.
        resolution: Resolution,
    },
}

/// How the donor treats one number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Behaviour {
    /// The answer.
    pub outcome: Outcome,
    /// How long (simulator time, ms) the donor takes to answer.
    pub delay_ms: u64,
    /// Who holds the number's range, when it is not the donor (a number ported before):
    /// the hub's `range_holder` on `accepted`.
    pub range_holder: Option<Ref>,
}

impl Default for Behaviour {
    fn default() -> Self {
        Self {
            outcome: Outcome::Accept,
            delay_ms: 0,
            range_holder: None,
        }
    }
}

/// The admin API's form of a [`Behaviour`]: `{"outcome": "accept" | "reject" |
/// "conflict", "reason": …, "cause": …, "resolution": "resolve" | "cancel",
/// "delay_ms": …, "range_holder": …}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WireBehaviour {
    /// `accept`, `reject` or `conflict`.
    pub outcome: String,
    /// With `reject`: a reason code (the catalogue's or another well-formed code).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// With `conflict`: the cause code (default `50`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cause: Option<String>,
    /// With `conflict`: what the hub does when the window ends (default `resolve`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolution: Option<Resolution>,
    /// The donor's delay, in simulator milliseconds (default 0).
    #[serde(default)]
    pub delay_ms: u64,
    /// The number's range holder, when not the donor (an operator id).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub range_holder: Option<String>,
}

impl TryFrom<WireBehaviour> for Behaviour {
    type Error = String;

    fn try_from(w: WireBehaviour) -> Result<Self, String> {
        let outcome = match (w.outcome.as_str(), w.reason, w.cause, w.resolution) {
            ("accept", None, None, None) => Outcome::Accept,
            ("reject", Some(r), None, None) => {
                Outcome::Reject(RejectReason::parse(&r, "reason").map_err(|e| e.to_string())?)
            }
            ("reject", None, _, _) => return Err("reason: missing".into()),
            ("conflict", None, cause, resolution) => Outcome::Conflict {
                cause: Code::parse(cause.as_deref().unwrap_or("50"), "cause")
                    .map_err(|e| e.to_string())?,
                resolution: resolution.unwrap_or_default(),
            },
            ("accept" | "reject" | "conflict", ..) => {
                return Err("outcome: member not allowed with this outcome".into());
            }
            _ => return Err("outcome: not accept, reject or conflict".into()),
        };
        let range_holder = w
            .range_holder
            .map(|r| Ref::parse(&r, "range_holder").map_err(|e| e.to_string()))
            .transpose()?;
        Ok(Self {
            outcome,
            delay_ms: w.delay_ms,
            range_holder,
        })
    }
}

impl From<&Behaviour> for WireBehaviour {
    fn from(b: &Behaviour) -> Self {
        let mut w = Self {
            outcome: "accept".into(),
            reason: None,
            cause: None,
            resolution: None,
            delay_ms: b.delay_ms,
            range_holder: b.range_holder.as_ref().map(Ref::to_string),
        };
        match &b.outcome {
            Outcome::Accept => {}
            Outcome::Reject(r) => {
                w.outcome = "reject".into();
                w.reason = Some(r.as_str().to_owned());
            }
            Outcome::Conflict { cause, resolution } => {
                w.outcome = "conflict".into();
                w.cause = Some(cause.as_str().to_owned());
                w.resolution = Some(*resolution);
            }
        }
        w
    }
}

/// The behaviour per number (E.164 digits), and the default for the rest.
#[derive(Debug, Clone, Default)]
pub(crate) struct DonorBook {
    default: Behaviour,
    numbers: BTreeMap<String, Behaviour>,
    /// Set by every change, for the state file.
    changed: bool,
}

impl DonorBook {
    /// A book with `default` and the behaviours of `numbers`.
    pub(crate) fn restore(default: Behaviour, numbers: BTreeMap<String, Behaviour>) -> Self {
        Self {
            default,
            numbers,
            changed: false,
        }
    }

    /// Whether the book changed since the last call.
    pub(crate) fn take_changed(&mut self) -> bool {
        std::mem::take(&mut self.changed)
    }

    /// Back to accepting every number at once.
    pub(crate) fn clear(&mut self) {
        *self = Self {
            changed: true,
            ..Self::default()
        };
    }

    /// The behaviour for `number`.
    pub(crate) fn get(&self, number: &str) -> Behaviour {
        self.numbers.get(number).unwrap_or(&self.default).clone()
    }

    /// Sets the behaviour for `number` (`None`: the default).
    pub(crate) fn set(&mut self, number: Option<&str>, b: Behaviour) {
        self.changed = true;
        match number {
            None => self.default = b,
            Some(n) => {
                self.numbers.insert(n.to_owned(), b);
            }
        }
    }

    /// Forgets `number`'s behaviour (it gets the default again); whether it had one.
    pub(crate) fn remove(&mut self, number: &str) -> bool {
        let had = self.numbers.remove(number).is_some();
        self.changed |= had;
        had
    }

    /// The default and every number's behaviour.
    pub(crate) fn list(&self) -> (Behaviour, Vec<(String, Behaviour)>) {
        let numbers = self
            .numbers
            .iter()
            .map(|(n, b)| (n.clone(), b.clone()))
            .collect();
        (self.default.clone(), numbers)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(json: &str) -> Result<Behaviour, String> {
        let w: WireBehaviour = serde_json::from_str(json).map_err(|e| e.to_string())?;
        Behaviour::try_from(w)
    }

    #[test]
    fn wire_forms_round_trip_and_refuse_mixed_members() {
        for json in [
            r#"{"outcome":"accept","delay_ms":5}"#,
            r#"{"outcome":"reject","reason":"contract_lock"}"#,
            r#"{"outcome":"reject","reason":"donor_busy"}"#,
            r#"{"outcome":"conflict","cause":"51","resolution":"cancel"}"#,
        ] {
            let b = parse(json).expect(json);
            assert_eq!(Behaviour::try_from(WireBehaviour::from(&b)), Ok(b));
        }
        assert_eq!(
            parse(r#"{"outcome":"conflict"}"#).map(|b| b.outcome),
            Ok(Outcome::Conflict {
                cause: Code::parse("50", "c").expect("code"),
                resolution: Resolution::Resolve
            })
        );
        for (json, err) in [
            (r#"{"outcome":"reject"}"#, "reason: missing"),
            (
                r#"{"outcome":"reject","reason":"no way"}"#,
                "reason: invalid value",
            ),
            (
                r#"{"outcome":"accept","reason":"contract_lock"}"#,
                "outcome: member not allowed with this outcome",
            ),
            (
                r#"{"outcome":"maybe"}"#,
                "outcome: not accept, reject or conflict",
            ),
        ] {
            assert_eq!(parse(json).err().as_deref(), Some(err), "{json}");
        }
        let mut book = DonorBook::default();
        let reject = parse(r#"{"outcome":"reject","reason":"line_not_active"}"#).expect("b");
        book.set(Some("447700900123"), reject.clone());
        assert_eq!(book.get("447700900123"), reject);
        assert_eq!(book.get("447700900124"), Behaviour::default());
        assert!(book.remove("447700900123"));
        assert_eq!(book.get("447700900123"), Behaviour::default());
    }
}
