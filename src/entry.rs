//! The entry API: [`GoMap::entry`] (by owned key) and [`GoMap::entry_ref`] (by borrowed key).

use core::fmt;
use core::ptr;

use allocator_api2::alloc::Allocator;

use crate::error::handle_error;
use crate::hash::{MapHasher, MapLookup};
use crate::map::GoMap;
use crate::rand::RandSource;

/// A view into a single entry of a map, occupied or vacant ([`GoMap::entry`]).
pub enum Entry<'a, K, V, H, A: Allocator, R: RandSource> {
    /// The key is in the map.
    Occupied(OccupiedEntry<'a, K, V, H, A, R>),
    /// The key is not in the map.
    Vacant(VacantEntry<'a, K, V, H, A, R>),
}

/// An entry whose key is in the map: the slot it was found in, kept valid by the exclusive
/// borrow of the map.
pub struct OccupiedEntry<'a, K, V, H, A: Allocator, R: RandSource> {
    map: &'a mut GoMap<K, V, H, A, R>,
    hash: u64,
    b: *mut u8,
    i: usize,
}

/// An entry whose key is not in the map.
pub struct VacantEntry<'a, K, V, H, A: Allocator, R: RandSource> {
    map: &'a mut GoMap<K, V, H, A, R>,
    hash: u64,
    key: K,
}

/// A view into a single entry of a map, found by a borrowed key ([`GoMap::entry_ref`]): the key
/// is turned into an owned `K` (with `K: From<&Q>`) only if a vacant entry is filled.
pub enum EntryRef<'a, 'b, K, Q: ?Sized, V, H, A: Allocator, R: RandSource> {
    /// The key is in the map.
    Occupied(OccupiedEntry<'a, K, V, H, A, R>),
    /// The key is not in the map.
    Vacant(VacantEntryRef<'a, 'b, K, Q, V, H, A, R>),
}

/// An entry of [`GoMap::entry_ref`] whose key is not in the map.
pub struct VacantEntryRef<'a, 'b, K, Q: ?Sized, V, H, A: Allocator, R: RandSource> {
    map: &'a mut GoMap<K, V, H, A, R>,
    hash: u64,
    key: &'b Q,
}

/// The error of [`GoMap::try_insert`]: the key is in the map. Holds its entry and the value
/// that was not inserted; the map is unchanged.
pub struct OccupiedError<'a, K, V, H, A: Allocator, R: RandSource> {
    /// The entry of the key, which is in the map.
    pub entry: OccupiedEntry<'a, K, V, H, A, R>,
    /// The value that was not inserted.
    pub value: V,
}

impl<K: fmt::Debug + PartialEq, V: fmt::Debug, H: MapHasher<K>, A: Allocator, R: RandSource>
    fmt::Debug for OccupiedError<'_, K, V, H, A, R>
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OccupiedError")
            .field("key", self.entry.key())
            .field("old_value", self.entry.get())
            .field("new_value", &self.value)
            .finish()
    }
}

impl<K: fmt::Debug + PartialEq, V: fmt::Debug, H: MapHasher<K>, A: Allocator, R: RandSource>
    fmt::Display for OccupiedError<'_, K, V, H, A, R>
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "failed to insert {:?}, key {:?} already exists with value {:?}",
            self.value,
            self.entry.key(),
            self.entry.get(),
        )
    }
}

