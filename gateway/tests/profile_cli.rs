//! `simgw profile build|inspect|validate` as a user runs them.

use std::path::PathBuf;
use std::process::{Command, Output};

fn simgw(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_simgw"))
        .args(args)
        .output()
        .expect("run simgw")
}

/// Runs `simgw profile build --template <template> <flags> --out <out>`.
fn build(template: &str, out: &str, flags: &[&str]) -> Output {
    let mut args = vec!["profile", "build", "--template", template];
    args.extend_from_slice(flags);
    args.extend_from_slice(&["--out", out]);
    simgw(&args)
}

fn template() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../sim-profiles/tests/fixtures/profile/template.der")
}

/// The contract's re-encode: no personalisation, no test-key refusal (the output is the
/// template itself, even one that holds the TS.48 or all-zero test keys).
#[test]
fn build_without_personalisation_is_byte_identical() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("same.der");
    for t in [template(), ts48_like()] {
        let r = build(t.to_str().expect("utf8"), out.to_str().expect("utf8"), &[]);
        assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
        assert_eq!(
            std::fs::read(&out).expect("out"),
            std::fs::read(&t).expect("template")
        );
    }
}

#[test]
fn build_personalises_and_inspect_masks_keys_unless_asked() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("card.der");
    let k = "9e1b73c40d5a2f86e7c1b5083fd2a461";
    let r = build(
        "builtin",
        out.to_str().expect("utf8"),
        &[
            "--iccid",
            "8988211000000530082",
            "--imsi",
            "001010000000042",
            "--ki",
            k,
            "--opc",
            "cd63cb71954a9f4e48a5994e37a02baf",
            "--pin1",
            "1234",
            "--puk1",
            "87654321",
        ],
    );
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let v = simgw(&["profile", "validate", out.to_str().expect("utf8")]);
    assert!(
        v.status.success(),
        "{}{}",
        String::from_utf8_lossy(&v.stdout),
        String::from_utf8_lossy(&v.stderr)
    );
    let shown = String::from_utf8_lossy(
        &simgw(&["profile", "inspect", out.to_str().expect("utf8")]).stdout,
    )
    .to_string();
    assert!(
        shown.contains("8988211000000530082") && shown.contains("001010000000042"),
        "{shown}"
    );
    assert!(
        !shown.to_ascii_lowercase().contains(k),
        "K must be masked: {shown}"
    );
    let secret = String::from_utf8_lossy(
        &simgw(&[
            "profile",
            "inspect",
            "--show-secrets",
            out.to_str().expect("utf8"),
        ])
        .stdout,
    )
    .to_string();
    assert!(secret.to_ascii_lowercase().contains(k), "{secret}");
}

#[test]
fn validate_and_build_refuse_bad_input_clearly() {
    let dir = tempfile::tempdir().expect("tempdir");
    let bad = dir.path().join("bad.der");
    let mut bytes = std::fs::read(template()).expect("template");
    bytes.truncate(bytes.len() - 3);
    std::fs::write(&bad, &bytes).expect("write");
    let v = simgw(&["profile", "validate", bad.to_str().expect("utf8")]);
    assert!(!v.status.success());
    assert!(
        String::from_utf8_lossy(&v.stderr).contains("not a valid profile package"),
        "{}",
        String::from_utf8_lossy(&v.stderr)
    );
    let out = dir.path().join("x.der");
    let b = build(
        "builtin",
        out.to_str().expect("utf8"),
        &["--ki", "00112233"],
    );
    assert!(!b.status.success());
    assert!(
        String::from_utf8_lossy(&b.stderr).contains("--ki"),
        "{}",
        String::from_utf8_lossy(&b.stderr)
    );
    assert!(!out.exists(), "nothing written on error");
}

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// The ICCID in the header and the K of the first Milenage AKA of a package.
fn iccid_and_k(path: &std::path::Path) -> (String, String) {
    use sim_profiles::profile::{AlgoConfiguration, Package, ProfileElement};
    let p = Package::decode(&std::fs::read(path).expect("read")).expect("decode");
    let iccid = p.header().expect("header").iccid.to_string();
    let k = p
        .elements()
        .iter()
        .find_map(|e| match e {
            ProfileElement::Aka(a) => match &a.algo {
                AlgoConfiguration::Algo(al) => Some(al.key.expose_hex()),
                AlgoConfiguration::Raw(_) => None,
            },
            _ => None,
        })
        .expect("aka");
    (iccid, k)
}

