//! Iterators. All of them walk the map in Go's order: a random start bucket and slot offset
//! per iteration (`mapiterinit`), then Go's `mapiternext`.

use core::iter::FusedIterator;
use core::marker::PhantomData;

use allocator_api2::alloc::Allocator;

use crate::hash::MapHasher;
use crate::layout::{Hmap, EMPTY_ONE};
use crate::map::GoMap;
use crate::rand::RandSource;
use crate::raw::{RawIter, RawMap, Typed};

/// An iterator over `(&K, &V)` ([`GoMap::iter`]).
pub struct Iter<'a, K, V, H, A: Allocator, R: RandSource> {
    /// The map (`None` for an iterator made by `Default`, which yields nothing).
    map: Option<&'a RawMap<Typed<K, V, H>, A, R>>,
    it: RawIter,
    remaining: usize,
}

impl<'a, K, V, H, A: Allocator, R: RandSource> Iter<'a, K, V, H, A, R> {
    pub(crate) fn new(map: &'a RawMap<Typed<K, V, H>, A, R>) -> Self {
        Iter {
            map: Some(map),
            it: RawIter::init(map),
            remaining: map.h.count,
        }
    }
}

impl<K, V, H, A: Allocator, R: RandSource> Default for Iter<'_, K, V, H, A, R> {
    /// An iterator that yields nothing.
    fn default() -> Self {
        Iter {
            map: None,
            it: RawIter::empty(),
            remaining: 0,
        }
    }
}

impl<K, V, H, A: Allocator, R: RandSource> Clone for Iter<'_, K, V, H, A, R> {
    fn clone(&self) -> Self {
        Iter {
            map: self.map,
            it: self.it.clone(),
            remaining: self.remaining,
        }
    }
}

impl<'a, K: PartialEq, V, H: MapHasher<K>, A: Allocator, R: RandSource> Iterator
    for Iter<'a, K, V, H, A, R>
{
    type Item = (&'a K, &'a V);
    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        let map = self.map?;
        // SAFETY: the shared borrow keeps the map unchanged during the iteration; a returned
        // slot is live.
        unsafe {
            let (b, i) = map.iter_next(&mut self.it)?;
            self.remaining = self.remaining.saturating_sub(1);
            Some((&*map.key_ptr(b, i), &*map.elem_ptr(b, i)))
        }
    }
    #[inline]
    fn fold<B, F: FnMut(B, Self::Item) -> B>(mut self, init: B, mut f: F) -> B {
        let Some(map) = self.map else {
            return init;
        };
        // SAFETY: the shared borrow keeps the map unchanged during the whole fold; every slot
        // `iter_fold` hands over is live.
        unsafe {
            map.iter_fold(&mut self.it, init, |acc, b, i| {
                f(acc, (&*map.key_ptr(b, i), &*map.elem_ptr(b, i)))
            })
        }
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.remaining, Some(self.remaining))
    }
}

impl<K: PartialEq, V, H: MapHasher<K>, A: Allocator, R: RandSource> ExactSizeIterator
    for Iter<'_, K, V, H, A, R>
{
}
impl<K: PartialEq, V, H: MapHasher<K>, A: Allocator, R: RandSource> FusedIterator
    for Iter<'_, K, V, H, A, R>
{
}

/// An iterator over `(&K, &mut V)` ([`GoMap::iter_mut`]).
pub struct IterMut<'a, K, V, H, A: Allocator, R: RandSource> {
    /// The map (null for an iterator made by `Default`, which yields nothing).
    map: *const RawMap<Typed<K, V, H>, A, R>,
    it: RawIter,
    remaining: usize,
    marker: PhantomData<&'a mut RawMap<Typed<K, V, H>, A, R>>,
}

impl<'a, K, V, H, A: Allocator, R: RandSource> IterMut<'a, K, V, H, A, R> {
    pub(crate) fn new(map: &'a mut RawMap<Typed<K, V, H>, A, R>) -> Self {
        let it = RawIter::init(map);
        IterMut {
            remaining: map.h.count,
            map,
            it,
            marker: PhantomData,
        }
    }
}

