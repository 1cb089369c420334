//! Which entries of a list repeat an earlier entry's address: exact, in
//! linear time, with about two bytes of scratch per entry instead of a hash
//! set of every address (which costs about 18 bytes per entry).
//!
//! Two bitmaps of `8n` bits (`n` entries): each address hashes to one bit.
//! The first pass sets a bit in `seen` for each entry, and in `shared` when
//! the bit was already seen: an address that repeats always lands on a
//! shared bit. The second pass puts only the entries on shared bits (about
//! 12% of them with `8n` bits, fewer when addresses repeat) into a hash set
//! of addresses, which decides exactly. With no shared bit there is no
//! repeat, and no second pass.

use std::collections::HashSet;

/// Fibonacci hashing: the high bits of the product spread addresses that
/// differ by a small stride (a run of allocations) over the whole bitmap.
const GOLDEN: u64 = 0x9E37_79B9_7F4A_7C15;

/// Hashes an address for a `HashSet` of addresses: Fibonacci hashing, with
/// the product's high half folded into the low one (the table takes its
/// slot from the low bits, which the product alone leaves at zero for
/// aligned addresses). An address is not attacker-chosen: no SipHash needed.
#[derive(Default)]
pub(super) struct AddrHasher(u64);

impl std::hash::Hasher for AddrHasher {
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.write_u64(u64::from(b));
        }
    }

    fn write_usize(&mut self, addr: usize) {
        self.write_u64(addr as u64);
    }

    fn write_u64(&mut self, x: u64) {
        let p = (self.0 ^ x).wrapping_mul(GOLDEN);
        self.0 = p ^ (p >> 32);
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

/// The `BuildHasher` of [`AddrHasher`].
pub(super) type AddrHash = std::hash::BuildHasherDefault<AddrHasher>;

/// A bitmap of `2^k` bits with the slot function of addresses onto it.
struct Bits {
    words: Vec<u64>,
    /// `64 - k`: the product's top `k` bits are the slot.
    shift: u32,
}

impl Bits {
    /// At least 64 bits, and at least `8n`, a power of two.
    fn for_entries(n: usize) -> Bits {
        let bits = n.saturating_mul(8).next_power_of_two().max(64);
        Bits {
            words: vec![0; bits / 64],
            shift: 64 - bits.trailing_zeros(),
        }
    }

    fn slot(&self, addr: usize) -> (usize, u64) {
        let s = ((addr as u64).wrapping_mul(GOLDEN) >> self.shift) as usize;
        (s / 64, 1 << (s % 64))
    }
}

/// The indices (ascending) of the entries whose address equals an earlier
/// entry's, for `n` entries whose addresses `addr(i)` gives.
pub(super) fn repeats(n: usize, addr: impl Fn(usize) -> usize) -> Vec<usize> {
    if n < 2 {
        return Vec::new();
    }
    let mut seen = Bits::for_entries(n);
    let mut shared = vec![0u64; seen.words.len()];
    let mut any = false;
    for i in 0..n {
        let (w, b) = seen.slot(addr(i));
        if seen.words[w] & b == 0 {
            seen.words[w] |= b;
        } else {
            shared[w] |= b;
            any = true;
        }
    }
    if !any {
        return Vec::new();
    }
    // Only the slot function is needed from here: free the bits first.
    seen.words = Vec::new();
    let mut first = HashSet::new();
    let mut repeats = Vec::new();
    for i in 0..n {
        let a = addr(i);
        let (w, b) = seen.slot(a);
        if shared[w] & b != 0 && !first.insert(a) {
            repeats.push(i);
        }
    }
    repeats
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::repeats;

    #[test]
    fn repeats_are_the_later_copies_of_an_address() {
        assert!(repeats(0, |_| 0).is_empty());
        assert!(repeats(1, |_| 0).is_empty());
        let addrs = [16, 32, 16, 48, 32, 16, 64];
        assert_eq!(repeats(addrs.len(), |i| addrs[i]), vec![2, 4, 5]);
    }

    #[test]
    fn many_distinct_addresses_have_no_repeat_and_every_copy_is_found() {
        // Enough entries for many shared bits; fewer under Miri, which is
        // about a thousand times slower.
        let n = if cfg!(miri) { 2_000 } else { 100_000 };
        let addr = |i: usize| 0x7f00_0000_0000 + 96 * (i % n);
        assert!(repeats(n, addr).is_empty());
        let twice: Vec<usize> = (n..2 * n).collect();
        assert_eq!(repeats(2 * n, addr), twice);
    }
}
