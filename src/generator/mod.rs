//! The generator stage, in the order a render uses it: [`source`] (a generator
//! folder, zip or release version ([`release`]): extraction ([`archive`]),
//! layout check, hash) →
//! [`values`] (values layers merged in memory over the generator's defaults) →
//! [`render`] (the two render phases, skipping what [`ignore`]'s
//! `.gomplateignore` rules name) → [`output`] (the output folder, its staging
//! copy, marker and commit). [`crate::pipeline`] drives them.

pub mod archive;
pub mod ignore;
pub mod output;
pub mod release;
pub mod render;
pub mod source;
pub mod values;
