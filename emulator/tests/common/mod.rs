//! A hand-made model shaped like the docs' badge and `crm.item` pages, and HTTP helpers.
#![allow(dead_code)]

use b24_codegen::model::{
    Access, Api, ApiVersion, ErrorCode, ErrorMatch, Example, ExampleKind, Field, Method, Paging,
    Required, Scalar, Source, Type,
};
use b24_emulator::{Emulator, EmulatorBuilder};
use serde_json::{json, Value};

fn src() -> Source {
    Source::new("test-model.md", 1)
}

pub fn field(name: &str, ty: Type, required: Required) -> Field {
    Field {
        api_name: name.to_string(),
        rust_name: name.to_ascii_lowercase(),
        doc_type: String::new(),
        ty,
        required,
        description: String::new(),
        source: src(),
        deprecated: None,
    }
}

pub fn int() -> Type {
    Type::scalar(Scalar::Integer)
}

pub fn string() -> Type {
    Type::scalar(Scalar::String)
}

pub fn object(fields: Vec<Field>) -> Type {
    Type::Object { fields }
}

pub fn method(name: &str, params: Vec<Field>, response: Option<Value>) -> Method {
    let access = if [".get", ".list", ".current", ".info"]
        .iter()
        .any(|s| name.ends_with(s))
    {
        Access::Read
    } else {
        Access::Write
    };
    Method {
        name: name.to_string(),
        version: ApiVersion::V2,
        title: String::new(),
        description: String::new(),
        scopes: vec!["crm".to_string()],
        who_can_call: None,
        deprecated: None,
        access,
        params,
        result: Type::untyped("test"),
        paging: None,
        errors: Vec::new(),
        examples: response
            .map(|json| Example {
                kind: ExampleKind::Response,
                text: json.to_string(),
                json: Some(json),
                repaired: false,
                source: src(),
            })
            .into_iter()
            .collect(),
        source: src(),
    }
}

fn error(code: &str, status: u16) -> ErrorCode {
    ErrorCode {
        code: code.to_string(),
        matcher: ErrorMatch::Code(code.to_string()),
        status: Some(status),
        message: None,
        description: String::new(),
        source: src(),
        deprecated: None,
    }
}

