//! `simgw compliance report|export`: the annual report from the audit chain, and the
//! lawful export of one line's subscriber details (the only place they are opened), itself
//! audited. Offline for the embedded store: whoever runs it can read the data dir, which
//! is what makes it operator-only.

use super::CliError;
use super::offline::{self, StoreArgs};
use crate::compliance::audit::{Actor, AuditRecord, Outcome, Subject};
use crate::compliance::report::Report;
use crate::store::{ComplianceChange, ComplianceChangeOutcome, Store};
use adapters::identity::CivilDate;

/// Audit rows read per page.
const PAGE: usize = 10_000;
const DAY_MS: u64 = 86_400_000;

/// `simgw compliance …`.
#[derive(clap::Subcommand)]
pub enum ComplianceCommand {
    /// The report for a period, from the audit chain: per channel and store,
    /// activations, refusals by reason, re-verifications, suspensions, terminations.
    Report(ReportArgs),
    /// Prints one line's subscriber details in clear, for a lawful request; the export
    /// itself is audited with the reason given.
    Export(ExportArgs),
}

#[derive(clap::Args)]
pub struct ReportArgs {
    #[command(flatten)]
    store: StoreArgs,
    /// First day (UTC, `YYYY-MM-DD`), included.
    #[arg(long)]
    from: String,
    /// Last day (UTC, `YYYY-MM-DD`), included.
    #[arg(long)]
    to: String,
    /// Output format; `csv` only.
    #[arg(long, default_value = "csv")]
    format: String,
}

#[derive(clap::Args)]
pub struct ExportArgs {
    #[command(flatten)]
    store: StoreArgs,
    /// The tenant of the line.
    #[arg(long)]
    tenant: String,
    /// The line's number (its activation's subscriber is exported).
    #[arg(long)]
    msisdn: String,
    /// Why (the request's reference); recorded in the audit chain.
    #[arg(long)]
    reason: String,
}

fn day(arg: &str, s: &str) -> Result<u64, CliError> {
    let bad = || CliError::arg(arg, "expected a date `YYYY-MM-DD`");
    let mut parts = s.split('-');
    let (y, m, d) = (parts.next(), parts.next(), parts.next());
    if parts.next().is_some() {
        return Err(bad());
    }
    let num = |p: Option<&str>| p.and_then(|p| p.parse::<u16>().ok()).ok_or_else(bad);
    let date = CivilDate::new(
        num(y)?,
        u8::try_from(num(m)?).map_err(|_| bad())?,
        u8::try_from(num(d)?).map_err(|_| bad())?,
    )
    .ok_or_else(bad)?;
    u64::try_from(date.unix_days())
        .map(|days| days * DAY_MS)
        .map_err(|_| bad())
}

pub(super) async fn run(command: ComplianceCommand) -> Result<(), CliError> {
    match command {
        ComplianceCommand::Report(args) => {
            if args.format != "csv" {
                return Err(CliError::arg("--format", "only `csv` is supported"));
            }
            let from = day("--from", &args.from)?;
            let to = day("--to", &args.to)? + DAY_MS;
            if to <= from {
                return Err(CliError::Usage("--to is before --from".into()));
            }
            let store = offline::open(&args.store.load()?).await?;
            let result = report(&*store, from, to).await;
            store.close().await;
            print!("{}", result?.to_csv());
            Ok(())
        }
        ComplianceCommand::Export(args) => {
            if args.reason.trim().is_empty() {
                return Err(CliError::arg(
                    "--reason",
                    "say why (the request's reference)",
                ));
            }
            let config = args.store.load()?;
            let keys = crate::app::keyring(&config)?;
            let store = offline::open(&config).await?;
            let result = export(&*store, &keys, &args).await;
            store.close().await;
            println!("{}", result?);
            Ok(())
        }
    }
}

async fn report(store: &dyn Store, from: u64, to: u64) -> Result<Report, CliError> {
    let mut report = Report::new(from, to);
    let mut seq = 1;
    loop {
        let rows = store
            .audit_rows(seq, PAGE)
            .await
            .map_err(|e| CliError::Start(e.into()))?;
        let Some(last) = rows.last().map(|r| r.seq) else {
            break;
        };
        for row in rows {
            let rec = AuditRecord::decode(&row.bytes).map_err(|e| {
                CliError::Refused(format!(
                    "audit record {} cannot be read ({e}); run `simgw audit verify`",
                    row.seq
                ))
            })?;
            report.add(&rec);
        }
        seq = last + 1;
    }
    Ok(report)
}

async fn export(
    store: &dyn Store,
    keys: &crate::crypto::Keyring,
    args: &ExportArgs,
) -> Result<String, CliError> {
    let not_found = || {
        CliError::NotFound(format!(
            "tenant `{}` has no line with number {}",
            args.tenant, args.msisdn
        ))
    };
    let sub = store
        .subscription(&args.tenant, &args.msisdn)
        .await
        .map_err(|e| CliError::Start(e.into()))?
        .ok_or_else(not_found)?;
    let order = store
        .get_order(&args.tenant, &sub.activation_id)
        .await
        .map_err(|e| CliError::Start(e.into()))?
        .ok_or_else(not_found)?;
    let Some(sealed) = &order.subscriber else {
        return Err(CliError::NotFound(format!(
            "the line {} was activated without subscriber details",
            args.msisdn
        )));
    };
    let clear = keys
        .open(&crate::order::subscriber_context(&order.id), sealed)
        .map_err(|e| CliError::Start(e.into()))?;
    let subscriber: serde_json::Value = serde_json::from_slice(&clear)
        .map_err(|e| CliError::Refused(format!("the sealed subscriber is not JSON: {e}")))?;
    let audit = AuditRecord {
        at_ms: crate::clock::Clock::new().now_ms(),
        actor: Actor {
            key_id: "cli".to_owned(),
            channel: "cli".to_owned(),
            ..Actor::default()
        },
        subject: Subject {
            order_id: Some(order.id.clone()),
            iccid: Some(order.iccid.to_string()),
            imsi: Some(order.imsi.to_string()),
            msisdn: Some(sub.msisdn.to_string()),
            id_hash: order.compliance.as_ref().and_then(|c| c.id_hash.clone()),
        },
        action: "compliance.export".to_owned(),
        outcome: Outcome::Record,
        reasons: vec![args.reason.clone()],
        attrs: vec![("tenant".to_owned(), args.tenant.clone())],
        ..AuditRecord::default()
    };
    // Recorded before anything is shown: an export that is not audited does not happen.
    match store
        .compliance_change(ComplianceChange::AuditOnly, audit)
        .await
        .map_err(|e| CliError::Start(e.into()))?
    {
        ComplianceChangeOutcome::Applied => {}
        other => {
            return Err(CliError::Refused(format!(
                "the export was not recorded: {other:?}"
            )));
        }
    }
    let out = serde_json::json!({
        "tenant": args.tenant,
        "msisdn": sub.msisdn.to_string(),
        "iccid": order.iccid.to_string(),
        "activation_id": order.id,
        "activated_at": crate::clock::rfc3339(order.created_at_ms),
        "subscriber": subscriber,
    });
    Ok(out.to_string())
}
