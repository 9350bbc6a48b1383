//! A Bitrix24 application end to end: it is installed, subscribes to `ONCRMDEALADD`, adds a
//! deal, receives the typed event for it and reads the deal back with the client the handler
//! is handed.
//!
//! ```sh
//! cargo run --example app                       # against the embedded emulator, no account
//! B24_CLIENT_ID=local.… B24_CLIENT_SECRET=… B24_APP_URL=https://your.host/b24 \
//!     B24_APP_LISTEN=127.0.0.1:8080 cargo run --example app   # against a real portal
//! ```
//!
//! Against a real portal, `B24_APP_URL` is where the portal reaches this process (a tunnel to
//! `B24_APP_LISTEN`); set the application's install URL to `$B24_APP_URL/install` in the portal
//! and install it while the example waits.

use std::sync::Arc;
use std::time::{Duration, Instant};

use b24::events::Event;
use b24::{App, Client};
use b24_axum::AppRoutes;
use tokio::sync::mpsc;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let real = std::env::var("B24_CLIENT_ID")
        .ok()
        .zip(std::env::var("B24_CLIENT_SECRET").ok());
    let started = Instant::now();

    // The portal: the emulator unless a real application's credentials are given.
    let emulator = match real {
        Some(_) => None,
        None => Some(b24_emulator::Emulator::builder().start().await?),
    };
    let app = match (&real, &emulator) {
        (_, Some(e)) => {
            let oauth = e.oauth_app();
            App::builder(oauth.client_id, oauth.client_secret)
                .token_endpoint(e.token_url())
                .build()?
        }
        (Some((id, secret)), None) => App::builder(id.clone(), secret.clone()).build()?,
        (None, None) => return Err("no portal".into()),
    };
    let app = Arc::new(app);

    // The application's routes: installs, events (typed), placements.
    let (installs, mut installed) = mpsc::unbounded_channel::<String>();
    let (deals, mut received) = mpsc::unbounded_channel::<(i64, Option<String>, Instant)>();
    let routes = AppRoutes::<Event>::new(app.clone())
        .on_install(move |request, _client| {
            if let Some(member) = request.tokens().ok().and_then(|t| t.member_id) {
                let _ = installs.send(member);
            }
            async { None }
        })
        .on_event(move |event, client: Client| {
            let deals = deals.clone();
            async move {
                if let Event::OnCrmDealAdd(e) = event {
                    let at = Instant::now();
                    let id = e.data.fields.and_then(|f| f.id).ok_or("no deal id")?.get();
                    // Read the deal back with the portal's own client.
                    let request = b24::crm::deal::get::Request::new(id);
                    let deal = b24::crm::deal::get::call(&client, &request).await?;
                    let _ = deals.send((id, deal.title, at));
                }
                Ok(())
            }
        });
    let listen = std::env::var("B24_APP_LISTEN").unwrap_or_else(|_| "127.0.0.1:0".into());
    let listener = tokio::net::TcpListener::bind(&listen).await?;
    let local = format!("http://{}", listener.local_addr()?);
    let public = std::env::var("B24_APP_URL").unwrap_or_else(|_| local.clone());
    tokio::spawn(async move { b24_axum::axum::serve(listener, routes.router()).await });
    println!("app listening on {local} (reached as {public})");

    // 1. Install.
    let member_id = match &emulator {
        Some(e) => {
            let done = e.install_app(&format!("{local}/install")).await?;
            println!("installed by the emulator: HTTP {}", done.status);
            done.member_id
        }
        None => {
            println!("install the application in your portal (install URL {public}/install) …");
            installed.recv().await.ok_or("the server stopped")?
        }
    };
    let client = app.client(&member_id).await?;
    println!(
        "[{:>6.1?}] portal client ready for member {member_id}",
        started.elapsed()
    );

    // 2. Bind ONCRMDEALADD to our event route.
    let mut bind = b24::event::bind::Request::new("ONCRMDEALADD");
    bind.handler = Some(format!("{public}/events"));
    match b24::event::bind::call(&client, &bind).await {
        Ok(_) => println!("[{:>6.1?}] bound ONCRMDEALADD", started.elapsed()),
        Err(e) => println!("bind: {e} (already bound?)"),
    }

    // 3. Add a deal: the portal sends the event for it.
    let fields = b24::crm::deal::add::Fields {
        title: Some("Office chairs (b24 example)".into()),
        ..Default::default()
    };
    let sent = Instant::now();
    let id = b24::crm::deal::add::call(&client, &b24::crm::deal::add::Request::new(fields))
        .await?
        .get();
    println!("[{:>6.1?}] added deal {id}", started.elapsed());

    // 4. The typed event arrives, verified; the handler read the deal back.
    let (got, title, at) = tokio::time::timeout(Duration::from_secs(60), received.recv())
        .await?
        .ok_or("the event channel closed")?;
    println!(
        "[{:>6.1?}] ONCRMDEALADD for deal {got} after {:.1?}; read back: {:?}",
        started.elapsed(),
        at - sent,
        title
    );
    assert_eq!(got, id, "the event names the deal added");

    // Tidy up: unbind, so a rerun starts clean.
    let mut unbind = b24::event::unbind::Request::new("ONCRMDEALADD");
    unbind.handler = bind.handler.clone();
    b24::event::unbind::call(&client, &unbind).await?;
    println!("[{:>6.1?}] done", started.elapsed());
    Ok(())
}
