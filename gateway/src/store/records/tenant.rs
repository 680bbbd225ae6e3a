//! Tenants (MVNO brands), their products, API keys, and the offline admin changes.

use super::inventory::SimRecord;
use crate::numbers::{GoldenRule, NumberPolicy};
use serde::{Deserialize, Serialize};
use sim_profiles::{Msisdn, Plmn};
use std::collections::BTreeMap;

/// A reseller brand (MVNO) using the gateway.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tenant {
    /// Stable id, e.g. `sandbox`.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Home PLMN of the tenant's IMSIs.
    pub plmn: Plmn,
    /// Product code → HLR profile.
    pub products: BTreeMap<String, Product>,
    /// How automatic number assignment picks.
    #[serde(default)]
    pub number_policy: NumberPolicy,
    /// Rules marking numbers golden (never auto-assigned), applied when numbers are added.
    #[serde(default = "crate::numbers::default_golden_rules")]
    pub golden_rules: Vec<GoldenRule>,
    /// Days a released number ages in quarantine before reuse.
    #[serde(default = "default_quarantine_days")]
    pub quarantine_days: u32,
    /// Alert when available SIMs, or a pool's ordinary numbers, fall below this.
    #[serde(default)]
    pub low_stock_threshold: Option<u64>,
    /// Per-pool thresholds (block label → minimum free numbers), overriding the default.
    #[serde(default)]
    pub pool_low_stock: BTreeMap<String, u64>,
    /// eSIM orders carry a confirmation code the customer types on the device.
    #[serde(default)]
    pub esim_confirmation_code: bool,
}

fn default_quarantine_days() -> u32 {
    90
}

impl Tenant {
    /// A tenant with the default number policy, golden rules and 90-day quarantine.
    pub fn new(id: &str, name: &str, plmn: Plmn, products: BTreeMap<String, Product>) -> Self {
        Self {
            id: id.to_owned(),
            name: name.to_owned(),
            plmn,
            products,
            number_policy: NumberPolicy::default(),
            golden_rules: crate::numbers::default_golden_rules(),
            quarantine_days: default_quarantine_days(),
            low_stock_threshold: None,
            pool_low_stock: BTreeMap::new(),
            esim_confirmation_code: false,
        }
    }
}

/// A sellable product and what it means on the host operator's HLR.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Product {
    /// CAI3G `profileId` (HLR subscriber template).
    pub hlr_profile_id: u32,
    /// The SM-DP+ profile type eSIM orders of this product draw from; `None`: the product
    /// is sold on physical SIMs only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub esim_profile_type: Option<String>,
}

impl Product {
    /// A product on HLR template `hlr_profile_id`, physical SIMs only.
    pub fn new(hlr_profile_id: u32) -> Self {
        Self {
            hlr_profile_id,
            esim_profile_type: None,
        }
    }

    /// The same product also sold as an eSIM drawn from `profile_type`.
    pub fn with_esim(mut self, profile_type: impl Into<String>) -> Self {
        self.esim_profile_type = Some(profile_type.into());
        self
    }
}

/// An API key as stored: only the SHA-256 of the key is the table key.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiKeyRecord {
    /// The tenant the key acts for.
    pub tenant: String,
    /// Non-secret prefix shown in audit logs, e.g. `sk_sandbox_ab12`.
    pub prefix: String,
    /// Free-text label.
    pub label: String,
    /// Unix ms of creation.
    pub created_at_ms: u64,
}

/// An administrative change.
#[derive(Clone, Debug)]
pub enum AdminChange {
    /// Create or replace a tenant.
    PutTenant(Tenant),
    /// Register an API key by its hash.
    PutApiKey {
        /// SHA-256 of the key.
        hash: [u8; 32],
        /// The record.
        record: ApiKeyRecord,
    },
    /// Load SIMs. The whole list is rejected if any ICCID or IMSI exists already.
    AddSims(Vec<SimRecord>),
    /// Add a block of consecutive numbers to a tenant's pool.
    AddNumbers {
        /// Owning tenant.
        tenant: String,
        /// Block label.
        block: String,
        /// First number.
        first: Msisdn,
        /// How many.
        count: u64,
    },
    /// Set a metadata value.
    PutMeta {
        /// Key.
        key: String,
        /// Value.
        value: Vec<u8>,
    },
    /// Several changes in one transaction (all or nothing).
    Batch(Vec<AdminChange>),
}

/// Result of an administrative change.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AdminOutcome {
    /// Applied.
    Applied,
    /// Refused; nothing changed.
    Refused(String),
}
