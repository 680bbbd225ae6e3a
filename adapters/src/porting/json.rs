//! JSON helpers of the porting codec: a capped parse into an object, and member accessors
//! that parse into the protocol's types with errors naming the member (serde's own errors
//! can quote values, and a body may hold a porting code).

use super::error::PortingCodecError;
use super::values::{Code, Ref, UtcTime};
use crate::json_member::{self as member, JsonError};

pub(crate) use crate::json_member::{Object, to_bytes};

/// The largest body any decoder accepts, in bytes.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

type Result<T> = std::result::Result<T, PortingCodecError>;

impl From<JsonError> for PortingCodecError {
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

/// A mandatory non-negative integer member.
pub(crate) fn req_u64(obj: &Object, name: &str, path: &'static str) -> Result<u64> {
    Ok(member::req_u64(obj, name, path)?)
}

/// A mandatory [`Ref`] member.
pub(crate) fn req_ref(obj: &Object, path: &'static str) -> Result<Ref> {
    Ref::parse(req_str(obj, path, path)?, path)
}

/// An optional [`Ref`] member.
pub(crate) fn opt_ref(obj: &Object, path: &'static str) -> Result<Option<Ref>> {
    opt_str(obj, path, path)?
        .map(|s| Ref::parse(s, path))
        .transpose()
}

/// A mandatory [`Code`] member.
pub(crate) fn req_code(obj: &Object, path: &'static str) -> Result<Code> {
    Code::parse(req_str(obj, path, path)?, path)
}

/// A mandatory [`UtcTime`] member.
pub(crate) fn req_time(obj: &Object, path: &'static str) -> Result<UtcTime> {
    UtcTime::parse(req_str(obj, path, path)?, path)
}

/// An optional [`UtcTime`] member.
pub(crate) fn opt_time(obj: &Object, path: &'static str) -> Result<Option<UtcTime>> {
    opt_str(obj, path, path)?
        .map(|s| UtcTime::parse(s, path))
        .transpose()
}

/// A mandatory E.164 number member (digits, country code first; a leading `+` is
/// accepted and dropped).
pub(crate) fn req_msisdn(obj: &Object, path: &'static str) -> Result<sim_profiles::Msisdn> {
    req_str(obj, path, path)?
        .parse()
        .map_err(|_| PortingCodecError::InvalidValue { field: path })
}
