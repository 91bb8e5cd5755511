//! The evaluation engine.

/// Placeholder.
pub fn evaluate() {}
