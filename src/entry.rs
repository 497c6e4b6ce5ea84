//! The entry API.

use allocator_api2::alloc::Allocator;

use crate::hash::MapHasher;
use crate::map::GoMap;
use crate::rand::RandSource;

/// A view into a single entry of a map, occupied or vacant ([`GoMap::entry`]).
pub enum Entry<'a, K, V, H, A: Allocator, R: RandSource> {
    /// The key is in the map.
    Occupied(OccupiedEntry<'a, K, V, H, A, R>),
    /// The key is not in the map.
    Vacant(VacantEntry<'a, K, V, H, A, R>),
}

/// An entry whose key is in the map.
pub struct OccupiedEntry<'a, K, V, H, A: Allocator, R: RandSource> {
    map: &'a mut GoMap<K, V, H, A, R>,
    hash: u64,
    key: K,
    b: *mut u8,
    i: usize,
}

/// An entry whose key is not in the map.
pub struct VacantEntry<'a, K, V, H, A: Allocator, R: RandSource> {
    map: &'a mut GoMap<K, V, H, A, R>,
    hash: u64,
    key: K,
}

impl<'a, K: PartialEq, V, H: MapHasher<K>, A: Allocator, R: RandSource> Entry<'a, K, V, H, A, R> {
    /// The value, inserting `default` if the key is absent.
    pub fn or_insert(self, default: V) -> &'a mut V {
        match self {
            Entry::Occupied(e) => e.into_mut(),
            Entry::Vacant(e) => e.insert(default),
        }
    }

    /// The value, inserting `f()` if the key is absent.
    pub fn or_insert_with<F: FnOnce() -> V>(self, f: F) -> &'a mut V {
        match self {
            Entry::Occupied(e) => e.into_mut(),
            Entry::Vacant(e) => e.insert(f()),
        }
    }

    /// The value, inserting `f(&key)` if the key is absent.
    pub fn or_insert_with_key<F: FnOnce(&K) -> V>(self, f: F) -> &'a mut V {
        match self {
            Entry::Occupied(e) => e.into_mut(),
            Entry::Vacant(e) => {
                let v = f(e.key());
                e.insert(v)
            }
        }
    }

    /// The value, inserting `V::default()` if the key is absent.
    pub fn or_default(self) -> &'a mut V
    where
        V: Default,
    {
        self.or_insert_with(V::default)
    }

    /// Calls `f` on the value if the key is present.
    pub fn and_modify<F: FnOnce(&mut V)>(mut self, f: F) -> Self {
        if let Entry::Occupied(e) = &mut self {
            f(e.get_mut());
        }
        self
    }

    /// The entry's key (the stored one if occupied).
    pub fn key(&self) -> &K {
        match self {
            Entry::Occupied(e) => e.key(),
            Entry::Vacant(e) => e.key(),
        }
    }
}

impl<'a, K: PartialEq, V, H: MapHasher<K>, A: Allocator, R: RandSource>
    OccupiedEntry<'a, K, V, H, A, R>
{
    pub(crate) fn new(
        map: &'a mut GoMap<K, V, H, A, R>,
        hash: u64,
        key: K,
        b: *mut u8,
        i: usize,
    ) -> Self {
        OccupiedEntry {
            map,
            hash,
            key,
            b,
            i,
        }
    }

    /// The stored key.
    pub fn key(&self) -> &K {
        // SAFETY: (b, i) is a live slot, kept alive by the exclusive borrow of the map.
        unsafe { &*self.map.raw.key_ptr(self.b, self.i) }
    }

    /// The value.
    pub fn get(&self) -> &V {
        // SAFETY: as in `key`.
        unsafe { &*self.map.raw.elem_ptr(self.b, self.i) }
    }

    /// The value, mutably.
    pub fn get_mut(&mut self) -> &mut V {
        // SAFETY: as in `key`; `&mut self` makes the reference unique.
        unsafe { &mut *self.map.raw.elem_ptr(self.b, self.i) }
    }

    /// The value, mutably, for the lifetime of the map borrow.
    pub fn into_mut(self) -> &'a mut V {
        // SAFETY: as in `get_mut`; the entry is consumed, so the reference stays unique.
        unsafe { &mut *self.map.raw.elem_ptr(self.b, self.i) }
    }

    /// Replaces the value in place and returns the old one.
    pub fn insert(&mut self, value: V) -> V {
        core::mem::replace(self.get_mut(), value)
    }

    /// Removes the entry (a Go delete, with its grow work) and returns the value.
    pub fn remove(self) -> V {
        self.remove_entry().1
    }

    /// Removes the entry and returns the stored key and the value.
    pub fn remove_entry(self) -> (K, V) {
        match self.map.remove_hashed(self.hash, &self.key) {
            Some(kv) => kv,
            None => unreachable!("an occupied entry's key is in the map"),
        }
    }
}

impl<'a, K: PartialEq, V, H: MapHasher<K>, A: Allocator, R: RandSource>
    VacantEntry<'a, K, V, H, A, R>
{
    pub(crate) fn new(map: &'a mut GoMap<K, V, H, A, R>, hash: u64, key: K) -> Self {
        VacantEntry { map, hash, key }
    }

    /// The key that would be inserted.
    pub fn key(&self) -> &K {
        &self.key
    }

    /// Takes the key back.
    pub fn into_key(self) -> K {
        self.key
    }

    /// Inserts the value (a Go assign) and returns it.
    pub fn insert(self, value: V) -> &'a mut V {
        self.map.insert_new_hashed(self.hash, self.key, value)
    }
}

impl<
        K: core::fmt::Debug + PartialEq,
        V: core::fmt::Debug,
        H: MapHasher<K>,
        A: Allocator,
        R: RandSource,
    > core::fmt::Debug for Entry<'_, K, V, H, A, R>
{
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Entry::Occupied(e) => f
                .debug_struct("OccupiedEntry")
                .field("key", e.key())
                .field("value", e.get())
                .finish(),
            Entry::Vacant(e) => f.debug_tuple("VacantEntry").field(e.key()).finish(),
        }
    }
}
