//! A small YAML emitter for `serde_json::Value` that writes what kubectl's `-o yaml`
//! writes (kubectl goes JSON → `sigs.k8s.io/yaml` → go-yaml v2):
//!
//! - block style, 2-space indentation, mapping keys sorted;
//! - sequences not indented under their key (`key:\n- item`);
//! - empty collections as `{}` / `[]`;
//! - strings plain when go-yaml would read them back as strings, double-quoted when they
//!   would resolve to another type (`"True"`, `"80"`, `""`, timestamps, `"on"`…),
//!   single-quoted when plain style is not allowed (`'a: b'`, `'*'`), literal block
//!   (`|`, `|-`, `|+`) when they contain a newline.
//!
//! serde-saphyr's emitter was tried first: it quotes IP addresses (`"10.96.0.1"`) and
//! cannot quote timestamps while leaving IPs plain, so its output is visibly not
//! kubectl's. Known difference: go-yaml folds plain/quoted strings longer than 80
//! columns at spaces; this emitter never folds lines.

use serde_json::Value;

/// YAML text of `value`, ending in a newline.
pub fn to_yaml(value: &Value) -> String {
    let mut out = String::new();
    match value {
        Value::Object(map) if !map.is_empty() => emit_mapping(&mut out, value, 0, false),
        Value::Array(seq) if !seq.is_empty() => emit_sequence(&mut out, seq, 0, false),
        _ => {
            out.push_str(&inline_scalar(value, 0, false));
            out.push('\n');
        }
    }
    out
}

/// Writes a non-empty mapping at `indent`. With `inline_first`, the first key continues
/// the current line (after `- `).
fn emit_mapping(out: &mut String, value: &Value, indent: usize, inline_first: bool) {
    let Value::Object(map) = value else {
        unreachable!("emit_mapping on a non-object")
    };
    let mut entries: Vec<(&String, &Value)> = map.iter().collect();
    entries.sort_by(|a, b| a.0.cmp(b.0));
    for (i, (key, val)) in entries.into_iter().enumerate() {
        if i > 0 || !inline_first {
            push_indent(out, indent);
        }
        out.push_str(&format_string(key, indent, true));
        out.push(':');
        match val {
            Value::Object(m) if !m.is_empty() => {
                out.push('\n');
                emit_mapping(out, val, indent + 2, false);
            }
            Value::Array(s) if !s.is_empty() => {
                out.push('\n');
                // go-yaml v2 writes block sequences in a mapping without extra indentation.
                emit_sequence(out, s, indent, false);
            }
            _ => {
                out.push(' ');
                out.push_str(&inline_scalar(val, indent + 2, false));
                out.push('\n');
            }
        }
    }
}

/// Writes a non-empty sequence whose `- ` indicators sit at `indent`.
fn emit_sequence(out: &mut String, seq: &[Value], indent: usize, inline_first: bool) {
    for (i, item) in seq.iter().enumerate() {
        if i > 0 || !inline_first {
            push_indent(out, indent);
        }
        out.push_str("- ");
        match item {
            Value::Object(m) if !m.is_empty() => emit_mapping(out, item, indent + 2, true),
            Value::Array(s) if !s.is_empty() => emit_sequence(out, s, indent + 2, true),
            _ => {
                out.push_str(&inline_scalar(item, indent + 2, false));
                out.push('\n');
            }
        }
    }
}

fn push_indent(out: &mut String, indent: usize) {
    out.extend(std::iter::repeat_n(' ', indent));
}

