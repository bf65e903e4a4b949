//! The RFC 8288 `Link` header, read just far enough to find `rel="next"`:
//! how registries say a tag list, catalog or referrers list has more pages.

use reqwest::header::{HeaderMap, LINK};
use url::Url;

/// The `rel="next"` target of every `Link` header in `headers`, resolved
/// against the URL of the request that got them (registries send relative
/// links such as `</v2/_catalog?last=x&n=100>`).
pub(crate) fn next_page(headers: &HeaderMap, request_url: &Url) -> Option<Url> {
    headers
        .get_all(LINK)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(next_target)
        .and_then(|target| request_url.join(target).ok())
}

/// The target of the `rel="next"` link in one header value.
fn next_target(value: &str) -> Option<&str> {
    let mut rest = value;
    loop {
        let open = rest.find('<')?;
        let close = open + rest[open..].find('>')?;
        let target = &rest[open + 1..close];
        let after = &rest[close + 1..];
        // Parameters run until the next link, i.e. a `,` followed by `<`.
        let params_end = find_next_link(after).unwrap_or(after.len());
        if has_rel_next(&after[..params_end]) {
            return Some(target.trim());
        }
        rest = &after[params_end..];
    }
}

fn find_next_link(text: &str) -> Option<usize> {
    let mut search = 0;
    while let Some(comma) = text[search..].find(',') {
        let at = search + comma;
        if text[at + 1..].trim_start().starts_with('<') {
            return Some(at + 1);
        }
        search = at + 1;
    }
    None
}

fn has_rel_next(params: &str) -> bool {
    params.split(';').any(|param| {
        let Some((name, value)) = param.split_once('=') else {
            return false;
        };
        name.trim().eq_ignore_ascii_case("rel")
            && value
                .trim()
                .trim_end_matches(',')
                .trim()
                .trim_matches('"')
                .split_ascii_whitespace()
                .any(|rel| rel.eq_ignore_ascii_case("next"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    fn next(values: &[&str]) -> Option<String> {
        let mut headers = HeaderMap::new();
        for v in values {
            headers.append(LINK, HeaderValue::from_str(v).expect("header"));
        }
        let base = Url::parse("http://127.0.0.1:5000/v2/_catalog?n=100").expect("url");
        next_page(&headers, &base).map(|u| u.to_string())
    }

    #[test]
    fn finds_next_among_links() {
        assert_eq!(
            next(&[r#"</v2/_catalog?last=b&n=100>; rel="next""#]).as_deref(),
            Some("http://127.0.0.1:5000/v2/_catalog?last=b&n=100")
        );
        assert_eq!(
            next(&[
                r#"<https://x.example/p?a=1,2>; rel="prev", <https://x.example/p?a=3,4>; rel=next"#
            ])
            .as_deref(),
            Some("https://x.example/p?a=3,4")
        );
        assert_eq!(
            next(&[r#"</a>; rel="prev""#, r#"</b>; title="x"; rel="last next""#]).as_deref(),
            Some("http://127.0.0.1:5000/b")
        );
        assert_eq!(next(&[r#"</a>; rel="prev""#]), None);
        assert_eq!(next(&[]), None);
        assert_eq!(next(&["garbage"]), None);
    }
}
