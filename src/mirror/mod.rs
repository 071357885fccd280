//! Private mirrors: the one image-reference type ([`reference`]), the mirror
//! configuration and its rewrite rules ([`config`]), the values overlay
//! that redirects every image and chart before rendering ([`overlay`]), and
//! the rewrite and leak check of pod images after rendering ([`manifests`]).

pub mod config;
pub mod manifests;
pub mod overlay;
pub mod reference;
