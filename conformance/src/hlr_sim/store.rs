//! The HLR/AUC data: AUC entries and HLR subscriptions by IMSI, with a unique MSISDN index.
//! Pure in-memory state; every refusal is a [`StoreError`] the endpoint maps to a fault.

use super::codec::{AucSubscription, GetResult, HlrSubscription, MoBody, MoId, MoKind};
use sim_profiles::{Imsi, Msisdn};
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// Why the store refused a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum StoreError {
    /// Create of an object that exists.
    AlreadyExists,
    /// HLR create/set with an MSISDN held by another IMSI.
    MsisdnInUse,
    /// Get/Set/Delete of an absent object.
    NotFound,
    /// HLR create without an AUC entry for the IMSI.
    AucMissing,
    /// The MOId does not carry the key the object is addressed by.
    MissingKey,
    /// A Set that would change the IMSI (only the host's IMSI changeover may).
    KeyChange,
    /// A Create without the subscription's attributes (an MSISDN alone).
    Incomplete,
}

/// One subscriber as the simulator holds it: its AUC entry and HLR subscription, if any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimSubscriber {
    /// The IMSI both objects are keyed by.
    pub imsi: Imsi,
    /// The HLR subscription's MSISDN.
    pub msisdn: Option<Msisdn>,
    /// The HLR subscription's profile.
    pub profile_id: Option<u32>,
    /// The AUC entry (with its key: this fake is a test peer).
    pub auc: Option<AucSubscription>,
    /// The HLR subscription.
    pub hlr: Option<HlrSubscription>,
}

/// One applied Create, in the order they were applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppliedCreate {
    /// GsmAuc or GsmHlr.
    pub kind: MoKind,
    /// The created object's IMSI.
    pub imsi: Imsi,
}

/// The in-memory HLR/AUC.
#[derive(Debug, Default)]
pub(crate) struct Store {
    auc: BTreeMap<Imsi, AucSubscription>,
    hlr: BTreeMap<Imsi, HlrSubscription>,
    by_msisdn: HashMap<Msisdn, Imsi>,
    applied_creates: Vec<AppliedCreate>,
    /// Whether changes are tracked (only with a state file: else `dirty` would only grow).
    track: bool,
    /// IMSIs changed since the state file was last written (`persist::write`).
    dirty: Vec<Imsi>,
}

impl Store {
    /// An empty store that tracks its changes for a state file.
    pub(crate) fn tracked() -> Self {
        Self {
            track: true,
            ..Self::default()
        }
    }

    /// Notes that `imsi`'s objects changed.
    fn touch(&mut self, imsi: &Imsi) {
        if self.track {
            self.dirty.push(imsi.clone());
        }
    }

    /// Puts back one IMSI's objects as a state file holds them; refused if its MSISDN
    /// is already another IMSI's (a file the simulator did not write).
    pub(crate) fn restore(
        &mut self,
        auc: Option<AucSubscription>,
        hlr: Option<HlrSubscription>,
    ) -> Result<(), StoreError> {
        if let Some(h) = hlr {
            if self.by_msisdn.contains_key(&h.msisdn) {
                return Err(StoreError::MsisdnInUse);
            }
            self.by_msisdn.insert(h.msisdn.clone(), h.imsi.clone());
            self.hlr.insert(h.imsi.clone(), h);
        }
        if let Some(a) = auc {
            self.auc.insert(a.imsi.clone(), a);
        }
        Ok(())
    }

    /// The IMSIs changed since the last call, oldest change first (repeats possible).
    pub(crate) fn take_dirty(&mut self) -> Vec<Imsi> {
        std::mem::take(&mut self.dirty)
    }

    /// Forgets every object and applied create, marking each IMSI changed.
    pub(crate) fn clear(&mut self) {
        let mut imsis: BTreeSet<Imsi> = self.auc.keys().chain(self.hlr.keys()).cloned().collect();
        imsis.extend(self.dirty.drain(..));
        let track = self.track;
        *self = Self::default();
        if track {
            self.track = true;
            self.dirty = imsis.into_iter().collect();
        }
    }

    /// The AUC entry for `imsi`, borrowed.
    pub(crate) fn auc_ref(&self, imsi: &Imsi) -> Option<&AucSubscription> {
        self.auc.get(imsi)
    }

    /// The HLR subscription for `imsi`, borrowed.
    pub(crate) fn hlr_ref(&self, imsi: &Imsi) -> Option<&HlrSubscription> {
        self.hlr.get(imsi)
    }

