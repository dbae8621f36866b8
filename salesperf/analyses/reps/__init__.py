"""Rep evaluation (being built; the integrator writes this module)."""
