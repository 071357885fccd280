//! Private mirrors: the one image-reference type ([`reference`]), the mirror
//! configuration and its rewrite rules ([`config`]), and the values overlay
//! that redirects every image and chart before rendering ([`overlay`]).

pub mod config;
pub mod overlay;
pub mod reference;
