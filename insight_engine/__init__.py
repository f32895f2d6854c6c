"""insight_engine: tooling around the dbt project (generator, gates, publish, report, CLI)."""

__version__ = "0.1.0"
