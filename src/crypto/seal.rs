//! Sealing outgoing mail: PGP/MIME (RFC 3156) encrypted and signed, with protected
//! headers (RFC 9788, compatible with `protected-headers="v1"`), or signed only.
