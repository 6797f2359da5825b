"""The house plan, read from the source: no import cycle among the domains, no import that goes upward.

The layers, lowest first (docs/architecture.md explains them):

- foundation: `kit`, `errors`, `config`, `db` and the blob store port, which know no domain;
- domains: one package per noun; a domain may use a lower domain, never a higher one, so they form
  no cycle; it reads another domain's data through that domain's `service` (its tables and pure
  `rules` may be named in a query or a check, its `repository` never);
- flows: use cases that span domains; only the edges call them;
- edges: `api`, `web`, `cli`, `runtime`, `app` (and `models`/`keyfile`, which gather every table).
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

SOURCE = Path(__file__).resolve().parents[1] / "src" / "postvak"

FOUNDATION = {"__init__", "kit", "errors", "config", "db", "blobs", "migrate"}
EDGES = {"api", "web", "cli", "runtime", "app", "models", "keyfile", "flows"}

# The domains, lowest first: each may import those before it in this list, never one after it.
DOMAINS = [
    "jobs",
    "addresses",
    "senders",
    "attachments",
    "citizens",
    "auth",
    "messages",
    "inbox",
    "notifications",
    "printing",
    "webhooks",
    "billing",  # reads the history of messages, notifications and printing; nothing reads billing
]


def imports_of(path: Path) -> list[tuple[str, str]]:
    """(package, module) for every `postvak.<package>[.<module>]` that a file imports."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            parts = node.module.split(".")
            if parts[0] != "postvak":
                continue
            if len(parts) == 1:
                found += [(alias.name, "") for alias in node.names]
            elif len(parts) == 2:
                found += [(parts[1], alias.name) for alias in node.names]
            else:
                found.append((parts[1], parts[2]))
        elif isinstance(node, ast.Import):
            for alias in node.names:
                parts = alias.name.split(".")
                if parts[0] == "postvak" and len(parts) > 1:
                    found.append((parts[1], parts[2] if len(parts) > 2 else ""))
    return found


def package_of(path: Path) -> str:
    relative = path.relative_to(SOURCE).parts
    return relative[0] if len(relative) > 1 else relative[0].removesuffix(".py")


