//! Southbound requests built from persisted orders, as pure functions: the HLR
//! subscriber spec (keys already opened by the caller) and the ES2+ requests. No IO and no
//! clock, so what the engine sends for any order is tested without a peer.

use super::KiWrap;
use super::error::EngineError;
use super::machine::Es2Call;
use crate::order::{Line, Order, ProfileFate, Step};
use adapters::es2plus::{
    CancelOrderRequest, ConfirmOrderRequest, ConfirmationCode, DownloadOrderRequest,
    FinalProfileStatus, MatchingId, ProfileSelector, ReleaseProfileRequest, RequestHeader,
};
use adapters::hlr::{AuthData, Barring, HlrProfile, KiMaterial, SubscriberSpec};
use sim_profiles::Key128;

/// The line an activation order creates: its card and number, unbarred.
pub fn line_of_order(order: &Order) -> Line {
    Line {
        iccid: order.iccid.clone(),
        imsi: order.imsi.clone(),
        msisdn: Some(order.msisdn.clone()),
        hlr_profile_id: order.hlr_profile_id,
        barred: false,
    }
}

/// The AUC's key material: Ki in clear, or wrapped under the HLR's transport key.
pub fn ki_material(
    ki: Key128,
    wrap: Option<&KiWrap>,
    order_id: &str,
) -> Result<KiMaterial, EngineError> {
    let Some(w) = wrap else {
        return Ok(KiMaterial::Clear(ki));
    };
    let ciphertext = w
        .cipher
        .encrypt_key(&ki)
        .map_err(|e| EngineError::unusable(order_id, format!("cannot wrap Ki for the HLR: {e}")))?;
    Ok(KiMaterial::Encrypted {
        ciphertext,
        a4ind: w.a4ind,
        adkey: w.adkey,
    })
}

/// The subscriber spec of `line` with its card's opened keys.
pub fn subscriber_spec(
    line: &Line,
    ki: KiMaterial,
    opc: Option<Key128>,
    fsetind: u8,
) -> SubscriberSpec {
    SubscriberSpec {
        imsi: line.imsi.clone(),
        msisdn: line.msisdn.clone(),
        auth: AuthData { ki, opc, fsetind },
        profile: HlrProfile {
            profile_id: line.hlr_profile_id,
        },
        barring: Barring {
            outgoing: line.barred,
            incoming: line.barred,
        },
    }
}

/// An ES2+ request of an order's step.
#[derive(Clone, Debug)]
pub enum Es2Request {
    /// DownloadOrder (first or again).
    Download(DownloadOrderRequest),
    /// ConfirmOrder with releaseFlag.
    Confirm(ConfirmOrderRequest),
    /// ReleaseProfile, to verify a refused ConfirmOrder repeat.
    Release(ReleaseProfileRequest),
    /// CancelOrder.
    Cancel(CancelOrderRequest),
}

/// The request of `call` for `order`, with the call id persisted on the order and the
/// confirmation code opened by the caller.
pub fn es2_request(
    order: &Order,
    call: Es2Call,
    requester_id: &str,
    cc: Option<ConfirmationCode>,
) -> Result<Es2Request, EngineError> {
    let Some(e) = order.esim.as_ref() else {
        return Err(EngineError::unusable(
            &order.id,
            "the order lost its eSIM part",
        ));
    };
    let header = RequestHeader::new(
        requester_id.to_owned(),
        e.last_call_id.clone().unwrap_or_default(),
    );
    let matching_id = matching_id(order)?;
    Ok(match call {
        Es2Call::Download | Es2Call::Reorder => Es2Request::Download(DownloadOrderRequest {
            header,
            eid: e.eid.clone(),
            profile: ProfileSelector::Iccid(order.iccid.clone()),
        }),
        Es2Call::Confirm => Es2Request::Confirm(ConfirmOrderRequest {
            header,
            iccid: order.iccid.clone(),
            eid: e.eid.clone(),
            matching_id: Some(matching_id),
            confirmation_code: cc,
            smds_address: None,
            release_flag: true,
        }),
        Es2Call::Release => Es2Request::Release(ReleaseProfileRequest {
            header,
            iccid: order.iccid.clone(),
        }),
        Es2Call::Cancel => Es2Request::Cancel(CancelOrderRequest {
            header,
            iccid: order.iccid.clone(),
            eid: e.eid.clone(),
            // Only a confirmed order has bound the profile to our MatchingID.
            matching_id: (!matches!(e.confirm, Step::Pending)).then_some(matching_id),
            final_profile_status_indicator: match e.fate {
                Some(ProfileFate::Retire) => FinalProfileStatus::Unavailable,
                _ => FinalProfileStatus::Available,
            },
        }),
    })
}

