//! [`IdMap`]: the by-id map behind the CortEX models, fast for increasing ids.
//!
//! Promises: it behaves like a `BTreeMap<u64, V>` for what the models use (lookup, insert of
//! a new id, remove, length, iteration in ascending or descending id order), and it
//! serializes exactly as a `BTreeMap<u64, V>` does (a map in ascending id order), so model
//! snapshots keep their bytes.
//!
//! Why it exists: ids usually increase (counters, timestamps). The standard `BTreeMap`
//! searches each node from its smallest key, so a new largest id is compared with every key
//! on the path from the root to the rightmost leaf (about 11 per level, 70-80 comparisons
//! at 200k entries; a third of the tasks fold's time). Keys are stored in descending order
//! here, so a new largest id stops at the first key of every node (one comparison per level).
//!
//! Does not promise: the same speed-up for decreasing ids (they take the slow path that
//! increasing ids take in a plain `BTreeMap`); random ids cost the same as before.

use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::collections::btree_map::Entry;

use serde::de::{Deserialize, Deserializer, MapAccess, Visitor};
use serde::ser::{Serialize, Serializer};

/// A `u64` ordered from largest to smallest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct Desc(u64);

impl Ord for Desc {
    #[inline]
    fn cmp(&self, other: &Self) -> Ordering {
        other.0.cmp(&self.0)
    }
}

impl PartialOrd for Desc {
    #[inline]
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// A map from `u64` ids to `V`; see the module docs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct IdMap<V> {
    m: BTreeMap<Desc, V>,
}

impl<V> Default for IdMap<V> {
    fn default() -> Self {
        IdMap { m: BTreeMap::new() }
    }
}

impl<V> IdMap<V> {
    /// The value of `id`.
    #[inline]
    pub fn get(&self, id: u64) -> Option<&V> {
        self.m.get(&Desc(id))
    }

    /// The value of `id`, mutably.
    #[inline]
    pub fn get_mut(&mut self, id: u64) -> Option<&mut V> {
        self.m.get_mut(&Desc(id))
    }

    /// Inserts `make()` under `id` if `id` is absent (one search); returns whether it did.
    #[inline]
    pub fn insert_new(&mut self, id: u64, make: impl FnOnce() -> V) -> bool {
        match self.m.entry(Desc(id)) {
            Entry::Occupied(_) => false,
            Entry::Vacant(v) => {
                v.insert(make());
                true
            }
        }
    }

    /// Removes `id`; returns its value.
    pub fn remove(&mut self, id: u64) -> Option<V> {
        self.m.remove(&Desc(id))
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.m.len()
    }

    /// Whether there are no entries.
    pub fn is_empty(&self) -> bool {
        self.m.is_empty()
    }

    /// Values in ascending id order (`.rev()` for descending).
    pub fn values(&self) -> impl DoubleEndedIterator<Item = &V> + ExactSizeIterator + '_ {
        self.m.values().rev()
    }

    /// `(id, value)` in ascending id order.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = (u64, &V)> + ExactSizeIterator + '_ {
        self.m.iter().rev().map(|(k, v)| (k.0, v))
    }
}

impl<V> FromIterator<(u64, V)> for IdMap<V> {
    fn from_iter<I: IntoIterator<Item = (u64, V)>>(iter: I) -> Self {
        IdMap {
            m: iter.into_iter().map(|(k, v)| (Desc(k), v)).collect(),
        }
    }
}

impl<V: Serialize> Serialize for IdMap<V> {
    /// As a `BTreeMap<u64, V>`: a map in ascending id order.
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_map(self.iter())
    }
}

impl<'de, V: Deserialize<'de>> Deserialize<'de> for IdMap<V> {
    /// From any map of `u64` to `V` (as a `BTreeMap<u64, V>` reads it: a repeated id keeps
    /// the last value).
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V_<V>(std::marker::PhantomData<V>);
        impl<'de, V: Deserialize<'de>> Visitor<'de> for V_<V> {
            type Value = IdMap<V>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a map of u64 ids")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut a: A) -> Result<IdMap<V>, A::Error> {
                let mut m = BTreeMap::new();
                while let Some((k, v)) = a.next_entry::<u64, V>()? {
                    m.insert(Desc(k), v);
                }
                Ok(IdMap { m })
            }
        }
        d.deserialize_map(V_(std::marker::PhantomData))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn xorshift(x: &mut u64) -> u64 {
        *x ^= *x << 13;
        *x ^= *x >> 7;
        *x ^= *x << 17;
        *x
    }

    #[test]
    fn behaves_like_a_btreemap_and_serializes_the_same() {
        let mut rng = 0x1234_5678_9ABC_DEF1u64;
        let mut ours: IdMap<u32> = IdMap::default();
        let mut reference: BTreeMap<u64, u32> = BTreeMap::new();
        for step in 0..20_000u32 {
            let r = xorshift(&mut rng);
            // Mostly increasing ids, some random and some repeated ones.
            let id = match r % 4 {
                0 => r % 512,
                _ => u64::from(step),
            };
            match (r >> 8) % 5 {
                0 => assert_eq!(ours.remove(id), reference.remove(&id), "step {step}"),
                1 => {
                    if let (Some(a), Some(b)) = (ours.get_mut(id), reference.get_mut(&id)) {
                        *a += 1;
                        *b += 1;
                    }
                }
                _ => {
                    let fresh = !reference.contains_key(&id);
                    if fresh {
                        reference.insert(id, step);
                    }
                    assert_eq!(ours.insert_new(id, || step), fresh, "step {step}");
                }
            }
            assert_eq!(ours.get(id), reference.get(&id));
        }
        assert_eq!(ours.len(), reference.len());
        assert!(ours.values().eq(reference.values()));
        assert!(ours.values().rev().eq(reference.values().rev()));
        assert!(ours.iter().eq(reference.iter().map(|(k, v)| (*k, v))));
        let bytes = postcard::to_allocvec(&ours).unwrap();
        assert_eq!(bytes, postcard::to_allocvec(&reference).unwrap());
        let back: IdMap<u32> = postcard::from_bytes(&bytes).unwrap();
        assert_eq!(back, ours);
        let json = serde_json::to_string(&ours).unwrap();
        assert_eq!(json, serde_json::to_string(&reference).unwrap());
        assert_eq!(serde_json::from_str::<IdMap<u32>>(&json).unwrap(), ours);
        let empty: IdMap<u32> = IdMap::default();
        assert!(empty.is_empty() && empty.values().next().is_none());
    }

    #[test]
    fn collects_from_pairs_in_any_order() {
        let m: IdMap<&str> = [(3, "c"), (1, "a"), (2, "b")].into_iter().collect();
        assert_eq!(m.values().copied().collect::<Vec<_>>(), ["a", "b", "c"]);
    }
}
