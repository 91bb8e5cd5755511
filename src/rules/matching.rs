//! Unique-individual assignment (maximum bipartite matching).
