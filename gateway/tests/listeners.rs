//! The side listeners and the process around them: metrics on their own listener and not
//! on the API, two sandboxes side by side on fixed API ports (their callback and metrics
//! listeners ephemeral, each bound once), and logs without colour codes in a pipe.

mod common;

use common::Harness;
use gateway::config::{Config, Listen};
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Command, Stdio};
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_are_served_on_their_own_listener_and_not_on_the_api() {
    let h = Harness::start(1).await;
    for auth in [None, Some(format!("Bearer {}", h.api_key))] {
        let headers: Vec<_> = auth.iter().map(|a| ("authorization", a.clone())).collect();
        let r = h
            .client
            .get(&format!("{}/metrics", h.base), &headers)
            .await
            .expect("GET /metrics on the API");
        assert_eq!(r.status, 404, "API /metrics with key: {}", auth.is_some());
        assert_eq!(
            r.headers.get("content-type").and_then(|v| v.to_str().ok()),
            Some("application/problem+json")
        );
        let v: serde_json::Value = serde_json::from_slice(&r.body).expect("problem");
        assert_eq!(v["code"], "not_found", "{v}");
    }
    for open in ["/healthz", "/readyz"] {
        let r = h
            .client
            .get(&format!("{}{open}", h.base), &[])
            .await
            .expect("ops");
        assert_eq!(r.status, 200, "{open} stays open on the API");
    }
    let addr = h.gw().metrics_addr.expect("metrics listener");
    assert!(addr.ip().is_loopback(), "{addr}");
    assert_ne!(addr.port(), 0);
    let r = h
        .client
        .get(&format!("http://{addr}/metrics"), &[])
        .await
        .expect("scrape");
    assert_eq!(r.status, 200);
    assert!(
        r.headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("text/plain")),
        "{:?}",
        r.headers
    );
    let text = String::from_utf8(r.body.to_vec()).expect("utf8");
    assert!(text.contains("# TYPE simgw_orders_total"), "{text}");
    assert!(
        text.contains("simgw_inventory{tenant=\"acme\",kind=\"sims_available\"} 1"),
        "{text}"
    );
    // Only the metrics are there.
    let r = h
        .client
        .get(&format!("http://{addr}/v1/inventory"), &[])
        .await
        .expect("GET");
    assert_eq!(r.status, 404);
}

