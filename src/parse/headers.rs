//! A look at the raw header block that mail-parser's forgiving parse hides: how
//! large it is and whether its lines are well-formed (RFC 5322 §2.2).

/// What [`scan_headers`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct HeaderScan {
    /// Bytes up to and including the blank line that ends the header block.
    pub header_len: usize,
    /// Whether a blank line ended the header block at all.
    pub has_body_separator: bool,
    /// 1-based number of the first line that is neither `Name: value` nor a
    /// folded continuation.
    pub first_malformed_line: Option<usize>,
    pub malformed_lines: usize,
}

/// Scans the header block of `raw` (LF or CRLF line endings).
pub fn scan_headers(raw: &[u8]) -> HeaderScan {
    let mut scan = HeaderScan::default();
    let mut offset = 0;
    let mut line_no = 0;
    while offset < raw.len() {
        let end = raw[offset..]
            .iter()
            .position(|&b| b == b'\n')
            .map_or(raw.len(), |p| offset + p + 1);
        let line = &raw[offset..end];
        let content = line
            .strip_suffix(b"\n")
            .map(|l| l.strip_suffix(b"\r").unwrap_or(l))
            .unwrap_or(line);
        line_no += 1;
        offset = end;
        if content.is_empty() {
            scan.has_body_separator = true;
            break;
        }
        if !well_formed(content, line_no == 1) {
            scan.malformed_lines += 1;
            scan.first_malformed_line.get_or_insert(line_no);
        }
    }
    scan.header_len = offset;
    scan
}

fn well_formed(line: &[u8], first: bool) -> bool {
    if matches!(line[0], b' ' | b'\t') {
        return !first; // a continuation needs a header to continue
    }
    let Some(colon) = line.iter().position(|&b| b == b':') else {
        return false;
    };
    // field-name = 1*ftext, printable US-ASCII except ':' (RFC 5322 §3.6.8)
    colon > 0 && line[..colon].iter().all(|&b| (33..=126).contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clean_headers() {
        let raw = b"From: a@b.c\r\nSubject: x\r\n  folded\r\n\r\nbody\r\n";
        let scan = scan_headers(raw);
        assert!(scan.has_body_separator);
        assert_eq!(scan.header_len, raw.len() - 6);
        assert_eq!(scan.first_malformed_line, None);
    }

    #[test]
    fn malformed_lines_are_counted() {
        let raw = b"From: a@b.c\nthis is not a header\nBad Name: x\n\nbody";
        let scan = scan_headers(raw);
        assert_eq!(scan.first_malformed_line, Some(2));
        assert_eq!(scan.malformed_lines, 2);
    }

    #[test]
    fn leading_continuation_is_malformed() {
        let scan = scan_headers(b" folded: first\nFrom: a@b.c\n\n");
        assert_eq!(scan.first_malformed_line, Some(1));
    }

    #[test]
    fn no_separator() {
        let scan = scan_headers(b"From: a@b.c\nSubject: x");
        assert!(!scan.has_body_separator);
        assert_eq!(scan.header_len, 22);
    }
}
