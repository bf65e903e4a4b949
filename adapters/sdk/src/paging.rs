//! Pagination helpers for native APIs.

/// The target of the `rel="next"` link in an RFC 8288 `Link` header, as
/// registries and the GitHub and GitLab APIs send it.
pub fn next_link(link_header: &str) -> Option<String> {
    link_header.split(',').find_map(|part| {
        let (target, params) = part.split_once(';')?;
        let is_next = params.split(';').any(|p| {
            let p = p.trim();
            p == "rel=\"next\"" || p == "rel=next"
        });
        let target = target.trim().strip_prefix('<')?.strip_suffix('>')?;
        is_next.then(|| target.to_owned())
    })
}

/// Resolve a possibly relative link against the URL it came from.
pub fn absolute(base_url: &str, link: &str) -> String {
    if link.starts_with("http://") || link.starts_with("https://") {
        return link.to_owned();
    }
    let scheme_end = base_url.find("://").map(|i| i + 3).unwrap_or(0);
    let host_end = base_url[scheme_end..]
        .find('/')
        .map(|i| scheme_end + i)
        .unwrap_or(base_url.len());
    if link.starts_with('/') {
        format!("{}{}", &base_url[..host_end], link)
    } else {
        format!("{}/{}", &base_url[..host_end], link)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_next_among_several_links() {
        let header = r#"<https://api.example/p?page=1>; rel="prev", <https://api.example/p?page=3>; rel="next""#;
        assert_eq!(
            next_link(header).as_deref(),
            Some("https://api.example/p?page=3")
        );
        assert_eq!(next_link(r#"<https://x/p?page=1>; rel="prev""#), None);
    }

    #[test]
    fn resolves_relative_links() {
        assert_eq!(
            absolute(
                "http://127.0.0.1:5000/v2/a/tags/list",
                "/v2/a/tags/list?last=x"
            ),
            "http://127.0.0.1:5000/v2/a/tags/list?last=x"
        );
        assert_eq!(absolute("http://h/x", "https://o/y"), "https://o/y");
    }
}
