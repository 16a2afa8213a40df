"""The ddl suite."""
