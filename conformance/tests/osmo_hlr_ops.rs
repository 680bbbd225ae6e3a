//! The OsmoHLR adapter's subscription operations after day one against a real `osmo-hlr`
//! (1.5.0), read back over CTRL: the SIM-swap sequence (each step repeated), the number
//! change, detach, and barring as `nam_cs`/`nam_ps`. Each test starts its own instance.

use adapters::hlr::{
    AuthData, Barring, DeprovisionOutcome, FaultClass, HlrProfile, HlrProvisioner, KiMaterial,
    ProvisionOutcome, SubscriberSpec,
};
use adapters::osmo::{CtrlClient, CtrlError, OsmoConfig, OsmoHlr};
use conformance::osmo_peer::OsmoHlrPeer;
use sim_profiles::{Imsi, Key128, Msisdn};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU8, Ordering};
use std::time::Duration;

/// TS 35.208 test sets 1 and 2: the old and the new card.
const K_OLD: &str = "465b5ce8b199b49faa5f0a2ee238a6bc";
const OPC_OLD: &str = "cd63cb71954a9f4e48a5994e37a02baf";
const K_NEW: &str = "0396eb317b6d1c36f19c1c84cd6ffd16";
const OPC_NEW: &str = "53c15671c60a4b731c55b4a441c0bde2";
const OLD_IMSI: &str = "001010000000001";
const NEW_IMSI: &str = "001010000000002";
const OTHER_IMSI: &str = "001010000000003";
const NUMBER: &str = "491700000001";
const NUMBER2: &str = "491700000002";
const NUMBER3: &str = "491700000003";

/// Loopback hosts of this binary (others use 21.. and 121..), one per instance.
static NEXT_HOST: AtomicU8 = AtomicU8::new(181);

/// Bind `_peer` when destructuring: dropping it kills the instance.
struct Rig {
    _peer: OsmoHlrPeer,
    hlr: OsmoHlr,
    ctrl: CtrlClient,
}

async fn rig() -> Rig {
    let peer = OsmoHlrPeer::start_on(NEXT_HOST.fetch_add(1, Ordering::Relaxed))
        .await
        .expect("osmo-hlr (apt-get install osmo-hlr)");
    let hlr = OsmoHlr::new(OsmoConfig {
        addr: peer.ctrl_addr(),
        request_timeout: Duration::from_secs(3),
    });
    let ctrl = CtrlClient::new(peer.ctrl_addr(), Duration::from_secs(5));
    Rig {
        _peer: peer,
        hlr,
        ctrl,
    }
}

fn imsi(s: &str) -> Imsi {
    s.parse().expect("IMSI")
}

fn msisdn(s: &str) -> Msisdn {
    s.parse().expect("MSISDN")
}

fn key(hex: &str) -> Key128 {
    Key128::from_hex(hex).expect("test key")
}

fn spec(i: &str, number: Option<&str>) -> SubscriberSpec {
    let (k, opc) = if i == OLD_IMSI {
        (K_OLD, OPC_OLD)
    } else {
        (K_NEW, OPC_NEW)
    };
    SubscriberSpec {
        imsi: imsi(i),
        msisdn: number.map(msisdn),
        auth: AuthData {
            ki: KiMaterial::Clear(key(k)),
            opc: Some(key(opc)),
            fsetind: 0,
        },
        profile: HlrProfile { profile_id: 1 },
        barring: Barring::default(),
    }
}

/// `GET <selector>.info-all` as a map, `None` for no such subscriber.
async fn info(ctrl: &CtrlClient, selector: &str) -> Option<HashMap<String, String>> {
    match ctrl.get(&format!("subscriber.{selector}.info-all")).await {
        Ok(text) => Some(
            text.split('\n')
                .filter_map(|l| l.split_once('\t'))
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect(),
        ),
        Err(CtrlError::Refused(r)) if r == "No such subscriber." => None,
        Err(e) => panic!("info-all of {selector}: {e}"),
    }
}

