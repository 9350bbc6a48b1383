// A batch reference is checked against the result's type: a key of another structure does not
// apply to `add`'s response.
use b24::crm::activity::badge::add;
use b24::types::BadgeRecordFields;

fn main() {
    let mut batch = b24::Batch::new();
    let request = add::Request::new(
        "missedCall",
        add::Title::String("Call status".into()),
        add::Value::String("Missed".into()),
        "failure",
    );
    let added = batch.add(&request).unwrap();
    let _code = added.result().get(BadgeRecordFields::CODE);
}
