"""The exam's own rules as plain classes and functions.

Nothing here imports anything outside the standard library (a test walks the imports): no
web framework, no ORM, no clock and no global random. Time and randomness arrive as
parameters.
"""
