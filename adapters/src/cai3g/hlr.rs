//! [`HlrProvisioner`] over CAI3G: the multi-step subscriber operations (AUC then HLR, and
//! back), each made idempotent by Get-and-compare.

use super::client::Cai3gClient;
use super::codec::{GetResult, HlrSubscription, MoBody, MoId, MoKind};
use super::config::Cai3gConfig;
use super::domain::{auc_body, auc_matches, auc_state, hlr_body, hlr_matches, hlr_state};
use crate::hlr::{
    Barring, BoxFuture, DeprovisionOutcome, FaultClass, HlrError, HlrProvisioner, ProvisionOutcome,
    SubscriberSpec, SubscriberState,
};
use crate::http::HttpError;
use sim_profiles::Imsi;

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
        let hlr_created = self.ensure_hlr(spec).await?;
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

    /// Creates the HLR subscription; `Ok(false)` if an equal one was already there.
    async fn ensure_hlr(&self, spec: &SubscriberSpec) -> Result<bool, HlrError> {
        let exists = match self.client.create(MoBody::Hlr(hlr_body(spec))).await {
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
        match self
            .client
            .get(MoId::hlr_by_msisdn(spec.msisdn.clone()))
            .await?
        {
            Some(GetResult::Hlr(other)) if other.imsi != spec.imsi => {
                Err(conflict(exists, "MSISDN exists on another IMSI"))
            }
            _ => Err(exists),
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
        let current = match self
            .client
            .get(MoId::by_imsi(MoKind::GsmHlr, imsi.clone()))
            .await?
        {
            Some(GetResult::Hlr(h)) => h,
            _ => {
                return Err(HlrError::new(
                    FaultClass::NotFound,
                    "GsmHlr Set",
                    "no HLR subscription for this IMSI",
                ));
            }
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

/// A `Conflict` raised from an "already exists" fault, keeping its operation and code.
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

    fn shutdown(&self) -> BoxFuture<'_, ()> {
        Box::pin(self.client.logout())
    }
}
