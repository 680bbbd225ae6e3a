//! Handset reports in the store (`Store::record_handset`): the first report is the line's
//! baseline, a repeat writes nothing, another handset hits `imei_change` where the
//! tenant's policy has it on and a blocklisted IMEI hits `blocked_imei`, each flagging the
//! line for its second verification with its deadline indexed, audited and announced;
//! other tenants' lines and terminated ones are refused.

use crate::fixture::*;
use gateway::compliance::audit::Actor as AuditActor;
use gateway::compliance::blocklist::{ListKind, Span};
use gateway::compliance::reverify::Verification;
use gateway::compliance::risk::RiskRule;
use gateway::compliance::{Market, PolicyOverride};
use gateway::order::{Effect, OrderKind, OrderStatus};
use gateway::store::{
    AdminChange, BlocklistEntry, ComplianceChange, EventType, HandsetOutcome, LifecycleRejection,
    NewHandset, StoreAdmin, Subscription,
};
use sim_profiles::Msisdn;

const HOUR_MS: u64 = 3_600_000;

fn report(m: &Msisdn, handset: &str, blocklist: &[&str], now_ms: u64) -> NewHandset {
    NewHandset {
        tenant: T.into(),
        msisdn: m.clone(),
        mac: format!("mac-{handset}"),
        tac: "49015420".into(),
        blocklist: blocklist.iter().map(|v| (*v).to_owned()).collect(),
        audit_actor: AuditActor {
            key_id: "sk_op".into(),
            channel: "network".into(),
            ..AuditActor::default()
        },
        now_ms,
    }
}

/// `(written, changed, rules)` of a recorded report, and the line after it.
async fn recorded(
    s: &dyn StoreAdmin,
    h: NewHandset,
) -> ((bool, bool, Vec<RiskRule>), Subscription) {
    match s.record_handset(h).await.expect("report") {
        HandsetOutcome::Recorded {
            subscription,
            written,
            changed,
            rules,
        } => ((written, changed, rules), *subscription),
        other => panic!("not recorded: {other:?}"),
    }
}

