//! MILENAGE (TS 35.206) against the TS 35.208 §4.3 conformance test sets, plus properties.

mod common;

use common::{hex, unhex};
use proptest::prelude::*;
use sim_profiles::Key128;
use sim_profiles::milenage::{self, Milenage};

/// One TS 35.208 §4.3 test set: inputs and every function output.
struct TestSet {
    name: &'static str,
    k: &'static str,
    rand: &'static str,
    sqn: &'static str,
    amf: &'static str,
    op: &'static str,
    opc: &'static str,
    f1: &'static str,
    f1star: &'static str,
    f2: &'static str,
    f3: &'static str,
    f4: &'static str,
    f5: &'static str,
    f5star: &'static str,
    /// AUTN = (SQN ⊕ AK) ‖ AMF ‖ MAC-A. TS 35.208 does not list it; where present it was
    /// derived by hand from the set's own SQN, AK, AMF and MAC-A.
    autn: Option<&'static str>,
}

/// Sets 1 and 2: copied from the project's reference notes (TS 35.208 §4.3, OPc
/// recomputed there independently). Sets 3 to 6: TS 35.208 §4.3 test sets 3 to 6 as
/// published in the standard; every byte also agrees with this implementation, which sets
/// 1 and 2 pin down independently.
const SETS: &[TestSet] = &[
    TestSet {
        name: "TS 35.208 test set 1",
        k: "465b5ce8b199b49faa5f0a2ee238a6bc",
        rand: "23553cbe9637a89d218ae64dae47bf35",
        sqn: "ff9bb4d0b607",
        amf: "b9b9",
        op: "cdc202d5123e20f62b6d676ac72cb318",
        opc: "cd63cb71954a9f4e48a5994e37a02baf",
        f1: "4a9ffac354dfafb3",
        f1star: "01cfaf9ec4e871e9",
        f2: "a54211d5e3ba50bf",
        f3: "b40ba9a3c58b2a05bbf0d987b21bf8cb",
        f4: "f769bcd751044604127672711c6d3441",
        f5: "aa689c648370",
        f5star: "451e8beca43b",
        autn: Some("55f328b43577b9b94a9ffac354dfafb3"),
    },
    TestSet {
        name: "TS 35.208 test set 2",
        k: "0396eb317b6d1c36f19c1c84cd6ffd16",
        rand: "c00d603103dcee52c4478119494202e8",
        sqn: "fd8eef40df7d",
        amf: "af17",
        op: "ff53bade17df5d4e793073ce9d7579fa",
        opc: "53c15671c60a4b731c55b4a441c0bde2",
        f1: "5df5b31807e258b0",
        f1star: "a8c016e51ef4a343",
        f2: "d3a628ed988620f0",
        f3: "58c433ff7a7082acd424220f2b67c556",
        f4: "21a8c1f929702adb3e738488b9f5c5da",
        f5: "c47783995f72",
        f5star: "30f1197061c1",
        autn: Some("39f96cd9800faf175df5b31807e258b0"),
    },
    TestSet {
        name: "TS 35.208 test set 3",
        k: "fec86ba6eb707ed08905757b1bb44b8f",
        rand: "9f7c8d021accf4db213ccff0c7f71a6a",
        sqn: "9d0277595ffc",
        amf: "725c",
        op: "dbc59adcb6f9a0ef735477b7fadf8374",
        opc: "1006020f0a478bf6b699f15c062e42b3",
        f1: "9cabc3e99baf7281",
        f1star: "95814ba2b3044324",
        f2: "8011c48c0c214ed2",
        f3: "5dbdbb2954e8f3cde665b046179a5098",
        f4: "59a92d3b476a0443487055cf88b2307b",
        f5: "33484dc2136b",
        f5star: "deacdd848cc6",
        autn: None,
    },
    TestSet {
        name: "TS 35.208 test set 4",
        k: "9e5944aea94b81165c82fbf9f32db751",
        rand: "ce83dbc54ac0274a157c17f80d017bd6",
        sqn: "0b604a81eca8",
        amf: "9e09",
        op: "223014c5806694c007ca1eeef57f004f",
        opc: "a64a507ae1a2a98bb88eb4210135dc87",
        f1: "74a58220cba84c49",
        f1star: "ac2cc74a96871837",
        f2: "f365cd683cd92e96",
        f3: "e203edb3971574f5a94b0d61b816345d",
        f4: "0c4524adeac041c4dd830d20854fc46b",
        f5: "f0b9c08ad02e",
        f5star: "6085a86c6f63",
        autn: None,
    },
    TestSet {
        name: "TS 35.208 test set 5",
        k: "4ab1deb05ca6ceb051fc98e77d026a84",
        rand: "74b0cd6031a1c8339b2b6ce2b8c4a186",
        sqn: "e880a1b580b6",
        amf: "9f07",
        op: "2d16c5cd1fdf6b22383584e3bef2a8d8",
        opc: "dcf07cbd51855290b92a07a9891e523e",
        f1: "49e785dd12626ef2",
        f1star: "9e85790336bb3fa2",
        f2: "5860fc1bce351e7e",
        f3: "7657766b373d1c2138f307e3de9242f9",
        f4: "1c42e960d89b8fa99f2744e0708ccb53",
        f5: "31e11a609118",
        f5star: "fe2555e54aa9",
        autn: None,
    },
    TestSet {
        name: "TS 35.208 test set 6",
        k: "6c38a116ac280c454f59332ee35c8c4f",
        rand: "ee6466bc96202c5a557abbeff8babf63",
        sqn: "414b98222181",
        amf: "4464",
        op: "1ba00a1a7c6700ac8c3ff3e96ad08725",
        opc: "3803ef5363b947c6aaa225e58fae3934",
        f1: "078adfb488241a57",
        f1star: "80246b8d0186bcf1",
        f2: "16c8233f05a0ac28",
        f3: "3f8c7587fe8e4b233af676aede30ba3b",
        f4: "a7466cc1e6b2a1337d49d3b66e95d7b4",
        f5: "45b0f69ab06c",
        f5star: "1f53cd2b1113",
        autn: None,
    },
];

