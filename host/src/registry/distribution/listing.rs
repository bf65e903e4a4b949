//! Tag lists and the catalog, followed page by page to the end.
//!
//! A cleanup that misses the second page keeps images it should delete (or,
//! computing "keep the newest N" on a partial list, deletes ones it should
//! keep), so paging follows `Link: <...>; rel="next"` until there is none.
//! Registries differ: some ignore `n` and answer everything at once, some
//! page without being asked; both work, and a registry that keeps linking to
//! pages with nothing new cannot loop the client forever.

use std::collections::HashSet;

use reqwest::Method;
use serde::Deserialize;
use url::Url;

use super::call::{self, Call};
use super::client::RegistryClient;
use super::error::{RegistryError, Resource};
use super::link::next_page;
use super::names::check_repository;
use crate::registry::scope::Scope;

/// The largest list page accepted.
const PAGE_LIMIT: usize = 64 * 1024 * 1024;

impl RegistryClient {
    /// Every tag of `repository`, in the registry's order. `page_size` is
    /// sent as `n`; `None` lets the registry choose. `{"tags": null}` (a
    /// repository whose tags are all gone) is an empty list; an unknown
    /// repository is [`RegistryError::NotFound`] with `Missing::Repository`.
    pub async fn tags(
        &self,
        repository: &str,
        page_size: Option<u32>,
    ) -> Result<Vec<String>, RegistryError> {
        #[derive(Deserialize)]
        struct TagList {
            #[serde(default)]
            tags: Option<Vec<String>>,
        }
        check_repository(repository)?;
        let url = self.page_url(&format!("/v2/{repository}/tags/list"), page_size)?;
        let resource = Resource::Tags {
            repository: repository.to_owned(),
        };
        self.all_pages(url, resource, call::pull(repository), |body: TagList| {
            body.tags
        })
        .await
    }

    /// Every repository in the registry's catalog (needs `registry:catalog:*`).
    pub async fn catalog(&self, page_size: Option<u32>) -> Result<Vec<String>, RegistryError> {
        #[derive(Deserialize)]
        struct Catalog {
            #[serde(default)]
            repositories: Option<Vec<String>>,
        }
        let url = self.page_url("/v2/_catalog", page_size)?;
        self.all_pages(
            url,
            Resource::Catalog,
            vec![Scope::catalog()],
            |body: Catalog| body.repositories,
        )
        .await
    }

    fn page_url(&self, path: &str, page_size: Option<u32>) -> Result<Url, RegistryError> {
        let mut url = self.url(path)?;
        match page_size {
            Some(0) => {
                return Err(RegistryError::InvalidArgument {
                    what: "page size",
                    value: "0".into(),
                    why: "must be at least 1 (n=0 asks for an empty page)".into(),
                });
            }
            Some(n) => {
                url.query_pairs_mut().append_pair("n", &n.to_string());
            }
            None => {}
        }
        Ok(url)
    }

    /// Fetch `first` and every `rel="next"` page after it, keeping the
    /// first occurrence of each item. Stops at a page without a next link,
    /// a link already visited, or a page that adds nothing new.
    async fn all_pages<T, F>(
        &self,
        first: Url,
        resource: Resource,
        scopes: Vec<Scope>,
        items: F,
    ) -> Result<Vec<String>, RegistryError>
    where
        T: for<'de> Deserialize<'de>,
        F: Fn(T) -> Option<Vec<String>>,
    {
        let mut all = Vec::new();
        let mut seen_items = HashSet::new();
        let mut visited = HashSet::new();
        let mut next = Some(first);
        while let Some(url) = next.take() {
            visited.insert(url.to_string());
            let call = Call::new(Method::GET, url, resource.clone(), scopes.clone());
            let answer = self.send(&call).await?.expect(&[200]).await?;
            let following = next_page(answer.headers(), answer.url());
            let body = answer.body(PAGE_LIMIT).await?;
            let page: T =
                serde_json::from_slice(&body).map_err(|e| RegistryError::InvalidResponse {
                    registry: self.registry().to_owned(),
                    resource: Box::new(resource.clone()),
                    detail: format!("the list is not the JSON the API defines: {e}"),
                })?;
            let mut added = 0;
            for item in items(page).unwrap_or_default() {
                if seen_items.insert(item.clone()) {
                    all.push(item);
                    added += 1;
                }
            }
            next = following.filter(|u| added > 0 && !visited.contains(u.as_str()));
        }
        Ok(all)
    }
}