#[test]
fn metrics_listen_parses_an_address_or_empty_for_off() {
    let dir = tempfile::tempdir().expect("tempdir");
    let load = |text: &str| {
        let p = dir.path().join("c.toml");
        std::fs::write(&p, text).expect("write");
        Config::load(Some(&p))
    };
    let c = load("").expect("defaults");
    assert_eq!(c.metrics.listen, None);
    assert_eq!(
        c.metrics_listen(),
        Some("127.0.0.1:9464".parse().expect("addr"))
    );
    let c = load("[metrics]\nlisten = \"\"\n").expect("off");
    assert_eq!(c.metrics.listen, Some(Listen::Off));
    assert_eq!(c.metrics_listen(), None);
    let c = load("[metrics]\nlisten = \"10.0.0.5:9100\"\n").expect("addr");
    assert_eq!(
        c.metrics_listen(),
        Some("10.0.0.5:9100".parse().expect("addr"))
    );
    let e = load("[metrics]\nlisten = \"localhost\"\n").expect_err("not an address");
    assert!(e.to_string().contains("IP:PORT"), "{e}");
    let e = load("[api]\nidle_timeout_ms = 0\n").expect_err("zero");
    assert!(e.to_string().contains("api.idle_timeout_ms"), "{e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_can_be_switched_off() {
    let h = Harness::start_with(1, |c| c.metrics.listen = Some(Listen::Off)).await;
    assert_eq!(h.gw().metrics_addr, None);
}

fn sandbox_config(dir: &std::path::Path, listen: SocketAddr) -> Config {
    let mut c = Config {
        data_dir: dir.to_owned(),
        listen,
        ..Config::default()
    };
    c.sandbox.physical_sims = 2;
    c.sandbox.esim_profiles = 2;
    c.sandbox.numbers = 10;
    c
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_sandboxes_on_fixed_api_ports_run_side_by_side() {
    // Fixed (non-zero) API ports, as `serve --sandbox --listen 127.0.0.1:N` gives; two
    // loopback addresses so the two API ports cannot clash with each other.
    let port = std::net::TcpListener::bind("127.0.0.3:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let (d1, d2) = (
        tempfile::tempdir().expect("tempdir"),
        tempfile::tempdir().expect("tempdir"),
    );
    let a = gateway::sandbox::start(sandbox_config(
        d1.path(),
        SocketAddr::from(([127, 0, 0, 3], port)),
    ))
    .await
    .expect("first sandbox");
    let b = gateway::sandbox::start(sandbox_config(
        d2.path(),
        SocketAddr::from(([127, 0, 0, 4], port)),
    ))
    .await
    .expect("second sandbox beside the first");
    let (ca, cb) = (
        a.gateway.callback_addr.expect("callback"),
        b.gateway.callback_addr.expect("callback"),
    );
    let (ma, mb) = (
        a.gateway.metrics_addr.expect("metrics"),
        b.gateway.metrics_addr.expect("metrics"),
    );
    assert_ne!(ca, cb);
    assert_ne!(ma, mb);
    for (sb, cb, m) in [(&a, ca, ma), (&b, cb, mb)] {
        assert_ne!(cb.port(), 8444, "callback on the fixed default");
        assert_ne!(m.port(), 9464, "metrics on the fixed default");
        let json: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&sb.file).expect("sandbox.json")).expect("json");
        assert_eq!(json["metrics_url"], format!("http://{m}/metrics"));
        assert_eq!(
            json["es2_callback_url"],
            format!("https://{cb}/gsma/rsp2/es2plus/handleDownloadProgressInfo")
        );
        let scrape = adapters::http::HttpClient::builder()
            .build()
            .expect("client")
            .get(&format!("http://{m}/metrics"), &[])
            .await
            .expect("scrape");
        assert_eq!(scrape.status, 200);
    }
    for sb in [a, b] {
        sb.gateway.shutdown().await;
        if let Some(s) = sb.smdp_sim {
            s.shutdown().await;
        }
        if let Some(s) = sb.hlr_sim {
            s.shutdown().await;
        }
    }
}

/// Reads `child`'s stderr until a line contains `marker` (or the stream ends), bounded.
fn stderr_until(child: &mut std::process::Child, marker: &str) -> Vec<u8> {
    let stderr = child.stderr.take().expect("piped stderr");
    let marker = marker.to_owned();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut all = Vec::new();
        let mut r = BufReader::new(stderr);
        loop {
            let mut line = Vec::new();
            match r.read_until(b'\n', &mut line) {
                Ok(0) | Err(_) => break,
                Ok(_) => {
                    let done = String::from_utf8_lossy(&line).contains(&marker);
                    all.extend_from_slice(&line);
                    if done {
                        break;
                    }
                }
            }
        }
        let _ = tx.send(all);
    });
    let got = rx.recv_timeout(Duration::from_secs(60));
    let _ = child.kill();
    let _ = child.wait();
    got.expect("the gateway never logged its start")
}

#[test]
fn logs_in_a_pipe_carry_no_colour_codes() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cfg = dir.path().join("simgw.toml");
    std::fs::write(
        &cfg,
        "[sandbox]\nphysical_sims = 2\nesim_profiles = 2\nnumbers = 10\n",
    )
    .expect("config");
    let mut child = Command::new(env!("CARGO_BIN_EXE_simgw"))
        .args(["serve", "--sandbox", "--listen", "127.0.0.1:0", "--config"])
        .arg(&cfg)
        .arg("--data-dir")
        .arg(dir.path().join("data"))
        .env("SIMGW_LOG", "info")
        .env_remove("NO_COLOR")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn simgw");
    let out = stderr_until(&mut child, "simgw listening");
    let text = String::from_utf8_lossy(&out);
    assert!(text.contains("simgw listening"), "{text}");
    assert!(
        !out.contains(&0x1b),
        "ANSI escape codes in piped logs:\n{text:?}"
    );
}

