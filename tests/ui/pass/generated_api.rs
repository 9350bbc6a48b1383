// A program written against the generated API compiles: constructors, optional fields, unions,
// typed errors, the Method and ListMethod impls, and calls through both entry points.
use b24::crm::activity::badge::add;
use b24::crm::item::list;
use b24::{value, Access, ApiVersion, Client, Error, ListMethod, Method};

async fn badge(client: &Client) -> Result<Option<String>, Error<add::Error>> {
    let request = add::Request::new(
        "missedCall",
        add::Title::String("Call status".into()),
        add::Value::String("Missed".into()),
        "failure",
    );
    let response: add::Response = add::call(client, &request).await?;
    Ok(response.badge.and_then(|badge| badge.code))
}

async fn items(client: &Client) -> usize {
    let mut request = list::Request::new(2);
    request.select = Some(vec!["id".into(), "title".into()]);
    match client.call(&request).await {
        Ok(response) => <list::Request as ListMethod>::into_items(response).len(),
        Err(Error::Method(list::Error::NotFound(api))) => api.status().into(),
        Err(Error::QueryLimitExceeded(_)) | Err(Error::OperationTimeLimit(_)) => 0,
        Err(_) => 0,
    }
}

fn main() {
    const _: () = assert!(matches!(<add::Request as Method>::ACCESS, Access::Write));
    const _: () = assert!(matches!(<list::Request as Method>::ACCESS, Access::Read));
    const _: () = assert!(matches!(<list::Request as Method>::VERSION, ApiVersion::V2));
    assert_eq!(add::METHOD, <add::Request as Method>::NAME);
    let _ = value::Int::from(5);
    let _ = (badge, items);
}
