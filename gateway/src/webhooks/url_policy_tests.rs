//! Every class of address, and the URL forms, against the policy.

use super::*;

const STRICT: UrlPolicy = UrlPolicy {
    allow_private: false,
    sandbox: false,
};
const SANDBOX: UrlPolicy = UrlPolicy {
    allow_private: false,
    sandbox: true,
};
const PRIVATE_OK: UrlPolicy = UrlPolicy {
    allow_private: true,
    sandbox: false,
};

fn class(s: &str) -> Option<&'static str> {
    classify(s.parse().expect("address"))
}

#[test]
fn every_non_public_class_is_named() {
    let table: &[(&str, &str)] = &[
        ("0.0.0.0", "unspecified"),
        ("0.1.2.3", "unspecified"),
        ("127.0.0.1", "loopback"),
        ("127.255.0.9", "loopback"),
        ("10.0.0.1", "private"),
        ("172.16.0.1", "private"),
        ("172.31.255.255", "private"),
        ("192.168.1.1", "private"),
        ("169.254.169.254", "link-local"),
        ("100.64.0.1", "shared (CGNAT)"),
        ("100.127.255.254", "shared (CGNAT)"),
        ("192.0.0.8", "reserved (IETF protocol)"),
        ("192.0.2.1", "documentation"),
        ("198.51.100.7", "documentation"),
        ("203.0.113.9", "documentation"),
        ("198.18.0.1", "benchmarking"),
        ("224.0.0.1", "multicast"),
        ("239.255.255.250", "multicast"),
        ("240.0.0.1", "reserved"),
        ("255.255.255.255", "broadcast"),
        ("::", "unspecified"),
        ("::1", "loopback"),
        ("::ffff:127.0.0.1", "loopback"),
        ("::ffff:10.1.2.3", "private"),
        ("::ffff:169.254.169.254", "link-local"),
        ("::127.0.0.1", "reserved (IPv4-compatible)"),
        ("64:ff9b::10.0.0.1", "private"),
        ("2002:7f00:1::", "loopback"),
        ("2002:c0a8:101::1", "private"),
        ("2001::1", "reserved (Teredo)"),
        ("2001:db8::1", "documentation"),
        ("3fff::1", "documentation"),
        ("100::1", "reserved (discard)"),
        ("fc00::1", "unique-local"),
        ("fd12:3456::1", "unique-local"),
        ("fe80::1", "link-local"),
        ("fec0::1", "site-local"),
        ("ff02::1", "multicast"),
        ("4000::1", "reserved"),
    ];
    for (a, want) in table {
        assert_eq!(class(a), Some(*want), "{a}");
    }
}

#[test]
fn public_addresses_pass() {
    for a in [
        "1.1.1.1",
        "8.8.8.8",
        "172.32.0.1",
        "172.15.255.255",
        "100.63.255.255",
        "100.128.0.1",
        "192.169.0.1",
        "198.20.0.1",
        "223.255.255.255",
        "2606:4700:4700::1111",
        "2a00:1450:4001::200e",
        "::ffff:8.8.8.8",
        "64:ff9b::808:808",
        "2002:808:808::1",
    ] {
        assert_eq!(class(a), None, "{a}");
        assert_eq!(check_ip(a.parse().expect("addr"), STRICT), Ok(()), "{a}");
    }
}

#[test]
fn urls_with_internal_literals_are_refused_unless_allowed() {
    for url in [
        "https://127.0.0.1/hook",
        "https://[::1]:8443/hook",
        "https://10.0.0.1/",
        "https://169.254.169.254/latest/meta-data",
        "https://[::ffff:192.168.0.1]/x",
        "https://[fd00::1]/x",
        "https://localhost/x",
        "https://api.localhost:9000/x",
        "https://0.0.0.0/",
        "https://224.0.0.1/",
    ] {
        assert!(
            matches!(check_url(url, STRICT), Err(UrlError::Forbidden { .. })),
            "{url}: {:?}",
            check_url(url, STRICT)
        );
        if !url.contains("0.0.0.0") && !url.contains("224.") {
            assert!(
                check_url(url, PRIVATE_OK).is_ok(),
                "{url} with allow_private"
            );
        }
    }
}

#[test]
fn plain_http_only_to_loopback_in_the_sandbox() {
    for url in [
        "http://127.0.0.1:9000/hook",
        "http://localhost:9000/",
        "http://[::1]:9000/x",
    ] {
        let t = check_url(url, SANDBOX).expect("sandbox allows local http");
        assert!(!t.tls);
        assert!(
            matches!(check_url(url, STRICT), Err(UrlError::Invalid(_))),
            "{url}"
        );
    }
    for url in ["http://example.com/hook", "http://10.0.0.1/hook"] {
        assert!(
            matches!(check_url(url, SANDBOX), Err(UrlError::Invalid(_))),
            "{url}"
        );
    }
    // Private ranges stay closed in the sandbox: only loopback opens.
    assert!(matches!(
        check_url("https://10.0.0.1/", SANDBOX),
        Err(UrlError::Forbidden { .. })
    ));
    assert_eq!(
        check_ip("127.0.0.1".parse().expect("addr"), SANDBOX),
        Ok(())
    );
}

#[test]
fn url_syntax() {
    let t = check_url("https://Hooks.Example.com:8443/in?x=1", STRICT).expect("valid");
    assert_eq!(
        t,
        Target {
            tls: true,
            host: "hooks.example.com".into(),
            ip: None,
            port: 8443,
            path: "/in?x=1".into(),
        }
    );
    let t = check_url("https://example.com", STRICT).expect("valid");
    assert_eq!((t.port, t.path.as_str()), (443, "/"));
    let t = check_url("https://8.8.8.8?q", STRICT).expect("valid");
    assert_eq!(
        (t.ip, t.path.as_str()),
        (Some("8.8.8.8".parse().expect("ip")), "/?q")
    );
    for bad in [
        "",
        "ftp://example.com/",
        "example.com/hook",
        "https://",
        "https:///path",
        "https://user:pw@example.com/",
        "https://example.com/#frag",
        "https://example.com:0/",
        "https://example.com:99999/",
        "https://example.com:x/",
        "https://exa mple.com/",
        "https://exämple.com/",
        "https://[::1/",
        "https://[zz::1]/",
        "https://127.1/",
        "https://2130706433/",
        "https://0x7f.0.0.1/",
        "https://-bad-.example.com/",
        "https://a..b/",
    ] {
        assert!(
            matches!(check_url(bad, STRICT), Err(UrlError::Invalid(_))),
            "{bad:?}: {:?}",
            check_url(bad, STRICT)
        );
    }
    let long = format!("https://example.com/{}", "a".repeat(MAX_URL_LEN));
    assert!(matches!(
        check_url(&long, STRICT),
        Err(UrlError::Invalid(_))
    ));
}
