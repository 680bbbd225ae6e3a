//! Whether an ID number is well-formed for its document type, as a verifier checks before
//! it looks the person up. Pure; nothing here prints or returns the number.
//!
//! The shape and check-character rules are the workspace's one set
//! (`adapters::identity::id_format`, GB 11643-1999 for the 18-character numbers). A
//! verifier knows two more things the gateway does not check: that a resident ID's region
//! code names a province, and that nobody was born after today.

use adapters::identity::{CivilDate, IdNumber, IdType, id_format};

/// Whether `id` is well-formed for `id_type`, with any birth date it encodes on or before
/// `today`.
pub(crate) fn well_formed(id_type: IdType, id: &IdNumber, today: CivilDate) -> bool {
    let citizen = matches!(
        id_type,
        IdType::ResidentId | IdType::TemporaryResidentId | IdType::HouseholdRegister
    );
    id.check(id_type).is_ok()
        && (!citizen || id_format::known_region(id.expose()))
        && id.birth_date(id_type).is_none_or(|born| born <= today)
}

#[cfg(test)]
mod tests {
    use super::*;
    use adapters::identity::id_format::mod11_2_check;

    fn today() -> CivilDate {
        CivilDate::new(2025, 6, 13).expect("date")
    }

    fn ok(t: IdType, s: &str) -> bool {
        well_formed(t, &IdNumber::parse(s).expect("shape"), today())
    }

    /// Completes 17 digits with their check character.
    fn with_check(body: &str) -> String {
        let c = mod11_2_check(body.as_bytes());
        format!("{body}{}", char::from(c))
    }

    #[test]
    fn resident_id_check_digit_and_birth_date() {
        // The worked example of GB 11643-1999.
        assert!(ok(IdType::ResidentId, "11010519491231002X"));
        assert!(ok(IdType::ResidentId, "11010519491231002x"));
        assert!(ok(IdType::HouseholdRegister, "11010519491231002X"));
        assert!(ok(
            IdType::TemporaryResidentId,
            &with_check("44030420000229123")
        ));
        assert!(!ok(IdType::ResidentId, "110105194912310021"));
        for body in [
            "44030420010229123", // 29 February of a common year
            "44030420300101123", // born after today
            "99030419900101123", // no such province
        ] {
            assert!(!ok(IdType::ResidentId, &with_check(body)), "{body}");
        }
        // Born today is fine.
        assert!(ok(IdType::ResidentId, &with_check("44030420250613123")));
    }

    #[test]
    fn permits_and_passports() {
        assert!(ok(
            IdType::HkMacaoTaiwanResidencePermit,
            &with_check("81000019900101123")
        ));
        assert!(!ok(
            IdType::HkMacaoTaiwanResidencePermit,
            &with_check("81000020300101123")
        ));
        assert!(ok(IdType::ForeignPermanentResidentId, "USA123456789012"));
        assert!(ok(
            IdType::ForeignPermanentResidentId,
            &with_check("93000019900101123")
        ));
        assert!(!ok(
            IdType::ForeignPermanentResidentId,
            &with_check("93000020300101123")
        ));
        assert!(ok(IdType::HkMacaoTravelPermit, "H12345678"));
        assert!(!ok(IdType::HkMacaoTravelPermit, "X12345678"));
        assert!(ok(IdType::TaiwanTravelPermit, "12345678"));
        assert!(ok(IdType::Passport, "E12345678"));
        assert!(!ok(IdType::Passport, "ABCDEFGH"));
        assert!(ok(IdType::DrivingLicence, "MORGA753116SM9IJ"));
    }
}
