//! HLS attribute lists (`NAME=VALUE,NAME="quoted"`) and `EXT-X-DEFINE` variables.

use std::borrow::Cow;
use std::collections::HashMap;

use crate::diag::Diag;
use crate::error::{Line, ParseError};

const RULE_ATTR: &str =
    "RFC 8216 §4.2: attribute-list is AttributeName=AttributeValue pairs separated by commas";
const RULE_VAR: &str =
    "RFC 8216bis §4.3: a variable reference MUST name a variable defined by EXT-X-DEFINE";

/// One attribute: its name, its value without quotes, and whether it was quoted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Attr<'a> {
    pub(crate) name: &'a str,
    pub(crate) value: &'a str,
    pub(crate) quoted: bool,
}

/// A parsed attribute list.
#[derive(Debug, Default)]
pub(crate) struct AttrList<'a> {
    pub(crate) attrs: Vec<Attr<'a>>,
}

impl<'a> AttrList<'a> {
    /// Reads an attribute list. Spaces around names and after commas are tolerated (the
    /// field writes them); an unterminated quote is an error.
    pub(crate) fn parse(text: &'a str, line: Line, diag: &mut Diag) -> Result<Self, ParseError> {
        let mut attrs = Vec::new();
        let b = text.as_bytes();
        let mut i = 0;
        while i < b.len() {
            while i < b.len() && (b[i] == b' ' || b[i] == b'\t' || b[i] == b',') {
                i += 1;
            }
            if i >= b.len() {
                break;
            }
            let name_start = i;
            while i < b.len() && b[i] != b'=' && b[i] != b',' {
                i += 1;
            }
            let name = text[name_start..i].trim();
            if i >= b.len() || b[i] == b',' {
                // A bare word without '=': tolerated, ignored.
                diag.should(line, RULE_ATTR, format!("attribute {name:?} has no value"))?;
                continue;
            }
            i += 1; // '='
            while i < b.len() && b[i] == b' ' {
                i += 1;
            }
            if i < b.len() && b[i] == b'"' {
                let start = i + 1;
                let end = text[start..].find('"').map(|k| start + k).ok_or_else(|| {
                    diag.malformed(
                        line,
                        RULE_ATTR,
                        format!("unterminated quoted string in {name}"),
                    )
                })?;
                attrs.push(Attr {
                    name,
                    value: &text[start..end],
                    quoted: true,
                });
                i = end + 1;
            } else {
                let start = i;
                while i < b.len() && b[i] != b',' {
                    i += 1;
                }
                attrs.push(Attr {
                    name,
                    value: text[start..i].trim(),
                    quoted: false,
                });
            }
        }
        Ok(AttrList { attrs })
    }

    /// The value of `name` (the first, if repeated).
    pub(crate) fn get(&self, name: &str) -> Option<&'a str> {
        self.attrs.iter().find(|a| a.name == name).map(|a| a.value)
    }

    /// `name=YES`.
    pub(crate) fn yes(&self, name: &str) -> bool {
        self.get(name) == Some("YES")
    }
}

/// Variables defined by `EXT-X-DEFINE` (and `QUERYPARAM` imports from the playlist URL).
#[derive(Debug, Default, Clone)]
pub(crate) struct Vars {
    /// Variables in definition order (for the model).
    pub(crate) defined: Vec<(String, String)>,
    /// Name -> index into `defined`.
    index: HashMap<String, usize>,
    query: Vec<(String, String)>,
    /// The multivariant playlist's variables, for `IMPORT`.
    imported: Vec<(String, String)>,
    /// Bytes that substitutions added, counted against the manifest size limit.
    expanded: u64,
}

impl Vars {
    /// Variables a playlist can draw on: the query parameters of its URL (`QUERYPARAM`)
    /// and the multivariant playlist's variables the host passes in (`IMPORT`).
    pub(crate) fn for_playlist(opts: &crate::ParseOptions) -> Self {
        let mut v = Vars::from_url(opts.url.as_deref());
        v.imported = opts
            .variables
            .iter()
            .map(|nv| (nv.name.clone(), nv.value.clone()))
            .collect();
        v
    }

    /// Query parameters of the playlist URL, for `QUERYPARAM` definitions.
    pub(crate) fn from_url(url: Option<&str>) -> Self {
        // Without a `?` there is no query to parse the URL for.
        let query = url
            .filter(|u| u.contains('?'))
            .and_then(|u| ::url::Url::parse(u).ok())
            .map(|u| {
                u.query_pairs()
                    .map(|(k, v)| (k.into_owned(), v.into_owned()))
                    .collect()
            })
            .unwrap_or_default();
        Vars {
            defined: Vec::new(),
            index: HashMap::new(),
            query,
            imported: Vec::new(),
            expanded: 0,
        }
    }

