//! Answers checked against an OpenAPI 3.1 document (`/openapi.json`): the status must be
//! documented for the operation, the content type among that answer's media types, and
//! a JSON body valid against that media type's schema (`json_schema`). A JSON body with no
//! documented schema, or a body where the document promises none, is a failure too.
//!
//! `OpenApi::record` keeps every failure and every operation it saw, so one run of a test
//! reports all mismatches at once and can tell which documented operations it never drove.

use super::json_schema::Validator;
use serde_json::Value;
use std::collections::BTreeSet;
use std::sync::Mutex;

/// The HTTP methods an OpenAPI path item may hold.
const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// A document to check answers against, and what was checked so far.
pub struct OpenApi {
    validator: Validator,
    covered: Mutex<BTreeSet<(String, String)>>,
    failures: Mutex<Vec<String>>,
}

impl OpenApi {
    /// Checks against `doc`.
    pub fn new(doc: Value) -> Self {
        Self {
            validator: Validator::new(doc),
            covered: Mutex::new(BTreeSet::new()),
            failures: Mutex::new(Vec::new()),
        }
    }

    /// The document.
    pub fn doc(&self) -> &Value {
        self.validator.root()
    }

    /// Every documented operation as (method, path template).
    pub fn operations(&self) -> BTreeSet<(String, String)> {
        let mut out = BTreeSet::new();
        for (path, item) in self.doc()["paths"].as_object().into_iter().flatten() {
            for m in item.as_object().into_iter().flatten().map(|(m, _)| m) {
                if METHODS.contains(&m.as_str()) {
                    out.insert((m.clone(), path.clone()));
                }
            }
        }
        out
    }

    /// The path template `path` (query ignored) is served under for `method`: of the
    /// templates it fits (`{x}` takes one segment), the one with the most literal segments.
    pub fn template(&self, method: &str, path: &str) -> Result<String, String> {
        let path = path.split('?').next().unwrap_or_default();
        let segments: Vec<&str> = path.split('/').collect();
        let method = method.to_ascii_lowercase();
        let mut best: Option<(usize, &String)> = None;
        for (template, item) in self.doc()["paths"].as_object().into_iter().flatten() {
            let t: Vec<&str> = template.split('/').collect();
            if t.len() != segments.len() || item.get(&method).is_none() {
                continue;
            }
            let fits = t
                .iter()
                .zip(&segments)
                .all(|(t, s)| (t.starts_with('{') && t.ends_with('}') && !s.is_empty()) || t == s);
            let literal = t.iter().filter(|t| !t.starts_with('{')).count();
            if fits && best.is_none_or(|(n, _)| literal > n) {
                best = Some((literal, template));
            }
        }
        best.map(|(_, t)| t.clone())
            .ok_or_else(|| format!("{method} {path}: no documented operation"))
    }

    /// Checks one answer to `method path`.
    pub fn check(
        &self,
        method: &str,
        path: &str,
        status: u16,
        content_type: &str,
        body: &[u8],
    ) -> Result<(), String> {
        let template = self.template(method, path)?;
        let op = &self.doc()["paths"][&template][method.to_ascii_lowercase()];
        let what = format!("{} {template} → {status}", method.to_ascii_uppercase());
        let responses = &op["responses"];
        let range = format!("{}XX", status / 100);
        let answer = [status.to_string(), range, "default".to_owned()]
            .iter()
            .find_map(|k| responses.get(k))
            .ok_or_else(|| format!("{what}: status not documented"))?;
        let answer = self.deref(answer);
        let media = content_type
            .split(';')
            .next()
            .unwrap_or_default()
            .trim()
            .to_ascii_lowercase();
        let Some(content) = answer.get("content").and_then(Value::as_object) else {
            return if body.is_empty() {
                Ok(())
            } else {
                Err(format!(
                    "{what}: a {media} body, but the document describes none"
                ))
            };
        };
        let Some(entry) = content.get(&media) else {
            return Err(format!(
                "{what}: content type {media:?}, documented: {:?}",
                content.keys().collect::<Vec<_>>()
            ));
        };
        if !(media == "application/json" || media.ends_with("+json")) {
            return Ok(());
        }
        let Some(schema) = entry.get("schema") else {
            return Err(format!("{what}: a JSON body with no documented schema"));
        };
        let value: Value = serde_json::from_slice(body)
            .map_err(|e| format!("{what}: the {media} body is not JSON: {e}"))?;
        let errors = self.validator.validate(schema, &value);
        if errors.is_empty() {
            Ok(())
        } else {
            let mut shown: String = value.to_string().chars().take(600).collect();
            if shown.len() < value.to_string().len() {
                shown.push('…');
            }
            Err(format!(
                "{what}: {}\n    body: {shown}",
                errors.join("\n    ")
            ))
        }
    }

