//! The typed `subscriber` of an order (contract: `name`, `id_type`, `id_number`,
//! `nationality`, `capture`, `evidence`; more fields may be added, so unknown members are
//! ignored). Parsing is hand-written over JSON so a problem names the field at fault and
//! never echoes a value. The ID number and the name live in types whose `Debug`, `Display`
//! and `Serialize` never reveal them; only `to_sealed_json` (for sealing at rest) and
//! `expose` do.

use super::id_format::{self, IdType};
use super::refusal::Refusal;
use serde::Serialize;
use serde_json::{Map, Value, json};
use zeroize::Zeroizing;

/// A subscriber's identity as an order carries it.
#[derive(Clone, Debug, PartialEq)]
pub struct Subscriber {
    /// The name as on the document.
    pub name: PersonName,
    /// The document type.
    pub id_type: IdType,
    /// The document number, normalised.
    pub id_number: IdNumber,
    /// The issuing state or nationality, ISO 3166-1 alpha-3.
    pub nationality: Option<String>,
    /// How the document was captured.
    pub capture: Capture,
    /// What proves the person is the holder.
    pub evidence: Evidence,
}

/// A normalised ID number: never printed, serialised masked, zeroised on drop.
#[derive(Clone, PartialEq, Eq)]
pub struct IdNumber(Zeroizing<String>);

/// A person's name: never printed, serialised masked, zeroised on drop.
#[derive(Clone, PartialEq, Eq)]
pub struct PersonName(Zeroizing<String>);

/// How the ID was captured.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Capture {
    /// Read by an ID-card reader, which signs or structures what it read.
    CardReader {
        /// The reader's serial (registered as a channel device).
        reader_serial: String,
        /// Reference of the reader's signed or structured payload, when sent.
        payload_ref: Option<String>,
    },
    /// Typed by a person (refused where the policy wants a reader).
    Manual,
}

/// The capture method alone, as policy rows name it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CaptureMethod {
    /// An ID-card reader.
    CardReader,
    /// Typed by hand.
    Manual,
}

impl CaptureMethod {
    /// Stable snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::CardReader => "card_reader",
            Self::Manual => "manual",
        }
    }
}

/// Identity evidence; any combination may be sent.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Evidence {
    /// A face (portrait) match against the document photo.
    pub face_match: Option<FaceMatch>,
    /// A recorded real-person video (online channels).
    pub video_id: Option<String>,
    /// A signed fraud-risk notice (in-store re-verification).
    pub risk_notice_id: Option<String>,
}

/// A face-match result from the vendor.
#[derive(Clone, Debug, PartialEq)]
pub struct FaceMatch {
    /// The vendor's transaction id, to look the result up.
    pub transaction_id: String,
    /// Similarity score, 0.0 to 1.0.
    pub score: f64,
    /// Whether the liveness check passed.
    pub liveness: bool,
}

impl IdNumber {
    /// Normalises and checks `raw` as a number of `id_type`.
    pub fn parse(id_type: IdType, raw: &str) -> Result<Self, id_format::IdFormatError> {
        let n = Zeroizing::new(id_format::normalise(raw)?);
        id_format::check(id_type, &n)?;
        Ok(Self(n))
    }

    /// The number in clear: for the keyed hash and sealing only.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The masked form for display (`1101**********1234`).
    pub fn masked(&self) -> String {
        id_format::mask(&self.0)
    }

    /// The holder's birth date, for numbers that carry one (mainland citizen layout).
    pub fn birth_date(&self, id_type: IdType) -> Option<(u16, u8, u8)> {
        let carries = matches!(
            id_type,
            IdType::ResidentId
                | IdType::TemporaryResidentId
                | IdType::HouseholdRegister
                | IdType::HkMacauTaiwanResidencePermit
        ) || (id_type == IdType::ForeignPermanentResidentId && self.0.len() == 18);
        carries
            .then(|| id_format::birth_date(self.0.as_bytes()))
            .flatten()
    }
}

impl std::fmt::Debug for IdNumber {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("IdNumber(***)")
    }
}

impl std::fmt::Display for IdNumber {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.masked())
    }
}

impl Serialize for IdNumber {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.masked())
    }
}

impl PersonName {
    /// The name in clear: for sealing and lawful export only.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The first character, the rest masked (`张*`, `L*****`).
    pub fn masked(&self) -> String {
        let mut c = self.0.chars();
        let first: String = c.next().into_iter().collect();
        first + &"*".repeat(c.count())
    }
}

impl std::fmt::Debug for PersonName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PersonName(***)")
    }
}

