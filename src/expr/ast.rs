//! The expression tree: every node carries the byte span of the source text it came from.

use std::fmt;

/// A byte range `start..end` into the source text an expression was parsed from.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Span {
    /// Byte offset of the first byte.
    pub start: usize,
    /// Byte offset one past the last byte.
    pub end: usize,
}

impl Span {
    /// A span from `start` to `end` (bytes).
    pub fn new(start: usize, end: usize) -> Self {
        Span { start, end }
    }

    /// The smallest span covering both `self` and `other`.
    #[must_use]
    pub fn to(self, other: Span) -> Span {
        Span::new(self.start.min(other.start), self.end.max(other.end))
    }

    /// This span moved `offset` bytes to the right (to map an expression embedded in a larger file).
    #[must_use]
    pub fn shifted(self, offset: usize) -> Span {
        Span::new(self.start + offset, self.end + offset)
    }
}

/// A named mathematical constant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Constant {
    /// π.
    Pi,
    /// +∞ (used for integration limits and limit targets).
    Inf,
}

impl Constant {
    /// The numeric value.
    pub fn value(self) -> f64 {
        match self {
            Constant::Pi => std::f64::consts::PI,
            Constant::Inf => f64::INFINITY,
        }
    }

    /// The spelling in the language.
    pub fn name(self) -> &'static str {
        match self {
            Constant::Pi => "pi",
            Constant::Inf => "inf",
        }
    }
}

/// A binary arithmetic operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BinOp {
    /// `+`
    Add,
    /// `-`
    Sub,
    /// `*`
    Mul,
    /// `/`
    Div,
    /// `^` (right-associative)
    Pow,
}

impl BinOp {
    /// The operator's symbol.
    pub fn symbol(self) -> &'static str {
        match self {
            BinOp::Add => "+",
            BinOp::Sub => "-",
            BinOp::Mul => "*",
            BinOp::Div => "/",
            BinOp::Pow => "^",
        }
    }
}

/// How many arguments a builtin function takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arity {
    /// Exactly this many.
    Exactly(usize),
    /// At least this many (variadic).
    AtLeast(usize),
}

impl Arity {
    /// Whether `n` arguments are acceptable.
    pub fn accepts(self, n: usize) -> bool {
        match self {
            Arity::Exactly(k) => n == k,
            Arity::AtLeast(k) => n >= k,
        }
    }
}

impl fmt::Display for Arity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Arity::Exactly(1) => write!(f, "1 argument"),
            Arity::Exactly(k) => write!(f, "{k} arguments"),
            Arity::AtLeast(k) => {
                write!(f, "at least {k} argument{}", if *k == 1 { "" } else { "s" })
            }
        }
    }
}

macro_rules! builtins {
    ($($variant:ident => $name:literal, $arity:expr, $doc:literal;)*) => {
        /// A builtin function of the language.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Builtin {
            $(#[doc = $doc] $variant,)*
        }

        impl Builtin {
            /// Every builtin, in documentation order.
            pub const ALL: &'static [Builtin] = &[$(Builtin::$variant,)*];

            /// The function's name in the language.
            pub fn name(self) -> &'static str {
                match self { $(Builtin::$variant => $name,)* }
            }

            /// How many arguments it takes.
            pub fn arity(self) -> Arity {
                match self { $(Builtin::$variant => $arity,)* }
            }
        }
    };
}

