//! README.md's shell blocks run, in order, against a real `simgw serve --sandbox`, exactly as
//! a newcomer would paste them. Every ```sh block runs unless a `<!-- readme-test: skip … -->`
//! line right above it says why not (the two first-run commands: this test is one of them).
//!
//! The only rewrites: the README's `https://127.0.0.1:8443` becomes the sandbox's own
//! address (an ephemeral port, so the test runs beside anything), `cargo run --release
//! [-p conformance] --` runs the binaries this build made, and `curl` fails on an HTTP
//! error (`--fail-with-body`), so a step that answers 4xx fails the test.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// One fenced shell block of the README.
#[derive(Debug)]
struct Block {
    /// 1-based line of the opening fence.
    line: usize,
    code: String,
    skip: Option<String>,
}

const SKIP_MARK: &str = "<!-- readme-test: skip";

fn blocks(readme: &str) -> Vec<Block> {
    let mut out = Vec::new();
    let mut lines = readme.lines().enumerate().peekable();
    let mut previous = "";
    while let Some((i, line)) = lines.next() {
        if line.trim_start() == "```sh" {
            let skip = previous
                .trim()
                .strip_prefix(SKIP_MARK)
                .map(|r| r.trim_end_matches("-->").trim().to_owned());
            let mut code = String::new();
            for (_, l) in lines.by_ref() {
                if l.trim_start() == "```" {
                    break;
                }
                code.push_str(l);
                code.push('\n');
            }
            out.push(Block {
                line: i + 1,
                code,
                skip,
            });
            previous = "";
            continue;
        }
        if !line.trim().is_empty() {
            previous = line;
        }
    }
    out
}

/// Kills the gateway when the test ends, however it ends.
struct Serve(Child);

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn simgw() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_simgw"))
}

/// Starts `simgw serve --sandbox` in `dir/data` on an ephemeral port and returns it with
/// its base URL, once `sandbox.json` (written after the listener is up) exists.
fn start_sandbox(dir: &Path) -> (Serve, String) {
    let data = dir.join("data");
    let log = std::fs::File::create(dir.join("serve.log")).expect("log file");
    let child = Command::new(simgw())
        .args([
            "serve",
            "--sandbox",
            "--listen",
            "127.0.0.1:0",
            "--data-dir",
        ])
        .arg(&data)
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .expect("start simgw serve --sandbox");
    let mut serve = Serve(child);
    let file = data.join("sandbox.json");
    for _ in 0..3000 {
        if let Ok(bytes) = std::fs::read(&file) {
            let json: serde_json::Value = serde_json::from_slice(&bytes).expect("sandbox.json");
            let base = json["base_url"].as_str().expect("base_url").to_owned();
            return (serve, base);
        }
        if let Ok(Some(status)) = serve.0.try_wait() {
            panic!(
                "simgw serve --sandbox exited ({status}) before writing sandbox.json:\n{}",
                std::fs::read_to_string(dir.join("serve.log")).unwrap_or_default()
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!("sandbox.json did not appear within 60 s");
}

/// The prelude: strict mode, and the three rewrites the module comment names.
fn prelude(conformance: &Path) -> String {
    format!(
        r#"set -euo pipefail
SIMGW_BIN='{simgw}'
CONFORMANCE_BIN='{conformance}'
cargo() {{
    [ "$1" = run ] || {{ echo "README runner: only 'cargo run' is supported, not: cargo $*" >&2; return 2; }}
    shift
    local bin="$SIMGW_BIN"
    while [ "$#" -gt 0 ] && [ "$1" != "--" ]; do
        case "$1" in
            --release) shift ;;
            -p) [ "$2" = conformance ] && bin="$CONFORMANCE_BIN"; shift 2 ;;
            *) echo "README runner: unsupported cargo option $1" >&2; return 2 ;;
        esac
    done
    shift
    "$bin" "$@"
}}
curl() {{ command curl --silent --show-error --fail-with-body --max-time 30 "$@"; }}
"#,
        simgw = simgw().display(),
        conformance = conformance.display(),
    )
}

