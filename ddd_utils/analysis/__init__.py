"""Reading results: a curve's peak and bumps, a finished sweep's curves and tables, bias-variance decompositions,
the Hessian's effective dimensionality, and chapter 7's pattern-speed toy model. Imports only the top-level helpers
(and torch where a module works on a network: `hessian`)."""
