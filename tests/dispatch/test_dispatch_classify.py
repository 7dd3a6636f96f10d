"""Classification: dispute nature, goods/services group and urgency from the ticket's words."""
from __future__ import annotations

import pytest

from dispatch.classify import Classifier, Taxonomy, load_default_taxonomy


@pytest.fixture(scope="module")
def classifier() -> Classifier:
    return Classifier(load_default_taxonomy())


def test_default_taxonomy_has_the_cca_natures():
    names = load_default_taxonomy().nature_names
    assert names == ["售后服务", "质量", "合同", "虚假宣传", "价格", "安全", "假冒", "人格尊严", "计量", "其他"]


@pytest.mark.parametrize("text, category, group", [
    ("猪肉档不明码标价，乱收费", "价格", "食品"),
    ("空调不制冷，售后推诿不维修", "售后服务", "家用电器"),
    ("健身房办卡充值后跑路", "合同", "美容美发"),
    ("卖假酒，茅台是假冒的", "假冒", None),
    ("水果档缺斤少两", "计量", "食品"),
    ("保安强制搜身，态度恶劣", "人格尊严", None),
    ("保健品虚假宣传", "虚假宣传", "药品医疗器械"),
    ("想问一下办事流程", "其他", None),
])
def test_nature_and_group(classifier, text, category, group):
    found = classifier.classify(text)
    assert (found.category, found.group) == (category, group)


@pytest.mark.parametrize("text, urgent", [
    ("全家吃了以后食物中毒", True),
    ("商场扶梯夹伤儿童", True),
    ("厨房燃气泄漏，安装公司不管", True),
    ("店里起火了", True),
    ("顾客摔倒，幸好没有受伤", False),      # an ignore phrase swallows 受伤
    ("儿童节促销价格不实", False),
    ("手机屏幕坏了", False),
])
def test_urgent(classifier, text, urgent):
    assert classifier.classify(text).urgent is urgent


def test_ties_go_to_the_nature_listed_first():
    taxonomy = Taxonomy(natures=[{"name": "甲", "keywords": ["红"]}, {"name": "乙", "keywords": ["蓝"]},
                                 {"name": "其他"}])
    assert Classifier(taxonomy).classify("蓝红").category == "甲"
    assert Classifier(taxonomy).classify("蓝蓝红").category == "乙"
