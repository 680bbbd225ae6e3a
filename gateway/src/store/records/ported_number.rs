//! What the inventory keeps of a number that came to us by a port-in (issue 12, §1.6
//! `Completed`: `PortedIn{range_holder}`): it is on one of our lines but held in another
//! operator's range, so it never enters our pools; when its line lets it go (terminate,
//! number change) a `number_return` step gives it back to the range holder and it is
//! recorded `returned`. A number we ported out, or returned, may be ported in again.
//! Pure rules, shared by both store backends.

use super::{NumberClass, NumberRecord, NumberState};
use crate::order::{OrderKind, PortIn, SagaOp};
use sim_profiles::Msisdn;

/// The pool label of ported-in numbers: they belong to no block of ours (and count in no
/// pool counter: their states are never counted).
pub const PORTED_IN_BLOCK: &str = "ported-in";

/// Whether a port-in of the number this record holds would bring in a number that is
/// already ours. A number we ported out, or gave back to its range holder, is not: the
/// customer may bring it back.
pub fn number_already_ours(rec: &NumberRecord) -> bool {
    !matches!(
        rec.state,
        NumberState::PortedOut { .. } | NumberState::Returned { .. }
    )
}

/// What a completed port-in writes for its number.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PortedNumber {
    /// The number is one of the tenant's own pool numbers coming home (a port-back of a
    /// number we ported out): it is assigned in its block, as any pool number.
    Assign,
    /// The number is recorded as this record, replacing any record of it (one ported out
    /// of another tenant's pool, or returned earlier: neither is counted anywhere).
    Record(NumberRecord),
}

/// The number write of port-in `order` (of `tenant`) completing, given the number's
/// record as it stands.
pub fn on_port_in_completed(
    existing: Option<&NumberRecord>,
    tenant: &str,
    order: &str,
    port: &PortIn,
) -> PortedNumber {
    let home = existing.is_some_and(|r| {
        r.tenant == tenant
            && r.block != PORTED_IN_BLOCK
            && !matches!(r.state, NumberState::Returned { .. })
    });
    if home {
        return PortedNumber::Assign;
    }
    PortedNumber::Record(NumberRecord {
        tenant: tenant.to_owned(),
        block: PORTED_IN_BLOCK.to_owned(),
        state: NumberState::PortedIn {
            order: order.to_owned(),
            port_ref: port.port_ref.clone().unwrap_or_default(),
            range_holder: port.range_holder().to_owned(),
        },
        class: NumberClass::Normal,
    })
}

/// The step that gives a line's number back to its range holder, for an order of `kind`
/// that takes the number off the line (terminate, number change), when the number came
/// by a port-in (`rec` is its record, of the line's tenant).
pub fn number_return(
    kind: OrderKind,
    msisdn: &Msisdn,
    tenant: &str,
    rec: Option<&NumberRecord>,
) -> Option<SagaOp> {
    if !matches!(kind, OrderKind::Terminate | OrderKind::NumberChange) {
        return None;
    }
    match rec {
        Some(NumberRecord {
            tenant: t,
            state:
                NumberState::PortedIn {
                    port_ref,
                    range_holder,
                    ..
                },
            ..
        }) if t == tenant => Some(SagaOp::ReturnNumber {
            msisdn: msisdn.clone(),
            port_ref: port_ref.clone(),
            range_holder: range_holder.clone(),
        }),
        _ => None,
    }
}

