//! Sign-in through the tenant's identity provider: the code flow begun (its `state` stored as
//! a hash, so any server may finish it, once), finished (the code redeemed, the ID token
//! checked), the person found or made a user, their provider groups synced and a console
//! session opened, all in one change. A failure is audited and changes nothing.

use super::authn::hash_secret;
use super::authz::Allowed;
use super::identity::provider_group;
use super::snapshot::{MembershipSnapshot, UserSnapshot};
use super::{Change, NewUser, Origin, Services, SignedIn, Written};
use crate::error::{ServiceError, ServiceResult};
use crate::oidc::{FlowSecrets, Oidc, groups_overage};
use cohort_core::GroupId;
use cohort_core::model::{
    GroupSource, IdentityProvider, MemberRole, Membership, MembershipSource, SignInMethod, Tenant, User, UserStatus,
};
use cohort_core::name::{Email, Name, ShortText, SsoGroups};
use cohort_store::SignInFlow;
use serde_json::{Map, Value};
use std::collections::BTreeSet;

/// How long a begun sign-in may take to come back from the provider.
const FLOW_FOR_MS: i64 = 10 * 60_000;

/// The most provider groups one sign-in syncs.
pub const MAX_SYNCED_GROUPS: usize = cohort_core::name::MAX_SSO_GROUPS;

/// The directory asked for a user's groups when the provider is Entra and none is set.
const GRAPH: &str = "https://graph.microsoft.com";

/// Where a person goes once signed in: `next` when it is a path of the same tenant (no other
/// host, no other tenant, no `..`), the groups page otherwise.
pub fn safe_next(tenant_slug: &str, next: Option<&str>) -> String {
    let home = format!("/t/{tenant_slug}/portal/access-management/groups");
    let Some(next) = next else { return home };
    let ours = next.strip_prefix(&format!("/t/{tenant_slug}/")).is_some_and(|rest| {
        let path = rest.split(['?', '#']).next().unwrap_or_default();
        next.len() <= 1000
            && next.bytes().all(|b| b.is_ascii_graphic())
            && !next.contains('\\')
            && path.split('/').all(|seg| !seg.is_empty() && seg != "." && seg != ".." && !seg.contains('%'))
    });
    if ours { next.to_owned() } else { home }
}

/// The claims of a checked ID token this module reads.
struct Person {
    subject: String,
    email: Option<Email>,
    email_verified: bool,
    login: Option<Name>,
    display_name: ShortText,
    groups: SsoGroups,
}

fn text<'a>(claims: &'a Map<String, Value>, name: &str) -> Option<&'a str> {
    claims.get(name).and_then(Value::as_str).map(str::trim).filter(|s| !s.is_empty())
}

/// The provider groups of a claim: a list of strings (or one string), each 1 to 200
/// characters, at most [`MAX_SYNCED_GROUPS`] of them.
fn claimed_groups(values: Vec<String>) -> ServiceResult<SsoGroups> {
    let mut seen = BTreeSet::new();
    for v in values {
        seen.insert(provider_group(&v).map_err(|_| {
            ServiceError::Upstream("the provider reported a group id that is empty or too long".to_owned())
        })?);
    }
    if seen.len() > MAX_SYNCED_GROUPS {
        return Err(ServiceError::Upstream(format!(
            "the provider reports {} groups for you; cohort syncs at most {MAX_SYNCED_GROUPS}: ask an administrator \
             to filter the groups the provider sends",
            seen.len()
        )));
    }
    SsoGroups::new(seen).map_err(|e| ServiceError::Upstream(e.to_string()))
}

impl Services {
    /// Begins a sign-in through the tenant's provider: returns where to send the person. The
    /// flow's `state`, `nonce` and PKCE verifier are stored (the state as a hash) for whichever
    /// server the provider returns to.
    pub async fn begin_sso(&self, tenant_slug: &str, next: Option<&str>, redirect_uri: &str) -> ServiceResult<String> {
        let (tenant, provider) = self.provider_of(tenant_slug).await?;
        let metadata = self.oidc.metadata(&provider.issuer).await?;
        let secrets = FlowSecrets::new();
        let flow = SignInFlow {
            nonce: secrets.nonce.clone(),
            verifier: secrets.verifier.clone(),
            next_path: safe_next(tenant_slug, next),
            created_at: self.now(),
        };
        let state_hash = hash_secret(&secrets.state);
        let stale = cohort_core::Timestamp(self.now().millis() - FLOW_FOR_MS);
        let mut r = self.vault.unguarded().await?;
        if r.insert_sign_in_flow(&tenant.id, &state_hash, &flow, stale).await? > self.config.sessions.pending_sign_ins {
            // Flows are begun by anyone: past the limit, new ones wait for old ones to finish or age.
            r.forget_sign_in_flow(&tenant.id, &state_hash).await?;
            return Err(ServiceError::TooMany(
                "too many sign-ins are in progress; try again in a few minutes".to_owned(),
            ));
        }
        Ok(Oidc::authorization_url(&metadata, &provider.client_id, redirect_uri, &provider.scopes, &secrets))
    }

