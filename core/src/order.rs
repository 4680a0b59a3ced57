//! One sort for the whole crate.
//!
//! Each `sort_by_key` call site instantiates the standard library's stable sort for its
//! own element type and key: about 4.5 kB of WebAssembly each, 60 kB for the crate's
//! thirteen sites (`cargo xtask wasm-size core::slice`). Here every caller maps its
//! elements to a `u128` key; the keys, paired with their positions, go through a single
//! instantiation, and the elements are then moved into that order. The sort stays stable:
//! equal keys keep their positions.

use crate::time::Micros;

/// Sorts `v` by `key`, stably.
pub(crate) fn sort_by_key<T>(v: &mut Vec<T>, key: impl Fn(&T) -> u128) {
    if v.len() < 2 {
        return;
    }
    let keys: Vec<(u128, usize)> = v.iter().enumerate().map(|(i, x)| (key(x), i)).collect();
    let order = positions(keys);
    let mut slots: Vec<Option<T>> = std::mem::take(v).into_iter().map(Some).collect();
    v.extend(
        order
            .into_iter()
            .filter_map(|i| slots.get_mut(i).and_then(Option::take)),
    );
}

/// The positions in key order (ties by position: `(key, position)` pairs are distinct, so
/// the unstable sort is stable here).
fn positions(mut keys: Vec<(u128, usize)>) -> Vec<usize> {
    keys.sort_unstable();
    keys.into_iter().map(|(_, i)| i).collect()
}

/// Two 64-bit keys, the first more significant.
pub(crate) fn pair(high: u64, low: u64) -> u128 {
    (u128::from(high) << 64) | u128::from(low)
}

/// A signed value as a key with the same order.
pub(crate) fn signed(x: i64) -> u64 {
    (x as u64) ^ (1 << 63)
}

/// A time as a key with the same order.
pub(crate) fn micros(t: Micros) -> u64 {
    signed(t.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sorts_stably_like_the_standard_sort() {
        // Pseudo-random keys with many ties, against `sort_by_key` (stable).
        let mut seed = 12345u64;
        let mut v: Vec<(u8, usize)> = (0..500)
            .map(|i| {
                seed = seed
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                ((seed >> 59) as u8, i)
            })
            .collect();
        let mut want = v.clone();
        want.sort_by_key(|x| x.0);
        sort_by_key(&mut v, |x| u128::from(x.0));
        assert_eq!(v, want);
    }

    #[test]
    fn keys_keep_the_order_of_their_values() {
        let ints = [i64::MIN, -5, -1, 0, 1, 7, i64::MAX];
        assert!(ints.windows(2).all(|w| signed(w[0]) < signed(w[1])));
        assert!(pair(1, 0) > pair(0, u64::MAX));
        assert!(micros(Micros(-1)) < micros(Micros(0)));
    }
}
