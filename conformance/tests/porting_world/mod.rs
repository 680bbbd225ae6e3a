//! The set-up the hub simulator's tests share: a PKI, the simulator on a driven clock,
//! the gateway's side (the adapters' `PortingHubClient` with its client certificate) and
//! a small receiver for hub messages that admits only the hub's certificate.

#![allow(dead_code)]

use crate::common::{Id, Pki};
use adapters::http::HttpClient;
use adapters::porting::{Account, AccountNumber, AccountPin, Credential, Market};
use adapters::porting::{
    ClientIdentity, HubMessage, PortingHubClient, PortingHubClientConfig, Ref, SubmitPortIn,
    UtcTime, decode_delivery,
};
use bytes::Bytes;
use conformance::porting_sim::{
    self, ClockMode, Delivery, NotifierIdentity, PortingSimConfig, PortingSimHandle, RetryPolicy,
    server_tls_config,
};
use http_body_util::BodyExt;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

/// Monday 2026-03-02 08:00 UTC (GMT; EST is UTC-5; China 16:00).
pub const MONDAY_0800: &str = "2026-03-02T08:00:00Z";
/// How long a test waits for deliveries before it fails.
pub const PATIENCE: Duration = Duration::from_secs(10);

/// An instant.
pub fn t(s: &str) -> UtcTime {
    UtcTime::parse(s, "t").expect("time")
}

/// A reference.
pub fn r(s: &str) -> Ref {
    Ref::parse(s, "t").expect("ref")
}

/// Everything one test needs.
pub struct World {
    pub pki: Pki,
    pub sim: PortingSimHandle,
    pub client: PortingHubClient,
    pub gateway_id: Id,
    pub receiver: Receiver,
    pub admin: HttpClient,
}

impl World {
    /// The simulator on a driven clock at [`MONDAY_0800`], delivering to a receiver
    /// that answers 204.
    pub async fn new() -> Self {
        Self::with(Vec::new(), |_, _, _| {}).await
    }

    /// As [`World::new`], the receiver answering `script`'s statuses first, with the
    /// configuration edited by `edit` (given the PKI and the gateway's identity).
    pub async fn with(
        script: Vec<u16>,
        edit: impl FnOnce(&mut PortingSimConfig, &Pki, &Id),
    ) -> Self {
        let pki = Pki::new("porting test CA");
        let hub = pki.issue("hub");
        let notifier = pki.issue("hub notifier");
        let gateway_id = pki.issue("gateway");
        let receiver_id = pki.issue("receiver");
        let receiver = Receiver::start(&pki, &receiver_id, script).await;
        let tls = server_tls_config(
            hub.cert_pem.as_bytes(),
            hub.key_pem.as_bytes(),
            pki.ca_pem.as_bytes(),
        )
        .expect("tls");
        let mut config = PortingSimConfig::new(tls);
        config.clock = ClockMode::Driven;
        config.start_at = Some(t(MONDAY_0800));
        config.receiver_url = Some(receiver.url());
        config.notifier = Some(NotifierIdentity {
            cert_pem: notifier.cert_pem.clone().into_bytes(),
            key_pem: notifier.key_pem.clone().into_bytes(),
            root_ca_pem: pki.ca_pem.clone().into_bytes(),
        });
        config.delivery = RetryPolicy {
            attempts: 5,
            initial_backoff: Duration::from_millis(5),
            max_backoff: Duration::from_millis(20),
            timeout: Duration::from_secs(5),
        };
        edit(&mut config, &pki, &gateway_id);
        let sim = porting_sim::start(config).await.expect("start");
        let client = client(&sim, &pki, &gateway_id, Duration::from_secs(5));
        let admin = HttpClient::builder()
            .add_root_pem(pki.ca_pem.as_bytes())
            .request_timeout(Duration::from_secs(5))
            .build()
            .expect("admin client");
        Self {
            pki,
            sim,
            client,
            gateway_id,
            receiver,
            admin,
        }
    }

