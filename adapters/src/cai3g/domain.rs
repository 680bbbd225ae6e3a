//! Pure mapping between the HLR domain types and CAI3G wire values, and the comparisons
//! that make provisioning idempotent ("exists" is only success if the data are equal).

use super::codec::{AucSubscription, GetResult, HlrSubscription, KiWire};
use crate::hlr::{AucState, Barring, HlrState, KiMaterial, SubscriberSpec};
use sim_profiles::Msisdn;

/// The wire form of the key material.
pub(crate) fn ki_wire(ki: &KiMaterial) -> KiWire {
    match ki {
        KiMaterial::Clear(k) => KiWire::Clear(k.clone()),
        KiMaterial::Encrypted {
            ciphertext,
            a4ind,
            adkey,
        } => KiWire::Encrypted {
            ciphertext: ciphertext.clone(),
            a4ind: *a4ind,
            adkey: *adkey,
        },
    }
}

/// The domain form of wire key material.
pub(crate) fn ki_material(ki: &KiWire) -> KiMaterial {
    match ki {
        KiWire::Clear(k) => KiMaterial::Clear(k.clone()),
        KiWire::Encrypted {
            ciphertext,
            a4ind,
            adkey,
        } => KiMaterial::Encrypted {
            ciphertext: ciphertext.clone(),
            a4ind: *a4ind,
            adkey: *adkey,
        },
    }
}

/// The GsmAuc entry for `spec`. `spec.auth.opc` has no CAI3G field: the AUC holds OP per
/// `fsetind`, so it is deliberately not sent.
pub(crate) fn auc_body(spec: &SubscriberSpec) -> AucSubscription {
    AucSubscription {
        imsi: spec.imsi.clone(),
        ki: ki_wire(&spec.auth.ki),
        fsetind: spec.auth.fsetind,
    }
}

/// The GsmHlr subscription for `spec` with its number `msisdn`.
pub(crate) fn hlr_body(spec: &SubscriberSpec, msisdn: &Msisdn) -> HlrSubscription {
    HlrSubscription {
        imsi: spec.imsi.clone(),
        msisdn: msisdn.clone(),
        profile_id: spec.profile.profile_id,
        obo: spec.barring.outgoing,
        obi: spec.barring.incoming,
    }
}

/// True if a read-back AUC entry holds `spec`'s data. Fields the host withheld are not
/// compared: only what is known to differ counts as different.
pub(crate) fn auc_matches(spec: &SubscriberSpec, found: &GetResult) -> bool {
    let (imsi, ki, fsetind) = match found {
        GetResult::Auc(a) => (&a.imsi, Some(&a.ki), Some(a.fsetind)),
        GetResult::AucPartial { imsi, ki, fsetind } => (imsi, ki.as_ref(), *fsetind),
        GetResult::Hlr(_) => return false,
    };
    *imsi == spec.imsi
        && ki.is_none_or(|k| *k == ki_wire(&spec.auth.ki))
        && fsetind.is_none_or(|f| f == spec.auth.fsetind)
}

/// True if a read-back HLR subscription is `spec`'s (same IMSI, MSISDN and profile;
/// barring may legitimately have changed since). A spec without a number has none.
pub(crate) fn hlr_matches(spec: &SubscriberSpec, found: &HlrSubscription) -> bool {
    found.imsi == spec.imsi
        && spec.msisdn.as_ref() == Some(&found.msisdn)
        && found.profile_id == spec.profile.profile_id
}

/// The domain view of a read-back AUC entry (`None` for a result of the wrong kind).
pub(crate) fn auc_state(found: &GetResult) -> Option<AucState> {
    match found {
        GetResult::Auc(a) => Some(AucState {
            ki: Some(ki_material(&a.ki)),
            fsetind: Some(a.fsetind),
        }),
        GetResult::AucPartial { ki, fsetind, .. } => Some(AucState {
            ki: ki.as_ref().map(ki_material),
            fsetind: *fsetind,
        }),
        GetResult::Hlr(_) => None,
    }
}

