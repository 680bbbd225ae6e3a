//! Privacy: after 1,000 orders carrying known ID numbers and names, none of them appears
//! in the logs (captured at debug level), in any API response, in the events API, in a
//! webhook delivery, or anywhere in the data directory in clear (every file scanned raw).

mod common;

use adapters::identity::id_format::mod11_2_check;
use bytes::Bytes;
use gateway::webhooks::receiver::{self, Received};
use serde_json::{Value, json};
use std::collections::HashSet;
use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

const ORDERS: u32 = 1_000;

/// Everything the process logs, at debug level.
#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("log buffer").extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn id_number(i: u32) -> String {
    let body = format!(
        "110105{:04}{:02}{:02}{:03}",
        1960 + i / 336,
        1 + i / 28 % 12,
        1 + i % 28,
        i % 1000
    );
    let check = char::from(mod11_2_check(body.as_bytes()));
    format!("{body}{check}")
}

fn name(i: u32) -> String {
    let pick = |s: &str, n: u32| s.chars().nth(n as usize % 10).expect("char");
    [
        pick("王李张刘陈杨黄赵吴周", i / 100),
        pick("伟芳娜敏静丽强磊军洋", i / 10),
        pick("明华平刚辉杰涛斌宇浩", i),
    ]
    .iter()
    .collect()
}

/// Every needle found in `hay` (windows of the needles' one length).
fn found(hay: &[u8], needles: &HashSet<Vec<u8>>, len: usize) -> Vec<String> {
    let mut hits: Vec<String> = hay
        .windows(len)
        .filter(|w| needles.contains(*w))
        .map(|w| String::from_utf8_lossy(w).into_owned())
        .collect();
    hits.sort();
    hits.dedup();
    hits
}

