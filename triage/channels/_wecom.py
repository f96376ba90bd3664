"""WeCom (企业微信) group-robot delivery.

Format (WeCom developer docs, "群机器人配置说明", developer.work.weixin.qq.com/document/path/
91770): ``POST https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=KEY`` with
``{"msgtype": "markdown", "markdown": {"content": "..."}}`` (content at most 4096 bytes of
UTF-8). The robot answers HTTP 200 with ``{"errcode": 0, "errmsg": "ok"}``; a non-zero errcode
is a failure. A robot may send 20 messages a minute.

Classification (WeCom's global error-code table, document/path/90313):

- ``errcode 45009`` (接口调用超过限制, "api freq out of limit") is retryable, with a suggested
  wait of 60 s (the robot's one-minute window);
- ``errcode -1`` (系统繁忙, system busy) is retryable;
- every other errcode is permanent: e.g. 93000 (invalid webhook URL: the key was deleted or
  is wrong), 40008 (invalid message type), 40058 (bad parameter). Retrying cannot fix those;
  the dispatcher falls back to the recipient's next channel;
- HTTP 429 and 5xx, timeouts and connection errors are retryable; other HTTP statuses are
  permanent, as for the generic webhook.
"""

from __future__ import annotations

import time
from datetime import datetime

import httpx
import msgspec

from triage._calendar import require_aware
from triage._notify import DeliveryOutcome
from triage.channels._base import ChannelConfigError, ChannelDelivery, check_timeout, failure
from triage.channels._http import check_http_url, post_json, robot_outcome
from triage.channels._message import ContentError, Lang
from triage.channels._notice import render_markdown

__all__ = [
    "WECOM_MAX_CONTENT_BYTES",
    "WECOM_RETRYABLE_ERRCODES",
    "WECOM_THROTTLE_WAIT_S",
    "WeComRobotNotifier",
    "wecom_body",
]

#: Errcodes worth retrying: system busy, frequency limit.
WECOM_RETRYABLE_ERRCODES = frozenset({-1, 45009})
#: Suggested wait after errcode 45009 (the robot's 20-messages-a-minute window).
WECOM_THROTTLE_WAIT_S = 60.0
#: Largest markdown content WeCom accepts, in UTF-8 bytes.
WECOM_MAX_CONTENT_BYTES = 4096


def wecom_body(delivery: ChannelDelivery, lang: Lang = "zh-CN") -> bytes:
    """The JSON body posted to the robot; never the student's name (a group chat is external).

    A case notice or a campaign reminder (:mod:`triage.channels._notice`), as markdown.

    Raises
    ------
    ContentError
        If the markdown would exceed :data:`WECOM_MAX_CONTENT_BYTES`.
    """
    content = render_markdown(delivery.required_content.without_name(), lang)
    if len(content.encode("utf-8")) > WECOM_MAX_CONTENT_BYTES:
        raise ContentError(f"WeCom markdown content over {WECOM_MAX_CONTENT_BYTES} bytes")
    return msgspec.json.encode({"msgtype": "markdown", "markdown": {"content": content}})


class WeComRobotNotifier:
    """Post markdown messages to a WeCom group robot.

    Parameters
    ----------
    client : httpx.AsyncClient
        Client to send with (owned by the caller).
    url : str
        The robot's webhook URL, ``https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=KEY``
        (the key is a secret: it never appears in ``repr`` or error texts).
    lang : {"zh-CN", "en"}
        Language of the message.
    timeout_s : float
        Timeout of each attempt, in seconds (0 < ``timeout_s`` <= 120).

    Raises
    ------
    ChannelConfigError
        If the URL lacks ``key=`` or the timeout is out of range.

    Notes
    -----
    The group is on WeCom's servers and seen by all its members, so the student's name is
    never sent, whatever the content carries. ``delivery.address`` is not used.
    """

    def __init__(
        self,
        client: httpx.AsyncClient,
        *,
        url: str,
        lang: Lang = "zh-CN",
        timeout_s: float = 10.0,
    ) -> None:
        self._url = check_http_url(url, what="WeCom robot", query_key="key")
        if lang not in ("zh-CN", "en"):
            raise ChannelConfigError(f"lang must be 'zh-CN' or 'en', got {lang!r}")
        self._client = client
        self._lang: Lang = lang
        self._timeout = httpx.Timeout(check_timeout(timeout_s))

    def __repr__(self) -> str:
        return f"WeComRobotNotifier(url=<hidden>, lang={self._lang!r})"

    async def deliver(self, delivery: ChannelDelivery, *, now: datetime) -> DeliveryOutcome:
        """Attempt one delivery.

        Parameters
        ----------
        delivery : ChannelDelivery
            What to send (``address`` unused).
        now : datetime
            Aware current instant (dates a ``Retry-After`` header).

        Returns
        -------
        DeliveryOutcome
            ``status_code`` is the HTTP status; a non-zero errcode is in ``error``.

        Raises
        ------
        ValueError
            If ``now`` is naive.
        """
        require_aware(now, "now")
        started = time.perf_counter()
        try:
            body = wecom_body(delivery, self._lang)
        except ContentError as exc:
            return failure(retryable=False, error=str(exc), started=started)
        result = await post_json(
            self._client, self._url, body, timeout=self._timeout, started=started
        )
        if isinstance(result, DeliveryOutcome):
            return result
        return robot_outcome(
            result,
            started=started,
            now=now,
            platform="WeCom",
            retryable_errcodes=WECOM_RETRYABLE_ERRCODES,
            throttle_errcodes={45009},
            throttle_wait_s=WECOM_THROTTLE_WAIT_S,
            secrets=(self._url,),
        )
