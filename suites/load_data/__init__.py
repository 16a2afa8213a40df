"""The load_data suite."""
