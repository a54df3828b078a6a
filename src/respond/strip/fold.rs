//! Folding for matching only: the forms of a line that a mail client, a
//! keyboard or a copy and paste may produce without changing what it says
//! (no-break and other spaces, Unicode hyphens and dashes, zero-width and
//! other invisible characters, full-width letters, case). Relayed text is
//! never folded; markers and internal lines are recognised on the folded form.

use icu_normalizer::ComposingNormalizerBorrowed;

/// `text` in compatibility form (NFKC), without invisible format characters,
/// with every dash as `-` and every space but a line break as ` `, lower-cased.
pub fn fold(text: &str) -> String {
    let visible: String = text.chars().filter(|&c| !is_invisible(c)).collect();
    let nfkc = ComposingNormalizerBorrowed::new_nfkc().normalize(&visible);
    let mut out = String::with_capacity(nfkc.len());
    for c in nfkc.chars() {
        match c {
            '\n' => out.push('\n'),
            c if c.is_whitespace() => out.push(' '),
            c if is_dash(c) => out.push('-'),
            // NFKC keeps some invisible characters its mappings produce.
            c if is_invisible(c) => {}
            c => out.extend(c.to_lowercase()),
        }
    }
    out
}

/// Hyphens, dashes and minus signs that NFKC leaves as they are.
fn is_dash(c: char) -> bool {
    matches!(
        c,
        '\u{2010}'
            ..='\u{2015}'
                | '\u{2043}'
                | '\u{2212}'
                | '\u{2796}'
                | '\u{02D7}'
                | '\u{058A}'
                | '\u{05BE}'
                | '\u{2E17}'
                | '\u{2E1A}'
                | '\u{2E3A}'
                | '\u{2E3B}'
                | '\u{2E40}'
                | '\u{301C}'
                | '\u{3030}'
                | '\u{FE31}'
                | '\u{FE32}'
                | '\u{FE58}'
                | '\u{FE63}'
                | '\u{FF0D}'
    )
}

/// Characters that show nothing: zero-width spaces and joiners, direction
/// marks and overrides, the soft hyphen, the byte-order mark, variation
/// selectors, tag characters and fillers.
fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}'
            | '\u{034F}'
            | '\u{061C}'
            | '\u{115F}'
            | '\u{1160}'
            | '\u{17B4}'
            | '\u{17B5}'
            | '\u{180B}'..='\u{180F}'
            | '\u{200B}'..='\u{200F}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{206F}'
            | '\u{3164}'
            | '\u{FE00}'..='\u{FE0F}'
            | '\u{FEFF}'
            | '\u{FFA0}'
            | '\u{FFF9}'..='\u{FFFB}'
            | '\u{1BCA0}'..='\u{1BCA3}'
            | '\u{1D173}'..='\u{1D17A}'
            | '\u{E0000}'..='\u{E007F}'
            | '\u{E0100}'..='\u{E01EF}'
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn look_alikes_fold_to_ascii() {
        for (input, folded) in [
            (
                "-----BEGIN\u{00A0}DISCLOSED NOTIFICATION-----",
                "-----begin disclosed notification-----",
            ),
            (
                "\u{2010}\u{2011}\u{2012}\u{2013}\u{2014}\u{2015}\u{2212}",
                "-------",
            ),
            ("\u{FF0D}\u{FE63}\u{FE58}", "---"),
            ("BE\u{200B}GIN\u{2060}\u{FEFF}", "begin"),
            ("\u{FF22}\u{FF25}\u{FF27}\u{FF29}\u{FF2E}", "begin"),
            ("a\u{2003}b\u{202F}c\u{3000}d\te", "a b c d e"),
            ("On Mon wrote\u{00A0}:", "on mon wrote :"),
            ("Stra\u{00DF}e \u{FB01}x", "stra\u{00DF}e fix"),
        ] {
            assert_eq!(fold(input), folded, "{input:?}");
        }
    }
}
