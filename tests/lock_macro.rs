//! `api!(..., lock = "...")`: generating with a lock of the published API keeps what the docs
//! dropped. The lock (`tests/fixtures/outdated.lock`, written for this test) published
//! `thing.old` with a `name` parameter the page no longer has, and a method `thing.gone` the
//! docs no longer have at all.
#![allow(deprecated)]

mod locked {
    b24::api!(
        path = "tests/ui/outdated",
        lock = "tests/fixtures/outdated.lock"
    );
}

mod plain {
    b24::api!(path = "tests/ui/outdated");
}

#[test]
fn the_lock_keeps_a_dropped_parameter_and_a_dropped_method() {
    // The dropped parameter is a field again, next to the documented one.
    let request = locked::thing::old::Request {
        id: Some(7.into()),
        name: Some("kept".into()),
        ..locked::thing::old::Request::new()
    };
    assert_eq!(request.name.as_deref(), Some("kept"));
    // The dropped method is rebuilt from the lock, its required parameter required.
    let gone = locked::thing::gone::Request::new(3);
    assert_eq!(gone.id, b24::value::Int::from(3));
    assert_eq!(
        <locked::thing::gone::Request as b24::Method>::NAME,
        "thing.gone"
    );
    // Without the lock the page alone is generated.
    let plain = plain::thing::old::Request::new();
    assert!(plain.id.is_none());
}
