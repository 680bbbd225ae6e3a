//! Builders the cases share: tenants, cards, number blocks, orders and their next
//! versions, with fixed clocks. Cards come from `common::card`, the cards of every other
//! test.

use crate::common;
use gateway::admin::{self, NewSim};
use gateway::compliance::audit::{self, Actor as AuditActor, AuditRecord};
use gateway::compliance::channel::{Member, StoreChannel};
use gateway::compliance::checks::Refused;
use gateway::compliance::{
    ChannelRef, IdHasher, Market, Policy, Registration, SimKind, Subscriber,
};
use gateway::crypto::Keyring;
use gateway::order::{Actor, Effect, Order, OrderKind, OrderStatus, Step};
use gateway::store::{
    AdminChange, AdminOutcome, ComplianceChange, ComplianceChangeOutcome, ComplianceCheck,
    CreateOutcome, EventKind, InventoryCounts, LifecycleOutcome, NewActivation, NewLifecycle,
    NumberChoice, Product, PublicEvent, RegistryEntry, SimChoice, SimRecord, StoreAdmin,
    StoreError, Tenant,
};
use serde_json::{Value, json};
use sim_profiles::{Iccid, Key128, Msisdn};
use std::collections::BTreeMap;
use std::ops::Range;
use std::sync::{Arc, LazyLock};

/// The tenant most cases work for.
pub const T: &str = common::TENANT;
/// Another tenant, to show isolation.
pub const OTHER: &str = common::OTHER_TENANT;
/// A product sold as a physical SIM and as an eSIM of profile type [`ESIM_TYPE`].
pub const PRODUCT: &str = common::PRODUCT;
/// A product sold on physical SIMs only.
pub const PLAIN: &str = "plain";
/// The SM-DP+ profile type of [`PRODUCT`]'s eSIMs.
pub const ESIM_TYPE: &str = "T";
/// The cases' clock: Unix ms they start at.
pub const NOW: u64 = 1_700_000_000_000;
/// One day in ms.
pub const DAY_MS: u64 = 86_400_000;
/// The quarantine of [`tenant`]s, in days.
pub const QUARANTINE_DAYS: u32 = 2;

static KEYS: LazyLock<Keyring> = LazyLock::new(|| Keyring::ephemeral().expect("keys"));

/// The data keys the cases seal with.
pub fn keys() -> &'static Keyring {
    &KEYS
}

/// A tenant with both products, sequential numbering (the lowest free number: a
/// deterministic pick), no golden rules and a [`QUARANTINE_DAYS`] quarantine.
pub fn tenant(id: &str) -> Tenant {
    let mut t = Tenant::new(
        id,
        &format!("{id} brand"),
        "00101".parse().expect("plmn"),
        BTreeMap::from([
            (
                PRODUCT.to_owned(),
                Product::new(common::PROFILE_ID).with_esim(ESIM_TYPE),
            ),
            (PLAIN.to_owned(), Product::new(47)),
        ]),
    );
    t.number_policy = gateway::numbers::NumberPolicy::Sequential;
    t.golden_rules.clear();
    t.quarantine_days = QUARANTINE_DAYS;
    t
}

/// Card `i`'s ICCID.
pub fn iccid(i: u32) -> Iccid {
    common::card(i).iccid
}

/// A number.
pub fn msisdn(s: &str) -> Msisdn {
    s.parse().expect("msisdn")
}

/// The first number of a tenant's block `n1`.
pub fn first_number(tenant: &str) -> &'static str {
    if tenant == T {
        "8613800000000"
    } else {
        "8613900000000"
    }
}

/// The `i`th number of a tenant's block `n1` (the `i`th a sequential tenant hands out).
pub fn number(tenant: &str, i: u64) -> Msisdn {
    let first: u64 = first_number(tenant).parse().expect("digits");
    msisdn(&(first + i).to_string())
}

/// Card `i` of `tenant` in `batch`, keys sealed.
pub fn sim_in(tenant: &str, batch: &str, i: u32) -> SimRecord {
    let c = common::card(i);
    let new = NewSim {
        iccid: c.iccid,
        imsi: c.imsi.parse().expect("imsi"),
        ki: Key128::from_bytes(c.ki),
        opc: Some(Key128::from_bytes(c.opc)),
    };
    admin::seal_sim(keys(), tenant, batch, &new).expect("seal")
}

/// Card `i` of `tenant` in batch `b1`.
pub fn sim(tenant: &str, i: u32) -> SimRecord {
    sim_in(tenant, "b1", i)
}

/// eSIM profile `i` (of type [`ESIM_TYPE`]) of `tenant` in batch `e1`.
pub fn esim_profile(tenant: &str, i: u32) -> SimRecord {
    let mut s = sim_in(tenant, "e1", i);
    s.esim_profile_type = Some(ESIM_TYPE.into());
    s
}

