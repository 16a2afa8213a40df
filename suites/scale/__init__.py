"""The scale suite."""
