//! The SCIM 2.0 face (RFC 7643, RFC 7644) at `/t/{tenant}/scim/v2`: identity providers
//! provision users, groups and memberships through the same services as the REST face.
//! Only SCIM tokens of the tenant open it.

mod error;
mod filter;
mod groups;
mod patch;
mod query;
mod schema;
mod users;

pub use error::ScimError;

use crate::shared::{AppState, request_id};
use axum::Router;
use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, RawPathParams, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use cohort_core::Timestamp;
use cohort_core::model::TokenScope;
use cohort_service::Expect;
use cohort_store::listing::{Cond, Listing};
use serde::Deserialize;
use serde_json::{Map, Value, json};

/// The media type of SCIM bodies.
pub const SCIM_JSON: &str = "application/scim+json";
/// Schema of list answers.
const LIST_RESPONSE: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
/// Schema of PATCH bodies.
const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
/// Most resources one page may hold.
pub const MAX_COUNT: i64 = 1000;

/// The format this face answers its errors in.
pub(crate) const ERRORS: crate::shared::ErrorFormat = crate::shared::ErrorFormat::Scim;

/// The SCIM routes of every tenant.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/t/{tenant}/scim/v2/ServiceProviderConfig", get(schema::service_provider_config))
        .route("/t/{tenant}/scim/v2/ResourceTypes", get(schema::resource_types))
        .route("/t/{tenant}/scim/v2/ResourceTypes/{name}", get(schema::resource_type))
        .route("/t/{tenant}/scim/v2/Schemas", get(schema::schemas))
        .route("/t/{tenant}/scim/v2/Schemas/{id}", get(schema::schema))
        .route("/t/{tenant}/scim/v2/Users", get(users::list).post(users::create))
        .route("/t/{tenant}/scim/v2/Users/.search", post(users::search))
        .route(
            "/t/{tenant}/scim/v2/Users/{id}",
            get(users::get).put(users::replace).patch(users::patch).delete(users::delete),
        )
        .route("/t/{tenant}/scim/v2/Groups", get(groups::list).post(groups::create))
        .route("/t/{tenant}/scim/v2/Groups/.search", post(groups::search))
        .route(
            "/t/{tenant}/scim/v2/Groups/{id}",
            get(groups::get).put(groups::replace).patch(groups::patch).delete(groups::delete),
        )
        .route("/t/{tenant}/scim/v2/.search", post(search_everything))
        .route("/t/{tenant}/scim/v2/{*rest}", axum::routing::any(unknown_endpoint))
}

async fn search_everything(_: ScimCaller) -> ScimError {
    ScimError::new(
        StatusCode::NOT_IMPLEMENTED,
        None,
        "searching several resource types at once is not supported: use /Users/.search or /Groups/.search",
    )
}

async fn unknown_endpoint() -> ScimError {
    ScimError::new(StatusCode::NOT_FOUND, None, "no such SCIM endpoint")
}

/// An authenticated caller of one tenant's SCIM face, with the base URL of its resources.
pub struct ScimCaller {
    /// The caller.
    pub ctx: cohort_service::Ctx,
    /// `.../t/{tenant}/scim/v2`, as the client reached it.
    pub base: String,
}

impl FromRequestParts<AppState> for ScimCaller {
    type Rejection = ScimError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let params = RawPathParams::from_request_parts(parts, state)
            .await
            .map_err(|_| ScimError::new(StatusCode::NOT_FOUND, None, "no such SCIM endpoint"))?;
        let tenant = params.iter().find(|(k, _)| *k == "tenant").map(|(_, v)| v.to_owned()).unwrap_or_default();
        let bearer = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
            .map(str::trim);
        let request_id = request_id(&parts.headers);
        let ctx = state.authenticate_for(TokenScope::Scim, &tenant, bearer, request_id).await?;
        let origin = match &state.config().public_url {
            Some(url) => url.trim_end_matches('/').to_owned(),
            None => {
                let host = parts.headers.get(header::HOST).and_then(|v| v.to_str().ok()).unwrap_or("localhost");
                format!("http://{host}")
            }
        };
        let base = format!("{origin}/t/{tenant}/scim/v2");
        Ok(Self { ctx, base })
    }
}

