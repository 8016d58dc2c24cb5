//! Definitions, parameters and lists; call checking, cycle detection, scope checking and inlining.

use super::ast::{Binding, Builtin, Expr, ExprKind, Span};
use super::diagnostic::{Diagnostic, ErrorKind, suggest};
use super::eval::{Bindings, eval};
use super::parser::Definition;
use crate::budgets::{self, Budget};
use std::collections::{BTreeMap, BTreeSet, HashMap};

mod tree;

use tree::respan;
pub use tree::{free_variables, size_and_depth, substitute, with_span};

/// An error in one definition of a batch given to [`Context::add_definitions`].
#[derive(Debug, Clone, thiserror::Error)]
#[error("in definition `{name}`: {diagnostic}")]
pub struct DefinitionError {
    /// Which definition of the batch (0-based); spans of `diagnostic` point into its source.
    pub index: usize,
    /// Its name.
    pub name: String,
    /// What is wrong.
    pub diagnostic: Diagnostic,
}

/// User definitions, numeric parameters and list parameters that expressions may refer to.
#[derive(Debug, Clone, Default)]
pub struct Context {
    definitions: BTreeMap<String, Definition>,
    params: BTreeMap<String, f64>,
    lists: BTreeMap<String, Vec<f64>>,
    /// Definitions whose inlined bodies keep their own spans ([`Context::keep_spans_of`]).
    keep_spans: BTreeSet<String>,
}

/// Deepest tree [`Context::inline`] returns, so that the recursive algorithms downstream
/// cannot exhaust the stack.
pub const MAX_INLINED_DEPTH: usize = 1000;

/// Largest tree [`Context::inline`] returns by default (definitions calling each other twice per
/// level grow exponentially); the limit in force is the `inlined_nodes` budget.
pub const MAX_INLINED_NODES: usize = 100_000;

/// The user definitions an expression calls (or uses as values), with the span of each use.
fn calls(e: &Expr, defs: &dyn Fn(&str) -> bool) -> Vec<(String, Span)> {
    let mut out = Vec::new();
    e.visit(&mut |n| match &n.kind {
        ExprKind::UserCall { name, .. } => out.push((name.clone(), n.span)),
        ExprKind::Var(v) if defs(v) => out.push((v.clone(), n.span)),
        _ => {}
    });
    out
}

impl Context {
    /// An empty context.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets a numeric parameter, available to every expression evaluated through [`Context::bindings`].
    pub fn set_param(&mut self, name: &str, value: f64) {
        self.params.insert(name.to_string(), value);
    }

    /// Sets a list parameter (indexed as `c[k]`, from 0).
    pub fn set_list(&mut self, name: &str, values: Vec<f64>) {
        self.lists.insert(name.to_string(), values);
    }

    /// The definition called `name`.
    pub fn definition(&self, name: &str) -> Option<&Definition> {
        self.definitions.get(name)
    }

    /// The names of all definitions, sorted.
    pub fn definition_names(&self) -> impl Iterator<Item = &str> {
        self.definitions.keys().map(String::as_str)
    }

    /// The numeric and list parameters, as evaluation bindings.
    pub fn bindings(&self) -> Bindings {
        let mut b = Bindings::new();
        for (k, v) in &self.params {
            b.set(k, *v);
        }
        for (k, v) in &self.lists {
            b.set_list(k, v.clone());
        }
        b
    }

    /// Adds one definition; it may call definitions added before it.
    ///
    /// # Errors
    /// A duplicate name, an unknown function or wrong arity in its body, a call of itself,
    /// or a list whose elements are not numbers.
    pub fn add_definition(&mut self, def: Definition) -> Result<(), Diagnostic> {
        self.add_definitions(vec![def]).map_err(|e| e.diagnostic)
    }

    /// Marks the definition `name` as one whose inlined body keeps its own spans instead of
    /// pointing at its call: for a caller that wraps a user's expression in generated text (the
    /// body's spans point into the user's text, the call's into the generated one).
    pub fn keep_spans_of(&mut self, name: &str) {
        self.keep_spans.insert(name.to_string());
    }

