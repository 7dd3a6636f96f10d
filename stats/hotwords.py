"""Hot words: a complaint's title and text cut into words by jieba (its own dictionary ships with it; nothing is
downloaded) with the trade's words of hotwords.yaml kept whole, less stop words, names, numbers and function
words. The words a ticket gives are kept on its fact, counted per day in the rollup and shown on its page."""
from __future__ import annotations

import logging
import re
import threading
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from settings.yaml_loader import load_yaml_model, parse_yaml_model
from tickets.models import Ticket

DEFAULT_FILE = Path(__file__).resolve().parents[1] / "hotwords.yaml"
MAX_LENGTH = 32       # the rollup's column
MAX_TERMS = 40        # a long letter counts under its first words only
# jieba's parts of speech never counted: people's names (nr*), place names (ns: the town is a dimension of its
# own), numbers and measure words, pronouns, adverbs, prepositions, conjunctions, particles, punctuation, time
# words.
_SKIPPED_TAGS = ("nr", "ns", "m", "q", "r", "d", "p", "c", "u", "x", "w", "e", "y", "o", "t", "f", "uj", "ul", "mq")
_HAS_WORD = re.compile(r"[\u4e00-\u9fffA-Za-z]")
_HAS_DIGIT = re.compile(r"\d")


class HotWordsFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    dictionary: list[str] = Field(default_factory=list, description="words of the trade kept whole")
    stop_words: list[str] = Field(default_factory=list, description="words never counted")

    def semantic_problems(self) -> list[tuple[tuple, str]]:
        problems: list[tuple[tuple, str]] = []
        for field in ("dictionary", "stop_words"):
            for i, word in enumerate(getattr(self, field)):
                if not word.strip() or any(ch.isspace() for ch in word):
                    problems.append(((field, i), f"{word!r}: a word has no spaces and is not empty"))
                elif len(word) > MAX_LENGTH:
                    problems.append(((field, i), f"{word!r} is longer than {MAX_LENGTH} characters"))
        stops = set(self.stop_words)
        for i, word in enumerate(self.dictionary):
            if word in stops:
                problems.append((("dictionary", i), f"{word!r} is also a stop word: it would never be counted"))
        return problems


_TOKENIZERS: dict[tuple[str, ...], object] = {}
_TOKENIZERS_LOCK = threading.Lock()


def _tokenizer_with(dictionary: tuple[str, ...]):
    """jieba's tokenizer with the domain `dictionary` added: one per dictionary in a process, for it holds
    about 110 MB (every worker, page and reload of the same hotwords.yaml shares it; jieba cuts thread-safely)."""
    with _TOKENIZERS_LOCK:
        cut = _TOKENIZERS.get(dictionary)
        if cut is None:
            import jieba
            import jieba.posseg

            jieba.setLogLevel(logging.WARNING)
            words = jieba.Tokenizer()
            for word in dictionary:
                words.add_word(word, freq=max(words.suggest_freq(word, tune=False), 50000), tag="nz")
            cut = _TOKENIZERS[dictionary] = jieba.posseg.POSTokenizer(words)
        return cut


class Segmenter:
    """Cuts a ticket's words; jieba's dictionary is read on first use (about a second), once per process."""

    def __init__(self, spec: HotWordsFile):
        self.spec = spec
        self.stop = frozenset(spec.stop_words)
        self._cut = None
        self._lock = threading.Lock()

    @classmethod
    def from_file(cls, path: str | Path = DEFAULT_FILE) -> "Segmenter":
        return cls(load_yaml_model(path, HotWordsFile))

    @classmethod
    def from_yaml(cls, text: str, file: str = "hotwords.yaml") -> "Segmenter":
        return cls(parse_yaml_model(text, HotWordsFile, file=file))

    def _tokenizer(self):
        with self._lock:
            if self._cut is None:
                self._cut = _tokenizer_with(tuple(self.spec.dictionary))
            return self._cut

    def words(self, text: str) -> list[str]:
        """The distinct words of `text` that count, in the order they first appear."""
        seen: dict[str, None] = {}
        for pair in self._tokenizer().lcut(text or ""):
            word, tag = pair.word.strip(), pair.flag
            if (len(word) < 2 or len(word) > MAX_LENGTH or word in self.stop or tag.startswith(_SKIPPED_TAGS)
                    or not _HAS_WORD.search(word) or _HAS_DIGIT.search(word)):
                continue
            seen.setdefault(word, None)
            if len(seen) >= MAX_TERMS:
                break
        return list(seen)

    def terms_of(self, ticket: Ticket) -> list[str]:
        return self.words(f"{ticket.title or ''}。{ticket.text or ''}")
