//! Smooth.
use crate::{ParseError, ParseOptions, Parsed, ManifestFormat};
pub(crate) fn parse(_text: &str, _base: &str, _opts: &ParseOptions) -> Result<Parsed, ParseError> {
    Err(ParseError::Unsupported { format: ManifestFormat::Smooth, line: 0, detail: "not yet".into() })
}
