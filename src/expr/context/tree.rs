//! Operations on one expression tree that the context builds on: its size and depth, its free
//! variables, capture-avoiding substitution (bound variables renamed with primes), and new spans
//! for inlined or generated nodes.

use super::*;

/// The number of nodes and the depth of a tree, without recursion.
pub fn size_and_depth(e: &Expr) -> (usize, usize) {
    let mut stack = vec![(e, 1usize)];
    let (mut nodes, mut depth) = (0, 0);
    while let Some((n, d)) = stack.pop() {
        nodes += 1;
        depth = depth.max(d);
        stack.extend(n.children().into_iter().map(|c| (c, d + 1)));
    }
    (nodes, depth)
}

/// The variables free in `expr`: used and not bound by an enclosing operator, in sorted order.
/// List names used in `c[k]` are included. The variable of `diff[w](..)` is free.
pub fn free_variables(expr: &Expr) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    collect_free(expr, &mut Vec::new(), &mut out);
    out
}

fn collect_free(e: &Expr, bound: &mut Vec<String>, out: &mut BTreeSet<String>) {
    use ExprKind as K;
    let binders = |bs: &[Binding], bound: &mut Vec<String>, out: &mut BTreeSet<String>| {
        for b in bs {
            if let Some((lo, hi)) = &b.range {
                collect_free(lo, bound, out);
                collect_free(hi, bound, out);
            }
        }
        bs.len()
    };
    match &e.kind {
        K::Var(v) => {
            if !bound.contains(v) {
                out.insert(v.clone());
            }
        }
        K::Index { list, index } => {
            if !bound.contains(list) {
                out.insert(list.clone());
            }
            collect_free(index, bound, out);
        }
        K::Integral { bindings, body }
        | K::Sum { bindings, body }
        | K::Extremum { bindings, body, .. } => {
            binders(bindings, bound, out);
            let n = bound.len();
            bound.extend(bindings.iter().map(|b| b.var.clone()));
            collect_free(body, bound, out);
            bound.truncate(n);
        }
        K::Expect {
            bindings,
            density,
            body,
        }
        | K::MonteCarlo {
            bindings,
            density,
            body,
            ..
        } => {
            binders(bindings, bound, out);
            if let K::MonteCarlo { n: Some(n), .. } = &e.kind {
                collect_free(n, bound, out);
            }
            let n = bound.len();
            bound.extend(bindings.iter().map(|b| b.var.clone()));
            collect_free(density, bound, out);
            collect_free(body, bound, out);
            bound.truncate(n);
        }
        K::Limit {
            var, target, body, ..
        } => {
            collect_free(target, bound, out);
            bound.push(var.clone());
            collect_free(body, bound, out);
            bound.pop();
        }
        K::Derivative { var, body, .. } => {
            if !bound.contains(var) {
                out.insert(var.clone());
            }
            collect_free(body, bound, out);
        }
        _ => {
            for c in e.children() {
                collect_free(c, bound, out);
            }
        }
    }
}

fn strip_primes(name: &str) -> (&str, &str) {
    let base = name.trim_end_matches('\'');
    (base, &name[base.len()..])
}

/// A name like `name` that is not in `taken` (`z` → `z_1`, `y'` → `y_1'`).
fn fresh_name(name: &str, taken: &BTreeSet<String>) -> String {
    let (base, primes) = strip_primes(name);
    (1..)
        .map(|i| format!("{base}_{i}{primes}"))
        .find(|n| !taken.contains(n))
        .unwrap_or_else(|| format!("{base}_{primes}"))
}

