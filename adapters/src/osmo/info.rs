//! The `info-all` reply (newline-led `key<TAB>value` lines) as typed subscriber data, and
//! the comparisons provisioning and removal decide by. Pure; keys stay in [`Key128`].

use crate::hlr::SubscriberSpec;
use sim_profiles::Key128;

/// 3G authentication data as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Aud3g {
    /// Algorithm name as OsmoHLR prints it (`MILENAGE`).
    pub algo: String,
    /// The subscriber key K.
    pub k: Key128,
    /// OPc, if stored as OPc.
    pub opc: Option<Key128>,
    /// OP, if stored as OP.
    pub op: Option<Key128>,
}

/// One subscriber as `info-all` shows it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SubscriberInfo {
    /// The MSISDN, if set.
    pub msisdn: Option<String>,
    /// CS network access enabled.
    pub nam_cs: bool,
    /// PS network access enabled.
    pub nam_ps: bool,
    /// The 2G key (`aud2g.ki`), if 2G data is stored.
    pub aud2g_ki: Option<Key128>,
    /// 3G data, if stored.
    pub aud3g: Option<Aud3g>,
}

/// Why an `info-all` reply could not be read. Never echoes the reply (it holds keys).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("malformed info-all field {0}")]
pub struct InfoError(pub &'static str);

/// Parses an `info-all` (or `info`) value.
pub fn parse_info(text: &str) -> Result<SubscriberInfo, InfoError> {
    let mut info = SubscriberInfo::default();
    let (mut algo, mut k, mut opc, mut op) = (None, None, None, None);
    for line in text.split('\n').filter(|l| !l.is_empty()) {
        let Some((key, value)) = line.split_once('\t') else {
            continue;
        };
        match key {
            "msisdn" => info.msisdn = Some(value.to_owned()),
            "nam_cs" => info.nam_cs = flag(value, "nam_cs")?,
            "nam_ps" => info.nam_ps = flag(value, "nam_ps")?,
            "aud2g.ki" => info.aud2g_ki = Some(key128(value, "aud2g.ki")?),
            "aud3g.algo" => algo = Some(value.to_owned()),
            "aud3g.k" => k = Some(key128(value, "aud3g.k")?),
            "aud3g.opc" => opc = Some(key128(value, "aud3g.opc")?),
            "aud3g.op" => op = Some(key128(value, "aud3g.op")?),
            _ => {}
        }
    }
    info.aud3g = match (algo, k) {
        (Some(algo), Some(k)) => Some(Aud3g { algo, k, opc, op }),
        (None, None) => None,
        _ => return Err(InfoError("aud3g")),
    };
    Ok(info)
}

fn flag(value: &str, field: &'static str) -> Result<bool, InfoError> {
    match value {
        "1" => Ok(true),
        "0" => Ok(false),
        _ => Err(InfoError(field)),
    }
}

fn key128(value: &str, field: &'static str) -> Result<Key128, InfoError> {
    Key128::from_hex(value).map_err(|_| InfoError(field))
}

/// True if `aud3g` is Milenage with exactly this K and OPc.
pub fn aud3g_matches(aud3g: &Aud3g, k: &Key128, opc: &Key128) -> bool {
    aud3g.algo.eq_ignore_ascii_case("milenage")
        && &aud3g.k == k
        && aud3g.opc.as_ref() == Some(opc)
        && aud3g.op.is_none()
}

/// What provisioning still has to send for `spec`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Steps {
    /// Set the MSISDN (only ever true when the spec has one).
    pub msisdn: bool,
    /// Set the 3G auth data (this resets SQN: only when none is stored).
    pub aud3g: bool,
    /// Set `cs-enabled` to this value.
    pub cs: Option<bool>,
    /// Set `ps-enabled` to this value.
    pub ps: Option<bool>,
}

/// The steps that complete `current` (`None`: just created) into `spec`, or the reason
/// the stored data conflicts. Stored data is filled in, never overwritten: a number is
/// added to a subscriber without one, but a spec without a number never clears one.
pub fn provision_steps(
    spec: &SubscriberSpec,
    k: &Key128,
    opc: &Key128,
    current: Option<&SubscriberInfo>,
) -> Result<Steps, &'static str> {
    let enabled = !(spec.barring.outgoing || spec.barring.incoming);
    let Some(cur) = current else {
        return Ok(Steps {
            msisdn: spec.msisdn.is_some(),
            aud3g: true,
            cs: Some(enabled),
            ps: Some(enabled),
        });
    };
    let msisdn = match (cur.msisdn.as_deref(), &spec.msisdn) {
        (None, wanted) => wanted.is_some(),
        (Some(m), Some(wanted)) if m == wanted.as_str() => false,
        (Some(_), Some(_)) => return Err("subscriber exists with a different MSISDN"),
        (Some(_), None) => return Err("subscriber exists with an MSISDN; the order has none"),
    };
    if cur.aud2g_ki.is_some() {
        return Err("subscriber has 2G auth data, which this adapter never provisions");
    }
    let aud3g = match &cur.aud3g {
        None => true,
        Some(a) if aud3g_matches(a, k, opc) => false,
        Some(_) => return Err("subscriber exists with different authentication data"),
    };
    Ok(Steps {
        msisdn,
        aud3g,
        cs: (cur.nam_cs != enabled).then_some(enabled),
        ps: (cur.nam_ps != enabled).then_some(enabled),
    })
}

