//! JSON helpers of the porting codec: a capped parse into an object, and member accessors
//! that parse into the protocol's types with errors naming the member (serde's own errors
//! can quote values, and a body may hold a porting code).

use super::error::PortingCodecError;
use super::values::{Code, Ref, UtcTime};
use serde_json::{Map, Value};

/// The largest body any decoder accepts, in bytes.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// A decoded JSON object.
pub(crate) type Object = Map<String, Value>;

type Result<T> = std::result::Result<T, PortingCodecError>;

/// Parses `body` as one JSON object (serde_json caps nesting depth at 128).
pub(crate) fn parse_object(body: &[u8]) -> Result<Object> {
    if body.len() > MAX_BODY_BYTES {
        return Err(PortingCodecError::TooLarge {
            limit: MAX_BODY_BYTES,
        });
    }
    let text = std::str::from_utf8(body).map_err(|_| PortingCodecError::NotUtf8)?;
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(PortingCodecError::NotAnObject),
        Err(e) => Err(PortingCodecError::Malformed {
            line: e.line(),
            column: e.column(),
        }),
    }
}

/// A member, with `null` treated as absent.
fn get<'a>(obj: &'a Object, name: &str) -> Option<&'a Value> {
    obj.get(name).filter(|v| !v.is_null())
}

/// An optional string member.
pub(crate) fn opt_str<'a>(
    obj: &'a Object,
    name: &str,
    path: &'static str,
) -> Result<Option<&'a str>> {
    match get(obj, name) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(PortingCodecError::InvalidValue { field: path }),
    }
}

/// A mandatory string member.
pub(crate) fn req_str<'a>(obj: &'a Object, name: &str, path: &'static str) -> Result<&'a str> {
    opt_str(obj, name, path)?.ok_or(PortingCodecError::Missing { field: path })
}

/// An optional object member.
pub(crate) fn opt_obj<'a>(
    obj: &'a Object,
    name: &str,
    path: &'static str,
) -> Result<Option<&'a Object>> {
    match get(obj, name) {
        None => Ok(None),
        Some(Value::Object(o)) => Ok(Some(o)),
        Some(_) => Err(PortingCodecError::InvalidValue { field: path }),
    }
}

/// A mandatory non-negative integer member (a JSON number, not a string).
pub(crate) fn req_u64(obj: &Object, name: &str, path: &'static str) -> Result<u64> {
    match get(obj, name) {
        None => Err(PortingCodecError::Missing { field: path }),
        Some(Value::Number(n)) => n
            .as_u64()
            .ok_or(PortingCodecError::InvalidValue { field: path }),
        Some(_) => Err(PortingCodecError::InvalidValue { field: path }),
    }
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

/// Serialises a value whose `Serialize` emits only strings, integers and maps, which
/// cannot fail; an empty body would be refused by any peer, never accepted.
pub(crate) fn to_bytes<T: serde::Serialize + ?Sized>(value: &T) -> Vec<u8> {
    serde_json::to_vec(value).unwrap_or_default()
}

/// A mandatory E.164 number member (digits, country code first; a leading `+` is
/// accepted and dropped).
pub(crate) fn req_msisdn(obj: &Object, path: &'static str) -> Result<sim_profiles::Msisdn> {
    req_str(obj, path, path)?
        .parse()
        .map_err(|_| PortingCodecError::InvalidValue { field: path })
}
