use super::*;
use proptest::prelude::*;

fn record(seq: u64) -> AuditRecord {
    AuditRecord {
        seq,
        at_ms: 1_700_000_000_000 + seq,
        actor: Actor {
            key_id: "sk_live_ab12".into(),
            channel: "store".into(),
            store: Some("SZ-0042".into()),
            clerk: Some("C1".into()),
            device: Some("T7".into()),
        },
        subject: Subject {
            order_id: Some(format!("ord_{seq}")),
            iccid: Some("8986001234567890123".into()),
            imsi: Some("460011234567890".into()),
            msisdn: Some("8617012345678".into()),
            id_hash: Some(format!("pk-1:{}", "ab".repeat(32))),
        },
        action: "activation.create".into(),
        rule: None,
        policy_version: Some("cn.v1".into()),
        outcome: if seq % 3 == 0 {
            Outcome::Refuse
        } else {
            Outcome::Allow
        },
        reasons: if seq % 3 == 0 {
            vec!["id_quota_exceeded".into()]
        } else {
            vec![]
        },
        evidence: vec!["reader:R-1".into(), format!("face_match:fm-{seq}")],
        idempotency_key: Some(format!("idem-{seq}")),
        attrs: vec![("network".into(), "hlr_ok".into())],
    }
}

/// A chain of `n` rows as the store keeps them.
fn chain(n: u64) -> Vec<(u64, Vec<u8>, Hash)> {
    let mut prev = genesis();
    (1..=n)
        .map(|seq| {
            let (bytes, hash) = append(&prev, &record(seq));
            prev = hash;
            (seq, bytes, hash)
        })
        .collect()
}

fn run(rows: &[(u64, Vec<u8>, Hash)]) -> Result<Head, VerifyError> {
    verify(
        rows.iter().map(|(s, b, h)| (*s, b.as_slice(), *h)),
        Start::genesis(),
        None,
    )
}

#[test]
fn an_intact_chain_verifies_to_its_head() {
    let rows = chain(50);
    let head = run(&rows).expect("intact");
    assert_eq!(
        (head.seq, head.hash, head.records, head.anchored),
        (50, rows[49].2, 50, false)
    );
    let empty = run(&[]).expect("empty");
    assert_eq!((empty.seq, empty.hash, empty.records), (0, genesis(), 0));
}

#[test]
fn flipping_a_byte_names_the_record() {
    let mut rows = chain(50);
    let len = rows[16].1.len();
    rows[16].1[len / 2] ^= 0x01;
    let e = run(&rows).expect_err("tampered");
    assert_eq!(e.seq, 17);
    let mut rows = chain(50);
    rows[16].2[0] ^= 0x80;
    assert_eq!(
        run(&rows).expect_err("hash"),
        VerifyError {
            seq: 17,
            why: Why::HashMismatch
        }
    );
    let mut rows = chain(50);
    rows[16].1[0] = 9;
    assert_eq!(
        run(&rows).expect_err("version").why,
        Why::Undecodable(DecodeError::Version(9))
    );
}

#[test]
fn deleting_or_reordering_names_the_first_bad_record() {
    let mut rows = chain(50);
    rows.remove(16);
    assert_eq!(
        run(&rows).expect_err("deleted"),
        VerifyError {
            seq: 17,
            why: Why::Missing
        }
    );
    // Two rows listed in the wrong order.
    let mut rows = chain(50);
    rows.swap(16, 17);
    assert_eq!(run(&rows).expect_err("swapped").seq, 17);
    // Two records' contents swapped under their sequence numbers.
    let mut rows = chain(50);
    let (a, b) = (rows[16].clone(), rows[17].clone());
    rows[16] = (17, b.1, b.2);
    rows[17] = (18, a.1, a.2);
    assert_eq!(
        run(&rows).expect_err("moved"),
        VerifyError {
            seq: 17,
            why: Why::SeqMismatch
        }
    );
    // A record re-encoded under another number does not hash to the stored value.
    let mut rows = chain(50);
    let mut moved = record(18);
    moved.seq = 17;
    rows[16].1 = moved.encode();
    assert_eq!(run(&rows).expect_err("rewritten").why, Why::HashMismatch);
    let mut rows = chain(5);
    rows.insert(3, rows[2].clone());
    assert_eq!(
        run(&rows).expect_err("repeated"),
        VerifyError {
            seq: 3,
            why: Why::OutOfOrder
        }
    );
}

#[test]
fn verifying_from_the_middle_and_against_anchors() {
    let rows = chain(50);
    let from = Start {
        seq: 21,
        prev: rows[19].2,
    };
    let tail = || rows[20..].iter().map(|(s, b, h)| (*s, b.as_slice(), *h));
    let head = verify(tail(), from, None).expect("tail");
    assert_eq!((head.seq, head.records), (50, 30));
    let wrong = Start {
        seq: 21,
        prev: rows[18].2,
    };
    assert_eq!(verify(tail(), wrong, None).expect_err("wrong prev").seq, 21);
    // Anchors: at the end, in the middle, at the start's previous record.
    for a in [50, 30, 20] {
        let anchor = Anchor {
            seq: a,
            hash: rows[a as usize - 1].2,
        };
        assert!(
            verify(tail(), from, Some(anchor))
                .expect("anchored")
                .anchored,
            "{a}"
        );
    }
    let bad = Anchor {
        seq: 30,
        hash: rows[30].2,
    };
    assert_eq!(
        verify(tail(), from, Some(bad)).expect_err("bad anchor"),
        VerifyError {
            seq: 30,
            why: Why::AnchorMismatch
        }
    );
    // Records cut from the end are caught by an anchor past the end.
    let cut = &rows[..45];
    let anchor = Anchor {
        seq: 50,
        hash: rows[49].2,
    };
    let e = verify(
        cut.iter().map(|(s, b, h)| (*s, b.as_slice(), *h)),
        Start::genesis(),
        Some(anchor),
    );
    assert_eq!(
        e.expect_err("cut"),
        VerifyError {
            seq: 46,
            why: Why::AnchorNotReached
        }
    );
}

