//! ECR registry addresses and API endpoints: what the address says about
//! account, region, FIPS and China partitions, and where the API lives.

use regent_adapter_sdk::Result;
use regent_adapter_sdk::errors::invalid_settings;

use crate::{AWS_ENDPOINT, ECR_ENDPOINT};

/// What the registry address says: `<account>.dkr.ecr[-fips].<region>.amazonaws.com[.cn]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EcrAddress {
    pub account: String,
    pub region: String,
    pub fips: bool,
    pub china: bool,
}

/// Parse an ECR registry address (`host[:port]`); `None` for any other host.
pub fn parse_address(address: &str) -> Option<EcrAddress> {
    let host = address.trim().to_ascii_lowercase();
    let host = host.split(':').next().unwrap_or_default();
    let (rest, china) = match host.strip_suffix(".amazonaws.com.cn") {
        Some(rest) => (rest, true),
        None => (host.strip_suffix(".amazonaws.com")?, false),
    };
    let (account, rest) = rest.split_once('.')?;
    if account.len() != 12 || !account.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let (fips, region) = if let Some(region) = rest.strip_prefix("dkr.ecr-fips.") {
        (true, region)
    } else {
        (false, rest.strip_prefix("dkr.ecr.")?)
    };
    let valid_region = !region.is_empty()
        && region
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    valid_region.then(|| EcrAddress {
        account: account.to_owned(),
        region: region.to_owned(),
        fips,
        china,
    })
}

/// The ECR API base for an address: `https://api.ecr.<region>.amazonaws.com[.cn]`
/// (`https://ecr-fips.<region>.amazonaws.com` for FIPS registries).
pub fn default_endpoint(region: &str, fips: bool, china: bool) -> String {
    let domain = if china {
        "amazonaws.com.cn"
    } else {
        "amazonaws.com"
    };
    if fips {
        format!("https://ecr-fips.{region}.{domain}")
    } else {
        format!("https://api.ecr.{region}.{domain}")
    }
}

/// Scheme, `host[:port]` and path of an endpoint URL.
pub(crate) fn split_url(url: &str) -> Result<(String, String, String)> {
    let bad = || {
        invalid_settings(format!(
            "the ECR API endpoint {url:?} is not an http(s) URL: fix AWS_ENDPOINT_URL_ECR \
             (--repo-{ECR_ENDPOINT}) or AWS_ENDPOINT_URL (--repo-{AWS_ENDPOINT})"
        ))
    };
    let (scheme, rest) = url.split_once("://").ok_or_else(bad)?;
    let scheme = scheme.to_ascii_lowercase();
    if scheme != "http" && scheme != "https" {
        return Err(bad());
    }
    let (authority, path) = match rest.find(['/', '?', '#']) {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, ""),
    };
    if authority.is_empty() || authority.contains('@') || path.contains(['?', '#']) {
        return Err(bad());
    }
    let mut authority = authority.to_ascii_lowercase();
    let default_port = if scheme == "https" { ":443" } else { ":80" };
    if let Some(stripped) = authority.strip_suffix(default_port) {
        authority = stripped.to_owned();
    }
    let path = path.trim_end_matches('/');
    let path = if path.is_empty() {
        "/".to_owned()
    } else {
        format!("{path}/")
    };
    Ok((scheme, authority, path))
}