    /// The paths the links of answer `status` to `method path` lead to, their parameters
    /// taken from `body` (`$response.body#/…`), for the GETs they name that answer 200
    /// right after (not those marked `x-simgw-state-dependent`).
    pub fn linked(&self, method: &str, path: &str, status: u16, body: &Value) -> Vec<String> {
        let Ok(template) = self.template(method, path) else {
            return Vec::new();
        };
        let answer = &self.doc()["paths"][&template][method.to_ascii_lowercase()]["responses"]
            [status.to_string()];
        let mut out = Vec::new();
        for link in self.deref(answer)["links"]
            .as_object()
            .into_iter()
            .flatten()
            .map(|(_, l)| l)
        {
            let Some(target) = self.get_template(link["operationId"].as_str().unwrap_or_default())
            else {
                continue;
            };
            if link["x-simgw-state-dependent"] == true {
                continue;
            }
            let mut concrete = target;
            for (name, expr) in link["parameters"].as_object().into_iter().flatten() {
                let pointer = expr
                    .as_str()
                    .and_then(|e| e.strip_prefix("$response.body#"));
                let value = pointer
                    .and_then(|p| body.pointer(p))
                    .and_then(Value::as_str);
                concrete = concrete.replace(&format!("{{{name}}}"), value.unwrap_or("{missing}"));
            }
            out.push(concrete);
        }
        out
    }

    /// The path template of the GET operation `operation_id`.
    fn get_template(&self, operation_id: &str) -> Option<String> {
        self.doc()["paths"]
            .as_object()?
            .iter()
            .find(|(_, item)| item["get"]["operationId"] == operation_id)
            .map(|(path, _)| path.clone())
    }

    /// Like [`OpenApi::check`], but keeps a failure for [`OpenApi::failures`] and notes
    /// the operation as driven.
    pub fn record(&self, method: &str, path: &str, status: u16, content_type: &str, body: &[u8]) {
        if let Ok(t) = self.template(method, path) {
            self.covered
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .insert((method.to_ascii_lowercase(), t));
        }
        if let Err(e) = self.check(method, path, status, content_type, body) {
            // The same mismatch in another body is the same finding: keep the first.
            let finding = |e: &str| {
                e.lines()
                    .filter(|l| !l.trim_start().starts_with("body:"))
                    .collect::<Vec<_>>()
                    .join("\n")
            };
            let mut failures = self.failures.lock().unwrap_or_else(|p| p.into_inner());
            if !failures.iter().any(|f| finding(f) == finding(&e)) {
                failures.push(e);
            }
        }
    }

    /// The failures [`OpenApi::record`] kept.
    pub fn failures(&self) -> Vec<String> {
        self.failures
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// The documented operations [`OpenApi::record`] saw no answer of.
    pub fn not_driven(&self) -> BTreeSet<(String, String)> {
        let covered = self.covered.lock().unwrap_or_else(|p| p.into_inner());
        self.operations().difference(&covered).cloned().collect()
    }

    /// A response object, its `$ref` followed.
    fn deref<'a>(&'a self, v: &'a Value) -> &'a Value {
        match v.get("$ref").and_then(Value::as_str) {
            Some(r) => r
                .strip_prefix('#')
                .and_then(|p| self.doc().pointer(p))
                .unwrap_or(v),
            None => v,
        }
    }
}
