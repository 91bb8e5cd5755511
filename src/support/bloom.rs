//! A fixed-size Bloom filter: whether a key may have been seen, in flat memory, for the
//! imports' checks that spare a lookup for keys never seen before.

/// A blocked Bloom filter of fixed size (8 MiB): whether a key may have been inserted
/// before. Its four bits lie in one 64-bit word, so an insert costs one cache miss. False
/// positives only cost a re-check; memory stays flat whatever the file size.
pub struct Bloom {
    words: Vec<u64>,
}

impl Bloom {
    const WORDS: usize = 1 << 20;

    /// An empty filter.
    pub fn new() -> Self {
        Bloom {
            words: vec![0; Self::WORDS],
        }
    }

    /// The word and the bits of `key`.
    fn slot(key: &str) -> (usize, u64) {
        let h = std::hash::BuildHasher::hash_one(
            &std::hash::BuildHasherDefault::<std::hash::DefaultHasher>::default(),
            key,
        )
        .wrapping_mul(0x9E37_79B9_7F4A_7C15);
        // 20 bits choose the word, four 6-bit fields the bits in it.
        let w = (h >> 44) as usize % Self::WORDS;
        let mask = (0..4).fold(0u64, |m, i| m | 1 << ((h >> (i * 6)) & 63));
        (w, mask)
    }

    /// Inserts `key`; returns whether it may have been there already.
    pub fn insert(&mut self, key: &str) -> bool {
        let (w, mask) = Self::slot(key);
        let present = self.words[w] & mask == mask;
        self.words[w] |= mask;
        present
    }

    /// Whether `key` may have been inserted (never `false` for one that was).
    pub fn may_contain(&self, key: &str) -> bool {
        let (w, mask) = Self::slot(key);
        self.words[w] & mask == mask
    }
}

impl Default for Bloom {
    fn default() -> Self {
        Self::new()
    }
}
