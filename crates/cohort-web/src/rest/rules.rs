//! `/groups/{id}/rules`: auto-assignment rules. Saving or changing a rule answers with a
//! preview of who would be added and removed; the same request with `"confirm": true` applies it.

use super::extract::{ApiJson, Caller, path_id};
use super::{AppState, written};
use crate::problem::{ApiError, Problem};
use crate::view::RuleView;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use cohort_core::{GroupId, RuleId};
use cohort_service::{PlannedMember, RuleDraft, RulePlan};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// How many added and removed users a response lists (the counts are always whole).
pub const LISTED_USERS: usize = 100;

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(create_rule, list_rules)).routes(routes!(get_rule, update_rule, delete_rule))
}

/// A new rule.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateRuleBody {
    /// A CEL expression over `user` (`email`, `userName`, `name`, `department`, `title`,
    /// `status`, `attributes`, `ssoGroups`, `id`), e.g. `user.department == 'Sales'`.
    pub expression: String,
    /// Save it paused (not evaluated).
    #[serde(default)]
    pub paused: bool,
    /// Apply it. Without, the answer is a preview and nothing is saved.
    #[serde(default)]
    pub confirm: bool,
}

/// Changes to a rule; absent fields stay as they are.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PatchRuleBody {
    /// New expression.
    pub expression: Option<String>,
    /// Pause or resume it.
    pub paused: Option<bool>,
    /// Apply the change. Without, the answer is a preview and nothing is saved.
    #[serde(default)]
    pub confirm: bool,
}

/// A user a rule adds or removes.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PlannedUserView {
    /// Id.
    pub id: String,
    /// Email, if any.
    pub email: Option<String>,
    /// Display name.
    pub display_name: String,
}

/// What a rule change does (a preview) or did (applied) to its group's members.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RuleChangeView {
    /// False for a preview: nothing was saved. Send the same request with `"confirm": true`.
    pub applied: bool,
    /// The rule as it is (applied) or would be (preview); absent after a deletion.
    pub rule: Option<RuleView>,
    /// How many users become members.
    pub added_count: usize,
    /// How many users stop being members through rules.
    pub removed_count: usize,
    /// The first 100 users added, by id.
    pub added: Vec<PlannedUserView>,
    /// The first 100 users removed, by id.
    pub removed: Vec<PlannedUserView>,
    /// Whether removals are held back because a rule of the group is paused.
    pub removals_held: bool,
}

/// A group's rules.
#[derive(Debug, Serialize, ToSchema)]
pub struct RuleList {
    /// The rules, oldest first.
    pub items: Vec<RuleView>,
}

fn listed(users: &[PlannedMember]) -> Vec<PlannedUserView> {
    users
        .iter()
        .take(LISTED_USERS)
        .map(|u| PlannedUserView { id: u.id.to_string(), email: u.email.clone(), display_name: u.display_name.clone() })
        .collect()
}

fn change_view(applied: bool, rule: Option<RuleView>, plan: &RulePlan) -> RuleChangeView {
    RuleChangeView {
        applied,
        rule,
        added_count: plan.added.len(),
        removed_count: plan.removed.len(),
        added: listed(&plan.added),
        removed: listed(&plan.removed),
        removals_held: plan.held,
    }
}

/// A preview of a rule as it would be saved: its state is what the preview found.
fn previewed(id: Option<&RuleId>, group: &GroupId, draft: &RuleDraft, plan: &RulePlan) -> RuleView {
    RuleView {
        id: id.map(ToString::to_string).unwrap_or_default(),
        group_id: group.to_string(),
        expression: draft.expression.clone(),
        paused: draft.paused,
        created_by: None,
        created_at: String::new(),
        updated_at: String::new(),
        last_evaluated_at: None,
        members_matched: plan.matched,
        last_error: plan.error.clone(),
    }
}

