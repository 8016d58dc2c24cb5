//! Energies the quadrature and the samplers evaluate: [`ProgramEnergy`] (compiled, with
//! interval enclosures of its gradient and Hessian from derivative programs shared per
//! energy shape) and the tree-evaluated energy of integrands holding inner bound operators.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use super::error::EngineError;
use super::{Engine, Value};
use crate::expr::{self, Bindings, Builtin, Context, Expr, ExprKind, Interval, Program};
use crate::quad::Energy;

/// Beyond this distance an outer integrand whose inner integral fails is given zero weight.
const FAR_OUT: f64 = 1e6;

/// The symbolic derivatives of one energy *shape*, compiled once and shared: the expression with
/// its parameters (every free name that is not an integration variable) left as extra inputs,
/// so that the many energies the engine builds from one integrand at different parameter
/// values (test points, finite differences, outer nodes of nested integrals) differentiate and
/// compile it once.
pub(super) struct Derivatives {
    expr: Expr,
    /// Integration variables, then parameters: the inputs of the derivative programs.
    names: Vec<String>,
    n_vars: usize,
    gradient: std::sync::OnceLock<Option<Vec<Program>>>,
    hessian: std::sync::OnceLock<Option<Vec<Program>>>,
}

/// Shapes seen, by S-expression and variables (exact: equal keys, equal functions).
static DERIVATIVES: Mutex<Option<HashMap<String, Arc<Derivatives>>>> = Mutex::new(None);

/// Shapes kept before the cache is emptied.
const DERIVATIVE_SHAPES: usize = 1024;

/// Whether `e` contains a node whose derivative the symbolic rules give only almost
/// everywhere: jumps (`sign`, a list indexed by a variable) and, with `kinks`, the kinks of
/// `abs`, `min` and `max` (their first derivative jumps).
fn has_nonsmooth(e: &Expr, kinks: bool) -> bool {
    let mut found = false;
    e.visit(&mut |n| {
        found |= match &n.kind {
            ExprKind::Index { .. } => true,
            ExprKind::Call { func, .. } => {
                *func == Builtin::Sign
                    || (kinks && matches!(func, Builtin::Abs | Builtin::Min | Builtin::Max))
            }
            _ => false,
        };
    });
    found
}

impl Derivatives {
    /// The shared entry for `e` over `inputs`, and the parameters' values from `bindings`
    /// (`None` when a parameter is not a number).
    fn lookup(
        e: &Expr,
        inputs: &[&str],
        bindings: &Bindings,
    ) -> Option<(Arc<Derivatives>, Vec<f64>)> {
        let mut key = e.to_sexpr();
        for v in inputs {
            key.push('\u{1f}');
            key.push_str(v);
        }
        let entry = {
            let mut g = DERIVATIVES
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            let m = g.get_or_insert_with(HashMap::new);
            if let Some(d) = m.get(&key) {
                Arc::clone(d)
            } else {
                let mut names: Vec<String> = inputs.iter().map(|s| (*s).to_string()).collect();
                names.extend(
                    expr::free_variables(e)
                        .into_iter()
                        .filter(|v| !inputs.contains(&v.as_str())),
                );
                let d = Arc::new(Derivatives {
                    expr: e.clone(),
                    names,
                    n_vars: inputs.len(),
                    gradient: std::sync::OnceLock::new(),
                    hessian: std::sync::OnceLock::new(),
                });
                if m.len() >= DERIVATIVE_SHAPES {
                    m.clear();
                }
                m.insert(key, Arc::clone(&d));
                d
            }
        };
        let values: Option<Vec<f64>> = entry.names[entry.n_vars..]
            .iter()
            .map(|v| bindings.number(v))
            .collect();
        Some((entry, values?))
    }

    fn compile_all(&self, exprs: &[Expr]) -> Option<Vec<Program>> {
        let names: Vec<&str> = self.names.iter().map(String::as_str).collect();
        exprs
            .iter()
            .map(|d| Program::compile(d, &names, &Bindings::new()).ok())
            .collect()
    }

