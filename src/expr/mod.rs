//! The expression language: lexer, parser, printer, simplifier, symbolic derivative and evaluators.
