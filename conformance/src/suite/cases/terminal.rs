//! `terminal.*`: the store terminal (`/terminal/`, docs/terminal.md), over the wire as a
//! browser and an operator reach it: the page's security headers, and pairing, its
//! cookie and CSRF rules and revoke, against the `cn` market tenant's store `SZ-0042`,
//! terminal `T7`. Pairing signs out any browser paired as `T7` before: run it against a
//! sandbox, not a gateway a store is selling on.

use crate::suite::ctx::{Auth, Ctx};
use http::Method;
use serde_json::{Value, json};

/// `GET /terminal/`: the page, with a strict Content-Security-Policy and no framing.
pub(super) async fn page_headers(ctx: &Ctx) -> Result<(), String> {
    let r = ctx.send_raw(Method::GET, "/terminal/", &[], None).await?;
    r.expect_status(200)?;
    if !r.mime().starts_with("text/html") {
        return Err(format!(
            "{}: expected text/html, got `{}`",
            r.what,
            r.mime()
        ));
    }
    let csp = r
        .header("content-security-policy")
        .ok_or_else(|| format!("{}: no Content-Security-Policy", r.what))?;
    for want in ["script-src 'self'", "frame-ancestors 'none'"] {
        if !csp.contains(want) {
            return Err(format!("{}: the CSP lacks `{want}`: {csp}", r.what));
        }
    }
    if csp.contains("unsafe-inline") || csp.contains("unsafe-eval") {
        return Err(format!("{}: the CSP allows inline or eval: {csp}", r.what));
    }
    if !r
        .header("x-frame-options")
        .is_some_and(|v| v.eq_ignore_ascii_case("DENY"))
    {
        return Err(format!("{}: X-Frame-Options is not DENY", r.what));
    }
    Ok(())
}

/// The cookie of `name` a reply sets, with its attributes.
fn set_cookie(r: &crate::suite::reply::Reply, name: &str) -> Option<String> {
    r.response
        .headers
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with(&format!("{name}=")))
        .map(str::to_owned)
}

/// A bad code is refused; an operator's code pairs once, with an HttpOnly, Secure,
/// SameSite=Strict session cookie; a state-changing call without the CSRF token is
/// refused; after the operator's revoke the session is refused.
pub(super) async fn pairing(ctx: &Ctx) -> Result<(), String> {
    let key = &super::compliance::market(ctx)?.api_key;
    let pair = |code: &str| json!({"code": code});
    ctx.send_raw(
        Method::POST,
        "/terminal/api/pair",
        &[],
        Some(&pair("0000-0000")),
    )
    .await?
    .expect_problem(401, "pairing_code_invalid")?;
    let created = ctx
        .send(
            Method::POST,
            "/v1/terminal/pairings",
            Auth::Key(key),
            Some(&json!({"store_id": "SZ-0042", "terminal_id": "T7"})),
        )
        .await?
        .expect_json(201)?;
    let code = created["code"]
        .as_str()
        .ok_or("the pairing has no `code`")?
        .to_owned();
    let r = ctx
        .send_raw(Method::POST, "/terminal/api/pair", &[], Some(&pair(&code)))
        .await?;
    let session = r.expect_json(200)?;
    let cookie = set_cookie(&r, "__Host-simgw-device")
        .ok_or_else(|| format!("{}: no __Host-simgw-device cookie", r.what))?;
    for flag in ["HttpOnly", "Secure", "SameSite=Strict", "Path=/"] {
        if !cookie.contains(flag) {
            return Err(format!("the device cookie lacks `{flag}`"));
        }
    }
    ctx.send_raw(Method::POST, "/terminal/api/pair", &[], Some(&pair(&code)))
        .await?
        .expect_problem(401, "pairing_code_invalid")?;
    let jar = cookie.split(';').next().unwrap_or_default().to_owned();
    let with_cookie = [("cookie", jar.clone())];
    let s = ctx
        .send_raw(Method::GET, "/terminal/api/session", &with_cookie, None)
        .await?
        .expect_json(200)?;
    if s["csrf_token"] != session["csrf_token"] || s["store"] != "SZ-0042" {
        return Err(format!("the session does not match the pairing: {s}"));
    }
    let sign_in = json!({"clerk": "C1", "pin": "000000"});
    ctx.send_raw(
        Method::POST,
        "/terminal/api/sign-in",
        &with_cookie,
        Some(&sign_in),
    )
    .await?
    .expect_problem(403, "csrf_token_invalid")?;
    let _: Value = ctx
        .send(
            Method::POST,
            "/v1/terminal/devices/SZ-0042/T7/revoke",
            Auth::Key(key),
            None,
        )
        .await?
        .expect_json(200)?;
    ctx.send_raw(Method::GET, "/terminal/api/session", &with_cookie, None)
        .await?
        .expect_problem(401, "terminal_not_paired")?;
    Ok(())
}
