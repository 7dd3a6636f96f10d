"""Addresses as people type them, brought to one form before the gazetteer reads them.

Full-width letters and digits become half-width, spaces and separators go, and the traditional characters that
occur in Shunde's place names and in the words of an address become simplified.
"""
from __future__ import annotations

import re
import unicodedata

# Traditional → simplified, for the characters of Shunde's towns, communities, villages, markets and malls, of
# the neighbouring places an address may name, and of the words around them (区, 镇, 号, 楼 ...). Written for
# this gazetteer; a character missing here only costs a match, it never makes a wrong one.
_T2S_PAIRS = (
    "順顺 德德 區区 鎮镇 樂乐 龍龙 倫伦 陳陈 滘滘 華华 豐丰 雞鸡 湧涌 鶴鹤 東东 風风 廣广 場场 義义 閭闾 連连 雲云 門门 "
    "蘇苏 崗岗 興兴 園园 馬马 齊齐 簡简 橋桥 貴贵 邊边 黃黄 莊庄 頭头 灘滩 萬万 匯汇 滙汇 賢贤 機机 鋼钢 鐵铁 紅红 勝胜 "
    "衛卫 細细 岡冈 羅罗 勞劳 閘闸 寧宁 呂吕 麥麦 贊赞 舊旧 圍围 壩坝 聯联 輝辉 錦锦 亞亚 蘭兰 會会 員员 號号 樓楼 "
    "廈厦 層层 業业 設设 計计 際际 傢家 購购 產产 實实 經经 濟济 鄉乡 縣县 廳厅 處处 總总 舖铺 鋪铺 檔档 條条 裡里 裏里 "
    "禪禅 莞莞 臺台 灣湾 鳳凤 遠远 韶韶 潮潮 陽阳 慶庆 錫锡 圳圳 門门 嶺岭 陸陆 鹽盐 靈灵 寶宝 鴻鸿 綠绿 潤润 億亿 "
    "凱凯 閣阁 盧卢 楊杨 劉刘 鄧邓 吳吴 孫孙 開开 發发 廠厂 電电 動动 車车 飯饭 館馆 營营 點点 無无 從从 鍾钟 鐘钟 "
    "歡欢 與与 對对 時时 後后 這这 個个 們们 為为 過过 還还 熱热 氣气 壞坏 質质 騙骗 題题 問问 燈灯 費费 說说 價价 "
    "買买 賣卖 貨货 報报 訴诉 錢钱 線线 藥药 醫医 院院 學学 館馆 軍军 農农 漁渔 灣湾 橫横 嶼屿 島岛 岸岸 灣湾 環环 "
    "竇窦 鄰邻 雙双 邨村 巿市 張张 謝谢 葉叶 鄭郑 歐欧 區区 廣广 穩稳 禮礼 標标 辦办 應应 單单 滿满 變变 廟庙 槓杠 "
    "鮮鲜 魚鱼 肉肉 蝦虾 餅饼 麵面 館馆 鍋锅 燒烧 飲饮 檯台 帶带 當当 來来 這这 說说 讓让 聽听 遊游 戲戏 灣湾 於于"
)
_T2S = str.maketrans({pair[0]: pair[1] for pair in _T2S_PAIRS.split() if pair[0] != pair[1]})

# Whitespace of every width and the separators people put between the parts of an address.
_GAPS = re.compile(r"[\s\u3000\u00a0\u200b\-_/\\|·•.,，、。;；:：'\"“”‘’()（）\[\]【】<>《》]+")


def normalize(text: str | None) -> str:
    """One form of an address: 'ＳＤ 順德區　大良 · 近良社區' → 'SD顺德区大良近良社区'."""
    if not text:
        return ""
    text = unicodedata.normalize("NFKC", text).translate(_T2S)
    return _GAPS.sub("", text)
