//! Encryption at rest and randomness. Secrets (Ki, OPc, personal data) are sealed with
//! AES-256-GCM under a data key; each sealed value names its key id so keys can rotate.
//! The associated data binds a ciphertext to its record, so sealed values cannot be
//! swapped between SIMs. Request fingerprints (idempotency) are HMACs under a key derived
//! from the keyring, so a stored fingerprint cannot be matched against guessed bodies.

pub mod key_file;

use ring::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use ring::hkdf::{HKDF_SHA256, Salt};
use ring::hmac::{self, HMAC_SHA256};
use ring::rand::{SecureRandom, SystemRandom};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::io::Write;
use std::path::Path;

/// Why a key could not be loaded or a value could not be sealed/opened.
#[derive(Debug, thiserror::Error)]
pub enum CryptoError {
    /// IO on the key file.
    #[error("data key file {path}: {source}")]
    Io {
        /// The key file.
        path: String,
        /// The IO error.
        source: std::io::Error,
    },
    /// The key file does not hold `<key id> <64 hex chars>`.
    #[error("data key file {0} is malformed: expected `<key id> <64 hex characters>`")]
    Malformed(String),
    /// A sealed value names a key id this keyring does not have.
    #[error("no data key with id `{0}`")]
    UnknownKey(String),
    /// Authentication failed: wrong key, wrong record, or tampered ciphertext.
    #[error("sealed value failed authentication")]
    Open,
    /// The system random source failed.
    #[error("system random source failed")]
    Random,
}

/// An encrypted value as stored: key id, nonce and ciphertext with its GCM tag.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sealed {
    /// The data-key id used.
    pub kid: String,
    /// 96-bit nonce, hex.
    pub nonce: String,
    /// Ciphertext and tag, hex.
    pub ct: String,
}

/// The data keys, one of which is current for new seals.
pub struct Keyring {
    current: String,
    keys: HashMap<String, LessSafeKey>,
    /// The fingerprint key and the id of the data key it is derived from.
    fingerprint: (String, hmac::Key),
    rng: SystemRandom,
}

/// HKDF labels of the fingerprint key: its own, so it never equals a sealing key.
const FINGERPRINT_SALT: &[u8] = b"simgw/v1";
const FINGERPRINT_INFO: &[u8] = b"request fingerprint";
/// What a fingerprint starts with: the scheme, then the id of the data key it came from.
pub const FINGERPRINT_SCHEME: &str = "hmac-sha256";

impl std::fmt::Debug for Keyring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Keyring")
            .field("current", &self.current)
            .finish_non_exhaustive()
    }
}

impl Keyring {
    /// Loads the key file, creating it (mode 0600) with a fresh random key if absent.
    /// The file holds one `<key id> <64 hex>` line per key; the last line is current.
    pub fn load_or_create(path: &Path) -> Result<Self, CryptoError> {
        let text = key_file::read_or_create(path, "dk").map_err(|e| file_error(path, e))?;
        Self::from_lines(&text).ok_or_else(|| CryptoError::Malformed(path.display().to_string()))
    }

    /// Appends a fresh key to the key file (atomically, 0600) and returns its id. The new
    /// key becomes current at the next load; older keys stay for opening old values.
    pub fn add_key(path: &Path) -> Result<String, CryptoError> {
        key_file::append(path, "dk", |text| Self::from_lines(text).is_some())
            .map_err(|e| file_error(path, e))
    }