#[test]
fn readme_blocks_are_found_and_every_skip_says_why() {
    let sample = "text\n<!-- readme-test: skip (starts the gateway) -->\n```sh\na\n```\n\n```sh\nb\nc\n```\n```toml\nx\n```\n";
    let b = blocks(sample);
    assert_eq!(b.len(), 2);
    assert_eq!(b[0].skip.as_deref(), Some("(starts the gateway)"));
    assert_eq!(b[0].code, "a\n");
    assert_eq!(b[1].skip, None);
    assert_eq!((b[1].line, b[1].code.as_str()), (7, "b\nc\n"));
}

#[test]
fn readme_shell_blocks_run_against_a_sandbox() {
    let readme_path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../README.md");
    let readme = std::fs::read_to_string(&readme_path).expect("README.md");
    let all = blocks(&readme);
    assert!(all.len() >= 4, "README has too few shell blocks: {all:?}");
    for b in &all {
        if let Some(why) = &b.skip {
            assert!(
                !why.is_empty(),
                "README line {}: a skip must say why",
                b.line
            );
        }
    }

    let dir = tempfile::tempdir().expect("tempdir");
    let (serve, base) = start_sandbox(dir.path());
    // The README's commands run from the repository root: give them its example files.
    std::os::unix::fs::symlink(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples"),
        dir.path().join("examples"),
    )
    .expect("link examples/");
    let conformance = simgw().with_file_name("simgw-conformance");

    let mut script = prelude(&conformance);
    for b in all.iter().filter(|b| b.skip.is_none()) {
        script.push_str(&format!(
            "echo '=== README.md line {}' >&2\n{}\n",
            b.line,
            b.code.replace("https://127.0.0.1:8443", &base)
        ));
    }
    std::fs::write(dir.path().join("readme.sh"), &script).expect("write script");

    let mut run = Command::new("bash")
        .arg(dir.path().join("readme.sh"))
        .current_dir(dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("bash");
    let mut stdout = String::new();
    let mut stderr = String::new();
    let (mut out_pipe, mut err_pipe) = (run.stdout.take(), run.stderr.take());
    let err_reader = std::thread::spawn(move || {
        if let Some(p) = err_pipe.as_mut() {
            let _ = p.read_to_string(&mut stderr);
        }
        stderr
    });
    if let Some(p) = out_pipe.as_mut() {
        let _ = p.read_to_string(&mut stdout);
    }
    let status = run.wait().expect("wait for bash");
    let stderr = err_reader.join().expect("stderr reader");
    let server_log = std::fs::read_to_string(dir.path().join("serve.log")).unwrap_or_default();
    assert!(
        status.success(),
        "a README step failed ({status}); the last `=== README.md line N` names its block.\n\
         --- stdout\n{stdout}\n--- stderr\n{stderr}\n--- simgw log (tail)\n{}",
        tail(&server_log, 40)
    );
    // The walkthrough's loops print where the orders ended: both activations and the
    // port-in active, the eSIM installed, every lifecycle order and the port-out
    // completed, and the line active again.
    let lines: Vec<&str> = stdout.lines().collect();
    let count = |want: &str| lines.iter().filter(|l| **l == want).count();
    let completed = lines.iter().filter(|l| l.ends_with(": completed")).count();
    assert_eq!(
        (
            count("active"),
            count("installed"),
            completed,
            count("line: active")
        ),
        (3, 1, 7, 1),
        "the README's orders did not end as it says:\n{stdout}"
    );
    drop(serve);
}

fn tail(s: &str, n: usize) -> String {
    let lines: Vec<&str> = s.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

/// Every problem `code` the gateway's source can produce: the string literal right after a
/// `StatusCode::…,` (ApiError constructors), as the first argument of
/// `ApiError::invalid(`, or right after the numeric status of `Refusal::new(` (and of
/// `Self::new(` inside `Refusal`'s own constructors): compliance refusals become problems
/// through `ApiError::refusal`.
fn codes_in_source() -> std::collections::BTreeMap<String, PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).expect("read dir").flatten() {
            let p = entry.path();
            if p.is_dir() {
                walk(&p, out);
            } else if p.extension().is_some_and(|e| e == "rs") {
                out.push(p);
            }
        }
    }
    let mut files = Vec::new();
    walk(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
        &mut files,
    );
    let mut codes = std::collections::BTreeMap::new();
    for f in files {
        let text = std::fs::read_to_string(&f).expect("read source");
        if text.contains("#[cfg(test)]") && f.ends_with("tests.rs") {
            continue;
        }
        // Test modules at the end of a file use codes as expectations, not as answers.
        let text = text.split("#[cfg(test)]").next().unwrap_or_default();
        for (i, _) in text.match_indices("StatusCode::") {
            let rest = &text[i + "StatusCode::".len()..];
            let ident = rest
                .find(|c: char| !(c.is_ascii_uppercase() || c == '_'))
                .unwrap_or(0);
            if let Some(after) = rest[ident..].strip_prefix(',')
                && let Some(code) = literal(after)
            {
                codes.insert(code.to_owned(), f.clone());
            }
        }
        for (i, _) in text.match_indices("ApiError::invalid(") {
            if let Some(code) = literal(&text[i + "ApiError::invalid(".len()..]) {
                codes.insert(code.to_owned(), f.clone());
            }
        }
        for call in ["Refusal::new(", "Self::new("] {
            for (i, _) in text.match_indices(call) {
                if let Some(code) = after_status(&text[i + call.len()..]) {
                    codes.insert(code.to_owned(), f.clone());
                }
            }
        }
    }
    codes
}