impl Serialize for PersonName {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.masked())
    }
}

impl Capture {
    /// The method alone.
    pub fn method(&self) -> CaptureMethod {
        match self {
            Self::CardReader { .. } => CaptureMethod::CardReader,
            Self::Manual => CaptureMethod::Manual,
        }
    }

    /// The reader's serial, for a card-reader capture.
    pub fn reader_serial(&self) -> Option<&str> {
        match self {
            Self::CardReader { reader_serial, .. } => Some(reader_serial),
            Self::Manual => None,
        }
    }
}

/// The longest name accepted, in characters.
pub const MAX_NAME_CHARS: usize = 100;
/// The longest reference (serials, transaction and evidence ids), in characters.
pub const MAX_REF_CHARS: usize = 128;

impl Subscriber {
    /// Parses the `subscriber` member of a request. Unknown members are ignored (the
    /// contract lets fields be added); a problem names the field and never its value.
    pub fn from_json(v: &Value) -> Result<Self, Refusal> {
        let m = object(v, "subscriber")?;
        let name = text(m, "name", "subscriber", MAX_NAME_CHARS)?
            .ok_or_else(|| missing("subscriber.name"))?;
        let id_type = match text(m, "id_type", "subscriber", 64)? {
            None => return Err(missing("subscriber.id_type")),
            Some(s) => IdType::parse(s).ok_or_else(|| {
                let mut r = Refusal::subscriber_invalid(
                    "subscriber.id_type",
                    "`subscriber.id_type` is not a known ID type; see `allowed`".to_owned(),
                );
                r.extras.allowed = IdType::ALL.iter().map(|t| t.as_str()).collect();
                r
            })?,
        };
        let raw = raw_string(m, "id_number", "subscriber")?
            .ok_or_else(|| missing("subscriber.id_number"))?;
        let id_number = IdNumber::parse(id_type, raw).map_err(|e| {
            Refusal::new(
                400,
                "id_number_invalid",
                "ID number not valid for its type",
                format!(
                    "`subscriber.id_number` {e} for `{}`; re-read the document (a card reader fills it in)",
                    id_type.as_str()
                ),
            )
            .at("subscriber.id_number")
        })?;
        let nationality = match text(m, "nationality", "subscriber", 8)? {
            None => None,
            Some(s) => Some(id_format::normalise_country(s).ok_or_else(|| {
                Refusal::subscriber_invalid(
                    "subscriber.nationality",
                    "`subscriber.nationality` must be an ISO 3166-1 alpha-3 code, e.g. `CHN`, `GBR`".to_owned(),
                )
            })?),
        };
        if id_type.needs_issuer() && nationality.is_none() {
            return Err(Refusal::subscriber_invalid(
                "subscriber.nationality",
                format!(
                    "`subscriber.nationality` is required with `{}`: the document's issuing state, ISO 3166-1 alpha-3",
                    id_type.as_str()
                ),
            ));
        }
        let capture = capture(m.get("capture"))?;
        let evidence = evidence(m.get("evidence"))?;
        Ok(Self {
            name: PersonName(Zeroizing::new(name.to_owned())),
            id_type,
            id_number,
            nationality,
            capture,
            evidence,
        })
    }

    /// The full form, ID number and name in clear, as bytes to seal at rest (and the
    /// input of `from_json` when a lawful export opens it). Zeroised on drop.
    pub fn to_sealed_json(&self) -> Zeroizing<Vec<u8>> {
        let mut v = self.redacted_json();
        v["name"] = Value::from(self.name.expose());
        v["id_number"] = Value::from(self.id_number.expose());
        let bytes = Zeroizing::new(serde_json::to_vec(&v).unwrap_or_default());
        zeroize_value(v);
        bytes
    }

    /// References of the evidence, for audit records (`face_match:<tx>`, `video:<id>`,
    /// `reader:<serial>`, `reader_payload:<ref>`, `risk_notice:<id>`).
    pub fn evidence_refs(&self) -> Vec<String> {
        let mut out = Vec::new();
        if let Capture::CardReader {
            reader_serial,
            payload_ref,
        } = &self.capture
        {
            out.push(format!("reader:{reader_serial}"));
            if let Some(p) = payload_ref {
                out.push(format!("reader_payload:{p}"));
            }
        }
        if let Some(f) = &self.evidence.face_match {
            out.push(format!("face_match:{}", f.transaction_id));
        }
        if let Some(v) = &self.evidence.video_id {
            out.push(format!("video:{v}"));
        }
        if let Some(n) = &self.evidence.risk_notice_id {
            out.push(format!("risk_notice:{n}"));
        }
        out
    }

