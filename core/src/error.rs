//! Typed errors for everything a manifest can get wrong, each citing the rule it broke.

use crate::model::ManifestFormat;

/// Where in the manifest a problem sits: a 1-based line (HLS lines, XML element starts).
pub type Line = u32;

/// Why a manifest could not be turned into a presentation.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ParseError {
    /// The bytes are not any manifest format Playhead reads.
    #[error("not a recognized manifest: {detail}")]
    UnknownFormat {
        /// What was seen instead.
        detail: String,
    },
    /// The text is not decodable (bad UTF-8 or UTF-16).
    #[error("{format}: text encoding: {detail}")]
    Encoding {
        /// Format being read.
        format: ManifestFormat,
        /// What went wrong.
        detail: String,
    },
    /// The syntax is broken (not well-formed XML, a tag that cannot be read).
    #[error("{format} line {line}: malformed: {detail} ({rule})")]
    Malformed {
        /// Format being read.
        format: ManifestFormat,
        /// 1-based line of the problem.
        line: Line,
        /// The rule broken, citing the spec.
        rule: &'static str,
        /// What was found.
        detail: String,
    },
    /// Well-formed, but breaks a rule of the spec in a way the model cannot represent.
    #[error("{format} line {line}: invalid: {detail} ({rule})")]
    Invalid {
        /// Format being read.
        format: ManifestFormat,
        /// 1-based line of the problem.
        line: Line,
        /// The rule broken, citing the spec.
        rule: &'static str,
        /// What was found.
        detail: String,
    },
    /// Valid per the spec but a feature Playhead does not (yet) support.
    #[error("{format} line {line}: unsupported: {detail}")]
    Unsupported {
        /// Format being read.
        format: ManifestFormat,
        /// 1-based line of the problem.
        line: Line,
        /// What is not supported.
        detail: String,
    },
    /// A URL that a host must not be made to fetch (not http(s), or unparseable).
    #[error("{format} line {line}: refused URL {url:?}: {detail}")]
    UnsafeUrl {
        /// Format being read.
        format: ManifestFormat,
        /// 1-based line of the problem.
        line: Line,
        /// The URL as written (clipped).
        url: String,
        /// Why it was refused.
        detail: String,
    },
    /// A configured limit was exceeded; parsing stopped before allocating more.
    #[error("{format}: limit exceeded: {what} > {limit}")]
    LimitExceeded {
        /// Format being read.
        format: ManifestFormat,
        /// Which limit.
        what: LimitKind,
        /// The configured maximum.
        limit: u64,
    },
}

impl ParseError {
    /// A short, stable name of the error class (for JSON output and expectation files).
    pub fn class(&self) -> &'static str {
        match self {
            ParseError::UnknownFormat { .. } => "unknown-format",
            ParseError::Encoding { .. } => "encoding",
            ParseError::Malformed { .. } => "malformed",
            ParseError::Invalid { .. } => "invalid",
            ParseError::Unsupported { .. } => "unsupported",
            ParseError::UnsafeUrl { .. } => "unsafe-url",
            ParseError::LimitExceeded { .. } => "limit-exceeded",
        }
    }
}

/// The limits of [`crate::Limits`], named in [`ParseError::LimitExceeded`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "kebab-case"))]
pub enum LimitKind {
    /// Manifest size in bytes.
    ManifestBytes,
    /// Segments in the whole presentation (expanded count).
    Segments,
    /// Periods.
    Periods,
    /// Tracks in the whole presentation.
    Tracks,
    /// Switching sets in the whole presentation.
    SwitchingSets,
    /// Bytes of one URL or URL template.
    UrlBytes,
    /// XML element nesting depth.
    Depth,
    /// Events in the whole presentation.
    Events,
}

impl std::fmt::Display for LimitKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            LimitKind::ManifestBytes => "manifest bytes",
            LimitKind::Segments => "segments",
            LimitKind::Periods => "periods",
            LimitKind::Tracks => "tracks",
            LimitKind::SwitchingSets => "switching sets",
            LimitKind::UrlBytes => "URL bytes",
            LimitKind::Depth => "nesting depth",
            LimitKind::Events => "events",
        })
    }
}

/// A problem that the chosen [`crate::Strictness`] tolerated; kept with the result.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct Warning {
    /// 1-based line.
    pub line: Line,
    /// The rule, citing the spec.
    pub rule: &'static str,
    /// What was found and what was done about it.
    pub detail: String,
}

/// Why a live refresh could not be merged into the model.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RefreshError {
    /// The refreshed manifest did not parse.
    #[error(transparent)]
    Parse(#[from] ParseError),
    /// The refresh went backwards (media sequence or publish time lower than before).
    #[error("regressed playlist: {detail}")]
    Regressed {
        /// What went backwards.
        detail: String,
    },
    /// The refresh is of another kind than the track it updates (e.g. a multivariant playlist).
    #[error("refresh does not match the track: {detail}")]
    Mismatch {
        /// What differs.
        detail: String,
    },
}
