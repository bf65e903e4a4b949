//! Composing final references: images repo + resolved mode + image + tag.
//!
//! multirepo: `REPO/IMAGE:TAG`; monorepo: `REPO:IMAGE-TAG` (with `/` in the
//! image name turned into `-`); the nameless image is `REPO:TAG` in both.

use std::collections::HashMap;

use serde::Serialize;

use super::error::NamingError;
use super::image::ImageName;
use crate::registry::reference::{ImagesRepo, Reference, TagProblem, check_tag};
use crate::runtime::RepoMode;

/// One image of a run and the reference it is published as.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FinalReference {
    /// The image as the user named it (`~` for the nameless one).
    pub image: ImageName,
    /// Where it is published, tag included.
    pub reference: Reference,
}

/// The reference `image` gets in `repo` under the resolved `mode` at `tag`.
pub fn final_reference(
    repo: &ImagesRepo,
    mode: RepoMode,
    image: &ImageName,
    tag: &str,
) -> Result<Reference, NamingError> {
    check_tag(tag).map_err(|problem| NamingError::Tag {
        tag: tag.to_owned(),
        problem,
    })?;
    let repo_text = || repo.to_string();
    let (repository, final_tag) = match (mode, image.name()) {
        (RepoMode::Auto, _) => return Err(NamingError::Unresolved),
        (_, None) => {
            let path = repo
                .path()
                .ok_or_else(|| NamingError::NamelessNeedsRepository { repo: repo_text() })?;
            (path.to_owned(), tag.to_owned())
        }
        (RepoMode::Monorepo, Some(name)) => {
            let path = repo
                .path()
                .ok_or_else(|| NamingError::MonorepoNeedsRepository { repo: repo_text() })?;
            (path.to_owned(), monorepo_tag(name, tag)?)
        }
        (RepoMode::Multirepo, Some(name)) => match repo.path() {
            Some(path) => (format!("{path}/{name}"), tag.to_owned()),
            None => (name.to_owned(), tag.to_owned()),
        },
    };
    let compose_error = |source| NamingError::Compose {
        image: image.to_string(),
        repo: repo_text(),
        source: Box::new(source),
    };
    let reference = Reference::new(repo.registry(), &repository).map_err(compose_error)?;
    if reference.repository() != repository {
        return Err(NamingError::DockerHubOfficial {
            image: image.to_string(),
            composed: format!("{}/{repository}", repo.registry()),
            official: reference.name(),
        });
    }
    reference.with_tag(&final_tag).map_err(compose_error)
}

/// `IMAGE-TAG`, with `/` in the image name as `-` (a tag has no `/`).
fn monorepo_tag(name: &str, tag: &str) -> Result<String, NamingError> {
    let composed = format!("{}-{tag}", name.replace('/', "-"));
    match check_tag(&composed) {
        Ok(()) => Ok(composed),
        Err(TagProblem::TooLong { len }) => Err(NamingError::ComposedTagTooLong {
            image: name.to_owned(),
            tag: tag.to_owned(),
            len,
            composed,
        }),
        Err(problem) => Err(NamingError::Tag {
            tag: composed,
            problem,
        }),
    }
}

