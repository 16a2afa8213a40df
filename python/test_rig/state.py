"""State names handlers return. The strings match the old Python API exactly,
so files written for it keep working; TypeScript normalises other legacy
spellings ("Connecting to TiDB", "parsing_config")."""

from __future__ import annotations


class PyState:
    """Constructors for the machine's state names (each returns a ``str``)."""

    @staticmethod
    def initial() -> str:
        return "Initial"

    @staticmethod
    def parsing_config() -> str:
        return "ParsingConfig"

    @staticmethod
    def connecting() -> str:
        return "Connecting"

    @staticmethod
    def testing_connection() -> str:
        return "TestingConnection"

    @staticmethod
    def verifying_database() -> str:
        return "VerifyingDatabase"

    @staticmethod
    def getting_version() -> str:
        return "GettingVersion"

    @staticmethod
    def checking_import_jobs() -> str:
        return "CheckingImportJobs"

    @staticmethod
    def showing_import_job_details() -> str:
        return "ShowingImportJobDetails"

    @staticmethod
    def completed() -> str:
        return "Completed"

    @staticmethod
    def error(message: str = "") -> str:
        """An error state: the run (or test case) fails with ``message``."""
        return f"Error: {message}" if message else "Error"

    @staticmethod
    def custom(name: str) -> str:
        """A custom state of a dynamic machine (any non-empty name)."""
        if not name:
            raise ValueError("a state name cannot be empty")
        return name