def import_graph() -> dict[str, set[tuple[str, str]]]:
    graph: dict[str, set[tuple[str, str]]] = defaultdict(set)
    for path in SOURCE.rglob("*.py"):
        package = package_of(path)
        for imported in imports_of(path):
            if imported[0] != package and imported[0] not in ("__version__", "API_VERSION"):
                graph[package].add(imported)
    return graph


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Every strongly connected group of more than one package (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for successor in edges.get(node, ()):
            if successor not in index:
                visit(successor)
                low[node] = min(low[node], low[successor])
            elif successor in stack:
                low[node] = min(low[node], index[successor])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for node in list(edges):
        if node not in index:
            visit(node)
    return found


def test_every_package_has_a_place_in_the_plan():
    packages = {package_of(path) for path in SOURCE.rglob("*.py")}
    assert packages - FOUNDATION - EDGES - set(DOMAINS) == set()


def test_the_foundation_knows_no_domain_and_no_edge():
    wrong = {
        (package, imported)
        for package, imports in import_graph().items()
        if package in FOUNDATION
        for imported, _ in imports
        if imported not in FOUNDATION
    }
    assert wrong == set()


def test_no_domain_imports_a_flow_or_an_edge():
    wrong = {
        (package, imported)
        for package, imports in import_graph().items()
        if package in DOMAINS
        for imported, _ in imports
        if imported in EDGES
    }
    assert wrong == set()


def test_domains_import_only_lower_domains():
    rank = {domain: position for position, domain in enumerate(DOMAINS)}
    upward = {
        (package, imported)
        for package, imports in import_graph().items()
        if package in rank
        for imported, _ in imports
        if imported in rank and rank[imported] > rank[package]
    }
    assert upward == set(), "a domain imports a higher one: make the use case a flow"


def test_no_cycle_among_the_packages_below_the_edges():
    edges = {
        package: {imported for imported, _ in imports if imported not in EDGES}
        for package, imports in import_graph().items()
        if package not in EDGES
    }
    assert cycles(edges) == []


def test_flows_import_no_edge():
    edges_used = {imported for imported, _ in import_graph()["flows"]} & (EDGES - {"flows", "models"})
    assert edges_used == set()


def test_a_domain_reads_another_only_through_its_service():
    reads = {
        (package, imported)
        for package, imports in import_graph().items()
        if package in DOMAINS
        for imported, module in imports
        if imported in DOMAINS and imported != package and module == "repository"
    }
    assert reads == set(), "call the other domain's service instead"


def test_flows_are_called_only_by_the_edges():
    wrong = {
        package
        for package, imports in import_graph().items()
        if package not in EDGES
        for imported, _ in imports
        if imported == "flows"
    }
    assert wrong == set()


def test_the_cycle_finder_finds_a_cycle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


# --- the web side: pages stand alone, the runtime of a request is read in one place ----------------


def _module_name(path: Path, root: Path) -> str:
    parts = path.relative_to(root.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _declares_routes(path: Path) -> bool:
    """A route module makes an APIRouter: its routes are pages (or endpoints) of their own."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call):
            called = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", "")
            if called == "APIRouter":
                return True
    return False


def _modules_imported(path: Path, root: Path) -> set[str]:
    """Every module a file may import: `from a.b import c` counts as both a.b and a.b.c."""
    package = _module_name(path, root).split(".")
    if path.name != "__init__.py":
        package = package[:-1]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            module = ".".join([*base, *(node.module.split(".") if node.module else [])])
            found.add(module)
            found.update(f"{module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


def route_modules_imported_elsewhere(root: Path) -> set[tuple[str, str]]:
    """(importer, route module) for every import of a route module, except by app.py, which mounts them."""
    route_modules = {_module_name(path, root) for path in root.rglob("*.py") if _declares_routes(path)}
    return {
        (_module_name(path, root), imported)
        for path in root.rglob("*.py")
        if path != root / "app.py"
        for imported in _modules_imported(path, root) & route_modules
        if imported != _module_name(path, root)
    }


def test_no_route_module_imports_another():
    """The pages of web/citizen (and web/portal, web/operator) share what they need through modules
    that declare no routes (session, rendering …); only web/app.py imports the route modules."""
    citizen = SOURCE / "web" / "citizen"
    assert _declares_routes(citizen / "inbox.py") and not _declares_routes(citizen / "session.py")
    assert route_modules_imported_elsewhere(SOURCE / "web") == set()


def test_the_route_module_check_finds_an_import(tmp_path):
    web = tmp_path / "web"
    (web / "citizen").mkdir(parents=True)
    (web / "app.py").write_text("from web.citizen import inbox, letters\n")
    (web / "citizen" / "inbox.py").write_text("from fastapi import APIRouter\nrouter = APIRouter()\n")
    (web / "citizen" / "letters.py").write_text(
        "import fastapi\nfrom . import inbox\nfrom .session import who\nrouter = fastapi.APIRouter()\n"
    )
    (web / "citizen" / "session.py").write_text("from web.citizen.inbox import router\nwho = 1\n")
    assert route_modules_imported_elsewhere(web) == {
        ("web.citizen.letters", "web.citizen.inbox"),
        ("web.citizen.session", "web.citizen.inbox"),
    }


def test_the_runtime_of_a_request_is_read_in_one_place():
    """Routes call runtime.runtime_of(request); the apps only put the runtime in their state."""
    readers = {
        path.relative_to(SOURCE).as_posix()
        for path in SOURCE.rglob("*.py")
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.Attribute) and node.attr == "runtime" and isinstance(node.ctx, ast.Load)
        if isinstance(node.value, ast.Attribute) and node.value.attr == "state"
    }
    assert readers == {"runtime.py"}