    /// Builds a keyring from `<id> <64 hex>` lines (blank lines ignored, ids unique).
    fn from_lines(text: &str) -> Option<Self> {
        let mut keys = HashMap::new();
        let mut current = None;
        let mut fingerprint = None;
        for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
            let (id, key_hex) = line.split_once(char::is_whitespace)?;
            let mut key = zeroize::Zeroizing::new([0u8; 32]);
            sim_profiles::secret::decode_hex_into(key_hex.trim(), key.as_mut()).ok()?;
            // Derived from the first (oldest) key, which rotation never replaces: a request
            // retried across a rotation still matches the fingerprint recorded before it.
            if fingerprint.is_none() {
                fingerprint = Some((id.to_owned(), fingerprint_key(key.as_ref())));
            }
            let unbound = UnboundKey::new(&AES_256_GCM, key.as_ref()).ok()?;
            if keys
                .insert(id.to_owned(), LessSafeKey::new(unbound))
                .is_some()
            {
                return None;
            }
            current = Some(id.to_owned());
        }
        Some(Self {
            current: current?,
            keys,
            fingerprint: fingerprint?,
            rng: SystemRandom::new(),
        })
    }

    /// A keyed fingerprint of `bytes` (a canonical request body): `hmac-sha256:<key id>:<hex>`.
    /// Equal bytes give equal fingerprints under one key file; without the key file a
    /// stored fingerprint cannot be tested against guessed bodies (ID numbers have little
    /// entropy, so a plain hash could be inverted by trying them all).
    pub fn fingerprint(&self, bytes: &[u8]) -> String {
        let (kid, key) = &self.fingerprint;
        let tag = hmac::sign(key, bytes);
        format!("{FINGERPRINT_SCHEME}:{kid}:{}", hex(tag.as_ref()))
    }

    /// The id of the key new values are sealed under.
    pub fn current_id(&self) -> &str {
        &self.current
    }

    /// Re-seals `sealed` under the current key if it is under an older one.
    pub fn reseal(&self, context: &str, sealed: &Sealed) -> Result<Option<Sealed>, CryptoError> {
        if sealed.kid == self.current {
            return Ok(None);
        }
        let clear = self.open(context, sealed)?;
        self.seal(context, &clear).map(Some)
    }

    /// A keyring with one random in-memory key (tests and benchmarks).
    pub fn ephemeral() -> Result<Self, CryptoError> {
        let rng = SystemRandom::new();
        let mut key = zeroize::Zeroizing::new([0u8; 32]);
        rng.fill(key.as_mut()).map_err(|_| CryptoError::Random)?;
        Self::from_lines(&format!("dk-test {}", hex(key.as_ref()))).ok_or(CryptoError::Random)
    }

    /// Encrypts `plaintext`, bound to `context` (e.g. `"sim/8986.../ki"`).
    pub fn seal(&self, context: &str, plaintext: &[u8]) -> Result<Sealed, CryptoError> {
        let key = self
            .keys
            .get(&self.current)
            .ok_or_else(|| CryptoError::UnknownKey(self.current.clone()))?;
        let mut nonce = [0u8; NONCE_LEN];
        self.rng.fill(&mut nonce).map_err(|_| CryptoError::Random)?;
        let mut buf = plaintext.to_vec();
        key.seal_in_place_append_tag(
            Nonce::assume_unique_for_key(nonce),
            Aad::from(context.as_bytes()),
            &mut buf,
        )
        .map_err(|_| CryptoError::Random)?;
        Ok(Sealed {
            kid: self.current.clone(),
            nonce: hex(&nonce),
            ct: hex(&buf),
        })
    }

    /// Decrypts a sealed value bound to `context`. The result is zeroised on drop.
    pub fn open(
        &self,
        context: &str,
        sealed: &Sealed,
    ) -> Result<zeroize::Zeroizing<Vec<u8>>, CryptoError> {
        let key = self
            .keys
            .get(&sealed.kid)
            .ok_or_else(|| CryptoError::UnknownKey(sealed.kid.clone()))?;
        let mut nonce = [0u8; NONCE_LEN];
        sim_profiles::secret::decode_hex_into(&sealed.nonce, &mut nonce)
            .map_err(|_| CryptoError::Open)?;
        let mut buf = zeroize::Zeroizing::new(unhex(&sealed.ct).ok_or(CryptoError::Open)?);
        let len = key
            .open_in_place(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(context.as_bytes()),
                buf.as_mut(),
            )
            .map_err(|_| CryptoError::Open)?
            .len();
        buf.truncate(len);
        Ok(buf)
    }

    /// Fills `out` from the system CSPRNG.
    pub fn random(&self, out: &mut [u8]) -> Result<(), CryptoError> {
        self.rng.fill(out).map_err(|_| CryptoError::Random)
    }
}

/// The HMAC key for request fingerprints, derived from a data key under its own labels.
fn fingerprint_key(data_key: &[u8]) -> hmac::Key {
    let prk = Salt::new(HKDF_SHA256, FINGERPRINT_SALT).extract(data_key);
    match prk.expand(&[FINGERPRINT_INFO], HMAC_SHA256) {
        Ok(okm) => hmac::Key::from(okm),
        // Unreachable: HKDF-SHA256 can always expand to one hash length.
        Err(_) => hmac::Key::new(HMAC_SHA256, data_key),
    }
}

/// A fresh `dk-<8 hex> <64 hex>` key line.
/// A key file's error as the data key's, naming the file.
fn file_error(path: &Path, e: key_file::KeyFileError) -> CryptoError {
    let path = path.display().to_string();
    match e {
        key_file::KeyFileError::Io(source) => CryptoError::Io { path, source },
        key_file::KeyFileError::Malformed => CryptoError::Malformed(path),
        key_file::KeyFileError::Random => CryptoError::Random,
    }
}

