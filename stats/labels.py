"""What people read for a dimension's value: 12345热线 for the channel 12345-sd, 投诉 for complaint, the unit's name
for its id, 餐饮服务 for catering, 调解成功 for settled; "未填" where a ticket has none."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Optional

from tickets.handling import OUTCOMES
from tickets.vocabulary import channel_label, kind_label

NONE = "未填"
DIMENSION_LABELS = {"channel": "渠道", "kind": "类型", "category": "纠纷类型", "industry": "行业", "district": "商圈",
                    "town": "镇街",
                    "station": "服务站", "unit": "承办单位", "outcome": "办理结果"}


@dataclass
class Labels:
    channels: dict[str, str] = field(default_factory=dict)
    unit_name: Callable[[str], Optional[str]] = lambda unit_id: None
    industry_name: Callable[[str], str] = lambda industry_id: industry_id
    district_name: Callable[[str], str] = lambda district_id: district_id

    @classmethod
    def of(cls, config, units=None, industries=None, districts=None) -> "Labels":
        def unit_name(unit_id: str) -> Optional[str]:
            unit = units.get(unit_id) if units is not None else None
            return unit.name if unit else None

        return cls({ch.name: channel_label(ch) for ch in config.channels}, unit_name,
                   industries.name if industries is not None else (lambda i: i),
                   districts.name if districts is not None else (lambda d: d))

    def label(self, dimension: str, value: str) -> str:
        if not value:
            return NONE
        if dimension == "channel":
            return self.channels.get(value, value)
        if dimension == "kind":
            return kind_label(value)
        if dimension in ("unit", "station"):
            return self.unit_name(value) or value
        if dimension == "industry":
            return self.industry_name(value)
        if dimension == "district":
            return self.district_name(value)
        if dimension == "outcome":
            return OUTCOMES.get(value, value)
        return value

    def add_to(self, figure: dict, dims) -> dict:
        """Each row of a figure gets `<dimension>_label` beside each of its values."""
        for row in figure.get("rows", []):
            for d in dims:
                if d in row:
                    row[f"{d}_label"] = self.label(d, row[d])
        return figure
