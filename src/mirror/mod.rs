//! Private mirrors, over the `image-ref` crate's one reference type: the
//! mirror configuration and its rewrite rules ([`config`], with Go's
//! `path.Match` for exclude patterns in [`glob`]), the values overlay
//! that redirects every image and chart before rendering ([`overlay`]), the
//! mirror's steps in a render that [`crate::pipeline`] runs ([`steps`]: where the
//! configuration comes from, overlay, rewrite and check), the image pull
//! Secret for the mirror registries ([`pull_secret`]), and the `mirror`
//! command's copy [`plan`] (images and charts files → jobs) and [`copy`].

pub mod config;
pub mod copy;
pub mod glob;
pub mod overlay;
pub mod plan;
pub mod pull_secret;
pub mod steps;