async fn by_imsi(ctrl: &CtrlClient, i: &str) -> Option<HashMap<String, String>> {
    info(ctrl, &format!("by-imsi-{i}")).await
}

/// The IMSI holding `number` as OsmoHLR resolves it (its MSISDN column is UNIQUE).
async fn holder(ctrl: &CtrlClient, number: &str) -> Option<String> {
    info(ctrl, &format!("by-msisdn-{number}"))
        .await
        .map(|i| i["imsi"].clone())
}

/// Each named subscriber's MSISDN (`None`: no number; absent subscribers left out).
async fn numbers(ctrl: &CtrlClient, imsis: &[&str]) -> Vec<(String, Option<String>)> {
    let mut out = Vec::new();
    for i in imsis {
        if let Some(info) = by_imsi(ctrl, i).await {
            out.push(((*i).to_owned(), info.get("msisdn").cloned()));
        }
    }
    out
}

fn field<'a>(info: &'a HashMap<String, String>, key: &str) -> &'a str {
    info.get(key).map(String::as_str).unwrap_or("<absent>")
}

#[tokio::test]
async fn sim_swap_sequence_leaves_exactly_one_imsi_holding_the_number() {
    let Rig { _peer, hlr, ctrl } = rig().await;
    let both = [OLD_IMSI, NEW_IMSI];
    let has = |i: &str, n: Option<&str>| (i.to_owned(), n.map(str::to_owned));
    hlr.provision(&spec(OLD_IMSI, Some(NUMBER)))
        .await
        .expect("day one");

    // 1. The new card without a number (repeated).
    let new_bare = spec(NEW_IMSI, None);
    for expected in [ProvisionOutcome::Created, ProvisionOutcome::AlreadyPresent] {
        assert_eq!(hlr.provision(&new_bare).await.expect("step 1"), expected);
        assert_eq!(
            numbers(&ctrl, &both).await,
            [has(OLD_IMSI, Some(NUMBER)), has(NEW_IMSI, None)]
        );
    }
    let new_auth = by_imsi(&ctrl, NEW_IMSI).await.expect("new card");
    assert_eq!(field(&new_auth, "aud3g.k"), K_NEW);
    assert_eq!(field(&new_auth, "aud3g.opc"), OPC_NEW);

    // The number cannot be provisioned while the old card holds it: permanent.
    let new = spec(NEW_IMSI, Some(NUMBER));
    let err = hlr.provision(&new).await.expect_err("number held");
    assert_eq!(err.class, FaultClass::Conflict, "{err}");
    assert!(!err.retryable());
    assert!(err.message.contains("another IMSI"), "{err}");
    assert_eq!(holder(&ctrl, NUMBER).await.as_deref(), Some(OLD_IMSI));
    assert_eq!(by_imsi(&ctrl, NEW_IMSI).await, Some(new_auth.clone()));

    // 2. Detach from the old card (repeated); its keys stay.
    let old_auth = by_imsi(&ctrl, OLD_IMSI).await.expect("old card");
    for _ in 0..2 {
        hlr.detach_msisdn(&imsi(OLD_IMSI), &msisdn(NUMBER))
            .await
            .expect("step 2");
        assert_eq!(
            numbers(&ctrl, &both).await,
            [has(OLD_IMSI, None), has(NEW_IMSI, None)]
        );
        assert_eq!(holder(&ctrl, NUMBER).await, None);
    }
    let old_now = by_imsi(&ctrl, OLD_IMSI).await.expect("old card");
    for k in ["aud3g.k", "aud3g.opc", "aud3g.sqn"] {
        assert_eq!(field(&old_now, k), field(&old_auth, k), "{k}");
    }

    // 3. The new card takes the number (repeated); its keys and SQN are not re-sent.
    for _ in 0..2 {
        assert_eq!(
            hlr.provision(&new).await.expect("step 3"),
            ProvisionOutcome::AlreadyPresent
        );
        assert_eq!(
            numbers(&ctrl, &both).await,
            [has(OLD_IMSI, None), has(NEW_IMSI, Some(NUMBER))]
        );
    }
    let new_now = by_imsi(&ctrl, NEW_IMSI).await.expect("new card");
    for k in ["aud3g.k", "aud3g.opc", "aud3g.sqn"] {
        assert_eq!(field(&new_now, k), field(&new_auth, k), "{k}");
    }
    // Earlier steps repeated late change nothing: detach finds no number on the old
    // card, step 1 refuses to take the number away again.
    hlr.detach_msisdn(&imsi(OLD_IMSI), &msisdn(NUMBER))
        .await
        .expect("step 2 late");
    let err = hlr.provision(&new_bare).await.expect_err("step 1 late");
    assert_eq!(err.class, FaultClass::Conflict);
    assert_eq!(holder(&ctrl, NUMBER).await.as_deref(), Some(NEW_IMSI));

    // 4. The old card goes (repeated).
    let old_bare = spec(OLD_IMSI, None);
    assert_eq!(
        hlr.deprovision(&old_bare).await.expect("step 4"),
        DeprovisionOutcome::Deleted
    );
    assert_eq!(
        hlr.deprovision(&old_bare).await.expect("step 4 again"),
        DeprovisionOutcome::NotPresent
    );
    assert_eq!(numbers(&ctrl, &both).await, [has(NEW_IMSI, Some(NUMBER))]);
    assert_eq!(holder(&ctrl, NUMBER).await.as_deref(), Some(NEW_IMSI));
    let state = hlr
        .query(&imsi(NEW_IMSI))
        .await
        .expect("query")
        .expect("present");
    assert_eq!(state.hlr.and_then(|h| h.msisdn), Some(msisdn(NUMBER)));
}

