//! Which webhook URLs and addresses the gateway will post to (server-side request
//! forgery). Checked when an endpoint is created (syntax, scheme, literal addresses) and
//! again on every delivery for each address the name resolves to; the dispatcher then
//! connects to the address it checked, so a DNS answer that changes (rebinding) cannot
//! steer a delivery inside. Pure functions.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// What the configuration allows.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct UrlPolicy {
    /// `[webhooks] allow_private`: private, loopback and other internal addresses are
    /// allowed (a gateway whose receivers are on an internal network).
    pub allow_private: bool,
    /// `serve --sandbox`: plain `http://` to loopback (a developer's local receiver).
    pub sandbox: bool,
}

/// A checked webhook URL, split for the connector.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    /// `https` (or `http` to loopback in the sandbox).
    pub tls: bool,
    /// The host as written (a name, or an address without brackets).
    pub host: String,
    /// The literal address, when the host is one.
    pub ip: Option<IpAddr>,
    /// The port (default 443 / 80).
    pub port: u16,
    /// Path and query, at least `/`.
    pub path: String,
}

/// Why a URL or an address is refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum UrlError {
    /// Not a usable absolute URL.
    #[error("{0}")]
    Invalid(String),
    /// An address (or name) of a class the gateway never posts to.
    #[error("{what} is a {class} address; webhooks go only to public addresses{hint}")]
    Forbidden {
        /// The address or name.
        what: String,
        /// The class (`loopback`, `private`, ...).
        class: &'static str,
        /// How to allow it, if it can be.
        hint: &'static str,
    },
}

/// Longest URL accepted.
pub const MAX_URL_LEN: usize = 2048;

/// Checks a URL's syntax and scheme, and its host when it is an address or `localhost`.
pub fn check_url(url: &str, policy: UrlPolicy) -> Result<Target, UrlError> {
    let invalid = |m: &str| UrlError::Invalid(m.to_owned());
    if url.len() > MAX_URL_LEN {
        return Err(invalid("the URL is longer than 2048 characters"));
    }
    if url.bytes().any(|b| !b.is_ascii_graphic()) {
        return Err(invalid(
            "the URL may hold only visible ASCII characters (percent-encode the rest)",
        ));
    }
    let (tls, rest) = if let Some(r) = url.strip_prefix("https://") {
        (true, r)
    } else if let Some(r) = url.strip_prefix("http://") {
        (false, r)
    } else {
        return Err(invalid("the URL must start with https://"));
    };
    let split = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(split);
    if tail.contains('#') {
        return Err(invalid("the URL may not have a fragment (#…)"));
    }
    if authority.contains('@') {
        return Err(invalid("the URL may not carry credentials (user@host)"));
    }
    let (host, port) = split_host_port(authority)?;
    let port = port.unwrap_or(if tls { 443 } else { 80 });
    let ip = parse_ip_host(&host)?;
    let path = if tail.is_empty() {
        "/".to_owned()
    } else if tail.starts_with('?') {
        format!("/{tail}")
    } else {
        tail.to_owned()
    };
    let name_is_loopback = ip.is_none() && is_localhost_name(&host);
    let loopback = ip.is_some_and(|a| classify(a) == Some("loopback")) || name_is_loopback;
    if !(tls || policy.sandbox && loopback) {
        return Err(invalid(if policy.sandbox {
            "the URL must start with https:// (plain http:// only to 127.0.0.1, [::1] or localhost in the sandbox)"
        } else {
            "the URL must start with https://"
        }));
    }
    if let Some(a) = ip {
        check_ip(a, policy)?;
    } else if name_is_loopback && !(policy.allow_private || policy.sandbox) {
        return Err(UrlError::Forbidden {
            what: host,
            class: "loopback",
            hint: HINT,
        });
    } else if !is_dns_name(&host) {
        return Err(invalid(
            "the URL's host is not a valid DNS name or IP address",
        ));
    }
    Ok(Target {
        tls,
        host,
        ip,
        port,
        path,
    })
}

const HINT: &str = " (set `[webhooks] allow_private = true` for receivers on an internal network)";

/// Checks one address the URL's host stands for (literal or resolved).
pub fn check_ip(ip: IpAddr, policy: UrlPolicy) -> Result<(), UrlError> {
    match classify(ip) {
        None => Ok(()),
        Some(_) if policy.allow_private => Ok(()),
        Some("loopback") if policy.sandbox => Ok(()),
        Some(class) => Err(UrlError::Forbidden {
            what: ip.to_string(),
            class,
            hint: if matches!(class, "multicast" | "broadcast" | "unspecified") {
                ""
            } else {
                HINT
            },
        }),
    }
}

/// The class of a non-public address, `None` for a public (globally routed) one. An
/// address that embeds an IPv4 address (IPv4-mapped, NAT64, 6to4, Teredo) is judged
/// by the IPv4 address it reaches.
pub fn classify(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(a) => classify_v4(a),
        IpAddr::V6(a) => classify_v6(a),
    }
}

