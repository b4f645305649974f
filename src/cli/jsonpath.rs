//! kubectl's `-o jsonpath=TEMPLATE`, the subset labs use: text with `{.a.b[0].c}`,
//! `{.items[*].metadata.name}` (several results joined by a space) and `{"\n"}`.

use anyhow::{Result, bail};
use serde_json::Value;

/// The template of `-o jsonpath=...` (kubectl also accepts `jsonpath='...'`).
pub fn template(output: &str) -> Option<String> {
    let t = output.strip_prefix("jsonpath=")?;
    let t = t.strip_prefix('\'').and_then(|t| t.strip_suffix('\'')).unwrap_or(t);
    Some(t.to_string())
}

pub fn render(template: &str, root: &Value) -> Result<String> {
    let mut out = String::new();
    let mut rest = template;
    while let Some(start) = rest.find('{') {
        out.push_str(&rest[..start]);
        let Some(len) = rest[start..].find('}') else {
            bail!("error parsing jsonpath {template}: unclosed action");
        };
        let expr = rest[start + 1..start + len].trim();
        out.push_str(&evaluate(expr, root)?);
        rest = &rest[start + len + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

fn evaluate(expr: &str, root: &Value) -> Result<String> {
    if let Some(literal) = expr.strip_prefix('"').and_then(|e| e.strip_suffix('"')) {
        return Ok(literal.replace("\\n", "\n").replace("\\t", "\t"));
    }
    let path = expr.strip_prefix('.').unwrap_or(expr);
    let mut current = vec![root];
    for segment in path.split('.').filter(|s| !s.is_empty()) {
        let (field, index) = match segment.split_once('[') {
            Some((f, i)) => (f, Some(i.trim_end_matches(']'))),
            None => (segment, None),
        };
        let mut next = Vec::new();
        for v in current {
            let v = if field.is_empty() { Some(v) } else { v.get(field) };
            let Some(v) = v else { continue };
            match index {
                None => next.push(v),
                Some("*") => next.extend(v.as_array().into_iter().flatten()),
                Some(i) => {
                    let i: i64 = i
                        .parse()
                        .map_err(|_| anyhow::anyhow!("jsonpath {expr}: bad index [{i}]"))?;
                    if let Some(items) = v.as_array() {
                        let at = if i < 0 { items.len() as i64 + i } else { i };
                        if let Some(item) = usize::try_from(at).ok().and_then(|at| items.get(at)) {
                            next.push(item);
                        } else {
                            bail!("array index out of bounds: index {i}, length {}", items.len());
                        }
                    }
                }
            }
        }
        current = next;
    }
    Ok(current
        .iter()
        .map(|v| match v {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        })
        .collect::<Vec<_>>()
        .join(" "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn picks_fields_indexes_and_wildcards() {
        let v = json!({"items": [{"metadata": {"name": "a"}, "n": 1}, {"metadata": {"name": "b"}, "n": 2}]});
        assert_eq!(render("{.items[0].metadata.name}", &v).unwrap(), "a");
        assert_eq!(render("{.items[*].metadata.name}", &v).unwrap(), "a b");
        assert_eq!(render("{.items[-1].n}{\"\\n\"}", &v).unwrap(), "2\n");
        assert_eq!(render("x={.items[1].metadata.name}!", &v).unwrap(), "x=b!");
        assert!(render("{.items[5].n}", &v).is_err());
        assert_eq!(template("jsonpath='{.a}'").as_deref(), Some("{.a}"));
        assert_eq!(template("json"), None);
    }
}
