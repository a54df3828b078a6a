//! Version ranges as the team writes them (`>= 2.0, < 2.4.1`, `<= 1.9`,
//! `1.2.3`, `*`), read into the bounds the CVE, OSV and CSAF formats want.
//! Text that is none of these is kept as written and published as such.

/// A range of affected versions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VersionRange {
    /// From `introduced` (inclusive; `None` = the first version) up to
    /// `fixed` (exclusive) or `last_affected` (inclusive), or without end.
    Bounded {
        introduced: Option<String>,
        fixed: Option<String>,
        last_affected: Option<String>,
    },
    /// One version.
    Exact(String),
    /// Every version.
    All,
    /// Text no bound could be read from.
    Text(String),
}

impl VersionRange {
    /// Reads `text`; `fixed_in` ends a range the text left open.
    pub fn parse(text: &str, fixed_in: Option<&str>) -> Self {
        let trimmed = text.trim();
        let lower = trimmed.to_ascii_lowercase();
        if matches!(lower.as_str(), "" | "*" | "all" | "any" | "all versions") {
            return match fixed_in {
                Some(f) => Self::Bounded {
                    introduced: None,
                    fixed: Some(f.to_owned()),
                    last_affected: None,
                },
                None => Self::All,
            };
        }
        let Some(constraints) = constraints(trimmed) else {
            return Self::Text(trimmed.to_owned());
        };
        if let [("=", version)] = constraints.as_slice() {
            return Self::Exact(version.clone());
        }
        let (mut introduced, mut fixed, mut last_affected) = (None, None, None);
        for (op, version) in constraints {
            let slot = match op {
                ">=" => &mut introduced,
                "<" => &mut fixed,
                "<=" => &mut last_affected,
                // `> 1.0` or several exact versions: no bound of ours says it.
                _ => return Self::Text(trimmed.to_owned()),
            };
            if slot.replace(version).is_some() {
                return Self::Text(trimmed.to_owned());
            }
        }
        if fixed.is_some() && last_affected.is_some() {
            return Self::Text(trimmed.to_owned());
        }
        if fixed.is_none() && last_affected.is_none() {
            fixed = fixed_in.map(str::to_owned);
        }
        Self::Bounded {
            introduced,
            fixed,
            last_affected,
        }
    }

    /// A `vers:generic/…` specifier (CSAF product version ranges).
    pub fn vers(&self) -> String {
        match self {
            Self::Bounded {
                introduced,
                fixed,
                last_affected,
            } => {
                let mut parts = Vec::new();
                if let Some(i) = introduced {
                    parts.push(format!(">={i}"));
                }
                if let Some(f) = fixed {
                    parts.push(format!("<{f}"));
                }
                if let Some(l) = last_affected {
                    parts.push(format!("<={l}"));
                }
                if parts.is_empty() {
                    "vers:generic/*".to_owned()
                } else {
                    format!("vers:generic/{}", parts.join("|"))
                }
            }
            Self::Exact(v) => format!("vers:generic/{v}"),
            Self::All => "vers:generic/*".to_owned(),
            Self::Text(t) => t.clone(),
        }
    }
}

/// The `(operator, version)` pairs of `text`, separated by commas or spaces;
/// `None` if anything else is in it.
fn constraints(text: &str) -> Option<Vec<(&'static str, String)>> {
    let mut out = Vec::new();
    let mut rest = text;
    loop {
        rest = rest.trim_start_matches(|c: char| c == ',' || c.is_whitespace());
        if rest.is_empty() {
            break;
        }
        let op = [">=", "<=", "=", "<", ">"]
            .into_iter()
            .find(|op| rest.starts_with(op));
        rest = rest[op.map_or(0, str::len)..].trim_start();
        let end = rest
            .find(|c: char| c == ',' || c.is_whitespace())
            .unwrap_or(rest.len());
        let version = &rest[..end];
        let plausible = version.starts_with(|c: char| c.is_ascii_alphanumeric())
            && version
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || ".-+_~:".contains(c));
        if !plausible {
            return None;
        }
        out.push((op.unwrap_or("="), version.to_owned()));
        rest = &rest[end..];
    }
    (!out.is_empty()).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::VersionRange::{self, *};

    fn bounded(i: Option<&str>, f: Option<&str>, l: Option<&str>) -> VersionRange {
        Bounded {
            introduced: i.map(Into::into),
            fixed: f.map(Into::into),
            last_affected: l.map(Into::into),
        }
    }

    #[test]
    fn ranges_read_as_the_team_writes_them() {
        let cases: &[(&str, Option<&str>, VersionRange)] = &[
            ("< 2.4.1", None, bounded(None, Some("2.4.1"), None)),
            (
                ">= 2.0, < 2.4.1",
                None,
                bounded(Some("2.0"), Some("2.4.1"), None),
            ),
            (
                ">=2.0 <2.4.1",
                Some("9"),
                bounded(Some("2.0"), Some("2.4.1"), None),
            ),
            ("<= 1.9", None, bounded(None, None, Some("1.9"))),
            (
                ">= 2.0",
                Some("2.4.1"),
                bounded(Some("2.0"), Some("2.4.1"), None),
            ),
            ("*", Some("3.0"), bounded(None, Some("3.0"), None)),
            ("all", None, All),
            ("1.2.3", Some("1.2.4"), Exact("1.2.3".into())),
            ("> 1.0", None, Text("> 1.0".into())),
            ("1.0 and 1.1", None, Text("1.0 and 1.1".into())),
            ("< 2, <= 3", None, Text("< 2, <= 3".into())),
            (
                "before the spring release",
                None,
                Text("before the spring release".into()),
            ),
        ];
        for (text, fixed, want) in cases {
            assert_eq!(&VersionRange::parse(text, *fixed), want, "{text}");
        }
    }

    #[test]
    fn vers_specifiers() {
        assert_eq!(
            VersionRange::parse(">= 2.0, < 2.4.1", None).vers(),
            "vers:generic/>=2.0|<2.4.1"
        );
        assert_eq!(VersionRange::parse("all", None).vers(), "vers:generic/*");
        assert_eq!(VersionRange::parse("1.2", None).vers(), "vers:generic/1.2");
    }
}
