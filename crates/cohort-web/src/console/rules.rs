//! A group's Rules tab: its rules with their state and last error, a CEL editor whose save is
//! previewed (who would be added and removed) before it is confirmed, pause and resume,
//! deletion, and the rule log (the group's `auto_assignment` events).

use super::activity::{events_table, group_events};
use super::frame::{Tab, fail, form_errors, group_frame, group_id, group_url, load};
use super::layout::{badge, described, field_error};
use crate::shared::AppState;
use crate::sign_in::Signed;
use crate::sign_in::{self, Posted};
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use cohort_core::RuleId;
use cohort_core::model::{Group, GroupStatus, Rule};
use cohort_core::permission::CohortPermission as P;
use cohort_service::error::ServiceError;
use cohort_service::{PlannedMember, RuleDraft, RulePlan};
use maud::{Markup, html};
use serde::Deserialize;

pub(super) fn routes() -> Router<AppState> {
    let base = "/t/{tenant}/portal/access-management/groups/{group}/rules";
    Router::new()
        .route(base, get(tab))
        .route(&format!("{base}/preview"), post(preview))
        .route(&format!("{base}/save"), post(save))
        .route(&format!("{base}/{{rule}}/pause"), post(pause))
        .route(&format!("{base}/{{rule}}/resume"), post(resume))
        .route(&format!("{base}/{{rule}}/delete"), get(confirm_delete).post(delete))
}

/// Users listed by name in a preview; the rest are counted.
const SHOWN: usize = 50;

#[derive(Deserialize, Default)]
pub(super) struct TabQuery {
    edit: Option<String>,
    done: Option<String>,
}

/// The editor's fields: the expression, and the rule it changes (empty for a new one).
#[derive(Deserialize, Default, Clone)]
pub(super) struct RuleForm {
    #[serde(default)]
    expression: String,
    #[serde(default)]
    rule: String,
}

fn rule_id(raw: &str) -> Result<Option<RuleId>, ServiceError> {
    if raw.is_empty() {
        return Ok(None);
    }
    RuleId::parse(raw).map(Some).map_err(|_| ServiceError::NotFound(format!("rule `{raw}`")))
}

fn rules_url(signed: &Signed, g: &Group) -> String {
    format!("{}/rules", group_url(&signed.tenant, &g.id))
}

fn editor(signed: &Signed, g: &Group, f: &RuleForm, errors: &[(String, String)]) -> Markup {
    let url = rules_url(signed, g);
    html! {
        section.card aria-labelledby="editor-title" {
            h2 #editor-title { @if f.rule.is_empty() { "Add a rule" } @else { "Edit rule " code { (f.rule) } } }
            form.stack method="post" action=(format!("{url}/preview")) {
                (signed.csrf_field())
                input type="hidden" name="rule" value=(f.rule);
                div.field {
                    label for="expression" { "Condition (CEL)" }
                    textarea #expression.code name="expression" rows="4" spellcheck="false" required
                        aria-describedby=(described(errors, "expression").unwrap_or_else(|| "expression-hint".to_owned()))
                        aria-invalid=[described(errors, "expression").map(|_| "true")] { (f.expression) }
                    p.hint #expression-hint {
                        "Users for whom it is true join this group; when it turns false they leave. The user's fields are names of their own: "
                        code { "email.endsWith('@support.example.com')" } ", " code { "department == 'Sales'" } ", " code { "'emea' in ssoGroups" } ", " code { "email.matches('^[a-z.]+@support[.]example[.]com$')" } " (a regular expression; its syntax is in the README)."
                    }
                    (field_error(errors, "expression"))
                }
                div.actions {
                    button.primary type="submit" { "Preview" }
                    @if !f.rule.is_empty() { a href=(url) { "Cancel" } }
                }
            }
        }
    }
}

fn rules_table(signed: &Signed, g: &Group, rules: &[Rule], may_edit: bool) -> Markup {
    let url = rules_url(signed, g);
    html! {
        @if rules.is_empty() {
            div.empty { p { "No rules. A rule adds the users who match a condition and removes them when they stop matching." } }
        } @else {
            div.table-wrap { table {
                caption.visually-hidden { "Rules" }
                thead { tr { th scope="col" { "Condition" } th scope="col" { "State" } th scope="col" class="num" { "Matched" } th scope="col" { "Last run" } th scope="col" { "Last error" } @if may_edit { th scope="col" { "Actions" } } } }
                tbody {
                    @for r in rules {
                        tr {
                            td { code { (r.expression) } }
                            td { @if r.paused { (badge("archived", "Paused")) } @else { (badge("active", "Active")) } }
                            td.num { (r.matched) }
                            td { @match r.last_evaluated_at { Some(t) => (signed.time.when(t)), None => span.muted { "never" } } }
                            td { @match &r.last_error { Some(e) => span.error { (e) }, None => span.muted { "none" } } }
                            @if may_edit {
                                td.row-actions {
                                    a href=(format!("{url}?edit={}", r.id)) aria-label=(format!("Edit rule {}", r.id)) { "Edit" }
                                    @let (verb, path) = if r.paused { ("Resume", "resume") } else { ("Pause", "pause") };
                                    form method="post" action=(format!("{url}/{}/{path}", r.id)) {
                                        (signed.csrf_field())
                                        button type="submit" aria-label=(format!("{verb} rule {}", r.id)) { (verb) }
                                    }
                                    a href=(format!("{url}/{}/delete", r.id)) aria-label=(format!("Delete rule {}", r.id)) { "Delete" }
                                }
                            }
                        }
                    }
                }
            } }
        }
    }
}

