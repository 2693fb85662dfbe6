//! Auto-assignment rules: preview, save, pause and delete a group's rules, and the
//! re-evaluation that keeps rule memberships right whenever a user is created, changed or
//! deleted, through any face.
//!
//! A user is a member of a group through source `rule` while at least one of the group's
//! active rules matches them. While one of a group's rules is paused the group keeps the rule
//! members it has (a paused rule is not evaluated, so nobody can say it stopped matching):
//! active rules still add members, nobody is removed.

mod engine;

use super::authz::Guard;
use super::cohort_flow::cohort_giver_at_or_above;
use super::snapshot::RuleSnapshot;
use super::{Change, Ctx, Origin, Services, Written};
use crate::error::{ServiceError, ServiceResult};
use cohort_core::model::{GroupSource, MemberRole, Membership, MembershipSource, Rule, User};
use cohort_core::name::ShortText;
use cohort_core::permission::CohortPermission as P;
use cohort_core::rule::RuleEngine;
use cohort_core::state::TenantState;
use cohort_core::{GroupId, RuleId, Timestamp, UserId};
use cohort_store::RuleOutcome;
pub use engine::RuleCompiler;
use engine::{GroupRules, Program, decide_all};
use serde_json::json;
use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::sync::Arc;

/// Most rules one group may carry.
pub const MAX_RULES_PER_GROUP: usize = 20;

/// A rule to save: new, or the new version of an existing one.
#[derive(Clone, Debug)]
pub struct RuleDraft {
    /// The CEL expression over `user`.
    pub expression: String,
    /// Whether it starts paused.
    pub paused: bool,
}

/// A user a plan adds or removes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlannedMember {
    /// The user.
    pub id: UserId,
    /// Their email, if they have one.
    pub email: Option<String>,
    /// Their display name.
    pub display_name: String,
}

impl From<&User> for PlannedMember {
    fn from(u: &User) -> Self {
        Self {
            id: u.id.clone(),
            email: u.email.as_ref().map(ToString::to_string),
            display_name: u.display_name.to_string(),
        }
    }
}

/// What saving or removing a rule does, or did, to its group's members.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RulePlan {
    /// Users who become members, by id.
    pub added: Vec<PlannedMember>,
    /// Users who stop being members through rules, by id.
    pub removed: Vec<PlannedMember>,
    /// How many users the rule matches (0 for a paused or removed rule).
    pub matched: i64,
    /// Why the rule could not be decided for some user, if so.
    pub error: Option<String>,
    /// Whether removals are held back because a rule of the group is paused.
    pub held: bool,
}

/// A saved rule and what saving it did.
#[derive(Clone, Debug)]
pub struct SavedRule {
    /// The rule, with its state.
    pub rule: Rule,
    /// What changed in its group.
    pub plan: RulePlan,
}

/// A draft rule planned inside the open change that would save it.
struct DraftPlan {
    before: Option<Rule>,
    rule: Rule,
    planned: (RulePlan, Vec<RuleOutcome>),
}

/// The users who are members of `group` through rules.
fn rule_members(state: &TenantState, group: &GroupId) -> HashSet<UserId> {
    state
        .members_of(group)
        .filter(|u| state.rows(group, u).any(|(s, _)| s == MembershipSource::Rule))
        .cloned()
        .collect()
}

fn rule_not_found(id: &RuleId) -> ServiceError {
    ServiceError::NotFound(format!("rule `{id}`"))
}

/// A membership row a rule made.
fn member_row(group: &GroupId, user: &UserId, reason: &ShortText, now: Timestamp) -> Membership {
    Membership {
        group_id: group.clone(),
        user_id: user.clone(),
        source: MembershipSource::Rule,
        role: MemberRole::Member,
        expires_at: None,
        added_by: None,
        added_at: now,
        reason: reason.clone(),
    }
}

impl Services {
    fn compile_rule(&self, source: &str) -> ServiceResult<Arc<Program>> {
        self.rules.compile(source).map_err(ServiceError::Expression)
    }

