//! Tenants (MVNO brands), their products, API keys, and the offline admin changes.

use super::inventory::SimRecord;
use crate::numbers::{GoldenRule, NumberPolicy};
use serde::{Deserialize, Serialize};
use sim_profiles::{Msisdn, Plmn};
use std::collections::BTreeMap;

/// A reseller brand (MVNO) using the gateway.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
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
    /// Whether store clerks may pick golden numbers on the store terminal's number page
    /// (they are always listed, marked; the API may always choose them).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub golden_in_store: bool,
    /// The market whose real-name and anti-fraud rules apply (`None`: the permissive
    /// policy every tenant had before compliance existed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub market: Option<crate::compliance::Market>,
    /// The licence holder the tenant (a brand) belongs to: the per-ID line limit, the ID
    /// velocity counter and the blocklists span every tenant of an enterprise. `None`:
    /// the tenant is its own enterprise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enterprise: Option<String>,
    /// Per-tenant settings over the market's defaults.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compliance: Option<Box<crate::compliance::PolicyOverride>>,
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
            golden_in_store: false,
            market: None,
            enterprise: None,
            compliance: None,
        }
    }

    /// The enterprise the tenant's lines count in.
    pub fn enterprise(&self) -> &str {
        self.enterprise.as_deref().unwrap_or(&self.id)
    }

    /// The tenant's effective compliance policy: its market's defaults with its
    /// overrides, or the permissive policy without a market.
    pub fn policy(&self) -> Result<crate::compliance::Policy, crate::compliance::PolicyError> {
        match self.market {
            None => Ok(crate::compliance::Policy::sandbox()),
            Some(m) => match &self.compliance {
                Some(o) => crate::compliance::resolve(m, o),
                None => crate::compliance::resolve(m, &Default::default()),
            },
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
    /// What the key may do. Records written before keys had roles have no `role` and decode
    /// as [`Role::Operator`], so those keys keep every right they had.
    #[serde(default = "Role::before_roles")]
    pub role: Role,
}

/// What an API key may do within its tenant (the table is `api::auth::allows`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// A sales channel: activations, number reservations and reads.
    Channel,
    /// The MVNO's operations team: everything a channel may, plus imports, quarantine,
    /// lifecycle operations, webhooks and reconciliation.
    Operator,
    /// Reads only.
    Readonly,
}

impl Role {
    /// Every role, least rights first.
    pub const ALL: [Role; 3] = [Role::Readonly, Role::Channel, Role::Operator];

    /// The wire and CLI name.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Channel => "channel",
            Role::Operator => "operator",
            Role::Readonly => "readonly",
        }
    }

    /// The role of a key stored before roles existed: operator, the rights every key had.
    fn before_roles() -> Role {
        Role::Operator
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Role {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| "expected `channel`, `operator` or `readonly`".to_owned())
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_stored_before_roles_decodes_as_operator() {
        // An `api_keys` value exactly as the embedded store wrote it before keys had roles.
        let old = r#"{"tenant":"acme","prefix":"sk_acme_ABCDEFGH","label":"pos","created_at_ms":1700000000000}"#;
        let r: ApiKeyRecord = serde_json::from_str(old).expect("old record decodes");
        assert_eq!(r.role, Role::Operator);
        assert_eq!(r.tenant, "acme");
    }

    #[test]
    fn role_round_trips_by_its_name() {
        for role in Role::ALL {
            let r = ApiKeyRecord {
                tenant: "acme".into(),
                prefix: "sk_acme_x".into(),
                label: String::new(),
                created_at_ms: 0,
                role,
            };
            let json = serde_json::to_value(&r).expect("encode");
            assert_eq!(json["role"], role.as_str());
            assert_eq!(
                serde_json::from_value::<ApiKeyRecord>(json).expect("decode"),
                r
            );
            assert_eq!(role.as_str().parse::<Role>(), Ok(role));
        }
        assert!("admin".parse::<Role>().is_err());
        assert!("Operator".parse::<Role>().is_err());
    }
}
