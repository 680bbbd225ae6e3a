//! A JSON Schema (2020-12) validator for the subset that `/openapi.json` uses, with its
//! `$ref`s resolved in the document itself. A keyword it does not know is an error, never
//! skipped: the document cannot use one that this checker would silently ignore.
//!
//! It also reports undocumented members: a member of an object whose schema names its
//! members (`properties`), that neither the schema nor any of its applicable subschemas
//! names (the `unevaluatedProperties: false` rule, applied to every such object). A
//! schema that names no member (`{"type": "object"}`) leaves its members free.

use regex_automata::dfa::regex::Regex;
use serde_json::Value;
use std::collections::{BTreeSet, HashMap};
use std::sync::Mutex;

/// Keywords that only annotate: they never refuse an instance.
const ANNOTATIONS: &[&str] = &[
    "description",
    "title",
    "default",
    "examples",
    "deprecated",
    "readOnly",
    "writeOnly",
    "$comment",
];

/// What a schema says about an object's members, for the undocumented-member rule.
#[derive(Debug, Clone, PartialEq)]
enum Known {
    /// The schema names no member: they are free.
    Nothing,
    /// These members are documented.
    Names(BTreeSet<String>),
    /// Any member is (`additionalProperties` other than `false`).
    Any,
}

impl Known {
    fn join(self, other: Known) -> Known {
        match (self, other) {
            (Known::Any, _) | (_, Known::Any) => Known::Any,
            (Known::Nothing, k) | (k, Known::Nothing) => k,
            (Known::Names(mut a), Known::Names(b)) => {
                a.extend(b);
                Known::Names(a)
            }
        }
    }
}

/// Validates instances against schemas of one document; compiled patterns are kept.
pub struct Validator {
    root: Value,
    patterns: Mutex<HashMap<String, Result<Regex, String>>>,
}

impl Validator {
    /// A validator resolving `$ref`s (`#/…`) in `root`.
    pub fn new(root: Value) -> Self {
        Self {
            root,
            patterns: Mutex::new(HashMap::new()),
        }
    }

    /// The document.
    pub fn root(&self) -> &Value {
        &self.root
    }

    /// Every way `instance` breaks `schema`, each as `<instance path>: <what>`; empty
    /// when it validates.
    pub fn validate(&self, schema: &Value, instance: &Value) -> Vec<String> {
        let mut errors = Vec::new();
        self.location(schema, instance, "", &mut errors);
        errors
    }

    /// Validates at a new instance location and applies the undocumented-member rule there.
    fn location(&self, schema: &Value, instance: &Value, at: &str, errors: &mut Vec<String>) {
        let known = self.check(schema, instance, at, errors, 0);
        if let (Value::Object(members), Known::Names(names)) = (instance, known) {
            for name in members.keys().filter(|k| !names.contains(*k)) {
                errors.push(format!("{at}/{name}: member not in the schema"));
            }
        }
    }

    fn resolve(&self, reference: &str) -> Option<&Value> {
        let pointer = reference.strip_prefix('#')?;
        self.root.pointer(pointer)
    }

    fn matches(&self, pattern: &str, s: &str) -> Result<bool, String> {
        let mut cache = self.patterns.lock().unwrap_or_else(|p| p.into_inner());
        let compiled = cache
            .entry(pattern.to_owned())
            .or_insert_with(|| Regex::new(pattern).map_err(|e| e.to_string()));
        match compiled {
            Ok(re) => Ok(re.is_match(s)),
            Err(e) => Err(format!("pattern {pattern:?} does not compile: {e}")),
        }
    }

