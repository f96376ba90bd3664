"""Student pages: enter a code → consent notice → one part at a time → review → thank-you.

No JavaScript is needed: every step is a plain form with a redirect after it (post, redirect,
get), so reloading never answers twice. Answers are saved on the server at every step; the
thank-you page shows help contacts and never a score, band or tier. When the submission was
triaged red, the case exists (same transaction) before the thank-you page is requested, and
the page tells the student to stay with an adult; on a suicide pathway (red or orange, from the
submission or from saved answers triaged before it) the help contacts come first. A critical
question left blank is asked about once, gently, before Next goes on (issue 11).
"""

from __future__ import annotations

from typing import Any

from litestar import Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, URLEncodedBody
from litestar.response import Redirect, Template

from survey_service.clock import Clock
from survey_service.db import AsyncSession
from survey_service.errors import BadRequest, ServiceError
from survey_service.pages._web import (
    SECURITY_HEADERS,
    AnyRequest,
    lang_cookie,
    redirect,
    render,
    request_language,
)
from survey_service.pages.i18n import LANGUAGES, TEXT
from survey_service.screening import flow as flow_
from survey_service.screening import reads
from survey_service.screening.help_contacts import help_contacts
from survey_service.services.runtime import Runtime

Db = NamedDependency[AsyncSession]
Rt = NamedDependency[Runtime]
Now = NamedDependency[Clock]


def _page(
    request: AnyRequest, name: str, lang: str, current: flow_.Flow | None = None, **context: Any
) -> Template:
    guardian = current is not None and current.guardian
    if guardian:  # the guardian's wording where it differs (``guardian_*`` keys)
        context["t"] = guardian_text(lang)
    return render(
        request,
        name,
        lang,
        cookies=current.cookies if current else None,
        contacts=current.contacts if current else help_contacts(None),
        counsellors=current.counsellors if current else [],
        guardian=guardian,
        **context,
    )


def guardian_text(lang: str) -> dict[str, str]:
    """The page text for a guardian: each ``guardian_<key>`` replaces ``<key>``."""
    text = TEXT[lang]
    prefix = "guardian_"
    return {**text, **{k[len(prefix) :]: v for k, v in text.items() if k.startswith(prefix)}}


def student_error(request: AnyRequest, exc: ServiceError) -> Template:
    """A service error as a page in the student's language (status kept, details not)."""
    lang = request_language(request)
    message = (exc.message or {}).get(lang) or TEXT[lang]["error_title"]
    return render(
        request,
        "student_error.html",
        lang,
        status=exc.status,
        message=message,
        back=f"/?lang={lang}",
        contacts=help_contacts(None),
        counsellors=[],
    )


ERRORS: dict[Any, Any] = {ServiceError: student_error}


@get("/", include_in_schema=False, exception_handlers=ERRORS)
async def entry(request: AnyRequest) -> Template:
    return _page(request, "student_entry.html", request_language(request))


@post("/s", include_in_schema=False, status_code=303, exception_handlers=ERRORS)
async def entry_submit(request: AnyRequest, data: URLEncodedBody[dict[str, str]]) -> Redirect:
    code = flow_.clean_code(data.get("access_code", "").strip())
    lang = data.get("lang")
    cookies = [lang_cookie(request, lang)] if lang in LANGUAGES else []
    return redirect(f"/s/{code}", cookies=cookies)


@get("/s/{code:str}", include_in_schema=False, exception_handlers=ERRORS)
async def questionnaire(
    request: AnyRequest, code: FromPath[str], db: Db, rt: Rt, clock: Now
) -> Redirect:
    """The access link (also behind the QR code): resume where the student left off."""
    code = flow_.clean_code(code)
    lang = request_language(request)
    now = clock.now()
    flow = await flow_.resume(db, rt, request, code, lang, now, allow_submitted=True)
    if flow is not None and flow.status == "submitted":
        return redirect(f"/s/{code}/thanks")  # this browser already submitted: thank-you again
    flow = flow or await flow_.start(db, rt, request, code, lang, now)
    step = flow.next_step()
    cookies = list(flow.cookies)
    fresh = "?fresh=1" if cookies else ""  # a new cookie: the next page checks it came back
    if request.query_params.get("lang") in LANGUAGES:
        cookies.append(lang_cookie(request, lang))
    if step == 1 and flow.notice:
        return redirect(f"/s/{code}/start{fresh}", cookies=cookies)
    if step is None:
        return redirect(f"/s/{code}/review{fresh}", cookies=cookies)
    return redirect(f"/s/{code}/q/{step}{fresh}", cookies=cookies)