    /// Creates an object; HLR subscriptions need an AUC entry and a free MSISDN.
    pub(crate) fn create(&mut self, body: MoBody) -> Result<(), StoreError> {
        match body {
            MoBody::Auc(a) => {
                if self.auc.contains_key(&a.imsi) {
                    return Err(StoreError::AlreadyExists);
                }
                self.applied_creates.push(AppliedCreate {
                    kind: MoKind::GsmAuc,
                    imsi: a.imsi.clone(),
                });
                self.touch(&a.imsi);
                self.auc.insert(a.imsi.clone(), a);
            }
            MoBody::Hlr(h) => {
                if self.hlr.contains_key(&h.imsi) {
                    return Err(StoreError::AlreadyExists);
                }
                if self.by_msisdn.contains_key(&h.msisdn) {
                    return Err(StoreError::MsisdnInUse);
                }
                if !self.auc.contains_key(&h.imsi) {
                    return Err(StoreError::AucMissing);
                }
                self.applied_creates.push(AppliedCreate {
                    kind: MoKind::GsmHlr,
                    imsi: h.imsi.clone(),
                });
                self.by_msisdn.insert(h.msisdn.clone(), h.imsi.clone());
                self.touch(&h.imsi);
                self.hlr.insert(h.imsi.clone(), h);
            }
            MoBody::HlrMsisdn { .. } => return Err(StoreError::Incomplete),
        }
        Ok(())
    }

    /// Reads the whole object.
    pub(crate) fn get(&self, id: &MoId) -> Result<GetResult, StoreError> {
        match id.kind {
            MoKind::GsmAuc => {
                let imsi = auc_key(id)?;
                self.auc
                    .get(imsi)
                    .cloned()
                    .map(GetResult::Auc)
                    .ok_or(StoreError::NotFound)
            }
            MoKind::GsmHlr => {
                let imsi = self.resolve_hlr(id)?;
                self.hlr
                    .get(&imsi)
                    .cloned()
                    .map(GetResult::Hlr)
                    .ok_or(StoreError::NotFound)
            }
        }
    }

    /// Replaces the object `id` names with `body`. The IMSI never changes; an HLR
    /// subscription's MSISDN may (the number change), if no other IMSI holds the new one.
    /// `id` with the IMSI and the current MSISDN names the subscription only while it
    /// still has that MSISDN, which makes a number change a compare-and-set.
    pub(crate) fn set(&mut self, id: &MoId, body: MoBody) -> Result<(), StoreError> {
        match body {
            MoBody::Auc(a) => {
                if auc_key(id)? != &a.imsi {
                    return Err(StoreError::KeyChange);
                }
                let slot = self.auc.get_mut(&a.imsi).ok_or(StoreError::NotFound)?;
                let imsi = a.imsi.clone();
                *slot = a;
                self.touch(&imsi);
            }
            MoBody::HlrMsisdn { imsi, msisdn } => {
                // The MSISDN alone: every other attribute stays as it is.
                let target = self.set_target(id, &msisdn)?;
                let old = self.hlr.get(&target).ok_or(StoreError::NotFound)?;
                let whole = HlrSubscription {
                    imsi,
                    msisdn,
                    ..old.clone()
                };
                return self.set(id, MoBody::Hlr(whole));
            }
            MoBody::Hlr(h) => {
                let target = self.set_target(id, &h.msisdn)?;
                if target != h.imsi {
                    return Err(StoreError::KeyChange);
                }
                let old = self.hlr.get(&h.imsi).ok_or(StoreError::NotFound)?;
                if old.msisdn != h.msisdn {
                    if self.by_msisdn.contains_key(&h.msisdn) {
                        return Err(StoreError::MsisdnInUse);
                    }
                    self.by_msisdn.remove(&old.msisdn);
                    self.by_msisdn.insert(h.msisdn.clone(), h.imsi.clone());
                }
                self.touch(&h.imsi);
                self.hlr.insert(h.imsi.clone(), h);
            }
        }
        Ok(())
    }

    /// Removes an object; HLR subscriptions are addressed by IMSI and/or MSISDN.
    pub(crate) fn delete(&mut self, id: &MoId) -> Result<(), StoreError> {
        match id.kind {
            MoKind::GsmAuc => {
                let imsi = auc_key(id)?;
                self.auc.remove(imsi).ok_or(StoreError::NotFound)?;
                self.touch(imsi);
                Ok(())
            }
            MoKind::GsmHlr => {
                let imsi = self.resolve_hlr(id)?;
                let h = self.hlr.remove(&imsi).ok_or(StoreError::NotFound)?;
                self.by_msisdn.remove(&h.msisdn);
                self.touch(&imsi);
                Ok(())
            }
        }
    }

