use super::*;
use crate::compliance::channel::StoreChannel;
use crate::compliance::id_hash::IdHasher;
use crate::compliance::markets::Market;
use crate::compliance::risk::RiskRule;
use adapters::identity::id_format::mod11_2_check;
use proptest::prelude::*;
use serde_json::{Value, json};

/// 10:00 in China (02:00 UTC) on 2024-01-02: inside the default store hours.
const NOW: u64 = 1_704_160_800_000;

/// A valid citizen number with sequence `seq` (0..1000).
fn citizen(seq: u32) -> String {
    let first = format!("11010119900307{seq:03}");
    format!("{first}{}", char::from(mod11_2_check(first.as_bytes())))
}

fn cn_subscriber() -> Value {
    json!({
        "name": "张三", "id_type": "resident_id", "id_number": citizen(451),
        "capture": {"method": "card_reader", "reader_serial": "R-1"},
        "evidence": {"face_match": {"transaction_id": "fm-1", "score": 0.93, "liveness": true}}
    })
}

fn store() -> ChannelRef {
    ChannelRef::Store(StoreChannel {
        store: "SZ-0042".into(),
        clerk: Some("C1".into()),
        terminal: Some("T7".into()),
    })
}

fn enabled() -> RegistryView {
    RegistryView {
        store: Registration::Enabled,
        clerk: Registration::Enabled,
        terminal: Registration::Enabled,
        reader: Registration::Enabled,
    }
}

/// One case: a policy, a subscriber JSON (or none), a channel, a SIM kind, and changes
/// to what the store read. Returns the decision.
#[derive(Clone)]
struct Case {
    policy: Policy,
    subscriber: Option<Value>,
    channel: ChannelRef,
    sim: SimKind,
    reads: Reads,
    now_ms: u64,
}

impl Case {
    fn cn() -> Self {
        Self {
            policy: Policy::for_market(Market::Cn),
            subscriber: Some(cn_subscriber()),
            channel: store(),
            sim: SimKind::Physical,
            reads: Reads {
                registry: enabled(),
                ..Reads::default()
            },
            now_ms: NOW,
        }
    }

    fn run(&self) -> (ReadPlan, Decision) {
        let keys = format!("pk-1 {}\npk-2 {}", "11".repeat(32), "22".repeat(32));
        let hasher = IdHasher::from_lines(&keys).expect("hasher");
        let parsed = self.subscriber.as_ref().map(Subscriber::from_json);
        let hashes = match &parsed {
            Some(Ok(s)) => hasher.hash_all(s),
            _ => vec![],
        };
        let req = CreateRequest {
            policy: &self.policy,
            subscriber: match &parsed {
                None => SubscriberInput::Absent,
                Some(Ok(s)) => SubscriberInput::Valid(s),
                Some(Err(r)) => SubscriberInput::Invalid(r),
            },
            channel: &self.channel,
            sim: self.sim,
            imei: None,
            id_hashes: &hashes,
            now_ms: self.now_ms,
        };
        let plan = plan(&req);
        let mut reads = self.reads.clone();
        if reads.velocity.is_empty() {
            reads.velocity = plan.velocity.iter().map(|k| (k.clone(), vec![])).collect();
        }
        (plan, decide(&req, &reads))
    }

    /// The refusal's code and field, or `allow`.
    fn outcome(&self) -> (String, Option<String>) {
        match self.run().1 {
            Decision::Allow(_) => ("allow".into(), None),
            Decision::Refuse(r) => (r.refusal.code.into(), r.refusal.field),
        }
    }

    fn refusal(&self) -> Refused {
        match self.run().1 {
            Decision::Refuse(r) => r,
            Decision::Allow(a) => panic!("allowed: {a:?}"),
        }
    }

    fn allowed(&self) -> Allowed {
        match self.run().1 {
            Decision::Allow(a) => a,
            Decision::Refuse(r) => panic!("refused: {r:?}"),
        }
    }

    fn with(mut self, f: impl FnOnce(&mut Self)) -> Self {
        f(&mut self);
        self
    }

    fn sub(self, path: &[&str], v: Value) -> Self {
        self.with(|c| {
            let mut at = c.subscriber.as_mut().expect("subscriber");
            for p in &path[..path.len() - 1] {
                at = &mut at[*p];
            }
            at[path[path.len() - 1]] = v;
        })
    }
}

