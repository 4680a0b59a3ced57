//! A thin pull reader over `quick-xml` shared by the DASH and Smooth parsers: elements by
//! local name, attributes unescaped on demand, text with entity references resolved,
//! undeclared namespace prefixes and excessive nesting refused, and error lines.

use std::borrow::Cow;
use std::cell::OnceCell;
use std::ops::Range;

use quick_xml::Reader;
use quick_xml::events::{BytesStart, Event};

use crate::diag::Diag;
use crate::error::{Line, ParseError};

const R_XML: &str = "XML 1.0 §2.1: a document MUST be well-formed";
const R_NS: &str = "Namespaces in XML 1.0 §5: a prefix MUST be declared";

fn local_of(name: &[u8]) -> &[u8] {
    match name.iter().rposition(|&b| b == b':') {
        Some(i) => &name[i + 1..],
        None => name,
    }
}

/// An element start (or empty element).
pub(crate) struct Elem<'a> {
    start: BytesStart<'a>,
    /// True for `<X/>`: there is no content and no end event.
    pub(crate) empty: bool,
    /// Byte ranges (local name, raw value) of the attributes within the tag, found once on
    /// the first lookup instead of re-scanning the tag for every attribute asked for.
    spans: OnceCell<Vec<(Range<usize>, Range<usize>)>>,
}

/// Where `part` lies within `whole`, if it is a sub-slice of it.
fn span_in(whole: &[u8], part: &[u8]) -> Option<Range<usize>> {
    let start = (part.as_ptr() as usize).checked_sub(whole.as_ptr() as usize)?;
    let end = start.checked_add(part.len())?;
    (end <= whole.len()).then_some(start..end)
}

impl<'a> Elem<'a> {
    /// Local name (prefix removed).
    pub(crate) fn name(&self) -> &[u8] {
        local_of(self.start.name().into_inner())
    }

    fn spans(&self) -> &[(Range<usize>, Range<usize>)] {
        self.spans.get_or_init(|| {
            let whole: &[u8] = &self.start;
            self.start
                .attributes()
                .with_checks(false)
                .flatten()
                .filter(|a| !a.key.into_inner().starts_with(b"xmlns"))
                .filter_map(|a| {
                    Some((
                        span_in(whole, local_of(a.key.into_inner()))?,
                        span_in(whole, &a.value)?,
                    ))
                })
                .collect()
        })
    }

    /// Value of the attribute with this local name, unescaped.
    pub(crate) fn attr(&self, local: &str) -> Option<String> {
        let whole: &[u8] = &self.start;
        let (_, value) = self
            .spans()
            .iter()
            .find(|(k, _)| whole.get(k.clone()) == Some(local.as_bytes()))?;
        let raw = std::str::from_utf8(whole.get(value.clone())?).ok()?;
        if raw.contains('&') {
            quick_xml::escape::unescape(raw).ok().map(Cow::into_owned)
        } else {
            Some(raw.to_owned())
        }
    }

    /// Calls `f(local name, raw value)` for each attribute, without unescaping or
    /// allocating (for numeric attributes on hot elements such as `S`).
    pub(crate) fn for_each_raw(&self, mut f: impl FnMut(&[u8], &[u8])) {
        for a in self.start.attributes().with_checks(false).flatten() {
            f(local_of(a.key.into_inner()), &a.value);
        }
    }

    /// Namespace prefixes this element and its attributes use, and the ones it declares.
    fn prefixes(&self) -> (Vec<String>, Vec<String>) {
        let mut used = Vec::new();
        let mut declared = Vec::new();
        let n = self.start.name().into_inner();
        if let Some(i) = n.iter().position(|&b| b == b':') {
            used.push(String::from_utf8_lossy(&n[..i]).into_owned());
        }
        for a in self.start.attributes().with_checks(false).flatten() {
            let key = a.key.into_inner();
            if let Some(p) = key.strip_prefix(b"xmlns:") {
                declared.push(String::from_utf8_lossy(p).into_owned());
            } else if let Some(i) = key.iter().position(|&b| b == b':') {
                let p = &key[..i];
                if p != b"xml" && p != b"xmlns" {
                    used.push(String::from_utf8_lossy(p).into_owned());
                }
            }
        }
        (used, declared)
    }
}

