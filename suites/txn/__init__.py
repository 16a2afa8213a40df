"""The txn suite."""