/// Applies an admin change that must succeed.
pub async fn apply(s: &dyn StoreAdmin, change: AdminChange) {
    let out = s.admin(change).await.expect("admin");
    assert_eq!(out, AdminOutcome::Applied);
}

/// Creates `tenant` ([`tenant`]) with physical cards `sims` in batch `b1` and `numbers`
/// numbers in block `n1` from [`first_number`].
pub async fn seed(s: &dyn StoreAdmin, tenant_id: &str, sims: Range<u32>, numbers: u64) {
    seed_with(s, tenant(tenant_id), sims, 0..0, numbers).await;
}

/// Like [`seed`] for a tenant as given, with eSIM profiles `esims` too.
pub async fn seed_with(
    s: &dyn StoreAdmin,
    t: Tenant,
    sims: Range<u32>,
    esims: Range<u32>,
    numbers: u64,
) {
    let id = t.id.clone();
    let mut changes = vec![AdminChange::PutTenant(t)];
    let cards: Vec<SimRecord> = sims
        .map(|i| sim(&id, i))
        .chain(esims.map(|i| esim_profile(&id, i)))
        .collect();
    if !cards.is_empty() {
        changes.push(AdminChange::AddSims(cards));
    }
    if numbers > 0 {
        changes.push(AdminChange::AddNumbers {
            tenant: id.clone(),
            block: "n1".into(),
            first: msisdn(first_number(&id)),
            count: numbers,
        });
    }
    apply(s, AdminChange::Batch(changes)).await;
}

/// A physical activation of card `i` for [`T`] under Idempotency-Key `key`: order id
/// `act_<key>`, body hash `h-<key>`, any number, at [`NOW`].
pub fn activation(key: &str, i: u32) -> NewActivation {
    NewActivation {
        tenant: T.into(),
        idempotency_key: key.into(),
        body_hash: format!("h-{key}"),
        order_id: format!("act_{key}"),
        sim: SimChoice::Physical(iccid(i)),
        number: NumberChoice::Auto,
        product: PRODUCT.into(),
        channel: None,
        subscriber: None,
        now_ms: NOW,
        random: 0,
        idempotency_cutoff_ms: NOW - DAY_MS,
        compliance: None,
        port: None,
        send_ahead: None,
    }
}

/// An eSIM activation for [`T`] (a profile of [`ESIM_TYPE`] from stock).
pub fn esim_activation(key: &str) -> NewActivation {
    NewActivation {
        sim: SimChoice::Esim {
            eid: None,
            matching_id: format!("MATCH-{key}"),
            confirmation_code: None,
        },
        ..activation(key, 0)
    }
}

/// Creates an activation that must be created.
pub async fn created(s: &dyn StoreAdmin, new: NewActivation) -> Order {
    match s.create_activation(new).await.expect("create") {
        CreateOutcome::Created(o) => o,
        other => panic!("expected a new order, got {other:?}"),
    }
}

/// The next version of `o` in `status`, `ms` after its last change.
pub fn next(o: &Order, status: OrderStatus, ms: u64) -> Order {
    let mut n = o.clone();
    n.status = status;
    n.version += 1;
    n.updated_at_ms = o.updated_at_ms + ms;
    n
}

/// Advances `o` to `status` with `effect` (a step event); returns the new version.
pub async fn advance(s: &dyn StoreAdmin, o: &Order, status: OrderStatus, effect: Effect) -> Order {
    let mut n = next(o, status, 1_000);
    if status == OrderStatus::Active {
        n.hlr = Step::Done {
            outcome: "created".into(),
        };
    }
    let event = EventKind::StepAnswered {
        step: "hlr".into(),
        attempt: 1,
        result: "ok".into(),
    };
    s.advance_order(n.clone(), effect, event)
        .await
        .expect("advance");
    n
}

/// An activation of card `i` made active: its line is open.
pub async fn active_line(s: &dyn StoreAdmin, key: &str, i: u32) -> Order {
    let o = created(s, activation(key, i)).await;
    advance(s, &o, OrderStatus::Active, Effect::Activate).await
}

/// A lifecycle order of `kind` on the line holding `msisdn`, for [`T`], under
/// Idempotency-Key `key` (order id `ord_<key>`), planned by the engine's planner.
pub fn lifecycle(kind: OrderKind, msisdn: &Msisdn, key: &str) -> NewLifecycle {
    NewLifecycle {
        tenant: T.into(),
        msisdn: msisdn.clone(),
        kind,
        idempotency_key: key.into(),
        body_hash: format!("h-{key}"),
        order_id: format!("ord_{key}"),
        actor: Actor {
            key_prefix: "sk_acme_ABCD".into(),
            role: "operator".into(),
        },
        reason: None,
        sim: None,
        number: None,
        port: None,
        channel: None,
        now_ms: NOW + 10_000,
        random: 0,
        idempotency_cutoff_ms: NOW - DAY_MS,
        plan: gateway::engine::machine::plan,
        send_ahead: None,
        verification: false,
    }
}

