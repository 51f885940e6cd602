//! Parameters as GitLab takes them: the query string plus a JSON, form-urlencoded or multipart
//! body, merged into one map; arrays as `scopes[]=api`; booleans as true/false, True/False, 1/0.

use axum::body::Bytes;
use axum::extract::{FromRequest, Multipart, Request};
use axum::http::header::CONTENT_TYPE;
use chrono::{DateTime, NaiveDate, Utc};
use serde_json::{Map, Value};

use crate::error::AppError;

/// Every parameter of a request.
#[derive(Clone, Debug, Default)]
pub struct Params(pub Map<String, Value>);

fn insert_pair(map: &mut Map<String, Value>, key: &str, value: String) {
    if let Some(base) = key.strip_suffix("[]") {
        match map.entry(base.to_string()).or_insert_with(|| Value::Array(Vec::new())) {
            Value::Array(items) => items.push(Value::String(value)),
            other => *other = Value::Array(vec![Value::String(value)]),
        }
    } else {
        map.insert(key.to_string(), Value::String(value));
    }
}

/// Parses a query string or a form body.
pub fn parse_form(raw: &[u8], map: &mut Map<String, Value>) {
    for (k, v) in form_urlencoded::parse(raw) {
        insert_pair(map, &k, v.into_owned());
    }
}

impl<S: Send + Sync> FromRequest<S> for Params {
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let params = Self::read(req, state).await?;
        crate::domain::validate::refuse_nul(&params.0)?;
        Ok(params)
    }
}

impl Params {
    async fn read<S: Send + Sync>(req: Request, state: &S) -> Result<Self, AppError> {
        let mut map = Map::new();
        parse_form(req.uri().query().unwrap_or("").as_bytes(), &mut map);
        let ctype = req
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_ascii_lowercase();
        if ctype.starts_with("multipart/form-data") {
            let mut mp = Multipart::from_request(req, state)
                .await
                .map_err(|_| AppError::BadParams("body is invalid".into()))?;
            while let Some(field) = mp
                .next_field()
                .await
                .map_err(|_| AppError::BadParams("body is invalid".into()))?
            {
                let Some(name) = field.name().map(str::to_string) else {
                    continue;
                };
                let text = field
                    .text()
                    .await
                    .map_err(|_| AppError::BadParams(format!("{name} is invalid")))?;
                insert_pair(&mut map, &name, text);
            }
            return Ok(Params(map));
        }
        let body = Bytes::from_request(req, state)
            .await
            .map_err(|_| AppError::BadParams("body is invalid".into()))?;
        if body.iter().all(u8::is_ascii_whitespace) {
            return Ok(Params(map));
        }
        if ctype.starts_with("application/x-www-form-urlencoded") {
            parse_form(&body, &mut map);
        } else {
            // JSON, whatever the client called it (python-gitlab sends JSON on every verb).
            match serde_json::from_slice::<Value>(&body) {
                Ok(Value::Object(obj)) => map.extend(obj),
                Ok(_) | Err(_) if ctype.is_empty() || ctype.contains("json") => {
                    return Err(AppError::BadParams("body is invalid: expected a JSON object".into()));
                }
                _ => {
                    return Err(AppError::BadParams(format!(
                        "The provided content-type '{ctype}' is not supported."
                    )));
                }
            }
        }
        Ok(Params(map))
    }
}

fn invalid(name: &str) -> AppError {
    AppError::invalid_param(name)
}

impl Params {
    pub fn from_query(query: Option<&str>) -> Self {
        let mut map = Map::new();
        parse_form(query.unwrap_or("").as_bytes(), &mut map);
        Params(map)
    }

    /// A hash parameter, `name[key]=value` in a query or form (or an object in JSON), as pairs in
    /// key order; values that are not texts are refused as `<name> is invalid`.
    pub fn hash(&self, name: &str) -> Result<Vec<(String, String)>, AppError> {
        let text = |v: &Value| match v {
            Value::String(s) => Ok(s.clone()),
            Value::Number(n) => Ok(n.to_string()),
            Value::Bool(b) => Ok(b.to_string()),
            _ => Err(invalid(name)),
        };
        let mut out = Vec::new();
        if let Some(v) = self.0.get(name) {
            let Value::Object(obj) = v else {
                return Err(invalid(name));
            };
            for (k, v) in obj {
                out.push((k.clone(), text(v)?));
            }
        }
        let prefix = format!("{name}[");
        for (k, v) in &self.0 {
            if let Some(key) = k.strip_prefix(&prefix).and_then(|rest| rest.strip_suffix(']')) {
                out.push((key.to_string(), text(v)?));
            }
        }
        Ok(out)
    }

    pub fn has(&self, name: &str) -> bool {
        self.0.get(name).is_some_and(|v| !v.is_null())
    }