/// Writes a file readable only by its owner (0600 on Unix), creating or truncating it.
pub fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(path)?;
    f.write_all(bytes)?;
    f.sync_all()
}

/// Creates `dir` and any missing parents readable only by their owner (0700 on Unix).
/// Directories that already exist keep their mode.
pub fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    let mut b = std::fs::DirBuilder::new();
    b.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        b.mode(0o700);
    }
    b.create(dir)
}

/// Makes the data directory private: the directory and every directory directly in it
/// (`keys/`, `tls/`, ...) 0700, created if absent. A data dir made by an older version
/// (0755) is tightened here at start. Files keep their mode: secrets are written 0600
/// and the store file is opened 0600 by the store, and nothing in a 0700 directory is
/// reachable by other users anyway.
pub fn make_data_dir_private(dir: &Path) -> std::io::Result<()> {
    create_private_dir(dir)?;
    #[cfg(unix)]
    {
        set_mode(dir, 0o700)?;
        for entry in std::fs::read_dir(dir)? {
            let entry = entry?;
            // `file_type` does not follow symlinks: a linked directory is left alone.
            if entry.file_type()?.is_dir() {
                set_mode(&entry.path(), 0o700)?;
            }
        }
    }
    Ok(())
}

/// Sets a Unix mode unless it is already that, naming the path on failure.
#[cfg(unix)]
pub fn set_mode(path: &Path, mode: u32) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let meta = std::fs::metadata(path)?;
    if meta.permissions().mode() & 0o777 == mode {
        return Ok(());
    }
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).map_err(|e| {
        std::io::Error::new(
            e.kind(),
            format!("cannot set mode {mode:o} on {}: {e}", path.display()),
        )
    })
}

/// Lower-case hex.
pub fn hex(bytes: &[u8]) -> String {
    sim_profiles::secret::encode_hex_lower(bytes)
}

/// Decodes hex of any even length.
pub fn unhex(s: &str) -> Option<Vec<u8>> {
    if s.len() % 2 != 0 {
        return None;
    }
    let mut out = vec![0u8; s.len() / 2];
    sim_profiles::secret::decode_hex_into(s, &mut out).ok()?;
    Some(out)
}

/// A random identifier: `prefix` + 26 lower-case base32 characters (128 bits).
pub fn random_id(rng: &SystemRandom, prefix: &str) -> Result<String, CryptoError> {
    let mut b = [0u8; 16];
    rng.fill(&mut b).map_err(|_| CryptoError::Random)?;
    Ok(format!("{prefix}{}", base32(&b)))
}

/// An order's identifier: `prefix` + 26 lower-case base32 characters, as
/// [`random_id`], whose first 48 bits are the creation time `now_ms` (big-endian) and the
/// other 80 random. Orders created close together get ids that share their leading
/// characters, so the store's order rows and indexes keyed by id take new and busy
/// orders into a few neighbouring B-tree pages instead of one random page each (fewer
/// pages written per commit); 80 random bits keep ids unguessable.
pub fn order_id(rng: &SystemRandom, prefix: &str, now_ms: u64) -> Result<String, CryptoError> {
    let mut b = [0u8; 16];
    b[..6].copy_from_slice(&now_ms.to_be_bytes()[2..]);
    rng.fill(&mut b[6..]).map_err(|_| CryptoError::Random)?;
    Ok(format!("{prefix}{}", base32(&b)))
}

/// RFC 4648 base32 alphabet in lower case, no padding (URL- and log-friendly).
pub fn base32(bytes: &[u8]) -> String {
    const ALPHA: &[u8; 32] = b"abcdefghijklmnopqrstuvwxyz234567";
    let mut out = String::new();
    let (mut acc, mut bits) = (0u32, 0u32);
    for &b in bytes {
        acc = (acc << 8) | u32::from(b);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(char::from(ALPHA[((acc >> bits) & 31) as usize]));
        }
    }
    if bits > 0 {
        out.push(char::from(ALPHA[((acc << (5 - bits)) & 31) as usize]));
    }
    out
}

/// A uniform random `u64` (0 if the system source fails: only allocation spread suffers).
pub fn random_u64(rng: &SystemRandom) -> u64 {
    let mut b = [0u8; 8];
    let _ = rng.fill(&mut b);
    u64::from_le_bytes(b)
}