#[test]
fn build_batch_from_a_vendor_file_and_from_the_store() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("from-file");
    let r = simgw(&[
        "profile",
        "build-batch",
        "--template",
        "builtin",
        "--file",
        fixture("example.out").to_str().expect("utf8"),
        "--format",
        "vendor-out",
        "--out-dir",
        out.to_str().expect("utf8"),
        "--data-dir",
        dir.path().join("d1").to_str().expect("utf8"),
    ]);
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let (iccid, k) = iccid_and_k(&out.join("8986990999000001013.der"));
    assert_eq!(
        (iccid.as_str(), k.as_str()),
        ("8986990999000001013", "17DB7564FC02DB7EAAB1C92164C6F0AA")
    );
    assert_eq!(std::fs::read_dir(&out).expect("dir").count(), 3);

    // From the store: import first, then personalise from the sealed records.
    let data = dir.path().join("data");
    let d = data.to_str().expect("utf8");
    assert!(
        simgw(&[
            "tenant",
            "put",
            "--id",
            "t",
            "--name",
            "T",
            "--plmn",
            "00101",
            "--data-dir",
            d
        ])
        .status
        .success()
    );
    let imp = simgw(&[
        "inventory",
        "import",
        "--tenant",
        "t",
        "--format",
        "vendor-out",
        fixture("example.out").to_str().expect("utf8"),
        "--data-dir",
        d,
    ]);
    assert!(
        imp.status.success(),
        "{}",
        String::from_utf8_lossy(&imp.stderr)
    );
    let stdout = String::from_utf8_lossy(&imp.stdout).to_string();
    let batch = stdout
        .split_whitespace()
        .find(|w| w.starts_with("bat_"))
        .expect("batch id")
        .to_owned();
    let out2 = dir.path().join("from-store");
    let r = simgw(&[
        "profile",
        "build-batch",
        "--template",
        "builtin",
        "--tenant",
        "t",
        "--batch",
        &batch,
        "--out-dir",
        out2.to_str().expect("utf8"),
        "--data-dir",
        d,
    ]);
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let (iccid, k) = iccid_and_k(&out2.join("8986990999000001021.der"));
    assert_eq!(
        (iccid.as_str(), k.as_str()),
        ("8986990999000001021", "97A397BACBAE3D9B27160B1FCE7E7B91")
    );
}

/// A TS.48-shaped template: a USIM and an ISIM, each with its own AKA parameter (test
/// algorithm, K 000102…0f); see `sim-profiles/tests/ts48/mod.rs`.
fn ts48_like() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../sim-profiles/tests/fixtures/profile/ts48/ts48like-saip23-bertlv.der")
}

/// The K of every AKA parameter of a package, in order (hex, upper case).
fn every_k(path: &std::path::Path) -> Vec<String> {
    use sim_profiles::profile::{AlgoConfiguration, Package, ProfileElement};
    let p = Package::decode(&std::fs::read(path).expect("read")).expect("decode");
    p.elements()
        .iter()
        .filter_map(|e| match e {
            ProfileElement::Aka(a) => match &a.algo {
                AlgoConfiguration::Algo(al) => Some(al.key.expose_hex()),
                AlgoConfiguration::Raw(_) => None,
            },
            _ => None,
        })
        .collect()
}

