pub mod copy_text;
pub mod error;
pub mod ident;
pub mod lexer;
pub mod plan;
mod pg_keywords;
pub mod rules;
pub mod statement;
pub mod reader;
