//! An application end to end on loopback, against the emulator as its test portal: install →
//! bind → a change in the emulator → the typed event delivered and verified → a call with that
//! portal's client; offline events read and acknowledged only as processed.

use std::sync::Arc;
use std::time::Duration;

use b24::events::Event;
use b24::runtime::offline::OfflineEvents;
use b24::{App, Client};
use b24_axum::AppRoutes;
use b24_emulator::Emulator;
use futures::StreamExt;
use tokio::sync::mpsc;

struct Running {
    emulator: Emulator,
    app: Arc<App>,
    base: String,
    events: mpsc::UnboundedReceiver<(Event, Option<String>)>,
    placements: mpsc::UnboundedReceiver<(String, Option<i64>)>,
}

/// The emulator, and an application serving its routes on loopback whose event handler reads
/// the deal of a deal event back with the portal's client.
async fn running() -> Running {
    let emulator = Emulator::builder().start().await.expect("emulator");
    let oauth = emulator.oauth_app();
    let app = Arc::new(
        App::builder(oauth.client_id, oauth.client_secret)
            .token_endpoint(emulator.token_url())
            .build()
            .expect("app"),
    );
    let (tx, events) = mpsc::unbounded_channel();
    let (placed, placements) = mpsc::unbounded_channel();
    let routes = AppRoutes::<Event>::new(app.clone())
        .on_placement(move |frame, _client| {
            // PLACEMENT_OPTIONS typed from the placement's page.
            let options = frame.options_as::<b24::placements::CrmXxxDetailTab>();
            let id = options.ok().and_then(|o| o.id).map(|i| i.get());
            let _ = placed.send((frame.placement.clone(), id));
            async { b24_axum::axum::response::IntoResponse::into_response("tab") }
        })
        .on_event(move |event, client: Client| {
            let tx = tx.clone();
            async move {
                let title = match &event {
                    Event::OnCrmDealAdd(e) => {
                        let id = e
                            .data
                            .fields
                            .as_ref()
                            .and_then(|f| f.id.as_ref())
                            .map(|i| i.get());
                        let id = id.ok_or("no deal id")?;
                        let deal = b24::crm::deal::get::call(
                            &client,
                            &b24::crm::deal::get::Request::new(id),
                        )
                        .await?;
                        deal.title
                    }
                    _ => None,
                };
                let _ = tx.send((event, title));
                Ok(())
            }
        });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    tokio::spawn(async move { b24_axum::axum::serve(listener, routes.router()).await });
    Running {
        emulator,
        app,
        base,
        events,
        placements,
    }
}

