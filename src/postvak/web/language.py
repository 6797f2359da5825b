"""The language switch in every page's header: Nederlands or English, remembered on this device."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse

from postvak.web.i18n import DEFAULT_LANGUAGE, LANGUAGES, remember_language, safe_local_path

router = APIRouter()


@router.get("/language", include_in_schema=False)
def switch_language(request: Request, lang: str = DEFAULT_LANGUAGE, back: str = "/") -> RedirectResponse:
    """Remember the chosen language on this device (a cookie) and return to the page it was chosen on."""
    response = RedirectResponse(safe_local_path(back), status_code=303)
    if lang in LANGUAGES:
        remember_language(request, response, lang)
    return response
