//! Registry access common to every registry: references and naming,
//! authentication from the Docker config, and the Registry HTTP API client.

pub mod access;
pub mod auth;
pub mod aws_profile;
pub mod digest;
pub mod distribution;
pub mod inspect;
pub mod naming;
pub mod reference;
pub mod scope;
pub mod tag_delete;
pub mod tag_listing;
