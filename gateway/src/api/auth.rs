//! Bearer API keys and what each key's role may do. Only SHA-256 of each key is stored; keys
//! are 160+ bits of randomness, so a fast hash is enough (no password stretching needed)
//! and lookups stay O(log n).
//!
//! Every handler authenticates, then calls [`Caller::require`] before it reads the body
//! or touches the store, so a refused request changes nothing. [`allows`] is the one table
//! of rights.

use super::AppState;
use super::problem::ApiError;
use crate::crypto::sha256;
use crate::store::Role;
use axum::http::HeaderMap;

/// Who a request acts for: the key's tenant and role.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Caller {
    /// The tenant the key belongs to; the request sees only this tenant's data.
    pub tenant: String,
    /// What the key may do.
    pub role: Role,
    /// The key's non-secret prefix, for audit records.
    pub key_prefix: String,
}

/// Something a handler does that not every role may do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Permission {
    /// Any `GET` of the caller's own tenant.
    Read,
    /// `POST /v1/activations`.
    Activate,
    /// `POST /v1/numbers/reservations`.
    Reserve,
    /// Cancelling an order that may still be cancelled.
    Cancel,
    /// `POST /v1/inventory/imports`.
    Import,
    /// `POST /v1/numbers/{msisdn}/release`: ending a quarantine early.
    ReleaseQuarantine,
    /// Suspend, resume, terminate, SIM swap and number change of a subscription.
    Lifecycle,
    /// Lifting a `fraud_risk` or `regulatory` suspension.
    LiftProtectedSuspension,
    /// Creating and deleting webhook endpoints, rotating their secrets, redelivering events
    /// (reading them is [`Permission::Read`]).
    Webhooks,
    /// Running a reconciliation against the southbound peers.
    Reconcile,
    /// Managing the channel registry and the blocklists.
    Compliance,
    /// Recording a line's second real-person verification result
    /// (`POST /v1/subscriptions/{msisdn}/verification`). Operator keys only while the
    /// caller states the verifier's result itself: a channel could otherwise pass its
    /// own customers.
    RecordVerification,
    /// Sending a line's second real-person verification evidence for the gateway to put
    /// to the tenant's identity verifier (the same call without `result`): the verifier
    /// decides, so a channel key may (a store's clerk verifies the customer at the
    /// counter).
    RequestVerification,
    /// Issuing a port-out credential for a line, after the channel authenticated the
    /// customer (`POST /v1/subscriptions/{msisdn}/port-out-credential`).
    IssuePortOutCredential,
    /// Reporting the handset the network saw a line in
    /// (`POST /v1/subscriptions/{msisdn}/handset`): the host operator's feed, so operator
    /// keys only (a channel could otherwise flag or clear lines at will).
    ReportHandset,
}

impl Permission {
    /// Every permission (tests walk the whole table).
    #[cfg(test)]
    const ALL: [Permission; 15] = [
        Permission::Read,
        Permission::Activate,
        Permission::Reserve,
        Permission::Cancel,
        Permission::Import,
        Permission::ReleaseQuarantine,
        Permission::Lifecycle,
        Permission::LiftProtectedSuspension,
        Permission::Webhooks,
        Permission::Reconcile,
        Permission::Compliance,
        Permission::RecordVerification,
        Permission::RequestVerification,
        Permission::IssuePortOutCredential,
        Permission::ReportHandset,
    ];

    /// What the permission lets a caller do, as the refusal names it.
    fn doing(self) -> &'static str {
        match self {
            Permission::Read => "reading your tenant's data",
            Permission::Activate => "creating activations",
            Permission::Reserve => "reserving numbers",
            Permission::Cancel => "cancelling orders",
            Permission::Import => "importing SIM batches",
            Permission::ReleaseQuarantine => "releasing numbers from quarantine",
            Permission::Lifecycle => {
                "suspending, resuming, terminating, swapping SIMs or changing numbers"
            }
            Permission::LiftProtectedSuspension => {
                "lifting a `fraud_risk` or `regulatory` suspension"
            }
            Permission::Webhooks => "changing webhook endpoints",
            Permission::Reconcile => "running a reconciliation",
            Permission::Compliance => "changing the channel registry or the blocklists",
            Permission::RecordVerification => {
                "stating the verifier's result of a second real-person verification"
            }
            Permission::RequestVerification => "sending a second real-person verification",
            Permission::IssuePortOutCredential => "issuing port-out credentials",
            Permission::ReportHandset => "reporting the handset a line is used in",
        }
    }
}