/// The code literal after a numeric HTTP status and a comma (`429, "velocity_limit"`).
fn after_status(s: &str) -> Option<&str> {
    let s = s.trim_start();
    let digits = s.bytes().take_while(u8::is_ascii_digit).count();
    if digits != 3 {
        return None;
    }
    literal(s[digits..].trim_start().strip_prefix(',')?)
}

/// The snake_case string literal at the start of `s` (after whitespace), if any.
fn literal(s: &str) -> Option<&str> {
    let s = s.trim_start().strip_prefix('"')?;
    let end = s.find('"')?;
    let lit = &s[..end];
    (!lit.is_empty()
        && lit
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'))
    .then_some(lit)
}

/// Compliance codes the core can refuse with, whose README rows land when the compliance
/// checks reach the order path (until then no request can get them). Each entry must
/// still be missing from README.md: remove it when its row lands.
const AWAITING_README: &[&str] = &[];

#[test]
fn the_scan_finds_compliance_refusals() {
    assert_eq!(
        after_status(" 429, \"velocity_limit\","),
        Some("velocity_limit")
    );
    assert_eq!(
        after_status("\n            403,\n            \"blocked\",\n"),
        Some("blocked")
    );
    assert_eq!(after_status("StatusCode::CONFLICT, \"x\""), None);
    assert_eq!(after_status("403, code, \"t\""), None);
    let codes = codes_in_source();
    for code in [
        "velocity_limit",
        "id_quota_exceeded",
        "blocked",
        "subscriber_invalid",
    ] {
        assert!(codes.contains_key(code), "{code}: {codes:?}");
    }
}

#[test]
fn every_problem_code_the_server_sends_is_in_the_readme() {
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../README.md"))
            .expect("README.md");
    let codes = codes_in_source();
    assert!(
        codes.contains_key("unauthorized") && codes.contains_key("missing_field"),
        "the scanner finds codes: {codes:?}"
    );
    for code in AWAITING_README {
        assert!(
            codes.contains_key(*code),
            "{code} is awaited in README.md but no longer sent: remove it from AWAITING_README"
        );
        assert!(
            !readme.contains(&format!("`{code}`")),
            "{code} has its README row now: remove it from AWAITING_README"
        );
    }
    let missing: Vec<String> = codes
        .iter()
        .filter(|(code, _)| !AWAITING_README.contains(&code.as_str()))
        .filter(|(code, _)| !readme.contains(&format!("`{code}`")))
        .map(|(code, file)| format!("{code} ({})", file.display()))
        .collect();
    assert!(
        missing.is_empty(),
        "problem codes the server sends but README.md's error table lacks: {missing:?}"
    );
}
