// A bound parameter is checked against the result's type: `crm.deal.get`'s `id` takes an
// integer, not the title another command returned.
use b24::batch::{Batch, Params};
use b24::crm::deal;

fn main() {
    let mut batch = Batch::new();
    let got = batch.add(&deal::get::Request::new(1)).unwrap();
    let title = got.result().get(deal::get::Response::TITLE);
    let _ = Params::<deal::get::Request>::new().bind(deal::get::Request::ID, title);
}