/// The table of rights: whether a key of `role` may do `permission`. A readonly key reads
/// its tenant; a channel key also sells (activations, reservations, cancellations); an
/// operator key also runs the tenant (imports, quarantine, lifecycle, webhooks,
/// reconciliation).
pub fn allows(role: Role, permission: Permission) -> bool {
    use Permission as P;
    match permission {
        P::Read => true,
        P::Activate
        | P::Reserve
        | P::Cancel
        | P::IssuePortOutCredential
        | P::RequestVerification => {
            matches!(role, Role::Channel | Role::Operator)
        }
        P::Import
        | P::ReleaseQuarantine
        | P::Lifecycle
        | P::LiftProtectedSuspension
        | P::Webhooks
        | P::Reconcile
        | P::Compliance
        | P::RecordVerification
        | P::ReportHandset => role == Role::Operator,
    }
}

impl Caller {
    /// `Ok` if the key's role allows `permission`; otherwise the `403 forbidden_for_role`
    /// that names the key's role and the roles that would do.
    pub fn require(&self, permission: Permission) -> Result<(), ApiError> {
        if allows(self.role, permission) {
            return Ok(());
        }
        let roles: Vec<&str> = Role::ALL
            .into_iter()
            .filter(|r| allows(*r, permission))
            .map(Role::as_str)
            .collect();
        let least = roles.first().copied().unwrap_or(Role::Operator.as_str());
        Err(ApiError::forbidden_for_role(
            self.role.as_str(),
            permission.doing(),
            &roles,
            &format!(
                "simgw apikey create --tenant {} --role {least}",
                self.tenant
            ),
        ))
    }
}

/// Resolves `Authorization: Bearer <key>` to its tenant and role.
pub async fn authenticate(state: &AppState, headers: &HeaderMap) -> Result<Caller, ApiError> {
    let value = headers
        .get(axum::http::header::AUTHORIZATION)
        .ok_or_else(ApiError::unauthorized)?;
    let value = value.to_str().map_err(|_| ApiError::unauthorized())?;
    let key = value
        .strip_prefix("Bearer ")
        .or_else(|| value.strip_prefix("bearer "))
        .map(str::trim)
        .filter(|k| !k.is_empty())
        .ok_or_else(ApiError::unauthorized)?;
    let record = state
        .store
        .api_key(&sha256(key.as_bytes()))
        .await?
        .ok_or_else(ApiError::unauthorized)?;
    Ok(Caller {
        tenant: record.tenant,
        role: record.role,
        key_prefix: record.prefix,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use Permission as P;

    /// Every cell of the table, written out: `(permission, readonly, channel, operator)`.
    const TABLE: [(Permission, bool, bool, bool); 15] = [
        (P::Read, true, true, true),
        (P::Activate, false, true, true),
        (P::Reserve, false, true, true),
        (P::Cancel, false, true, true),
        (P::Import, false, false, true),
        (P::ReleaseQuarantine, false, false, true),
        (P::Lifecycle, false, false, true),
        (P::LiftProtectedSuspension, false, false, true),
        (P::Webhooks, false, false, true),
        (P::Reconcile, false, false, true),
        (P::Compliance, false, false, true),
        (P::RecordVerification, false, false, true),
        (P::RequestVerification, false, true, true),
        (P::IssuePortOutCredential, false, true, true),
        (P::ReportHandset, false, false, true),
    ];

    #[test]
    fn every_row_of_the_table() {
        assert_eq!(
            TABLE.map(|row| row.0),
            Permission::ALL,
            "the test table lists every permission"
        );
        for (p, readonly, channel, operator) in TABLE {
            assert_eq!(allows(Role::Readonly, p), readonly, "readonly {p:?}");
            assert_eq!(allows(Role::Channel, p), channel, "channel {p:?}");
            assert_eq!(allows(Role::Operator, p), operator, "operator {p:?}");
        }
    }

    #[test]
    fn each_role_has_at_least_the_rights_of_the_one_below() {
        for p in Permission::ALL {
            assert!(
                !allows(Role::Readonly, p) || allows(Role::Channel, p),
                "{p:?}"
            );
            assert!(
                !allows(Role::Channel, p) || allows(Role::Operator, p),
                "{p:?}"
            );
        }
    }

    fn caller(role: Role) -> Caller {
        Caller {
            tenant: "acme".into(),
            role,
            key_prefix: "sk_acme_AB".into(),
        }
    }

    #[test]
    fn refusal_names_the_role_held_and_the_roles_needed() {
        let e = caller(Role::Readonly)
            .require(P::Activate)
            .expect_err("readonly cannot activate");
        assert_eq!(e.code(), "forbidden_for_role");
        assert_eq!(
            e.detail(),
            "this is a readonly key; creating activations needs a channel or operator key; \
             create one with `simgw apikey create --tenant acme --role channel`"
        );
        let e = caller(Role::Channel)
            .require(P::Import)
            .expect_err("channel cannot import");
        assert_eq!(
            e.detail(),
            "this is a channel key; importing SIM batches needs an operator key; \
             create one with `simgw apikey create --tenant acme --role operator`"
        );
        assert!(caller(Role::Operator).require(P::Reconcile).is_ok());
        assert!(caller(Role::Readonly).require(P::Read).is_ok());
    }
}
