//! kubectl's table layout: cells aligned by Go's `text/tabwriter` configured as
//! `k8s.io/cli-runtime/pkg/printers` does (minwidth 6, padding 3, pad char ' ').
//!
//! Every cell but the last of a line is padded to its column's width, which is
//! `max(6, widest cell + 3)`; the last cell is written as is (no trailing spaces).
//! Widths count characters (runes), as tabwriter does.

/// Minimum column width, padding included (`tabwriterMinWidth`).
pub const MIN_WIDTH: usize = 6;
/// Spaces added after the widest cell of a column (`tabwriterPadding`).
pub const PADDING: usize = 3;

/// A kubectl-style table: one header line in CAPS, then one line per row.
#[derive(Debug, Clone, Default)]
pub struct Table {
    lines: Vec<Vec<String>>,
}

impl Table {
    /// A table whose header line holds `header`, upper-cased as kubectl prints it.
    pub fn new<I, S>(header: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let header = header.into_iter().map(|h| h.as_ref().to_uppercase()).collect();
        Table { lines: vec![header] }
    }

    /// A table without a header line (kubectl's `--no-headers`).
    pub fn headless() -> Self {
        Table::default()
    }

    /// Appends a row.
    pub fn row<I, S>(&mut self, cells: I)
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.lines.push(cells.into_iter().map(Into::into).collect());
    }

    /// Number of rows, header excluded.
    pub fn len(&self) -> usize {
        self.lines.len().saturating_sub(1)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The aligned text, every line ending in `\n`.
    pub fn render(&self) -> String {
        render_lines(&self.lines)
    }
}

/// Aligns the cells with a port of Go's `text/tabwriter`, set up as kubectl's
/// printers set theirs (`printers.GetNewTabWriter`): a cell is followed by a tab,
/// except the last of a line, which tabwriter leaves unpadded.
pub fn render_lines(lines: &[Vec<String>]) -> String {
    use std::io::Write;
    // Go's minwidth counts the padding (width = max(minwidth, cell + padding)); this
    // port pads on top of it (width = max(minwidth, cell) + padding).
    let mut writer = tabwriter::TabWriter::new(Vec::new())
        .minwidth(MIN_WIDTH - PADDING)
        .padding(PADDING);
    for line in lines {
        let _ = writeln!(writer, "{}", line.join("\t"));
    }
    let bytes = writer.into_inner().expect("writing to memory cannot fail");
    String::from_utf8(bytes).expect("cells are UTF-8")
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Start offsets (in characters) of each cell of a rendered line, found from the
    /// header: a column starts where a header cell starts.
    pub(crate) fn column_starts(header: &str) -> Vec<usize> {
        let chars: Vec<char> = header.chars().collect();
        let mut starts = vec![0];
        let mut i = 0;
        while i < chars.len() {
            // Header cells may contain single spaces ("NOMINATED NODE"); columns are
            // separated by at least PADDING spaces.
            if chars[i] == ' ' {
                let run = chars[i..].iter().take_while(|c| **c == ' ').count();
                if run >= PADDING && i + run < chars.len() {
                    starts.push(i + run);
                }
                i += run;
            } else {
                i += 1;
            }
        }
        starts
    }

    /// Asserts that every line of a kubectl table has its cells starting at the header's
    /// column offsets: the character before each start is a space and the one at the
    /// start is not.
    pub(crate) fn assert_aligned(text: &str) {
        let lines: Vec<&str> = text.lines().collect();
        assert!(!lines.is_empty(), "empty table");
        let starts = column_starts(lines[0]);
        for line in &lines {
            let chars: Vec<char> = line.chars().collect();
            assert_eq!(*line, line.trim_end(), "trailing spaces in {line:?}");
            for &s in &starts[1..] {
                assert!(s < chars.len(), "line too short for column at {s}: {line:?}");
                assert_eq!(chars[s - 1], ' ', "column at {s} not separated in {line:?}");
                assert_ne!(chars[s], ' ', "column at {s} empty in {line:?}");
                // At least PADDING spaces before each column.
                assert!(
                    chars[s - PADDING..s].iter().all(|c| *c == ' '),
                    "less than {PADDING} spaces before column {s} in {line:?}"
                );
            }
        }
    }

    #[test]
    fn pads_like_tabwriter() {
        let mut t = Table::new(["name", "ready", "status"]);
        t.row(["redis-0", "1/1", "Running"]);
        t.row(["nginx-deployment-55d7bb4b86-vg4lt", "1/1", "Running"]);
        let out = t.render();
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines[0], format!("NAME{}READY   STATUS", " ".repeat(32)));
        assert_eq!(lines[2], "nginx-deployment-55d7bb4b86-vg4lt   1/1     Running");
        assert!(out.ends_with("Running\n"));
        assert_aligned(&out);
        assert_eq!(t.len(), 2);
    }

    #[test]
    fn narrow_columns_take_the_minimum_width() {
        let mut t = Table::new(["a", "b", "c"]);
        t.row(["x", "y", "z"]);
        // width = max(6, 1 + 3) = 6
        assert_eq!(t.render(), "A     B     C\nx     y     z\n");
    }

    #[test]
    fn last_column_is_not_padded_and_widths_count_chars() {
        let mut t = Table::headless();
        t.row(["ünïcödé", "x"]);
        t.row(["a", "longer-last-cell"]);
        assert_eq!(t.render(), "ünïcödé   x\na         longer-last-cell\n");
        assert!(Table::headless().is_empty());
    }
}
