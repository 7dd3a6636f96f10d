"""industries.yaml, hotwords.yaml and districts.yaml: the shipped files load, and a mistake is refused with the
file, the line and the field, as the other YAML files are."""
from __future__ import annotations

import pytest

from settings import ConfigError
from stats.districts import Districts
from stats.hotwords import Segmenter
from stats.industries import Industries


def test_the_shipped_files_load():
    assert Industries.from_file().name("catering") == "餐饮服务"
    assert "预付卡" in Segmenter.from_file().spec.dictionary
    assert Districts.from_file().name("chencun_flowers") == "陈村花卉世界"


@pytest.mark.parametrize("loader, text, where", [
    (Industries.from_yaml, "default: other\nindustries:\n  - id: other\n    name: 其他\n  - id: other\n    name: 又一个\n",
     "industries.yaml:5: industries[1].id: 'other' is already the id of industries[0]"),
    (Industries.from_yaml, "default: food\nindustries:\n  - id: other\n    name: 其他\n",
     "industries.yaml:1: default: 'food' is not the id of an industry listed below"),
    (Industries.from_yaml, "default: other\nindustries:\n  - id: other\n    name: 其他\n    keyword: [a]\n",
     "industries.yaml:5: industries[0].keyword"),
    (Industries.from_yaml, "default: other\nindustries:\n  - id: other\n    name: 其他\n    business: ['', 店]\n",
     "industries.yaml:5: industries[0].business[0]: an empty word would match every ticket"),
    (Segmenter.from_yaml, "dictionary: [预付卡]\nstop_words: [投诉, 预付卡]\n",
     "hotwords.yaml:1: dictionary[0]: '预付卡' is also a stop word"),
    (Segmenter.from_yaml, "dictionary: [预付 卡]\n", "hotwords.yaml:1: dictionary[0]"),
    (Districts.from_yaml, "districts:\n  - id: a\n    name: 甲\n    places: [花市]\n  - id: b\n    name: 乙\n"
                          "    places: [花市]\n",
     "districts.yaml:7: districts[1].places[0]: '花市' is already a place of districts[0]"),
])
def test_a_mistake_is_named_with_its_file_line_and_field(loader, text, where):
    with pytest.raises(ConfigError) as refused:
        loader(text)
    assert where in str(refused.value)