    /// The gradient's programs; `None` across a jump, where the mean-value theorem fails.
    fn gradient(&self) -> Option<&[Program]> {
        self.gradient
            .get_or_init(|| {
                if has_nonsmooth(&self.expr, false) {
                    return None;
                }
                let ctx = Context::new();
                let ds: Option<Vec<Expr>> = self.names[..self.n_vars]
                    .iter()
                    .map(|v| expr::derivative(&self.expr, v, &ctx).ok())
                    .collect();
                self.compile_all(&ds?)
            })
            .as_deref()
    }

    /// The Hessian's upper triangle, row by row; `None` unless every function of the energy
    /// has a continuous first derivative.
    fn hessian(&self) -> Option<&[Program]> {
        self.hessian
            .get_or_init(|| {
                if has_nonsmooth(&self.expr, true) {
                    return None;
                }
                let ctx = Context::new();
                let vars = &self.names[..self.n_vars];
                let mut ds = Vec::new();
                for (i, vi) in vars.iter().enumerate() {
                    let di = expr::derivative(&self.expr, vi, &ctx).ok()?;
                    for vj in &vars[i..] {
                        ds.push(expr::derivative(&di, vj, &ctx).ok()?);
                    }
                }
                self.compile_all(&ds)
            })
            .as_deref()
    }
}

/// An energy (or any function of a point) compiled from a closed expression: the quadrature
/// and the samplers evaluate it through [`Energy::eval_batch`] in batches of columns.
pub struct ProgramEnergy {
    program: Program,
    /// The shared derivative programs and this energy's parameter values, for interval
    /// enclosures of the gradient and Hessian (`None` when a parameter is not a number).
    derivatives: Option<(Arc<Derivatives>, Vec<f64>)>,
    /// The components of a mixture ([`expr::mixture_components`]), compiled alike.
    components: Vec<ProgramEnergy>,
}

impl ProgramEnergy {
    /// Compiles a closed, inlined expression over the variables `inputs` (in point order); every
    /// other name takes its value from `bindings`.
    ///
    /// # Errors
    /// A bound operator other than `diff` and finite sums, a variable without a value, a list
    /// misuse: the expression cannot be compiled.
    pub fn new(
        e: &Expr,
        inputs: &[&str],
        bindings: &Bindings,
    ) -> Result<ProgramEnergy, EngineError> {
        let program = Program::compile(e, inputs, bindings).map_err(EngineError::from)?;
        let constant = |c: &Expr| {
            let free = expr::free_variables(c);
            if free.iter().any(|v| inputs.contains(&v.as_str())) {
                return None;
            }
            expr::eval(c, bindings).ok()
        };
        // A component that does not compile is left out: it only seeds a search.
        let components = expr::mixture_components(e, &constant)
            .iter()
            .filter_map(|c| Program::compile(c, inputs, bindings).ok())
            .map(|program| ProgramEnergy {
                program,
                derivatives: None,
                components: Vec::new(),
            })
            .collect();
        Ok(ProgramEnergy {
            program,
            derivatives: Derivatives::lookup(e, inputs, bindings),
            components,
        })
    }

    /// Enclosures of `programs` over the box `b` of the variables, the parameters as points.
    fn enclose_each(
        &self,
        which: fn(&Derivatives) -> Option<&[Program]>,
        b: &[Interval],
        out: &mut [Interval],
    ) -> bool {
        let Some((d, values)) = &self.derivatives else {
            return false;
        };
        let Some(programs) = which(d) else {
            return false;
        };
        let mut full: Vec<Interval> = b.to_vec();
        full.extend(values.iter().map(|&v| Interval::point(v)));
        for (p, o) in programs.iter().zip(out.iter_mut()) {
            *o = p.eval_interval(&full);
        }
        true
    }
}

