//! The keyed ID hash: HMAC-SHA256 of the normalised (identity class, issuer, number) under
//! a pepper key with its own key file (`keys/id-pepper`, 0600). ID numbers have little
//! entropy, so an unkeyed hash could be inverted by trying them all; without the pepper
//! file a stored hash tells nothing. Lines count and blocklists match by this hash.
//!
//! Rotation works like the data key's: the file holds `<key id> <64 hex>` lines, the last
//! is current, and every hash names its key id. Rows hashed under an older key keep
//! counting because look-ups use `hash_all` (one hash per key) until a rewrap, which opens
//! the sealed subscriber and re-hashes it under the current key, has moved them.

use super::subscriber::Subscriber;
use crate::crypto::hex;
use crate::crypto::key_file::{self, KeyFileError};
use adapters::identity::{IdNumber, IdType};
use ring::hmac::{self, HMAC_SHA256};
use std::path::Path;
use zeroize::Zeroizing;

/// Why the pepper file could not be loaded or extended.
#[derive(Debug, thiserror::Error)]
pub enum PepperError {
    /// IO on the pepper file.
    #[error("ID pepper file {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The IO error.
        source: std::io::Error,
    },
    /// The file does not hold `<key id> <64 hex>` lines with unique ids.
    #[error("ID pepper file {0} is malformed: expected `<key id> <64 hex characters>` lines")]
    Malformed(String),
    /// The system random source failed.
    #[error("system random source failed")]
    Random,
}

/// A keyed ID hash as stored: the pepper key id and the 32-byte tag. Its string form is
/// `<key id>:<64 hex>`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct IdHash {
    kid: String,
    tag: [u8; 32],
}

impl IdHash {
    /// The pepper key id it was made under.
    pub fn key_id(&self) -> &str {
        &self.kid
    }

    /// Parses the string form.
    pub fn parse(s: &str) -> Option<Self> {
        let (kid, h) = s.rsplit_once(':')?;
        if kid.is_empty() || kid.len() > 64 || h.len() != 64 {
            return None;
        }
        let mut tag = [0u8; 32];
        sim_profiles::secret::decode_hex_into(h, &mut tag).ok()?;
        Some(Self {
            kid: kid.to_owned(),
            tag,
        })
    }
}

impl std::fmt::Display for IdHash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.kid, hex(&self.tag))
    }
}

impl serde::Serialize for IdHash {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for IdHash {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Self::parse(&s).ok_or_else(|| serde::de::Error::custom("not an ID hash (`<kid>:<hex>`)"))
    }
}

/// The pepper keys, oldest first; the last is current.
pub struct IdHasher {
    keys: Vec<(String, hmac::Key)>,
}

impl std::fmt::Debug for IdHasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IdHasher")
            .field("current", &self.current_id())
            .finish_non_exhaustive()
    }
}

/// Domain separation: the hash of an ID can never equal another HMAC under the same key.
const DOMAIN: &[u8] = b"simgw/id-hash/v1";

impl IdHasher {
    /// Loads the pepper file, creating it (0600, in a 0700 directory) with one fresh key
    /// if absent.
    pub fn load_or_create(path: &Path) -> Result<Self, PepperError> {
        let text = key_file::read_or_create(path, "pk").map_err(|e| file_error(path, e))?;
        Self::from_lines(&text).ok_or_else(|| PepperError::Malformed(path.display().to_string()))
    }

    /// Appends a fresh key (atomically, 0600) and returns its id. It becomes current at
    /// the next load; the older keys stay so their hashes keep matching.
    pub fn add_key(path: &Path) -> Result<String, PepperError> {
        key_file::append(path, "pk", |text| Self::from_lines(text).is_some())
            .map_err(|e| file_error(path, e))
    }

    /// A hasher with one random in-memory key (tests and benchmarks).
    pub fn ephemeral() -> Result<Self, PepperError> {
        let line = key_file::new_line("pk").map_err(|_| PepperError::Random)?;
        Self::from_lines(&line).ok_or(PepperError::Random)
    }

