//! The values overlay: before rendering, every image and chart location in the
//! merged values is redirected by the [`MirrorRules`](super::config::MirrorRules).
