//! JSON helpers of the verification codec: a capped parse into an object, and member
//! accessors whose errors name the member (serde's own errors can quote values).

use super::error::IdentityCodecError;
use crate::json_member::{self as member, JsonError};

pub(crate) use crate::json_member::{Object, to_bytes};

/// The largest body any decoder accepts, in bytes.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

type Result<T> = std::result::Result<T, IdentityCodecError>;

impl From<JsonError> for IdentityCodecError {
    fn from(e: JsonError) -> Self {
        match e {
            JsonError::TooLarge(limit) => Self::TooLarge { limit },
            JsonError::NotUtf8 => Self::NotUtf8,
            JsonError::Malformed(line, column) => Self::Malformed { line, column },
            JsonError::NotAnObject => Self::NotAnObject,
            JsonError::Missing(field) => Self::Missing { field },
            JsonError::Invalid(field) => Self::InvalidValue { field },
        }
    }
}

/// Parses `body` as one JSON object of at most [`MAX_BODY_BYTES`].
pub(crate) fn parse_object(body: &[u8]) -> Result<Object> {
    Ok(member::parse_object(body, MAX_BODY_BYTES)?)
}

/// An optional string member.
pub(crate) fn opt_str<'a>(
    obj: &'a Object,
    name: &str,
    path: &'static str,
) -> Result<Option<&'a str>> {
    Ok(member::opt_str(obj, name, path)?)
}

/// A mandatory string member.
pub(crate) fn req_str<'a>(obj: &'a Object, name: &str, path: &'static str) -> Result<&'a str> {
    Ok(member::req_str(obj, name, path)?)
}

/// An optional object member.
pub(crate) fn opt_obj<'a>(
    obj: &'a Object,
    name: &str,
    path: &'static str,
) -> Result<Option<&'a Object>> {
    Ok(member::opt_obj(obj, name, path)?)
}

/// A mandatory object member.
pub(crate) fn req_obj<'a>(obj: &'a Object, name: &str, path: &'static str) -> Result<&'a Object> {
    Ok(member::req_obj(obj, name, path)?)
}

/// A mandatory boolean member.
pub(crate) fn req_bool(obj: &Object, name: &str, path: &'static str) -> Result<bool> {
    Ok(member::req_bool(obj, name, path)?)
}

/// A mandatory number member.
pub(crate) fn req_f64(obj: &Object, name: &str, path: &'static str) -> Result<f64> {
    Ok(member::req_f64(obj, name, path)?)
}
