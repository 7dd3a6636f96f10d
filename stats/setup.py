"""The deciders the rollup uses, built from the configuration: the industry taxonomy, the business districts and
the hot-word segmenter."""
from __future__ import annotations

from stats.districts import DEFAULT_FILE as DEFAULT_DISTRICTS
from stats.districts import Districts
from stats.hotwords import DEFAULT_FILE as DEFAULT_HOTWORDS
from stats.hotwords import Segmenter
from stats.industries import DEFAULT_FILE as DEFAULT_INDUSTRIES
from stats.industries import Industries
from stats.rollup import Deciders


def industries_from(config) -> Industries:
    """industries.yaml as configured (`stats.industries_file`), else the one onequeue ships; ConfigError if wrong."""
    name = config.stats.industries_file
    return Industries.from_file(config.path(name) if name else DEFAULT_INDUSTRIES)


def segmenter_from(config) -> Segmenter:
    name = config.stats.hotwords_file
    return Segmenter.from_file(config.path(name) if name else DEFAULT_HOTWORDS)


def districts_from(config) -> Districts:
    name = config.stats.districts_file
    return Districts.from_file(config.path(name) if name else DEFAULT_DISTRICTS)


def deciders_from(config) -> Deciders:
    """The files are read and checked here, so a worker with a broken one does not start."""
    return Deciders(industries_from(config).decide, segmenter_from(config).terms_of, districts_from(config).decide)
