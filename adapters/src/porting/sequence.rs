//! Ordering of hub messages. The hub numbers each port's messages 1, 2, 3, … but delivers
//! them over independent HTTPS calls with retries, so they can arrive late, twice or out
//! of order. Each message carries the port's new state, so the receiver applies a message
//! only when it is newer than the last one it applied and keeps the rest as history.

/// What a message is, relative to what the receiver has already applied for its port.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Freshness {
    /// Newer than anything applied: apply it, then remember its sequence.
    New,
    /// The sequence already applied (a redelivery, or a hub that reused the number):
    /// record it, change nothing.
    Duplicate,
    /// Older than what is applied: it arrived after a later message overtook it. Record
    /// it, change nothing; the later state already includes it.
    Stale,
}

/// Classifies a message with `sequence` against the last sequence applied for its port
/// (`None`: nothing applied yet). Duplicates by `message_id` are found before this, by
/// the receiver's durable record.
pub fn freshness(last_applied: Option<u64>, sequence: u64) -> Freshness {
    match last_applied {
        None => Freshness::New,
        Some(last) if sequence > last => Freshness::New,
        Some(last) if sequence == last => Freshness::Duplicate,
        Some(_) => Freshness::Stale,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table() {
        assert_eq!(freshness(None, 1), Freshness::New);
        assert_eq!(freshness(None, 7), Freshness::New);
        assert_eq!(freshness(Some(3), 4), Freshness::New);
        assert_eq!(freshness(Some(3), 9), Freshness::New);
        assert_eq!(freshness(Some(3), 3), Freshness::Duplicate);
        assert_eq!(freshness(Some(3), 2), Freshness::Stale);
    }
}