impl<K, V, H, A: Allocator, R: RandSource> Default for IterMut<'_, K, V, H, A, R> {
    /// An iterator that yields nothing.
    fn default() -> Self {
        IterMut {
            map: core::ptr::null(),
            it: RawIter::empty(),
            remaining: 0,
            marker: PhantomData,
        }
    }
}

impl<'a, K: PartialEq, V, H: MapHasher<K>, A: Allocator, R: RandSource> Iterator
    for IterMut<'a, K, V, H, A, R>
{
    type Item = (&'a K, &'a mut V);
    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        if self.map.is_null() {
            return None;
        }
        // SAFETY: the map is exclusively borrowed for 'a and not changed during the iteration;
        // Go's iteration returns each entry once, so the `&mut V`s never alias.
        unsafe {
            let (b, i) = (*self.map).iter_next(&mut self.it)?;
            self.remaining = self.remaining.saturating_sub(1);
            Some((
                &*(*self.map).key_ptr(b, i),
                &mut *(*self.map).elem_ptr(b, i),
            ))
        }
    }
    #[inline]
    fn fold<B, F: FnMut(B, Self::Item) -> B>(mut self, init: B, mut f: F) -> B {
        let map = self.map;
        if map.is_null() {
            return init;
        }
        // SAFETY: the map is exclusively borrowed for 'a and not changed during the fold;
        // each entry is handed over once, so the `&mut V`s never alias.
        unsafe {
            (*map).iter_fold(&mut self.it, init, |acc, b, i| {
                f(acc, (&*(*map).key_ptr(b, i), &mut *(*map).elem_ptr(b, i)))
            })
        }
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.remaining, Some(self.remaining))
    }
}

impl<K: PartialEq, V, H: MapHasher<K>, A: Allocator, R: RandSource> ExactSizeIterator
    for IterMut<'_, K, V, H, A, R>
{
}
impl<K: PartialEq, V, H: MapHasher<K>, A: Allocator, R: RandSource> FusedIterator
    for IterMut<'_, K, V, H, A, R>
{
}

// SAFETY: IterMut is a `&mut RawMap` in disguise: it hands out `&K` and `&mut V`.
unsafe impl<K: Sync, V: Send, H: Sync, A: Allocator + Sync, R: RandSource + Sync> Send
    for IterMut<'_, K, V, H, A, R>
{
}
// SAFETY: as above; shared access to the iterator gives nothing but its size.
unsafe impl<K: Sync, V: Sync, H: Sync, A: Allocator + Sync, R: RandSource + Sync> Sync
    for IterMut<'_, K, V, H, A, R>
{
}

/// An iterator over the keys ([`GoMap::keys`]).
pub struct Keys<'a, K, V, H, A: Allocator, R: RandSource> {
    pub(crate) inner: Iter<'a, K, V, H, A, R>,
}

impl<K, V, H, A: Allocator, R: RandSource> Clone for Keys<'_, K, V, H, A, R> {
    fn clone(&self) -> Self {
        Keys {
            inner: self.inner.clone(),
        }
    }
}

/// An iterator over the values ([`GoMap::values`]).
pub struct Values<'a, K, V, H, A: Allocator, R: RandSource> {
    pub(crate) inner: Iter<'a, K, V, H, A, R>,
}

impl<K, V, H, A: Allocator, R: RandSource> Clone for Values<'_, K, V, H, A, R> {
    fn clone(&self) -> Self {
        Values {
            inner: self.inner.clone(),
        }
    }
}

/// An iterator over the values, mutably ([`GoMap::values_mut`]).
pub struct ValuesMut<'a, K, V, H, A: Allocator, R: RandSource> {
    pub(crate) inner: IterMut<'a, K, V, H, A, R>,
}

/// The owning iterator ([`GoMap::into_iter`]).
pub struct IntoIter<K, V, H, A: Allocator, R: RandSource> {
    /// The map (`None` for an iterator made by `Default`, which yields nothing).
    raw: Option<RawMap<Typed<K, V, H>, A, R>>,
    it: RawIter,
    remaining: usize,
}

