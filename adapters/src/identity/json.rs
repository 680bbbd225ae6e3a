//! JSON helpers of the verification codec: a capped parse into an object, and member
//! accessors whose errors name the member (serde's own errors can quote values).

use super::error::IdentityCodecError;
use serde_json::{Map, Value};

/// The largest body either decoder accepts, in bytes.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// A decoded JSON object.
pub(crate) type Object = Map<String, Value>;

type Result<T> = std::result::Result<T, IdentityCodecError>;

/// Parses `body` as one JSON object (serde_json caps nesting depth at 128).
pub(crate) fn parse_object(body: &[u8]) -> Result<Object> {
    if body.len() > MAX_BODY_BYTES {
        return Err(IdentityCodecError::TooLarge {
            limit: MAX_BODY_BYTES,
        });
    }
    let text = std::str::from_utf8(body).map_err(|_| IdentityCodecError::NotUtf8)?;
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(IdentityCodecError::NotAnObject),
        Err(e) => Err(IdentityCodecError::Malformed {
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
        Some(_) => Err(IdentityCodecError::InvalidValue { field: path }),
    }
}

/// A mandatory string member.
pub(crate) fn req_str<'a>(obj: &'a Object, name: &str, path: &'static str) -> Result<&'a str> {
    opt_str(obj, name, path)?.ok_or(IdentityCodecError::Missing { field: path })
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
        Some(_) => Err(IdentityCodecError::InvalidValue { field: path }),
    }
}

/// A mandatory object member.
pub(crate) fn req_obj<'a>(obj: &'a Object, name: &str, path: &'static str) -> Result<&'a Object> {
    opt_obj(obj, name, path)?.ok_or(IdentityCodecError::Missing { field: path })
}

/// A mandatory boolean member (a JSON boolean, not a string).
pub(crate) fn req_bool(obj: &Object, name: &str, path: &'static str) -> Result<bool> {
    match get(obj, name) {
        None => Err(IdentityCodecError::Missing { field: path }),
        Some(Value::Bool(b)) => Ok(*b),
        Some(_) => Err(IdentityCodecError::InvalidValue { field: path }),
    }
}

/// A mandatory number member.
pub(crate) fn req_f64(obj: &Object, name: &str, path: &'static str) -> Result<f64> {
    match get(obj, name) {
        None => Err(IdentityCodecError::Missing { field: path }),
        Some(Value::Number(n)) => n
            .as_f64()
            .ok_or(IdentityCodecError::InvalidValue { field: path }),
        Some(_) => Err(IdentityCodecError::InvalidValue { field: path }),
    }
}

/// Serialises a value whose `Serialize` emits only strings, booleans, finite numbers and
/// maps, which cannot fail; an empty body would be refused by any peer, never accepted.
pub(crate) fn to_bytes<T: serde::Serialize + ?Sized>(value: &T) -> Vec<u8> {
    serde_json::to_vec(value).unwrap_or_default()
}