#[tokio::test]
async fn numberless_specs_never_touch_a_subscriber_with_a_number() {
    let Rig { _peer, hlr, ctrl } = rig().await;
    hlr.provision(&spec(OLD_IMSI, Some(NUMBER)))
        .await
        .expect("provision");
    let before = by_imsi(&ctrl, OLD_IMSI).await;
    assert_eq!(
        hlr.deprovision(&spec(OLD_IMSI, None))
            .await
            .expect("deprovision"),
        DeprovisionOutcome::LeftForeign
    );
    let err = hlr
        .provision(&spec(OLD_IMSI, None))
        .await
        .expect_err("conflict");
    assert_eq!(err.class, FaultClass::Conflict);
    assert_eq!(by_imsi(&ctrl, OLD_IMSI).await, before);
}

#[tokio::test]
async fn detach_is_idempotent_and_refuses_another_number() {
    let Rig { _peer, hlr, ctrl } = rig().await;
    hlr.detach_msisdn(&imsi(OLD_IMSI), &msisdn(NUMBER))
        .await
        .expect("absent subscriber");
    hlr.provision(&spec(OLD_IMSI, Some(NUMBER2)))
        .await
        .expect("provision");
    let err = hlr
        .detach_msisdn(&imsi(OLD_IMSI), &msisdn(NUMBER))
        .await
        .expect_err("another number");
    assert_eq!(err.class, FaultClass::Conflict);
    assert!(!err.retryable());
    assert_eq!(holder(&ctrl, NUMBER2).await.as_deref(), Some(OLD_IMSI));
}