/// A scalar (or empty collection) as it follows `key: ` or `- `. Literal block scalars
/// span several lines, their content indented at `block_indent`.
fn inline_scalar(value: &Value, block_indent: usize, simple_key: bool) -> String {
    match value {
        Value::Null => "null".to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => format_string(s, block_indent, simple_key),
        Value::Array(_) => "[]".to_string(),
        Value::Object(_) => "{}".to_string(),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Style {
    Plain,
    Single,
    Double,
    Literal,
}

/// A string scalar in the style go-yaml v2 picks (`encoder.stringv` then libyaml's
/// `yaml_emitter_select_scalar_style`).
fn format_string(s: &str, block_indent: usize, simple_key: bool) -> String {
    match select_style(s, simple_key) {
        Style::Plain => s.to_string(),
        Style::Single => format!("'{}'", s.replace('\'', "''")),
        Style::Double => double_quoted(s),
        Style::Literal => literal_block(s, block_indent),
    }
}

fn select_style(s: &str, simple_key: bool) -> Style {
    let a = analyze(s);
    let mut style = if s.contains('\n') {
        Style::Literal
    } else if resolves_to_string(s) {
        Style::Plain
    } else {
        Style::Double
    };
    if style == Style::Plain && !a.block_plain_allowed {
        style = Style::Single;
    }
    if style == Style::Single && !a.single_quoted_allowed {
        style = Style::Double;
    }
    if style == Style::Literal && (!a.block_allowed || simple_key) {
        style = Style::Double;
    }
    style
}

struct Analysis {
    block_plain_allowed: bool,
    single_quoted_allowed: bool,
    block_allowed: bool,
}

fn is_break(c: char) -> bool {
    matches!(c, '\r' | '\n' | '\u{85}' | '\u{2028}' | '\u{2029}')
}

fn is_printable(c: char) -> bool {
    matches!(c,
        '\n' | '\u{20}'..='\u{7e}' | '\u{85}' | '\u{a0}'..='\u{d7ff}' | '\u{e000}'..='\u{fffd}'
        | '\u{10000}'..='\u{10ffff}')
        && c != '\u{feff}'
}

/// libyaml's `yaml_emitter_analyze_scalar`, block context only.
fn analyze(s: &str) -> Analysis {
    let mut a = Analysis {
        block_plain_allowed: true,
        single_quoted_allowed: true,
        block_allowed: true,
    };
    if s.is_empty() {
        a.block_plain_allowed = false;
        a.block_allowed = false;
        return a;
    }
    let chars: Vec<char> = s.chars().collect();
    let mut block_indicators = s.starts_with("---") || s.starts_with("...");
    let (first, last) = (chars[0], chars[chars.len() - 1]);
    let (leading_space, leading_break) = (first == ' ', is_break(first));
    let (trailing_space, trailing_break) = (last == ' ', is_break(last));
    let (mut break_space, mut space_break, mut previous_space, mut previous_break) = (false, false, false, false);
    let (mut line_breaks, mut special_characters) = (false, false);
    let mut preceded_by_whitespace = true;
    for (i, &c) in chars.iter().enumerate() {
        let next = chars.get(i + 1).copied();
        let followed_by_whitespace = next.is_none_or(|n| n == ' ' || n == '\t' || is_break(n));
        if i == 0 {
            match c {
                '#' | ',' | '[' | ']' | '{' | '}' | '&' | '*' | '!' | '|' | '>' | '\'' | '"' | '%' | '@' | '`' => {
                    block_indicators = true
                }
                '?' | ':' | '-' if followed_by_whitespace => block_indicators = true,
                _ => {}
            }
        } else {
            match c {
                ':' if followed_by_whitespace => block_indicators = true,
                '#' if preceded_by_whitespace => block_indicators = true,
                _ => {}
            }
        }
        if !is_printable(c) {
            special_characters = true;
        }
        if is_break(c) {
            line_breaks = true;
        }
        if c == ' ' && previous_break {
            break_space = true;
        }
        if is_break(c) && previous_space {
            space_break = true;
        }
        previous_space = c == ' ';
        previous_break = is_break(c);
        preceded_by_whitespace = c == ' ' || c == '\t' || is_break(c);
    }
    if leading_space || leading_break || trailing_space || trailing_break {
        a.block_plain_allowed = false;
    }
    if trailing_space {
        a.block_allowed = false;
    }
    if break_space {
        a.block_plain_allowed = false;
        a.single_quoted_allowed = false;
    }
    if space_break || special_characters {
        a.block_plain_allowed = false;
        a.single_quoted_allowed = false;
        a.block_allowed = false;
    }
    if line_breaks || block_indicators {
        a.block_plain_allowed = false;
    }
    a
}

/// Whether go-yaml v2's `resolve("", s)` keeps `s` a string (so it may be written plain).
fn resolves_to_string(s: &str) -> bool {
    const SPECIAL: &[&str] = &[
        "", "~", "null", "Null", "NULL", "y", "Y", "yes", "Yes", "YES", "on", "On", "ON", "true", "True", "TRUE", "n",
        "N", "no", "No", "NO", "off", "Off", "OFF", "false", "False", "FALSE", ".nan", ".NaN", ".NAN", ".inf", ".Inf",
        ".INF", "+.inf", "+.Inf", "+.INF", "-.inf", "-.Inf", "-.INF", "<<",
    ];
    if SPECIAL.contains(&s) {
        return false;
    }
    let Some(first) = s.chars().next() else {
        return false;
    };
    match first {
        '.' => !is_go_float(s),
        '+' | '-' | '0'..='9' => {
            let plain: String = s.chars().filter(|c| *c != '_').collect();
            !(is_go_int(&plain) || is_yaml_float(&plain) || is_timestamp(s) || is_base60(s))
        }
        _ => true,
    }
}

/// `strconv.ParseInt(s, 0, 64)` / `ParseUint` syntax (range not checked: out-of-range
/// decimal integers still match the float pattern).
fn is_go_int(s: &str) -> bool {
    let body = s.strip_prefix(['+', '-']).unwrap_or(s);
    let all = |digits: &str, ok: fn(char) -> bool| !digits.is_empty() && digits.chars().all(ok);
    if let Some(h) = body.strip_prefix("0x").or_else(|| body.strip_prefix("0X")) {
        all(h, |c| c.is_ascii_hexdigit())
    } else if let Some(o) = body.strip_prefix("0o").or_else(|| body.strip_prefix("0O")) {
        all(o, |c| matches!(c, '0'..='7'))
    } else if let Some(b) = body.strip_prefix("0b").or_else(|| body.strip_prefix("0B")) {
        all(b, |c| matches!(c, '0' | '1'))
    } else {
        all(body, |c| c.is_ascii_digit())
    }
}

/// go-yaml's `yamlStyleFloat`: `^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`.
fn is_yaml_float(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    if matches!(b.first(), Some(b'+' | b'-')) {
        i += 1;
    }
    let digits = |i: &mut usize| {
        let start = *i;
        while *i < b.len() && b[*i].is_ascii_digit() {
            *i += 1;
        }
        *i - start
    };
    if b.get(i) == Some(&b'.') {
        i += 1;
        if digits(&mut i) == 0 {
            return false;
        }
    } else {
        if digits(&mut i) == 0 {
            return false;
        }
        if b.get(i) == Some(&b'.') {
            i += 1;
            digits(&mut i);
        }
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        if digits(&mut i) == 0 {
            return false;
        }
    }
    i == b.len()
}

/// `strconv.ParseFloat` for strings starting with '.', approximately.
fn is_go_float(s: &str) -> bool {
    is_yaml_float(s)
}

/// go-yaml's timestamp formats: `2006-1-2`, `2006-1-2T15:4:5.999999999Z07:00` (also `t`),
/// `2006-1-2 15:4:5.999999999`.
fn is_timestamp(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    let num = |i: &mut usize, min: usize, max: usize| {
        let start = *i;
        while *i < b.len() && b[*i].is_ascii_digit() && *i - start < max {
            *i += 1;
        }
        (min..=max).contains(&(*i - start))
    };
    let lit = |i: &mut usize, c: u8| {
        if b.get(*i) == Some(&c) {
            *i += 1;
            true
        } else {
            false
        }
    };
    if !(num(&mut i, 4, 4) && lit(&mut i, b'-') && num(&mut i, 1, 2) && lit(&mut i, b'-')) {
        return false;
    }
    if !num(&mut i, 1, 2) {
        return false;
    }
    if i == b.len() {
        return true;
    }
    let sep = b[i];
    if !matches!(sep, b'T' | b't' | b' ') {
        return false;
    }
    i += 1;
    if !(num(&mut i, 1, 2) && lit(&mut i, b':') && num(&mut i, 1, 2) && lit(&mut i, b':') && num(&mut i, 1, 2)) {
        return false;
    }
    if lit(&mut i, b'.') && !num(&mut i, 1, 9) {
        return false;
    }
    if sep == b' ' {
        return i == b.len();
    }
    if lit(&mut i, b'Z') {
        return i == b.len();
    }
    if matches!(b.get(i), Some(b'+' | b'-')) {
        i += 1;
        return num(&mut i, 2, 2) && lit(&mut i, b':') && num(&mut i, 2, 2) && i == b.len();
    }
    false
}

/// go-yaml's `isBase60Float`: `^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$`.
fn is_base60(s: &str) -> bool {
    let body = s.strip_prefix(['+', '-']).unwrap_or(s);
    let (main, frac) = match body.split_once('.') {
        Some((m, f)) => (m, Some(f)),
        None => (body, None),
    };
    if let Some(f) = frac
        && !f.chars().all(|c| c.is_ascii_digit() || c == '_')
    {
        return false;
    }
    let mut parts = main.split(':');
    let head = parts.next().unwrap_or("");
    if !head.starts_with(|c: char| c.is_ascii_digit()) || !head.chars().all(|c| c.is_ascii_digit() || c == '_') {
        return false;
    }
    let mut sexagesimal = 0;
    for p in parts {
        let ok = match p.as_bytes() {
            [d] => d.is_ascii_digit(),
            [t, d] => matches!(t, b'0'..=b'5') && d.is_ascii_digit(),
            _ => false,
        };
        if !ok {
            return false;
        }
        sexagesimal += 1;
    }
    sexagesimal > 0
}

/// libyaml's double-quoted scalar (without line folding).
fn double_quoted(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        if !is_printable(c) || c == '\u{feff}' || is_break(c) || c == '"' || c == '\\' {
            out.push('\\');
            match c {
                '\0' => out.push('0'),
                '\u{7}' => out.push('a'),
                '\u{8}' => out.push('b'),
                '\t' => out.push('t'),
                '\n' => out.push('n'),
                '\u{b}' => out.push('v'),
                '\u{c}' => out.push('f'),
                '\r' => out.push('r'),
                '\u{1b}' => out.push('e'),
                '"' => out.push('"'),
                '\\' => out.push('\\'),
                '\u{85}' => out.push('N'),
                '\u{a0}' => out.push('_'),
                '\u{2028}' => out.push('L'),
                '\u{2029}' => out.push('P'),
                c if (c as u32) <= 0xff => out.push_str(&format!("x{:02X}", c as u32)),
                c if (c as u32) <= 0xffff => out.push_str(&format!("u{:04X}", c as u32)),
                c => out.push_str(&format!("U{:08X}", c as u32)),
            }
        } else {
            out.push(c);
        }
    }
    out.push('"');
    out
}

/// A literal block scalar: `|` (one trailing newline), `|-` (none) or `|+` (several),
/// with an indentation indicator when the text starts with a space or a newline.
fn literal_block(s: &str, indent: usize) -> String {
    let mut header = String::from("|");
    if s.starts_with([' ', '\n']) {
        header.push('2');
    }
    let body = if !s.ends_with('\n') {
        header.push('-');
        s
    } else if s.len() == 1 || !s[..s.len() - 1].ends_with('\n') {
        &s[..s.len() - 1]
    } else {
        header.push('+');
        &s[..s.len() - 1]
    };
    let mut out = header;
    for line in body.split('\n') {
        out.push('\n');
        if !line.is_empty() {
            push_indent(&mut out, indent);
            out.push_str(line);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn round_trip(v: &Value) {
        let text = to_yaml(v);
        let back: Value = serde_saphyr::from_str(&text).unwrap_or_else(|e| panic!("reparse failed: {e}\n{text}"));
        assert_eq!(&back, v, "round trip changed the value:\n{text}");
    }

    #[test]
    fn kubectl_layout() {
        let v = json!({
            "kind": "List",
            "apiVersion": "v1",
            "metadata": {"resourceVersion": ""},
            "items": [
                {"addresses": ["192.168.202.195"], "conditions": {"ready": true},
                 "hostname": "redis-0"},
                {"addresses": ["192.168.156.4", "192.168.156.5"], "conditions": {}, "x": []}
            ]
        });
        let want = "\
apiVersion: v1
items:
- addresses:
  - 192.168.202.195
  conditions:
    ready: true
  hostname: redis-0
- addresses:
  - 192.168.156.4
  - 192.168.156.5
  conditions: {}
  x: []
kind: List
metadata:
  resourceVersion: \"\"
";
        assert_eq!(to_yaml(&v), want);
        round_trip(&v);
    }

    #[test]
    fn quotes_what_go_yaml_quotes() {
        let cases = [
            ("Ready", "Ready"),
            ("10.96.0.1", "10.96.0.1"),
            ("192.168.0.0/26", "192.168.0.0/26"),
            ("True", "\"True\""),
            ("false", "\"false\""),
            ("on", "\"on\""),
            ("n", "\"n\""),
            ("null", "\"null\""),
            ("~", "\"~\""),
            ("", "\"\""),
            ("80", "\"80\""),
            ("-5", "\"-5\""),
            ("0x1F", "\"0x1F\""),
            ("1e3", "\"1e3\""),
            ("1.5", "\"1.5\""),
            (".5", "\".5\""),
            (".inf", "\".inf\""),
            ("1_000", "\"1_000\""),
            ("1:20", "\"1:20\""),
            ("2026-11-23T11:19:25Z", "\"2026-11-23T11:19:25Z\""),
            ("2026-11-23", "\"2026-11-23\""),
            ("v1.28.0", "v1.28.0"),
            ("-c", "-c"),
            ("--port=80", "--port=80"),
            ("-", "'-'"),
            ("*", "'*'"),
            ("a: b", "'a: b'"),
            ("a:b", "a:b"),
            ("key:", "'key:'"),
            ("#x", "'#x'"),
            ("a #x", "'a #x'"),
            ("a#x", "a#x"),
            ("it's", "it's"),
            ("'q'", "'''q'''"),
            (" lead", "' lead'"),
            ("trail ", "'trail '"),
            ("---", "'---'"),
            ("{x}", "'{x}'"),
            ("a\tb", "\"a\\tb\""),
            ("<none>", "<none>"),
            ("kubernetes.io/hostname", "kubernetes.io/hostname"),
        ];
        for (input, want) in cases {
            assert_eq!(format_string(input, 2, false), want, "{input:?}");
            round_trip(&json!({ "k": input }));
        }
    }

    #[test]
    fn multiline_strings_are_literal_blocks() {
        let v = json!({"args": ["-c", "if true; then\n  echo hi\nfi\n", "a\nb", "x\n\n", "\n lead\n"]});
        let text = to_yaml(&v);
        assert_eq!(
            text,
            "args:\n- -c\n- |\n  if true; then\n    echo hi\n  fi\n- |-\n  a\n  b\n- |+\n  x\n\n- |2\n\n   lead\n"
        );
        round_trip(&v);
        // Trailing space before a newline forbids block style.
        assert_eq!(format_string("a \nb", 2, false), "\"a \\nb\"");
        // Keys are never block scalars.
        assert_eq!(format_string("a\nb", 0, true), "\"a\\nb\"");
        round_trip(&json!({"a \nb": "x", "nested": {"deep": ["p\nq\n", {"k": "r\n"}]}}));
    }

    #[test]
    fn scalars_and_roots() {
        assert_eq!(to_yaml(&json!({})), "{}\n");
        assert_eq!(to_yaml(&json!([])), "[]\n");
        assert_eq!(to_yaml(&json!("x")), "x\n");
        assert_eq!(
            to_yaml(&json!([1, [2, 3], {"a": null}])),
            "- 1\n- - 2\n  - 3\n- a: null\n"
        );
        round_trip(&json!([1, [2, 3], {"a": null, "b": false, "c": -7}]));
    }
}