    /// The AUC entry for `imsi`.
    pub(crate) fn auc(&self, imsi: &Imsi) -> Option<AucSubscription> {
        self.auc.get(imsi).cloned()
    }

    /// The HLR subscription for `imsi`.
    pub(crate) fn hlr(&self, imsi: &Imsi) -> Option<HlrSubscription> {
        self.hlr.get(imsi).cloned()
    }

    /// Every subscriber with an AUC entry or HLR subscription, by IMSI.
    pub(crate) fn subscribers(&self) -> Vec<SimSubscriber> {
        let imsis: BTreeSet<&Imsi> = self.auc.keys().chain(self.hlr.keys()).collect();
        imsis
            .into_iter()
            .map(|imsi| {
                let hlr = self.hlr.get(imsi).cloned();
                SimSubscriber {
                    imsi: imsi.clone(),
                    msisdn: hlr.as_ref().map(|h| h.msisdn.clone()),
                    profile_id: hlr.as_ref().map(|h| h.profile_id),
                    auc: self.auc.get(imsi).cloned(),
                    hlr,
                }
            })
            .collect()
    }

    /// Creates applied so far, oldest first.
    pub(crate) fn applied_creates(&self) -> &[AppliedCreate] {
        &self.applied_creates
    }

    /// The subscription a GsmHlr Set of `msisdn` names: `MOId` keys equal to the body's
    /// name it by its IMSI (a client that addresses a Set by the values it sets);
    /// otherwise by the keys it has now.
    fn set_target(&self, id: &MoId, msisdn: &Msisdn) -> Result<Imsi, StoreError> {
        match (&id.imsi, &id.msisdn) {
            (Some(imsi), Some(m)) if m == msisdn => Ok(imsi.clone()),
            _ => self.resolve_hlr(id),
        }
    }

    /// The IMSI an HLR MOId designates; with both keys they must agree.
    fn resolve_hlr(&self, id: &MoId) -> Result<Imsi, StoreError> {
        match (&id.imsi, &id.msisdn) {
            (Some(imsi), Some(msisdn)) => match self.by_msisdn.get(msisdn) {
                Some(owner) if owner == imsi => Ok(imsi.clone()),
                _ => Err(StoreError::NotFound),
            },
            (Some(imsi), None) => Ok(imsi.clone()),
            (None, Some(msisdn)) => self
                .by_msisdn
                .get(msisdn)
                .cloned()
                .ok_or(StoreError::NotFound),
            (None, None) => Err(StoreError::MissingKey),
        }
    }
}

