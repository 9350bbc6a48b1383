//! Structures generated as exact copies of one another in different method modules are one
//! Rust type: the definition stays at one copy, the others are aliases of it; a copy that
//! differs in anything but its own doc (here a field's doc) keeps its own definition.

use b24_codegen::model::{Access, ApiVersion, Field, Method, Required, Scalar, Source, Type};
use b24_codegen::{generate, render, Api, Options};

fn field(name: &str, ty: Type, doc: &str) -> Field {
    Field {
        api_name: name.into(),
        rust_name: name.to_ascii_lowercase(),
        doc_type: String::new(),
        ty,
        required: Required::No,
        description: doc.into(),
        source: Source::new("page.md", 1),
        deprecated: None,
    }
}

/// `name` returning `{ "item": { "NAME": string } }`, `NAME` documented as `doc`.
fn method(name: &str, doc: &str) -> Method {
    let item = Type::Object {
        fields: vec![field("NAME", Type::scalar(Scalar::String), doc)],
    };
    Method {
        name: name.into(),
        version: ApiVersion::V2,
        title: format!("The method {name}"),
        description: String::new(),
        scopes: vec!["thing".into()],
        who_can_call: None,
        deprecated: None,
        access: Access::Read,
        params: vec![field("id", Type::scalar(Scalar::Integer), "The id.")],
        result: Type::Object {
            fields: vec![field("item", item, "The item.")],
        },
        paging: None,
        errors: Vec::new(),
        examples: Vec::new(),
        source: Source::new(format!("{name}.md"), 1),
    }
}

fn code(methods: Vec<Method>) -> String {
    let api = Api {
        methods,
        ..Api::default()
    };
    render(&generate(&api, &Options::default()))
}

/// The text of module `name` (up to the next module at its level).
fn module<'a>(code: &'a str, name: &str) -> &'a str {
    let start = code
        .find(&format!("pub mod {name} {{"))
        .unwrap_or_else(|| panic!("no module {name}: {code}"));
    let rest = &code[start + 1..];
    let end = rest.find("\n    pub mod ").map_or(rest.len(), |e| e + 1);
    &code[start..start + end]
}

#[test]
fn equal_structures_in_two_modules_are_one_definition_and_an_alias() {
    let methods = vec![
        method("thing.first.get", "The name."),
        method("thing.second.get", "The name."),
        method("thing.third.get", "The name, as the portal spells it."),
    ];
    let code = code(methods.clone());
    syn::parse_file(&code).expect("the generated code parses");
    let (first, second, third) = (
        module(&code, "first"),
        module(&code, "second"),
        module(&code, "third"),
    );
    // The first copy (the smallest module path) keeps the definitions, the second names them.
    assert!(first.contains("pub struct Item ["), "{first}");
    assert!(first.contains("pub struct Response ["), "{first}");
    assert!(!second.contains("pub struct Item"), "{second}");
    assert!(
        second.contains("pub type Item = super::super::first::get::Item;"),
        "{second}"
    );
    assert!(
        second.contains("pub type Response = super::super::first::get::Response;"),
        "{second}"
    );
    // Each method keeps its own `Request`: `method!` implements `Method` for it.
    for m in [first, second, third] {
        assert!(m.contains("pub struct Request ["), "{m}");
    }
    // Another field doc: its own `Item`, and so its own `Response`.
    assert!(third.contains("pub struct Item ["), "{third}");
    assert!(third.contains("pub struct Response ["), "{third}");
    assert!(!third.contains("pub type Item"), "{third}");
    assert_eq!(code.matches("pub struct Item [").count(), 2, "{code}");

    // Whatever the order the methods come in.
    let mut reversed = methods;
    reversed.reverse();
    assert_eq!(self::code(reversed), code);
}

#[test]
fn the_kept_copy_has_the_impls_every_copy_needs() {
    // `thing.a.set` sends an `item`, `thing.b.get` brings one of the same shape: the kept
    // copy (in `a`) is read too, with batch keys.
    let mut set = method("thing.a.set", "The name.");
    let got = method("thing.b.get", "The name.");
    let Type::Object { fields } = &got.result else {
        unreachable!("`method` returns an object")
    };
    set.params.push(fields[0].clone());
    set.result = Type::scalar(Scalar::Boolean);
    let code = code(vec![set, got]);
    let (a, b) = (module(&code, "a"), module(&code, "b"));
    assert!(a.contains("pub struct Item [de ser keys default]"), "{a}");
    assert!(a.contains("opt name: String = \"NAME\" => NAME,"), "{a}");
    assert!(
        b.contains("pub type Item = super::super::a::set::Item;"),
        "{b}"
    );
}
