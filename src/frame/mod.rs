//! Framing: pure mechanism over the input's bytes. The buffer chunks are
//! cut from, the resumable SQL lexer, and byte-class masks; nothing here
//! knows a rule.
pub(crate) mod byte_mask;
pub(crate) mod chunk_buf;
pub(crate) mod dump;
pub(crate) mod lexer;
