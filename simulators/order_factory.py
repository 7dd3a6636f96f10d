"""Realistic 12345 work orders for the stand-in: complaints as Shunde's hotline receives them,
with addresses and area codes taken from the district's real division list."""
from __future__ import annotations

import csv
import random
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

DIVISIONS_CSV = Path(__file__).resolve().parent.parent / "dispatch" / "data" / "shunde-divisions.csv"

# Used only when the division list cannot be read, so the stand-in still runs on its own.
_FALLBACK_DIVISIONS = [
    ("440606005", "大良街道", "street", "440606"),
    ("440606006", "容桂街道", "street", "440606"),
    ("440606003", "伦教街道", "street", "440606"),
    ("440606005001", "金榜社区居委会", "community", "440606005"),
    ("440606006001", "容里社区居委会", "community", "440606006"),
    ("440606003001", "常教社区居委会", "community", "440606003"),
    ("440606003201", "永丰村委会", "village", "440606003"),
]

DISTRICT_CODE = "440606"
CITY_DISTRICT = "佛山市顺德区"


@dataclass(frozen=True)
class Place:
    town: str  # 大良街道, 北滘镇
    town_code: str  # 9 digits
    name: str  # 常教社区, 永丰村 (committee suffix stripped)
    code: str  # 12 digits


def place_name(committee: str) -> str:
    """常教社区居委会 → 常教社区; 永丰村委会 → 永丰村; 荔村村委会 → 荔村."""
    if committee.endswith("居委会"):
        return committee[: -len("居委会")]
    if committee.endswith("村委会"):
        name = committee[: -len("村委会")]
        return name if name.endswith("村") else name + "村"
    return committee


def load_places(path: Path = DIVISIONS_CSV) -> list[Place]:
    """Communities and villages with their town/street, from the division list."""
    try:
        with open(path, encoding="utf-8", newline="") as f:
            rows = [(r["code"], r["name"], r["level"], r["parent_code"]) for r in csv.DictReader(f)]
    except OSError:
        rows = _FALLBACK_DIVISIONS
    towns = {code: name for code, name, level, _ in rows if level in ("street", "town")}
    return [
        Place(towns[parent], parent, place_name(name), code)
        for code, name, level, parent in rows
        if level in ("community", "village") and parent in towns
    ]


ROADS = [
    "新民路", "人民路", "建设路", "文化路", "兴业路", "振华路", "东乐路", "环市路", "南国路",
    "德胜路", "新桂路", "凤翔路", "宝林路", "碧桂路", "顺峰路", "桂洲大道", "旧寨路", "跃进路",
    "工业大道", "府前路", "怡兴路", "锦华路", "朝阳路", "龙洲路", "幸福路", "青云路", "沿江路",
]
BRANDS = [
    "金利", "华美", "恒信", "佳和", "新城", "宏达", "美好", "悦动", "力健", "睿思", "博学", "万家福",
    "百佳", "顺联", "盈丰", "鸿运", "嘉禾", "名匠", "安居", "乐家", "星光", "尚品", "好运来", "优品",
    "惠民", "广源", "天诚", "立信", "满堂红", "聚福", "康乐", "雅诗", "伊美", "卓越", "智慧树", "小太阳",
]
SURNAMES = [
    "陈", "李", "黄", "梁", "何", "张", "王", "刘", "林", "罗", "周", "吴", "冯", "潘", "麦", "区",
    "欧阳", "谭", "邓", "苏", "卢", "郭", "杨", "曾", "叶", "胡", "钟", "关", "伍", "霍",
]
MOBILE_PREFIXES = [f"13{d}" for d in range(10)] + ["150", "151", "152", "153", "155", "156", "157",
                                                    "158", "159"] + [f"18{d}" for d in range(10)]

