//! What the JSON codecs of this crate share (identity verification, porting hub): a
//! capped parse into one object, and member reads whose errors name the member and never
//! quote a value (serde's own errors can, and a body may hold an ID number or a porting
//! code). Each codec's `json.rs` binds these to its own error type.

use serde_json::{Map, Value};

/// A decoded JSON object.
pub(crate) type Object = Map<String, Value>;

/// Why a body or a member was refused; each codec turns it into its own error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum JsonError {
    /// The body is over the codec's limit.
    TooLarge(usize),
    /// The body is not UTF-8.
    NotUtf8,
    /// The body is not JSON.
    Malformed(usize, usize),
    /// The body is JSON but not an object.
    NotAnObject,
    /// A mandatory member is absent (or `null`).
    Missing(&'static str),
    /// A member has the wrong type or value.
    Invalid(&'static str),
}

type Result<T> = std::result::Result<T, JsonError>;

/// Parses `body` as one JSON object of at most `limit` bytes (serde_json caps nesting
/// depth at 128).
pub(crate) fn parse_object(body: &[u8], limit: usize) -> Result<Object> {
    if body.len() > limit {
        return Err(JsonError::TooLarge(limit));
    }
    let text = std::str::from_utf8(body).map_err(|_| JsonError::NotUtf8)?;
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(JsonError::NotAnObject),
        Err(e) => Err(JsonError::Malformed(e.line(), e.column())),
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
        Some(_) => Err(JsonError::Invalid(path)),
    }
}

/// A mandatory string member.
pub(crate) fn req_str<'a>(obj: &'a Object, name: &str, path: &'static str) -> Result<&'a str> {
    opt_str(obj, name, path)?.ok_or(JsonError::Missing(path))
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
        Some(_) => Err(JsonError::Invalid(path)),
    }
}

/// A mandatory object member.
pub(crate) fn req_obj<'a>(obj: &'a Object, name: &str, path: &'static str) -> Result<&'a Object> {
    opt_obj(obj, name, path)?.ok_or(JsonError::Missing(path))
}

/// A mandatory boolean member (a JSON boolean, not a string).
pub(crate) fn req_bool(obj: &Object, name: &str, path: &'static str) -> Result<bool> {
    match get(obj, name) {
        None => Err(JsonError::Missing(path)),
        Some(Value::Bool(b)) => Ok(*b),
        Some(_) => Err(JsonError::Invalid(path)),
    }
}

/// A mandatory number member.
pub(crate) fn req_f64(obj: &Object, name: &str, path: &'static str) -> Result<f64> {
    match get(obj, name) {
        None => Err(JsonError::Missing(path)),
        Some(Value::Number(n)) => n.as_f64().ok_or(JsonError::Invalid(path)),
        Some(_) => Err(JsonError::Invalid(path)),
    }
}

/// A mandatory non-negative integer member (a JSON number, not a string).
pub(crate) fn req_u64(obj: &Object, name: &str, path: &'static str) -> Result<u64> {
    match get(obj, name) {
        None => Err(JsonError::Missing(path)),
        Some(Value::Number(n)) => n.as_u64().ok_or(JsonError::Invalid(path)),
        Some(_) => Err(JsonError::Invalid(path)),
    }
}

/// Serialises a value whose `Serialize` emits only strings, booleans, finite numbers and
/// maps, which cannot fail; an empty body would be refused by any peer, never accepted.
pub(crate) fn to_bytes<T: serde::Serialize + ?Sized>(value: &T) -> Vec<u8> {
    serde_json::to_vec(value).unwrap_or_default()
}