    /// Handles an `EXT-X-DEFINE` attribute list.
    pub(crate) fn define(
        &mut self,
        attrs: &AttrList<'_>,
        line: Line,
        diag: &mut Diag,
    ) -> Result<(), ParseError> {
        let rule = "RFC 8216bis §4.4.2.3: EXT-X-DEFINE needs NAME/VALUE, IMPORT or QUERYPARAM";
        if let (Some(name), Some(value)) = (attrs.get("NAME"), attrs.get("VALUE")) {
            self.set(name, value);
        } else if let Some(q) = attrs.get("QUERYPARAM") {
            match self
                .query
                .iter()
                .find(|(k, _)| k == q)
                .map(|(_, v)| v.clone())
            {
                Some(v) => self.set(q, &v),
                None => diag.shall(
                    line,
                    rule,
                    format!("QUERYPARAM {q:?} is not in the playlist URL"),
                )?,
            }
        } else if let Some(name) = attrs.get("IMPORT") {
            // Imports come from the multivariant playlist: the host passes its variables in
            // `ParseOptions::variables`.
            match self.imported.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()) {
                Some(v) => self.set(name, &v),
                None => diag.shall(
                    line,
                    rule,
                    format!("IMPORT {name:?}: not among the multivariant playlist's variables (ParseOptions::variables)"),
                )?,
            }
        } else {
            diag.shall(
                line,
                rule,
                "EXT-X-DEFINE without NAME/VALUE, IMPORT or QUERYPARAM",
            )?;
        }
        Ok(())
    }

    /// The variables for the model, in definition order.
    pub(crate) fn named(&self) -> Vec<crate::model::NameValue> {
        let nv = |(name, value): &(String, String)| crate::model::NameValue {
            name: name.clone(),
            value: value.clone(),
        };
        self.defined.iter().map(nv).collect()
    }

    fn set(&mut self, name: &str, value: &str) {
        match self.index.get(name) {
            Some(&i) => self.defined[i].1 = value.to_owned(),
            None => {
                self.index.insert(name.to_owned(), self.defined.len());
                self.defined.push((name.to_owned(), value.to_owned()));
            }
        }
    }

    /// Replaces `{$name}` references (only when variables were defined).
    pub(crate) fn substitute<'t>(
        &mut self,
        text: &'t str,
        line: Line,
        diag: &mut Diag,
    ) -> Result<Cow<'t, str>, ParseError> {
        // Byte pairs, not `contains("{$")`: this runs on every line, and the substring
        // searcher's setup cost more than the scan on lines this short.
        if !text.as_bytes().windows(2).any(|w| w == b"{$") {
            return Ok(Cow::Borrowed(text));
        }
        let mut out = String::with_capacity(text.len());
        let mut rest = text;
        while let Some(at) = rest.find("{$") {
            out.push_str(&rest[..at]);
            let after = &rest[at + 2..];
            match after.find('}') {
                Some(end) => {
                    let name = &after[..end];
                    match self.index.get(name).map(|&i| &self.defined[i].1) {
                        Some(v) => out.push_str(v),
                        None => {
                            if self.defined.is_empty() {
                                diag.should(line, RULE_VAR, format!("variable reference {name:?} in a playlist without EXT-X-DEFINE: kept as written"))?;
                            } else {
                                diag.shall(line, RULE_VAR, format!("undefined variable {name:?}"))?;
                            }
                            out.push_str(&rest[at..at + 2 + end + 1]);
                        }
                    }
                    rest = &after[end + 1..];
                }
                None => {
                    out.push_str(&rest[at..]);
                    rest = "";
                }
            }
        }
        out.push_str(rest);
        // Expansion is bounded like the manifest itself: a few bytes must not become gigabytes.
        self.expanded = self
            .expanded
            .saturating_add(out.len().saturating_sub(text.len()) as u64);
        diag.check_size(usize::try_from(self.expanded).unwrap_or(usize::MAX))?;
        Ok(Cow::Owned(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ManifestFormat;
    use crate::options::ParseOptions;

    fn diag() -> Diag {
        Diag::new(ManifestFormat::HlsMedia, &ParseOptions::default())
    }

    #[test]
    fn attribute_lists() {
        let mut d = diag();
        let a = AttrList::parse(
            r#"BANDWIDTH=1280000,CODECS="avc1.4d401f,mp4a.40.2", RESOLUTION=640x360"#,
            1,
            &mut d,
        )
        .unwrap();
        assert_eq!(a.get("BANDWIDTH"), Some("1280000"));
        assert_eq!(a.get("CODECS"), Some("avc1.4d401f,mp4a.40.2"));
        assert_eq!(a.get("RESOLUTION"), Some("640x360"));
        assert!(AttrList::parse(r#"URI="unterminated"#, 1, &mut d).is_err());
    }

    #[test]
    fn variables() {
        let mut d = diag();
        let mut v = Vars::from_url(Some("https://a.example/x.m3u8?token=abc"));
        v.define(
            &AttrList::parse(r#"NAME="host",VALUE="cdn.example""#, 1, &mut d).unwrap(),
            1,
            &mut d,
        )
        .unwrap();
        v.define(
            &AttrList::parse(r#"QUERYPARAM="token""#, 2, &mut d).unwrap(),
            2,
            &mut d,
        )
        .unwrap();
        assert_eq!(
            v.substitute("https://{$host}/a.ts?t={$token}", 3, &mut d)
                .unwrap(),
            "https://cdn.example/a.ts?t=abc"
        );
        assert!(v.substitute("{$nope}", 4, &mut d).is_err());
        // Expansion counts against the manifest size limit.
        let mut small = Diag::new(
            ManifestFormat::HlsMedia,
            &ParseOptions {
                limits: crate::Limits {
                    max_manifest_bytes: 1000,
                    ..Default::default()
                },
                ..Default::default()
            },
        );
        v.define(
            &AttrList::parse(
                &format!("NAME=\"big\",VALUE=\"{}\"", "x".repeat(100)),
                5,
                &mut small,
            )
            .unwrap(),
            5,
            &mut small,
        )
        .unwrap();
        let line = "{$big}".repeat(20);
        assert_eq!(
            v.substitute(&line, 6, &mut small).unwrap_err().class(),
            "limit-exceeded"
        );
    }
}
