"""Numerical methods: test assembly as integer programming, and (later) item statistics."""