/// A reader event.
pub(crate) enum Ev<'a> {
    /// An element starts.
    Start(Elem<'a>),
    /// The current element ends.
    End,
    /// Text (entities resolved), CDATA included.
    Text(Cow<'a, str>),
    /// End of input.
    Eof,
}

/// The pull reader.
pub(crate) struct Xml<'a> {
    reader: Reader<&'a [u8]>,
    text: &'a str,
    depth: usize,
    /// (prefix, depth at which it was declared).
    ns: Vec<(String, usize)>,
    /// (byte position, line) of the last `line()` call.
    line_cache: (usize, usize),
}

impl<'a> Xml<'a> {
    pub(crate) fn new(text: &'a str) -> Self {
        let mut reader = Reader::from_str(text);
        let cfg = reader.config_mut();
        cfg.trim_text(false);
        cfg.check_end_names = true;
        cfg.expand_empty_elements = false;
        Xml {
            reader,
            text,
            depth: 0,
            ns: Vec::new(),
            line_cache: (0, 1),
        }
    }

    /// 1-based line of the reader's position. Positions only move forward, so the count
    /// continues from the last call: linear over the whole document.
    pub(crate) fn line(&mut self) -> Line {
        let pos = usize::try_from(self.reader.buffer_position())
            .unwrap_or(usize::MAX)
            .min(self.text.len());
        let (last_pos, last_line) = self.line_cache;
        let (from, base) = if pos >= last_pos {
            (last_pos, last_line)
        } else {
            (0, 1)
        };
        let n = base
            + self.text.as_bytes()[from..pos]
                .iter()
                .filter(|&&b| b == b'\n')
                .count();
        self.line_cache = (pos, n);
        u32::try_from(n).unwrap_or(u32::MAX)
    }

