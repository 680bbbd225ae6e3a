//! [`HlrProvisioner`] over OsmoHLR's CTRL interface.
//!
//! Mapping and its limits (OsmoHLR 1.5.0):
//! - Auth data is Milenage K + OPc in clear (`aud3g`); transport-encrypted Ki and a
//!   missing OPc are permanent `Validation` errors. 2G data (`aud2g`) is never written.
//! - Setting `aud3g` resets SQN to 0, so provisioning sends it only when none is stored,
//!   and only [`OsmoHlr::set_keys`] (an explicit re-key) ever replaces it.
//! - Barring is coarse: any operator barring disables both CS and PS access
//!   (`nam_cs`/`nam_ps`); OsmoHLR has no finer barring. It reads back as barred only when
//!   both are disabled (a mixed state, left by an interrupted write or by hand, is not a
//!   full barring; `set_barring` repairs either flag). There is no service profile.
//! - The number is a nullable, UNIQUE column of the subscriber row: a subscriber without
//!   a number is valid, `msisdn` SET `none` clears it, and a SET of a number held by
//!   another IMSI fails with `Update MSISDN failed` (a `Conflict`).

use super::classify::classify;
use super::client::{CtrlClient, CtrlError};
use super::config::OsmoConfig;
use super::info::{SubscriberInfo, is_ours, parse_info, provision_steps};
use crate::hlr::{
    AucState, Barring, BoxFuture, DeprovisionOutcome, FaultClass, HlrError, HlrProvisioner,
    HlrState, KiMaterial, ProvisionOutcome, SubscriberSpec, SubscriberState,
};
use sim_profiles::{Imsi, Key128, Msisdn};
use zeroize::Zeroizing;

const OP_CREATE: &str = "CTRL subscriber.create";
const OP_DELETE: &str = "CTRL subscriber.delete";
const OP_INFO: &str = "CTRL info-all";
const OP_MSISDN: &str = "CTRL msisdn";
const OP_AUD3G: &str = "CTRL aud3g";
const OP_CS: &str = "CTRL cs-enabled";
const OP_PS: &str = "CTRL ps-enabled";
const OP_VALIDATE: &str = "CTRL validate";
const OP_BARRING: &str = "CTRL info";
const OP_DETACH: &str = "CTRL msisdn detach";
const OP_CHANGE: &str = "CTRL msisdn change";

/// An OsmoHLR provisioned over CTRL (one persistent, lazily opened connection).
#[derive(Debug)]
pub struct OsmoHlr {
    client: CtrlClient,
}

/// `subscriber.by-imsi-<IMSI>.<field>`.
fn var(imsi: &Imsi, field: &str) -> String {
    format!("subscriber.by-imsi-{}.{field}", imsi.as_str())
}

/// The `aud3g` value; zeroised when dropped.
fn aud3g_value(k: &Key128, opc: &Key128) -> Zeroizing<String> {
    let (k, opc) = (
        Zeroizing::new(k.expose_hex()),
        Zeroizing::new(opc.expose_hex()),
    );
    Zeroizing::new(format!("milenage,{},OPC,{}", k.as_str(), opc.as_str()))
}

/// K and OPc in clear, or the permanent reason OsmoHLR cannot take this spec.
fn clear_keys(spec: &SubscriberSpec) -> Result<(&Key128, &Key128), HlrError> {
    let KiMaterial::Clear(k) = &spec.auth.ki else {
        return Err(HlrError::new(
            FaultClass::Validation,
            OP_VALIDATE,
            "OsmoHLR takes clear keys only",
        ));
    };
    let Some(opc) = &spec.auth.opc else {
        return Err(HlrError::new(
            FaultClass::Validation,
            OP_VALIDATE,
            "OsmoHLR needs OPc for Milenage",
        ));
    };
    Ok((k, opc))
}

impl OsmoHlr {
    /// The adapter for `config`; connects on first use.
    pub fn new(config: OsmoConfig) -> Self {
        Self {
            client: CtrlClient::new(config.addr, config.request_timeout),
        }
    }

    /// The underlying CTRL client.
    pub fn client(&self) -> &CtrlClient {
        &self.client
    }