impl<K: fmt::Debug + PartialEq, V: fmt::Debug, H: MapHasher<K>, A: Allocator, R: RandSource>
    core::error::Error for OccupiedError<'_, K, V, H, A, R>
{
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

    /// Sets the value (inserting the key if it is absent) and returns the occupied entry
    /// (std's `Entry::insert_entry`).
    pub fn insert_entry(self, value: V) -> OccupiedEntry<'a, K, V, H, A, R> {
        match self {
            Entry::Occupied(mut e) => {
                e.insert(value);
                e
            }
            Entry::Vacant(e) => e.insert_entry(value),
        }
    }

    /// Sets the value and returns the occupied entry: hashbrown's name for
    /// [`insert_entry`](Self::insert_entry).
    pub fn insert(self, value: V) -> OccupiedEntry<'a, K, V, H, A, R> {
        self.insert_entry(value)
    }

    /// If the key is present, calls `f` with the key and the value, and keeps what it returns
    /// as the new value, or removes the entry if it returns `None` (hashbrown's
    /// `Entry::and_replace_entry_with`). A vacant entry is returned as it is.
    pub fn and_replace_entry_with<F: FnOnce(&K, V) -> Option<V>>(self, f: F) -> Self {
        match self {
            Entry::Occupied(e) => e.replace_entry_with(f),
            vacant => vacant,
        }
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
    /// An entry for the live slot (b, i), found by `find` for a key with `hash`.
    pub(crate) fn new(map: &'a mut GoMap<K, V, H, A, R>, hash: u64, b: *mut u8, i: usize) -> Self {
        OccupiedEntry { map, hash, b, i }
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

    /// Removes the entry and returns the stored key and the value: Go's `delete(m, k)`, the
    /// same bytes as [`GoMap::remove`] (the grow work first, which may move the entry into
    /// the new array, where it is then deleted), without comparing keys again.
    pub fn remove_entry(self) -> (K, V) {
        let head = self.map.raw.chain_head(self.hash);
        // SAFETY: `find` returned (b, i) in the chain `chain_head` names, for a key with this
        // hash, and the map has not changed since (the entry borrows it exclusively).
        match unsafe {
            self.map
                .raw
                .delete_found(self.hash, head, self.b, self.i, crate::map::take_kv)
        } {
            Ok(kv) => kv,
            Err(e) => handle_error(e),
        }
    }

    /// Calls `f` with the key and the value (moved out), and keeps what it returns as the new
    /// value (an `Occupied` entry), or removes the entry if it returns `None` (a `Vacant` entry
    /// for the same key). hashbrown's `OccupiedEntry::replace_entry_with`.
    ///
    /// If `f` panics, the entry is removed (its value was moved into `f`, which dropped it);
    /// the map stays consistent.
    pub fn replace_entry_with<F: FnOnce(&K, V) -> Option<V>>(
        self,
        f: F,
    ) -> Entry<'a, K, V, H, A, R> {
        /// While the value is moved out, a panic in `f` (or in the grow work of the removal)
        /// removes the slot by position, dropping only the key.
        struct Vacate<'g, 'a, K: PartialEq, V, H: MapHasher<K>, A: Allocator, R: RandSource> {
            e: &'g mut OccupiedEntry<'a, K, V, H, A, R>,
        }
        impl<K: PartialEq, V, H: MapHasher<K>, A: Allocator, R: RandSource> Drop
            for Vacate<'_, '_, K, V, H, A, R>
        {
            fn drop(&mut self) {
                let e = &mut *self.e;
                let head = e.map.raw.chain_head(e.hash);
                // SAFETY: (b, i) is still the entry's live slot in the chain of `head` (the
                // grow work of a removal is all-or-nothing, so a panic in it moved nothing);
                // its value was moved out, so `take` drops only the key.
                unsafe {
                    e.map
                        .raw
                        .delete_at(head, e.b, e.i, |k, _| drop(ptr::read(k)));
                }
            }
        }
        let mut e = self;
        // SAFETY: (b, i) is live; the value is read out, and until it is written back or the
        // slot is removed, the guard owns the slot's state.
        let v = unsafe { ptr::read(e.map.raw.elem_ptr(e.b, e.i)) };
        let g = Vacate { e: &mut e };
        let r = f(g.e.key(), v);
        match r {
            Some(v) => {
                core::mem::forget(g);
                // SAFETY: the slot's value was moved out above; this puts one back.
                unsafe { ptr::write(e.map.raw.elem_ptr(e.b, e.i), v) };
                Entry::Occupied(e)
            }
            None => {
                let head = g.e.map.raw.chain_head(g.e.hash);
                // SAFETY: as in `remove_entry`; the value was moved out, so `take` reads only
                // the key. On a panic in the grow work, the guard removes the slot.
                let r = unsafe {
                    g.e.map
                        .raw
                        .delete_found(g.e.hash, head, g.e.b, g.e.i, |k, _| ptr::read(k))
                };
                core::mem::forget(g);
                match r {
                    Ok(key) => Entry::Vacant(VacantEntry::new(e.map, e.hash, key)),
                    Err(err) => {
                        // Nothing moved: take the slot out by position, then report.
                        let head = e.map.raw.chain_head(e.hash);
                        // SAFETY: as in the guard.
                        unsafe {
                            e.map
                                .raw
                                .delete_at(head, e.b, e.i, |k, _| drop(ptr::read(k)));
                        }
                        handle_error(err)
                    }
                }
            }
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
        self.insert_entry(value).into_mut()
    }

    /// Inserts the value (a Go assign) and returns the occupied entry (std's
    /// `VacantEntry::insert_entry`).
    pub fn insert_entry(self, value: V) -> OccupiedEntry<'a, K, V, H, A, R> {
        let (b, i) = self.map.insert_new_hashed(self.hash, self.key, value);
        OccupiedEntry::new(self.map, self.hash, b, i)
    }
}

