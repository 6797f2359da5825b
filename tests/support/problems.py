"""Checks that an answer is the RFC 9457 problem API.md promises."""

PROBLEM_MEMBERS = {"type", "title", "status", "detail", "instance"}


def assert_problem(response, slug: str, status: int) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    return assert_problem_document(response.json(), slug, status)


def assert_problem_document(problem: dict, slug: str, status: int) -> dict:
    assert set(problem) == PROBLEM_MEMBERS
    assert problem["type"].rsplit("/", 1)[-1] == slug
    assert problem["status"] == status
    assert problem["title"] and problem["detail"]
    return problem
