//! [`HlrProvisioner`] over CAI3G: the multi-step subscriber operations (AUC then HLR, and
//! back), each made idempotent by Get-and-compare.
//!
//! The number lives on the GsmHlr subscription, so a subscriber without a number is an
//! AUC entry alone: detaching deletes the subscription (its barring and profile go with
//! it; provisioning the number again brings the spec's back), and attaching creates it.
//! A number change is one GsmHlr Set whose `MOId` carries the IMSI and the current MSISDN
//! and whose `setSubscription` carries the new MSISDN with the other attributes as read:
//! the host applies it only if the subscription still has the old number, and refuses a
//! number another IMSI holds.

use super::client::Cai3gClient;
use super::codec::{GetResult, HlrSubscription, MoBody, MoId, MoKind};
use super::config::Cai3gConfig;
use super::domain::{auc_body, auc_matches, auc_state, hlr_body, hlr_matches, hlr_state};
use crate::hlr::{
    Barring, BoxFuture, DeprovisionOutcome, FaultClass, HlrError, HlrProvisioner, ProvisionOutcome,
    SubscriberSpec, SubscriberState,
};
use crate::http::HttpError;
use sim_profiles::{Imsi, Msisdn};

/// An Ericsson HLR/AUC provisioned through CAI3G 1.2. `AuthData::opc` is not sent: CAI3G
/// AUCs hold OP per function set (`fsetind`).
#[derive(Debug)]
pub struct Cai3gHlr {
    client: Cai3gClient,
}

/// What one deprovisioning step found.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Removal {
    Absent,
    Deleted,
    Foreign,
}

impl Cai3gHlr {
    /// Builds the adapter and its client from `config`.
    pub fn new(config: Cai3gConfig) -> Result<Self, HttpError> {
        Ok(Self::from_client(Cai3gClient::new(config)?))
    }

    /// Wraps an existing client.
    pub fn from_client(client: Cai3gClient) -> Self {
        Self { client }
    }

    /// The underlying client, for single-MO operations.
    pub fn client(&self) -> &Cai3gClient {
        &self.client
    }

    async fn provision_spec(&self, spec: &SubscriberSpec) -> Result<ProvisionOutcome, HlrError> {
        let auc_created = self.ensure_auc(spec).await?;
        let hlr_created = match &spec.msisdn {
            Some(msisdn) => self.ensure_hlr(spec, msisdn).await?,
            None => {
                self.ensure_no_hlr(&spec.imsi).await?;
                true
            }
        };
        Ok(if auc_created && hlr_created {
            ProvisionOutcome::Created
        } else {
            ProvisionOutcome::AlreadyPresent
        })
    }

    /// Creates the AUC entry; `Ok(false)` if an equal one was already there.
    async fn ensure_auc(&self, spec: &SubscriberSpec) -> Result<bool, HlrError> {
        let exists = match self.client.create(MoBody::Auc(auc_body(spec))).await {
            Ok(()) => return Ok(true),
            Err(e) if e.class == FaultClass::AlreadyExists => e,
            Err(e) => return Err(e),
        };
        match self
            .client
            .get(MoId::by_imsi(MoKind::GsmAuc, spec.imsi.clone()))
            .await?
        {
            Some(found) if auc_matches(spec, &found) => Ok(false),
            Some(_) => Err(conflict(exists, "AUC entry exists with different data")),
            // "Exists" yet not readable: nothing to compare, so the fault stands.
            None => Err(exists),
        }
    }

    /// For a spec without a number: the IMSI must hold no HLR subscription (one there
    /// has a number, which provisioning never removes).
    async fn ensure_no_hlr(&self, imsi: &Imsi) -> Result<(), HlrError> {
        match self.hlr_of(imsi).await? {
            None => Ok(()),
            Some(_) => Err(HlrError::new(
                FaultClass::Conflict,
                "GsmHlr Get",
                "HLR subscription with an MSISDN exists; the order has none",
            )),
        }
    }

    /// Creates the HLR subscription; `Ok(false)` if an equal one was already there.
    async fn ensure_hlr(&self, spec: &SubscriberSpec, msisdn: &Msisdn) -> Result<bool, HlrError> {
        let exists = match self
            .client
            .create(MoBody::Hlr(hlr_body(spec, msisdn)))
            .await
        {
            Ok(()) => return Ok(true),
            Err(e) if e.class == FaultClass::AlreadyExists => e,
            Err(e) => return Err(e),
        };
        match self
            .client
            .get(MoId::by_imsi(MoKind::GsmHlr, spec.imsi.clone()))
            .await?
        {
            Some(GetResult::Hlr(found)) if hlr_matches(spec, &found) => return Ok(false),
            Some(_) => {
                return Err(conflict(
                    exists,
                    "HLR subscription exists with different data",
                ));
            }
            None => {}
        }
        // No subscription on this IMSI: the MSISDN must be the one taken.
        match self.holder(msisdn).await? {
            Some(other) if other != spec.imsi => Err(conflict(
                exists,
                "MSISDN exists on another IMSI (MSISDNs are unique): detach it there first",
            )),
            _ => Err(exists),
        }
    }

