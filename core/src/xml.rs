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
    spans: OnceCell<Spans>,
}

/// Attribute spans of a tag: inline for a plain list of up to [`PLAIN_ATTRS`] (nearly
/// every MPD element), on the heap for anything the reader's parser has to read.
enum Spans {
    /// The spans, how many, and whether an attribute name has a prefix.
    Inline([Span16; PLAIN_ATTRS], usize, bool),
    Heap(Vec<(Range<usize>, Range<usize>)>),
}

/// Byte ranges (name, value) within a tag as `u16` offsets: small, since an element and
/// its spans are moved by value on every event. A tag of 64 KiB or more goes on the heap.
#[derive(Clone, Copy, Default)]
struct Span16 {
    key: (u16, u16),
    value: (u16, u16),
}

impl Spans {
    /// The (name, value) spans of the attribute named `local`.
    fn find(&self, whole: &[u8], local: &[u8]) -> Option<Range<usize>> {
        match self {
            Spans::Inline(a, n, _) => a.get(..*n)?.iter().find_map(|s| {
                let key = usize::from(s.key.0)..usize::from(s.key.1);
                (whole.get(key) == Some(local))
                    .then(|| usize::from(s.value.0)..usize::from(s.value.1))
            }),
            Spans::Heap(v) => v
                .iter()
                .find(|(k, _)| whole.get(k.clone()) == Some(local))
                .map(|(_, v)| v.clone()),
        }
    }
}

/// The spans of a tag (`whole`, its name `name_len` bytes long) whose attribute list is
/// plain and shorter than 64 KiB; `None` for any other, which the reader's parser reads.
fn inline_spans(whole: &[u8], name_len: usize) -> Option<Spans> {
    let mut plain = [(&[][..], &[][..]); PLAIN_ATTRS];
    let n = plain_attrs(whole.get(name_len..)?, &mut plain)?;
    let mut out = [Span16::default(); PLAIN_ATTRS];
    let mut kept = 0;
    let mut prefix = false;
    for (k, v) in &plain[..n] {
        prefix |= k.contains(&b':');
        if k.starts_with(b"xmlns") {
            continue;
        }
        out[kept] = Span16 {
            key: span16(whole, local_of(k))?,
            value: span16(whole, v)?,
        };
        kept += 1;
    }
    Some(Spans::Inline(out, kept, prefix))
}

