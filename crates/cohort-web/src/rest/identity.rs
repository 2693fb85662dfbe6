//! `/identity-provider` (set up, show without the secret, remove), a group's `/sso-mappings`
//! (provider groups whose members join it at sign-in), and a user's `/invitations` (a one-time
//! link to set a password, for local sign-in).

use super::extract::{ApiJson, Caller, path_id};
use super::{AppState, TenantPath, written, written_empty};
use crate::problem::{ApiError, Problem};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use cohort_core::model::IdentityProvider;
use cohort_core::{GroupId, UserId};
use cohort_service::ProviderInput;
use cohort_service::format::rfc3339;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(put_provider, get_provider, delete_provider))
        .routes(routes!(add_mapping, list_mappings))
        .routes(routes!(remove_mapping))
        .routes(routes!(create_invitation))
}

/// The tenant's OpenID Connect identity provider.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ProviderBody {
    /// The issuer (https); its metadata is read from `{issuer}/.well-known/openid-configuration`.
    pub issuer: String,
    /// The client cohort is registered as.
    pub client_id: String,
    /// The client's secret; may be left out when replacing a provider of the same issuer and
    /// client (the one kept stays). Never answered.
    pub client_secret: Option<String>,
    /// Scopes to ask for (default `openid email profile`; `openid` is always asked for).
    #[serde(default)]
    pub scopes: Vec<String>,
    /// The claim listing the user's provider groups (default `groups`).
    pub groups_claim: Option<String>,
    /// The claim giving the login name (default `preferred_username`).
    pub login_claim: Option<String>,
    /// The claim giving the email (default `email`).
    pub email_claim: Option<String>,
    /// The claim giving the display name (default `name`).
    pub name_claim: Option<String>,
    /// Make someone unknown a user at their first sign-in (default false).
    #[serde(default)]
    pub create_users: bool,
    /// Find a user by an email the provider vouches for (`email_verified`) (default false).
    #[serde(default)]
    pub link_by_email: bool,
    /// Memberships of `sso` groups change only by sign-in and SCIM, and local sign-in is for
    /// tenant admins only (default false).
    #[serde(default)]
    pub sso_only: bool,
    /// Where the directory lists a user's groups when the ID token leaves them out (Entra's
    /// groups overage); default `https://graph.microsoft.com`.
    pub directory_url: Option<String>,
}

/// The identity provider as shown: never its secret.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProviderView {
    /// The issuer.
    pub issuer: String,
    /// The client id.
    pub client_id: String,
    /// Whether a secret is kept (it is never shown).
    pub client_secret_set: bool,
    /// Scopes asked for.
    pub scopes: Vec<String>,
    /// The groups claim.
    pub groups_claim: String,
    /// The login-name claim.
    pub login_claim: String,
    /// The email claim.
    pub email_claim: String,
    /// The display-name claim.
    pub name_claim: String,
    /// Unknown people become users at their first sign-in.
    pub create_users: bool,
    /// Users are found by a vouched-for email.
    pub link_by_email: bool,
    /// `sso` groups change only by sign-in and SCIM; local sign-in for admins only.
    pub sso_only: bool,
    /// The directory for the groups overage, when set.
    pub directory_url: Option<String>,
    /// When it was set up.
    pub created_at: String,
    /// Last change.
    pub updated_at: String,
}

impl From<&IdentityProvider> for ProviderView {
    fn from(p: &IdentityProvider) -> Self {
        Self {
            issuer: p.issuer.clone(),
            client_id: p.client_id.clone(),
            client_secret_set: !p.client_secret.is_empty(),
            scopes: p.scopes.clone(),
            groups_claim: p.groups_claim.clone(),
            login_claim: p.login_claim.clone(),
            email_claim: p.email_claim.clone(),
            name_claim: p.name_claim.clone(),
            create_users: p.create_users,
            link_by_email: p.link_by_email,
            sso_only: p.sso_only,
            directory_url: p.directory_url.clone(),
            created_at: rfc3339(p.created_at),
            updated_at: rfc3339(p.updated_at),
        }
    }
}

impl From<ProviderBody> for ProviderInput {
    fn from(b: ProviderBody) -> Self {
        Self {
            issuer: b.issuer,
            client_id: b.client_id,
            client_secret: b.client_secret,
            scopes: b.scopes,
            groups_claim: b.groups_claim,
            login_claim: b.login_claim,
            email_claim: b.email_claim,
            name_claim: b.name_claim,
            create_users: b.create_users,
            link_by_email: b.link_by_email,
            sso_only: b.sso_only,
            directory_url: b.directory_url,
        }
    }
}

