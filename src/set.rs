//! [`GoSet`]: Go's `map[T]struct{}`, with std's `HashSet` API.

use core::fmt;
use core::iter::{Chain, FusedIterator};
use core::ops::{BitAnd, BitOr, BitXor, Sub};

use allocator_api2::alloc::Allocator;

use crate::alloc::DefaultAllocator;
use crate::batch::ContainsBatch;
use crate::error::TryReserveError;
#[cfg(feature = "alloc")]
use crate::hash::HashAdapter;
use crate::hash::{DefaultMapHasher, GoHasher, MapHasher, MapLookup};
use crate::iter::{self as map_iter, ExtractCore};
use crate::layout::{BucketLayout, Hmap};
use crate::map::GoMap;
use crate::rand::{FastRand, RandSource};

/// Go's `map[T]struct{}`, the idiom Go uses for a set: a [`GoMap`] whose values are `()`
/// (zero-sized, as `struct{}` is, so a bucket holds 8 keys and no elems), with the API of
/// std's `HashSet` and its set operations.
///
/// `insert` is Go's `m[v] = struct{}{}`: for Go's float and string keys an equal value
/// replaces the stored one (Go's `needkeyupdate`), as [`GoMap::insert`] does; with
/// `HashAdapter` keys, the stored value stays, as in std.
///
/// ```
/// use gomap::GoSet;
///
/// let mut a: GoSet<u64> = GoSet::new();        // Go: a := make(map[uint64]struct{})
/// a.insert(1);                                  // a[1] = struct{}{}
/// a.insert(2);
/// let b: GoSet<u64> = [2, 3].into();
/// let mut both: Vec<u64> = a.intersection(&b).copied().collect();
/// both.sort();
/// assert_eq!(both, [2]);
/// assert_eq!((&a | &b).len(), 3);
/// assert_eq!(a.as_map().layout().bucketsize, 8 + 8 * 8 + 8); // tophash, keys, overflow
/// ```
pub struct GoSet<T, H = GoHasher, A: Allocator = DefaultAllocator, R: RandSource = FastRand> {
    map: GoMap<T, (), H, A, R>,
}

/// `GoSet` with std's hasher: a drop-in for `std::collections::HashSet<T, S>`.
#[cfg(feature = "std")]
pub type GoHashSet<T, S = std::hash::RandomState> = GoSet<T, HashAdapter<S>>;

#[cfg(feature = "alloc")]
impl<T, H: DefaultMapHasher> GoSet<T, H> {
    /// An empty set, like Go's `make(map[T]struct{})`; the hasher comes from the set's type,
    /// as for [`GoMap::new`].
    pub fn new() -> Self {
        GoSet { map: GoMap::new() }
    }

    /// A set sized for `hint` values, like Go's `make(map[T]struct{}, hint)`.
    pub fn with_capacity(hint: usize) -> Self {
        GoSet {
            map: GoMap::with_capacity(hint),
        }
    }
}

impl<T, H: DefaultMapHasher, A: Allocator> GoSet<T, H, A> {
    /// An empty set in the given allocator.
    pub fn new_in(alloc: A) -> Self {
        GoSet {
            map: GoMap::new_in(alloc),
        }
    }

    /// A set sized for `hint` values in the given allocator.
    pub fn with_capacity_in(hint: usize, alloc: A) -> Self {
        GoSet {
            map: GoMap::with_capacity_in(hint, alloc),
        }
    }
}

#[cfg(feature = "alloc")]
impl<T, S> GoSet<T, HashAdapter<S>> {
    /// An empty set whose values are hashed by `hash_builder` (std's `with_hasher`; see
    /// [`GoMap::with_hasher`]).
    pub const fn with_hasher(hash_builder: S) -> Self {
        GoSet {
            map: GoMap::with_hasher(hash_builder),
        }
    }

    /// A set sized for `hint` values whose values are hashed by `hash_builder`.
    pub fn with_capacity_and_hasher(hint: usize, hash_builder: S) -> Self {
        GoSet {
            map: GoMap::with_capacity_and_hasher(hint, hash_builder),
        }
    }
}

#[cfg(feature = "alloc")]
impl<T, H> GoSet<T, H> {
    /// An empty set with the given map hasher (any [`MapHasher`]).
    pub fn with_map_hasher(hasher: H) -> Self {
        GoSet {
            map: GoMap::with_map_hasher(hasher),
        }
    }