#[tokio::test]
async fn change_msisdn_in_place_is_idempotent_and_keeps_numbers_unique() {
    let Rig { _peer, hlr, ctrl } = rig().await;
    let subscriber = imsi(OLD_IMSI);
    hlr.provision(&spec(OLD_IMSI, Some(NUMBER)))
        .await
        .expect("provision");
    hlr.provision(&spec(OTHER_IMSI, Some(NUMBER3)))
        .await
        .expect("someone else");
    let before = by_imsi(&ctrl, OLD_IMSI).await.expect("present");

    for _ in 0..2 {
        hlr.change_msisdn(&subscriber, &msisdn(NUMBER), &msisdn(NUMBER2))
            .await
            .expect("change");
        assert_eq!(holder(&ctrl, NUMBER2).await.as_deref(), Some(OLD_IMSI));
        assert_eq!(holder(&ctrl, NUMBER).await, None, "the old number is free");
    }
    let after = by_imsi(&ctrl, OLD_IMSI).await.expect("present");
    for k in [
        "id",
        "aud3g.k",
        "aud3g.opc",
        "aud3g.sqn",
        "nam_cs",
        "nam_ps",
    ] {
        assert_eq!(field(&after, k), field(&before, k), "{k}");
    }

    let err = hlr
        .change_msisdn(&subscriber, &msisdn(NUMBER2), &msisdn(NUMBER3))
        .await
        .expect_err("held by another IMSI");
    assert_eq!(err.class, FaultClass::Conflict, "{err}");
    assert!(!err.retryable());
    assert!(err.message.contains("another IMSI"), "{err}");
    assert_eq!(holder(&ctrl, NUMBER2).await.as_deref(), Some(OLD_IMSI));
    assert_eq!(holder(&ctrl, NUMBER3).await.as_deref(), Some(OTHER_IMSI));

    let err = hlr
        .change_msisdn(&subscriber, &msisdn(NUMBER), &msisdn("491700000009"))
        .await
        .expect_err("on neither number");
    assert_eq!(err.class, FaultClass::Conflict);
    assert_eq!(holder(&ctrl, NUMBER2).await.as_deref(), Some(OLD_IMSI));

    let err = hlr
        .change_msisdn(&imsi(NEW_IMSI), &msisdn(NUMBER), &msisdn(NUMBER2))
        .await
        .expect_err("absent");
    assert_eq!(err.class, FaultClass::NotFound);
}

#[tokio::test]
async fn barring_reads_back_as_nam_cs_and_nam_ps_and_repairs_a_half_write() {
    let Rig { _peer, hlr, ctrl } = rig().await;
    let subscriber = imsi(OLD_IMSI);
    hlr.provision(&spec(OLD_IMSI, Some(NUMBER)))
        .await
        .expect("provision");
    let nam = |i: HashMap<String, String>| {
        (
            field(&i, "nam_cs").to_owned(),
            field(&i, "nam_ps").to_owned(),
        )
    };
    let flags = |cs: &str, ps: &str| (cs.to_owned(), ps.to_owned());
    let barred = Barring {
        outgoing: true,
        incoming: true,
    };
    let read = async |hlr: &OsmoHlr| {
        hlr.query(&subscriber)
            .await
            .expect("query")
            .and_then(|s| s.hlr)
            .expect("hlr")
            .barring
    };
    for _ in 0..2 {
        hlr.set_barring(&subscriber, barred).await.expect("bar");
        let now = by_imsi(&ctrl, OLD_IMSI).await.expect("present");
        assert_eq!(nam(now), flags("0", "0"));
        assert_eq!(read(&hlr).await, barred);
    }

    // A suspend that stopped half-way (CS only) is not a barring; set_barring finishes it.
    hlr.set_barring(&subscriber, Barring::default())
        .await
        .expect("unbar");
    ctrl.set(&format!("subscriber.by-imsi-{OLD_IMSI}.cs-enabled"), "0")
        .await
        .expect("half write");
    assert_eq!(read(&hlr).await, Barring::default());
    hlr.set_barring(&subscriber, barred).await.expect("bar");
    let now = by_imsi(&ctrl, OLD_IMSI).await.expect("present");
    assert_eq!(nam(now), flags("0", "0"));
    assert_eq!(read(&hlr).await, barred);

    for _ in 0..2 {
        hlr.set_barring(&subscriber, Barring::default())
            .await
            .expect("unbar");
        let now = by_imsi(&ctrl, OLD_IMSI).await.expect("present");
        assert_eq!(nam(now), flags("1", "1"));
        assert_eq!(read(&hlr).await, Barring::default());
    }
}
