//! The reconciliation a soak ends with, from the reports the gateway gave in the shape of
//! `POST /v1/reconciliations` (and `simgw reconcile --json`): one over every tenant in
//! process, or one per tenant through the API. Pure: it adds them up, checks each has
//! what the soak reads, and renders them for the terminal.

use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// One report the reconciliation is made of.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Part {
    /// Its id (`rec_…`).
    pub id: String,
    /// The tenant it compared (`None`: every tenant).
    pub tenant: Option<String>,
}

/// Every tenant's reconciliation, added up.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Reconciliation {
    /// Where the reports came from: `in_process` (the gateway's reconciler, every tenant
    /// at once) or `api` (`POST /v1/reconciliations` with each tenant's operator key).
    pub source: &'static str,
    /// The reports.
    pub reports: Vec<Part>,
    /// True only when every report is clean (no difference, nothing unchecked).
    pub clean: bool,
    /// Differences over every report.
    pub differences: u64,
    /// Differences per kind over every report (kinds with none included).
    pub by_kind: BTreeMap<String, u64>,
    /// What was compared (`lines`, `esim_profiles`, `imsis_probed`), over every report.
    pub checked: BTreeMap<String, u64>,
    /// What could not be compared, as the reports gave it.
    pub unchecked: Vec<Value>,
    /// Every difference, as the reports gave it.
    pub details: Vec<Value>,
}

impl Reconciliation {
    /// Adds up `reports` (each a reconciliation report's JSON) from `source`; an error
    /// names the report that lacks a member the soak reads.
    pub(crate) fn of(source: &'static str, reports: &[Value]) -> Result<Self, String> {
        let mut r = Self {
            source,
            reports: Vec::new(),
            clean: !reports.is_empty(),
            differences: 0,
            by_kind: BTreeMap::new(),
            checked: BTreeMap::new(),
            unchecked: Vec::new(),
            details: Vec::new(),
        };
        for report in reports {
            let tenant = report["tenant"].as_str().map(str::to_owned);
            let lacks = |member: &str| {
                format!(
                    "the reconciliation of {} has no `{member}`: {report}",
                    tenant.as_deref().unwrap_or("every tenant")
                )
            };
            let differences = report["differences"]
                .as_u64()
                .ok_or_else(|| lacks("differences"))?;
            let details = report["details"]
                .as_array()
                .ok_or_else(|| lacks("details"))?;
            let clean = report["clean"].as_bool().ok_or_else(|| lacks("clean"))?;
            let unchecked = report["unchecked"]
                .as_array()
                .ok_or_else(|| lacks("unchecked"))?;
            r.reports.push(Part {
                id: report["id"].as_str().unwrap_or("").to_owned(),
                tenant,
            });
            r.clean &= clean;
            r.differences += differences;
            add(&mut r.by_kind, &report["by_kind"]);
            add(&mut r.checked, &report["checked"]);
            r.unchecked.extend(unchecked.iter().cloned());
            r.details.extend(details.iter().cloned());
        }
        Ok(r)
    }

    /// The summary and every difference, for a terminal.
    pub fn text(&self) -> String {
        let mut s = String::new();
        let parts: Vec<String> = self
            .reports
            .iter()
            .map(|p| format!("{} {}", p.id, p.tenant.as_deref().unwrap_or("every tenant")))
            .collect();
        let n = |k: &str| self.checked.get(k).copied().unwrap_or(0);
        let _ = writeln!(
            s,
            "reconciliation ({}: {}): {} lines, {} eSIM profiles, {} unassigned IMSIs checked",
            self.source,
            parts.join(", "),
            n("lines"),
            n("esim_profiles"),
            n("imsis_probed"),
        );
        let _ = writeln!(
            s,
            "{} difference(s), {} unchecked",
            self.differences,
            self.unchecked.len()
        );
        for (kind, n) in self.by_kind.iter().filter(|(_, n)| **n > 0) {
            let _ = writeln!(s, "  {kind}: {n}");
        }
        for d in &self.details {
            let _ = writeln!(s, "difference {d}");
        }
        for u in &self.unchecked {
            let _ = writeln!(s, "unchecked {u}");
        }
        s
    }
}

/// Adds the numbers of JSON object `more` into `total`.
fn add(total: &mut BTreeMap<String, u64>, more: &Value) {
    for (k, v) in more.as_object().into_iter().flatten() {
        if let Some(n) = v.as_u64() {
            *total.entry(k.clone()).or_default() += n;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn report(tenant: Value, details: Vec<Value>, unchecked: Vec<Value>) -> Value {
        json!({
            "id": format!("rec_{}", tenant.as_str().unwrap_or("all")),
            "tenant": tenant,
            "clean": details.is_empty() && unchecked.is_empty(),
            "differences": details.len(),
            "by_kind": {"wrong_msisdn": details.len(), "missing_on_hlr": 0},
            "checked": {"lines": 3, "esim_profiles": 1, "imsis_probed": 8},
            "unchecked": unchecked,
            "details": details,
        })
    }

    #[test]
    fn the_reports_of_every_tenant_add_up() {
        let d = json!({"kind": "wrong_msisdn", "tenant": "sandbox-uk"});
        let u = json!({"tenant": "sandbox", "reason": "order in flight"});
        let r = Reconciliation::of(
            "api",
            &[
                report(json!("sandbox"), Vec::new(), vec![u.clone()]),
                report(json!("sandbox-uk"), vec![d.clone()], Vec::new()),
            ],
        )
        .expect("well formed");
        assert_eq!(r.source, "api");
        assert!(!r.clean);
        assert_eq!(r.differences, 1);
        assert_eq!(r.by_kind["wrong_msisdn"], 1);
        assert_eq!(r.by_kind["missing_on_hlr"], 0);
        assert_eq!(r.checked["lines"], 6);
        assert_eq!((r.details.clone(), r.unchecked.clone()), (vec![d], vec![u]));
        assert_eq!(
            r.reports[1],
            Part {
                id: "rec_sandbox-uk".into(),
                tenant: Some("sandbox-uk".into())
            }
        );
        let text = r.text();
        assert!(
            text.contains("rec_sandbox sandbox, rec_sandbox-uk sandbox-uk"),
            "{text}"
        );
        assert!(text.contains("1 difference(s), 1 unchecked"), "{text}");
        assert!(text.contains("  wrong_msisdn: 1"), "{text}");
    }

    #[test]
    fn clean_only_when_every_report_is_and_there_is_one() {
        let one = Reconciliation::of("in_process", &[report(Value::Null, vec![], vec![])]);
        assert!(one.expect("well formed").clean);
        assert!(!Reconciliation::of("api", &[]).expect("nothing").clean);
    }

    #[test]
    fn a_report_without_a_member_the_soak_reads_is_an_error_naming_it() {
        let mut r = report(json!("sandbox"), vec![], vec![]);
        r["differences"] = json!("none");
        let e = Reconciliation::of("api", &[r]).expect_err("malformed");
        assert!(e.contains("of sandbox has no `differences`"), "{e}");
    }
}