/// The UK policy and a UK passport read by the reader.
fn uk_passport(c: &mut Case) {
    c.policy = Policy::for_market(Market::Uk);
    let s = c.subscriber.as_mut().expect("subscriber");
    s["id_type"] = json!("passport");
    s["id_number"] = json!("E12345678");
    s["nationality"] = json!("GBR");
}

fn check(case: Case, code: &str, field: Option<&str>) {
    assert_eq!(case.outcome(), (code.to_owned(), field.map(str::to_owned)));
}

#[test]
fn a_compliant_china_store_order_is_allowed() {
    let (plan, d) = Case::cn().run();
    let Decision::Allow(a) = d else {
        panic!("{d:?}")
    };
    assert!(a.risk_hits.is_empty(), "{:?}", a.risk_hits);
    assert!(a.count_line);
    assert_eq!(a.bump, plan.velocity, "every key read is bumped");
    assert!(plan.registry && plan.live_lines);
    let lists: Vec<_> = plan
        .blocklist
        .iter()
        .map(|(k, v)| (*k, v.as_str()))
        .collect();
    assert_eq!(
        lists[2..],
        [
            (ListKind::Store, "SZ-0042"),
            (ListKind::Clerk, "SZ-0042/C1"),
            (ListKind::Terminal, "SZ-0042/T7"),
            (ListKind::Reader, "R-1")
        ]
    );
    // The ID under both pepper keys, current first; its velocity counter under the current.
    assert_eq!(
        (lists[0].0, lists[1].0),
        (ListKind::IdHash, ListKind::IdHash)
    );
    assert!(lists[0].1.starts_with("pk-2:") && lists[1].1.starts_with("pk-1:"));
    let id_key = format!("id:{}", lists[0].1);
    assert!(plan.velocity.iter().any(|k| k.subject == id_key));
}

#[test]
fn channel_type_and_esim_switches() {
    check(
        Case::cn().with(|c| c.policy.store.allowed = false),
        "channel_not_allowed",
        None,
    );
    let online = |c: &mut Case| {
        c.channel = ChannelRef::Online;
        c.subscriber = Some(
            json!({"name": "A", "id_type": "resident_id", "id_number": citizen(1),
            "evidence": {"video": {"id": "v-1"}}}),
        );
    };
    check(Case::cn().with(online), "allow", None);
    check(
        Case::cn().with(online).with(|c| c.sim = SimKind::Esim),
        "esim_channel_not_allowed",
        Some("sim.type"),
    );
    check(Case::cn().with(|c| c.sim = SimKind::Esim), "allow", None);
    check(
        Case::cn()
            .with(online)
            .with(|c| c.policy.online.esim_allowed = true)
            .with(|c| c.sim = SimKind::Esim),
        "allow",
        None,
    );
}

#[test]
fn identity_required_or_optional() {
    check(
        Case::cn().with(|c| c.subscriber = None),
        "subscriber_required",
        Some("subscriber"),
    );
    let bad = |c: &mut Case| c.subscriber = Some(json!({"id_number": "110101199003074512"}));
    check(
        Case::cn().with(bad),
        "subscriber_invalid",
        Some("subscriber.name"),
    );
    let uk = |c: &mut Case| {
        c.policy = Policy::for_market(Market::Uk);
        c.subscriber = None;
    };
    assert!(
        !Case::cn().with(uk).allowed().count_line,
        "no ID, nothing to count"
    );
    // Optional, but what is sent must be valid.
    let uk_bad = |c: &mut Case| c.policy = Policy::for_market(Market::Uk);
    check(
        Case::cn().with(bad).with(uk_bad),
        "subscriber_invalid",
        Some("subscriber.name"),
    );
    // The sandbox keeps what it was sent and checks nothing else about it.
    let sandbox = Case::cn().with(bad).with(|c| c.policy = Policy::sandbox());
    let (plan, d) = sandbox.run();
    assert!(matches!(
        d,
        Decision::Allow(Allowed {
            count_line: false,
            ..
        })
    ));
    assert!(plan.velocity.is_empty() && !plan.live_lines);
}

