//! Transport-key decryption: FS.28 and single-block AES vectors, round trips, the registry.

mod common;

use aes::cipher::{BlockCipherEncrypt, KeyInit};
use aes::{Aes128, Aes192, Aes256};
use common::{hex, unhex};
use proptest::prelude::*;
use sim_profiles::Key128;
use sim_profiles::transport::{
    Aes128Ecb, FS28_IV, FsCbc, TransportCipher, TransportError, TransportKeys,
};

fn key(s: &str) -> Key128 {
    Key128::from_hex(s).expect("test vector is a 128-bit key")
}

/// FS.28-style column vectors from the project's reference notes (§8): plaintext
/// 000102…0f, AES-128-CBC, IV 16 × 0x23. (Key, ciphertext.)
const FS28_VECTORS: &[(&str, &str)] = &[
    (
        "000102030405065545645645645D0E0F",
        "0b1e1e56cd62645aeb4c2d72a7c98f27",
    ),
    (
        "00040267840507667609045645645E0F",
        "00248276d2734f108f9761e2f98e2a9d",
    ),
];
const FS28_PLAINTEXT: &str = "000102030405060708090a0b0c0d0e0f";

#[test]
fn fs_cbc_decrypts_the_fs28_vectors() {
    for (k, ct) in FS28_VECTORS {
        let from_slice = FsCbc::new(&unhex(k)).expect("16-byte key");
        let from_key = FsCbc::from_key128(&key(k));
        for cipher in [&from_slice, &from_key] {
            let pt = cipher.decrypt_key(&key(ct)).expect("decrypts");
            assert_eq!(hex(pt.expose()), FS28_PLAINTEXT, "key {k}");
            assert_eq!(cipher.name(), "fs28-aes128-cbc");
        }
    }
}

/// FIPS-197 Appendix C.1 (AES-128 known answer): an external vector for the single-block
/// convention.
const FIPS197_KEY: &str = "000102030405060708090a0b0c0d0e0f";
const FIPS197_PLAINTEXT: &str = "00112233445566778899aabbccddeeff";
const FIPS197_CIPHERTEXT: &str = "69c4e0d86a7b0430d8cdb78070b4c55a";

/// A Ki-shaped vector derived for this test: the TS 35.208 test set 1 K
/// (465b5ce8…a6bc) encrypted as one AES-128 block under the transport key
/// 0f0e0d0c0b0a09080706050403020100. The ciphertext was computed with RustCrypto
/// `aes` 0.9 (`Aes128::encrypt_block`, as in `aes128_ecb_vectors` below) and cross-checked
/// with Python `cryptography` (OpenSSL) AES-ECB. Both directions are asserted, so a
/// regression in either the crate or the vector fails.
const DERIVED_TRANSPORT_KEY: &str = "0f0e0d0c0b0a09080706050403020100";
const DERIVED_KI: &str = "465b5ce8b199b49faa5f0a2ee238a6bc";
const DERIVED_EKI: &str = "723caf113b4009a20ba7a0cfebe0f7f5";

#[test]
fn aes128_ecb_vectors() {
    for (tk, pt, ct) in [
        (FIPS197_KEY, FIPS197_PLAINTEXT, FIPS197_CIPHERTEXT),
        (DERIVED_TRANSPORT_KEY, DERIVED_KI, DERIVED_EKI),
    ] {
        // Encrypt direction, with the `aes` crate directly.
        let mut block = key(pt).expose().to_owned();
        Aes128::new(key(tk).expose().into()).encrypt_block((&mut block).into());
        assert_eq!(hex(&block), ct, "encrypt under {tk}");
        // Decrypt direction, through the transport cipher.
        let cipher = Aes128Ecb::new(&key(tk));
        let got = cipher.decrypt_key(&key(ct)).expect("decrypts");
        assert_eq!(hex(got.expose()), pt, "decrypt under {tk}");
        assert_eq!(cipher.name(), "aes128-ecb");
        // And the transport cipher's own encrypt direction (used towards an AUC).
        let enc = cipher.encrypt_key(&key(pt)).expect("encrypts");
        assert_eq!(hex(enc.expose()), ct, "encrypt_key under {tk}");
    }
}