builtins! {
    Exp => "exp", Arity::Exactly(1), "`exp(x)`";
    Log => "log", Arity::Exactly(1), "`log(x)`, the natural logarithm";
    Log1p => "log1p", Arity::Exactly(1), "`log1p(x) = log(1 + x)`, accurate near 0";
    Expm1 => "expm1", Arity::Exactly(1), "`expm1(x) = exp(x) - 1`, accurate near 0";
    Sqrt => "sqrt", Arity::Exactly(1), "`sqrt(x)`";
    Abs => "abs", Arity::Exactly(1), "`abs(x)`";
    Sign => "sign", Arity::Exactly(1), "`sign(x)`: -1, 0 or 1";
    Sin => "sin", Arity::Exactly(1), "`sin(x)`";
    Cos => "cos", Arity::Exactly(1), "`cos(x)`";
    Tan => "tan", Arity::Exactly(1), "`tan(x)`";
    Sinh => "sinh", Arity::Exactly(1), "`sinh(x)`";
    Cosh => "cosh", Arity::Exactly(1), "`cosh(x)`";
    Tanh => "tanh", Arity::Exactly(1), "`tanh(x)`";
    Sigmoid => "sigmoid", Arity::Exactly(1), "`sigmoid(x) = 1/(1 + exp(-x))`";
    Softplus => "softplus", Arity::Exactly(1), "`softplus(x) = log(1 + exp(x))`, stable";
    Min => "min", Arity::AtLeast(1), "`min(a, b, ...)`";
    Max => "max", Arity::AtLeast(1), "`max(a, b, ...)`";
    LogSumExp => "logsumexp", Arity::AtLeast(1), "`logsumexp(a, b, ...) = log(exp(a) + exp(b) + ...)`, stable";
}

impl Builtin {
    /// The builtin called `name`, if any.
    pub fn from_name(name: &str) -> Option<Builtin> {
        Builtin::ALL.iter().copied().find(|b| b.name() == name)
    }
}

/// Which optimisation a `min[..]`, `argmin[..]` or `max[..]` node performs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Extremum {
    /// `min[z](f)`: the minimum value.
    Min,
    /// `argmin[z](f)`: the minimiser (one bound variable).
    Argmin,
    /// `max[z](f)`: the maximum value.
    Max,
}

impl Extremum {
    /// The keyword.
    pub fn keyword(self) -> &'static str {
        match self {
            Extremum::Min => "min",
            Extremum::Argmin => "argmin",
            Extremum::Max => "max",
        }
    }
}

/// Words that introduce bound operators (`int[z](..)`) and so cannot name variables.
pub const RESERVED: &[&str] = &[
    "int", "sum", "min", "max", "argmin", "diff", "lim", "expect", "mc",
];

/// A variable bound by an operator, with an optional range `lo..hi`.
///
/// `range: None` means "the variable's declared domain", supplied later by the caller.
#[derive(Debug, Clone)]
pub struct Binding {
    /// The bound variable.
    pub var: String,
    /// Where the variable's name is written.
    pub span: Span,
    /// The range `lo..hi`, if written.
    pub range: Option<(Expr, Expr)>,
}

/// An expression: a node kind and the span it was written at.
#[derive(Debug, Clone)]
pub struct Expr {
    /// What the node is.
    pub kind: ExprKind,
    /// Where it was written (after inlining, nodes from a definition carry the call's span).
    pub span: Span,
}

/// The kinds of expression node.
#[derive(Debug, Clone)]
pub enum ExprKind {
    /// A non-negative numeric literal.
    Number(f64),
    /// `pi` or `inf`.
    Const(Constant),
    /// A variable or parameter.
    Var(String),
    /// `c[k]`: an element of a list parameter.
    Index {
        /// The list's name.
        list: String,
        /// The (integer-valued) index, 0-based.
        index: Box<Expr>,
    },
    /// A list literal `[a, b, c]`; only valid as the body of a parameter definition.
    List(Vec<Expr>),
    /// `-x`.
    Neg(Box<Expr>),
    /// `a op b`.
    Binary {
        /// The operator.
        op: BinOp,
        /// Left operand.
        lhs: Box<Expr>,
        /// Right operand.
        rhs: Box<Expr>,
    },
    /// A builtin function call.
    Call {
        /// The function.
        func: Builtin,
        /// Its arguments.
        args: Vec<Expr>,
    },
    /// A call of a user definition, `F(x, y)`.
    UserCall {
        /// The definition's name.
        name: String,
        /// Its arguments.
        args: Vec<Expr>,
    },
    /// `int[y = a..b, z](body)`.
    Integral {
        /// Integration variables, outermost first.
        bindings: Vec<Binding>,
        /// The integrand.
        body: Box<Expr>,
    },
    /// `sum[k = 0..2](body)` over integers, both ends included.
    Sum {
        /// Summation variables.
        bindings: Vec<Binding>,
        /// The summand.
        body: Box<Expr>,
    },
    /// `min[z](f)`, `argmin[z](f)`, `max[z](f)`.
    Extremum {
        /// Which one.
        kind: Extremum,
        /// The variables optimised over.
        bindings: Vec<Binding>,
        /// The objective.
        body: Box<Expr>,
    },
    /// `diff[w](body)`: the derivative of `body` with respect to the free variable `w`.
    Derivative {
        /// The variable (free in the result, not bound).
        var: String,
        /// Where the variable is written.
        var_span: Span,
        /// The expression differentiated.
        body: Box<Expr>,
    },
    /// `lim[beta -> target](body)`.
    Limit {
        /// The bound variable.
        var: String,
        /// Where the variable is written.
        var_span: Span,
        /// What it tends to (may be `inf` or `-inf`).
        target: Box<Expr>,
        /// The expression.
        body: Box<Expr>,
    },
    /// `expect[y ~ density](body)`: the average of `body` under the normalised `density`.
    Expect {
        /// The random variables.
        bindings: Vec<Binding>,
        /// The unnormalised density (a function of the bound variables).
        density: Box<Expr>,
        /// The averaged expression.
        body: Box<Expr>,
    },
    /// `mc[y ~ density; n = N](body)`: the average of `body` over N draws from the density.
    MonteCarlo {
        /// The random variables.
        bindings: Vec<Binding>,
        /// The unnormalised density.
        density: Box<Expr>,
        /// The number of draws (`None`: the caller's default).
        n: Option<Box<Expr>>,
        /// The averaged expression.
        body: Box<Expr>,
    },
}