    /// Explicit re-key: replaces K/OPc. OsmoHLR resets SQN to 0, so a live UE goes through
    /// an authentication resync; never call this for unchanged keys.
    pub async fn set_keys(&self, imsi: &Imsi, k: &Key128, opc: &Key128) -> Result<(), HlrError> {
        tracing::warn!(imsi = imsi.as_str(), "re-keying subscriber; SQN resets");
        self.set(OP_AUD3G, &var(imsi, "aud3g"), &aud3g_value(k, opc))
            .await
    }

    async fn set(&self, op: &'static str, var: &str, value: &str) -> Result<(), HlrError> {
        self.client
            .set(var, value)
            .await
            .map(drop)
            .map_err(|e| classify(op, e))
    }

    /// `info-all`, `None` if the subscriber does not exist.
    async fn info(&self, imsi: &Imsi) -> Result<Option<SubscriberInfo>, HlrError> {
        self.read_info(imsi, "info-all", OP_INFO).await
    }

    /// Reads `field` (`info` without keys, or `info-all`) into [`SubscriberInfo`].
    async fn read_info(
        &self,
        imsi: &Imsi,
        field: &str,
        op: &'static str,
    ) -> Result<Option<SubscriberInfo>, HlrError> {
        let text = match self.client.get(&var(imsi, field)).await {
            Ok(text) => Zeroizing::new(text),
            Err(e) => {
                let e = classify(op, e);
                return if e.class == FaultClass::NotFound {
                    Ok(None)
                } else {
                    Err(e)
                };
            }
        };
        parse_info(&text)
            .map(Some)
            .map_err(|e| HlrError::new(FaultClass::Protocol, op, e.to_string()))
    }

    async fn provision_spec(&self, spec: &SubscriberSpec) -> Result<ProvisionOutcome, HlrError> {
        let (k, opc) = clear_keys(spec)?;
        let imsi = &spec.imsi;
        let created = match self.client.set("subscriber.create", imsi.as_str()).await {
            Ok(_) => true,
            Err(CtrlError::Refused(r)) if r == "Subscriber already exists." => false,
            Err(e) => return Err(classify(OP_CREATE, e)),
        };
        let current = if created {
            None
        } else {
            // Exists (a repeated step, or a crash mid-way): compare, then fill in.
            Some(self.info(imsi).await?.ok_or_else(|| {
                HlrError::new(
                    FaultClass::Transient,
                    OP_INFO,
                    "subscriber vanished between create and read",
                )
            })?)
        };
        let steps = provision_steps(spec, k, opc, current.as_ref())
            .map_err(|why| HlrError::new(FaultClass::Conflict, OP_CREATE, why))?;
        if let (true, Some(msisdn)) = (steps.msisdn, &spec.msisdn) {
            self.set(OP_MSISDN, &var(imsi, "msisdn"), msisdn.as_str())
                .await?;
        }
        if steps.aud3g {
            self.set(OP_AUD3G, &var(imsi, "aud3g"), &aud3g_value(k, opc))
                .await?;
        }
        if let Some(on) = steps.cs {
            self.set(OP_CS, &var(imsi, "cs-enabled"), flag(on)).await?;
        }
        if let Some(on) = steps.ps {
            self.set(OP_PS, &var(imsi, "ps-enabled"), flag(on)).await?;
        }
        Ok(if created {
            ProvisionOutcome::Created
        } else {
            ProvisionOutcome::AlreadyPresent
        })
    }

    async fn deprovision_spec(
        &self,
        spec: &SubscriberSpec,
    ) -> Result<DeprovisionOutcome, HlrError> {
        let Some(current) = self.info(&spec.imsi).await? else {
            return Ok(DeprovisionOutcome::NotPresent);
        };
        if !is_ours(spec, clear_keys(spec).ok(), &current) {
            tracing::warn!(
                imsi = spec.imsi.as_str(),
                "OsmoHLR subscriber differs from the order; left in place"
            );
            return Ok(DeprovisionOutcome::LeftForeign);
        }
        match self
            .client
            .set("subscriber.delete", spec.imsi.as_str())
            .await
        {
            Ok(_) => Ok(DeprovisionOutcome::Deleted),
            Err(e) => {
                let e = classify(OP_DELETE, e);
                if e.class == FaultClass::NotFound {
                    Ok(DeprovisionOutcome::NotPresent)
                } else {
                    Err(e)
                }
            }
        }
    }

