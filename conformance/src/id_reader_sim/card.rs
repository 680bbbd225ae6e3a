//! The card on the reader: what `GET /v1/card` answers and `PUT /control/card` places.
//! The name, the ID number and the address are personal data: they print as `***` and are
//! zeroised on drop; the only way out is the JSON the reader serves.

use serde_json::{Map, Value, json};
use zeroize::Zeroizing;

/// Longest value accepted for any member of a placed card, in characters.
const MAX_MEMBER_CHARS: usize = 256;

/// A personal value of the card: `***` in `Debug`, zeroised on drop, no `Display`.
#[derive(Clone, PartialEq, Eq)]
pub struct Private(Zeroizing<String>);

impl Private {
    /// Wraps `s`.
    pub fn new(s: &str) -> Self {
        Self(Zeroizing::new(s.to_owned()))
    }

    /// The value itself, for the reader's answer.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Private {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("***")
    }
}

/// A 2nd-generation ID card as the reader reads it from the chip (members as in
/// `docs/terminal.md`; dates `YYYY-MM-DD`, kept as given so tests can place odd cards).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Card {
    /// The serial of the reader that read it.
    pub reader_serial: String,
    /// The holder's name.
    pub name: Private,
    /// The document type, in the gateway's `subscriber.id_type` names.
    pub id_type: String,
    /// The document number.
    pub id_number: Private,
    /// ISO 3166-1 alpha-3.
    pub nationality: String,
    /// As printed (`男`, `女`).
    pub sex: String,
    /// `YYYY-MM-DD`.
    pub birth_date: String,
    /// The holder's address.
    pub address: Private,
    /// The issuing authority.
    pub issuer: String,
    /// First day of validity.
    pub valid_from: String,
    /// Last day of validity.
    pub valid_until: String,
}

/// The default card's number: the worked example of GB 11643-1999 (Beijing Chaoyang, born
/// 1949-12-31, check character `X`).
pub const TEST_ID_NUMBER: &str = "11010519491231002X";

impl Card {
    /// The default card: a well-formed test identity (张三, resident ID
    /// [`TEST_ID_NUMBER`]), read by `reader_serial`.
    pub fn test_identity(reader_serial: &str) -> Self {
        Self {
            reader_serial: reader_serial.to_owned(),
            name: Private::new("张三"),
            id_type: "resident_id".to_owned(),
            id_number: Private::new(TEST_ID_NUMBER),
            nationality: "CHN".to_owned(),
            sex: "女".to_owned(),
            birth_date: "1949-12-31".to_owned(),
            address: Private::new("北京市朝阳区测试路1号"),
            issuer: "北京市公安局朝阳分局".to_owned(),
            valid_from: "2016-05-01".to_owned(),
            valid_until: "2036-05-01".to_owned(),
        }
    }

    /// A card placed by `PUT /control/card`: a JSON object whose `name` and `id_number`
    /// are required; `birth_date` and `sex` default to what an 18-character number
    /// carries, every other member to the default card's (`reader_serial` to this
    /// reader's). Members are strings of at most 256 characters; unknown members are
    /// ignored. The error names the member, never its value.
    pub fn from_json(v: &Value, reader_serial: &str) -> Result<Self, String> {
        let Value::Object(o) = v else {
            return Err("the card is a JSON object".into());
        };
        let base = Self::test_identity(reader_serial);
        let name = required(o, "name")?;
        let id_number = required(o, "id_number")?;
        let carried = Carried::of(&id_number);
        Ok(Self {
            reader_serial: optional(o, "reader_serial")?.unwrap_or(base.reader_serial),
            name: Private::new(&name),
            id_type: optional(o, "id_type")?.unwrap_or(base.id_type),
            id_number: Private::new(&id_number),
            nationality: optional(o, "nationality")?.unwrap_or(base.nationality),
            sex: optional(o, "sex")?.or(carried.sex).unwrap_or(base.sex),
            birth_date: optional(o, "birth_date")?
                .or(carried.birth_date)
                .unwrap_or(base.birth_date),
            address: optional(o, "address")?.map_or(base.address, |a| Private::new(&a)),
            issuer: optional(o, "issuer")?.unwrap_or(base.issuer),
            valid_from: optional(o, "valid_from")?.unwrap_or(base.valid_from),
            valid_until: optional(o, "valid_until")?.unwrap_or(base.valid_until),
        })
    }

