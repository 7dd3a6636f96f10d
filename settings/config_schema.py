"""The schema of config.yaml: database, channels, SMS, jobs and the demo stand-ins."""
from __future__ import annotations

import os
import re
from datetime import date, timedelta
from pathlib import Path
from typing import Any, Optional

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from settings.secrets_check import demo_secret_problems
from settings.yaml_loader import ConfigError, ConfigProblem, format_loc, parse_yaml_model, read_yaml_text, yaml_lines
from sla.config import SlaConfig
from tickets.dates import DateWindow

ENV_REF = re.compile(r"\$\{([A-Z0-9_]+)(?::-([^}]*))?\}")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ChannelConfig(Strict):
    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$")
    kind: str
    enabled: bool = True
    poll_seconds: float = Field(30, gt=0)
    complainant_sms: Optional[bool] = Field(None, description="text the complainant when the ticket is accepted "
                                            "and resolved; default: where the source does not tell them itself "
                                            "(walk-in, Open311, web push without a callback URL)")
    settings: dict[str, Any] = Field(default_factory=dict)


class SmsTemplates(Strict):
    # {link}: the station's page for this ticket (web.public_url + /m/TOKEN), at the end so a phone links all of it.
    dispatched: str = "【顺德市场监管】新派单{number}（{kind}）：{title}。地点：{place}。请尽快联系投诉人，办理：{link}"
    recalled: str = "【顺德市场监管】工单{number}已由来源撤销，无需再处理。"
    # Answers to staff replies by SMS ({action} is e.g. 受理, {reason} why it was refused); "" sends none.
    reply_help: str = "【顺德市场监管】未能识别回复。请按格式回复：工单号 受理／已联系／办结 结果／退回 原因，如：SD2611-00001 办结 已退款"
    reply_done: str = "【顺德市场监管】工单{number}已{action}，已记录。"
    reply_refused: str = "【顺德市场监管】工单{number}未能{action}：{reason}。"


# What the complainant's messages may say: never their name, phone or complaint; the result only to them.
COMPLAINANT_FIELDS = {"number", "kind", "unit", "link", "result"}


class ComplainantTemplates(Strict):
    accepted: str = "【顺德市场监管】您反映的{kind}已由{unit}受理，工单号{number}。办理进度：{link} 回复TD退订"
    resolved: str = ("【顺德市场监管】您的工单{number}已办结：{result}。请回复1-5评价（5很满意，1很不满意），"
                     "或打开 {link} 评价。回复TD退订")
    rated: str = "【顺德市场监管】感谢您对工单{number}的评价。"
    rated_low: str = "【顺德市场监管】感谢您的评价，我们将就工单{number}尽快回访您。"
    stopped: str = "【顺德市场监管】您已退订工单进度短信，此后不再发送。"

    @field_validator("*")
    @classmethod
    def _known_fields(cls, v: str) -> str:
        from notify.templates import template_fields

        unknown = template_fields(v) - COMPLAINANT_FIELDS
        if unknown:
            raise ValueError(f"unknown field {{{sorted(unknown)[0]}}}; a complainant's message may use "
                             f"{', '.join('{' + f + '}' for f in sorted(COMPLAINANT_FIELDS))}")
        return v


class ComplainantConfig(Strict):
    """The complainant kept in the loop where the source does not tell them itself (channels' complainant_sms)."""

    quiet_hours: Optional[str] = Field("21:00-08:00", pattern=r"^\d{2}:\d{2}-\d{2}:\d{2}$",
                                       description="China time; a message planned then waits for the end; "
                                       "null: none")
    result_chars: int = Field(200, ge=20, le=1000, description="a longer result is cut in the SMS")
    templates: ComplainantTemplates = Field(default_factory=ComplainantTemplates)


