//! An HLR kept in memory that remembers what it was told: provisioned subscribers with
//! their number, profile and barring, read back by `query`, every call recorded.

use crate::rig::CallLog;
use adapters::hlr::{
    Barring, BoxFuture, DeprovisionOutcome, HlrError, HlrProvisioner, HlrState, ProvisionOutcome,
    SubscriberSpec, SubscriberState,
};
use sim_profiles::Imsi;
use std::collections::BTreeMap;
use std::sync::Mutex;

/// An HLR kept in memory: what is provisioned, with its barring, read back by `query`.
#[derive(Default)]
pub(crate) struct MemoryHlr {
    lines: Mutex<BTreeMap<String, HlrState>>,
    pub(crate) calls: CallLog,
}

impl MemoryHlr {
    /// Barring as the HLR holds it (`None`: not provisioned).
    pub(crate) async fn barred(&self, imsi: &Imsi) -> Option<bool> {
        let state = self.query(imsi).await.expect("query")?;
        let b = state.hlr.expect("an HLR entry").barring;
        assert_eq!(b.outgoing, b.incoming, "barred one way only");
        Some(b.outgoing)
    }
}

impl HlrProvisioner for MemoryHlr {
    fn dialect(&self) -> &'static str {
        "memory"
    }
    fn provision<'a>(
        &'a self,
        spec: &'a SubscriberSpec,
    ) -> BoxFuture<'a, Result<ProvisionOutcome, HlrError>> {
        self.calls.record("provision");
        let state = HlrState {
            msisdn: spec.msisdn.clone(),
            profile_id: Some(spec.profile.profile_id),
            barring: spec.barring,
        };
        self.lines
            .lock()
            .expect("lock")
            .insert(spec.imsi.to_string(), state);
        Box::pin(async { Ok(ProvisionOutcome::Created) })
    }
    fn deprovision<'a>(
        &'a self,
        spec: &'a SubscriberSpec,
    ) -> BoxFuture<'a, Result<DeprovisionOutcome, HlrError>> {
        self.calls.record("deprovision");
        self.lines.lock().expect("lock").remove(spec.imsi.as_str());
        Box::pin(async { Ok(DeprovisionOutcome::Deleted) })
    }
    fn query<'a>(
        &'a self,
        imsi: &'a Imsi,
    ) -> BoxFuture<'a, Result<Option<SubscriberState>, HlrError>> {
        let hlr = self.lines.lock().expect("lock").get(imsi.as_str()).cloned();
        let state = hlr.map(|h| SubscriberState {
            imsi: imsi.clone(),
            auc: None,
            hlr: Some(h),
        });
        Box::pin(async move { Ok(state) })
    }
    fn set_barring<'a>(
        &'a self,
        imsi: &'a Imsi,
        barring: Barring,
    ) -> BoxFuture<'a, Result<(), HlrError>> {
        self.calls.record("set_barring");
        if let Some(h) = self.lines.lock().expect("lock").get_mut(imsi.as_str()) {
            h.barring = barring;
        }
        Box::pin(async { Ok(()) })
    }
    fn detach_msisdn<'a>(
        &'a self,
        _: &'a Imsi,
        _: &'a sim_profiles::Msisdn,
    ) -> BoxFuture<'a, Result<(), HlrError>> {
        Box::pin(async { Ok(()) })
    }
    fn change_msisdn<'a>(
        &'a self,
        _: &'a Imsi,
        _: &'a sim_profiles::Msisdn,
        _: &'a sim_profiles::Msisdn,
    ) -> BoxFuture<'a, Result<(), HlrError>> {
        Box::pin(async { Ok(()) })
    }
    fn shutdown(&self) -> BoxFuture<'_, ()> {
        Box::pin(async {})
    }
}