    /// Waits until `n` deliveries finished; the hub messages the receiver has, in order.
    pub async fn messages(&self, n: usize) -> Vec<HubMessage> {
        let log = self.sim.wait_for_callbacks(n, PATIENCE).await;
        assert!(log.len() >= n, "{} of {n} deliveries: {log:?}", log.len());
        self.receiver.messages()
    }

    /// Waits until `n` deliveries finished; the delivery log.
    pub async fn deliveries(&self, n: usize) -> Vec<Delivery> {
        let log = self.sim.wait_for_callbacks(n, PATIENCE).await;
        assert!(log.len() >= n, "{} of {n} deliveries: {log:?}", log.len());
        log
    }

    /// `GET` an admin path (relative to `/sim/`): status and JSON.
    pub async fn get(&self, path: &str) -> (u16, serde_json::Value) {
        let url = format!("{}{path}", self.sim.admin_url());
        let resp = self.admin.get(&url, &[]).await.expect("GET");
        (resp.status, json(&resp.body))
    }

    /// Sends `body` to an admin path with `method`: status and JSON (null if empty).
    pub async fn send(
        &self,
        method: &str,
        path: &str,
        body: serde_json::Value,
    ) -> (u16, serde_json::Value) {
        let url = format!("{}{path}", self.sim.admin_url());
        let method = http::Method::from_bytes(method.as_bytes()).expect("method");
        let resp = self
            .admin
            .request(
                method,
                &url,
                &[("content-type", "application/json".to_owned())],
                Bytes::from(body.to_string()),
            )
            .await
            .expect("admin request");
        (resp.status, json(&resp.body))
    }
}

fn json(body: &[u8]) -> serde_json::Value {
    if body.is_empty() {
        serde_json::Value::Null
    } else {
        serde_json::from_slice(body).expect("json")
    }
}

/// A `PortingHubClient` for the simulator, presenting `id`.
pub fn client(sim: &PortingSimHandle, pki: &Pki, id: &Id, timeout: Duration) -> PortingHubClient {
    let id = id.clone();
    PortingHubClient::new(PortingHubClientConfig {
        base_url: sim.url(),
        roots_pem: pki.ca_pem.clone().into_bytes(),
        identity: ClientIdentity {
            cert_pem: id.cert_pem.into_bytes(),
            key_pem: id.key_pem.into_bytes().into(),
        },
        timeout,
    })
    .expect("client")
}

/// A port-in of `number` in `market` for order `order`, as the gateway would send it.
pub fn submit(market: Market, number: &str, order: &str) -> SubmitPortIn {
    let us = market == Market::Us;
    SubmitPortIn {
        request_id: r(&format!("{order}-port-in")),
        reference: r(order),
        market,
        number: number.parse().expect("msisdn"),
        donor: r("DONOR-1"),
        recipient: r("SIMGW"),
        credential: (!us).then(|| Credential::parse("ABC123456", "credential").expect("pac")),
        account: us.then(|| Account {
            number: AccountNumber::parse("9876543210", "n").expect("n"),
            pin: AccountPin::parse("4321", "p").expect("p"),
        }),
        requested_at: None,
    }
}

/// `(sequence, kind, at)` of each message.
pub fn summary(ms: &[HubMessage]) -> Vec<(u64, String, String)> {
    ms.iter()
        .map(|m| (m.sequence, m.event.kind().to_owned(), m.at.to_string()))
        .collect()
}

/// The receiver of hub messages: mutual TLS (the hub's client certificate), records
/// every message of each delivery it decodes (one, or a batch), answers the next
/// scripted status per delivery, then 204. A delivery with a message whose `reference`
/// is held ([`Receiver::hold`]) gets its answer only once released.
pub struct Receiver {
    addr: SocketAddr,
    seen: Arc<Mutex<Vec<HubMessage>>>,
    held: tokio::sync::watch::Sender<std::collections::HashSet<String>>,
    /// The references of the deliveries being held now.
    holding: tokio::sync::watch::Sender<std::collections::HashSet<String>>,
}