    /// A set sized for `hint` values with the given map hasher.
    pub fn with_capacity_and_map_hasher(hint: usize, hasher: H) -> Self {
        GoSet {
            map: GoMap::with_capacity_and_map_hasher(hint, hasher),
        }
    }
}

impl<T, H, A: Allocator, R: RandSource> GoSet<T, H, A, R> {
    /// A set from all its parts (see [`GoMap::from_parts`]).
    pub fn from_parts(hint: usize, hasher: H, alloc: A, rand: R) -> Self {
        GoSet {
            map: GoMap::from_parts(hint, hasher, alloc, rand),
        }
    }

    /// The set's `GoMap<T, ()>`: Go's header, layout and raw memory are there.
    pub fn as_map(&self) -> &GoMap<T, (), H, A, R> {
        &self.map
    }

    /// The set as its `GoMap<T, ()>`.
    pub fn into_map(self) -> GoMap<T, (), H, A, R> {
        self.map
    }

    /// Number of values (Go's `len(m)`).
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// Values before the next load-factor grow (see [`GoMap::capacity`]).
    pub fn capacity(&self) -> usize {
        self.map.capacity()
    }

    /// The set's hasher.
    pub fn hasher(&self) -> &H {
        self.map.hasher()
    }

    /// The set's allocator.
    pub fn allocator(&self) -> &A {
        self.map.allocator()
    }

    /// The Go header (`hmap`).
    pub fn header(&self) -> &Hmap {
        self.map.header()
    }

    /// The bucket layout of `map[T]struct{}`.
    pub const fn layout(&self) -> BucketLayout {
        self.map.layout()
    }

    /// Bytes the set holds (see [`GoMap::allocated_bytes`]).
    pub fn allocation_size(&self) -> usize {
        self.map.allocation_size()
    }

    /// Removes every value (Go 1.19's `mapclear`; see [`GoMap::clear`]).
    pub fn clear(&mut self) {
        self.map.clear();
    }

    /// Whether the set holds `value`.
    pub fn contains<Q: ?Sized>(&self, value: &Q) -> bool
    where
        H: MapLookup<T, Q>,
    {
        self.map.contains_key(value)
    }

    /// Whether the set holds each of many values, in their order: `contains` for each, with
    /// the buckets of the values ahead prefetched ([`GoMap::contains_batch`]).
    pub fn contains_batch<'q, Q, I>(
        &self,
        values: I,
    ) -> ContainsBatch<'_, 'q, Q, I::IntoIter, T, (), H, A, R>
    where
        Q: ?Sized + 'q,
        I: IntoIterator<Item = &'q Q>,
        H: MapLookup<T, Q>,
    {
        self.map.contains_batch(values)
    }

    /// The stored value equal to `value`.
    pub fn get<Q: ?Sized>(&self, value: &Q) -> Option<&T>
    where
        H: MapLookup<T, Q>,
    {
        self.map.get_key_value(value).map(|(k, _)| k)
    }
}

