//! A fleet: many portals behind one listener, each with its own bucket, tokens, records and
//! `member_id`.

mod common;

use b24_emulator::{fleet_member_id, Bucket, Emulator};
use common::{builder, call, client};
use serde_json::{json, Value};

async fn oauth_call(portal: &Emulator, access: &str, method: &str) -> (u16, Value) {
    let response = client()
        .post(format!("{}{method}.json", portal.rest_url()))
        .json(&json!({"auth": access}))
        .send()
        .await
        .expect("answered");
    let status = response.status().as_u16();
    (status, response.json().await.expect("json"))
}

#[tokio::test]
async fn each_portal_of_a_fleet_has_its_own_state() {
    let bucket = Bucket {
        capacity: 5.0,
        drain_per_sec: 0.0,
    };
    let fleet = builder()
        .bucket(Some(bucket))
        .start_fleet(3)
        .await
        .expect("fleet");
    assert_eq!(fleet.len(), 3);
    let (p0, p1, p2) = (
        fleet.portal(0).expect("0"),
        fleet.portal(1).expect("1"),
        fleet.portal(2).expect("2"),
    );
    assert!(p1.base_url().ends_with("/p/1"), "{}", p1.base_url());
    assert_eq!(p2.member_id(), fleet_member_id(2));
    assert_eq!(p0.member_id().len(), 33);

    // Buckets: portal 0 overruns its own, portal 1 is untouched.
    let mut refused = 0;
    for _ in 0..8 {
        if call(p0, "crm.activity.badge.list", json!({})).await.0 == 503 {
            refused += 1;
        }
    }
    assert_eq!(refused, 3);
    assert_eq!(call(p1, "crm.activity.badge.list", json!({})).await.0, 200);
    assert_eq!(p0.stats().query_limit_exceeded, 3);
    assert_eq!(p1.stats().query_limit_exceeded, 0);
    assert_eq!(p1.stats().requests, 1);
    assert_eq!(p2.stats().requests, 0);

    // Records: added on portal 1, absent on portal 2.
    let badge = json!({"code": "paid", "title": "Payment", "value": "Paid", "type": "success"});
    assert_eq!(call(p1, "crm.activity.badge.add", badge).await.0, 200);
    assert_eq!(p1.records("crm.activity.badge").expect("family").len(), 1);
    assert!(p2.records("crm.activity.badge").expect("family").is_empty());
    let (_, list) = call(p2, "crm.activity.badge.list", json!({})).await;
    assert_eq!(list["total"], 0);

    // Tokens: portal 2's token does not open portal 1, and the token answer names the portal.
    let pair = p2.issue_tokens();
    assert_eq!(
        oauth_call(p2, &pair.access_token, "user.current").await.0,
        200
    );
    assert_eq!(
        oauth_call(p1, &pair.access_token, "user.current").await.0,
        401
    );
    let app = p2.oauth_app();
    let answer: Value = client()
        .post(p2.token_url())
        .form(&[
            ("grant_type", "refresh_token"),
            ("client_id", app.client_id.as_str()),
            ("client_secret", app.client_secret.as_str()),
            ("refresh_token", pair.refresh_token.as_str()),
        ])
        .send()
        .await
        .expect("answered")
        .json()
        .await
        .expect("json");
    assert_eq!(answer["member_id"], fleet_member_id(2));
    assert_eq!(
        answer["client_endpoint"],
        format!("{}/rest/", p2.base_url())
    );
    assert_eq!(p2.stats().token_refreshes, 1);
    assert_eq!(p1.stats().token_refresh_requests, 0);

    // Paths that name no portal.
    let base = format!("http://{}", fleet.addr());
    for path in [
        "/p/3/rest/user.current.json",
        "/p//rest/x",
        "/p/x/rest/x",
        "/rest/user.current.json",
        "/p/99999999999/rest/",
    ] {
        let status = client()
            .post(format!("{base}{path}"))
            .send()
            .await
            .expect("answered")
            .status();
        assert_eq!(status.as_u16(), 404, "{path}");
    }
}

#[tokio::test]
async fn a_fleet_has_one_to_max_portals() {
    assert!(builder().start_fleet(0).await.is_err());
    assert!(builder()
        .start_fleet(b24_emulator::MAX_FLEET + 1)
        .await
        .is_err());
}

/// A client that reaches every `p{i}.example.test` of `fleet` at the fleet's address.
fn host_client(fleet: &b24_emulator::Fleet) -> reqwest::Client {
    let mut b = reqwest::Client::builder();
    for i in 0..fleet.len() {
        b = b.resolve(&b24_emulator::fleet_domain(i), fleet.addr());
    }
    b.build().expect("client")
}