fn files(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
    for e in std::fs::read_dir(dir).expect("read dir").flatten() {
        let p = e.path();
        if p.is_dir() {
            files(&p, out);
        } else {
            out.push(p);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_id_number_or_name_leaves_in_clear() {
    let logs = Capture::default();
    let writer = logs.clone();
    tracing_subscriber::fmt()
        .with_max_level(tracing::Level::DEBUG)
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .init();
    let dir = tempfile::tempdir().expect("tempdir");
    let mut c = common::sandbox::esim_config(dir.path(), 0);
    c.esim.callback_listen = None;
    c.sandbox.physical_sims = ORDERS;
    c.sandbox.numbers = ORDERS + 100;
    let sb = gateway::sandbox::start(c).await.expect("sandbox");
    let ca = std::fs::read(&sb.info.ca_cert).expect("ca");
    let http = adapters::http::HttpClient::builder()
        .add_root_pem(&ca)
        .request_timeout(Duration::from_secs(30))
        .build()
        .expect("client");
    let base = sb.info.base_url.clone();
    let auth = format!("Bearer {}", sb.info.api_key);
    let responses = Arc::new(Mutex::new(Vec::<u8>::new()));
    let call = {
        let (http, base, auth, responses) =
            (http.clone(), base.clone(), auth.clone(), responses.clone());
        move |method: http::Method, path: String, idem: Option<String>, body: Option<Value>| {
            let (http, base, auth, responses) =
                (http.clone(), base.clone(), auth.clone(), responses.clone());
            async move {
                let mut h = vec![("authorization", auth)];
                if let Some(k) = idem {
                    h.push(("idempotency-key", k));
                }
                let bytes = match &body {
                    Some(b) => {
                        h.push(("content-type", "application/json".to_owned()));
                        Bytes::from(b.to_string())
                    }
                    None => Bytes::new(),
                };
                let r = http
                    .request(method, &format!("{base}{path}"), &h, bytes)
                    .await
                    .expect("request");
                responses
                    .lock()
                    .expect("responses")
                    .extend_from_slice(&r.body);
                (
                    r.status,
                    serde_json::from_slice::<Value>(&r.body).unwrap_or(Value::Null),
                )
            }
        }
    };
    // A webhook receiver on loopback that keeps every delivery.
    let deliveries = Arc::new(Mutex::new(Vec::<Received>::new()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let hook = format!("http://{}/hook", listener.local_addr().expect("addr"));
    let kept = deliveries.clone();
    let handler: receiver::Handler = Arc::new(move |r: Received| {
        kept.lock().expect("deliveries").push(r);
        (204, Vec::new())
    });
    let (_stop, stop_rx) = tokio::sync::watch::channel(false);
    tokio::spawn(receiver::serve(listener, handler, stop_rx));
    let (s, v) = call(
        http::Method::POST,
        "/v1/webhook-endpoints".into(),
        None,
        Some(json!({"url": hook})),
    )
    .await;
    assert_eq!(s, 201, "{v}");

    let iccids = sb.info.physical_iccids.clone();
    assert!(iccids.len() >= ORDERS as usize);
    let mut ids = Vec::new();
    for chunk in (0..ORDERS).collect::<Vec<_>>().chunks(32) {
        let tasks: Vec<_> = chunk
            .iter()
            .map(|&i| {
                let body = json!({
                    "sim": {"type": "physical", "iccid": iccids[i as usize]},
                    "product": sb.info.product,
                    "channel": {"kind": "store", "store_id": "SZ-0042", "terminal_id": "T7", "staff_id": "C1"},
                    "subscriber": {"name": name(i), "id_type": "resident_id", "id_number": id_number(i),
                        "nationality": "CHN", "capture": {"method": "card_reader", "reader_serial": "R-1"},
                        "evidence": {"face_match": {"transaction_id": format!("fm-{i}"), "score": 0.9, "liveness": true}}}
                });
                tokio::spawn(call(http::Method::POST, "/v1/activations".into(), Some(format!("privacy-{i}")), Some(body)))
            })
            .collect();
        for t in tasks {
            let (s, v) = t.await.expect("task");
            assert_eq!(s, 202, "{v}");
            ids.push(v["id"].as_str().expect("id").to_owned());
        }
    }
    // Every order settles; read each back, and every line.
    for id in &ids {
        let mut done = false;
        for _ in 0..3_000 {
            let (_, o) = call(
                http::Method::GET,
                format!("/v1/activations/{id}"),
                None,
                None,
            )
            .await;
            if o["status"] == "active" || o["status"] == "failed" {
                if let Some(m) = o["msisdn"].as_str() {
                    call(
                        http::Method::GET,
                        format!("/v1/subscriptions/{m}"),
                        None,
                        None,
                    )
                    .await;
                }
                done = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert!(done, "order {id} did not settle");
    }
    // The whole events API, then every event delivered to the endpoint.
    let mut events = 0;
    let mut after: Option<String> = None;
    loop {
        let q = after
            .as_ref()
            .map(|a| format!("&after={a}"))
            .unwrap_or_default();
        let (s, page) = call(
            http::Method::GET,
            format!("/v1/events?limit=1000{q}"),
            None,
            None,
        )
        .await;
        assert_eq!(s, 200, "{page}");
        let n = page["data"].as_array().map_or(0, Vec::len);
        if n == 0 {
            break;
        }
        events += n;
        after = page["next_cursor"].as_str().map(str::to_owned);
    }
    assert!(events >= ORDERS as usize, "{events} events");
    for _ in 0..6_000 {
        if deliveries.lock().expect("deliveries").len() >= events {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(
        deliveries.lock().expect("deliveries").len() >= events,
        "every event delivered"
    );
    let data_dir = sb.gateway.config.data_dir.clone();
    common::sandbox::shutdown(sb).await;

    let id_needles: HashSet<Vec<u8>> = (0..ORDERS).map(|i| id_number(i).into_bytes()).collect();
    let name_needles: HashSet<Vec<u8>> = (0..ORDERS).map(|i| name(i).into_bytes()).collect();
    assert_eq!(
        (id_needles.len(), name_needles.len()),
        (ORDERS as usize, ORDERS as usize)
    );
    // The scan itself finds what it looks for.
    let control = format!("..{}..{}..", id_number(7), name(7));
    assert_eq!(
        found(control.as_bytes(), &id_needles, 18),
        vec![id_number(7)]
    );
    assert_eq!(found(control.as_bytes(), &name_needles, 9), vec![name(7)]);
    let check = |what: &str, hay: &[u8]| {
        let ids = found(hay, &id_needles, 18);
        let names = found(hay, &name_needles, 9);
        assert!(
            ids.is_empty() && names.is_empty(),
            "{what} holds ID numbers {ids:?} or names {names:?}"
        );
    };
    let log_bytes = logs.0.lock().expect("logs").clone();
    assert!(log_bytes.len() > 10_000, "debug logs were captured");
    check("the debug log", &log_bytes);
    check("the API responses", &responses.lock().expect("responses"));
    let hooks: Vec<u8> = deliveries
        .lock()
        .expect("deliveries")
        .iter()
        .flat_map(|d| d.body.to_vec())
        .collect();
    check("the webhook deliveries", &hooks);
    let mut all = Vec::new();
    files(&data_dir, &mut all);
    assert!(!all.is_empty());
    for f in all {
        let bytes = std::fs::read(&f).expect("read");
        check(&f.display().to_string(), &bytes);
    }
}
