//! SIMs: every state change goes through [`set_sim_state`], which writes the state columns
//! and `doc` together, moves the SIM between the counters of its batch, and keeps an eSIM
//! profile's place in `free_esim` (in stock: stocked and available). `stocked` is
//! false while the SIM's batch is importing: such a SIM exists for no one (embedded
//! `import.rs` looks the batch up instead; here the row says it).

use super::codec::{from_doc, to_doc};
use super::counters::{self, counter};
use super::retry::{Tx, TxResult};
use crate::store::{SimRecord, SimState, StoreError};
use sim_profiles::Iccid;

/// The state columns of a SIM: (state, holder).
pub fn columns(state: &SimState) -> (&'static str, Option<&str>) {
    let (name, holder) = state.label();
    (name, holder)
}

/// The counter a SIM in `state` counts under.
pub fn counter_of(state: &SimState) -> &'static str {
    counter_of_column(columns(state).0).unwrap_or(counter::SIMS_AVAILABLE)
}

/// The counter a SIM whose `state` column holds `label` counts under (`None`: not a
/// state name).
pub fn counter_of_column(label: &str) -> Option<&'static str> {
    match label {
        "available" => Some(counter::SIMS_AVAILABLE),
        "reserved" => Some(counter::SIMS_RESERVED),
        "active" => Some(counter::SIMS_ACTIVE),
        "retired" => Some(counter::SIMS_RETIRED),
        _ => None,
    }
}

/// A SIM's record and whether it is stock (its batch complete).
pub async fn get_sim(tx: &Tx<'_>, iccid: &str) -> TxResult<Option<(SimRecord, bool)>> {
    match tx
        .row("SELECT doc, stocked FROM sims WHERE iccid = $1", &[&iccid])
        .await?
    {
        Some(r) => Ok(Some((from_doc("sims", r.get(0))?, r.get(1)))),
        None => Ok(None),
    }
}

/// Inserts a SIM (`file_line`: its line in an imported file). The caller counts it. A
/// duplicate ICCID or IMSI is refused by the database (SQLSTATE 23505).
pub async fn insert_sim(
    tx: &Tx<'_>,
    sim: &SimRecord,
    stocked: bool,
    file_line: Option<i32>,
) -> TxResult<()> {
    let (state, holder) = columns(&sim.state);
    tx.exec(
        "INSERT INTO sims (iccid, imsi, tenant, batch, file_line, stocked, state, holder,
                           esim_profile_type, doc)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        &[
            &sim.iccid.as_str(),
            &sim.imsi.as_str(),
            &sim.tenant,
            &sim.batch,
            &file_line,
            &stocked,
            &state,
            &holder,
            &sim.esim_profile_type,
            &to_doc(sim)?,
        ],
    )
    .await?;
    stock_esim(tx, sim, stocked).await
}

/// Puts an eSIM profile in `free_esim` when it is stock and available, else takes it out;
/// a physical SIM is left alone.
pub async fn stock_esim(tx: &Tx<'_>, sim: &SimRecord, stocked: bool) -> TxResult<()> {
    let Some(profile_type) = &sim.esim_profile_type else {
        return Ok(());
    };
    let key: [&(dyn tokio_postgres::types::ToSql + Sync); 3] =
        [&sim.tenant, profile_type, &sim.iccid.as_str()];
    if stocked && sim.state == SimState::Available {
        tx.exec(
            "INSERT INTO free_esim (tenant, profile_type, iccid) VALUES ($1, $2, $3)
             ON CONFLICT DO NOTHING",
            &key,
        )
        .await?;
    } else {
        tx.exec(
            "DELETE FROM free_esim WHERE tenant = $1 AND profile_type = $2 AND iccid = $3",
            &key,
        )
        .await?;
    }
    Ok(())
}

/// Moves a SIM to `state`, keeping its columns, `doc` and its batch's counters in step;
/// returns the record after the change. The SIM must exist.
pub async fn set_sim_state(tx: &Tx<'_>, iccid: &Iccid, state: SimState) -> TxResult<SimRecord> {
    let (sim, stocked) = get_sim(tx, iccid.as_str())
        .await?
        .ok_or_else(|| StoreError::Corrupt {
            table: "sims",
            message: "SIM of an order is missing".into(),
        })?;
    move_sim(tx, (sim, stocked), state).await
}

/// [`set_sim_state`] for a SIM the transaction has just read (`get_sim`'s record and
/// stock flag), without reading it again.
pub async fn move_sim(
    tx: &Tx<'_>,
    (mut sim, stocked): (SimRecord, bool),
    state: SimState,
) -> TxResult<SimRecord> {
    let iccid = sim.iccid.clone();
    let (from, to) = (counter_of(&sim.state), counter_of(&state));
    if from != to {
        counters::add(tx, &sim.tenant, &sim.batch, from, -1).await?;
        counters::add(tx, &sim.tenant, &sim.batch, to, 1).await?;
    }
    sim.state = state;
    let (s, holder) = columns(&sim.state);
    tx.exec(
        "UPDATE sims SET state = $2, holder = $3, doc = $4 WHERE iccid = $1",
        &[&iccid.as_str(), &s, &holder, &to_doc(&sim)?],
    )
    .await?;
    stock_esim(tx, &sim, stocked).await?;
    Ok(sim)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_state_column_names_the_same_counter_as_the_state() {
        let o = || "o".to_owned();
        for state in [
            SimState::Available,
            SimState::Reserved { order: o() },
            SimState::Active { order: o() },
            SimState::Retired { order: o() },
        ] {
            assert_eq!(
                counter_of_column(columns(&state).0),
                Some(counter_of(&state))
            );
        }
        assert_eq!(counter_of_column("nonsense"), None);
    }
}
