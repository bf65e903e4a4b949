//! Other registries' tag patterns as regent tag regexes.
//!
//! regent selects tags by regex, always matched against the whole tag (see
//! `policy::select`), so the regexes made here carry no anchors. ECR writes
//! `prod*` (only `*` is special), Harbor writes doublestar globs (`v*`, `**`,
//! `{a,b}`, `[0-9]`, `?`).
//!
//! Tags never contain `/` (OCI: `[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}`), so
//! doublestar's "any characters but `/`" (`*`, `?`) is exactly `.*` / `.` on
//! a tag, and `**` is the same as `*`.

/// A regex matching a whole tag when any of `bodies` matches it whole.
///
/// Bodies made here have no top-level `|` of their own, so joining them
/// with `|` keeps each one intact under whole-tag matching.
pub fn any_of(bodies: &[String]) -> String {
    bodies.join("|")
}

/// `text` as a regex matching exactly it. Only characters regex syntax
/// reads outside a class are escaped, so tags stay readable (`feature-`,
/// not `feature\-`).
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(
            c,
            '\\' | '.' | '+' | '*' | '?' | '(' | ')' | '|' | '[' | ']' | '{' | '}' | '^' | '$'
        ) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// An ECR `tagPrefixList` entry: tags starting with `prefix`.
pub fn prefix_body(prefix: &str) -> String {
    format!("{}.*", escape(prefix))
}

/// An ECR `tagPatternList` entry: `*` is any run of characters, everything
/// else literal (ECR has no other wildcard and no escape).
pub fn ecr_pattern_body(pattern: &str) -> String {
    pattern
        .split('*')
        .map(escape)
        .collect::<Vec<_>>()
        .join(".*")
}

/// The literal start of an ECR pattern (up to its first `*`): every tag the
/// pattern matches starts with it, which is what overlap checks need.
pub fn ecr_literal_prefix(pattern: &str) -> &str {
    pattern.split('*').next().unwrap_or_default()
}

/// Whether a doublestar pattern matches every tag (`**`, `*`, or empty,
/// which Harbor treats as "match all").
pub fn doublestar_matches_everything(pattern: &str) -> bool {
    pattern.chars().all(|c| c == '*')
}

/// A Harbor doublestar tag pattern as a regex body.
///
/// Supports what `bmatcuk/doublestar` (Harbor's matcher) supports: `*`/`**`,
/// `?`, `[class]` with ranges and `^`/`!` negation, `{alt,alt}` (nested too)
/// and `\` escapes. Errors name what is malformed.
pub fn doublestar_body(pattern: &str) -> Result<String, String> {
    let chars: Vec<char> = pattern.chars().collect();
    let mut parser = Doublestar { chars, pos: 0 };
    let body = parser.sequence(false)?;
    match parser.peek() {
        None => Ok(body),
        Some(c) => Err(format!("unexpected `{c}` at position {}", parser.pos)),
    }
}

/// Recursive-descent reader of one doublestar pattern.
struct Doublestar {
    chars: Vec<char>,
    pos: usize,
}

impl Doublestar {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    fn next(&mut self) -> Option<char> {
        let c = self.peek();
        self.pos += 1;
        c
    }

    /// Read until the end, or (inside braces) until an unnested `,` or `}`,
    /// which is left for the caller.
    fn sequence(&mut self, in_braces: bool) -> Result<String, String> {
        let mut out = String::new();
        while let Some(c) = self.peek() {
            if in_braces && (c == ',' || c == '}') {
                break;
            }
            self.pos += 1;
            match c {
                '\\' => match self.next() {
                    Some(escaped) => out.push_str(&escape(&escaped.to_string())),
                    None => return Err("the pattern ends with a lone `\\`".into()),
                },
                '*' => {
                    while self.peek() == Some('*') {
                        self.pos += 1;
                    }
                    out.push_str(".*");
                }
                '?' => out.push('.'),
                '[' => out.push_str(&self.class()?),
                '{' => out.push_str(&self.alternatives()?),
                other => out.push_str(&escape(&other.to_string())),
            }
        }
        Ok(out)
    }

    /// `{a,b,c}` (the `{` already read) as `(?:a|b|c)`.
    fn alternatives(&mut self) -> Result<String, String> {
        let start = self.pos - 1;
        let mut alternatives = vec![self.sequence(true)?];
        loop {
            match self.next() {
                Some(',') => alternatives.push(self.sequence(true)?),
                Some('}') => return Ok(format!("(?:{})", alternatives.join("|"))),
                _ => return Err(format!("the `{{` at position {start} is never closed")),
            }
        }
    }

    /// `[...]` (the `[` already read) as a regex class, every member escaped
    /// so regex class syntax (`&&`, `--`, nested `[`) cannot leak in.
    fn class(&mut self) -> Result<String, String> {
        let start = self.pos - 1;
        let mut out = String::from("[");
        if matches!(self.peek(), Some('^' | '!')) {
            self.pos += 1;
            out.push('^');
        }
        let mut members = 0;
        loop {
            let c = match self.next() {
                None => return Err(format!("the `[` at position {start} is never closed")),
                Some(']') if members > 0 => break,
                Some(']') => return Err(format!("the class at position {start} is empty")),
                Some('\\') => self
                    .next()
                    .ok_or_else(|| "the pattern ends with a lone `\\`".to_owned())?,
                Some(c) => c,
            };
            members += 1;
            push_class_char(&mut out, c);
            let is_range =
                self.peek() == Some('-') && self.chars.get(self.pos + 1).is_some_and(|&n| n != ']');
            if is_range {
                self.pos += 1;
                let end = match self.next() {
                    Some('\\') => self
                        .next()
                        .ok_or_else(|| "the pattern ends with a lone `\\`".to_owned())?,
                    Some(end) => end,
                    None => return Err(format!("the `[` at position {start} is never closed")),
                };
                out.push('-');
                push_class_char(&mut out, end);
            }
        }
        out.push(']');
        Ok(out)
    }
}

/// One literal member of a regex class, escaped when class syntax would
/// otherwise read it.
fn push_class_char(out: &mut String, c: char) {
    if matches!(c, '\\' | '[' | ']' | '^' | '-' | '&' | '~') {
        out.push('\\');
    }
    out.push(c);
}

#[cfg(test)]
mod tests;
