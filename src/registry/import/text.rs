//! Text uploads decoded whole before parsing: UTF-8 (with or without BOM),
//! UTF-16 LE/BE (with a BOM, or without one when every other byte of the
//! start is NUL), else GB18030 (a superset of GBK) when the bytes are not
//! UTF-8. Decoding is all-or-nothing: a byte sequence that is invalid in the
//! encoding chosen fails the upload rather than turning into U+FFFD.

use encoding_rs::{Encoding, GB18030, UTF_16BE, UTF_16LE, UTF_8};

use super::ImportError;

/// How many leading bytes are looked at to recognise BOM-less UTF-16.
const SNIFF_BYTES: usize = 512;

/// The body as text, without a BOM.
pub(super) fn decode(body: &[u8]) -> Result<String, ImportError> {
    if let Some(rest) = body.strip_prefix(b"\xef\xbb\xbf") {
        return utf8(rest);
    }
    if let Some(rest) = body.strip_prefix(b"\xff\xfe") {
        return strict(UTF_16LE, rest);
    }
    if let Some(rest) = body.strip_prefix(b"\xfe\xff") {
        return strict(UTF_16BE, rest);
    }
    if let Some(encoding) = bomless_utf16(body) {
        return strict(encoding, body);
    }
    match std::str::from_utf8(body) {
        Ok(text) => Ok(text.to_owned()),
        Err(_) => strict(GB18030, body).map_err(|_| ImportError::Unreadable {
            detail: "the text is neither UTF-8, UTF-16 nor GB18030/GBK".to_owned(),
        }),
    }
}

/// The start of the body as text, for sniffing its format: the encoding
/// guessed as [`decode`] does, invalid bytes replaced (a GBK text reads as
/// UTF-8 with replacement characters, its ASCII separators intact).
pub(super) fn prefix(body: &[u8]) -> String {
    let start = &body[..body.len().min(SNIFF_BYTES)];
    let encoding = if start.starts_with(b"\xff\xfe") {
        UTF_16LE
    } else if start.starts_with(b"\xfe\xff") {
        UTF_16BE
    } else {
        bomless_utf16(start).unwrap_or(UTF_8)
    };
    // `decode` strips a BOM; a character cut at the end turns into U+FFFD.
    let (text, _, _) = encoding.decode(start);
    text.into_owned()
}

fn utf8(bytes: &[u8]) -> Result<String, ImportError> {
    String::from_utf8(bytes.to_vec()).map_err(|error| ImportError::Unreadable {
        detail: format!(
            "the text starts with a UTF-8 byte order mark but is not UTF-8 (at byte {})",
            error.utf8_error().valid_up_to() + 3
        ),
    })
}

fn strict(encoding: &'static Encoding, bytes: &[u8]) -> Result<String, ImportError> {
    match encoding.decode_without_bom_handling_and_without_replacement(bytes) {
        Some(text) => Ok(text.into_owned()),
        None => Err(ImportError::Unreadable {
            detail: format!("the text is not valid {}", encoding.name()),
        }),
    }
}

/// UTF-16 without a BOM: ASCII-heavy text (headers, digits, separators) has
/// a NUL in every other byte. Most of the high (odd-indexed for LE) bytes
/// NUL and almost none of the low ones.
fn bomless_utf16(body: &[u8]) -> Option<&'static Encoding> {
    if body.len() < 4 || body.len() % 2 != 0 {
        return None;
    }
    let start = &body[..body.len().min(SNIFF_BYTES)];
    let pairs = start.len() / 2;
    let zero_even = start.iter().step_by(2).filter(|byte| **byte == 0).count();
    let zero_odd = start.iter().skip(1).step_by(2).filter(|byte| **byte == 0).count();
    let mostly = |count: usize| count * 10 >= pairs * 6;
    let hardly = |count: usize| count * 20 <= pairs;
    if mostly(zero_odd) && hardly(zero_even) {
        Some(UTF_16LE)
    } else if mostly(zero_even) && hardly(zero_odd) {
        Some(UTF_16BE)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utf16le(text: &str, bom: bool) -> Vec<u8> {
        let mut bytes = if bom { vec![0xff, 0xfe] } else { Vec::new() };
        bytes.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
        bytes
    }

    fn utf16be(text: &str, bom: bool) -> Vec<u8> {
        let mut bytes = if bom { vec![0xfe, 0xff] } else { Vec::new() };
        bytes.extend(text.encode_utf16().flat_map(u16::to_be_bytes));
        bytes
    }

    const TEXT: &str = "发票号码,金额\nINV-1,100.00\n";

    #[test]
    fn every_supported_encoding_decodes() {
        assert_eq!(decode(TEXT.as_bytes()).unwrap(), TEXT);
        assert_eq!(decode(format!("\u{feff}{TEXT}").as_bytes()).unwrap(), TEXT);
        assert_eq!(decode(&utf16le(TEXT, true)).unwrap(), TEXT);
        assert_eq!(decode(&utf16be(TEXT, true)).unwrap(), TEXT);
        assert_eq!(decode(&utf16le(TEXT, false)).unwrap(), TEXT);
        assert_eq!(decode(&utf16be(TEXT, false)).unwrap(), TEXT);
        let (gbk, _, _) = encoding_rs::GBK.encode(TEXT);
        assert!(std::str::from_utf8(&gbk).is_err());
        assert_eq!(decode(&gbk).unwrap(), TEXT);
    }

    #[test]
    fn invalid_bytes_fail_the_upload() {
        assert!(matches!(
            decode(b"\xef\xbb\xbfa\xff"),
            Err(ImportError::Unreadable { .. })
        ));
        // A lone surrogate in UTF-16.
        assert!(matches!(
            decode(b"\xff\xfe\x00\xd8a\x00"),
            Err(ImportError::Unreadable { .. })
        ));
        // 0xFF is no lead byte in GB18030.
        assert!(matches!(decode(b"a,b\n\xff\xff"), Err(ImportError::Unreadable { .. })));
    }
}
