"""Fakes that implement the real interfaces: a clock, scripted tools."""
