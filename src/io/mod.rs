//! Input and output: opening a dump once (file, FIFO, stdin, directory),
//! detecting compression and dialect, and writing the output atomically.
#[allow(missing_docs)] // internal, reached through `internals`
pub(crate) mod detect;
pub(crate) mod input;
#[allow(missing_docs)] // internal, reached through `internals`
pub(crate) mod output;