    /// A string parameter; numbers and booleans are taken as their text.
    pub fn string(&self, name: &str) -> Result<Option<String>, AppError> {
        match self.0.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(Value::Number(n)) => Ok(Some(n.to_string())),
            Some(Value::Bool(b)) => Ok(Some(b.to_string())),
            Some(_) => Err(invalid(name)),
        }
    }

    pub fn boolean(&self, name: &str) -> Result<Option<bool>, AppError> {
        match self.0.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(Value::Number(n)) if n.as_i64() == Some(1) => Ok(Some(true)),
            Some(Value::Number(n)) if n.as_i64() == Some(0) => Ok(Some(false)),
            Some(Value::String(s)) => parse_bool(s).map(Some).ok_or_else(|| invalid(name)),
            Some(_) => Err(invalid(name)),
        }
    }

    pub fn int(&self, name: &str) -> Result<Option<i64>, AppError> {
        match self.0.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Number(n)) => n.as_i64().map(Some).ok_or_else(|| invalid(name)),
            Some(Value::String(s)) if s.is_empty() => Ok(None),
            Some(Value::String(s)) => s.trim().parse::<i64>().map(Some).map_err(|_| invalid(name)),
            Some(_) => Err(invalid(name)),
        }
    }

    /// An integer that must fit an i32 (ids, limits).
    pub fn int32(&self, name: &str) -> Result<Option<i32>, AppError> {
        self.int(name)?
            .map(|v| i32::try_from(v).map_err(|_| invalid(name)))
            .transpose()
    }

    pub fn date(&self, name: &str) -> Result<Option<NaiveDate>, AppError> {
        match self.string(name)? {
            None => Ok(None),
            Some(s) if s.is_empty() => Ok(None),
            Some(s) => parse_date(&s).map(Some).ok_or_else(|| invalid(name)),
        }
    }

    pub fn datetime(&self, name: &str) -> Result<Option<DateTime<Utc>>, AppError> {
        match self.string(name)? {
            None => Ok(None),
            Some(s) if s.is_empty() => Ok(None),
            Some(s) => parse_datetime(&s).map(Some).ok_or_else(|| invalid(name)),
        }
    }

    /// An array parameter: a JSON array, `name[]=a&name[]=b`, or a comma-separated string.
    pub fn list(&self, name: &str) -> Result<Option<Vec<String>>, AppError> {
        match self.0.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Array(items)) => items
                .iter()
                .map(|v| v.as_str().map(str::to_string).ok_or_else(|| invalid(name)))
                .collect::<Result<Vec<_>, _>>()
                .map(Some),
            Some(Value::String(s)) => Ok(Some(
                s.split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(str::to_string)
                    .collect(),
            )),
            Some(_) => Err(invalid(name)),
        }
    }

    /// A value the domain's own parser accepts (so the accepted names live in one place):
    /// 400 `<name> does not have a valid value` otherwise.
    pub fn parsed<T>(&self, name: &str, parse: impl Fn(&str) -> Option<T>) -> Result<Option<T>, AppError> {
        match self.string(name)? {
            None => Ok(None),
            Some(s) => parse(&s)
                .map(Some)
                .ok_or_else(|| AppError::BadParams(format!("{name} does not have a valid value"))),
        }
    }

    /// A value from a closed set: 400 `<name> does not have a valid value` otherwise.
    pub fn one_of(&self, name: &str, allowed: &[&str]) -> Result<Option<String>, AppError> {
        match self.string(name)? {
            None => Ok(None),
            Some(s) if allowed.contains(&s.as_str()) => Ok(Some(s)),
            Some(_) => Err(AppError::BadParams(format!("{name} does not have a valid value"))),
        }
    }
}

/// GitLab's boolean spellings (and Python's capitalised ones).
pub fn parse_bool(s: &str) -> Option<bool> {
    match s.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "t" | "yes" | "y" | "on" => Some(true),
        "false" | "0" | "f" | "no" | "n" | "off" => Some(false),
        _ => None,
    }
}

/// `YYYY-MM-DD` (leading zeros optional), or the date part of an ISO 8601 time.
pub fn parse_date(s: &str) -> Option<NaiveDate> {
    let s = s.trim();
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .ok()
        .or_else(|| parse_datetime(s).map(|t| t.date_naive()))
}

/// ISO 8601 with an offset, or without one (taken as UTC), or a bare date (midnight UTC).
pub fn parse_datetime(s: &str) -> Option<DateTime<Utc>> {
    let s = s.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.with_timezone(&Utc));
    }
    for fmt in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S"] {
        if let Ok(t) = chrono::NaiveDateTime::parse_from_str(s, fmt) {
            return Some(t.and_utc());
        }
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| t.and_utc())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn booleans() {
        for t in ["true", "True", "1", "yes"] {
            assert_eq!(parse_bool(t), Some(true));
        }
        for f in ["false", "False", "0", "no"] {
            assert_eq!(parse_bool(f), Some(false));
        }
        assert_eq!(parse_bool("maybe"), None);
    }

    #[test]
    fn forms_and_arrays() {
        let mut m = Map::new();
        parse_form(b"name=my+token&scopes[]=api&scopes[]=read_user&x=%20a", &mut m);
        let p = Params(m);
        assert_eq!(p.string("name").unwrap().as_deref(), Some("my token"));
        assert_eq!(
            p.list("scopes").unwrap(),
            Some(vec!["api".to_string(), "read_user".to_string()])
        );
        assert_eq!(p.string("x").unwrap().as_deref(), Some(" a"));
        let p = Params(
            json!({ "scopes": "api,read_user", "n": "12", "b": "True", "bad": "x1" })
                .as_object()
                .unwrap()
                .clone(),
        );
        assert_eq!(p.list("scopes").unwrap().unwrap().len(), 2);
        assert_eq!(p.int("n").unwrap(), Some(12));
        assert_eq!(p.boolean("b").unwrap(), Some(true));
        assert!(matches!(p.int("bad"), Err(AppError::BadParams(m)) if m == "bad is invalid"));
        assert!(p.boolean("bad").is_err());
    }

    #[test]
    fn dates() {
        assert_eq!(parse_date("2000-1-1"), NaiveDate::from_ymd_opt(2000, 1, 1));
        assert_eq!(parse_date("2016-03-11"), NaiveDate::from_ymd_opt(2016, 3, 11));
        assert_eq!(parse_date("nope"), None);
        let t = parse_datetime("2000-01-02T00:00:00.060Z").unwrap();
        assert_eq!(t.timestamp_millis() % 1000, 60);
        assert!(parse_datetime("2012-05-23").is_some());
    }
}
