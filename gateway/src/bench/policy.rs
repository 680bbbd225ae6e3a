//! `simgw bench --policy cn`: the physical activations with the compliance policy off
//! (the baseline), then with the China policy on, in one run. With the policy on, every
//! order is a store sale (store, terminal, clerk, a card-reader capture and a face match)
//! of its own ID: the create commit reads and writes the live-line index, the velocity
//! buckets, the blocklists and the registry and appends the audit record, and the engine
//! asks the identity verifier simulator (zero latency) before the HLR.

use super::load::Post;
use super::report::{Report, ratio};
use super::{
    BenchArgs, BenchError, err, prepare, record, run_activations, run_load, start_sandbox,
    stop_sandbox,
};
use crate::compliance::Market;
use crate::compliance::audit::Actor;
use crate::compliance::channel::{Member, Registration};
use crate::compliance::overrides::{Limit, PolicyOverride, VelocityOverride};
use crate::compliance::policy::StoreHours;
use crate::store::{
    AdminChange, ComplianceChange, RegistryEntry, SubscriptionQuery, SubscriptionState,
};

/// Which policy the second run uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum BenchPolicy {
    /// Mainland China.
    Cn,
}

/// Both runs, and their ratio.
pub(super) async fn side_by_side(
    args: &BenchArgs,
    data_dir: &std::path::Path,
    report: &mut Report,
) -> Result<(), BenchError> {
    println!("== compliance policy off (reference)");
    let (sb, client, seeded_in) = prepare(args, &data_dir.join("off"), None, report).await?;
    let base = run_activations(args, &sb, &client, seeded_in).await;
    stop_sandbox(sb).await;
    let (mut base, settled) = base?;
    base.name = "policy_off".into();
    let base_rate = base.per_s;
    record(report, base, settled);
    println!("== China policy on (identity, card reader, face match, registry, limits, audit)");
    let (sb, client, seeded_in, _) = start_sandbox(args, &data_dir.join("cn"), None).await?;
    let on = match make_cn(args, &sb).await {
        Ok(()) => run_load(args, &sb, &client, seeded_in, sales(&sb), "policy_cn").await,
        Err(e) => Err(e),
    };
    let flagged = match &on {
        Ok(_) => flagged_lines(&sb).await,
        Err(_) => Ok(0),
    };
    stop_sandbox(sb).await;
    let (on, settled) = on?;
    if flagged? > 0 {
        return Err(BenchError(
            "a line of the China run was flagged for second verification: the run did not \
             measure the sale that passes every check"
                .into(),
        ));
    }
    println!(
        "China policy / off: {:.0} / {:.0} activations/s = {:.2}",
        on.per_s,
        base_rate,
        ratio(on.per_s, base_rate)
    );
    record(report, on, settled);
    Ok(())
}

async fn make_cn(args: &BenchArgs, sb: &crate::sandbox::Sandbox) -> Result<(), BenchError> {
    let store = &sb.gateway.store;
    let tenant_id = &sb.info.tenant;
    let mut tenant = store
        .tenant(tenant_id)
        .await
        .map_err(err)?
        .ok_or_else(|| BenchError("the sandbox tenant is missing".into()))?;
    let wide = Some(Limit::At(args.activations.saturating_mul(2).max(1)));
    tenant.market = Some(Market::Cn);
    tenant.compliance = Some(Box::new(PolicyOverride {
        velocity: VelocityOverride {
            store_per_day: wide,
            clerk_per_hour: wide,
            device_per_hour: wide,
            id_per_30_days: None,
            freeze_on_breach: None,
        },
        ..PolicyOverride::default()
    }));
    crate::admin::apply(&**store, AdminChange::PutTenant(tenant))
        .await
        .map_err(err)?;
    let now = crate::clock::Clock::new().now_ms();
    for n in 0..stores(sb.info.physical_iccids.len()) {
        let shop = store_id(n);
        for (member, id) in [
            (Member::Store, shop.as_str()),
            (Member::Terminal, "T1"),
            (Member::Clerk, "C1"),
            (Member::Reader, "R-1"),
        ] {
            let entry = RegistryEntry {
                member,
                store: shop.clone(),
                id: id.into(),
                status: Registration::Enabled,
                label: None,
                hours: Some(ALL_DAY),
                updated_at_ms: now,
            };
            let audit = entry.audit(tenant_id, Actor::default());
            let change = ComplianceChange::PutRegistry {
                tenant: tenant_id.clone(),
                entry,
            };
            store.compliance_change(change, audit).await.map_err(err)?;
        }
    }
    Ok(())
}

/// The bench's stores are open around the clock: with the China market's default
/// hours (08:00 to 22:00 in UTC+8) a run at night would measure lines flagged
/// `outside_store_hours` (an audit record, an event and a deadline row more each).
const ALL_DAY: StoreHours = StoreHours {
    open_min: 0,
    close_min: 0,
    utc_offset_min: 8 * 60,
};

/// The lines of the run left pending a second verification (none when every sale
/// passed every check).
async fn flagged_lines(sb: &crate::sandbox::Sandbox) -> Result<usize, BenchError> {
    let mut query = SubscriptionQuery {
        state: Some(SubscriptionState::Active),
        limit: 1_000,
        ..SubscriptionQuery::default()
    };
    let mut flagged = 0;
    loop {
        let page = sb
            .gateway
            .store
            .subscriptions(&sb.info.tenant, &query)
            .await
            .map_err(err)?;
        flagged += page
            .data
            .iter()
            .filter(|s| s.verification.deadline_ms().is_some())
            .count();
        match page.next {
            Some(next) => query.after = Some(next),
            None => return Ok(flagged),
        }
    }
}

/// Sales per store: a chain's many stores share the load, each below the China market's
/// store-burst risk rule (10 lines in 10 minutes), so the run measures the sale that
/// passes every check, not a line flagged for second verification.
const SALES_PER_STORE: usize = 8;

/// The stores the run's sales come from.
fn stores(sales: usize) -> usize {
    sales.div_ceil(SALES_PER_STORE).max(1)
}

fn store_id(n: usize) -> String {
    format!("SZ-{n:05}")
}

/// One store sale per seeded SIM, each of its own resident ID, from the stores in turn.
fn sales(sb: &crate::sandbox::Sandbox) -> Vec<Post> {
    let url = format!("{}/v1/activations", sb.info.base_url);
    sb.info
        .physical_iccids
        .iter()
        .enumerate()
        .map(|(i, iccid)| {
            let body = format!(
                "110105{:04}{:02}{:02}{:03}",
                1950 + i / 12_000 % 50,
                1 + i / 1_000 % 12,
                1 + i % 28,
                i % 1_000
            );
            let check = char::from(adapters::identity::id_format::mod11_2_check(body.as_bytes()));
            let json = serde_json::json!({
                "sim": {"type": "physical", "iccid": iccid},
                "product": sb.info.product,
                "channel": {"kind": "store", "store_id": store_id(i / SALES_PER_STORE), "terminal_id": "T1", "staff_id": "C1"},
                "subscriber": {
                    "name": "王小明", "id_type": "resident_id", "id_number": format!("{body}{check}"),
                    "nationality": "CHN",
                    "capture": {"method": "card_reader", "reader_serial": "R-1"},
                    "evidence": {"face_match": {"transaction_id": format!("bench-{i}"), "score": 0.93, "liveness": true}}
                }
            });
            Post {
                url: url.clone(),
                idempotency_key: format!("bench-cn-{i}"),
                body: json.to_string(),
            }
        })
        .collect()
}
