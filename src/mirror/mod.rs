//! Private mirrors, over the `image-ref` crate's one reference type: the
//! mirror configuration and its rewrite rules ([`config`]), the values overlay
//! that redirects every image and chart before rendering ([`overlay`]), the one
//! recognizer of image references in Kubernetes objects ([`recognize`]), the
//! rewrite and leak check of rendered manifests ([`manifests`]), the mirror's
//! steps in a render that [`crate::pipeline`] runs ([`steps`]: where the
//! configuration comes from, overlay, rewrite and check), the image pull
//! Secret for the mirror registries ([`pull_secret`]), and the `mirror`
//! command's copy of planned images and charts ([`copy`]).

pub mod config;
pub mod copy;
pub mod manifests;
pub mod overlay;
pub mod pull_secret;
pub mod recognize;
pub mod steps;
