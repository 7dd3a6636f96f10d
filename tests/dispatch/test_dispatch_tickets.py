"""Realistic Shunde tickets and the unit each must reach under the default units.yaml and rules.yaml.

Given the shipped configuration, when a ticket is decided, then it goes to the unit a dispatcher at the
district's command centre would pick (None means triage).
"""
from __future__ import annotations

from pathlib import Path

import pytest

from dispatch import Dispatcher, TicketFacts

ROOT = Path(__file__).resolve().parents[2]

CHANNELS = {"12345": "12345-shunde", "12315": "12315-gd", "8180": "8180-shunde", "walk_in": "walkin-shunde",
            "web": "web-sdamr"}


def t(case_id: str, expect: str | None, text: str, *, via: str = "12345", kind: str = "complaint",
      title: str | None = None, urgent: bool = False, **facts):
    """One row: the ticket's facts, the unit it must reach, and whether it must come out urgent."""
    ticket = TicketFacts(channel=CHANNELS[via], channel_kind=via, kind=kind, title=title, text=text, **facts)
    return pytest.param(ticket, expect, urgent, id=case_id)


TICKETS = [
    # ── Price: the pricing department, wherever it happened ──
    t("price-unmarked-pork", "sd-amr-price", "新桂市场3号猪肉档没有明码标价，结账时按每斤38元收，比旁边贵很多。",
      title="猪肉档不明码标价", event_address="佛山市顺德区大良街道新桂市场", area_code="440606005007"),
    t("price-parking", "sd-amr-price", "小区停车场乱收费，临时停车半小时收20元，物业不给收据。",
      event_address="容桂街道容里社区天佑城附近", via="12315"),
    t("price-fraud-promotion", "sd-amr-price", "商场标原价2999现价999，实际一直卖999，属于价格欺诈。",
      event_address="北滘镇美的广场二楼", business_name="某家电专营店"),
    t("price-cover-charge", "sd-amr-price", "酒楼收取开台费每位5元，事前没有告知。", business_name="顺德某海鲜酒楼",
      business_address="乐从镇东平新城购物中心", via="12315"),
    t("price-barber", "sd-amr-price", "理发店剪发前说38元，剪完强制收费198元，说是用了高级药水。",
      event_address="伦教街道三洲社区", area_code="440606003002"),
    t("price-hotel-service-fee", "sd-amr-price", "酒店退房时额外收取服务费120元，预订时没有说明。",
      event_address="龙江镇龙江社区", via="web"),
    t("price-no-tag-clothes", "sd-amr-price", "服装店衣服全部不标价，看人报价。", event_address="均安镇均安牛仔城",
      via="8180"),
    t("price-parcel-fee", "sd-amr-price", "快递驿站取件要多收费2元每件，说是保管费。", event_address="勒流街道黄连社区"),
    t("price-sky-high-seafood", "sd-amr-price", "大排档海鲜称重后按天价计算，一只龙虾收了800多。",
      event_address="陈村镇旧圩市场旁边", via="12315"),

    # ── Advertising: the advertising department ──
    t("ad-health-food", "sd-amr-ad", "保健品讲座虚假宣传能治高血压，老人花了5000多元买了几盒。",
      event_address="大良街道金榜社区", via="12315"),
    t("ad-training", "sd-amr-ad", "培训机构广告宣传包过，报名后考试没过不给退，与宣传不符。",
      event_address="容桂街道桂洲大道中", business_name="某职业培训学校"),
    t("ad-real-estate", "sd-amr-ad", "楼盘虚假广告，宣传地铁口步行5分钟，实际2公里。", event_address="陈村镇潭洲村",
      via="12345"),
    t("ad-slimming", "sd-amr-ad", "减肥产品夸大宣传，说一个月瘦20斤，吃了没效果。", via="web"),
    t("ad-livestream", "sd-amr-ad", "直播间卖的玉石说是天然A货，到手是染色的，与广告不符。", event_address="乐从镇"),
    t("ad-beauty", "sd-amr-ad", "美容院宣传免费体验，进去后被推销办卡，属于虚假宣传。",
      event_address="大良街道云路社区", area_code="440606005010"),

    # ── Special equipment: the special-equipment department ──
    t("lift-trapped", "sd-amr-equipment", "小区5栋电梯困人半小时，物业电话打不通。",
      event_address="北滘镇碧桂园社区", urgent=True),
    t("escalator-mall", "sd-amr-equipment", "商场扶梯突然停止，有人摔倒。", event_address="容桂天佑城", via="12315"),
    t("boiler-factory", "sd-amr-equipment", "工厂锅炉没有年检，工人担心爆炸。", event_address="龙江镇世埠社区",
      kind="report", urgent=True),
    t("gas-cylinder", "sd-amr-equipment", "液化气站充装的气瓶过期仍在使用。", event_address="杏坛镇马齐社区",
      kind="report", via="12345"),
    t("amusement-ride", "sd-amr-equipment", "游乐场的游乐设施摇晃严重，担心安全，儿童在玩。",
      event_address="顺德区大良街道", urgent=True),

    # ── Food that made someone ill: the covering station, urgent ──
    t("food-poisoning-restaurant", "st-ronggui-16", "一家四口在天佑城某餐厅吃饭后上吐下泻，怀疑食物中毒。",
      via="12315", urgent=True),
    t("food-poisoning-area-code", "st-lecong-02", "在沙滘社区一家快餐店吃了烧鹅饭后腹泻呕吐，已送医。",
      area_code="440606103002", urgent=True),
    t("food-foreign-body", "st-daliang-14", "在近良市场买的肠粉吃出异物，孩子吃了不舒服。",
      event_address="大良近良市场", urgent=True),
    t("food-expired-milk", "st-junan-02", "超市卖过期食品，牛奶过期一周还在货架，家人喝了拉肚子。",
      business_address="均安镇仓门社区", via="12315", urgent=True),
    t("food-mould-cake", "st-chencun-07", "蛋糕店买的蛋糕发霉，小孩吃了两口。", event_address="陈村花卉世界", urgent=True),
    t("food-poisoning-price-too", "st-beijiao-03", "酒楼价格贵还让人食物中毒，五个人都去了医院。",
      event_address="北滘镇林头社区", urgent=True),
    t("food-poisoning-unknown-place", None, "昨晚吃外卖后食物中毒，现在还在住院。", via="12345", urgent=True),

    # ── Everything else with a place: the covering station ──
    t("aircon-repair-community", "st-daliang-07", "买的空调安装后不制冷，售后一直推诿不上门维修。",
      event_address="大良街道新桂社区", business_name="某电器行"),
    t("phone-refurbished", "st-ronggui-10", "在家电城买的手机是翻新机，要求退货被拒。", event_address="容桂家电城",
      via="12315"),
    t("prepaid-gym-closed", "st-lecong-06", "健身房办了会员卡充值3000元，现在突然关门跑路。",
      event_address="乐从镇东平社区"),
    t("furniture-crack", "st-lecong-01", "在国际家具城买的实木餐桌一个月就开裂，商家不给换货。",
      event_address="乐从国际家具城", via="12315"),
    t("furniture-material", "st-longjiang-08", "家具材料城买的板材有刺鼻异味，怀疑甲醛超标。",
      event_address="龙江镇家具材料城", via="web"),
    t("woodworking-machine", "st-lunjiao-05", "在木工机械市场买的封边机用了三天就故障，商家拒绝保修。",
      event_address="伦教木工机械市场"),
    t("wedding-deposit", "st-leliu-05", "婚纱摄影收了定金后不履行合同，拒绝退还。", event_address="勒流新城广场",
      via="12315"),
    t("counterfeit-liquor", "st-xingtan-12", "逢简水乡景区商铺卖假酒，茅台是假冒的。", event_address="杏坛镇逢简村",
      kind="report"),
    t("short-weight-scale", "st-ronggui-01", "桂洲市场水果档电子秤有问题，缺斤少两。",
      event_address="容桂街道桂洲市场"),
    t("insult-by-staff", "st-daliang-05", "在天虹广场购物时被保安强制搜身，态度恶劣。", event_address="大良天虹广场"),
    t("courier-lost", "st-chencun-10", "网购的电饭煲快递丢失，商家和快递互相推诿。", event_address="陈村镇大都村"),
    t("area-code-community", "st-xingtan-19", "村口小卖部卖三无产品。", area_code="440606105228", kind="report"),
    t("area-code-village-in-address", "st-longjiang-16", "电动车维修店换的电池是次品，用一周就坏了。",
      event_address="龙江镇左滩村委会对面", via="12345"),
    t("business-address-only", "st-beijiao-09", "装修公司拖延工期，合同约定的地板也换成了次品。",
      business_name="某装饰工程有限公司", business_address="佛山市顺德区北滘镇君兰商业街12号", via="12315"),
    t("walk-in-visit", "st-junan-04", "消费者到站反映网购衣服起球掉色，商家不给退。", via="walk_in",
      walk_in_station="st-junan-04"),
    t("walk-in-beats-address", "st-daliang-01", "来站投诉：容桂的一家店卖的鞋子质量问题。", via="walk_in",
      walk_in_station="st-daliang-01", event_address="容桂街道振华商业街"),
    t("village-name-with-committee", "st-lunjiao-06", "羊额村委会旁边的药店卖过期口罩。", kind="report",
      event_address="伦教街道羊额村委会"),
    t("mall-food-court", "st-chencun-04", "锦龙广场美食城充值卡余额不给退。", event_address="陈村锦龙广场"),
    t("car-4s-shop", "st-daliang-15", "4S店新车交付时发现是维修过的车，要求退车。", event_address="大良五沙汽车城",
      via="12315"),
    t("education-refund", "st-beijiao-02", "辅导班退费难，孩子只上了两节课。", event_address="北滘镇碧江社区"),
    t("consultation-about-price", "st-ronggui-04", "想咨询一下商家不明码标价应该怎么处理？",
      event_address="容桂街道振华社区", kind="consultation"),
    t("help-dispute", "st-junan-09", "请求帮助调解与家电商家的保修纠纷。", event_address="均安镇天连村", kind="help"),
    t("text-mentions-place", "st-xingtan-06", "我在马齐市场买的热水器漏水，商家不理。", via="web"),
    t("same-name-other-town", "st-leliu-07", "勒流东风村一家五金店卖假冒插座。", kind="report"),
    t("same-name-right-town", "st-ronggui-06", "容桂东风社区一家服装店拒绝退换。", via="12315"),

    # ── Only the town is known: the town's branch ──
    t("town-only-address", "br-lecong", "买的沙发坐了两个月就塌陷，商家不给维修。", event_address="顺德区乐从镇",
      via="12315"),
    t("town-code-9", "br-ronggui", "网购耳机是假货，商家在本地发货。", area_code="440606006", via="12315"),
    t("town-short-name", "br-chencun", "陈村一家汽车维修店换了旧配件冒充新件。", kind="report"),
    t("town-with-street", "br-daliang", "大良街道清晖路一间手机店卖翻新机。", event_address="大良清晖路88号"),
    t("station-of-other-town", "br-daliang", "大良街道南华村一家小店卖的洗衣机质量差。",
      event_address="大良街道南华村"),
    t("town-12-digit-padded", "br-longjiang", "电器店不履行三包。", area_code="440606104000"),

    # ── Suggestions: the consumer-protection department ──
    t("suggestion-scales", "sd-amr-consumer", "建议在各农贸市场增设公平秤方便群众复秤。", kind="suggestion",
      event_address="大良新桂市场"),
    t("suggestion-prepaid", "sd-amr-consumer", "建议加强对美容院会员卡的管理。", kind="suggestion", via="web"),

    # ── No place: triage ──
    t("no-place-online", None, "网购的羽绒服质量差，平台客服不处理。", via="12315"),
    t("district-code-only", None, "手机维修后又坏了，店家不承认。", area_code="440606"),
    t("outside-shunde", None, "在广州市天河区买的电脑坏了，商家不给修。", event_address="广州市天河区体育西路"),
    t("heilongjiang-road", None, "黑龙江路一家店卖的电视机黑屏。", event_address="黑龙江路"),
    t("gas-leak-no-place", None, "家里燃气热水器燃气泄漏，安装公司不管。", via="12345", urgent=True),
]


