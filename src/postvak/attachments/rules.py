"""Pure rules of attachments: what a file name may be."""

from postvak.kit.text import text_pattern, text_problem

FILE_NAME_MAX_LENGTH = 255
# A name is shown to citizens and offered when they save the file: one line, no folder part.
FILE_NAME_PATTERN = text_pattern(also_refused=r"/\\")


def file_name_problem(name: str) -> str | None:
    """Why `name` cannot be an attachment's file name, or None."""
    if not 1 <= len(name) <= FILE_NAME_MAX_LENGTH:
        return f"a file name has 1 to {FILE_NAME_MAX_LENGTH} characters"
    if problem := text_problem(name):
        return problem
    if "/" in name or "\\" in name:
        return "may not contain / or \\ (a file name has no folder part)"
    return None
