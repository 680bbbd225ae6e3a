//! Activations' creates in group transactions (`group.rs`), for the common sale: a physical
//! card named by its ICCID with a number the store picks, no port, and no compliance
//! check that reads a counter or counts a line (a tenant without a market's limits).
//! The others run alone: a store sale's checks read and write the ID's and the store's
//! counters (`create_gate.rs` queues them per store and ID), an eSIM takes a profile from stock
//! in a read and a later write, a chosen or held number is read before it is written, and
//! a port checks its number the same way; two of those in one transaction would not meet
//! as two transactions do.
//!
//! Why two members of a group never meet: never two naming the same card, the same
//! Idempotency-Key or the same order id (`clash`); each claims its key, reads its card and
//! writes it; and a number is picked and taken off the free list in one statement
//! (`numbers::pick_free`), which a later statement of the same transaction no longer
//! sees, so two pipelined picks never take one number. A create the store refuses
//! (`Rejected`: card taken, pool empty, …) rolls its transaction back, which in a group
//! would undo the others, so it splits the group.

use super::PgStore;
use super::activation::create;
use super::group::{self, Groups, Member};
use super::order_leases::Owner;
use super::retry::{RetryStats, Tx, TxResult};
use crate::compliance::checks;
use crate::metrics::GroupCounts;
use crate::store::{CreateOutcome, NewActivation, NumberChoice, SimChoice, StoreError};
use adapters::hlr::BoxFuture;

/// Most creates one group transaction carries (as for advances: `advance_group.rs`).
pub const MAX_GROUP: usize = 8;

/// This node's queue of creates.
pub type CreateGroups = Groups<NewActivation, CreateOutcome>;

/// An empty queue, `turns` groups at once (`group::turns`).
pub fn groups(turns: usize) -> CreateGroups {
    Groups::new(turns, MAX_GROUP, clash)
}

/// Whether `new` may share a group transaction (see the module doc): its compliance
/// checks, if any, read no counter and count no line (they may read the registry and the
/// blocklists, and append audit records, which are deferred to the commit).
pub fn groupable(new: &NewActivation) -> bool {
    let quiet = new.compliance.as_ref().is_none_or(|c| {
        let plan = checks::plan(&c.request(new.now_ms));
        plan.velocity.is_empty() && !plan.live_lines && c.id_hash().is_none()
    });
    matches!(new.sim, SimChoice::Physical(_))
        && matches!(new.number, NumberChoice::Auto)
        && new.port.is_none()
        && quiet
}

/// Whether two creates name the same card, Idempotency-Key or order.
fn clash(a: &NewActivation, b: &NewActivation) -> bool {
    let card = |n: &NewActivation| match &n.sim {
        SimChoice::Physical(iccid) => Some(iccid.clone()),
        SimChoice::Esim { .. } => None,
    };
    (a.tenant == b.tenant && a.idempotency_key == b.idempotency_key)
        || a.order_id == b.order_id
        || card(a).is_some_and(|c| card(b) == Some(c))
}

impl Member for NewActivation {
    type Answer = CreateOutcome;
    const KIND: &'static str = "create";

    fn body<'a>(
        &'a self,
        tx: &'a Tx<'a>,
        owner: Owner<'a>,
    ) -> BoxFuture<'a, TxResult<CreateOutcome>> {
        Box::pin(create(tx, self, owner))
    }

    /// A create the store refuses (card taken, pool empty, …) changes nothing.
    fn rolls_back(answer: &CreateOutcome) -> bool {
        matches!(answer, CreateOutcome::Rejected(_))
    }

    fn counts(stats: &RetryStats) -> &GroupCounts {
        &stats.create_groups
    }
}

impl PgStore {
    /// Creates `new` (which must be [`groupable`]) in a group transaction with others.
    pub(super) async fn create_grouped(
        &self,
        new: NewActivation,
    ) -> Result<CreateOutcome, StoreError> {
        self.create_groups
            .submit(new, |group| group::run(self.committer(), group))
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn new(key: &str, order: &str, card: u32) -> NewActivation {
        NewActivation {
            tenant: "t".into(),
            idempotency_key: key.into(),
            body_hash: "h".into(),
            order_id: order.into(),
            sim: SimChoice::Physical(
                sim_profiles::Iccid::from_payload(&format!("8988211000{card:09}")).expect("iccid"),
            ),
            number: NumberChoice::Auto,
            product: "p".into(),
            channel: None,
            subscriber: None,
            now_ms: 0,
            random: 0,
            idempotency_cutoff_ms: 0,
            compliance: None,
            port: None,
            send_ahead: None,
        }
    }

    #[test]
    fn creates_meet_on_a_card_a_key_or_an_order() {
        let a = new("k1", "act_1", 1);
        assert!(!clash(&a, &new("k2", "act_2", 2)));
        assert!(clash(&a, &new("k2", "act_2", 1)), "the card");
        assert!(clash(&a, &new("k1", "act_2", 2)), "the key");
        assert!(clash(&a, &new("k2", "act_1", 2)), "the order");
        let mut other_tenant = new("k1", "act_2", 2);
        other_tenant.tenant = "u".into();
        assert!(!clash(&a, &other_tenant), "one key of two tenants");
    }

    #[test]
    fn only_a_plain_physical_sale_is_grouped() {
        assert!(groupable(&new("k", "o", 1)));
        let mut chosen = new("k", "o", 1);
        chosen.number = NumberChoice::Choose("8617000000001".parse().expect("msisdn"));
        assert!(!groupable(&chosen));
        let mut esim = new("k", "o", 1);
        esim.sim = SimChoice::Esim {
            eid: None,
            matching_id: "M".into(),
            confirmation_code: None,
        };
        assert!(!groupable(&esim));
    }
}