    async fn provider_of(&self, tenant_slug: &str) -> ServiceResult<(Tenant, IdentityProvider)> {
        let mut r = self.vault.unguarded().await?;
        let tenant = r.tenant_by_slug(tenant_slug).await?.ok_or_else(|| ServiceError::NotFound("tenant".to_owned()))?;
        let provider = r
            .get_identity_provider(&tenant.id)
            .await?
            .ok_or_else(|| ServiceError::NotFound("an identity provider for this tenant".to_owned()))?;
        Ok((tenant, provider))
    }

    /// Whether the tenant signs in through a provider, and its issuer.
    pub async fn sso_issuer(&self, tenant_slug: &str) -> ServiceResult<Option<String>> {
        match self.provider_of(tenant_slug).await {
            Ok((_, p)) => Ok(Some(p.issuer)),
            Err(ServiceError::NotFound(_)) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Finishes a sign-in the provider returned from with `code` for `state`: the code is
    /// redeemed, the ID token checked, the user found (by the provider's `(issuer, sub)`, then
    /// by a vouched-for email when the tenant allows it) or made (when it allows that), their
    /// `sso` memberships made exactly the provider's groups and the groups mapped from them,
    /// `ssoGroups` updated (rules re-run), and a session opened, in one change. Returns the
    /// session and where to go. Any failure is audited (`session.create.refused`) and changes
    /// nothing else.
    pub async fn finish_sso(
        &self,
        tenant_slug: &str,
        state: &str,
        code: &str,
        redirect_uri: &str,
        request_id: &str,
    ) -> ServiceResult<(Written<SignedIn>, String)> {
        let (tenant, provider) = self.provider_of(tenant_slug).await?;
        let result = self.sso_sign_in(&tenant, &provider, state, code, redirect_uri, request_id).await;
        if let Err(e) = &result {
            self.audit_failed_sign_in(&tenant.id, SignInMethod::Sso, None, request_id, e).await;
        }
        result
    }

    async fn sso_sign_in(
        &self,
        tenant: &Tenant,
        provider: &IdentityProvider,
        state: &str,
        code: &str,
        redirect_uri: &str,
        request_id: &str,
    ) -> ServiceResult<(Written<SignedIn>, String)> {
        let now = self.now();
        let stale = cohort_core::Timestamp(now.millis() - FLOW_FOR_MS);
        let flow =
            self.vault.unguarded().await?.take_sign_in_flow(&tenant.id, &hash_secret(state), stale).await?.ok_or_else(
                || ServiceError::Unauthorized("this sign-in has expired or was already used: sign in again".to_owned()),
            )?;
        let tokens = self
            .oidc
            .redeem(&provider.issuer, &provider.client_id, &provider.client_secret, code, redirect_uri, &flow.verifier)
            .await?;
        let claims =
            self.oidc.verify(&provider.issuer, &provider.client_id, &tokens.id_token, &flow.nonce, now).await?;
        let groups = if groups_overage(&claims, &provider.groups_claim) {
            let token = tokens.access_token.as_deref().ok_or_else(|| {
                ServiceError::Upstream(
                    "the provider left your groups out and gave no access token to list them".to_owned(),
                )
            })?;
            let base = provider.directory_url.as_deref().unwrap_or(GRAPH);
            let listed = self.oidc.directory_groups(base, token).await.map_err(|e| {
                ServiceError::Upstream(format!(
                    "the provider left your groups out of the sign-in and its directory could not list them ({e}); \
                     your memberships are unchanged"
                ))
            })?;
            claimed_groups(listed)?
        } else {
            claimed_groups(match claims.get(&provider.groups_claim) {
                Some(Value::Array(items)) => {
                    items.iter().map(|v| v.as_str().map(str::to_owned).unwrap_or_else(|| v.to_string())).collect()
                }
                Some(Value::String(one)) => vec![one.clone()],
                _ => Vec::new(),
            })?
        };
        let person = Person {
            subject: text(&claims, "sub").unwrap_or_default().to_owned(),
            email: text(&claims, &provider.email_claim).and_then(|e| Email::parse(e).ok()),
            email_verified: claims.get("email_verified").and_then(Value::as_bool) == Some(true),
            login: text(&claims, &provider.login_claim).and_then(|l| Name::parse("userName", l).ok()),
            display_name: text(&claims, &provider.name_claim)
                .and_then(|n| ShortText::parse("displayName", &n.chars().take(200).collect::<String>(), false).ok())
                .unwrap_or_else(ShortText::empty),
            groups,
        };
        let mut change = self.begin(&tenant.id).await?;
        change.tx.allow(Allowed::sign_in(&tenant.id))?;
        let user = self.find_or_make_user(&mut change, provider, &person, request_id).await?;
        if user.status != UserStatus::Active {
            return Err(ServiceError::Forbidden("your account is suspended: ask an administrator".to_owned()));
        }
        let origin = Origin { actor: Some(user.id.as_str()), request_id };
        self.sync_sso_in(&mut change, origin, &user, &person.groups).await?;
        let ctx = super::session::signing_in(tenant, &user.id, request_id);
        let signed_in = self.finish_sign_in(change, ctx, SignInMethod::Sso).await?;
        Ok((signed_in, flow.next_path))
    }

    /// The user who signs in as `person`, linked or made as the tenant allows.
    async fn find_or_make_user(
        &self,
        change: &mut Change,
        provider: &IdentityProvider,
        person: &Person,
        request_id: &str,
    ) -> ServiceResult<User> {
        let tenant = change.tenant().clone();
        let linked = change.tx.read().user_by_identity(&tenant, &provider.issuer, &person.subject).await?;
        if let Some(id) = linked {
            return change.user(&id).await;
        }
        let by_email = match (&person.email, provider.link_by_email && person.email_verified) {
            (Some(e), true) => change.tx.read().user_by_email(&tenant, e).await?,
            _ => None,
        };
        let user = match by_email {
            Some(u) => u,
            None if provider.create_users => {
                let origin = Origin { actor: None, request_id };
                let input = NewUser {
                    email: person.email.clone(),
                    display_name: person.display_name.clone(),
                    department: ShortText::empty(),
                    title: ShortText::empty(),
                    attributes: Default::default(),
                    sso_groups: SsoGroups::default(),
                    status: UserStatus::Active,
                    user_type: None,
                    user_name: person.login.clone(),
                    external_id: None,
                    time_zone: None,
                };
                match self.create_user_in(change, origin, input).await {
                    Ok(u) => u,
                    Err(ServiceError::Conflict { field, .. }) => {
                        return Err(ServiceError::Forbidden(format!(
                            "a user of this tenant already has your {}, and this tenant does not link accounts by \
                             it: ask an administrator",
                            if field == "email" { "email" } else { "login name" }
                        )));
                    }
                    Err(e) => return Err(e),
                }
            }
            None => {
                return Err(ServiceError::Forbidden(
                    "you are not a user of this tenant yet: ask an administrator to add you".to_owned(),
                ));
            }
        };
        change.tx.write()?.link_identity(&provider.issuer, &person.subject, &user.id, self.now()).await?;
        Ok(user)
    }

    /// Makes `user`'s `sso` memberships exactly the groups standing for `groups` (made when
    /// missing) and the groups mapped from them, leaving rows of every other source alone;
    /// records `groups` as the user's `ssoGroups` (rules re-run). Each row added or removed is
    /// audited (`sso.add`, `sso.remove`). A group that confers a `cohort:` permission or does
    /// not admit the user's type is passed over (`sso.skip`).
    async fn sync_sso_in(
        &self,
        change: &mut Change,
        origin: Origin<'_>,
        user: &User,
        groups: &SsoGroups,
    ) -> ServiceResult<()> {
        let tenant = change.tenant().clone();
        let names = groups.as_slice();
        let existing = change.tx.read().groups_by_external_id(&tenant, GroupSource::Sso, names).await?;
        let mut wanted: BTreeSet<GroupId> = existing.iter().map(|(_, g)| g.clone()).collect();
        let mut fresh = BTreeSet::new();
        for name in names.iter().filter(|n| !existing.iter().any(|(e, _)| e == *n)) {
            let g = self.create_synced_group_in(change, origin, name).await?;
            fresh.insert(g.clone());
            wanted.insert(g);
        }
        let mapped = change.tx.read().list_sso_mappings(&tenant, None).await?;
        wanted.extend(mapped.into_iter().filter(|(_, p)| names.contains(p)).map(|(g, _)| g));
        let state = &change.before.state;
        let held: BTreeSet<GroupId> = state
            .memberships_of(&user.id)
            .filter(|(_, s, _)| *s == MembershipSource::Sso)
            .map(|(g, _, _)| g.clone())
            .collect();
        let now = self.now();
        let mut add = Vec::new();
        let mut skipped = Vec::new();
        for g in wanted.difference(&held) {
            if fresh.contains(g) {
                add.push(g.clone());
            } else if change.before.index.confers_cohort(g) {
                skipped.push((g.clone(), "the group confers `cohort:` permissions"));
            } else if state.admits_user(g, &user.id).is_err() {
                skipped.push((g.clone(), "the group does not admit the user's type"));
            } else {
                add.push(g.clone());
            }
        }
        let rows: Vec<Membership> = add
            .iter()
            .map(|g| Membership {
                group_id: g.clone(),
                user_id: user.id.clone(),
                source: MembershipSource::Sso,
                role: MemberRole::Member,
                expires_at: None,
                added_by: None,
                added_at: now,
                reason: ShortText::empty(),
            })
            .collect();
        change.tx.write()?.put_memberships(&rows).await?;
        for m in &rows {
            let after = MembershipSnapshot::new(m, now);
            self.audit(change, origin, "sso.add", ("group", m.group_id.as_str()), None::<&()>, Some(&after));
        }
        for (g, why) in &skipped {
            let detail = serde_json::json!({ "userId": user.id.as_str(), "reason": why });
            self.audit(change, origin, "sso.skip", ("group", g.as_str()), None::<&()>, Some(&detail));
        }
        let gone: Vec<&GroupId> = held.difference(&wanted).collect();
        for g in &gone {
            let before = change
                .tx
                .read()
                .membership_rows(&tenant, g, &user.id)
                .await?
                .into_iter()
                .find(|m| m.source == MembershipSource::Sso);
            change.tx.write()?.delete_membership(g, &user.id, MembershipSource::Sso).await?;
            let before = before.map(|m| MembershipSnapshot::new(&m, now));
            self.audit(change, origin, "sso.remove", ("group", g.as_str()), before.as_ref(), None::<&()>);
        }
        change.touch_user(&user.id);
        if &user.sso_groups != groups {
            let mut after = user.clone();
            after.sso_groups = groups.clone();
            after.updated_at = now.next_after(user.updated_at);
            change.tx.write()?.update_user(&after).await?;
            self.reassign_in(change, origin, &[(Some(user), Some(&after))]).await?;
            self.audit(
                change,
                origin,
                "user.update",
                ("user", user.id.as_str()),
                Some(&UserSnapshot::from(user)),
                Some(&UserSnapshot::from(&after)),
            );
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_stays_in_the_tenant() {
        let home = "/t/acme/portal/access-management/groups";
        assert_eq!(
            safe_next("acme", Some("/t/acme/portal/access-management/users")),
            "/t/acme/portal/access-management/users"
        );
        assert_eq!(
            safe_next("acme", Some("/t/acme/portal/access-management/groups?q=a%20b")),
            "/t/acme/portal/access-management/groups?q=a%20b"
        );
        for bad in [
            "https://evil.example/t/acme/",
            "//evil.example/t/acme/x",
            "/t/other/portal",
            "/t/acme/../other/portal",
            "/t/acme/%2e%2e/other",
            "/t/acme//evil.example",
            "/t/acme/\\evil",
            "/t/acmex/portal",
            "javascript:alert(1)",
            "",
        ] {
            assert_eq!(safe_next("acme", Some(bad)), home, "{bad}");
        }
        assert_eq!(safe_next("acme", None), home);
    }

    #[test]
    fn claimed_groups_are_bounded() {
        assert_eq!(
            claimed_groups(vec!["b".into(), "a".into(), "a".into()]).map(|g| g.as_slice().to_vec()).ok(),
            Some(vec!["a".to_owned(), "b".to_owned()])
        );
        assert!(claimed_groups(vec![String::new()]).is_err());
        assert!(claimed_groups((0..=MAX_SYNCED_GROUPS).map(|i| format!("g{i}")).collect()).is_err());
    }
}