class SmsConfig(Strict):
    account_sid: str
    auth_token: str = Field(repr=False)
    from_number: str
    base_url: Optional[str] = Field(None, description="a Twilio-compatible endpoint; empty for Twilio itself")
    status_callback_url: Optional[str] = None
    validity_seconds: Optional[int] = Field(None, ge=1, le=36000)
    max_attempts: int = Field(6, ge=1)
    backoff_seconds: float = Field(10, gt=0)
    rate_limit_rps: Optional[float] = Field(None, gt=0, description="messages per second one worker sends at most; "
                                            "a single long code sends about 1 segment per second")
    concurrent_sends: int = Field(4, ge=1, le=16, description="messages one worker has at the provider at once; "
                                  "messages to one number go one after another, in order")
    templates: SmsTemplates = Field(default_factory=SmsTemplates)


class JobsConfig(Strict):
    dispatch_seconds: float = Field(2, gt=0)
    sms_seconds: float = Field(2, gt=0)
    outbox_seconds: float = Field(5, gt=0)
    claim_seconds: float = Field(60, gt=0, description="how long a worker holds a claimed row or channel poll; "
                                 "work held by a worker that died is taken up again after this")


class StatsConfig(Strict):
    enabled: bool = True
    catch_up_seconds: float = Field(30, gt=0, description="how often the rollup takes in the tickets' history")
    # Unset: the files onequeue ships (industries.yaml, hotwords.yaml, districts.yaml beside config.yaml).
    industries_file: Optional[str] = Field(None, description="the industry taxonomy")
    hotwords_file: Optional[str] = Field(None, description="hot words' dictionary and stop words")
    districts_file: Optional[str] = Field(None, description="business districts (商圈) and their places")


class WatchConfig(Strict):
    enabled: bool = True
    catch_up_seconds: float = Field(10, gt=0, description="how often the business registry takes in new tickets")
    surge_seconds: float = Field(600, gt=0, description="how often the series are looked at for surges (needs stats)")
    # Unset: the file onequeue ships beside the default config.yaml.
    businesses_file: Optional[str] = Field(None, description="businesses.yaml: aliases the registry joins")
    alerts_file: Optional[str] = Field(None, description="alerts.yaml: early-warning rules and the duty contacts")
    index_file: Optional[str] = Field(None, description="index.yaml: the handling index's weights and shrinkage")
    index_hours: float = Field(24, gt=0, description="how often the handling index is computed (needs stats)")


class WritebackConfig(Strict):
    max_attempts: int = Field(8, ge=1)
    backoff_seconds: float = Field(5, gt=0)
    max_backoff_seconds: float = Field(3600, gt=0)
    reconcile_minutes: float = Field(30, ge=0, description="how often to compare sources with onequeue; 0: never")
    reconcile_hours: float = Field(24, gt=0, description="tickets changed within this window are compared")
    reconcile_requeue: bool = Field(False, description="queue a result again when a source does not show it")


class DemoStandIn(Strict):
    port: int = Field(ge=0, le=65535)
    new_orders_every_seconds: float = Field(10, gt=0)
    orders_per_round: int = Field(3, ge=0)
    app_id: str = "onequeue-demo"
    app_secret: str = "demo-secret"


class DemoPlatform12315(Strict):
    port: int = Field(ge=0, le=65535)
    new_cases_every_seconds: float = Field(15, gt=0)
    cases_per_round: int = Field(2, ge=0)
    client_id: str = "onequeue-demo"
    client_secret: str = "demo-secret"


class DemoFileDrop8180(Strict):
    channel: str = Field(description="the 8180 channel whose inbox and outbox folders the stand-in serves")
    new_calls_every_seconds: float = Field(20, gt=0)
    calls_per_round: int = Field(2, ge=0)


class DemoConfig(Strict):
    enabled: bool = False
    workorders_12345: Optional[DemoStandIn] = None
    platform_12315: Optional[DemoPlatform12315] = None
    filedrop_8180: Optional[DemoFileDrop8180] = None
    mall_complaints: Optional[DemoStandIn] = None  # a mall operator's API, pulled by a YAML-defined `rest` channel
    twilio: Optional[DemoStandIn] = None


