//! URL resolution and the rule that a manifest can only make the host fetch http(s).
//!
//! Relative references resolve against their base with the `url` crate (RFC 3986). A
//! reference with a scheme other than `http` or `https` is refused, except `data:` and
//! `skd:` where a spec allows them (HLS key URIs). Without a base (a local file inspected
//! with no `--base-url`), relative references stay as written.

/// Why a reference was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// A scheme other than http(s) (or the allowed extras).
    Scheme(String),
    /// Not parseable as a URL.
    Unparseable(String),
}

impl Refusal {
    pub(crate) fn detail(&self) -> String {
        match self {
            Refusal::Scheme(s) => format!("scheme {s:?} is not http(s)"),
            Refusal::Unparseable(e) => format!("not a URL: {e}"),
        }
    }
}

/// Which non-http(s) schemes a reference may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Allow {
    /// Only http and https.
    Http,
    /// Also `data:` and `skd:` (HLS key URIs).
    KeyUri,
    /// Also `data:` (DASH initialization segments, as in ISO/IEC 23009-1 example G.13).
    Data,
}

/// The scheme of a reference, if it has one (`[A-Za-z][A-Za-z0-9+.-]*:`).
fn scheme_of(reference: &str) -> Option<&str> {
    let colon = reference.find(':')?;
    let s = &reference[..colon];
    let mut bytes = s.bytes();
    let first = bytes.next()?;
    (first.is_ascii_alphabetic()
        && bytes.all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.')))
    .then_some(s)
}

/// Checks a reference as written, without resolving it (cheap: used per segment).
pub(crate) fn check(reference: &str, allow: Allow) -> Result<(), Refusal> {
    match scheme_of(reference.trim_start()) {
        None => Ok(()),
        Some(s) if s.eq_ignore_ascii_case("http") || s.eq_ignore_ascii_case("https") => Ok(()),
        Some(s) if allow != Allow::Http && s.eq_ignore_ascii_case("data") => Ok(()),
        Some(s) if allow == Allow::KeyUri && s.eq_ignore_ascii_case("skd") => Ok(()),
        Some(s) => Err(Refusal::Scheme(s.to_ascii_lowercase())),
    }
}

/// Resolves `reference` against `base` (empty base: the reference as written), refusing
/// schemes the host must not fetch.
pub(crate) fn resolve(base: &str, reference: &str, allow: Allow) -> Result<String, Refusal> {
    let reference = reference.trim();
    check(reference, allow)?;
    if let Some(joined) = fast_join(base, reference) {
        return Ok(joined);
    }
    let base_url = match parse_base(base) {
        Ok(b) => b,
        // No base (a local file), or a relative one: absolute references stand alone,
        // relative ones are joined as text.
        Err(_) => {
            if scheme_of(reference).is_some() {
                return url::Url::parse(reference)
                    .map(Into::into)
                    .map_err(|e| Refusal::Unparseable(e.to_string()));
            }
            return Ok(join_relative(base, reference));
        }
    };
    let joined = base_url
        .join(reference)
        .map_err(|e| Refusal::Unparseable(e.to_string()))?;
    let scheme = joined.scheme();
    if scheme == "http"
        || scheme == "https"
        || (allow != Allow::Http && scheme == "data")
        || (allow == Allow::KeyUri && scheme == "skd")
    {
        Ok(joined.into())
    } else {
        Err(Refusal::Scheme(scheme.to_owned()))
    }
}

/// The common case without the URL parser: a plain relative path (with an optional query)
/// against an absolute http(s) base already in normalized form. Anything the URL parser
/// would rewrite (dot segments, percent-encoding, `//` authority, a fragment, other
/// characters) returns `None` and takes the full path. Tested against `url::Url::join`.
fn fast_join(base: &str, reference: &str) -> Option<String> {
    if !base_is_normalized(base) {
        return None;
    }
    let (path, query) = reference.split_once('?').unwrap_or((reference, ""));
    if path.is_empty()
        || path.starts_with('/')
        || !reference.bytes().all(plain)
        || query.contains('?')
        || path.split('/').any(|seg| seg == "." || seg == "..")
        || path.contains(':') && !path.contains('/')
        || path
            .split('/')
            .next()
            .is_some_and(|first| first.contains(':'))
    {
        return None;
    }
    let base_path_end = base.find('?').unwrap_or(base.len());
    let dir_end = base[..base_path_end].rfind('/')? + 1;
    let mut out = String::with_capacity(dir_end + reference.len());
    out.push_str(&base[..dir_end]);
    out.push_str(reference);
    Some(out)
}

/// An absolute http(s) URL with a path, already in the form the URL parser prints: plain
/// characters only, no dot segments, no fragment, and a plain host (see [`plain_host`]).
/// Tested against `url::Url`.
fn normalized_http(url: &str) -> bool {
    let Some(rest) = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
    else {
        return false;
    };
    if !rest.bytes().all(plain)
        || rest.contains('#')
        || rest.contains("/./")
        || rest.contains("/../")
        || rest.ends_with("/.")
        || rest.ends_with("/..")
    {
        return false;
    }
    let Some(authority_end) = rest.find('/') else {
        return false;
    };
    let authority = &rest[..authority_end];
    let (host, port) = match authority.split_once(':') {
        Some((h, p)) => (h, Some(p)),
        None => (authority, None),
    };
    let default = if url.starts_with("https") {
        "443"
    } else {
        "80"
    };
    plain_host(host)
        && port.is_none_or(|p| {
            !p.is_empty()
                && p != default
                && !p.starts_with('0')
                && p.bytes().all(|b| b.is_ascii_digit())
                && p.parse::<u16>().is_ok()
        })
}

/// A host the URL parser keeps as written: an IPv4 address in dotted-quad form, or a name
/// of lower-case letters, digits, dots and hyphens, with no empty label, nothing it would
/// read as an IPv4 address (a last label starting with a digit) and nothing it checks as
/// punycode (`xn--`).
fn plain_host(host: &str) -> bool {
    let quad = host.split('.').count() == 4
        && host.split('.').all(|n| {
            !n.is_empty()
                && n.len() <= 3
                && n.bytes().all(|b| b.is_ascii_digit())
                && (n == "0" || !n.starts_with('0'))
                && n.parse::<u8>().is_ok()
        });
    if quad {
        return true;
    }
    !host.is_empty()
        && host
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-')
        && host
            .split('.')
            .all(|label| !label.is_empty() && !label.starts_with("xn--"))
        && host
            .rsplit('.')
            .next()
            .is_some_and(|last| !last.starts_with(|c: char| c.is_ascii_digit()))
}

/// Characters that the URL parser leaves as they are in a path or query.
fn plain(b: u8) -> bool {
    b.is_ascii_alphanumeric()
        || matches!(
            b,
            b'-' | b'.'
                | b'_'
                | b'~'
                | b'/'
                | b'!'
                | b'$'
                | b'&'
                | b'('
                | b')'
                | b'*'
                | b'+'
                | b','
                | b';'
                | b'='
                | b':'
                | b'@'
                | b'?'
        )
}

thread_local! {
    /// The last base [`fast_join`] checked with [`normalized_http`], and the answer: a
    /// manifest joins every segment of a track to one base, and comparing the text is
    /// cheaper than checking it again.
    static LAST_NORMALIZED: std::cell::RefCell<(String, bool)> = const { std::cell::RefCell::new((String::new(), false)) };
}

/// [`normalized_http`], remembered for the last base asked about.
fn base_is_normalized(base: &str) -> bool {
    LAST_NORMALIZED.with(|cell| {
        let mut last = cell.borrow_mut();
        if last.0 != base {
            let answer = normalized_http(base);
            last.0.clear();
            last.0.push_str(base);
            last.1 = answer;
        }
        last.1
    })
}

thread_local! {
    /// The last base parsed: manifests resolve many references against one base, and
    /// parsing it is most of the cost. Keyed by the base text, so results never change.
    static LAST_BASE: std::cell::RefCell<Option<(String, url::Url)>> = const { std::cell::RefCell::new(None) };
}

fn parse_base(base: &str) -> Result<url::Url, url::ParseError> {
    LAST_BASE.with(|cell| {
        let mut last = cell.borrow_mut();
        if let Some((text, parsed)) = last.as_ref() {
            if text == base {
                return Ok(parsed.clone());
            }
        }
        let parsed = url::Url::parse(base)?;
        *last = Some((base.to_owned(), parsed.clone()));
        Ok(parsed)
    })
}

/// Joins a relative reference to a relative base as text (`a/b/` + `c.mp4`).
fn join_relative(base: &str, reference: &str) -> String {
    if base.is_empty() || reference.starts_with('/') {
        return reference.to_owned();
    }
    match base.rfind('/') {
        Some(i) => format!("{}{}", &base[..=i], reference),
        None => reference.to_owned(),
    }
}

/// Resolves an already-checked reference.
///
/// References are checked when the manifest is read, so a refusal here is a bug; the result
/// is then empty rather than a URL the host must not fetch.
pub(crate) fn resolve_lenient(base: &str, reference: &str) -> String {
    resolve(base, reference, Allow::KeyUri).unwrap_or_default()
}

/// Refuses a URL template whose expansion could start with a scheme other than http(s):
/// expansions insert only digits, so a scheme can only come from a `:` in the text before
/// the first `/`, `?` or `#`.
pub(crate) fn check_template_head(head: &str) -> Result<(), Refusal> {
    let head = head.trim_start();
    let starts = |prefix: &str| {
        head.get(..prefix.len())
            .is_some_and(|h| h.eq_ignore_ascii_case(prefix))
    };
    if starts("http://") || starts("https://") || head.starts_with("//") {
        return Ok(());
    }
    let first = head.split(['/', '?', '#']).next().unwrap_or("");
    match first.find(':') {
        Some(i) => Err(Refusal::Scheme(first[..i].to_ascii_lowercase())),
        None => Ok(()),
    }
}

/// Validates a base URL handed in by the host: it must be absolute http(s).
pub fn validate_base(base: &str) -> Result<String, String> {
    // The usual case, a URL as a browser or the CLI prints it, needs no parser.
    if normalized_http(base) {
        return Ok(base.to_owned());
    }
    let u = url::Url::parse(base).map_err(|e| e.to_string())?;
    match u.scheme() {
        "http" | "https" => Ok(u.into()),
        s => Err(format!("base URL scheme {s:?} is not http(s)")),
    }
}

/// A URL cut to 120 characters for messages.
pub(crate) fn clip_url(url: &str) -> String {
    if url.len() <= 120 {
        return url.to_owned();
    }
    let mut s: String = url.chars().take(117).collect();
    s.push_str("...");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Bases for both URL tests: plain ones, and each form the URL parser rewrites.
    const BASES: &[&str] = &[
        "https://cdn.example/a/b/master.m3u8",
        "https://cdn.example/a/b/master.m3u8?token=x&y=1",
        "http://cdn.example:8080/live/",
        "https://cdn.example",
        "https://CDN.example/x/",
        "https://cdn.example/a%20b/c",
        "https://cdn.example/a/./b/c",
        "https://cdn.example/a/b/.",
        "https://cdn.example/a/b/..",
        "https://u@cdn.example/a/",
        "https://cdn.example/a/m#frag",
        "https://cdn.example:443/x/",
        "http://cdn.example:80/x/",
        "https://cdn.example:80/x/",
        "https://cdn.example:0080/x/",
        "https://cdn.example:99999/x/",
        "https://cdn.example:/x/",
        "https://cdn.example./x/",
        "https://cdn..example/x/",
        "https://127.0.0.1/x/",
        "http://127.0.0.1:8080/m/a.m3u8",
        "https://1.2.3/x/",
        "https://1.2.3.04/x/",
        "https://1.2.3.256/x/",
        "https://1.2.3.4.5/x/",
        "https://0x7f.1/x/",
        "https://xn--nxasmq6b.example/x/",
        "https://a?b/x",
        "https:///x",
        "https://cdn.example/x:y/z?q=a:b",
        "https://my-cdn.example.com/path/to/playlist.m3u8",
    ];

    #[test]
    fn fast_join_agrees_with_the_url_parser() {
        let bases = BASES.iter().copied();
        let refs = [
            "seg1.ts",
            "v/1080/seg-00001.m4s",
            "seg.ts?tok=1&b=2",
            "a:b/c.ts",
            "./x.ts",
            "../x.ts",
            "x/../y.ts",
            "a b.ts",
            "é.ts",
            "/abs.ts",
            "//other/x",
            "x.ts#f",
            "QualityLevels(1000)/Fragments(video=0)",
            "x.ts?a?b",
            "x%41.ts",
            "seg$1.ts",
            ".",
            "..",
            "a/./b",
            "c:d",
            "?q=1",
            "",
        ];
        for b in bases {
            for r in refs {
                if let Some(fast) = fast_join(b, r) {
                    let slow = url::Url::parse(b).unwrap().join(r).unwrap().to_string();
                    assert_eq!(fast, slow, "base {b:?} + {r:?}");
                }
            }
        }
        assert!(fast_join("https://cdn.example/a/b/m.m3u8", "seg1.ts").is_some());
    }

    #[test]
    fn a_base_taken_as_written_is_what_the_url_parser_prints() {
        let bases = BASES.iter().copied();
        let mut taken = 0;
        for b in bases {
            if normalized_http(b) {
                taken += 1;
                let parsed = url::Url::parse(b).map(String::from);
                assert_eq!(parsed.as_deref(), Ok(b), "{b:?}");
                assert_eq!(validate_base(b).as_deref(), Ok(b));
            } else if let Ok(v) = validate_base(b) {
                assert_eq!(v, url::Url::parse(b).unwrap().to_string());
            }
        }
        assert_eq!(taken, 8);
    }

    #[test]
    fn resolves_and_refuses() {
        let b = "https://cdn.example/a/b/master.m3u8";
        assert_eq!(
            resolve(b, "v/1.m3u8", Allow::Http).unwrap(),
            "https://cdn.example/a/b/v/1.m3u8"
        );
        assert_eq!(
            resolve(b, "../x.ts", Allow::Http).unwrap(),
            "https://cdn.example/a/x.ts"
        );
        assert_eq!(
            resolve(b, "//other.example/x", Allow::Http).unwrap(),
            "https://other.example/x"
        );
        assert_eq!(resolve("", "x.ts", Allow::Http).unwrap(), "x.ts");
        assert_eq!(
            resolve("media/", "x.ts", Allow::Http).unwrap(),
            "media/x.ts"
        );
        assert_eq!(
            resolve("media/", "http://h.example/x", Allow::Http).unwrap(),
            "http://h.example/x"
        );
        assert!(resolve("", "file:///x", Allow::Http).is_err());
        assert!(matches!(
            resolve(b, "file:///etc/passwd", Allow::Http),
            Err(Refusal::Scheme(_))
        ));
        assert!(matches!(
            resolve(b, "javascript:alert(1)", Allow::Http),
            Err(Refusal::Scheme(_))
        ));
        assert!(resolve(b, "data:text/plain;base64,AAAA", Allow::Http).is_err());
        assert!(resolve(b, "data:text/plain;base64,AAAA", Allow::KeyUri).is_ok());
        assert!(resolve(b, "skd://key42", Allow::KeyUri).is_ok());
        // A colon after a slash is a path, not a scheme.
        assert!(resolve(b, "seg/a:b.ts", Allow::Http).is_ok());
    }
}
