//! The delivery task's queue (`notify.rs`): messages wait here for a free lane. A port
//! has at most one delivery in flight, so its messages reach the receiver in the order
//! the hub produced them; a delivery is the earliest ready message, or, with batches, as
//! many of the earliest as fit, each followed by its port's messages queued behind it.

use adapters::porting::{MAX_BODY_BYTES, batch_len};
use std::collections::{BTreeMap, HashMap, VecDeque};

/// What waits for a lane: a message of one port, of some encoded length.
pub(crate) trait Queued {
    /// The port it is about.
    fn port(&self) -> &str;
    /// Its encoded length in bytes (for the batch body limit).
    fn encoded_len(&self) -> usize;
}

/// The messages waiting for a lane, by arrival; and, for every port with a message
/// waiting or in flight, its later messages (with their arrival numbers).
pub(crate) struct Lanes<T> {
    arrived: u64,
    ready: BTreeMap<u64, T>,
    behind: HashMap<String, VecDeque<(u64, T)>>,
}

impl<T> Default for Lanes<T> {
    fn default() -> Self {
        Self {
            arrived: 0,
            ready: BTreeMap::new(),
            behind: HashMap::new(),
        }
    }
}

impl<T: Queued> Lanes<T> {
    /// A message from the queue: ready unless its port has one ahead of it.
    pub(crate) fn arrive(&mut self, out: T) {
        let n = self.arrived;
        self.arrived += 1;
        match self.behind.get_mut(out.port()) {
            Some(q) => q.push_back((n, out)),
            None => {
                self.behind.insert(out.port().to_owned(), VecDeque::new());
                self.ready.insert(n, out);
            }
        }
    }

    /// The earliest ready messages, each followed by its port's later messages waiting
    /// behind it (in order), up to `most` and within the body limit of a batch; and the
    /// ports they are of, once each. Empty when nothing is ready.
    pub(crate) fn take(&mut self, most: usize) -> (Vec<T>, Vec<String>) {
        let most = most.max(1);
        let mut outs: Vec<T> = Vec::new();
        let mut ports = Vec::new();
        let fits = |outs: &[T], next: &T| {
            outs.is_empty()
                || (outs.len() < most
                    && batch_len(outs.iter().chain([next]).map(T::encoded_len)) <= MAX_BODY_BYTES)
        };
        while let Some(entry) = self.ready.first_entry() {
            if !fits(&outs, entry.get()) {
                break;
            }
            let first = entry.remove();
            let port = first.port().to_owned();
            outs.push(first);
            if let Some(q) = self.behind.get_mut(&port) {
                while q.front().is_some_and(|(_, next)| fits(&outs, next)) {
                    if let Some((_, next)) = q.pop_front() {
                        outs.push(next);
                    }
                }
            }
            ports.push(port);
        }
        (outs, ports)
    }

    /// `port`'s delivery is handled: its next message (if any) is ready, in its arrival
    /// place.
    pub(crate) fn done(&mut self, port: &str) {
        match self.behind.get_mut(port).and_then(VecDeque::pop_front) {
            Some((n, out)) => {
                self.ready.insert(n, out);
            }
            None => {
                self.behind.remove(port);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, PartialEq)]
    struct M(&'static str, usize);

    impl Queued for M {
        fn port(&self) -> &str {
            &self.0[..1]
        }
        fn encoded_len(&self) -> usize {
            self.1
        }
    }

    fn names(ms: &[M]) -> Vec<&'static str> {
        ms.iter().map(|m| m.0).collect()
    }

    fn lanes(ms: impl IntoIterator<Item = M>) -> Lanes<M> {
        let mut l = Lanes::default();
        for m in ms {
            l.arrive(m);
        }
        l
    }

    #[test]
    fn one_at_a_time_each_port_waits_for_its_delivery() {
        let mut l = lanes([M("a1", 10), M("a2", 10), M("b1", 10)]);
        let (outs, ports) = l.take(1);
        assert_eq!((names(&outs), ports), (vec!["a1"], vec!["a".to_owned()]));
        // a2 waits behind a1, which is in flight.
        assert_eq!(names(&l.take(1).0), ["b1"]);
        assert!(l.take(1).0.is_empty());
        l.done("a");
        assert_eq!(names(&l.take(1).0), ["a2"]);
        l.done("a");
        l.done("b");
        assert!(l.take(1).0.is_empty());
    }

    #[test]
    fn a_batch_takes_each_ports_queued_messages_in_order() {
        let mut l = lanes([
            M("a1", 10),
            M("b1", 10),
            M("a2", 10),
            M("c1", 10),
            M("b2", 10),
        ]);
        let (outs, ports) = l.take(4);
        assert_eq!(names(&outs), ["a1", "a2", "b1", "b2"]);
        assert_eq!(ports, ["a", "b"]);
        assert_eq!(names(&l.take(4).0), ["c1"]);
        // A message arriving for a port in flight waits for that delivery.
        l.arrive(M("a3", 10));
        assert!(l.take(4).0.is_empty());
        l.done("a");
        assert_eq!(names(&l.take(4).0), ["a3"]);
    }

    #[test]
    fn a_batch_stays_within_the_body_limit_but_a_message_always_goes() {
        let big = MAX_BODY_BYTES / 2;
        let mut l = lanes([M("a1", big), M("b1", big), M("c1", MAX_BODY_BYTES * 2)]);
        assert_eq!(
            names(&l.take(100).0),
            ["a1"],
            "two halves and the envelope do not fit"
        );
        assert_eq!(names(&l.take(100).0), ["b1"]);
        assert_eq!(names(&l.take(100).0), ["c1"], "alone, whatever its size");
    }
}
