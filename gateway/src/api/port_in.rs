//! `msisdn: {"mode": "port_in", …}` on `POST /v1/activations`: the request's shape, and
//! the checks a port-in passes before anything is reserved or reaches a hub, by the
//! tenant's market rules (`porting/`): the number must be portable there (China's MVNO
//! blocks never are: `422 number_not_portable`) and the credential must have the
//! market's format (`422 credential_invalid`, saying which format), and a requested date
//! must be one the market can port on (`422 invalid_requested_date`, naming the next
//! one). [`build`] then turns the request into the order's port part: the credential
//! sealed, the number the line runs on until cutover (a temporary one from the pool
//! where the market issues one, else none: the line waits), the credential's expiry and
//! the requested cutover.

use super::dto::{no_unknown, object, required, string};
use super::problem::ApiError;
use crate::compliance::Market;
use crate::crypto::Keyring;
use crate::engine::SealedCredential;
use crate::order::{PortIn, port_credential_context};
use crate::porting::{CredentialError, CredentialInput, Day, MarketPorting, schedule};
use crate::store::{NumberChoice, Tenant};
use serde_json::{Map, Value};
use sim_profiles::Msisdn;

/// A port-in request as sent. `Debug` shows no credential, account number or PIN.
#[derive(Clone, PartialEq, Eq)]
pub struct PortInRequest {
    /// The number to bring in.
    pub number: Msisdn,
    /// The donor operator.
    pub donor: String,
    /// The porting code (PAC, 授权码, RIO …).
    pub credential: Option<String>,
    /// The account number at the donor (US).
    pub account_number: Option<String>,
    /// The port-out PIN (US).
    pub pin: Option<String>,
    /// The day the customer asks for (`YYYY-MM-DD`).
    pub requested_date: Option<String>,
}

impl std::fmt::Debug for PortInRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mask = |v: &Option<String>| v.as_ref().map(|_| "***");
        f.debug_struct("PortInRequest")
            .field("number", &self.number)
            .field("donor", &self.donor)
            .field("credential", &mask(&self.credential))
            .field("account_number", &mask(&self.account_number))
            .field("pin", &mask(&self.pin))
            .field("requested_date", &self.requested_date)
            .finish()
    }
}

/// Parses the members of a `port_in` `msisdn` object.
pub fn parse(m: &Map<String, Value>) -> Result<PortInRequest, ApiError> {
    no_unknown(
        m,
        "msisdn",
        &[
            "mode",
            "number",
            "donor",
            "credential",
            "account",
            "requested_date",
        ],
    )?;
    let number = required(m, "number", "msisdn")?
        .parse::<Msisdn>()
        .map_err(|e| {
            ApiError::invalid(
                "invalid_msisdn",
                "msisdn.number",
                format!("`msisdn.number` is not a valid E.164 number: {e}"),
            )
        })?;
    let donor = required(m, "donor", "msisdn")?;
    if donor.is_empty() || donor.len() > 64 || !donor.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(ApiError::invalid(
            "invalid_value",
            "msisdn.donor",
            "`msisdn.donor` must name the current operator: 1 to 64 printable characters without spaces",
        ));
    }
    let (account_number, pin) = match m.get("account") {
        None | Some(Value::Null) => (None, None),
        Some(v) => {
            let a = object(v, "msisdn.account")?;
            no_unknown(a, "msisdn.account", &["number", "pin"])?;
            (
                string(a, "number", "msisdn.account")?.map(str::to_owned),
                string(a, "pin", "msisdn.account")?.map(str::to_owned),
            )
        }
    };
    let requested_date = string(m, "requested_date", "msisdn")?.map(str::to_owned);
    if let Some(d) = &requested_date {
        day_shape(d, "msisdn.requested_date")?;
    }
    Ok(PortInRequest {
        number,
        donor: donor.to_owned(),
        credential: string(m, "credential", "msisdn")?.map(str::to_owned),
        account_number,
        pin,
        requested_date,
    })
}

/// What the local checks of a port-in found: the market and its rules.
#[derive(Debug)]
pub struct Checked {
    /// The tenant's market.
    pub market: Market,
    /// Its rules with the operator's configuration.
    pub rules: MarketPorting,
}