    /// The reader's JSON answer.
    pub fn to_json(&self) -> Value {
        json!({
            "reader_serial": self.reader_serial,
            "name": self.name.expose(),
            "id_type": self.id_type,
            "id_number": self.id_number.expose(),
            "nationality": self.nationality,
            "sex": self.sex,
            "birth_date": self.birth_date,
            "address": self.address.expose(),
            "issuer": self.issuer,
            "valid_from": self.valid_from,
            "valid_until": self.valid_until,
        })
    }
}

/// What an 18-character citizen-layout number carries: birth date (characters 7–14) and
/// sex (the 17th: odd for men).
struct Carried {
    birth_date: Option<String>,
    sex: Option<String>,
}

impl Carried {
    fn of(n: &str) -> Self {
        let b = n.as_bytes();
        if b.len() != 18 || !b[..17].iter().all(u8::is_ascii_digit) {
            return Self {
                birth_date: None,
                sex: None,
            };
        }
        let d = |r: std::ops::Range<usize>| n.get(r).unwrap_or_default();
        Self {
            birth_date: Some(format!("{}-{}-{}", d(6..10), d(10..12), d(12..14))),
            sex: Some(if b[16] % 2 == 1 { "男" } else { "女" }.to_owned()),
        }
    }
}

fn required(o: &Map<String, Value>, name: &str) -> Result<String, String> {
    optional(o, name)?.ok_or_else(|| format!("{name}: missing"))
}

fn optional(o: &Map<String, Value>, name: &str) -> Result<Option<String>, String> {
    match o.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.trim().is_empty() => Err(format!("{name}: blank")),
        Some(Value::String(s)) if s.chars().count() > MAX_MEMBER_CHARS => {
            Err(format!("{name}: longer than {MAX_MEMBER_CHARS} characters"))
        }
        Some(Value::String(s)) if s.chars().any(char::is_control) => {
            Err(format!("{name}: holds a control character"))
        }
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(format!("{name}: not a string")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use adapters::identity::{IdNumber, IdType};

    #[test]
    fn the_default_card_passes_the_gateways_resident_id_check() {
        let card = Card::test_identity("R-1");
        IdNumber::parse_as(IdType::ResidentId, card.id_number.expose()).expect("well-formed");
        let v = card.to_json();
        assert_eq!(v["id_type"], "resident_id");
        assert_eq!(v["birth_date"], "1949-12-31");
        assert_eq!(v["reader_serial"], "R-1");
        // What the number carries agrees with the card's printed members.
        let carried = Carried::of(TEST_ID_NUMBER);
        assert_eq!(carried.birth_date.as_deref(), Some("1949-12-31"));
        assert_eq!(carried.sex.as_deref(), Some("女"));
    }

    #[test]
    fn a_placed_card_fills_what_it_leaves_out() {
        let v = json!({"name": "李四", "id_number": "440304199003074510", "extra": 1});
        let card = Card::from_json(&v, "R-9").expect("card");
        assert_eq!(card.reader_serial, "R-9");
        assert_eq!(card.birth_date, "1990-03-07");
        assert_eq!(card.sex, "男");
        assert_eq!(card.nationality, "CHN");
        assert_eq!(card.to_json()["id_number"], "440304199003074510");
        let v =
            json!({"name": "X", "id_number": "E12345678", "sex": "F", "valid_until": "2020-01-01"});
        let card = Card::from_json(&v, "R-1").expect("card");
        assert_eq!(
            (card.birth_date.as_str(), card.sex.as_str()),
            ("1949-12-31", "F")
        );
        assert_eq!(card.valid_until, "2020-01-01");
    }

    #[test]
    fn refusals_name_the_member_never_the_value() {
        let check = |v: Value, expected: &str| {
            let e = Card::from_json(&v, "R-1").expect_err("refused");
            assert_eq!(e, expected);
        };
        check(json!([]), "the card is a JSON object");
        check(json!({"id_number": "1"}), "name: missing");
        check(
            json!({"name": "A", "id_number": 5}),
            "id_number: not a string",
        );
        check(json!({"name": " ", "id_number": "1"}), "name: blank");
        check(
            json!({"name": "秘密\u{7}", "id_number": "1"}),
            "name: holds a control character",
        );
        check(
            json!({"name": "A", "id_number": "9".repeat(300)}),
            "id_number: longer than 256 characters",
        );
    }

    #[test]
    fn personal_members_never_reach_debug() {
        let card = Card::test_identity("R-1");
        let shown = format!("{card:?}");
        assert!(!shown.contains(TEST_ID_NUMBER), "{shown}");
        assert!(!shown.contains("张三"), "{shown}");
        assert!(!shown.contains("测试路"), "{shown}");
    }
}