#[test]
fn registry() {
    let reg = |f: fn(&mut RegistryView)| move |c: &mut Case| f(&mut c.reads.registry);
    check(
        Case::cn().with(reg(|r| r.clerk = Registration::NotRegistered)),
        "channel_not_registered",
        Some("channel.staff_id"),
    );
    check(
        Case::cn().with(reg(|r| r.store = Registration::Disabled)),
        "channel_disabled",
        Some("channel.store_id"),
    );
    check(
        Case::cn().with(reg(|r| r.terminal = Registration::Frozen)),
        "channel_frozen",
        Some("channel.terminal_id"),
    );
    check(
        Case::cn().with(reg(|r| r.reader = Registration::NotRegistered)),
        "channel_not_registered",
        Some("subscriber.capture.reader_serial"),
    );
    let no_clerk = |c: &mut Case| {
        if let ChannelRef::Store(s) = &mut c.channel {
            s.clerk = None;
        }
    };
    let r = Case::cn().with(no_clerk).refusal().refusal;
    assert_eq!((r.code, r.status), ("channel_not_registered", 403));
    assert!(r.detail.contains("`channel.staff_id`"), "{}", r.detail);
    // Where the registry is not required, unknown members pass, switched-off ones do not.
    let uk = |c: &mut Case| {
        uk_passport(c);
        c.reads.registry = RegistryView::default();
    };
    check(Case::cn().with(uk), "allow", None);
    check(Case::cn().with(uk).with(no_clerk), "allow", None);
    check(
        Case::cn()
            .with(uk)
            .with(reg(|r| r.clerk = Registration::Disabled)),
        "channel_disabled",
        Some("channel.staff_id"),
    );
    // Registry before identity: an unregistered store learns nothing about the ID.
    check(
        Case::cn()
            .with(reg(|r| r.store = Registration::NotRegistered))
            .with(|c| c.reads.live_lines = 9),
        "channel_not_registered",
        Some("channel.store_id"),
    );
}

#[test]
fn documents_capture_and_evidence() {
    check(
        Case::cn()
            .sub(&["id_type"], json!("driving_licence"))
            .sub(&["id_number"], json!("MORGA753116SM9IJ"))
            .sub(&["nationality"], json!("GBR")),
        "id_type_not_accepted",
        Some("subscriber.id_type"),
    );
    let future = {
        let first = "11010120990101451";
        format!("{first}{}", char::from(mod11_2_check(first.as_bytes())))
    };
    check(
        Case::cn().sub(&["id_number"], json!(future)),
        "id_number_invalid",
        Some("subscriber.id_number"),
    );
    let manual = Case::cn().sub(&["capture"], json!({"method": "manual"}));
    let r = manual.refusal().refusal;
    assert_eq!(
        (r.code, r.extras.allowed.as_slice()),
        ("id_capture_method_not_allowed", &["card_reader"][..])
    );
    assert!(r.detail.contains("card_reader"), "{}", r.detail);
    check(
        Case::cn().sub(&["evidence"], json!({})),
        "face_check_required",
        Some("subscriber.evidence.face_match"),
    );
    check(
        Case::cn().sub(&["evidence", "face_match", "liveness"], json!(false)),
        "face_check_failed",
        Some("subscriber.evidence.face_match"),
    );
    check(
        Case::cn().sub(&["evidence", "face_match", "score"], json!(0.79)),
        "face_check_failed",
        Some("subscriber.evidence.face_match"),
    );
    check(
        Case::cn().sub(&["evidence", "face_match", "score"], json!(0.8)),
        "allow",
        None,
    );
    let online_no_video = Case::cn()
        .with(|c| c.channel = ChannelRef::Online)
        .sub(&["evidence"], json!({}));
    check(
        online_no_video,
        "face_check_required",
        Some("subscriber.evidence.video"),
    );
    // Other markets: typed numbers and no face match are fine.
    let uk = Case::cn()
        .with(|c| c.policy = Policy::for_market(Market::Uk))
        .sub(&["id_type"], json!("passport"))
        .sub(&["id_number"], json!("E12345678"))
        .sub(&["nationality"], json!("GBR"))
        .sub(&["capture"], json!({"method": "manual"}))
        .sub(&["evidence"], json!({}));
    check(uk, "allow", None);
}

#[test]
fn blocked_answers_are_neutral() {
    let mut details = Vec::new();
    for k in ListKind::ALL {
        let r = Case::cn()
            .with(|c| c.reads.blocklist_hits = vec![k])
            .refusal()
            .refusal;
        assert_eq!(
            (r.code, r.status, r.field.as_deref()),
            ("blocked", 403, None)
        );
        assert_eq!(r.audit_reason, format!("blocklist:{}", k.as_str()));
        assert!(r.extensions().is_empty());
        details.push(r.detail);
    }
    details.dedup();
    assert_eq!(details.len(), 1, "one answer whatever the list");
    // A blocked ID at its limit is still just `blocked`.
    check(
        Case::cn().with(|c| {
            c.reads.blocklist_hits = vec![ListKind::IdHash];
            c.reads.live_lines = 5
        }),
        "blocked",
        None,
    );
}