impl Expr {
    /// A node of `kind` at `span`.
    pub fn new(kind: ExprKind, span: Span) -> Self {
        Expr { kind, span }
    }

    /// A number literal (negative values become `Neg(Number)` so printing stays re-parseable).
    pub fn number(value: f64, span: Span) -> Self {
        if value < 0.0 {
            Expr::new(
                ExprKind::Neg(Box::new(Expr::new(ExprKind::Number(-value), span))),
                span,
            )
        } else {
            Expr::new(ExprKind::Number(value), span)
        }
    }

    /// A variable.
    pub fn var(name: &str, span: Span) -> Self {
        Expr::new(ExprKind::Var(name.to_string()), span)
    }

    /// `a op b`, spanning `span`.
    pub fn binary(op: BinOp, lhs: Expr, rhs: Expr, span: Span) -> Self {
        Expr::new(
            ExprKind::Binary {
                op,
                lhs: Box::new(lhs),
                rhs: Box::new(rhs),
            },
            span,
        )
    }

    /// `-a`.
    pub fn neg(a: Expr, span: Span) -> Self {
        Expr::new(ExprKind::Neg(Box::new(a)), span)
    }

    /// A builtin call.
    pub fn call(func: Builtin, args: Vec<Expr>, span: Span) -> Self {
        Expr::new(ExprKind::Call { func, args }, span)
    }

    /// The numeric value if this node is a literal number (or the negation of one).
    pub fn as_number(&self) -> Option<f64> {
        match &self.kind {
            ExprKind::Number(v) => Some(*v),
            ExprKind::Neg(inner) => match inner.kind {
                ExprKind::Number(v) => Some(-v),
                _ => None,
            },
            _ => None,
        }
    }

