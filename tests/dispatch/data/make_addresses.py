"""Write addresses.yaml: Shunde addresses and complaint texts written the many ways people write them, each with the
station, the town or the triage it must reach. Re-run after changing the places of units.yaml:

    python tests/dispatch/data/make_addresses.py

The communities and villages are those of the official divisions (units.yaml is generated from them), the markets
and malls those of units.yaml; house numbers, roads and the complaints are made up. The traps at the end are
written by hand. `why` says what an entry tests; for a triage it says why no station is the right answer.
"""
from __future__ import annotations

import random
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]

# Names distinctive enough that, written alone without 社区/村 and without the town, they still name one place.
DISTINCT = {"近良", "府又", "苏岗", "穗香", "扁滘", "羊额", "熹涌", "霞石", "鸡洲", "仕版", "勒北", "扶闾", "稔海",
            "众涌", "连杜", "冲鹤", "勒竹", "赤花", "弼教", "仙涌", "绀现", "潭洲", "槎涌", "三洪奇", "葛岸", "良教",
            "岳步", "路州", "杨滘", "罗沙", "旺岗", "沙富", "集北", "官田", "麦朗", "西庆", "左滩", "桑麻", "高赞",
            "海凌", "吉祐", "古朗", "昌教", "西登", "路涌", "右滩", "仓门", "鹤峰", "星槎", "沙浦", "天连", "逢简",
            "吕地", "雁园", "罗水", "齐杏", "马齐", "坦西", "苏溪", "陈涌", "世埠", "碧江", "林头", "广教", "细滘",
            "上佳市", "小黄圃", "大福基", "龙涌口", "马冈", "上僚", "西滘", "新华西"}

# Roads that name no place: for addresses a town decides.
ROADS = ["建设路", "人民路", "工业路", "环市路", "创业路", "文明路", "和平路", "健康路", "教育路", "商业街"]

# What went wrong, for the complaint texts (none names a price, an advertisement or a lift: those rules decide
# by subject, not by place).
WRONGS = ["买的电水壶用了三天就不通电，店家不给换", "买的衣服洗一次就掉色，店家不理", "修手机换了个屏幕，两天后又黑屏",
          "办的理发卡，店突然关门找不到人", "买的电动车电池充不进电，店家推给厂家", "订的家具到货有裂缝，商家拖着不处理"]

# Traditional forms of the characters that occur here, to write some addresses the Hong Kong or Taiwan way.
TRAD = dict(zip("顺区镇乐龙伦陈华丰鸡涌鹤东风广场义闾连云门苏岗兴马齐简贵边黄头滩万汇贤红胜卫细罗劳宁吕麦赞旧联辉锦号楼会员",
                "順區鎮樂龍倫陳華豐雞湧鶴東風廣場義閭連雲門蘇崗興馬齊簡貴邊黃頭灘萬匯賢紅勝衛細羅勞寧呂麥贊舊聯輝錦號樓會員"))
FULL = str.maketrans("0123456789", "０１２３４５６７８９")


def trad(text: str) -> str:
    return "".join(TRAD.get(c, c) for c in text)


def short(town: str) -> str:
    for suffix in ("街道", "镇"):
        if town.endswith(suffix):
            return town[: -len(suffix)]
    return town


def core(name: str, kind: str) -> str:
    """近良社区 → 近良, 东风村 → 东风, 荔村 stays 荔村 (one character would be left)."""
    suffix = "社区" if kind == "community" else "村"
    return name[: -len(suffix)] if name.endswith(suffix) and len(name) - len(suffix) >= 2 else name


def number(rng: random.Random) -> str:
    return rng.choice([f"{rng.randint(1, 98)}号", f"{rng.randint(1, 30)}巷{rng.randint(1, 20)}号",
                       f"{rng.randint(1, 12)}座{rng.randint(101, 1808)}", f"{rng.randint(1, 60)}号之{rng.randint(1, 6)}"])