#[utoipa::path(put, path = "/t/{tenant}/api/v1/identity-provider", params(TenantPath), tag = "sign-in",
    request_body = ProviderBody, responses((status = 200, body = ProviderView), (status = "4XX", body = Problem)))]
async fn put_provider(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiJson(b): ApiJson<ProviderBody>,
) -> Result<Response, ApiError> {
    let w = s.put_identity_provider(&ctx, b.into()).await?;
    Ok(written(StatusCode::OK, w.revision, &ProviderView::from(&w.value)))
}

#[utoipa::path(get, path = "/t/{tenant}/api/v1/identity-provider", params(TenantPath), tag = "sign-in",
    responses((status = 200, body = ProviderView), (status = "4XX", body = Problem)))]
async fn get_provider(State(s): State<AppState>, Caller(ctx): Caller) -> Result<Json<ProviderView>, ApiError> {
    Ok(Json(ProviderView::from(&s.get_identity_provider(&ctx).await?)))
}

#[utoipa::path(delete, path = "/t/{tenant}/api/v1/identity-provider", params(TenantPath), tag = "sign-in",
    responses((status = 204), (status = "4XX", body = Problem)))]
async fn delete_provider(State(s): State<AppState>, Caller(ctx): Caller) -> Result<Response, ApiError> {
    Ok(written_empty(s.delete_identity_provider(&ctx).await?.revision))
}

/// A provider group to map onto a group.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct MappingBody {
    /// The provider's group id or name, as its groups claim lists it.
    pub provider_group: String,
}

/// A provider group mapped onto a group.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MappingView {
    /// The group.
    pub group_id: String,
    /// The provider group.
    pub provider_group: String,
}

#[utoipa::path(post, path = "/t/{tenant}/api/v1/groups/{groupId}/sso-mappings", tag = "sign-in",
    request_body = MappingBody, responses((status = 201, body = MappingView), (status = "4XX", body = Problem)))]
async fn add_mapping(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Path(path): Path<(String, String)>,
    ApiJson(b): ApiJson<MappingBody>,
) -> Result<Response, ApiError> {
    let (_, group) = path;
    let group = path_id(GroupId::parse, &group)?;
    let w = s.add_sso_mapping(&ctx, &group, &b.provider_group).await?;
    Ok(written(StatusCode::CREATED, w.revision, &MappingView { group_id: group.to_string(), provider_group: w.value }))
}

#[utoipa::path(get, path = "/t/{tenant}/api/v1/groups/{groupId}/sso-mappings", tag = "sign-in",
    responses((status = 200, body = Vec<MappingView>), (status = "4XX", body = Problem)))]
async fn list_mappings(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Path(path): Path<(String, String)>,
) -> Result<Json<Vec<MappingView>>, ApiError> {
    let (_, group) = path;
    let group = path_id(GroupId::parse, &group)?;
    let rows = s.list_sso_mappings(&ctx, Some(&group)).await?;
    Ok(Json(rows.into_iter().map(|(g, p)| MappingView { group_id: g.to_string(), provider_group: p }).collect()))
}

#[utoipa::path(delete, path = "/t/{tenant}/api/v1/groups/{groupId}/sso-mappings/{providerGroup}", tag = "sign-in",
    responses((status = 204), (status = "4XX", body = Problem)))]
async fn remove_mapping(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Path(path): Path<(String, String, String)>,
) -> Result<Response, ApiError> {
    let (_, group, provider_group) = path;
    let group = path_id(GroupId::parse, &group)?;
    Ok(written_empty(s.remove_sso_mapping(&ctx, &group, &provider_group).await?.revision))
}

/// An invitation to set a password, shown only in this answer.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct InvitationView {
    /// Whose password it sets.
    pub user_id: String,
    /// The one-time link's path (under the server's public URL); it is not stored and cannot be
    /// shown again. Opening it asks for the new password.
    pub path: String,
    /// When it stops working (72 hours from now).
    pub expires_at: String,
}

#[utoipa::path(post, path = "/t/{tenant}/api/v1/users/{userId}/invitations", tag = "sign-in",
    responses((status = 201, body = InvitationView), (status = "4XX", body = Problem)))]
async fn create_invitation(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Path(path): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let (tenant, user) = path;
    let user = path_id(UserId::parse, &user)?;
    let w = s.create_invitation(&ctx, &user).await?;
    let body = InvitationView {
        user_id: w.value.user_id.to_string(),
        path: format!("/t/{tenant}/login/invitation/{}", w.value.secret),
        expires_at: rfc3339(w.value.expires_at),
    };
    Ok(written(StatusCode::CREATED, w.revision, &body))
}
