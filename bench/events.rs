//! Incoming events per second: a form-encoded `ONCRMDEALADD` as the portal sends it, token
//! checked and parsed (`Event::parse_verified`), then decoded into the generated
//! `b24::events::Event` (`data.FIELDS.ID` typed); a forged token refused; the same event as
//! JSON. One thread, release build: `cargo bench --bench events`.

use std::hint::black_box;
use std::time::Instant;

use b24::events::Event;
use b24::runtime::events::{Event as RawEvent, FromEvent};

const TOKEN: &str = "51856fefc120afa4b628cc82d3935cce";
const BODY: &str = "event=ONCRMDEALADD&event_handler_id=185&data%5BFIELDS%5D%5BID%5D=7405&ts=1766047124\
    &auth%5Baccess_token%5D=s6p6eclrvim6da22ft9ch94ekreb52lv&auth%5Bexpires_in%5D=3600&auth%5Bscope%5D=crm\
    &auth%5Bdomain%5D=some-domain.bitrix24.com&auth%5Bserver_endpoint%5D=https%3A%2F%2Foauth.bitrix.info%2Frest%2F\
    &auth%5Bstatus%5D=L&auth%5Bclient_endpoint%5D=https%3A%2F%2Fsome-domain.bitrix24.com%2Frest%2F\
    &auth%5Bmember_id%5D=d897063e1ce7c5eb9f04b9751eef5915&auth%5Bapplication_token%5D=51856fefc120afa4b628cc82d3935cce";

fn rate(name: &str, n: u32, mut f: impl FnMut()) {
    for _ in 0..n / 10 {
        f();
    }
    let mut best = f64::MAX;
    for _ in 0..5 {
        let t = Instant::now();
        for _ in 0..n {
            f();
        }
        best = best.min(t.elapsed().as_secs_f64());
    }
    println!(
        "{name:<48} {:>10.0} /s  ({:.2} µs each, best of 5 × {n})",
        f64::from(n) / best,
        best * 1e6 / f64::from(n)
    );
}

fn main() {
    let json = serde_json::to_vec(&serde_json::json!({
        "event": "ONCRMDEALADD", "event_handler_id": "185",
        "data": {"FIELDS": {"ID": "7405"}}, "ts": "1766047124",
        "auth": {"member_id": "d897063e1ce7c5eb9f04b9751eef5915", "application_token": TOKEN}
    }))
    .expect("json");
    let forged = BODY.replace(TOKEN, "51856fefc120afa4b628cc82d3935ccf");
    // Sanity: the typed variant comes out.
    let e = Event::from_event(RawEvent::parse_verified(BODY.as_bytes(), TOKEN).expect("genuine"));
    assert!(matches!(e, Event::OnCrmDealAdd(_)), "{e:?}");
    println!("body: {} bytes form, {} bytes JSON", BODY.len(), json.len());
    rate("form: verify + parse (raw Event)", 200_000, || {
        black_box(RawEvent::parse_verified(black_box(BODY.as_bytes()), TOKEN).ok());
    });
    rate(
        "form: verify + parse + typed b24::events::Event",
        200_000,
        || {
            let raw = RawEvent::parse_verified(black_box(BODY.as_bytes()), TOKEN).expect("genuine");
            black_box(Event::from_event(raw));
        },
    );
    rate("form: forged token refused", 200_000, || {
        black_box(RawEvent::parse_verified(black_box(forged.as_bytes()), TOKEN).is_err());
    });
    rate("JSON: parse + verify + typed", 200_000, || {
        let raw = RawEvent::parse_json(black_box(&json)).expect("json");
        black_box(raw.verify(TOKEN).is_ok());
        black_box(Event::from_event(raw));
    });
}
