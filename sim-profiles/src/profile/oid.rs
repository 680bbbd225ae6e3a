//! OBJECT IDENTIFIER values (template OIDs), checked and printed through asn1-rs.

use super::error::ProfileError;
use asn1_rs::Oid;
use std::borrow::Cow;
use std::fmt;
use std::str::FromStr;

/// Longest accepted arc, in content bytes (so every arc fits a `u64`).
const MAX_ARC_BYTES: usize = 9;

/// An absolute OBJECT IDENTIFIER, held as its DER content bytes.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct ObjectId(Oid<'static>);

impl ObjectId {
    /// Wraps DER content bytes (no tag or length), checking that every arc is minimal.
    pub fn from_der_content(content: &[u8]) -> Result<Self, ProfileError> {
        let bad = |reason| ProfileError::malformed("OBJECT IDENTIFIER", reason);
        if content.is_empty() {
            return Err(bad("empty"));
        }
        if content.last().is_some_and(|b| *b & 0x80 != 0) {
            return Err(bad("last arc unterminated"));
        }
        let mut arc_len = 0usize;
        for b in content {
            if arc_len == 0 && *b == 0x80 {
                return Err(bad("non-minimal arc"));
            }
            arc_len += 1;
            if arc_len > MAX_ARC_BYTES {
                return Err(bad("arc too large"));
            }
            if b & 0x80 == 0 {
                arc_len = 0;
            }
        }
        Ok(Self(Oid::new(Cow::Owned(content.to_vec()))))
    }

    /// The DER content bytes (no tag or length).
    pub fn as_der_content(&self) -> &[u8] {
        self.0.as_bytes()
    }

    /// The TCA template OID `2.23.143.1.2.<suffix>`.
    pub fn template(suffix: u8) -> Self {
        let mut content = vec![0x67, 0x81, 0x0F, 0x01, 0x02];
        if suffix >= 0x80 {
            content.push(0x80 | (suffix >> 7));
        }
        content.push(suffix & 0x7F);
        Self(Oid::new(Cow::Owned(content)))
    }
}

impl FromStr for ObjectId {
    type Err = ProfileError;

    /// Parses dotted decimal, e.g. `2.23.143.1.2.1`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let oid = Oid::from_str(s)
            .map_err(|_| ProfileError::malformed("OBJECT IDENTIFIER", "not dotted decimal"))?;
        Self::from_der_content(oid.as_bytes())
    }
}

impl fmt::Display for ObjectId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.to_id_string())
    }
}

impl fmt::Debug for ObjectId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ObjectId({self})")
    }
}