/// True if `cur` could have been written by provisioning `spec` (possibly partially):
/// only then may deprovisioning delete it. A stored number must be the spec's, so a spec
/// without one never removes a subscriber that holds a number.
pub fn is_ours(
    spec: &SubscriberSpec,
    keys: Option<(&Key128, &Key128)>,
    cur: &SubscriberInfo,
) -> bool {
    let msisdn_ok = match (cur.msisdn.as_deref(), &spec.msisdn) {
        (None, _) => true,
        (Some(m), Some(wanted)) => m == wanted.as_str(),
        (Some(_), None) => false,
    };
    let aud3g_ok = match (&cur.aud3g, keys) {
        (None, _) => true,
        (Some(a), Some((k, opc))) => aud3g_matches(a, k, opc),
        (Some(_), None) => false,
    };
    msisdn_ok && aud3g_ok && cur.aud2g_ki.is_none()
}

#[cfg(test)]
mod tests {
    use super::*;

    const K: &str = "465b5ce8b199b49faa5f0a2ee238a6bc";
    const OPC: &str = "cd63cb71954a9f4e48a5994e37a02baf";

    #[test]
    fn parses_observed_info_all() {
        let text = format!(
            "\nid\t1\nimsi\t001010000000001\nmsisdn\t12345\nnam_cs\t1\nnam_ps\t0\n\
             ms_purged_cs\t0\nlmsi\t00000000\naud3g.algo\tMILENAGE\naud3g.k\t{K}\n\
             aud3g.opc\t{OPC}\naud3g.ind_bitlen\t5\naud3g.sqn\t0"
        );
        let info = parse_info(&text).expect("parses");
        assert_eq!(info.msisdn.as_deref(), Some("12345"));
        assert!(info.nam_cs && !info.nam_ps);
        let k = Key128::from_hex(K).expect("hex");
        let opc = Key128::from_hex(OPC).expect("hex");
        assert!(
            info.aud3g
                .as_ref()
                .is_some_and(|a| aud3g_matches(a, &k, &opc))
        );
        assert!(
            !info
                .aud3g
                .as_ref()
                .is_some_and(|a| aud3g_matches(a, &opc, &k))
        );
    }

    #[test]
    fn no_msisdn_no_auth() {
        let info = parse_info("\nid\t2\nimsi\t001010000000002\nnam_cs\t1\nnam_ps\t1").expect("ok");
        assert_eq!(info.msisdn, None);
        assert_eq!(info.aud3g, None);
        assert_eq!(info.aud2g_ki, None);
    }

    fn spec(msisdn: Option<&str>) -> SubscriberSpec {
        use crate::hlr::{AuthData, Barring, HlrProfile, KiMaterial};
        SubscriberSpec {
            imsi: "001010000000001".parse().expect("imsi"),
            msisdn: msisdn.map(|m| m.parse().expect("msisdn")),
            auth: AuthData {
                ki: KiMaterial::Clear(Key128::from_hex(K).expect("hex")),
                opc: Some(Key128::from_hex(OPC).expect("hex")),
                fsetind: 0,
            },
            profile: HlrProfile { profile_id: 1 },
            barring: Barring::default(),
        }
    }

    fn stored(msisdn: Option<&str>) -> SubscriberInfo {
        let k = Key128::from_hex(K).expect("hex");
        let opc = Key128::from_hex(OPC).expect("hex");
        SubscriberInfo {
            msisdn: msisdn.map(str::to_owned),
            nam_cs: true,
            nam_ps: true,
            aud2g_ki: None,
            aud3g: Some(Aud3g {
                algo: "MILENAGE".into(),
                k,
                opc: Some(opc),
                op: None,
            }),
        }
    }

    #[test]
    fn a_number_is_filled_in_but_never_cleared_or_replaced() {
        let k = Key128::from_hex(K).expect("hex");
        let opc = Key128::from_hex(OPC).expect("hex");
        let steps = |s: &SubscriberSpec, cur: Option<&SubscriberInfo>| {
            provision_steps(s, &k, &opc, cur).map(|st| (st.msisdn, st.aud3g))
        };
        let (none, a) = (spec(None), spec(Some("491700000001")));
        assert_eq!(steps(&none, None), Ok((false, true)), "fresh, no number");
        assert_eq!(steps(&a, None), Ok((true, true)));
        assert_eq!(steps(&none, Some(&stored(None))), Ok((false, false)));
        assert_eq!(steps(&a, Some(&stored(None))), Ok((true, false)), "attach");
        assert_eq!(
            steps(&a, Some(&stored(Some("491700000001")))),
            Ok((false, false))
        );
        assert!(steps(&a, Some(&stored(Some("491700000002")))).is_err());
        assert!(
            steps(&none, Some(&stored(Some("491700000001")))).is_err(),
            "a spec without a number never takes one away"
        );
    }

    #[test]
    fn a_spec_without_a_number_owns_only_numberless_subscribers() {
        let k = Key128::from_hex(K).expect("hex");
        let opc = Key128::from_hex(OPC).expect("hex");
        let keys = Some((&k, &opc));
        assert!(is_ours(&spec(None), keys, &stored(None)));
        assert!(!is_ours(&spec(None), keys, &stored(Some("491700000001"))));
        assert!(is_ours(&spec(Some("491700000001")), keys, &stored(None)));
        assert!(is_ours(
            &spec(Some("491700000001")),
            keys,
            &stored(Some("491700000001"))
        ));
        assert!(!is_ours(
            &spec(Some("491700000001")),
            keys,
            &stored(Some("491700000002"))
        ));
    }

    #[test]
    fn bad_key_is_an_error_without_the_value() {
        let e = parse_info("\naud3g.algo\tMILENAGE\naud3g.k\tzz").expect_err("bad");
        assert_eq!(e.to_string(), "malformed info-all field aud3g.k");
    }
}