/// Whether the signed-in person may change this group's rules (the service decides; this
/// only hides the controls).
fn may_edit(signed: &Signed, g: &Group) -> bool {
    signed.holdings.can(P::GroupsWrite) && g.status == GroupStatus::Active
}

async fn tab(
    State(s): State<AppState>,
    signed: Signed,
    Path((_, group)): Path<(String, String)>,
    Query(q): Query<TabQuery>,
) -> Response {
    let edit = q.edit.clone().unwrap_or_default();
    rules_page(&s, &signed, &group, &RuleForm { rule: edit, ..RuleForm::default() }, &[], q.done.as_deref(), true).await
}

async fn rules_page(
    s: &AppState,
    signed: &Signed,
    group: &str,
    form: &RuleForm,
    errors: &[(String, String)],
    done: Option<&str>,
    fill: bool,
) -> Response {
    let found = async {
        let (g, n) = load(s, signed, group).await?;
        let rules = s.list_rules(&signed.ctx, &g.id).await?;
        let log = group_events(s, signed, &g.id, Some("auto_assignment")).await?;
        Ok::<_, ServiceError>((g, n, rules, log))
    }
    .await;
    let (g, n, rules, log) = match found {
        Ok(v) => v,
        Err(e) => return fail(signed, e),
    };
    let mut form = form.clone();
    if fill && !form.rule.is_empty() {
        match rules.iter().find(|r| r.id.as_str() == form.rule) {
            Some(r) => form.expression.clone_from(&r.expression),
            None => return fail(signed, ServiceError::NotFound(format!("rule `{}`", form.rule))),
        }
    }
    let editable = may_edit(signed, &g);
    let body = html! {
        h2 { "Rules" }
        (rules_table(signed, &g, &rules, editable))
        @if editable { (editor(signed, &g, &form, errors)) }
        h2 { "Rule log" }
        @match &log {
            Some(events) => (events_table(signed, events, "Rule log")),
            None => p.muted { "The rule log is part of the audit log, which needs " code { "cohort:audit.read" } "." },
        }
    };
    let status = super::layout::form_status(errors);
    (status, group_frame(signed, &g, n, Tab::Rules, done, body)).into_response()
}

fn people(title: &str, users: &[PlannedMember]) -> Markup {
    html! {
        h3 { (title) " (" (users.len()) ")" }
        @if users.is_empty() { p.muted { "Nobody." } } @else {
            ul.people {
                @for u in users.iter().take(SHOWN) {
                    li { (u.display_name) @if let Some(e) = &u.email { " " span.muted { "<" (e) ">" } } }
                }
                @if users.len() > SHOWN { li.muted { "and " (users.len() - SHOWN) " more" } }
            }
        }
    }
}

fn draft(f: &RuleForm, existing: Option<&Rule>) -> RuleDraft {
    RuleDraft { expression: f.expression.clone(), paused: existing.is_some_and(|r| r.paused) }
}

async fn preview(
    State(s): State<AppState>,
    Path((_, group)): Path<(String, String)>,
    Posted(signed, f): Posted<RuleForm>,
) -> Response {
    let planned = async {
        let (g, n) = load(&s, &signed, &group).await?;
        let existing = match rule_id(&f.rule)? {
            Some(id) => Some(s.get_rule(&signed.ctx, &g.id, &id).await?),
            None => None,
        };
        let plan: RulePlan =
            s.preview_rule(&signed.ctx, &g.id, existing.as_ref().map(|r| &r.id), draft(&f, existing.as_ref())).await?;
        Ok::<_, ServiceError>((g, n, plan))
    }
    .await;
    let (g, n, plan) = match planned {
        Ok(v) => v,
        Err(e) => {
            return match form_errors(&e, &[]) {
                Some(errors) => rules_page(&s, &signed, &group, &f, &errors, None, false).await,
                None => fail(&signed, e),
            };
        }
    };
    let url = rules_url(&signed, &g);
    let body = html! {
        h2 { "What saving this rule does" }
        p { "Condition: " code { (f.expression) } }
        p { "It matches " strong { (plan.matched) } " user" @if plan.matched != 1 { "s" } ". Nothing has changed yet." }
        @if let Some(e) = &plan.error { p.error role="alert" { "It cannot decide some users: " (e) } }
        @if plan.held { p.notice { "Another rule of this group is paused, so nobody leaves through rules until it is resumed." } }
        (people("Added", &plan.added))
        (people("Removed", &plan.removed))
        form.actions method="post" action=(format!("{url}/save")) {
            (signed.csrf_field())
            input type="hidden" name="rule" value=(f.rule);
            input type="hidden" name="expression" value=(f.expression);
            button.primary type="submit" { "Confirm and apply" }
            a href=(url) { "Cancel" }
        }
        (editor(&signed, &g, &f, &[]))
    };
    group_frame(&signed, &g, n, Tab::Rules, None, body).into_response()
}