/// Previews or applies `draft` for rule `id` (or a new rule).
async fn save(
    s: &AppState,
    ctx: &cohort_service::Ctx,
    group: &GroupId,
    id: Option<&RuleId>,
    draft: RuleDraft,
    confirm: bool,
    status: StatusCode,
) -> Result<Response, ApiError> {
    if !confirm {
        let plan = s.preview_rule(ctx, group, id, draft.clone()).await?;
        let rule = previewed(id, group, &draft, &plan);
        return Ok((StatusCode::OK, Json(change_view(false, Some(rule), &plan))).into_response());
    }
    let w = s.save_rule(ctx, group, id, draft).await?;
    let view = change_view(true, Some(RuleView::from(&w.value.rule)), &w.value.plan);
    Ok(written(status, w.revision, &view))
}

#[utoipa::path(post, path = "/t/{tenant}/api/v1/groups/{groupId}/rules", tag = "rules", request_body = CreateRuleBody,
    responses((status = 200, description = "a preview; nothing saved", body = RuleChangeView),
        (status = 201, description = "saved and applied", body = RuleChangeView),
        (status = "4XX", body = Problem)))]
async fn create_rule(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Path(path): Path<(String, String)>,
    ApiJson(b): ApiJson<CreateRuleBody>,
) -> Result<Response, ApiError> {
    let group = path_id(GroupId::parse, &path.1)?;
    let draft = RuleDraft { expression: b.expression, paused: b.paused };
    save(&s, &ctx, &group, None, draft, b.confirm, StatusCode::CREATED).await
}

#[utoipa::path(get, path = "/t/{tenant}/api/v1/groups/{groupId}/rules", tag = "rules",
    responses((status = 200, body = RuleList), (status = "4XX", body = Problem)))]
async fn list_rules(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Path(path): Path<(String, String)>,
) -> Result<Json<RuleList>, ApiError> {
    let group = path_id(GroupId::parse, &path.1)?;
    let rules = s.list_rules(&ctx, &group).await?;
    Ok(Json(RuleList { items: rules.iter().map(RuleView::from).collect() }))
}

#[utoipa::path(get, path = "/t/{tenant}/api/v1/groups/{groupId}/rules/{ruleId}", tag = "rules",
    responses((status = 200, body = RuleView), (status = "4XX", body = Problem)))]
async fn get_rule(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Path(path): Path<(String, String, String)>,
) -> Result<Json<RuleView>, ApiError> {
    let group = path_id(GroupId::parse, &path.1)?;
    let id = path_id(RuleId::parse, &path.2)?;
    Ok(Json(RuleView::from(&s.get_rule(&ctx, &group, &id).await?)))
}

#[utoipa::path(patch, path = "/t/{tenant}/api/v1/groups/{groupId}/rules/{ruleId}", tag = "rules",
    request_body = PatchRuleBody,
    responses((status = 200, description = "a preview (`applied: false`) or the applied change", body = RuleChangeView),
        (status = "4XX", body = Problem)))]
async fn update_rule(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Path(path): Path<(String, String, String)>,
    ApiJson(b): ApiJson<PatchRuleBody>,
) -> Result<Response, ApiError> {
    let group = path_id(GroupId::parse, &path.1)?;
    let id = path_id(RuleId::parse, &path.2)?;
    let current = s.get_rule(&ctx, &group, &id).await?;
    let draft = RuleDraft {
        expression: b.expression.unwrap_or(current.expression),
        paused: b.paused.unwrap_or(current.paused),
    };
    save(&s, &ctx, &group, Some(&id), draft, b.confirm, StatusCode::OK).await
}

#[utoipa::path(delete, path = "/t/{tenant}/api/v1/groups/{groupId}/rules/{ruleId}", tag = "rules",
    responses((status = 200, description = "deleted; the members it alone brought are removed", body = RuleChangeView),
        (status = "4XX", body = Problem)))]
async fn delete_rule(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Path(path): Path<(String, String, String)>,
) -> Result<Response, ApiError> {
    let group = path_id(GroupId::parse, &path.1)?;
    let id = path_id(RuleId::parse, &path.2)?;
    let w = s.delete_rule(&ctx, &group, &id).await?;
    Ok(written(StatusCode::OK, w.revision, &change_view(true, None, &w.value)))
}
