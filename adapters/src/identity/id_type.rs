//! The identity documents accepted for real-name registration, and their wire names. One
//! type for the whole workspace: the gateway's `subscriber.id_type`, the verifier
//! protocol's `subject.id_type` and the simulator all use it.

use serde::{Deserialize, Serialize};

/// An identity document type. The Chinese list is MIIT Order No. 25's (reference §1.1);
/// the last three are the generic documents of the other markets.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IdType {
    /// 居民身份证: the mainland resident ID card (2nd generation, 18 characters).
    ResidentId,
    /// 临时居民身份证: temporary resident ID, same number as the resident ID.
    TemporaryResidentId,
    /// 户口簿: household register, showing the holder's citizen ID number.
    HouseholdRegister,
    /// 港澳居民来往内地通行证: Hong Kong/Macao residents' travel permit (H/M + digits).
    HkMacaoTravelPermit,
    /// 台湾居民来往大陆通行证: Taiwan residents' travel permit.
    TaiwanTravelPermit,
    /// 港澳台居民居住证: residence permit for Hong Kong, Macao and Taiwan residents
    /// (18 characters, starting 810000, 820000 or 830000).
    HkMacaoTaiwanResidencePermit,
    /// 外国人永久居留身份证: foreigner's permanent-residence ID (15 or 18 characters).
    ForeignPermanentResidentId,
    /// A passport (any issuing state; `nationality` names it).
    Passport,
    /// A national identity card (EU and others).
    NationalId,
    /// A residence permit (other markets).
    ResidencePermit,
    /// A driving licence (UK, US).
    DrivingLicence,
}

impl IdType {
    /// Every type, in the order of the documentation.
    pub const ALL: [Self; 11] = [
        Self::ResidentId,
        Self::TemporaryResidentId,
        Self::HouseholdRegister,
        Self::HkMacaoTravelPermit,
        Self::TaiwanTravelPermit,
        Self::HkMacaoTaiwanResidencePermit,
        Self::ForeignPermanentResidentId,
        Self::Passport,
        Self::NationalId,
        Self::ResidencePermit,
        Self::DrivingLicence,
    ];

    /// The stable snake_case wire name (the JSON value, also serde's).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ResidentId => "resident_id",
            Self::TemporaryResidentId => "temporary_resident_id",
            Self::HouseholdRegister => "household_register",
            Self::HkMacaoTravelPermit => "hk_macao_travel_permit",
            Self::TaiwanTravelPermit => "taiwan_travel_permit",
            Self::HkMacaoTaiwanResidencePermit => "hk_macao_taiwan_residence_permit",
            Self::ForeignPermanentResidentId => "foreign_permanent_resident_id",
            Self::Passport => "passport",
            Self::NationalId => "national_id",
            Self::ResidencePermit => "residence_permit",
            Self::DrivingLicence => "driving_licence",
        }
    }

    /// The type with this wire name.
    pub fn from_wire(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == s)
    }

    /// Whether the number is unique only within its issuing state, so the holder's
    /// nationality must go with it.
    pub fn needs_issuer(self) -> bool {
        matches!(
            self,
            Self::Passport | Self::NationalId | Self::ResidencePermit | Self::DrivingLicence
        )
    }

    /// Whether the number follows the mainland citizen layout (GB 11643-1999: region,
    /// birth date, sequence, check character) for every number of the type. The 2023
    /// foreigner's card does too, but only in its 18-character form.
    pub fn citizen_layout(self) -> bool {
        matches!(
            self,
            Self::ResidentId
                | Self::TemporaryResidentId
                | Self::HouseholdRegister
                | Self::HkMacaoTaiwanResidencePermit
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for t in IdType::ALL {
            assert_eq!(IdType::from_wire(t.as_str()), Some(t));
            let json = serde_json::to_string(&t).expect("json");
            assert_eq!(json, format!("\"{}\"", t.as_str()));
            let back: IdType = serde_json::from_str(&json).expect("back");
            assert_eq!(back, t);
        }
        assert_eq!(IdType::from_wire("hk_macau_travel_permit"), None);
    }

    #[test]
    fn the_names_the_contract_fixes() {
        assert_eq!(IdType::ResidentId.as_str(), "resident_id");
        assert_eq!(IdType::Passport.as_str(), "passport");
    }
}