impl<T: PartialEq, H: MapHasher<T>, A: Allocator, R: RandSource> GoSet<T, H, A, R> {
    /// An iterator over the values, in Go's randomized order.
    pub fn iter(&self) -> Iter<'_, T, H, A, R> {
        Iter {
            inner: self.map.keys(),
        }
    }

    /// Adds `value` (Go's `m[value] = struct{}{}`); returns whether it was absent.
    pub fn insert(&mut self, value: T) -> bool {
        self.map.insert(value, ()).is_none()
    }

    /// Adds `value`, replacing an equal stored value, which is returned (std's `replace`).
    pub fn replace(&mut self, value: T) -> Option<T> {
        self.map.replace_key(value, ())
    }

    /// Removes `value` (Go's `delete(m, value)`); returns whether it was present.
    pub fn remove<Q: ?Sized>(&mut self, value: &Q) -> bool
    where
        H: MapLookup<T, Q>,
    {
        self.map.remove(value).is_some()
    }

    /// Removes and returns the stored value equal to `value`.
    pub fn take<Q: ?Sized>(&mut self, value: &Q) -> Option<T>
    where
        H: MapLookup<T, Q>,
    {
        self.map.remove_entry(value).map(|(k, ())| k)
    }

    /// Keeps only the values for which `f` returns true (Go deletes during a Go iteration;
    /// see [`GoMap::retain`]).
    pub fn retain<F: FnMut(&T) -> bool>(&mut self, mut f: F) {
        self.map.retain(|k, _| f(k));
    }

    /// Removes and yields every value; see [`GoMap::drain`].
    pub fn drain(&mut self) -> Drain<'_, T, H, A, R> {
        Drain {
            inner: self.map.drain(),
        }
    }

    /// An iterator that removes and yields the values for which `pred` returns true (std's
    /// `extract_if`; see [`GoMap::extract_if`]).
    pub fn extract_if<F: FnMut(&T) -> bool>(&mut self, pred: F) -> ExtractIf<'_, T, F, H, A, R> {
        ExtractIf {
            core: ExtractCore::new(&mut self.map),
            pred,
        }
    }

    /// Makes room for `additional` more values without a load-factor grow (see
    /// [`GoMap::reserve`]).
    pub fn reserve(&mut self, additional: usize) {
        self.map.reserve(additional);
    }

    /// Like [`reserve`](Self::reserve), but reports a failure (see [`GoMap::try_reserve`]).
    pub fn try_reserve(&mut self, additional: usize) -> Result<(), TryReserveError> {
        self.map.try_reserve(additional)
    }

    /// Releases memory Go would keep (see [`GoMap::shrink_to_fit`]).
    pub fn shrink_to_fit(&mut self) {
        self.map.shrink_to_fit();
    }

    /// Shrinks, keeping room for at least `min_capacity` values (see [`GoMap::shrink_to`]).
    pub fn shrink_to(&mut self, min_capacity: usize) {
        self.map.shrink_to(min_capacity);
    }
}

impl<T: PartialEq, H: MapHasher<T> + MapLookup<T, T>, A: Allocator, R: RandSource>
    GoSet<T, H, A, R>
{
    /// The values of `self` that are not in `other`.
    pub fn difference<'a>(&'a self, other: &'a Self) -> Difference<'a, T, H, A, R> {
        Difference {
            iter: self.iter(),
            other,
        }
    }

    /// The values in exactly one of the two sets.
    pub fn symmetric_difference<'a>(
        &'a self,
        other: &'a Self,
    ) -> SymmetricDifference<'a, T, H, A, R> {
        SymmetricDifference {
            iter: self.difference(other).chain(other.difference(self)),
        }
    }

    /// The values in both sets (walks the smaller one).
    pub fn intersection<'a>(&'a self, other: &'a Self) -> Intersection<'a, T, H, A, R> {
        let (small, large) = if self.len() <= other.len() {
            (self, other)
        } else {
            (other, self)
        };
        Intersection {
            iter: small.iter(),
            other: large,
        }
    }

    /// The values in either set, each once (the larger set, then the rest of the smaller).
    pub fn union<'a>(&'a self, other: &'a Self) -> Union<'a, T, H, A, R> {
        let (small, large) = if self.len() <= other.len() {
            (self, other)
        } else {
            (other, self)
        };
        Union {
            iter: large.iter().chain(small.difference(large)),
        }
    }

    /// Whether the sets have no value in common.
    pub fn is_disjoint(&self, other: &Self) -> bool {
        self.intersection(other).next().is_none()
    }

    /// Whether every value of `self` is in `other`.
    pub fn is_subset(&self, other: &Self) -> bool {
        self.len() <= other.len() && self.iter().all(|v| other.contains(v))
    }

    /// Whether every value of `other` is in `self`.
    pub fn is_superset(&self, other: &Self) -> bool {
        other.is_subset(self)
    }
}

impl<T, H, A, R> Clone for GoSet<T, H, A, R>
where
    T: PartialEq + Clone,
    H: MapHasher<T> + Clone,
    A: Allocator + Clone,
    R: RandSource + Clone,
{
    /// A new set, made as [`GoMap`]'s `clone` makes a map.
    fn clone(&self) -> Self {
        GoSet {
            map: self.map.clone(),
        }
    }
}

impl<T: PartialEq, H: MapLookup<T, T>, A: Allocator, R: RandSource> PartialEq
    for GoSet<T, H, A, R>
{
    /// Equal when both hold the same values.
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && self.map.keys().all(|v| other.contains(v))
    }
}

impl<T: Eq, H: MapLookup<T, T>, A: Allocator, R: RandSource> Eq for GoSet<T, H, A, R> {}

