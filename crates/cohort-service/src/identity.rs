//! The tenant's identity provider (set up, shown without its secret, removed: admins only) and
//! the mappings of provider groups onto cohort groups.

use super::authz::Guard;
use super::snapshot::ProviderSnapshot;
use super::{Ctx, Services, Written};
use crate::error::{FieldError, ServiceError, ServiceResult};
use crate::oidc::allowed_url;
use cohort_core::GroupId;
use cohort_core::model::{GroupSource, IdentityProvider};
use cohort_core::permission::CohortPermission as P;

/// What an admin gives to set up the provider. The secret may be left out when replacing a
/// provider of the same issuer and client: the one kept stays.
#[derive(Clone)]
pub struct ProviderInput {
    /// The issuer URL.
    pub issuer: String,
    /// The client id.
    pub client_id: String,
    /// The client secret, or none to keep the one kept.
    pub client_secret: Option<String>,
    /// Scopes (`openid` is added when missing); empty for `openid email profile`.
    pub scopes: Vec<String>,
    /// The groups claim; `groups` when none.
    pub groups_claim: Option<String>,
    /// The login-name claim; `preferred_username` when none.
    pub login_claim: Option<String>,
    /// The email claim; `email` when none.
    pub email_claim: Option<String>,
    /// The display-name claim; `name` when none.
    pub name_claim: Option<String>,
    /// Make unknown people users at their first sign-in.
    pub create_users: bool,
    /// Find users by an email the provider vouches for.
    pub link_by_email: bool,
    /// Memberships of `sso` groups change only by sign-in and SCIM; local sign-in for admins only.
    pub sso_only: bool,
    /// The directory for Entra's groups overage; Microsoft Graph when none.
    pub directory_url: Option<String>,
}

/// Longest provider group id or name kept.
pub const MAX_PROVIDER_GROUP: usize = 200;

fn field(errors: &mut Vec<FieldError>, name: &str, message: impl Into<String>) {
    errors.push(FieldError { field: name.to_owned(), message: message.into() });
}

/// A printable token of 1 to `max` characters without spaces.
fn token_like(errors: &mut Vec<FieldError>, name: &str, v: &str, max: usize) {
    if v.is_empty() || v.chars().count() > max || v.chars().any(|c| c.is_whitespace() || c.is_control()) {
        field(errors, name, format!("must be 1 to {max} characters without spaces"));
    }
}

/// A provider group as named in a mapping or a claim: 1 to [`MAX_PROVIDER_GROUP`] characters,
/// no control characters.
pub fn provider_group(v: &str) -> Result<String, ServiceError> {
    let v = v.trim();
    if v.is_empty() || v.chars().count() > MAX_PROVIDER_GROUP || v.chars().any(char::is_control) {
        return Err(ServiceError::Invalid(vec![FieldError {
            field: "providerGroup".to_owned(),
            message: format!("must be 1 to {MAX_PROVIDER_GROUP} characters"),
        }]));
    }
    Ok(v.to_owned())
}

