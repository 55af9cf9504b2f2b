//! The figures each process prints: one `key=value` per line (lists comma-separated), written
//! to stdout and, with `--report FILE`, to a file the end-to-end test reads.

use std::collections::BTreeMap;
use std::fmt::Display;
use std::path::Path;

#[derive(Default)]
pub struct Report {
    lines: Vec<(String, String)>,
}

impl Report {
    pub fn set(&mut self, key: &str, value: impl Display) {
        self.lines.push((key.to_string(), value.to_string()));
    }

    pub fn set_list<T: Display>(&mut self, key: &str, values: impl IntoIterator<Item = T>) {
        let v: Vec<String> = values.into_iter().map(|x| x.to_string()).collect();
        self.set(key, v.join(","));
    }

    pub fn text(&self) -> String {
        self.lines
            .iter()
            .map(|(k, v)| format!("{k}={v}\n"))
            .collect()
    }

    /// Prints the figures (lists only by their length) and writes the whole report.
    pub fn emit(&self, who: &str, file: Option<&Path>) -> Result<(), String> {
        for (k, v) in &self.lines {
            if v.contains(',') || k.ends_with("_list") {
                let n = v.split(',').filter(|s| !s.is_empty()).count();
                println!("{who}: {k}: {n} entries");
            } else {
                println!("{who}: {k}={v}");
            }
        }
        if let Some(f) = file {
            std::fs::write(f, self.text()).map_err(|e| format!("{}: {e}", f.display()))?;
        }
        Ok(())
    }
}

/// Reads a report back.
pub fn parse(text: &str) -> BTreeMap<String, String> {
    text.lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// A comma-separated list of numbers.
pub fn list(v: &str) -> Vec<u64> {
    v.split(',').filter_map(|s| s.parse().ok()).collect()
}
