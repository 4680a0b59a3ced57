//! The AES the core and its software hosts need: HLS whole-segment AES-128-CBC (RFC 8216
//! §5.2; MSE cannot decrypt it, so the core does), and Common Encryption sample
//! decryption (`cenc` AES-CTR, `cbcs` AES-CBC with a pattern; ISO/IEC 23001-7 §9-10) for
//! hosts without a CDM: the CLI's ClearKey. RustCrypto's `aes`, `cbc` and `ctr` do the
//! cipher work.

use aes::Aes128;
use cbc::cipher::block_padding::{NoPadding, Pkcs7};
use cbc::cipher::{BlockModeDecrypt, KeyIvInit, StreamCipher};

use crate::media::{AccessUnit, CodecConfig, Samples, TrackProtection};
use crate::model::Kid;

use super::error::DrmError;

/// A 16-byte content key. Its `Debug` never shows the bytes.
#[derive(Clone, PartialEq, Eq)]
pub struct ContentKey([u8; 16]);

impl ContentKey {
    /// A key from its bytes.
    pub fn new(bytes: [u8; 16]) -> ContentKey {
        ContentKey(bytes)
    }

    /// A key from a slice, when it is 16 bytes.
    pub fn from_slice(bytes: &[u8]) -> Option<ContentKey> {
        <[u8; 16]>::try_from(bytes).ok().map(ContentKey)
    }
}

impl std::fmt::Debug for ContentKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ContentKey(..)")
    }
}

/// The IV of an HLS segment whose key has no `IV` attribute: its media sequence number as a
/// 128-bit big-endian integer (RFC 8216 §5.2).
pub fn hls_iv(sequence: u64) -> [u8; 16] {
    let mut iv = [0u8; 16];
    iv[8..].copy_from_slice(&sequence.to_be_bytes());
    iv
}

/// Decrypts an HLS `AES-128` segment in place and removes its PKCS#7 padding. A wrong key
/// almost always shows as bad padding.
pub fn aes128_cbc_segment(
    key: &ContentKey,
    iv: &[u8; 16],
    data: &mut Vec<u8>,
) -> Result<(), DrmError> {
    if data.is_empty() || data.len() % 16 != 0 {
        return Err(DrmError::Decrypt {
            why: "not a whole number of AES blocks",
        });
    }
    let dec = cbc::Decryptor::<Aes128>::new(&key.0.into(), &(*iv).into());
    let len = dec
        .decrypt_padded::<Pkcs7>(data)
        .map_err(|_| DrmError::Decrypt { why: "bad padding" })?
        .len();
    data.truncate(len);
    Ok(())
}