def entries() -> list[dict]:
    rng = random.Random(16)
    units = yaml.safe_load((ROOT / "units.yaml").read_text(encoding="utf-8"))["units"]
    out: list[dict] = []

    def add(expect: str, why: str, **facts: str) -> None:
        out.append({**facts, "expect": expect, "why": why})

    turn = 0
    for unit in units:
        if unit["kind"] != "station":
            continue
        town, sid = unit["town"], unit["id"]
        s = short(town)
        for place in unit.get("covers", []):
            kind = place.get("kind", "other")
            written = place.get("alias") or place["name"]
            n = number(rng)
            if kind in ("community", "village"):
                c = core(written, kind)
                ways = [
                    (f"广东省佛山市顺德区{town}{place['name']}{n}", "the official way"),
                    (f"{s}{written}{n}", "the town short, the place with 社区/村"),
                    (f"顺德{s} {c} {n}", "the place without 社区/村, spaced"),
                    (trad(f"佛山市顺德区{s}{written}{n}"), "traditional characters"),
                    (f"{s}　{written}　{n.translate(FULL)}", "full-width spaces and digits"),
                    (f"顺德区{written}{n}", "no town: the place with its suffix"),
                ]
                if town.endswith("街道"):
                    ways.append((f"{s}镇{written}{n}", "the street under its old name (镇)"))
                if kind == "community":
                    ways.append((f"{s}{c}居委{n}", "居委 for 社区居委会"))
                picked = [ways[turn % len(ways)], ways[(turn + 3) % len(ways)]]
                turn += 1
                for address, why in picked:
                    if c == s and f" {c} " in address:
                        # 乐从 without 社区 is the town's own name: the town is all it says
                        add(town, "the community named like its town, without 社区: only the town", address=address)
                    else:
                        add(sid, why, address=address)
                if c in DISTINCT and c != written:
                    add(sid, "a distinctive name alone, no town, no suffix", address=f"{c}{number(rng)}")
            else:
                ways = [(f"{place['name']}{rng.randint(1, 3)}楼{rng.randint(1, 90)}号铺", "a market or mall by its name")]
                if place.get("alias"):
                    ways.append((f"{place['alias']}{rng.randint(1, 200)}号档", "a market or mall, no town"))
                for address, why in ways:
                    add(sid, why, address=address)
                add(sid, "named only in the complaint's text",
                    text=f"上周在{place.get('alias') or place['name']}{rng.choice(WRONGS)}。")

    # Towns alone, in their many forms: the town's branch decides.
    for unit in units:
        if unit["kind"] != "branch":
            continue
        town, s = unit["town"], short(unit["town"])
        road = rng.choice(ROADS)
        add(town, "a town and a road no gazetteer knows", address=f"佛山市顺德区{town}{road}{number(rng)}")
        add(town, "the town short and a road", address=f"{s}{rng.choice(ROADS)}{number(rng)}")
        add(town, "the town alone in the complaint's text", text=f"我在{s}一家店{rng.choice(WRONGS)}。")
    return out + TRAPS + WRITTEN


def _t(expect: str, why: str, **facts: str) -> dict:
    return {**facts, "expect": expect, "why": why}


