//! The sandbox's HLR simulator keeps its subscribers in its own state file
//! (`DATA_DIR/simulators/hlr.state`), so a restarted sandbox finds them as the simulator
//! left them, like a real HLR's database, and never from the gateway's view. Only when
//! that file is new (a data dir from before the simulators kept their state, or a removed
//! file) is the simulator rebuilt here from the gateway's durable orders: every
//! activation whose HLR step succeeded and was not undone, whatever its status (an order
//! stopped between its HLR step and `active` still needs its subscriber); then, oldest
//! first, every southbound step that lifecycle orders recorded as done (barring, swaps,
//! number changes, terminations), which are idempotent and so replay to the same state.
//!
//! The rebuild must finish before the engine's own HLR calls go out (a compensation would
//! otherwise delete a subscriber the rebuild then restores), so the engine talks to the
//! simulator through an [`HlrGate`] that holds its calls until the rebuild has run (or at
//! once, when the simulator resumed its file). A process killed during that one rebuild
//! leaves the file marked as the simulator's own with part of the subscribers: `simgw
//! sandbox reset`, or removing the file before the next start, starts it over.

use crate::app::Gateway;
use crate::engine::EngineError;
use crate::order::{Order, OrderStatus, Step};
use crate::store::StoreError;
use adapters::hlr::{
    Barring, BoxFuture, DeprovisionOutcome, HlrError, HlrProvisioner, ProvisionOutcome,
    SubscriberSpec, SubscriberState,
};
use sim_profiles::{Imsi, Msisdn};
use std::collections::BTreeMap;
use std::sync::Arc;
use tokio::sync::watch;

/// Whether the HLR holds `order`'s subscriber: its provisioning succeeded and no
/// deprovisioning has (a failed or pending undo leaves it there).
pub fn holds_subscriber(order: &Order) -> bool {
    matches!(order.hlr, Step::Done { .. }) && !matches!(order.undo, Some(Step::Done { .. }))
}

/// An HLR whose calls wait until [`HlrGate::open`]; then it is the inner HLR.
pub struct HlrGate {
    inner: Arc<dyn HlrProvisioner>,
    open: watch::Sender<bool>,
}

impl HlrGate {
    /// A closed gate in front of `inner`.
    pub fn new(inner: Arc<dyn HlrProvisioner>) -> Arc<Self> {
        Arc::new(Self {
            inner,
            open: watch::channel(false).0,
        })
    }

    /// Lets every held and future call through.
    pub fn open(&self) {
        self.open.send_replace(true);
    }

    async fn opened(&self) {
        let mut rx = self.open.subscribe();
        // The sender lives as long as `self`, so this only ends when the gate opens.
        let _ = rx.wait_for(|open| *open).await;
    }

    /// Starts `call` only once the gate is open: the inner call is not even made before,
    /// whatever work the inner provisioner does when called.
    fn after_open<'a, T: 'a>(
        &'a self,
        call: impl FnOnce() -> BoxFuture<'a, T> + Send + 'a,
    ) -> BoxFuture<'a, T> {
        Box::pin(async move {
            self.opened().await;
            call().await
        })
    }
}

impl HlrProvisioner for HlrGate {
    fn dialect(&self) -> &'static str {
        self.inner.dialect()
    }
    fn provision<'a>(
        &'a self,
        spec: &'a SubscriberSpec,
    ) -> BoxFuture<'a, Result<ProvisionOutcome, HlrError>> {
        self.after_open(move || self.inner.provision(spec))
    }
    fn deprovision<'a>(
        &'a self,
        spec: &'a SubscriberSpec,
    ) -> BoxFuture<'a, Result<DeprovisionOutcome, HlrError>> {
        self.after_open(move || self.inner.deprovision(spec))
    }
    fn query<'a>(
        &'a self,
        imsi: &'a Imsi,
    ) -> BoxFuture<'a, Result<Option<SubscriberState>, HlrError>> {
        self.after_open(move || self.inner.query(imsi))
    }
    fn set_barring<'a>(
        &'a self,
        imsi: &'a Imsi,
        barring: Barring,
    ) -> BoxFuture<'a, Result<(), HlrError>> {
        self.after_open(move || self.inner.set_barring(imsi, barring))
    }
    fn detach_msisdn<'a>(
        &'a self,
        imsi: &'a Imsi,
        msisdn: &'a Msisdn,
    ) -> BoxFuture<'a, Result<(), HlrError>> {
        self.after_open(move || self.inner.detach_msisdn(imsi, msisdn))
    }
    fn change_msisdn<'a>(
        &'a self,
        imsi: &'a Imsi,
        from: &'a Msisdn,
        to: &'a Msisdn,
    ) -> BoxFuture<'a, Result<(), HlrError>> {
        self.after_open(move || self.inner.change_msisdn(imsi, from, to))
    }
    fn shutdown(&self) -> BoxFuture<'_, ()> {
        self.inner.shutdown()
    }
}

/// Every order of every tenant that may have changed the HLR.
///
/// While the gate is closed no HLR step can change, so the set is exact; but other steps
/// go on, so in-flight orders are read before terminal ones: an order that turns `active`
/// between the reads is then seen in the second (one reopened from `active` for
/// cancellation meanwhile may be missed, and its deprovisioning finds nothing: harmless).
async fn orders_on_the_hlr(gateway: &Gateway) -> Result<Vec<Order>, StoreError> {
    let mut found = BTreeMap::new();
    for o in gateway.store.inflight_orders().await? {
        found.insert(o.id.clone(), o);
    }
    for tenant in gateway.store.tenant_ids().await? {
        for status in [
            OrderStatus::Active,
            OrderStatus::Completed,
            OrderStatus::Failed,
        ] {
            for o in gateway.store.orders_with_status(&tenant, status).await? {
                found.insert(o.id.clone(), o);
            }
        }
    }
    Ok(found.into_values().collect())
}

