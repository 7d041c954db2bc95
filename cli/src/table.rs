//! `Table`: a plain-text table with aligned columns, for human-readable reports.

use std::fmt::Write as _;

/// Column alignment.
#[derive(Debug, Clone, Copy)]
pub enum Align {
    /// Pad on the right.
    Left,
    /// Pad on the left (numbers).
    Right,
}

/// A table of text cells; the first row is the header when one is set.
#[derive(Debug, Default)]
pub struct Table {
    header: Option<Vec<String>>,
    rows: Vec<Vec<String>>,
    aligns: Vec<Align>,
}

impl Table {
    /// A table whose columns are aligned as given.
    pub fn new(aligns: &[Align]) -> Table {
        Table {
            aligns: aligns.to_vec(),
            ..Table::default()
        }
    }

    /// Sets the header row (underlined when rendered).
    pub fn header<S: ToString>(mut self, cells: &[S]) -> Table {
        self.header = Some(cells.iter().map(ToString::to_string).collect());
        self
    }

    /// Appends a row.
    pub fn row<S: ToString>(&mut self, cells: &[S]) {
        self.rows
            .push(cells.iter().map(ToString::to_string).collect());
    }

    /// Renders the table, each line indented by `indent` spaces.
    pub fn render(&self, indent: usize) -> String {
        let all = self.header.iter().chain(&self.rows);
        let mut widths: Vec<usize> = Vec::new();
        for row in all.clone() {
            for (i, cell) in row.iter().enumerate() {
                let w = cell.chars().count();
                if i >= widths.len() {
                    widths.push(w);
                } else {
                    widths[i] = widths[i].max(w);
                }
            }
        }
        let mut out = String::new();
        let pad = " ".repeat(indent);
        let line = |out: &mut String, row: &[String]| {
            out.push_str(&pad);
            for (i, cell) in row.iter().enumerate() {
                let w = widths[i];
                let sep = if i + 1 < row.len() { "  " } else { "" };
                let _ = match self.aligns.get(i).copied().unwrap_or(Align::Left) {
                    Align::Left if sep.is_empty() => write!(out, "{cell}"),
                    Align::Left => write!(out, "{cell:<w$}{sep}"),
                    Align::Right => write!(out, "{cell:>w$}{sep}"),
                };
            }
            let trimmed = out.trim_end_matches(' ').len();
            out.truncate(trimmed);
            out.push('\n');
        };
        if let Some(h) = &self.header {
            line(&mut out, h);
            let total = widths.iter().sum::<usize>() + 2 * widths.len().saturating_sub(1);
            out.push_str(&pad);
            out.push_str(&"-".repeat(total));
            out.push('\n');
        }
        for row in &self.rows {
            line(&mut out, row);
        }
        out
    }
}

/// Formats a count with thousands separators: `1,234,567`.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Formats a rate for a human: `12.34 M/s`, `850.0 k/s`.
pub fn rate(per_sec: f64) -> String {
    if per_sec >= 1e6 {
        format!("{:.2} M/s", per_sec / 1e6)
    } else if per_sec >= 1e3 {
        format!("{:.1} k/s", per_sec / 1e3)
    } else {
        format!("{per_sec:.0} /s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aligns_columns() {
        let mut t = Table::new(&[Align::Left, Align::Right]).header(&["name", "n"]);
        t.row(&["a", "10"]);
        t.row(&["long name", "7"]);
        let text = t.render(0);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "name        n");
        assert_eq!(lines[2], "a          10");
        assert_eq!(lines[3], "long name   7");
    }

    #[test]
    fn formats_numbers() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(1234567), "1,234,567");
        assert_eq!(thousands(100), "100");
        assert_eq!(rate(12_345_678.0), "12.35 M/s");
        assert_eq!(rate(850.0), "850 /s");
    }
}