/// POSTs JSON to `url`; the status and the parsed body.
async fn post(http: &reqwest::Client, url: &str, body: Value) -> (u16, Value) {
    let response = http.post(url).json(&body).send().await.expect("answered");
    let status = response.status().as_u16();
    (status, response.json().await.expect("json"))
}

#[tokio::test]
async fn portals_reached_by_host_keep_their_own_state() {
    let bucket = Bucket {
        capacity: 5.0,
        drain_per_sec: 0.0,
    };
    let fleet = builder()
        .bucket(Some(bucket))
        .start_fleet(3)
        .await
        .expect("fleet");
    let http = host_client(&fleet);
    let (p1, p2) = (fleet.portal(1).expect("1"), fleet.portal(2).expect("2"));
    let host1 = fleet.host_url(1).expect("1");
    let host2 = fleet.host_url(2).expect("2");
    assert_eq!(
        host1,
        format!("http://p1.example.test:{}", fleet.addr().port())
    );
    assert_eq!(fleet.host_url(3), None);
    // The same webhook, under the portal's domain instead of its path.
    let hook = |p: &Emulator, host: &str| p.webhook_url().replacen(p.base_url(), host, 1);
    let (hook1, hook2) = (hook(p1, &host1), hook(p2, &host2));

    // Buckets: portal 1 overruns its own by Host; portal 2 is untouched.
    let mut refused = 0;
    for _ in 0..7 {
        let url = format!("{hook1}crm.activity.badge.list.json");
        if post(&http, &url, json!({})).await.0 == 503 {
            refused += 1;
        }
    }
    assert_eq!(refused, 2);
    assert_eq!(p1.stats().query_limit_exceeded, 2);
    let url = format!("{hook2}crm.activity.badge.list.json");
    assert_eq!(post(&http, &url, json!({})).await.0, 200);
    assert_eq!(p2.stats().query_limit_exceeded, 0);
    assert_eq!(p2.stats().requests, 1);
    assert_eq!(fleet.portal(0).expect("0").stats().requests, 0);

    // Records: added on portal 2 by Host, seen by path on portal 2 only.
    let badge = json!({"code": "paid", "title": "Payment", "value": "Paid", "type": "success"});
    let url = format!("{hook2}crm.activity.badge.add.json");
    assert_eq!(post(&http, &url, badge).await.0, 200);
    assert_eq!(p2.records("crm.activity.badge").expect("family").len(), 1);
    assert!(p1.records("crm.activity.badge").expect("family").is_empty());
    assert_eq!(
        call(p2, "crm.activity.badge.list", json!({})).await.1["total"],
        1
    );

    // Tokens: portal 2's token opens portal 2 by Host, not portal 1; the token answer got by
    // Host names the portal's domain.
    let pair = p2.issue_tokens();
    let auth = json!({"auth": pair.access_token});
    assert_eq!(
        post(
            &http,
            &format!("{host2}/rest/user.current.json"),
            auth.clone()
        )
        .await
        .0,
        200
    );
    assert_eq!(
        post(&http, &format!("{host1}/rest/user.current.json"), auth)
            .await
            .0,
        401
    );
    let app = p2.oauth_app();
    let answer: Value = http
        .post(format!("{host2}/oauth/token/"))
        .form(&[
            ("grant_type", "refresh_token"),
            ("client_id", app.client_id.as_str()),
            ("client_secret", app.client_secret.as_str()),
            ("refresh_token", pair.refresh_token.as_str()),
        ])
        .send()
        .await
        .expect("answered")
        .json()
        .await
        .expect("json");
    assert_eq!(answer["member_id"], fleet_member_id(2));
    assert_eq!(answer["client_endpoint"], format!("{host2}/rest/"));
    assert_eq!(p2.stats().token_refreshes, 1);
    assert_eq!(p1.stats().token_refresh_requests, 0);

    // A domain under the fleet's that names no portal.
    for name in ["p3.example.test", "px.example.test", "p.example.test"] {
        let http = reqwest::Client::builder()
            .resolve(name, fleet.addr())
            .build()
            .expect("client");
        let url = format!(
            "http://{name}:{}/rest/user.current.json",
            fleet.addr().port()
        );
        let status = http.post(url).send().await.expect("answered").status();
        assert_eq!(status.as_u16(), 404, "{name}");
    }
}