/// Decrypts one sample in place. `iv` is the sample's IV (8 or 16 bytes), or the track's
/// constant IV; `subsamples` are (clear, protected) byte counts (empty: all protected).
/// `cenc`: AES-CTR over the protected bytes, one keystream across the sample. `cbcs`: in
/// each protected range, `crypt` encrypted 16-byte blocks then `skip` clear ones (0/0: all
/// whole blocks), one CBC chain per range starting from the IV; a partial block stays clear.
pub fn decrypt_sample(
    protection: &TrackProtection,
    key: &ContentKey,
    iv: &[u8],
    subsamples: &[(u32, u32)],
    data: &mut [u8],
) -> Result<(), DrmError> {
    let mut iv16 = [0u8; 16];
    match iv.len() {
        8 | 16 => iv16[..iv.len()].copy_from_slice(iv),
        _ => {
            return Err(DrmError::Decrypt {
                why: "IV is not 8 or 16 bytes",
            });
        }
    }
    let whole = [(0u32, u32::try_from(data.len()).unwrap_or(u32::MAX))];
    let ranges = if subsamples.is_empty() {
        &whole[..]
    } else {
        subsamples
    };
    // Protected byte ranges, checked against the sample.
    let mut spans = Vec::with_capacity(ranges.len());
    let mut at = 0usize;
    for (clear, protected) in ranges {
        let start = at.saturating_add(*clear as usize);
        let end = start.saturating_add(*protected as usize);
        if end > data.len() {
            return Err(DrmError::Decrypt {
                why: "subsamples run past the sample",
            });
        }
        spans.push((start, end));
        at = end;
    }
    match &protection.scheme {
        b"cenc" | b"piff" => {
            let mut ctr = ctr::Ctr64BE::<Aes128>::new(&key.0.into(), &iv16.into());
            for (a, b) in spans {
                ctr.try_apply_keystream(&mut data[a..b])
                    .map_err(|_| DrmError::Decrypt {
                        why: "keystream ran out",
                    })?;
            }
            Ok(())
        }
        b"cbcs" => {
            let (crypt, skip) = match (protection.crypt_byte_block, protection.skip_byte_block) {
                (0, 0) => (1usize, 0usize),
                (c, s) => (usize::from(c), usize::from(s)),
            };
            let mut blocks = Vec::new();
            for (a, b) in spans {
                // The encrypted blocks of the range, gathered into one CBC chain.
                blocks.clear();
                let mut offsets = Vec::new();
                let mut at = a;
                while at + 16 <= b {
                    for _ in 0..crypt {
                        if at + 16 > b {
                            break;
                        }
                        offsets.push(at);
                        blocks.extend_from_slice(&data[at..at + 16]);
                        at += 16;
                    }
                    at = at.saturating_add(16 * skip);
                }
                if blocks.is_empty() {
                    continue;
                }
                cbc::Decryptor::<Aes128>::new(&key.0.into(), &iv16.into())
                    .decrypt_padded::<NoPadding>(&mut blocks)
                    .map_err(|_| DrmError::Decrypt { why: "CBC" })?;
                for (i, off) in offsets.iter().enumerate() {
                    data[*off..*off + 16].copy_from_slice(&blocks[i * 16..i * 16 + 16]);
                }
            }
            Ok(())
        }
        other => Err(DrmError::Unsupported {
            what: format!("scheme {}", String::from_utf8_lossy(other)),
        }),
    }
}

/// Decrypts every encrypted access unit of `samples` in place, with the key `key_for` gives
/// for its track's default KID, and clears its encryption info. Returns how many it
/// decrypted. A unit whose key is missing is an error naming the key id.
pub fn decrypt_samples(
    samples: &mut Samples,
    key_for: impl Fn(&Kid) -> Option<ContentKey>,
) -> Result<usize, DrmError> {
    let mut n = 0;
    let Samples { configs, units } = samples;
    for unit in units.iter_mut() {
        if decrypt_unit(configs, unit, &key_for)? {
            n += 1;
        }
    }
    Ok(n)
}

