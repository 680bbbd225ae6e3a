//! The southbound subscriber spec of an order: its SIM's Ki and OPc opened in memory only,
//! and Ki wrapped under the HLR's transport key when the host wants it so.

use super::Inner;
use crate::order::Order;
use crate::store::StoreError;
use adapters::hlr::{AuthData, Barring, HlrProfile, KiMaterial, SubscriberSpec};
use sim_profiles::Key128;

impl Inner {
    /// Builds the southbound spec, opening the sealed Ki/OPc only in memory.
    pub(super) fn spec(&self, order: &Order) -> Result<SubscriberSpec, StoreError> {
        let sim = self
            .store
            .get_sim(&order.iccid)?
            .ok_or_else(|| StoreError::Corrupt {
                table: "sims",
                message: format!("SIM {} of order {} is missing", order.iccid, order.id),
            })?;
        let (ki, opc) = crate::admin::open_sim_keys(&self.keys, &sim).map_err(|message| {
            StoreError::Corrupt {
                table: "sims",
                message,
            }
        })?;
        Ok(SubscriberSpec {
            imsi: order.imsi.clone(),
            msisdn: Some(order.msisdn.clone()),
            auth: AuthData {
                ki: self.ki_material(ki)?,
                opc,
                fsetind: self.settings.fsetind,
            },
            profile: HlrProfile {
                profile_id: order.hlr_profile_id,
            },
            barring: Barring::default(),
        })
    }

    /// Ki as the HLR wants it: clear, or under its transport key with the A4 selector.
    fn ki_material(&self, ki: Key128) -> Result<KiMaterial, StoreError> {
        let Some(w) = &self.settings.ki_wrap else {
            return Ok(KiMaterial::Clear(ki));
        };
        let ciphertext = w.cipher.encrypt_key(&ki).map_err(|e| StoreError::Corrupt {
            table: "sims",
            message: format!("cannot wrap Ki for the HLR: {e}"),
        })?;
        Ok(KiMaterial::Encrypted {
            ciphertext,
            a4ind: w.a4ind,
            adkey: w.adkey,
        })
    }
}