impl Receiver {
    async fn start(pki: &Pki, id: &Id, script: Vec<u16>) -> Self {
        let tls = conformance::identity_sim::server_tls_config(
            id.cert_pem.as_bytes(),
            id.key_pem.as_bytes(),
            Some(pki.ca_pem.as_bytes()),
        )
        .expect("receiver tls");
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let seen = Arc::new(Mutex::new(Vec::new()));
        let script = Arc::new(Mutex::new(VecDeque::from(script)));
        let acceptor = TlsAcceptor::from(tls);
        let recorded = Arc::clone(&seen);
        let held = tokio::sync::watch::Sender::new(std::collections::HashSet::new());
        let holds = held.clone();
        let holding = tokio::sync::watch::Sender::new(std::collections::HashSet::new());
        let waiting = holding.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let acceptor = acceptor.clone();
                let seen = Arc::clone(&recorded);
                let script = Arc::clone(&script);
                let holds = holds.clone();
                let waiting = waiting.clone();
                tokio::spawn(async move {
                    let Ok(tls) = acceptor.accept(stream).await else {
                        return;
                    };
                    let svc = service_fn(move |req: http::Request<hyper::body::Incoming>| {
                        let seen = Arc::clone(&seen);
                        let script = Arc::clone(&script);
                        let mut holds = holds.subscribe();
                        let waiting = waiting.clone();
                        async move {
                            let path_ok = req.uri().path() == adapters::porting::path::HUB_MESSAGES;
                            let body = req.into_body().collect().await?.to_bytes();
                            let status = match decode_delivery(&body) {
                                Ok(ms) if path_ok => {
                                    let references: Vec<String> = ms
                                        .iter()
                                        .filter_map(|(m, _)| m.reference.as_ref())
                                        .map(|r| r.as_str().to_owned())
                                        .collect();
                                    waiting.send_modify(|w| w.extend(references.iter().cloned()));
                                    let _ = holds
                                        .wait_for(|h| !references.iter().any(|r| h.contains(r)))
                                        .await;
                                    waiting.send_modify(|w| {
                                        for r in &references {
                                            w.remove(r);
                                        }
                                    });
                                    let status =
                                        script.lock().expect("lock").pop_front().unwrap_or(204);
                                    if status == 204 {
                                        seen.lock()
                                            .expect("lock")
                                            .extend(ms.into_iter().map(|(m, _)| m));
                                    }
                                    status
                                }
                                _ => 400,
                            };
                            let mut resp =
                                http::Response::new(http_body_util::Full::new(Bytes::new()));
                            *resp.status_mut() =
                                http::StatusCode::from_u16(status).expect("status");
                            Ok::<_, hyper::Error>(resp)
                        }
                    });
                    let _ = http1::Builder::new()
                        .serve_connection(TokioIo::new(tls), svc)
                        .await;
                });
            }
        });
        Self {
            addr,
            seen,
            held,
            holding,
        }
    }

    /// Holds the answers to messages about order `reference` until [`Receiver::release`].
    pub fn hold(&self, reference: &str) {
        self.held.send_modify(|h| {
            h.insert(reference.to_owned());
        });
    }

    /// Waits until a delivery with a message about `reference` has arrived and is being
    /// held (see [`Receiver::hold`]).
    pub async fn holding(&self, reference: &str) {
        let _ = self
            .holding
            .subscribe()
            .wait_for(|w| w.contains(reference))
            .await;
    }

    /// Answers the held messages about `reference`, and the later ones at once.
    pub fn release(&self, reference: &str) {
        self.held.send_modify(|h| {
            h.remove(reference);
        });
    }

    /// The receiver's callback base URL.
    pub fn url(&self) -> String {
        format!("https://localhost:{}", self.addr.port())
    }

    /// Every message answered 204, in arrival order.
    pub fn messages(&self) -> Vec<HubMessage> {
        self.seen.lock().expect("lock").clone()
    }
}
