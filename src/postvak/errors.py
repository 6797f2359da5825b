"""Problem types (RFC 9457): one class per stable slug, rendered for JSON and HTML by web/problems.py."""

from __future__ import annotations

from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field


class Problem(Exception):
    """A typed failure with a stable slug; the detail never carries a BSN."""

    slug: ClassVar[str] = "internal-error"
    title: ClassVar[str] = "Internal error"
    status: ClassVar[int] = 500
    explanation: ClassVar[str] = "Something went wrong on our side; the request can be retried."

    def __init__(self, detail: str, *, headers: dict[str, str] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.headers = headers or {}

    def to_dict(self, base_url: str, instance: str) -> dict[str, object]:
        return {
            "type": problem_type_uri(base_url, self.slug),
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
            "instance": instance,
        }


def problem_type_uri(base_url: str, slug: str) -> str:
    return f"{base_url.rstrip('/')}/problems/{slug}"


class Unauthorized(Problem):
    slug, title, status = "unauthorized", "Unauthorized", 401
    explanation = "The request has no API key, or the key is unknown or revoked."


class Forbidden(Problem):
    slug, title, status = "forbidden", "Forbidden", 403
    explanation = "The API key is valid, but its organisation may not do this (e.g. suspended)."


class NotFound(Problem):
    slug, title, status = "not-found", "Not found", 404
    explanation = "The id is unknown, or belongs to someone else."


class ValidationFailed(Problem):
    slug, title, status = "validation-failed", "Validation failed", 422
    explanation = "The body breaks the schema; the detail names the field."


class InvalidRecipient(Problem):
    slug, title, status = "invalid-recipient", "Invalid recipient", 422
    explanation = "The BSN fails the check digit (elfproef), is all zeros or has the wrong length."


class DuplicateReference(Problem):
    slug, title, status = "duplicate-reference", "Duplicate reference", 409
    explanation = "This senderReference was used before with different content."


class NotWithdrawable(Problem):
    slug, title, status = "not-withdrawable", "Not withdrawable", 409
    explanation = (
        "Only a letter that is still scheduled, before its publishAt, can be withdrawn; this one "
        "has been published (or withdrawn) already."
    )


class AttachmentRejected(Problem):
    slug, title, status = "attachment-rejected", "Attachment rejected", 422
    explanation = (
        "The attachment is not a valid PDF, or it is encrypted, malformed, or carries "
        "active content (JavaScript, launch actions, embedded files)."
    )


class PayloadTooLarge(Problem):
    slug, title, status = "payload-too-large", "Payload too large", 413
    explanation = "The request body, a message or an attachment is over its limit."


class UnsupportedMediaType(Problem):
    slug, title, status = "unsupported-media-type", "Unsupported media type", 415
    explanation = "The Content-Type of the request is not the one this route accepts."


class MethodNotAllowed(Problem):
    slug, title, status = "method-not-allowed", "Method not allowed", 405
    explanation = "This path exists, but not with this HTTP method."


class RateLimited(Problem):
    slug, title, status = "rate-limited", "Too many requests", 429
    explanation = "The organisation is over its request rate; retry after Retry-After seconds."


class IntegrityFailure(Problem):
    slug, title, status = "integrity-failure", "Stored data failed its integrity check", 500
    explanation = "Stored data did not decrypt and verify; it is never served. Operators are alerted."


class InternalError(Problem):
    pass


PROBLEMS: dict[str, type[Problem]] = {
    cls.slug: cls
    for cls in (
        Unauthorized,
        Forbidden,
        NotFound,
        ValidationFailed,
        InvalidRecipient,
        DuplicateReference,
        NotWithdrawable,
        AttachmentRejected,
        PayloadTooLarge,
        UnsupportedMediaType,
        MethodNotAllowed,
        RateLimited,
        IntegrityFailure,
        InternalError,
    )
}


class ProblemOut(BaseModel):
    """The RFC 9457 document every error answers with: exactly these five members."""

    model_config = ConfigDict(extra="forbid", title="Problem")
    type: str = Field(
        description="A URI whose last path segment is the problem's stable slug; it serves a page that "
        "explains the problem.",
        examples=["https://postvak.example.nl/problems/validation-failed"],
    )
    title: str = Field(
        description="The problem type's short name; the same for every instance.",
        examples=[ValidationFailed.title],
    )
    status: int = Field(description="The HTTP status code of the answer.", examples=[ValidationFailed.status])
    detail: str = Field(
        description="What was wrong with this request; for validation-failed every failing field, "
        '"field.path: what is wrong" joined by "; " (a long list ends with "and N more").',
        examples=[
            "subject: String should have at most 255 characters; dueDate: must be a date as YYYY-MM-DD"
        ],
    )
    instance: str = Field(
        description="The path of the request (for a batch item: and `#/messages/<index>`).",
        examples=["/api/v1/messages"],
    )
