//! eSIM download progress rows (embedded ESIM_PROGRESS): read and written only inside a
//! transaction here; `esim.rs` records notifications into them and `advance.rs` asks
//! whether a profile has reached its device.

use super::codec::{from_doc, to_doc};
use super::retry::{Tx, TxResult};
use crate::order::EsimState;
use crate::store::EsimProgress;

/// An order's progress (empty if no notification arrived for it).
pub async fn get(tx: &Tx<'_>, order_id: &str) -> TxResult<EsimProgress> {
    match tx
        .row(
            "SELECT doc FROM esim_progress WHERE order_id = $1",
            &[&order_id],
        )
        .await?
    {
        Some(r) => Ok(from_doc("esim_progress", r.get(0))?),
        None => Ok(EsimProgress {
            state: None,
            points: Vec::new(),
        }),
    }
}

/// Writes an order's progress.
pub async fn put(tx: &Tx<'_>, order_id: &str, p: &EsimProgress) -> TxResult<()> {
    tx.exec(
        "INSERT INTO esim_progress (order_id, state, doc) VALUES ($1, $2, $3)
         ON CONFLICT (order_id) DO UPDATE SET state = excluded.state, doc = excluded.doc",
        &[&order_id, &p.state.map(EsimState::as_str), &to_doc(p)?],
    )
    .await?;
    Ok(())
}

/// True once the device has the profile (downloaded or installed).
pub async fn downloaded(tx: &Tx<'_>, order_id: &str) -> TxResult<bool> {
    Ok(matches!(
        get(tx, order_id).await?.state,
        Some(EsimState::Downloaded | EsimState::Installed)
    ))
}
