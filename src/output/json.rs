//! JSON as Go's `json.MarshalIndent` writes it: the given indent, and `<`, `>`, `&`,
//! U+2028 and U+2029 escaped (`\u003c`…), which Go does by default and kubectl keeps.

use std::io;

use serde::Serialize;
use serde_json::ser::{Formatter, PrettyFormatter};

struct GoFormatter<'a>(PrettyFormatter<'a>);

impl Formatter for GoFormatter<'_> {
    fn write_string_fragment<W: ?Sized + io::Write>(&mut self, writer: &mut W, fragment: &str) -> io::Result<()> {
        let mut start = 0;
        for (i, c) in fragment.char_indices() {
            let escape = match c {
                '<' => "\\u003c",
                '>' => "\\u003e",
                '&' => "\\u0026",
                '\u{2028}' => "\\u2028",
                '\u{2029}' => "\\u2029",
                _ => continue,
            };
            writer.write_all(&fragment.as_bytes()[start..i])?;
            writer.write_all(escape.as_bytes())?;
            start = i + c.len_utf8();
        }
        writer.write_all(&fragment.as_bytes()[start..])
    }

    fn begin_array<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.begin_array(w)
    }
    fn end_array<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_array(w)
    }
    fn begin_array_value<W: ?Sized + io::Write>(&mut self, w: &mut W, first: bool) -> io::Result<()> {
        self.0.begin_array_value(w, first)
    }
    fn end_array_value<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_array_value(w)
    }
    fn begin_object<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.begin_object(w)
    }
    fn end_object<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_object(w)
    }
    fn begin_object_key<W: ?Sized + io::Write>(&mut self, w: &mut W, first: bool) -> io::Result<()> {
        self.0.begin_object_key(w, first)
    }
    fn begin_object_value<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.begin_object_value(w)
    }
    fn end_object_value<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_object_value(w)
    }
}

/// `value` as Go's `json.MarshalIndent(value, "", indent)` + `"\n"`.
pub fn to_json<T: Serialize + ?Sized>(value: &T, indent: &str) -> String {
    let mut buf = Vec::new();
    let mut ser =
        serde_json::Serializer::with_formatter(&mut buf, GoFormatter(PrettyFormatter::with_indent(indent.as_bytes())));
    value
        .serialize(&mut ser)
        .expect("serialising to memory cannot fail for JSON-compatible values");
    let mut out = String::from_utf8(buf).expect("serde_json writes UTF-8");
    out.push('\n');
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