    /// Adds definitions that may call each other in any order, rejecting cycles.
    ///
    /// # Errors
    /// The first problem found, with the index of the definition whose source it points into.
    pub fn add_definitions(&mut self, defs: Vec<Definition>) -> Result<(), DefinitionError> {
        let err = |index: usize, name: &str, diagnostic: Diagnostic| DefinitionError {
            index,
            name: name.to_string(),
            diagnostic,
        };
        let total = self.definitions.len() as u128 + defs.len() as u128;
        if let Err(e) = budgets::check(Budget::Definitions, total, "") {
            return Err(err(
                0,
                defs.first().map_or("", |d| d.name.as_str()),
                Diagnostic::new(ErrorKind::TooLarge, Span::default(), e.message())
                    .with_help(e.help()),
            ));
        }
        let mut arities: BTreeMap<String, usize> = self
            .definitions
            .iter()
            .map(|(k, d)| (k.clone(), d.params.len()))
            .collect();
        for (i, d) in defs.iter().enumerate() {
            if arities.contains_key(&d.name)
                || self.params.contains_key(&d.name)
                || self.lists.contains_key(&d.name)
            {
                return Err(err(
                    i,
                    &d.name,
                    Diagnostic::new(
                        ErrorKind::DuplicateDefinition,
                        d.name_span,
                        format!("`{}` is defined twice", d.name),
                    )
                    .with_help("remove one of the definitions or rename it"),
                ));
            }
            let arity = if matches!(d.body.kind, ExprKind::List(_)) {
                usize::MAX
            } else {
                d.params.len()
            };
            arities.insert(d.name.clone(), arity);
        }
        // Calls must name known definitions with the right number of arguments.
        for (i, d) in defs.iter().enumerate() {
            check_calls_with(&d.body, &arities, &d.params).map_err(|e| err(i, &d.name, e))?;
        }
        // Cycles: depth-first search over the batch (earlier definitions cannot call the batch).
        let index: HashMap<&str, usize> = defs
            .iter()
            .enumerate()
            .map(|(i, d)| (d.name.as_str(), i))
            .collect();
        let edges: Vec<Vec<(usize, Span)>> = defs
            .iter()
            .map(|d| {
                let is_value = |v: &str| {
                    !d.params.iter().any(|p| p == v)
                        && index.get(v).is_some_and(|&j| defs[j].params.is_empty())
                };
                calls(&d.body, &is_value)
                    .into_iter()
                    .filter_map(|(n, sp)| index.get(n.as_str()).map(|&j| (j, sp)))
                    .collect()
            })
            .collect();
        let mut state = vec![0u8; defs.len()];
        for start in 0..defs.len() {
            if let Some(cycle) = find_cycle(start, &edges, &mut state) {
                let names: Vec<&str> = cycle.iter().map(|&(j, _)| defs[j].name.as_str()).collect();
                let (first, span) = cycle[0];
                let message = if names.len() == 1 {
                    format!("definition `{}` calls itself", names[0])
                } else {
                    let mut chain = names.join(" -> ");
                    chain.push_str(" -> ");
                    chain.push_str(names[0]);
                    format!("definitions call each other in a cycle: {chain}")
                };
                return Err(err(
                    first,
                    &defs[first].name,
                    Diagnostic::new(ErrorKind::RecursiveDefinition, span, message)
                        .with_help("definitions cannot be recursive; write the expression out"),
                ));
            }
        }
        let mut pending_lists = Vec::new();
        for (i, d) in defs.into_iter().enumerate() {
            if matches!(d.body.kind, ExprKind::List(_)) {
                pending_lists.push((i, d));
            } else {
                self.definitions.insert(d.name.clone(), d);
            }
        }
        for (i, d) in pending_lists {
            let ExprKind::List(items) = &d.body.kind else {
                continue;
            };
            let mut values = Vec::with_capacity(items.len());
            for item in items {
                let inlined = self.inline(item).map_err(|e| err(i, &d.name, e))?;
                let v = eval(&inlined, &self.bindings()).map_err(|e| {
                    let mut e = e;
                    e.span = item.span;
                    err(i, &d.name, e)
                })?;
                values.push(v);
            }
            self.lists.insert(d.name.clone(), values);
        }
        Ok(())
    }

    /// Checks that every function called in `expr` exists and gets the right number of arguments.
    ///
    /// # Errors
    /// An unknown function (with the nearest known name) or a wrong number of arguments.
    pub fn check_calls(&self, expr: &Expr) -> Result<(), Diagnostic> {
        let arities: BTreeMap<String, usize> = self
            .definitions
            .iter()
            .map(|(k, d)| (k.clone(), d.params.len()))
            .chain(self.lists.keys().map(|k| (k.clone(), usize::MAX)))
            .collect();
        check_calls_with(expr, &arities, &[])
    }

    /// The free variables of `expr` once definitions are inlined, excluding parameters and lists
    /// known to this context: the variables a caller must give values (or declare).
    ///
    /// # Errors
    /// As [`Context::inline`].
    pub fn free_variables(&self, expr: &Expr) -> Result<Vec<String>, Diagnostic> {
        let inlined = self.inline(expr)?;
        Ok(free_variables(&inlined)
            .into_iter()
            .filter(|v| !self.params.contains_key(v) && !self.lists.contains_key(v))
            .collect())
    }