    /// The next event.
    pub(crate) fn next(&mut self, diag: &mut Diag) -> Result<Ev<'a>, ParseError> {
        loop {
            let ev = match self.reader.read_event() {
                Ok(ev) => ev,
                Err(e) => return Err(diag.malformed(self.line(), R_XML, e.to_string())),
            };
            match ev {
                Event::Start(s) => {
                    self.depth += 1;
                    diag.check_depth(self.depth)?;
                    let el = Elem {
                        start: s,
                        empty: false,
                        spans: OnceCell::new(),
                    };
                    self.check_ns(&el, diag)?;
                    return Ok(Ev::Start(el));
                }
                Event::Empty(s) => {
                    let el = Elem {
                        start: s,
                        empty: true,
                        spans: OnceCell::new(),
                    };
                    self.depth += 1;
                    self.check_ns(&el, diag)?;
                    self.depth -= 1;
                    self.ns.retain(|(_, d)| *d <= self.depth);
                    return Ok(Ev::Start(el));
                }
                Event::End(_) => {
                    self.ns.retain(|(_, d)| *d < self.depth);
                    self.depth = self.depth.saturating_sub(1);
                    return Ok(Ev::End);
                }
                Event::Text(t) => {
                    let s = t
                        .decode()
                        .map_err(|e| diag.malformed(self.line(), R_XML, e.to_string()))?;
                    return Ok(Ev::Text(s));
                }
                Event::CData(c) => {
                    let s = c
                        .decode()
                        .map_err(|e| diag.malformed(self.line(), R_XML, e.to_string()))?;
                    return Ok(Ev::Text(s));
                }
                Event::GeneralRef(r) => {
                    let name = r
                        .decode()
                        .map_err(|e| diag.malformed(self.line(), R_XML, e.to_string()))?;
                    let resolved = if let Ok(Some(c)) = r.resolve_char_ref() {
                        c.to_string()
                    } else if let Some(v) = quick_xml::escape::resolve_predefined_entity(&name) {
                        v.to_owned()
                    } else {
                        return Err(diag.malformed(
                            self.line(),
                            R_XML,
                            format!("unknown entity &{name};"),
                        ));
                    };
                    return Ok(Ev::Text(Cow::Owned(resolved)));
                }
                Event::Eof => {
                    if self.depth > 0 {
                        return Err(diag.malformed(
                            self.line(),
                            R_XML,
                            "document ends inside an element (truncated?)",
                        ));
                    }
                    return Ok(Ev::Eof);
                }
                Event::Decl(_) | Event::PI(_) | Event::Comment(_) | Event::DocType(_) => continue,
            }
        }
    }

    fn check_ns(&mut self, el: &Elem<'_>, diag: &mut Diag) -> Result<(), ParseError> {
        let (used, declared) = el.prefixes();
        for p in declared {
            self.ns.push((p, self.depth));
        }
        for p in used {
            if !self.ns.iter().any(|(d, _)| *d == p) {
                diag.should(
                    self.line(),
                    R_NS,
                    format!("undeclared namespace prefix {p:?}"),
                )?;
            }
        }
        Ok(())
    }

    /// The root element, after the prolog (whitespace, declaration, comments).
    pub(crate) fn root(
        &mut self,
        diag: &mut Diag,
        rule: &'static str,
    ) -> Result<Elem<'a>, ParseError> {
        loop {
            match self.next(diag)? {
                Ev::Start(el) => return Ok(el),
                Ev::Text(t) if t.trim().is_empty() => {}
                Ev::Eof => return Err(diag.malformed(self.line(), rule, "no root element")),
                Ev::Text(_) | Ev::End => {
                    return Err(diag.malformed(self.line(), rule, "text before the root element"));
                }
            }
        }
    }

    /// Calls `f` for each child element of the element just started (text between them is
    /// ignored), up to its end. Whatever of a child `f` leaves unread is skipped, so a
    /// handler cannot end its parent early by stopping inside a child.
    pub(crate) fn children<F>(
        &mut self,
        el: &Elem<'_>,
        diag: &mut Diag,
        mut f: F,
    ) -> Result<(), ParseError>
    where
        F: FnMut(&mut Self, Elem<'a>, &mut Diag) -> Result<(), ParseError>,
    {
        if el.empty {
            return Ok(());
        }
        loop {
            match self.next(diag)? {
                Ev::End | Ev::Eof => return Ok(()),
                Ev::Text(_) => {}
                Ev::Start(c) => {
                    let (empty, depth) = (c.empty, self.depth);
                    f(self, c, diag)?;
                    while !empty && self.depth >= depth {
                        if let Ev::Eof = self.next(diag)? {
                            return Err(diag.malformed(
                                self.line(),
                                R_XML,
                                "document ends inside an element",
                            ));
                        }
                    }
                }
            }
        }
    }

    /// Skips the content of the element just started (no-op for an empty element).
    pub(crate) fn skip(&mut self, el: &Elem<'_>, diag: &mut Diag) -> Result<(), ParseError> {
        if el.empty {
            return Ok(());
        }
        let target = self.depth - 1;
        while self.depth > target {
            if let Ev::Eof = self.next(diag)? {
                return Err(diag.malformed(self.line(), R_XML, "document ends inside an element"));
            }
        }
        Ok(())
    }

    /// Reads all text inside the element just started (descendant text concatenated,
    /// capped at `max` bytes), consuming its end.
    pub(crate) fn text(
        &mut self,
        el: &Elem<'_>,
        diag: &mut Diag,
        max: usize,
    ) -> Result<String, ParseError> {
        let mut out = String::new();
        if el.empty {
            return Ok(out);
        }
        let target = self.depth - 1;
        while self.depth > target {
            match self.next(diag)? {
                Ev::Text(t) => {
                    if out.len() + t.len() <= max {
                        out.push_str(&t);
                    }
                }
                Ev::Eof => {
                    return Err(diag.malformed(
                        self.line(),
                        R_XML,
                        "document ends inside an element",
                    ));
                }
                Ev::Start(_) | Ev::End => {}
            }
        }
        Ok(out)
    }

    /// Text of the element with the given local name found among the descendants of the
    /// element just started (e.g. `scte35:Binary` inside an `Event`), and all text.
    pub(crate) fn text_and_child(
        &mut self,
        el: &Elem<'_>,
        child: &[u8],
        diag: &mut Diag,
        max: usize,
    ) -> Result<(String, Option<String>), ParseError> {
        let mut all = String::new();
        let mut found: Option<String> = None;
        if el.empty {
            return Ok((all, found));
        }
        let target = self.depth - 1;
        let mut in_child: Option<usize> = None;
        while self.depth > target {
            match self.next(diag)? {
                Ev::Text(t) => {
                    if all.len() + t.len() <= max {
                        all.push_str(&t);
                    }
                    if in_child.is_some() {
                        if let Some(f) = found.as_mut() {
                            if f.len() + t.len() <= max {
                                f.push_str(&t);
                            }
                        }
                    }
                }
                Ev::Start(e) => {
                    if e.name() == child && found.is_none() && !e.empty {
                        found = Some(String::new());
                        in_child = Some(self.depth);
                    }
                }
                Ev::End => {
                    if in_child.is_some_and(|d| self.depth < d) {
                        in_child = None;
                    }
                }
                Ev::Eof => {
                    return Err(diag.malformed(
                        self.line(),
                        R_XML,
                        "document ends inside an element",
                    ));
                }
            }
        }
        Ok((all, found))
    }
}