/// AUC entries are addressed by IMSI only.
fn auc_key(id: &MoId) -> Result<&Imsi, StoreError> {
    id.imsi.as_ref().ok_or(StoreError::MissingKey)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hlr_sim::codec::KiWire;
    use sim_profiles::Key128;

    fn imsi(s: &str) -> Imsi {
        s.parse().expect("test IMSI")
    }
    fn msisdn(s: &str) -> Msisdn {
        s.parse().expect("test MSISDN")
    }
    fn auc(i: &str) -> MoBody {
        MoBody::Auc(AucSubscription {
            imsi: imsi(i),
            ki: KiWire::Clear(Key128::from_bytes([7; 16])),
            fsetind: 0,
        })
    }
    fn hlr(i: &str, m: &str) -> MoBody {
        MoBody::Hlr(HlrSubscription {
            imsi: imsi(i),
            msisdn: msisdn(m),
            profile_id: 12,
            obo: false,
            obi: false,
        })
    }
    fn hlr_id(i: Option<&str>, m: Option<&str>) -> MoId {
        MoId {
            kind: MoKind::GsmHlr,
            imsi: i.map(imsi),
            msisdn: m.map(msisdn),
        }
    }

    #[test]
    fn create_rules() {
        let mut s = Store::default();
        assert_eq!(
            s.create(hlr("001010000000001", "4915100000001")),
            Err(StoreError::AucMissing)
        );
        assert_eq!(s.create(auc("001010000000001")), Ok(()));
        assert_eq!(
            s.create(auc("001010000000001")),
            Err(StoreError::AlreadyExists)
        );
        assert_eq!(s.create(hlr("001010000000001", "4915100000001")), Ok(()));
        assert_eq!(
            s.create(hlr("001010000000001", "4915100000002")),
            Err(StoreError::AlreadyExists)
        );
        assert_eq!(s.create(auc("001010000000002")), Ok(()));
        assert_eq!(
            s.create(hlr("001010000000002", "4915100000001")),
            Err(StoreError::MsisdnInUse)
        );
        assert_eq!(s.applied_creates().len(), 3);
        assert_eq!(s.subscribers().len(), 2);
    }

    #[test]
    fn hlr_addressing_and_msisdn_index() {
        let mut s = Store::default();
        s.create(auc("001010000000001")).expect("auc");
        s.create(hlr("001010000000001", "4915100000001"))
            .expect("hlr");
        assert!(s.get(&hlr_id(None, Some("4915100000001"))).is_ok());
        assert_eq!(
            s.get(&hlr_id(Some("001010000000001"), Some("4915100000009"))),
            Err(StoreError::NotFound)
        );
        assert_eq!(s.get(&hlr_id(None, None)), Err(StoreError::MissingKey));
        // Changing the MSISDN frees the old one.
        s.set(
            &hlr_id(Some("001010000000001"), Some("4915100000001")),
            hlr("001010000000001", "4915100000002"),
        )
        .expect("set");
        assert_eq!(
            s.get(&hlr_id(None, Some("4915100000001"))),
            Err(StoreError::NotFound)
        );
        assert_eq!(s.delete(&hlr_id(None, Some("4915100000002"))), Ok(()));
        assert_eq!(
            s.delete(&hlr_id(Some("001010000000001"), None)),
            Err(StoreError::NotFound)
        );
        assert!(s.hlr(&imsi("001010000000001")).is_none());
        assert!(s.auc(&imsi("001010000000001")).is_some());
        s.create(auc("001010000000002")).expect("auc 2");
        s.create(hlr("001010000000002", "4915100000002"))
            .expect("MSISDN reusable after delete");
    }

    #[test]
    fn number_change_is_a_compare_and_set_keeping_msisdns_unique() {
        let mut s = Store::default();
        for (i, m) in [
            ("001010000000001", "4915100000001"),
            ("001010000000002", "4915100000002"),
        ] {
            s.create(auc(i)).expect("auc");
            s.create(hlr(i, m)).expect("hlr");
        }
        let one_on_1 = hlr_id(Some("001010000000001"), Some("4915100000001"));
        // The number of another IMSI: refused, nothing changes.
        assert_eq!(
            s.set(&one_on_1, hlr("001010000000001", "4915100000002")),
            Err(StoreError::MsisdnInUse)
        );
        assert_eq!(
            s.hlr(&imsi("001010000000001")).map(|h| h.msisdn),
            Some(msisdn("4915100000001"))
        );
        assert_eq!(
            s.set(&one_on_1, hlr("001010000000001", "4915100000003")),
            Ok(())
        );
        // Keyed by the old number: no longer names the subscription.
        assert_eq!(
            s.set(&one_on_1, hlr("001010000000001", "4915100000004")),
            Err(StoreError::NotFound)
        );
        // The IMSI never changes through a Set.
        assert_eq!(
            s.set(
                &hlr_id(None, Some("4915100000003")),
                hlr("001010000000002", "4915100000003")
            ),
            Err(StoreError::KeyChange)
        );
        // Detach (delete by both keys) frees the number for another IMSI.
        assert_eq!(
            s.delete(&hlr_id(Some("001010000000002"), Some("4915100000003"))),
            Err(StoreError::NotFound)
        );
        assert_eq!(
            s.delete(&hlr_id(Some("001010000000001"), Some("4915100000003"))),
            Ok(())
        );
        assert!(s.auc(&imsi("001010000000001")).is_some(), "AUC stays");
        let two = hlr_id(Some("001010000000002"), Some("4915100000002"));
        assert_eq!(s.set(&two, hlr("001010000000002", "4915100000003")), Ok(()));
    }

    #[test]
    fn set_and_delete_absent() {
        let mut s = Store::default();
        let auc_id = MoId::by_imsi(MoKind::GsmAuc, imsi("001010000000001"));
        assert_eq!(
            s.set(&auc_id, auc("001010000000001")),
            Err(StoreError::NotFound)
        );
        assert_eq!(
            s.set(
                &hlr_id(Some("001010000000001"), None),
                hlr("001010000000001", "4915100000001")
            ),
            Err(StoreError::NotFound)
        );
        let id = MoId {
            kind: MoKind::GsmAuc,
            imsi: Some(imsi("001010000000001")),
            msisdn: None,
        };
        assert_eq!(s.delete(&id), Err(StoreError::NotFound));
        let no_key = MoId {
            kind: MoKind::GsmAuc,
            imsi: None,
            msisdn: Some(msisdn("4915100000001")),
        };
        assert_eq!(s.delete(&no_key), Err(StoreError::MissingKey));
    }
}
