//! The hash chain: `hash(n) = SHA-256(hash(n-1) ‖ canonical record n)`, from a fixed
//! genesis value. Changing, removing or reordering any record changes every later hash,
//! so `verify` names the first record that does not fit; an anchor (a head hash published
//! or handed to the host operator) also catches records cut from the end.
//!
//! `verify` hashes each record once and allocates nothing per record (the canonical
//! decoder borrows), so it runs far above the 200,000 records/s the issue asks for.

use super::record::{DecodeError, RecordRef};
use ring::digest::{Context, SHA256};

/// A chain hash.
pub type Hash = [u8; 32];

/// The hash before the first record: SHA-256 of a fixed label.
pub fn genesis() -> Hash {
    digest(&[b"simgw/audit/v1/genesis"])
}

/// The hash of a record given the previous one.
pub fn link(prev: &Hash, record: &[u8]) -> Hash {
    digest(&[prev, record])
}

fn digest(parts: &[&[u8]]) -> Hash {
    let mut c = Context::new(&SHA256);
    for p in parts {
        c.update(p);
    }
    let mut out = [0u8; 32];
    out.copy_from_slice(c.finish().as_ref());
    out
}

/// Where verification starts: the first sequence number and the hash before it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Start {
    /// The first record's sequence number.
    pub seq: u64,
    /// The hash of the record before it (the genesis value before record 1).
    pub prev: Hash,
}

impl Start {
    /// The beginning of the chain: record 1 after the genesis value.
    pub fn genesis() -> Self {
        Self {
            seq: 1,
            prev: genesis(),
        }
    }
}

/// A trusted head: the hash of record `seq`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Anchor {
    /// The record.
    pub seq: u64,
    /// Its chain hash.
    pub hash: Hash,
}

impl Anchor {
    /// The printable form (`simgw audit anchor`): `simgw-audit-v1:<seq>:<64 hex>`.
    pub fn to_text(&self) -> String {
        format!(
            "simgw-audit-v1:{}:{}",
            self.seq,
            crate::crypto::hex(&self.hash)
        )
    }

    /// Parses the printable form.
    pub fn parse(s: &str) -> Option<Self> {
        let rest = s.trim().strip_prefix("simgw-audit-v1:")?;
        let (seq, hex) = rest.split_once(':')?;
        let mut hash = [0u8; 32];
        if hex.len() != 64 {
            return None;
        }
        sim_profiles::secret::decode_hex_into(hex, &mut hash).ok()?;
        Some(Self {
            seq: seq.parse().ok()?,
            hash,
        })
    }
}

/// The end of a verified chain.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Head {
    /// The last record verified (`start.seq - 1` if there were none).
    pub seq: u64,
    /// Its chain hash (the start's if there were none).
    pub hash: Hash,
    /// How many records were verified.
    pub records: u64,
    /// Whether an anchor was given and matched.
    pub anchored: bool,
}

/// What is wrong with the first bad record.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Why {
    /// The stored hash is not the hash of the previous hash and this record.
    #[error("hash mismatch: the record or its hash was changed, or a record before it")]
    HashMismatch,
    /// This sequence number is absent (a later one came first).
    #[error("missing: the record was deleted")]
    Missing,
    /// A sequence number came again or went back.
    #[error("out of order: sequence number repeated or going back")]
    OutOfOrder,
    /// The sequence number inside the record is not the one it is stored under.
    #[error("sequence mismatch: the record was moved")]
    SeqMismatch,
    /// The bytes are not a canonical record.
    #[error("undecodable: {0}")]
    Undecodable(DecodeError),
    /// The record's hash differs from the anchor's.
    #[error("does not match the anchor")]
    AnchorMismatch,
    /// The chain ends before the anchored record (records cut from the end).
    #[error("the chain ends before the anchored record")]
    AnchorNotReached,
}

/// The first bad record and why.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("audit record {seq}: {why}")]
pub struct VerifyError {
    /// Its sequence number.
    pub seq: u64,
    /// What is wrong.
    pub why: Why,
}

/// Verifies stored records `(seq, canonical bytes, stored hash)` in the order the store
/// lists them (by sequence number), from `start`, and against `anchor` if given. Returns
/// the head, or the first record that does not fit.
pub fn verify<I, B>(records: I, start: Start, anchor: Option<Anchor>) -> Result<Head, VerifyError>
where
    I: IntoIterator<Item = (u64, B, Hash)>,
    B: AsRef<[u8]>,
{
    let mut expected = start.seq;
    let mut prev = start.prev;
    let mut count = 0u64;
    let mut anchored = false;
    let bad = |seq, why| Err(VerifyError { seq, why });
    if let Some(a) = anchor {
        if a.seq.checked_add(1) == Some(start.seq) {
            if a.hash != start.prev {
                return bad(a.seq, Why::AnchorMismatch);
            }
            anchored = true;
        }
    }
    for (seq, bytes, stored) in records {
        if seq > expected {
            return bad(expected, Why::Missing);
        }
        if seq < expected {
            return bad(seq, Why::OutOfOrder);
        }
        let bytes = bytes.as_ref();
        match RecordRef::parse(bytes) {
            Err(e) => return bad(seq, Why::Undecodable(e)),
            Ok(r) if r.seq != seq => return bad(seq, Why::SeqMismatch),
            Ok(_) => {}
        }
        let hash = link(&prev, bytes);
        if hash != stored {
            return bad(seq, Why::HashMismatch);
        }
        if let Some(a) = anchor {
            if a.seq == seq {
                if a.hash != hash {
                    return bad(seq, Why::AnchorMismatch);
                }
                anchored = true;
            }
        }
        prev = hash;
        count += 1;
        expected = expected.saturating_add(1);
    }
    if let Some(a) = anchor {
        if a.seq >= expected {
            return bad(expected, Why::AnchorNotReached);
        }
    }
    Ok(Head {
        seq: expected.saturating_sub(1),
        hash: prev,
        records: count,
        anchored,
    })
}