impl Services {
    /// Sets up the tenant's identity provider, or replaces it; the issuer's metadata is read
    /// first, so a wrong issuer is told now rather than at the first sign-in. Admins only.
    pub async fn put_identity_provider(
        &self,
        ctx: &Ctx,
        input: ProviderInput,
    ) -> ServiceResult<Written<IdentityProvider>> {
        let tenant = ctx.tenant();
        let live = self.live(tenant).await?;
        let proof = Guard::new(ctx, &live, self.now()).require(P::Admin)?;
        drop(live);
        let mut errors = Vec::new();
        let issuer = input.issuer.trim().trim_end_matches('/').to_owned();
        if !allowed_url(&issuer) {
            field(&mut errors, "issuer", "must be an https URL (http only to this machine)");
        }
        token_like(&mut errors, "clientId", &input.client_id, 255);
        if let Some(s) = &input.client_secret {
            token_like(&mut errors, "clientSecret", s, 500);
        }
        let mut scopes: Vec<String> = Vec::new();
        for s in &input.scopes {
            token_like(&mut errors, "scopes", s, 100);
            if !scopes.contains(s) {
                scopes.push(s.clone());
            }
        }
        if scopes.is_empty() {
            scopes = ["openid", "email", "profile"].map(str::to_owned).to_vec();
        } else if !scopes.iter().any(|s| s == "openid") {
            scopes.insert(0, "openid".to_owned());
        }
        if scopes.len() > 20 {
            field(&mut errors, "scopes", "at most 20 scopes");
        }
        let claim = |errors: &mut Vec<FieldError>, name: &str, v: &Option<String>, default: &str| {
            let v = v.clone().unwrap_or_else(|| default.to_owned());
            token_like(errors, name, &v, 100);
            v
        };
        let groups_claim = claim(&mut errors, "groupsClaim", &input.groups_claim, "groups");
        let login_claim = claim(&mut errors, "loginClaim", &input.login_claim, "preferred_username");
        let email_claim = claim(&mut errors, "emailClaim", &input.email_claim, "email");
        let name_claim = claim(&mut errors, "nameClaim", &input.name_claim, "name");
        let directory_url =
            input.directory_url.map(|d| d.trim().trim_end_matches('/').to_owned()).filter(|d| !d.is_empty());
        if directory_url.as_deref().is_some_and(|d| !allowed_url(d)) {
            field(&mut errors, "directoryUrl", "must be an https URL (http only to this machine)");
        }
        let kept = self.vault.read(&proof).await?.get_identity_provider(tenant).await?;
        let client_secret = match (input.client_secret, &kept) {
            (Some(s), _) => s,
            (None, Some(k)) if k.issuer == issuer && k.client_id == input.client_id => k.client_secret.clone(),
            (None, _) => {
                field(&mut errors, "clientSecret", "is required");
                String::new()
            }
        };
        if !errors.is_empty() {
            return Err(ServiceError::Invalid(errors));
        }
        // Read the issuer's metadata before the change opens: no lock is held while waiting.
        if let Err(e) = self.oidc.metadata(&issuer).await {
            return Err(ServiceError::Invalid(vec![FieldError { field: "issuer".to_owned(), message: e.to_string() }]));
        }
        let now = self.now();
        let provider = IdentityProvider {
            issuer,
            client_id: input.client_id,
            client_secret,
            scopes,
            groups_claim,
            login_claim,
            email_claim,
            name_claim,
            create_users: input.create_users,
            link_by_email: input.link_by_email,
            sso_only: input.sso_only,
            directory_url,
            created_at: kept.as_ref().map_or(now, |k| k.created_at),
            updated_at: now,
        };
        self.change(ctx, async |change| {
            change.tx.allow(Guard::new(ctx, &change.before, self.now()).require(P::Admin)?)?;
            let before = change.tx.read().get_identity_provider(tenant).await?;
            change.tx.write()?.put_identity_provider(&provider).await?;
            self.audit(
                change,
                ctx.into(),
                "identity_provider.put",
                ("tenant", tenant.as_str()),
                before.as_ref().map(ProviderSnapshot::from).as_ref(),
                Some(&ProviderSnapshot::from(&provider)),
            );
            Ok(provider.clone())
        })
        .await
    }

    /// The tenant's identity provider (its secret is never answered by any face). Admins only.
    pub async fn get_identity_provider(&self, ctx: &Ctx) -> ServiceResult<IdentityProvider> {
        let tenant = ctx.tenant();
        self.read_holding(ctx, P::Admin)
            .await?
            .get_identity_provider(tenant)
            .await?
            .ok_or_else(|| ServiceError::NotFound("the identity provider".to_owned()))
    }

    /// Removes the tenant's identity provider: nobody signs in through it any more; the `sso`
    /// groups and memberships stay. Admins only.
    pub async fn delete_identity_provider(&self, ctx: &Ctx) -> ServiceResult<Written<()>> {
        self.change(ctx, async |change| {
            change.tx.allow(Guard::new(ctx, &change.before, self.now()).require(P::Admin)?)?;
            let tenant = change.tenant().clone();
            let Some(before) = change.tx.read().get_identity_provider(&tenant).await? else {
                return Err(ServiceError::NotFound("the identity provider".to_owned()));
            };
            change.tx.write()?.delete_identity_provider().await?;
            self.audit(
                change,
                ctx.into(),
                "identity_provider.delete",
                ("tenant", tenant.as_str()),
                Some(&ProviderSnapshot::from(&before)),
                None::<&()>,
            );
            Ok(())
        })
        .await
    }

