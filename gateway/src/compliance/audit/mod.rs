//! The tamper-evident audit chain: canonical record bytes (`record.rs`) linked by SHA-256
//! (`chain.rs`). The store appends `(seq, bytes, hash)` in the commit of the change it
//! records (`append`); `simgw audit verify` streams the rows back through `verify`.

pub mod chain;
pub mod record;

pub use chain::{Anchor, Hash, Head, Start, VerifyError, Why, genesis, link, verify};
pub use record::{Actor, AuditRecord, DecodeError, Outcome, RecordRef, Subject};

/// The canonical bytes of `record` and its chain hash after `prev` (the hash of the
/// record before it, or `genesis()` for record 1): the row the store writes.
pub fn append(prev: &Hash, record: &AuditRecord) -> (Vec<u8>, Hash) {
    let bytes = record.encode();
    let hash = link(prev, &bytes);
    (bytes, hash)
}

#[cfg(test)]
mod tests;
