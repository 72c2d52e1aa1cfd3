"""Use cases: one function each, owning its transaction; they validate, ask the policy, then write."""