impl<'a, 'b, K: PartialEq, Q: ?Sized, V, H: MapHasher<K> + MapLookup<K, Q>, A: Allocator, R>
    EntryRef<'a, 'b, K, Q, V, H, A, R>
where
    R: RandSource,
{
    /// Sets the value (inserting `K::from(key)` if the key is absent) and returns the
    /// occupied entry (hashbrown's `EntryRef::insert`).
    pub fn insert(self, value: V) -> OccupiedEntry<'a, K, V, H, A, R>
    where
        K: From<&'b Q>,
    {
        match self {
            EntryRef::Occupied(mut e) => {
                e.insert(value);
                e
            }
            EntryRef::Vacant(e) => e.insert_entry(value),
        }
    }

    /// The value, inserting `K::from(key) → default` if the key is absent.
    pub fn or_insert(self, default: V) -> &'a mut V
    where
        K: From<&'b Q>,
    {
        match self {
            EntryRef::Occupied(e) => e.into_mut(),
            EntryRef::Vacant(e) => e.insert(default),
        }
    }

    /// The value, inserting `K::from(key) → f()` if the key is absent.
    pub fn or_insert_with<F: FnOnce() -> V>(self, f: F) -> &'a mut V
    where
        K: From<&'b Q>,
    {
        match self {
            EntryRef::Occupied(e) => e.into_mut(),
            EntryRef::Vacant(e) => e.insert(f()),
        }
    }

    /// The value, inserting `K::from(key) → f(key)` if the key is absent.
    pub fn or_insert_with_key<F: FnOnce(&Q) -> V>(self, f: F) -> &'a mut V
    where
        K: From<&'b Q>,
    {
        match self {
            EntryRef::Occupied(e) => e.into_mut(),
            EntryRef::Vacant(e) => {
                let v = f(e.key);
                e.insert(v)
            }
        }
    }

    /// The value, inserting `V::default()` if the key is absent.
    pub fn or_default(self) -> &'a mut V
    where
        K: From<&'b Q>,
        V: Default,
    {
        self.or_insert_with(V::default)
    }

    /// Calls `f` on the value if the key is present.
    pub fn and_modify<F: FnOnce(&mut V)>(mut self, f: F) -> Self {
        if let EntryRef::Occupied(e) = &mut self {
            f(e.get_mut());
        }
        self
    }

    /// The lookup key (for an occupied entry, the stored key, borrowed as `Q`).
    pub fn key(&self) -> &Q
    where
        K: core::borrow::Borrow<Q>,
    {
        match self {
            EntryRef::Occupied(e) => e.key().borrow(),
            EntryRef::Vacant(e) => e.key,
        }
    }
}