#[test]
fn per_id_quota() {
    let r = Case::cn()
        .with(|c| c.reads.live_lines = 5)
        .refusal()
        .refusal;
    assert_eq!((r.code, r.status), ("id_quota_exceeded", 422));
    assert_eq!((r.extras.limit, r.extras.active), (Some(5), Some(5)));
    assert!(!r.detail.contains(&citizen(451)));
    let a = Case::cn().with(|c| c.reads.live_lines = 4).allowed();
    let rules: Vec<_> = a.risk_hits.iter().map(|h| h.rule).collect();
    assert_eq!(
        rules,
        [RiskRule::IdNearLimit],
        "the fifth line opens pending verification"
    );
    let uk = Case::cn().with(|c| {
        uk_passport(c);
        c.reads.live_lines = 9;
    });
    check(uk, "allow", None);
}

/// The plan's key for `w`, with `count` in its current bucket and `old` in its first.
fn loaded(case: &Case, w: Window, count: u32, old: u32) -> Case {
    let (plan, _) = case.run();
    let mut c = case.clone();
    c.reads.velocity = plan
        .velocity
        .iter()
        .map(|k| {
            let b = if k.window == w {
                vec![(k.first, old), (k.current, count)]
            } else {
                vec![]
            };
            (k.clone(), b)
        })
        .collect();
    c
}

#[test]
fn velocity_refuses_with_window_and_retry_after_and_freezes() {
    let c = loaded(&Case::cn(), Window::ClerkPerHour, 19, 1);
    let r = c.refusal();
    assert_eq!((r.refusal.code, r.refusal.status), ("velocity_limit", 429));
    let e = &r.refusal.extras;
    assert_eq!((e.limit, e.window), (Some(20), Some("clerk_per_hour")));
    // The oldest 5-minute bucket (holding 1) leaves 55 minutes after its start.
    let first_start = (NOW / 300_000 - 11) * 300_000;
    assert_eq!(
        e.retry_after_s,
        Some((first_start + 12 * 300_000 - NOW).div_ceil(1000))
    );
    assert_eq!(
        r.freeze,
        Some(FreezeTarget {
            member: Member::Clerk,
            store: "SZ-0042".into(),
            id: "C1".into()
        })
    );
    assert!(
        r.refusal
            .audit_reason
            .starts_with("velocity:clerk_per_hour:clerk:SZ-0042/C1")
    );
    check(
        loaded(&Case::cn(), Window::ClerkPerHour, 18, 1),
        "allow",
        None,
    );
    // The ID window: no channel member to freeze.
    let r = loaded(&Case::cn(), Window::IdPer30Days, 5, 0).refusal();
    assert_eq!(
        (r.refusal.extras.window, r.freeze),
        (Some("id_per_30_days"), None)
    );
    // Freezing is a policy switch.
    let quiet = loaded(
        &Case::cn().with(|c| c.policy.velocity.freeze_on_breach = false),
        Window::StorePerDay,
        200,
        0,
    );
    assert_eq!(quiet.refusal().freeze, None);
}

#[test]
fn the_window_that_clears_last_is_reported() {
    let base = Case::cn();
    let (plan, _) = base.run();
    let mut c = loaded(&base, Window::ClerkPerHour, 20, 0);
    for (k, b) in &mut c.reads.velocity {
        if k.window == Window::StorePerDay {
            *b = vec![(k.current, 200)];
        }
    }
    let r = c.refusal().refusal;
    assert_eq!(
        r.extras.window,
        Some("store_per_day"),
        "a day outlasts an hour"
    );
    assert!(
        plan.velocity
            .iter()
            .any(|k| k.window == Window::StorePerDay)
    );
}