#[test]
fn fs_cbc_encrypt_inverts_decrypt_on_the_fs28_vectors() {
    for (k, ct) in [
        (
            "000102030405065545645645645D0E0F",
            "0b1e1e56cd62645aeb4c2d72a7c98f27",
        ),
        (
            "00040267840507667609045645645E0F",
            "00248276d2734f108f9761e2f98e2a9d",
        ),
    ] {
        let cipher = FsCbc::from_key128(&key(k));
        let enc = cipher
            .encrypt_key(&key("000102030405060708090a0b0c0d0e0f"))
            .expect("encrypts");
        assert_eq!(hex(enc.expose()), ct);
    }
}

#[test]
fn fs_cbc_rejects_unsupported_key_lengths() {
    for len in [0usize, 1, 8, 15, 17, 23, 25, 31, 33, 64] {
        assert_eq!(
            FsCbc::new(&vec![0x5a; len]).map(|c| c.name()),
            Err(TransportError::InvalidKeyLength { got: len }),
            "{len}-byte key"
        );
    }
    for (len, name) in [
        (16, "fs28-aes128-cbc"),
        (24, "fs28-aes192-cbc"),
        (32, "fs28-aes256-cbc"),
    ] {
        assert_eq!(FsCbc::new(&vec![0x5a; len]).map(|c| c.name()), Ok(name));
    }
}

#[test]
fn registry_finds_ciphers_by_index() {
    let mut keys = TransportKeys::new();
    assert!(keys.is_empty());
    keys.insert(11, Box::new(Aes128Ecb::new(&key(DERIVED_TRANSPORT_KEY))))
        .expect("first key under 11");
    let (fs_key, fs_ct) = FS28_VECTORS[0];
    keys.insert(3, Box::new(FsCbc::from_key128(&key(fs_key))))
        .expect("first key under 3");
    assert_eq!(keys.len(), 2);
    assert_eq!(keys.indices().collect::<Vec<_>>(), [3, 11]);

    assert_eq!(keys.get(11).map(|c| c.name()), Ok("aes128-ecb"));
    assert_eq!(keys.get(3).map(|c| c.name()), Ok("fs28-aes128-cbc"));
    let ki = keys.decrypt_key(11, &key(DERIVED_EKI)).expect("index 11");
    assert_eq!(hex(ki.expose()), DERIVED_KI);
    let pt = keys.decrypt_key(3, &key(fs_ct)).expect("index 3");
    assert_eq!(hex(pt.expose()), FS28_PLAINTEXT);

    // A second key under an existing index is refused and leaves the first in place.
    assert_eq!(
        keys.insert(11, Box::new(FsCbc::from_key128(&key(fs_key)))),
        Err(TransportError::DuplicateKeyIndex(11))
    );
    assert_eq!(keys.get(11).map(|c| c.name()), Ok("aes128-ecb"));
}

#[test]
fn unknown_index_is_a_typed_error() {
    let mut keys = TransportKeys::new();
    assert_eq!(
        keys.get(11).map(|c| c.name()),
        Err(TransportError::UnknownKeyIndex(11))
    );
    keys.insert(11, Box::new(Aes128Ecb::new(&key(FIPS197_KEY))))
        .expect("first key under 11");
    for index in [0, 10, 12, u16::MAX] {
        assert_eq!(
            keys.get(index).map(|c| c.name()),
            Err(TransportError::UnknownKeyIndex(index))
        );
        assert_eq!(
            keys.decrypt_key(index, &key(FIPS197_CIPHERTEXT)),
            Err(TransportError::UnknownKeyIndex(index))
        );
    }
    assert_eq!(
        TransportError::UnknownKeyIndex(12).to_string(),
        "no transport key registered under index 12"
    );
}

