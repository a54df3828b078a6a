//! The names of common weaknesses (the CWE Top 25 and other frequent ones):
//! titles, CVE problem types and CSAF need the name beside the id. A CWE not
//! listed here is published by its id alone.

/// `(id, name)`, as the CWE list names them.
const NAMES: &[(&str, &str)] = &[
    ("CWE-20", "Improper Input Validation"),
    (
        "CWE-22",
        "Improper Limitation of a Pathname to a Restricted Directory ('Path Traversal')",
    ),
    (
        "CWE-77",
        "Improper Neutralization of Special Elements used in a Command ('Command Injection')",
    ),
    (
        "CWE-78",
        "Improper Neutralization of Special Elements used in an OS Command ('OS Command Injection')",
    ),
    (
        "CWE-79",
        "Improper Neutralization of Input During Web Page Generation ('Cross-site Scripting')",
    ),
    (
        "CWE-89",
        "Improper Neutralization of Special Elements used in an SQL Command ('SQL Injection')",
    ),
    (
        "CWE-94",
        "Improper Control of Generation of Code ('Code Injection')",
    ),
    (
        "CWE-119",
        "Improper Restriction of Operations within the Bounds of a Memory Buffer",
    ),
    (
        "CWE-120",
        "Buffer Copy without Checking Size of Input ('Classic Buffer Overflow')",
    ),
    ("CWE-125", "Out-of-bounds Read"),
    ("CWE-190", "Integer Overflow or Wraparound"),
    (
        "CWE-200",
        "Exposure of Sensitive Information to an Unauthorized Actor",
    ),
    (
        "CWE-209",
        "Generation of Error Message Containing Sensitive Information",
    ),
    ("CWE-269", "Improper Privilege Management"),
    ("CWE-284", "Improper Access Control"),
    ("CWE-285", "Improper Authorization"),
    ("CWE-287", "Improper Authentication"),
    ("CWE-295", "Improper Certificate Validation"),
    ("CWE-306", "Missing Authentication for Critical Function"),
    (
        "CWE-307",
        "Improper Restriction of Excessive Authentication Attempts",
    ),
    ("CWE-312", "Cleartext Storage of Sensitive Information"),
    ("CWE-319", "Cleartext Transmission of Sensitive Information"),
    (
        "CWE-327",
        "Use of a Broken or Risky Cryptographic Algorithm",
    ),
    ("CWE-345", "Insufficient Verification of Data Authenticity"),
    (
        "CWE-347",
        "Improper Verification of Cryptographic Signature",
    ),
    ("CWE-352", "Cross-Site Request Forgery (CSRF)"),
    (
        "CWE-362",
        "Concurrent Execution using Shared Resource with Improper Synchronization ('Race Condition')",
    ),
    ("CWE-384", "Session Fixation"),
    ("CWE-400", "Uncontrolled Resource Consumption"),
    ("CWE-416", "Use After Free"),
    ("CWE-434", "Unrestricted Upload of File with Dangerous Type"),
    (
        "CWE-444",
        "Inconsistent Interpretation of HTTP Requests ('HTTP Request/Response Smuggling')",
    ),
    ("CWE-476", "NULL Pointer Dereference"),
    ("CWE-502", "Deserialization of Untrusted Data"),
    (
        "CWE-532",
        "Insertion of Sensitive Information into Log File",
    ),
    (
        "CWE-601",
        "URL Redirection to Untrusted Site ('Open Redirect')",
    ),
    (
        "CWE-611",
        "Improper Restriction of XML External Entity Reference",
    ),
    ("CWE-613", "Insufficient Session Expiration"),
    (
        "CWE-639",
        "Authorization Bypass Through User-Controlled Key",
    ),
    (
        "CWE-640",
        "Weak Password Recovery Mechanism for Forgotten Password",
    ),
    (
        "CWE-770",
        "Allocation of Resources Without Limits or Throttling",
    ),
    ("CWE-787", "Out-of-bounds Write"),
    ("CWE-798", "Use of Hard-coded Credentials"),
    ("CWE-862", "Missing Authorization"),
    ("CWE-863", "Incorrect Authorization"),
    ("CWE-918", "Server-Side Request Forgery (SSRF)"),
    (
        "CWE-1021",
        "Improper Restriction of Rendered UI Layers or Frames",
    ),
    (
        "CWE-1321",
        "Improperly Controlled Modification of Object Prototype Attributes ('Prototype Pollution')",
    ),
    ("CWE-1333", "Inefficient Regular Expression Complexity"),
];

/// The name of `id` (`CWE-79`, any case), if listed.
pub fn name(id: &str) -> Option<&'static str> {
    NAMES
        .iter()
        .find(|(known, _)| known.eq_ignore_ascii_case(id.trim()))
        .map(|(_, name)| *name)
}

/// Whether `id` looks like a CWE id (`CWE-` and 1 to 5 digits), as the CVE
/// schema requires of a problem type's `cweId`.
pub fn well_formed(id: &str) -> bool {
    id.strip_prefix("CWE-").is_some_and(|digits| {
        (1..=5).contains(&digits.len())
            && !digits.starts_with('0')
            && digits.bytes().all(|b| b.is_ascii_digit())
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn names_and_ids() {
        assert_eq!(
            super::name("cwe-79").map(|n| n.contains("Cross-site")),
            Some(true)
        );
        assert_eq!(super::name("CWE-99999"), None);
        assert!(super::well_formed("CWE-1333"));
        for bad in ["CWE-", "CWE-079", "cwe-79", "CWE-123456", "CWE-7a"] {
            assert!(!super::well_formed(bad), "{bad}");
        }
    }
}
