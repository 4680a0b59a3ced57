//! HLS whole-segment encryption, `METHOD=AES-128` (RFC 8216 §5.2): AES-128-CBC over the
//! whole segment with PKCS#7 padding.

use cbc::cipher::block_padding::Pkcs7;
use cbc::cipher::{BlockModeEncrypt, KeyIvInit};

/// `data` encrypted under `key` with `iv`: AES-128-CBC, PKCS#7 padding (1 to 16 bytes added).
pub(crate) fn encrypt(key: &[u8; 16], iv: &[u8; 16], data: &[u8]) -> Vec<u8> {
    cbc::Encryptor::<aes::Aes128>::new(key.into(), iv.into()).encrypt_padded_vec::<Pkcs7>(data)
}

/// The IV of a segment whose `EXT-X-KEY` gives none: its media sequence number as a
/// 128-bit big-endian integer (RFC 8216 §5.2). Negative numbers do not occur.
pub(crate) fn sequence_iv(media_sequence: i64) -> [u8; 16] {
    u128::from(media_sequence.max(0).unsigned_abs()).to_be_bytes()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use cbc::cipher::BlockModeDecrypt;

    #[test]
    fn pads_and_round_trips() {
        let (key, iv) = ([7u8; 16], sequence_iv(0x0102));
        assert_eq!(iv[14..], [1, 2]);
        assert_eq!(iv[..14], [0; 14]);
        for len in [0usize, 1, 15, 16, 17, 188 * 7] {
            let data: Vec<u8> = (0..len).map(|i| i as u8).collect();
            let enc = encrypt(&key, &iv, &data);
            // PKCS#7 always pads: a whole block when the length is already a multiple.
            assert_eq!(enc.len(), (len / 16 + 1) * 16, "{len}");
            let dec = cbc::Decryptor::<aes::Aes128>::new(&key.into(), &iv.into())
                .decrypt_padded_vec::<Pkcs7>(&enc)
                .unwrap();
            assert_eq!(dec, data);
        }
    }

    #[test]
    fn matches_the_fips_197_aes_128_vector() {
        // FIPS-197 C.1: one block under a zero IV is plain AES; the padding block follows.
        let key: [u8; 16] = 0x0001_0203_0405_0607_0809_0a0b_0c0d_0e0f_u128.to_be_bytes();
        let plain: [u8; 16] = 0x0011_2233_4455_6677_8899_aabb_ccdd_eeff_u128.to_be_bytes();
        let enc = encrypt(&key, &[0; 16], &plain);
        assert_eq!(
            enc[..16],
            0x69c4_e0d8_6a7b_0430_d8cd_b780_70b4_c55a_u128.to_be_bytes()
        );
    }
}