/// Creates a lifecycle order that must be created.
pub async fn lifecycle_created(s: &dyn StoreAdmin, new: NewLifecycle) -> Order {
    match s.create_lifecycle(new).await.expect("lifecycle") {
        LifecycleOutcome::Created(o) => o,
        other => panic!("expected a new lifecycle order, got {other:?}"),
    }
}

/// A tenant's inventory counts.
pub async fn counts(s: &dyn StoreAdmin, tenant: &str) -> InventoryCounts {
    s.inventory_counts(tenant).await.expect("counts")
}

/// Every public event of a tenant, oldest first.
pub async fn all_events(s: &dyn StoreAdmin, tenant: &str) -> Vec<PublicEvent> {
    s.public_events(tenant, 0, None, 10_000)
        .await
        .expect("public events")
}

/// True for the errors a closed store may answer with.
pub fn is_closed(e: &StoreError) -> bool {
    matches!(e, StoreError::Closed | StoreError::Unavailable(_))
}

/// A card as compared across two sealings of it: every field but the sealed keys (each
/// sealing draws a fresh nonce).
pub fn unsealed(c: &SimRecord) -> SimRecord {
    let mut c = c.clone();
    c.ki.nonce.clear();
    c.ki.ct.clear();
    if let Some(opc) = c.opc.as_mut() {
        opc.nonce.clear();
        opc.ct.clear();
    }
    c
}

/// The card `iccid` as stored, compared by [`unsealed`].
pub async fn stored_card(s: &dyn StoreAdmin, iccid: &Iccid) -> Option<SimRecord> {
    s.get_sim(iccid).await.expect("sim").as_ref().map(unsealed)
}

// Compliance (issue 15).

static HASHER: LazyLock<IdHasher> = LazyLock::new(|| IdHasher::ephemeral().expect("pepper"));

/// The ID hasher the compliance cases hash with.
pub fn hasher() -> &'static IdHasher {
    &HASHER
}

/// The enterprise [`T`] and [`OTHER`] belong to in the compliance cases.
pub const ENTERPRISE: &str = "ent-1";
/// The registered store of the store-channel cases.
pub const STORE: &str = "SZ-0042";

/// A valid mainland resident ID number, one per `n` (below 1000).
pub fn resident_id(n: u32) -> String {
    let body = format!("11010519900101{:03}", n % 1000);
    let check = adapters::identity::id_format::mod11_2_check(body.as_bytes());
    format!("{body}{}", char::from(check))
}

/// The China policy without the per-ID 30-day velocity limit (which would otherwise
/// refuse a sixth activation of one ID before its line quota is seen again).
pub fn cn_policy() -> Policy {
    let mut p = Policy::for_market(Market::Cn);
    p.velocity.id_per_30_days = None;
    p
}

/// An online subscriber with ID `n` and the real-person video China asks for online.
pub fn online_subscriber(n: u32) -> Value {
    json!({
        "name": "张三",
        "id_type": "resident_id",
        "id_number": resident_id(n),
        "evidence": {"video": {"id": format!("v-{n}")}}
    })
}

/// A store subscriber with ID `n`, read by reader `R-1`, with a passing face match.
pub fn store_subscriber(n: u32) -> Value {
    json!({
        "name": "李四",
        "id_type": "resident_id",
        "id_number": resident_id(n),
        "capture": {"method": "card_reader", "reader_serial": "R-1"},
        "evidence": {"face_match": {"transaction_id": format!("fm-{n}"), "score": 0.95, "liveness": true}}
    })
}

/// [`STORE`] with clerk `C1` and terminal `T7`.
pub fn store_channel() -> ChannelRef {
    ChannelRef::Store(StoreChannel {
        store: STORE.into(),
        clerk: Some("C1".into()),
        terminal: Some("T7".into()),
    })
}

