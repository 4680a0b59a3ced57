//! The ClearKey license server (W3C EME, "Clear Key"): a JSON request
//! `{"kids":["<base64url>"],"type":"temporary"}` answered with a JWK set
//! `{"keys":[{"kty":"oct","kid":"<base64url>","k":"<base64url>"}],"type":"temporary"}`.

use playhead::base64;

/// The keys the server knows.
#[derive(Debug, Clone, Default)]
pub struct ClearKey {
    keys: Vec<([u8; 16], [u8; 16])>,
}

/// Largest license request read.
const MAX_REQUEST: usize = 64 * 1024;

impl ClearKey {
    /// A server handing out `keys` (key id, key).
    pub fn new(keys: Vec<([u8; 16], [u8; 16])>) -> ClearKey {
        ClearKey { keys }
    }

    /// The key of `kid`, when the server has it.
    pub fn key(&self, kid: &[u8; 16]) -> Option<[u8; 16]> {
        self.keys
            .iter()
            .find(|(id, _)| id == kid)
            .map(|(_, key)| *key)
    }

    /// The JWK set for a license request, or (status, reason): 400 for a malformed
    /// request, 403 when it asks for no key the server has.
    pub fn answer(&self, request: &[u8]) -> Result<String, (u16, &'static str)> {
        if request.len() > MAX_REQUEST {
            return Err((413, "license request too large"));
        }
        let v: serde_json::Value =
            serde_json::from_slice(request).map_err(|_| (400, "license request is not JSON"))?;
        let kids = v
            .get("kids")
            .and_then(|k| k.as_array())
            .ok_or((400, "license request has no kids"))?;
        let kind = v
            .get("type")
            .and_then(|t| t.as_str())
            .unwrap_or("temporary");
        let mut keys = Vec::new();
        for kid in kids {
            let Some(kid) = kid.as_str().and_then(decode) else {
                return Err((400, "a kid is not base64url of 16 bytes"));
            };
            if let Some((_, key)) = self.keys.iter().find(|(id, _)| *id == kid) {
                keys.push(serde_json::json!({
                    "kty": "oct",
                    "kid": b64url(&kid),
                    "k": b64url(key),
                }));
            }
        }
        if keys.is_empty() {
            return Err((403, "no such key"));
        }
        Ok(serde_json::json!({ "keys": keys, "type": kind }).to_string())
    }
}

/// base64url, with or without padding, of exactly 16 bytes.
fn decode(s: &str) -> Option<[u8; 16]> {
    base64::decode(s)?.try_into().ok()
}

/// base64url without padding, as JWK wants it.
pub(crate) fn b64url(data: &[u8]) -> String {
    base64::encode(data)
        .trim_end_matches('=')
        .replace('+', "-")
        .replace('/', "_")
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    const KID: [u8; 16] = *b"0123456789abcdef";
    const KEY: [u8; 16] = [7; 16];

    #[test]
    fn answers_known_kids_and_refuses_the_rest() {
        let ck = ClearKey::new(vec![(KID, KEY)]);
        let kid = b64url(&KID);
        let answer = ck
            .answer(
                format!(
                    "{{\"kids\":[\"{kid}\",\"AAAAAAAAAAAAAAAAAAAAAA\"],\"type\":\"temporary\"}}"
                )
                .as_bytes(),
            )
            .unwrap();
        let v: serde_json::Value = serde_json::from_str(&answer).unwrap();
        assert_eq!(v["keys"].as_array().unwrap().len(), 1);
        assert_eq!(v["keys"][0]["kid"], kid.as_str());
        assert_eq!(v["keys"][0]["k"], b64url(&KEY).as_str());
        assert_eq!(v["type"], "temporary");
        assert_eq!(
            ck.answer(b"{\"kids\":[\"AAAAAAAAAAAAAAAAAAAAAA\"]}")
                .unwrap_err()
                .0,
            403
        );
        assert_eq!(ck.answer(b"nope").unwrap_err().0, 400);
        assert_eq!(ck.answer(b"{\"kids\":[\"short\"]}").unwrap_err().0, 400);
        assert_eq!(ck.answer(b"{}").unwrap_err().0, 400);
    }
}