@pytest.fixture(scope="module")
def dispatcher() -> Dispatcher:
    return Dispatcher.from_files(ROOT / "units.yaml", ROOT / "rules.yaml")


def test_the_table_is_big_enough():
    assert len(TICKETS) >= 60


@pytest.mark.parametrize("ticket, expect, urgent", TICKETS)
def test_ticket_goes_to_the_right_unit(dispatcher, ticket, expect, urgent):
    decision = dispatcher.decide(ticket)
    assert decision.unit_id == expect, (decision.reason, decision.trace, decision.place_method)
    assert decision.triage is (expect is None)
    assert decision.priority == ("urgent" if urgent else "normal"), decision.category
    assert decision.rule_id is not None
    assert decision.reason


@pytest.mark.parametrize("ticket, expect, urgent", TICKETS)
def test_explaining_gives_the_same_decision(dispatcher, ticket, expect, urgent):
    fast, explained = dispatcher.decide(ticket), dispatcher.decide(ticket, explain=True)
    assert (fast.unit_id, fast.rule_id, fast.category, fast.priority) == \
        (explained.unit_id, explained.rule_id, explained.category, explained.priority)
    decided = [step for step in explained.trace if step.matched]
    assert decided[-1].rule_id == fast.rule_id
    tried = [rule_id for rule_id, _, _ in explained.trace]
    all_ids = [r.id for r in dispatcher.rules_file.rules]
    assert tried == all_ids[: all_ids.index(fast.rule_id) + 1]