/// The checks of an order with `subscriber` (parsed as the API does) on `channel`, under
/// `policy`, counted in `enterprise`.
pub fn check_with(
    policy: &Policy,
    enterprise: &str,
    subscriber: Option<Value>,
    channel: ChannelRef,
) -> ComplianceCheck {
    let (subscriber, invalid) = match subscriber.map(|v| Subscriber::from_json(&v)) {
        None => (None, None),
        Some(Ok(s)) => (Some(Arc::new(s)), None),
        Some(Err(r)) => (None, Some(r)),
    };
    let id_hashes = subscriber
        .as_deref()
        .map(|s| hasher().hash_all(s))
        .unwrap_or_default();
    let evidence = subscriber
        .as_deref()
        .map(Subscriber::evidence_refs)
        .unwrap_or_default();
    let store = match &channel {
        ChannelRef::Store(s) => Some(s.clone()),
        ChannelRef::Online => None,
    };
    ComplianceCheck {
        policy: Arc::new(policy.clone()),
        enterprise: enterprise.into(),
        subscriber,
        invalid,
        sim: SimKind::Physical,
        imei: None,
        handset: None,
        id_hashes,
        actor: AuditActor {
            key_id: "sk_test_ABCD".into(),
            channel: if store.is_some() { "store" } else { "online" }.into(),
            store: store.as_ref().map(|s| s.store.clone()),
            clerk: store.as_ref().and_then(|s| s.clerk.clone()),
            device: store.as_ref().and_then(|s| s.terminal.clone()),
        },
        evidence,
        verified: None,
        channel,
    }
}

/// An online order's checks for ID `n` under [`cn_policy`] in [`ENTERPRISE`].
pub fn online_check(n: u32) -> ComplianceCheck {
    check_with(
        &cn_policy(),
        ENTERPRISE,
        Some(online_subscriber(n)),
        ChannelRef::Online,
    )
}

/// The ID hashes of a check, as the store's listings take them.
pub fn hashes(c: &ComplianceCheck) -> Vec<String> {
    c.id_hashes.iter().map(ToString::to_string).collect()
}

/// [`activation`] of card `i` under `key` with `check`.
pub fn checked(key: &str, i: u32, check: &ComplianceCheck) -> NewActivation {
    NewActivation {
        compliance: Some(check.clone()),
        ..activation(key, i)
    }
}

/// The refusal of an activation that must be refused.
pub async fn refused(s: &dyn StoreAdmin, new: NewActivation) -> Refused {
    match s.create_activation(new).await.expect("create") {
        CreateOutcome::Refused(r) => *r,
        other => panic!("expected a compliance refusal, got {other:?}"),
    }
}

/// A registry entry of [`STORE`], enabled unless `status` says otherwise.
pub fn member(member: Member, id: &str, status: Registration) -> RegistryEntry {
    RegistryEntry {
        member,
        store: STORE.into(),
        id: id.into(),
        status,
        label: None,
        hours: None,
        updated_at_ms: NOW,
    }
}

/// An operator's audit record for a change.
pub fn operator_record(action: &str) -> AuditRecord {
    AuditRecord {
        at_ms: NOW,
        actor: AuditActor {
            key_id: "sk_op_ABCD".into(),
            channel: "operator".into(),
            ..Default::default()
        },
        action: action.into(),
        ..Default::default()
    }
}

/// Applies an operator's change that must apply.
pub async fn change(s: &dyn StoreAdmin, c: ComplianceChange) {
    let out = s
        .compliance_change(c, operator_record("test.change"))
        .await
        .expect("change");
    assert_eq!(out, ComplianceChangeOutcome::Applied);
}

/// Registers [`STORE`] with clerk `C1`, terminal `T7` and reader `R-1` for `tenant`,
/// enabled.
pub async fn register_store(s: &dyn StoreAdmin, tenant: &str) {
    for (m, id) in [
        (Member::Store, STORE),
        (Member::Clerk, "C1"),
        (Member::Terminal, "T7"),
        (Member::Reader, "R-1"),
    ] {
        change(
            s,
            ComplianceChange::PutRegistry {
                tenant: tenant.into(),
                entry: member(m, id, Registration::Enabled),
            },
        )
        .await;
    }
}

/// Every audit row, verified as a chain from the genesis; returns the decoded records.
pub async fn audit_chain(s: &dyn StoreAdmin) -> Vec<AuditRecord> {
    let rows = s.audit_rows(1, 100_000).await.expect("audit rows");
    let head = audit::verify(
        rows.iter().map(|r| (r.seq, r.bytes.as_slice(), r.hash)),
        audit::Start::genesis(),
        None,
    )
    .expect("the chain verifies");
    assert_eq!(head.records, rows.len() as u64);
    rows.iter()
        .map(|r| AuditRecord::decode(&r.bytes).expect("canonical record"))
        .collect()
}

/// Tenant `T` seeded (3 SIMs, 3 numbers) with its store registered, and the check of a
/// store sale under the China policy whose clerk may sell one line an hour.
pub async fn one_sale_per_clerk(s: &dyn StoreAdmin) -> ComplianceCheck {
    seed(s, T, 0..3, 3).await;
    register_store(s, T).await;
    let mut policy = cn_policy();
    policy.velocity.clerk_per_hour = Some(1);
    check_with(
        &policy,
        ENTERPRISE,
        Some(store_subscriber(1)),
        store_channel(),
    )
}
