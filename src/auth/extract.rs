//! Reading credentials off an HTTP request: `private_token` query parameter, `PRIVATE-TOKEN`
//! header, `Authorization: Bearer`, and `sudo` parameter or `Sudo` header (parameter wins).

use axum::http::{HeaderMap, Uri};

/// What a request presented.
#[derive(Clone, Debug, Default)]
pub struct Credentials {
    pub token: Option<String>,
    pub sudo: Option<String>,
}

pub fn credentials(headers: &HeaderMap, uri: &Uri) -> Credentials {
    let query = uri.query().unwrap_or("");
    let mut param_token = None;
    let mut param_sudo = None;
    for (k, v) in form_urlencoded::parse(query.as_bytes()) {
        match k.as_ref() {
            "private_token" | "access_token" if param_token.is_none() => param_token = Some(v.into_owned()),
            "sudo" if param_sudo.is_none() => param_sudo = Some(v.into_owned()),
            _ => {}
        }
    }
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_string);
    let bearer = header("authorization").and_then(|v| {
        let (scheme, rest) = v.split_once(' ')?;
        scheme.eq_ignore_ascii_case("bearer").then(|| rest.trim().to_string())
    });
    Credentials {
        token: param_token.or_else(|| header("private-token")).or(bearer),
        sudo: param_sudo.or_else(|| header("sudo")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sources_and_precedence() {
        let mut h = HeaderMap::new();
        h.insert("private-token", "hdr".parse().unwrap());
        h.insert("authorization", "Bearer bear".parse().unwrap());
        h.insert("sudo", "7".parse().unwrap());
        let c = credentials(&h, &"/x?private_token=param&sudo=root".parse().unwrap());
        assert_eq!((c.token.as_deref(), c.sudo.as_deref()), (Some("param"), Some("root")));
        let c = credentials(&h, &"/x".parse().unwrap());
        assert_eq!((c.token.as_deref(), c.sudo.as_deref()), (Some("hdr"), Some("7")));
        h.remove("private-token");
        assert_eq!(credentials(&h, &"/x".parse().unwrap()).token.as_deref(), Some("bear"));
        assert_eq!(credentials(&HeaderMap::new(), &"/x".parse().unwrap()).token, None);
    }
}