/// A request body, read whatever its declared media type (`application/scim+json` or
/// `application/json`); a body over the size limit is a SCIM error too.
pub struct ScimBody(pub Bytes);

impl<S: Send + Sync> FromRequest<S> for ScimBody {
    type Rejection = ScimError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        Bytes::from_request(req, state).await.map(ScimBody).map_err(|e| {
            if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ScimError::new(StatusCode::PAYLOAD_TOO_LARGE, None, "the request body is too large")
            } else {
                ScimError::invalid_syntax("the request body could not be read")
            }
        })
    }
}

/// The query of a list or read, as a SCIM error when it cannot be read.
pub struct ScimQuery(pub ListQuery);

impl<S: Send + Sync> FromRequestParts<S> for ScimQuery {
    type Rejection = ScimError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Query::<ListQuery>::from_request_parts(parts, state)
            .await
            .map(|q| ScimQuery(q.0))
            .map_err(|_| ScimError::invalid_syntax("the query string could not be read"))
    }
}

/// Reads a JSON body; it must be an object.
pub fn body(bytes: &ScimBody) -> Result<Map<String, Value>, ScimError> {
    match serde_json::from_slice::<Value>(&bytes.0) {
        Ok(v) if crate::text::json_has_control(&v) => {
            Err(ScimError::invalid_value("the body holds a control character in a string"))
        }
        Ok(Value::Object(m)) => Ok(m),
        Ok(_) => Err(ScimError::invalid_syntax("the body must be a JSON object")),
        Err(e) => Err(ScimError::invalid_syntax(&format!("the body is not valid JSON: {e}"))),
    }
}

/// A SCIM answer: `status`, `application/scim+json`, an ETag and a Location when given.
pub fn answer(status: StatusCode, body: &Value) -> Response {
    let mut r = (status, body.to_string()).into_response();
    r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(SCIM_JSON));
    if let Some(v) = body.pointer("/meta/version").and_then(Value::as_str).and_then(|v| HeaderValue::from_str(v).ok()) {
        r.headers_mut().insert(header::ETAG, v);
    }
    if status == StatusCode::CREATED
        && let Some(l) =
            body.pointer("/meta/location").and_then(Value::as_str).and_then(|v| HeaderValue::from_str(v).ok())
    {
        r.headers_mut().insert(header::LOCATION, l);
    }
    r
}

/// The version (weak ETag) of a resource last changed at `at`.
pub fn version(at: Timestamp) -> String {
    format!("W/\"{}\"", at.millis())
}

/// The versions a request's `If-Match` expects (`W/"<millis>"` as [`version`] writes them), for
/// the service to compare inside the write's transaction. A version cohort did not write can
/// match nothing.
pub fn if_match(headers: &HeaderMap) -> Expect {
    let Some(wanted) = headers.get(header::IF_MATCH).and_then(|v| v.to_str().ok()) else { return Expect::Any };
    let mut versions = Vec::new();
    for w in wanted.split(',').map(str::trim) {
        if w == "*" {
            return Expect::Any;
        }
        let millis = w.strip_prefix("W/").unwrap_or(w).trim_matches('"');
        if let Ok(ms) = millis.parse::<i64>() {
            versions.push(Timestamp(ms));
        }
    }
    Expect::OneOf(versions)
}

/// The query of a list request (RFC 7644 §3.4.2).
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListQuery {
    filter: Option<String>,
    start_index: Option<String>,
    count: Option<String>,
    sort_by: Option<String>,
    sort_order: Option<String>,
    attributes: Option<String>,
    excluded_attributes: Option<String>,
}

/// Which attributes an answer carries (`attributes`, `excludedAttributes`).
#[derive(Clone, Debug, Default)]
pub struct Projection {
    only: Option<Vec<String>>,
    excluded: Vec<String>,
}