    /// The GsmHlr subscription of `imsi`, if any.
    async fn hlr_of(&self, imsi: &Imsi) -> Result<Option<HlrSubscription>, HlrError> {
        match self
            .client
            .get(MoId::by_imsi(MoKind::GsmHlr, imsi.clone()))
            .await?
        {
            None => Ok(None),
            Some(GetResult::Hlr(h)) => Ok(Some(h)),
            Some(_) => Err(HlrError::new(
                FaultClass::Protocol,
                "GsmHlr Get",
                "answer is not a GsmHlr subscription",
            )),
        }
    }

    /// The IMSI whose GsmHlr subscription holds `msisdn`, if any.
    async fn holder(&self, msisdn: &Msisdn) -> Result<Option<Imsi>, HlrError> {
        match self.client.get(MoId::hlr_by_msisdn(msisdn.clone())).await? {
            Some(GetResult::Hlr(h)) => Ok(Some(h.imsi)),
            _ => Ok(None),
        }
    }

    /// Deletes the GsmHlr subscription of `imsi` if it holds `msisdn`; the AUC stays.
    async fn detach(&self, imsi: &Imsi, msisdn: &Msisdn) -> Result<(), HlrError> {
        let holds = |h: &HlrSubscription| h.msisdn == *msisdn;
        match self.hlr_of(imsi).await? {
            None => return Ok(()),
            Some(h) if holds(&h) => {}
            Some(_) => return Err(different_number("GsmHlr Delete")),
        }
        // Both keys: the host deletes only a subscription that still has this number.
        let id = MoId {
            kind: MoKind::GsmHlr,
            imsi: Some(imsi.clone()),
            msisdn: Some(msisdn.clone()),
        };
        match self.client.delete(id).await {
            Err(e) if e.class == FaultClass::NotFound => match self.hlr_of(imsi).await? {
                // Gone meanwhile (a concurrent repeat of this step): done.
                None => Ok(()),
                Some(h) if !holds(&h) => Err(different_number("GsmHlr Delete")),
                // Still attached, though the host found nothing by both keys: never report
                // success while the number is on this IMSI.
                Some(_) => Err(e),
            },
            other => other,
        }
    }

    /// Moves `imsi`'s subscription from `from` to `to` with one Set of the MSISDN alone,
    /// addressed by the IMSI and `from` (a compare-and-set: the host applies it only while
    /// the subscription still has `from`; its other attributes stay as they are). Only a
    /// refusal costs reads: they tell an earlier attempt that already moved it (success)
    /// from a subscription gone, on another number, or `to` held by another IMSI.
    async fn change(&self, imsi: &Imsi, from: &Msisdn, to: &Msisdn) -> Result<(), HlrError> {
        let id = MoId {
            kind: MoKind::GsmHlr,
            imsi: Some(imsi.clone()),
            msisdn: Some(from.clone()),
        };
        let set = MoBody::HlrMsisdn {
            imsi: imsi.clone(),
            msisdn: to.clone(),
        };
        match self.client.set_at(id, set).await {
            Err(e) if !e.retryable() => self.change_refused(imsi, from, to, e).await,
            other => other,
        }
    }

    /// Why the number change's Set was refused, read back from the host.
    async fn change_refused(
        &self,
        imsi: &Imsi,
        from: &Msisdn,
        to: &Msisdn,
        refusal: HlrError,
    ) -> Result<(), HlrError> {
        let Some(current) = self.hlr_of(imsi).await? else {
            return Err(HlrError::new(
                FaultClass::NotFound,
                "GsmHlr Set",
                "no HLR subscription for this IMSI",
            ));
        };
        if current.msisdn == *to {
            return Ok(());
        }
        if current.msisdn != *from {
            return Err(HlrError::new(
                FaultClass::Conflict,
                "GsmHlr Set",
                "subscription holds neither the old nor the new MSISDN; left unchanged",
            ));
        }
        // Still on `from`: hosts code "number in use" differently, so decide by who holds
        // `to` now.
        match self.holder(to).await? {
            // Moved meanwhile (a concurrent repeat of this step).
            Some(holder) if holder == *imsi => Ok(()),
            Some(_) => Err(conflict(
                refusal,
                "the new MSISDN is held by another IMSI (MSISDNs are unique); nothing changed",
            )),
            None => Err(refusal),
        }
    }

