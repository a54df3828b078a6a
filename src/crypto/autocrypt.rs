//! `Autocrypt:` headers (Autocrypt Level 1): reading a sender's key, writing ours.
// TEMPORARY placeholder until the branches are merged.
use sequoia_openpgp::Cert;

pub fn parse_header(value: &str) -> Option<(String, Cert)> {
    let _ = value;
    None
}

pub fn header_line(cert: &Cert, addr: &str) -> Result<String, super::seal::SealError> {
    let _ = (cert, addr);
    Ok(String::new())
}

pub fn add_header(mail: &[u8], line: &str) -> Vec<u8> {
    let _ = line;
    mail.to_vec()
}