fn attribute_list(s: &str) -> Vec<String> {
    s.split(',').map(|a| a.trim().to_ascii_lowercase()).filter(|a| !a.is_empty()).collect()
}

impl Projection {
    /// From the `attributes` and `excludedAttributes` parameters.
    pub fn new(attributes: Option<&str>, excluded: Option<&str>) -> Self {
        Self { only: attributes.map(attribute_list), excluded: excluded.map(attribute_list).unwrap_or_default() }
    }

    /// Whether the answer needs attribute `name` (top level, e.g. `members`) at all.
    pub fn wants(&self, name: &str) -> bool {
        let name = name.to_ascii_lowercase();
        if self.excluded.contains(&name) {
            return false;
        }
        match &self.only {
            None => true,
            Some(only) => only.iter().any(|a| a == &name || a.starts_with(&format!("{name}."))),
        }
    }

    /// Applies the projection to a resource; `id`, `schemas` and `meta.resourceType` always stay.
    pub fn apply(&self, resource: Value) -> Value {
        let Value::Object(map) = resource else { return resource };
        let mut out = Map::new();
        for (k, v) in map {
            let key = k.to_ascii_lowercase();
            if matches!(key.as_str(), "id" | "schemas") {
                out.insert(k, v);
                continue;
            }
            if self.excluded.contains(&key) {
                continue;
            }
            match &self.only {
                None => {
                    out.insert(k, v);
                }
                Some(only) => {
                    if only.iter().any(|a| *a == key || a.starts_with(&format!("{key}:"))) {
                        out.insert(k, v);
                    } else if let Value::Object(inner) = &v {
                        // `name.givenName` or `urn:...:User:department` keep just those parts.
                        let prefix = format!("{key}.");
                        let prefix_urn = format!("{key}:");
                        let subs: Map<String, Value> = inner
                            .iter()
                            .filter(|(sk, _)| {
                                let sk = sk.to_ascii_lowercase();
                                only.iter().any(|a| {
                                    a.strip_prefix(&prefix).or_else(|| a.strip_prefix(&prefix_urn)) == Some(sk.as_str())
                                })
                            })
                            .map(|(a, b)| (a.clone(), b.clone()))
                            .collect();
                        if !subs.is_empty() {
                            out.insert(k, Value::Object(subs));
                        }
                    } else if let Value::Array(items) = &v {
                        let prefix = format!("{key}.");
                        let subs: Vec<String> =
                            only.iter().filter_map(|a| a.strip_prefix(&prefix)).map(str::to_owned).collect();
                        if !subs.is_empty() {
                            let kept: Vec<Value> = items
                                .iter()
                                .map(|item| match item {
                                    Value::Object(o) => Value::Object(
                                        o.iter()
                                            .filter(|(sk, _)| subs.contains(&sk.to_ascii_lowercase()))
                                            .map(|(a, b)| (a.clone(), b.clone()))
                                            .collect(),
                                    ),
                                    other => other.clone(),
                                })
                                .collect();
                            out.insert(k, Value::Array(kept));
                        }
                    }
                }
            }
        }
        Value::Object(out)
    }
}

/// A parsed list request: filter, page, sort and projection.
pub struct ListRequest {
    /// The filter, parsed.
    pub filter: Option<filter::Filter>,
    /// 1-based index of the first result.
    pub start_index: i64,
    /// Results wanted.
    pub count: i64,
    /// Sort attribute.
    pub sort_by: Option<filter::AttrPath>,
    /// Descending?
    pub descending: bool,
    /// Attributes wanted.
    pub projection: Projection,
}

impl ListRequest {
    /// The storage listing it asks for, for a resource whose core schema is `core_urn` and
    /// whose filterable attributes `resolve` names.
    pub fn listing(&self, core_urn: &str, resolve: query::Resolver) -> Result<Listing, ScimError> {
        let cond = match &self.filter {
            Some(f) => query::to_cond(f, None, core_urn, resolve)?,
            None => Cond::True,
        };
        let sort = self.sort_by.as_ref().map(|p| query::sort_field(p, core_urn, resolve)).transpose()?;
        Ok(Listing { cond, sort: sort.map(|f| (f, self.descending)), offset: self.start_index - 1, limit: self.count })
    }
}

