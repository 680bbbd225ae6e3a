//! Choosing the card of a new order (embedded `physical_sim` and `first_free_esim`):
//! checks only; the caller reserves the card with `sims::set_sim_state` once every other
//! check has passed.

use super::codec::from_doc;
use super::retry::{Tx, TxError, TxResult};
use super::sims::get_sim;
use crate::store::{Rejection, SimRecord, SimState, StoreError};
use sim_profiles::Iccid;

/// The physical card `iccid` if `tenant` may activate it now, else why not.
pub async fn physical_sim(
    tx: &Tx<'_>,
    tenant: &str,
    iccid: &Iccid,
) -> TxResult<Result<SimRecord, Rejection>> {
    Ok(check_physical(tenant, get_sim(tx, iccid.as_str()).await?))
}

/// [`physical_sim`] for a card read in this transaction (`found`: its record and whether
/// it is stock, `None` if there is no such card).
pub fn check_physical(
    tenant: &str,
    found: Option<(SimRecord, bool)>,
) -> Result<SimRecord, Rejection> {
    // A SIM of a batch still being imported does not exist yet for anyone.
    let Some((sim, true)) = found else {
        return Err(Rejection::UnknownIccid);
    };
    if sim.tenant != tenant {
        return Err(Rejection::SimOfOtherTenant);
    }
    if sim.esim_profile_type.is_some() {
        return Err(Rejection::SimIsEsim);
    }
    match sim.state {
        SimState::Available => Ok(sim),
        ref other => Err(Rejection::SimNotAvailable {
            state: other.label().0,
        }),
    }
}

/// The first eSIM profile in stock of `profile_type` for `tenant` (lowest ICCID in
/// `free_esim`), its stock entry locked; `SKIP LOCKED` passes over profiles other
/// transactions are taking, so concurrent orders on several nodes do not queue on one row.
pub async fn free_esim(
    tx: &Tx<'_>,
    tenant: &str,
    profile_type: &str,
) -> TxResult<Option<SimRecord>> {
    let taken = tx
        .row(
            "SELECT iccid FROM free_esim WHERE tenant = $1 AND profile_type = $2
             ORDER BY iccid LIMIT 1 FOR UPDATE SKIP LOCKED",
            &[&tenant, &profile_type],
        )
        .await?;
    match taken {
        Some(r) => {
            let iccid: String = r.get(0);
            match tx
                .row("SELECT doc FROM sims WHERE iccid = $1", &[&iccid])
                .await?
            {
                Some(r) => Ok(Some(from_doc("sims", r.get(0))?)),
                None => Err(StoreError::Corrupt {
                    table: "free_esim",
                    message: format!("profile {iccid} in stock but not in sims"),
                }
                .into()),
            }
        }
        // Every profile in stock is being taken by a transaction that may still roll back.
        None if tx
            .row(
                "SELECT 1 FROM free_esim WHERE tenant = $1 AND profile_type = $2 LIMIT 1",
                &[&tenant, &profile_type],
            )
            .await?
            .is_some() =>
        {
            Err(TxError::Contended)
        }
        None => Ok(None),
    }
}
