//! `Serialize`/`Deserialize` (feature `serde`) for [`GoMap`] (a serde map), [`GoSet`] (a serde
//! sequence) and [`Snapshot`](crate::snapshot::Snapshot) (its file format, as bytes).
//!
//! A map or set is written in its iteration order, which Go randomizes; it is read back by
//! inserting each entry in the order read, into a map made with `Default` hasher, allocator
//! and random source. The length a format announces is used as a size hint only up to what
//! 1 MiB of entries holds, so that a hostile length cannot make the reader allocate a huge
//! array before any entry arrives.

use core::fmt;
use core::marker::PhantomData;

use ::serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use ::serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};
use allocator_api2::alloc::Allocator;

use crate::hash::MapHasher;
use crate::rand::RandSource;
use crate::{GoMap, GoSet};

/// The size hint a reader trusts: at most 1 MiB worth of `T`s.
fn cautious<T>(hint: Option<usize>) -> usize {
    let per = core::mem::size_of::<T>().max(1);
    hint.unwrap_or(0).min((1 << 20) / per)
}

impl<K, V, H, A, R> Serialize for GoMap<K, V, H, A, R>
where
    K: Serialize + PartialEq,
    V: Serialize,
    H: MapHasher<K>,
    A: Allocator,
    R: RandSource,
{
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut m = serializer.serialize_map(Some(self.len()))?;
        for (k, v) in self {
            m.serialize_entry(k, v)?;
        }
        m.end()
    }
}

impl<'de, K, V, H, A, R> Deserialize<'de> for GoMap<K, V, H, A, R>
where
    K: Deserialize<'de> + PartialEq,
    V: Deserialize<'de>,
    H: MapHasher<K> + Default,
    A: Allocator + Default,
    R: RandSource + Default,
{
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[allow(clippy::type_complexity)]
        struct MapVisitor<K, V, H, A, R>(PhantomData<fn() -> (K, V, H, A, R)>);

        impl<'de, K, V, H, A, R> Visitor<'de> for MapVisitor<K, V, H, A, R>
        where
            K: Deserialize<'de> + PartialEq,
            V: Deserialize<'de>,
            H: MapHasher<K> + Default,
            A: Allocator + Default,
            R: RandSource + Default,
        {
            type Value = GoMap<K, V, H, A, R>;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a map")
            }

            fn visit_map<M: MapAccess<'de>>(self, mut access: M) -> Result<Self::Value, M::Error> {
                let hint = cautious::<(K, V)>(access.size_hint());
                let mut m = GoMap::from_parts(hint, H::default(), A::default(), R::default());
                while let Some((k, v)) = access.next_entry()? {
                    m.insert(k, v);
                }
                Ok(m)
            }
        }

        deserializer.deserialize_map(MapVisitor(PhantomData))
    }
}

impl<T, H, A, R> Serialize for GoSet<T, H, A, R>
where
    T: Serialize + PartialEq,
    H: MapHasher<T>,
    A: Allocator,
    R: RandSource,
{
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut s = serializer.serialize_seq(Some(self.len()))?;
        for v in self {
            s.serialize_element(v)?;
        }
        s.end()
    }
}

impl<'de, T, H, A, R> Deserialize<'de> for GoSet<T, H, A, R>
where
    T: Deserialize<'de> + PartialEq,
    H: MapHasher<T> + Default,
    A: Allocator + Default,
    R: RandSource + Default,
{
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[allow(clippy::type_complexity)]
        struct SetVisitor<T, H, A, R>(PhantomData<fn() -> (T, H, A, R)>);

        impl<'de, T, H, A, R> Visitor<'de> for SetVisitor<T, H, A, R>
        where
            T: Deserialize<'de> + PartialEq,
            H: MapHasher<T> + Default,
            A: Allocator + Default,
            R: RandSource + Default,
        {
            type Value = GoSet<T, H, A, R>;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a sequence")
            }

            fn visit_seq<S: SeqAccess<'de>>(self, mut access: S) -> Result<Self::Value, S::Error> {
                let hint = cautious::<T>(access.size_hint());
                let mut s = GoSet::from_parts(hint, H::default(), A::default(), R::default());
                while let Some(v) = access.next_element()? {
                    s.insert(v);
                }
                Ok(s)
            }
        }

        deserializer.deserialize_seq(SetVisitor(PhantomData))
    }
}

#[cfg(all(feature = "alloc", target_pointer_width = "64"))]
mod snapshot {
    use alloc_crate::vec::Vec;
    use core::fmt;

    use ::serde::de::{Deserialize, Deserializer, Error, SeqAccess, Visitor};
    use ::serde::ser::{Serialize, Serializer};

    use crate::snapshot::Snapshot;

    /// A snapshot is its file format (`Snapshot::to_bytes`, version 1), as serde bytes: one
    /// definition of the format, and reading it back goes through `Snapshot::from_bytes`,
    /// which checks every length and field.
    impl Serialize for Snapshot {
        fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
            serializer.serialize_bytes(&self.to_bytes())
        }
    }

    impl<'de> Deserialize<'de> for Snapshot {
        fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
            struct BytesVisitor;

            impl<'de> Visitor<'de> for BytesVisitor {
                type Value = Snapshot;

                fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                    f.write_str("the bytes of a gomap snapshot file (GOMAPSNP, version 1)")
                }

                fn visit_bytes<E: Error>(self, v: &[u8]) -> Result<Snapshot, E> {
                    Snapshot::from_bytes(v).map_err(E::custom)
                }

                fn visit_seq<S: SeqAccess<'de>>(self, mut access: S) -> Result<Snapshot, S::Error> {
                    // Formats without a bytes type (JSON) write a sequence of numbers.
                    let mut b = Vec::with_capacity(super::cautious::<u8>(access.size_hint()));
                    while let Some(x) = access.next_element::<u8>()? {
                        b.push(x);
                    }
                    Snapshot::from_bytes(&b).map_err(S::Error::custom)
                }
            }

            deserializer.deserialize_bytes(BytesVisitor)
        }
    }
}
