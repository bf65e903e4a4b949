//! Why images cannot be named as asked. Each refusal says what to change,
//! in the flags a user types (`--repo`, `--repo-mode`, `--tag`).

use crate::registry::reference::{PathProblem, ReferenceError, TAG_MAX_LEN, TagProblem};

/// A naming request that cannot produce valid references.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NamingError {
    #[error(
        "image name `{given}` is not valid: {problem}; an image name is a repository path such as \
         `frontend` or `tools/cli`, or `~` for the nameless image"
    )]
    ImageName { given: String, problem: PathProblem },
    #[error("tag `{tag}` is not valid: {problem}")]
    Tag { tag: String, problem: TagProblem },
    #[error(
        "image `{image}` with tag `{tag}` makes the monorepo tag `{composed}`, which is {len} characters \
         long; a tag has at most {TAG_MAX_LEN}: shorten the tag or the image name, or use --repo-mode multirepo"
    )]
    ComposedTagTooLong {
        image: String,
        tag: String,
        composed: String,
        len: usize,
    },
    #[error("image `{image}` cannot be named in `{repo}`")]
    Compose {
        image: String,
        repo: String,
        #[source]
        source: Box<ReferenceError>,
    },
    #[error(
        "`{repo}` is a registry address, not a repository, and monorepo puts every image into one \
         repository as REPO:IMAGE-TAG: give a repository, e.g. `--repo {repo}/project`, or use \
         --repo-mode multirepo"
    )]
    MonorepoNeedsRepository { repo: String },
    #[error(
        "the nameless image `~` is named REPO:TAG, so it needs a repository, and `{repo}` is a registry \
         address, not a repository: give one, e.g. `--repo {repo}/project`"
    )]
    NamelessNeedsRepository { repo: String },
    #[error(
        "image `{image}` would be named `{composed}`, which Docker Hub reads as its official image \
         `{official}`: on Docker Hub a one-segment path is an account, so give a repository below it, \
         e.g. `--repo {composed}/app`"
    )]
    DockerHubOfficial {
        image: String,
        composed: String,
        official: String,
    },
    #[error(
        "`{repo}` is a registry address, and this registry does not nest repositories, so regent needs \
         an account or a repository: `--repo {repo}/ACCOUNT` puts each image in its own repository \
         ACCOUNT/IMAGE (multirepo); `--repo {repo}/ACCOUNT/REPOSITORY` puts every image into one \
         repository as tags IMAGE-TAG (monorepo)"
    )]
    RegistryNeedsAccount { repo: String },
    #[error(
        "`{repo}` is an account, not a repository, and monorepo puts every image into one repository: \
         give a repository, e.g. `--repo {repo}/images`, or use --repo-mode multirepo (each image in \
         its own repository under the account)"
    )]
    AccountIsNotRepository { repo: String },
    #[error(
        "`{repo}` is a repository, and {registry} does not nest repositories, so multirepo \
         (`{repo}/IMAGE`) cannot work there: use `--repo {account}` for multirepo, or \
         --repo-mode monorepo to keep every image in `{repo}` as IMAGE-TAG tags"
    )]
    RepositoriesDoNotNest {
        repo: String,
        registry: String,
        account: String,
    },
    #[error(
        "naming needs a resolved mode, monorepo or multirepo, not auto (resolve it with the adapter's \
         resolve-mode or default_mode first)"
    )]
    Unresolved,
    #[error("image `{image}` is listed twice")]
    Duplicate { image: String },
    #[error(
        "images `{first}` and `{second}` would both be named `{reference}`: rename one of them"
    )]
    Collision {
        first: String,
        second: String,
        reference: String,
    },
}
