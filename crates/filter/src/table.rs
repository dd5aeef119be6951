//! The machinery behind the rule table in `rules.rs`: from one entry per
//! rule, [`rule_table!`] writes everything that has to name each rule, so
//! that nothing else does.
//!
//! It writes the [`Rule`](crate::Rule) enum (with the rule's JSON key and
//! flags), [`FilterSpec`](crate::FilterSpec)'s fields (in table order: the
//! JSON field order) and its `add_*_str` methods, the
//! [`FilterBuilder`](crate::FilterBuilder) setters, and `Rules`, the
//! compiled rules, whose methods compile a spec, write one back, and check
//! or explain one rule for a record; `Filter` iterates those. Rules are
//! checked in the order of their `checked` numbers, not the table's: the
//! JSON field order and the order in which a record's first failed rule is
//! found are both kept as they were before the table.

/// Declares the filter rules; see `rules.rs` for the table and what each
/// part of an entry means.
macro_rules! rule_table {
    ($(
        $(#[doc = $doc:literal])*
        $Rule:ident $name:ident {
            key: $key:literal,
            checked: $checked:literal,
            spec: { $( $(#[$field_attr:meta])* pub $field:ident: $field_ty:ty, )* },
            spec_methods: { $($spec_method:item)* },
            builder: { $($builder_method:item)* },
            flags: [ $($flag:expr),* $(,)? ],
            compiled: $compiled:ty,
            compile: $compile:expr,
            to_spec: $to_spec:expr,
            keeps: $keeps:expr,
            reads: $reads:expr,
            allowed: $allowed:expr,
            says: $says:expr $(,)?
        }
    )*) => {
        /// A filter rule, as named in rejections and in [`FilterSpec`]'s fields.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum Rule {
            $( $(#[doc = $doc])* $Rule, )*
        }

        impl Rule {
            /// Every rule, in the order of [`FilterSpec`]'s fields and of
            /// the command line's flags.
            pub const ALL: &'static [Rule] = &[$(Rule::$Rule),*];

            /// The field name in [`FilterSpec`] and config files.
            pub fn field(self) -> &'static str {
                match self {
                    $(Rule::$Rule => $key,)*
                }
            }

            /// The command-line flags that set this rule, e.g. `--tree`
            /// and `--any-tree` for `trees`.
            pub fn flags(self) -> &'static [$crate::Flag] {
                match self {
                    $(Rule::$Rule => {
                        const FLAGS: &[$crate::Flag] = &[$($flag),*];
                        FLAGS
                    })*
                }
            }

            /// How `--explain` words a rejection by this rule: the
            /// record's value and what the rule keeps, joined by commas.
            pub(crate) fn says(
                self,
                f: &mut ::std::fmt::Formatter<'_>,
                value: &str,
                allowed: &str,
            ) -> ::std::fmt::Result {
                match self {
                    $(Rule::$Rule => {
                        let says: fn(&mut ::std::fmt::Formatter<'_>, &str, &str) -> ::std::fmt::Result =
                            $says;
                        says(f, value, allowed)
                    })*
                }
            }
        }

        /// The order in which [`Rules::keeps`] is asked, by each rule's
        /// `checked` number: the first rule failed is the one a
        /// rejection names.
        pub(crate) const CHECKED: [Rule; Rule::ALL.len()] = {
            let mut order = [$((Rule::$Rule, $checked)),*];
            // An insertion sort, as const code must be written by hand.
            let mut i = 1;
            while i < order.len() {
                let mut j = i;
                while j > 0 && order[j - 1].1 > order[j].1 {
                    let swapped = order[j - 1];
                    order[j - 1] = order[j];
                    order[j] = swapped;
                    j -= 1;
                }
                i += 1;
            }
            let mut rules = [order[0].0; Rule::ALL.len()];
            let mut k = 0;
            while k < rules.len() {
                rules[k] = order[k].0;
                k += 1;
            }
            rules
        };

        /// The `checked` numbers, in table order, for the test that
        /// they are distinct.
        #[cfg(test)]
        pub(crate) const CHECKED_NUMBERS: &[u32] = &[$($checked),*];

        /// The rules of a [`Filter`](crate::Filter) as plain data, checked only
        /// when turned into a filter by [`Filter::from_spec`](crate::Filter::from_spec).
        ///
        /// Every list left `None` matches everything, except `trees`, which then
        /// means `["mozilla-central"]` as in the seed; set `any_tree` to match
        /// every tree. In JSON every field may be left out; unknown fields are an
        /// error, so a misspelt rule cannot silently match everything:
        ///
        /// ```json
        /// {"trees": ["mozilla-central", "try"], "products": ["firefox", "none"],
        ///  "buildtypes": ["debug"], "buildtags": [["nightly", "l10n"], ["release"]],
        ///  "talos": true}
        /// ```
        ///
        /// `FilterSpec` is plain serde data, so other formats (TOML, YAML) need
        /// only their own serde crate in the program that reads them.
        ///
        /// For a command line, the `add_*` methods take one flag value each: items
        /// separated by commas, whitespace around items ignored. Build tags use
        /// `+` inside a group: `--buildtags nightly+l10n,release --buildtags pgo`
        /// keeps builds tagged both nightly and l10n, or release, or pgo.
        /// Each rule's flags are in [`Rule::flags`].
        #[derive(Clone, Debug, Default, PartialEq, Eq, ::serde::Serialize, ::serde::Deserialize)]
        #[serde(deny_unknown_fields)]
        pub struct FilterSpec {
            $($( $(#[$field_attr])* pub $field: $field_ty, )*)*
        }

        impl FilterSpec {
            $($($spec_method)*)*
        }

        impl $crate::FilterBuilder {
            $($($builder_method)*)*
        }

        /// The rules compiled: one field per rule, in a shape cheap to
        /// match.
        #[derive(Clone, Debug, PartialEq, Eq)]
        pub(crate) struct Rules {
            $( pub(crate) $name: $compiled, )*
        }

        impl Rules {
            /// Checks every rule of the spec, in table order, and compiles it.
            pub(crate) fn compile(spec: &FilterSpec) -> Result<Rules, $crate::Error> {
                Ok(Rules {
                    $($name: {
                        let compile: fn(&FilterSpec) -> Result<$compiled, $crate::Error> = $compile;
                        compile(spec)?
                    },)*
                })
            }

            /// The rules as a spec again.
            pub(crate) fn to_spec(&self) -> FilterSpec {
                let mut spec = FilterSpec::default();
                $({
                    let to_spec: fn(&$compiled, &mut FilterSpec) = $to_spec;
                    to_spec(&self.$name, &mut spec);
                })*
                spec
            }

            /// Whether `rule` keeps the record (a rule that does not apply
            /// to its kind of record keeps it).
            pub(crate) fn keeps(&self, rule: Rule, record: &::pulse_translator::Record) -> bool {
                match rule {
                    $(Rule::$Rule => {
                        let keeps: fn(&$compiled, &::pulse_translator::Record) -> bool = $keeps;
                        keeps(&self.$name, record)
                    })*
                }
            }

            /// What a rejection by `rule` quotes: the value the rule read
            /// from the record, and what the rule keeps (`None` when the
            /// rule is unset, so it cannot have rejected anything).
            pub(crate) fn rejection(
                &self,
                rule: Rule,
                record: &::pulse_translator::Record,
            ) -> (String, Option<Vec<String>>) {
                match rule {
                    $(Rule::$Rule => {
                        let reads: fn(&::pulse_translator::Record) -> String = $reads;
                        let allowed: fn(&$compiled) -> Option<Vec<String>> = $allowed;
                        (reads(record), allowed(&self.$name))
                    })*
                }
            }
        }
    };
}

pub(crate) use rule_table;
