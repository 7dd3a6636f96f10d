"""Configuration: the YAML files an operator edits, validated by pydantic with errors that name file, line and field.

Exports the loader (`load_yaml_model`, `ConfigError`), the config.yaml schema and logging setup.
"""
from settings.yaml_loader import ConfigError, load_yaml_model, parse_yaml_model

__all__ = ["ConfigError", "load_yaml_model", "parse_yaml_model"]
