//! The tidy tests' scanners of Rust source as text: comments and literals blanked (so that only
//! code is searched), and items under a test-only `#[cfg(…)]` blanked with the names of the
//! test-only modules they declare.

pub fn is_ident(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// The source with comments and the contents of string and character literals replaced by
/// spaces (newlines kept), so that only code is searched.
pub fn code_only(src: &str) -> String {
    blank_comments(src, true)
}

/// The source with comments replaced by spaces (newlines kept), and the contents of string and
/// character literals too when `strings` is set. Either way the text keeps its length in chars.
pub fn blank_comments(src: &str, strings: bool) -> String {
    let blank_strings = strings;
    let chars: Vec<char> = src.chars().collect();
    let mut out: Vec<char> = Vec::with_capacity(chars.len());
    let blank = |c: char| if c == '\n' { '\n' } else { ' ' };
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        let prev_ident = i > 0 && is_ident(chars[i - 1]);
        if c == '/' && next == Some('/') {
            while i < chars.len() && chars[i] != '\n' {
                out.push(' ');
                i += 1;
            }
        } else if c == '/' && next == Some('*') {
            let mut depth = 0;
            while i < chars.len() {
                if chars[i] == '/' && chars.get(i + 1) == Some(&'*') {
                    depth += 1;
                    out.extend(['/', '*'].map(|_| ' '));
                    i += 2;
                } else if chars[i] == '*' && chars.get(i + 1) == Some(&'/') {
                    depth -= 1;
                    out.extend([' ', ' ']);
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    out.push(blank(chars[i]));
                    i += 1;
                }
            }
        } else if c == 'r'
            && (!prev_ident
                || (i >= 1 && chars[i - 1] == 'b' && (i < 2 || !is_ident(chars[i - 2]))))
            && matches!(next, Some('"' | '#'))
        {
            // A raw string r"…", r#"…"#, br"…": ends at a quote followed by as many hashes.
            let mut j = i + 1;
            while chars.get(j) == Some(&'#') {
                j += 1;
            }
            if chars.get(j) != Some(&'"') {
                out.push(c);
                i += 1;
                continue;
            }
            let hashes = j - i - 1;
            out.extend(&chars[i..=j]);
            i = j + 1;
            while i < chars.len() {
                if chars[i] == '"' && (1..=hashes).all(|k| chars.get(i + k) == Some(&'#')) {
                    out.extend(&chars[i..=i + hashes]);
                    i += hashes + 1;
                    break;
                }
                out.push(if blank_strings {
                    blank(chars[i])
                } else {
                    chars[i]
                });
                i += 1;
            }
        } else if c == '"' {
            out.push('"');
            i += 1;
            while i < chars.len() {
                if chars[i] == '\\' {
                    out.push(if blank_strings { ' ' } else { '\\' });
                    if let Some(&e) = chars.get(i + 1) {
                        out.push(if blank_strings { blank(e) } else { e });
                    }
                    i += 2;
                } else if chars[i] == '"' {
                    out.push('"');
                    i += 1;
                    break;
                } else {
                    out.push(if blank_strings {
                        blank(chars[i])
                    } else {
                        chars[i]
                    });
                    i += 1;
                }
            }
        } else if c == '\'' && next == Some('\\') {
            // An escaped character literal: '\n', '\'', '\u{..}'.
            out.push('\'');
            i += 1;
            let mut first = true;
            while i < chars.len() && (first || chars[i] != '\'') {
                first = chars[i] == '\\' && first;
                out.push(' ');
                i += 1;
            }
            if i < chars.len() {
                out.push('\'');
                i += 1;
            }
        } else if c == '\'' && chars.get(i + 2) == Some(&'\'') {
            out.extend(['\'', ' ', '\'']);
            i += 3;
        } else {
            out.push(c);
            i += 1;
        }
    }
    out.into_iter().collect()
}

/// Whether a `#[cfg(…)]` attribute's condition makes the item test-only.
fn is_test_cfg(cond: &str) -> bool {
    let words: Vec<&str> = cond
        .split(|c: char| !is_ident(c))
        .filter(|w| !w.is_empty())
        .collect();
    words.contains(&"test") && !words.contains(&"not")
}

/// Index just past the item that starts at `i`: a `{…}` block, or up to a `;` outside brackets.
fn item_end(code: &[char], mut i: usize) -> usize {
    let mut depth = 0i32;
    while i < code.len() {
        match code[i] {
            '(' | '[' => depth += 1,
            ')' | ']' => depth -= 1,
            ';' if depth == 0 => return i + 1,
            '{' if depth == 0 => {
                let mut braces = 0;
                while i < code.len() {
                    match code[i] {
                        '{' => braces += 1,
                        '}' => {
                            braces -= 1;
                            if braces == 0 {
                                return i + 1;
                            }
                        }
                        _ => {}
                    }
                    i += 1;
                }
                return i;
            }
            _ => {}
        }
        i += 1;
    }
    i
}

/// Index just past the `]` that closes the attribute starting at `i` (its `#`).
fn attribute_end(code: &[char], mut i: usize) -> usize {
    let mut depth = 0;
    while i < code.len() {
        match code[i] {
            '[' => depth += 1,
            ']' => {
                depth -= 1;
                if depth == 0 {
                    return i + 1;
                }
            }
            _ => {}
        }
        i += 1;
    }
    i
}

/// Code of one file without the items under a test-only `#[cfg(…)]`, and the names of the
/// test-only out-of-line modules it declares (`#[cfg(test)] mod tests;`).
pub fn strip_test_items(code: &str) -> (String, Vec<String>) {
    let (code, mods, _) = strip_test_items_with_spans(code);
    (code, mods)
}

/// [`strip_test_items`], also returning the char ranges it blanked.
pub fn strip_test_items_with_spans(code: &str) -> (String, Vec<String>, Vec<(usize, usize)>) {
    let mut chars: Vec<char> = code.chars().collect();
    let mut spans = Vec::new();
    let mut test_mods = Vec::new();
    let mut from = 0;
    loop {
        let text: String = chars[from..].iter().collect();
        let Some(pos) = text.find("#[cfg(") else {
            break;
        };
        let start = from + text[..pos].chars().count();
        // The attribute ends at its closing bracket.
        let close = attribute_end(&chars, start).saturating_sub(1);
        let cond: String = chars[start + 2..close.min(chars.len())].iter().collect();
        if !is_test_cfg(&cond) {
            from = close.min(chars.len());
            continue;
        }
        // Skip further attributes, then blank the item.
        let mut i = close + 1;
        loop {
            while i < chars.len() && chars[i].is_whitespace() {
                i += 1;
            }
            if chars.get(i) == Some(&'#') {
                i = attribute_end(&chars, i);
            } else {
                break;
            }
        }
        let end = item_end(&chars, i);
        let item: String = chars[i..end].iter().collect();
        let words: Vec<&str> = item
            .split(|c: char| !is_ident(c))
            .filter(|w| !w.is_empty())
            .collect();
        if item.trim_end().ends_with(';')
            && let Some(k) = words.iter().position(|w| *w == "mod")
            && let Some(name) = words.get(k + 1)
        {
            test_mods.push((*name).to_string());
        }
        for c in &mut chars[start..end] {
            if *c != '\n' {
                *c = ' ';
            }
        }
        spans.push((start, end));
        from = end;
    }
    (chars.into_iter().collect(), test_mods, spans)
}