fn arr<const N: usize>(s: &str) -> [u8; N] {
    unhex(s)
        .try_into()
        .expect("test vector has the right length")
}

fn key(s: &str) -> Key128 {
    Key128::from_hex(s).expect("test vector is a 128-bit key")
}

/// The AUTN a test set implies: (SQN ⊕ AK) ‖ AMF ‖ MAC-A, built independently of the crate.
fn expected_autn(set: &TestSet) -> String {
    let sqn_xor_ak: Vec<u8> = unhex(set.sqn)
        .iter()
        .zip(unhex(set.f5))
        .map(|(s, a)| s ^ a)
        .collect();
    format!("{}{}{}", hex(&sqn_xor_ak), set.amf, set.f1)
}

/// Checks every output of `m` against `set`.
fn check_outputs(m: &Milenage, set: &TestSet) {
    let (rand, sqn, amf) = (arr(set.rand), arr(set.sqn), arr(set.amf));
    let name = set.name;
    assert_eq!(hex(&m.f1(&rand, &sqn, &amf)), set.f1, "{name}: f1");
    assert_eq!(hex(&m.f1star(&rand, &sqn, &amf)), set.f1star, "{name}: f1*");
    let (res, ck, ik, ak) = m.f2345(&rand);
    assert_eq!(hex(&res), set.f2, "{name}: f2 (RES)");
    assert_eq!(hex(ck.expose()), set.f3, "{name}: f3 (CK)");
    assert_eq!(hex(ik.expose()), set.f4, "{name}: f4 (IK)");
    assert_eq!(hex(&ak), set.f5, "{name}: f5 (AK)");
    assert_eq!(hex(&m.f5star(&rand)), set.f5star, "{name}: f5*");
    let autn = hex(&m.autn(&rand, &sqn, &amf));
    assert_eq!(autn, expected_autn(set), "{name}: AUTN");
    if let Some(want) = set.autn {
        assert_eq!(autn, want, "{name}: AUTN (listed)");
    }
}

#[test]
fn opc_matches_every_test_set() {
    for set in SETS {
        let got = milenage::opc(&key(set.k), &key(set.op));
        assert_eq!(hex(got.expose()), set.opc, "{}: OPc", set.name);
    }
}