impl<K, V, H, A: Allocator, R: RandSource> IntoIter<K, V, H, A, R> {
    pub(crate) fn new(raw: RawMap<Typed<K, V, H>, A, R>) -> Self {
        let it = RawIter::init(&raw);
        let remaining = raw.h.count;
        IntoIter {
            raw: Some(raw),
            it,
            remaining,
        }
    }
}

impl<K, V, H, A: Allocator, R: RandSource> Default for IntoIter<K, V, H, A, R> {
    /// An iterator that yields nothing.
    fn default() -> Self {
        IntoIter {
            raw: None,
            it: RawIter::empty(),
            remaining: 0,
        }
    }
}

/// Takes the entry at (b, i) out of a map that is being consumed: the slot is marked
/// `EMPTY_ONE` first, so neither the rest of the iteration nor the final drop sees it again.
///
/// # Safety
/// (b, i) must be a live slot just returned by the iteration.
unsafe fn take<K, V, H, A: Allocator, R: RandSource>(
    raw: &RawMap<Typed<K, V, H>, A, R>,
    b: *mut u8,
    i: usize,
) -> (K, V) {
    // SAFETY: caller contract.
    unsafe {
        RawMap::<Typed<K, V, H>, A, R>::set_top(b, i, EMPTY_ONE);
        raw.take_slot(b, i, crate::map::take_kv)
    }
}

impl<K: PartialEq, V, H: MapHasher<K>, A: Allocator, R: RandSource> Iterator
    for IntoIter<K, V, H, A, R>
{
    type Item = (K, V);
    fn next(&mut self) -> Option<(K, V)> {
        let raw = self.raw.as_ref()?;
        // SAFETY: we own the map; taken slots are marked empty before the iteration goes on.
        unsafe {
            let (b, i) = raw.iter_next(&mut self.it)?;
            self.remaining = self.remaining.saturating_sub(1);
            Some(take(raw, b, i))
        }
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.remaining, Some(self.remaining))
    }
}

impl<K: PartialEq, V, H: MapHasher<K>, A: Allocator, R: RandSource> ExactSizeIterator
    for IntoIter<K, V, H, A, R>
{
}
impl<K: PartialEq, V, H: MapHasher<K>, A: Allocator, R: RandSource> FusedIterator
    for IntoIter<K, V, H, A, R>
{
}

/// The owning iterator over keys ([`GoMap::into_keys`]).
pub struct IntoKeys<K, V, H, A: Allocator, R: RandSource> {
    pub(crate) inner: IntoIter<K, V, H, A, R>,
}

/// The owning iterator over values ([`GoMap::into_values`]).
pub struct IntoValues<K, V, H, A: Allocator, R: RandSource> {
    pub(crate) inner: IntoIter<K, V, H, A, R>,
}

/// The draining iterator ([`GoMap::drain`]).
pub struct Drain<'a, K, V, H, A: Allocator, R: RandSource> {
    map: &'a mut GoMap<K, V, H, A, R>,
    /// The map's header while draining; the map itself holds an empty header meanwhile, so a
    /// leaked `Drain` leaves an empty map behind.
    h: Hmap,
    it: RawIter,
    remaining: usize,
}

impl<'a, K, V, H, A: Allocator, R: RandSource> Drain<'a, K, V, H, A, R> {
    pub(crate) fn new(map: &'a mut GoMap<K, V, H, A, R>) -> Self {
        let it = RawIter::init(&map.raw);
        let remaining = map.raw.h.count;
        let hash0 = map.raw.h.hash0;
        let h = core::mem::replace(&mut map.raw.h, Hmap::empty(hash0));
        Drain {
            map,
            h,
            it,
            remaining,
        }
    }
}

