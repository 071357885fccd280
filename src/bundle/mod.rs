//! Offline bundles: one reproducible tar holding an OCI image layout with the
//! images, charts and generator zips of one or more values sets, carried
//! across an air gap. [`format`] is the file format every bundle command
//! shares; [`create`] writes a bundle through [`tar`]; [`read`] reads one
//! back, for [`push`], [`inspect`], [`verify`] and the base of a delta.

pub mod create;
pub mod format;
pub mod inspect;
pub mod push;
pub mod read;
pub mod tar;
pub mod verify;