    /// The provider groups mapped onto `group` (or onto every group), as `(group, provider
    /// group)`: needs `cohort:groups.read`.
    pub async fn list_sso_mappings(&self, ctx: &Ctx, group: Option<&GroupId>) -> ServiceResult<Vec<(GroupId, String)>> {
        let mut r = self
            .read_for(ctx, |guard, state| {
                let proof = guard.require(P::GroupsRead)?;
                match group {
                    Some(g) if state.group(g).is_none() => Err(ServiceError::NotFound(format!("group `{g}`"))),
                    _ => Ok(proof),
                }
            })
            .await?;
        Ok(r.list_sso_mappings(ctx.tenant(), group).await?)
    }

    /// Maps a provider group onto `group`: its members then hold an `sso` membership there from
    /// their next sign-in. Needs `cohort:groups.write` and all that the group gives (nobody
    /// confers what they do not hold). A group that confers a `cohort:`
    /// permission (itself or through an ancestor) is refused: an automated membership never
    /// lands there.
    pub async fn add_sso_mapping(
        &self,
        ctx: &Ctx,
        group: &GroupId,
        provider_group: &str,
    ) -> ServiceResult<Written<String>> {
        let provider_group = self::provider_group(provider_group)?;
        self.change(ctx, async |change| {
            let guard = Guard::new(ctx, &change.before, self.now());
            change.tx.allow(guard.require(P::GroupsWrite)?)?;
            let facts =
                change.before.state.group(group).ok_or_else(|| ServiceError::NotFound(format!("group `{group}`")))?;
            if facts.source == GroupSource::Sso {
                return Err(ServiceError::Conflict {
                    field: "groupId".to_owned(),
                    reason: "an `sso` group follows its own provider group; map onto a group made in cohort".to_owned(),
                });
            }
            let refusal = match guard.require_holds_what(group) {
                Err(e) => Some(e),
                Ok(()) if change.before.index.confers_cohort(group) => Some(ServiceError::Forbidden(format!(
                    "group `{group}` confers `cohort:` permissions: sign-in never makes members of such a group"
                ))),
                Ok(()) => None,
            };
            if let Some(e) = refusal {
                let attempted = serde_json::json!({ "providerGroup": provider_group });
                return Err(change.refuse("sso_mapping.add", ("group", group.as_str()), attempted, e));
            }
            if !change.tx.write()?.insert_sso_mapping(group, &provider_group, self.now()).await? {
                return Err(ServiceError::Conflict {
                    field: "providerGroup".to_owned(),
                    reason: format!("`{provider_group}` is already mapped onto this group"),
                });
            }
            self.audit(
                change,
                ctx.into(),
                "sso_mapping.add",
                ("group", group.as_str()),
                None::<&()>,
                Some(&serde_json::json!({ "providerGroup": provider_group })),
            );
            Ok(provider_group.clone())
        })
        .await
    }

    /// Removes a mapping: the `sso` memberships it gave go at each member's next sign-in.
    /// Needs `cohort:groups.write`.
    pub async fn remove_sso_mapping(
        &self,
        ctx: &Ctx,
        group: &GroupId,
        provider_group: &str,
    ) -> ServiceResult<Written<()>> {
        self.change(ctx, async |change| {
            change.tx.allow(Guard::new(ctx, &change.before, self.now()).require(P::GroupsWrite)?)?;
            change.before.state.group(group).ok_or_else(|| ServiceError::NotFound(format!("group `{group}`")))?;
            if !change.tx.write()?.delete_sso_mapping(group, provider_group).await? {
                return Err(ServiceError::NotFound(format!("mapping of `{provider_group}` onto `{group}`")));
            }
            self.audit(
                change,
                ctx.into(),
                "sso_mapping.remove",
                ("group", group.as_str()),
                Some(&serde_json::json!({ "providerGroup": provider_group })),
                None::<&()>,
            );
            Ok(())
        })
        .await
    }
}