impl<T: PartialEq + fmt::Debug, H: MapHasher<T>, A: Allocator, R: RandSource> fmt::Debug
    for GoSet<T, H, A, R>
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.iter()).finish()
    }
}

impl<T, H: Default, A: Allocator + Default, R: RandSource + Default> Default for GoSet<T, H, A, R> {
    fn default() -> Self {
        GoSet {
            map: GoMap::default(),
        }
    }
}

impl<T, H, A, R> FromIterator<T> for GoSet<T, H, A, R>
where
    T: PartialEq,
    H: MapHasher<T> + Default,
    A: Allocator + Default,
    R: RandSource + Default,
{
    fn from_iter<I: IntoIterator<Item = T>>(iter: I) -> Self {
        let mut s = GoSet::default();
        s.extend(iter);
        s
    }
}

impl<T: PartialEq, H: MapHasher<T>, A: Allocator, R: RandSource> Extend<T> for GoSet<T, H, A, R> {
    /// Inserts every value, pipelined as `GoMap`'s `extend` is (see [`crate::batch`]).
    fn extend<I: IntoIterator<Item = T>>(&mut self, iter: I) {
        self.map.extend_pipelined(iter.into_iter().map(|v| (v, ())));
    }
}

impl<'a, T: PartialEq + Copy, H: MapHasher<T>, A: Allocator, R: RandSource> Extend<&'a T>
    for GoSet<T, H, A, R>
{
    fn extend<I: IntoIterator<Item = &'a T>>(&mut self, iter: I) {
        self.map
            .extend_pipelined(iter.into_iter().map(|&v| (v, ())));
    }
}

#[cfg(feature = "alloc")]
impl<T: PartialEq, H: MapHasher<T> + DefaultMapHasher, const N: usize> From<[T; N]>
    for GoSet<T, H>
{
    /// Like a Go set literal `map[T]struct{}{a: {}, b: {}}`: room for N values, filled in
    /// order.
    fn from(arr: [T; N]) -> Self {
        let mut s = GoSet::with_capacity(N);
        s.extend(arr);
        s
    }
}

impl<T: PartialEq, H: MapHasher<T>, A: Allocator, R: RandSource> IntoIterator
    for GoSet<T, H, A, R>
{
    type Item = T;
    type IntoIter = IntoIter<T, H, A, R>;
    fn into_iter(self) -> Self::IntoIter {
        IntoIter {
            inner: self.map.into_keys(),
        }
    }
}

impl<'a, T: PartialEq, H: MapHasher<T>, A: Allocator, R: RandSource> IntoIterator
    for &'a GoSet<T, H, A, R>
{
    type Item = &'a T;
    type IntoIter = Iter<'a, T, H, A, R>;
    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

macro_rules! set_op {
    ($tr:ident, $method:ident, $which:ident, $doc:literal) => {
        impl<T, H, A, R> $tr<&GoSet<T, H, A, R>> for &GoSet<T, H, A, R>
        where
            T: PartialEq + Clone,
            H: MapHasher<T> + MapLookup<T, T> + Default,
            A: Allocator + Default,
            R: RandSource + Default,
        {
            type Output = GoSet<T, H, A, R>;
            #[doc = $doc]
            fn $method(self, rhs: &GoSet<T, H, A, R>) -> GoSet<T, H, A, R> {
                self.$which(rhs).cloned().collect()
            }
        }
    };
}

set_op!(
    BitOr,
    bitor,
    union,
    "`a | b`: a new set of the values in either."
);
set_op!(
    BitAnd,
    bitand,
    intersection,
    "`a & b`: a new set of the values in both."
);
set_op!(
    BitXor,
    bitxor,
    symmetric_difference,
    "`a ^ b`: a new set of the values in exactly one."
);
set_op!(
    Sub,
    sub,
    difference,
    "`a - b`: a new set of the values of `a` not in `b`."
);

// ----- iterators -------------------------------------------------------------------------

/// An iterator over a set's values ([`GoSet::iter`]).
pub struct Iter<'a, T, H, A: Allocator, R: RandSource> {
    inner: map_iter::Keys<'a, T, (), H, A, R>,
}

/// The owning iterator of a set.
pub struct IntoIter<T, H, A: Allocator, R: RandSource> {
    inner: map_iter::IntoKeys<T, (), H, A, R>,
}