async fn next_event(r: &mut Running) -> (Event, Option<String>) {
    tokio::time::timeout(Duration::from_secs(10), r.events.recv())
        .await
        .expect("an event within 10 s")
        .expect("channel open")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn install_bind_change_and_the_typed_event_arrives_with_a_working_client() {
    let mut r = running().await;
    let installed = r
        .emulator
        .install_app(&format!("{}/install", r.base))
        .await
        .expect("install handshake");
    assert_eq!(installed.status, 200);
    let client = r
        .app
        .client(b24_emulator::MEMBER_ID)
        .await
        .expect("installed");

    let mut bind = b24::event::bind::Request::new("ONCRMDEALADD");
    bind.handler = Some(format!("{}/events", r.base));
    assert!(b24::event::bind::call(&client, &bind)
        .await
        .expect("bound")
        .get());
    let subs = b24::event::get::call(&client, &b24::event::get::Request::new())
        .await
        .expect("listed");
    assert_eq!(subs.len(), 1);
    assert_eq!(subs[0].event.as_deref(), Some("ONCRMDEALADD"));
    // Binding twice is refused with the documented error.
    assert!(b24::event::bind::call(&client, &bind).await.is_err());

    let fields = b24::crm::deal::add::Fields {
        title: Some("Office chairs".into()),
        ..Default::default()
    };
    let id = b24::crm::deal::add::call(&client, &b24::crm::deal::add::Request::new(fields))
        .await
        .expect("deal added")
        .get();
    let (event, title) = next_event(&mut r).await;
    let Event::OnCrmDealAdd(e) = event else {
        panic!("{event:?}")
    };
    assert_eq!(e.event, "ONCRMDEALADD");
    let got = e
        .data
        .fields
        .as_ref()
        .and_then(|f| f.id.as_ref())
        .map(|i| i.get());
    assert_eq!(got, Some(id), "data.FIELDS.ID is the new deal");
    assert_eq!(e.auth.member_id.as_deref(), Some(b24_emulator::MEMBER_ID));
    assert_eq!(
        title.as_deref(),
        Some("Office chairs"),
        "read back with the handed-over client"
    );
    assert!(!format!("{e:?}").contains(&installed.application_token));

    // Not subscribed: an update sends nothing; unbound: an add sends nothing either.
    let mut unbind = b24::event::unbind::Request::new("ONCRMDEALADD");
    unbind.handler = bind.handler.clone();
    b24::event::unbind::call(&client, &unbind)
        .await
        .expect("unbound");
    let fields = b24::crm::deal::add::Fields::default();
    b24::crm::deal::add::call(&client, &b24::crm::deal::add::Request::new(fields))
        .await
        .expect("second deal");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(r.events.try_recv().is_err(), "no event after unbind");
    let delivered = r.emulator.deliveries();
    assert_eq!(delivered.len(), 1, "{delivered:?}");
    assert_eq!(delivered[0].status, Some(200));

    // A forged event to the same handler is refused and never reaches the handler.
    let forged = format!(
        "event=ONCRMDEALADD&data%5BFIELDS%5D%5BID%5D=1&auth%5Bmember_id%5D={}&auth%5Bapplication_token%5D=forged",
        b24_emulator::MEMBER_ID
    );
    let answer = reqwest::Client::new()
        .post(format!("{}/events", r.base))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(forged)
        .send()
        .await
        .expect("sent");
    assert_eq!(answer.status(), 401);
    assert!(r.events.try_recv().is_err());

    // A placement opened by the portal: verified, its options typed from the page.
    let status = r
        .emulator
        .open_placement(
            &format!("{}/placement", r.base),
            "CRM_DEAL_DETAIL_TAB",
            serde_json::json!({"ID": id.to_string()}),
        )
        .await
        .expect("opened");
    assert_eq!(status, 200);
    let (placement, options_id) = r.placements.recv().await.expect("placement");
    assert_eq!(
        (placement.as_str(), options_id),
        ("CRM_DEAL_DETAIL_TAB", Some(id))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn offline_events_are_removed_only_once_processed() {
    let r = running().await;
    r.emulator
        .install_app_by_event(&format!("{}/install", r.base))
        .await
        .expect("install by ONAPPINSTALL");
    let client = r
        .app
        .client(b24_emulator::MEMBER_ID)
        .await
        .expect("installed");
    let mut bind = b24::event::bind::Request::new("ONCRMDEALUPDATE");
    bind.event_type = Some("offline".into());
    b24::event::bind::call(&client, &bind)
        .await
        .expect("bound offline");
    let id = b24::crm::deal::add::call(
        &client,
        &b24::crm::deal::add::Request::new(b24::crm::deal::add::Fields::default()),
    )
    .await
    .expect("added")
    .get();
    for stage in ["PREPARATION", "WON"] {
        let params = serde_json::json!({"id": id, "fields": {"STAGE_ID": stage}});
        client
            .call_raw(
                "crm.deal.update",
                b24::ApiVersion::V2,
                b24::Access::Write,
                &params,
            )
            .await
            .expect("updated");
    }
    assert_eq!(r.emulator.offline_events(), 2);

    // The first reader processes one record and stops (as a process that dies would).
    let first = {
        let mut stream = std::pin::pin!(OfflineEvents::new(client.clone()).batch(1).stream());
        let e = stream.next().await.expect("a record").expect("read");
        assert_eq!(e.name, "ONCRMDEALUPDATE");
        assert_eq!(e.data["FIELDS"]["ID"], id.to_string());
        e.ack();
        // The next poll sends the acknowledgement, then hands the second record over.
        let second = stream.next().await.expect("another").expect("read");
        second.process_id.clone().expect("reserved")
    };
    assert_eq!(
        r.emulator.offline_events(),
        1,
        "only the processed record is gone"
    );
    // A new reader resuming the reservation gets the record that was not acknowledged.
    let mut stream = std::pin::pin!(OfflineEvents::new(client.clone()).resume(first).stream());
    let again = stream.next().await.expect("redelivered").expect("read");
    again.ack();
    assert!(stream.next().await.is_none(), "nothing more");
    assert_eq!(r.emulator.offline_events(), 0);
}
