//! Reading layouts and archives built in temp dirs, through the public
//! [`ImageSource`](super::ImageSource) API the copy engine uses.

mod docker_archive;
mod oci_layout;
mod skopeo;