TRAPS = [
    # A name two towns share: the town tells them apart, the suffix may; alone, no guess.
    _t("triage", "东风 is a community of 容桂 and a village of 勒流; no town given", address="东风12号"),
    _t("triage", "南华 is a community of 大良 and a village of 杏坛; no town given", address="南华3巷5号"),
    _t("triage", "东风, no town, spaced", address="顺德区 东风 8号"),
    _t("st-ronggui-06", "东风 with its town", address="容桂东风12号"),
    _t("st-ronggui-06", "东风 with its town, full name", address="佛山市顺德区容桂街道东风社区居委会"),
    _t("st-leliu-07", "东风 with its town", address="勒流 东风 3号"),
    _t("st-leliu-07", "东风村: the suffix says the village", address="东风村委会旁"),
    _t("st-ronggui-06", "东风社区: the suffix says the community", address="东风社区12号"),
    _t("st-daliang-08", "南华 with its town", address="大良南华5号"),
    _t("st-xingtan-19", "南华 with its town", address="杏坛南华18号"),
    _t("st-xingtan-19", "南华村: the suffix says the village", address="南华村"),
    _t("st-daliang-08", "南华社区: the suffix says the community", address="南华社区居委会"),
    _t("大良街道", "南华村 is in 杏坛, the address says 大良: the town is sure, the station is not",
       address="大良街道南华村"),
    # Everyday words that are also place names: only beside their town.
    _t("triage", "幸福 is an everyday word; alone it names no place", address="幸福3号"),
    _t("triage", "朝阳 is an everyday word; alone it names no place", address="朝阳8号"),
    _t("triage", "碧桂园 is a developer's name everywhere; alone it names no place", address="碧桂园12座"),
    _t("triage", "红星 is an everyday word; alone it names no place", address="红星12号"),
    _t("triage", "新华 is an everyday word (均安 has a 新华 community, 龙江 a 新华西 village)", address="新华5号"),
    _t("triage", "太平 is an everyday word; alone it names no place", address="太平3巷2号"),
    _t("triage", "光大 is an everyday word; alone it names no place", address="光大8号"),
    _t("st-junan-07", "新华 beside its town", address="均安新华5号"),
    _t("st-junan-08", "太平 beside its town", address="均安太平村3巷2号"),
    _t("st-ronggui-12", "幸福 beside its town", address="容桂幸福12号"),
    _t("st-ronggui-07", "朝阳 beside its town", address="容桂朝阳社区8号"),
    _t("st-beijiao-07", "碧桂园 beside its town", address="北滘碧桂园社区"),
    _t("容桂街道", "幸福路 is a road, not the community 幸福: the town decides", address="容桂幸福路12号"),
    # A place whose name stands inside a longer name is not taken for it.
    _t("triage", "升平路 is a road named 升平, not the community", address="升平路5号"),
    _t("大良街道", "升平路 in 大良: the town decides, not the community 升平", address="大良升平路5号"),
    _t("triage", "薄荷村 is not 荷村", address="薄荷村3号"),
    _t("triage", "黑龙江路 is not 龙江", address="黑龙江路12号"),
    _t("龙江镇", "黑龙江路 in 龙江镇: the town, not by the road's name", address="龙江镇黑龙江路8号"),
    _t("st-xingtan-15", "马东村 is not 东村", address="杏坛马东村"),
    _t("st-xingtan-18", "东村 itself", address="杏坛东村5号"),
    _t("st-longjiang-11", "新华西村 is not 新华 of 均安", address="龙江新华西村"),
    _t("st-lecong-06", "东平新城 is 乐从's, not 勒流's 新城", address="乐从东平新城8座"),
    _t("st-lecong-06", "东平新城 alone", address="东平新城12座"),
    # Outside Shunde: another district of Foshan, another city; triage with the reason, whatever word follows.
    _t("triage", "南海区, another district of Foshan", address="佛山市南海区桂城街道南海大道北8号"),
    _t("triage", "南海 in front: the district", address="南海大沥镇建设路3号"),
    _t("triage", "禅城区, another district", address="佛山市禅城区祖庙街道人民路12号"),
    _t("triage", "三水区, another district", address="佛山市三水区西南街道健康路3号"),
    _t("triage", "高明区, another district", address="佛山市高明区荷城街道8号"),
    _t("triage", "桂城 (南海) in front", address="桂城千灯湖12号"),
    _t("triage", "广州市, with a road named 东风 (容桂 and 勒流 have 东风)", address="广州市越秀区东风中路300号"),
    _t("triage", "广州 in front, with 天河", address="广州天河区体育西路8号"),
    _t("triage", "番禺区 of 广州", address="广州市番禺区市桥街道繁华路2号"),
    _t("triage", "中山市, a road named 升平", address="中山市小榄镇升平路12号"),
    _t("triage", "江门市", address="江门市新会区会城街道8号"),
    _t("triage", "深圳市", address="深圳市南山区科技园8栋"),
    _t("triage", "东莞市", address="东莞市长安镇建设路3号"),
    _t("triage", "珠海市", address="广东省珠海市香洲区人民路5号"),
    _t("triage", "another district of Foshan, spaced and in traditional characters", address="佛山市 南海區 大瀝鎮"),
    _t("triage", "an outside event address decides, whatever the complaint's text names",
       address="佛山市南海区大沥镇", text="在容桂天佑城的分店也是这样。"),
    _t("triage", "里水镇 of 南海", address="佛山市南海区里水镇建设路2号"),
    _t("triage", "清远市", address="清远市清城区人民路8号"),
    _t("triage", "肇庆市", address="肇庆市端州区8号"),
    _t("triage", "中山市, a road named 东风", address="广东省中山市东凤镇东风路3号"),
    _t("triage", "南海 in front, its town 九江", address="南海九江镇8号"),
    _t("triage", "石湾 of 禅城 in front", address="石湾镇街道健康路3号"),
    _t("triage", "南海区 in the business address, nothing in Shunde named", business_address="佛山市南海区桂城街道8号"),
    # Shunde addresses that name a road after a city are still in Shunde.
    _t("大良街道", "南海路 in 大良: the town comes first", address="顺德区大良南海路3号"),
    _t("容桂街道", "广州路 in 容桂", address="容桂广州路8号"),
    # Named only in the text, without the town or the suffix: too weak to send a station on its own.
    _t("triage", "a bare name in the complaint's text only (0.46 < 0.5)", text="听说近良那边也有人遇到这种事。"),
    _t("triage", "nothing named at all", text="网购的羽绒服质量差，平台客服不处理。"),
    _t("triage", "the district alone", address="佛山市顺德区"),
    # The division code or the business address may decide.
    _t("st-daliang-14", "a 12-digit code", area_code="440606005015", address="顺德区某某路3号"),
    _t("龙江镇", "a 9-digit code and a road", area_code="440606104", address="人民路8号"),
    _t("st-longjiang-06", "a 9-digit code refined by a market", area_code="440606104", address="世埠市场对面"),
    _t("st-beijiao-09", "the business address, the event address empty", business_address="北滘镇君兰商业街12号"),
    _t("st-lunjiao-06", "a village of two characters with its suffix", address="在荔村买的"),
    _t("st-lecong-15", "良村 with its town", address="乐从良村8号"),
]


