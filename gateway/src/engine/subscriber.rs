//! The southbound subscriber spec of a line: its SIM's Ki and OPc opened in memory only
//! (the pure assembly is in `requests`).

use super::Inner;
use super::error::EngineError;
use super::requests::{ki_material, line_of_order, subscriber_spec};
use crate::order::Line;
use adapters::hlr::SubscriberSpec;

impl Inner {
    /// The spec of `line` on card `iccid`, for order `order_id`, opening the sealed Ki/OPc
    /// only in memory.
    pub(super) async fn line_spec(
        &self,
        order_id: &str,
        line: &Line,
    ) -> Result<SubscriberSpec, EngineError> {
        let iccid = &line.iccid;
        let sim = self.store.get_sim(iccid).await?.ok_or_else(|| {
            EngineError::unusable(order_id, format!("its SIM {iccid} is missing"))
        })?;
        let (ki, opc) = crate::admin::open_sim_keys(&self.keys, &sim)
            .map_err(|message| EngineError::unusable(order_id, message))?;
        let ki = ki_material(ki, self.settings.ki_wrap.as_ref(), order_id)?;
        Ok(subscriber_spec(line, ki, opc, self.settings.fsetind))
    }

    /// The spec an activation order provisions.
    pub(super) async fn spec(
        &self,
        order: &crate::order::Order,
    ) -> Result<SubscriberSpec, EngineError> {
        self.line_spec(&order.id, &line_of_order(order)).await
    }
}