/// `template` with every AKA parameter switched to Milenage, written to `dir`.
fn milenage_copy(template: &std::path::Path, dir: &std::path::Path) -> PathBuf {
    use sim_profiles::profile::{AlgoConfiguration, Package, ProfileElement};
    let p = Package::decode(&std::fs::read(template).expect("read")).expect("decode");
    let mut elements = p.into_elements();
    for e in &mut elements {
        match e {
            ProfileElement::Aka(a) => {
                if let AlgoConfiguration::Algo(al) = &mut a.algo {
                    al.algorithm_id = 1;
                }
            }
            ProfileElement::Header(h) => {
                h.mandatory_services.insert_name("milenage");
            }
            _ => {}
        }
    }
    let path = dir.join("milenage-template.der");
    let der = Package::from_elements(elements).expect("package").encode();
    std::fs::write(&path, der).expect("write");
    path
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn build_refuses_a_package_that_keeps_a_test_key_in_any_aka_parameter() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("card.der");
    let o = out.to_str().expect("utf8");
    let t = ts48_like();
    let t = t.to_str().expect("utf8");
    let iccid = "8988211000000530082";

    // Personalising the ICCID alone leaves both AKA parameters on the TS.48 key.
    let r = build(t, o, &["--iccid", iccid]);
    assert!(!r.status.success());
    let e = stderr(&r);
    for want in [
        "PE-AKAParameter id 11 (USIM, usim-test-algorithm)",
        "PE-AKAParameter id 19 (ISIM, usim-test-algorithm)",
        "000102…0f",
        "--allow-test-keys",
    ] {
        assert!(e.contains(want), "{want:?} missing from: {e}");
    }
    assert!(!out.exists(), "nothing written when refused");

    // The built-in template's all-zero K is refused too.
    let r = build("builtin", o, &["--iccid", iccid]);
    assert!(!r.status.success());
    assert!(stderr(&r).contains("(USIM, Milenage) holds a well-known test K (all zeros)"));
    assert!(!out.exists());

    // A lab profile on purpose.
    let r = build(t, o, &["--iccid", iccid, "--allow-test-keys"]);
    assert!(r.status.success(), "{}", stderr(&r));
    assert_eq!(every_k(&out), vec!["000102030405060708090A0B0C0D0E0F"; 2]);
}

#[test]
fn build_writes_the_card_keys_into_every_aka_parameter() {
    let dir = tempfile::tempdir().expect("tempdir");
    let template = milenage_copy(&ts48_like(), dir.path());
    let out = dir.path().join("card.der");
    let k = "9E1B73C40D5A2F86E7C1B5083FD2A461";
    let r = build(
        template.to_str().expect("utf8"),
        out.to_str().expect("utf8"),
        &["--ki", k, "--opc", "0F1E2D3C4B5A69788796A5B4C3D2E1F0"],
    );
    assert!(r.status.success(), "{}", stderr(&r));
    assert_eq!(every_k(&out), vec![k; 2], "the USIM's and the ISIM's K");
}

/// EF.ACC as `profile inspect` prints it.
fn ef_acc_line(path: &std::path::Path) -> String {
    let shown = simgw(&["profile", "inspect", path.to_str().expect("utf8")]);
    String::from_utf8_lossy(&shown.stdout)
        .lines()
        .find(|l| l.trim_start().starts_with("EF.ACC:"))
        .map(|l| l.trim().to_owned())
        .unwrap_or_default()
}

#[test]
fn build_sets_the_access_class_from_the_imsi_or_from_acc() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("card.der");
    let o = out.to_str().expect("utf8");
    let run = |extra: &[&str]| {
        let mut flags = vec!["--ki", "9e1b73c40d5a2f86e7c1b5083fd2a461"];
        flags.extend_from_slice(extra);
        build("builtin", o, &flags)
    };

    let r = run(&["--imsi", "001010000000047"]);
    assert!(r.status.success(), "{}", stderr(&r));
    assert_eq!(ef_acc_line(&out), "EF.ACC: 0080 (class 7)");

    let r = run(&["--imsi", "001010000000047", "--acc", "0200"]);
    assert!(r.status.success(), "{}", stderr(&r));
    assert_eq!(ef_acc_line(&out), "EF.ACC: 0200 (class 9)");
    std::fs::remove_file(&out).expect("remove");

    for (acc, says) in [
        ("12", "give exactly 4 hex digits"),
        ("0400", "access class 10"),
        ("0000", "exactly one of the ordinary access classes 0-9"),
    ] {
        let r = run(&["--imsi", "001010000000047", "--acc", acc]);
        assert!(!r.status.success(), "--acc {acc} accepted");
        let e = stderr(&r);
        assert!(
            e.contains("--acc: invalid EF.ACC value") && e.contains(says),
            "{e}"
        );
        assert!(!out.exists(), "nothing written for --acc {acc}");
    }
}

