//! Private mirrors, over the `image-ref` crate's one reference type: the
//! mirror configuration and its rewrite rules ([`config`], with Go's
//! `path.Match` for exclude patterns in [`glob`]), the values overlay
//! that redirects every image and chart before rendering ([`overlay`]), the
//! mirror's steps in a render that [`crate::pipeline`] runs ([`steps`]: where the
//! configuration comes from, overlay, rewrite and check), the image pull
//! Secret for the mirror registries ([`pull_secret`]), the `mirror`
//! command's copy [`plan`] (images and charts files → jobs) and [`copy`], the
//! image lock file that pins the render's images to the mirror's digests
//! ([`lock`]), and whether the mirror holds them (`verify` and the plugin's
//! preflight: [`verify`]).

pub mod config;
pub mod copy;
pub mod glob;
pub mod lock;
pub mod overlay;
pub mod plan;
pub mod pull_secret;
pub mod steps;
pub mod verify;
