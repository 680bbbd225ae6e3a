//! Activations' advances (an HLR answer that makes the order active and opens its line, a
//! failure that releases its card and number) in group transactions (`group.rs`).
//!
//! Why two members of a group never meet: only activations are grouped, and never two that
//! name the same order, card or number (`shares_rows`). An activation's rows are its own
//! (its order, its card, its numbers, its line and the line's verification deadline, all
//! reserved to it by its create commit), and the rows it shares with others (the
//! inventory counters, deferred to the commit; an ID's line count) change by
//! single-statement increments, which the pipeline keeps whole. Lifecycle and port-out
//! orders act on lines that other orders may name, and run alone.

use super::PgStore;
use super::advance::advance_order;
use super::group::{self, Groups, Member};
use super::order_leases::Owner;
use super::retry::{RetryStats, Tx, TxResult};
use crate::metrics::GroupCounts;
use crate::order::{Effect, Order, OrderKind};
use crate::store::{EventKind, StoreError};
use adapters::hlr::BoxFuture;

/// Most advances one group transaction carries. Larger groups meet more serialization
/// failures, each of which runs the whole group again: on the bench (`simgw bench --store
/// postgres`, 2 cores) groups of 32 and 64 gave up after the retry budget now and then
/// and sent 24 statements per activation, groups of 8 sent 14.6 and conflicted least, at
/// the same throughput as 16 and 24.
pub const MAX_GROUP: usize = 8;

/// One activation's advance.
pub struct Advance {
    order: Order,
    effect: Effect,
    event: EventKind,
}

/// This node's queue of advances.
pub type AdvanceGroups = Groups<Advance, ()>;

/// An empty queue, `turns` groups at once (`group::turns`).
pub fn groups(turns: usize) -> AdvanceGroups {
    Groups::new(turns, MAX_GROUP, |a, b| shares_rows(&a.order, &b.order))
}

/// Whether two activations name the same order, card or number (their rows would meet).
fn shares_rows(a: &Order, b: &Order) -> bool {
    fn numbers(o: &Order) -> [Option<&str>; 3] {
        let port = o.port.as_ref();
        [
            Some(o.msisdn.as_str()),
            port.map(|p| p.number.as_str()),
            port.and_then(|p| p.temporary.as_ref().map(|t| t.as_str())),
        ]
    }
    let (na, nb) = (numbers(a), numbers(b));
    a.id == b.id
        || a.iccid == b.iccid
        || na
            .iter()
            .flatten()
            .any(|n| nb.iter().flatten().any(|m| m == n))
}

impl Member for Advance {
    type Answer = ();
    const KIND: &'static str = "advance";

    fn body<'a>(&'a self, tx: &'a Tx<'a>, _: Owner<'a>) -> BoxFuture<'a, TxResult<()>> {
        Box::pin(advance_order(tx, &self.order, &self.effect, &self.event))
    }

    fn rolls_back((): &()) -> bool {
        false
    }

    fn counts(stats: &RetryStats) -> &GroupCounts {
        &stats.advance_groups
    }
}

impl PgStore {
    /// Persists the next version of an order (optimistic check on `version - 1`, else
    /// `StoreError::Conflict`), applies its inventory effect and appends `event` to the
    /// event log, in one commit (an activation's shared with other activations' advances:
    /// see the module doc).
    pub async fn advance_order(
        &self,
        order: Order,
        effect: Effect,
        event: EventKind,
    ) -> Result<(), StoreError> {
        let advance = Advance {
            order,
            effect,
            event,
        };
        if advance.order.kind != OrderKind::Activation {
            return group::alone(&self.committer(), &advance).await;
        }
        self.advance_groups
            .submit(advance, |group| group::run(self.committer(), group))
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::group::Queued;
    use super::*;
    use crate::engine::machine::fixture_order;

    fn activation(id: &str, card: u32, number: &str) -> Order {
        let mut o = fixture_order();
        o.id = id.into();
        o.iccid =
            sim_profiles::Iccid::from_payload(&format!("8988211000{card:09}")).expect("iccid");
        o.msisdn = number.parse().expect("msisdn");
        o
    }

    fn queue(
        groups: &AdvanceGroups,
        orders: Vec<Order>,
    ) -> Vec<tokio::sync::oneshot::Receiver<Result<(), StoreError>>> {
        orders
            .into_iter()
            .map(|order| {
                groups.queue(Advance {
                    order,
                    effect: Effect::None,
                    event: EventKind::OrderActive,
                })
            })
            .collect()
    }

    fn ids(group: &[Queued<Advance, ()>]) -> Vec<&str> {
        group.iter().map(|q| q.job.order.id.as_str()).collect()
    }

    #[test]
    fn a_group_takes_the_oldest_and_leaves_what_meets_a_taken_card_or_number() {
        let groups = groups(1);
        let _answers = queue(
            &groups,
            vec![
                activation("a", 1, "8617000000001"),
                activation("b", 1, "8617000000002"),
                activation("c", 3, "8617000000001"),
                activation("d", 4, "8617000000004"),
            ],
        );
        let first = groups.take();
        assert_eq!(ids(&first), ["a", "d"]);
        assert_eq!(ids(&groups.take()), ["b", "c"]);
        assert!(groups.take().is_empty());
    }

    #[test]
    fn a_ported_or_temporary_number_counts_as_the_order_s() {
        let mut ported = activation("a", 1, "447700900001");
        let mut other = activation("b", 2, "447700900002");
        assert!(!shares_rows(&ported, &other));
        let sealed = crate::crypto::Sealed {
            kid: "k1".into(),
            nonce: "00".into(),
            ct: "00".into(),
        };
        let port = crate::order::PortIn::new(
            crate::compliance::Market::Uk,
            "447700900099".parse().expect("msisdn"),
            "EE".into(),
            sealed,
            None,
            None,
        )
        .running_on(Some("447700900050".parse().expect("msisdn")));
        ported.port = Some(port);
        other.msisdn = "447700900099".parse().expect("msisdn");
        assert!(shares_rows(&ported, &other), "the ported number");
        other.msisdn = "447700900050".parse().expect("msisdn");
        assert!(shares_rows(&ported, &other), "the temporary number");
    }

    #[test]
    fn a_group_holds_at_most_max_group() {
        let groups = groups(1);
        let orders = (0..MAX_GROUP as u32 + 3)
            .map(|i| activation(&format!("o{i}"), i, &format!("86170000{i:05}")))
            .collect();
        let _answers = queue(&groups, orders);
        assert_eq!(groups.take().len(), MAX_GROUP);
        assert_eq!(groups.take().len(), 3);
    }
}