    /// Checks `instance` against one schema at one location: the members it documents.
    fn check(
        &self,
        schema: &Value,
        instance: &Value,
        at: &str,
        errors: &mut Vec<String>,
        depth: usize,
    ) -> Known {
        if depth > 64 {
            errors.push(format!("{at}: $ref cycle"));
            return Known::Any;
        }
        let schema = match schema {
            Value::Bool(true) => return Known::Nothing,
            Value::Bool(false) => {
                errors.push(format!("{at}: the schema is `false`"));
                return Known::Nothing;
            }
            Value::Object(m) => m,
            other => {
                errors.push(format!("{at}: not a schema: {other}"));
                return Known::Nothing;
            }
        };
        let mut known = Known::Nothing;
        for (keyword, arg) in schema {
            let k = keyword.as_str();
            match k {
                "$ref" => match arg.as_str().and_then(|r| self.resolve(r)) {
                    Some(target) => {
                        let sub = self.check(target, instance, at, errors, depth + 1);
                        known = known.join(sub);
                    }
                    None => errors.push(format!("{at}: $ref {arg} does not resolve")),
                },
                "type" => {
                    let types: Vec<&str> = match arg {
                        Value::String(s) => vec![s.as_str()],
                        Value::Array(a) => a.iter().filter_map(Value::as_str).collect(),
                        _ => vec![],
                    };
                    if !types.iter().any(|t| is_type(instance, t)) {
                        errors.push(format!("{at}: {} is not of type {arg}", kind(instance)));
                    }
                }
                "enum" => {
                    if !arg.as_array().is_some_and(|a| a.contains(instance)) {
                        errors.push(format!("{at}: {instance} is not one of {arg}"));
                    }
                }
                "const" => {
                    if arg != instance {
                        errors.push(format!("{at}: {instance} is not {arg}"));
                    }
                }
                "format" => {
                    if let (Some("date-time"), Value::String(s)) = (arg.as_str(), instance) {
                        if !is_date_time(s) {
                            errors.push(format!("{at}: {s:?} is not an RFC 3339 date-time"));
                        }
                    }
                }
                "pattern" => {
                    if let Value::String(s) = instance {
                        let p = arg.as_str().unwrap_or_default();
                        match self.matches(p, s) {
                            Ok(true) => {}
                            Ok(false) => errors.push(format!("{at}: {s:?} does not match {p:?}")),
                            Err(e) => errors.push(format!("{at}: {e}")),
                        }
                    }
                }
                "minLength" | "maxLength" => {
                    if let Value::String(s) = instance {
                        let n = s.chars().count() as f64;
                        bound(k, arg, n, at, errors);
                    }
                }
                "minItems" | "maxItems" => {
                    if let Value::Array(a) = instance {
                        bound(k, arg, a.len() as f64, at, errors);
                    }
                }
                "minProperties" | "maxProperties" => {
                    if let Value::Object(m) = instance {
                        bound(k, arg, m.len() as f64, at, errors);
                    }
                }
                "minimum" | "maximum" | "exclusiveMinimum" | "exclusiveMaximum" => {
                    if let Some(n) = instance.as_f64() {
                        bound(k, arg, n, at, errors);
                    }
                }
                "uniqueItems" => {
                    if let (Value::Array(a), Some(true)) = (instance, arg.as_bool()) {
                        if a.iter().enumerate().any(|(i, x)| a[..i].contains(x)) {
                            errors.push(format!("{at}: items are not unique"));
                        }
                    }
                }
                "required" => {
                    if let Value::Object(m) = instance {
                        for name in arg.as_array().into_iter().flatten() {
                            let name = name.as_str().unwrap_or_default();
                            if !m.contains_key(name) {
                                errors.push(format!("{at}: required member `{name}` is missing"));
                            }
                        }
                    }
                }
                "properties" => {
                    let props = arg.as_object();
                    let names = props
                        .map(|p| p.keys().cloned().collect())
                        .unwrap_or_default();
                    known = known.join(Known::Names(names));
                    if let (Value::Object(m), Some(props)) = (instance, props) {
                        for (name, sub) in props {
                            if let Some(v) = m.get(name) {
                                self.location(sub, v, &format!("{at}/{name}"), errors);
                            }
                        }
                    }
                }
                "additionalProperties" => {
                    if arg != &Value::Bool(false) {
                        known = known.join(Known::Any);
                    }
                    if let Value::Object(m) = instance {
                        let declared = schema.get("properties").and_then(Value::as_object);
                        for (name, v) in m {
                            if declared.is_some_and(|d| d.contains_key(name)) {
                                continue;
                            }
                            if arg == &Value::Bool(false) {
                                errors.push(format!("{at}/{name}: member not allowed"));
                            } else {
                                self.location(arg, v, &format!("{at}/{name}"), errors);
                            }
                        }
                    }
                }
                "items" => {
                    if let Value::Array(a) = instance {
                        for (i, v) in a.iter().enumerate() {
                            self.location(arg, v, &format!("{at}/{i}"), errors);
                        }
                    }
                }
                "allOf" => {
                    for sub in arg.as_array().into_iter().flatten() {
                        let k = self.check(sub, instance, at, errors, depth + 1);
                        known = known.join(k);
                    }
                }
                "anyOf" | "oneOf" => {
                    let mut passed = Vec::new();
                    let mut why = Vec::new();
                    for (i, sub) in arg.as_array().into_iter().flatten().enumerate() {
                        let mut e = Vec::new();
                        let k = self.check(sub, instance, at, &mut e, depth + 1);
                        if e.is_empty() {
                            passed.push(k);
                        } else {
                            why.push(format!("[{i}] {}", e.join("; ")));
                        }
                    }
                    if passed.is_empty() {
                        errors.push(format!(
                            "{at}: matches no branch of {k}: {}",
                            why.join(" | ")
                        ));
                    } else if k == "oneOf" && passed.len() > 1 {
                        errors.push(format!("{at}: matches {} branches of oneOf", passed.len()));
                    }
                    for p in passed {
                        known = known.join(p);
                    }
                }
                "not" => {
                    let mut e = Vec::new();
                    self.check(arg, instance, at, &mut e, depth + 1);
                    if e.is_empty() {
                        errors.push(format!("{at}: matches the `not` schema"));
                    }
                }
                k if ANNOTATIONS.contains(&k) => {}
                other => errors.push(format!(
                    "{at}: the schema uses `{other}`, which this checker does not know"
                )),
            }
        }
        known
    }
}