#[test]
fn keyed_with_opc_matches_every_test_set() {
    for set in SETS {
        check_outputs(&Milenage::new(&key(set.k), &key(set.opc)), set);
    }
}

#[test]
fn keyed_with_op_matches_every_test_set() {
    for set in SETS {
        check_outputs(&Milenage::with_op(&key(set.k), &key(set.op)), set);
    }
}

#[test]
fn constants_are_the_ts_35_206_and_tca_defaults() {
    // TCA PE-AKAParameter rotationConstants DEFAULT '4000204060'H (bits).
    assert_eq!(milenage::ROTATION_CONSTANTS, [0x40, 0x00, 0x20, 0x40, 0x60]);
    assert_eq!(milenage::XOR_CONSTANTS, [0, 1, 2, 4, 8]);
}

#[test]
fn debug_shows_no_key_material() {
    for set in SETS {
        let shown = [
            format!("{:?}", Milenage::new(&key(set.k), &key(set.opc))),
            format!("{:?}", Milenage::with_op(&key(set.k), &key(set.op))),
        ];
        for s in shown {
            let lower = s.to_lowercase();
            for secret in [set.k, set.op, set.opc] {
                assert!(
                    !lower.contains(secret),
                    "{}: Debug leaks a key: {s}",
                    set.name
                );
            }
        }
    }
}

fn all_outputs(m: &Milenage, rand: &[u8; 16], sqn: &[u8; 6], amf: &[u8; 2]) -> Vec<Vec<u8>> {
    let (res, ck, ik, ak) = m.f2345(rand);
    vec![
        m.f1(rand, sqn, amf).to_vec(),
        m.f1star(rand, sqn, amf).to_vec(),
        res.to_vec(),
        ck.expose().to_vec(),
        ik.expose().to_vec(),
        ak.to_vec(),
        m.f5star(rand).to_vec(),
        m.autn(rand, sqn, amf).to_vec(),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn with_op_equals_new_with_derived_opc(
        k in any::<[u8; 16]>(),
        op in any::<[u8; 16]>(),
        rand in any::<[u8; 16]>(),
        sqn in any::<[u8; 6]>(),
        amf in any::<[u8; 2]>(),
    ) {
        let (k, op) = (Key128::from_bytes(k), Key128::from_bytes(op));
        let derived = Milenage::new(&k, &milenage::opc(&k, &op));
        let direct = Milenage::with_op(&k, &op);
        prop_assert_eq!(
            all_outputs(&direct, &rand, &sqn, &amf),
            all_outputs(&derived, &rand, &sqn, &amf)
        );
    }

    #[test]
    fn one_bit_of_k_changes_res(
        k in any::<[u8; 16]>(),
        opc in any::<[u8; 16]>(),
        rand in any::<[u8; 16]>(),
        bit in 0usize..128,
    ) {
        let mut flipped = k;
        flipped[bit / 8] ^= 0x80 >> (bit % 8);
        let opc = Key128::from_bytes(opc);
        let (res, ..) = Milenage::new(&Key128::from_bytes(k), &opc).f2345(&rand);
        let (res_flipped, ..) = Milenage::new(&Key128::from_bytes(flipped), &opc).f2345(&rand);
        prop_assert_ne!(res, res_flipped);
    }

    #[test]
    fn autn_is_sqn_xor_ak_amf_mac_a(
        k in any::<[u8; 16]>(),
        opc in any::<[u8; 16]>(),
        rand in any::<[u8; 16]>(),
        sqn in any::<[u8; 6]>(),
        amf in any::<[u8; 2]>(),
    ) {
        let m = Milenage::new(&Key128::from_bytes(k), &Key128::from_bytes(opc));
        let (_, _, _, ak) = m.f2345(&rand);
        let mut want: Vec<u8> = sqn.iter().zip(ak).map(|(s, a)| s ^ a).collect();
        want.extend_from_slice(&amf);
        want.extend_from_slice(&m.f1(&rand, &sqn, &amf));
        prop_assert_eq!(m.autn(&rand, &sqn, &amf).to_vec(), want);
    }
}
