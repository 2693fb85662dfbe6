//! Extractors that turn a request into checked input, answering problem+json when they cannot.

use crate::problem::ApiError;
use crate::shared::{AppState, request_id};
use axum::body::Bytes;
use axum::extract::rejection::QueryRejection;
use axum::extract::{FromRequest, FromRequestParts, Query, RawPathParams, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use cohort_core::{DomainError, GroupId};
use cohort_service::Ctx;
use cohort_service::error::{FieldError, ServiceError};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer};

/// A JSON body; malformed JSON or a string holding a control character is 400, a body of the
/// wrong shape 422, too large 413.
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let json = req
            .headers()
            .get(axum::http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|ct| ct.split(';').next())
            .map(str::trim)
            .is_some_and(|ct| {
                let (kind, sub) = ct.split_once('/').unwrap_or_default();
                kind.eq_ignore_ascii_case("application")
                    && (sub.eq_ignore_ascii_case("json")
                        || sub.len() >= 5 && sub.get(sub.len() - 5..).is_some_and(|s| s.eq_ignore_ascii_case("+json")))
            });
        if !json {
            return Err(ServiceError::BadRequest(
                "the body must be JSON with `Content-Type: application/json`".to_owned(),
            )
            .into());
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|e| {
            if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ServiceError::TooLarge("the request body is too large".to_owned())
            } else {
                ServiceError::BadRequest("the request body could not be read".to_owned())
            }
        })?;
        let shape = |e: serde_json::Error| {
            ServiceError::Invalid(vec![FieldError { field: "body".to_owned(), message: e.to_string() }])
        };
        // Most bodies cannot hold a control character: they are read straight into `T`.
        if !crate::text::json_may_hold_control(&bytes) {
            match serde_json::from_slice::<T>(&bytes) {
                Ok(v) => return Ok(Self(v)),
                // Malformed JSON and a wrong shape are told apart below, as for any body.
                Err(e) if e.is_data() => {}
                Err(e) => return Err(ServiceError::BadRequest(format!("malformed JSON body: {e}")).into()),
            }
        }
        let value: serde_json::Value = serde_json::from_slice(&bytes)
            .map_err(|e| ServiceError::BadRequest(format!("malformed JSON body: {e}")))?;
        if crate::text::json_has_control(&value) {
            return Err(ServiceError::BadRequest("the body holds a control character in a string".to_owned()).into());
        }
        T::deserialize(value).map(Self).map_err(shape).map_err(ApiError::from)
    }
}

/// Query parameters; a bad one is 400.
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Query::<T>::from_request_parts(parts, state)
            .await
            .map(|Query(v)| Self(v))
            .map_err(|e: QueryRejection| ServiceError::BadRequest(format!("bad query parameters: {}", e.body_text())))
            .map_err(ApiError::from)
    }
}

fn bearer(parts: &Parts) -> Option<&str> {
    let value = parts.headers.get(axum::http::header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

/// An authenticated caller of `/t/{tenant}/...`.
pub struct Caller(pub Ctx);

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let params = RawPathParams::from_request_parts(parts, state)
            .await
            .map_err(|_| ServiceError::NotFound("route".to_owned()))?;
        let tenant = params
            .iter()
            .find(|(k, _)| *k == "tenant")
            .map(|(_, v)| v)
            .ok_or_else(|| ServiceError::NotFound("tenant".to_owned()))?;
        state.authenticate(tenant, bearer(parts), request_id(&parts.headers)).await.map(Caller).map_err(ApiError::from)
    }
}

/// An authenticated caller of the system API.
pub struct SystemCaller(pub Ctx);

impl FromRequestParts<AppState> for SystemCaller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        state
            .authenticate_system(bearer(parts), request_id(&parts.headers))
            .await
            .map(SystemCaller)
            .map_err(ApiError::from)
    }
}

/// Collects every field error of a request before failing, so the client sees them all.
#[derive(Default)]
pub struct Fields(Vec<FieldError>);

impl Fields {
    /// Keeps the value, or records why it is invalid.
    pub fn take<T>(&mut self, r: Result<T, DomainError>) -> Option<T> {
        match r {
            Ok(v) => Some(v),
            Err(DomainError::Invalid { field, reason }) => {
                self.0.push(FieldError { field, message: reason });
                None
            }
            Err(DomainError::NotFound(what)) => {
                self.0.push(FieldError { field: "id".to_owned(), message: format!("{what} not found") });
                None
            }
            Err(other) => {
                self.0.push(FieldError { field: "body".to_owned(), message: other.to_string() });
                None
            }
        }
    }

    /// Records an error for `field`.
    pub fn push(&mut self, field: &str, message: impl Into<String>) {
        self.0.push(FieldError { field: field.to_owned(), message: message.into() });
    }

    /// Fails with every recorded error, if any.
    pub fn finish(self) -> Result<(), ApiError> {
        if self.0.is_empty() { Ok(()) } else { Err(ServiceError::Invalid(self.0).into()) }
    }
}

/// Group ids given in `field`, each parsed; a malformed one is recorded as not found.
pub fn group_ids(fields: &mut Fields, field: &str, ids: &[String]) -> Option<Vec<GroupId>> {
    let mut out = Vec::new();
    for id in ids {
        match GroupId::parse(id) {
            Ok(g) => out.push(g),
            Err(_) => fields.push(field, format!("group `{id}` not found")),
        }
    }
    Some(out)
}

/// Unwraps a value `Fields::take` kept; only called after `Fields::finish` succeeded.
pub fn checked<T>(v: Option<T>) -> Result<T, ApiError> {
    v.ok_or_else(|| ServiceError::BadRequest("invalid input".to_owned())).map_err(ApiError::from)
}

/// Deserialises a field that may be absent (`None`), null (`Some(None)`) or set.
pub fn double_option<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}

/// Parses an id from the path; a malformed one is simply not found.
pub fn path_id<T>(parse: fn(&str) -> Result<T, DomainError>, s: &str) -> Result<T, ApiError> {
    parse(s).map_err(ServiceError::from).map_err(ApiError::from)
}
