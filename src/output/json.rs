//! JSON as Go's `json.MarshalIndent` writes it: the given indent, and `<`, `>`, `&`,
//! U+2028 and U+2029 escaped (`\u003c`…), which Go does by default and kubectl keeps.

use serde::Serialize;
use serde_json::ser::PrettyFormatter;

/// `value` as Go's `json.MarshalIndent(value, "", indent)` + `"\n"`.
pub fn to_json<T: Serialize + ?Sized>(value: &T, indent: &str) -> String {
    let mut buf = Vec::new();
    let mut ser = serde_json::Serializer::with_formatter(&mut buf, PrettyFormatter::with_indent(indent.as_bytes()));
    value
        .serialize(&mut ser)
        .expect("serialising to memory cannot fail for JSON-compatible values");
    let json = String::from_utf8(buf).expect("serde_json writes UTF-8");
    let mut out = go_escaped(&json);
    out.push('\n');
    out
}

/// Go's extra escapes, applied to the finished text: outside its strings JSON holds
/// none of these characters, so this escapes exactly the ones inside strings.
fn go_escaped(json: &str) -> String {
    let mut out = String::with_capacity(json.len());
    for c in json.chars() {
        match c {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    #[test]
    fn four_space_indent_and_go_escapes() {
        let v = json!({"b": ["<none>", "a && b > c"], "a": {}, "c": [], "d": "\u{2028}\n\"q\""});
        let out = to_json(&v, "    ");
        assert_eq!(
            out,
            "{\n    \"a\": {},\n    \"b\": [\n        \"\\u003cnone\\u003e\",\n        \"a \\u0026\\u0026 b \\u003e c\"\n    ],\n    \"c\": [],\n    \"d\": \"\\u2028\\n\\\"q\\\"\"\n}\n"
        );
        let back: Value = serde_json::from_str(&out).unwrap();
        assert_eq!(back, v);
    }
}