#[test]
fn debug_and_errors_show_no_key_material() {
    let mut keys = TransportKeys::new();
    keys.insert(1, Box::new(Aes128Ecb::new(&key(DERIVED_TRANSPORT_KEY))))
        .expect("index 1");
    keys.insert(2, Box::new(FsCbc::from_key128(&key(FS28_VECTORS[0].0))))
        .expect("index 2");
    let shown = [
        format!("{keys:?}"),
        format!("{:?}", Aes128Ecb::new(&key(DERIVED_TRANSPORT_KEY))),
        format!("{:?}", FsCbc::from_key128(&key(FS28_VECTORS[0].0))),
        TransportError::InvalidKeyLength { got: 17 }.to_string(),
    ];
    for s in shown {
        let lower = s.to_lowercase();
        for secret in [DERIVED_TRANSPORT_KEY, FS28_VECTORS[0].0] {
            assert!(!lower.contains(&secret.to_lowercase()), "leaks a key: {s}");
        }
    }
}

#[test]
fn ciphers_are_shareable_trait_objects() {
    fn assert_send_sync<T: Send + Sync + ?Sized>() {}
    assert_send_sync::<dyn TransportCipher>();
    assert_send_sync::<TransportKeys>();
}

/// FS.28-style single-block CBC encryption, written independently of the crate:
/// C = E_K(P ⊕ IV).
fn cbc_encrypt_block(key: &[u8], plaintext: &[u8; 16]) -> [u8; 16] {
    let mut block = *plaintext;
    for (b, iv) in block.iter_mut().zip([0x23u8; 16]) {
        *b ^= iv;
    }
    match key.len() {
        16 => Aes128::new_from_slice(key)
            .expect("16")
            .encrypt_block((&mut block).into()),
        24 => Aes192::new_from_slice(key)
            .expect("24")
            .encrypt_block((&mut block).into()),
        32 => Aes256::new_from_slice(key)
            .expect("32")
            .encrypt_block((&mut block).into()),
        n => panic!("no AES key of {n} bytes"),
    }
    block
}

#[test]
fn test_side_iv_is_the_crate_iv() {
    assert_eq!(FS28_IV, [0x23u8; 16]);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn fs_cbc_round_trips_for_every_key_size(
        key_bytes in prop_oneof![
            prop::collection::vec(any::<u8>(), 16),
            prop::collection::vec(any::<u8>(), 24),
            prop::collection::vec(any::<u8>(), 32),
        ],
        plaintext in any::<[u8; 16]>(),
    ) {
        let ct = Key128::from_bytes(cbc_encrypt_block(&key_bytes, &plaintext));
        let cipher = FsCbc::new(&key_bytes).expect("supported length");
        let pt = cipher.decrypt_key(&ct).expect("decrypts");
        prop_assert_eq!(pt.expose(), &plaintext);
    }

    #[test]
    fn aes128_ecb_round_trips(tk in any::<[u8; 16]>(), plaintext in any::<[u8; 16]>()) {
        let mut block = plaintext;
        Aes128::new((&tk).into()).encrypt_block((&mut block).into());
        let cipher = Aes128Ecb::new(&Key128::from_bytes(tk));
        let pt = cipher.decrypt_key(&Key128::from_bytes(block)).expect("decrypts");
        prop_assert_eq!(pt.expose(), &plaintext);
    }

    #[test]
    fn fs_cbc_new_never_panics(key_bytes in prop::collection::vec(any::<u8>(), 0..80)) {
        let len = key_bytes.len();
        match FsCbc::new(&key_bytes) {
            Ok(_) => prop_assert!(matches!(len, 16 | 24 | 32)),
            Err(e) => prop_assert_eq!(e, TransportError::InvalidKeyLength { got: len }),
        }
    }

    #[test]
    fn registry_lookup_never_panics(registered in prop::collection::btree_set(any::<u16>(), 0..8), probe in any::<u16>()) {
        let mut keys = TransportKeys::new();
        for &i in &registered {
            prop_assert!(keys.insert(i, Box::new(Aes128Ecb::new(&Key128::from_bytes([0; 16])))).is_ok());
        }
        let found = keys.get(probe).map(|c| c.name());
        if registered.contains(&probe) {
            prop_assert_eq!(found, Ok("aes128-ecb"));
        } else {
            prop_assert_eq!(found, Err(TransportError::UnknownKeyIndex(probe)));
        }
    }
}