impl Energy for ProgramEnergy {
    fn dim(&self) -> usize {
        self.program.inputs().len()
    }
    fn enclose(&self, b: &[Interval]) -> Option<Interval> {
        Some(self.program.eval_interval(b))
    }
    fn enclose_gradient(&self, b: &[Interval], out: &mut [Interval]) -> bool {
        self.enclose_each(Derivatives::gradient, b, out)
    }
    fn has_enclosure(&self) -> bool {
        true
    }
    fn fingerprint(&self) -> Option<u128> {
        Some(self.program.fingerprint())
    }
    fn components(&self) -> Vec<&dyn Energy> {
        self.components.iter().map(|c| c as &dyn Energy).collect()
    }
    fn enclose_hessian(&self, b: &[Interval], out: &mut [Interval]) -> bool {
        let d = b.len();
        let mut tri = vec![Interval::ENTIRE; d * (d + 1) / 2];
        if !self.enclose_each(Derivatives::hessian, b, &mut tri) {
            return false;
        }
        let mut k = 0;
        for i in 0..d {
            for j in i..d {
                out[i * d + j] = tri[k];
                out[j * d + i] = tri[k];
                k += 1;
            }
        }
        true
    }
    fn eval(&self, z: &[f64]) -> f64 {
        self.program.eval_f64(z)
    }
    fn eval_batch(&self, points: &[f64], out: &mut [f64]) {
        let d = self.dim();
        if d == 0 {
            out.fill(self.program.eval_f64(&[]));
            return;
        }
        if d == 1 {
            // One variable: the points already are the column.
            self.program.eval_batch(&[points], out);
            return;
        }
        // Transpose the row-major points into columns, in chunks that stay in cache.
        const CHUNK: usize = 256;
        let mut cols = vec![0.0; d * CHUNK];
        for (pts, o) in points.chunks(d * CHUNK).zip(out.chunks_mut(CHUNK)) {
            let n = o.len();
            for (i, p) in pts.chunks_exact(d).enumerate() {
                for (j, x) in p.iter().enumerate() {
                    cols[j * CHUNK + i] = *x;
                }
            }
            let columns: Vec<&[f64]> = (0..d).map(|j| &cols[j * CHUNK..j * CHUNK + n]).collect();
            self.program.eval_batch(&columns, o);
        }
    }
}

/// An energy evaluated through the engine (for integrands that contain inner integrals).
pub(super) struct TreeEnergy<'a> {
    pub(super) engine: &'a Engine,
    pub(super) expr: Expr,
    pub(super) names: Vec<String>,
    pub(super) bindings: Bindings,
    /// Largest error bound of the energy over the evaluated nodes, and whether every inner
    /// evaluation converged.
    pub(super) worst: Mutex<(f64, bool)>,
    /// The first evaluation error (the point gets NaN).
    pub(super) first_error: Mutex<Option<EngineError>>,
    /// The charge of each evaluated node (its energy's error bound, plus 1 when an inner step
    /// did not converge there), keyed by the point's bits: the outer rule averages it with its
    /// own weights ([`IntegrandEnergy::charge_at`](super::integral::IntegrandEnergy::charge_at)).
    pub(super) charges: Mutex<HashMap<Vec<u64>, f64>>,
}

/// The largest charge recorded for a node: beyond it the observable would overflow the rule.
const MAX_CHARGE: f64 = 1e100;

impl TreeEnergy<'_> {
    /// The charge of node `z`: the energy's error bound there, plus 1 (an error of order one in
    /// the energy) when an inner step did not converge, capped at [`MAX_CHARGE`].
    pub(super) fn charge(v: &Value) -> f64 {
        let c = v.error + if v.converged() { 0.0 } else { 1.0 };
        if c.is_nan() {
            MAX_CHARGE
        } else {
            c.min(MAX_CHARGE)
        }
    }
}

impl Energy for TreeEnergy<'_> {
    fn dim(&self) -> usize {
        self.names.len()
    }
    fn eval(&self, z: &[f64]) -> f64 {
        let mut bb = self.bindings.clone();
        for (n, x) in self.names.iter().zip(z) {
            bb.set(n, *x);
        }
        match self.engine.eval_bindings(&self.expr, &bb) {
            Ok(v) => {
                if let Ok(mut w) = self.worst.lock() {
                    w.0 = w.0.max(v.error);
                    w.1 &= v.converged();
                }
                if let Ok(mut c) = self.charges.lock() {
                    c.insert(z.iter().map(|x| x.to_bits()).collect(), Self::charge(&v));
                }
                v.value
            }
            // Far out (where the quadrature probes tails) an inner integral can be beyond f64
            // resolution; there its weight exp(-energy) is zero for any energy that grows, so
            // the point contributes nothing. Nearer in, a failure is reported as NaN.
            Err(_) if z.iter().any(|x| x.abs() > FAR_OUT) => f64::INFINITY,
            Err(e) => {
                if let Ok(mut first) = self.first_error.lock() {
                    first.get_or_insert(e);
                }
                f64::NAN
            }
        }
    }
}