    /// The rules of `group` as they would be with `replace` saved in place of (or next to)
    /// the stored ones, or with `remove` gone.
    async fn group_rules(
        &self,
        change: &mut Change,
        group: &GroupId,
        replace: Option<&Rule>,
        remove: Option<&RuleId>,
    ) -> ServiceResult<GroupRules> {
        let tenant = change.tenant().clone();
        let mut rules = change.tx.read().list_rules(&tenant, Some(group)).await?;
        rules.retain(|r| Some(&r.id) != remove && Some(&r.id) != replace.map(|n| &n.id));
        rules.extend(replace.cloned());
        let held = rules.iter().any(|r| r.paused);
        let mut active = Vec::new();
        for r in rules.into_iter().filter(|r| !r.paused) {
            let program = self.compile_rule(&r.expression)?;
            active.push((r, program));
        }
        let admits = change.before.state.group(group).map(|g| g.member_types.clone()).unwrap_or_default();
        Ok(GroupRules { group: group.clone(), active, held, admits })
    }

    /// Decides every user of the tenant against a group's rules; `focus` names the rule whose
    /// matches the plan reports.
    async fn plan_group(
        &self,
        change: &mut Change,
        rules: &GroupRules,
        focus: Option<&RuleId>,
    ) -> ServiceResult<(RulePlan, Vec<RuleOutcome>)> {
        let tenant = change.tenant().clone();
        let users = if rules.active.is_empty() { Vec::new() } else { change.tx.read().all_users(&tenant).await? };
        let decision = decide_all(&self.rules.engine, rules, &users);
        let current = rule_members(&change.before.state, &rules.group);
        let mut added: Vec<PlannedMember> = users
            .iter()
            .filter(|u| decision.wanted.contains(&u.id) && !current.contains(&u.id))
            .map(PlannedMember::from)
            .collect();
        // Rule members are users of the tenant (deleting a user deletes their rows). While a
        // rule is paused only those of a type the group does not admit leave.
        let mut removed: Vec<PlannedMember> = if current.is_empty() || rules.held && rules.admits.is_any() {
            Vec::new()
        } else {
            let everyone = if users.is_empty() { change.tx.read().all_users(&tenant).await? } else { users };
            everyone
                .iter()
                .filter(|u| current.contains(&u.id) && !decision.wanted.contains(&u.id))
                .filter(|u| !rules.held || !rules.admits.admits(&u.user_type))
                .map(PlannedMember::from)
                .collect()
        };
        added.sort_by(|a, b| a.id.cmp(&b.id));
        removed.sort_by(|a, b| a.id.cmp(&b.id));
        let (matched, error) = rules
            .active
            .iter()
            .position(|(r, _)| Some(&r.id) == focus)
            .and_then(|i| decision.per_rule.get(i).cloned())
            .unwrap_or_default();
        let outcomes = rules
            .active
            .iter()
            .zip(&decision.per_rule)
            .map(|((r, _), (m, e))| RuleOutcome {
                id: r.id.clone(),
                at: self.now(),
                matched: *m,
                last_error: e.clone(),
            })
            .collect();
        Ok((RulePlan { added, removed, matched, error, held: rules.held }, outcomes))
    }

    /// Writes a plan: the rows, one audit event per member added or removed, and what the
    /// evaluation found for each rule of the group.
    async fn apply_plan(
        &self,
        change: &mut Change,
        origin: Origin<'_>,
        group: &GroupId,
        rule: Option<&RuleId>,
        (plan, outcomes): &(RulePlan, Vec<RuleOutcome>),
    ) -> ServiceResult<()> {
        let now = self.now();
        let reason = match rule {
            Some(rule) => ShortText::parse("reason", &format!("matched rule {rule}"), false)?,
            None => ShortText::parse("reason", "matched an auto-assignment rule", false)?,
        };
        let rows: Vec<Membership> = plan.added.iter().map(|u| member_row(group, &u.id, &reason, now)).collect();
        change.tx.write()?.put_memberships(&rows).await?;
        let removed: Vec<UserId> = plan.removed.iter().map(|u| u.id.clone()).collect();
        change.tx.write()?.delete_memberships(group, MembershipSource::Rule, &removed).await?;
        // Readers re-read what the change names: the group's rows cost its size, users one by
        // one cost how many moved.
        let moved = plan.added.len() + plan.removed.len();
        let whole = moved * 4 >= change.before.state.members_of(group).count() + plan.added.len();
        if whole && moved > 0 {
            change.touch_members(group);
        }
        for (users, action) in [(&plan.added, "auto_assignment.add"), (&plan.removed, "auto_assignment.remove")] {
            for PlannedMember { id: u, .. } in users {
                if !whole {
                    change.touch_user(u);
                }
                let detail = json!({ "userId": u.as_str(), "ruleId": rule.map(RuleId::as_str) });
                let (before, after) =
                    if action.ends_with("add") { (None, Some(&detail)) } else { (Some(&detail), None) };
                self.audit(change, origin, action, ("group", group.as_str()), before, after);
            }
        }
        for o in outcomes {
            if let Some(error) = &o.last_error {
                let detail = json!({ "ruleId": o.id.as_str(), "error": error });
                self.audit(change, origin, RULE_ERROR, ("group", group.as_str()), None::<&()>, Some(&detail));
            }
        }
        change.tx.write()?.record_rule_outcomes(outcomes).await?;
        Ok(())
    }