/// Scrapes the metrics listener over a socket both ways, plain (no `Accept`) and as
/// Prometheus asks by default, and reads each page back with a strict parser: every
/// sample belongs to the family its `# TYPE` line declares, OpenMetrics ends in `# EOF`,
/// and a histogram's buckets add up to its count. Both pages carry the same series.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_metrics_page_speaks_prometheus_text_and_openmetrics() {
    let h = Harness::start(1).await;
    // POST /v1/activations observes its latency before it answers.
    let (s, b) = h.post("m-1", &common::physical(&h.cards[0].iccid)).await;
    assert_eq!(s, 202, "{b}");
    let url = format!("http://{}/metrics", h.gw().metrics_addr.expect("metrics"));
    let prometheus_accept = "application/openmetrics-text;version=1.0.0;q=0.5,\
        application/openmetrics-text;version=0.0.1;q=0.4,text/plain;version=0.0.4;q=0.3,*/*;q=0.2";
    let mut pages = Vec::new();
    for (accept, om, content_type) in [
        (None, false, "text/plain; version=0.0.4; charset=utf-8"),
        (
            Some(prometheus_accept),
            true,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        ),
    ] {
        let headers: Vec<_> = accept
            .map(|a| ("accept", a.to_owned()))
            .into_iter()
            .collect();
        let r = h.client.get(&url, &headers).await.expect("scrape");
        assert_eq!(r.status, 200);
        assert_eq!(
            r.headers.get("content-type").and_then(|v| v.to_str().ok()),
            Some(content_type)
        );
        let text = String::from_utf8(r.body.to_vec()).expect("utf8");
        let page = exposition::parse(&text, om).unwrap_or_else(|e| panic!("{e}\n{text}"));
        let counter = if om {
            "simgw_orders"
        } else {
            "simgw_orders_total"
        };
        assert_eq!(page.kind(counter), Some("counter"), "{text}");
        for (family, kind) in [
            ("simgw_orders_inflight", "gauge"),
            ("simgw_activation_post_seconds", "histogram"),
            ("simgw_hlr_call_seconds", "histogram"),
            ("simgw_backlog_projected_wait_seconds", "gauge"),
            ("simgw_inventory", "gauge"),
            ("simgw_inventory_pool", "gauge"),
        ] {
            assert_eq!(page.kind(family), Some(kind), "{family} in\n{text}");
        }
        assert!(page.value("simgw_orders_total", &[("event", "created")]) >= Some(1.0));
        assert_eq!(
            page.value(
                "simgw_inventory",
                &[("tenant", "acme"), ("kind", "sims_available")]
            ),
            Some(0.0),
            "{text}"
        );
        let hist = "simgw_activation_post_seconds";
        let buckets = page.buckets(hist);
        assert_eq!(buckets.len(), 15, "14 bounds and +Inf: {buckets:?}");
        assert!(
            buckets
                .windows(2)
                .all(|w| w[0].0 < w[1].0 && w[0].1 <= w[1].1),
            "{buckets:?}"
        );
        assert_eq!(buckets.last().map(|b| b.0), Some(f64::INFINITY));
        let count = page.value(&format!("{hist}_count"), &[]).expect("count");
        assert_eq!(buckets.last().map(|b| b.1), Some(count));
        assert!(count >= 1.0 && page.value(&format!("{hist}_sum"), &[]) > Some(0.0));
        pages.push(page);
    }
    assert_eq!(
        pages[0].series(),
        pages[1].series(),
        "the same series both ways"
    );
}

/// A strict reader of the two text formats, enough to check the page's structure.
mod exposition {
    use std::collections::BTreeSet;

    /// One sample: name, label pairs, value.
    type Sample = (String, Vec<(String, String)>, f64);

    /// A parsed page: families with their types, and samples.
    pub struct Page {
        families: Vec<(String, String)>,
        samples: Vec<Sample>,
    }

    impl Page {
        /// The type a `# TYPE` line gives `family`.
        pub fn kind(&self, family: &str) -> Option<&str> {
            self.families
                .iter()
                .find(|(n, _)| n == family)
                .map(|(_, t)| t.as_str())
        }

        /// The value of the sample with exactly these labels.
        pub fn value(&self, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
            self.samples
                .iter()
                .find(|(n, l, _)| {
                    n == name
                        && l.len() == labels.len()
                        && labels
                            .iter()
                            .all(|(k, v)| l.contains(&(k.to_string(), v.to_string())))
                })
                .map(|(_, _, v)| *v)
        }

