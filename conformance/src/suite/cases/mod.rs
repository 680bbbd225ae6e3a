//! The case table. Each case is one `async fn(&Ctx) -> Result<(), String>` in the file of
//! its concern; the table gives it a stable name (used by `--filter`, the text report
//! and JUnit) and says whether it needs the HLR simulator.

mod activation;
mod auth;
mod compliance;
mod hlr_faults;
mod idempotency;
mod input;
mod inventory;
mod isolation;
mod lifecycle;
mod ops;
mod port_out;
mod porting;
mod terminal;

use super::ctx::Ctx;
use std::future::Future;
use std::pin::Pin;

/// What running a case yields: `Err` carries the failure reason.
pub(crate) type CaseFuture<'a> = Pin<Box<dyn Future<Output = Result<(), String>> + Send + 'a>>;

/// One row of the table.
pub(crate) struct Case {
    /// Stable dotted name, `concern.behaviour`.
    pub name: &'static str,
    /// Skipped unless sandbox.json names an HLR simulator.
    pub needs_simulator: bool,
    /// Skipped unless sandbox.json lists a `cn` market tenant.
    pub needs_market: bool,
    /// Skipped unless sandbox.json lists a `uk` market tenant.
    pub needs_uk: bool,
    /// Skipped unless sandbox.json names a porting hub (`porting_simulator`).
    pub needs_porting: bool,
    /// Skipped unless sandbox.json names the identity simulator (`identity_simulator`).
    pub needs_identity: bool,
    /// The check.
    pub run: fn(&Ctx) -> CaseFuture<'_>,
}

const fn case(name: &'static str, run: fn(&Ctx) -> CaseFuture<'_>) -> Case {
    Case {
        name,
        needs_simulator: false,
        needs_market: false,
        needs_porting: false,
        needs_uk: false,
        needs_identity: false,
        run,
    }
}

const fn in_market(name: &'static str, run: fn(&Ctx) -> CaseFuture<'_>) -> Case {
    Case {
        needs_market: true,
        ..case(name, run)
    }
}

const fn with_hub(name: &'static str, run: fn(&Ctx) -> CaseFuture<'_>) -> Case {
    Case {
        needs_porting: true,
        ..in_market(name, run)
    }
}

/// A case against the `uk` market tenant and the porting hub.
const fn uk_with_hub(name: &'static str, run: fn(&Ctx) -> CaseFuture<'_>) -> Case {
    Case {
        needs_porting: true,
        needs_uk: true,
        ..case(name, run)
    }
}

/// A case against the `cn` market tenant that scripts the identity verifier simulator.
const fn with_identity(name: &'static str, run: fn(&Ctx) -> CaseFuture<'_>) -> Case {
    Case {
        needs_identity: true,
        ..in_market(name, run)
    }
}

const fn with_simulator(name: &'static str, run: fn(&Ctx) -> CaseFuture<'_>) -> Case {
    Case {
        needs_simulator: true,
        ..case(name, run)
    }
}