    /// Applies `group`'s rules again now that it admits `admits` (its member types changed):
    /// rule members of other types leave, users its rules match who were skipped join.
    pub async fn replan_in(
        &self,
        change: &mut Change,
        origin: Origin<'_>,
        group: &GroupId,
        admits: cohort_core::name::MemberTypes,
    ) -> ServiceResult<()> {
        let mut rules = self.group_rules(change, group, None, None).await?;
        if rules.active.is_empty() && rule_members(&change.before.state, group).is_empty() {
            return Ok(());
        }
        rules.admits = admits;
        let first = rules.active.first().map(|(r, _)| r.id.clone());
        let planned = self.plan_group(change, &rules, None).await?;
        self.apply_plan(change, origin, group, first.as_ref(), &planned).await
    }

    /// Checks that `group` may carry rules: it exists, is made in cohort, is not archived, and
    /// neither it nor a group above it confers `cohort:` permissions.
    fn rule_group_allowed(&self, change: &Change, group: &GroupId) -> ServiceResult<()> {
        let state = &change.before.state;
        let facts = state.group(group).ok_or_else(|| ServiceError::NotFound(format!("group `{group}`")))?;
        if facts.source != GroupSource::Local {
            return Err(ServiceError::Conflict {
                field: "groupId".to_owned(),
                reason: format!(
                    "group `{group}` is provisioned by {}, which decides its members",
                    facts.source.as_str()
                ),
            });
        }
        if !facts.active {
            return Err(crate::error::archived("groupId", &change.before.state, group));
        }
        if let Some(giver) = cohort_giver_at_or_above(state, group) {
            return Err(ServiceError::Conflict {
                field: "groupId".to_owned(),
                reason: format!(
                    "group `{giver}` confers `cohort:` permissions to the members of `{group}`; a group filled by \
                     rules cannot"
                ),
            });
        }
        Ok(())
    }

    /// Opens a change for a rule of `group` and authorises it.
    fn allow_rule_change(&self, change: &mut Change, ctx: &Ctx) -> ServiceResult<()> {
        change.tx.allow(Guard::new(ctx, &change.before, self.now()).require(P::GroupsWrite)?)
    }

    /// The rule `draft` would become: new, or `existing` changed.
    async fn drafted_rule(
        &self,
        ctx: &Ctx,
        change: &mut Change,
        group: &GroupId,
        existing: Option<&RuleId>,
        draft: RuleDraft,
    ) -> ServiceResult<(Option<Rule>, Rule)> {
        self.rule_group_allowed(change, group)?;
        self.compile_rule(&draft.expression)?;
        let tenant = change.tenant().clone();
        let now = self.now();
        let before = match existing {
            Some(id) => Some(
                change
                    .tx
                    .read()
                    .get_rule(&tenant, id)
                    .await?
                    .filter(|r| &r.group_id == group)
                    .ok_or_else(|| rule_not_found(id))?,
            ),
            None => {
                if change.tx.read().list_rules(&tenant, Some(group)).await?.len() >= MAX_RULES_PER_GROUP {
                    return Err(ServiceError::Conflict {
                        field: "groupId".to_owned(),
                        reason: format!("group `{group}` already has {MAX_RULES_PER_GROUP} rules"),
                    });
                }
                None
            }
        };
        let rule = match &before {
            Some(b) => Rule { expression: draft.expression, paused: draft.paused, updated_at: now, ..b.clone() },
            None => Rule {
                id: RuleId::generate(self.ids()),
                group_id: group.clone(),
                expression: draft.expression,
                paused: draft.paused,
                created_by: ctx.user().cloned(),
                created_at: now,
                updated_at: now,
                last_evaluated_at: None,
                matched: 0,
                last_error: None,
            },
        };
        Ok((before, rule))
    }