impl<K: PartialEq, V, H: MapHasher<K>, A: Allocator, R: RandSource> Iterator
    for Drain<'_, K, V, H, A, R>
{
    type Item = (K, V);
    fn next(&mut self) -> Option<(K, V)> {
        /// Takes the header out of the map again when the step ends, also when the hasher
        /// panics during it (a step of an iteration over a growing map hashes keys).
        struct Out<'s, 'a, K, V, H, A: Allocator, R: RandSource>(&'s mut Drain<'a, K, V, H, A, R>);
        impl<K, V, H, A: Allocator, R: RandSource> Drop for Out<'_, '_, K, V, H, A, R> {
            fn drop(&mut self) {
                let d = &mut *self.0;
                core::mem::swap(&mut d.h, &mut d.map.raw.h);
            }
        }
        // Put the header back for the step.
        core::mem::swap(&mut self.h, &mut self.map.raw.h);
        let g = Out(self);
        let d = &mut *g.0;
        // SAFETY: the map is exclusively borrowed; taken slots are marked empty first.
        let r = unsafe {
            match d.map.raw.iter_next(&mut d.it) {
                Some((b, i)) => Some(take(&d.map.raw, b, i)),
                None => None,
            }
        };
        if r.is_some() {
            d.remaining = d.remaining.saturating_sub(1);
        }
        drop(g);
        r
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.remaining, Some(self.remaining))
    }
}

impl<K, V, H, A: Allocator, R: RandSource> Drop for Drain<'_, K, V, H, A, R> {
    fn drop(&mut self) {
        // Restore the header, then clear: drops what was not yielded, resets like mapclear.
        core::mem::swap(&mut self.h, &mut self.map.raw.h);
        self.map.raw.clear();
    }
}

impl<K: PartialEq, V, H: MapHasher<K>, A: Allocator, R: RandSource> ExactSizeIterator
    for Drain<'_, K, V, H, A, R>
{
}
impl<K: PartialEq, V, H: MapHasher<K>, A: Allocator, R: RandSource> FusedIterator
    for Drain<'_, K, V, H, A, R>
{
}

/// The iterator of [`GoMap::extract_if`]: removes and yields the entries its predicate
/// picks, one Go `delete` per step of a Go iteration.
pub struct ExtractIf<'a, K, V, F, H, A: Allocator, R: RandSource> {
    core: ExtractCore<'a, K, V, H, A, R>,
    pred: F,
}

impl<'a, K, V, F, H, A: Allocator, R: RandSource> ExtractIf<'a, K, V, F, H, A, R> {
    pub(crate) fn new(map: &'a mut GoMap<K, V, H, A, R>, pred: F) -> Self {
        ExtractIf {
            core: ExtractCore::new(map),
            pred,
        }
    }
}

/// An iteration that deletes what a predicate picks (`extract_if` of maps and sets).
pub(crate) struct ExtractCore<'a, K, V, H, A: Allocator, R: RandSource> {
    map: &'a mut GoMap<K, V, H, A, R>,
    it: RawIter,
}

impl<'a, K, V, H, A: Allocator, R: RandSource> ExtractCore<'a, K, V, H, A, R> {
    pub(crate) fn new(map: &'a mut GoMap<K, V, H, A, R>) -> Self {
        // While the iteration runs, a grow that its deletes finish parks the old array (the
        // iteration may be reading it); `drop` frees it.
        map.raw.hold_old = true;
        let it = RawIter::init(&map.raw);
        ExtractCore { map, it }
    }

    /// Entries left in the map.
    pub(crate) fn len(&self) -> usize {
        self.map.len()
    }
}

impl<K, V, H, A: Allocator, R: RandSource> Drop for ExtractCore<'_, K, V, H, A, R> {
    fn drop(&mut self) {
        self.map.raw.hold_old = false;
        self.map.raw.free_zombie();
    }
}

impl<K: PartialEq, V, H: MapHasher<K>, A: Allocator, R: RandSource> ExtractCore<'_, K, V, H, A, R> {
    /// The next entry `pred` picks, removed.
    pub(crate) fn next(&mut self, pred: &mut impl FnMut(&K, &mut V) -> bool) -> Option<(K, V)> {
        loop {
            // SAFETY: the iteration sees only its own deletes between steps, as Go's range
            // allows, and `hold_old` keeps an old array it may read allocated; a returned slot
            // is live until it is deleted here.
            unsafe {
                let (b, i) = self.map.raw.iter_next(&mut self.it)?;
                let kp = self.map.raw.key_ptr(b, i);
                let vp = self.map.raw.elem_ptr(b, i);
                if pred(&*kp, &mut *vp) {
                    if let Some(kv) = self.map.remove_iterated(&self.it, b, i) {
                        return Some(kv);
                    }
                }
            }
        }
    }
}