fn int_param(name: &str, v: Option<&str>) -> Result<Option<i64>, ScimError> {
    v.map(|s| {
        s.trim()
            .parse::<i64>()
            .map_err(|_| ScimError::invalid_value(&format!("`{name}` must be an integer, not `{s}`")))
    })
    .transpose()
}

impl ListQuery {
    /// The parameters of a `POST .search` body (RFC 7644 §3.4.3).
    pub fn from_search(body: &Map<String, Value>) -> Result<Self, ScimError> {
        let text = |name: &str| -> Result<Option<String>, ScimError> {
            match field(body, name) {
                None => Ok(None),
                Some(Value::String(s)) => Ok(Some(s.clone())),
                Some(Value::Number(n)) => Ok(Some(n.to_string())),
                Some(Value::Array(items)) => Ok(Some(
                    items
                        .iter()
                        .map(|i| i.as_str().map(str::to_owned))
                        .collect::<Option<Vec<_>>>()
                        .ok_or_else(|| ScimError::invalid_value(&format!("`{name}` is a list of strings")))?
                        .join(","),
                )),
                Some(_) => Err(ScimError::invalid_value(&format!("`{name}` has the wrong type"))),
            }
        };
        Ok(Self {
            filter: text("filter")?,
            start_index: text("startIndex")?,
            count: text("count")?,
            sort_by: text("sortBy")?,
            sort_order: text("sortOrder")?,
            attributes: text("attributes")?,
            excluded_attributes: text("excludedAttributes")?,
        })
    }

    /// Checks and parses the parameters.
    pub fn parse(&self) -> Result<ListRequest, ScimError> {
        let filter = self
            .filter
            .as_deref()
            .map(filter::parse_filter)
            .transpose()
            .map_err(|e| ScimError::invalid_filter(&e.0))?;
        let start_index = int_param("startIndex", self.start_index.as_deref())?.unwrap_or(1).max(1);
        let count = int_param("count", self.count.as_deref())?.unwrap_or(100).clamp(0, MAX_COUNT);
        let sort_by = self
            .sort_by
            .as_deref()
            .map(filter::parse_attr_path)
            .transpose()
            .map_err(|e| ScimError::invalid_value(&e.0))?;
        let descending = match self.sort_order.as_deref().map(str::to_ascii_lowercase).as_deref() {
            None | Some("ascending") => false,
            Some("descending") => true,
            Some(other) => {
                return Err(ScimError::invalid_value(&format!(
                    "`sortOrder` is `ascending` or `descending`, not `{other}`"
                )));
            }
        };
        Ok(ListRequest {
            filter,
            start_index,
            count,
            sort_by,
            descending,
            projection: Projection::new(self.attributes.as_deref(), self.excluded_attributes.as_deref()),
        })
    }
}

/// A `ListResponse` body.
pub fn list_response(total: i64, start_index: i64, resources: Vec<Value>) -> Value {
    json!({
        "schemas": [LIST_RESPONSE],
        "totalResults": total,
        "startIndex": start_index,
        "itemsPerPage": resources.len(),
        "Resources": resources,
    })
}

/// Reads `true`/`false`, also as the strings `"True"`/`"False"` that Entra ID sends.
pub fn boolean(v: &Value) -> Option<bool> {
    match v {
        Value::Bool(b) => Some(*b),
        Value::String(s) if s.eq_ignore_ascii_case("true") => Some(true),
        Value::String(s) if s.eq_ignore_ascii_case("false") => Some(false),
        _ => None,
    }
}

/// The value of attribute `name` in `map`, matching the name case-insensitively.
pub fn field<'a>(map: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    map.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v).filter(|v| !v.is_null())
}