async def _flow_or_restart(
    request: AnyRequest, code: str, db: AsyncSession, rt: Runtime, clock: Clock, **kw: bool
) -> tuple[flow_.Flow | None, str]:
    lang = request_language(request)
    flow = await flow_.resume(db, rt, request, code, lang, clock.now(), **kw)
    if flow is None and request.query_params.get("fresh") == "1":
        # The cookie handed out one redirect ago did not come back: cookies are off. Say so
        # instead of sending the student round in a circle.
        raise BadRequest(
            "The browser did not keep the session cookie",
            code="cookies_needed",
            message=COOKIES_NEEDED,
        )
    return flow, lang


COOKIES_NEEDED = {
    "zh-CN": "浏览器没有保存登录信息（Cookie）。请允许本网站使用 Cookie，或换一个浏览器，"
    "然后重新打开登录码链接。",
    "en": "The browser did not keep this site's cookie. Allow cookies for this site or use "
    "another browser, then open your access link again.",
}


@get("/s/{code:str}/start", include_in_schema=False, exception_handlers=ERRORS)
async def notice(
    request: AnyRequest, code: FromPath[str], db: Db, rt: Rt, clock: Now
) -> Template | Redirect:
    """The consent notice, before the first part, where the campaign asks for consent."""
    code = flow_.clean_code(code)
    flow, lang = await _flow_or_restart(request, code, db, rt, clock)
    if flow is None:
        return redirect(f"/s/{code}")
    return _page(request, "student_notice.html", lang, flow, code=code)


@get("/s/{code:str}/declined", include_in_schema=False, exception_handlers=ERRORS)
async def declined(
    request: AnyRequest, code: FromPath[str], db: Db, rt: Rt, clock: Now
) -> Template:
    code = flow_.clean_code(code)
    flow, lang = await _flow_or_restart(request, code, db, rt, clock)
    return _page(request, "student_declined.html", lang, flow, code=code)


@get("/s/{code:str}/q/{n:int}", include_in_schema=False, exception_handlers=ERRORS)
async def part(
    request: AnyRequest, code: FromPath[str], n: FromPath[int], db: Db, rt: Rt, clock: Now
) -> Template | Redirect:
    """One instrument, with a progress indicator and the answers saved so far."""
    code = flow_.clean_code(code)
    flow, lang = await _flow_or_restart(request, code, db, rt, clock)
    if flow is None or not 1 <= n <= len(flow.battery):
        return redirect(f"/s/{code}")
    instrument = flow.battery[n - 1]
    saved = flow.saved.get(instrument.instrument_id, {})
    asking: list[str] = []
    if request.query_params.get("ask") == "1":
        # Next was pressed with a critical question blank: ask once, at that question.
        critical = flow_.critical_items(rt.catalogue.get(instrument.instrument_id))
        asking = [
            i.item_id
            for i in instrument.items
            if i.item_id in critical and saved.get(i.item_id) is None
        ]
    return _page(
        request,
        "student_part.html",
        lang,
        flow,
        code=code,
        n=n,
        total=len(flow.battery),
        part=instrument,
        battery=flow.battery,
        saved=saved,
        answered=flow.answered(instrument.instrument_id),
        view=flow.version,
        asking=asking,
    )


@post(
    "/s/{code:str}/q/{n:int}", include_in_schema=False, status_code=303, exception_handlers=ERRORS
)
async def part_save(
    request: AnyRequest,
    code: FromPath[str],
    n: FromPath[int],
    data: URLEncodedBody[dict[str, str]],
    db: Db,
    rt: Rt,
    clock: Now,
) -> Redirect | Response[None]:
    """Save this part's answers, then go where the student asked (next, previous, later)."""
    code = flow_.clean_code(code)
    flow, _ = await _flow_or_restart(request, code, db, rt, clock)
    if flow is None or not 1 <= n <= len(flow.battery):
        return redirect(f"/s/{code}")
    instrument = flow.battery[n - 1]
    nav = data.get("nav", "next")
    forward = nav in {"next", "review"}
    # A critical question left blank: show the part once more with a gentle note there; the
    # page carries ``asked=1``, so the second Next goes through (and saves the blank as
    # skipped on purpose). Nothing is lost meanwhile: the given answers are saved now.
    ask = (
        forward
        and data.get("asked") != "1"
        and bool(
            flow_.blank_critical(
                rt.catalogue.get(instrument.instrument_id),
                instrument,
                data,
                flow.saved.get(instrument.instrument_id, {}),
            )
        )
    )
    answers = flow_.parse_part(instrument, data, complete=forward and not ask)
    stamp = flow_.parse_stamp(data)
    if answers:
        await flow_.save(db, rt, flow, {instrument.instrument_id: answers}, clock.now(), stamp)
    if ask:
        return redirect(f"/s/{code}/q/{n}?ask=1#ask")
    if nav == "stay":  # the page's script saving one answer as it is chosen
        return Response(content=None, status_code=204, headers=dict(SECURITY_HEADERS))
    if nav == "exit":
        return redirect(f"/s/{code}/saved")
    if nav == "prev" and n > 1:
        return redirect(f"/s/{code}/q/{n - 1}")
    if nav == "next" and n < len(flow.battery):
        return redirect(f"/s/{code}/q/{n + 1}")
    return redirect(f"/s/{code}/review")


