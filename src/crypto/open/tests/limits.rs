//! `[limits]`: nesting, recipients, and a compression bomb.

use super::*;

#[test]
fn openpgp_nesting_beyond_the_depth_limit_is_refused() {
    let k = keys();
    // Encryption, then three compression layers: the literal data is four
    // containers deep.
    let to = [keys().team()];
    let mut sink = Vec::new();
    let message = Message::new(&mut sink);
    let message = Armorer::new(message).build().unwrap();
    let mut message = encryptor(message, &to).build().unwrap();
    for _ in 0..3 {
        message = Compressor::new(message)
            .algo(CompressionAlgorithm::Zip)
            .build()
            .unwrap();
    }
    let mut message = LiteralWriter::new(message).build().unwrap();
    message.write_all(&crlf(INNER)).unwrap();
    message.finalize().unwrap();
    let mail = pgp_mime_mail(&sink);

    let keys = team(&[k.team()]);
    let at = |max_depth| {
        let limits = CryptoLimits {
            max_depth,
            ..limits()
        };
        open(&mail, Some(REPORTER), Some(&keys), &(), &limits, now())
    };
    assert!(at(4).inner.is_some());
    let too_deep = at(3);
    let (reason, detail, _) = failure(&too_deep);
    assert_eq!(reason, FailReason::Limit, "{detail}");
}

#[test]
fn too_many_recipients_is_a_limit() {
    let k = keys();
    let mail = pgp_mime_mail(&encrypt(
        &crlf(INNER),
        &[k.team(), k.reporter(), k.v6()],
        None,
    ));
    let keys = team(&[k.team()]);
    let strict = CryptoLimits {
        max_recipients: 2,
        ..limits()
    };
    let opened = open(&mail, Some(REPORTER), Some(&keys), &(), &strict, now());
    let (reason, detail, _) = failure(&opened);
    assert_eq!(reason, FailReason::Limit);
    assert!(detail.contains("3 recipients"), "{detail}");
}

/// Writes deflate (RFC 1951) bit fields, least significant bit first.
#[derive(Default)]
struct Bits {
    out: Vec<u8>,
    acc: u64,
    n: u32,
}

impl Bits {
    fn put(&mut self, value: u64, count: u32) {
        self.acc |= value << self.n;
        self.n += count;
        while self.n >= 8 {
            self.out.push(self.acc as u8);
            self.acc >>= 8;
            self.n -= 8;
        }
    }

    /// A Huffman code: most significant bit first.
    fn code(&mut self, code: u64, len: u32) {
        for i in (0..len).rev() {
            self.put((code >> i) & 1, 1);
        }
    }

    fn align(&mut self) {
        if self.n > 0 {
            self.put(0, 8 - self.n);
        }
    }
}

/// A compressed data packet (ZIP) whose content is a literal data packet of
/// `1 + 258 * matches` zero bytes, built by hand: one stored block with the
/// literal packet's header, then one dynamic-Huffman block in which the
/// "copy 258 bytes from distance 1" code is a single bit, so the packet
/// costs two bits per 258 bytes. Compressing that many zeros with a real
/// compressor takes minutes in a debug build.
fn deflate_bomb(matches: u64) -> Vec<u8> {
    let zeros = 1 + 258 * matches;
    // Literal data packet header: tag 11, five-octet length, binary, no
    // file name, date 0.
    let mut literal = vec![0xCB, 0xFF];
    literal.extend_from_slice(&u32::try_from(6 + zeros).unwrap().to_be_bytes());
    literal.extend_from_slice(&[b'b', 0, 0, 0, 0, 0]);

    let mut bits = Bits::default();
    // Stored block (not final) with the literal header.
    bits.put(0, 1);
    bits.put(0, 2);
    bits.align();
    let len = u16::try_from(literal.len()).unwrap();
    bits.out.extend_from_slice(&len.to_le_bytes());
    bits.out.extend_from_slice(&(!len).to_le_bytes());
    bits.out.extend_from_slice(&literal);
    // Final dynamic block. Literal/length codes: 285 (length 258) = 0,
    // literal 0 = 10, end of block 256 = 11; one distance code (1) = 0.
    bits.put(1, 1);
    bits.put(2, 2);
    bits.put(29, 5); // 286 literal/length codes
    bits.put(0, 5); // 1 distance code
    bits.put(14, 4); // 18 code length codes
    // Code length code lengths, in RFC 1951 order: 18 -> 1 bit ("0"),
    // 1 and 2 -> 2 bits ("10", "11").
    for sym in [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1] {
        bits.put(
            match sym {
                18 => 1,
                1 | 2 => 2,
                _ => 0,
            },
            3,
        );
    }
    let zero_run = |bits: &mut Bits, n: u64| {
        bits.code(0, 1);
        bits.put(n - 11, 7);
    };
    bits.code(0b11, 2); // symbol 0: length 2
    zero_run(&mut bits, 138); // symbols 1..=138
    zero_run(&mut bits, 117); // symbols 139..=255
    bits.code(0b11, 2); // symbol 256: length 2
    zero_run(&mut bits, 28); // symbols 257..=284
    bits.code(0b10, 2); // symbol 285: length 1
    bits.code(0b10, 2); // distance 0: length 1
    bits.code(0b10, 2); // literal 0
    for _ in 0..matches {
        bits.put(0, 2); // length 258, distance 1
    }
    bits.code(0b11, 2); // end of block
    bits.align();

    let mut packet = vec![0xC8, 0xFF]; // compressed data, five-octet length
    packet.extend_from_slice(&u32::try_from(1 + bits.out.len()).unwrap().to_be_bytes());
    packet.push(1); // ZIP
    packet.extend_from_slice(&bits.out);
    packet
}

/// The compressed `packet`, compressed again (it is mostly zero bytes) and
/// encrypted to the team, as a PGP/MIME message.
fn bomb_mail(packet: &[u8]) -> Vec<u8> {
    let to = [keys().team()];
    let mut sink = Vec::new();
    let message = Message::new(&mut sink);
    let message = Armorer::new(message).build().unwrap();
    let message = encryptor(message, &to).build().unwrap();
    let mut message = Compressor::new(message)
        .algo(CompressionAlgorithm::Zip)
        .build()
        .unwrap();
    message.write_all(packet).unwrap();
    message.finalize().unwrap();
    pgp_mime_mail(&sink)
}

#[test]
fn hand_made_deflate_stream_inflates_as_intended() {
    let mail = bomb_mail(&deflate_bomb(1000));
    let opened = open_as(&mail, &[keys().team()], &[]);
    assert_eq!(decrypted_key(&opened), fingerprint(keys().team()));
    let inner = opened.inner.unwrap();
    assert_eq!(inner.len(), 1 + 258 * 1000 + 2);
    assert!(inner[..inner.len() - 2].iter().all(|&b| b == 0));
}

#[test]
fn compression_bomb_is_refused_with_bounded_memory() {
    // 1 GiB of zeros in a message of a few kilobytes.
    let packet = deflate_bomb((1 << 30) / 258);
    let mail = bomb_mail(&packet);
    assert!(mail.len() < 64 << 10, "bomb mail is {} bytes", mail.len());
    let small = CryptoLimits {
        max_decompressed_size: 1 << 20,
        ..limits()
    };
    let keys = team(&[keys().team()]);
    let opened = open(&mail, Some(REPORTER), Some(&keys), &(), &small, now());
    let (reason, detail, _) = failure(&opened);
    assert_eq!(reason, FailReason::Limit, "{detail}");
}
