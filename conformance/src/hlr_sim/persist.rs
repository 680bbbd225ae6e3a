//! The HLR simulator's state file: one record per IMSI (its AUC entry and HLR subscription,
//! the Ki as it was received: in clear or under the transport key), handed to the writer
//! in the same step as the change, under the store's lock, and committed before the answer
//! goes out. Sessions,
//! counters, fault rules and the applied-create log belong to one run and are not kept.

use super::codec::{AucSubscription, HlrSubscription, KiWire};
use super::store::Store;
use crate::common::state_file::{Change, StateFile, StateFileError, Table};
use serde::{Deserialize, Serialize};
use sim_profiles::{Imsi, Key128, Msisdn};
use std::path::Path;

/// Subscribers by IMSI.
const SUBSCRIBERS: Table = Table::new("subscribers");

/// What the file keeps of one IMSI. No `Debug`: it holds the Ki.
#[derive(Serialize, Deserialize)]
struct Record {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    auc: Option<AucRecord>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    hlr: Option<HlrRecord>,
}

#[derive(Serialize, Deserialize)]
struct AucRecord {
    ki: KiRecord,
    fsetind: u8,
}

/// The Ki as the AUC received it, hex.
#[derive(Serialize, Deserialize)]
#[serde(tag = "form", rename_all = "snake_case")]
enum KiRecord {
    Clear {
        ki: String,
    },
    Encrypted {
        ciphertext: String,
        a4ind: u8,
        adkey: u16,
    },
}

#[derive(Serialize, Deserialize)]
struct HlrRecord {
    msisdn: Msisdn,
    profile_id: u32,
    obo: bool,
    obi: bool,
}

impl Record {
    fn of(auc: Option<&AucSubscription>, hlr: Option<&HlrSubscription>) -> Self {
        Self {
            auc: auc.map(|a| AucRecord {
                ki: match &a.ki {
                    KiWire::Clear(k) => KiRecord::Clear { ki: k.expose_hex() },
                    KiWire::Encrypted {
                        ciphertext,
                        a4ind,
                        adkey,
                    } => KiRecord::Encrypted {
                        ciphertext: ciphertext.expose_hex(),
                        a4ind: *a4ind,
                        adkey: *adkey,
                    },
                },
                fsetind: a.fsetind,
            }),
            hlr: hlr.map(|h| HlrRecord {
                msisdn: h.msisdn.clone(),
                profile_id: h.profile_id,
                obo: h.obo,
                obi: h.obi,
            }),
        }
    }

    /// The store's objects; `None` if a key does not decode (the error names the IMSI only).
    fn into_objects(
        self,
        imsi: &Imsi,
    ) -> Option<(Option<AucSubscription>, Option<HlrSubscription>)> {
        let auc = match self.auc {
            None => None,
            Some(a) => Some(AucSubscription {
                imsi: imsi.clone(),
                ki: match a.ki {
                    KiRecord::Clear { ki } => KiWire::Clear(Key128::from_hex(&ki).ok()?),
                    KiRecord::Encrypted {
                        ciphertext,
                        a4ind,
                        adkey,
                    } => KiWire::Encrypted {
                        ciphertext: Key128::from_hex(&ciphertext).ok()?,
                        a4ind,
                        adkey,
                    },
                },
                fsetind: a.fsetind,
            }),
        };
        let hlr = self.hlr.map(|h| HlrSubscription {
            imsi: imsi.clone(),
            msisdn: h.msisdn,
            profile_id: h.profile_id,
            obo: h.obo,
            obi: h.obi,
        });
        Some((auc, hlr))
    }
}

/// Opens (or creates) the file at `path` and the store it holds.
pub(crate) fn open(path: &Path) -> Result<(StateFile, Store), StateFileError> {
    let file = StateFile::open(path)?;
    let mut store = Store::tracked();
    for (key, record) in file.load::<Record>(SUBSCRIBERS)? {
        let bad = |what: &str| StateFileError::Format {
            path: path.to_owned(),
            reason: format!("subscriber {key}: {what}"),
        };
        let imsi: Imsi = key.parse().map_err(|_| bad("the key is not an IMSI"))?;
        let (auc, hlr) = record
            .into_objects(&imsi)
            .ok_or_else(|| bad("a key is not 32 hex digits"))?;
        store
            .restore(auc, hlr)
            .map_err(|_| bad("its MSISDN is held by another IMSI"))?;
    }
    Ok((file, store))
}

/// The records of what changed in `store` since the last call.
pub(crate) fn changes(store: &mut Store) -> Vec<Change> {
    let dirty = store.take_dirty();
    dirty
        .iter()
        .filter_map(|imsi| {
            let (auc, hlr) = (store.auc_ref(imsi), store.hlr_ref(imsi));
            if auc.is_none() && hlr.is_none() {
                return Some(Change::delete(SUBSCRIBERS, imsi.as_str()));
            }
            Change::put(SUBSCRIBERS, imsi.as_str(), &Record::of(auc, hlr))
        })
        .collect()
}
