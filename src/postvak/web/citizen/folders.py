"""Citizen pages of their own folders: create, rename and delete."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from starlette.datastructures import FormData

from postvak.errors import ValidationFailed
from postvak.inbox import service as inbox
from postvak.runtime import runtime_of
from postvak.web.citizen.rendering import CitizenRoute, citizen_page, navigation
from postvak.web.citizen.session import CitizenSession, require_citizen, require_citizen_form

router = APIRouter(route_class=CitizenRoute)


def _folders_page(
    request: Request, citizen: CitizenSession, *, error: str | None = None, failed: str = "", value: str = ""
) -> Response:
    with runtime_of(request).database.unit_of_work(write=False) as session:
        nav = navigation(session, citizen)
    context = {"error": error, "failed": failed, "value": value, **nav}
    return citizen_page(request, citizen, "folders.html", context, status_code=422 if error else 200)


@router.get("/folders", response_class=HTMLResponse)
def folders_page(request: Request, citizen: CitizenSession = Depends(require_citizen)) -> Response:
    return _folders_page(request, citizen)


@router.post("/folders")
def create_folder(
    request: Request, checked: tuple[CitizenSession, FormData] = Depends(require_citizen_form)
) -> Response:
    citizen, form = checked
    name = str(form.get("name", ""))
    try:
        with runtime_of(request).database.unit_of_work() as session:
            inbox.create_folder(session, mailbox_id=citizen.mailbox_id, name=name)
    except ValidationFailed as problem:
        return _folders_page(request, citizen, error=problem.detail, failed="new", value=name)
    return RedirectResponse("/folders?notice=created", status_code=303)


@router.post("/folders/{folder_id}/rename")
def rename_folder(
    request: Request, folder_id: str, checked: tuple[CitizenSession, FormData] = Depends(require_citizen_form)
) -> Response:
    citizen, form = checked
    name = str(form.get("name", ""))
    try:
        with runtime_of(request).database.unit_of_work() as session:
            inbox.rename_folder(session, mailbox_id=citizen.mailbox_id, folder_id=folder_id, name=name)
    except ValidationFailed as problem:
        return _folders_page(request, citizen, error=problem.detail, failed=folder_id, value=name)
    return RedirectResponse("/folders?notice=renamed", status_code=303)


@router.post("/folders/{folder_id}/delete")
def delete_folder(
    request: Request, folder_id: str, checked: tuple[CitizenSession, FormData] = Depends(require_citizen_form)
) -> Response:
    citizen, _form = checked
    with runtime_of(request).database.unit_of_work() as session:
        inbox.delete_folder(session, mailbox_id=citizen.mailbox_id, folder_id=folder_id)
    return RedirectResponse("/folders?notice=deleted", status_code=303)
