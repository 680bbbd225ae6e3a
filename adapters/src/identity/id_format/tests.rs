use super::*;

/// A valid citizen number with the given 17 leading digits.
fn with_check(first17: &str) -> String {
    let c = char::from(mod11_2_check(first17.as_bytes()));
    format!("{first17}{c}")
}

#[test]
fn published_check_digits() {
    // GB 11643-1999's worked example and a well-known X-ending sample.
    assert_eq!(mod11_2_check(b"11010519491231002"), b'X');
    assert_eq!(mod11_2_check(b"44052418800101001"), b'4');
    assert_eq!(check(IdType::ResidentId, "11010519491231002X"), Ok(()));
    assert_eq!(
        check(IdType::HouseholdRegister, "11010519491231002X"),
        Ok(())
    );
    assert_eq!(
        check(IdType::ResidentId, "440524188001010014"),
        Err(IdFormatError::BirthDate)
    );
    // Every other check character is refused.
    for c in "0123456789".chars() {
        assert_eq!(
            check(IdType::ResidentId, &format!("11010519491231002{c}")),
            Err(IdFormatError::CheckDigit),
            "{c}"
        );
    }
    // A transposition of two digits changes the check character.
    assert_eq!(
        check(IdType::ResidentId, "11010519491213002X"),
        Err(IdFormatError::CheckDigit)
    );
}

#[test]
fn citizen_numbers() {
    let ok = with_check("11010119900307451");
    for t in [
        IdType::ResidentId,
        IdType::TemporaryResidentId,
        IdType::HouseholdRegister,
    ] {
        assert_eq!(check(t, &ok), Ok(()), "{t:?}");
    }
    let mut bad = ok.clone().into_bytes();
    bad[17] = if bad[17] == b'0' { b'1' } else { b'0' };
    let bad = String::from_utf8(bad).expect("ascii");
    assert_eq!(
        check(IdType::ResidentId, &bad),
        Err(IdFormatError::CheckDigit)
    );
    for body in [
        "11010119900230451", // 30 February
        "11010119000229451", // 1900 is not a leap year
        "44030420010229123", // 29 February of a common year
        "44030419001301123", // month 13
        "44030418991231123", // before 1900
        "44030421000101123", // after 2099
    ] {
        assert_eq!(
            check(IdType::ResidentId, &with_check(body)),
            Err(IdFormatError::BirthDate),
            "{body}"
        );
    }
    let leap = with_check("11010120000229451");
    assert_eq!(check(IdType::ResidentId, &leap), Ok(()));
    assert!(matches!(
        check(IdType::ResidentId, "1101011990030745"),
        Err(IdFormatError::Shape(_))
    ));
    assert!(matches!(
        check(IdType::ResidentId, "11010119900307451A"),
        Err(IdFormatError::Shape(_))
    ));
    assert!(matches!(
        check(IdType::ResidentId, "A1010519491231002X"),
        Err(IdFormatError::Shape(_))
    ));
}

#[test]
fn other_chinese_documents() {
    let hk = with_check("81000019900307451");
    assert_eq!(check(IdType::HkMacaoTaiwanResidencePermit, &hk), Ok(()));
    let mainland = with_check("11010119900307451");
    assert!(matches!(
        check(IdType::HkMacaoTaiwanResidencePermit, &mainland),
        Err(IdFormatError::Shape(_))
    ));
    assert_eq!(
        check(IdType::ForeignPermanentResidentId, "USA110090031912"),
        Ok(())
    );
    let fpr18 = with_check("93310019900307451");
    assert_eq!(check(IdType::ForeignPermanentResidentId, &fpr18), Ok(()));
    assert!(check(IdType::ForeignPermanentResidentId, "12345").is_err());
    assert!(check(IdType::ForeignPermanentResidentId, "US1234567890123").is_err());
    assert_eq!(check(IdType::HkMacaoTravelPermit, "H12345678"), Ok(()));
    assert_eq!(check(IdType::HkMacaoTravelPermit, "M1234567801"), Ok(()));
    assert!(check(IdType::HkMacaoTravelPermit, "X12345678").is_err());
    assert!(check(IdType::HkMacaoTravelPermit, "H1234567").is_err());
    assert!(check(IdType::HkMacaoTravelPermit, "H").is_err());
    assert_eq!(check(IdType::TaiwanTravelPermit, "12345678"), Ok(()));
    assert!(check(IdType::TaiwanTravelPermit, "1234567").is_err());
    assert!(check(IdType::TaiwanTravelPermit, "T2345678").is_err());
}

