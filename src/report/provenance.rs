//! Where a report comes from: the ebmcheck version and commit, the command line, the seed, the
//! date and the machine's cores, shown on every page and written into `report.json`.

use std::fmt::Write as _;

use super::page::escape;

/// The provenance of a report.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Provenance {
    /// The ebmcheck version.
    pub version: String,
    /// The git commit the binary was built from, when known at build time.
    pub git_hash: Option<String>,
    /// The command line as typed (shell-quoted).
    pub command: String,
    /// The seed, for commands that take one.
    pub seed: Option<u64>,
    /// When the report was written (UTC, ISO 8601).
    pub date: String,
    /// Cores available to the run.
    pub cores: usize,
}

impl Provenance {
    fn rows(&self) -> Vec<(&'static str, String)> {
        let mut v = vec![(
            "ebmcheck",
            match &self.git_hash {
                Some(h) => format!("{} (commit {h})", self.version),
                None => format!("{} (commit unknown)", self.version),
            },
        )];
        v.push(("command", self.command.clone()));
        if let Some(s) = self.seed {
            v.push(("seed", s.to_string()));
        }
        v.push(("date", self.date.clone()));
        v.push(("cores", self.cores.to_string()));
        v
    }

    /// An HTML block (a definition list in a `<details>` element, open).
    pub fn to_html(&self) -> String {
        let mut h =
            String::from("<details class=\"provenance\" open><summary>provenance</summary><dl>");
        for (k, v) in self.rows() {
            let _ = write!(h, "<dt>{k}</dt><dd><code>{}</code></dd>", escape(&v));
        }
        h.push_str("</dl></details>\n");
        h
    }

    /// A Markdown list.
    pub fn to_markdown(&self) -> String {
        let mut m = String::from("\n**Provenance**\n\n");
        for (k, v) in self.rows() {
            let _ = writeln!(m, "- {k}: `{}`", v.replace('`', "'"));
        }
        m
    }

    /// The JSON object.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or(serde_json::Value::Null)
    }
}

/// An ISO 8601 UTC timestamp from seconds since the Unix epoch.
pub fn iso_date(unix_seconds: u64) -> String {
    let days = i64::try_from(unix_seconds / 86_400).unwrap_or(0);
    let secs = unix_seconds % 86_400;
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_dates() {
        assert_eq!(iso_date(0), "1970-01-01T00:00:00Z");
        assert_eq!(iso_date(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(iso_date(1_764_680_000), "2025-12-02T12:53:20Z");
    }

    #[test]
    fn html_escapes_the_command() {
        let p = Provenance {
            version: "0.1.0".into(),
            git_hash: None,
            command: "ebmcheck eval '1 < 2'".into(),
            seed: Some(3),
            date: iso_date(0),
            cores: 2,
        };
        let h = p.to_html();
        assert!(h.contains("1 &lt; 2") && h.contains("commit unknown") && h.contains(">3<"));
        assert!(p.to_json()["seed"] == 3);
    }
}
