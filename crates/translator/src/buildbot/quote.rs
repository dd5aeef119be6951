//! URLs quoted as the reference translator quoted them.

use std::borrow::Cow;

use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

/// What the reference's `urllib.quote(url, safe=...)` left as it was:
/// ASCII letters and digits, Python's always-safe `_.-`, and its safe
/// argument `%/:=&?~#+!$,;'@()*[]|`. Every other byte, non-ASCII UTF-8
/// included, becomes `%XX`.
const URL_SAFE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'_')
    .remove(b'.')
    .remove(b'-')
    .remove(b'%')
    .remove(b'/')
    .remove(b':')
    .remove(b'=')
    .remove(b'&')
    .remove(b'?')
    .remove(b'~')
    .remove(b'#')
    .remove(b'+')
    .remove(b'!')
    .remove(b'$')
    .remove(b',')
    .remove(b';')
    .remove(b'\'')
    .remove(b'@')
    .remove(b'(')
    .remove(b')')
    .remove(b'*')
    .remove(b'[')
    .remove(b']')
    .remove(b'|');

/// Percent-encodes a URL as the reference did (Python's `quote` with
/// `%/:=&?~#+!$,;'@()*[]|` safe): every other byte outside ASCII letters,
/// digits and `_.-` becomes `%XX`. Borrowed when quoting changes nothing,
/// as for most URLs.
pub(super) fn quote_url(url: &str) -> Cow<'_, str> {
    utf8_percent_encode(url, URL_SAFE).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_like_python() {
        assert_eq!(
            quote_url("http://x/a b?c=d&e=~f#g"),
            "http://x/a%20b?c=d&e=~f#g"
        );
        assert_eq!(
            quote_url("http://x/é\"<>{}^`\\"),
            "http://x/%C3%A9%22%3C%3E%7B%7D%5E%60%5C"
        );
        assert_eq!(quote_url("a%20b"), "a%20b");
    }

    #[test]
    fn every_ascii_byte_quotes_as_python_did() {
        // Python 2's always-safe characters plus the reference's `safe`.
        let safe = |c: char| c.is_ascii_alphanumeric() || "_.-%/:=&?~#+!$,;'@()*[]|".contains(c);
        for c in (0..128u8).map(char::from) {
            let want = if safe(c) {
                c.to_string()
            } else {
                format!("%{:02X}", c as u8)
            };
            assert_eq!(quote_url(&c.to_string()), want, "{c:?}");
        }
    }
}
