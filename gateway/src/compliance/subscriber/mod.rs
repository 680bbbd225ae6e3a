//! The typed `subscriber` of an order (contract: `name`, `id_type`, `id_number`,
//! `nationality`, `capture`, `evidence`; more fields may be added, so unknown members are
//! ignored). Parsing is hand-written over JSON so a problem names the field at fault and
//! never echoes a value. The ID number and the name are `adapters::identity`'s types, whose
//! `Debug` never reveals them and which have no `Display` or `Serialize`; only
//! `to_sealed_json` (for sealing at rest) and `expose` do.

mod parse;

use super::refusal::Refusal;
use adapters::identity::{IdNumber, IdType, PersonName};
use parse::{capture, evidence, missing, normalise_country, object, raw_string, text};
use serde::Serialize;
use serde_json::{Map, Value, json};
use zeroize::Zeroizing;

/// The ID document members (`id_type`, `id_number`, `nationality`) of the object `m`,
/// found at `at` in the request (`subscriber`, or a blocklist entry's body): what the ID
/// hash is made of. Problems name the field, never the value.
pub fn document(
    m: &Map<String, Value>,
    at: &str,
) -> Result<(IdType, IdNumber, Option<String>), Refusal> {
    // Both as sent, untrimmed: machine values, which the API document states exactly
    // (an enum, a pattern), so nothing the document refuses is taken.
    let id_type = match raw_string(m, "id_type", at)? {
        None => return Err(missing(&format!("{at}.id_type"))),
        Some(s) => IdType::from_wire(s).ok_or_else(|| {
            let mut r = Refusal::subscriber_invalid(
                &format!("{at}.id_type"),
                format!("`{at}.id_type` is not a known ID type; see `allowed`"),
            );
            r.extras.allowed = IdType::ALL.iter().map(|t| t.as_str()).collect();
            r
        })?,
    };
    let raw = raw_string(m, "id_number", at)?.ok_or_else(|| missing(&format!("{at}.id_number")))?;
    let id_number = IdNumber::parse_as(id_type, raw).map_err(|e| {
        Refusal::new(
            400,
            "id_number_invalid",
            "ID number not valid for its type",
            format!(
                "`{at}.id_number` {e} for `{}`; re-read the document (a card reader fills it in)",
                id_type.as_str()
            ),
        )
        .at(format!("{at}.id_number"))
    })?;
    let nationality = match raw_string(m, "nationality", at)? {
        None => None,
        Some(s) => Some(normalise_country(s).ok_or_else(|| {
            Refusal::subscriber_invalid(
                &format!("{at}.nationality"),
                format!("`{at}.nationality` must be an ISO 3166-1 alpha-3 code, e.g. `CHN`, `GBR`"),
            )
        })?),
    };
    if id_type.needs_issuer() && nationality.is_none() {
        return Err(Refusal::subscriber_invalid(
            &format!("{at}.nationality"),
            format!(
                "`{at}.nationality` is required with `{}`: the document's issuing state, ISO 3166-1 alpha-3",
                id_type.as_str()
            ),
        ));
    }
    Ok((id_type, id_number, nationality))
}

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
        let (id_type, id_number, nationality) = document(m, "subscriber")?;
        // `text` has checked it already; the shared type's own check is looser.
        let name = PersonName::parse(name).map_err(|_| {
            Refusal::subscriber_invalid(
                "subscriber.name",
                "`subscriber.name` must be the name as on the document".to_owned(),
            )
        })?;
        let capture = capture(m.get("capture"))?;
        let evidence = evidence(m.get("evidence"))?;
        Ok(Self {
            name,
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

#[cfg(test)]
mod tests;