#[test]
fn generic_documents() {
    assert_eq!(check(IdType::Passport, "E12345678"), Ok(()));
    assert!(check(IdType::Passport, "ABCDEFGH").is_err(), "no digit");
    assert!(check(IdType::Passport, "E12").is_err());
    assert_eq!(check(IdType::DrivingLicence, "MORGA753116SM9IJ"), Ok(()));
    assert!(check(IdType::NationalId, &"1".repeat(25)).is_err());
}

#[test]
fn birth_dates_where_the_number_has_one() {
    let id = "11010519491231002X";
    assert_eq!(
        birth_date(IdType::ResidentId, id),
        CivilDate::new(1949, 12, 31)
    );
    let hk = with_check("81000019900307451");
    assert_eq!(
        birth_date(IdType::HkMacaoTaiwanResidencePermit, &hk),
        CivilDate::new(1990, 3, 7)
    );
    let fpr18 = with_check("93310019900307451");
    assert_eq!(
        birth_date(IdType::ForeignPermanentResidentId, &fpr18),
        CivilDate::new(1990, 3, 7)
    );
    assert_eq!(
        birth_date(IdType::ForeignPermanentResidentId, "USA110090031912"),
        None
    );
    assert_eq!(birth_date(IdType::Passport, "E12345678"), None);
}

#[test]
fn regions() {
    assert!(known_region("11010519491231002X"));
    assert!(known_region(&with_check("81000019900307451")));
    assert!(!known_region(&with_check("99030419900101123")));
    assert!(!known_region("E12345678"));
    assert!(!known_region(""));
}

#[test]
fn normalisation() {
    assert_eq!(
        normalise(" 1101 0119-9003 07451x ")
            .as_deref()
            .map(String::as_str),
        Ok("11010119900307451X")
    );
    assert_eq!(
        normalise("１１０１ｘ").as_deref().map(String::as_str),
        Ok("1101X"),
        "full-width forms"
    );
    assert_eq!(
        normalise("e1234\u{3000}5678")
            .as_deref()
            .map(String::as_str),
        Ok("E12345678")
    );
    assert_eq!(normalise(" - "), Err(IdFormatError::Empty));
    assert_eq!(normalise("12/34"), Err(IdFormatError::BadCharacter));
    assert_eq!(normalise("一二三"), Err(IdFormatError::BadCharacter));
    assert_eq!(normalise(&"1".repeat(65)), Err(IdFormatError::TooLong));
}

#[test]
fn masking() {
    assert_eq!(mask("110101199003071234"), "1101**********1234");
    assert_eq!(mask("E12345678"), "E******78");
    assert_eq!(mask("12345"), "*****");
    assert_eq!(mask(""), "");
}

#[test]
fn errors_never_echo() {
    for e in [
        IdFormatError::Empty,
        IdFormatError::TooLong,
        IdFormatError::BadCharacter,
        IdFormatError::Shape(FPR_SHAPE),
        IdFormatError::BirthDate,
        IdFormatError::CheckDigit,
    ] {
        assert!(!e.to_string().contains("1101"), "{e}");
    }
}

proptest::proptest! {
    #[test]
    fn never_panics(s in "\\PC{0,80}", t in 0usize..11) {
        if let Ok(n) = normalise(&s) {
            proptest::prop_assert!(n.len() <= MAX_RAW_LEN);
            proptest::prop_assert!(n.bytes().all(|b| b.is_ascii_digit() || b.is_ascii_uppercase()));
            let _ = check(IdType::ALL[t], &n);
            let _ = birth_date(IdType::ALL[t], &n);
            let _ = known_region(&n);
            let _ = mask(&n);
        }
    }
}
