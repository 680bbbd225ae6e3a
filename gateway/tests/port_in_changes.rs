//! A port-in after its submission, over HTTPS against the sandbox's UK tenant and its
//! porting hub simulator: a channel moves a scheduled port to another day (the hub
//! confirms; past the lock point it is refused); and the ported-in number's life after
//! its port (§1.6 `Completed`: `PortedIn{range_holder}`): the hub names the number's
//! range holder on `accepted`; when the line ends (terminate) or lets the number go
//! (number change), a `number_return` step gives it back to that range holder through
//! the hub, it never enters our quarantine or pools, and it may be ported in again.

mod common;

use common::market::{Client, next, quarantined, uk, uk_port};
use common::sandbox::shutdown;
use conformance::porting_sim::Behaviour;
use gateway::porting::Day;
use gateway::sandbox::Sandbox;
use serde_json::{Value, json};
use std::time::Duration;

/// Polls order `id` until its status is `want` (bounded; not a timing assertion).
async fn until_status(c: &Client, id: &str, want: &str) -> Value {
    for _ in 0..3_000 {
        let v = c.get(&format!("/v1/orders/{id}")).await;
        if v["status"] == want {
            return v;
        }
        assert_ne!(v["status"], "failed", "{v}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!(
        "{id} never reached {want}: {}",
        c.get(&format!("/v1/orders/{id}")).await
    );
}

/// Ports `number` in on `iccid` to completion (the hub's clock driven past the cutover);
/// returns the port's hub reference.
async fn port_in(sb: &Sandbox, c: &Client, iccid: &str, number: &str) -> String {
    let (s, o) = c.order(&uk_port(iccid, number)).await;
    assert_eq!(s, 202, "{o}");
    let id = o["id"].as_str().expect("id").to_owned();
    until_status(c, &id, "port_scheduled").await;
    sb.porting.sim.advance(Duration::from_secs(5 * 24 * 3600));
    let done = until_status(c, &id, "active").await;
    assert_eq!(done["msisdn"], number, "{done}");
    done["port"]["external_ref"]
        .as_str()
        .expect("port ref")
        .to_owned()
}

/// Runs lifecycle `op` on `msisdn` to its end.
async fn operate(c: &Client, msisdn: &str, op: &str, body: Value) -> Value {
    let path = format!("/v1/subscriptions/{msisdn}/{op}");
    let key = format!("ret-{}", next());
    let (s, o, _) = c
        .send(http::Method::POST, &path, Some(&key), Some(&body))
        .await;
    assert_eq!(s, 202, "{o}");
    let done = c
        .settle(&format!("/v1/orders/{}", o["id"].as_str().expect("id")))
        .await;
    assert_eq!(done["status"], "completed", "{done}");
    done
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ported_in_number_goes_back_to_its_range_holder_when_its_line_lets_it_go() {
    let dir = tempfile::tempdir().expect("tempdir");
    let sb = common::market::sandbox(dir.path()).await;
    let (c, iccids) = uk(&sb);
    let number = "447911000071";
    // The donor is EE, but the number was ported to EE before: its range is Vodafone's.
    sb.porting.sim.set_donor(
        Some(number),
        Behaviour {
            range_holder: Some(adapters::porting::Ref::parse("VODAFONE", "t").expect("ref")),
            ..Behaviour::default()
        },
    );
    let first = port_in(&sb, &c, &iccids[0], number).await;

    // Terminate: the HLR line goes, then the number is returned to its range holder
    // (not the donor), and it is not quarantined as one of ours.
    let done = operate(&c, number, "terminate", json!({})).await;
    let steps = done["steps"].as_array().expect("steps");
    assert!(steps.iter().any(|s| s["name"] == "number_return"), "{done}");
    let port = sb.porting.sim.port(&first).expect("port");
    assert_eq!(port.range_holder.as_deref(), Some("VODAFONE"));
    assert!(port.returned_at.is_some(), "{port:?}");
    assert!(!quarantined(&c).await.contains(&number.to_owned()));
    let returns: Vec<_> = sb
        .porting
        .sim
        .requests()
        .into_iter()
        .filter(|r| r.operation == "return_number")
        .collect();
    assert_eq!(returns.len(), 1, "{returns:?}");
    assert_eq!(returns[0].status, Some(202), "{returns:?}");
    // The number is nobody's here now: it cannot be chosen for a new line…
    let mut choose = uk_port(&iccids[1], number);
    choose["msisdn"] = json!({"mode": "choose", "msisdn": number});
    let (s, p) = c.order(&choose).await;
    assert_ne!(s, 202, "a returned number was assigned again: {p}");

    // …but the customer may bring it back by a new port (its donor's range holder is
    // now the operator that had it, as the hub says).
    sb.porting.sim.set_donor(Some(number), Behaviour::default());
    let second = port_in(&sb, &c, &iccids[1], number).await;
    assert_ne!(first, second);

    // A number change lets the ported-in number go the same way; the new number is ours.
    let changed = operate(
        &c,
        number,
        "number-change",
        json!({"msisdn": {"mode": "auto"}}),
    )
    .await;
    let new_number = changed["new_msisdn"]
        .as_str()
        .expect("new_msisdn")
        .to_owned();
    let port = sb.porting.sim.port(&second).expect("port");
    assert_eq!(port.range_holder.as_deref(), Some("EE"), "{port:?}");
    assert!(port.returned_at.is_some(), "{port:?}");
    assert!(!quarantined(&c).await.contains(&number.to_owned()));
    let line = c.get(&format!("/v1/subscriptions/{new_number}")).await;
    assert_eq!(line["state"], "active", "{line}");
    let (s, gone, _) = c
        .send(
            http::Method::GET,
            &format!("/v1/subscriptions/{number}"),
            None,
            None,
        )
        .await;
    assert_eq!(s, 404, "{gone}");
    shutdown(sb).await;
}

/// The day of an RFC 3339 time.
fn day_of(t: &str) -> Day {
    let n = |r: std::ops::Range<usize>| t.get(r).and_then(|s| s.parse().ok());
    n(0..4)
        .zip(n(5..7))
        .zip(n(8..10))
        .and_then(|((y, m), d)| Day::from_ymd(y, m as u8, d as u8))
        .expect("a day")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_channel_moves_a_scheduled_port_to_another_day_until_its_lock_point() {
    let dir = tempfile::tempdir().expect("tempdir");
    let sb = common::market::sandbox(dir.path()).await;
    let (c, iccids) = uk(&sb);
    let (s, o) = c.order(&uk_port(&iccids[0], "447911000081")).await;
    assert_eq!(s, 202, "{o}");
    let id = o["id"].as_str().expect("id").to_owned();
    let path = format!("/v1/orders/{id}/reschedule");
    let ask = |day: String| json!({"requested_date": day});
    let first = until_status(&c, &id, "port_scheduled").await;
    let promised = first["port"]["promised_at"]
        .as_str()
        .expect("promised_at")
        .to_owned();
    let ref_ = first["port"]["external_ref"]
        .as_str()
        .expect("ref")
        .to_owned();

    // Bad requests change nothing and say what to fix.
    for (body, code) in [
        (json!({}), "missing_field"),
        (json!({"requested_date": "next week"}), "invalid_value"),
        (json!({"requested_date": "2026-02-30"}), "invalid_value"),
        (
            json!({"requested_date": "2026-03-09", "x": 1}),
            "unknown_field",
        ),
    ] {
        let (s, p, _) = c.send(http::Method::POST, &path, None, Some(&body)).await;
        assert_eq!((s, p["code"].as_str()), (400, Some(code)), "{body} {p}");
    }
    // A day the market does not port on (a Sunday) is refused with the reason.
    let mut sunday = day_of(&promised).plus(7);
    while sunday.weekday() != gateway::porting::Weekday::Sunday {
        sunday = sunday.plus(1);
    }
    let (s, p, _) = c
        .send(
            http::Method::POST,
            &path,
            None,
            Some(&ask(sunday.to_string())),
        )
        .await;
    assert_eq!(
        (s, p["code"].as_str()),
        (422, Some("invalid_requested_date")),
        "{p}"
    );

    // A week later (the next day the calendar takes): the hub confirms with a new date.
    let mut day = day_of(&promised).plus(7);
    let accepted = loop {
        let (s, v, _) = c
            .send(http::Method::POST, &path, None, Some(&ask(day.to_string())))
            .await;
        if s == 202 {
            break v;
        }
        // A bank holiday in the sandbox's calendar: the next day.
        assert_eq!(
            (s, v["code"].as_str()),
            (422, Some("invalid_requested_date")),
            "{v}"
        );
        day = day.plus(1);
    };
    let asked = accepted["reschedule_requested"]
        .as_str()
        .expect("asked")
        .to_owned();
    assert_eq!(day_of(&asked), day, "{accepted}");
    let mut moved = Value::Null;
    for _ in 0..3_000 {
        moved = c.get(&format!("/v1/orders/{id}")).await;
        if moved["port"]["promised_at"] == asked.as_str() {
            break;
        }
        assert_ne!(
            moved["port"]["steps"]["reschedule"]["state"], "failed",
            "{moved}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(moved["port"]["promised_at"], asked.as_str(), "{moved}");
    assert_eq!(moved["status"], "port_scheduled");
    let at_hub = sb.porting.sim.port(&ref_).expect("port at the hub");
    assert_eq!(at_hub.due_at.as_deref(), Some(asked.as_str()));
    let reschedules: Vec<_> = sb
        .porting
        .sim
        .requests()
        .into_iter()
        .filter(|r| r.operation == "reschedule")
        .collect();
    assert_eq!(reschedules.len(), 1, "{reschedules:?}");

    // Past the lock point the date no longer moves.
    let lock_at = moved["port"]["lock_at"]
        .as_str()
        .expect("lock_at")
        .to_owned();
    sb.porting
        .sim
        .set_time(adapters::porting::UtcTime::parse(&lock_at, "t").expect("time"))
        .expect("clock");
    until_status(&c, &id, "port_locked").await;
    let (s, p, _) = c
        .send(
            http::Method::POST,
            &path,
            None,
            Some(&ask(day.plus(7).to_string())),
        )
        .await;
    assert_eq!((s, p["code"].as_str()), (409, Some("port_locked")), "{p}");

    // Only a port-in has a date to move.
    let (s, line) = c
        .order(&json!({
            "sim": {"type": "physical", "iccid": iccids[1]},
            "product": "sandbox-basic",
            "channel": {"kind": "store", "store_id": "SZ-0042", "terminal_id": "T7", "staff_id": "C1"},
            "msisdn": {"mode": "auto"}
        }))
        .await;
    assert_eq!(s, 202, "{line}");
    let plain = format!("/v1/orders/{}/reschedule", line["id"].as_str().expect("id"));
    let (s, p, _) = c
        .send(
            http::Method::POST,
            &plain,
            None,
            Some(&ask(day.to_string())),
        )
        .await;
    assert_eq!(
        (s, p["code"].as_str()),
        (409, Some("order_not_reschedulable")),
        "{p}"
    );
    shutdown(sb).await;
}
