//! Deterministic new identifiers, and the map from old sys_ids to new ones.
//!
//! A new value is a UUID v5 (from the project's namespace, the seed, the target host and the
//! old value) written as 32 lowercase hex digits, whose last 8 digits are a keyed tag of the
//! first 24. The tag makes regeneration idempotent: a value this seed and target already
//! generated is recognised and kept, so applying a plan to its own output changes nothing.

use std::collections::HashMap;
use std::hash::BuildHasherDefault;

use rustc_hash::FxHasher;
use sha1::{Digest, Sha1};
use uuid::Uuid;

/// The namespace all generated values derive from.
pub const NAMESPACE: Uuid = Uuid::from_bytes([
    0x6f, 0x1c, 0x2b, 0x9e, 0x51, 0x7a, 0x4d, 0x0b, 0x9a, 0x3e, 0x21, 0x5c, 0x80, 0x47, 0xd2, 0x13,
]);

/// Generates values for one seed and target.
///
/// ```
/// use sn_retarget::plan::ids::IdGen;
/// let g = IdGen::new("s1", "acme.service-now.com");
/// let old = "e31343e9c37c721038ef5375e40131ac";
/// let new = g.sys_id(old);
/// assert_eq!(new.len(), 32);
/// assert_ne!(new, old);
/// assert_eq!(new, IdGen::new("s1", "acme.service-now.com").sys_id(old)); // deterministic
/// assert!(g.is_generated(&new) && !g.is_generated(old));                  // recognisable
/// assert_ne!(new, IdGen::new("s2", "acme.service-now.com").sys_id(old)); // seeded
/// ```
#[derive(Debug, Clone)]
pub struct IdGen {
    /// The hash state after the namespace and the key (seed and target): every value's hash
    /// starts from it.
    keyed: Sha1,
}

impl IdGen {
    /// A generator for `seed` and the target host.
    pub fn new(seed: &str, target: &str) -> IdGen {
        let mut keyed = Sha1::new();
        keyed.update(NAMESPACE.as_bytes());
        keyed.update(format!("sn-retarget\0{seed}\0{target}\0").as_bytes());
        IdGen { keyed }
    }

    /// The UUID v5 of the namespace and the key followed by `parts`.
    fn v5(&self, parts: &[&[u8]]) -> [u8; 16] {
        let mut h = self.keyed.clone();
        for p in parts {
            h.update(p);
        }
        let digest = h.finalize();
        let mut bytes = [0u8; 16];
        bytes.copy_from_slice(&digest[..16]);
        uuid::Builder::from_sha1_bytes(bytes).into_uuid().into_bytes()
    }

    fn tagged(&self, kind: &str, old: &str) -> [u8; 16] {
        let mut bytes = self.v5(&[kind.as_bytes(), b"\0", old.as_bytes()]);
        let tag = self.tag(&bytes[..12]);
        bytes[12..].copy_from_slice(&tag);
        bytes
    }

    fn tag(&self, head: &[u8]) -> [u8; 4] {
        let b = self.v5(&[b"tag\0", head]);
        [b[0], b[1], b[2], b[3]]
    }

    /// The new sys_id for `old`.
    pub fn sys_id(&self, old: &str) -> String {
        hex(&self.tagged("sys_id", old))
    }

    /// [`IdGen::sys_id`], as the 32 bytes of its hex digits.
    pub fn sys_id_bytes(&self, old: &str) -> [u8; 32] {
        hex_bytes(&self.tagged("sys_id", old))
    }

    /// The new value of `old` in the column `table.field` (`--regenerate-field`).
    pub fn value(&self, table: &str, field: &str, old: &str) -> String {
        hex(&self.tagged(&format!("{table}.{field}"), old))
    }

    /// `true` when `value` is one this generator made (for any input).
    pub fn is_generated(&self, value: &str) -> bool {
        let Some(bytes) = unhex(value) else {
            return false;
        };
        bytes[12..] == self.tag(&bytes[..12])
    }
}

/// The bit of `fingerprint` in a filter of `len` bits (a power of two): its top bits.
fn filter_bit(fingerprint: u64, len: usize) -> usize {
    (fingerprint >> (64 - len.trailing_zeros())) as usize
}

fn hex(bytes: &[u8; 16]) -> String {
    String::from_utf8_lossy(&hex_bytes(bytes)).into_owned()
}

fn hex_bytes(bytes: &[u8; 16]) -> [u8; 32] {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = [0u8; 32];
    for (pair, b) in out.chunks_exact_mut(2).zip(bytes) {
        pair[0] = DIGITS[usize::from(b >> 4)];
        pair[1] = DIGITS[usize::from(b & 15)];
    }
    out
}

fn unhex(s: &str) -> Option<[u8; 16]> {
    let digit = |c: u8| char::from(c).to_digit(16).map(|d| d as u8);
    let bytes: &[u8; 32] = s.as_bytes().try_into().ok()?;
    let mut out = [0u8; 16];
    for (o, pair) in out.iter_mut().zip(bytes.chunks_exact(2)) {
        *o = digit(pair[0])? << 4 | digit(pair[1])?;
    }
    Some(out)
}

/// Old sys_id -> new sys_id, as 32-byte ASCII keys for fast lookup while scanning text.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IdMap {
    map: HashMap<IdKey, [u8; 32], BuildHasherDefault<FxHasher>>,
    /// The keys' [`fingerprint`]s, for [`IdMap::may_map`].
    filter: Filter,
}