fn classify_v4(a: Ipv4Addr) -> Option<&'static str> {
    let o = a.octets();
    let n = u32::from(a);
    let within = |net: u32, bits: u32| n >> (32 - bits) == net >> (32 - bits);
    Some(match o {
        [0, ..] => "unspecified",
        [127, ..] => "loopback",
        [10, ..] => "private",
        [172, b, ..] if (16..32).contains(&b) => "private",
        [192, 168, ..] => "private",
        [169, 254, ..] => "link-local",
        [100, b, ..] if (64..128).contains(&b) => "shared (CGNAT)",
        [192, 0, 0, _] => "reserved (IETF protocol)",
        [192, 0, 2, _] | [198, 51, 100, _] | [203, 0, 113, _] => "documentation",
        [198, b, ..] if b == 18 || b == 19 => "benchmarking",
        [255, 255, 255, 255] => "broadcast",
        [224..=239, ..] => "multicast",
        [240..=255, ..] => "reserved",
        _ if within(0xC058_6300, 24) => "reserved (6to4 relay)",
        _ => return None,
    })
}

fn classify_v6(a: Ipv6Addr) -> Option<&'static str> {
    let s = a.segments();
    if a.is_unspecified() {
        return Some("unspecified");
    }
    if a.is_loopback() {
        return Some("loopback");
    }
    let embedded = |hi: u16, lo: u16| Ipv4Addr::from((u32::from(hi) << 16) | u32::from(lo));
    Some(match s {
        // IPv4-mapped ::ffff:a.b.c.d reaches the embedded IPv4 address.
        [0, 0, 0, 0, 0, 0xffff, hi, lo] => return classify_v4(embedded(hi, lo)),
        // The deprecated IPv4-compatible ::a.b.c.d.
        [0, 0, 0, 0, 0, 0, _, _] => "reserved (IPv4-compatible)",
        // NAT64 64:ff9b::/96 reaches the embedded IPv4 address.
        [0x64, 0xff9b, 0, 0, 0, 0, hi, lo] => return classify_v4(embedded(hi, lo)),
        // 6to4 2002:a.b.c.d::/48.
        [0x2002, hi, lo, ..] => return classify_v4(embedded(hi, lo)),
        [0x2001, 0, ..] => "reserved (Teredo)",
        [0x2001, 0xdb8, ..] => "documentation",
        [0x3fff, b, ..] if b < 0x1000 => "documentation",
        [0x100, 0, 0, 0, ..] => "reserved (discard)",
        [x, ..] if x & 0xfe00 == 0xfc00 => "unique-local",
        [x, ..] if x & 0xffc0 == 0xfe80 => "link-local",
        [x, ..] if x & 0xffc0 == 0xfec0 => "site-local",
        [x, ..] if x & 0xff00 == 0xff00 => "multicast",
        [x, ..] if x & 0xe000 != 0x2000 => "reserved",
        _ => return None,
    })
}

fn split_host_port(authority: &str) -> Result<(String, Option<u16>), UrlError> {
    let invalid = |m: &str| UrlError::Invalid(m.to_owned());
    let (host, port) = if let Some(rest) = authority.strip_prefix('[') {
        let end = rest
            .find(']')
            .ok_or_else(|| invalid("the URL's IPv6 address lacks its closing `]`"))?;
        let after = &rest[end + 1..];
        let port = match after {
            "" => None,
            p => Some(
                p.strip_prefix(':')
                    .ok_or_else(|| invalid("the URL's host is malformed"))?,
            ),
        };
        (format!("[{}]", &rest[..end]), port)
    } else {
        match authority.rsplit_once(':') {
            Some((h, p)) => (h.to_owned(), Some(p)),
            None => (authority.to_owned(), None),
        }
    };
    if host.is_empty() || host == "[]" {
        return Err(invalid("the URL has no host"));
    }
    let port = match port {
        None => None,
        Some(p) => Some(
            p.parse::<u16>()
                .ok()
                .filter(|p| *p != 0 && !p.to_string().is_empty())
                .ok_or_else(|| invalid("the URL's port must be a number from 1 to 65535"))?,
        ),
    };
    Ok((host.to_ascii_lowercase(), port))
}

/// The address a host names literally (`[v6]` or dotted IPv4); refuses the ambiguous
/// IPv4 forms (`127.1`, `0x7f.0.0.1`, `2130706433`) some resolvers accept.
fn parse_ip_host(host: &str) -> Result<Option<IpAddr>, UrlError> {
    if let Some(inner) = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        return inner
            .parse::<Ipv6Addr>()
            .map(|a| Some(IpAddr::V6(a)))
            .map_err(|_| UrlError::Invalid("the URL's IPv6 address is malformed".into()));
    }
    if let Ok(a) = host.parse::<Ipv4Addr>() {
        return Ok(Some(IpAddr::V4(a)));
    }
    let last = host.rsplit('.').next().unwrap_or(host);
    if !last.is_empty() && (last.bytes().all(|b| b.is_ascii_digit()) || last.starts_with("0x")) {
        return Err(UrlError::Invalid(
            "the URL's host looks like an IPv4 address but is not in dotted-quad form".into(),
        ));
    }
    Ok(None)
}

fn is_localhost_name(host: &str) -> bool {
    let h = host.trim_end_matches('.');
    h == "localhost" || h.ends_with(".localhost")
}

fn is_dns_name(host: &str) -> bool {
    let h = host.strip_suffix('.').unwrap_or(host);
    h.len() <= 253
        && h.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
}

#[cfg(test)]
#[path = "url_policy_tests.rs"]
mod tests;