/// Replaces free variables by expressions, renaming bound variables that would capture a
/// variable of a replacement.
///
/// A replaced list name (in `c[k]`) must be replaced by a list name. Where the variable `w` of
/// `diff[w](f)` is replaced by an expression other than a variable, the derivative is taken
/// first and the replacement made in it (the derivative evaluated at that value).
///
/// # Errors
/// When `c[k]` would need `c` replaced by something other than a name, or when a derivative
/// taken for the reason above does not exist symbolically.
pub fn substitute(expr: &Expr, map: &HashMap<String, Expr>) -> Result<Expr, Diagnostic> {
    use ExprKind as K;
    if map.is_empty() {
        return Ok(expr.clone());
    }
    let sub = |e: &Expr| substitute(e, map);
    let span = expr.span;
    let kind = match &expr.kind {
        K::Var(v) => return Ok(map.get(v).cloned().unwrap_or_else(|| expr.clone())),
        K::Index { list, index } => {
            let list = match map.get(list) {
                None => list.clone(),
                Some(Expr {
                    kind: K::Var(u), ..
                }) => u.clone(),
                Some(other) => {
                    return Err(Diagnostic::new(
                        ErrorKind::TypeMismatch,
                        other.span,
                        format!("`{list}` is indexed as a list, but is given `{other}`"),
                    )
                    .with_help("pass the name of a list parameter"));
                }
            };
            K::Index {
                list,
                index: Box::new(sub(index)?),
            }
        }
        K::Derivative {
            var,
            var_span,
            body,
        } => {
            let var = match map.get(var) {
                None => var.clone(),
                Some(Expr {
                    kind: K::Var(u), ..
                }) => u.clone(),
                Some(_) => {
                    // `diff[w](f)` with `w` replaced by a value is the derivative evaluated there:
                    // differentiate first, then substitute.
                    let d = crate::expr::simplify::simplify(&crate::expr::diff::derivative_of(
                        body, var,
                    )?);
                    return Ok(crate::expr::simplify::simplify(&substitute(&d, map)?));
                }
            };
            K::Derivative {
                var,
                var_span: *var_span,
                body: Box::new(sub(body)?),
            }
        }
        K::Integral { bindings, body }
        | K::Sum { bindings, body }
        | K::Extremum { bindings, body, .. } => {
            let (bindings, inner) = rebind(bindings, &[body], map)?;
            let body = Box::new(inner.into_iter().next().unwrap_or_else(|| (**body).clone()));
            match &expr.kind {
                K::Integral { .. } => K::Integral { bindings, body },
                K::Sum { .. } => K::Sum { bindings, body },
                K::Extremum { kind, .. } => K::Extremum {
                    kind: *kind,
                    bindings,
                    body,
                },
                _ => return Ok(expr.clone()),
            }
        }
        K::Expect {
            bindings,
            density,
            body,
        } => {
            let (bindings, density, body) = rebind_density_body(bindings, density, body, map)?;
            K::Expect {
                bindings,
                density: Box::new(density),
                body: Box::new(body),
            }
        }
        K::MonteCarlo {
            bindings,
            density,
            n,
            body,
        } => {
            let n = match n {
                Some(n) => Some(Box::new(sub(n)?)),
                None => None,
            };
            let (bindings, density, body) = rebind_density_body(bindings, density, body, map)?;
            K::MonteCarlo {
                bindings,
                density: Box::new(density),
                n,
                body: Box::new(body),
            }
        }
        K::Limit {
            var,
            var_span,
            target,
            body,
        } => {
            let target = Box::new(sub(target)?);
            let b = [Binding {
                var: var.clone(),
                span: *var_span,
                range: None,
            }];
            let (mut bs, mut inner) = rebind(&b, &[body], map)?;
            let body = Box::new(inner.pop().unwrap_or_else(|| (**body).clone()));
            let var = bs.pop().map_or_else(|| var.clone(), |b| b.var);
            K::Limit {
                var,
                var_span: *var_span,
                target,
                body,
            }
        }
        K::Number(_) | K::Const(_) => return Ok(expr.clone()),
        K::List(items) => K::List(items.iter().map(sub).collect::<Result<_, _>>()?),
        K::Neg(a) => K::Neg(Box::new(sub(a)?)),
        K::Binary { op, lhs, rhs } => K::Binary {
            op: *op,
            lhs: Box::new(sub(lhs)?),
            rhs: Box::new(sub(rhs)?),
        },
        K::Call { func, args } => K::Call {
            func: *func,
            args: args.iter().map(sub).collect::<Result<_, _>>()?,
        },
        K::UserCall { name, args } => K::UserCall {
            name: name.clone(),
            args: args.iter().map(sub).collect::<Result<_, _>>()?,
        },
    };
    Ok(Expr::new(kind, span))
}