/// Every TS.48-shaped package of `sim-profiles/tests/fixtures/profile/ts48/`.
fn ts48_fixtures() -> Vec<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../sim-profiles/tests/fixtures/profile/ts48");
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("fixture dir")
        .map(|e| e.expect("entry").path())
        .collect();
    files.sort();
    files
}

#[test]
fn build_gives_every_ts48_package_new_keys_and_switches_the_algorithm() {
    let dir = tempfile::tempdir().expect("tempdir");
    let k = "9E1B73C40D5A2F86E7C1B5083FD2A461";
    let fixtures = ts48_fixtures();
    assert_eq!(fixtures.len(), 12);
    for template in fixtures {
        let name = template
            .file_name()
            .expect("name")
            .to_string_lossy()
            .into_owned();
        let out = dir.path().join(&name);
        let build = |extra: &[&str]| {
            let mut args = vec![
                "profile",
                "build",
                "--template",
                template.to_str().expect("utf8"),
                "--iccid",
                "8988211000000530082",
                "--imsi",
                "001010000000042",
                "--ki",
                k,
                "--opc",
                "0F1E2D3C4B5A69788796A5B4C3D2E1F0",
                "--out",
                out.to_str().expect("utf8"),
            ];
            args.extend_from_slice(extra);
            simgw(&args)
        };

        // The test algorithm stays, with the new keys, and the user is told.
        let r = build(&[]);
        assert!(r.status.success(), "{name}: {}", stderr(&r));
        assert_eq!(every_k(&out), vec![k; 2], "{name}");
        let said = String::from_utf8_lossy(&r.stdout).into_owned();
        assert!(
            said.contains("warning: PE-AKAParameter id 11 (USIM) uses the USIM test algorithm")
                && said.contains("PE-AKAParameter id 19 (ISIM)")
                && said.contains("--algorithm milenage"),
            "{name}: {said}"
        );

        // Switched to Milenage: both AKA parameters and the header, and it validates.
        let r = build(&["--algorithm", "milenage"]);
        assert!(r.status.success(), "{name}: {}", stderr(&r));
        assert!(
            !String::from_utf8_lossy(&r.stdout).contains("warning"),
            "{name}"
        );
        assert_eq!(every_k(&out), vec![k; 2], "{name}");
        let v = simgw(&["profile", "validate", out.to_str().expect("utf8")]);
        assert!(
            v.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&v.stdout)
        );
        let shown = simgw(&["profile", "inspect", out.to_str().expect("utf8")]);
        let shown = String::from_utf8_lossy(&shown.stdout);
        assert_eq!(
            shown.matches("algorithm: Milenage (1)").count(),
            2,
            "{name}: {shown}"
        );
        assert!(
            shown.contains("milenage") && !shown.contains("usim-test-algorithm"),
            "{shown}"
        );
    }
}

#[test]
fn build_names_the_element_and_the_algorithm_when_a_value_cannot_be_set() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("card.der");
    let t = ts48_like();
    let args = |algorithm: &'static str| {
        vec![
            "profile".to_owned(),
            "build".to_owned(),
            "--template".to_owned(),
            t.to_str().expect("utf8").to_owned(),
            "--ki".to_owned(),
            "9e1b73c40d5a2f86e7c1b5083fd2a461".to_owned(),
            "--algorithm".to_owned(),
            algorithm.to_owned(),
            "--out".to_owned(),
            out.to_str().expect("utf8").to_owned(),
        ]
    };
    let run = |a: Vec<String>| {
        Command::new(env!("CARGO_BIN_EXE_simgw"))
            .args(a)
            .output()
            .expect("run simgw")
    };
    let r = run(args("tuak"));
    assert!(!r.status.success());
    let e = stderr(&r);
    assert!(
        e.contains(
            "cannot set algorithmID in PE-AKAParameter id 11 (USIM, usim-test-algorithm): \
             TUAK needs a 256-bit TOPc"
        ),
        "{e}"
    );
    assert!(!e.contains("file"), "not about a file: {e}");
    assert!(!out.exists());

    let r = run(args("md5"));
    assert!(!r.status.success());
    assert!(
        stderr(&r).contains("[possible values: milenage, test, tuak]"),
        "{}",
        stderr(&r)
    );
    assert!(!out.exists());
}
