"""Helpers for the browser tests: phone and desktop contexts, the accessibility checks."""

from __future__ import annotations

import re
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")


def off_loop(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run ``fn`` in a worker thread: it may use ``asyncio.run`` while Playwright's sync API
    keeps an event loop running in the test's thread."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(fn, *args, **kwargs).result()


PHONE = {
    "viewport": {"width": 390, "height": 844},
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
    "locale": "zh-CN",
}
DESKTOP = {"viewport": {"width": 1280, "height": 900}, "locale": "zh-CN"}


def login(page: Any, base: str, username: str, password: str = "pw-test-123") -> None:
    page.goto(f"{base}/staff/login")
    page.get_by_label(re.compile("用户名|Username")).fill(username)
    page.get_by_label(re.compile("密码|Password")).fill(password)
    page.get_by_role("button", name=re.compile("登录|Sign in")).click()
    page.wait_for_load_state()


def press(page: Any, name: str) -> None:
    """Press a button that submits a form and wait until the next page has loaded.

    A click only starts the navigation: reading the page straight after it can still see the
    page being left (the cause of issue 17's red test, which answered the old page's items).
    """
    with page.expect_navigation():
        page.get_by_role("button", name=name, exact=True).click()


def answer_part(page: Any, values: dict[str, int] | None = None, default: int | None = 0) -> int:
    """Choose an option for each item of the shown part (by clicking its label): ``values``
    per item id, else ``default`` (``None``: leave the item out). Returns how many answered."""
    answered = 0
    page.wait_for_load_state()
    names = page.eval_on_selector_all(
        "input[type=radio][name^=item-]", "els => [...new Set(els.map(e => e.name))]"
    )
    for name in names:
        item = name.removeprefix("item-")
        value = (values or {}).get(item, default)
        if value is None:
            continue
        page.locator(f"label[for='i-{item}-{value}']").click()
        answered += 1
    return answered


# The function, without its leading comment (Playwright calls what starts as a function).
A11Y_JS = "\n".join(
    line
    for line in (Path(__file__).parent / "a11y_checks.js").read_text(encoding="utf-8").splitlines()
    if not line.startswith("//")
)


def accessibility_problems(page: Any) -> list[str]:
    problems: list[str] = page.evaluate(A11Y_JS)
    return problems


def check_reflow(page: Any, url: str) -> list[str]:
    """The page at 200 % and 400 % zoom of a 1280 px screen (640 and 320 CSS px wide)."""
    problems = []
    for width in (640, 320):
        page.set_viewport_size({"width": width, "height": 800})
        page.goto(url)
        overflow = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
        if overflow > 1:
            problems.append(f"{url} scrolls sideways by {overflow}px at {width}px wide")
    return problems
