//! Fakes of vendors' native APIs, one module per vendor.

pub mod acr;
pub mod dockerhub;
pub mod ecr;
pub mod gcr;
pub mod gitea;
pub mod github;
pub mod gitlab;
pub mod harbor;
pub mod jfrog;
pub mod nexus;
pub mod quay;
pub mod selectel;
pub mod yandex;