impl<K, V, F, H, A, R> Iterator for ExtractIf<'_, K, V, F, H, A, R>
where
    K: PartialEq,
    F: FnMut(&K, &mut V) -> bool,
    H: MapHasher<K>,
    A: Allocator,
    R: RandSource,
{
    type Item = (K, V);
    fn next(&mut self) -> Option<(K, V)> {
        self.core.next(&mut self.pred)
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        (0, Some(self.core.len()))
    }
}

impl<K, V, F, H, A, R> FusedIterator for ExtractIf<'_, K, V, F, H, A, R>
where
    K: PartialEq,
    F: FnMut(&K, &mut V) -> bool,
    H: MapHasher<K>,
    A: Allocator,
    R: RandSource,
{
}

impl<K, V, F, H, A: Allocator, R: RandSource> core::fmt::Debug for ExtractIf<'_, K, V, F, H, A, R> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("ExtractIf").finish_non_exhaustive()
    }
}

macro_rules! delegate {
    ($name:ident [$($lt:lifetime),*], $item:ty, |$x:pat_param| $map:expr) => {
        impl<$($lt,)* K: PartialEq, V, H: MapHasher<K>, A: Allocator, R: RandSource> Iterator
            for $name<$($lt,)* K, V, H, A, R>
        {
            type Item = $item;
            #[inline]
            fn next(&mut self) -> Option<Self::Item> {
                self.inner.next().map(|$x| $map)
            }
            #[inline]
            fn fold<B, F: FnMut(B, Self::Item) -> B>(self, init: B, mut f: F) -> B {
                self.inner.fold(init, |acc, $x| f(acc, $map))
            }
            fn size_hint(&self) -> (usize, Option<usize>) {
                self.inner.size_hint()
            }
        }
        impl<$($lt,)* K: PartialEq, V, H: MapHasher<K>, A: Allocator, R: RandSource> ExactSizeIterator
            for $name<$($lt,)* K, V, H, A, R>
        {
        }
        impl<$($lt,)* K: PartialEq, V, H: MapHasher<K>, A: Allocator, R: RandSource> FusedIterator
            for $name<$($lt,)* K, V, H, A, R>
        {
        }
    };
}

macro_rules! default_via_inner {
    ($name:ident [$($lt:lifetime),*]) => {
        impl<$($lt,)* K, V, H, A: Allocator, R: RandSource> Default for $name<$($lt,)* K, V, H, A, R> {
            /// An iterator that yields nothing.
            fn default() -> Self {
                $name {
                    inner: Default::default(),
                }
            }
        }
    };
}

default_via_inner!(Keys['a]);
default_via_inner!(Values['a]);
default_via_inner!(ValuesMut['a]);
default_via_inner!(IntoKeys[]);
default_via_inner!(IntoValues[]);

delegate!(Keys['a], &'a K, |(k, _)| k);
delegate!(Values['a], &'a V, |(_, v)| v);
delegate!(ValuesMut['a], &'a mut V, |(_, v)| v);
delegate!(IntoKeys[], K, |(k, _)| k);
delegate!(IntoValues[], V, |(_, v)| v);

macro_rules! debug_list {
    ($name:ident [$($lt:lifetime),*]) => {
        impl<$($lt,)* K, V, H, A: Allocator, R: RandSource> core::fmt::Debug for $name<$($lt,)* K, V, H, A, R> {
            fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                f.debug_struct(stringify!($name)).finish_non_exhaustive()
            }
        }
    };
}

debug_list!(Iter['a]);
debug_list!(IterMut['a]);
debug_list!(Keys['a]);
debug_list!(Values['a]);
debug_list!(ValuesMut['a]);
debug_list!(IntoIter[]);
debug_list!(IntoKeys[]);
debug_list!(IntoValues[]);
debug_list!(Drain['a]);