SHOP_KINDS = {
    "健身": ["健身会所", "健身俱乐部", "运动健身馆"],
    "美容": ["美容养生馆", "美容美体中心", "皮肤管理中心"],
    "培训": ["教育培训中心", "艺术培训学校", "英语培训中心", "托管辅导中心"],
    "超市": ["超市", "购物广场", "便利店"],
    "餐饮": ["餐饮店", "烧腊店", "快餐店", "奶茶店", "私房菜馆"],
    "装修": ["装饰工程有限公司", "装饰设计有限公司"],
    "手机": ["手机通讯店", "数码通讯器材店", "手机专卖店"],
    "汽修": ["汽车维修服务部", "汽车美容维修中心", "汽车服务有限公司"],
    "家电": ["电器商行", "家电有限公司", "空调安装服务部"],
    "市场": ["农贸市场", "肉菜市场"],
    "药店": ["大药房", "医药连锁店"],
}


def _cn_date(d: date) -> str:
    return f"{d.year}年{d.month}月{d.day}日"


class _Story:
    """Draws the variable parts of one complaint; `fill` formats a template with them."""

    def __init__(self, rng: random.Random, now: datetime, business: str, address: str):
        self.rng = rng
        recent = now - timedelta(days=rng.randint(1, 12))
        past = now - timedelta(days=rng.randint(40, 420))
        amount = rng.choice([1980, 2680, 3000, 3880, 4500, 5000, 6800, 8800, 12000, 19800])
        self.values = {
            "biz": business or "该商家",
            "addr": address,
            "recent": rng.choice(["昨天", "前天", f"{recent.month}月{recent.day}日", "本周一", "上周末"]),
            "past_date": _cn_date(past.date()),
            "amount": amount,
            "remain": amount - rng.randint(1, max(2, amount // 100)) * 50 if amount > 100 else amount,
            "small": rng.choice([38, 59.9, 89, 128, 168, 299]),
        }

    def fill(self, template: str, **extra) -> str:
        return template.format(**self.values, **extra)


# Each scenario: (weight, appeal type, shop kinds ("|"-separated) or None, titles, texts).
# Texts read like the hotline's own summaries: "来电人反映 … 来电人要求 …".
SCENARIOS = [
    (14, "投诉", "健身|美容|培训", [
        "预付卡商家闭店无法退款", "{biz}突然停业，会员卡余额无法退还", "办理的预付卡商家拒绝退余额",
    ], [
        "来电人反映，其于{past_date}在位于{addr}的{biz}办理了一张预付卡，充值{amount}元，目前剩余约{remain}元未消费。"
        "{recent}前往消费时发现该商家已关门停业，门口张贴转让告示，联系负责人电话无人接听。"
        "来电人认为商家涉嫌卷款跑路，要求相关部门核实处理，协助退还剩余款项。",
        "来电人反映，其在{biz}（地址：{addr}）办理会员卡，充值{amount}元。近期商家以“门店装修升级”为由暂停营业，"
        "至今未恢复，也未给出退款方案。同一情况的会员有数十人。来电人要求商家退还卡内余额。",
    ]),
    (9, "投诉", "超市", [
        "超市销售过期食品", "在{biz}购买的{food}已过保质期", "购买到变质食品，商家拒绝赔偿",
    ], [
        "来电人反映，{recent}在{addr}的{biz}购买了{food}，回家后发现该商品已过保质期{days}天。"
        "来电人与商家协商，商家只同意退货，不同意赔偿。来电人要求商家按照食品安全法规定给予赔偿，"
        "并要求监管部门查处该商家销售过期食品的行为。",
    ]),
    (8, "投诉", "餐饮", [
        "外卖食品中吃出异物", "外卖商家无实体店经营", "外卖食品变质导致身体不适",
    ], [
        "来电人反映，{recent}通过外卖平台在{biz}点了{dish}，食用时发现{foreign}，食用后出现腹泻症状。"
        "来电人联系商家，商家态度恶劣，拒绝处理。来电人要求相关部门核查该商家的卫生状况，并督促商家赔偿医药费。",
        "来电人反映，其在外卖平台上点餐的{biz}，平台登记地址为{addr}，但来电人到现场查看并无该店铺，"
        "怀疑商家无实体店、无证经营。来电人要求相关部门核实查处。",
    ]),
    (7, "投诉", "装修", [
        "装修公司拖延工期并要求加价", "装修工程质量差，商家拒绝返工",
    ], [
        "来电人反映，其于{past_date}与{biz}签订家庭装修合同，合同金额{amount}元，约定工期60天。"
        "目前已超期{days}天仍未完工，且施工方以材料涨价为由要求增加费用，否则停工。"
        "来电人要求商家按合同履行并赔偿延期损失。",
        "来电人反映，{biz}为其位于{addr}的住宅进行装修，完工后发现卫生间渗水、墙面开裂。"
        "来电人多次要求返工维修，商家一直推诿。来电人要求相关部门协调处理。",
    ]),
    (8, "投诉", "手机", [
        "新买手机出现质量问题商家拒绝退换", "手机店以旧充新", "手机维修被调换原装配件",
    ], [
        "来电人反映，{recent}在{addr}的{biz}购买了一部手机，价格{amount}元，使用不到{days}天即出现{fault}等问题。"
        "来电人要求退货，商家称手机已激活不能退换，只同意送厂维修。来电人认为商家违反三包规定，要求协调退换货。",
        "来电人反映，其在{biz}购买的“全新”手机，回家查询激活日期为半年前，怀疑为翻新机。"
        "来电人要求商家退一赔三，商家拒绝。",
    ]),
    (7, "投诉", "培训", [
        "培训机构拒绝退还剩余课时费", "校外培训机构突然停课",
    ], [
        "来电人反映，其为孩子在{biz}报读了{course}课程，共48节课，缴费{amount}元，已上{days}节。"
        "因机构频繁更换老师、教学质量差，来电人申请退费，机构以合同约定“一经报名概不退费”为由拒绝退还剩余课时费。"
        "来电人认为该条款属于霸王条款，要求协调退费。",
    ]),
    (6, "投诉", "健身", [
        "健身房私教课退费难", "健身房推销私教课程态度强硬",
    ], [
        "来电人反映，其于{past_date}在{biz}购买了私教课程，费用{amount}元。因身体原因无法继续上课，"
        "申请退还未上课时费用，商家要求扣除50%违约金。来电人认为不合理，要求相关部门协调。",
    ]),
    (8, "投诉", "超市", [
        "超市商品标价与结算价格不一致", "{biz}结账多收钱",
    ], [
        "来电人反映，{recent}在{biz}购买{goods}，货架标价{small}元，结账时实际收取的价格比标价高出不少。"
        "来电人向收银员反映，对方称价签未及时更换。来电人认为商家涉嫌价格欺诈，要求相关部门查处。",
    ]),
    (6, "投诉", "美容", [
        "美容院诱导消费办卡", "美容项目效果与宣传不符",
    ], [
        "来电人反映，{recent}在{biz}做免费皮肤检测时，被工作人员以“皮肤问题严重”为由反复推销，"
        "诱导其办理{amount}元的护理套餐并当场刷卡。来电人事后认为受到误导，要求退款，商家拒绝。"
        "来电人要求相关部门介入调查商家诱导消费行为。",
    ]),
    (6, "投诉", "汽修", [
        "汽车维修收费不透明", "汽修店更换配件以次充好",
    ], [
        "来电人反映，其车辆于{recent}送至{biz}（{addr}）进行{service}，事前报价约为{small}元，"
        "取车时被告知需支付{amount}元，商家未提供维修清单及更换配件明细，且拒绝返还更换下来的旧配件。"
        "来电人怀疑商家虚增项目、以次充好，要求查处。",
    ]),
    (4, "投诉", "家电", [
        "空调安装另收高额材料费", "家电送货延误且拒绝退订",
    ], [
        "来电人反映，{recent}在{biz}购买空调，商家承诺免费安装，安装师傅上门后以铜管、支架等材料为由另收费用{small}元，"
        "收费标准未事先告知。来电人要求退还不合理收费。",
    ]),
    (5, "举报", "餐饮|市场|药店|美容", [
        "举报{biz}无证经营", "举报商家虚假宣传", "举报菜市场商贩电子秤作弊", "举报商家销售假冒品牌商品",
    ], [
        "来电人举报，位于{addr}的{biz}未悬挂营业执照，怀疑无证无照经营，且店内卫生条件差。要求相关部门核查。",
        "来电人举报，{addr}的{biz}在店门口宣传“疗效显著、无效退款”，来电人认为其涉嫌虚假宣传，要求查处。",
        "来电人举报，{recent}在{biz}购买猪肉，回家复秤发现短斤少两，怀疑商贩电子秤被改装作弊。要求相关部门检查该市场的计量器具。",
    ]),
    (6, "咨询", None, [
        "咨询预付卡退款维权途径", "咨询网购商品七天无理由退货规定", "咨询个体工商户营业执照办理流程",
        "咨询食品经营许可证办理条件",
    ], [
        "来电人咨询：在商家办理的预付卡，商家停业后应如何维权，需要准备哪些材料。",
        "来电人咨询：网上购买的商品已拆封，商家是否可以拒绝七天无理由退货。",
        "来电人咨询：在{town}开办个体商店，办理营业执照需要哪些材料、在哪里办理。",
    ]),
    (4, "求助", None, [
        "老人购买高价保健品求助退款", "商家拒不退还押金求助",
    ], [
        "来电人反映，其父亲年近八十，{recent}在{addr}参加所谓“健康讲座”后，花费{amount}元购买了保健品。"
        "家人认为商家利用老人不懂行情高价推销，求助相关部门协助退款。",
        "来电人反映，其在{biz}租用物品时交了押金{small}元，归还后商家以各种理由拖延不退。来电人求助协调。",
    ]),
    (2, "建议", None, [
        "建议加强农贸市场计量器具检查", "建议规范校外培训机构预付费管理",
    ], [
        "来电人建议：近期{town}多个农贸市场存在短斤缺两现象，建议相关部门定期抽查电子秤，并在市场设置公平秤。",
        "来电人建议：校外培训机构预收费用过高，建议推行预付费资金监管，防止机构关门后家长无法退费。",
    ]),
]

_EXTRAS = {
    "food": ["牛奶", "面包", "酸奶", "火腿肠", "饼干", "速冻饺子", "婴儿米粉", "月饼", "肉松"],
    "dish": ["鸡腿饭", "烧鹅饭", "米线", "双皮奶", "炒河粉", "猪脚饭"],
    "foreign": ["头发", "塑料片", "一只虫子", "钢丝球碎屑"],
    "fault": ["自动关机", "屏幕闪烁", "无法充电", "信号很差"],
    "course": ["美术", "钢琴", "英语", "舞蹈", "编程"],
    "goods": ["食用油", "大米", "洗衣液", "鸡蛋", "奶粉"],
    "service": ["保养", "更换刹车片", "空调维修", "钣金喷漆"],
}

# Working days the hotline gives each kind of appeal before the unit must answer.
_DEADLINE_DAYS = {"投诉": 10, "举报": 10, "咨询": 3, "求助": 5, "建议": 15}
_URGENCY = [("一般", 88), ("紧急", 10), ("特急", 2)]


def add_working_days(start: datetime, days: int) -> datetime:
    """`days` weekdays after `start` (the stand-in ignores public holidays), at 18:00."""
    d = start
    while days > 0:
        d += timedelta(days=1)
        if d.weekday() < 5:
            days -= 1
    return d.replace(hour=18, minute=0, second=0, microsecond=0)


def iso(dt: datetime) -> str:
    return dt.isoformat(timespec="seconds")


class OrderFactory:
    """Makes work orders; `rng` drives every choice, so a seed gives the same orders."""

    def __init__(self, rng: random.Random, places: list[Place] | None = None):
        self.rng = rng
        self.places = places if places is not None else load_places()
        self._weights = [s[0] for s in SCENARIOS]

    def phone(self) -> str:
        return self.rng.choice(MOBILE_PREFIXES) + f"{self.rng.randrange(10**8):08d}"

    def caller(self) -> str:
        if self.rng.random() < 0.12:
            return ""  # anonymous
        return self.rng.choice(SURNAMES) + self.rng.choice(["女士", "先生"])

    def address(self, place: Place) -> str:
        street = f"{self.rng.choice(ROADS)}{self.rng.randint(1, 188)}号"
        tail = self.rng.choice([
            "", "", f"{self.rng.randint(1, 3)}楼", f"首层{self.rng.randint(1, 30)}号铺",
            f"{self.rng.choice(BRANDS)}广场{self.rng.randint(1, 4)}楼",
        ])
        return f"{CITY_DISTRICT}{place.town}{place.name}{street}{tail}"

    def business(self, kinds: str, place: Place) -> str:
        kind = self.rng.choice(SHOP_KINDS[self.rng.choice(kinds.split("|"))])
        brand = self.rng.choice(BRANDS)
        if kind.endswith("有限公司"):
            return f"佛山市顺德区{brand}{kind}"
        return f"{place.town[:2]}{brand}{kind}"

    def area_code(self, place: Place) -> str:
        return self.rng.choices([place.code, place.town_code, DISTRICT_CODE], [5, 3, 2])[0]

    def order(self, gdbh: str, now: datetime) -> dict:
        """One well-formed order, received a little before `now` and not yet signed."""
        rng = self.rng
        _, sqlx, kinds, titles, texts = SCENARIOS[rng.choices(range(len(SCENARIOS)), self._weights)[0]]
        place = rng.choice(self.places)
        address = self.address(place)
        business = self.business(kinds, place) if kinds else ""
        story = _Story(rng, now, business, address)
        extras = {name: rng.choice(options) for name, options in _EXTRAS.items()}
        extras["days"] = rng.randint(2, 30)
        extras["town"] = place.town
        received = (now - timedelta(minutes=rng.randint(3, 90), seconds=rng.randint(0, 59))).replace(microsecond=0)
        urgency = rng.choices([u for u, _ in _URGENCY], [w for _, w in _URGENCY])[0]
        days = {"一般": _DEADLINE_DAYS[sqlx], "紧急": 2, "特急": 1}[urgency]
        attachments = []
        if rng.random() < 0.2:
            attachments = [{"MC": f"现场照片{i}.jpg", "URL": f"https://files.12345.example/fj/{gdbh}/{i}.jpg"}
                           for i in range(1, rng.randint(2, 4))]
        return {
            "GDBH": gdbh,
            "LDSJ": iso(received),
            "GXSJ": iso(now),
            "LDRXM": self.caller(),
            "LDHM": self.phone(),
            "SQLX": sqlx,
            "BT": story.fill(rng.choice(titles), **extras),
            "SQNR": story.fill(rng.choice(texts), **extras),
            "SFDZ": address,
            "QYDM": self.area_code(place),
            "BSQYMC": business,
            "JJCD": urgency,
            "BLSX": iso(add_working_days(received, days)),
            "ZT": "待签收",
            "FJ": attachments,
        }

    def malformed(self, gdbh: str, now: datetime, variant: int) -> dict:
        """An order that breaks the contract in one of the ways real feeds do."""
        record = self.order(gdbh, now)
        kind = variant % 4
        if kind == 0:
            del record["GDBH"]
        elif kind == 1:
            record["LDSJ"] = self.rng.choice(["2026年11月22日上午", "N/A", "", "32/13/2026 25:61"])
        elif kind == 2:
            record["GXSJ"] = self.rng.choice(["0000-00-00 00:00:00", "yesterday", "2026-13-45T99:99:99"])
        else:
            record["GDBH"] = ""
            record["BLSX"] = "待定"
        return record
