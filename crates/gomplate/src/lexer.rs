//! Splits template text into tokens, like Go's `text/template/parse/lex.go`,
//! with configurable delimiters and `-` whitespace trimming.
