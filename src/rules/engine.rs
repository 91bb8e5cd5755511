//! The evaluation engine.

/// Placeholder until the engine lands.
pub fn evaluate() {}