/// The references of several images, refusing two images that would land
/// on one reference (a repeated image, or `a/b` and `a-b` in monorepo),
/// since the second push would silently replace the first.
pub fn final_references(
    repo: &ImagesRepo,
    mode: RepoMode,
    images: &[ImageName],
    tag: &str,
) -> Result<Vec<FinalReference>, NamingError> {
    let mut seen: HashMap<Reference, &ImageName> = HashMap::new();
    let mut out = Vec::with_capacity(images.len());
    for image in images {
        let reference = final_reference(repo, mode, image, tag)?;
        if let Some(first) = seen.insert(reference.clone(), image) {
            return Err(if first == image {
                NamingError::Duplicate {
                    image: image.to_string(),
                }
            } else {
                NamingError::Collision {
                    first: first.to_string(),
                    second: image.to_string(),
                    reference: reference.to_string(),
                }
            });
        }
        out.push(FinalReference {
            image: image.clone(),
            reference,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::reference::ReferenceError;

    fn repo(text: &str) -> ImagesRepo {
        ImagesRepo::parse(text).unwrap_or_else(|e| panic!("{text}: {e}"))
    }

    fn image(text: &str) -> ImageName {
        ImageName::parse(text).unwrap_or_else(|e| panic!("{text}: {e}"))
    }

    fn name(
        repo_text: &str,
        mode: RepoMode,
        image_text: &str,
        tag: &str,
    ) -> Result<String, NamingError> {
        final_reference(&repo(repo_text), mode, &image(image_text), tag).map(|r| r.to_string())
    }

    #[test]
    fn multirepo_puts_each_image_in_its_own_repository() {
        let m = RepoMode::Multirepo;
        assert_eq!(
            name("localhost:5000/project", m, "frontend", "v1").as_deref(),
            Ok("localhost:5000/project/frontend:v1")
        );
        assert_eq!(
            name("localhost:5000/project", m, "tools/cli", "v1").as_deref(),
            Ok("localhost:5000/project/tools/cli:v1")
        );
        assert_eq!(
            name("localhost:5000", m, "frontend", "v1").as_deref(),
            Ok("localhost:5000/frontend:v1")
        );
        assert_eq!(
            name("acme", m, "frontend", "v1").as_deref(),
            Ok("docker.io/acme/frontend:v1")
        );
        assert_eq!(
            name("localhost:5000/project", m, "~", "v1").as_deref(),
            Ok("localhost:5000/project:v1")
        );
    }

    #[test]
    fn monorepo_puts_every_image_in_the_repository_as_tags() {
        let m = RepoMode::Monorepo;
        assert_eq!(
            name("localhost:5000/project", m, "frontend", "v1").as_deref(),
            Ok("localhost:5000/project:frontend-v1")
        );
        assert_eq!(
            name("localhost:5000/project", m, "tools/cli", "v1").as_deref(),
            Ok("localhost:5000/project:tools-cli-v1")
        );
        assert_eq!(
            name("localhost:5000/project", m, "~", "v1").as_deref(),
            Ok("localhost:5000/project:v1")
        );
        assert_eq!(
            name("acme/app", m, "frontend", "1.0").as_deref(),
            Ok("docker.io/acme/app:frontend-1.0")
        );
        let r = final_reference(&repo("localhost:5000/project"), m, &image("frontend"), "v1")
            .expect("named");
        assert_eq!(
            (r.registry(), r.repository(), r.tag()),
            ("localhost:5000", "project", Some("frontend-v1"))
        );
    }

    #[test]
    fn a_bare_registry_is_refused_for_monorepo_and_the_nameless_image() {
        let error =
            name("localhost:5000", RepoMode::Monorepo, "frontend", "v1").expect_err("monorepo");
        assert_eq!(
            error,
            NamingError::MonorepoNeedsRepository {
                repo: "localhost:5000".into()
            }
        );
        assert!(
            error
                .to_string()
                .contains("e.g. `--repo localhost:5000/project`"),
            "{error}"
        );
        for mode in [RepoMode::Monorepo, RepoMode::Multirepo] {
            let error = name("localhost:5000", mode, "~", "v1").expect_err("nameless");
            assert_eq!(
                error,
                NamingError::NamelessNeedsRepository {
                    repo: "localhost:5000".into()
                }
            );
            let message = error.to_string();
            assert!(
                message.contains("the nameless image `~` is named REPO:TAG"),
                "{message}"
            );
            assert!(
                message.contains("`localhost:5000` is a registry address, not a repository"),
                "{message}"
            );
            assert!(
                message.contains("--repo localhost:5000/project"),
                "{message}"
            );
        }
    }

    #[test]
    fn composed_tags_longer_than_128_are_refused_naming_image_and_tag() {
        let tag = "t".repeat(120);
        let error = name(
            "localhost:5000/project",
            RepoMode::Monorepo,
            "frontend",
            &tag,
        )
        .expect_err("too long");
        assert_eq!(
            error,
            NamingError::ComposedTagTooLong {
                image: "frontend".into(),
                tag: tag.clone(),
                composed: format!("frontend-{tag}"),
                len: 129
            }
        );
        let message = error.to_string();
        assert!(message.starts_with(&format!("image `frontend` with tag `{tag}` makes the monorepo tag `frontend-{tag}`, which is 129")), "{message}");
        assert!(message.contains("at most 128"), "{message}");
        // The same tag is fine on its own and in multirepo.
        assert!(name("localhost:5000/project", RepoMode::Monorepo, "~", &tag).is_ok());
        assert!(
            name(
                "localhost:5000/project",
                RepoMode::Multirepo,
                "frontend",
                &tag
            )
            .is_ok()
        );
        let exactly = "t".repeat(128 - "frontend-".len());
        assert!(
            name(
                "localhost:5000/project",
                RepoMode::Monorepo,
                "frontend",
                &exactly
            )
            .is_ok()
        );
    }

    #[test]
    fn invalid_tags_are_refused() {
        let error = name(
            "localhost:5000/project",
            RepoMode::Multirepo,
            "frontend",
            "v/1",
        )
        .expect_err("bad tag");
        assert_eq!(
            error,
            NamingError::Tag {
                tag: "v/1".into(),
                problem: TagProblem::BadChar { bad: '/' }
            }
        );
        assert!(
            error
                .to_string()
                .starts_with("tag `v/1` is not valid: it contains '/'"),
            "{error}"
        );
        assert!(matches!(
            name(
                "localhost:5000/project",
                RepoMode::Multirepo,
                "frontend",
                ""
            ),
            Err(NamingError::Tag { .. })
        ));
    }

    #[test]
    fn auto_must_be_resolved_first() {
        assert_eq!(
            name("localhost:5000/project", RepoMode::Auto, "frontend", "v1"),
            Err(NamingError::Unresolved)
        );
    }

    #[test]
    fn docker_hub_one_segment_names_are_refused_not_turned_official() {
        let error = name("docker.io/acme", RepoMode::Multirepo, "~", "v1").expect_err("official");
        assert_eq!(
            error,
            NamingError::DockerHubOfficial {
                image: "~".into(),
                composed: "docker.io/acme".into(),
                official: "docker.io/library/acme".into()
            }
        );
        assert!(
            error
                .to_string()
                .contains("e.g. `--repo docker.io/acme/app`"),
            "{error}"
        );
        assert!(matches!(
            name("docker.io", RepoMode::Multirepo, "frontend", "v1"),
            Err(NamingError::DockerHubOfficial { .. })
        ));
    }

    #[test]
    fn too_long_names_are_refused_with_the_cause() {
        let long_repo = format!("localhost:5000/{}", "p".repeat(230));
        let error =
            name(&long_repo, RepoMode::Multirepo, &"i".repeat(20), "v1").expect_err("too long");
        match &error {
            NamingError::Compose { image, source, .. } => {
                assert_eq!(image, &"i".repeat(20));
                assert!(
                    matches!(**source, ReferenceError::NameTooLong { len: 266, .. }),
                    "{source:?}"
                );
            }
            other => panic!("expected a compose error, got {other:?}"),
        }
        assert!(
            crate::errors::chain(&error).contains("at most 255"),
            "{error}"
        );
    }

    #[test]
    fn several_images_keep_their_order_and_refuse_collisions() {
        let images = [image("frontend"), image("backend"), image("~")];
        let refs = final_references(
            &repo("localhost:5000/project"),
            RepoMode::Monorepo,
            &images,
            "v1",
        )
        .expect("named");
        let texts: Vec<String> = refs
            .iter()
            .map(|f| format!("{} {}", f.image, f.reference))
            .collect();
        assert_eq!(
            texts,
            [
                "frontend localhost:5000/project:frontend-v1",
                "backend localhost:5000/project:backend-v1",
                "~ localhost:5000/project:v1"
            ]
        );
        let json = serde_json::to_value(&refs[0]).expect("serialize");
        assert_eq!(
            json,
            serde_json::json!({"image": "frontend", "reference": "localhost:5000/project:frontend-v1"})
        );

        let twice = [image("frontend"), image("frontend")];
        let error = final_references(
            &repo("localhost:5000/project"),
            RepoMode::Multirepo,
            &twice,
            "v1",
        )
        .expect_err("duplicate");
        assert_eq!(error.to_string(), "image `frontend` is listed twice");

        let clash = [image("tools/cli"), image("tools-cli")];
        let error = final_references(
            &repo("localhost:5000/project"),
            RepoMode::Monorepo,
            &clash,
            "v1",
        )
        .expect_err("collision");
        assert_eq!(
            error.to_string(),
            "images `tools/cli` and `tools-cli` would both be named `localhost:5000/project:tools-cli-v1`: rename one of them"
        );
        assert!(
            final_references(
                &repo("localhost:5000/project"),
                RepoMode::Multirepo,
                &clash,
                "v1"
            )
            .is_ok()
        );
        assert_eq!(
            final_references(
                &repo("localhost:5000/project"),
                RepoMode::Multirepo,
                &[],
                "v1"
            ),
            Ok(vec![])
        );
    }
}