/// Every case, in execution order: cheap contract checks first, then activations, then
/// the cases that inject HLR faults (last, so a fault they leave behind after a broken
/// reset cannot spoil the others).
pub(crate) fn all() -> Vec<Case> {
    vec![
        case("ops.healthz", |c| Box::pin(ops::healthz(c))),
        case("ops.readyz", |c| Box::pin(ops::readyz(c))),
        case("ops.metrics", |c| Box::pin(ops::metrics(c))),
        case("ops.openapi", |c| Box::pin(ops::openapi(c))),
        case("auth.missing_key", |c| Box::pin(auth::missing_key(c))),
        case("auth.wrong_key", |c| Box::pin(auth::wrong_key(c))),
        case("input.idempotency_key_missing", |c| {
            Box::pin(input::idempotency_key_missing(c))
        }),
        case("input.malformed_json", |c| {
            Box::pin(input::malformed_json(c))
        }),
        case("input.unknown_field", |c| Box::pin(input::unknown_field(c))),
        case("input.invalid_iccid", |c| Box::pin(input::invalid_iccid(c))),
        case("input.invalid_type", |c| Box::pin(input::invalid_type(c))),
        case("input.body_too_large", |c| {
            Box::pin(input::body_too_large(c))
        }),
        case("input.unknown_iccid", |c| Box::pin(input::unknown_iccid(c))),
        case("input.unknown_product", |c| {
            Box::pin(input::unknown_product(c))
        }),
        case("activation.physical_reaches_active", |c| {
            Box::pin(activation::physical_reaches_active(c))
        }),
        case("idempotency.replay_same_body", |c| {
            Box::pin(idempotency::replay_same_body(c))
        }),
        case("idempotency.key_reused_other_body", |c| {
            Box::pin(idempotency::key_reused_other_body(c))
        }),
        case("inventory.sim_not_available", |c| {
            Box::pin(inventory::sim_not_available(c))
        }),
        case("isolation.unknown_order_404", |c| {
            Box::pin(isolation::unknown_order_404(c))
        }),
        case("lifecycle.stacked_suspension", |c| {
            Box::pin(lifecycle::stacked_suspension(c))
        }),
        case("lifecycle.resume_without_reason_refused", |c| {
            Box::pin(lifecycle::resume_without_reason_refused(c))
        }),
        in_market("compliance.store_sale_reaches_active", |c| {
            Box::pin(compliance::store_sale_reaches_active(c))
        }),
        in_market("compliance.manual_capture_refused", |c| {
            Box::pin(compliance::manual_capture_refused(c))
        }),
        in_market("compliance.face_evidence_required", |c| {
            Box::pin(compliance::face_evidence_required(c))
        }),
        in_market("compliance.unregistered_clerk_refused", |c| {
            Box::pin(compliance::unregistered_clerk_refused(c))
        }),
        in_market("compliance.kill_switch", |c| {
            Box::pin(compliance::kill_switch(c))
        }),
        case("terminal.page_headers", |c| {
            Box::pin(terminal::page_headers(c))
        }),
        in_market("terminal.pairing", |c| Box::pin(terminal::pairing(c))),
        in_market("compliance.five_lines_per_id", |c| {
            Box::pin(compliance::five_lines_per_id(c))
        }),
        in_market("compliance.blocklisted_imei", |c| {
            Box::pin(compliance::blocklisted_imei(c))
        }),
        in_market("compliance.handset_feed", |c| {
            Box::pin(compliance::handset_feed(c))
        }),
        with_identity("compliance.second_verification_by_the_verifier", |c| {
            Box::pin(compliance::second_verification_by_the_verifier(c))
        }),
        in_market("porting.unportable_number_refused", |c| {
            Box::pin(porting::unportable_number_refused(c))
        }),
        in_market("porting.credential_format_checked", |c| {
            Box::pin(porting::credential_format_checked(c))
        }),
        with_hub("porting.port_in_accepted_then_locked", |c| {
            Box::pin(porting::port_in_accepted_then_locked(c))
        }),
        in_market("porting.port_out_credential_checks", |c| {
            Box::pin(porting::port_out_credential_checks(c))
        }),
        uk_with_hub("porting.port_out_driven_by_the_hub", |c| {
            Box::pin(port_out::port_out_driven_by_the_hub(c))
        }),
        with_simulator("resilience.transient_faults", |c| {
            Box::pin(hlr_faults::transient_faults(c))
        }),
        with_simulator("compensation.permanent_fault", |c| {
            Box::pin(hlr_faults::permanent_fault(c))
        }),
    ]
}

/// The series counting accepted orders: refused requests must leave it unchanged.
pub(crate) const CREATED: &str = "simgw_orders_total{event=\"created\"}";

/// Fails if the gateway created an order since `before` was read.
pub(crate) async fn no_order_created(ctx: &Ctx, before: u64) -> Result<(), String> {
    let after = ctx.metric(CREATED).await?;
    if after == before {
        Ok(())
    } else {
        Err(format!(
            "a refused request changed state: {CREATED} went from {before} to {after}"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn names_are_unique_and_dotted() {
        let cases = all();
        let names: HashSet<&str> = cases.iter().map(|c| c.name).collect();
        assert_eq!(names.len(), cases.len(), "duplicate case names");
        for n in names {
            assert!(
                n.split_once('.')
                    .is_some_and(|(a, b)| !a.is_empty() && !b.is_empty()),
                "{n}"
            );
        }
    }

    #[test]
    fn only_fault_injection_needs_the_simulator() {
        let needing: Vec<&str> = all()
            .iter()
            .filter(|c| c.needs_simulator)
            .map(|c| c.name)
            .collect();
        assert_eq!(
            needing,
            [
                "resilience.transient_faults",
                "compensation.permanent_fault"
            ]
        );
    }
}