/// The draining iterator of a set ([`GoSet::drain`]).
pub struct Drain<'a, T, H, A: Allocator, R: RandSource> {
    inner: map_iter::Drain<'a, T, (), H, A, R>,
}

/// The iterator of [`GoSet::extract_if`].
pub struct ExtractIf<'a, T, F, H, A: Allocator, R: RandSource> {
    core: ExtractCore<'a, T, (), H, A, R>,
    pred: F,
}

/// The iterator of [`GoSet::difference`].
pub struct Difference<'a, T, H, A: Allocator, R: RandSource> {
    iter: Iter<'a, T, H, A, R>,
    other: &'a GoSet<T, H, A, R>,
}

/// The iterator of [`GoSet::intersection`].
pub struct Intersection<'a, T, H, A: Allocator, R: RandSource> {
    iter: Iter<'a, T, H, A, R>,
    other: &'a GoSet<T, H, A, R>,
}

type DiffChain<'a, T, H, A, R> = Chain<Difference<'a, T, H, A, R>, Difference<'a, T, H, A, R>>;
type UnionChain<'a, T, H, A, R> = Chain<Iter<'a, T, H, A, R>, Difference<'a, T, H, A, R>>;

/// The iterator of [`GoSet::symmetric_difference`].
pub struct SymmetricDifference<'a, T, H, A: Allocator, R: RandSource> {
    iter: DiffChain<'a, T, H, A, R>,
}

/// The iterator of [`GoSet::union`].
pub struct Union<'a, T, H, A: Allocator, R: RandSource> {
    iter: UnionChain<'a, T, H, A, R>,
}

impl<T, H, A: Allocator, R: RandSource> Clone for Iter<'_, T, H, A, R> {
    fn clone(&self) -> Self {
        Iter {
            inner: self.inner.clone(),
        }
    }
}

impl<T, H, A: Allocator, R: RandSource> Default for Iter<'_, T, H, A, R> {
    /// An iterator that yields nothing.
    fn default() -> Self {
        Iter {
            inner: Default::default(),
        }
    }
}

impl<T, H, A: Allocator, R: RandSource> Default for IntoIter<T, H, A, R> {
    /// An iterator that yields nothing.
    fn default() -> Self {
        IntoIter {
            inner: Default::default(),
        }
    }
}

impl<T, H, A: Allocator, R: RandSource> Clone for Difference<'_, T, H, A, R> {
    fn clone(&self) -> Self {
        Difference {
            iter: self.iter.clone(),
            other: self.other,
        }
    }
}

impl<T, H, A: Allocator, R: RandSource> Clone for Intersection<'_, T, H, A, R> {
    fn clone(&self) -> Self {
        Intersection {
            iter: self.iter.clone(),
            other: self.other,
        }
    }
}

impl<T, H, A: Allocator, R: RandSource> Clone for SymmetricDifference<'_, T, H, A, R> {
    fn clone(&self) -> Self {
        SymmetricDifference {
            iter: self.iter.clone(),
        }
    }
}

impl<T, H, A: Allocator, R: RandSource> Clone for Union<'_, T, H, A, R> {
    fn clone(&self) -> Self {
        Union {
            iter: self.iter.clone(),
        }
    }
}

impl<'a, T: PartialEq, H: MapHasher<T>, A: Allocator, R: RandSource> Iterator
    for Iter<'a, T, H, A, R>
{
    type Item = &'a T;
    fn next(&mut self) -> Option<&'a T> {
        self.inner.next()
    }
    fn fold<B, F: FnMut(B, &'a T) -> B>(self, init: B, f: F) -> B {
        self.inner.fold(init, f)
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        self.inner.size_hint()
    }
}

impl<T: PartialEq, H: MapHasher<T>, A: Allocator, R: RandSource> Iterator for IntoIter<T, H, A, R> {
    type Item = T;
    fn next(&mut self) -> Option<T> {
        self.inner.next()
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        self.inner.size_hint()
    }
}

impl<T: PartialEq, H: MapHasher<T>, A: Allocator, R: RandSource> Iterator
    for Drain<'_, T, H, A, R>
{
    type Item = T;
    fn next(&mut self) -> Option<T> {
        self.inner.next().map(|(k, ())| k)
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        self.inner.size_hint()
    }
}

