"""Numerical methods: test assembly as integer programming, classical item statistics, Rasch
calibration and differential item functioning."""