/// [`rebind`] for an operator with a density and a body (`expect`, `mc`): the new bindings, and
/// the density and the body substituted under them.
fn rebind_density_body(
    bindings: &[Binding],
    density: &Expr,
    body: &Expr,
    map: &HashMap<String, Expr>,
) -> Result<(Vec<Binding>, Expr, Expr), Diagnostic> {
    let (bindings, mut inner) = rebind(bindings, &[density, body], map)?;
    let body = inner.pop().unwrap_or_else(|| body.clone());
    let density = inner.pop().unwrap_or_else(|| density.clone());
    Ok((bindings, density, body))
}

/// Substitutes under binders: ranges see the outer map; the bodies see it without the bound
/// variables, with bound variables renamed where a replacement mentions them.
fn rebind(
    bindings: &[Binding],
    bodies: &[&Expr],
    map: &HashMap<String, Expr>,
) -> Result<(Vec<Binding>, Vec<Expr>), Diagnostic> {
    let mut inner = map.clone();
    for b in bindings {
        inner.remove(&b.var);
    }
    let mut replacement_free: BTreeSet<String> = BTreeSet::new();
    for v in inner.values() {
        replacement_free.extend(free_variables(v));
    }
    let mut taken = replacement_free.clone();
    for body in bodies {
        taken.extend(free_variables(body));
    }
    taken.extend(bindings.iter().map(|b| b.var.clone()));
    let mut out_bindings = Vec::with_capacity(bindings.len());
    for b in bindings {
        let range = match &b.range {
            Some((lo, hi)) => Some((substitute(lo, map)?, substitute(hi, map)?)),
            None => None,
        };
        let var = if replacement_free.contains(&b.var) {
            let fresh = fresh_name(&b.var, &taken);
            taken.insert(fresh.clone());
            inner.insert(b.var.clone(), Expr::var(&fresh, b.span));
            fresh
        } else {
            b.var.clone()
        };
        out_bindings.push(Binding {
            var,
            span: b.span,
            range,
        });
    }
    let bodies = bodies
        .iter()
        .map(|b| substitute(b, &inner))
        .collect::<Result<Vec<_>, _>>()?;
    Ok((out_bindings, bodies))
}

/// `e` with every node's span set to `span` (for generated text whose own spans mean nothing to
/// the user).
pub fn with_span(e: &Expr, span: Span) -> Expr {
    let mut out = e.clone();
    respan(&mut out, span);
    out
}

/// Gives every node of `e` the span `span` (inlined definitions point at their call).
pub(super) fn respan(e: &mut Expr, span: Span) {
    use ExprKind as K;
    e.span = span;
    let fix_binds = |bs: &mut Vec<Binding>| {
        for b in bs.iter_mut() {
            b.span = span;
            if let Some((lo, hi)) = &mut b.range {
                respan(lo, span);
                respan(hi, span);
            }
        }
    };
    match &mut e.kind {
        K::Number(_) | K::Const(_) | K::Var(_) => {}
        K::Index { index, .. } => respan(index, span),
        K::List(items) | K::Call { args: items, .. } | K::UserCall { args: items, .. } => {
            items.iter_mut().for_each(|i| respan(i, span));
        }
        K::Neg(a) => respan(a, span),
        K::Binary { lhs, rhs, .. } => {
            respan(lhs, span);
            respan(rhs, span);
        }
        K::Integral { bindings, body }
        | K::Sum { bindings, body }
        | K::Extremum { bindings, body, .. } => {
            fix_binds(bindings);
            respan(body, span);
        }
        K::Derivative { var_span, body, .. } => {
            *var_span = span;
            respan(body, span);
        }
        K::Limit {
            var_span,
            target,
            body,
            ..
        } => {
            *var_span = span;
            respan(target, span);
            respan(body, span);
        }
        K::Expect {
            bindings,
            density,
            body,
        } => {
            fix_binds(bindings);
            respan(density, span);
            respan(body, span);
        }
        K::MonteCarlo {
            bindings,
            density,
            n,
            body,
        } => {
            fix_binds(bindings);
            respan(density, span);
            if let Some(n) = n {
                respan(n, span);
            }
            respan(body, span);
        }
    }
}
