//! Hex text for captured bytes: `"02 00 00 80"`, `"02000080"`, `"0x02,0x00"` in, `"02 00 00 80"` out.

/// Parses hex bytes; spaces, commas, colons and `0x` prefixes are ignored.
pub fn parse(text: &str) -> Result<Vec<u8>, String> {
    let cleaned = text.replace("0x", "").replace("0X", "");
    let digits: Vec<char> = cleaned.chars().filter(|c| !matches!(c, ' ' | '\t' | '\n' | ',' | ':' | '-')).collect();
    if let Some(bad) = digits.iter().find(|c| !c.is_ascii_hexdigit()) {
        return Err(format!("{text:?} is not hex: unexpected {bad:?}"));
    }
    if !digits.len().is_multiple_of(2) {
        return Err(format!("{text:?} has an odd number of hex digits"));
    }
    digits
        .chunks(2)
        .map(|pair| {
            let byte: String = pair.iter().collect();
            u8::from_str_radix(&byte, 16).map_err(|e| format!("{byte:?}: {e}"))
        })
        .collect()
}

/// Formats bytes as upper-case hex pairs separated by spaces.
pub fn format(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02X}")).collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_spaced_packed_and_prefixed() {
        assert_eq!(parse("02 00 0A").unwrap(), [2, 0, 10]);
        assert_eq!(parse("02000a").unwrap(), [2, 0, 10]);
        assert_eq!(parse("0x02,0x00").unwrap(), [2, 0]);
        assert!(parse("0G").is_err());
        assert!(parse("020").is_err());
        assert_eq!(format(&[0x8A, 0x01]), "8A 01");
    }
}
