//! Rule checks shared by the parsers: one place decides, from the strictness level, whether
//! a broken rule is an error or a warning.

use crate::error::{LimitKind, Line, ParseError, Warning};
use crate::model::ManifestFormat;
use crate::options::{Limits, ParseOptions, Strictness};

/// Collects warnings and turns rule breaks into errors as the strictness level says.
#[derive(Debug)]
pub(crate) struct Diag {
    pub(crate) format: ManifestFormat,
    pub(crate) strictness: Strictness,
    pub(crate) limits: Limits,
    pub(crate) warnings: Vec<Warning>,
    segments: u64,
    tracks: u64,
    sets: u64,
    events: u64,
}

/// Most warnings kept per parse; further ones are counted in the last.
const MAX_WARNINGS: usize = 200;

impl Diag {
    pub(crate) fn new(format: ManifestFormat, opts: &ParseOptions) -> Self {
        Diag {
            format,
            strictness: opts.strictness,
            limits: opts.limits,
            warnings: Vec::new(),
            segments: 0,
            tracks: 0,
            sets: 0,
            events: 0,
        }
    }

    fn warn(&mut self, line: Line, rule: &'static str, detail: String) {
        if self.warnings.len() < MAX_WARNINGS {
            self.warnings.push(Warning { line, rule, detail });
        }
    }

    /// A requirement ("shall") was broken: an error unless permissive.
    pub(crate) fn shall(
        &mut self,
        line: Line,
        rule: &'static str,
        detail: impl Into<String>,
    ) -> Result<(), ParseError> {
        let detail = detail.into();
        if self.strictness == Strictness::Permissive {
            self.warn(line, rule, detail);
            Ok(())
        } else {
            Err(self.invalid(line, rule, detail))
        }
    }

    /// A recommendation ("should") was broken: an error only when strict.
    pub(crate) fn should(
        &mut self,
        line: Line,
        rule: &'static str,
        detail: impl Into<String>,
    ) -> Result<(), ParseError> {
        let detail = detail.into();
        if self.strictness == Strictness::Strict {
            Err(self.invalid(line, rule, detail))
        } else {
            self.warn(line, rule, detail);
            Ok(())
        }
    }

    /// An error at every level.
    pub(crate) fn invalid(
        &self,
        line: Line,
        rule: &'static str,
        detail: impl Into<String>,
    ) -> ParseError {
        ParseError::Invalid {
            format: self.format,
            line,
            rule,
            detail: detail.into(),
        }
    }

    /// A syntax error at every level.
    pub(crate) fn malformed(
        &self,
        line: Line,
        rule: &'static str,
        detail: impl Into<String>,
    ) -> ParseError {
        ParseError::Malformed {
            format: self.format,
            line,
            rule,
            detail: detail.into(),
        }
    }

    /// A valid feature Playhead does not support, at every level.
    pub(crate) fn unsupported(&self, line: Line, detail: impl Into<String>) -> ParseError {
        ParseError::Unsupported {
            format: self.format,
            line,
            detail: detail.into(),
        }
    }

    /// A refused URL.
    pub(crate) fn unsafe_url(
        &self,
        line: Line,
        url: &str,
        refusal: &crate::url::Refusal,
    ) -> ParseError {
        ParseError::UnsafeUrl {
            format: self.format,
            line,
            url: url.chars().take(120).collect(),
            detail: refusal.detail(),
        }
    }

    fn limit(&self, what: LimitKind, limit: u64) -> ParseError {
        ParseError::LimitExceeded {
            format: self.format,
            what,
            limit,
        }
    }

    /// Counts `n` more segments against the limit.
    pub(crate) fn add_segments(&mut self, n: u64) -> Result<(), ParseError> {
        self.segments = self.segments.saturating_add(n);
        if self.segments > self.limits.max_segments {
            return Err(self.limit(LimitKind::Segments, self.limits.max_segments));
        }
        Ok(())
    }

    /// Counts one more track against the limit.
    pub(crate) fn add_track(&mut self) -> Result<(), ParseError> {
        self.tracks += 1;
        if self.tracks > u64::from(self.limits.max_tracks) {
            return Err(self.limit(LimitKind::Tracks, u64::from(self.limits.max_tracks)));
        }
        Ok(())
    }

    /// Counts one more switching set against the limit.
    pub(crate) fn add_set(&mut self) -> Result<(), ParseError> {
        self.sets += 1;
        if self.sets > u64::from(self.limits.max_switching_sets) {
            return Err(self.limit(
                LimitKind::SwitchingSets,
                u64::from(self.limits.max_switching_sets),
            ));
        }
        Ok(())
    }

    /// Checks the length of a URL or URL template.
    pub(crate) fn check_url_len(&self, _line: Line, len: usize) -> Result<(), ParseError> {
        if len as u64 > u64::from(self.limits.max_url_bytes) {
            return Err(self.limit(LimitKind::UrlBytes, u64::from(self.limits.max_url_bytes)));
        }
        Ok(())
    }

    /// Counts one more event against the limit.
    pub(crate) fn add_event(&mut self) -> Result<(), ParseError> {
        self.events += 1;
        if self.events > self.limits.max_events {
            return Err(self.limit(LimitKind::Events, self.limits.max_events));
        }
        Ok(())
    }

    /// Checks a period count.
    pub(crate) fn check_periods(&self, n: usize) -> Result<(), ParseError> {
        if n as u64 > u64::from(self.limits.max_periods) {
            return Err(self.limit(LimitKind::Periods, u64::from(self.limits.max_periods)));
        }
        Ok(())
    }

    /// Checks an XML depth.
    pub(crate) fn check_depth(&self, depth: usize) -> Result<(), ParseError> {
        if depth as u64 > u64::from(self.limits.max_depth) {
            return Err(self.limit(LimitKind::Depth, u64::from(self.limits.max_depth)));
        }
        Ok(())
    }

    /// Checks the manifest size.
    pub(crate) fn check_size(&self, bytes: usize) -> Result<(), ParseError> {
        if bytes as u64 > self.limits.max_manifest_bytes {
            return Err(self.limit(LimitKind::ManifestBytes, self.limits.max_manifest_bytes));
        }
        Ok(())
    }
}