    /// Builds a hasher from `<id> <64 hex>` lines (blank lines ignored, ids unique).
    pub fn from_lines(text: &str) -> Option<Self> {
        let mut keys: Vec<(String, hmac::Key)> = Vec::new();
        for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
            let (id, key_hex) = line.split_once(char::is_whitespace)?;
            if id.contains(':') || keys.iter().any(|(k, _)| k == id) {
                return None;
            }
            let mut key = Zeroizing::new([0u8; 32]);
            sim_profiles::secret::decode_hex_into(key_hex.trim(), key.as_mut()).ok()?;
            keys.push((id.to_owned(), hmac::Key::new(HMAC_SHA256, key.as_ref())));
        }
        (!keys.is_empty()).then_some(Self { keys })
    }

    /// The id of the key new hashes are made under.
    pub fn current_id(&self) -> &str {
        self.keys
            .last()
            .map(|(k, _)| k.as_str())
            .unwrap_or_default()
    }

    /// The hash of a subscriber's identity under the current key: what a new line and a
    /// new blocklist entry record.
    pub fn hash(&self, s: &Subscriber) -> IdHash {
        self.hash_id(s.id_type, &s.id_number, s.nationality.as_deref())
    }

    /// The hash of an identity under the current key.
    pub fn hash_id(&self, t: IdType, n: &IdNumber, nationality: Option<&str>) -> IdHash {
        let msg = message(t, n, nationality);
        match self.keys.last() {
            Some((kid, key)) => tag(kid, key, &msg),
            None => IdHash {
                kid: String::new(),
                tag: [0; 32],
            },
        }
    }

    /// The hash under every key, current first: what look-ups (live lines, blocklists)
    /// match against until every row is re-hashed under the current key.
    pub fn hash_all(&self, s: &Subscriber) -> Vec<IdHash> {
        let msg = message(s.id_type, &s.id_number, s.nationality.as_deref());
        self.keys
            .iter()
            .rev()
            .map(|(kid, key)| tag(kid, key, &msg))
            .collect()
    }

    /// Whether `h` was made under the current key (a rewrap re-hashes the others).
    pub fn is_current(&self, h: &IdHash) -> bool {
        h.kid == self.current_id()
    }
}

fn tag(kid: &str, key: &hmac::Key, msg: &[u8]) -> IdHash {
    let t = hmac::sign(key, msg);
    let mut out = [0u8; 32];
    out.copy_from_slice(t.as_ref());
    IdHash {
        kid: kid.to_owned(),
        tag: out,
    }
}

/// The identity a number names, for counting and matching: the resident ID, the temporary
/// ID and the household register all carry the one citizen number, so a person cannot open
/// a sixth line by showing another of them. The strings are hash input: they are spelled
/// out here, not borrowed from the wire names, so renaming a wire name cannot change a
/// stored hash.
pub fn identity_class(t: IdType) -> &'static str {
    match t {
        IdType::ResidentId | IdType::TemporaryResidentId | IdType::HouseholdRegister => {
            "cn_citizen"
        }
        IdType::HkMacaoTravelPermit => "hk_macao_travel_permit",
        IdType::TaiwanTravelPermit => "taiwan_travel_permit",
        IdType::HkMacaoTaiwanResidencePermit => "hk_macao_taiwan_residence_permit",
        IdType::ForeignPermanentResidentId => "foreign_permanent_resident_id",
        IdType::Passport => "passport",
        IdType::NationalId => "national_id",
        IdType::ResidencePermit => "residence_permit",
        IdType::DrivingLicence => "driving_licence",
    }
}

/// The hashed bytes: domain, identity class, issuer and number, each ended by a NUL
/// (none of them can hold one). The issuer is fixed for mainland documents, the
/// subscriber's nationality for documents unique only per issuing state, empty otherwise.
fn message(t: IdType, n: &IdNumber, nationality: Option<&str>) -> Zeroizing<Vec<u8>> {
    let class = identity_class(t);
    let issuer = match class {
        "cn_citizen" => "CHN",
        _ if t.needs_issuer() => nationality.unwrap_or_default(),
        _ => "",
    };
    let mut m = Zeroizing::new(Vec::with_capacity(80));
    for part in [DOMAIN, class.as_bytes(), issuer.as_bytes()] {
        m.extend_from_slice(part);
        m.push(0);
    }
    m.extend_from_slice(n.expose().as_bytes());
    m
}

