//! The verifier's own decision on a well-formed request, as a pure function of the
//! request, the settings and today's date: capture method, ID shape, name, expiry, then
//! the real-person evidence.

use super::id_shape::well_formed;
use adapters::identity::{Capture, CivilDate, Evidence, RejectCode, Verdict, VerificationRequest};

/// The face-match score at or above which a face check passes, by default.
pub const DEFAULT_FACE_THRESHOLD: f64 = 0.8;

/// Decides one request. Checks run in the order a counter clerk would meet them, and the
/// first failure is the answer.
pub(crate) fn decide(req: &VerificationRequest, face_threshold: f64, today: CivilDate) -> Verdict {
    use RejectCode::*;
    if req.capture == Capture::Manual && !req.requirements.manual_capture_allowed {
        return Verdict::Reject(IdCaptureMethodNotAllowed);
    }
    if !well_formed(req.id_type, &req.id_number, today) || !plausible_name(req.name.expose()) {
        return Verdict::Reject(IdentityMismatch);
    }
    if req.id_expiry.is_some_and(|d| d < today) {
        return Verdict::Reject(IdExpired);
    }
    match &req.evidence {
        None if req.requirements.evidence_required => Verdict::Reject(FaceCheckRequired),
        Some(Evidence::FaceMatch(f)) if f.score.get() < face_threshold || !f.liveness => {
            Verdict::Reject(FaceCheckFailed)
        }
        _ => Verdict::Pass,
    }
}

/// A name has at least one letter (the codec already refused blank ones).
fn plausible_name(name: &str) -> bool {
    name.chars().any(char::is_alphabetic)
}

#[cfg(test)]
mod tests {
    use super::*;
    use adapters::identity::{
        ChannelContext, FaceMatch, IdNumber, IdType, PersonName, Requirements, Score, Token,
    };

    fn today() -> CivilDate {
        CivilDate::new(2025, 6, 13).expect("date")
    }

    fn tok(s: &str) -> Token {
        Token::parse(s, "t").expect("token")
    }

    fn face(score: f64, liveness: bool) -> Option<Evidence> {
        Some(Evidence::FaceMatch(FaceMatch {
            transaction_id: tok("fm-1"),
            score: Score::new(score).expect("score"),
            liveness,
        }))
    }

    fn request() -> VerificationRequest {
        VerificationRequest {
            request_id: tok("r1"),
            name: PersonName::parse("张三").expect("name"),
            id_type: IdType::ResidentId,
            id_number: IdNumber::parse("11010519491231002X").expect("id"),
            nationality: None,
            id_expiry: CivilDate::new(2030, 1, 1),
            capture: Capture::CardReader {
                reader_serial: tok("R-1"),
                payload_ref: None,
            },
            evidence: face(0.93, true),
            channel: ChannelContext::default(),
            requirements: Requirements {
                evidence_required: true,
                manual_capture_allowed: false,
            },
        }
    }

    fn check(edit: impl FnOnce(&mut VerificationRequest), expected: Verdict) {
        let mut req = request();
        edit(&mut req);
        assert_eq!(decide(&req, DEFAULT_FACE_THRESHOLD, today()), expected);
    }

    #[test]
    fn each_check_in_turn() {
        use RejectCode::*;
        check(|_| {}, Verdict::Pass);
        check(|r| r.evidence = face(0.8, true), Verdict::Pass);
        check(
            |r| r.evidence = Some(Evidence::Video { id: tok("v") }),
            Verdict::Pass,
        );
        check(|r| r.id_expiry = CivilDate::new(2025, 6, 13), Verdict::Pass);
        check(
            |r| r.capture = Capture::Manual,
            Verdict::Reject(IdCaptureMethodNotAllowed),
        );
        check(
            |r| {
                r.capture = Capture::Manual;
                r.requirements.manual_capture_allowed = true;
            },
            Verdict::Pass,
        );
        check(
            |r| r.id_number = IdNumber::parse("110105194912310021").expect("id"),
            Verdict::Reject(IdentityMismatch),
        );
        check(
            |r| r.name = PersonName::parse("1234").expect("name"),
            Verdict::Reject(IdentityMismatch),
        );
        check(
            |r| r.id_expiry = CivilDate::new(2025, 6, 12),
            Verdict::Reject(IdExpired),
        );
        check(|r| r.evidence = None, Verdict::Reject(FaceCheckRequired));
        check(
            |r| {
                r.evidence = None;
                r.requirements.evidence_required = false;
            },
            Verdict::Pass,
        );
        check(
            |r| r.evidence = face(0.79, true),
            Verdict::Reject(FaceCheckFailed),
        );
        check(
            |r| r.evidence = face(0.99, false),
            Verdict::Reject(FaceCheckFailed),
        );
        // The first failing check decides.
        check(
            |r| {
                r.capture = Capture::Manual;
                r.evidence = None;
            },
            Verdict::Reject(IdCaptureMethodNotAllowed),
        );
    }
}
