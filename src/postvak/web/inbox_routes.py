"""Citizen pages (inbox); filled in by the inbox work."""

from fastapi import APIRouter

router = APIRouter()
