//! The identity verification asked before an activation's create commit: the read-only
//! pre-check the API runs first (the create commit's decision, nothing written), and the
//! create commit that records the verifier's decision and sends the HLR call ahead.

use crate::fixture::*;
use gateway::compliance::Decision;
use gateway::order::{IdentityStatus, IdentityStep, Step};
use gateway::store::StoreAdmin;

/// A pass decided before the create commit of order `order_id`.
fn passed(order_id: &str) -> IdentityStep {
    IdentityStep {
        status: IdentityStatus::Passed,
        step: Step::Done {
            outcome: "pass".into(),
        },
        attempts: 1,
        verification_id: Some("v-1".into()),
        ..IdentityStep::pending(order_id)
    }
}

pub async fn a_precheck_writes_nothing_and_a_create_records_the_decision_asked_before(
    s: &dyn StoreAdmin,
) {
    let mut check = one_sale_per_clerk(s).await;
    let before = counts(s, T).await;
    let audit_before = s.audit_rows(1, 1000).await.expect("audit").len();
    for _ in 0..3 {
        let d = s
            .precheck_activation(T, &check, NOW)
            .await
            .expect("precheck");
        assert!(matches!(d, Decision::Allow(_)), "{d:?}");
    }
    assert_eq!(counts(s, T).await, before);
    assert_eq!(
        s.audit_rows(1, 1000).await.expect("audit").len(),
        audit_before,
        "a pre-check is not audited"
    );

    // The create commit records the decision and, sending ahead, the HLR call.
    let mut new = checked("k0", 0, &check);
    check.verified = Some(passed(&new.order_id));
    new.compliance = Some(check.clone());
    new.send_ahead = Some(gateway::engine::machine::mark_next_sent);
    let o = created(s, new).await;
    assert_eq!(o.identity, Some(passed(&o.id)));
    assert_eq!((&o.hlr, o.version), (&Step::Sent { attempt: 1 }, 1));
    let stored = s.get_order(T, &o.id).await.expect("read").expect("stored");
    assert_eq!(stored.identity, o.identity);
    assert_eq!(stored.hlr, Step::Sent { attempt: 1 });

    // The clerk's limit is now reached: the pre-check sees it and freezes nothing.
    let d = s
        .precheck_activation(T, &check, NOW)
        .await
        .expect("precheck");
    let Decision::Refuse(r) = d else {
        panic!("expected a refusal, got {d:?}");
    };
    assert_eq!(r.refusal.code, "velocity_limit");
    // The create's decision and the verifier's, chained in that order; the pre-check
    // added none.
    let records = audit_chain(s).await;
    let actions: Vec<&str> = records[audit_before..]
        .iter()
        .map(|r| r.action.as_str())
        .collect();
    assert_eq!(actions, ["activation.create", "identity.passed"]);
    assert_eq!(
        records[audit_before + 1].evidence,
        ["verification:v-1".to_owned()]
    );
    let refused = s
        .create_activation(checked("k1", 1, &check))
        .await
        .expect("create");
    assert!(
        matches!(refused, gateway::store::CreateOutcome::Refused(_)),
        "the create commit decides as the pre-check did: {refused:?}"
    );
}