AUTOSAVE_JS = """\
// Progressive enhancement: save each answer as it is chosen (the form works without it).
// Every save carries the page's view (rendered by the server) and a seq that grows with each
// change, so the server keeps the newest answer whatever order the requests arrive in; the
// form's own post (Next, Back, Save and exit) carries a seq later than every autosave.
(function () {
  var form = document.querySelector("form[data-autosave]");
  if (!form || !window.fetch || !window.URLSearchParams) { return; }
  var status = document.getElementById("autosave-status");
  var view = form.querySelector("input[name=view]");
  var seqField = form.querySelector("input[name=seq]");
  var last = 0;
  function nextSeq() { var now = Date.now(); last = now > last ? now : last + 1; return last; }
  form.addEventListener("change", function (event) {
    var input = event.target;
    if (!input || input.type !== "radio") { return; }
    var body = new URLSearchParams();
    body.append(input.name, input.value);
    body.append("nav", "stay");
    if (view) { body.append("view", view.value); }
    body.append("seq", String(nextSeq()));
    fetch(form.action, {
      method: "POST", body: body, credentials: "same-origin", keepalive: true,
      headers: {"Content-Type": "application/x-www-form-urlencoded"}
    }).then(function (reply) {
      if (status) {
        status.textContent = status.getAttribute(reply.ok ? "data-saved" : "data-failed");
      }
    }, function () {
      if (status) { status.textContent = status.getAttribute("data-failed"); }
    });
  });
  form.addEventListener("submit", function () {
    if (seqField) { seqField.value = String(nextSeq()); }
  });
})();
"""


@get("/static/autosave.js", include_in_schema=False)
async def autosave_js() -> Response[str]:
    return Response(
        AUTOSAVE_JS,
        media_type="text/javascript",
        headers={"Cache-Control": "public, max-age=3600", "X-Content-Type-Options": "nosniff"},
    )


@get("/s/{code:str}/saved", include_in_schema=False, exception_handlers=ERRORS)
async def saved(request: AnyRequest, code: FromPath[str], db: Db, rt: Rt, clock: Now) -> Template:
    code = flow_.clean_code(code)
    flow, lang = await _flow_or_restart(request, code, db, rt, clock)
    return _page(request, "student_saved.html", lang, flow, code=code)


@get("/s/{code:str}/review", include_in_schema=False, exception_handlers=ERRORS)
async def review(
    request: AnyRequest, code: FromPath[str], db: Db, rt: Rt, clock: Now
) -> Template | Redirect:
    code = flow_.clean_code(code)
    flow, lang = await _flow_or_restart(request, code, db, rt, clock)
    if flow is None:
        return redirect(f"/s/{code}")
    return _page(request, "student_review.html", lang, flow, code=code, flow=flow)


@post("/s/{code:str}/submit", include_in_schema=False, status_code=303, exception_handlers=ERRORS)
async def questionnaire_submit(
    request: AnyRequest, code: FromPath[str], db: Db, rt: Rt, clock: Now
) -> Redirect:
    """Submit what was saved. The case (tier yellow and up) is written in this transaction,
    before the thank-you page is asked for; a repeated post goes straight to thank-you."""
    code = flow_.clean_code(code)
    flow, _ = await _flow_or_restart(request, code, db, rt, clock, allow_submitted=True)
    if flow is None:
        return redirect(f"/s/{code}")
    if flow.status != "submitted":
        await flow_.submit(db, rt, flow, clock.now())
    return redirect(f"/s/{code}/thanks")


@get("/s/{code:str}/thanks", include_in_schema=False, exception_handlers=ERRORS)
async def thanks(
    request: AnyRequest, code: FromPath[str], db: Db, rt: Rt, clock: Now
) -> Template | Redirect:
    code = flow_.clean_code(code)
    flow, lang = await _flow_or_restart(request, code, db, rt, clock, allow_submitted=True)
    if flow is None or flow.status != "submitted":
        return redirect(f"/s/{code}")
    if flow.guardian:
        # The guardian's thank-you is the same whatever the result: it never hints at the
        # student's tier (a red case may come from the student's own answers).
        return _page(request, "student_thanks.html", lang, flow, urgent=False, support=False)
    urgent = await reads.session_needs_urgent_help(db, flow.session_id)
    # Red, or the suicide pathway from the submission or the saved answers: the help contacts
    # come first on the page (never a score, band or tier).
    support = urgent or await reads.session_on_suicide_pathway(db, flow.session_id)
    return _page(request, "student_thanks.html", lang, flow, urgent=urgent, support=support)


ROUTES = [autosave_js, notice, declined, part, part_save, saved, review, thanks]