/// The checks of a port-in for `tenant` under the operator's `[porting]` settings;
/// `Ok` means every local check passed.
pub fn check(
    config: &crate::config::PortingConfig,
    tenant: &Tenant,
    req: &PortInRequest,
) -> Result<Checked, ApiError> {
    let Some(market) = tenant.market else {
        return Err(ApiError::unsupported(
            "msisdn_mode_unsupported",
            "msisdn.mode",
            "a port-in follows the market's porting rules, and this tenant has no market: an operator sets it with `simgw tenant put --market cn|uk|us|eu-fr|eu-generic`",
        ));
    };
    let rules = config.market(market);
    rules.check_portable(&req.number).map_err(|e| {
        ApiError::unsupported(
            "number_not_portable",
            "msisdn.number",
            format!(
                "{e}; the customer keeps this number with their current operator: sell a new number instead (`msisdn.mode` `auto`)"
            ),
        )
    })?;
    let input = CredentialInput {
        code: req.credential.as_deref(),
        account_number: req.account_number.as_deref(),
        pin: req.pin.as_deref(),
    };
    rules
        .parse_credential(&input, &req.number)
        .map_err(|e| credential_refused(&e))?;
    Ok(Checked { market, rules })
}

/// Checks that `d` (member `field`) has the shape of a day, `YYYY-MM-DD`.
pub fn day_shape(d: &str, field: &'static str) -> Result<(), ApiError> {
    let shape = d.len() == 10
        && d.bytes().enumerate().all(|(i, b)| {
            if i == 4 || i == 7 {
                b == b'-'
            } else {
                b.is_ascii_digit()
            }
        });
    if shape {
        return Ok(());
    }
    Err(ApiError::invalid(
        "invalid_value",
        field,
        format!("`{field}` must be a day as YYYY-MM-DD"),
    ))
}

/// The requested cutover (Unix ms) of a requested day (member `field`), if the market
/// ports on it.
pub fn requested_at(
    rules: &MarketPorting,
    day: &str,
    now_ms: u64,
    field: &'static str,
) -> Result<u64, ApiError> {
    let parsed = (|| {
        let y = day.get(0..4)?.parse().ok()?;
        let m = day.get(5..7)?.parse().ok()?;
        let d = day.get(8..10)?.parse().ok()?;
        Day::from_ymd(y, m, d)
    })()
    .ok_or_else(|| {
        ApiError::invalid(
            "invalid_value",
            field,
            format!("`{field}` is not a calendar day (YYYY-MM-DD)"),
        )
    })?;
    schedule::schedule(rules, now_ms, Some(parsed))
        .map(|s| s.cutover_at)
        .map_err(|e| {
            ApiError::unsupported(
                "invalid_requested_date",
                field,
                format!(
                    "{e}; ask for another day (a port-in may leave `requested_date` out for the earliest)"
                ),
            )
        })
}

/// The order's port part for a checked request, and how its number is chosen until
/// cutover. The credential is sealed to the order.
pub fn build(
    keys: &Keyring,
    order_id: &str,
    req: &PortInRequest,
    checked: &Checked,
    now_ms: u64,
) -> Result<(NumberChoice, PortIn), ApiError> {
    let requested_at_ms = match &req.requested_date {
        Some(d) => Some(requested_at(
            &checked.rules,
            d,
            now_ms,
            "msisdn.requested_date",
        )?),
        None => None,
    };
    let plain = SealedCredential {
        code: req.credential.clone(),
        account_number: req.account_number.clone(),
        pin: req.pin.clone(),
    };
    let bytes =
        zeroize::Zeroizing::new(serde_json::to_vec(&plain).map_err(|_| ApiError::internal())?);
    let credential = keys
        .seal(&port_credential_context(order_id), &bytes)
        .map_err(|_| ApiError::internal())?;
    let port = PortIn::new(
        checked.market,
        req.number.clone(),
        req.donor.clone(),
        credential,
        schedule::credential_expires_at(&checked.rules, now_ms),
        requested_at_ms,
    );
    let number = if checked.rules.rules().temporary_number {
        NumberChoice::Auto
    } else {
        NumberChoice::Ported(req.number.clone())
    };
    Ok((number, port))
}

/// The answer to a port-in on a gateway with no porting hub configured.
pub fn not_enabled() -> ApiError {
    ApiError::unsupported(
        "msisdn_mode_unsupported",
        "msisdn.mode",
        "the port-in request passed every check, but this gateway has no porting hub configured (`[porting_hub] url`); sell a new number (`msisdn.mode` `auto`) or ask the operator to connect the hub",
    )
}