/// Provisions on `hlr` (the simulator itself, not the gate) every subscriber the orders
/// say it holds, then opens `gate`, even if the rebuild failed part-way (it logs what it
/// could not restore). Returns how many were restored.
pub async fn rebuild(
    gateway: &Gateway,
    hlr: &dyn HlrProvisioner,
    gate: &HlrGate,
) -> Result<usize, EngineError> {
    let result = restore(gateway, hlr).await;
    gate.open();
    result
}

async fn restore(gateway: &Gateway, hlr: &dyn HlrProvisioner) -> Result<usize, EngineError> {
    let mut restored = 0;
    let mut orders = orders_on_the_hlr(gateway).await?;
    // Replayed in the order the orders were created: a line has one order in flight at a
    // time, and a number is reused only after the line that held it ended.
    orders.sort_by(|a, b| (a.created_at_ms, &a.id).cmp(&(b.created_at_ms, &b.id)));
    for order in &orders {
        let Some(l) = &order.lifecycle else {
            if holds_subscriber(order) {
                let spec = gateway.engine.subscriber_spec(order).await?;
                match hlr.provision(&spec).await {
                    Ok(_) => restored += 1,
                    Err(e) => tracing::warn!(order = %order.id, error = %e,
                        "could not restore the subscriber on the sandbox HLR simulator"),
                }
            }
            continue;
        };
        let done = l
            .plan
            .iter()
            .chain(&l.undo)
            .filter(|s| s.op.on_hlr() && matches!(s.step, Step::Done { .. }));
        for s in done {
            if let Err(e) = gateway.engine.perform_on(hlr, order, &s.op).await? {
                tracing::warn!(order = %order.id, step = s.op.name(), error = %e,
                    "could not replay a lifecycle step on the sandbox HLR simulator");
            }
        }
    }
    Ok(restored)
}

#[cfg(test)]
mod tests {
    use super::*;
    use adapters::hlr::FaultClass;
    use std::sync::Mutex;
    use std::task::Poll;

    /// Records which calls reached it.
    #[derive(Default)]
    struct Recorder(Mutex<Vec<&'static str>>);

    impl Recorder {
        fn seen(&self) -> Vec<&'static str> {
            self.0.lock().expect("lock").clone()
        }
        fn record<'a, T: Send + 'a>(&'a self, name: &'static str, v: T) -> BoxFuture<'a, T> {
            self.0.lock().expect("lock").push(name);
            Box::pin(async move { v })
        }
    }

    fn refused() -> HlrError {
        HlrError::new(FaultClass::Validation, "test", "not used here")
    }

    impl HlrProvisioner for Recorder {
        fn dialect(&self) -> &'static str {
            "recorder"
        }
        fn provision<'a>(
            &'a self,
            _: &'a SubscriberSpec,
        ) -> BoxFuture<'a, Result<ProvisionOutcome, HlrError>> {
            self.record("provision", Err(refused()))
        }
        fn deprovision<'a>(
            &'a self,
            _: &'a SubscriberSpec,
        ) -> BoxFuture<'a, Result<DeprovisionOutcome, HlrError>> {
            self.record("deprovision", Err(refused()))
        }
        fn query<'a>(
            &'a self,
            _: &'a Imsi,
        ) -> BoxFuture<'a, Result<Option<SubscriberState>, HlrError>> {
            self.record("query", Err(refused()))
        }
        fn set_barring<'a>(
            &'a self,
            _: &'a Imsi,
            _: Barring,
        ) -> BoxFuture<'a, Result<(), HlrError>> {
            self.record("set_barring", Err(refused()))
        }
        fn detach_msisdn<'a>(
            &'a self,
            _: &'a Imsi,
            _: &'a Msisdn,
        ) -> BoxFuture<'a, Result<(), HlrError>> {
            self.record("detach_msisdn", Ok(()))
        }
        fn change_msisdn<'a>(
            &'a self,
            _: &'a Imsi,
            _: &'a Msisdn,
            _: &'a Msisdn,
        ) -> BoxFuture<'a, Result<(), HlrError>> {
            self.record("change_msisdn", Ok(()))
        }
        fn shutdown(&self) -> BoxFuture<'_, ()> {
            Box::pin(async {})
        }
    }

    /// Polls `fut` once: `true` if it finished.
    async fn ready<T>(fut: &mut BoxFuture<'_, T>) -> bool {
        std::future::poll_fn(|cx| Poll::Ready(fut.as_mut().poll(cx).is_ready())).await
    }

    #[tokio::test]
    async fn number_moves_wait_for_the_rebuild_then_reach_the_simulator() {
        let inner = Arc::new(Recorder::default());
        let gate = HlrGate::new(inner.clone());
        let imsi: Imsi = "001010000000001".parse().expect("imsi");
        let (from, to): (Msisdn, Msisdn) = (
            "491700000001".parse().expect("msisdn"),
            "491700000002".parse().expect("msisdn"),
        );
        let mut detach = gate.detach_msisdn(&imsi, &from);
        let mut change = gate.change_msisdn(&imsi, &from, &to);
        assert!(!ready(&mut detach).await && !ready(&mut change).await);
        assert!(
            inner.seen().is_empty(),
            "nothing reaches it before the rebuild"
        );
        gate.open();
        detach.await.expect("detach");
        change.await.expect("change");
        assert_eq!(inner.seen(), ["detach_msisdn", "change_msisdn"]);
    }
}
