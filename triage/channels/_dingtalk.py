"""DingTalk (钉钉) custom-robot delivery, with the signed-URL ("加签") variant.

Format (DingTalk open platform docs, "自定义机器人发送群消息" and "自定义机器人安全设置"):
``POST https://oapi.dingtalk.com/robot/send?access_token=TOKEN`` with
``{"msgtype": "markdown", "markdown": {"title": "...", "text": "..."}}``; the title is what
the conversation list and the push preview show.

Signing, when the robot's security setting is "加签": ``string_to_sign = f"{timestamp}\\n{secret}"``
where ``timestamp`` is Unix milliseconds (within one hour of DingTalk's clock);
``sign = urlEncode(base64(HMAC-SHA256(key=secret, msg=string_to_sign)))`` (UTF-8 throughout);
the request goes to ``{url}&timestamp={timestamp}&sign={sign}``. A robot protected by a
keyword instead needs the keyword "润心" (every title carries it).

The robot answers HTTP 200 with ``{"errcode": 0, "errmsg": "ok"}``. Classification:

- ``errcode 130101`` ("send too fast", over 20 messages a minute) is retryable, with a
  suggested wait of 60 s;
- ``errcode -1`` (system busy) is retryable;
- every other errcode is permanent: e.g. 310000 (signature mismatch, keyword missing, IP not
  allowed), 300001 (token does not exist); retrying cannot fix those;
- HTTP 429 and 5xx, timeouts and connection errors are retryable; other HTTP statuses are
  permanent.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, quote_plus, urlsplit

import httpx
import msgspec

from triage._calendar import require_aware
from triage._notify import DeliveryOutcome
from triage.channels._base import ChannelConfigError, ChannelDelivery, check_timeout
from triage.channels._http import check_http_url, post_json, robot_outcome
from triage.channels._message import Lang
from triage.channels._notice import render_markdown, render_title

__all__ = [
    "DINGTALK_RETRYABLE_ERRCODES",
    "DINGTALK_THROTTLE_WAIT_S",
    "DingTalkRobotNotifier",
    "check_dingtalk_url",
    "dingtalk_body",
    "dingtalk_sign",
    "dingtalk_signed_url",
]

#: Errcodes worth retrying: system busy, "send too fast".
DINGTALK_RETRYABLE_ERRCODES = frozenset({-1, 130101})
#: Suggested wait after errcode 130101 (the robot's 20-messages-a-minute window).
DINGTALK_THROTTLE_WAIT_S = 60.0

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    """The robot signature before URL encoding.

    Parameters
    ----------
    secret : str
        The robot's signing secret (``SEC…``).
    timestamp_ms : int
        Unix milliseconds.

    Returns
    -------
    str
        ``base64(HMAC-SHA256(key=secret, msg=f"{timestamp_ms}\\n{secret}"))``.
    """
    if isinstance(timestamp_ms, bool) or not isinstance(timestamp_ms, int):
        raise ValueError(f"timestamp_ms must be an int, got {type(timestamp_ms).__name__}")
    message = f"{timestamp_ms}\n{secret}".encode()
    digest = hmac.new(secret.encode("utf-8"), message, hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def dingtalk_signed_url(url: str, secret: str, *, now: datetime) -> str:
    """``url`` with ``&timestamp=<ms of now>&sign=<quote_plus(dingtalk_sign(...))>`` appended."""
    require_aware(now, "now")
    timestamp_ms = (now - _EPOCH) // timedelta(milliseconds=1)
    sign = quote_plus(dingtalk_sign(secret, timestamp_ms))
    return f"{url}&timestamp={timestamp_ms}&sign={sign}"


def dingtalk_body(delivery: ChannelDelivery, lang: Lang = "zh-CN") -> bytes:
    """The JSON body posted to the robot; never the student's name (a group chat is external).

    A case notice or a campaign reminder (:mod:`triage.channels._notice`), as markdown.
    """
    content = delivery.required_content.without_name()
    markdown = {"title": render_title(content, lang), "text": render_markdown(content, lang)}
    return msgspec.json.encode({"msgtype": "markdown", "markdown": markdown})


def check_dingtalk_url(url: str) -> str:
    """Validate a robot URL: http(s), one ``access_token=``, no ``timestamp=``/``sign=``.

    Raises
    ------
    ChannelConfigError
        If it is not such a URL.
    """
    check_http_url(url, what="DingTalk robot", query_key="access_token")
    query = parse_qs(urlsplit(url).query)
    if "timestamp" in query or "sign" in query:
        raise ChannelConfigError(
            "DingTalk robot URL must not carry timestamp= or sign=; configure the secret"
        )
    return url


class DingTalkRobotNotifier:
    """Post markdown messages to a DingTalk custom robot.

    Parameters
    ----------
    client : httpx.AsyncClient
        Client to send with (owned by the caller).
    url : str
        ``https://oapi.dingtalk.com/robot/send?access_token=TOKEN`` (a secret: never in
        ``repr`` or error texts).
    secret : str or None
        The robot's "加签" secret; when given every request URL is signed with ``now``.
    lang : {"zh-CN", "en"}
        Language of the message.
    timeout_s : float
        Timeout of each attempt, in seconds (0 < ``timeout_s`` <= 120).

    Raises
    ------
    ChannelConfigError
        If the URL lacks ``access_token=`` or already carries ``timestamp``/``sign``, the
        secret is empty, or the timeout is out of range.
    """

    def __init__(
        self,
        client: httpx.AsyncClient,
        *,
        url: str,
        secret: str | None = None,
        lang: Lang = "zh-CN",
        timeout_s: float = 10.0,
    ) -> None:
        self._url = check_dingtalk_url(url)
        if secret is not None and (not isinstance(secret, str) or not secret.strip()):
            raise ChannelConfigError("DingTalk secret must be a non-empty string or None")
        if lang not in ("zh-CN", "en"):
            raise ChannelConfigError(f"lang must be 'zh-CN' or 'en', got {lang!r}")
        self._client = client
        self._secret = secret
        self._lang: Lang = lang
        self._timeout = httpx.Timeout(check_timeout(timeout_s))

    def __repr__(self) -> str:
        signed = "<hidden>" if self._secret else "None"
        return f"DingTalkRobotNotifier(url=<hidden>, secret={signed}, lang={self._lang!r})"

    async def deliver(self, delivery: ChannelDelivery, *, now: datetime) -> DeliveryOutcome:
        """Attempt one delivery.

        Parameters
        ----------
        delivery : ChannelDelivery
            What to send (``address`` unused).
        now : datetime
            Aware current instant: the signature's timestamp and the date of ``Retry-After``.

        Returns
        -------
        DeliveryOutcome
            ``status_code`` is the HTTP status; a non-zero errcode is in ``error``.

        Raises
        ------
        ValueError
            If ``now`` is naive or the delivery carries no content.
        """
        require_aware(now, "now")
        url = self._url
        if self._secret is not None:
            url = dingtalk_signed_url(self._url, self._secret, now=now)
        started = time.perf_counter()
        result = await post_json(
            self._client,
            url,
            dingtalk_body(delivery, self._lang),
            timeout=self._timeout,
            started=started,
            secrets=(self._url, self._secret),
        )
        if isinstance(result, DeliveryOutcome):
            return result
        return robot_outcome(
            result,
            started=started,
            now=now,
            platform="DingTalk",
            retryable_errcodes=DINGTALK_RETRYABLE_ERRCODES,
            throttle_errcodes={130101},
            throttle_wait_s=DINGTALK_THROTTLE_WAIT_S,
            secrets=(self._url, self._secret),
        )
