//! What a passing DKIM signature vouches for, read from the mail's own header block.
//!
//! A trusted `dkim=pass` for a domain says that some signature by that domain
//! verified; it does not say which one when the mail carries several, nor which
//! header fields and how much of the body that signature covered. This module
//! answers the second question conservatively from the `DKIM-Signature` headers
//! (RFC 6376): a field counts as covered only if every signature by the domain lists
//! it in `h=`, since any of them may be the one that passed, and only if the mail
//! carries exactly one instance of it (a verifier signs the bottom-most instance, so
//! with two the one a mail client shows may be the unsigned one). The body counts
//! as covered only if no such signature has an `l=` limit, which lets anyone append
//! unsigned text.
//!
//! Anything extra in the header block (another signature, another field instance,
//! a line this reader takes for a header where a mail client would not) can only
//! remove coverage, never add it.

/// Which parts of a mail every DKIM signature by one domain covers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DkimCoverage {
    /// The mail has one `From:` and every signature lists it.
    pub from: bool,
    /// The mail has one `To:` and every signature lists it.
    pub to: bool,
    /// The mail has one `Subject:` and every signature lists it.
    pub subject: bool,
    /// No signature carries an `l=` body length limit.
    pub whole_body: bool,
}

/// What the `DKIM-Signature` headers in `raw_header_block` by `domain` cover.
///
/// `raw_header_block` is the mail as received, or only its header block: reading
/// stops at the first empty line. A signature is by `domain` when its `d=`, or
/// the domain of its `i=`, equals `domain` (ASCII case-insensitively, a final dot
/// ignored), which includes every signature a trusted `dkim=pass` for `domain`
/// may refer to. Nothing is covered when there is no such signature, or when a
/// `DKIM-Signature` header that cannot be read may be one (its `d=` is unknown,
/// is `domain` or a parent of it): it might be the one that passed.
pub fn dkim_coverage(raw_header_block: &[u8], domain: &str) -> DkimCoverage {
    let domain = normalize_domain(domain.as_bytes());
    if domain.is_empty() {
        return DkimCoverage::default();
    }
    let fields = header_fields(raw_header_block);
    let mut signatures = Vec::new();
    for field in fields.iter().filter(|f| f.is("dkim-signature")) {
        match Signature::parse(&field.value) {
            Some(signature) => {
                if signature.domain == domain || signature.identity_domain.as_ref() == Some(&domain)
                {
                    signatures.push(signature);
                }
            }
            None => {
                let unrelated =
                    loose_signing_domain(&field.value).is_some_and(|d| !is_within(&domain, &d));
                if !unrelated {
                    return DkimCoverage::default();
                }
            }
        }
    }
    if signatures.is_empty() {
        return DkimCoverage::default();
    }
    let covered = |name: &str| {
        fields.iter().filter(|f| f.is(name)).count() == 1
            && signatures
                .iter()
                .all(|s| s.headers.iter().any(|h| h == name))
    };
    DkimCoverage {
        from: covered("from"),
        to: covered("to"),
        subject: covered("subject"),
        whole_body: signatures.iter().all(|s| !s.body_length_limit),
    }
}

/// One header field: its name (surrounding spaces removed) and raw value, folds
/// kept.
struct Field {
    name: Vec<u8>,
    value: Vec<u8>,
}

impl Field {
    /// Whether the field is named `name` (given in lower case).
    fn is(&self, name: &str) -> bool {
        self.name.eq_ignore_ascii_case(name.as_bytes())
    }
}

/// The header fields of `raw`, up to the first empty line.
///
/// The block ends only at a line that is empty between line feeds, as every mail
/// reader agrees; inside it a lone carriage return also starts a new line, so a
/// field hidden behind one is still counted. Both choices err towards seeing more
/// fields, which can only remove coverage.
fn header_fields(raw: &[u8]) -> Vec<Field> {
    let mut fields: Vec<Field> = Vec::new();
    // Whether the last line started a field, so a folded line continues it.
    let mut in_field = false;
    for physical in raw.split(|&b| b == b'\n') {
        let physical = physical.strip_suffix(b"\r").unwrap_or(physical);
        if physical.is_empty() {
            break;
        }
        for line in physical.split(|&b| b == b'\r') {
            if line.first().is_some_and(|&b| b == b' ' || b == b'\t') && in_field {
                if let Some(field) = fields.last_mut() {
                    field.value.extend_from_slice(b"\r\n");
                    field.value.extend_from_slice(line);
                }
                continue;
            }
            in_field = false;
            if let Some(colon) = line.iter().position(|&b| b == b':') {
                fields.push(Field {
                    name: line[..colon].trim_ascii().to_vec(),
                    value: line[colon + 1..].to_vec(),
                });
                in_field = true;
            }
        }
    }
    fields
}

