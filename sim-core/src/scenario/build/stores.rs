//! Compiling `[stores]` into `model::Store` and the `read` / `write` steps
//! into `model::StoreStep`s, with the rule that makes a conditional write
//! meaningful: a read of its store comes before it in its step list (or
//! in a list enclosing it), on every path.
//!
//! Owns those checks; the table's syntax is `scenario/stores.rs`. Must not
//! decide how a write is checked at run time (the engine's `store.rs`).

use super::super::dto::StepFile;
use super::{Builder, R, check_name, dist};
use crate::dist::Dist;
use crate::model::{Step, Store, StoreStep};
use crate::scenario::KeyError;

impl Builder<'_> {
    /// Every `[stores.NAME]`, in file order.
    pub(super) fn add_stores(&mut self) -> R<()> {
        for (name, s) in &self.file.stores {
            check_name(&format!("stores.{name}"), name)?;
            let (keys, zipf) = super::super::stores::key_space(name, s)?;
            let mut latency = |what: &str, d: &Option<super::super::dto::DistFile>| -> R<u32> {
                let d = match d {
                    Some(d) => dist(&format!("stores.{name}.{what}"), d)?,
                    None => Dist::constant(0),
                };
                Ok(self.add_dist(d))
            };
            let read = latency("read_latency", &s.read_latency)?;
            let write = latency("write_latency", &s.write_latency)?;
            self.m.stores.push(Store {
                name: name.clone(),
                keys,
                zipf,
                read,
                write,
            });
        }
        Ok(())
    }

    /// `conditional` belongs to a `write`.
    pub(super) fn check_store_keys(&self, key: &str, st: &StepFile) -> R<()> {
        if st.conditional.is_some() && st.write.is_none() {
            return Err(KeyError::new(
                format!("{key}.conditional"),
                "`conditional` belongs to a `write` step",
            ));
        }
        Ok(())
    }

    /// The `read` or `write` step written at `key`.
    pub(super) fn store_step(&mut self, key: &str, st: &StepFile) -> R<Step> {
        let (what, name) = match (&st.read, &st.write) {
            (Some(n), _) => ("read", n),
            (None, Some(n)) => ("write", n),
            (None, None) => unreachable!("called for a read or a write"),
        };
        let Some(store) = self.m.stores.iter().position(|s| &s.name == name) else {
            let known: Vec<&str> = self.m.stores.iter().map(|s| s.name.as_str()).collect();
            return Err(KeyError::new(
                format!("{key}.{what}"),
                if known.is_empty() {
                    format!("unknown store `{name}` (declare it as [stores.{name}])")
                } else {
                    format!("unknown store `{name}` (stores: {})", known.join(", "))
                },
            ));
        };
        let store = store as u32;
        let after_read = self.stores_read.contains(&store);
        let conditional = st.conditional == Some(true);
        if conditional && !after_read {
            return Err(KeyError::new(
                format!("{key}.conditional"),
                format!(
                    "a conditional write needs a `{{ read = \"{name}\" }}` before it in its step list: it compares the key's version with that read's"
                ),
            ));
        }
        let i = self.m.store_steps.len() as u32;
        self.m.store_steps.push(StoreStep {
            store,
            conditional,
            after_read: what == "write" && after_read,
            site: key.to_owned(),
        });
        if what == "read" {
            self.stores_read.push(store);
            Ok(Step::Read(i))
        } else {
            Ok(Step::Write(i))
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::model::{Model, Step};

    fn model(steps: &str) -> Model {
        let text = format!(
            "name = \"t\"\nduration = \"1s\"\n[workload.w]\ntarget = \"api\"\nrate = 1\n\
             [stores.k]\nkeys = {{ count = 3 }}\n[services.api]\nthreads = 1\nsteps = [{steps}]\n"
        );
        crate::scenario::load("t.toml", &text, &[])
            .expect("loads")
            .model
    }

    #[test]
    fn a_read_before_a_branch_holds_inside_its_arms() {
        let m = model(
            r#"{ read = "k" }, { branch = [{ p = 0.5, steps = [{ write = "k", conditional = true }] },
                { p = 0.5, steps = [{ write = "k" }] }] }"#,
        );
        assert!(matches!(m.steps[0], Step::Read(0)));
        let writes: Vec<(bool, bool)> = m.store_steps[1..]
            .iter()
            .map(|s| (s.conditional, s.after_read))
            .collect();
        assert_eq!(writes, [(true, true), (false, true)]);
        assert_eq!(
            m.store_steps[1].site,
            "services.api.steps.1.branch.0.steps.0"
        );
    }

    #[test]
    fn a_plain_write_without_a_read_draws_its_own_key() {
        let m = model(r#"{ write = "k" }, { read = "k" }, { write = "k" }"#);
        let after: Vec<bool> = m.store_steps.iter().map(|s| s.after_read).collect();
        assert_eq!(after, [false, false, true]);
        assert_eq!(m.stores[0].keys, 3);
    }
}