class WebConfig(Strict):
    enabled: bool = True
    host: str = "127.0.0.1"
    port: int = Field(8080, ge=0, le=65535)
    public_url: Optional[str] = Field(None, description="the URL providers call back on, e.g. for SMS webhooks; "
                                      "default http://host:port")
    health_token: Optional[str] = Field(None, repr=False, description="operators send it as `Authorization: Bearer "
                                        "…` to read all of /health; without it only counts (or sign in as admin)")
    display_token: Optional[str] = Field(None, repr=False, description="opens the big screen (/screen?token=…) "
                                         "on a wall display without a login; unset: the big screen needs a login")
    max_body_bytes: int = Field(1024 * 1024, ge=1024, description="the largest request body taken; "
                                "larger ones are answered 413 unread")
    max_upload_bytes: int = Field(12 * 1024 * 1024, ge=1024, description="the same for a page that uploads a "
                                  "file (a station's visit register)")

    def base_url(self, port: Optional[int] = None) -> str:
        return (self.public_url or f"http://{self.host}:{port or self.port}").rstrip("/")


class StationConfig(Strict):
    """The station's phone page behind the SMS link (/m/TOKEN)."""

    link_days: float = Field(30, gt=0, le=366, description="how long a link sent by SMS opens its page")
    remember_days: float = Field(180, gt=0, le=3660, description="how long a browser that gave the four digits "
                                 "is remembered for that contact")
    max_tries: int = Field(5, ge=1, le=20, description="wrong four-digit tries that lock a link")
    photo_max_bytes: int = Field(5 * 1024 * 1024, ge=1024, description="the largest photo taken with a result")


class DuplicatesConfig(Strict):
    enabled: bool = True
    window_days: float = Field(30, gt=0, description="how far apart two tickets of one matter may arrive")
    min_similarity: float = Field(0.5, gt=0, le=1, description="how alike their stories must be (0..1)")


class DatesConfig(Strict):
    earliest: date = Field(date(2000, 1, 1), description="a source's date before this day sets its record aside")
    ahead_hours: float = Field(24, gt=0, le=24 * 366, description="... and so does one more than this ahead of now")

    def window(self) -> DateWindow:
        return DateWindow(self.earliest, timedelta(hours=self.ahead_hours))


class AppConfig(Strict):
    database_url: str = "sqlite:///var/onequeue.db"
    units_file: str = "units.yaml"
    rules_file: str = "rules.yaml"
    log_level: str = "info"
    demo: DemoConfig = Field(default_factory=DemoConfig)
    jobs: JobsConfig = Field(default_factory=JobsConfig)
    writeback: WritebackConfig = Field(default_factory=WritebackConfig)
    web: WebConfig = Field(default_factory=WebConfig)
    duplicates: DuplicatesConfig = Field(default_factory=DuplicatesConfig)
    station: StationConfig = Field(default_factory=StationConfig)
    dates: DatesConfig = Field(default_factory=DatesConfig)
    sla: SlaConfig = Field(default_factory=SlaConfig)
    stats: StatsConfig = Field(default_factory=StatsConfig)
    watch: WatchConfig = Field(default_factory=WatchConfig)
    sms: SmsConfig
    complainant: ComplainantConfig = Field(default_factory=ComplainantConfig)
    channels: list[ChannelConfig] = Field(default_factory=list)

    base_dir: Path = Field(default=Path("."), exclude=True)

    @field_validator("log_level")
    @classmethod
    def _level(cls, v: str) -> str:
        if v.lower() not in ("debug", "info", "warning", "error"):
            raise ValueError("expected one of debug, info, warning, error")
        return v.lower()

    def semantic_problems(self) -> list[tuple[tuple, str]]:
        from connectors.registry import connector_class

        problems: list[tuple[tuple, str]] = []
        seen: set[str] = set()
        for i, ch in enumerate(self.channels):
            if ch.name in seen:
                problems.append((("channels", i, "name"), f"channel name {ch.name!r} is used twice"))
            seen.add(ch.name)
            try:
                cls = connector_class(ch.kind)
            except KeyError as exc:
                problems.append((("channels", i, "kind"), str(exc.args[0])))
                continue
            try:
                settings = cls.Config.model_validate(ch.settings)
            except ValidationError as exc:
                for err in exc.errors():
                    msg = "unknown setting" if err["type"] == "extra_forbidden" else err["msg"]
                    problems.append((("channels", i, "settings") + tuple(err["loc"]), msg))
                continue
            if ch.enabled:
                problems += self._writeback_outlasting_claim(i, ch, cls.writeback_requests(settings),
                                                             getattr(settings, "timeout_seconds", None))
        drop = self.demo.filedrop_8180
        if self.demo.enabled and drop and not any(c.name == drop.channel and c.kind == "8180" for c in self.channels):
            problems.append((("demo", "filedrop_8180", "channel"), f"no channel of kind 8180 is named {drop.channel!r}"))
        return problems

    def _writeback_outlasting_claim(self, i: int, ch: ChannelConfig, requests: int,
                                    timeout: Optional[float]) -> list[tuple[tuple, str]]:
        """A write-back attempt must end inside the claim renewed just before it: else a second worker may
        take the row up and send the same result. Its requests, each up to the timeout, must stay under it."""
        claim = self.jobs.claim_seconds
        if not requests or timeout is None or requests * timeout < claim:
            return []
        given = "" if "timeout_seconds" in ch.settings else " (the default)"
        return [(("channels", i, "settings", "timeout_seconds"),
                 f"{requests} requests of {timeout:g} s{given} can outlast jobs.claim_seconds {claim:g} "
                 "(a write-back may wait for each in turn); lower the timeout or raise the claim")]

    def path(self, relative: str) -> Path:
        p = Path(relative)
        return p if p.is_absolute() else self.base_dir / p

    def resolved_database_url(self) -> str:
        url = os.environ.get("ONEQUEUE_DATABASE_URL") or self.database_url
        prefix = "sqlite:///"
        if url.startswith(prefix) and not url.startswith(prefix + "/") and url != "sqlite:///:memory:":
            url = prefix + str((self.base_dir / url[len(prefix):]).resolve())
        return url