#[test]
fn risk_rules_on_allowed_orders() {
    let a = loaded(&Case::cn(), Window::StoreBurst, 9, 0).allowed();
    assert_eq!(
        a.risk_hits.iter().map(|h| h.rule).collect::<Vec<_>>(),
        [RiskRule::StoreBurst]
    );
    let late = Case::cn().with(|c| c.now_ms = NOW + 13 * 3_600_000);
    assert_eq!(
        late.allowed()
            .risk_hits
            .iter()
            .map(|h| h.rule)
            .collect::<Vec<_>>(),
        [RiskRule::OutsideStoreHours]
    );
    let own_hours = late.with(|c| {
        c.reads.store_hours = Some(StoreHours {
            open_min: 0,
            close_min: 0,
            utc_offset_min: 480,
        })
    });
    assert!(own_hours.allowed().risk_hits.is_empty());
}

/// What happens to the model between decisions.
#[derive(Clone, Debug)]
enum Op {
    /// Someone orders a line for ID `n`.
    Activate(usize),
    /// An in-progress order ends active (it counted already, and keeps counting).
    Complete,
    /// It fails (its line stops counting).
    Fail(usize),
    /// The live line at this index (mod len) is terminated.
    Terminate(usize),
    /// Time passes.
    Advance(u64),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (0usize..4).prop_map(Op::Activate),
        2 => Just(Op::Complete),
        1 => any::<usize>().prop_map(Op::Fail),
        1 => any::<usize>().prop_map(Op::Terminate),
        1 => (0u64..(40 * 24)).prop_map(|h| Op::Advance(h * 3_600_000)),
    ]
}

proptest! {
    /// For any interleaving of activations, completions, failures, terminations and time
    /// for four IDs, applied through a model store that reads and writes exactly what
    /// `plan`/`decide` say, no ID ever has more live lines than the limit or more
    /// activations in 30 days than the velocity limit; and an order under both limits is
    /// never refused.
    #[test]
    fn live_lines_never_exceed_the_limit(ops in proptest::collection::vec(op(), 1..200)) {
        let policy = Policy::for_market(Market::Cn);
        let limit = policy.lines_per_id.expect("cn limit");
        let per_30 = policy.velocity.id_per_30_days.expect("cn velocity");
        let hasher = IdHasher::ephemeral().expect("hasher");
        let channel = ChannelRef::Online;
        let subscribers: Vec<Subscriber> = (0..4)
            .map(|i| Subscriber::from_json(&json!({"name": "A", "id_type": "resident_id",
                "id_number": citizen(i), "evidence": {"video": {"id": "v"}}})).expect("valid"))
            .collect();
        // The ID of every live line (in progress or active); counters per (subject, bucket).
        let mut lines: Vec<usize> = Vec::new();
        let mut counters: std::collections::HashMap<(String, u64), u32> = Default::default();
        let mut now = NOW;
        for op in ops {
            match op {
                Op::Activate(i) => {
                    let s = &subscribers[i];
                    let h = hasher.hash(s);
                    let req = CreateRequest {
                        policy: &policy, subscriber: SubscriberInput::Valid(s), channel: &channel,
                        sim: SimKind::Physical, imei: None, id_hashes: std::slice::from_ref(&h), now_ms: now,
                    };
                    let plan = plan(&req);
                    let live = u32::try_from(lines.iter().filter(|id| **id == i).count()).expect("small");
                    let velocity: Vec<_> = plan.velocity.iter().map(|k| {
                        let b: Vec<(u64, u32)> = (k.first..=k.current)
                            .filter_map(|b| counters.get(&(k.subject.clone(), b)).map(|n| (b, *n)))
                            .collect();
                        (k.clone(), b)
                    }).collect();
                    let in_window: u64 = velocity.iter().map(|(k, b)| velocity::total(k, b)).sum();
                    let reads = Reads { live_lines: live, velocity, ..Reads::default() };
                    match decide(&req, &reads) {
                        Decision::Allow(a) => {
                            prop_assert!(live < limit && in_window < u64::from(per_30));
                            for k in a.bump {
                                *counters.entry((k.subject, k.current)).or_default() += 1;
                            }
                            lines.push(i);
                        }
                        Decision::Refuse(r) => {
                            prop_assert!(live >= limit || in_window >= u64::from(per_30),
                                "refused under both limits: {:?}", r.refusal);
                        }
                    }
                }
                Op::Complete => {}
                Op::Fail(k) | Op::Terminate(k) => {
                    if !lines.is_empty() {
                        let at = k % lines.len();
                        lines.remove(at);
                    }
                }
                Op::Advance(ms) => now += ms,
            }
            for i in 0..4 {
                let live = lines.iter().filter(|id| **id == i).count();
                prop_assert!(live <= limit as usize, "ID {i} has {live} live lines");
            }
        }
    }
}
