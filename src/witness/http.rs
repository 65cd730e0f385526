//! The witness's HTTP interface, all at the root of its address:
//!
//! - `POST /add-checkpoint` — C2SP `tlog-witness` (the log's submissions);
//! - `GET /checkpoint` — the latest cosigned note, with our cosignature;
//! - `GET /entries?fingerprint=HEX` or `?subject=ID` — from the copy;
//! - `GET /evidence` — refused submissions kept as evidence;
//! - `GET /healthz`.

use std::sync::Arc;

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use serde::Deserialize;
use serde_json::json;

use super::core::{Outcome, Witness};
use super::read;
use super::store::SharedConnection;

pub struct HttpState {
    pub witness: Arc<Witness>,
    pub reader: SharedConnection,
    /// The process's multi-threaded runtime: a submission is handled there,
    /// not on an HTTP worker's single-threaded one, so that its blocking
    /// SQLite work can use `block_in_place` while holding the lock.
    pub runtime: tokio::runtime::Handle,
}

pub fn routes(config: &mut web::ServiceConfig) {
    config
        .route("/add-checkpoint", web::post().to(add_checkpoint))
        .route("/checkpoint", web::get().to(checkpoint))
        .route("/entries", web::get().to(entries))
        .route("/evidence", web::get().to(evidence))
        .route("/healthz", web::get().to(healthz));
}

fn text(status: StatusCode, body: String) -> HttpResponse {
    HttpResponse::build(status)
        .content_type("text/plain; charset=utf-8")
        .body(body)
}

fn internal(error: impl std::fmt::Display) -> HttpResponse {
    tracing::error!(%error, "witness request failed");
    text(StatusCode::INTERNAL_SERVER_ERROR, "internal error\n".to_owned())
}

async fn add_checkpoint(body: web::Bytes, state: web::Data<HttpState>) -> HttpResponse {
    let Ok(body) = std::str::from_utf8(&body) else {
        return text(StatusCode::BAD_REQUEST, "the body is not UTF-8\n".to_owned());
    };
    let (witness, body) = (state.witness.clone(), body.to_owned());
    let handled = state
        .runtime
        .spawn(async move { witness.add_checkpoint(&body).await })
        .await;
    let outcome = match handled {
        Ok(outcome) => outcome,
        Err(error) => return internal(error),
    };
    match outcome {
        Ok(Outcome::Cosigned(lines)) => text(StatusCode::OK, lines),
        Ok(Outcome::Conflict(size)) => HttpResponse::Conflict()
            .content_type("text/x.tlog.size")
            .body(format!("{size}\n")),
        Ok(Outcome::Malformed(reason)) => text(StatusCode::BAD_REQUEST, format!("{reason}\n")),
        Ok(Outcome::Unsigned(reason)) => text(StatusCode::FORBIDDEN, format!("{reason}\n")),
        Ok(Outcome::UnknownOrigin(reason)) => text(StatusCode::NOT_FOUND, format!("{reason}\n")),
        Ok(Outcome::Unprovable(reason)) => text(StatusCode::UNPROCESSABLE_ENTITY, format!("{reason}\n")),
        Ok(Outcome::Unavailable(reason)) => text(StatusCode::SERVICE_UNAVAILABLE, format!("{reason}\n")),
        Err(error) => internal(error),
    }
}

async fn checkpoint(state: web::Data<HttpState>) -> HttpResponse {
    match state.witness.latest_note().await {
        Some(note) => text(StatusCode::OK, note),
        None => text(StatusCode::NOT_FOUND, "no checkpoint cosigned yet\n".to_owned()),
    }
}

#[derive(Deserialize)]
struct EntriesQuery {
    fingerprint: Option<String>,
    subject: Option<String>,
}

async fn entries(query: web::Query<EntriesQuery>, state: web::Data<HttpState>) -> HttpResponse {
    let query = query.into_inner();
    let about = match (query.fingerprint, query.subject) {
        (Some(fingerprint), None) => read::About::Fingerprint(fingerprint.to_ascii_lowercase()),
        (None, Some(subject)) => read::About::Subject(subject),
        _ => {
            return text(
                StatusCode::BAD_REQUEST,
                "give exactly one of fingerprint or subject\n".to_owned(),
            )
        }
    };
    match state
        .reader
        .run(move |connection| read::about(connection, &about))
        .await
    {
        Ok(answer) => HttpResponse::Ok().json(answer),
        Err(error) => internal(error),
    }
}

async fn evidence(state: web::Data<HttpState>) -> HttpResponse {
    match state.reader.run(read::evidence).await {
        Ok(answer) => HttpResponse::Ok().json(answer),
        Err(error) => internal(error),
    }
}

async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(json!({"status": "ok"}))
}
