//! The rule engine as the services use it: expressions compiled once and shared, and a
//! group's rules decided for many users at once over the machine's cores.

use cohort_core::GroupId;
use cohort_core::UserId;
use cohort_core::model::{Rule, User};
use cohort_core::name::MemberTypes;
use cohort_core::parallel::map_parts;
use cohort_core::rule::{Cel, RuleEngine, RuleSyntaxError};
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

/// How many compiled expressions are kept before the cache starts over.
const CACHE_LIMIT: usize = 10_000;

pub(super) type Program = <Cel as RuleEngine>::Rule;

/// The rule language and the expressions compiled so far (an expression compiles the same
/// every time, so they are shared by text across tenants).
#[derive(Default)]
pub struct RuleCompiler {
    pub(super) engine: Cel,
    cache: Mutex<HashMap<String, Arc<Program>>>,
}

impl RuleCompiler {
    pub(super) fn compile(&self, source: &str) -> Result<Arc<Program>, RuleSyntaxError> {
        if let Some(p) = self.cache.lock().ok().and_then(|c| c.get(source).cloned()) {
            return Ok(p);
        }
        let program = Arc::new(self.engine.compile(source)?);
        if let Ok(mut cache) = self.cache.lock() {
            if cache.len() >= CACHE_LIMIT {
                cache.clear();
            }
            cache.insert(source.to_owned(), program.clone());
        }
        Ok(program)
    }
}

/// One group's rules, ready to decide users.
pub(super) struct GroupRules {
    pub(super) group: GroupId,
    /// Active rules with their compiled programs; paused rules are absent.
    pub(super) active: Vec<(Rule, Arc<Program>)>,
    /// Whether a rule of the group is paused.
    pub(super) held: bool,
    /// The user types the group admits; rules skip users of other types.
    pub(super) admits: MemberTypes,
}

/// What a group's rules decide for every user.
pub(super) struct Decision {
    pub(super) wanted: HashSet<UserId>,
    /// Per active rule, in order: users matched and the first error.
    pub(super) per_rule: Vec<(i64, Option<String>)>,
}

/// Users per thread below which deciding is not spread over the machine's cores.
const PARALLEL_FROM: usize = 5_000;

pub(super) fn decide_all(engine: &Cel, rules: &GroupRules, users: &[User]) -> Decision {
    let decide = |part: &[User]| {
        let mut wanted = HashSet::new();
        let mut per_rule = vec![(0i64, None::<String>); rules.active.len()];
        for u in part.iter().filter(|u| rules.admits.admits(&u.user_type)) {
            let subject = engine.subject(u);
            for (i, (_, program)) in rules.active.iter().enumerate() {
                match engine.matches(program, &subject) {
                    Ok(true) => {
                        per_rule[i].0 += 1;
                        wanted.insert(u.id.clone());
                    }
                    Ok(false) => {}
                    Err(e) => {
                        per_rule[i].1.get_or_insert_with(|| format!("user `{}`: {e}", u.id));
                    }
                }
            }
        }
        Decision { wanted, per_rule }
    };
    let parts = map_parts(users, PARALLEL_FROM, decide);
    // Parts are in user order, so each rule's first error is the same as deciding in one go.
    let mut all = Decision { wanted: HashSet::new(), per_rule: vec![(0, None); rules.active.len()] };
    for part in parts {
        all.wanted.extend(part.wanted);
        for (total, (matched, error)) in all.per_rule.iter_mut().zip(part.per_rule) {
            total.0 += matched;
            if total.1.is_none() {
                total.1 = error;
            }
        }
    }
    all
}