    async fn deprovision_spec(
        &self,
        spec: &SubscriberSpec,
    ) -> Result<DeprovisionOutcome, HlrError> {
        let hlr_id = MoId::by_imsi(MoKind::GsmHlr, spec.imsi.clone());
        let hlr = match self.client.get(hlr_id.clone()).await? {
            None => Removal::Absent,
            Some(GetResult::Hlr(found)) if hlr_matches(spec, &found) => {
                self.delete_if_present(hlr_id).await?;
                Removal::Deleted
            }
            Some(_) => Removal::Foreign,
        };
        if hlr == Removal::Foreign {
            // The AUC entry with this IMSI authenticates that other subscription: keep it.
            tracing::warn!(
                imsi = spec.imsi.as_str(),
                "HLR subscription differs from the order; left in place"
            );
            return Ok(DeprovisionOutcome::LeftForeign);
        }
        let auc_id = MoId::by_imsi(MoKind::GsmAuc, spec.imsi.clone());
        let auc = match self.client.get(auc_id.clone()).await? {
            None => Removal::Absent,
            Some(found) if auc_matches(spec, &found) => {
                self.delete_if_present(auc_id).await?;
                Removal::Deleted
            }
            Some(_) => {
                tracing::warn!(
                    imsi = spec.imsi.as_str(),
                    "AUC entry differs from the order; left in place"
                );
                Removal::Foreign
            }
        };
        Ok(match (hlr, auc) {
            (_, Removal::Foreign) => DeprovisionOutcome::LeftForeign,
            (Removal::Deleted, _) | (_, Removal::Deleted) => DeprovisionOutcome::Deleted,
            _ => DeprovisionOutcome::NotPresent,
        })
    }

    /// Deletes `id`; already gone (a concurrent or repeated step) is fine.
    async fn delete_if_present(&self, id: MoId) -> Result<(), HlrError> {
        match self.client.delete(id).await {
            Err(e) if e.class == FaultClass::NotFound => Ok(()),
            other => other,
        }
    }

    async fn query_imsi(&self, imsi: &Imsi) -> Result<Option<SubscriberState>, HlrError> {
        let (auc, hlr) = tokio::join!(
            self.client.get(MoId::by_imsi(MoKind::GsmAuc, imsi.clone())),
            self.client.get(MoId::by_imsi(MoKind::GsmHlr, imsi.clone())),
        );
        let auc = auc?.as_ref().and_then(auc_state);
        let hlr = match hlr? {
            Some(GetResult::Hlr(h)) => Some(hlr_state(&h)),
            _ => None,
        };
        if auc.is_none() && hlr.is_none() {
            return Ok(None);
        }
        Ok(Some(SubscriberState {
            imsi: imsi.clone(),
            auc,
            hlr,
        }))
    }

    /// Read-modify-write of the HLR subscription only: the AUC (and so SQN) is untouched.
    async fn barring(&self, imsi: &Imsi, barring: Barring) -> Result<(), HlrError> {
        let Some(current) = self.hlr_of(imsi).await? else {
            return Err(HlrError::new(
                FaultClass::NotFound,
                "GsmHlr Set",
                "no HLR subscription for this IMSI",
            ));
        };
        if current.obo == barring.outgoing && current.obi == barring.incoming {
            return Ok(());
        }
        let wanted = HlrSubscription {
            obo: barring.outgoing,
            obi: barring.incoming,
            ..current
        };
        self.client.set(MoBody::Hlr(wanted)).await
    }
}

/// The subscription holds another number than the one the operation is about.
fn different_number(operation: &'static str) -> HlrError {
    HlrError::new(
        FaultClass::Conflict,
        operation,
        "subscription holds a different MSISDN; left unchanged",
    )
}

/// A `Conflict` raised from a host fault, keeping its operation and code.
fn conflict(exists: HlrError, message: &str) -> HlrError {
    HlrError {
        class: FaultClass::Conflict,
        message: message.to_owned(),
        ..exists
    }
}

impl HlrProvisioner for Cai3gHlr {
    fn dialect(&self) -> &'static str {
        "cai3g"
    }

    fn provision<'a>(
        &'a self,
        spec: &'a SubscriberSpec,
    ) -> BoxFuture<'a, Result<ProvisionOutcome, HlrError>> {
        Box::pin(self.provision_spec(spec))
    }

    fn deprovision<'a>(
        &'a self,
        spec: &'a SubscriberSpec,
    ) -> BoxFuture<'a, Result<DeprovisionOutcome, HlrError>> {
        Box::pin(self.deprovision_spec(spec))
    }

    fn query<'a>(
        &'a self,
        imsi: &'a Imsi,
    ) -> BoxFuture<'a, Result<Option<SubscriberState>, HlrError>> {
        Box::pin(self.query_imsi(imsi))
    }

    fn set_barring<'a>(
        &'a self,
        imsi: &'a Imsi,
        barring: Barring,
    ) -> BoxFuture<'a, Result<(), HlrError>> {
        Box::pin(self.barring(imsi, barring))
    }

    fn detach_msisdn<'a>(
        &'a self,
        imsi: &'a Imsi,
        msisdn: &'a Msisdn,
    ) -> BoxFuture<'a, Result<(), HlrError>> {
        Box::pin(self.detach(imsi, msisdn))
    }

    fn change_msisdn<'a>(
        &'a self,
        imsi: &'a Imsi,
        from: &'a Msisdn,
        to: &'a Msisdn,
    ) -> BoxFuture<'a, Result<(), HlrError>> {
        Box::pin(self.change(imsi, from, to))
    }

    fn shutdown(&self) -> BoxFuture<'_, ()> {
        Box::pin(self.client.logout())
    }
}