    /// Opens the change that saves `draft` (new, or `existing` changed) and plans it: the rule
    /// before and after, and what applying it does. Preview and save share it, so a confirmed
    /// save applies exactly the plan its preview showed if nothing changed in between.
    async fn plan_draft(
        &self,
        change: &mut Change,
        ctx: &Ctx,
        group: &GroupId,
        existing: Option<&RuleId>,
        draft: RuleDraft,
    ) -> ServiceResult<DraftPlan> {
        self.allow_rule_change(change, ctx)?;
        let (before, rule) = self.drafted_rule(ctx, change, group, existing, draft).await?;
        let rules = self.group_rules(change, group, Some(&rule), None).await?;
        let planned = self.plan_group(change, &rules, Some(&rule.id)).await?;
        Ok(DraftPlan { before, rule, planned })
    }

    /// What saving a rule (new, or `existing` changed) would add and remove; nothing is
    /// written.
    pub async fn preview_rule(
        &self,
        ctx: &Ctx,
        group: &GroupId,
        existing: Option<&RuleId>,
        draft: RuleDraft,
    ) -> ServiceResult<RulePlan> {
        let mut change = self.begin(ctx.tenant()).await?;
        // Dropping the change rolls it back.
        Ok(self.plan_draft(&mut change, ctx, group, existing, draft).await?.planned.0)
    }

    /// Saves a rule (new, or `existing` changed) and applies it to every user at once.
    pub async fn save_rule(
        &self,
        ctx: &Ctx,
        group: &GroupId,
        existing: Option<&RuleId>,
        draft: RuleDraft,
    ) -> ServiceResult<Written<SavedRule>> {
        self.change(ctx, async |change| {
            let DraftPlan { before, mut rule, planned } = self.plan_draft(change, ctx, group, existing, draft).await?;
            if !rule.paused {
                rule.last_evaluated_at = Some(self.now());
                rule.matched = planned.0.matched;
                rule.last_error = planned.0.error.clone();
            }
            change.tx.write()?.put_rule(&rule).await?;
            self.apply_plan(change, ctx.into(), group, Some(&rule.id), &planned).await?;
            let action = if before.is_some() { "auto_assignment.rule.update" } else { "auto_assignment.rule.create" };
            self.audit(
                change,
                ctx.into(),
                action,
                ("group", group.as_str()),
                before.as_ref().map(RuleSnapshot::from).as_ref(),
                Some(&RuleSnapshot::from(&rule)),
            );
            Ok(SavedRule { rule, plan: planned.0 })
        })
        .await
    }

    /// Deletes a rule; the members only it brought leave the group (unless another rule of
    /// the group is paused).
    pub async fn delete_rule(&self, ctx: &Ctx, group: &GroupId, id: &RuleId) -> ServiceResult<Written<RulePlan>> {
        self.change(ctx, async |change| {
            self.allow_rule_change(change, ctx)?;
            let t = change.tenant().clone();
            let before = change
                .tx
                .read()
                .get_rule(&t, id)
                .await?
                .filter(|r| &r.group_id == group)
                .ok_or_else(|| rule_not_found(id))?;
            let rules = self.group_rules(change, group, None, Some(id)).await?;
            let planned = self.plan_group(change, &rules, None).await?;
            change.tx.write()?.delete_rule(id).await?;
            self.apply_plan(change, ctx.into(), group, Some(id), &planned).await?;
            self.audit(
                change,
                ctx.into(),
                "auto_assignment.rule.delete",
                ("group", group.as_str()),
                Some(&RuleSnapshot::from(&before)),
                None::<&()>,
            );
            Ok(planned.0)
        })
        .await
    }

    /// The rules of a group with their state (readers and the group's managers).
    pub async fn list_rules(&self, ctx: &Ctx, group: &GroupId) -> ServiceResult<Vec<Rule>> {
        Ok(self.read_members(ctx, group).await?.list_rules(ctx.tenant(), Some(group)).await?)
    }

    /// One rule of a group.
    pub async fn get_rule(&self, ctx: &Ctx, group: &GroupId, id: &RuleId) -> ServiceResult<Rule> {
        self.list_rules(ctx, group).await?.into_iter().find(|r| &r.id == id).ok_or_else(|| rule_not_found(id))
    }