/// A bitset of fingerprints, made on first use after the map last changed. Most sys_id-shaped
/// tokens of an export are not in the map (update guids, hashes): a bit in a small table says
/// so without reading the token again or probing the map.
#[derive(Default, Clone)]
struct Filter(std::sync::OnceLock<Vec<u64>>);

impl PartialEq for Filter {
    /// A cache of the map: maps are equal whatever their filters hold.
    fn eq(&self, _: &Filter) -> bool {
        true
    }
}

impl Eq for Filter {}

impl std::fmt::Debug for Filter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Filter")
    }
}

/// A 32-byte token's fingerprint for [`IdMap::may_map`]: the same for a sys_id written in
/// either letter case (`| 0x20` lowers `A`-`F` and keeps digits).
pub(crate) fn fingerprint(token: &[u8; 32]) -> u64 {
    fold(token, 0x2020_2020_2020_2020).wrapping_mul(0x9E37_79B9_7F4A_7C15)
}

/// The four words of a 32-byte id, each or-ed with `or`, folded into one.
fn fold(id: &[u8; 32], or: u64) -> u64 {
    let word = |k: usize| {
        let mut w = [0u8; 8];
        w.copy_from_slice(&id[8 * k..8 * k + 8]);
        u64::from_le_bytes(w) | or
    };
    word(0) ^ word(1).rotate_left(16) ^ word(2).rotate_left(32) ^ word(3).rotate_left(48)
}

/// A sys_id as a map key, hashed as one word folded from its four: sys_ids are random hex, so
/// this spreads them as well as hashing every byte would, at a quarter of the work.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct IdKey([u8; 32]);

impl std::hash::Hash for IdKey {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        state.write_u64(fold(&self.0, 0));
    }
}

impl IdMap {
    /// Adds (or replaces) `old -> new`; both must be 32 ASCII characters.
    pub fn insert(&mut self, old: &str, new: &str) {
        if let (Ok(o), Ok(n)) = (old.as_bytes().try_into(), new.as_bytes().try_into()) {
            self.insert_bytes(o, n);
        }
    }

    /// [`IdMap::insert`], from the ids' bytes.
    pub fn insert_bytes(&mut self, old: [u8; 32], new: [u8; 32]) {
        self.filter = Filter::default();
        if old != new {
            self.map.insert(IdKey(old), new);
        } else {
            self.map.remove(&IdKey(old));
        }
    }

    /// `false` when no token of fingerprint `token` ([`fingerprint`]) is mapped, in either
    /// letter case; `true` when one may be ([`map_token`](super::tokens::map_token) says).
    pub(crate) fn may_map(&self, token: u64) -> bool {
        let bits = self.filter.0.get_or_init(|| {
            if self.map.is_empty() {
                return Vec::new();
            }
            // 16 bits per key: about one token in 16 that is not mapped passes.
            let len = (self.map.len() * 16).next_power_of_two().max(64);
            let mut bits = vec![0u64; len / 64];
            for key in self.map.keys() {
                let at = filter_bit(fingerprint(&key.0), len);
                bits[at / 64] |= 1 << (at % 64);
            }
            bits
        });
        if bits.is_empty() {
            return false;
        }
        let at = filter_bit(token, bits.len() * 64);
        bits[at / 64] & (1 << (at % 64)) != 0
    }

    /// Makes room for `more` entries.
    pub fn reserve(&mut self, more: usize) {
        self.map.reserve(more);
    }

    /// The new id of `old`, if it is mapped.
    pub fn get(&self, old: &[u8]) -> Option<&[u8; 32]> {
        let key: &[u8; 32] = old.try_into().ok()?;
        self.map.get(&IdKey(*key))
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// `true` when nothing is mapped.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// The pairs, sorted by old id.
    pub fn pairs(&self) -> impl Iterator<Item = (&str, &str)> {
        let mut pairs: Vec<_> = self.map.iter().collect();
        rayon::slice::ParallelSliceMut::par_sort_unstable(&mut pairs[..]);
        pairs.into_iter().map(|(o, n)| {
            (
                std::str::from_utf8(&o.0).unwrap_or_default(),
                std::str::from_utf8(n).unwrap_or_default(),
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::{IdGen, IdMap, fingerprint};

    fn token(s: &str) -> &[u8; 32] {
        s.as_bytes().try_into().unwrap()
    }

    #[test]
    fn the_filter_passes_every_mapped_token_in_either_case_and_follows_changes() {
        let g = IdGen::new("s", "t");
        let mut map = IdMap::default();
        assert!(!map.may_map(fingerprint(token("0123456789abcdef0123456789abcdef"))));
        let olds: Vec<String> = (0..500).map(|k| g.value("x", "y", &k.to_string())).collect();
        for old in &olds[..250] {
            map.insert(old, &g.sys_id(old));
        }
        let passes = |map: &IdMap, s: &str| map.may_map(fingerprint(token(s)));
        for old in &olds[..250] {
            assert!(passes(&map, old) && passes(&map, &old.to_ascii_uppercase()));
        }
        // Most others are told apart (16 bits per key).
        let passed = olds[250..].iter().filter(|o| passes(&map, o)).count();
        assert!(passed < 50, "{passed} of 250 unmapped tokens passed");
        // A change after the filter was made is seen.
        map.insert(&olds[400], &g.sys_id(&olds[400]));
        assert!(passes(&map, &olds[400]));
    }
}
