//! The macros generated code is written in: each generated structure, union and method is one
//! invocation, and the impls they need are written here once.
//!
//! The generated source names what the docs say (fields, wire names, types, which impls a
//! type needs); the macros write the rest. Impls that would be compiled for every type whether
//! an application uses it or not (`Debug`, `Default`, conversions) are `#[inline]`, so a crate
//! holding thousands of generated types compiles machine code only for those it uses.

/// A generated structure: the struct, with `extra` for what the docs do not describe, and the
/// impls its flags ask for.
///
/// ```
/// b24_runtime::object! {
///     /// A badge.
///     pub struct Badge [de ser keys default] {
///         /// The badge code.
///         opt code: String = "code" => CODE,
///         /// Sort order.
///         opt sort: b24_runtime::value::Int = "SORT" => SORT,
///         /// Ids of the users.
///         seq users: Vec<b24_runtime::value::Int> = "users" => USERS,
///     }
///     /// Custom fields (`UF_CRM_...`), decoded.
///     fn uf_crm -> serde_json::Value = "UF_CRM_";
/// }
/// let badge: Badge = serde_json::from_str(r#"{"code": "a", "SORT": null, "UF_CRM_1": 5}"#).unwrap();
/// assert_eq!(badge.code.as_deref(), Some("a"));
/// assert_eq!(badge.sort, None);
/// assert_eq!(badge.uf_crm().count(), 1);
/// assert_eq!(Badge::CODE.name(), "code");
/// assert_eq!(
///     serde_json::to_string(&badge).unwrap(),
///     r#"{"code":"a","SORT":null,"UF_CRM_1":5}"#
/// );
/// ```
///
/// Fields: `opt name: T = "wire"` is an `Option<T>` whose `null` or `[]` reads as `None` and
/// is kept in `extra`; `seq` is the same for a `T` that takes lists (`[]` is a value); `req`
/// is a plain `T` that must be present. `=> KEY` gives the field a batch
/// [`Key`](crate::batch::Key). After the struct: `fn name -> T = "PREFIX"` reads the keys of
/// a family the docs name by a pattern from `extra` (`fn name -> T = "PREFIX", digits` when the
/// rest of such a key is a number), and `new(name: T, ...);` (`new #[doc = "..."] (...);` with
/// its own doc) a constructor taking the `req`
/// fields (named as the fields) and leaving the others unset.
///
/// Flags: `de` (`Deserialize`, for structures without `req` fields), `de_req` (`Deserialize`,
/// for structures with them), `ser` (`Serialize`), `keys` (the batch keys), `default`
/// (`Default`, for structures without `req` fields), `params` (for requests: a key per parameter and
/// [`Parameters`](crate::batch::Parameters), which are required, for batch commands given as
/// [`Params`](crate::batch::Params)), `uf` ([`CustomFields`](crate::uf::CustomFields)
/// over `extra`, for structures with custom fields), `twin` (a `#[derive(Deserialize)]` twin
/// for the conformance crate's decode bench, compiled when that crate's `twin` feature is on).
#[macro_export]
macro_rules! object {
    (
        $(#[$meta:meta])*
        pub struct $name:ident [$($flag:ident)*] {
            $( $(#[$fmeta:meta])* $kind:ident $field:ident : $ty:ty = $api:literal $(=> $key:ident)? ),* $(,)?
        }
        $($rest:tt)*
    ) => {
        $(#[$meta])*
        #[derive(Clone, PartialEq)]
        pub struct $name {
            $( $(#[$fmeta])* pub $field: $crate::__field_type!($kind $ty), )*
            /// What the docs do not describe, and documented fields that came as `null` or
            /// `[]`, as they came (see `b24_runtime::Extra`).
            pub extra: $crate::Extra,
        }

        impl ::core::fmt::Debug for $name {
            #[inline]
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                f.debug_struct(::core::stringify!($name))
                    $( .field(::core::stringify!($field), &self.$field) )*
                    .field("extra", &self.extra)
                    .finish()
            }
        }

        // The impls get the fields without their docs, already parsed: the body is read once.
        $crate::__object_impls! {
            [$($flag)*] $name { $( $kind $field : $ty = $api $(=> $key)? ),* } $($rest)*
        }
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __object_impls {
    ([$($flag:ident)*] $name:ident $body:tt $($rest:tt)*) => {
        $( $crate::__object_part! { $flag $name $body } )*
        $crate::__object_methods! { $name $body $($rest)* }
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __field_type {
    (req $ty:ty) => { $ty };
    (opt $ty:ty) => { ::core::option::Option<$ty> };
    (seq $ty:ty) => { ::core::option::Option<$ty> };
}

/// A conversion between two views of one entity: `From<&Source>` for `Target`, copying the
/// fields named (each an `Option` of one type in both). What `extra` holds is not copied: a
/// read brings fields a write must not send back.
///
/// ```
/// b24_runtime::object! {
///     /// A read.
///     pub struct Got [de default] {
///         /// Title.
///         opt title: String = "TITLE",
///         /// Stage.
///         opt stage: String = "STAGE_ID",
///     }
/// }
/// b24_runtime::object! {
///     /// A write.
///     pub struct Edit [ser default] {
///         /// Title.
///         opt title: String = "TITLE",
///     }
/// }
/// b24_runtime::convert!(Got => Edit { title });
/// let got: Got = serde_json::from_str(r#"{"TITLE": "a", "STAGE_ID": "NEW", "ID": "5"}"#).unwrap();
/// let edit = Edit::from(&got);
/// assert_eq!(serde_json::to_string(&edit).unwrap(), r#"{"TITLE":"a"}"#);
/// ```
#[macro_export]
macro_rules! convert {
    ($source:path => $target:ident { $($field:ident),* $(,)? }) => {
        impl ::core::convert::From<&$source> for $target {
            #[inline]
            fn from(source: &$source) -> Self {
                $target {
                    $( $field: ::core::clone::Clone::clone(&source.$field), )*
                    extra: ::core::default::Default::default(),
                }
            }
        }
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __field_required {
    (req) => {
        true
    };
    (opt) => {
        false
    };
    (seq) => {
        false
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __field_set {
    (req $value:expr) => {
        true
    };
    (opt $value:expr) => {
        ::core::option::Option::is_some($value)
    };
    (seq $value:expr) => {
        ::core::option::Option::is_some($value)
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __field_init {
    (req $field:ident) => {
        ::core::convert::Into::into($field)
    };
    (opt $field:ident) => {
        ::core::option::Option::None
    };
    (seq $field:ident) => {
        ::core::option::Option::None
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __field_take {
    (req $value:expr, $api:literal, $name:ident) => {
        $crate::__private::present($value, $api, ::core::stringify!($name))?
    };
    (opt $value:expr, $api:literal, $name:ident) => {
        $value
    };
    (seq $value:expr, $api:literal, $name:ident) => {
        $value
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __object_part {
    (
        de $name:ident {
            $( $(#[$fmeta:meta])* $kind:ident $field:ident : $ty:ty = $api:literal $(=> $key:ident)? ),* $(,)?
        }
    ) => {
        impl $crate::__private::ReadObject for $name {
            const NAME: &'static str = ::core::stringify!($name);

            fn read_field<'de, A: $crate::__private::serde::de::MapAccess<'de>>(
                &mut self,
                key: &str,
                map: &mut A,
            ) -> ::core::result::Result<bool, A::Error> {
                #[allow(unreachable_patterns)]
                match key {
                    $( $api => $crate::__private::$kind(&mut self.$field, &mut self.extra, key, map, <Self as $crate::__private::ReadObject>::NAME), )*
                    _ => ::core::result::Result::Ok(false),
                }
            }

            #[inline]
            fn extra(&mut self) -> &mut $crate::Extra {
                &mut self.extra
            }
        }

        impl<'de> $crate::__private::serde::Deserialize<'de> for $name {
            fn deserialize<D: $crate::__private::serde::Deserializer<'de>>(
                deserializer: D,
            ) -> ::core::result::Result<Self, D::Error> {
                $crate::__private::read_object(deserializer)
            }
        }
    };
    (
        de_req $name:ident {
            $( $(#[$fmeta:meta])* $kind:ident $field:ident : $ty:ty = $api:literal $(=> $key:ident)? ),* $(,)?
        }
    ) => {
        const _: () = {
            // The fields while they are read; required ones are checked at the end.
            struct Reading {
                $( $field: ::core::option::Option<$ty>, )*
                extra: $crate::Extra,
            }

            impl ::core::default::Default for Reading {
                #[inline]
                fn default() -> Self {
                    Reading {
                        $( $field: ::core::option::Option::None, )*
                        extra: ::core::default::Default::default(),
                    }
                }
            }

            impl $crate::__private::ReadObject for Reading {
                const NAME: &'static str = ::core::stringify!($name);

                fn read_field<'de, A: $crate::__private::serde::de::MapAccess<'de>>(
                    &mut self,
                    key: &str,
                    map: &mut A,
                ) -> ::core::result::Result<bool, A::Error> {
                    #[allow(unreachable_patterns)]
                    match key {
                        $( $api => $crate::__private::$kind(&mut self.$field, &mut self.extra, key, map, <Self as $crate::__private::ReadObject>::NAME), )*
                        _ => ::core::result::Result::Ok(false),
                    }
                }

                #[inline]
                fn extra(&mut self) -> &mut $crate::Extra {
                    &mut self.extra
                }
            }

            impl<'de> $crate::__private::serde::Deserialize<'de> for $name {
                fn deserialize<D: $crate::__private::serde::Deserializer<'de>>(
                    deserializer: D,
                ) -> ::core::result::Result<Self, D::Error> {
                    let read: Reading = $crate::__private::read_object(deserializer)?;
                    ::core::result::Result::Ok($name {
                        $( $field: $crate::__field_take!($kind read.$field, $api, $name), )*
                        extra: read.extra,
                    })
                }
            }
        };
    };
    (
        ser $name:ident {
            $( $(#[$fmeta:meta])* $kind:ident $field:ident : $ty:ty = $api:literal $(=> $key:ident)? ),* $(,)?
        }
    ) => {
        impl $crate::__private::serde::Serialize for $name {
            fn serialize<S: $crate::__private::serde::Serializer>(
                &self,
                serializer: S,
            ) -> ::core::result::Result<S::Ok, S::Error> {
                // The keys a field writes: an `extra` entry with one of them is not written.
                let written = |key: &str| -> bool {
                    #[allow(unreachable_patterns)]
                    match key {
                        $( $api => $crate::__field_set!($kind &self.$field), )*
                        _ => false,
                    }
                };
                #[allow(unused_mut)]
                let mut object = $crate::__private::ObjectWriter::new(serializer, &self.extra, written)?;
                $( object.$kind($api, &self.$field)?; )*
                object.end()
            }
        }
    };
    (
        keys $name:ident {
            $( $(#[$fmeta:meta])* $kind:ident $field:ident : $ty:ty = $api:literal $(=> $key:ident)? ),* $(,)?
        }
    ) => {
        #[doc = ::core::concat!(
            "Batch keys: one per field a response carries, documented with its wire name, for a typed batch reference: `cmd.result().get(",
            ::core::stringify!($name),
            "::KEY)`."
        )]
        impl $name {
            $($(
                // One literal doc per key: a `concat!` per key costs more to expand than the
                // rest of the key.
                #[doc = $api]
                pub const $key: $crate::batch::Key<$name, $ty> = $crate::batch::Key::new($api);
            )?)*
        }
    };
    (
        params $name:ident {
            $( $(#[$fmeta:meta])* $kind:ident $field:ident : $ty:ty = $api:literal $(=> $key:ident)? ),* $(,)?
        }
    ) => {
        #[doc = ::core::concat!(
            "Parameter keys: one per parameter, documented with its wire name, for a batch command given as `Params`: `Params::<",
            ::core::stringify!($name),
            ">::new().bind(",
            ::core::stringify!($name),
            "::KEY, cmd.result())`."
        )]
        impl $name {
            $($(
                #[doc = $api]
                pub const $key: $crate::batch::Key<$name, $ty> = $crate::batch::Key::new($api);
            )?)*
        }

        impl $crate::batch::Parameters for $name {
            const PARAMETERS: &'static [(&'static str, bool)] =
                &[$( ($api, $crate::__field_required!($kind)) ),*];
        }
    };
    (
        twin $name:ident {
            $( $(#[$fmeta:meta])* $kind:ident $field:ident : $ty:ty = $api:literal $(=> $key:ident)? ),* $(,)?
        }
    ) => {
        // The decode bench's derive twin (`__private::Twin`), only in a crate with a `twin`
        // feature that is on.
        #[cfg(feature = "twin")]
        const _: () = {
            #[derive(::serde::Deserialize)]
            #[allow(dead_code)]
            pub struct Twin {
                $(
                    #[serde(rename = $api)]
                    $field: <$crate::__field_type!($kind $ty) as $crate::__private::Twin>::Twin,
                )*
            }

            impl $crate::__private::Twin for $name {
                type Twin = Twin;
            }
        };
    };
    (
        uf $name:ident $body:tt
    ) => {
        // Custom fields (`UF_CRM_...`) by name with a typed value: `uf::<T>`, `set_uf`.
        impl $crate::uf::CustomFields for $name {
            #[inline]
            fn extra(&self) -> &$crate::Extra {
                &self.extra
            }
            #[inline]
            fn extra_mut(&mut self) -> &mut $crate::Extra {
                &mut self.extra
            }
        }
    };
    (
        default $name:ident {
            $( $(#[$fmeta:meta])* $kind:ident $field:ident : $ty:ty = $api:literal $(=> $key:ident)? ),* $(,)?
        }
    ) => {
        impl ::core::default::Default for $name {
            #[inline]
            fn default() -> Self {
                $name {
                    $( $field: ::core::option::Option::None, )*
                    extra: ::core::default::Default::default(),
                }
            }
        }
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __object_methods {
    (
        $name:ident $body:tt
        $(
            $(#[$pmeta:meta])*
            fn $accessor:ident -> $pty:ty = $prefix:literal $(, $digits:ident)?;
        )*
        $( new $(#[$nmeta:meta])* ($($arg:ident : $argty:ty),* $(,)?); )?
    ) => {
        $(
            impl $name {
                $(#[$pmeta])*
                ///
                /// The keys of this family are kept in `extra`; this reads each with its value
                /// decoded.
                #[inline]
                pub fn $accessor(&self) -> impl ::core::iter::Iterator<
                    Item = (&str, ::core::result::Result<$pty, $crate::__private::serde_json::Error>),
                > + '_ {
                    $crate::__private::pattern_entries(&self.extra, $prefix, $crate::__digits!($($digits)?))
                }
            }
        )*
        $( $crate::__object_new! { [$(#[$nmeta])*] $name $body ($($arg: $argty),*) } )?
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __object_new {
    (
        [] $name:ident $body:tt $args:tt
    ) => {
        $crate::__object_new! {
            [
                /// A value with the fields the docs mark required set and the others unset.
            ]
            $name $body $args
        }
    };
    (
        [$(#[$nmeta:meta])+] $name:ident {
            $( $(#[$fmeta:meta])* $kind:ident $field:ident : $ty:ty = $api:literal $(=> $key:ident)? ),* $(,)?
        }
        ($($arg:ident : $argty:ty),*)
    ) => {
        impl $name {
            $(#[$nmeta])+
            #[allow(clippy::too_many_arguments, clippy::new_without_default)]
            pub fn new($($arg: impl ::core::convert::Into<$argty>),*) -> Self {
                $name {
                    $( $field: $crate::__field_init!($kind $field), )*
                    extra: ::core::default::Default::default(),
                }
            }
        }
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __digits {
    () => {
        false
    };
    (digits) => {
        true
    };
}

/// A generated union: one variant per form the docs allow, tried in order when reading.
///
/// ```
/// b24_runtime::one_of! {
///     /// An id or a list of ids.
///     pub enum Ids [de ser] {
///         Integer(b24_runtime::value::Int),
///         Array(Vec<b24_runtime::value::Int>),
///     }
/// }
/// let ids: Ids = serde_json::from_str("[1, \"2\"]").unwrap();
/// assert!(matches!(ids, Ids::Array(_)));
/// assert_eq!(serde_json::to_string(&ids).unwrap(), "[1,\"2\"]");
/// ```
///
/// A form written `Variant(T) as list` takes lists: an empty array is tried on such forms
/// first. Flags: `de` (`Deserialize`), `ser` (`Serialize`), `twin` (as `object!`'s). After
/// the body, `reads { objects => Variant; arrays => Variant; }` (either part may be left out)
/// names the one form that can take a JSON object and the one that can take every array, `[]`
/// included (a `Vec` or raw JSON): such a value is read straight into it, not buffered and
/// tried form by form.
#[macro_export]
macro_rules! one_of {
    (
        $(#[$meta:meta])*
        pub enum $name:ident [$($flag:ident)*] $body:tt
        reads $reads:tt
    ) => {
        $crate::__one_of_enum! { [$(#[$meta])*] $name $body }
        $( $crate::__one_of_part! { $flag $name $body $reads } )*
    };
    (
        $(#[$meta:meta])*
        pub enum $name:ident [$($flag:ident)*] $body:tt
    ) => {
        $crate::one_of! { $(#[$meta])* pub enum $name [$($flag)*] $body reads {} }
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __one_of_enum {
    ([$(#[$meta:meta])*] $name:ident { $( $variant:ident ( $ty:ty ) $(as $list:ident)? ),* $(,)? }) => {
        $(#[$meta])*
        #[derive(Clone, PartialEq)]
        pub enum $name {
            $(
                #[doc = ::core::concat!("The `", ::core::stringify!($variant), "` form.")]
                $variant($ty),
            )*
        }

        impl ::core::fmt::Debug for $name {
            #[inline]
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                match self {
                    $( $name::$variant(value) => f.debug_tuple(::core::stringify!($variant)).field(value).finish(), )*
                }
            }
        }
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __one_of_part {
    (
        de $name:ident { $( $variant:ident ( $ty:ty ) $(as $list:ident)? ),* $(,)? }
        { $(objects => $objects:ident;)? $(arrays => $arrays:ident;)? }
    ) => {
        impl $crate::__private::Direct for $name {
            $(
                const OBJECT: bool = true;
                #[inline]
                fn object<'de, D: $crate::__private::serde::Deserializer<'de>>(
                    object: D,
                ) -> ::core::result::Result<Self, D::Error> {
                    $crate::__private::serde::Deserialize::deserialize(object).map($name::$objects)
                }
            )?
            $(
                const ARRAY: bool = true;
                #[inline]
                fn array<'de, D: $crate::__private::serde::Deserializer<'de>>(
                    array: D,
                ) -> ::core::result::Result<Self, D::Error> {
                    $crate::__private::serde::Deserialize::deserialize(array).map($name::$arrays)
                }
            )?
        }

        impl<'de> $crate::__private::serde::Deserialize<'de> for $name {
            fn deserialize<D: $crate::__private::serde::Deserializer<'de>>(
                deserializer: D,
            ) -> ::core::result::Result<Self, D::Error> {
                let union = $crate::__private::Union::<_, Self>::read(deserializer, ::core::stringify!($name))?;
                let union = match union.direct() {
                    ::core::result::Result::Ok(value) => return ::core::result::Result::Ok(value),
                    ::core::result::Result::Err(union) => union,
                };
                // `[]` is a list's before it is an empty structure's.
                if union.is_empty_array() {
                    $( $crate::__one_of_list! { [$($list)?] union $name $variant $ty } )*
                }
                $(
                    if let ::core::option::Option::Some(value) = union.try_form::<$ty>() {
                        return ::core::result::Result::Ok($name::$variant(value));
                    }
                )*
                ::core::result::Result::Err(union.no_form())
            }
        }
    };
    (twin $name:ident { $( $variant:ident ( $ty:ty ) $(as $list:ident)? ),* $(,)? } $reads:tt) => {
        // The decode bench's derive twin (`__private::Twin`): an untagged enum of the forms'
        // twins, only in a crate with a `twin` feature that is on.
        #[cfg(feature = "twin")]
        const _: () = {
            #[derive(::serde::Deserialize)]
            #[serde(untagged)]
            #[allow(dead_code)]
            pub enum Twin {
                $( $variant(<$ty as $crate::__private::Twin>::Twin), )*
            }

            impl $crate::__private::Twin for $name {
                type Twin = Twin;
            }
        };
    };
    (ser $name:ident { $( $variant:ident ( $ty:ty ) $(as $list:ident)? ),* $(,)? } $reads:tt) => {
        impl $crate::__private::serde::Serialize for $name {
            fn serialize<S: $crate::__private::serde::Serializer>(
                &self,
                serializer: S,
            ) -> ::core::result::Result<S::Ok, S::Error> {
                match self {
                    $( $name::$variant(value) => $crate::__private::serde::Serialize::serialize(value, serializer), )*
                }
            }
        }
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __one_of_list {
    ([] $($rest:tt)*) => {};
    ([list] $union:ident $name:ident $variant:ident $ty:ty) => {
        if let ::core::option::Option::Some(value) = $union.try_form::<$ty>() {
            return ::core::result::Result::Ok($name::$variant(value));
        }
    };
}

/// The items every generated method module has: `METHOD`, the [`Method`](crate::Method) impl
/// of its `Request` and `call`. `Request`, `Response` and `Error` are the module's own.
///
/// `method!("crm.item.get", V2, Read);`, with attributes for `call` after the access
/// (`method!("x.y", V2, Write, #[deprecated(note = "...")]);`).
#[macro_export]
macro_rules! method {
    ($name:literal, $version:ident, $access:ident $(, #[$meta:meta])* $(,)?) => {
        /// The REST name of this method.
        pub const METHOD: &str = $name;

        impl $crate::Method for Request {
            const NAME: &'static str = METHOD;
            const VERSION: $crate::ApiVersion = $crate::ApiVersion::$version;
            const ACCESS: $crate::Access = $crate::Access::$access;
            type Response = Response;
            type Error = Error;
        }

        #[doc = ::core::concat!("Calls `", $name, "`.")]
        $(#[$meta])*
        // Not an `async fn`: its state machine would be compiled here, for every method, with
        // the whole decoding path of its response. This hands out the runtime's future, which
        // an application compiles only for the methods it calls.
        #[inline]
        pub fn call<'a>(
            client: &'a $crate::Client,
            request: &'a Request,
        ) -> impl ::core::future::Future<
            Output = ::core::result::Result<Response, $crate::Error<Error>>,
        > + 'a {
            client.call(request)
        }
    };
}