/// The state of a ported-in number once `order` has taken it off its line and returned
/// it; `None` for any other number (a pool number goes to quarantine instead).
pub fn returned_state(rec: &NumberRecord, order: &str) -> Option<NumberState> {
    match &rec.state {
        NumberState::PortedIn { range_holder, .. } => Some(NumberState::Returned {
            order: order.to_owned(),
            range_holder: range_holder.clone(),
        }),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compliance::Market;
    use crate::crypto::Sealed;

    fn rec(tenant: &str, block: &str, state: NumberState) -> NumberRecord {
        NumberRecord {
            tenant: tenant.into(),
            block: block.into(),
            state,
            class: NumberClass::Normal,
        }
    }

    fn port(range_holder: Option<&str>) -> PortIn {
        let mut p = PortIn::new(
            Market::Uk,
            "447700900123".parse().expect("msisdn"),
            "UK-DONOR-01".into(),
            Sealed {
                kid: "k".into(),
                nonce: String::new(),
                ct: String::new(),
            },
            None,
            None,
        );
        p.port_ref = Some("HUB-UK-000042".into());
        p.range_holder = range_holder.map(str::to_owned);
        p
    }

    fn ported_in(tenant: &str, holder: &str) -> NumberRecord {
        rec(
            tenant,
            PORTED_IN_BLOCK,
            NumberState::PortedIn {
                order: "act_1".into(),
                port_ref: "HUB-UK-000042".into(),
                range_holder: holder.into(),
            },
        )
    }

    #[test]
    fn a_new_number_is_recorded_ported_in_with_the_hubs_range_holder_else_the_donor() {
        assert_eq!(
            on_port_in_completed(None, "t", "act_1", &port(Some("UK-RANGE-07"))),
            PortedNumber::Record(ported_in("t", "UK-RANGE-07"))
        );
        assert_eq!(
            on_port_in_completed(None, "t", "act_1", &port(None)),
            PortedNumber::Record(ported_in("t", "UK-DONOR-01"))
        );
    }

    #[test]
    fn a_number_ported_out_of_our_own_pool_comes_home_and_anything_else_is_rerecorded() {
        let gone = NumberState::PortedOut { order: "po".into() };
        let ours = rec("t", "uk-07700", gone.clone());
        assert_eq!(
            on_port_in_completed(Some(&ours), "t", "act_1", &port(None)),
            PortedNumber::Assign
        );
        let theirs = rec("u", "uk-07700", gone);
        let returned = rec(
            "t",
            PORTED_IN_BLOCK,
            NumberState::Returned {
                order: "term".into(),
                range_holder: "X".into(),
            },
        );
        for existing in [theirs, returned] {
            assert_eq!(
                on_port_in_completed(Some(&existing), "t", "act_1", &port(None)),
                PortedNumber::Record(ported_in("t", "UK-DONOR-01")),
                "{existing:?}"
            );
        }
    }

    #[test]
    fn only_numbers_that_left_us_may_be_ported_in_again() {
        let states = [
            (NumberState::Available, true),
            (NumberState::Assigned { order: "o".into() }, true),
            (NumberState::Quarantined { until_ms: 1 }, true),
            (ported_in("t", "X").state, true),
            (NumberState::PortedOut { order: "o".into() }, false),
            (
                NumberState::Returned {
                    order: "o".into(),
                    range_holder: "X".into(),
                },
                false,
            ),
        ];
        for (state, ours) in states {
            assert_eq!(
                number_already_ours(&rec("t", "b", state.clone())),
                ours,
                "{state:?}"
            );
        }
    }

    #[test]
    fn terminate_and_number_change_return_a_ported_in_number_and_nothing_else_does() {
        let n: Msisdn = "447700900123".parse().expect("msisdn");
        let r = ported_in("t", "UK-RANGE-07");
        let step = SagaOp::ReturnNumber {
            msisdn: n.clone(),
            port_ref: "HUB-UK-000042".into(),
            range_holder: "UK-RANGE-07".into(),
        };
        for kind in [OrderKind::Terminate, OrderKind::NumberChange] {
            assert_eq!(number_return(kind, &n, "t", Some(&r)), Some(step.clone()));
        }
        for kind in [
            OrderKind::Suspend,
            OrderKind::Resume,
            OrderKind::SimSwap,
            OrderKind::PortOut,
        ] {
            assert_eq!(number_return(kind, &n, "t", Some(&r)), None, "{kind:?}");
        }
        let pool = rec("t", "b", NumberState::Assigned { order: "o".into() });
        assert_eq!(
            number_return(OrderKind::Terminate, &n, "t", Some(&pool)),
            None
        );
        assert_eq!(number_return(OrderKind::Terminate, &n, "u", Some(&r)), None);
        assert_eq!(number_return(OrderKind::Terminate, &n, "t", None), None);
    }

    #[test]
    fn a_returned_number_keeps_its_range_holder_and_a_pool_number_is_not_returned() {
        assert_eq!(
            returned_state(&ported_in("t", "UK-RANGE-07"), "term_1"),
            Some(NumberState::Returned {
                order: "term_1".into(),
                range_holder: "UK-RANGE-07".into(),
            })
        );
        let pool = rec("t", "b", NumberState::Assigned { order: "o".into() });
        assert_eq!(returned_state(&pool, "term_1"), None);
    }
}