impl<T, F, H, A, R> Iterator for ExtractIf<'_, T, F, H, A, R>
where
    T: PartialEq,
    F: FnMut(&T) -> bool,
    H: MapHasher<T>,
    A: Allocator,
    R: RandSource,
{
    type Item = T;
    fn next(&mut self) -> Option<T> {
        let pred = &mut self.pred;
        self.core.next(&mut |k, _| pred(k)).map(|(k, ())| k)
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        (0, Some(self.core.len()))
    }
}

impl<'a, T: PartialEq, H: MapLookup<T, T>, A: Allocator, R: RandSource> Iterator
    for Difference<'a, T, H, A, R>
{
    type Item = &'a T;
    fn next(&mut self) -> Option<&'a T> {
        let other = self.other;
        self.iter.find(|v| !other.contains(*v))
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        (0, self.iter.size_hint().1)
    }
}

impl<'a, T: PartialEq, H: MapLookup<T, T>, A: Allocator, R: RandSource> Iterator
    for Intersection<'a, T, H, A, R>
{
    type Item = &'a T;
    fn next(&mut self) -> Option<&'a T> {
        let other = self.other;
        self.iter.find(|v| other.contains(*v))
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        (0, self.iter.size_hint().1)
    }
}

impl<'a, T: PartialEq, H: MapLookup<T, T>, A: Allocator, R: RandSource> Iterator
    for SymmetricDifference<'a, T, H, A, R>
{
    type Item = &'a T;
    fn next(&mut self) -> Option<&'a T> {
        self.iter.next()
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        self.iter.size_hint()
    }
}

impl<'a, T: PartialEq, H: MapLookup<T, T>, A: Allocator, R: RandSource> Iterator
    for Union<'a, T, H, A, R>
{
    type Item = &'a T;
    fn next(&mut self) -> Option<&'a T> {
        self.iter.next()
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        self.iter.size_hint()
    }
}

impl<T: PartialEq, H: MapHasher<T>, A: Allocator, R: RandSource> ExactSizeIterator
    for Iter<'_, T, H, A, R>
{
}
impl<T: PartialEq, H: MapHasher<T>, A: Allocator, R: RandSource> ExactSizeIterator
    for IntoIter<T, H, A, R>
{
}
impl<T: PartialEq, H: MapHasher<T>, A: Allocator, R: RandSource> ExactSizeIterator
    for Drain<'_, T, H, A, R>
{
}

macro_rules! fused {
    ($name:ident [$($lt:lifetime),*], $bound:ident) => {
        impl<$($lt,)* T: PartialEq, H: $bound<T>, A: Allocator, R: RandSource> FusedIterator
            for $name<$($lt,)* T, H, A, R>
        {
        }
    };
}
fused!(Iter['a], MapHasher);
fused!(IntoIter[], MapHasher);
fused!(Drain['a], MapHasher);

impl<T: PartialEq, H: MapLookup<T, T>, A: Allocator, R: RandSource> FusedIterator
    for Difference<'_, T, H, A, R>
{
}
impl<T: PartialEq, H: MapLookup<T, T>, A: Allocator, R: RandSource> FusedIterator
    for Intersection<'_, T, H, A, R>
{
}
impl<T: PartialEq, H: MapLookup<T, T>, A: Allocator, R: RandSource> FusedIterator
    for SymmetricDifference<'_, T, H, A, R>
{
}
impl<T: PartialEq, H: MapLookup<T, T>, A: Allocator, R: RandSource> FusedIterator
    for Union<'_, T, H, A, R>
{
}
impl<T, F, H, A, R> FusedIterator for ExtractIf<'_, T, F, H, A, R>
where
    T: PartialEq,
    F: FnMut(&T) -> bool,
    H: MapHasher<T>,
    A: Allocator,
    R: RandSource,
{
}

macro_rules! debug_opaque {
    ($name:ident [$($lt:lifetime),*] $(, $extra:ident)?) => {
        impl<$($lt,)* T, $($extra,)? H, A: Allocator, R: RandSource> fmt::Debug
            for $name<$($lt,)* T, $($extra,)? H, A, R>
        {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_struct(stringify!($name)).finish_non_exhaustive()
            }
        }
    };
}
debug_opaque!(Iter['a]);
debug_opaque!(IntoIter[]);
debug_opaque!(Drain['a]);
debug_opaque!(ExtractIf['a], F);
debug_opaque!(Difference['a]);
debug_opaque!(Intersection['a]);
debug_opaque!(SymmetricDifference['a]);
debug_opaque!(Union['a]);