/// A fresh `pk-<8 hex> <64 hex>` key line.
/// A key file's error as the pepper's, naming the file.
fn file_error(path: &Path, e: KeyFileError) -> PepperError {
    let path = path.display().to_string();
    match e {
        KeyFileError::Io(source) => PepperError::Io { path, source },
        KeyFileError::Malformed => PepperError::Malformed(path),
        KeyFileError::Random => PepperError::Random,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn subscriber(t: &str, n: &str, nat: Option<&str>) -> Subscriber {
        Subscriber::from_json(
            &json!({"name": "A", "id_type": t, "id_number": n, "nationality": nat}),
        )
        .expect("valid")
    }

    const ID: &str = "11010519491231002X";

    #[test]
    fn one_identity_one_hash_whatever_the_document_or_spelling() {
        let h = IdHasher::ephemeral().expect("hasher");
        let a = h.hash(&subscriber("resident_id", ID, None));
        let b = h.hash(&subscriber(
            "household_register",
            "110105 19491231 002x",
            Some("CHN"),
        ));
        let c = h.hash(&subscriber("temporary_resident_id", ID, None));
        assert_eq!((&a, &a), (&b, &c));
        assert!(a.to_string().starts_with(&format!("{}:", h.current_id())));
        assert!(!a.to_string().contains(ID));
    }

    #[test]
    fn passports_are_told_apart_by_issuer_and_keys_by_file() {
        let h = IdHasher::ephemeral().expect("hasher");
        let gb = h.hash(&subscriber("passport", "E12345678", Some("GBR")));
        let fr = h.hash(&subscriber("passport", "E12345678", Some("FRA")));
        let id = h.hash(&subscriber("national_id", "E12345678", Some("GBR")));
        assert_ne!(gb, fr);
        assert_ne!(gb, id, "another class");
        let other = IdHasher::ephemeral().expect("hasher");
        assert_ne!(
            gb.tag,
            other
                .hash(&subscriber("passport", "E12345678", Some("GBR")))
                .tag
        );
    }

    #[test]
    fn identity_classes() {
        let citizen = [
            IdType::ResidentId,
            IdType::TemporaryResidentId,
            IdType::HouseholdRegister,
        ];
        let mut others = std::collections::BTreeSet::new();
        for t in IdType::ALL {
            let class = identity_class(t);
            if citizen.contains(&t) {
                assert_eq!(class, "cn_citizen");
            } else {
                assert!(others.insert(class), "{t:?}: its own class");
            }
        }
        assert!(!others.contains("cn_citizen"));
    }

    #[test]
    fn string_form_round_trips() {
        let h = IdHasher::ephemeral().expect("hasher");
        let a = h.hash(&subscriber("resident_id", ID, None));
        assert_eq!(IdHash::parse(&a.to_string()), Some(a.clone()));
        let json = serde_json::to_string(&a).expect("json");
        assert_eq!(serde_json::from_str::<IdHash>(&json).expect("back"), a);
        for bad in ["", "x", ":00", "pk-1:zz", "pk-1:00"] {
            assert_eq!(IdHash::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn rotation_keeps_old_hashes_matching() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("keys/id-pepper");
        let h1 = IdHasher::load_or_create(&path).expect("create");
        let s = subscriber("resident_id", ID, None);
        let old = h1.hash(&s);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).expect("meta").permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let again = IdHasher::load_or_create(&path).expect("reload");
        assert_eq!(again.hash(&s), old, "same file, same hash");
        let kid = IdHasher::add_key(&path).expect("rotate");
        let h2 = IdHasher::load_or_create(&path).expect("reload");
        assert_eq!(h2.current_id(), kid);
        let new = h2.hash(&s);
        assert_ne!(new, old);
        assert!(h2.is_current(&new) && !h2.is_current(&old));
        assert_eq!(
            h2.hash_all(&s),
            vec![new, old],
            "current first, old still matches"
        );
    }

    #[test]
    fn malformed_files_are_refused() {
        for text in [
            "",
            "pk-1",
            "pk-1 00",
            "a:b 00",
            &format!("k {0}\nk {0}", "00".repeat(32)),
        ] {
            assert!(IdHasher::from_lines(text).is_none(), "{text}");
        }
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("pepper");
        std::fs::write(&path, "garbage").expect("write");
        assert!(matches!(
            IdHasher::load_or_create(&path),
            Err(PepperError::Malformed(_))
        ));
        assert!(matches!(
            IdHasher::add_key(&path),
            Err(PepperError::Malformed(_))
        ));
    }
}
