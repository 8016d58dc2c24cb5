//! The `ebmcheck` command-line tool: a thin layer over the library's public API.
fn main() {}