/// SHA-256 of `bytes`.
pub fn sha256(bytes: &[u8]) -> [u8; 32] {
    let d = ring::digest::digest(&ring::digest::SHA256, bytes);
    let mut out = [0u8; 32];
    out.copy_from_slice(d.as_ref());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seal_open_round_trip_and_context_binding() {
        let k = Keyring::ephemeral().expect("keyring");
        let s = k.seal("sim/1/ki", b"secret-ki-bytes!").expect("seal");
        assert!(!s.ct.contains(&hex(b"secret-ki-bytes!")));
        assert_eq!(
            k.open("sim/1/ki", &s).expect("open").as_slice(),
            b"secret-ki-bytes!"
        );
        assert!(matches!(k.open("sim/2/ki", &s), Err(CryptoError::Open)));
        let mut tampered = s.clone();
        tampered
            .ct
            .replace_range(0..2, if &s.ct[0..2] == "00" { "01" } else { "00" });
        assert!(matches!(
            k.open("sim/1/ki", &tampered),
            Err(CryptoError::Open)
        ));
    }

    #[test]
    fn key_file_is_created_private_and_reloads() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("keys/data-key");
        let k1 = Keyring::load_or_create(&path).expect("create");
        let sealed = k1.seal("ctx", b"x").expect("seal");
        let k2 = Keyring::load_or_create(&path).expect("reload");
        assert_eq!(k2.open("ctx", &sealed).expect("open").as_slice(), b"x");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).expect("meta").permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[test]
    fn fingerprints_are_keyed_and_survive_rotation() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("data-key");
        let k1 = Keyring::load_or_create(&path).expect("create");
        let body = br#"{"subscriber":{"id_number":"110101199003074512"}}"#;
        let f = k1.fingerprint(body);
        let kid = k1.current_id().to_owned();
        assert!(f.starts_with(&format!("hmac-sha256:{kid}:")), "{f}");
        assert!(!f.contains(&hex(&sha256(body))), "not the plain hash");
        assert_ne!(f, k1.fingerprint(b"{}"));
        assert_ne!(
            f,
            Keyring::ephemeral().expect("keys").fingerprint(body),
            "another key file, another fingerprint"
        );
        Keyring::add_key(&path).expect("rotate");
        let k2 = Keyring::load_or_create(&path).expect("reload");
        assert_ne!(k2.current_id(), kid);
        assert_eq!(k2.fingerprint(body), f, "rotation keeps fingerprints");
    }

    #[cfg(unix)]
    #[test]
    fn data_dirs_are_created_and_tightened_private() {
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &Path| std::fs::metadata(p).expect("meta").permissions().mode() & 0o777;
        let root = tempfile::tempdir().expect("tempdir");
        let fresh = root.path().join("a/b");
        make_data_dir_private(&fresh).expect("fresh");
        assert_eq!((mode(&root.path().join("a")), mode(&fresh)), (0o700, 0o700));
        let old = root.path().join("old");
        std::fs::create_dir_all(old.join("tls")).expect("mkdir");
        std::fs::create_dir_all(old.join("keys")).expect("mkdir");
        for d in [&old, &old.join("tls"), &old.join("keys")] {
            std::fs::set_permissions(d, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        }
        make_data_dir_private(&old).expect("tighten");
        for d in [&old, &old.join("tls"), &old.join("keys")] {
            assert_eq!(mode(d), 0o700, "{}", d.display());
        }
    }

    #[test]
    fn order_ids_share_their_time_prefix_and_differ_in_their_random_part() {
        let rng = SystemRandom::new();
        let a = order_id(&rng, "act_", 1_764_000_000_000).expect("id");
        let b = order_id(&rng, "act_", 1_764_000_000_500).expect("id");
        let later = order_id(&rng, "act_", 1_764_086_400_000).expect("id");
        assert_eq!((a.len(), &a[..4]), (30, "act_"));
        assert!(
            a[4..]
                .bytes()
                .all(|c| matches!(c, b'a'..=b'z' | b'2'..=b'7'))
        );
        assert_eq!(a[..10], b[..10], "half a second apart: {a} {b}");
        assert_ne!(a[..10], later[..10], "a day apart: {a} {later}");
        let again = order_id(&rng, "act_", 1_764_000_000_000).expect("id");
        assert_ne!(a, again, "the same millisecond, two ids");
    }

    #[test]
    fn base32_matches_rfc4648() {
        assert_eq!(base32(b"foobar"), "mzxw6ytboi");
        assert_eq!(base32(b"f"), "my");
    }
}
