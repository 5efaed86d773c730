//! Action budgets of one plan: per rule per run, per run, and per rolling hour (what the journal
//! says was already spent in the last hour counts against the hourly budget).

use std::collections::BTreeMap;

use crate::policy::{RuleKind, Safety};

/// Which budget stopped a candidate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Exhausted {
    /// `safety.max_actions_per_kind_per_run` for this rule.
    Kind { rule: RuleKind, limit: u32 },
    /// `safety.max_actions_per_run`.
    Run { limit: u32 },
    /// `safety.max_actions_per_hour`, less what the last hour already used.
    Hour { limit: u32, used_last_hour: u32 },
}

impl Exhausted {
    /// The `detail` of the skip record.
    pub fn detail(self) -> String {
        match self {
            Exhausted::Kind { rule, limit } => format!(
                "max_actions_per_kind_per_run.{} = {limit} reached in this run",
                rule.key()
            ),
            Exhausted::Run { limit } => {
                format!("max_actions_per_run = {limit} reached in this run")
            }
            Exhausted::Hour {
                limit,
                used_last_hour,
            } => format!(
                "max_actions_per_hour = {limit} reached ({used_last_hour} taken in the last hour \
                 before this run)"
            ),
        }
    }
}

/// Counts the actions planned so far against every budget.
#[derive(Debug)]
pub(crate) struct Budgets<'a> {
    safety: &'a Safety,
    used_last_hour: u32,
    taken: u32,
    taken_by_rule: BTreeMap<RuleKind, u32>,
}

impl<'a> Budgets<'a> {
    pub fn new(safety: &'a Safety, used_last_hour: u32) -> Self {
        Budgets {
            safety,
            used_last_hour,
            taken: 0,
            taken_by_rule: BTreeMap::new(),
        }
    }

    /// Takes one action of `rule` from every budget, or says which budget is spent.
    pub fn take(&mut self, rule: RuleKind) -> Result<(), Exhausted> {
        let kind_limit = self.safety.max_actions_for_kind(rule);
        let kind_taken = self.taken_by_rule.get(&rule).copied().unwrap_or(0);
        if kind_taken >= kind_limit {
            return Err(Exhausted::Kind {
                rule,
                limit: kind_limit,
            });
        }
        if self.taken >= self.safety.max_actions_per_run {
            return Err(Exhausted::Run {
                limit: self.safety.max_actions_per_run,
            });
        }
        let hour_left = self
            .safety
            .max_actions_per_hour
            .saturating_sub(self.used_last_hour);
        if self.taken >= hour_left {
            return Err(Exhausted::Hour {
                limit: self.safety.max_actions_per_hour,
                used_last_hour: self.used_last_hour,
            });
        }
        self.taken += 1;
        *self.taken_by_rule.entry(rule).or_insert(0) += 1;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kind_then_run_then_hour_budgets_apply_in_order() {
        let mut safety = Safety {
            max_actions_per_run: 3,
            max_actions_per_hour: 10,
            ..Safety::default()
        };
        safety
            .max_actions_per_kind_per_run
            .insert(RuleKind::ForceSync, 1);
        let mut b = Budgets::new(&safety, 8);
        assert_eq!(b.take(RuleKind::ForceSync), Ok(()));
        assert!(matches!(
            b.take(RuleKind::ForceSync),
            Err(Exhausted::Kind { limit: 1, .. })
        ));
        assert_eq!(b.take(RuleKind::RetryProvisioning), Ok(()));
        assert_eq!(
            b.take(RuleKind::RetryProvisioning),
            Err(Exhausted::Hour {
                limit: 10,
                used_last_hour: 8
            })
        );
    }

    #[test]
    fn run_budget_stops_after_its_limit() {
        let safety = Safety {
            max_actions_per_run: 1,
            ..Safety::default()
        };
        let mut b = Budgets::new(&safety, 0);
        assert_eq!(b.take(RuleKind::RetryProvisioning), Ok(()));
        let err = b
            .take(RuleKind::RetryProvisioning)
            .expect_err("run budget spent");
        assert_eq!(
            err,
            Exhausted::Kind {
                rule: RuleKind::RetryProvisioning,
                limit: 1
            }
        );
        assert!(err.detail().contains("retry_provisioning"));
    }
}