    /// Replaces every call of a user definition (and every use of a named value) by its body
    /// with the arguments substituted, renaming bound variables to avoid capture. The result
    /// has only builtins and bound operators. Inlined nodes carry the span of their call.
    ///
    /// Variables free in a definition's body that are not its parameters (global parameters
    /// such as `w`) stay free, and so refer to whatever `w` means at the call site.
    ///
    /// # Errors
    /// An unknown function or wrong arity (checked again here), or a substitution that is not
    /// possible (see [`substitute`]).
    pub fn inline(&self, expr: &Expr) -> Result<Expr, Diagnostic> {
        self.check_calls(expr)?;
        let out = self.inline_rec(expr, &BTreeSet::new(), 0)?;
        check_inlined_size(&out, "the expression", expr.span)?;
        Ok(out)
    }

    fn inline_rec(
        &self,
        e: &Expr,
        bound: &BTreeSet<String>,
        depth: usize,
    ) -> Result<Expr, Diagnostic> {
        use ExprKind as K;
        if depth > 64 {
            return Err(Diagnostic::new(
                ErrorKind::RecursiveDefinition,
                e.span,
                "definitions nest too deeply",
            ));
        }
        match &e.kind {
            K::UserCall { name, args } => {
                let def = self.lookup(name, e.span)?;
                let args = args
                    .iter()
                    .map(|a| self.inline_rec(a, bound, depth))
                    .collect::<Result<Vec<_>, _>>()?;
                let body = self.inline_rec(&def.body, &BTreeSet::new(), depth + 1)?;
                let map: HashMap<String, Expr> = def.params.iter().cloned().zip(args).collect();
                let mut out = substitute(&body, &map)?;
                check_inlined_size(&out, name, e.span)?;
                if !self.keep_spans.contains(name) {
                    respan(&mut out, e.span);
                }
                Ok(out)
            }
            K::Var(v)
                if !bound.contains(v)
                    && self.definitions.get(v).is_some_and(|d| d.params.is_empty()) =>
            {
                let def = self.lookup(v, e.span)?;
                let mut out = self.inline_rec(&def.body, &BTreeSet::new(), depth + 1)?;
                check_inlined_size(&out, v, e.span)?;
                respan(&mut out, e.span);
                Ok(out)
            }
            _ => {
                // Rebuild the node with inlined children; binders shadow named values.
                let mut out = e.clone();
                let mut inner_bound = bound.clone();
                match &e.kind {
                    K::Integral { bindings, .. }
                    | K::Sum { bindings, .. }
                    | K::Extremum { bindings, .. }
                    | K::Expect { bindings, .. }
                    | K::MonteCarlo { bindings, .. } => {
                        inner_bound.extend(bindings.iter().map(|b| b.var.clone()));
                    }
                    K::Limit { var, .. } => {
                        inner_bound.insert(var.clone());
                    }
                    _ => {}
                }
                self.inline_children(&mut out, bound, &inner_bound, depth)?;
                Ok(out)
            }
        }
    }

    fn inline_children(
        &self,
        e: &mut Expr,
        outer: &BTreeSet<String>,
        inner: &BTreeSet<String>,
        depth: usize,
    ) -> Result<(), Diagnostic> {
        use ExprKind as K;
        let go = |x: &mut Expr, b: &BTreeSet<String>| -> Result<(), Diagnostic> {
            *x = self.inline_rec(x, b, depth)?;
            Ok(())
        };
        let binds = |bs: &mut Vec<Binding>| -> Result<(), Diagnostic> {
            for b in bs.iter_mut() {
                if let Some((lo, hi)) = &mut b.range {
                    go(lo, outer)?;
                    go(hi, outer)?;
                }
            }
            Ok(())
        };
        match &mut e.kind {
            K::Number(_) | K::Const(_) | K::Var(_) => {}
            K::Index { index, .. } => go(index, outer)?,
            K::List(items) | K::Call { args: items, .. } | K::UserCall { args: items, .. } => {
                for i in items.iter_mut() {
                    go(i, outer)?;
                }
            }
            K::Neg(a) => go(a, outer)?,
            K::Binary { lhs, rhs, .. } => {
                go(lhs, outer)?;
                go(rhs, outer)?;
            }
            K::Integral { bindings, body }
            | K::Sum { bindings, body }
            | K::Extremum { bindings, body, .. } => {
                binds(bindings)?;
                go(body, inner)?;
            }
            K::Derivative { body, .. } => go(body, outer)?,
            K::Limit { target, body, .. } => {
                go(target, outer)?;
                go(body, inner)?;
            }
            K::Expect {
                bindings,
                density,
                body,
            } => {
                binds(bindings)?;
                go(density, inner)?;
                go(body, inner)?;
            }
            K::MonteCarlo {
                bindings,
                density,
                n,
                body,
            } => {
                binds(bindings)?;
                if let Some(n) = n {
                    go(n, outer)?;
                }
                go(density, inner)?;
                go(body, inner)?;
            }
        }
        Ok(())
    }

