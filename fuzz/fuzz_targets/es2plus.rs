//! The ES2+ decoders (SGP.22 v2.2, Operator ⇄ SM-DP+): every input goes through the four
//! request decoders (what the SM-DP+ simulator reads), the three response decoders and the
//! HandleDownloadProgressInfo notification decoder (what the gateway reads), and, as text,
//! the Activation Code parser. Nothing may panic, and whatever decodes must survive its
//! encoder: decode → encode → decode gives the same value (for requests in both ICCID
//! forms), and a `Failed` answer re-encoded by the simulator's `encode_failure` decodes to
//! the same error.

#![no_main]

use adapters::es2plus::{
    ActivationCode, ConfirmOrderResponse, DownloadOrderResponse, Es2Error, FunctionExecutionStatus,
    HeaderOnly, IccidForm, ResponseBody, StatusCodeData, decode_cancel_order_request,
    decode_confirm_order_request, decode_download_order_request, decode_notification,
    decode_release_profile_request, decode_response, encode_cancel_order_with,
    encode_confirm_order_with, encode_download_order_with, encode_failure, encode_notification,
    encode_release_profile_with, encode_response,
};
use libfuzzer_sys::fuzz_target;
use std::fmt::Debug;

const FORMS: [IccidForm; 2] = [IccidForm::Canonical, IccidForm::FPadded];

/// `decode(encode(v)) == v` for each ICCID form.
fn requests_round_trip<T: PartialEq + Debug>(
    data: &[u8],
    decode: fn(&[u8]) -> Result<T, Es2Error>,
    encode: fn(&T, IccidForm) -> Vec<u8>,
) {
    if let Ok(req) = decode(data) {
        for form in FORMS {
            assert_eq!(decode(&encode(&req, form)).as_ref(), Ok(&req), "{form:?}");
        }
    }
}

/// A response decodes to a success that re-encodes to itself, or to an error; a `Failed`
/// error re-encoded as the simulator would send it gives the same error.
fn response_round_trips<T: ResponseBody + PartialEq + Debug>(data: &[u8]) {
    match decode_response::<T>(200, data) {
        Ok(resp) => assert_eq!(decode_response::<T>(200, &encode_response(&resp)), Ok(resp)),
        Err(err @ Es2Error::Failed { .. }) => {
            let Es2Error::Failed {
                status,
                subject_code,
                reason_code,
                subject_identifier,
                message,
                ..
            } = err.clone()
            else {
                return;
            };
            assert!(!status.is_success());
            let fes = FunctionExecutionStatus {
                status,
                status_code_data: Some(StatusCodeData {
                    subject_code,
                    reason_code,
                    subject_identifier,
                    message,
                }),
            };
            assert_eq!(
                decode_response::<T>(200, &encode_failure(&fes)).map(|_| ()),
                Err(err)
            );
        }
        Err(_) => {}
    }
}

fuzz_target!(|data: &[u8]| {
    // What the SM-DP+ (simulator) reads.
    requests_round_trip(
        data,
        decode_download_order_request,
        encode_download_order_with,
    );
    requests_round_trip(
        data,
        decode_confirm_order_request,
        encode_confirm_order_with,
    );
    requests_round_trip(data, decode_cancel_order_request, encode_cancel_order_with);
    requests_round_trip(
        data,
        decode_release_profile_request,
        encode_release_profile_with,
    );

    // What the gateway reads: the answers to its calls, and the notifications.
    response_round_trips::<DownloadOrderResponse>(data);
    response_round_trips::<ConfirmOrderResponse>(data);
    response_round_trips::<HeaderOnly>(data);
    assert!(matches!(
        decode_response::<HeaderOnly>(500, data),
        Err(Es2Error::HttpStatus { status: 500 })
    ));
    if let Ok(n) = decode_notification(data) {
        let again = decode_notification(&encode_notification(&n));
        assert_eq!(again, Ok(n));
    }

    // Activation Codes come back from ConfirmOrder's SM-DP+ and from imports.
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(ac) = text.parse::<ActivationCode>() {
            assert_eq!(ac.to_string().parse::<ActivationCode>().as_ref(), Ok(&ac));
            assert_eq!(ac.to_qr_string().parse::<ActivationCode>(), Ok(ac));
        }
    }
});
