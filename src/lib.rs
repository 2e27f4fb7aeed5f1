pub mod error;
pub mod lexer;
pub mod rules;