    /// Structural equality, ignoring spans.
    pub fn same(&self, other: &Expr) -> bool {
        use ExprKind as K;
        fn all(a: &[Expr], b: &[Expr]) -> bool {
            a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.same(y))
        }
        fn opt(a: &Option<Box<Expr>>, b: &Option<Box<Expr>>) -> bool {
            match (a, b) {
                (Some(x), Some(y)) => x.same(y),
                (None, None) => true,
                _ => false,
            }
        }
        fn binds(a: &[Binding], b: &[Binding]) -> bool {
            a.len() == b.len()
                && a.iter().zip(b).all(|(x, y)| {
                    x.var == y.var
                        && match (&x.range, &y.range) {
                            (Some((a1, b1)), Some((a2, b2))) => a1.same(a2) && b1.same(b2),
                            (None, None) => true,
                            _ => false,
                        }
                })
        }
        match (&self.kind, &other.kind) {
            (K::Number(a), K::Number(b)) => a.to_bits() == b.to_bits(),
            (K::Const(a), K::Const(b)) => a == b,
            (K::Var(a), K::Var(b)) => a == b,
            (K::Index { list: a, index: i }, K::Index { list: b, index: j }) => a == b && i.same(j),
            (K::List(a), K::List(b)) => all(a, b),
            (K::Neg(a), K::Neg(b)) => a.same(b),
            (
                K::Binary {
                    op: o1,
                    lhs: l1,
                    rhs: r1,
                },
                K::Binary {
                    op: o2,
                    lhs: l2,
                    rhs: r2,
                },
            ) => o1 == o2 && l1.same(l2) && r1.same(r2),
            (K::Call { func: f, args: a }, K::Call { func: g, args: b }) => f == g && all(a, b),
            (K::UserCall { name: f, args: a }, K::UserCall { name: g, args: b }) => {
                f == g && all(a, b)
            }
            (
                K::Integral {
                    bindings: b1,
                    body: x,
                },
                K::Integral {
                    bindings: b2,
                    body: y,
                },
            )
            | (
                K::Sum {
                    bindings: b1,
                    body: x,
                },
                K::Sum {
                    bindings: b2,
                    body: y,
                },
            ) => binds(b1, b2) && x.same(y),
            (
                K::Extremum {
                    kind: k1,
                    bindings: b1,
                    body: x,
                },
                K::Extremum {
                    kind: k2,
                    bindings: b2,
                    body: y,
                },
            ) => k1 == k2 && binds(b1, b2) && x.same(y),
            (
                K::Derivative {
                    var: v, body: x, ..
                },
                K::Derivative {
                    var: w, body: y, ..
                },
            ) => v == w && x.same(y),
            (
                K::Limit {
                    var: v,
                    target: t,
                    body: x,
                    ..
                },
                K::Limit {
                    var: w,
                    target: u,
                    body: y,
                    ..
                },
            ) => v == w && t.same(u) && x.same(y),
            (
                K::Expect {
                    bindings: b1,
                    density: d1,
                    body: x,
                },
                K::Expect {
                    bindings: b2,
                    density: d2,
                    body: y,
                },
            ) => binds(b1, b2) && d1.same(d2) && x.same(y),
            (
                K::MonteCarlo {
                    bindings: b1,
                    density: d1,
                    n: n1,
                    body: x,
                },
                K::MonteCarlo {
                    bindings: b2,
                    density: d2,
                    n: n2,
                    body: y,
                },
            ) => binds(b1, b2) && d1.same(d2) && opt(n1, n2) && x.same(y),
            _ => false,
        }
    }

    /// Whether the tree contains a bound operator (integral, sum, min, derivative, limit, ...).
    pub fn has_bound_operator(&self) -> bool {
        let mut found = false;
        self.visit(&mut |e| {
            if e.is_bound_operator() {
                found = true;
            }
        });
        found
    }

    /// Whether this node itself is a bound operator.
    pub fn is_bound_operator(&self) -> bool {
        matches!(
            self.kind,
            ExprKind::Integral { .. }
                | ExprKind::Sum { .. }
                | ExprKind::Extremum { .. }
                | ExprKind::Derivative { .. }
                | ExprKind::Limit { .. }
                | ExprKind::Expect { .. }
                | ExprKind::MonteCarlo { .. }
        )
    }

    /// Calls `f` on every node, parents before children.
    pub fn visit(&self, f: &mut dyn FnMut(&Expr)) {
        f(self);
        for child in self.children() {
            child.visit(f);
        }
    }

    /// A copy of this node whose direct sub-expressions (binding ranges, densities and counts
    /// included) are replaced by `f` of each; spans and names are kept.
    ///
    /// # Errors
    /// The first error `f` returns.
    pub fn try_map_children<E>(
        &self,
        f: &mut dyn FnMut(&Expr) -> Result<Expr, E>,
    ) -> Result<Expr, E> {
        use ExprKind as K;
        fn binds<E>(
            bs: &[Binding],
            f: &mut dyn FnMut(&Expr) -> Result<Expr, E>,
        ) -> Result<Vec<Binding>, E> {
            bs.iter()
                .map(|b| {
                    Ok(Binding {
                        var: b.var.clone(),
                        span: b.span,
                        range: match &b.range {
                            Some((lo, hi)) => Some((f(lo)?, f(hi)?)),
                            None => None,
                        },
                    })
                })
                .collect()
        }
        let bx = |e: &Expr, f: &mut dyn FnMut(&Expr) -> Result<Expr, E>| f(e).map(Box::new);
        let kind = match &self.kind {
            K::Number(_) | K::Const(_) | K::Var(_) => self.kind.clone(),
            K::Index { list, index } => K::Index {
                list: list.clone(),
                index: bx(index, f)?,
            },
            K::List(items) => K::List(items.iter().map(&mut *f).collect::<Result<_, _>>()?),
            K::Neg(a) => K::Neg(bx(a, f)?),
            K::Binary { op, lhs, rhs } => K::Binary {
                op: *op,
                lhs: bx(lhs, f)?,
                rhs: bx(rhs, f)?,
            },
            K::Call { func, args } => K::Call {
                func: *func,
                args: args.iter().map(&mut *f).collect::<Result<_, _>>()?,
            },
            K::UserCall { name, args } => K::UserCall {
                name: name.clone(),
                args: args.iter().map(&mut *f).collect::<Result<_, _>>()?,
            },
            K::Integral { bindings, body } => K::Integral {
                bindings: binds(bindings, f)?,
                body: bx(body, f)?,
            },
            K::Sum { bindings, body } => K::Sum {
                bindings: binds(bindings, f)?,
                body: bx(body, f)?,
            },
            K::Extremum {
                kind,
                bindings,
                body,
            } => K::Extremum {
                kind: *kind,
                bindings: binds(bindings, f)?,
                body: bx(body, f)?,
            },
            K::Derivative {
                var,
                var_span,
                body,
            } => K::Derivative {
                var: var.clone(),
                var_span: *var_span,
                body: bx(body, f)?,
            },
            K::Limit {
                var,
                var_span,
                target,
                body,
            } => K::Limit {
                var: var.clone(),
                var_span: *var_span,
                target: bx(target, f)?,
                body: bx(body, f)?,
            },
            K::Expect {
                bindings,
                density,
                body,
            } => K::Expect {
                bindings: binds(bindings, f)?,
                density: bx(density, f)?,
                body: bx(body, f)?,
            },
            K::MonteCarlo {
                bindings,
                density,
                n,
                body,
            } => K::MonteCarlo {
                bindings: binds(bindings, f)?,
                density: bx(density, f)?,
                n: match n {
                    Some(n) => Some(bx(n, f)?),
                    None => None,
                },
                body: bx(body, f)?,
            },
        };
        Ok(Expr::new(kind, self.span))
    }

    /// The direct sub-expressions, including binding ranges, densities and counts.
    pub fn children(&self) -> Vec<&Expr> {
        use ExprKind as K;
        let mut out: Vec<&Expr> = Vec::new();
        fn push_binds<'e>(out: &mut Vec<&'e Expr>, bs: &'e [Binding]) {
            for b in bs {
                if let Some((lo, hi)) = &b.range {
                    out.push(lo);
                    out.push(hi);
                }
            }
        }
        match &self.kind {
            K::Number(_) | K::Const(_) | K::Var(_) => {}
            K::Index { index, .. } => out.push(index),
            K::List(items) => out.extend(items.iter()),
            K::Neg(a) => out.push(a),
            K::Binary { lhs, rhs, .. } => {
                out.push(lhs);
                out.push(rhs);
            }
            K::Call { args, .. } | K::UserCall { args, .. } => out.extend(args.iter()),
            K::Integral { bindings, body }
            | K::Sum { bindings, body }
            | K::Extremum { bindings, body, .. } => {
                push_binds(&mut out, bindings);
                out.push(body);
            }
            K::Derivative { body, .. } => out.push(body),
            K::Limit { target, body, .. } => {
                out.push(target);
                out.push(body);
            }
            K::Expect {
                bindings,
                density,
                body,
            } => {
                push_binds(&mut out, bindings);
                out.push(density);
                out.push(body);
            }
            K::MonteCarlo {
                bindings,
                density,
                n,
                body,
            } => {
                push_binds(&mut out, bindings);
                out.push(density);
                if let Some(n) = n {
                    out.push(n);
                }
                out.push(body);
            }
        }
        out
    }
}
