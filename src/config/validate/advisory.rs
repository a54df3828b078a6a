//! `[advisory]`: the publisher named in advisory drafts, each value checked
//! against what the CVE, CSAF and OSV formats accept.

use super::Validator;
use crate::advisory::{CsafCategory, Publisher};
use crate::config::raw;

impl Validator<'_> {
    pub(super) fn advisory(&mut self, raw: raw::RawAdvisory) -> Publisher {
        let text = |v: &mut Self, key: &str, value: Option<String>| {
            let value = value.map(|s| s.trim().to_owned());
            if let Some(s) = &value
                && (s.is_empty() || s.chars().any(char::is_control) || s.chars().count() > 200)
            {
                v.problem(
                    key,
                    "must be 1 to 200 characters without control characters",
                );
            }
            value
        };
        let vendor = text(self, "advisory.vendor", Some(raw.vendor)).unwrap_or_default();
        let product = text(self, "advisory.product", raw.product);
        let cna_short_name = text(self, "advisory.cna_short_name", raw.cna_short_name);
        let csaf_name = text(self, "advisory.csaf_publisher", raw.csaf_publisher);
        let osv_ecosystem = text(self, "advisory.osv_ecosystem", raw.osv_ecosystem);
        let cna_org_id = raw
            .cna_org_id
            .map(|id| match uuid::Uuid::try_parse(id.trim()) {
                Ok(uuid) => uuid.hyphenated().to_string(),
                Err(_) => {
                    self.problem(
                        "advisory.cna_org_id",
                        format!("`{id}` is not a UUID like 8254265b-2729-46b6-b9e3-3dfca2d5bfca"),
                    );
                    id
                }
            });
        if let Some(short) = &cna_short_name
            && !(2..=32).contains(&short.chars().count())
        {
            self.problem("advisory.cna_short_name", "must be 2 to 32 characters");
        }
        let csaf_namespace = raw.csaf_namespace.map(|ns| {
            let ns = ns.trim().to_owned();
            if !ns.starts_with("https://")
                || ns.len() <= "https://".len()
                || ns.contains(char::is_whitespace)
            {
                self.problem(
                    "advisory.csaf_namespace",
                    "must be an https URL, e.g. \"https://example.org\"",
                );
            }
            ns
        });
        let csaf_category = match raw.csaf_category.as_deref().map(str::parse::<CsafCategory>) {
            None => CsafCategory::default(),
            Some(Ok(c)) => c,
            Some(Err(())) => {
                self.problem(
                    "advisory.csaf_category",
                    format!("must be one of {}", CsafCategory::NAMES),
                );
                CsafCategory::default()
            }
        };
        let osv_prefix = raw.osv_prefix.map(|p| {
            let p = p.trim().trim_end_matches('-').to_owned();
            let ok = p.starts_with(|c: char| c.is_ascii_alphabetic())
                && p.len() <= 32
                && p.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
            if !ok {
                self.problem(
                    "advisory.osv_prefix",
                    "must be the registered OSV prefix, letters, digits and `-`, e.g. \"EXAMPLE\"",
                );
            }
            p
        });
        let url = raw.url.map(|url| {
            let url = url.trim().to_owned();
            let http = url.starts_with("https://") || url.starts_with("http://");
            if !http || !url.contains("{id}") || url.contains(char::is_whitespace) {
                self.problem(
                    "advisory.url",
                    "must be an http(s) URL with `{id}` for the report id, e.g. \"https://example.org/advisories/{id}.html\"",
                );
            }
            url
        });
        Publisher {
            url,
            vendor,
            product,
            cna_org_id,
            cna_short_name,
            csaf_name,
            csaf_namespace,
            csaf_category,
            osv_prefix,
            osv_ecosystem,
        }
    }
}