/// The domain view of a read-back HLR subscription.
pub(crate) fn hlr_state(found: &HlrSubscription) -> HlrState {
    HlrState {
        msisdn: Some(found.msisdn.clone()),
        profile_id: Some(found.profile_id),
        barring: Barring {
            outgoing: found.obo,
            incoming: found.obi,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hlr::{AuthData, HlrProfile};
    use sim_profiles::Key128;

    fn msisdn() -> Msisdn {
        "491700000001".parse().expect("msisdn")
    }

    fn spec() -> SubscriberSpec {
        SubscriberSpec {
            imsi: "001010000000001".parse().expect("imsi"),
            msisdn: Some(msisdn()),
            auth: AuthData {
                ki: KiMaterial::Encrypted {
                    ciphertext: Key128::from_bytes([7; 16]),
                    a4ind: 2,
                    adkey: 9,
                },
                opc: Some(Key128::from_bytes([1; 16])),
                fsetind: 3,
            },
            profile: HlrProfile { profile_id: 46 },
            barring: Barring::default(),
        }
    }

    #[test]
    fn ki_mapping_round_trips() {
        for ki in [
            spec().auth.ki,
            KiMaterial::Clear(Key128::from_bytes([5; 16])),
        ] {
            assert_eq!(ki_material(&ki_wire(&ki)), ki);
        }
    }

    #[test]
    fn auc_comparison_uses_only_returned_fields() {
        let s = spec();
        let full = GetResult::Auc(auc_body(&s));
        assert!(auc_matches(&s, &full));
        let other_key = GetResult::Auc(AucSubscription {
            ki: KiWire::Clear(Key128::from_bytes([7; 16])),
            ..auc_body(&s)
        });
        assert!(!auc_matches(&s, &other_key));
        let other_fset = GetResult::Auc(AucSubscription {
            fsetind: 4,
            ..auc_body(&s)
        });
        assert!(!auc_matches(&s, &other_fset));
        let keyless = GetResult::AucPartial {
            imsi: s.imsi.clone(),
            ki: None,
            fsetind: Some(3),
        };
        assert!(auc_matches(&s, &keyless));
        let keyless_other = GetResult::AucPartial {
            imsi: s.imsi.clone(),
            ki: None,
            fsetind: Some(0),
        };
        assert!(!auc_matches(&s, &keyless_other));
        let nothing = GetResult::AucPartial {
            imsi: s.imsi.clone(),
            ki: None,
            fsetind: None,
        };
        assert!(auc_matches(&s, &nothing));
    }

    #[test]
    fn hlr_comparison_ignores_barring() {
        let s = spec();
        let mut found = hlr_body(&s, &msisdn());
        found.obo = true;
        assert!(hlr_matches(&s, &found));
        found.profile_id = 47;
        assert!(!hlr_matches(&s, &found));
        let moved = HlrSubscription {
            msisdn: "491700000002".parse().expect("msisdn"),
            ..hlr_body(&s, &msisdn())
        };
        assert!(!hlr_matches(&s, &moved));
        let numberless = SubscriberSpec {
            msisdn: None,
            ..spec()
        };
        assert!(!hlr_matches(&numberless, &hlr_body(&s, &msisdn())));
    }

    #[test]
    fn states_reflect_what_was_read() {
        let s = spec();
        let state = auc_state(&GetResult::Auc(auc_body(&s))).expect("auc");
        assert_eq!(state.ki, Some(s.auth.ki.clone()));
        assert_eq!(state.fsetind, Some(3));
        let h = HlrSubscription {
            obi: true,
            ..hlr_body(&s, &msisdn())
        };
        assert_eq!(
            hlr_state(&h).barring,
            Barring {
                outgoing: false,
                incoming: true
            }
        );
    }
}