    /// The JSON with the number and the name masked.
    fn redacted_json(&self) -> Value {
        let capture = match &self.capture {
            Capture::CardReader {
                reader_serial,
                payload_ref,
            } => {
                let mut c = json!({"method": "card_reader", "reader_serial": reader_serial});
                if let Some(p) = payload_ref {
                    c["payload_ref"] = Value::from(p.as_str());
                }
                c
            }
            Capture::Manual => json!({"method": "manual"}),
        };
        let mut ev = Map::new();
        if let Some(f) = &self.evidence.face_match {
            ev.insert(
                "face_match".into(),
                json!({"transaction_id": f.transaction_id, "score": f.score, "liveness": f.liveness}),
            );
        }
        if let Some(id) = &self.evidence.video_id {
            ev.insert("video".into(), json!({"id": id}));
        }
        if let Some(id) = &self.evidence.risk_notice_id {
            ev.insert("risk_notice".into(), json!({"id": id}));
        }
        let mut v = json!({
            "name": self.name.masked(),
            "id_type": self.id_type.as_str(),
            "id_number": self.id_number.masked(),
            "capture": capture,
            "evidence": ev,
        });
        if let Some(n) = &self.nationality {
            v["nationality"] = Value::from(n.as_str());
        }
        v
    }
}

/// Overwrites the clear strings of a JSON value before it is dropped.
fn zeroize_value(mut v: Value) {
    use zeroize::Zeroize;
    if let Some(m) = v.as_object_mut() {
        for k in ["name", "id_number"] {
            if let Some(Value::String(s)) = m.get_mut(k) {
                s.zeroize();
            }
        }
    }
}

/// The redacted view: number and name masked. Never the sealed form.
impl Serialize for Subscriber {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.redacted_json().serialize(s)
    }
}

/// Deserialising goes through `from_json` (the sealed form reads back this way); the
/// error is the refusal's detail, which never holds a value.
impl<'de> serde::Deserialize<'de> for Subscriber {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = Value::deserialize(d)?;
        Self::from_json(&v).map_err(|r| serde::de::Error::custom(r.detail))
    }
}

fn missing(field: &str) -> Refusal {
    Refusal::subscriber_invalid(field, format!("`{field}` is required"))
}

fn object<'a>(v: &'a Value, path: &str) -> Result<&'a Map<String, Value>, Refusal> {
    v.as_object()
        .ok_or_else(|| Refusal::subscriber_invalid(path, format!("`{path}` must be a JSON object")))
}

/// A string member as sent (`None` when absent or null), type-checked only.
fn raw_string<'a>(
    m: &'a Map<String, Value>,
    key: &str,
    path: &str,
) -> Result<Option<&'a str>, Refusal> {
    match m.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => {
            let field = format!("{path}.{key}");
            Err(Refusal::subscriber_invalid(
                &field,
                format!("`{field}` must be a string"),
            ))
        }
    }
}

/// A trimmed, non-empty string member of at most `max` characters with no control
/// characters (`None` when absent or null).
fn text<'a>(
    m: &'a Map<String, Value>,
    key: &str,
    path: &str,
    max: usize,
) -> Result<Option<&'a str>, Refusal> {
    let Some(s) = raw_string(m, key, path)? else {
        return Ok(None);
    };
    let s = s.trim();
    let field = format!("{path}.{key}");
    if s.is_empty() {
        return Err(Refusal::subscriber_invalid(
            &field,
            format!("`{field}` must not be empty"),
        ));
    }
    if s.chars().count() > max || s.chars().any(char::is_control) {
        return Err(Refusal::subscriber_invalid(
            &field,
            format!("`{field}` must be at most {max} characters, with no control characters"),
        ));
    }
    Ok(Some(s))
}

fn capture(v: Option<&Value>) -> Result<Capture, Refusal> {
    const P: &str = "subscriber.capture";
    let Some(v) = v.filter(|v| !v.is_null()) else {
        // Nothing said: the number was typed.
        return Ok(Capture::Manual);
    };
    let m = object(v, P)?;
    match text(m, "method", P, 32)? {
        Some("card_reader") => Ok(Capture::CardReader {
            reader_serial: text(m, "reader_serial", P, MAX_REF_CHARS)?
                .ok_or_else(|| missing("subscriber.capture.reader_serial"))?
                .to_owned(),
            payload_ref: text(m, "payload_ref", P, MAX_REF_CHARS)?.map(str::to_owned),
        }),
        Some("manual") => Ok(Capture::Manual),
        Some(_) => {
            let mut r = Refusal::subscriber_invalid(
                "subscriber.capture.method",
                "`subscriber.capture.method` must be `card_reader` or `manual`".to_owned(),
            );
            r.extras.allowed = vec!["card_reader", "manual"];
            Err(r)
        }
        None => Err(missing("subscriber.capture.method")),
    }
}

