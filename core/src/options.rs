//! Parse options: strictness and resource limits.

/// How strictly the parsers hold manifests to their specs.
///
/// Each rule a parser checks is either a *shall* (the spec requires it; breaking it can make
/// the model wrong) or a *should* (a recommendation; breaking it is harmless to the model).
///
/// | level | shall broken | should broken |
/// |---|---|---|
/// | `Permissive` | warning, best effort | warning |
/// | `Normal` (default) | error | warning |
/// | `Strict` | error | error |
///
/// Some breaks are errors at every level: ones the model cannot represent at all (no
/// segment durations, an unsafe URL, an exceeded limit).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Strictness {
    /// Accept what players in the field accept.
    Permissive,
    /// Reject what breaks a requirement of the spec.
    #[default]
    Normal,
    /// Also reject what breaks a recommendation.
    Strict,
}

/// Caps on what a manifest may make the parser hold. Exceeding one is a
/// [`crate::ParseError::LimitExceeded`], raised before the allocation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Manifest size in bytes (default 64 MiB).
    pub max_manifest_bytes: u64,
    /// Segments listed in the whole presentation, counting run-length repeats (default 5,000,000).
    pub max_segments: u64,
    /// Periods (default 10,000).
    pub max_periods: u32,
    /// Tracks in the whole presentation (default 10,000).
    pub max_tracks: u32,
    /// Switching sets in the whole presentation (default 10,000).
    pub max_switching_sets: u32,
    /// Bytes of one URL, base URL or URL template (default 8 KiB): inherited bases and
    /// templates are held per track, so their length multiplies.
    pub max_url_bytes: u32,
    /// XML nesting depth (default 64).
    pub max_depth: u32,
    /// Events (DASH `Event`, HLS `EXT-X-DATERANGE`) in the whole presentation (default 100,000).
    pub max_events: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_manifest_bytes: 64 << 20,
            max_segments: 5_000_000,
            max_periods: 10_000,
            max_tracks: 10_000,
            max_switching_sets: 10_000,
            max_url_bytes: 8 << 10,
            max_depth: 64,
            max_events: 100_000,
        }
    }
}

/// Options for [`crate::parse`].
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ParseOptions {
    /// Strictness level.
    pub strictness: Strictness,
    /// Limits.
    pub limits: Limits,
    /// The URL the manifest was fetched from: the base of relative URLs. Without it,
    /// relative URLs stay as written.
    pub url: Option<String>,
    /// For an HLS media playlist: the variables of its multivariant playlist
    /// (`Presentation::variables`), which `EXT-X-DEFINE:IMPORT` draws on.
    pub variables: Vec<crate::model::NameValue>,
}
