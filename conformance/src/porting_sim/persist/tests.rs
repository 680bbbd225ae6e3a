//! The state file against the hub: (proptest) any history written step by step reads
//! back as the same hub (ports with their timers and timelines, counters, donors); the
//! clock, the first answers and the pending messages read back as written; a real-time
//! clock goes on by the time the simulator was down, a driven one stays.

use super::*;
use crate::porting_sim::hub::tests::{Step, apply, history_start, step};
use crate::porting_sim::replay::{Answer, ReplayCache};
use adapters::porting::{HubMessage, Ref};
use proptest::prelude::*;

fn reopen(path: &Path) -> Resumed {
    open(path).expect("reopen")
}

fn same_hub(a: &Hub, b: &Hub) -> Result<(), TestCaseError> {
    prop_assert_eq!(a.ports(), b.ports());
    prop_assert_eq!(a.ids, b.ids);
    prop_assert_eq!(a.donors.list(), b.donors.list());
    for p in a.ports() {
        prop_assert_eq!(b.port(p.port_ref.as_str()), Some(p), "the index");
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    #[test]
    fn any_history_reads_back_as_the_same_hub_and_goes_on_the_same(
        steps in proptest::collection::vec(step(), 1..40),
        then in proptest::collection::vec(step(), 0..10),
    ) {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("porting.state");
        let r = open(&path).expect("open");
        prop_assert!(!r.file.resumed());
        let (file, mut hub) = (r.file, r.kept.hub);
        let mut replay = ReplayCache::new(0);
        let mut clock = SimClock::new(ClockMode::Driven, history_start());
        let mut out = Vec::new();
        let mut now = history_start();
        for (i, s) in steps.iter().cloned().enumerate() {
            apply(&mut hub, i, s, &mut now, &mut out);
            file.commit(&changes(&mut hub, &mut replay, &mut clock, [])).expect("commit");
        }
        drop(file);
        let mut back = reopen(&path).kept.hub;
        same_hub(&hub, &back)?;
        // Both go on alike: the same timers fire, the same ids are handed out.
        let (mut out_a, mut out_b): (Vec<HubMessage>, Vec<HubMessage>) = (Vec::new(), Vec::new());
        let mut now_b = now;
        for (i, s) in then.into_iter().enumerate() {
            apply(&mut hub, 100 + i, s.clone(), &mut now, &mut out_a);
            apply(&mut back, 100 + i, s, &mut now_b, &mut out_b);
        }
        hub.advance(now + 40 * 86_400_000, &mut out_a);
        back.advance(now + 40 * 86_400_000, &mut out_b);
        prop_assert_eq!(out_a, out_b);
        same_hub(&hub, &back)?;
    }
}

#[test]
fn a_history_with_a_reset_leaves_no_port_behind() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("porting.state");
    let Resumed { file, kept, .. } = open(&path).expect("open");
    let mut hub = kept.hub;
    let (mut replay, mut clock) = (ReplayCache::new(0), SimClock::new(ClockMode::Driven, 0));
    let (mut out, mut now) = (Vec::new(), history_start());
    for (i, s) in [
        Step::Submit(adapters::porting::Market::Uk, 1),
        Step::Submit(adapters::porting::Market::Cn, 2),
        Step::Reset,
        Step::Submit(adapters::porting::Market::Us, 3),
    ]
    .into_iter()
    .enumerate()
    {
        apply(&mut hub, i, s, &mut now, &mut out);
    }
    file.commit(&changes(&mut hub, &mut replay, &mut clock, []))
        .expect("commit");
    drop(file);
    let back = reopen(&path).kept.hub;
    let refs: Vec<_> = back
        .ports()
        .iter()
        .map(|p| p.port_ref.to_string())
        .collect();
    assert_eq!(
        refs,
        ["NPAC-SV-000003"],
        "the counters went on past the reset"
    );
}

#[test]
fn the_clock_answers_and_pending_messages_read_back() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("porting.state");
    let Resumed { file, kept, .. } = open(&path).expect("open");
    let mut hub = kept.hub;
    let mut replay = ReplayCache::restore(10, Vec::new());
    let key = |s: &str| {
        (
            Some(Ref::parse("OP-A", "t").expect("ref")),
            Ref::parse(s, "t").expect("ref"),
        )
    };
    let answer = Answer {
        status: 202,
        body: br#"{"request_id":"a","port_ref":"HUB-UK-000001"}"#.to_vec(),
    };
    replay.keep(key("a"), [7; 32], answer.clone());
    replay.keep(key("b"), [8; 32], answer.clone());
    let mut clock = SimClock::new(ClockMode::Driven, 5_000);
    clock.advance(std::time::Duration::from_millis(1_000));
    let pending = |n: u64| Pending {
        message_id: format!("m-{n:06}"),
        port_ref: "HUB-UK-000001".into(),
        sequence: n,
        kind: "locked".into(),
        body: format!("{{\"n\":{n}}}"),
        duplicate: n == 2,
        reordered: false,
    };
    let written = changes(
        &mut hub,
        &mut replay,
        &mut clock,
        [(1, pending(1)), (2, pending(2)), (3, pending(3))],
    );
    file.commit(&written).expect("commit");
    file.commit(&[delivered(2)]).expect("delivered");
    replay.clear();
    replay.keep(key("c"), [9; 32], answer.clone());
    file.commit(&changes(&mut hub, &mut replay, &mut clock, []))
        .expect("commit");
    assert!(
        changes(&mut hub, &mut replay, &mut clock, []).is_empty(),
        "nothing changed since"
    );
    drop(file);

    let back = reopen(&path);
    assert!(back.file.resumed());
    assert_eq!(back.kept.clock, Some((ClockMode::Driven, 6_000)));
    let answers = &back.kept.answers;
    let seqs: Vec<_> = answers.iter().map(|k| (k.seq, k.key.clone())).collect();
    assert_eq!(seqs, [(2, key("c"))]);
    assert_eq!(answers[0].answer, answer);
    assert_eq!(answers[0].fingerprint, [9; 32]);
    let pending: Vec<_> = back
        .pending
        .iter()
        .map(|(k, p)| (*k, p.message_id.clone(), p.body.clone(), p.duplicate))
        .collect();
    assert_eq!(
        pending,
        [
            (1, "m-000001".into(), "{\"n\":1}".into(), false),
            (3, "m-000003".into(), "{\"n\":3}".into(), false),
        ]
    );
}

#[test]
fn a_real_time_clock_goes_on_by_the_time_it_was_down_and_a_driven_one_stays() {
    let mut clock = SimClock::new(ClockMode::Driven, 1_000_000);
    let driven = ClockRecord::of(&clock, 50_000);
    assert_eq!(driven.resume(80_000), (ClockMode::Driven, 1_000_000));
    clock.set_mode(ClockMode::RealTime);
    let real = ClockRecord::of(&clock, 50_000);
    let (mode, now) = real.resume(80_000);
    assert_eq!(mode, ClockMode::RealTime);
    assert!((1_030_000..1_031_000).contains(&now), "{now}");
    // A wall clock set back never moves the hub's time back.
    assert!(real.resume(10_000).1 >= 1_000_000);
}
