//! A small keyed hash for the guard's tables: a folded 64x64->128 multiply per word, seeded per
//! guard from the standard library's random hasher keys. Promises: fast for `u64` keys and not
//! predictable by peers (the seed is random per guard). Not a general-purpose or cryptographic
//! hash.

use std::hash::{BuildHasher, Hasher};

const K: u64 = 0x9E37_79B9_7F4A_7C15;

/// One mixing step: the folded product of `x` and an odd constant.
#[inline(always)]
pub(crate) fn fold_mul(x: u64, k: u64) -> u64 {
    let m = u128::from(x) * u128::from(k);
    (m as u64) ^ ((m >> 64) as u64)
}

/// A random per-process-instance seed.
pub(crate) fn random_seed() -> u64 {
    std::collections::hash_map::RandomState::new().hash_one(0x6e65_742d_6d65_7368_u64)
}

/// Builds [`MixHasher`]s that start from one seed.
#[derive(Clone, Copy, Debug)]
pub(crate) struct MixState {
    seed: u64,
}

impl MixState {
    pub(crate) fn new(seed: u64) -> MixState {
        MixState { seed }
    }
}

impl BuildHasher for MixState {
    type Hasher = MixHasher;
    #[inline]
    fn build_hasher(&self) -> MixHasher {
        MixHasher { h: self.seed }
    }
}

/// The hasher: each written word is xored in and mixed.
pub(crate) struct MixHasher {
    h: u64,
}

impl Hasher for MixHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut w = [0u8; 8];
            w[..chunk.len()].copy_from_slice(chunk);
            self.write_u64(u64::from_le_bytes(w));
        }
    }

    #[inline]
    fn write_u8(&mut self, x: u8) {
        self.write_u64(u64::from(x));
    }

    #[inline]
    fn write_u64(&mut self, x: u64) {
        self.h = fold_mul(self.h ^ x, K);
    }

    #[inline]
    fn finish(&self) -> u64 {
        self.h
    }
}

/// Builds [`PassHasher`]s, for keys that carry a hash computed beforehand.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct PassState;

impl BuildHasher for PassState {
    type Hasher = PassHasher;
    #[inline(always)]
    fn build_hasher(&self) -> PassHasher {
        PassHasher { h: 0 }
    }
}

/// A hasher that returns the last `u64` written (the key's precomputed, well-mixed hash).
pub(crate) struct PassHasher {
    h: u64,
}

impl Hasher for PassHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.h = fold_mul(self.h ^ u64::from(b), K);
        }
    }

    #[inline(always)]
    fn write_u64(&mut self, x: u64) {
        self.h = x;
    }

    #[inline(always)]
    fn finish(&self) -> u64 {
        self.h
    }
}