/// [`span_in`] as `u16` offsets.
fn span16(whole: &[u8], part: &[u8]) -> Option<(u16, u16)> {
    let r = span_in(whole, part)?;
    Some((u16::try_from(r.start).ok()?, u16::try_from(r.end).ok()?))
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

    fn spans(&self) -> &Spans {
        self.spans.get_or_init(|| {
            let whole: &[u8] = &self.start;
            if let Some(spans) = inline_spans(whole, self.start.name().as_ref().len()) {
                return spans;
            }
            Spans::Heap(
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
                    .collect(),
            )
        })
    }

    /// Value of the attribute with this local name, unescaped.
    pub(crate) fn attr(&self, local: &str) -> Option<String> {
        self.attr_str(local).map(Cow::into_owned)
    }

    /// [`Elem::attr`], borrowed from the tag unless it holds a reference to unescape.
    pub(crate) fn attr_str(&self, local: &str) -> Option<Cow<'_, str>> {
        let whole: &[u8] = &self.start;
        let value = self.spans().find(whole, local.as_bytes())?;
        let raw = std::str::from_utf8(whole.get(value)?).ok()?;
        if raw.contains('&') {
            quick_xml::escape::unescape(raw)
                .ok()
                .map(|c| Cow::Owned(c.into_owned()))
        } else {
            Some(Cow::Borrowed(raw))
        }
    }

    /// Calls `f(local name, raw value)` for each attribute, without unescaping or
    /// allocating (for numeric attributes on hot elements such as `S`).
    pub(crate) fn for_each_raw(&self, mut f: impl FnMut(&[u8], &[u8])) {
        let mut plain = [(&[][..], &[][..]); PLAIN_ATTRS];
        if let Some(n) = plain_attrs(&self.start[self.start.name().as_ref().len()..], &mut plain) {
            for (k, v) in &plain[..n] {
                f(local_of(k), v);
            }
            return;
        }
        for a in self.start.attributes().with_checks(false).flatten() {
            f(local_of(a.key.into_inner()), &a.value);
        }
    }

    /// Whether the element's name or an attribute's has a colon (a prefix), or its
    /// attributes are not a plain list (then the reader's parser decides).
    fn prefixed(&self) -> bool {
        let name = self.start.name().into_inner();
        if name.contains(&b':') {
            return true;
        }
        !matches!(self.spans(), Spans::Inline(_, _, false))
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

/// Line feeds in `b`, eight bytes at a time (a long timeline puts tens of thousands of
/// lines between two elements whose line is asked for).
fn count_newlines(b: &[u8]) -> usize {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let mut words = b.chunks_exact(8);
    let mut n = 0;
    for w in &mut words {
        let mut word = [0u8; 8];
        word.copy_from_slice(w);
        // A byte of `x` is zero exactly where `w` has a line feed; the high bit of each byte
        // of `zero` is set exactly for those bytes.
        let x = u64::from_le_bytes(word) ^ (ONES * u64::from(b'\n'));
        let zero = !(((x & !HIGH) + !HIGH) | x) & HIGH;
        n += zero.count_ones() as usize;
    }
    n + words.remainder().iter().filter(|&&c| c == b'\n').count()
}

/// The bytes [`Xml::plain_empty`] stops at inside a tag: one table lookup for each of the
/// others.
const TAG_STOP: [bool; 256] = {
    let mut t = [false; 256];
    t[b'"' as usize] = true;
    t[b'>' as usize] = true;
    t[b'<' as usize] = true;
    t[b'&' as usize] = true;
    t[b':' as usize] = true;
    t[b'\'' as usize] = true;
    t
};

/// XML's whitespace (§2.3 `S`): space, tab, CR, LF.
fn is_xml_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n')
}

fn trim_xml_start(b: &[u8]) -> &[u8] {
    let n = b.iter().take_while(|&&c| is_xml_space(c)).count();
    &b[n..]
}

/// Most attributes [`plain_attrs`] reads; a tag with more goes through the reader's parser.
const PLAIN_ATTRS: usize = 16;