    async fn query_imsi(&self, imsi: &Imsi) -> Result<Option<SubscriberState>, HlrError> {
        let Some(info) = self.info(imsi).await? else {
            return Ok(None);
        };
        let ki = match (info.aud3g, info.aud2g_ki) {
            (Some(a), _) => Some(a.k),
            (None, ki) => ki,
        };
        let msisdn = match info.msisdn.as_deref().map(str::parse::<Msisdn>) {
            None => None,
            Some(Ok(m)) => Some(m),
            Some(Err(_)) => {
                return Err(HlrError::new(
                    FaultClass::Protocol,
                    OP_INFO,
                    "stored MSISDN is not an E.164 number",
                ));
            }
        };
        let barred = !info.nam_cs && !info.nam_ps;
        Ok(Some(SubscriberState {
            imsi: imsi.clone(),
            auc: ki.map(|ki| AucState {
                ki: Some(KiMaterial::Clear(ki)),
                fsetind: None,
            }),
            hlr: Some(HlrState {
                msisdn,
                profile_id: None,
                barring: Barring {
                    outgoing: barred,
                    incoming: barred,
                },
            }),
        }))
    }

    /// Any barring disables CS and PS; none enables both. Reads `info` (no keys) first:
    /// OsmoHLR answers a SET on an unknown subscriber only with a generic error, and
    /// unchanged flags need no write. Auth data is never touched.
    async fn barring(&self, imsi: &Imsi, barring: Barring) -> Result<(), HlrError> {
        let Some(current) = self.read_info(imsi, "info", OP_BARRING).await? else {
            return Err(HlrError::new(
                FaultClass::NotFound,
                OP_BARRING,
                "no subscriber with this IMSI",
            ));
        };
        let enabled = !(barring.outgoing || barring.incoming);
        if current.nam_cs != enabled {
            self.set(OP_CS, &var(imsi, "cs-enabled"), flag(enabled))
                .await?;
        }
        if current.nam_ps != enabled {
            self.set(OP_PS, &var(imsi, "ps-enabled"), flag(enabled))
                .await?;
        }
        Ok(())
    }

    /// Clears `msisdn` after `info` (no keys) shows this subscriber holds it.
    async fn detach(&self, imsi: &Imsi, msisdn: &Msisdn) -> Result<(), HlrError> {
        let Some(current) = self.read_info(imsi, "info", OP_DETACH).await? else {
            return Ok(());
        };
        match current.msisdn.as_deref() {
            None => Ok(()),
            Some(m) if m == msisdn.as_str() => {
                match self.set(OP_DETACH, &var(imsi, "msisdn"), "none").await {
                    // Deleted meanwhile: it holds no number either.
                    Err(e) if e.class == FaultClass::NotFound => Ok(()),
                    other => other,
                }
            }
            Some(_) => Err(HlrError::new(
                FaultClass::Conflict,
                OP_DETACH,
                "subscriber holds a different MSISDN; left unchanged",
            )),
        }
    }

    /// Sets `to` after `info` (no keys) shows this subscriber on `from`.
    async fn change(&self, imsi: &Imsi, from: &Msisdn, to: &Msisdn) -> Result<(), HlrError> {
        let Some(current) = self.read_info(imsi, "info", OP_CHANGE).await? else {
            return Err(HlrError::new(
                FaultClass::NotFound,
                OP_CHANGE,
                "no subscriber with this IMSI",
            ));
        };
        match current.msisdn.as_deref() {
            Some(m) if m == to.as_str() => Ok(()),
            Some(m) if m == from.as_str() => {
                // OsmoHLR's only refusal here is the UNIQUE index: `classify` makes
                // `Update MSISDN failed` a Conflict saying another IMSI holds the number.
                self.set(OP_CHANGE, &var(imsi, "msisdn"), to.as_str()).await
            }
            _ => Err(HlrError::new(
                FaultClass::Conflict,
                OP_CHANGE,
                "subscriber holds neither the old nor the new MSISDN; left unchanged",
            )),
        }
    }
}

fn flag(on: bool) -> &'static str {
    if on { "1" } else { "0" }
}

impl HlrProvisioner for OsmoHlr {
    fn dialect(&self) -> &'static str {
        "osmo-ctrl"
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
        Box::pin(self.client.close())
    }
}