fn decrypt_unit(
    configs: &[CodecConfig],
    unit: &mut AccessUnit,
    key_for: &impl Fn(&Kid) -> Option<ContentKey>,
) -> Result<bool, DrmError> {
    let Some(enc) = unit.encryption.take() else {
        return Ok(false);
    };
    let Some(protection) = configs
        .iter()
        .find(|c| c.track_id == unit.track_id)
        .and_then(|c| c.protection.as_ref())
    else {
        return Err(DrmError::Decrypt {
            why: "an encrypted sample of a track with no protection info",
        });
    };
    let kid = Kid(protection.default_kid);
    let key = key_for(&kid).ok_or(DrmError::MissingKey { kid })?;
    let iv = if enc.iv.is_empty() {
        protection.default_constant_iv.clone().unwrap_or_default()
    } else {
        enc.iv.clone()
    };
    let subsamples: Vec<(u32, u32)> = enc
        .subsamples
        .iter()
        .map(|s| (s.clear, s.protected))
        .collect();
    decrypt_sample(protection, &key, &iv, &subsamples, &mut unit.data)?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use cbc::cipher::BlockModeEncrypt;

    const KEY: [u8; 16] = *b"0123456789abcdef";

    #[test]
    fn hls_segments_decrypt_and_a_wrong_key_shows() {
        let plain: Vec<u8> = (0..1000u32).map(|i| (i % 251) as u8).collect();
        let iv = hls_iv(7);
        assert_eq!(iv[15], 7);
        let mut buf = plain.clone();
        buf.resize(1008, 0);
        let enc = cbc::Encryptor::<Aes128>::new(&KEY.into(), &iv.into())
            .encrypt_padded::<Pkcs7>(&mut buf, plain.len())
            .unwrap()
            .to_vec();
        let mut d = enc.clone();
        aes128_cbc_segment(&ContentKey::new(KEY), &iv, &mut d).unwrap();
        assert_eq!(d, plain);
        let mut bad = enc.clone();
        let wrong = aes128_cbc_segment(&ContentKey::new([9; 16]), &iv, &mut bad);
        assert_eq!(wrong, Err(DrmError::Decrypt { why: "bad padding" }));
        let mut cut = enc[..enc.len() - 3].to_vec();
        assert!(aes128_cbc_segment(&ContentKey::new(KEY), &iv, &mut cut).is_err());
        assert_eq!(format!("{:?}", ContentKey::new(KEY)), "ContentKey(..)");
    }

    fn media(path: &str) -> Vec<u8> {
        std::fs::read(format!(
            "{}/../conformance/media/{path}",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap()
    }

    #[test]
    fn shaka_packager_cenc_and_cbcs_decrypt_to_the_clear_samples() {
        use crate::media::{fragment_samples, parse_init};
        let kid = Kid::parse("00112233445566778899aabbccddeeff").unwrap();
        let key = ContentKey::new(0x0123_4567_89ab_cdef_0123_4567_89ab_cdef_u128.to_be_bytes());
        for (scheme, track, clear_dir) in [
            ("cenc", "144p", "v/144p"),
            ("cbcs", "144p", "v/144p"),
            ("cenc", "a", "a"),
            ("cbcs", "a", "a"),
        ] {
            let clear_init = parse_init(&media(&format!("{clear_dir}/init.mp4"))).unwrap();
            let clear =
                fragment_samples(&media(&format!("{clear_dir}/3.m4s")), &clear_init).unwrap();
            let enc_init = parse_init(&media(&format!("enc/{scheme}/{track}/init.mp4"))).unwrap();
            let seg = format!("enc/{scheme}/{track}/3.m4s");
            let mut enc = fragment_samples(&media(&seg), &enc_init).unwrap();
            assert_ne!(enc.units[0].data, clear.units[0].data);
            let n = decrypt_samples(&mut enc, |k| (*k == kid).then(|| key.clone())).unwrap();
            assert_eq!(n, clear.units.len());
            for (e, c) in enc.units.iter().zip(&clear.units) {
                assert_eq!(e.data, c.data, "{seg} sample at dts {}", c.dts);
                assert!(e.encryption.is_none());
            }
            // Another key id: a typed error naming it.
            let mut again = fragment_samples(&media(&seg), &enc_init).unwrap();
            assert_eq!(
                decrypt_samples(&mut again, |_| None),
                Err(DrmError::MissingKey { kid })
            );
        }
    }

    #[test]
    fn cbcs_pattern_leaves_skipped_and_partial_blocks_clear() {
        // 1:9 pattern over one protected range of 10 blocks and a 5-byte tail: only block 0
        // is encrypted.
        let prot = TrackProtection {
            scheme: *b"cbcs",
            default_kid: [0; 16],
            default_iv_size: 0,
            default_constant_iv: Some(vec![1; 16]),
            crypt_byte_block: 1,
            skip_byte_block: 9,
        };
        let plain: Vec<u8> = (0..(4 + 165)).map(|i| i as u8).collect();
        let mut data = plain.clone();
        cbc::Encryptor::<Aes128>::new(&KEY.into(), &[1u8; 16].into())
            .encrypt_padded::<NoPadding>(&mut data[4..20], 16)
            .unwrap();
        assert_ne!(data, plain);
        decrypt_sample(
            &prot,
            &ContentKey::new(KEY),
            &[1; 16],
            &[(4, 165)],
            &mut data,
        )
        .unwrap();
        assert_eq!(data, plain);
        // Past the sample: an error, not a panic.
        assert!(
            decrypt_sample(
                &prot,
                &ContentKey::new(KEY),
                &[1; 16],
                &[(4, 999)],
                &mut data
            )
            .is_err()
        );
    }
}
