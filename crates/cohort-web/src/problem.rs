//! The one place a use case's error becomes HTTP: an RFC 9457 problem document, its status and
//! its media type. The REST face answers with [`ApiError`]; SCIM and the console read the same
//! [`problem`] and show it in their own formats.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use cohort_service::error::ServiceError;
use serde::Serialize;
use utoipa::ToSchema;

/// An RFC 9457 problem document.
#[derive(Debug, Serialize, ToSchema)]
pub struct Problem {
    /// A stable URI naming the kind of problem.
    #[serde(rename = "type")]
    pub kind: String,
    /// A short summary of the kind.
    pub title: String,
    /// The HTTP status.
    pub status: u16,
    /// What went wrong this time.
    pub detail: String,
    /// Per-field validation errors.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<ProblemField>,
    /// Where in the submitted expression the error is (invalid rule expressions).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub position: Option<Position>,
}

/// One invalid input field.
#[derive(Clone, Debug, Serialize, ToSchema)]
#[schema(as = FieldError)]
pub struct ProblemField {
    /// The field, in the request's spelling.
    pub field: String,
    /// What is wrong with it.
    pub message: String,
}

/// A place in a submitted text.
#[derive(Debug, Serialize, ToSchema)]
pub struct Position {
    /// Line, from 1.
    pub line: u32,
    /// Column, from 1, in characters.
    pub column: u32,
}

/// The status, problem type and title of each error.
fn parts(e: &ServiceError) -> (StatusCode, &'static str, &'static str) {
    use ServiceError as E;
    match e {
        E::Invalid(_) => (StatusCode::UNPROCESSABLE_ENTITY, "validation", "Invalid input"),
        E::Expression(_) => (StatusCode::UNPROCESSABLE_ENTITY, "invalid-expression", "Invalid expression"),
        E::NotAdmitted(_) => (StatusCode::UNPROCESSABLE_ENTITY, "not-admitted", "User type not admitted"),
        E::BadRequest(_) => (StatusCode::BAD_REQUEST, "bad-request", "Malformed request"),
        E::NotFound(_) => (StatusCode::NOT_FOUND, "not-found", "Not found"),
        E::Conflict { .. } => (StatusCode::CONFLICT, "conflict", "Conflict"),
        E::PreconditionFailed(_) => (StatusCode::PRECONDITION_FAILED, "precondition-failed", "Precondition failed"),
        E::Unauthorized(_) => (StatusCode::UNAUTHORIZED, "unauthorized", "Unauthorized"),
        E::Forbidden(_) => (StatusCode::FORBIDDEN, "forbidden", "Forbidden"),
        E::MethodNotAllowed(_) => (StatusCode::METHOD_NOT_ALLOWED, "method-not-allowed", "Method not allowed"),
        E::TooLarge(_) => (StatusCode::PAYLOAD_TOO_LARGE, "too-large", "Request too large"),
        E::TooMany(_) => (StatusCode::TOO_MANY_REQUESTS, "too-many-requests", "Too many requests"),
        E::Upstream(_) => (StatusCode::BAD_GATEWAY, "identity-provider", "Identity provider failed"),
        E::Internal => (StatusCode::INTERNAL_SERVER_ERROR, "internal", "Internal error"),
        E::Unavailable(_) => (StatusCode::SERVICE_UNAVAILABLE, "unavailable", "Service unavailable"),
    }
}

/// The problem document for `e`.
pub fn problem(e: &ServiceError) -> Problem {
    use ServiceError as E;
    let (status, kind, title) = parts(e);
    let field = |field: &str, message: &str| ProblemField { field: field.to_owned(), message: message.to_owned() };
    let (detail, errors) = match e {
        E::Invalid(errors) => {
            let detail = errors.iter().map(|e| format!("{}: {}", e.field, e.message)).collect::<Vec<_>>().join("; ");
            (detail, errors.iter().map(|e| field(&e.field, &e.message)).collect())
        }
        E::Conflict { field: f, reason } => (reason.clone(), vec![field(f, reason)]),
        E::Expression(x) => (e.to_string(), vec![field("expression", &x.to_string())]),
        E::Unavailable(_) => ("the service cannot complete this request now; try again".to_owned(), vec![]),
        E::Internal => ("the service failed to complete this request".to_owned(), vec![]),
        other => (other.to_string(), vec![]),
    };
    Problem {
        kind: format!("https://cohort.dev/problems/{kind}"),
        title: title.to_owned(),
        status: status.as_u16(),
        detail,
        errors,
        position: match e {
            E::Expression(x) => Some(Position { line: x.line, column: x.column }),
            _ => None,
        },
    }
}

/// A use case's error as the REST face answers it: a problem document.
#[derive(Debug)]
pub struct ApiError(pub ServiceError);

impl<E: Into<ServiceError>> From<E> for ApiError {
    fn from(e: E) -> Self {
        Self(e.into())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let ServiceError::Unavailable(source) = &self.0 {
            tracing::error!(error = %source, "storage failure");
        }
        let problem = problem(&self.0);
        let status = StatusCode::from_u16(problem.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = serde_json::to_vec(&problem).unwrap_or_default();
        let mut response = (status, body).into_response();
        response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/problem+json"));
        if status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}

/// The answer of a REST handler.
pub type ApiResult<T> = Result<T, ApiError>;

#[cfg(test)]
mod tests {
    use super::*;
    use cohort_store::StoreError;

    #[test]
    fn storage_errors_map_to_what_the_client_can_do_about_them() {
        let status = |e: StoreError| problem(&ServiceError::from(e)).status;
        // A row cohort cannot read back is cohort's fault, not a passing outage.
        assert_eq!(status(StoreError::Corrupt("users.attributes".to_owned())), 500);
        assert_eq!(status(StoreError::Unavailable("connection refused".to_owned())), 503);
        let clash = problem(&ServiceError::from(StoreError::Conflict {
            field: "email".to_owned(),
            reason: "this `email` is already taken".to_owned(),
        }));
        assert_eq!((clash.status, clash.errors[0].field.as_str()), (409, "email"));
        assert_eq!(clash.detail, "this `email` is already taken");
    }
}