#[test]
fn anchors_print_and_parse() {
    let a = Anchor {
        seq: 42,
        hash: chain(1)[0].2,
    };
    let text = a.to_text();
    assert!(text.starts_with("simgw-audit-v1:42:"), "{text}");
    assert_eq!(Anchor::parse(&text), Some(a));
    for bad in [
        "",
        "simgw-audit-v1:42",
        "simgw-audit-v1:x:00",
        "simgw-audit-v2:1:00",
    ] {
        assert_eq!(Anchor::parse(bad), None, "{bad}");
    }
}

#[test]
fn the_encoding_is_fixed() {
    let r = AuditRecord {
        seq: 1,
        at_ms: 2,
        action: "a".into(),
        ..Default::default()
    };
    let mut want = vec![1u8];
    want.extend_from_slice(&1u64.to_be_bytes());
    want.extend_from_slice(&2u64.to_be_bytes());
    want.extend_from_slice(&[0, 0, 0, 0, 0, 0, 0, 0]); // key_id "", channel ""
    want.extend_from_slice(&[0, 0, 0]); // store, clerk, device
    want.extend_from_slice(&[0, 0, 0, 0, 0]); // subject
    want.extend_from_slice(&[0, 0, 0, 1, b'a']); // action
    want.extend_from_slice(&[0, 0, 3]); // rule, policy version, outcome `record`
    want.extend_from_slice(&[0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]); // reasons, evidence, key, attrs
    assert_eq!(r.encode(), want);
    assert_eq!(genesis(), crate::crypto::sha256(b"simgw/audit/v1/genesis"));
    let mut trailing = want.clone();
    trailing.push(0);
    assert_eq!(AuditRecord::decode(&trailing), Err(DecodeError::Trailing));
    assert_eq!(
        AuditRecord::decode(&want[..want.len() - 1]),
        Err(DecodeError::Truncated)
    );
}

fn text() -> impl Strategy<Value = String> {
    "\\PC{0,12}"
}

fn opt() -> impl Strategy<Value = Option<String>> {
    proptest::option::of(text())
}

fn any_record() -> impl Strategy<Value = AuditRecord> {
    (
        (
            any::<u64>(),
            any::<u64>(),
            text(),
            text(),
            opt(),
            opt(),
            opt(),
        ),
        (opt(), opt(), opt(), opt(), opt()),
        (text(), opt(), opt(), 0u8..3),
        (
            proptest::collection::vec(text(), 0..4),
            proptest::collection::vec(text(), 0..4),
            opt(),
            proptest::collection::vec((text(), text()), 0..3),
        ),
    )
        .prop_map(|(a, s, d, l)| AuditRecord {
            seq: a.0,
            at_ms: a.1,
            actor: Actor {
                key_id: a.2,
                channel: a.3,
                store: a.4,
                clerk: a.5,
                device: a.6,
            },
            subject: Subject {
                order_id: s.0,
                iccid: s.1,
                imsi: s.2,
                msisdn: s.3,
                id_hash: s.4,
            },
            action: d.0,
            rule: d.1,
            policy_version: d.2,
            outcome: [Outcome::Allow, Outcome::Refuse, Outcome::Record][usize::from(d.3)],
            reasons: l.0,
            evidence: l.1,
            idempotency_key: l.2,
            attrs: l.3,
        })
}

proptest! {
    #[test]
    fn canonical_encoding_round_trips(r in any_record()) {
        let bytes = r.encode();
        prop_assert_eq!(AuditRecord::decode(&bytes), Ok(r.clone()));
        prop_assert_eq!(RecordRef::parse(&bytes).map(|v| v.to_owned().encode()), Ok(bytes));
    }

    /// Bytes that decode re-encode to themselves: one encoding per record.
    #[test]
    fn decodable_bytes_are_canonical(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
        if let Ok(r) = AuditRecord::decode(&bytes) {
            prop_assert_eq!(r.encode(), bytes);
        }
    }

    /// Any change of one byte, in any record or stored hash, is caught at that record.
    #[test]
    fn any_single_byte_change_is_detected(
        n in 1u64..20, pick in any::<prop::sample::Index>(), pos in any::<prop::sample::Index>(),
        delta in 1u8..=255, in_hash in any::<bool>(),
    ) {
        let mut rows = chain(n);
        let i = pick.index(rows.len());
        if in_hash {
            rows[i].2[pos.index(32)] ^= delta;
        } else {
            let len = rows[i].1.len();
            rows[i].1[pos.index(len)] ^= delta;
        }
        let e = run(&rows).expect_err("detected");
        prop_assert_eq!(e.seq, rows[i].0);
    }
}

/// `cargo test -p gateway --lib audit_verify_rate -- --ignored --nocapture`: prints the
/// verification rate of 200,000 records (the issue asks for at least 200,000/s). Not an
/// assertion: wall-clock speed depends on the machine.
#[test]
#[ignore]
fn audit_verify_rate() {
    let rows = chain(200_000);
    let t = std::time::Instant::now();
    let head = run(&rows).expect("intact");
    let s = t.elapsed().as_secs_f64();
    println!(
        "verified {} records in {s:.3} s: {:.0} records/s",
        head.records,
        head.records as f64 / s
    );
}