        /// A histogram's cumulative buckets, (bound, count), in page order.
        pub fn buckets(&self, family: &str) -> Vec<(f64, f64)> {
            let name = format!("{family}_bucket");
            self.samples
                .iter()
                .filter(|(n, _, _)| *n == name)
                .map(|(_, l, v)| {
                    let le = l.iter().find(|(k, _)| k == "le").expect("le");
                    (le.1.parse::<f64>().expect("bound"), *v)
                })
                .collect()
        }

        /// Every series (name and labels; `le` read as a number), values left out.
        pub fn series(&self) -> BTreeSet<String> {
            self.samples
                .iter()
                .map(|(n, l, _)| {
                    let labels: Vec<_> = l
                        .iter()
                        .map(|(k, v)| match (k.as_str(), v.parse::<f64>()) {
                            ("le", Ok(b)) => format!("{k}={b}"),
                            _ => format!("{k}={v}"),
                        })
                        .collect();
                    format!("{n}{{{}}}", labels.join(","))
                })
                .collect()
        }
    }

    /// Reads `text`: OpenMetrics (`om`) or the Prometheus text format 0.0.4.
    pub fn parse(text: &str, om: bool) -> Result<Page, String> {
        let mut page = Page {
            families: Vec::new(),
            samples: Vec::new(),
        };
        let mut help: Option<String> = None;
        let mut eof = false;
        for line in text.lines() {
            if eof {
                return Err(format!("a line after # EOF: {line}"));
            }
            if line == "# EOF" {
                eof = true;
            } else if let Some(rest) = line.strip_prefix("# HELP ") {
                help = rest.split_once(' ').map(|(n, _)| n.to_owned());
            } else if let Some(rest) = line.strip_prefix("# TYPE ") {
                let (name, kind) = rest.split_once(' ').ok_or(line)?;
                if help.as_deref() != Some(name) {
                    return Err(format!("# TYPE without its # HELP: {line}"));
                }
                if kind == "counter" && om == name.ends_with("_total") {
                    return Err(format!(
                        "a counter family named for the wrong format: {line}"
                    ));
                }
                page.families.push((name.to_owned(), kind.to_owned()));
            } else if line.starts_with('#') {
                return Err(format!("an unknown comment: {line}"));
            } else {
                let (name, labels, value) = sample(line).ok_or(line)?;
                let (family, kind) = page.families.last().ok_or(line)?;
                let allowed: Vec<String> = match kind.as_str() {
                    "counter" if om => vec![format!("{family}_total")],
                    "histogram" => ["_bucket", "_sum", "_count"]
                        .iter()
                        .map(|s| format!("{family}{s}"))
                        .collect(),
                    _ => vec![family.clone()],
                };
                if !allowed.contains(&name) {
                    return Err(format!("{name} is not of the family {family} ({kind})"));
                }
                page.samples.push((name, labels, value));
            }
        }
        if om != eof {
            return Err(format!("# EOF present: {eof}, OpenMetrics: {om}"));
        }
        Ok(page)
    }

    /// One sample line: `name{k="v",…} value`.
    fn sample(line: &str) -> Option<Sample> {
        let end = line.find(['{', ' '])?;
        let (name, mut rest) = line.split_at(end);
        let mut labels = Vec::new();
        if let Some(mut inner) = rest.strip_prefix('{') {
            while !inner.starts_with('}') {
                let (k, after) = inner.split_once("=\"")?;
                let mut v = String::new();
                let mut chars = after.char_indices();
                let close = loop {
                    match chars.next()? {
                        (_, '\\') => v.push(chars.next()?.1),
                        (i, '"') => break i,
                        (_, c) => v.push(c),
                    }
                };
                labels.push((k.to_owned(), v));
                inner = after[close + 1..]
                    .strip_prefix(',')
                    .unwrap_or(&after[close + 1..]);
            }
            rest = &inner[1..];
        }
        let value = match rest.strip_prefix(' ')? {
            "+Inf" | "inf" => f64::INFINITY,
            v => v.parse().ok()?,
        };
        Some((name.to_owned(), labels, value))
    }
}
