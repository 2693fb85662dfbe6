//! CSV export: a group's membership rows and the tenant's users, cells escaped so that no
//! spreadsheet runs one as a formula.

use super::{Ctx, Services};
use crate::error::ServiceResult;
use crate::format::rfc3339;
use cohort_core::GroupId;
use cohort_core::csv;
use cohort_store::{MembershipFilter, UserFilter};

impl Services {
    /// A group's membership rows as CSV (`email,userId,role,source,expiresAt`), cells escaped
    /// so that no spreadsheet runs one as a formula.
    pub async fn export_members(&self, ctx: &Ctx, group: &GroupId) -> ServiceResult<String> {
        let mut out = csv::row(["email", "userId", "role", "source", "expiresAt"]);
        let mut after = None;
        loop {
            let filter = MembershipFilter { after_user: after.clone(), limit: 1000 };
            let rows = self.list_members_with_users(ctx, group, &filter).await?;
            let Some((last, _)) = rows.last() else { break };
            after = Some(last.user_id.clone());
            for (m, user) in &rows {
                let email = user.email.as_ref().map(ToString::to_string);
                let expires = m.expires_at.map(rfc3339).unwrap_or_default();
                out.push_str(&csv::row([
                    email.as_deref().unwrap_or(""),
                    m.user_id.as_str(),
                    m.role.as_str(),
                    m.source.as_str(),
                    expires.as_str(),
                ]));
            }
        }
        Ok(out)
    }

    /// Every user as CSV (`email,userId,userName,displayName,department,title,status`).
    pub async fn export_users(&self, ctx: &Ctx) -> ServiceResult<String> {
        let mut out = csv::row(["email", "userId", "userName", "displayName", "department", "title", "status"]);
        let mut filter = UserFilter { limit: 1000, ..UserFilter::default() };
        loop {
            let users = self.list_users(ctx, &filter).await?;
            for u in &users {
                let email = u.email.as_ref().map(ToString::to_string).unwrap_or_default();
                let name = u.user_name.as_ref().map(ToString::to_string).unwrap_or_default();
                out.push_str(&csv::row([
                    email.as_str(),
                    u.id.as_str(),
                    name.as_str(),
                    u.display_name.as_str(),
                    u.department.as_str(),
                    u.title.as_str(),
                    u.status.as_str(),
                ]));
            }
            match users.last() {
                Some(last) if users.len() as i64 == filter.limit => {
                    filter.after = Some(cohort_store::After { key: last.email_key(), id: last.id.to_string() });
                }
                _ => break,
            }
        }
        Ok(out)
    }
}
