//! Decoded orders remembered by their stored bytes, in the thread that writes them. Every
//! write of an order reads the stored one first (its version, and what changed: flight,
//! port indexes and events, compliance), and a hub message read it twice (to decide,
//! then to write); decoding an order's JSON was about a sixth of the store writer's CPU
//! in `simgw bench --port-in`, whose orders are written ten times each. The writer
//! remembers what it wrote, so the next write of the order reads it back without
//! decoding.
//!
//! Decoding is a function of the bytes alone, so an entry is used only while the stored
//! bytes are the very bytes remembered: a write by any other path, a group rolled back
//! or an order removed makes them differ, and the stored value is decoded afresh. Per
//! thread (each store's writer is one thread; a read elsewhere keeps a memo of its own),
//! so no lock. An order that ends is forgotten (it is not written again), and past
//! [`REMEMBERED`] orders the memo starts again.

use crate::order::Order;
use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::Arc;

/// How many orders one thread remembers (the orders in flight a writer is busy with; a
/// port parked for days is decoded again when it wakes). An entry is an order twice, its
/// JSON and its decoded form, a few KiB: the memo holds at most some tens of MiB.
const REMEMBERED: usize = 4096;

type Entry = (Box<[u8]>, Arc<Order>);

thread_local! {
    static MEMO: RefCell<HashMap<String, Entry>> = RefCell::default();
}

/// The order `id` whose stored value is `bytes`: the one remembered with these same bytes,
/// else `decode(bytes)` (remembered when it succeeds).
pub fn order_from_bytes<E>(
    id: &str,
    bytes: &[u8],
    decode: impl FnOnce(&[u8]) -> Result<Order, E>,
) -> Result<Arc<Order>, E> {
    let hit = MEMO.with_borrow(|m| {
        m.get(id)
            .filter(|(b, _)| **b == *bytes)
            .map(|(_, o)| Arc::clone(o))
    });
    if let Some(order) = hit {
        return Ok(order);
    }
    let order = Arc::new(decode(bytes)?);
    keep(id, bytes.into(), Arc::clone(&order));
    Ok(order)
}

/// Remembers that order `order` was just stored as `bytes` (its encoding); an order that
/// ended is forgotten instead.
pub fn written(order: &Order, bytes: Vec<u8>) {
    if order.status.is_terminal() {
        MEMO.with_borrow_mut(|m| m.remove(order.id.as_str()));
    } else {
        keep(&order.id, bytes.into_boxed_slice(), Arc::new(order.clone()));
    }
}

fn keep(id: &str, bytes: Box<[u8]>, order: Arc<Order>) {
    MEMO.with_borrow_mut(|m| {
        if m.len() >= REMEMBERED && !m.contains_key(id) {
            m.clear();
        }
        match m.get_mut(id) {
            Some(entry) => *entry = (bytes, order),
            None => {
                m.insert(id.to_owned(), (bytes, order));
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::order::OrderStatus;

    fn order(id: &str, status: OrderStatus) -> Order {
        let mut o = crate::engine::machine::fixture_order();
        o.id = id.into();
        o.status = status;
        o
    }

    fn decode(b: &[u8]) -> Result<Order, serde_json::Error> {
        serde_json::from_slice(b)
    }

    fn never(_: &[u8]) -> Result<Order, ()> {
        panic!("decoded bytes the memo holds")
    }

    #[test]
    fn what_was_written_is_read_back_without_decoding_and_a_change_is_decoded() {
        let first = order("ord_memo_1", OrderStatus::Reserved);
        let bytes = serde_json::to_vec(&first).expect("encode");
        written(&first, bytes.clone());
        let back = order_from_bytes("ord_memo_1", &bytes, never).expect("remembered");
        assert_eq!(*back, first);
        let mut other = first.clone();
        other.version += 1;
        let changed = serde_json::to_vec(&other).expect("encode");
        let read = order_from_bytes("ord_memo_1", &changed, decode).expect("decode");
        assert_eq!(read.version, first.version + 1, "other bytes are decoded");
        let again = order_from_bytes("ord_memo_1", &changed, never).expect("remembered");
        assert!(Arc::ptr_eq(&read, &again), "what was decoded is remembered");
        let old = order_from_bytes("ord_memo_1", &bytes, decode).expect("decode");
        assert_eq!(*old, first, "a change back is decoded, not a stale entry");
    }

    #[test]
    fn an_ended_order_is_forgotten_and_a_failed_decode_not_remembered() {
        let live = order("ord_memo_2", OrderStatus::Reserved);
        let bytes = serde_json::to_vec(&live).expect("encode");
        written(&live, bytes.clone());
        let ended = order("ord_memo_2", OrderStatus::Failed);
        written(&ended, serde_json::to_vec(&ended).expect("encode"));
        assert!(MEMO.with_borrow(|m| !m.contains_key("ord_memo_2")));
        assert!(order_from_bytes("ord_memo_3", b"{not json", decode).is_err());
        assert!(MEMO.with_borrow(|m| !m.contains_key("ord_memo_3")));
    }
}