fn bound(keyword: &str, arg: &Value, n: f64, at: &str, errors: &mut Vec<String>) {
    let Some(limit) = arg.as_f64() else {
        errors.push(format!("{at}: `{keyword}` is not a number"));
        return;
    };
    let ok = match keyword {
        "minimum" | "minLength" | "minItems" | "minProperties" => n >= limit,
        "exclusiveMinimum" => n > limit,
        "exclusiveMaximum" => n < limit,
        _ => n <= limit,
    };
    if !ok {
        errors.push(format!("{at}: {n} breaks {keyword} {limit}"));
    }
}

fn is_type(v: &Value, t: &str) -> bool {
    match t {
        "null" => v.is_null(),
        "boolean" => v.is_boolean(),
        "object" => v.is_object(),
        "array" => v.is_array(),
        "string" => v.is_string(),
        "number" => v.is_number(),
        "integer" => v.is_i64() || v.is_u64() || v.as_f64().is_some_and(|f| f.fract() == 0.0),
        _ => false,
    }
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// RFC 3339 `date-time`: `YYYY-MM-DDThh:mm:ss[.frac](Z|±hh:mm)`.
fn is_date_time(s: &str) -> bool {
    let b = s.as_bytes();
    let digits =
        |r: std::ops::Range<usize>| b.get(r).is_some_and(|d| d.iter().all(u8::is_ascii_digit));
    if b.len() < 20
        || !(digits(0..4) && digits(5..7) && digits(8..10) && digits(11..13) && digits(14..16))
        || !digits(17..19)
        || b[4] != b'-'
        || b[7] != b'-'
        || !matches!(b[10], b'T' | b't')
        || b[13] != b':'
        || b[16] != b':'
    {
        return false;
    }
    let mut rest = &s[19..];
    if let Some(frac) = rest.strip_prefix('.') {
        let n = frac.bytes().take_while(u8::is_ascii_digit).count();
        if n == 0 {
            return false;
        }
        rest = &frac[n..];
    }
    match rest.as_bytes() {
        [b'Z' | b'z'] => true,
        [b'+' | b'-', h1, h2, b':', m1, m2] => [h1, h2, m1, m2].iter().all(|d| d.is_ascii_digit()),
        _ => false,
    }
}
