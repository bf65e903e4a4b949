//! The manifests that refer to a manifest (signatures, SBOMs, attestations)
//! through their `subject` field.
//!
//! A cleanup must find them before deleting their subject, or they are left
//! dangling. Registries with the referrers API answer
//! `GET /v2/<name>/referrers/<digest>`; older ones (distribution 2.8) answer
//! 404 there, and clients keep an index under the tag `<alg>-<hex>` instead
//! (the referrers tag schema), which is read as a fallback.

use oci_spec::image::{Descriptor, ImageIndex};
use reqwest::Method;
use reqwest::header::ACCEPT;

use super::call::{self, Call};
use super::client::RegistryClient;
use super::error::{Missing, RegistryError, Resource};
use super::link::next_page;
use super::manifests::MANIFEST_LIMIT;
use super::names::check_repository;
use crate::registry::digest::Digest;

const INDEX_MEDIA_TYPE: &str = "application/vnd.oci.image.index.v1+json";

/// Where a referrers list came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReferrersSource {
    /// The registry's referrers API.
    Api,
    /// The `<alg>-<hex>` tag of the referrers tag schema (possibly absent,
    /// which means no referrers).
    TagSchema,
}

/// The manifests whose `subject` is a given manifest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Referrers {
    /// One descriptor per referring manifest, with its `artifactType` and
    /// annotations as the registry or the tag-schema index gave them.
    pub manifests: Vec<Descriptor>,
    pub source: ReferrersSource,
}

impl RegistryClient {
    /// The referrers of `subject` in `repository`, only those of
    /// `artifact_type` if given (filtered here when the registry did not).
    pub async fn referrers(
        &self,
        repository: &str,
        subject: &Digest,
        artifact_type: Option<&str>,
    ) -> Result<Referrers, RegistryError> {
        check_repository(repository)?;
        let resource = Resource::Referrers {
            repository: repository.to_owned(),
            subject: subject.clone(),
        };
        let mut url = self.url(&format!("/v2/{repository}/referrers/{subject}"))?;
        if let Some(t) = artifact_type {
            url.query_pairs_mut().append_pair("artifactType", t);
        }
        let mut manifests = Vec::new();
        let mut visited = std::collections::HashSet::new();
        let mut next = Some(url);
        let mut filtered_by_registry = true;
        while let Some(url) = next.take() {
            visited.insert(url.to_string());
            let call = Call::new(Method::GET, url, resource.clone(), call::pull(repository))
                .header(ACCEPT, INDEX_MEDIA_TYPE);
            let answer = self.send(&call).await?;
            if answer.status().as_u16() == 404 && manifests.is_empty() && visited.len() == 1 {
                drop(answer);
                return self
                    .referrers_from_tag(repository, subject, artifact_type)
                    .await;
            }
            let answer = answer.expect(&[200]).await?;
            filtered_by_registry &= answer
                .header_str("oci-filters-applied")
                .is_some_and(|f| f.split(',').any(|f| f.trim() == "artifactType"));
            let following = next_page(answer.headers(), answer.url());
            let body = answer.body(MANIFEST_LIMIT).await?;
            manifests.extend(
                self.parse_index(&resource, &body)?
                    .manifests()
                    .iter()
                    .cloned(),
            );
            next = following.filter(|u| !visited.contains(u.as_str()));
        }
        if !filtered_by_registry {
            retain_type(&mut manifests, artifact_type);
        }
        Ok(Referrers {
            manifests,
            source: ReferrersSource::Api,
        })
    }

    async fn referrers_from_tag(
        &self,
        repository: &str,
        subject: &Digest,
        artifact_type: Option<&str>,
    ) -> Result<Referrers, RegistryError> {
        let mut manifests = match self
            .get_manifest(repository, &subject.referrers_tag())
            .await
        {
            Ok(index) => {
                let resource = Resource::Manifest {
                    repository: repository.to_owned(),
                    reference: subject.referrers_tag(),
                };
                self.parse_index(&resource, &index.bytes)?
                    .manifests()
                    .clone()
            }
            Err(RegistryError::NotFound {
                missing: Missing::Manifest,
                ..
            }) => Vec::new(),
            Err(other) => return Err(other),
        };
        retain_type(&mut manifests, artifact_type);
        Ok(Referrers {
            manifests,
            source: ReferrersSource::TagSchema,
        })
    }

    fn parse_index(&self, resource: &Resource, body: &[u8]) -> Result<ImageIndex, RegistryError> {
        serde_json::from_slice(body).map_err(|e| RegistryError::InvalidResponse {
            registry: self.registry().to_owned(),
            resource: Box::new(resource.clone()),
            detail: format!("a referrers list must be an OCI image index: {e}"),
        })
    }
}

fn retain_type(manifests: &mut Vec<Descriptor>, artifact_type: Option<&str>) {
    if let Some(wanted) = artifact_type {
        manifests.retain(|d| {
            d.artifact_type()
                .as_ref()
                .is_some_and(|t| t.to_string() == wanted)
        });
    }
}