/// The parts of a `DKIM-Signature` this module reads.
struct Signature {
    /// `d=`, normalised.
    domain: Vec<u8>,
    /// The domain of `i=`, normalised, when given.
    identity_domain: Option<Vec<u8>>,
    /// `h=`, lower case, in order.
    headers: Vec<String>,
    /// Whether `l=` is present.
    body_length_limit: bool,
}

impl Signature {
    /// Reads a `DKIM-Signature` value; `None` when its tag-list is malformed
    /// (RFC 6376 §3.2, a repeated tag included) or `d=` or `h=` is missing or
    /// malformed.
    fn parse(value: &[u8]) -> Option<Self> {
        let tags = tag_list(value)?;
        let tag = |name: &str| {
            tags.iter()
                .find(|(n, _)| n.as_slice() == name.as_bytes())
                .map(|(_, v)| v.as_slice())
        };
        let domain = normalize_domain(tag("d")?);
        if domain.is_empty() {
            return None;
        }
        let identity_domain = match tag("i") {
            Some(i) => {
                let at = i.iter().rposition(|&b| b == b'@')?;
                Some(normalize_domain(&i[at + 1..]))
            }
            None => None,
        };
        let mut headers = Vec::new();
        for name in tag("h")?.split(|&b| b == b':') {
            let name = strip_fws(name);
            if name.is_empty() || !name.iter().all(|&b| b.is_ascii_graphic()) {
                return None;
            }
            headers.push(String::from_utf8_lossy(name).to_ascii_lowercase());
        }
        Some(Self {
            domain,
            identity_domain,
            headers,
            body_length_limit: tag("l").is_some(),
        })
    }
}

/// An RFC 6376 tag-list as `(name, value)` pairs, FWS around values removed;
/// `None` when malformed or a tag name repeats.
fn tag_list(value: &[u8]) -> Option<Vec<(Vec<u8>, Vec<u8>)>> {
    let specs: Vec<&[u8]> = value.split(|&b| b == b';').collect();
    let mut tags: Vec<(Vec<u8>, Vec<u8>)> = Vec::new();
    for (n, spec) in specs.iter().enumerate() {
        // A final `;` leaves an empty last spec, which is allowed.
        if n + 1 == specs.len() && strip_fws(spec).is_empty() && n > 0 {
            break;
        }
        let eq = spec.iter().position(|&b| b == b'=')?;
        let name = strip_fws(&spec[..eq]);
        let value = strip_fws(&spec[eq + 1..]);
        let name_ok = name.first().is_some_and(u8::is_ascii_alphabetic)
            && name.iter().all(|&b| b.is_ascii_alphanumeric() || b == b'_');
        let value_ok = value
            .iter()
            .all(|&b| b.is_ascii_graphic() || matches!(b, b' ' | b'\t' | b'\r' | b'\n'));
        if !name_ok || !value_ok || tags.iter().any(|(n, _)| n.as_slice() == name) {
            return None;
        }
        tags.push((name.to_vec(), value.to_vec()));
    }
    Some(tags)
}

/// The `d=` of a `DKIM-Signature` that [`Signature::parse`] refused, when its
/// specs that look like `d=` agree on one; `None` when unknown.
fn loose_signing_domain(value: &[u8]) -> Option<Vec<u8>> {
    let mut found: Option<Vec<u8>> = None;
    for spec in value.split(|&b| b == b';') {
        let Some(eq) = spec.iter().position(|&b| b == b'=') else {
            continue;
        };
        if strip_fws(&spec[..eq]).eq_ignore_ascii_case(b"d") {
            let domain = normalize_domain(strip_fws(&spec[eq + 1..]));
            if domain.is_empty() || found.as_ref().is_some_and(|f| *f != domain) {
                return None;
            }
            found = Some(domain);
        }
    }
    found
}

/// Whether `domain` is `parent` or a subdomain of it (both normalised).
fn is_within(domain: &[u8], parent: &[u8]) -> bool {
    domain == parent
        || domain
            .strip_suffix(parent)
            .is_some_and(|head| head.ends_with(b"."))
}

/// Lower case, surrounding FWS and one final dot removed.
fn normalize_domain(domain: &[u8]) -> Vec<u8> {
    let domain = strip_fws(domain);
    domain
        .strip_suffix(b".")
        .unwrap_or(domain)
        .to_ascii_lowercase()
}

/// `bytes` without leading and trailing spaces, tabs and line breaks.
fn strip_fws(bytes: &[u8]) -> &[u8] {
    bytes.trim_ascii()
}

#[cfg(test)]
mod tests;