/// The badge family (add/get/list/delete, id `code`), `crm.item.*` (partitioned by
/// `entityTypeId`, records in `fields`), `user.current` (a documented answer), and a REST 3.0
/// `tasks.task.add`/`get`.
pub fn model() -> Api {
    use Required::{No, Yes};
    let badge =
        json!({"code": "missedCall", "title": "Call Status", "value": "Missed", "type": "failure"});
    let item = json!({"id": 273, "title": "Lead #273", "stageId": "IN_PROCESS", "opportunity": 4800, "createdBy": 1});
    let mut item_list = method(
        "crm.item.list",
        vec![
            field("entityTypeId", int(), Yes),
            field("select", Type::array(string()), No),
            field(
                "filter",
                Type::Map {
                    value: Box::new(Type::scalar(Scalar::Any)),
                },
                No,
            ),
            field(
                "order",
                Type::Map {
                    value: Box::new(string()),
                },
                No,
            ),
            field("start", int(), No),
        ],
        Some(json!({"result": {"items": [item]}, "total": 1})),
    );
    item_list.paging = Some(Paging {
        items_key: Some("items".to_string()),
    });
    let mut item_get = method(
        "crm.item.get",
        vec![field("entityTypeId", int(), Yes), field("id", int(), Yes)],
        Some(json!({"result": {"item": item}})),
    );
    item_get.errors.push(error("NOT_FOUND", 400));
    let mut badge_list = method(
        "crm.activity.badge.list",
        vec![],
        Some(json!({"result": {"badges": [badge]}})),
    );
    badge_list.paging = Some(Paging {
        items_key: Some("badges".to_string()),
    });
    let mut task_add = method(
        "tasks.task.add",
        vec![field(
            "fields",
            object(vec![
                field("title", string(), Yes),
                field("responsibleId", int(), No),
            ]),
            Yes,
        )],
        Some(json!({"result": {"item": {"id": 42, "title": "Prepare report"}}})),
    );
    task_add.version = ApiVersion::V3;
    let mut task_get = method(
        "tasks.task.get",
        vec![field("id", int(), Yes)],
        Some(json!({"result": {"item": {"id": 42, "title": "Prepare report"}}})),
    );
    task_get.version = ApiVersion::V3;
    let mut task_list = method(
        "tasks.task.list",
        vec![
            field("select", Type::array(string()), No),
            field("filter", Type::array(Type::untyped("condition")), No),
            field(
                "order",
                Type::Map {
                    value: Box::new(string()),
                },
                No,
            ),
            field(
                "pagination",
                Type::Map {
                    value: Box::new(int()),
                },
                No,
            ),
        ],
        Some(json!({"result": {"items": [{"id": 42, "title": "Prepare report"}]}})),
    );
    task_list.version = ApiVersion::V3;
    task_list.paging = Some(Paging {
        items_key: Some("items".to_string()),
    });

    let mut methods = vec![
        method(
            "crm.activity.badge.add",
            vec![
                field("code", string(), Yes),
                field("title", string(), Yes),
                field("value", string(), Yes),
                field("type", string(), Yes),
            ],
            Some(json!({"result": {"badge": badge}})),
        ),
        method(
            "crm.activity.badge.get",
            vec![field("code", string(), Yes)],
            Some(json!({"result": {"badge": badge}})),
        ),
        badge_list,
        method(
            "crm.activity.badge.delete",
            vec![field("code", string(), Yes)],
            Some(json!({"result": true})),
        ),
        method(
            "crm.item.add",
            vec![
                field("entityTypeId", int(), Yes),
                field("fields", object(vec![field("title", string(), No)]), Yes),
            ],
            Some(json!({"result": {"item": item}})),
        ),
        item_get,
        item_list,
        method(
            "crm.item.update",
            vec![
                field("entityTypeId", int(), Yes),
                field("id", int(), Yes),
                field("fields", object(vec![field("title", string(), No)]), Yes),
            ],
            Some(json!({"result": {"item": item}})),
        ),
        method(
            "crm.item.delete",
            vec![field("entityTypeId", int(), Yes), field("id", int(), Yes)],
            Some(json!({"result": []})),
        ),
        method(
            "user.current",
            vec![],
            Some(json!({"result": {"ID": "1", "NAME": "John", "UF_DEPARTMENT": [1]}})),
        ),
        task_add,
        task_get,
        task_list,
    ];
    methods.sort_by(|a, b| a.name.cmp(&b.name));
    Api {
        methods,
        ..Api::default()
    }
}

/// A builder over the test model with no limits (tests that need limits set them).
pub fn builder() -> EmulatorBuilder {
    Emulator::builder()
        .api(model())
        .bucket(None)
        .operating_limit(None)
}

pub async fn start() -> Emulator {
    builder().start().await.expect("the emulator starts")
}

pub fn client() -> reqwest::Client {
    reqwest::Client::new()
}

/// POSTs JSON to `{webhook}{method}.json`; returns the status and the parsed body.
pub async fn call(emulator: &Emulator, method: &str, body: Value) -> (u16, Value) {
    let url = format!("{}{method}.json", emulator.webhook_url());
    let response = client()
        .post(url)
        .json(&body)
        .send()
        .await
        .expect("the request is answered");
    let status = response.status().as_u16();
    let body = response.json().await.expect("a JSON body");
    (status, body)
}

/// POSTs a form body (`http_build_query` style, already encoded).
pub async fn call_form(emulator: &Emulator, method: &str, form: &str) -> (u16, Value) {
    let url = format!("{}{method}.json", emulator.webhook_url());
    let response = client()
        .post(url)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form.to_string())
        .send()
        .await
        .expect("the request is answered");
    let status = response.status().as_u16();
    let body = response.json().await.expect("a JSON body");
    (status, body)
}
