//! Applying: workers carry out a chunk's decisions (`rewrite`), and the
//! parallel pipeline runs reader, workers and the in-order writer.
#[allow(missing_docs)] // internal, reached through `internals`
pub(crate) mod pipeline;
#[allow(missing_docs)] // internal, reached through `internals`
pub(crate) mod rewrite;
