"""index.yaml: the handling index's window, minimum, shrinkage and weights, validated like the other YAML files."""
from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from settings.yaml_loader import load_yaml_model

DEFAULT_FILE = Path(__file__).resolve().parents[1] / "index.yaml"
COMPONENTS = ("timeliness", "settlement", "cooperation", "satisfaction", "repeat")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Weights(Strict):
    timeliness: float = Field(0.25, ge=0)
    settlement: float = Field(0.30, ge=0)
    cooperation: float = Field(0.10, ge=0)
    satisfaction: float = Field(0.20, ge=0)
    repeat: float = Field(0.15, ge=0)


class IndexFile(Strict):
    days: int = Field(365, ge=7, le=3660, description="complaints received within this many days")
    min_tickets: int = Field(1, ge=1, description="fewer complaints: not scored")
    prior_weight: float = Field(5, ge=0, description="cases at the industry's average added to each business's")
    weights: Weights = Field(default_factory=Weights)


def load_index_rules(path: str | Path = DEFAULT_FILE) -> IndexFile:
    return load_yaml_model(path, IndexFile)