/// The order's MatchingID, checked.
pub fn matching_id(order: &Order) -> Result<MatchingId, EngineError> {
    let raw = order.esim.as_ref().map_or("", |e| e.matching_id.as_str());
    MatchingId::new(raw).map_err(|_| EngineError::unusable(&order.id, "invalid MatchingID"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::machine::fixture_order;
    use crate::order::EsimOrder;

    fn esim_order() -> Order {
        let mut o = fixture_order();
        o.esim = Some(EsimOrder::new("P".into(), None, "ABCD-1234".into(), None));
        if let Some(e) = o.esim.as_mut() {
            e.last_call_id = Some("act_x-download-1".into());
        }
        o
    }

    #[test]
    fn a_line_of_an_order_carries_its_number_unbarred() {
        let o = fixture_order();
        let spec = subscriber_spec(
            &line_of_order(&o),
            KiMaterial::Clear(Key128::from_bytes([1; 16])),
            None,
            7,
        );
        assert_eq!(spec.imsi, o.imsi);
        assert_eq!(spec.msisdn, Some(o.msisdn.clone()));
        assert_eq!(spec.profile.profile_id, o.hlr_profile_id);
        assert_eq!(spec.barring, Barring::default());
        assert_eq!(spec.auth.fsetind, 7);
    }

    #[test]
    fn download_names_the_card_and_the_persisted_call_id() {
        let Es2Request::Download(r) =
            es2_request(&esim_order(), Es2Call::Download, "gw", None).expect("request")
        else {
            panic!("not a DownloadOrder");
        };
        assert_eq!(r.profile, ProfileSelector::Iccid(fixture_order().iccid));
        assert_eq!(r.header.function_call_identifier, "act_x-download-1");
    }

    #[test]
    fn cancel_binds_the_matching_id_only_after_a_confirm_and_retires_as_unavailable() {
        let mut o = esim_order();
        let Es2Request::Cancel(r) = es2_request(&o, Es2Call::Cancel, "gw", None).expect("req")
        else {
            panic!("not a CancelOrder");
        };
        assert!(r.matching_id.is_none());
        assert_eq!(
            r.final_profile_status_indicator,
            FinalProfileStatus::Available
        );
        let e = o.esim.as_mut().expect("esim");
        e.confirm = Step::Sent { attempt: 1 };
        e.fate = Some(ProfileFate::Retire);
        let Es2Request::Cancel(r) = es2_request(&o, Es2Call::Cancel, "gw", None).expect("req")
        else {
            panic!("not a CancelOrder");
        };
        assert_eq!(
            r.matching_id.map(|m| m.as_str().to_owned()).as_deref(),
            Some("ABCD-1234")
        );
        assert_eq!(
            r.final_profile_status_indicator,
            FinalProfileStatus::Unavailable
        );
    }

    #[test]
    fn a_physical_order_has_no_es2_request() {
        assert!(matches!(
            es2_request(&fixture_order(), Es2Call::Download, "gw", None),
            Err(EngineError::Unusable { .. })
        ));
    }
}