fn evidence(v: Option<&Value>) -> Result<Evidence, Refusal> {
    const P: &str = "subscriber.evidence";
    let Some(v) = v.filter(|v| !v.is_null()) else {
        return Ok(Evidence::default());
    };
    let m = object(v, P)?;
    let face_match = match m.get("face_match").filter(|v| !v.is_null()) {
        None => None,
        Some(f) => {
            const F: &str = "subscriber.evidence.face_match";
            let f = object(f, F)?;
            let transaction_id = text(f, "transaction_id", F, MAX_REF_CHARS)?
                .ok_or_else(|| missing("subscriber.evidence.face_match.transaction_id"))?
                .to_owned();
            let score = f
                .get("score")
                .and_then(Value::as_f64)
                .filter(|s| (0.0..=1.0).contains(s))
                .ok_or_else(|| {
                    Refusal::subscriber_invalid(
                        "subscriber.evidence.face_match.score",
                        "`subscriber.evidence.face_match.score` must be a number from 0.0 to 1.0"
                            .to_owned(),
                    )
                })?;
            let liveness = f.get("liveness").and_then(Value::as_bool).ok_or_else(|| {
                Refusal::subscriber_invalid(
                    "subscriber.evidence.face_match.liveness",
                    "`subscriber.evidence.face_match.liveness` must be true or false".to_owned(),
                )
            })?;
            Some(FaceMatch {
                transaction_id,
                score,
                liveness,
            })
        }
    };
    let id_of = |key: &str| -> Result<Option<String>, Refusal> {
        match m.get(key).filter(|v| !v.is_null()) {
            None => Ok(None),
            Some(x) => {
                let path = format!("{P}.{key}");
                let o = object(x, &path)?;
                Ok(Some(
                    text(o, "id", &path, MAX_REF_CHARS)?
                        .ok_or_else(|| missing(&format!("{path}.id")))?
                        .to_owned(),
                ))
            }
        }
    };
    Ok(Evidence {
        face_match,
        video_id: id_of("video")?,
        risk_notice_id: id_of("risk_notice")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "11010519491231002X";

    fn full() -> Value {
        json!({
            "name": "张三",
            "id_type": "resident_id",
            "id_number": "110105 19491231 002x",
            "nationality": "chn",
            "capture": {"method": "card_reader", "reader_serial": "R-1", "payload_ref": "p-9"},
            "evidence": {"face_match": {"transaction_id": "fm-1", "score": 0.93, "liveness": true}},
            "future_field": {"anything": 1}
        })
    }

    #[test]
    fn parses_the_contract_shape_and_ignores_new_fields() {
        let s = Subscriber::from_json(&full()).expect("valid");
        assert_eq!(s.id_type, IdType::ResidentId);
        assert_eq!(s.id_number.expose(), ID, "normalised");
        assert_eq!(s.nationality.as_deref(), Some("CHN"));
        assert_eq!(s.capture.reader_serial(), Some("R-1"));
        assert_eq!(
            s.evidence.face_match.as_ref().map(|f| f.liveness),
            Some(true)
        );
        assert_eq!(
            s.evidence_refs(),
            ["reader:R-1", "reader_payload:p-9", "face_match:fm-1"]
        );
        let video = json!({"name": "A", "id_type": "resident_id", "id_number": ID,
            "evidence": {"video": {"id": "v-1"}}});
        let s = Subscriber::from_json(&video).expect("valid");
        assert_eq!(s.capture, Capture::Manual, "no capture: typed");
        assert_eq!(s.evidence.video_id.as_deref(), Some("v-1"));
    }

    #[test]
    fn never_reveals_the_number_or_the_name() {
        let s = Subscriber::from_json(&full()).expect("valid");
        let debug = format!("{s:?}");
        let shown = serde_json::to_string(&s).expect("json");
        for text in [&debug, &shown, &s.id_number.to_string()] {
            assert!(!text.contains(ID) && !text.contains("张三"), "{text}");
        }
        assert!(shown.contains("1101**********002X"), "{shown}");
        assert!(shown.contains("\"张*\""), "{shown}");
    }

    #[test]
    fn sealed_form_round_trips() {
        let s = Subscriber::from_json(&full()).expect("valid");
        let bytes = s.to_sealed_json();
        let text = std::str::from_utf8(&bytes).expect("utf8");
        assert!(text.contains(ID) && text.contains("张三"));
        let back: Subscriber = serde_json::from_slice(&bytes).expect("reads back");
        assert_eq!(back, s);
    }

    /// `check(patch, field, code)`: the full subscriber with `patch` applied is refused
    /// with `code` at `field`, and the detail never echoes what was sent.
    fn check(patch: &[(&str, Value)], field: &str, code: &str) {
        let mut v = full();
        for (k, val) in patch {
            let mut at = &mut v;
            let mut parts = k.split('.').peekable();
            while let Some(p) = parts.next() {
                if parts.peek().is_none() {
                    if val.is_null() {
                        at.as_object_mut().expect("object").remove(p);
                    } else {
                        at[p] = val.clone();
                    }
                    break;
                }
                at = &mut at[p];
            }
        }
        let r = Subscriber::from_json(&v).expect_err("refused");
        assert_eq!(
            (r.field.as_deref(), r.code),
            (Some(field), code),
            "{patch:?}: {r:?}"
        );
        for secret in ["1101051949", "SECRET", "张三"] {
            assert!(!r.detail.contains(secret), "{}", r.detail);
        }
    }

    #[test]
    fn refusals_name_the_field() {
        let null = Value::Null;
        check(
            &[("name", null.clone())],
            "subscriber.name",
            "subscriber_invalid",
        );
        check(
            &[("name", json!("  "))],
            "subscriber.name",
            "subscriber_invalid",
        );
        check(
            &[("name", json!("a\u{7}b"))],
            "subscriber.name",
            "subscriber_invalid",
        );
        check(
            &[("id_type", json!("SECRET"))],
            "subscriber.id_type",
            "subscriber_invalid",
        );
        check(
            &[("id_number", json!(110105194912310020u64))],
            "subscriber.id_number",
            "subscriber_invalid",
        );
        check(
            &[("id_number", json!("11010519491231002"))],
            "subscriber.id_number",
            "id_number_invalid",
        );
        check(
            &[("id_number", json!("110105194912310021"))],
            "subscriber.id_number",
            "id_number_invalid",
        );
        check(
            &[("nationality", json!("CN"))],
            "subscriber.nationality",
            "subscriber_invalid",
        );
        check(
            &[
                ("id_type", json!("passport")),
                ("id_number", json!("E1234567")),
                ("nationality", null.clone()),
            ],
            "subscriber.nationality",
            "subscriber_invalid",
        );
        check(
            &[("capture.method", json!("SECRET"))],
            "subscriber.capture.method",
            "subscriber_invalid",
        );
        check(
            &[("capture.reader_serial", null.clone())],
            "subscriber.capture.reader_serial",
            "subscriber_invalid",
        );
        check(
            &[("evidence.face_match.score", json!(1.5))],
            "subscriber.evidence.face_match.score",
            "subscriber_invalid",
        );
        check(
            &[("evidence.face_match.liveness", json!("yes"))],
            "subscriber.evidence.face_match.liveness",
            "subscriber_invalid",
        );
        check(
            &[("evidence.video", json!({}))],
            "subscriber.evidence.video.id",
            "subscriber_invalid",
        );
        check(
            &[("evidence", json!([]))],
            "subscriber.evidence",
            "subscriber_invalid",
        );
        let r = Subscriber::from_json(&json!("SECRET")).expect_err("not an object");
        assert_eq!(r.field.as_deref(), Some("subscriber"));
    }

    #[test]
    fn birth_dates_where_the_number_has_one() {
        let s = Subscriber::from_json(&full()).expect("valid");
        assert_eq!(s.id_number.birth_date(s.id_type), Some((1949, 12, 31)));
        let p = IdNumber::parse(IdType::Passport, "E12345678").expect("passport");
        assert_eq!(p.birth_date(IdType::Passport), None);
    }

    proptest::proptest! {
        /// Arbitrary JSON never panics the parser.
        #[test]
        fn arbitrary_members_never_panic(
            name in proptest::option::of("\\PC{0,120}"),
            t in proptest::option::of("[a-z_]{0,20}"),
            n in proptest::option::of("\\PC{0,70}"),
            score in proptest::num::f64::ANY,
        ) {
            let v = json!({"name": name, "id_type": t, "id_number": n,
                "evidence": {"face_match": {"transaction_id": "x", "score": score, "liveness": true}}});
            let _ = Subscriber::from_json(&v);
        }
    }
}
