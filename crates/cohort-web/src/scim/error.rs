//! SCIM error answers (RFC 7644 §3.12): every failure of the SCIM face, including the
//! service errors it maps, is a `urn:ietf:params:scim:api:messages:2.0:Error` body.

use super::SCIM_JSON;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use cohort_service::error::ServiceError;
use serde_json::json;

/// A SCIM error: status, optional `scimType`, and a human detail.
#[derive(Debug)]
pub struct ScimError {
    status: StatusCode,
    scim_type: Option<&'static str>,
    detail: String,
}

impl ScimError {
    /// An error with this status, `scimType` and detail.
    pub fn new(status: StatusCode, scim_type: Option<&'static str>, detail: &str) -> Self {
        Self { status, scim_type, detail: detail.to_owned() }
    }

    /// 400 `invalidFilter`.
    pub fn invalid_filter(detail: &str) -> Self {
        Self::new(StatusCode::BAD_REQUEST, Some("invalidFilter"), detail)
    }

    /// 400 `invalidSyntax`.
    pub fn invalid_syntax(detail: &str) -> Self {
        Self::new(StatusCode::BAD_REQUEST, Some("invalidSyntax"), detail)
    }

    /// 400 `invalidValue`.
    pub fn invalid_value(detail: &str) -> Self {
        Self::new(StatusCode::BAD_REQUEST, Some("invalidValue"), detail)
    }

    /// 400 `invalidPath`.
    pub fn invalid_path(detail: &str) -> Self {
        Self::new(StatusCode::BAD_REQUEST, Some("invalidPath"), detail)
    }

    /// 400 `noTarget`.
    pub fn no_target(detail: &str) -> Self {
        Self::new(StatusCode::BAD_REQUEST, Some("noTarget"), detail)
    }

    /// 400 `mutability`.
    pub fn mutability(detail: &str) -> Self {
        Self::new(StatusCode::BAD_REQUEST, Some("mutability"), detail)
    }

    /// 404 for a resource.
    pub fn not_found(what: &str) -> Self {
        Self::new(StatusCode::NOT_FOUND, None, &format!("{what} not found"))
    }
}

impl From<ServiceError> for ScimError {
    fn from(e: ServiceError) -> Self {
        match e {
            ServiceError::Invalid(fields) => {
                let detail =
                    fields.iter().map(|f| format!("{}: {}", f.field, f.message)).collect::<Vec<_>>().join("; ");
                let filter = fields.iter().any(|f| f.field == "filter");
                Self::new(StatusCode::BAD_REQUEST, Some(if filter { "invalidFilter" } else { "invalidValue" }), &detail)
            }
            // A refused join is a 422 on every face.
            ServiceError::NotAdmitted(e) => {
                Self::new(StatusCode::UNPROCESSABLE_ENTITY, Some("invalidValue"), &e.to_string())
            }
            ServiceError::BadRequest(d) => Self::invalid_syntax(&d),
            e @ ServiceError::Expression(_) => Self::new(StatusCode::BAD_REQUEST, Some("invalidValue"), &e.to_string()),
            ServiceError::NotFound(what) => Self::not_found(&what),
            ServiceError::Conflict { reason: d, .. } => Self::new(StatusCode::CONFLICT, Some("uniqueness"), &d),
            ServiceError::PreconditionFailed(d) => Self::new(StatusCode::PRECONDITION_FAILED, None, &d),
            ServiceError::Unauthorized(d) => Self::new(StatusCode::UNAUTHORIZED, None, &d),
            ServiceError::Forbidden(d) => Self::new(StatusCode::FORBIDDEN, None, &d),
            ServiceError::TooLarge(d) => Self::new(StatusCode::PAYLOAD_TOO_LARGE, None, &d),
            ServiceError::Upstream(d) => Self::new(StatusCode::BAD_GATEWAY, None, &d),
            ServiceError::MethodNotAllowed(d) => Self::new(StatusCode::METHOD_NOT_ALLOWED, None, &d),
            ServiceError::TooMany(d) => Self::new(StatusCode::TOO_MANY_REQUESTS, None, &d),
            ServiceError::Internal => {
                tracing::error!("internal error on the SCIM face");
                Self::new(StatusCode::INTERNAL_SERVER_ERROR, None, "internal error")
            }
            ServiceError::Unavailable(source) => {
                tracing::error!(error = %source, "storage unavailable on the SCIM face");
                Self::new(StatusCode::SERVICE_UNAVAILABLE, None, "storage unavailable")
            }
        }
    }
}

impl IntoResponse for ScimError {
    fn into_response(self) -> Response {
        let mut body = json!({
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"],
            "status": self.status.as_u16().to_string(),
            "detail": self.detail,
        });
        if let (Some(t), Some(map)) = (self.scim_type, body.as_object_mut()) {
            map.insert("scimType".to_owned(), json!(t));
        }
        let mut r = (self.status, body.to_string()).into_response();
        r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(SCIM_JSON));
        if self.status == StatusCode::UNAUTHORIZED {
            r.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        r
    }
}