    /// Re-runs every active rule of the tenant for users who were created (no `before`),
    /// changed, or deleted (no `after`), as part of that change: rule memberships follow, and
    /// each rule's count of matched users moves with them.
    pub async fn reassign_in(
        &self,
        change: &mut Change,
        origin: Origin<'_>,
        users: &[(Option<&User>, Option<&User>)],
    ) -> ServiceResult<()> {
        let tenant = change.tenant().clone();
        let all = change.tx.read().list_rules(&tenant, None).await?;
        if all.iter().all(|r| r.paused) {
            return Ok(());
        }
        let engine = &self.rules.engine;
        let now = self.now();
        let held: BTreeSet<&GroupId> = all.iter().filter(|r| r.paused).map(|r| &r.group_id).collect();
        let mut active = Vec::new();
        for r in all.iter().filter(|r| !r.paused) {
            active.push((r, self.compile_rule(&r.expression)?));
        }
        // Per active rule: its count of matched users, and an error if one occurred.
        let mut state_of: Vec<(i64, Option<String>, bool)> =
            active.iter().map(|(r, _)| (r.matched, r.last_error.clone(), false)).collect();
        let reason = ShortText::parse("reason", "matched an auto-assignment rule", false)?;
        let mut rows = Vec::new();
        let mut removals = Vec::new();
        let mut events = Vec::new();
        for (before, after) in users {
            let was = before.map(|u| engine.subject(u));
            let is = after.map(|u| engine.subject(u));
            // Per group: the first of its active rules that matches the user now.
            let mut wanted: BTreeMap<&GroupId, Option<&RuleId>> = BTreeMap::new();
            for (i, (r, program)) in active.iter().enumerate() {
                let now_matches = is.as_ref().map(|s| engine.matches(program, s));
                let matched_before = was.as_ref().is_some_and(|s| engine.matches(program, s) == Ok(true));
                let matches_now = matches!(now_matches, Some(Ok(true)));
                let slot = &mut state_of[i];
                if matches_now != matched_before {
                    slot.0 = (slot.0 + if matches_now { 1 } else { -1 }).max(0);
                    slot.2 = true;
                }
                if let (Some(Err(e)), Some(u)) = (&now_matches, after) {
                    *slot = (slot.0, Some(format!("user `{}`: {e}", u.id)), true);
                    let detail = json!({ "ruleId": r.id.as_str(), "userId": u.id.as_str(), "error": e });
                    events.push((RULE_ERROR, r.group_id.clone(), None, Some(detail)));
                }
                let first = wanted.entry(&r.group_id).or_default();
                if matches_now && first.is_none() {
                    *first = Some(&r.id);
                }
            }
            let Some(user) = after else { continue };
            let state = &change.before.state;
            let mut touched = false;
            for (group, rule) in wanted {
                let Some(facts) = state.group(group).filter(|g| g.active) else { continue };
                // Rules skip users of a type the group does not admit (and remove them, even
                // while a rule of the group is paused).
                let admitted = facts.member_types.admits(&user.user_type);
                let rule = rule.filter(|_| admitted);
                let has = state.rows(group, &user.id).any(|(s, _)| s == MembershipSource::Rule);
                let detail = json!({ "userId": user.id.as_str(), "ruleId": rule.map(RuleId::as_str) });
                match rule {
                    Some(_) if !has => {
                        rows.push(member_row(group, &user.id, &reason, now));
                        events.push(("auto_assignment.add", group.clone(), None, Some(detail)));
                        touched = true;
                    }
                    None if has && (!held.contains(group) || !admitted) => {
                        removals.push((group.clone(), user.id.clone()));
                        events.push(("auto_assignment.remove", group.clone(), Some(detail), None));
                        touched = true;
                    }
                    _ => {}
                }
            }
            if touched {
                change.touch_user(&user.id);
            }
        }
        change.tx.write()?.put_memberships(&rows).await?;
        for (group, user) in &removals {
            change.tx.write()?.delete_memberships(group, MembershipSource::Rule, std::slice::from_ref(user)).await?;
        }
        for (action, group, before, after) in events {
            self.audit(change, origin, action, ("group", group.as_str()), before.as_ref(), after.as_ref());
        }
        let outcomes: Vec<RuleOutcome> = active
            .iter()
            .zip(state_of)
            .filter(|(_, (_, _, changed))| *changed)
            .map(|((r, _), (matched, last_error, _))| RuleOutcome { id: r.id.clone(), at: now, matched, last_error })
            .collect();
        change.tx.write()?.mark_rules_evaluated(now).await?;
        change.tx.write()?.record_rule_outcomes(&outcomes).await?;
        Ok(())
    }
}

/// The audit action of a rule that could not decide a user (so "Logs, filtered by
/// auto_assignment" shows why a rule did not apply).
const RULE_ERROR: &str = "auto_assignment.error";