/// A credential refusal in the API's field names.
fn credential_refused(e: &CredentialError) -> ApiError {
    let api_field = |f: &str| match f {
        "account_number" => "msisdn.account.number",
        "pin" => "msisdn.account.pin",
        _ => "msisdn.credential",
    };
    let field = match e {
        CredentialError::Missing { field, .. }
        | CredentialError::Malformed { field, .. }
        | CredentialError::NotUsed { field, .. } => api_field(field),
        _ => "msisdn.credential",
    };
    let detail = e
        .to_string()
        .replace("`account_number`", "`msisdn.account.number`")
        .replace("`pin`", "`msisdn.account.pin`")
        .replace("`code`", "`msisdn.credential`");
    ApiError::unsupported("credential_invalid", field, detail)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::collections::BTreeMap;

    fn tenant(market: Option<Market>) -> Tenant {
        let mut t = Tenant::new("t", "T", "00101".parse().expect("plmn"), BTreeMap::new());
        t.market = market;
        t
    }

    fn req(v: Value) -> Result<PortInRequest, ApiError> {
        parse(v.as_object().expect("object"))
    }

    fn code(r: Result<(), ApiError>) -> (String, String, String) {
        let e = r.expect_err("refused");
        (
            e.code().to_owned(),
            e.field().unwrap_or_default().to_owned(),
            e.detail().to_owned(),
        )
    }

    #[test]
    fn the_shape_is_checked_and_secrets_stay_out_of_debug() {
        let r = req(json!({"mode": "port_in", "number": "447700900123", "donor": "EE", "credential": "ABC123456"}))
            .expect("valid");
        assert!(!format!("{r:?}").contains("ABC123456"));
        for (body, field) in [
            (json!({"mode": "port_in", "donor": "EE"}), "msisdn.number"),
            (
                json!({"mode": "port_in", "number": "447700900123"}),
                "msisdn.donor",
            ),
            (
                json!({"mode": "port_in", "number": "447700900123", "donor": "has space"}),
                "msisdn.donor",
            ),
            (
                json!({"mode": "port_in", "number": "447700900123", "donor": "EE", "requested_date": "3 May"}),
                "msisdn.requested_date",
            ),
            (
                json!({"mode": "port_in", "number": "447700900123", "donor": "EE", "pac": "x"}),
                "msisdn.pac",
            ),
        ] {
            let e = req(body).expect_err("refused");
            assert_eq!(e.field(), Some(field));
        }
    }

    #[test]
    fn a_china_mvno_number_is_never_portable() {
        let cfg = crate::config::PortingConfig::default();
        let r = req(json!({"mode": "port_in", "number": "8617012345678", "donor": "CMCC", "credential": "AB12CD"}))
            .expect("valid");
        let (c, f, d) = code(check(&cfg, &tenant(Some(Market::Cn)), &r).map(drop));
        assert_eq!(
            (c.as_str(), f.as_str()),
            ("number_not_portable", "msisdn.number")
        );
        assert!(d.contains("+86170") && d.contains("new number"), "{d}");
    }

    #[test]
    fn credentials_follow_the_market_and_name_the_api_field() {
        let cfg = crate::config::PortingConfig::default();
        let uk = tenant(Some(Market::Uk));
        let r = req(json!({"mode": "port_in", "number": "447700900123", "donor": "EE", "credential": "123456ABC"}))
            .expect("valid");
        let (c, f, d) = code(check(&cfg, &uk, &r).map(drop));
        assert_eq!(
            (c.as_str(), f.as_str()),
            ("credential_invalid", "msisdn.credential")
        );
        assert!(d.contains("STAC") && d.contains("PAC"), "{d}");
        assert!(!d.contains("123456ABC"), "{d}");
        let r = req(json!({"mode": "port_in", "number": "15555550123", "donor": "ATT", "account": {"number": "12345"}}))
            .expect("valid");
        let (c, f, _) = code(check(&cfg, &tenant(Some(Market::Us)), &r).map(drop));
        assert_eq!(
            (c.as_str(), f.as_str()),
            ("credential_invalid", "msisdn.account.pin")
        );
    }

    #[test]
    fn a_valid_port_in_passes_and_no_market_says_what_to_set() {
        let cfg = crate::config::PortingConfig::default();
        let r = req(json!({"mode": "port_in", "number": "447700900123", "donor": "EE", "credential": "ABC123456"}))
            .expect("valid");
        assert_eq!(
            check(&cfg, &tenant(Some(Market::Uk)), &r)
                .map(|c| c.market)
                .ok(),
            Some(Market::Uk)
        );
        let (c, _, d) = code(check(&cfg, &tenant(None), &r).map(drop));
        assert_eq!(c, "msisdn_mode_unsupported");
        assert!(d.contains("--market"), "{d}");
    }
}
