"""Benchmark: median time of one dispatch decision (classify, place, rules) for 10 to 5,000 rules.

Run: python bench/bench_dispatch.py [--tickets N]. Uses the default units.yaml (143 stations); the
generated rules sit in front of the default rules.yaml, as a large installation's would. Each
generated rule names at least one keyword (a shop, a brand, a product), as real rules do; a rule
with no keyword, station or town in it is evaluated for every ticket and costs linearly.
"""
from __future__ import annotations

import argparse
import random
import statistics
import time
from pathlib import Path

import yaml

from dispatch import Dispatcher, TicketFacts, UnitDirectory

ROOT = Path(__file__).resolve().parents[1]

FIRST = "美华宏发永利金盛达信和兴隆鸿运嘉诚富源恒通新锐德顺丰泰创源锦绣明辉骏业佳联百汇万家"
SECOND = "记坊行号轩阁居苑堂铺"
TRADES = ["电器", "家具", "五金", "服饰", "食品", "酒楼", "汽修", "通讯", "美容", "建材"]
PRODUCTS = ["空调", "冰箱", "沙发", "衣柜", "手机", "电动车", "热水器", "床垫", "月饼", "奶粉"]
ISSUES = ["坏了不给修", "质量差要求退货", "收了定金不发货", "售后推诿", "以次充好", "起球掉色"]
PLACES = ["大良街道新桂社区", "容桂天佑城", "北滘镇美的广场", "乐从镇东平社区", "龙江镇世埠市场",
          "杏坛镇逢简村", "均安镇仓门社区", "陈村花卉世界", "伦教街道三洲社区", "勒流街道黄连社区", "", "顺德区"]
CHANNELS = [("12345-shunde", "12345"), ("12315-gd", "12315"), ("8180-shunde", "8180"), ("web-sdamr", "web")]


def shop_names(count: int, rng: random.Random) -> list[str]:
    names = {f"{a}{b}{trade}{s}" for a in FIRST[::2] for b in FIRST[1::2] for trade in TRADES for s in SECOND}
    pool = sorted(names)
    rng.shuffle(pool)
    return pool[:count]


def generated_rules(n: int, rng: random.Random, units: UnitDirectory) -> tuple[list[dict], list[str]]:
    shops = shop_names(2 * n, rng)
    targets = [u.id for u in units if u.kind in ("department", "branch", "station")]
    rules = []
    for i in range(n):
        shop, other = shops[2 * i], shops[2 * i + 1]
        shape = rng.random()
        if shape < 0.6:
            rule = {"when": {"keywords": {"any": [shop, other]}}, "assign": rng.choice(targets)}
        elif shape < 0.8:
            rule = {"when": {"keywords": {"all": [shop, rng.choice(PRODUCTS)]}, "town": rng.choice(units.towns())},
                    "assign_to": "covering_station"}
        elif shape < 0.9:
            rule = {"when": {"any": [{"keywords": {"any": [shop]}}, {"business": [shop]}]},
                    "assign": rng.choice(targets)}
        else:
            rule = {"when": {"keywords": {"any": [shop], "none": ["咨询"]}, "channel": rng.choice(CHANNELS)[0],
                             "not": {"kind": "consultation"}}, "set_priority": "urgent", "continue": True}
        rules.append({"id": f"gen-{i:05d}", **rule})
    return rules, shops


def tickets(count: int, shops: list[str], rng: random.Random) -> list[TicketFacts]:
    out = []
    for _ in range(count):
        channel, kind = rng.choice(CHANNELS)
        product, issue = rng.choice(PRODUCTS), rng.choice(ISSUES)
        shop = rng.choice(shops) if rng.random() < 0.5 else "某" + rng.choice(TRADES) + "店"
        text = f"本人于上月在{shop}购买{product}，{issue}，多次联系商家未果，请求有关部门处理，维护消费者合法权益。"
        out.append(TicketFacts(channel=channel, channel_kind=kind, kind=rng.choice(["complaint", "complaint", "report"]),
                               title=f"{product}{issue}", text=text, event_address=rng.choice(PLACES),
                               business_name=shop, amount=rng.choice([None, 299.0, 4999.0])))
    return out


def median_decision_us(dispatcher: Dispatcher, sample: list[TicketFacts], rounds: int = 3) -> float:
    clock = time.perf_counter_ns
    decide = dispatcher.decide
    for ticket in sample[:200]:
        decide(ticket)                      # warm up
    times = []
    for _ in range(rounds):
        for ticket in sample:
            start = clock()
            decide(ticket)
            times.append(clock() - start)
    return statistics.median(times) / 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=2000)
    args = parser.parse_args()
    units = UnitDirectory.from_file(ROOT / "units.yaml")
    default = yaml.safe_load((ROOT / "rules.yaml").read_text(encoding="utf-8"))["rules"]
    print(f"units: {len(units.of_kind('station'))} stations; default rules: {len(default)}; "
          f"tickets: {args.tickets} x 3 rounds")
    print(f"{'rules':>6} {'load ms':>9} {'median µs':>10} {'p90 µs':>8}")
    results = {}
    for n in (10, 100, 1000, 5000):
        rng = random.Random(n)
        rules, shops = generated_rules(n, rng, units)
        text = yaml.safe_dump({"rules": rules + default}, allow_unicode=True, sort_keys=False)
        start = time.perf_counter()
        dispatcher = Dispatcher.from_yaml(units, text, file=f"generated-{n}.yaml")
        load_ms = (time.perf_counter() - start) * 1000
        sample = tickets(args.tickets, shops, rng)
        results[n] = median_decision_us(dispatcher, sample)
        p90 = _p90(dispatcher, sample)
        print(f"{n:>6} {load_ms:>9.0f} {results[n]:>10.1f} {p90:>8.1f}")
    print(f"growth 100 → 5,000 rules: {results[5000] / results[100]:.2f}x (target ≤ 3x); "
          f"1,000 rules: {results[1000]:.1f} µs (target ≤ 50 µs)")


def _p90(dispatcher: Dispatcher, sample: list[TicketFacts]) -> float:
    clock = time.perf_counter_ns
    times = []
    for ticket in sample:
        start = clock()
        dispatcher.decide(ticket)
        times.append(clock() - start)
    return statistics.quantiles(times, n=10)[-1] / 1000


if __name__ == "__main__":
    main()
