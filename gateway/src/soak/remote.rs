//! `simgw soak --target FILE`: the soak against a deployment of your own, named by a
//! `sandbox.json` (what `simgw serve --sandbox` writes to `DATA_DIR/sandbox.json`). No
//! sandbox is started and no data dir made; the faults are set through the simulators'
//! admin APIs the file names, and every check goes over the wire ([`Source::Api`]). What
//! it refuses, it refuses before sending anything, saying what to do instead.

use super::kinds::SoakKind;
use super::report::{Meta, Report};
use super::source::Source;
use super::target::{Target, Tenant};
use super::{Options, Phases, SoakError, drive, faults, load_and_check};
use crate::sandbox::SandboxFile;
use http::Method;
use std::path::Path;
use std::sync::Arc;

/// Checks the options and reads `file`: the deployment's `sandbox.json`, with its
/// relative paths made relative to the file's directory.
pub(super) fn prepare(
    file: &Path,
    opts: &Options,
    kinds: &[Arc<dyn SoakKind>],
    weights: &[u32],
) -> Result<SandboxFile, SoakError> {
    refuse_options(opts)?;
    let info = read(file)?;
    fits(&info, kinds, weights)?;
    Ok(info)
}

/// `--crash-loop` and `--data-dir` concern a gateway the soak starts itself.
fn refuse_options(opts: &Options) -> Result<(), SoakError> {
    if opts.crash_loop.is_some() {
        return Err(SoakError(
            "--target cannot go with --crash-loop: the soak can kill only a gateway it started; \
             run the crash loop without --target (it starts its own `simgw serve --sandbox`)"
                .into(),
        ));
    }
    if opts.data_dir.is_some() {
        return Err(SoakError(
            "--target cannot go with --data-dir: against a target the soak starts no gateway and \
             makes no data dir (the target's is its own); leave --data-dir out"
                .into(),
        ));
    }
    Ok(())
}

/// Reads a `sandbox.json`; its relative paths become relative to its directory.
fn read(file: &Path) -> Result<SandboxFile, SoakError> {
    let name = file.display();
    let bytes = std::fs::read(file).map_err(|e| {
        SoakError(format!(
            "--target {name}: cannot read it ({e}); give the `sandbox.json` the deployment's \
             `simgw serve --sandbox` wrote (DATA_DIR/sandbox.json)"
        ))
    })?;
    let mut info: SandboxFile = serde_json::from_slice(&bytes).map_err(|e| {
        SoakError(format!(
            "--target {name}: not a sandbox.json ({e}); give the file `simgw serve --sandbox` \
             wrote (DATA_DIR/sandbox.json)"
        ))
    })?;
    let dir = file.parent().unwrap_or(Path::new("."));
    let resolve = |p: &mut String| {
        if Path::new(p.as_str()).is_relative() {
            *p = dir.join(&*p).display().to_string();
        }
    };
    resolve(&mut info.ca_cert);
    if let Some(c) = info.smdp_client.as_mut() {
        resolve(&mut c.cert);
        resolve(&mut c.key);
    }
    Ok(info)
}

/// Refuses a mix with a kind `info` lacks something for, naming the `--mix` without them.
fn fits(info: &SandboxFile, kinds: &[Arc<dyn SoakKind>], weights: &[u32]) -> Result<(), SoakError> {
    let mut lacking = Vec::new();
    let mut rest = Vec::new();
    for (k, w) in kinds.iter().zip(weights).filter(|(_, w)| **w > 0) {
        match k.lacks(info).as_slice() {
            [] => rest.push(format!("{}={w}", k.name())),
            lacks => lacking.push(format!("{} needs {}", k.name(), lacks.join(" and "))),
        }
    }
    if lacking.is_empty() {
        return Ok(());
    }
    let instead = match rest.is_empty() {
        true => "no kind of the mix can run against it".to_owned(),
        false => format!("leave those kinds out with --mix {}", rest.join(",")),
    };
    Err(SoakError(format!(
        "the target's sandbox.json lacks what the mix needs ({}); {instead}",
        lacking.join("; ")
    )))
}

/// A serial for this run: keys, port-in numbers and ID numbers no earlier run against
/// the same deployment used (never 0, the in-process serial).
pub(super) fn serial() -> u64 {
    crate::crypto::random_u64(&ring::rand::SystemRandom::new()).max(1)
}

/// Runs the load and the checks against the deployment `info` names.
pub(super) async fn run(
    info: SandboxFile,
    opts: &Options,
    plan: &faults::Plan,
    load: drive::Load,
    meta: impl Fn([f64; 3]) -> Meta,
) -> Result<Report, SoakError> {
    let clock = Phases::default();
    let target =
        Target::new(info, opts.concurrency).map_err(|e| SoakError(format!("--target: {e}")))?;
    reachable(&target).await?;
    load_and_check(Arc::new(target), Source::Api, opts, plan, load, clock, meta).await
}