def expand_env(text: str) -> str:
    """${NAME} and ${NAME:-default} from the environment, so secrets stay out of committed files."""
    def sub(m: re.Match) -> str:
        value = os.environ.get(m.group(1))
        if value is None:
            if m.group(2) is None:
                raise KeyError(m.group(1))
            return m.group(2)
        return value
    return ENV_REF.sub(sub, text)


def default_config_path() -> Path:
    return Path(os.environ.get("ONEQUEUE_CONFIG", "config.yaml"))


def load_config(path: str | Path | None = None) -> AppConfig:
    """Read config.yaml (or $ONEQUEUE_CONFIG), expanding ${ENV} references; ConfigError names file and line."""
    path = Path(path) if path else default_config_path()
    raw = read_yaml_text(path, "configuration")
    lines = []
    raw_lines = raw.splitlines(keepends=True)
    for n, line in enumerate(raw_lines, start=1):
        try:
            lines.append(expand_env(line))
        except KeyError as exc:
            raise ConfigError([ConfigProblem(str(path), n, "", f"environment variable {exc.args[0]} is not set "
                                                              f"(or give a default: ${{{exc.args[0]}:-value}})")]) from None
    text = "".join(lines)
    cfg = parse_yaml_model(text, AppConfig, file=str(path))
    cfg.base_dir = path.resolve().parent
    if not cfg.demo.enabled:
        _refuse_demo_secrets(cfg, text, raw_lines, str(path))
    return cfg


def _refuse_demo_secrets(cfg: AppConfig, text: str, raw_lines: list[str], file: str) -> None:
    """Outside demo mode a missing or demo secret stops the start, naming the setting and what to set."""
    found = demo_secret_problems(cfg)
    if not found:
        return
    where = yaml_lines(text)
    problems = []
    for loc, msg in found:
        line = where.line_for(loc)
        names = ENV_REF.findall(raw_lines[line - 1]) if line and line <= len(raw_lines) else []
        todo = (f"set the environment variable {names[0][0]}" if names
                else "give it by ${ENV} in this file and set that variable")
        problems.append(ConfigProblem(file, line, format_loc(loc), f"{msg}; {todo} (or turn demo.enabled on)"))
    raise ConfigError(problems)