# As hotline operators and web forms write them: a place in a longer address or sentence, house and shop numbers,
# roads the gazetteer does not know. Where a road or a building is the only clue, the town's branch is the answer.
WRITTEN = [
    _t("st-daliang-03", "a market inside a longer address", address="顺德区大良街道碧鉴路8号金榜市场内12档"),
    _t("st-ronggui-16", "a mall after a road no gazetteer knows", address="容桂街道容奇大道东38号天佑城二楼205"),
    _t("北滘镇", "美的大道 is a road, 美的广场 is not named", address="北滘镇美的大道6号"),
    _t("st-lecong-01", "乐从大道 then the furniture city", address="乐从镇乐从大道国际家具城东区A座"),
    _t("st-longjiang-01", "a community then a road", address="龙江镇龙江社区人民北路5号"),
    _t("st-chencun-07", "花城大道 is a road; 花卉世界 decides", address="陈村镇花城大道花卉世界3期"),
    _t("st-xingtan-12", "a scenic area", address="杏坛镇逢简水乡景区内"),
    _t("st-junan-03", "a market with its area", address="均安镇均安牛仔城B区"),
    _t("st-lunjiao-02", "a community and its industrial area", address="伦教街道三洲社区工业区"),
    _t("st-leliu-02", "a community and a road", address="勒流街道黄连社区市场路"),
    _t("大良街道", "新桂路 is a road named 新桂, not the community", address="大良新桂路"),
    _t("st-ronggui-18", "a market named in the operator's words", text="来电人称在容桂华口市场一档口买到的电热水壶漏电，要求退货。"),
    _t("杏坛镇", "马齐村 is not a division (马齐 is a community): the town decides", text="市民反映杏坛镇马齐村有商家卖的电饭煲坏了不给修。"),
    _t("st-beijiao-09", "a shop in a commercial street", address="北滘君兰商业街B12铺"),
    _t("st-daliang-05", "a mall, floor and shop", address="大良天虹广场负一楼B105"),
    _t("st-daliang-13", "a mall without the town", address="万汇广场3楼"),
    _t("st-ronggui-13", "a mall with a long name", address="红旗购物广场一楼"),
    _t("st-lecong-06", "a mall with the district", address="顺德区乐从东平新城购物中心L2"),
    _t("st-lecong-07", "a market without the town", address="钢铁世界C区18号"),
    _t("st-longjiang-08", "a market, town spaced", address="龙江 家具材料城 三期"),
    _t("st-lunjiao-05", "a market named in the text", text="在伦教木工机械市场订的封边机到货就坏，商家不理。"),
    _t("st-beijiao-10", "the design city", address="北滘广东工业设计城5座"),
    _t("st-chencun-04", "a mall in the text with the town", text="陈村锦龙广场里的一家服装店衣服掉色，不给退。"),
    _t("st-junan-04", "a mall", address="均安天湖广场"),
    _t("st-xingtan-01", "a market with the district and the town", address="佛山市顺德区杏坛镇齐杏市场"),
    _t("st-daliang-16", "a village, house number with a letter", address="大良街道古鉴村东便街8A"),
    _t("st-ronggui-19", "a village with 村委 and a team", address="容桂穗香村委会五队"),
    _t("st-leliu-11", "江村 is a village of 勒流", address="勒流江村"),
    _t("st-beijiao-11", "莘村 with its town", address="北滘莘村10号"),
    _t("st-beijiao-13", "高村 with its town", address="北滘镇高村大街3号"),
    _t("triage", "高村 alone, after a verb: not a place", text="物价提高村民意见很大。"),
    _t("st-lecong-18", "a village of 乐从, in traditional characters", address="樂從鎮羅沙村"),
    _t("st-xingtan-18", "东村 spaced with its town", address="杏坛 东村 9号"),
    _t("st-longjiang-16", "a village of 龙江", address="龙江镇左滩村"),
    _t("st-ronggui-02", "上佳市 with its market", address="容桂上佳市市场门口"),
    _t("容桂街道", "a road only", address="容桂街道桂洲大道中88号"),
    _t("龙江镇", "a road only, the town short", address="龙江325国道旁"),
    _t("均安镇", "a road only", address="均安镇均安大道8号"),
    _t("triage", "a mobile number and no place", text="联系人电话13800001111，商家不退款。"),
    _t("triage", "an online shop", text="在网上买的手机是翻新机，平台不处理。"),
]


def main() -> None:
    data = entries()
    header = ("# Shunde addresses and complaint texts, as people write them, with the station, the town (its branch "
              "decides)\n# or the triage each must reach. Written by tests/dispatch/data/make_addresses.py; "
              "`why` says what an entry tests.\n")
    text = yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=200)
    (HERE / "addresses.yaml").write_text(header + text, encoding="utf-8")
    print(f"{len(data)} entries")


if __name__ == "__main__":
    main()