/// Refuses a gateway that does not answer, is not ready, or refuses the file's key (a
/// `sandbox.json` of another data dir, or of a reset one).
async fn reachable(target: &Target) -> Result<(), SoakError> {
    let url = target.info().base_url.clone();
    let ready = target
        .call(Tenant::Sandbox, Method::GET, "/readyz", None, None)
        .await
        .map_err(|e| {
            SoakError(format!(
                "the target's gateway at {url} does not answer ({e}): is its `simgw serve` running \
                 and reachable from here?"
            ))
        })?;
    if ready.status != 200 {
        return Err(SoakError(format!(
            "the target's gateway at {url} is not ready ({}): {}",
            ready.status, ready.json
        )));
    }
    let keyed = target
        .call(Tenant::Sandbox, Method::GET, "/v1/inventory", None, None)
        .await
        .map_err(|e| SoakError(format!("{url}/v1/inventory: {e}")))?;
    if keyed.status != 200 {
        return Err(SoakError(format!(
            "the target's gateway at {url} refuses the sandbox.json's api_key ({} {}): is the \
             file the one this deployment wrote at its last start?",
            keyed.status, keyed.json["code"]
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::soak::FaultProfile;
    use serde_json::json;
    use std::time::Duration;

    fn opts() -> Options {
        Options {
            orders: 10,
            faults: FaultProfile::None,
            seed: 1,
            concurrency: 2,
            data_dir: None,
            mix: None,
            deadline: Duration::from_secs(10),
            crash_loop: None,
            target: Some("sandbox.json".into()),
        }
    }

    fn sandbox_json(markets: serde_json::Value) -> serde_json::Value {
        json!({
            "base_url": "https://127.0.0.1:1", "ca_cert": "ca.pem", "tenant": "sandbox",
            "plmn": "00101", "api_key": "op", "product": "sandbox-basic",
            "api_keys": {"channel": "ch", "operator": "op", "readonly": "ro"},
            "physical_iccids": [],
            "smdp_simulator": {"url": "https://127.0.0.1:2", "admin": "https://127.0.0.1:2/sim/"},
            "smdp_client": {"cert": "/abs/client.pem", "key": "client.key"},
            "porting_simulator": {"url": "https://127.0.0.1:3", "admin": "https://127.0.0.1:3/sim/"},
            "markets": markets,
        })
    }

    fn market(tenant: &str) -> serde_json::Value {
        json!({"tenant": tenant, "api_key": "k", "product": "p", "physical_iccids": [],
               "store": {"store_id": "S", "terminal_id": "T", "staff_id": "C", "reader_serial": "R"}})
    }

    fn refusal(opts: &Options, file: &Path) -> String {
        let kinds = super::super::kinds::registry();
        let weights: Vec<u32> = kinds.iter().map(|k| k.weight()).collect();
        match prepare(file, opts, &kinds, &weights) {
            Ok(_) => "accepted".into(),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn a_crash_loop_or_a_data_dir_with_a_target_is_refused_saying_why() {
        let file = Path::new("/nonexistent/sandbox.json");
        let e = refusal(
            &Options {
                crash_loop: Some(3),
                ..opts()
            },
            file,
        );
        assert!(e.contains("--target cannot go with --crash-loop"), "{e}");
        assert!(e.contains("kill only a gateway it started"), "{e}");
        let e = refusal(
            &Options {
                data_dir: Some("d".into()),
                ..opts()
            },
            file,
        );
        assert!(e.contains("--target cannot go with --data-dir"), "{e}");
    }

    #[test]
    fn a_file_that_cannot_be_read_or_is_no_sandbox_json_is_refused_naming_it() {
        let dir = tempfile::tempdir().expect("tempdir");
        let missing = dir.path().join("absent.json");
        let e = refusal(&opts(), &missing);
        assert!(e.contains("absent.json: cannot read it"), "{e}");
        assert!(e.contains("DATA_DIR/sandbox.json"), "{e}");
        let other = dir.path().join("other.json");
        std::fs::write(&other, "{\"base_url\": 1}").expect("write");
        let e = refusal(&opts(), &other);
        assert!(e.contains("other.json: not a sandbox.json"), "{e}");
    }

    #[test]
    fn a_mix_needing_a_market_the_file_lacks_is_refused_naming_the_mix_without_it() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("sandbox.json");
        let only_cn = sandbox_json(json!({"cn": market("sandbox-cn")}));
        std::fs::write(&file, only_cn.to_string()).expect("write");
        let e = refusal(&opts(), &file);
        assert!(e.contains("port_in needs markets.uk"), "{e}");
        assert!(
            e.contains(
                "--mix physical=30,esim=25,suspend=12,resume=8,terminate=5,sim_swap=8,number_change=8,cn_sale=3"
            ),
            "{e}"
        );
        // Without port_in in the mix, the same file is accepted, its paths resolved.
        let kinds = super::super::kinds::registry();
        let weights: Vec<u32> = kinds
            .iter()
            .map(|k| if k.name() == "port_in" { 0 } else { 1 })
            .collect();
        let info = prepare(&file, &opts(), &kinds, &weights).expect("fits");
        assert_eq!(
            info.ca_cert,
            dir.path().join("ca.pem").display().to_string()
        );
        let client = info.smdp_client.expect("client");
        assert_eq!(client.cert, "/abs/client.pem");
        assert_eq!(
            client.key,
            dir.path().join("client.key").display().to_string()
        );
    }

    #[test]
    fn a_mix_no_kind_of_which_can_run_is_refused_as_such() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("sandbox.json");
        std::fs::write(&file, sandbox_json(json!({})).to_string()).expect("write");
        let kinds = super::super::kinds::registry();
        let weights: Vec<u32> = kinds
            .iter()
            .map(|k| u32::from(k.name() == "cn_sale"))
            .collect();
        let e = prepare(&file, &opts(), &kinds, &weights).expect_err("refused");
        let e = e.to_string();
        assert!(e.contains("cn_sale needs markets.cn"), "{e}");
        assert!(e.contains("no kind of the mix can run"), "{e}");
    }

    #[test]
    fn every_run_against_a_target_has_a_serial_of_its_own() {
        let (a, b) = (serial(), serial());
        assert!(a != 0 && b != 0);
        assert_ne!(a, b);
    }
}
