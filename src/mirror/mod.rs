//! Private mirrors: the one image-reference type ([`reference`]), the mirror
//! configuration and its rewrite rules ([`config`]), the values overlay
//! that redirects every image and chart before rendering ([`overlay`]); the
//! image pull Secret for the mirror registries ([`pull_secret`]).

pub mod config;
pub mod overlay;
pub mod pull_secret;
pub mod reference;