pub async fn a_new_or_blocklisted_handset_flags_the_line(s: &dyn StoreAdmin) {
    seed(s, T, 0..3, 3).await;
    let a = active_line(s, "h0", 0).await;
    let b = active_line(s, "h1", 1).await;
    // The China market, with the new-handset rule on, and enterprise ENTERPRISE.
    let mut t = tenant(T);
    t.market = Some(Market::Cn);
    t.enterprise = Some(ENTERPRISE.into());
    let mut o = PolicyOverride::default();
    o.risk.imei_change = Some(true);
    o.reverify_hours = Some(48);
    t.compliance = Some(Box::new(o));
    apply(s, AdminChange::PutTenant(t)).await;
    let audit_before = audit_chain(s).await.len();
    let now = NOW + HOUR_MS;

    // The first report is the baseline; the same handset again writes nothing.
    let ((written, changed, rules), line) = recorded(s, report(&a.msisdn, "A", &[], now)).await;
    assert_eq!((written, changed, rules), (true, false, vec![]));
    assert_eq!(
        line.handset.as_ref().map(|h| h.tac.as_str()),
        Some("49015420")
    );
    assert_eq!(line.verification, Verification::Clear);
    let stored = s.subscription(T, a.msisdn.as_str()).await.expect("read");
    assert_eq!(stored.as_ref(), Some(&line));
    let ((written, ..), again) = recorded(s, report(&a.msisdn, "A", &[], now + 1)).await;
    assert!(!written);
    assert_eq!(again, line, "a repeat changes nothing");

    // Another handset: `imei_change` flags the line, with the policy's deadline.
    let ((written, changed, rules), line) = recorded(s, report(&a.msisdn, "B", &[], now + 2)).await;
    assert_eq!(
        (written, changed, rules),
        (true, true, vec![RiskRule::ImeiChange])
    );
    let deadline = line.verification.deadline_ms().expect("pending");
    assert_eq!(deadline, now + 2 + 48 * HOUR_MS);
    assert_eq!(
        s.next_reverify_deadline().await.expect("next"),
        Some(deadline)
    );

    // A blocklisted IMEI (an entry of this enterprise in force): `blocked_imei`.
    change(
        s,
        ComplianceChange::AddBlock {
            enterprise: ENTERPRISE.into(),
            entry: BlocklistEntry {
                list: ListKind::Imei,
                value: "49015420323751".into(),
                span: Span {
                    start_ms: NOW,
                    end_ms: None,
                },
                reason: "stolen".into(),
                created_at_ms: NOW,
            },
            rules: cn_policy().blocklist,
        },
    )
    .await;
    let ((_, changed, rules), line_b) = recorded(
        s,
        report(&b.msisdn, "S", &["490154203237518", "49015420323751"], now),
    )
    .await;
    assert_eq!((changed, rules), (false, vec![RiskRule::BlockedImei]));
    assert!(matches!(line_b.verification, Verification::Pending { .. }));
    assert!(line_b.handset.as_ref().is_some_and(|h| h.blocked));
    // Reported again in it: nothing more.
    let ((written, ..), _) = recorded(
        s,
        report(
            &b.msisdn,
            "S",
            &["490154203237518", "49015420323751"],
            now + 5,
        ),
    )
    .await;
    assert!(!written);

    let chain = audit_chain(s).await;
    let actions: Vec<&str> = chain[audit_before..]
        .iter()
        .map(|r| r.action.as_str())
        .collect();
    assert_eq!(
        actions,
        [
            "handset.seen",
            "verification.required",
            "test.change",
            "verification.required"
        ]
    );
    let required = all_events(s, T)
        .await
        .iter()
        .filter(|e| e.event_type == EventType::SubscriptionVerificationRequired)
        .count();
    assert_eq!(required, 2);

    // Another tenant's line, and the number of a terminated one (no line any more):
    // refused, nothing written.
    let mut foreign = report(&a.msisdn, "C", &[], now);
    foreign.tenant = OTHER.into();
    assert!(matches!(
        s.record_handset(foreign).await.expect("report"),
        HandsetOutcome::Rejected(LifecycleRejection::NotFound)
    ));
    let c = active_line(s, "h2", 2).await;
    let end = lifecycle_created(s, lifecycle(OrderKind::Terminate, &c.msisdn, "end")).await;
    advance(s, &end, OrderStatus::Completed, Effect::Complete).await;
    assert!(matches!(
        s.record_handset(report(&c.msisdn, "C", &[], now))
            .await
            .expect("report"),
        HandsetOutcome::Rejected(LifecycleRejection::NotFound)
    ));
}

/// The handset a sale names (`ComplianceCheck::handset`, its MAC and TAC) is the line's
/// first: the network's report of it writes nothing, and another is a change.
pub async fn the_handset_of_the_sale_is_the_baseline(s: &dyn StoreAdmin) {
    seed(s, T, 0..1, 1).await;
    let mut check = check_with(
        &cn_policy(),
        ENTERPRISE,
        Some(online_subscriber(300)),
        gateway::compliance::ChannelRef::Online,
    );
    check.handset = Some(gateway::store::Handset {
        mac: "mac-A".into(),
        tac: "35000000".into(),
        blocked: false,
        seen_at_ms: NOW,
    });
    let o = created(s, checked("sold", 0, &check)).await;
    let a = advance(s, &o, OrderStatus::Active, Effect::Activate).await;
    let line = s
        .subscription(T, a.msisdn.as_str())
        .await
        .expect("read")
        .expect("line");
    assert_eq!(line.handset, check.handset);
    let ((written, ..), _) = recorded(s, report(&a.msisdn, "A", &[], NOW + 1)).await;
    assert!(!written, "the sale's handset reported again");
    let ((written, changed, _), _) = recorded(s, report(&a.msisdn, "B", &[], NOW + 2)).await;
    assert!(written && changed);
}
