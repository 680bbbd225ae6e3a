//! The HLR simulator's admin changes behind the gateway's back: `PUT`/`DELETE
//! /sim/subscribers/{imsi}` and `PUT /sim/subscribers/{imsi}/msisdn`.

use adapters::http::HttpClient;
use bytes::Bytes;
use conformance::hlr_sim::{self, HlrSimConfig, KiWire};
use http::Method;
use sim_profiles::{Imsi, Msisdn};

const IMSI: &str = "001010000000007";
const KI: &str = "465B5CE8B199B49FAA5F0A2EE238A6BC";

async fn send(c: &HttpClient, method: Method, url: &str, body: &str) -> u16 {
    let headers = [("content-type", "application/json".to_owned())];
    c.request(method, url, &headers, Bytes::from(body.to_owned()))
        .await
        .expect("admin call")
        .status
}

#[tokio::test]
async fn subscribers_are_created_renumbered_and_deleted_out_of_band() {
    let mut cfg = HlrSimConfig::new("u", "p");
    cfg.listen = "127.0.0.1:0".parse().expect("addr");
    let sim = hlr_sim::start(cfg).await.expect("simulator");
    let c = HttpClient::builder().build().expect("client");
    let base = format!("http://{}/sim/subscribers", sim.addr());
    let imsi: Imsi = IMSI.parse().expect("imsi");
    let one = format!(r#"{{"msisdn": "4915100000001", "profile_id": 46, "ki": "{KI}"}}"#);

    assert_eq!(
        send(&c, Method::PUT, &format!("{base}/{IMSI}"), &one).await,
        204
    );
    let hlr = sim.hlr(&imsi).expect("HLR subscription");
    assert_eq!(hlr.msisdn.as_str(), "4915100000001");
    assert_eq!((hlr.profile_id, hlr.obo, hlr.obi), (46, false, false));
    match sim.auc(&imsi).expect("AUC entry").ki {
        KiWire::Clear(k) => assert_eq!(k.expose_hex(), KI),
        other => panic!("expected a clear Ki, got {other:?}"),
    }
    // The IMSI exists; another IMSI may not take a held number.
    assert_eq!(
        send(&c, Method::PUT, &format!("{base}/{IMSI}"), &one).await,
        409
    );
    let other = format!("{base}/001010000000008");
    assert_eq!(send(&c, Method::PUT, &other, &one).await, 409);
    assert!(
        sim.auc(&"001010000000008".parse().expect("imsi")).is_none(),
        "a refused create leaves nothing behind"
    );

    let renumber = format!("{base}/{IMSI}/msisdn");
    let to = r#"{"msisdn": "4915100000002"}"#;
    assert_eq!(send(&c, Method::PUT, &renumber, to).await, 204);
    let want: Msisdn = "4915100000002".parse().expect("msisdn");
    assert_eq!(sim.hlr(&imsi).expect("hlr").msisdn, want);
    let absent = format!("{base}/001010000000009/msisdn");
    assert_eq!(send(&c, Method::PUT, &absent, to).await, 404);

    assert_eq!(
        send(&c, Method::DELETE, &format!("{base}/{IMSI}"), "").await,
        204
    );
    assert!(sim.subscribers().is_empty());
    assert_eq!(
        send(&c, Method::DELETE, &format!("{base}/{IMSI}"), "").await,
        404
    );
    assert_eq!(
        send(&c, Method::PUT, &format!("{base}/not-an-imsi"), &one).await,
        400
    );
    assert_eq!(
        send(&c, Method::GET, &format!("{base}/{IMSI}"), "").await,
        405
    );
    sim.shutdown().await;
}
