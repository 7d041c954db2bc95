//! The request JSON of `net_poll` / `net_poll_ex` and the options JSON of `net_subscribe`.
//!
//! Poll: `{"limit": n, "cursor": "..." | null, "filter": {..} | null, "ordering": "per_shard" |
//! "insertion_time"}`. Subscribe: `{"filter": .., "from": "beginning" | "latest", "cursor": "..",
//! "batch": n, "ordering": ..}` (`from` and `cursor` exclude each other). Every key is optional
//! (absent or `null` takes the engine default); an unknown key, a wrong type or a negative
//! number is `invalid_argument` naming the key. Ranges, filters, orderings and cursors are
//! checked by the engine, so every language reports them identically.

use serde_json::{Map, Value};

use net::{Error, Filter, Ordering, PollRequest, SubscribeFrom, SubscribeOptions};

fn parse_object(text: Option<&str>, what: &str) -> Result<Map<String, Value>, Error> {
    let Some(text) = text else {
        return Ok(Map::new());
    };
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(Error::InvalidArgument(format!(
            "{what} must be a JSON object"
        ))),
        Err(e) => Err(Error::InvalidArgument(format!(
            "{what} is not valid JSON: {e}"
        ))),
    }
}

fn count(key: &str, v: &Value) -> Result<usize, Error> {
    v.as_u64()
        .and_then(|n| usize::try_from(n).ok())
        .ok_or_else(|| {
            Error::InvalidArgument(format!("`{key}` must be a non-negative integer, got {v}"))
        })
}

fn string<'v>(key: &str, v: &'v Value) -> Result<&'v str, Error> {
    v.as_str()
        .ok_or_else(|| Error::InvalidArgument(format!("`{key}` must be a string, got {v}")))
}

fn unknown(key: &str, what: &str, allowed: &str) -> Error {
    Error::InvalidArgument(format!(
        "unknown key `{key}` in {what} (allowed: {allowed})"
    ))
}

/// Parses a poll request; `None` (a NULL pointer in C) is the default request.
pub fn poll_request(text: Option<&str>) -> Result<PollRequest, Error> {
    const WHAT: &str = "poll request";
    let mut req = PollRequest::default();
    for (key, v) in parse_object(text, WHAT)? {
        if v.is_null() {
            if ["limit", "cursor", "filter", "ordering"].contains(&key.as_str()) {
                continue;
            }
            return Err(unknown(&key, WHAT, "limit, cursor, filter, ordering"));
        }
        match key.as_str() {
            "limit" => req.limit = count(&key, &v)?,
            "cursor" => req.cursor = Some(string(&key, &v)?.to_owned()),
            "filter" => req.filter = Some(Filter::from_value(&v)?),
            "ordering" => req.ordering = Ordering::parse(string(&key, &v)?)?,
            _ => return Err(unknown(&key, WHAT, "limit, cursor, filter, ordering")),
        }
    }
    Ok(req)
}

/// Parses subscription options; `None` (a NULL pointer in C) is the default options.
pub fn subscribe_options(text: Option<&str>) -> Result<SubscribeOptions, Error> {
    const WHAT: &str = "subscribe options";
    const ALLOWED: &str = "filter, from, cursor, batch, ordering";
    let mut opts = SubscribeOptions::default();
    let mut from = None;
    let mut cursor = None;
    for (key, v) in parse_object(text, WHAT)? {
        if v.is_null() {
            if ALLOWED.split(", ").any(|k| k == key) {
                continue;
            }
            return Err(unknown(&key, WHAT, ALLOWED));
        }
        match key.as_str() {
            "filter" => opts.filter = Some(Filter::from_value(&v)?),
            "from" => {
                from = Some(match string(&key, &v)? {
                    "beginning" => SubscribeFrom::Beginning,
                    "latest" => SubscribeFrom::Latest,
                    other => {
                        return Err(Error::InvalidArgument(format!(
                            "unknown `from` value `{other}` (expected beginning or latest; \
                             pass a cursor as \"cursor\")"
                        )));
                    }
                })
            }
            "cursor" => cursor = Some(string(&key, &v)?.to_owned()),
            "batch" => opts.batch = count(&key, &v)?,
            "ordering" => opts.ordering = Ordering::parse(string(&key, &v)?)?,
            _ => return Err(unknown(&key, WHAT, ALLOWED)),
        }
    }
    opts.from = match (from, cursor) {
        (Some(_), Some(_)) => {
            return Err(Error::InvalidArgument(
                "`from` and `cursor` cannot both be given".into(),
            ));
        }
        (Some(from), None) => from,
        (None, Some(c)) => SubscribeFrom::Cursor(c),
        (None, None) => SubscribeFrom::Beginning,
    };
    Ok(opts)
}

#[cfg(test)]
mod tests {
    use super::*;
    use net::ErrorKind;

    fn kind<T: std::fmt::Debug>(r: Result<T, Error>) -> ErrorKind {
        r.unwrap_err().kind()
    }

    #[test]
    fn poll_request_keys() {
        let req = poll_request(Some(
            r#"{"limit":5,"cursor":null,"filter":{"path":"a","exists":true},"ordering":"insertion_time"}"#,
        ))
        .unwrap();
        assert_eq!(req.limit, 5);
        assert!(req.cursor.is_none());
        assert!(req.filter.is_some());
        assert_eq!(req.ordering, Ordering::InsertionTime);
        assert_eq!(
            poll_request(None).unwrap().limit,
            PollRequest::default().limit
        );
    }

    #[test]
    fn poll_request_rejects() {
        use ErrorKind::*;
        assert_eq!(kind(poll_request(Some(r#"{"limt":5}"#))), InvalidArgument);
        assert_eq!(kind(poll_request(Some(r#"{"limit":-1}"#))), InvalidArgument);
        assert_eq!(
            kind(poll_request(Some(r#"{"limit":1.5}"#))),
            InvalidArgument
        );
        assert_eq!(kind(poll_request(Some("[1]"))), InvalidArgument);
        assert_eq!(kind(poll_request(Some("{"))), InvalidArgument);
        assert_eq!(
            kind(poll_request(Some(r#"{"ordering":"x"}"#))),
            InvalidArgument
        );
        assert_eq!(kind(poll_request(Some(r#"{"filter":{}}"#))), InvalidFilter);
        assert_eq!(kind(poll_request(Some(r#"{"cursor":5}"#))), InvalidArgument);
    }

    #[test]
    fn subscribe_options_keys() {
        let o = subscribe_options(Some(r#"{"from":"latest","batch":7}"#)).unwrap();
        assert_eq!(o.from, SubscribeFrom::Latest);
        assert_eq!(o.batch, 7);
        let o = subscribe_options(Some(r#"{"cursor":"abc"}"#)).unwrap();
        assert_eq!(o.from, SubscribeFrom::Cursor("abc".into()));
        use ErrorKind::*;
        let both = r#"{"cursor":"abc","from":"latest"}"#;
        assert_eq!(kind(subscribe_options(Some(both))), InvalidArgument);
        assert_eq!(
            kind(subscribe_options(Some(r#"{"from":"x"}"#))),
            InvalidArgument
        );
        assert_eq!(
            kind(subscribe_options(Some(r#"{"nope":1}"#))),
            InvalidArgument
        );
    }
}
