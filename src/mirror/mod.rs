//! Private mirrors, over the `image-ref` crate's one reference type: the
//! mirror configuration and its rewrite rules ([`config`]), the values overlay
//! that redirects every image and chart before rendering ([`overlay`]), the one
//! recognizer of image references in Kubernetes objects ([`recognize`]), the
//! rewrite and leak check of rendered manifests ([`manifests`]), and the image
//! pull Secret for the mirror registries ([`pull_secret`]).

pub mod config;
pub mod manifests;
pub mod overlay;
pub mod pipeline;
pub mod pull_secret;
pub mod recognize;
