"""Forecasting (being built; the integrator writes this module)."""