async fn save(
    State(s): State<AppState>,
    Path((_, group)): Path<(String, String)>,
    Posted(signed, f): Posted<RuleForm>,
) -> Response {
    let done = async {
        let id = group_id(&group)?;
        let existing = match rule_id(&f.rule)? {
            Some(r) => Some(s.get_rule(&signed.ctx, &id, &r).await?),
            None => None,
        };
        let d = draft(&f, existing.as_ref());
        s.save_rule(&signed.ctx, &id, existing.as_ref().map(|r| &r.id), d).await?;
        Ok::<_, ServiceError>(id)
    }
    .await;
    match done {
        Ok(id) => Redirect::to(&format!("{}/rules?done=rule-saved", group_url(&signed.tenant, &id))).into_response(),
        Err(e) => match form_errors(&e, &[]) {
            Some(errors) => rules_page(&s, &signed, &group, &f, &errors, None, false).await,
            None => fail(&signed, e),
        },
    }
}

async fn set_paused(s: &AppState, signed: &Signed, group: &str, rule: &str, paused: bool) -> Response {
    let done = async {
        let id = group_id(group)?;
        let rid = rule_id(rule)?.ok_or_else(|| ServiceError::NotFound("rule".to_owned()))?;
        let r = s.get_rule(&signed.ctx, &id, &rid).await?;
        let d = RuleDraft { expression: r.expression.clone(), paused };
        s.save_rule(&signed.ctx, &id, Some(&r.id), d).await?;
        Ok::<_, ServiceError>(id)
    }
    .await;
    let word = if paused { "rule-paused" } else { "rule-resumed" };
    match done {
        Ok(id) => Redirect::to(&format!("{}/rules?done={word}", group_url(&signed.tenant, &id))).into_response(),
        Err(e) => fail(signed, e),
    }
}

async fn pause(
    State(s): State<AppState>,
    Path((_, group, rule)): Path<(String, String, String)>,
    Posted(signed, sign_in::Nothing {}): Posted<sign_in::Nothing>,
) -> Response {
    set_paused(&s, &signed, &group, &rule, true).await
}

async fn resume(
    State(s): State<AppState>,
    Path((_, group, rule)): Path<(String, String, String)>,
    Posted(signed, sign_in::Nothing {}): Posted<sign_in::Nothing>,
) -> Response {
    set_paused(&s, &signed, &group, &rule, false).await
}

async fn confirm_delete(
    State(s): State<AppState>,
    signed: Signed,
    Path((_, group, rule)): Path<(String, String, String)>,
) -> Response {
    let found = async {
        let (g, n) = load(&s, &signed, &group).await?;
        let rid = rule_id(&rule)?.ok_or_else(|| ServiceError::NotFound("rule".to_owned()))?;
        let r = s.get_rule(&signed.ctx, &g.id, &rid).await?;
        Ok::<_, ServiceError>((g, n, r))
    }
    .await;
    let (g, n, r) = match found {
        Ok(v) => v,
        Err(e) => return fail(&signed, e),
    };
    let url = rules_url(&signed, &g);
    let body = html! {
        h2 { "Delete this rule?" }
        p { code { (r.expression) } }
        p { "The members only this rule brought leave " (g.name) " (unless another rule of the group is paused); members added another way stay." }
        form.actions method="post" action=(format!("{url}/{}/delete", r.id)) {
            (signed.csrf_field())
            button.danger type="submit" { "Delete rule" }
            a href=(url) { "Cancel" }
        }
    };
    group_frame(&signed, &g, n, Tab::Rules, None, body).into_response()
}

async fn delete(
    State(s): State<AppState>,
    Path((_, group, rule)): Path<(String, String, String)>,
    Posted(signed, sign_in::Nothing {}): Posted<sign_in::Nothing>,
) -> Response {
    let done = async {
        let id = group_id(&group)?;
        let rid = rule_id(&rule)?.ok_or_else(|| ServiceError::NotFound("rule".to_owned()))?;
        s.delete_rule(&signed.ctx, &id, &rid).await?;
        Ok::<_, ServiceError>(id)
    }
    .await;
    match done {
        Ok(id) => Redirect::to(&format!("{}/rules?done=rule-deleted", group_url(&signed.tenant, &id))).into_response(),
        Err(e) => fail(&signed, e),
    }
}
