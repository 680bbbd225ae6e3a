//! The cap on open connections per client address. IPv6 clients are counted per /64,
//! the block one host is usually given, so a host cannot dodge the cap by rotating
//! addresses within it.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv6Addr};
use std::sync::{Arc, Mutex, MutexGuard};

/// Open connections by client address.
pub(super) struct PerIp {
    cap: usize,
    open: Mutex<HashMap<IpAddr, usize>>,
}

/// One open connection of a client; dropping it frees the slot.
pub(super) struct IpSlot {
    table: Arc<PerIp>,
    key: IpAddr,
}

/// The address connections are counted under.
fn key(ip: IpAddr) -> IpAddr {
    match ip.to_canonical() {
        IpAddr::V6(v6) => {
            let prefix = u128::from(v6) & !u128::from(u64::MAX);
            IpAddr::V6(Ipv6Addr::from(prefix))
        }
        v4 => v4,
    }
}

impl PerIp {
    /// A table admitting `cap` connections per address.
    pub(super) fn new(cap: usize) -> Arc<Self> {
        Arc::new(Self {
            cap,
            open: Mutex::new(HashMap::new()),
        })
    }

    fn open(&self) -> MutexGuard<'_, HashMap<IpAddr, usize>> {
        self.open
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// A slot for one more connection from `ip`, unless it already has `cap`.
    pub(super) fn try_acquire(self: &Arc<Self>, ip: IpAddr) -> Option<IpSlot> {
        let key = key(ip);
        let mut open = self.open();
        let n = open.entry(key).or_insert(0);
        if *n >= self.cap {
            return None;
        }
        *n += 1;
        Some(IpSlot {
            table: self.clone(),
            key,
        })
    }
}

impl Drop for IpSlot {
    fn drop(&mut self) {
        let mut open = self.table.open();
        if let Some(n) = open.get_mut(&self.key) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                open.remove(&self.key);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caps_each_address_and_frees_on_drop() {
        let t = PerIp::new(2);
        let a: IpAddr = "192.0.2.1".parse().expect("ip");
        let b: IpAddr = "192.0.2.2".parse().expect("ip");
        let s1 = t.try_acquire(a).expect("first");
        let _s2 = t.try_acquire(a).expect("second");
        assert!(t.try_acquire(a).is_none(), "third from the same address");
        assert!(
            t.try_acquire(b).is_some(),
            "another address is not affected"
        );
        drop(s1);
        assert!(
            t.try_acquire(a).is_some(),
            "a closed connection frees its slot"
        );
    }

    #[test]
    fn counts_ipv6_per_64_and_mapped_ipv4_as_ipv4() {
        let t = PerIp::new(1);
        let _s = t
            .try_acquire("2001:db8:1:2::1".parse().expect("ip"))
            .expect("first");
        assert!(
            t.try_acquire("2001:db8:1:2:ffff::9".parse().expect("ip"))
                .is_none()
        );
        assert!(
            t.try_acquire("2001:db8:1:3::1".parse().expect("ip"))
                .is_some()
        );
        let _v4 = t.try_acquire("192.0.2.7".parse().expect("ip")).expect("v4");
        assert!(
            t.try_acquire("::ffff:192.0.2.7".parse().expect("ip"))
                .is_none()
        );
    }
}
