//! Problems of the store terminal's calls (`/terminal/api/…`, docs/terminal.md). Their
//! `detail` is for the clerk's screen as much as for a developer: the page shows its own
//! translated text for each `code`, and this text where it has none.

use super::ApiError;
use axum::http::StatusCode;

impl ApiError {
    /// 401: no device session, or one the operator revoked, a new pairing replaced, or
    /// whose terminal or store was disabled.
    pub fn terminal_not_paired() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "terminal_not_paired",
            "This terminal is not paired",
            "pair this terminal again with a new pairing code from your operator",
        )
    }

    /// 401: a pairing code that is unknown, expired or already used.
    pub fn pairing_code_invalid() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "pairing_code_invalid",
            "Pairing code not accepted",
            "the code is wrong, expired (codes last 10 minutes) or already used; ask your operator for a new one",
        )
    }

    /// 401: the call needs a signed-in clerk.
    pub fn clerk_not_signed_in() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "clerk_not_signed_in",
            "No clerk is signed in",
            "sign in with your clerk ID and PIN",
        )
    }

    /// 401: wrong clerk id or PIN; `left` tries before a lock-out.
    pub fn clerk_sign_in_failed(left: u8) -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "clerk_sign_in_failed",
            "Clerk ID or PIN is wrong",
            format!(
                "check the clerk ID and PIN; {left} more wrong {} will lock this clerk for 15 minutes",
                if left == 1 { "try" } else { "tries" }
            ),
        )
        .with("tries_left", serde_json::Value::from(left))
    }

    /// 423: locked out after repeated wrong PINs, until `until` (RFC 3339).
    pub fn clerk_locked(until: &str, retry_after_s: u32) -> Self {
        let mut e = Self::new(
            StatusCode::LOCKED,
            "clerk_locked",
            "Clerk locked out",
            format!(
                "too many wrong PINs: this clerk can sign in again at {until}; a supervisor can set a new PIN sooner"
            ),
        )
        .with("locked_until", serde_json::Value::from(until));
        e.retry_after = Some(retry_after_s);
        e
    }

    /// 403: the clerk (or their store) is disabled in the channel registry.
    pub fn clerk_disabled() -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "clerk_disabled",
            "Clerk disabled",
            "this clerk may not sell here; ask your operator to enable the clerk in the channel registry",
        )
    }

    /// 403: after-sales on the terminal needs a supervisor clerk.
    pub fn clerk_not_supervisor() -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "clerk_not_supervisor",
            "A supervisor must do this",
            "suspending a line or swapping its SIM on the store terminal needs a supervisor; ask one to sign in, or your operator to make you one (`terminal_role`)",
        )
    }

    /// 403: a state-changing call without the session's CSRF token.
    pub fn csrf_token_invalid() -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "csrf_token_invalid",
            "Missing or wrong CSRF token",
            "send the `csrf_token` of `GET /terminal/api/session` in the `X-CSRF-Token` header; reload the page if it keeps failing",
        )
    }

    /// 403: a golden number picked on the terminal of a tenant that keeps them from stores.
    pub fn golden_number_not_offered() -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "golden_number_not_offered",
            "Golden numbers are not sold in stores",
            "this tenant does not offer golden numbers in stores; pick another number or let the gateway choose",
        )
        .at("msisdn")
    }

    /// 404: no unused, unexpired hold this terminal took with that id.
    pub fn hold_not_found() -> Self {
        Self::not_found("hold_not_found", "unused, unexpired hold of this terminal")
    }

    /// 404: no sale of this terminal with that id.
    pub fn sale_not_found() -> Self {
        Self::not_found("order_not_found", "sale of this terminal")
    }

    /// 404: the registry has no such terminal (or store) for the tenant.
    pub fn terminal_not_registered(store: &str, terminal: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "terminal_not_registered",
            "Terminal not registered",
            format!(
                "store `{store}` has no enabled terminal `{terminal}`; register it first with `PUT /v1/channels/devices/{store}/{terminal}` and {{\"type\": \"terminal\"}}"
            ),
        )
    }
}