impl<'a, 'b, K: PartialEq, Q: ?Sized, V, H: MapHasher<K> + MapLookup<K, Q>, A: Allocator, R>
    VacantEntryRef<'a, 'b, K, Q, V, H, A, R>
where
    R: RandSource,
{
    pub(crate) fn new(map: &'a mut GoMap<K, V, H, A, R>, hash: u64, key: &'b Q) -> Self {
        VacantEntryRef { map, hash, key }
    }

    /// The lookup key.
    pub fn key(&self) -> &'b Q {
        self.key
    }

    /// Inserts `K::from(key) → value` (a Go assign) and returns the value.
    pub fn insert(self, value: V) -> &'a mut V
    where
        K: From<&'b Q>,
    {
        self.insert_entry(value).into_mut()
    }

    /// Inserts `K::from(key) → value` and returns the occupied entry.
    pub fn insert_entry(self, value: V) -> OccupiedEntry<'a, K, V, H, A, R>
    where
        K: From<&'b Q>,
    {
        let key = K::from(self.key);
        self.insert_entry_with_key(key, value)
    }

    /// Inserts `key → value`, with a key made by the caller, and returns the value. `key` must
    /// be equivalent to the lookup key (checked: it panics otherwise).
    pub fn insert_with_key(self, key: K, value: V) -> &'a mut V {
        self.insert_entry_with_key(key, value).into_mut()
    }

    /// Inserts `key → value`, with a key made by the caller, and returns the occupied entry.
    /// `key` must be equivalent to the lookup key (checked: it panics otherwise).
    pub fn insert_entry_with_key(self, key: K, value: V) -> OccupiedEntry<'a, K, V, H, A, R> {
        assert!(
            H::equivalent(self.key, &key),
            "gomap: the key of a vacant entry_ref insert is not equivalent to its lookup key"
        );
        let (b, i) = self.map.insert_new_hashed(self.hash, key, value);
        OccupiedEntry::new(self.map, self.hash, b, i)
    }
}

impl<K: fmt::Debug + PartialEq, V: fmt::Debug, H: MapHasher<K>, A: Allocator, R: RandSource>
    fmt::Debug for Entry<'_, K, V, H, A, R>
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Entry::Occupied(e) => f.debug_tuple("Entry").field(e).finish(),
            Entry::Vacant(e) => f.debug_tuple("Entry").field(e).finish(),
        }
    }
}

impl<K: fmt::Debug + PartialEq, V: fmt::Debug, H: MapHasher<K>, A: Allocator, R: RandSource>
    fmt::Debug for OccupiedEntry<'_, K, V, H, A, R>
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OccupiedEntry")
            .field("key", self.key())
            .field("value", self.get())
            .finish_non_exhaustive()
    }
}

impl<K: fmt::Debug, V, H, A: Allocator, R: RandSource> fmt::Debug
    for VacantEntry<'_, K, V, H, A, R>
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("VacantEntry").field(&self.key).finish()
    }
}

impl<K, Q, V, H, A, R> fmt::Debug for EntryRef<'_, '_, K, Q, V, H, A, R>
where
    K: fmt::Debug + PartialEq,
    Q: ?Sized + fmt::Debug,
    V: fmt::Debug,
    H: MapHasher<K>,
    A: Allocator,
    R: RandSource,
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EntryRef::Occupied(e) => f.debug_tuple("EntryRef").field(e).finish(),
            EntryRef::Vacant(e) => f.debug_tuple("EntryRef").field(e).finish(),
        }
    }
}

impl<K, Q: ?Sized + fmt::Debug, V, H, A: Allocator, R: RandSource> fmt::Debug
    for VacantEntryRef<'_, '_, K, Q, V, H, A, R>
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("VacantEntryRef").field(&self.key).finish()
    }
}