    fn lookup(&self, name: &str, span: Span) -> Result<&Definition, Diagnostic> {
        self.definitions.get(name).ok_or_else(|| {
            unknown_function(name, span, self.definitions.keys().map(String::as_str))
        })
    }
}

/// The inlined tree of `name` must fit the depth limit and the `inlined_nodes` budget.
fn check_inlined_size(out: &Expr, name: &str, span: Span) -> Result<(), Diagnostic> {
    let (nodes, depth) = size_and_depth(out);
    let name = if name.contains(' ') {
        name.to_string()
    } else {
        format!("`{name}`")
    };
    if depth > MAX_INLINED_DEPTH {
        return Err(Diagnostic::new(
            ErrorKind::TooDeep,
            span,
            format!("{name} is too deep once inlined (depth {depth})"),
        )
        .with_help(format!(
            "the limit is depth {MAX_INLINED_DEPTH}; split the expression into sums or simpler definitions"
        )));
    }
    budgets::check(
        Budget::InlinedNodes,
        nodes as u128,
        format!("{name} once inlined"),
    )
    .map_err(|b| Diagnostic::new(ErrorKind::TooLarge, span, b.message()).with_help(b.help()))
}

fn unknown_function<'a>(
    name: &str,
    span: Span,
    defined: impl Iterator<Item = &'a str>,
) -> Diagnostic {
    let names: Vec<&str> = Builtin::ALL
        .iter()
        .map(|b| b.name())
        .chain(defined)
        .collect();
    let d = Diagnostic::new(
        ErrorKind::UnknownFunction,
        span,
        format!("unknown function `{name}`"),
    );
    match suggest(name, names.iter().copied()) {
        Some(s) => d.with_help(format!("did you mean `{s}`?")),
        None => d.with_help(format!(
            "define it with `{name}(x) = ...` or use a builtin such as `exp`"
        )),
    }
}

fn check_calls_with(
    e: &Expr,
    arities: &BTreeMap<String, usize>,
    locals: &[String],
) -> Result<(), Diagnostic> {
    let mut result = Ok(());
    e.visit(&mut |n| {
        if result.is_err() {
            return;
        }
        if let ExprKind::UserCall { name, args } = &n.kind {
            let name_span = Span::new(
                n.span.start,
                n.span.start + name.len().min(n.span.end - n.span.start),
            );
            match arities.get(name) {
                None if locals.contains(name) => {
                    result = Err(Diagnostic::new(
                        ErrorKind::UnknownFunction,
                        name_span,
                        format!("`{name}` is a parameter, not a function"),
                    )
                    .with_help(format!("did you mean `{name}*(...)`?")));
                }
                None => {
                    result = Err(unknown_function(
                        name,
                        name_span,
                        arities.keys().map(String::as_str),
                    ))
                }
                Some(&usize::MAX) => {
                    result = Err(Diagnostic::new(
                        ErrorKind::TypeMismatch,
                        name_span,
                        format!("`{name}` is a list, not a function"),
                    )
                    .with_help(format!("index it as `{name}[k]`")));
                }
                Some(&k) if k != args.len() => {
                    result = Err(Diagnostic::new(
                        ErrorKind::WrongArity,
                        n.span,
                        format!(
                            "`{name}` takes {k} argument{}, found {}",
                            if k == 1 { "" } else { "s" },
                            args.len()
                        ),
                    )
                    .with_help(format!(
                        "call it with {k} argument{}",
                        if k == 1 { "" } else { "s" }
                    )));
                }
                Some(_) => {}
            }
        }
    });
    result
}

/// A cycle reachable from `start`, as the path of (definition, span of its call of the next).
/// Iterative depth-first search: the stack is data, so a chain of a million definitions needs no
/// deep recursion.
fn find_cycle(
    start: usize,
    edges: &[Vec<(usize, Span)>],
    state: &mut [u8],
) -> Option<Vec<(usize, Span)>> {
    // state: 0 unvisited, 1 on the current path, 2 finished.
    if state[start] == 2 {
        return None;
    }
    // Each frame: the node and the index of its next edge to follow.
    let mut stack: Vec<(usize, usize)> = vec![(start, 0)];
    state[start] = 1;
    while let Some(&mut (node, ref mut next_edge)) = stack.last_mut() {
        if let Some(&(next, _)) = edges[node].get(*next_edge) {
            *next_edge += 1;
            match state[next] {
                1 => {
                    let from = stack.iter().position(|&(n, _)| n == next).unwrap_or(0);
                    return Some(
                        stack[from..]
                            .iter()
                            .map(|&(n, e)| (n, edges[n][e - 1].1))
                            .collect(),
                    );
                }
                0 => {
                    state[next] = 1;
                    stack.push((next, 0));
                }
                _ => {}
            }
        } else {
            state[node] = 2;
            stack.pop();
        }
    }
    None
}

#[cfg(test)]
mod tests;