/// Reads `name="value"` pairs separated by XML whitespace (single or double quotes), the
/// shape of nearly every attribute list, into `out`; `None` for anything else (no value,
/// an unquoted value, a stray character, too many attributes), which the caller hands to
/// quick-xml's parser instead. Gives the pairs quick-xml would give for such a list, at a
/// fraction of the cost on elements such as `S`, of which a timeline has tens of
/// thousands.
fn plain_attrs<'t>(list: &'t [u8], out: &mut [(&'t [u8], &'t [u8]); PLAIN_ATTRS]) -> Option<usize> {
    // One pass over the bytes, by index: this runs on every element.
    let len = list.len();
    let mut i = 0;
    let mut n = 0;
    loop {
        while i < len && is_xml_space(list[i]) {
            i += 1;
        }
        if i == len {
            return Some(n);
        }
        let key_at = i;
        while list.get(i) != Some(&b'=') {
            let c = *list.get(i)?;
            if is_xml_space(c) || c == b'"' || c == b'\'' {
                return None;
            }
            i += 1;
        }
        if i == key_at {
            return None;
        }
        let key = &list[key_at..i];
        let quote = *list.get(i + 1)?;
        if quote != b'"' && quote != b'\'' {
            return None;
        }
        i += 2;
        let value_at = i;
        while *list.get(i)? != quote {
            i += 1;
        }
        let value = &list[value_at..i];
        i += 1;
        // Attributes are separated by whitespace.
        if list.get(i).is_some_and(|&c| !is_xml_space(c)) {
            return None;
        }
        *out.get_mut(n)? = (key, value);
        n += 1;
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
        let n = base + count_newlines(&self.text.as_bytes()[from..pos]);
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
                    // The reader reads from `self.text`, so the text is a slice of it: take
                    // it from there, with no second UTF-8 check (one per gap between
                    // elements).
                    if let Some(s) =
                        span_in(self.text.as_bytes(), &t).and_then(|r| self.text.get(r))
                    {
                        return Ok(Ev::Text(Cow::Borrowed(s)));
                    }
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
        // No colon in the name or an attribute name: no prefix used or declared (most
        // elements; values such as `sar="1:1"` or URLs do not count).
        if !el.start.contains(&b':') || !el.prefixed() {
            return Ok(());
        }
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
        f: F,
    ) -> Result<(), ParseError>
    where
        F: FnMut(&mut Self, Elem<'a>, &mut Diag) -> Result<(), ParseError>,
    {
        self.children_plain(el, None, diag, f)
    }

    /// [`Xml::children`] for an element whose children are mostly empty elements named
    /// `local`, written plainly: `<S t="0" d="90000"/>`, no prefix, entity or markup
    /// inside the tag. Those are taken straight from the text, which is several times
    /// faster than the reader's events on a `SegmentTimeline` of tens of thousands of
    /// `S`; anything else (comments, other elements, prefixes) goes through the reader
    /// as in [`Xml::children`], so `f` sees the same children either way.
    pub(crate) fn plain_children<F>(
        &mut self,
        el: &Elem<'_>,
        local: &[u8],
        diag: &mut Diag,
        f: F,
    ) -> Result<(), ParseError>
    where
        F: FnMut(&mut Self, Elem<'a>, &mut Diag) -> Result<(), ParseError>,
    {
        self.children_plain(el, Some(local), diag, f)
    }

    /// The loop behind both: children through the reader, and, when `plain` names them,
    /// plain empty children straight from the text.
    fn children_plain<F>(
        &mut self,
        el: &Elem<'_>,
        plain: Option<&[u8]>,
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
            if let Some(local) = plain {
                while let Some(c) = self.plain_empty(local) {
                    f(self, c, diag)?;
                }
            }
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

    /// The plain empty element named `local` that comes next (after whitespace), read
    /// past; `None`, reading nothing, when what comes next is anything else.
    fn plain_empty(&mut self, local: &[u8]) -> Option<Elem<'a>> {
        let rest: &'a [u8] = self.reader.get_ref();
        let ws = rest.len() - trim_xml_start(rest).len();
        let tag = rest[ws..].strip_prefix(b"<")?;
        let after_name = tag.strip_prefix(local)?;
        if !after_name
            .first()
            .is_some_and(|&b| is_xml_space(b) || b == b'/')
        {
            return None;
        }
        // The tag ends at its first `>` when an even number of `"` come before it (no
        // value holds it). Markup, a reference, a prefix or a single-quoted value inside:
        // the reader's parser decides.
        let mut quotes = 0u32;
        let mut close = None;
        for (i, &b) in after_name.iter().enumerate() {
            if TAG_STOP[usize::from(b)] {
                match b {
                    b'"' => quotes += 1,
                    b'>' if quotes % 2 == 0 => {
                        close = Some(i);
                        break;
                    }
                    b'>' => {}
                    _ => return None,
                }
            }
        }
        let close = close?;
        let attrs = after_name[..close].strip_suffix(b"/")?;
        let content = &tag[..local.len() + attrs.len()];
        let content = self.text.get(span_in(self.text.as_bytes(), content)?)?;
        // Whitespace, `<`, the name, the attributes, `/>`.
        let len = ws + 1 + local.len() + close + 1;
        std::io::BufRead::consume(&mut self.reader.stream(), len);
        Some(Elem {
            start: BytesStart::from_content(content, local.len()),
            empty: true,
            spans: OnceCell::new(),
        })
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

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::ParseOptions;
    use crate::model::ManifestFormat;

    /// A child read: name, attributes, the line after it.
    type Child = (String, Vec<(String, String)>, Line);

    /// Each child of the root's first child, read through [`Xml::children`] or
    /// [`Xml::plain_children`], then the root's end line.
    fn read(doc: &str, plain: bool) -> Result<(Vec<Child>, Line), String> {
        let mut diag = Diag::new(ManifestFormat::Dash, &ParseOptions::default());
        let mut x = Xml::new(doc);
        let root = x.root(&mut diag, "root").map_err(|e| e.to_string())?;
        let mut out = Vec::new();
        x.children(&root, &mut diag, |x, list, diag| {
            let mut each = |x: &mut Xml<'_>, c: Elem<'_>, _: &mut Diag| {
                let mut attrs = Vec::new();
                c.for_each_raw(|k, v| {
                    attrs.push((
                        String::from_utf8_lossy(k).into_owned(),
                        String::from_utf8_lossy(v).into_owned(),
                    ));
                });
                out.push((
                    String::from_utf8_lossy(c.name()).into_owned(),
                    attrs,
                    x.line(),
                ));
                Ok(())
            };
            if plain {
                x.plain_children(&list, b"S", diag, &mut each)
            } else {
                x.children(&list, diag, &mut each)
            }
        })
        .map_err(|e| e.to_string())?;
        Ok((out, x.line()))
    }

    #[test]
    fn plain_children_read_what_the_reader_reads() {
        let bodies = [
            "<S t=\"0\" d=\"90000\"/>\n<S d=\"90000\" r=\"3\"/>",
            "<S t='0' d='1'/><S/>\n\n  <S\td=\"2\"\n r=\"-1\" />",
            // Not plain: each goes through the reader, the plain ones around it do not.
            "<S d=\"1\"/><!-- c --><S d=\"2\"/><x:S xmlns:x=\"urn:x\" d=\"3\"/><S d=\"4\"/>",
            "<S d=\"1&amp;\"/><S a=\"x/>\" d=\"5\"/><S a=\"1>2\" d=\"6\"/><S d=\"7\"></S>",
            "<S d=\"1\" x:y=\"2\" xmlns:x=\"urn:x\"/><Segment d=\"1\"/><SS d=\"2\"/><S d=\"8\"/>",
            "<S d=\"1\" e/><S d=\"1\"e=\"2\"/><S d= \"3\"/><S a=\"1\" b=\"2\" c=\"3\" d=\"4\" e=\"5\" f=\"6\" g=\"7\" h=\"8\" i=\"9\"/>",
            // More attributes than the plain list holds (17).
            "<S a=\"1\" b=\"2\" c=\"3\" d=\"4\" e=\"5\" f=\"6\" g=\"7\" h=\"8\" i=\"9\" j=\"10\" k=\"11\" l=\"12\" m=\"13\" n=\"14\" o=\"15\" p=\"16\" q=\"17\"/>",
            "text <S d=\"1\"/> more <![CDATA[ <S d=\"2\"/> ]]> <S d=\"3\"/>",
        ];
        for body in bodies {
            let doc =
                format!("<MPD>\n<SegmentTimeline>\n{body}\n</SegmentTimeline>\n<After/>\n</MPD>\n");
            let reader = read(&doc, false).unwrap();
            assert_eq!(read(&doc, true).unwrap(), reader, "{body}");
            assert!(!reader.0.is_empty());
        }
        // A truncated or unclosed timeline, or `/ >` (a start tag to the reader), fails the
        // same way on both paths.
        for doc in [
            "<MPD><SegmentTimeline><S d=\"1\"/>",
            "<MPD><SegmentTimeline><S d=\"1\"/></MPD>",
            "<MPD><SegmentTimeline><S d=\"1\"/><S d=\"4\" / ></SegmentTimeline></MPD>",
        ] {
            assert_eq!(read(doc, true), read(doc, false), "{doc}");
            assert!(read(doc, true).is_err());
        }
    }

    #[test]
    fn plain_tags_take_the_fast_path_and_others_do_not() {
        let doc = "<T>\n  <S t=\"0\" d=\"9\"/><!-- c --><S a='1'/><S b=\"2\"/></T>";
        let mut diag = Diag::new(ManifestFormat::Dash, &ParseOptions::default());
        let mut x = Xml::new(doc);
        x.root(&mut diag, "root").unwrap();
        let s = x.plain_empty(b"S").unwrap();
        assert_eq!(s.name(), b"S");
        assert_eq!(s.attr("d").as_deref(), Some("9"));
        // The comment, then the single-quoted tag: the reader's.
        assert!(x.plain_empty(b"S").is_none());
        assert!(matches!(x.next(&mut diag).unwrap(), Ev::Start(_)));
        assert!(x.plain_empty(b"S").is_some());
        assert!(matches!(x.next(&mut diag).unwrap(), Ev::End));
    }

    /// Attributes of the root read through [`Elem::attr`], and the warnings drawn.
    fn root_attrs(doc: &str, names: &[&str]) -> (Vec<Option<String>>, usize) {
        let mut diag = Diag::new(ManifestFormat::Dash, &ParseOptions::default());
        let mut x = Xml::new(doc);
        let root = x.root(&mut diag, "root").unwrap();
        let values = names.iter().map(|n| root.attr(n)).collect();
        (values, diag.warnings.len())
    }

    #[test]
    fn attributes_are_found_in_every_kind_of_tag() {
        // Plain, with an entity, with more attributes than the inline list holds, with a
        // value over 64 KiB (the spans go on the heap in the last two).
        let many: String = (0..20).map(|i| format!(" a{i}=\"{i}\"")).collect();
        let long = "x".repeat(70_000);
        for (doc, names, want) in [
            (
                "<R a=\"1\" b='2'/>",
                vec!["a", "b", "c"],
                vec![Some("1"), Some("2"), None],
            ),
            ("<R a=\"1&amp;2\"/>", vec!["a"], vec![Some("1&2")]),
            (
                &*format!("<R{many}/>"),
                vec!["a0", "a19"],
                vec![Some("0"), Some("19")],
            ),
            (
                &*format!("<R v=\"{long}\" w=\"1\"/>"),
                vec!["w"],
                vec![Some("1")],
            ),
        ] {
            let (got, _) = root_attrs(doc, &names);
            let want: Vec<Option<String>> = want.iter().map(|w| w.map(str::to_owned)).collect();
            assert_eq!(got, want, "{}", &doc[..doc.len().min(60)]);
        }
    }

    #[test]
    fn a_colon_in_a_value_is_not_a_prefix() {
        assert_eq!(root_attrs("<R sar=\"1:1\" u=\"http://a/\"/>", &[]).1, 0);
        // A prefixed attribute or name still draws the warning.
        assert_eq!(root_attrs("<R x:a=\"1\"/>", &[]).1, 1);
        assert_eq!(root_attrs("<y:R a=\"1:1\"/>", &[]).1, 1);
        assert_eq!(root_attrs("<R xmlns:x=\"urn:x\" x:a=\"1\"/>", &[]).1, 0);
    }

    #[test]
    fn line_feeds_are_counted_a_word_at_a_time() {
        let text: Vec<u8> = (0..200u32)
            .map(|i| {
                if i % 7 == 0 || i % 11 == 3 {
                    b'\n'
                } else {
                    (i % 251) as u8
                }
            })
            .collect();
        for from in 0..16 {
            for to in (from..text.len()).step_by(5) {
                let want = text[from..to].iter().filter(|&&b| b == b'\n').count();
                assert_eq!(count_newlines(&text[from..to]), want, "{from}..{to}");
            }
        }
    }
}
